#!/bin/sh
# t1200-scan: breakglass scan from the outside - exit codes, text, JSON
# lines and SARIF output, --redact byte for byte, baselines keyed by secret
# (not by line), the allow pragma, .breakglassignore, symbolic links,
# binary files, standard input, thread count and engine independence.
. "$(dirname "$0")/lib.sh"

S=$T/src
mkdir -p "$S/app/config" "$S/app/vendor" "$S/docs" "$S/.git"
# fake credentials, built at run time so this script holds none
AWS="AKIA$(printf 'Z5GMHYJKLQ2TXW7B')"
PW="Xk9vQ2mZ7rT4pL8wq"
GH="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" # GitHub's published example
printf 'aws_access_key_id = %s\nregion = eu-west-1\n' "$AWS" >"$S/app/config/aws.ini"
printf 'DATABASE_URL=postgres://shop:%s@db1:5432/shop\n' "$PW" >"$S/app/.env"
printf 'token = %s\n' "$GH" >"$S/app/vendor/lib.txt"
printf 'password: changeme\napi_key: <your-key>\nsecret: ${SECRET}\n' >"$S/docs/example.yml"
printf 'GITHUB_TOKEN=%s\n' "$GH" >"$S/.git/config"
printf 'x\000y token = %s\n' "$GH" >"$S/app/blob.bin"

expect 1 "findings: exit 1" bg scan "$S"
out_has "app/config/aws.ini:1:21: aws-access-key-id: aws_access_key_id = \[REDACTED\]" \
	"text output: path, line, column, rule, redacted match"
out_has "app/.env:1:30: connection-string-password: DATABASE_URL=postgres://shop:\[REDACTED\]@db1:5432/shop" "connection string found"
out_has "app/vendor/lib.txt:1:9: github-token" "checksummed token found"
if grep -q -- "$PW\|$AWS\|$GH" "$T/out" "$T/err"; then not_ok "no secret printed"; else ok "no secret printed"; fi
if grep -q "example.yml" "$T/out"; then not_ok "placeholders not reported"; else ok "placeholders not reported"; fi
if grep -q "\.git/" "$T/out"; then not_ok ".git skipped"; else ok ".git skipped"; fi
if grep -q "blob.bin" "$T/out"; then not_ok "binary file skipped"; else ok "binary file skipped"; fi
err_has "3 findings; 4 files" "summary counts findings and files"
err_has "1 binary file skipped" "summary counts binary files"

expect 1 "--show-secrets" bg scan --show-secrets "$S/app/.env"
out_has "$PW" "--show-secrets prints the secret when asked"

printf 'region = eu-west-1\n' >"$T/clean.ini"
expect 0 "clean file: exit 0" bg scan "$T/clean.ini"
expect 2 "missing path: exit 2" bg scan "$T/nope"
err_has "'$T/nope': No such file or directory" "names the missing path"
expect 2 "no path: exit 2" bg scan
expect 2 "--json with --sarif: exit 2" bg scan --json --sarif "$S"
expect 2 "bad --jobs: exit 2" bg scan --jobs 0 "$S"

# JSON lines and SARIF are valid and complete
expect 1 "--json" bg scan --json "$S"
perl -MJSON::PP -ne 'my $d = decode_json($_); die unless $d->{path} && $d->{line} && $d->{column} && $d->{rule} && $d->{match} =~ /\[REDACTED\]/; $n++; END { die "count $n" unless $n == 3 }' "$T/out" \
	&& ok "--json: one valid object per finding" || not_ok "--json: one valid object per finding"
expect 1 "--sarif" bg scan --sarif "$S"
perl -MJSON::PP -e 'local $/; my $d = decode_json(<STDIN>); die unless $d->{version} eq "2.1.0"; my $r = $d->{runs}[0]; die "results" unless @{$r->{results}} == 3; die "rules" unless @{$r->{tool}{driver}{rules}} >= 60; for (@{$r->{results}}) { die "loc" unless $_->{locations}[0]{physicalLocation}{region}{startLine} > 0; die "idx" unless $r->{tool}{driver}{rules}[$_->{ruleIndex}]{id} eq $_->{ruleId} }' <"$T/out" \
	&& ok "--sarif: valid SARIF 2.1.0, rules indexed" || not_ok "--sarif: valid SARIF 2.1.0, rules indexed"

