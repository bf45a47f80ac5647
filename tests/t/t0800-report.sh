#!/bin/sh
# t0800-report: the full lifecycle ends in a report generated from the
# records; Markdown for people, JSON for tools.
. "$(dirname "$0")/lib.sh"
setup_home
ticket_with_grants
bg grant activate G-1 >/dev/null
echo dump >"$T/dump"
bg evidence T-1 backup --what "db dump" --where "/backups/shop" --taken 2026-11-21T01:00Z --file "$T/dump" >/dev/null
expect 0 "evidence --json" bg evidence T-1 rollback --method redeploy-previous --what "deploy 4.2.0" --json
out_has '^{"ticket":"T-1","evidence":"rollback","state":"recorded"}$' "says what was recorded, as JSON"
write_plan
bg plan T-1 --from "$T/plan.txt" --diff "$T/fix.diff" >/dev/null
approve_as owner T-1 plan
bg grant activate G-2 >/dev/null
bg smoke T-1 --result fail --notes "order 1000 still 500" >/dev/null
bg smoke T-1 --result pass --notes "order 1001 paid" >/dev/null
expect 0 "report before closing" bg report T-1
out_has "# Incident report: T-1" "title"
out_has "## Approvals" "approvals section"
out_has "signed by owner@shop.example (Olga Owner)" "approver named"
out_has "## Grants" "grants section"
out_has "\*\*G-2\*\* ssh (can write), active" "write grant with state"
out_has "## What changed, where, how to roll it back" "changes and rollback section"
out_has "redeploy release 4.2.0" "rollback path from the plan"
out_has "| fix.diff | diff |" "artifact listed"
out_has "## Smoke test" "smoke section"
out_has "^1 of 2: \*\*fail\*\*" "the first smoke result is kept"
out_has "order 1000 still 500" "with its notes"
out_has "^2 of 2 (the one that counts): \*\*pass\*\*" "the second, the one that counts"
out_has "order 1001 paid" "with its notes"
out_has "## Timeline (from the verified audit log)" "timeline"
out_has "| approval.record |" "timeline has the approval"
out_has "- \[ \] grants-revoked" "cleanup shows open grants"
expect 0 "report --json" bg report T-1 --json
perl -MJSON::PP -e 'local $/; my $j = decode_json(<STDIN>);
	exit(($j->{format} eq "breakglass-report-v1" && @{$j->{grants}} == 2 && $j->{plan}{artifacts}[0]{name} eq "fix.diff"
	      && @{$j->{timeline}} > 5 && $j->{smoke}{result} eq "pass" && @{$j->{smoke_results}} == 2
	      && $j->{smoke_results}[0]{result} eq "fail") ? 0 : 1)' <"$T/out" \
	&& ok "JSON report has grants, plan, smoke (every result), timeline" || not_ok "JSON report has grants, plan, smoke (every result), timeline"
bg revoke G-1 --reason done >/dev/null
expect 0 "revoke --json" bg revoke G-2 --reason done --json
out_has '^{"grant":"G-2","state":"revoked"}$' "revocation as JSON"
for i in secrets-rotated runbook-updated; do bg cleanup T-1 $i --done >/dev/null; done
for i in branch-merged staging-applied; do bg cleanup T-1 $i --done --reason "no repository here" >/dev/null; done
expect 0 "cleanup item --json" bg cleanup T-1 followup-ticket --done --note SHOP-1 --json
out_has '^{"ticket":"T-1","item":"followup-ticket","state":"done"}$' "cleanup as JSON"
expect 2 "ticket template refuses --json" bg ticket template --json
err_has "ticket template: --json is not supported" "says so instead of ignoring it"
approve_as owner T-1 resolved || exit 1
expect 0 "close --json" bg ticket close T-1 --json
out_has '^{"ticket":"T-1","status":"closed","report":".*/reports/T-1.md"}$' "close as JSON, naming the report"
R=$BREAKGLASS_HOME/reports/T-1.md
grep -q "Status:\*\* closed" "$R" && ok "stored report says closed" || not_ok "stored report says closed"
sum=$(sha256sum "$R" | cut -d' ' -f1)
expect 0 "audit export" bg audit export --ticket T-1
out_has "\"report_sha256\":\"$sum\"" "close record carries the report's hash"
out_has '"event":"checkpoint"' "per-ticket signed checkpoint"
expect 0 "audit still verifies" bg audit verify
expect 0 "report -o FILE" bg report T-1 -o "$T/r.md"
[ -s "$T/r.md" ] && ok "report written to file" || not_ok "report written to file"
expect 0 "status of a closed ticket" bg ticket status T-1
out_has "\[closed\]" "status says closed"
done_testing
