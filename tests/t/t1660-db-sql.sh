#!/bin/sh
# t1660-db-sql: a db grant through the real sshd, the gate and hostd, on a
# real PostgreSQL 15: `ssh ACCOUNT@db1 sql` gets a role made by the host
# from the certificate's scope; SELECT on the granted table works and
# every other table, database and escape fails with nothing changed (the
# gate's check first, the role's privileges behind it); psql's backslash
# escapes do not exist; Ctrl-C on the console (ssh -tt) cancels the
# running statement and keeps the session, at the prompt it ends it;
# every statement is in the host log, redacted, with row count and
# duration; the hotfix account cannot log in as the role;
# revocation (the KRL) ends an open SELECT pg_sleep(600) and drops the role;
# hostd restarted under an open session leaves it alone; a session's
# process killed leaves a role that hostd's repair removes when it starts
# again, and a session starting while that repair runs keeps its role;
# kill -9 during the role's creation leaves nothing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-db.sh"
db_server postgresql sql
Q -d postgres -c "CREATE DATABASE shop" -c "CREATE DATABASE other" -c "CREATE ROLE app LOGIN" >/dev/null
Q -d shop >/dev/null <<'EOT'
CREATE TABLE orders (id int PRIMARY KEY, status text, total numeric);
INSERT INTO orders SELECT g, 'paid', g * 10 FROM generate_series(1, 20) g;
UPDATE orders SET status = E'stuck\033[31m' WHERE id = 7;
CREATE TABLE customers (id int PRIMARY KEY, email text);
INSERT INTO customers VALUES (1, 'a@example.com');
CREATE SCHEMA billing; CREATE TABLE billing.cards (id int, num text);
CREATE FUNCTION public.wipe() RETURNS void LANGUAGE sql AS 'DELETE FROM public.customers';
CREATE FUNCTION public.peek() RETURNS bigint LANGUAGE sql AS 'SELECT count(*) FROM public.customers';
EOT
Q -d other -c "CREATE TABLE t (x int)" >/dev/null
snap() { Q -d shop -c "SELECT string_agg(id || status || total, ',' ORDER BY id) FROM orders" \
	-c "SELECT count(*) FROM customers" -c "SELECT count(*) FROM pg_largeobject_metadata" \
	-c "SELECT count(*) FROM pg_class WHERE relpersistence = 't' OR relname = 'mine'"; }
BEFORE=$(snap)

db_host
grep -q "^db-postgres: $PG_ADMIN\$" "$T/etc/gate.conf" && grep -q "^db-postgres-as: $PGU\$" "$T/etc/gate.conf" &&
	ok "gate.conf names the target and the OS user" || not_ok "gate.conf: $(cat "$T/etc/gate.conf")"
expect 2 "host setup refuses a conninfo with a password" bg host setup --account "$ACCT" \
	--etc "$T/x" --db-postgres "$PG_ADMIN password=secret"
err_has "without password" "and says why"
# the check is libpq's own parse of the conninfo, keyword by keyword: a
# database or user whose name holds "service" or "password" is no secret
pg_setup() { bg host setup --account "$ACCT" --etc "$T/x" --db-postgres "$1"; }
expect 0 "host setup takes dbname=customer_service user=password_reset" \
	pg_setup "$PG_ADMIN dbname=customer_service user=password_reset"
out_has "^db-postgres: $PG_ADMIN dbname=customer_service user=password_reset\$" "and writes it to gate.conf"
expect 0 "host setup takes the URI form postgresql:///customer_service?host=/run/x" \
	pg_setup "postgresql:///customer_service?host=/run/x"
out_has "^db-postgres: postgresql:///customer_service?host=/run/x\$" "and writes it to gate.conf"
for kw in password=x passfile=/x service=x; do
	expect 2 "host setup refuses a conninfo with $kw" pg_setup "$PG_ADMIN $kw"
	err_has "the conninfo names a ${kw%%=*}: " "and names the keyword"
