#!/bin/sh
# t1510-runbook-checks: a runbook's smoke-check and collect steps.  The
# plan's named checks ("check: NAME URL ...") and diagnostics ("collect:
# PROFILE") are in the signed plan text; the runbook runs the collects and
# the checks before the fix steps (a failing check there is the incident:
# the run goes on), the fix, then the checks again (a failing check stops
# the run).  Checks run on the client host against a local HTTP server that
# fails before the fix and passes after; results (status, timing, body
# hash, never the body) and the diagnostics bundle travel in the signed
# result; import records the checks as client-run smoke results and keeps
# the bundle; the report shows both.  A tampered check is refused; the
# diagnostics hold no planted secret.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-runbook.sh"
[ "$(id -u)" -eq 0 ] || { echo "1..0 # needs root (the client configuration is root-owned)"; exit 1; }

runbook_client www host/var/www/html/storage/logs host/var/www/html/config
confirmed 1

# --- the client's host: its own tree, configuration, operator key, web server --
perl "$(dirname "$0")/data/http-fixture.pl" "$T/port" "$C/www" &
SRV=$!
trap 'kill $SRV 2>/dev/null; rm -rf "$T"' EXIT
for i in 1 2 3 4 5 6 7 8 9 10; do [ -s "$T/port" ] && break; sleep 0.2; done
[ -s "$T/port" ] && ok "the HTTP fixture listens" || { not_ok "the HTTP fixture listens"; done_testing; exit 1; }
URL="http://127.0.0.1:$(cat "$T/port")"

# secrets on the client host that no scanner rule knows: random strings
# under innocuous names, made now (not the scanner's own examples)
rnd() { head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 22; }
CFGSECRET=$(rnd); LOGSECRET=$(rnd); ENVSECRET=$(rnd)
printf 'APP_ENV=production\nWIDGET_COLOR_SEED=%s\n' "$CFGSECRET" >"$C/host/var/www/html/.env"
printf '{"cache": {"prefix": "shop", "ttl": 60}}\n' >"$C/host/var/www/html/config/cache.json"
printf 'GET / 500\nconnecting to postgres://shop:%s@db1:5432/shop\n' "$LOGSECRET" \
	>"$C/host/var/www/html/storage/logs/app.log"

conf "$C/etc/runbook.conf" "$C/state" "collect-root: $C/host"

# --- the plan: collect and check lines, checked at submission ------------------
printf '/usr/bin/touch %s/www/fixed\n' "$C" >"$T/fix.cmds"
cat >"$T/plan.txt" <<EOF
summary: default the currency when the gateway omits it
diagnosis: release 4.2.1 reads the currency without a default
change: run fix.cmds
rollback: remove the flag file
impact: none
check: checkout $URL/checkout contains='Thank you'
collect: web-php
EOF
sed 's/^collect: web-php$/collect: no-such-profile/' "$T/plan.txt" >"$T/plan-bad.txt"
expect 2 "a collect line naming no built-in profile is refused" bg plan T-1 --from "$T/plan-bad.txt" \
	--commands "$T/fix.cmds"
err_has "line 7: collect: 'no-such-profile' is not a built-in profile (base, node, web-php" \
	"names the line and the profiles there are"
sed "s#^collect: web-php\$#collect: $C/mine.profile#" "$T/plan.txt" >"$T/plan-bad.txt"
expect 2 "a profile file of the client's own is refused" bg plan T-1 --from "$T/plan-bad.txt" \
	--commands "$T/fix.cmds"
err_has "built-in profiles only" "says why"
expect 0 "a plan with a check and a collect line" bg plan T-1 --from "$T/plan.txt" --commands "$T/fix.cmds"
approved 1
expect 0 "runbook exported" bg runbook export T-1 -o "$T/rb"
grep -q "^check: checkout $URL/checkout" "$T/rb" && grep -q '^collect: web-php$' "$T/rb" &&
	ok "the check and collect lines are in the runbook's signed plan text" ||
	not_ok "the check and collect lines are in the runbook's signed plan text"

run() { bg runbook run "$@" --config "$C/etc/runbook.conf" --yes; }
nothing_ran() {
	if [ ! -e "$C/www/fixed" ] && [ -z "$(ls "$C/state" | grep -v snapshots)" ]; then
		ok "$1: nothing ran"; else not_ok "$1: nothing ran"; fi
}

# --- a tampered check or collect is refused before anything runs ---------------
# tamper EXPR IN OUT: edit the plan text of a runbook, its length kept right
tamper() {
	EXPR=$1 perl -0777 -e '$_ = <STDIN>; /^plan-text: (\d+)\n/m or die; my ($s, $b, $n) = ($-[0], $+[0], $1);
		my $pt = substr($_, $b, $n); eval "\$pt =~ $ENV{EXPR}; 1" or die;
		substr($_, $s, $b - $s + $n) = "plan-text: " . length($pt) . "\n" . $pt; print' <"$2" >"$3"
}
tamper "s#^check: checkout \\S+#check: checkout $URL/login expect=302#m" "$T/rb" "$T/rb-check"
grep -q "^check: checkout $URL/login expect=302" "$T/rb-check" && ok "the tampered copy checks another page" ||
	not_ok "the tampered copy checks another page"
