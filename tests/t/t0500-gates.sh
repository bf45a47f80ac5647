#!/bin/sh
# t0500-gates: every workflow gate, shown refusing, then opening.
. "$(dirname "$0")/lib.sh"
setup_home
open_ticket
bg grant request T-1 --kind ssh --system web1 --account hotfix --read /var/log/nginx \
	--reason "read the logs" >/dev/null
bg grant request T-1 --kind ssh --system web1 --account hotfix --tier plan \
	--write /srv/shop/app --reason "apply the fix" --ttl 1h >/dev/null

# gate 1: no grant of any kind before the signed confirmation
expect 1 "read grant refused before confirmation" bg grant activate G-1
err_has "no valid signed confirmation" "says the confirmation is missing"
expect 0 "grant is still requested" bg grant show G-1 --json
out_has '"state":"requested"' "state requested"
approve_as owner T-1 confirm
expect 0 "read grant activates after confirmation" bg grant activate G-1
out_has "active until" "prints the window end"

# gate 2: write access needs backup + rollback evidence, or signed risk acceptance
expect 1 "write grant refused without backup evidence" bg grant activate G-2
err_has "only read-only access until" "says only read-only access is possible"
bg grant request T-1 --kind db --system db1 --account hotfix_rw --engine postgresql \
	--database shop --table orders --access read-write --reason "fix the orders table" --ttl 1h >/dev/null
expect 1 "DB write grant refused without backup evidence" bg grant activate G-3
err_has "only read-only access until" "DB write: says only read-only access"
bg grant request T-1 --kind db --system db1 --account hotfix_ro --engine postgresql \
	--database shop --table orders --access read-only --reason "read the orders" >/dev/null
expect 0 "DB read-only grant activates" bg grant activate G-4
echo dump >"$T/dump.sql"
sum=$(sha256sum "$T/dump.sql" | cut -d' ' -f1)
expect 2 "checksum mismatch refused" bg evidence T-1 backup --what "db dump" --where /backups \
	--taken 2026-11-21T01:00Z --file "$T/dump.sql" --sha256 0000000000000000000000000000000000000000000000000000000000000000
err_has "checksum mismatch" "names the mismatch"
expect 2 "backup needs --taken" bg evidence T-1 backup --what "db dump" --where /backups
expect 2 "--taken that is not a time" bg evidence T-1 backup --what "db dump" --where /backups --taken "last night"
err_has "--taken 'last night' is not a time with its zone; write it like 2026-11-21T02:10Z or 2026-11-21 03:10 +01:00" \
	"says the value is not a time, with an example"
expect 2 "future backup refused" bg evidence T-1 backup --what "db dump" --where /b --taken 2099-01-01T00:00Z
expect 1 "secret in evidence refused" bg evidence T-1 backup --what "db dump" \
	--where "s3://AKIAZ3MN7XQ2PLRT4WEB@bucket" --taken 2026-11-21T01:00Z
expect 0 "backup evidence with verified checksum" bg evidence T-1 backup --what "db dump" \
	--where /backups --taken 2026-11-21T01:00Z --file "$T/dump.sql" --sha256 "$sum"
expect 1 "still refused without rollback evidence" bg grant activate G-2
err_has "no rollback evidence" "names the rollback evidence"
expect 2 "an empty rollback method" bg evidence T-1 rollback --method " " --what x
expect 0 "a rollback method in the requester's words" bg evidence T-1 rollback \
	--method "restore last night's snapshot" --what "the hosting panel's nightly"
expect 0 "a known method as people type it" bg evidence T-1 rollback --method "Redeploy Previous" --what "4.2.0"
expect 0 "evidence list" bg evidence T-1 --json
out_has '"method":"redeploy-previous"' "stored by its name"
expect 0 "rollback evidence" bg evidence T-1 rollback --method redeploy-previous --what "deploy 4.2.0"