done
expect 2 "host setup refuses a URI with a password in its query" pg_setup "postgresql:///shop?password=x"
err_has "the conninfo names a password" "and names the keyword"
expect 2 "host setup refuses a URI with a password before its host" pg_setup "postgresql://bgadmin:x@/shop"
err_has "the conninfo names a password" "and names the keyword"
expect 2 "host setup refuses a conninfo libpq cannot parse" pg_setup "$PG_ADMIN dbname='shop"
err_has "conninfo: unterminated quoted string" "with libpq's message"
# without libpq nothing is guessed (a library of that name that cannot load)
mkdir "$T/nolibpq" && : >"$T/nolibpq/libpq.so.5"
expect 4 "host setup refuses any conninfo when libpq cannot be loaded" \
	env LD_LIBRARY_PATH="$T/nolibpq" "$BREAKGLASS" host setup --account "$ACCT" --etc "$T/x" \
	--db-postgres "$PG_ADMIN dbname=shop"
err_has "libpq.so.5 cannot be loaded" "and says so"

ticket_planned
approve_as owner T-1 plan || exit 1
db_read_grants public.orders
if grant 1; then ok "a db grant's certificate"; else not_ok "db grant G-1"; cat "$T/grant.out" >&2; fi

expect 0 "help says what a db grant allows" $HOST_SSH -i "$T/user" -o CertificateFile="$T/cert1.pub" "$ACCT@127.0.0.1" help
out_has "database shop, tables: public.orders" "its database and tables"
expect 1 "any other request is refused" $HOST_SSH -i "$T/user" -o CertificateFile="$T/cert1.pub" "$ACCT@127.0.0.1" cat /etc/passwd
err_has "a db grant (G-1) allows 'sql'" "and says what it allows"

# --- a read grant SELECTs its table ---------------------------------------
printf 'SELECT count(*) FROM orders;\nSELECT id, status\n  FROM public.orders WHERE id = 7;\n' >"$T/in"
expect_in 0 "SELECT on the granted table through sshd, the gate and hostd" "$T/in" SQL 1
out_has "^count$" "the column names come first"
out_has "^20$" "all 20 rows counted"
out_has "^7|stuck?\[31m$" "a row, its terminal escape made harmless"
out_has "^(1 row)$" "with its row count"
db_roles_are 0 && ok "the role is gone when the session ends" || not_ok "a grant role is left"
# the console on a terminal: a prompt, a statement over two lines, \q
printf 'SELECT count(*)\nFROM orders;\n\\q\n' >"$T/in"
expect_in 0 "the console on a terminal (ssh -tt)" "$T/in" $HOST_SSH -tt -i "$T/user" \
	-o CertificateFile="$T/cert1.pub" "$ACCT@127.0.0.1" sql
out_has "shop=> " "prompts with the database's name"
out_has "shop-> " "and a continuation prompt"
out_has "^20" "answers"
# Ctrl-C on the terminal cancels the running statement and keeps the
# session (and its role); Ctrl-C at the prompt ends it
db_ctrl_c
grep -q "canceling statement due to user request" "$T/ctrlc" && grep -q "Ctrl-C: the database session ends" "$T/ctrlc" &&
	ok "the console says what each Ctrl-C did" || not_ok "console: $(cat "$T/ctrlc")"
db_roles_are 0 && ok "the role is gone with the session" || not_ok "a grant role is left"
grep -q '"event":"gate.sql".*pg_sleep(60).*"sqlstate":"57014"' "$T/hostlog/audit.log" &&
	ok "the cancelled statement is recorded with its SQLSTATE" || not_ok "no record of the cancel"
printf "SELECT 'one' AS a FROM orders LIMIT 1; SELECT 'two;' AS b FROM orders LIMIT 1;\n" >"$T/in"
expect_in 0 "two statements on one line, each checked and run alone" "$T/in" SQL 1
[ "$(tr '\n' ' ' <"$T/out")" = "a one (1 row) b two; (1 row) " ] && ok "both answered, in order" ||
	not_ok "two statements: $(cat "$T/out")"