# --redact: the input byte for byte, each secret replaced
printf 'line one\r\nDATABASE_URL=postgres://shop:%s@db1/shop\r\nSMTP_PASSWORD=%s\r\n\tunicode: caf\303\251 \342\202\254\n%s no final newline' "$PW" "$PW" "$AWS" >"$T/in.txt"
printf 'line one\r\nDATABASE_URL=postgres://shop:[REDACTED:connection-string-password]@db1/shop\r\nSMTP_PASSWORD=[REDACTED:smtp-password]\r\n\tunicode: caf\303\251 \342\202\254\n[REDACTED:aws-access-key-id] no final newline' >"$T/want.txt"
expect 1 "--redact a file" bg scan --redact "$T/in.txt"
cmp -s "$T/out" "$T/want.txt" && ok "--redact keeps everything but the secrets" || not_ok "--redact keeps everything but the secrets"
err_has "3 secrets redacted" "--redact says how many"
expect_in 1 "--redact standard input" "$T/in.txt" bg scan --redact -
cmp -s "$T/out" "$T/want.txt" && ok "--redact - is the same" || not_ok "--redact - is the same"
expect_in 0 "--redact a clean input" "$T/clean.ini" bg scan --redact -
cmp -s "$T/out" "$T/clean.ini" && ok "clean input passes through unchanged" || not_ok "clean input passes through unchanged"
expect 2 "--redact takes one input" bg scan --redact "$S" "$T/in.txt"

# standard input with the others
expect_in 1 "'-' reads standard input" "$T/in.txt" bg scan -
out_has "^-:2:30: connection-string-password" "standard input is named '-'"

# line and column far into a file (newlines are counted in blocks)
awk 'BEGIN { for (i = 1; i < 5000; i++) printf "line %d of filler text, short and long %s\n", i, (i % 7 ? "" : "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx") }' >"$T/long.txt"
printf '\n\n  key = %s\n' "$AWS" >>"$T/long.txt"
expect 1 "a secret on line 5002" bg scan "$T/long.txt"
out_has "long.txt:5002:9: aws-access-key-id" "line and column counted right after 200 KiB"

# a large (mapped) file that shrinks while it is scanned: an error for that
# file (exit 2), not a crash, and the next file is still scanned.  The
# truncation races the scan, so try a few delays until one lands inside.
mkdir -p "$T/shrink"
awk 'BEGIN { for (i = 0; i < 600000; i++) printf "line %d of a large log file, nothing secret in it\n", i }' >"$T/big.master"
printf 'key = %s\n' "$AWS" >"$T/shrink/z-secret.txt"
hit=0 crashed=0
for d in 0.03 0.02 0.04 0.01 0.05 0.015 0.025 0.035 0.045 0.06; do
	cp "$T/big.master" "$T/shrink/big.txt"
	bg scan --jobs 1 "$T/shrink" >"$T/out" 2>"$T/err" &
	pid=$!
	sleep "$d"
	truncate -s 4096 "$T/shrink/big.txt"
	wait "$pid"
	rc=$?
	[ "$rc" -gt 2 ] && crashed=1
	if [ "$rc" -eq 2 ] && grep -q "big.txt': the file shrank while it was being scanned" "$T/err"; then
		hit=1
		break
	fi
done
[ "$crashed" -eq 0 ] && ok "a shrinking file never kills the scan" || not_ok "a shrinking file never kills the scan (exit $rc)"
[ "$hit" -eq 1 ] && ok "a file that shrank mid-scan is an error (exit 2)" || not_ok "a file that shrank mid-scan is an error (the truncation never landed inside the scan)"
out_has "z-secret.txt:1:7: aws-access-key-id" "the next file is still scanned"
rm -f "$T/big.master" "$T/shrink/big.txt"

# the allow pragma
printf 'aws_access_key_id = %s # breakglass:allow (rotated, kept for the test)\n' "$AWS" >"$T/allowed.ini"
expect 0 "breakglass:allow on the line: not reported" bg scan "$T/allowed.ini"
err_has "1 allowed by breakglass:allow" "the summary counts it"

# baselines: keyed by the secret, not the line
cp -r "$S" "$T/b"
expect 0 "--write-baseline" bg scan --write-baseline "$T/bl" "$T/b"
head -1 "$T/bl" | grep -q '^# breakglass scan baseline v1$' && ok "baseline has its header" || not_ok "baseline has its header"
if grep -q -- "$PW\|$AWS\|$GH" "$T/bl"; then not_ok "baseline holds no secret"; else ok "baseline holds no secret"; fi
expect 0 "known findings are quiet" bg scan --baseline "$T/bl" "$T/b"
err_has "3 in the baseline" "the summary counts them"
printf '\n\n' >>"$T/b/app/config/aws.ini"; mv "$T/b/app/.env" "$T/b/app/moved.env"
expect 0 "a known secret that moved is still known" bg scan --baseline "$T/bl" "$T/b"
printf 'aws_access_key_id = AKIA%s\nregion = eu-west-1\n' "$(printf 'Q7RT2MZK5XW4NBL6')" >"$T/b/app/config/aws.ini"
expect 1 "a new secret on a known line is reported" bg scan --baseline "$T/bl" "$T/b"
out_has "aws.ini:1:21: aws-access-key-id" "the new one is named"
printf 'not a baseline\n' >"$T/badbl"
expect 2 "a malformed baseline is refused" bg scan --baseline "$T/badbl" "$T/b"

