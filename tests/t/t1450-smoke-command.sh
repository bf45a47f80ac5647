#!/bin/sh
# t1450-smoke-command: a plan's command check runs through the gate like any
# request (ssh through a real sshd); 'smoke T --run NAME' reads the host's
# verified log, takes the newest record of exactly that argv, and records
# pass/fail with host, record and grant - before the fix (read grant,
# failing) and after it.  No record, a record of another argv (a prefix,
# an extra argument) and a host log that does not verify are refused.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || { echo "1..0 # this test creates an account and runs sshd: run it as root"; exit 1; }
[ -x /usr/sbin/sshd ] || { echo "not ok 1 - sshd is installed (scripts/install-deps)"; echo "1..1"; exit 1; }

ACCT=bgtest${BG_TEST_ID:-}-scmd
GROUP=bgtest${BG_TEST_ID:-}-scmdg
SRV=$T/srv/shop/current
F=$SRV/app/Payment.php
. "$(dirname "$0")/../../scripts/lib-host.sh"
cleanup_host() { host_down "$T" "$ACCT" "$GROUP"; rm -rf "$T"; }
trap cleanup_host EXIT

mkdir -p "$SRV/app"
printf 'old\n' >"$F"
setup_home
bg approver list --project shop --allowed-signers >"$T/approvers"
if host_up "$T" "$ACCT" "$GROUP" "$BREAKGLASS" "$T/approvers"; then
	ok "host set up, sshd on 127.0.0.1:$HOST_PORT"
else
	not_ok "host set up"; done_testing; exit 1
fi
chmod 755 "$T/srv" "$T/srv/shop"; chown -R "$ACCT" "$SRV"
open_ticket
approve_as owner T-1 confirm || exit 1
echo dump >"$T/dump"
bg evidence T-1 backup --what dump --where /b --taken "$(date -u +%Y-%m-%dT%H:%MZ)" --file "$T/dump" >/dev/null
bg evidence T-1 rollback --method redeploy-previous --what "deploy 4.2.0" >/dev/null
bg grant request T-1 --kind ssh --system web1 --account "$ACCT" --read "$SRV" \
	--reason "look at the code" >/dev/null || not_ok "read grant requested"
bg grant request T-1 --kind ssh --system web1 --account "$ACCT" --tier plan --read "$SRV" \
	--write "$SRV/app" --command "/bin/grep -q fixed $F" --ttl 1h --reason "apply the fix" \
	>/dev/null || not_ok "write grant requested"
write_plan
printf -- '--- a/Payment.php\n+++ b/Payment.php\n@@ -1 +1 @@\n-old\n+fixed\n' >"$T/fix.diff"

# the plan's command checks: strict, checked when the plan is submitted
bad_check() {
	cp "$T/plan.txt" "$T/plan-bad.txt"; echo "check: $1" >>"$T/plan-bad.txt"
	expect 2 "refused with the plan: $2" bg plan T-1 --from "$T/plan-bad.txt" --diff "$T/fix.diff"
	err_has "$3" "says why ($2)"
}
bad_check "x command=" "an empty command" "command= names no command"
bad_check "x command='rm -rf /'" "a command by name, not path" "neither an absolute path"
bad_check "x command='put $F'" "a verb that writes" "neither an absolute path"
bad_check "x command=/bin/true expect=200" "a URL option" "'expect=200' is not exit=STATUS"
bad_check "x command=/bin/true exit=256" "an exit status out of range" "'exit=256' is not exit=STATUS"
bad_check "x command=/bin/true exit=0 exit=1" "exit= twice" "'exit=1' is not exit=STATUS"
bad_check "x command=/bin/true host='a b'" "a host that is no host-log name" "host= 'a b' is not"
bad_check "x command='/bin/true \"open'" "an unterminated quote" "command=:"
bad_check "x command='/bin/echo [REDACTED:x]'" "what the gate writes for a secret" "has '\[REDACTED'"
bad_check "x command='/bin/echo$(printf ' %060d' $(seq 1 20))'" "longer than the gate's record keeps" "longer than 1000 bytes"
cat >>"$T/plan.txt" <<EOT
check: fixed command='grep -F fixed $F'
check: quoted command="grep -F 'fixed' $F"
check: prefix command='grep -F fixed'
check: cmd command='/bin/grep -q fixed $F' exit=0 host=web1
check: other command='/bin/grep -q fixed $F' host=db1
EOT
expect 0 "a plan naming command checks" bg plan T-1 --from "$T/plan.txt" --diff "$T/fix.diff"
expect 0 "the plan shows them" bg plan show T-1
out_has "check: cmd command='/bin/grep -q fixed $F' exit=0 host=web1" "as written"

