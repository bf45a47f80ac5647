#!/bin/sh
# t1440-smoke-named: the plan names its smoke checks (approved with it);
# 'smoke T --run NAME|all' runs them by name before the fix (they fail:
# they see the incident) and after it; the report shows before and after.
. "$(dirname "$0")/lib.sh"
setup_home
ticket_with_grants

perl "$(dirname "$0")/data/http-fixture.pl" "$T/port" "$T" &
SRV=$!
trap 'kill $SRV 2>/dev/null; rm -rf "$T"' EXIT
for i in 1 2 3 4 5 6 7 8 9 10; do [ -s "$T/port" ] && break; sleep 0.2; done
[ -s "$T/port" ] && ok "the HTTP fixture listens" || { not_ok "the HTTP fixture listens"; done_testing; exit 1; }
URL="http://127.0.0.1:$(cat "$T/port")"

expect 2 "--run without a plan" bg smoke T-1 --run checkout
err_has "has no fix plan" "says the plan names the checks"
write_plan
cp "$T/plan.txt" "$T/plan-bad.txt"
echo "check: checkout $URL/checkout contains='Thank you' expect=999" >>"$T/plan-bad.txt"
expect 2 "a malformed check refused with the plan" bg plan T-1 --from "$T/plan-bad.txt" --diff "$T/fix.diff"
err_has "line 7: check: 'expect=999' is not expect=STATUS" "names the line and the word"
cp "$T/plan.txt" "$T/plan-bad.txt"
printf 'check: a %s/x\ncheck: a %s/y\n' "$URL" "$URL" >>"$T/plan-bad.txt"
expect 2 "a name used twice refused" bg plan T-1 --from "$T/plan-bad.txt" --diff "$T/fix.diff"
err_has "check 'a' is named twice" "says so"
cp "$T/plan.txt" "$T/plan-bad.txt"
echo "check: bad file:///etc/passwd" >>"$T/plan-bad.txt"
expect 2 "a check that is not http refused" bg plan T-1 --from "$T/plan-bad.txt" --diff "$T/fix.diff"
cat >>"$T/plan.txt" <<EOT
check: checkout $URL/checkout contains='Thank you'
check: login $URL/login expect=302 timeout=5
EOT
expect 0 "a plan naming two checks" bg plan T-1 --from "$T/plan.txt" --diff "$T/fix.diff"

# before the fix
expect 1 "checkout by name before the fix: fails" bg smoke T-1 --run checkout
out_has "smoke check 'checkout' before the fix: status 500" "named, before, failing"
out_has "it fails before the fix, as the incident does" "read as seeing the incident"
expect 2 "an unknown name" bg smoke T-1 --run cart
err_has "names no check 'cart' (it names: checkout, login)" "lists the names"
expect 2 "--run with --check refused" bg smoke T-1 --run checkout --check "$URL/checkout"

# the fix goes in
bg evidence T-1 backup --what "db dump" --where /backups --taken 2026-11-21T01:00Z >/dev/null
bg evidence T-1 rollback --method redeploy-previous --what "deploy 4.2.0" >/dev/null
approve_as owner T-1 plan || exit 1
bg grant activate G-2 >/dev/null || not_ok "write grant activated"
touch "$T/fixed"
expect 0 "all checks after the fix: pass" bg smoke T-1 --run all --json
out_has '"name":"checkout","phase":"after","result":"pass"' "checkout after: pass"
out_has '"name":"login","phase":"after","result":"pass","url":"[^"]*/login","status":302' "login after: its expected 302"
expect 0 "the ticket's smoke step is done" bg ticket status T-1
out_has "8 \[x\] smoke test" "smoke test done"
expect 0 "report" bg report T-1
out_has "before the fix; it does not count for closing: status 500" "report: before"
out_has "^check checkout: GET $URL/checkout: status 500" "report: named before"
out_has "^check checkout: GET $URL/checkout: pass" "report: named after"
expect 0 "audit export" bg audit export --ticket T-1
out_has '"event":"smoke.check".*"name":"checkout","phase":"before"' "audited with its name"
done_testing
