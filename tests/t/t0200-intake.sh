#!/bin/sh
# t0200-intake: the emergency ticket form; bad input and secrets refused
# with the line and reason, and nothing stored.
. "$(dirname "$0")/lib.sh"
setup_home
write_intake

expect 0 "template prints" bg ticket template
out_has "deploy-method:" "template has deploy-method"
out_has "rollback-method:" "template has rollback-method"

bad() { # bad DESC EXPECTED_ERR_SUBSTRING: $T/bad.txt must be refused
	expect 2 "$1 refused" bg ticket open --from "$T/bad.txt"
	err_has "$2" "$1: error names it"
}
{ cat "$T/intake.txt"; echo "colour: blue"; } >"$T/bad.txt"; bad "unknown key" "line 16: unknown key 'colour'"
sed 's/^started:/startd:/' "$T/intake.txt" >"$T/bad.txt"; bad "a misspelt key" "unknown key 'startd'; did you mean 'started'?"
{ cat "$T/intake.txt"; echo "system: web2"; } >"$T/bad.txt"; bad "duplicate key" "line 16: duplicate key 'system'"
sed 's/^deploy-method: ssh/deploy-method: carrier-pigeon/' "$T/intake.txt" >"$T/bad.txt"; bad "invalid enum" "deploy-method"
sed 's/^rollback-method: .*/rollback-method: pray/' "$T/intake.txt" >"$T/bad.txt"; bad "invalid rollback enum" "rollback-method"
sed 's/^approver-email: .*/approver-email: olga at shop/' "$T/intake.txt" >"$T/bad.txt"; bad "invalid email" "approver-email"
sed 's/^started: .*/started: yesterday/' "$T/intake.txt" >"$T/bad.txt"; bad "invalid time" "started"
sed 's/^started: .*/started: 2026-11-21T02:10+01:00/' "$T/intake.txt" >"$T/bad.txt"; bad "non-UTC time" "UTC"
{ cat "$T/intake.txt"; printf 'reproduce: %05000d\n' 0; } >"$T/bad.txt"; bad "oversized field" "longer than 4096"
{ cat "$T/intake.txt"; printf 'reproduce: a\001b\n'; } >"$T/bad.txt"; bad "control character" "line 16, column"
{ cat "$T/intake.txt"; printf 'reproduce: caf\351\n'; } >"$T/bad.txt"; bad "invalid UTF-8" "invalid UTF-8"
{ cat "$T/intake.txt"; printf 'reproduce: a\033[2Jb\n'; } >"$T/bad.txt"; bad "terminal escape" "line 16"
head -c 3000 /dev/urandom >"$T/bad.txt"; expect 2 "binary input refused" bg ticket open --from "$T/bad.txt"
grep -v '^requester' "$T/intake.txt" >"$T/bad.txt"; bad "missing required field" "requester"
sed 's/^project: shop/project: nosuch/' "$T/intake.txt" >"$T/bad.txt"
expect 2 "unknown project refused" bg ticket open --from "$T/bad.txt"
err_has "project 'nosuch' is not registered" "says the project is unknown"