ssh-keygen -q -t ed25519 -N '' -f "$T/user"
expect 0 "read grant activated" bg grant activate G-1
bg grant cert G-1 --pubkey "$T/user.pub" -o "$T/cert1.pub" 2>/dev/null
as_read() { $HOST_SSH -i "$T/user" -o CertificateFile="$T/cert1.pub" "$ACCT@127.0.0.1" "$@"; }

# where the records are
expect 2 "without a host log: says where" bg smoke T-1 --run fixed
err_has "host-log: \[NAME\] DIR" "names the host-log line"
echo "host-log: web1 $T/hostlog" >>"$BREAKGLASS_HOME/config"
expect 2 "no record yet: refused" bg smoke T-1 --run fixed
err_has "no record of 'grep -F fixed $F' for T-1 in the host log: run it through the gate first (ssh ACCOUNT@HOST -- grep -F fixed $F)" \
	"says which command to run through ssh"
expect 2 "--audit-dir without --run" bg smoke T-1 --audit-dir "$T/hostlog"

# a record of another argv is not taken
expect 1 "an extra argument, through the gate (no match)" as_read grep -F -n fixed "$F"
expect 2 "a record with an extra argument is not taken" bg smoke T-1 --run fixed
err_has "no record of 'grep -F fixed" "still no record"

# before the fix: the check sees the incident
expect 1 "the check's command through the gate before the fix" as_read grep -F fixed "$F"
expect 2 "a check whose argv is a prefix of the record's is not taken" bg smoke T-1 --run prefix
err_has "no record of 'grep -F fixed' for T-1" "no record of the prefix"
expect 1 "command check before the fix: fails" bg smoke T-1 --run fixed
out_has "smoke check 'fixed' before the fix: exit status 1, expected 0 (grep -F fixed $F on host web1, host log record [0-9]* at 20[0-9T:-]*Z, grant G-1)" \
	"before, failing, with host, record and grant"
out_has "it fails before the fix, as the incident does" "read as seeing the incident"
ssh-keygen -q -t ed25519 -N '' -C other -f "$T/other" || exit 1
bg project add other >/dev/null || exit 1
bg approver add --project other --principal olaf@other.example --key "$T/other.pub" >/dev/null || exit 1
BREAKGLASS_ACTOR=olaf@other.example expect 1 "another project's approver records no command check here" \
	bg smoke T-1 --run fixed
err_has "none of them" "says who may"
expect 1 "the same argv quoted otherwise: the record found (argv split, compared)" bg smoke T-1 --run quoted
out_has "smoke check 'quoted' before the fix: exit status 1" "quoted: before, failing"
expect 2 "host=db1 without a host-log line for it" bg smoke T-1 --run other
err_has "no 'host-log: db1 DIR' line" "says which line is missing"

# a host log that does not verify is refused, and nothing is recorded
n0=$(sqlite3 "$BREAKGLASS_HOME/store.db" "SELECT count(*) FROM smoke_results")
cp "$T/hostlog/audit.log" "$T/audit.saved"
sed -i '0,/"status":1/s//"status":0/' "$T/hostlog/audit.log"
cmp -s "$T/hostlog/audit.log" "$T/audit.saved" && not_ok "the log was altered" || ok "the log was altered"
expect 1 "a host log that does not verify: refused" bg smoke T-1 --run fixed
err_has "host log .*hostlog. does not verify; nothing in it is used: record [0-9]" "says the log does not verify, and where"
[ "$(sqlite3 "$BREAKGLASS_HOME/store.db" "SELECT count(*) FROM smoke_results")" = "$n0" ] \
	&& ok "nothing recorded from it" || not_ok "nothing recorded from it"
cp "$T/audit.saved" "$T/hostlog/audit.log"
expect 1 "--audit-dir reads that log instead" bg smoke T-1 --run fixed --audit-dir "$T/hostlog"
out_has "smoke check 'fixed' before the fix: exit status 1, expected 0 (grep -F fixed $F on the host," "unnamed host"
expect 2 "host= with --audit-dir refused" bg smoke T-1 --run cmd --audit-dir "$T/hostlog"

# the fix goes in through the gate
approve_as owner T-1 plan || exit 1
expect 0 "write grant activated" bg grant activate G-2
bg grant cert G-2 --pubkey "$T/user.pub" -o "$T/cert2.pub" 2>/dev/null
as_write() { $HOST_SSH -i "$T/user" -o CertificateFile="$T/cert2.pub" "$ACCT@127.0.0.1" "$@"; }
# the record's time decides the phase: the old record is still "before"
expect 1 "after activation, the newest record is still the one from before" bg smoke T-1 --run fixed
out_has "smoke check 'fixed' before the fix" "phase from the record's time"
bg plan artifact T-1 fix.diff >"$T/fix.from-plan"
expect_in 0 "the fix applied through the gate" "$T/fix.from-plan" as_write apply
expect 0 "the check's command through the gate after the fix" as_write grep -F fixed "$F"
expect 0 "the command through the gate after the fix" as_write /bin/grep -q fixed "$F"
expect 0 "command check after the fix: passes" bg smoke T-1 --run fixed --json
out_has '"name":"fixed","kind":"command","phase":"after","result":"pass","command":"grep -F fixed [^"]*","host":"web1","log_seq":[0-9]*,"log_time":"20[^"]*Z","grant":2,"exit":0,"expect_exit":0' \
	"JSON: after, pass, host, record, grant, exit"
