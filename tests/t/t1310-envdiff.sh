#!/bin/sh
# t1310-envdiff: two fixture environments, production and QA, made from
# one tree with differences planted in every section; envdiff finds
# exactly those (text and --json), shows harmless values on both sides and
# only "values differ" for hashed ones, and nothing the ignore file names.
# The ignore file parser is strict.
. "$(dirname "$0")/lib.sh"

rnd() { head -c 48 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 24; }
export GIT_AUTHOR_NAME=dev GIT_AUTHOR_EMAIL=dev@example.org GIT_COMMITTER_NAME=dev \
	GIT_COMMITTER_EMAIL=dev@example.org GIT_AUTHOR_DATE=2026-11-01T10:00:00Z \
	GIT_COMMITTER_DATE=2026-11-01T10:00:00Z

# one environment; $2 = version of php8.2-fpm
mkenv() {
	R=$1
	mkdir -p "$R/var/www/html/config" "$R/var/www/html/storage" "$R/var/lib/dpkg"
	printf 'Package: php8.2-fpm\nStatus: install ok installed\nVersion: %s\nArchitecture: amd64\n\nPackage: nginx\nStatus: install ok installed\nVersion: 1.22.1-9\nArchitecture: amd64\n\n' \
		"$2" >"$R/var/lib/dpkg/status"
	printf '<?php echo "shop";\n' >"$R/var/www/html/index.php"
	printf '<?php function cart() {}\n' >"$R/var/www/html/cart.php"
	printf '{"retries":3,"endpoint":"%s"}\n' "$DBSECRET" >"$R/var/www/html/config/api.json"
	(cd "$R/var/www/html" && git init -q . && git add -A && git commit -qm "release 1.4")
}
DBSECRET=$(rnd)
mkenv "$T/prod" 8.2.7-1
mkenv "$T/qa" 8.2.5-1
common="APP_ENV=production
DB_PASSWORD=$DBSECRET
SESSION_LIFETIME=120"
printf '%s\nCACHE_DRIVER=redis\nDB_HOST=%s\nAPP_URL=https://shop.example\nFEATURE_NEWCART=true\n' \
	"$common" "$(rnd)" >"$T/prod/var/www/html/.env"
printf '%s\nCACHE_DRIVER=file\nDB_HOST=%s\nAPP_URL=https://qa.shop.example\n' \
	"$common" "$(rnd)" >"$T/qa/var/www/html/.env"
# code: changed, only in production, only in QA, and cache files (ignored)
printf '<?php function cart() { return 1; }\n' >"$T/prod/var/www/html/cart.php"
printf '<?php // hotfix\n' >"$T/prod/var/www/html/hotfix.php"
printf '<?php phpinfo();\n' >"$T/qa/var/www/html/debug.php"
printf 'a' >"$T/prod/var/www/html/storage/cache-1"
printf 'b' >"$T/qa/var/www/html/storage/cache-2"
# deploys: one more commit in production
(cd "$T/prod/var/www/html" && git add -A && GIT_COMMITTER_DATE=2026-11-02T10:00:00Z \
	git commit -qm "release 1.5: new cart")