# secrets: refused, kind and position named, value never echoed or stored
printf 'evidence: connect failed for postgres://shop:Hunter2Secret@db1/shop\n' >"$T/secret-line"
{ grep -v '^evidence' "$T/intake.txt"; cat "$T/secret-line"; } >"$T/bad.txt"
expect 1 "password in URL refused" bg ticket open --from "$T/bad.txt"
err_has "connection-string-password at line 1, column 36" "names the kind and position"
err_lacks "Hunter2Secret" "does not echo the secret"
{ cat "$T/intake.txt"; printf 'reproduce: export AWS_KEY=AKIAZ3MN7XQ2PLRT4WEB\n'; } >"$T/bad.txt"
expect 1 "cloud key refused" bg ticket open --from "$T/bad.txt"
err_has "aws-access-key-id" "names the cloud key"
{ cat "$T/intake.txt"; printf 'reproduce: see key\n  -----BEGIN OPENSSH PRIVATE KEY-----\n  b3BlbnNzaC1rZXktdjEAAAAA\n'; } >"$T/bad.txt"
expect 1 "private key block refused" bg ticket open --from "$T/bad.txt"
err_has "private-key" "names the private key"
{ cat "$T/intake.txt"; printf 'log-access: ssh as deploy, password=Tr0ub4dor3\n'; } >"$T/bad.txt"
expect 1 "password assignment refused" bg ticket open --from "$T/bad.txt"
expect 0 "nothing was stored" bg ticket list --status all
[ ! -s "$T/out" ] && ok "ticket list is empty" || not_ok "ticket list is empty"
file_lacks "Hunter2Secret" "$BREAKGLASS_HOME/store.db" "secret not in the store"
file_lacks "Hunter2Secret" "$BREAKGLASS_HOME/audit.log" "secret not in the audit log"
file_lacks "Tr0ub4dor3" "$BREAKGLASS_HOME/store.db-wal" "secret not in the WAL"

expect 0 "valid intake opens T-1" bg ticket open --from "$T/intake.txt"
out_has "opened T-1" "reports the ticket id"
expect_in 0 "intake from stdin opens T-2" "$T/intake.txt" bg ticket open --from -
expect 0 "flags open T-3" bg ticket open --project shop --system web1 \
	--requester dev@agency.example --broken "login loops" --started 2026-11-21T03:00Z
expect 2 "flags: missing required" bg ticket open --project shop --system web1
err_has "--requester is required" "names the missing flag"
expect 2 "flags and --from are exclusive" bg ticket open --from "$T/intake.txt" --system x

expect 0 "show --json" bg ticket show T-1 --json
perl -MJSON::PP -e 'local $/; my $j = decode_json(<STDIN>); exit($j->{id} eq "T-1" && $j->{fields}{"deploy-method"} eq "ssh" ? 0 : 1)' <"$T/out" \
	&& ok "show --json is valid JSON with the fields" || not_ok "show --json is valid JSON with the fields"
expect 0 "list --json" bg ticket list --json
perl -MJSON::PP -e 'local $/; my $j = decode_json(<STDIN>); exit(@$j == 3 ? 0 : 1)' <"$T/out" \
	&& ok "list --json has 3 tickets" || not_ok "list --json has 3 tickets"
expect 0 "status --json" bg ticket status T-1 --json
perl -MJSON::PP -e 'local $/; my $j = decode_json(<STDIN>); exit($j->{current_step} == 1 && $j->{steps}[0]{missing} =~ /confirm/ ? 0 : 1)' <"$T/out" \
	&& ok "status names step 1 and what is missing" || not_ok "status names step 1 and what is missing"
expect 0 "status of T-3 lists missing intake facts" bg ticket status T-3
out_has "complete the intake first" "status says the intake is incomplete"
expect 1 "confirmation refused while intake incomplete" bg approve T-3 --statement --for confirm
err_has "lacks intake field 'changed-before'" "names the missing field"
expect 0 "ticket set fills a field" bg ticket set T-3 changed-before "nothing"
expect 2 "ticket set refuses unknown field" bg ticket set T-3 colour blue
expect 2 "ticket set refuses project change" bg ticket set T-3 project other
expect 1 "ticket set refuses a secret" bg ticket set T-3 evidence "token=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"
expect 0 "comment" bg ticket comment T-1 --text "looking at the logs now"
expect 1 "comment with a secret refused" bg ticket comment T-1 --text "use DB_PASSWORD=Sup3rS3cret!"
err_has "secret-assignment at line 1, column 17" "comment refusal names the position"
err_lacks "Sup3rS3cret" "comment refusal does not echo the secret"
expect 0 "show includes the comment" bg ticket show T-1
out_has "looking at the logs now" "comment shown"
expect 2 "unknown ticket" bg ticket show T-99
err_has "no ticket 'T-99'" "names the missing ticket"
done_testing