expect 0 "the command check with host=web1 passes" bg smoke T-1 --run cmd
out_has "smoke check 'cmd' after the fix: pass, exit 0 (/bin/grep -q fixed $F on host web1" "cmd: after, pass"
expect 0 "the ticket's smoke step is done" bg ticket status T-1
out_has "8 \[x\] smoke test" "smoke test done"

# the report shows before and after
expect 0 "report" bg report T-1
out_has "a command run through the gate on .web1., before the fix; it does not count for closing: exit 1, expected 0" "report: before"
out_has "a command run through the gate on .web1., after the fix: exit 0, expected 0" "report: after"
out_has "^check fixed: grep -F fixed $F on web1: exit status 1, expected 0 (host log record [0-9]* at [^ ]*, grant G-1)" "report: the before notes"
out_has "^check fixed: grep -F fixed $F on web1: pass, exit 0 (host log record [0-9]* at [^ ]*, grant G-2)" "report: the after notes"
expect 0 "report as JSON" bg report T-1 --json
out_has '"kind":"command","phase":"before","command":"grep -F fixed [^"]*","host":"web1","log_seq":[0-9]*,"log_time":"[^"]*","grant":1,"exit":1,"expect":"0"' "JSON report: before"
out_has '"kind":"command","phase":"after","command":"grep -F fixed [^"]*","host":"web1","log_seq":[0-9]*,"log_time":"[^"]*","grant":2,"exit":0,"expect":"0"' "JSON report: after"
expect 0 "audit export" bg audit export --ticket T-1
out_has '"event":"smoke.check".*"kind":"command","name":"fixed","phase":"before"' "audited: before"
out_has '"event":"smoke.check".*"kind":"command","name":"cmd","phase":"after","result":"pass"' "audited: after"

# a store of schema 6 (smoke_results without the 'command' kind) is migrated
# in place, every result kept with its id
DB=$BREAKGLASS_HOME/store.db
sqlite3 "$DB" "PRAGMA foreign_keys=OFF; BEGIN;
	CREATE TABLE s6 AS SELECT id, ticket, result, notes, recorded, actor, waiver, kind, phase,
	  url, expect, http_status, elapsed_ms, body_sha256, body_size FROM smoke_results;
	UPDATE s6 SET kind = 'manual', phase = NULL WHERE kind = 'command';
	DROP TABLE smoke_results;
	CREATE TABLE smoke_results (id INTEGER PRIMARY KEY, ticket INTEGER NOT NULL REFERENCES tickets(id),
	  result TEXT NOT NULL CHECK (result IN ('pass','fail','waived')), notes TEXT NOT NULL,
	  recorded INTEGER NOT NULL, actor TEXT NOT NULL, waiver INTEGER REFERENCES statements(id),
	  kind TEXT NOT NULL DEFAULT 'manual' CHECK (kind IN ('manual','check')),
	  phase TEXT CHECK (phase IN ('before','after')), url TEXT, expect TEXT, http_status INTEGER,
	  elapsed_ms INTEGER, body_sha256 TEXT, body_size INTEGER);
	INSERT INTO smoke_results SELECT * FROM s6; DROP TABLE s6;
	CREATE INDEX smoke_results_ticket ON smoke_results(ticket);
	PRAGMA user_version = 6; COMMIT;"
ids=$(sqlite3 "$DB" "SELECT group_concat(id || ':' || notes, '|') FROM smoke_results")
[ "$(sqlite3 "$DB" "PRAGMA user_version")" = 6 ] && ok "a schema 6 store" || not_ok "a schema 6 store"
expect 0 "the command check on the migrated store" bg smoke T-1 --run cmd
[ "$(sqlite3 "$DB" "PRAGMA user_version")" -ge 7 ] && ok "migrated past 6" || not_ok "migrated past 6"
[ "$(sqlite3 "$DB" "SELECT group_concat(id || ':' || notes, '|') FROM smoke_results WHERE id <= $(echo "$ids" | tr '|' '\n' | wc -l)")" = "$ids" ] \
	&& ok "every result kept with its id" || not_ok "every result kept with its id"
[ -z "$(sqlite3 "$DB" "PRAGMA foreign_key_check")" ] && ok "no dangling reference" || not_ok "no dangling reference"
done_testing