# --- everything else fails, with nothing changed (by the gate or the server)
probe "another table" "SELECT * FROM customers;" "only SELECT on the grant's tables"
probe "another schema" "SELECT * FROM billing.cards;" "only SELECT on the grant's tables"
probe "another database" "SELECT * FROM other.public.t;" "refused"
probe "pg_read_file" "SELECT pg_read_file('/etc/passwd');" "refused"
probe "COPY TO PROGRAM" "COPY orders TO PROGRAM 'touch /tmp/bg-pwned-$ID';" "refused"
probe "COPY in a SELECT's clothing" "COPY (SELECT 1) TO PROGRAM 'touch /tmp/bg-pwned-$ID';" "refused"
probe "SET ROLE" "SET ROLE bgadmin;" "refused"
probe "read-only switched off" "SET default_transaction_read_only = off;" "refused"
probe "a TEMP table" "CREATE TEMP TABLE mine (x int);" "refused"
probe "a table" "CREATE TABLE public.mine (x int);" "refused"
probe "a large object" "SELECT lo_create(0);" "refused"
probe "lo_import" "SELECT lo_import('/etc/passwd');" "refused"
probe "UPDATE" "UPDATE orders SET status = 'x' WHERE id = 1;" "changes go through an approved plan"
probe "DELETE" "DELETE FROM orders;" "refused"
probe "two statements, one bad" "SELECT 1 FROM orders; DELETE FROM orders WHERE id = 2;" "statement 2"
probe "a function that writes (the server refuses)" "SELECT public.wipe();" "ERROR: 25006: cannot execute DELETE in a read-only transaction"
probe "a function that reads (the server refuses)" "SELECT public.peek();" "permission denied for table customers"
probe "pg_terminate_backend" "SELECT pg_terminate_backend(pid) FROM pg_stat_activity;" "refused"
probe "psql's shell escape" '\! id' "no backslash commands"
probe "psql's output to a pipe" '\o |id' "no backslash commands"
probe "psql's copy to a program" "\\copy orders to program 'id'" "no backslash commands"
probe "psql's setenv" '\setenv PAGER id' "no backslash commands"
printf 'SELECT 1 FROM orders \\g |id\n' >"$T/in"
expect_in 1 "refused: psql's g-pipe (no such thing here: a syntax error)" "$T/in" SQL 1
[ "$(snap)" = "$BEFORE" ] && ok "nothing changed: rows, large objects, tables" || not_ok "the database changed"
[ ! -e "/tmp/bg-pwned-$ID" ] && ok "no program ran" || { not_ok "a program ran"; rm -f "/tmp/bg-pwned-$ID"; }
db_roles_are 0 && ok "no grant role left after refusals" || not_ok "a grant role is left"

# --- the host log: every statement, redacted, with rows and duration -------
KEY=AKIAWCQ37VBE""4XBI3AS5
printf "SELECT id FROM orders WHERE status = '%s';\n" "$KEY" >"$T/in"
expect_in 0 "a statement with a secret in it runs" "$T/in" SQL 1
cp "$T/hostlog/audit.log" "$T/log.txt"
grep -q '"sql":"SELECT count(\*) FROM orders' "$T/log.txt" && ok "a statement is in the host log" ||
	not_ok "statement not recorded: $(grep -c gate.sql "$T/log.txt")"
grep '"sql":"SELECT count' "$T/log.txt" | grep -q '"rows":"1".*"ms":"[0-9.]*"' &&
	ok "with its row count and duration" || not_ok "no rows/ms: $(grep '"sql":"SELECT count' "$T/log.txt" | head -1)"
grep -q '"sql":"SELECT \* FROM customers;.*"decision":"refuse"\|"decision":"refuse".*"sql":"SELECT \* FROM customers;' "$T/log.txt" &&
	ok "a refused statement is recorded as refused" || not_ok "refusal not recorded"
