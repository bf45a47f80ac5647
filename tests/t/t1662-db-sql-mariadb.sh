#!/bin/sh
# t1662-db-sql-mariadb: a MariaDB db grant through the real sshd, the gate
# and hostd, on a real MariaDB 10.11: `ssh ACCOUNT@db1 sql` gets an account
# the host makes from the certificate (SELECT on the granted table, a
# password only the serving process holds); other tables, databases, files
# and changes fail with nothing changed; a server granting to PUBLIC is
# refused; the hotfix account cannot log in as the account; Ctrl-C on the
# console cancels the running statement (KILL QUERY) and keeps the
# session; revocation ends an open SELECT SLEEP(600) and drops the account,
# the cut is in the host log and sshd refuses the certificate (the KRL), a
# refusal just before reaches the host log while the SLEEP runs; hostd
# restarted under an open session leaves its account and it answers on;
# a crash's leftover is removed by hostd's repair, and a session starting
# while it runs keeps its account; apply under a read grant is refused
# (t1663 applies patches).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-db.sh"
db_server mariadb msql
vals=$(i=1; while [ $i -le 20 ]; do printf "%s(%d, 'paid')" "${sep:-}" $i; sep=,; i=$((i + 1)); done)
M -e "CREATE DATABASE shop; CREATE DATABASE other;
CREATE TABLE shop.orders (id int PRIMARY KEY, status text);
INSERT INTO shop.orders VALUES $vals;
CREATE TABLE shop.customers (id int, email text); INSERT INTO shop.customers VALUES (1, 'a@x');
CREATE TABLE other.t (x int);" >/dev/null
snap() { M -e "SELECT group_concat(id, status ORDER BY id) FROM shop.orders;
SELECT count(*) FROM shop.customers; SELECT count(*) FROM information_schema.tables
WHERE table_schema IN ('shop', 'other')"; }
BEFORE=$(snap)

db_host
grep -q "^db-mariadb: $MARIA_SOCK\$" "$T/etc/gate.conf" && ok "gate.conf names the socket" ||
	not_ok "gate.conf: $(cat "$T/etc/gate.conf")"

open_ticket
approve_as owner T-1 confirm || exit 1
db_read_grants shop.orders
if grant 1; then ok "a MariaDB grant's certificate"; else not_ok "grant G-1"; cat "$T/grant.out" >&2; fi

printf 'SELECT count(*) AS n FROM orders;\nSELECT id, status FROM shop.orders WHERE id = 7;\n' >"$T/in"
expect_in 0 "SELECT on the granted table through sshd, the gate and hostd" "$T/in" SQL 1
out_has "^n$" "the column name"
out_has "^20$" "all 20 rows counted"
out_has "^7|paid$" "a row"
db_roles_are 0 && ok "the account is gone when the session ends" || not_ok "an account is left"

# Ctrl-C on the terminal: KILL QUERY from the supervisor's connection; the
# session goes on; Ctrl-C at the prompt ends it
db_ctrl_c
db_roles_are 0 && ok "the account is gone with the session" || not_ok "an account is left"

probe "another table" "SELECT * FROM customers;" "outside the granted tables"
probe "another database" "SELECT * FROM other.t;" "outside the granted tables"
probe "the account table" "SELECT * FROM mysql.user;" "outside the granted tables"
probe "INTO OUTFILE" "SELECT * FROM orders INTO OUTFILE '/tmp/bg-maria-pwned-$ID';" "refused"
probe "LOAD_FILE" "SELECT LOAD_FILE('/etc/passwd') FROM orders;" "refused"
probe "UPDATE" "UPDATE orders SET status = 'x' WHERE id = 1;" "refused"
probe "SET GLOBAL" "SET GLOBAL general_log = 1;" "refused"
probe "a TEMPORARY table" "CREATE TEMPORARY TABLE tt (x int);" "refused"
probe "backslash commands" '\! id' "no backslash commands"
[ "$(snap)" = "$BEFORE" ] && ok "nothing changed" || not_ok "the database changed"
[ ! -e "/tmp/bg-maria-pwned-$ID" ] && ok "no file written" || { not_ok "a file was written"; rm -f "/tmp/bg-maria-pwned-$ID"; }
grep -q '"sql":"SELECT count(\*) AS n FROM orders' "$T/hostlog/audit.log" &&
	ok "statements are in the host log" || not_ok "no statement record"

# --- PUBLIC (MariaDB 10.11): what it holds every account has ---------------
M -e "GRANT SELECT ON other.t TO PUBLIC" >/dev/null
printf 'SELECT count(*) FROM orders;\n' >"$T/in"
expect_in 1 "a server granting privileges to PUBLIC is refused" "$T/in" SQL 1
err_has "grants privileges to PUBLIC (other.t)" "naming what PUBLIC holds"
db_roles_are 0 && ok "no account was made" || not_ok "an account is left"
M -e "REVOKE SELECT ON other.t FROM PUBLIC" >/dev/null
expect_in 0 "with PUBLIC's grant revoked the session works" "$T/in" SQL 1

# --- only the supervisor logs in; revocation ends a running query ---------
db_one_session
db_revoke_running 'SELECT * FROM customers WHERE id = 4242;'

# --- a crash: the session's process killed; repaired at hostd's start -------
if grant 2; then ok "grant G-2"; else not_ok "grant G-2"; fi
db_session 2 "$T/sess2"
db_hostd_restart_live 2 "$T/sess2"
db_crash_repair 2

# --- the repair and a new session of the same grant at once -----------------
# a leftover account of G-2; hostd's repair at start paused after it listed
# the accounts; a session of G-2 starts (removing the leftover, making its
# own account); the repair goes on and must leave that account alone
db_repair_race
printf 'SELECT count(*) FROM orders;\n' >"$T/in"
expect_in 1 "apply is refused under a read grant" "$T/in" APPLY 2
err_has "is read-only" "and says why"

# --- a second session is refused at once, not after a lock wait --------------
db_second_session 2

done_testing
