#!/bin/sh
# t1420-owner-close: a ticket closes only when the owner has signed that the
# affected flow works (a resolved statement, quorum, the named approver
# among them, never the requester), or a signed close-unconfirmed statement
# with the reason; more work after the signature makes it stale; the
# report shows the confirmation.
. "$(dirname "$0")/lib.sh"
setup_home
roster owner approver quorum 2 --project shop || exit 1
ticket_ready() { # ticket_ready T: confirmed (2 signatures), smoke passed, cleanup done
	open_ticket
	approve_as owner "$1" confirm || exit 1
	sign second "$T/stmt-confirm" && bg approve "$1" --signature "$T/stmt-confirm.sig" >/dev/null || exit 1
	bg smoke "$1" --result pass --notes "test order paid" >/dev/null || exit 1
	for i in secrets-rotated branch-merged staging-applied runbook-updated; do
		bg cleanup "$1" $i --na --reason "nothing changed in code" >/dev/null || exit 1
	done
	bg cleanup "$1" followup-ticket --done --note SHOP-1 >/dev/null || exit 1
}
ticket_ready T-1

expect 1 "close refused without the owner's resolved signature" bg ticket close T-1
err_has "the owner has not confirmed the fix (no resolved statement signed yet)" "says what is missing"
err_has "breakglass approve T-1 --statement --for resolved" "says what to issue"
err_has "for 2 approver(s) other than the requester, among them 'owner@shop.example'" "says who must sign"
err_has "--for close-unconfirmed --reason" "and the way to close without it"
expect 0 "status shows it as the open part of step 10" bg ticket status T-1
out_has "missing: the owner has not confirmed the fix" "status names it"

expect 0 "resolved statement issued" bg approve T-1 --statement --for resolved -o "$T/res.txt"
grep -q "^kind: resolved$" "$T/res.txt" && ok "kind resolved" || not_ok "kind resolved"
grep -q "^affected-flow: checkout$" "$T/res.txt" && ok "names the affected flow" || not_ok "names the affected flow"
grep -q "^smoke: [0-9]* pass (checked by hand)$" "$T/res.txt" && ok "names the smoke result that counts" || not_ok "names the smoke result that counts"
grep -q "works for me" "$T/res.txt" && ok "the owner's words" || not_ok "the owner's words"

# the requester's own key never counts
sign dev "$T/res.txt"
expect 1 "the requester's signature on resolved refused" bg approve T-1 --signature "$T/res.txt.sig"
err_has "requested this access and cannot approve it" "says the requester cannot sign"
expect 1 "close still refused" bg ticket close T-1

# quorum: one signature of two
sign owner "$T/res.txt"
expect 0 "owner signs resolved" bg approve T-1 --signature "$T/res.txt.sig"
out_has "1 of 2 signatures" "one of two"
expect 1 "close refused with 1 of 2 signatures" bg ticket close T-1
err_has "1 of 2 required approver signatures on the resolved statement" "says the quorum is not met"

# more work after the statement: a new smoke result makes it stale
bg smoke T-1 --result pass --notes "checked again" >/dev/null
sign second "$T/res.txt"
expect 0 "second signs the old statement" bg approve T-1 --signature "$T/res.txt.sig"
expect 1 "close refused: the statement is for an earlier state of the work" bg ticket close T-1
err_has "older version of the work" "says it is stale"
bg approve T-1 --statement --for resolved -o "$T/res2.txt" 2>/dev/null
cmp -s "$T/res.txt" "$T/res2.txt" && not_ok "a new statement is issued" || ok "a new statement is issued"
for k in second owner; do
	sign $k "$T/res2.txt"; bg approve T-1 --signature "$T/res2.txt.sig" >/dev/null
done
expect 0 "close with the quorum (owner and second)" bg ticket close T-1
R=$BREAKGLASS_HOME/reports/T-1.md
grep -q "^## The owner's confirmation" "$R" && ok "report has the owner's confirmation" || not_ok "report has the owner's confirmation"
grep -q "^\*\*Confirmed:\*\* the affected flow works for the owner" "$R" && ok "says confirmed" || not_ok "says confirmed"
grep -q "signed by owner@shop.example" "$R" && grep -q "signed by second@shop.example" "$R" \
	&& ok "with both signers" || not_ok "with both signers"