# gate 3: write grants need an approved plan that lists them
expect 1 "write grant refused without a plan" bg grant activate G-2
err_has "needs an approved fix plan" "says a plan is needed"
write_plan
expect 1 "plan approval refused before a plan exists" bg approve T-1 --statement --for plan
printf 'summary: x\ndiagnosis: y\nchange: z\nrollback: r\nimpact: i\n' >"$T/plan-secret.txt"
printf 'DB_PASSWORD=Sup3rS3cret!\n' >"$T/secret.sql"
expect 1 "artifact with a secret refused" bg plan T-1 --from "$T/plan-secret.txt" --sql "$T/secret.sql"
expect 2 "plan missing rollback refused" sh -c "grep -v rollback '$T/plan.txt' > '$T/p2.txt'; '$BREAKGLASS' plan T-1 --from '$T/p2.txt'"
grep -v -e '^rollback' -e '^impact' "$T/plan.txt" | sed 's/^summary:/sumary:/' >"$T/p3.txt"
expect 2 "a plan with four problems refused" bg plan T-1 --from "$T/p3.txt"
err_has "4 problems:" "all four at once"
err_has "line 1: unknown key 'sumary'; did you mean 'summary'?" "the misspelt key, with the one meant"
err_has "missing required key 'rollback'" "the missing rollback"
err_has "missing required key 'impact'" "the missing impact"
expect 0 "plan submitted" bg plan T-1 --from "$T/plan.txt" --diff "$T/fix.diff"
expect 1 "still refused: plan not approved" bg grant activate G-2
approve_as owner T-1 plan
grep -q "write-grant: G-2 " "$T/stmt-plan" && ok "plan statement lists G-2" || not_ok "plan statement lists G-2"
grep -q "artifact: $(sha256sum "$T/fix.diff" | cut -d' ' -f1) diff fix.diff" "$T/stmt-plan" \
	&& ok "plan statement names the artifact by SHA-256" || not_ok "plan statement names the artifact by SHA-256"
# a grant requested after the plan approval is not covered by it, and the
# request says so at once
expect 0 "write grant requested after the plan statement" bg grant request T-1 --kind ssh \
	--system web1 --account hotfix --tier plan --write /srv/shop/config --reason "more" --ttl 1h
out_has "plan statement [0-9]* was issued before G-5 existed and does not list it" \
	"the request says the plan statement does not list it"
out_has "breakglass approve T-1 --statement --for plan" "and how to issue it again"
expect 1 "write grant not listed in the plan refused" bg grant activate G-5
err_has "does not list G-5" "says the plan does not list it"
# a changed plan voids the approval
cp "$T/plan.txt" "$T/plan2.txt"; echo "smoke-test: also check refunds" >>"$T/plan2.txt"
sed -i '/^smoke-test: a test/d' "$T/plan2.txt"
expect 0 "plan replaced" bg plan T-1 --from "$T/plan2.txt" --diff "$T/fix.diff"
expect 1 "old approval void after the plan changed" bg grant activate G-2
err_has "older version of the plan" "says the approval is for an older plan"
approve_as owner T-1 plan
expect 0 "write grant activates with everything in place" bg grant activate G-2
expect 1 "activating twice refused" bg grant activate G-2

# gate 4: closing needs a smoke result and a finished cleanup
expect 1 "close refused without smoke test" bg ticket close T-1
err_has "smoke test" "says the smoke test is missing"
expect 0 "failed smoke test recorded" bg smoke T-1 --result fail --notes "still 500"
expect 1 "close refused after a failed smoke test" bg ticket close T-1
err_has "the smoke test failed" "says it failed"
expect 1 "waiver needs a signature" bg smoke T-1 --result waived
err_has "must be signed" "says the waiver must be signed"
approve_as owner T-1 smoke-waiver "customer verified checkout by phone"
expect 0 "signed waiver recorded" bg smoke T-1 --result waived
expect 1 "close refused with grants open" bg ticket close T-1
err_has "grant(s) still open" "says grants are open"
expect 2 "grants-revoked cannot be ticked by hand" bg cleanup T-1 grants-revoked --done
expect 0 "revoke G-1" bg revoke G-1 --reason "diagnosis done"
expect 0 "revoke G-2" bg grant revoke G-2 --reason "fix applied"
bg revoke G-4 --reason done >/dev/null
expect 1 "revoking twice refused" bg revoke G-2 --reason again
expect 1 "close refused with cleanup open" bg ticket close T-1
err_has "item(s) open" "says cleanup items are open"
expect 2 "na needs a reason" bg cleanup T-1 branch-merged --na
expect 2 "follow-up needs a note" bg cleanup T-1 followup-ticket --done
for i in secrets-rotated runbook-updated; do bg cleanup T-1 $i --done >/dev/null; done
expect 0 "staging-applied by hand, with the reason it was not checked" bg cleanup T-1 staging-applied \
	--done --reason "staging redeployed from the release branch"
