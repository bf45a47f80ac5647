#!/bin/sh
# t1410-smoke-check: smoke checks that run - against a local HTTP server
# that fails before the fix and passes after it; a check before the fix
# never counts for closing; the body is hashed, never stored; the report
# shows before and after, and manual results as manual.
. "$(dirname "$0")/lib.sh"
setup_home
ticket_with_grants

perl "$(dirname "$0")/data/http-fixture.pl" "$T/port" "$T" &
SRV=$!
trap 'kill $SRV 2>/dev/null; rm -rf "$T"' EXIT
for i in 1 2 3 4 5 6 7 8 9 10; do [ -s "$T/port" ] && break; sleep 0.2; done
[ -s "$T/port" ] && ok "the HTTP fixture listens" || { not_ok "the HTTP fixture listens"; done_testing; exit 1; }
URL="http://127.0.0.1:$(cat "$T/port")"

expect 1 "before the fix the check fails" bg smoke T-1 --check "$URL/checkout" --contains "Thank you"
out_has "smoke check before the fix: status 500, expected 2xx" "says it ran before the fix, and why it failed"
out_has "it fails before the fix, as the incident does" "reads a failure before the fix as seeing the incident"
out_has "DB_PASSWORD=\[REDACTED" "the excerpt shown is redacted"
if grep -rq "Xk9mP2vL8qR4wZt7" "$BREAKGLASS_HOME"; then not_ok "the body's secret is nowhere in the home"; else ok "the body's secret is nowhere in the home"; fi

# the fix: evidence, plan, approval, the write grant activated
echo dump >"$T/dump.sql"
bg evidence T-1 backup --what "db dump" --where /backups --taken 2026-11-21T01:00Z >/dev/null
bg evidence T-1 rollback --method redeploy-previous --what "deploy 4.2.0" >/dev/null
write_plan
bg plan T-1 --from "$T/plan.txt" --diff "$T/fix.diff" >/dev/null
approve_as owner T-1 plan || exit 1
bg grant activate G-2 >/dev/null || { not_ok "write grant activated"; }
expect 1 "close refused: the only check ran before the fix" bg ticket close T-1
err_has "smoke test" "it is the smoke test that is missing"
expect 1 "after the fix, still broken: fail" bg smoke T-1 --check "$URL/checkout" --contains "Thank you"
out_has "smoke check after the fix: status 500" "says after the fix"
touch "$T/fixed"
expect 0 "after the fix: pass" bg smoke T-1 --check "$URL/checkout" --contains "Thank you" --json
out_has '"phase":"after","result":"pass"' "json: after, pass"
out_has '"status":200' "json: the status"
expect 1 "the expected text is missing: fail" bg smoke T-1 --check "$URL/checkout" --contains "Order #"
err_lacks "Order" "nothing on stderr"
out_has "does not contain the expected text" "says the text is missing"
expect 1 "a redirect is not followed" bg smoke T-1 --check "$URL/login"
out_has "status 302, expected 2xx" "names the redirect status"
expect 0 "an expected redirect passes" bg smoke T-1 --check "$URL/login" --expect 302
expect 1 "a timeout fails" bg smoke T-1 --check "$URL/slow" --timeout 1
out_has "no response" "says there was no response"
expect 1 "nothing listening fails" bg smoke T-1 --check "http://127.0.0.1:1/checkout"
expect 2 "credentials in the URL refused" bg smoke T-1 --check "http://user:pw@127.0.0.1:1/"
err_has "carries credentials" "says why"
expect 2 "not http" bg smoke T-1 --check "file:///etc/passwd"
expect 2 "--expect out of range" bg smoke T-1 --check "$URL/checkout" --expect 700
expect 2 "--check with --result" bg smoke T-1 --check "$URL/checkout" --result pass
expect 2 "--contains without --check" bg smoke T-1 --result pass --notes x --contains y
expect 0 "the last passing check lets the ticket through the smoke step" bg smoke T-1 --check "$URL/checkout"
expect 0 "a manual result is still possible" bg smoke T-1 --result pass --notes "paid with a saved card"

expect 0 "report" bg report T-1
out_has "(a check that ran, before the fix; it does not count for closing: status 500" "report: the check before the fix"
out_has "(a check that ran, after the fix: status 200, expected 2xx" "report: the check after the fix"
out_has "(checked by hand)" "report: the manual result marked as manual"
expect 0 "report --json" bg report T-1 --json
out_has '"kind":"check","phase":"before"' "json report: phase before"
out_has '"kind":"manual"' "json report: manual"
expect 0 "audit log intact" bg audit verify
grep -q '"event":"smoke.check"' "$BREAKGLASS_HOME/audit.log" && ok "each check is audited" || not_ok "each check is audited"
done_testing
