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
# every problem of the form at once, each with its line and an example
sed -e 's/^requester: .*/requester: me/' -e 's/^started: .*/started: 2026-12-02 00:58/' \
	-e 's/^approver-email: .*/approver-email: olga at shop/' "$T/intake.txt" >"$T/bad.txt"
echo "windw-end: 2026-12-02T06:00Z" >>"$T/bad.txt"
expect 2 "a form with four problems refused" bg ticket open --from "$T/bad.txt"
err_has "^breakglass: 4 problems:" "says how many"
err_has "line 3: field 'requester': must be an email address like dev@agency.example, not 'me'" \
	"the requester, with its line and an example"
err_has "line 7: field 'started': has no zone; add Z for UTC or the offset, like 2026-11-21T02:10Z or 2026-11-21 03:10 +01:00, not '2026-12-02 00:58'" \
	"a time without a zone, with an example"
err_has "line 15: field 'approver-email'" "the approver's email"
err_has "line 16: unknown key 'windw-end'; did you mean 'window-end'?" "the unknown key, with the one meant"
grep -v '^requester' "$T/intake.txt" | sed 's/^started: .*/started: soon/' >"$T/bad.txt"
expect 2 "a missing field and a bad one, together" bg ticket open --from "$T/bad.txt"
err_has "missing required key 'requester'" "the missing field"
err_has "field 'started': must be a time with its zone" "and the bad one"
sed 's/^approver-email: .*/approver-email: olga at shop/' "$T/intake.txt" >"$T/bad.txt"; bad "invalid email" "approver-email"
sed 's/^started: .*/started: yesterday/' "$T/intake.txt" >"$T/bad.txt"; bad "invalid time" "started"
sed 's/^started: .*/started: 2026-11-21T02:10/' "$T/intake.txt" >"$T/bad.txt"; bad "a time without a zone" "has no zone"
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
{ cat "$T/intake.txt"; printf "reproduce: wp-config.php has define( 'DB_PASSWORD', 'Xk9#mP2\$vL8qR4wZ' );\n"; } >"$T/bad.txt"
expect 1 "a WordPress define() of the DB password refused" bg ticket open --from "$T/bad.txt"
err_has "php-define-secret" "names the kind"
err_lacks 'Xk9#mP2' "does not echo it"
expect 0 "nothing was stored" bg ticket list --status all
[ ! -s "$T/out" ] && ok "ticket list is empty" || not_ok "ticket list is empty"
file_lacks "Hunter2Secret" "$BREAKGLASS_HOME/store.db" "secret not in the store"
file_lacks "Hunter2Secret" "$BREAKGLASS_HOME/audit.log" "secret not in the audit log"
file_lacks "Tr0ub4dor3" "$BREAKGLASS_HOME/store.db-wal" "secret not in the WAL"

expect 0 "valid intake opens T-1" bg ticket open --from "$T/intake.txt"
out_has "opened T-1" "reports the ticket id"
expect_in 1 "the same intake again is refused" "$T/intake.txt" bg ticket open --from -
err_has "this intake is already open as T-1 (opened .*); add to that ticket (breakglass ticket comment T-1 ...), or open a second one with --duplicate" \
	"naming the open ticket and the way to a second one"
expect_in 0 "intake from stdin opens T-2 when asked explicitly" "$T/intake.txt" bg ticket open --from - --duplicate
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

# what people type, accepted where it is unambiguous and stored normalised
sed -e 's/^deploy-method: .*/deploy-method: GitHub Actions/' \
	-e "s/^rollback-method: .*/rollback-method: restore last night's snapshot/" \
	-e 's/^started: .*/started: 2026-12-02 00:58 +01:00/' -e 's/^broken: .*/broken: checkout again/' \
	"$T/intake.txt" >"$T/typed.txt"
printf 'window-end: 2026-12-02T06:00+0100\n' >>"$T/typed.txt"
expect 0 "methods in words and a time with an offset are accepted" bg ticket open --from "$T/typed.txt" --json
tid=$(perl -MJSON::PP -e 'local $/; print decode_json(<STDIN>)->{ticket}' <"$T/out")
expect 0 "show it" bg ticket show "$tid" --json
perl -MJSON::PP -e 'local $/; my $f = decode_json(<STDIN>)->{fields};
	exit(($f->{"deploy-method"} eq "github-actions" && $f->{"rollback-method"} eq "restore last night'"'"'s snapshot"
	    && $f->{started} eq "2026-12-01T23:58:00Z" && $f->{"window-end"} eq "2026-12-02T05:00:00Z") ? 0 : 1)' <"$T/out" \
	&& ok "stored: the known method by its name, free text as typed, times in UTC" \
	|| not_ok "stored: the known method by its name, free text as typed, times in UTC"
sed -e 's/^deploy-method: .*/deploy-method: Capistrano/' -e 's/^broken: .*/broken: cart empty/' "$T/intake.txt" >"$T/typed.txt"
expect 0 "a deploy method not in the examples is a valid answer" bg ticket open --from "$T/typed.txt"
expect 0 "ticket set takes a time with an offset" bg ticket set T-1 window-end "2026-12-03 10:00 -05:00"
expect 0 "show" bg ticket show T-1 --json
out_has '"window-end":"2026-12-03T15:00:00Z"' "stored in UTC"
done_testing