file_lacks "$KEY" "$T/log.txt" "the secret is redacted in the host log"
expect 0 "the host log verifies" bg audit verify --dir "$T/hostlog"
# per-statement records are appended in batches: 60 statements on standard
# input cost a few syncs of the host log, not one (or three) per statement
i=0; : >"$T/in"; while [ $i -lt 60 ]; do echo "SELECT id FROM orders WHERE id = $((i % 20 + 1));" >>"$T/in"; i=$((i + 1)); done
before=$(grep -c '"event":"gate.sql"' "$T/hostlog/audit.log")
# hostd and its children: the spare that serves the next request is forked ahead of it
tp="-p $(cat "$T/hostd.sock.pid")"; for k in $(pgrep -P "$(cat "$T/hostd.sock.pid")"); do tp="$tp -p $k"; done
strace -f -qq -e trace=fsync,fdatasync -o "$T/syncs" $tp 2>/dev/null & STRACE_PID=$!
sleep 1
expect_in 0 "60 statements in one session" "$T/in" SQL 1
sleep 0.5; kill "$STRACE_PID"; wait "$STRACE_PID" 2>/dev/null
after=$(grep -c '"event":"gate.sql"' "$T/hostlog/audit.log")
[ $((after - before)) -eq 60 ] && ok "each statement has its record" || not_ok "$((after - before)) records for 60 statements"
syncs=$(grep -c 'sync(' "$T/syncs")
[ "$syncs" -ge 1 ] && [ "$syncs" -le 12 ] && ok "in batches: $syncs syncs of the host log for 60 statements" ||
	not_ok "$syncs syncs of the host log for 60 statements"
expect 0 "the host log verifies after the batches" bg audit verify --dir "$T/hostlog"

# --- only the supervisor logs in as the role ---------------------------------
db_one_session

# --- revocation ends a running query and drops the role --------------------
# pg_sleep() changes nothing: the read tier allows it (bounded by the
# role's statement_timeout and by the cut); a refused statement first
db_revoke_running 'SELECT * FROM customers WHERE id = 4242;'

bg cleanup T-1 >"$T/cleanup"
grep -q '^\[x\] before-images-dropped na' "$T/cleanup" && ok "a ticket without a SQL patch has no before-images to drop" ||
	not_ok "cleanup: $(cat "$T/cleanup")"

# --- hostd restarted under an open session: the repair leaves it alone; a
# crash of the session's process: repaired at hostd's start ----------------
if grant 2; then ok "grant G-2"; else not_ok "grant G-2"; fi
db_session 2 "$T/sess2"
db_hostd_restart_live 2 "$T/sess2"
db_crash_repair 2

# --- the repair and a new session of the same grant at once -----------------
# hostd's repair at start is paused after it listed a leftover role of
# G-2, a session of G-2 starts (removing the leftover, making its own
# role), then the repair goes on: it must leave the session's role alone
db_repair_race

# --- kill -9 of hostd and its session during the role's creation -----------
# an open transaction holding the orders table's catalog row makes the
# creation wait at its GRANT, after CREATE ROLE; everything dies there
if grant 3; then ok "grant G-3"; else not_ok "grant G-3"; fi
$PG_PSQL -d shop -c "BEGIN" -c "GRANT SELECT ON orders TO app" -c "SELECT pg_sleep(3)" -c "COMMIT" \
	>/dev/null 2>&1 &
BLOCK_PID=$!
sleep 0.5
printf 'SELECT 1 FROM orders LIMIT 1;\n' >"$T/in"
SQL 3 <"$T/in" >"$T/sess3" 2>&1 &
SESS_PID=$!
i=0; until [ "$(Q -d shop -c "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' \
	AND query LIKE 'COMMENT ON ROLE%'")" = 1 ] || [ $i -ge 100 ]; do sleep 0.05; i=$((i + 1)); done
[ $i -lt 100 ] && ok "role creation through the gate caught midway" || not_ok "creation was not caught"
hp=$(cat "$T/hostd.sock.pid")
kill -9 "$hp" $(pgrep -P "$hp") 2>/dev/null
wait "$SESS_PID" 2>/dev/null; SESS_PID=
wait "$BLOCK_PID"; BLOCK_PID=
[ "$(Q -d postgres -c "SELECT count(*) FROM pg_roles WHERE rolname = 'bg_g3'")" = 0 ] &&
	ok "kill -9 during creation leaves no role (one transaction)" || not_ok "bg_g3 exists after kill -9 midway"
rm -f "$T/hostd.sock.pid"
hostd_start "$T" && ok "hostd starts again" || not_ok "hostd did not start"
expect_in 0 "G-3 works after the crash" "$T/in" SQL 3
db_roles_are 0 && ok "no grant role left" || not_ok "grant roles left"

# --- a second session is refused at once, not after a lock wait --------------
db_second_session 3

done_testing