# .breakglassignore
I=$T/ign
mkdir -p "$I/build/gen" "$I/keep" "$I/sub/fixtures"
for f in build/gen/a.env keep/a.env keep/b.env sub/fixtures/c.env sub/d.env top.env; do
	printf 'API_TOKEN=%s\n' "$PW" >"$I/$f"
done
printf '# generated\nbuild/\n*.env\n!keep/b.env\n!top.env\n' >"$I/.breakglassignore"
printf 'fixtures/\n' >"$I/sub/.breakglassignore"
printf '!d.env\n' >>"$I/sub/.breakglassignore"
expect 1 ".breakglassignore honoured" bg scan "$I"
sed -n 's/:.*//p' "$T/out" | sed "s|$I/||" | sort | tr '\n' ' ' >"$T/got"
[ "$(cat "$T/got")" = "keep/b.env sub/d.env top.env " ] && ok "ignored, re-included and nested patterns" \
	|| not_ok "ignored, re-included and nested patterns (got: $(cat "$T/got"))"
expect 1 "--no-ignore scans everything" bg scan --no-ignore "$I"
[ "$(grep -c secret-assignment "$T/out")" -eq 6 ] && ok "all six found" || not_ok "all six found"

# two secrets on one line: each finding's context hides the other one too
PW2="Zq8vQ2mZ7rT4pL8wa"
printf 'export CI_DB_PASSWORD=%s; x_api_key=%s\n' "$PW" "$PW2" >"$T/two.env"
expect 1 "two secrets on a line" bg scan "$T/two.env"
out_has "two.env:1:23: secret-assignment: export CI_DB_PASSWORD=\[REDACTED\]; x_api_key=\[REDACTED\]" \
	"the first finding hides the second secret"
out_has "two.env:1:52: secret-assignment: \.\.\.B_PASSWORD=\[REDACTED\]; x_api_key=\[REDACTED\]" \
	"the second finding hides the first secret"
if grep -q -- "$PW\|$PW2" "$T/out"; then not_ok "no secret in any context"; else ok "no secret in any context"; fi
expect 1 "--json" bg scan --json "$T/two.env"
if grep -q -- "$PW\|$PW2" "$T/out"; then not_ok "no secret in JSON matches"; else ok "no secret in JSON matches"; fi
# a secret in the baseline is not reported, and still not shown beside a new one
printf 'export CI_DB_PASSWORD=%s\n' "$PW" >"$T/one.env"
expect 0 "baseline of the first secret" bg scan --write-baseline "$T/two.bl" "$T/one.env"
expect 1 "the new secret beside a baselined one" bg scan --baseline "$T/two.bl" "$T/two.env"
[ "$(wc -l <"$T/out")" -eq 1 ] && ok "only the new secret reported" || not_ok "only the new secret reported"
if grep -q -- "$PW\|$PW2" "$T/out"; then not_ok "the baselined secret is not shown"; else ok "the baselined secret is not shown"; fi

# symbolic links are not followed in a walk, but a named one is read
L=$T/links
mkdir -p "$L"
ln -s "$S/app/.env" "$L/env-link"
ln -s "$S/app" "$L/dir-link"
expect 0 "links inside a walk are not followed" bg scan "$L"
expect 1 "a link named on the command line is read" bg scan "$L/env-link"

# the answer does not depend on threads or engine
bg scan --jobs 1 "$S" >"$T/j1" 2>/dev/null
bg scan --jobs 4 "$S" >"$T/j4" 2>/dev/null
cmp -s "$T/j1" "$T/j4" && ok "--jobs 1 and --jobs 4 print the same" || not_ok "--jobs 1 and --jobs 4 print the same"
bg scan --engine pcre2 "$S" >"$T/p" 2>/dev/null
cmp -s "$T/j1" "$T/p" && ok "the PCRE2 engine prints the same" || not_ok "the PCRE2 engine prints the same"