expect 0 "not applicable with reason" bg cleanup T-1 branch-merged --na --reason "no branch; patch via plan"
expect 0 "follow-up noted" bg cleanup T-1 followup-ticket --done --note "SHOP-4411"
expect 0 "cleanup list" bg cleanup T-1
out_has "\[x\] grants-revoked" "grants-revoked checked automatically"
# gate 5: the owner confirms the affected flow works (a signed resolved statement)
expect 1 "close refused without the owner's resolved signature" bg ticket close T-1
err_has "the owner has not confirmed the fix" "says the owner has not confirmed"
err_has "breakglass approve T-1 --statement --for resolved" "says what to issue"
err_has "among them 'owner@shop.example'" "and who must sign"
approve_as owner T-1 resolved
expect 0 "close succeeds" bg ticket close T-1
[ -s "$BREAKGLASS_HOME/reports/T-1.md" ] && ok "final report written" || not_ok "final report written"
expect 1 "closed ticket takes no new grants" bg grant request T-1 --kind ssh --system web1 \
	--account hotfix --read /srv/shop --reason x
err_has "is closed" "says the ticket is closed"
expect 1 "closed ticket takes no comments" bg ticket comment T-1 --text late

# manual grants must be confirmed removed
open_ticket
approve_as owner T-2 confirm
bg grant request T-2 --kind manual --system web1 --role "Theme editor" \
	--granted-by "Olga, Shopify admin" --reason "edit the theme" >/dev/null
expect 0 "manual grant activated" bg grant activate G-6
expect 2 "manual revoke needs confirmation" bg revoke G-6 --reason done
err_has "--confirm" "asks for the confirmation"
expect 0 "manual revoke with confirmation" bg revoke G-6 --reason done --confirm "Olga removed the staff account"
# withdraw
open_ticket
expect 0 "a ticket that never got access can be withdrawn" bg ticket withdraw T-3 --reason "false alarm"
expect 1 "T-2 had access: withdraw refused" bg ticket withdraw T-2 --reason x

# quorum 2: a write grant requested after the plan approval is listed by a
# new statement; activation says how many signatures that one still lacks
roster owner approver quorum 2 --project shop || exit 1
open_ticket
approve_as owner T-4 confirm && approve_as second T-4 confirm || exit 1
bg evidence T-4 backup --what "db dump" --where /backups --taken 2026-11-21T01:00Z >/dev/null
bg evidence T-4 rollback --method redeploy-previous --what "deploy 4.2.0" >/dev/null
expect 0 "write grant requested before the plan" bg grant request T-4 --kind ssh --system web1 \
	--account hotfix --tier plan --write /srv/shop/app --reason "apply the fix" --ttl 1h
out_has "needs backup evidence and a signed plan listing it" "the order README gives: no warning"
bg plan T-4 --from "$T/plan.txt" --diff "$T/fix.diff" >/dev/null
approve_as owner T-4 plan && approve_as second T-4 plan || exit 1
expect 0 "G-7 activates with 2 of 2 on the plan" bg grant activate G-7
bg grant request T-4 --kind ssh --system web1 --account hotfix --tier plan \
	--write /srv/shop/config --reason "more" --ttl 1h >/dev/null
approve_as owner T-4 plan || exit 1
grep -q "write-grant: G-8 " "$T/stmt-plan" && ok "the new plan statement lists G-8" || not_ok "the new plan statement lists G-8"
expect 1 "G-8 refused with 1 of 2 signatures on the statement that lists it" bg grant activate G-8
err_has "plan statement [0-9]* lists G-8 but has 1 of 2 signatures" "says what is missing"
approve_as second T-4 plan || exit 1
expect 0 "G-8 activates with the second signature" bg grant activate G-8
done_testing