cat >"$T/ignore" <<'EOF2'
# expected differences between production and QA
config @app/.env:APP_URL
code @app/storage/*
# other tests open and close ports on this machine
ports *
EOF2
P=$T/prod.bundle Q=$T/qa.bundle
expect 0 "collect production" bg collect --profile web-php --root "$T/prod" --key "$T/k" -o "$P"
expect 0 "collect QA (one more variable in its environment)" env QA_ONLY_FLAG=1 \
	"$BREAKGLASS" collect --profile web-php --root "$T/qa" --key "$T/k" -o "$Q"
expect 0 "envdiff --json" bg envdiff "$P" "$Q" --ignore "$T/ignore" --json
perl -MJSON::PP -e 'local $/; my $d = decode_json(<STDIN>);
	print join("\n", sort map { "$_->{section} $_->{change} $_->{key}" } @{$d->{items}}), "\n"' \
	<"$T/out" >"$T/got"
sort >"$T/want" <<'EOF2'
packages changed php8.2-fpm
config changed @app/.env:CACHE_DRIVER
config changed @app/.env:DB_HOST
config removed @app/.env:FEATURE_NEWCART
environment added QA_ONLY_FLAG
code changed @app/cart.php
code removed @app/hotfix.php
code added @app/debug.php
code changed @app/.env
deploys changed @app:HEAD
deploys removed
EOF2
# the new commit's id is known only now
sha=$(cd "$T/prod/var/www/html" && git rev-parse HEAD)
sed -i "s/^deploys removed\$/deploys removed $sha/" "$T/want"
sort -o "$T/want" "$T/want"
if diff -u "$T/want" "$T/got" >"$T/d"; then ok "exactly the planted differences"; else
	not_ok "exactly the planted differences"; sed 's/^/# /' "$T/d"; fi
perl -MJSON::PP -e 'local $/; my $d = decode_json(<STDIN>);
	my ($c) = grep { $_->{key} eq "\@app/.env:CACHE_DRIVER" } @{$d->{items}};
	my ($h) = grep { $_->{key} eq "\@app/.env:DB_HOST" } @{$d->{items}};
	my ($p) = grep { $_->{key} eq "php8.2-fpm" } @{$d->{items}};
	die "c" unless $c->{production} eq "redis" && $c->{qa} eq "file" && !$c->{hashed};
	die "h" unless $h->{hashed} && !defined $h->{production} && !defined $h->{qa};
	die "p" unless $p->{production} eq "8.2.7-1" && $p->{qa} eq "8.2.5-1";
	die "i" unless $d->{ignored} >= 3' <"$T/out" \
	&& ok "harmless values on both sides, hashed ones only as differing" \
	|| not_ok "harmless values on both sides, hashed ones only as differing"
if grep -q "DB_PASSWORD\|SESSION_LIFETIME\|api.json\|index.php\|nginx" "$T/got"; then
	not_ok "equal values (secret or not) compare equal"; else ok "equal values (secret or not) compare equal"; fi
if grep -q "APP_URL\|storage\|ports" "$T/got"; then not_ok "nothing from the ignore file"; else
	ok "nothing from the ignore file"; fi

expect 0 "envdiff, text" bg envdiff "$P" "$Q" --ignore "$T/ignore"
out_has "^config:" "text: by section"
out_has "~ @app/.env:CACHE_DRIVER  production: redis | qa: file" "text: points at the key, both values"
out_has "~ @app/.env:DB_HOST  values differ (keyed hashes)" "text: a hashed value only differs"
out_has "^11 differences (" "text: the count, and how many were ignored"
if grep -q "$DBSECRET" "$T/out" "$P" "$Q"; then not_ok "no secret in bundles or output"; else ok "no secret in bundles or output"; fi
expect 0 "without the ignore file, the expected differences show" bg envdiff "$P" "$Q"
out_has "APP_URL" "APP_URL differs"
out_has "@app/storage/cache-1" "cache files differ"

# the ignore file is strict
for bad in 'nosection x' 'config' 'config  x' 'config x ' "$(printf 'config x\nconfig x')"; do
	printf '%s\n' "$bad" >"$T/badignore"
	expect 2 "ignore file refused: '$(echo "$bad" | head -1)'" bg envdiff "$P" "$Q" --ignore "$T/badignore"
done
err_has "line 2: duplicate rule" "a duplicate rule: the line is named"
expect 2 "envdiff needs two bundles" bg envdiff "$P"
expect 2 "a missing bundle" bg envdiff "$P" "$T/nope"
printf 'not a bundle\n' >"$T/junk"
expect 2 "a file that is not a bundle" bg envdiff "$P" "$T/junk"
err_has "not a breakglass bundle" "says so"
expect 0 "--help" bg envdiff --help
out_has "usage: breakglass envdiff PROD QA" "help text"

done_testing