# rules: list, check, a custom file, a broken one
expect 0 "--list-rules" bg scan --list-rules
[ "$(wc -l <"$T/out")" -ge 60 ] && ok "at least 60 rules" || not_ok "at least 60 rules"
expect 0 "--check-rules: every example and counter-example holds" bg scan --check-rules
cat >"$T/my.rules" <<'EOR'
[acme-key]
provider = ACME
title = ACME deploy key
pattern = \b(acme_[a-z0-9]{20})\b
secret = 1
entropy = 3.0
example = ACME=acme_q7rt2mzk5xw4nbl6pd3s
not = acme_short
EOR
printf 'deploy with acme_q7rt2mzk5xw4nbl6pd3s now\n' >"$T/acme.txt"
expect 1 "--rules FILE" bg scan --rules "$T/my.rules" "$T/acme.txt"
out_has "acme.txt:1:13: acme-key" "a custom rule finds its secret"
printf '[broken]\ntitle = t\nprovider = p\npattern = (unclosed\nexample = x\nnot = y\n' >"$T/bad.rules"
expect 2 "a rules file with a bad pattern is refused" bg scan --rules "$T/bad.rules" "$T/acme.txt"
err_has "rule 'broken' (line 1)" "names the rule"

# the config files of the common stacks, as agencies paste them: each one
# found on both engines; the stacks' shipped samples are not
W=$T/stacks
mkdir -p "$W"
cat >"$W/wp-config.php" <<'EOF'
<?php
define( 'DB_NAME', 'shop' );
define( 'DB_USER', 'shop' );
define( 'DB_PASSWORD', 'Xk9#mP2$vL8qR4wZ' );
define('AUTH_KEY',         'n4/Ew|Z)K~`9G5mL|+0Bq0$R#E;}wT1f>q2u]8C3kJ@y#eP7');
EOF
cat >"$W/wp-config-sample.php" <<'EOF'
<?php
define( 'DB_PASSWORD', 'password_here' );
define( 'AUTH_KEY',         'put your unique phrase here' );
define( 'SECURE_AUTH_KEY',  'put your unique phrase here' );
EOF
cat >"$W/laravel.env" <<'EOF'
APP_KEY=base64:9p3QkX2vHn6Lr8Tz1Yw4Bc7Dm0Fg5Jh2Ks6Nq9Rt3Uv0w=
DB_PASSWORD="Xk9#mP2$vL8qR4wZ"
EOF
cat >"$W/settings.py" <<'EOF'
SECRET_KEY = 'django-insecure-8#k!m2@x9z^v7(q$w3+e_r5t-y1u*i0o(p4a6s)d'
EOF
printf 'production:\n  adapter: mysql2\n  password: Xk9mP2vL8qR4wZ7n\n' >"$W/database.yml"
printf 'RAILS_MASTER_KEY=0f5e3c1a9b7d2e4f6a8c0b1d3e5f7a9c\n' >"$W/rails.env"
printf 'APP_SECRET=4f6a8c0b1d3e5f7a9c0f5e3c1a9b7d2e\n' >"$W/symfony.env"
cat >"$W/env.php" <<'EOF'
<?php
return [
    'crypt' => [
        'key' => '6f1d2c3b4a5968778695a4b3c2d1e0f9'
    ],
    'db' => ['connection' => ['default' => [
        'password' => 'T7vQ2mX9kR4wZ8pL',
    ]]],
];
EOF
cat >"$W/settings.php" <<'EOF'
<?php
$settings['hash_salt'] = 'Qk7rT2yP9wX4mN6vB3cZ8sD1fG5hJ0lK-aE_uI';
EOF
printf 'SHOPIFY_API_SECRET=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\n' >"$W/shopify.env"
printf '{\n  "db": { "host": "db1", "password": "Xk9mP2vL8qR4wZ7n" }\n}\n' >"$W/production.json"
printf 'AGE-SECRET-KEY-15MX35XGLQ60QM52GYEUGPL8VY8R7SE8H6ALHGQE9GJ58U7UDP9QY75KL4F\n' >"$W/key.txt"
for engine in vectorscan pcre2; do
	expect 1 "stacks ($engine): findings" bg scan --engine "$engine" "$W"
	for f in wp-config.php:4 wp-config.php:5 laravel.env:1 laravel.env:2 settings.py:1 \
	    database.yml:3 rails.env:1 symfony.env:1 env.php:4 env.php:7 settings.php:2 shopify.env:1 \
	    production.json:2 key.txt:1; do
		if grep -q "$W/$f:" "$T/out"; then ok "stacks ($engine): $f found"
		else not_ok "stacks ($engine): $f found"; fi
	done
	if grep -q "wp-config-sample" "$T/out"; then not_ok "stacks ($engine): the WordPress sample's placeholders pass"
	else ok "stacks ($engine): the WordPress sample's placeholders pass"; fi
done

done_testing