expect 1 "a tampered check step is refused" run "$T/rb-check"
err_has "the plan text is not the one approved" "says the plan text is not the approved one"
nothing_ran "tampered check"
tamper 's/^collect: web-php$/collect: base/m' "$T/rb" "$T/rb-collect"
grep -q '^collect: base$' "$T/rb-collect" && ok "the tampered copy collects another profile" ||
	not_ok "the tampered copy collects another profile"
expect 1 "a tampered collect step is refused" run "$T/rb-collect"
err_has "refused, nothing was run: the plan text is not the one approved" "before anything runs"
nothing_ran "tampered collect"

# --- the run: collect, check (fails: the incident), fix, check (passes) ---------
expect 0 "the runbook runs on the client host" env WIDGET_API_SEED="$ENVSECRET" \
	"$BREAKGLASS" runbook run "$T/rb" --config "$C/etc/runbook.conf" --yes -o "$T/bundle"
out_has "0.1. collect diagnostics with the built-in profile 'web-php'" "the collect step in plain words"
out_has "0.2. check that $URL/checkout answers a 2xx status and contains 'Thank you' (the plan's check 'checkout', before the fix" \
	"the check before the fix in plain words"
out_has "2.1. check that $URL/checkout answers a 2xx status and contains 'Thank you' (the plan's check 'checkout', after the fix: a failure stops the run" \
	"and again after the fix"
out_has "fail: status 500" "before the fix the check fails (the incident)"
out_has "it fails before the fix, as the incident does" "read as seeing the incident; the run goes on"
out_has "pass: status 200" "after the fix it passes"
[ -e "$C/www/fixed" ] && ok "the fix step ran" || not_ok "the fix step ran"
grep -q '"check":"checkout","phase":"before","url":"[^"]*","expect":"2xx","contains":"Thank you","result":"fail","status":500' "$T/bundle" &&
	ok "the bundle has the failing check before the fix" || not_ok "the bundle has the failing check before the fix"
grep -q '"phase":"after",.*"result":"pass","status":200,"elapsed_ms":[0-9]*,"body_sha256":"[0-9a-f]\{64\}"' "$T/bundle" &&
	ok "and the passing check after it, with timing and the body's hash" || not_ok "and the passing check after it"
grep -q 'Xk9mP2vL8qR4wZt7\|Thank you for your order' "$T/bundle" &&
	not_ok "no response body in the bundle" || ok "no response body in the bundle"
grep -q 'Xk9mP2vL8qR4wZt7' "$T/out" && not_ok "the body excerpt on screen is redacted" ||
	ok "the body excerpt on screen is redacted"
grep -q '^record: [0-9]* [0-9a-f]* attach 0 ok ' "$T/bundle" && grep -q '"collect":"web-php","sha256":"[0-9a-f]\{64\}"' "$T/bundle" &&
	ok "the diagnostics bundle is attached, with its hash in the chain" || not_ok "the diagnostics bundle is attached"
grep -q 'WIDGET_COLOR_SEED' "$T/bundle" && ok "the diagnostics keep key names" || not_ok "the diagnostics keep key names"
leaks=0
for s in "$CFGSECRET" "$LOGSECRET" "$ENVSECRET" "$(cat "$C/state/collect.key")"; do
	grep -rq "$s" "$T/bundle" "$C/state"/*.bundle "$T/out" && leaks=$((leaks + 1))
done
[ "$leaks" -eq 0 ] && ok "no planted secret and not the per-incident key in the result or diagnostics" ||
	not_ok "no planted secret in the result or diagnostics ($leaks leaked)"
[ "$(stat -c %a "$C/state/collect.key")" = 600 ] && ok "the per-incident key stays on the client host, 0600" ||
	not_ok "the per-incident key stays on the client host, 0600"
grep -q '^record: [0-9]* [0-9a-f]* end 0 ok ' "$T/bundle" && ok "the run completed" || not_ok "the run completed"

# --- import: client-run smoke results and the diagnostics, in the report ---------
bg user add ops@client.example --key "$C/operator.pub" --role operator >/dev/null || exit 1
# forge TYPE EXPR OUT: edit the bundle's records of TYPE, chain and signature
# redone with the operator's (known) key
forge() {
	TYPE=$1 EXPR=$2 perl -MDigest::SHA=sha256_hex -0777 -ne '
	my ($head, $rest) = /\A(breakglass runbook result v1\n.*?\noperator: [^\n]*\n)(.*?)signature: /s or die;
	my $prev = sha256_hex($head); my $out = $head;
	while ($rest =~ /\Grecord: (\d+) [0-9a-f]{64} (\S+ \S+ \S+) (\d+)\n/gc) {
		my ($seq, $what, $len) = ($1, $2, $3);
		my $b = substr($rest, pos($rest), $len); pos($rest) += $len + 1;
		if ($what =~ /^$ENV{TYPE} /) { eval "\$b =~ $ENV{EXPR}; 1" or die; }
		my $r = "record: $seq $prev $what " . length($b) . "\n$b\n"; $prev = sha256_hex($r); $out .= $r; }
	print $out;' "$T/bundle" >"$3"
	rm -f "$3.sig"
	ssh-keygen -q -Y sign -n breakglass-runbook -f "$C/operator" "$3" </dev/null >/dev/null 2>&1
	{ printf 'signature: %s\n' "$(wc -c <"$3.sig")"; cat "$3.sig"; printf '\nend\n'; } >>"$3"
}
forge attach 's/WIDGET_COLOR_SEED/WIDGET_COLOR_SEEX/' "$T/forged"
expect 1 "a diagnostics bundle that is not the one whose hash the run recorded is refused" \
	bg runbook import T-1 "$T/forged"
err_has "does not have the SHA-256 the run recorded" "says so"
forge step 's#"url":"([^"]*)/checkout"#"url":"$1/login"#' "$T/forged2"
grep -q '"url":"[^"]*/login"' "$T/forged2" && ok "the forged result reports another check" ||
	not_ok "the forged result reports another check"