expect 0 "report as JSON" bg report T-1 --json
perl -MJSON::PP -e 'local $/; my $j = decode_json(<STDIN>); my $o = $j->{owner_confirmation};
	exit(($o && $o->{kind} eq "resolved" && $o->{confirmed} && @{$o->{signers}} == 2) ? 0 : 1)' <"$T/out" \
	&& ok "JSON: owner_confirmation" || not_ok "JSON: owner_confirmation"

# closing without the owner's confirmation: signed, with the reason
ticket_ready T-2
expect 2 "close-unconfirmed needs a reason" bg approve T-2 --statement --for close-unconfirmed
expect 0 "close-unconfirmed issued" bg approve T-2 --statement --for close-unconfirmed \
	--reason "owner unreachable for two weeks; flow verified by support" -o "$T/unc.txt"
grep -q "^reason: owner unreachable" "$T/unc.txt" && ok "statement carries the reason" || not_ok "statement carries the reason"
sign owner "$T/unc.txt"; bg approve T-2 --signature "$T/unc.txt.sig" >/dev/null
expect 1 "close-unconfirmed needs the quorum too" bg ticket close T-2
sign second "$T/unc.txt"; bg approve T-2 --signature "$T/unc.txt.sig" >/dev/null
expect 0 "close without the owner's confirmation" bg ticket close T-2
R=$BREAKGLASS_HOME/reports/T-2.md
grep -q "^\*\*Closed without the owner's confirmation\*\*.*because: owner unreachable" "$R" \
	&& ok "report says closed unconfirmed, and why" || not_ok "report says closed unconfirmed, and why"
expect 0 "audit verifies" bg audit verify

# a store of schema 4 (the statements table without the new kinds, with
# statements, signatures and grants pointing at them) is migrated in place
DB=$BREAKGLASS_HOME/store.db
sqlite3 "$DB" "PRAGMA foreign_keys=OFF; BEGIN;
	CREATE TABLE s4 AS SELECT * FROM statements WHERE kind IN ('confirm','risk','plan','smoke-waiver');
	DELETE FROM approvals WHERE statement NOT IN (SELECT id FROM s4);
	DROP TABLE statements;
	CREATE TABLE statements (id INTEGER PRIMARY KEY, ticket INTEGER NOT NULL REFERENCES tickets(id),
	  kind TEXT NOT NULL CHECK (kind IN ('confirm','risk','plan','smoke-waiver')), subject INTEGER,
	  binding TEXT NOT NULL, text TEXT NOT NULL, hash TEXT NOT NULL UNIQUE, issued INTEGER NOT NULL,
	  valid_until INTEGER NOT NULL);
	INSERT INTO statements SELECT * FROM s4; DROP TABLE s4;
	CREATE INDEX statements_ticket ON statements(ticket);
	DROP TABLE user_roles; DROP TABLE user_keys; DROP TABLE users;
	ALTER TABLE tickets DROP COLUMN opened_by;
	PRAGMA user_version = 4; COMMIT;"
before=$(sqlite3 "$DB" "SELECT count(*) FROM approvals")
[ "$(sqlite3 "$DB" "PRAGMA user_version")" = 4 ] && ok "a schema 4 store" || not_ok "a schema 4 store"
open_ticket
expect 0 "resolved statement on the migrated store" bg approve T-3 --statement --for resolved
[ "$(sqlite3 "$DB" "PRAGMA user_version")" -ge 6 ] && ok "migrated past 5 (users: 6)" || not_ok "migrated past 5"
[ "$(sqlite3 "$DB" "SELECT count(*) FROM users")" = 3 ] && ok "the approvers became users" ||
	not_ok "the approvers became users"
[ "$(sqlite3 "$DB" "SELECT count(*) FROM approvals")" = "$before" ] && [ "$before" -gt 0 ] \
	&& ok "every signature kept ($before)" || not_ok "every signature kept"
[ -z "$(sqlite3 "$DB" "PRAGMA foreign_key_check")" ] && ok "no dangling reference" || not_ok "no dangling reference"
expect 0 "the confirmations still count" bg ticket status T-2
out_has "1 \[x\] confirmation" "T-2's confirmation still satisfied"
done_testing