expect 1 "a result reporting a check the exported runbook does not have is refused" \
	bg runbook import T-1 "$T/forged2"
err_has "that the exported runbook does not have" "says so"
expect 0 "the bundle is imported" bg runbook import T-1 "$T/bundle"
out_has "check 'checkout' before the fix (client-run): fail, status 500" "the check before the fix"
out_has "check 'checkout' after the fix (client-run): pass, status 200" "the check after the fix"
out_has "diagnostics 'web-php' (step 0)" "the diagnostics"
out_has "step 0: ok" "step 0 (collect, check before) ok"
out_has "step 2: ok" "step 2 (check after) ok"
f=$(ls "$BREAKGLASS_HOME"/results/*.collect 2>/dev/null | head -1)
[ -n "$f" ] && [ "$(stat -c %a "$f")" = 440 ] && ok "the diagnostics bundle is kept in the home" ||
	not_ok "the diagnostics bundle is kept in the home"
grep -q "$CFGSECRET\|$LOGSECRET\|$ENVSECRET" "$f" && not_ok "the kept diagnostics hold no planted secret" ||
	ok "the kept diagnostics hold no planted secret"
expect 0 "envdiff reads the kept diagnostics" bg envdiff "$f" "$C/state"/*.collect-1.bundle
bg report T-1 >"$T/out"
out_has "smoke checks run by the client: 'checkout' before the fix: fail, status 500; 'checkout' after the fix: pass, status 200" \
	"the report's client runs list the checks"
out_has "diagnostics collected by the client: 'web-php' (step 0" "and the diagnostics"
out_has "client-run on web1 by ops@client.example" "the smoke results are marked client-run"
out_has "\*\*pass\*\* (a check that ran, after the fix" "the passing check after the fix is a smoke result"
bg report T-1 --json >"$T/out"
out_has '"kind":"check","phase":"after","url":"' "the JSON report has the client's check"

# --- a failing check after the fix stops the run ---------------------------------
confirmed 2
printf '/bin/echo fix applied\n' >"$T/noop.cmds"
cat >"$T/plan2.txt" <<EOF
summary: a fix that does not fix
diagnosis: -
change: run noop.cmds
rollback: nothing to undo
impact: none
check: wording $URL/checkout contains='Order confirmed'
check: login $URL/login expect=302
check: fpm command='/usr/bin/systemctl is-active php-fpm'
EOF
bg plan T-2 --from "$T/plan2.txt" --commands "$T/noop.cmds" >/dev/null || exit 1
approved 2
expect 0 "second runbook exported" bg runbook export T-2 -o "$T/rb2"
expect 1 "a check failing after the fix fails the run" run "$T/rb2" -o "$T/bundle2"
out_has "2.3. the plan's check 'fpm' is a command for the gate: run it by hand" \
	"a command check (for the gate) is the operator's to run by hand after the fix"
grep -q "0.3\." "$T/out" && not_ok "and is not a step before the fix" || ok "and is not a step before the fix"
out_has "fix applied" "the fix step ran"
out_has "step 2.1 failed: the run stops here" "the failing check stops the run"
grep -q "== step 2.2" "$T/out" && not_ok "the checks after it did not run" || ok "the checks after it did not run"
grep -q '^record: [0-9]* [0-9a-f]* end 0 failed ' "$T/bundle2" && ok "the bundle records the failure" ||
	not_ok "the bundle records the failure"
expect 0 "its bundle imports" bg runbook import T-2 "$T/bundle2"
out_has "step 2: failed" "the failed check step"
out_has "check 'wording' after the fix (client-run): fail, status 200" "recorded as a failing smoke result"

done_testing
