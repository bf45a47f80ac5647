#!/bin/sh
# t1653-db-mariadb: grant accounts on a real MariaDB 10.11 (src/db/
# mariarole), driven by tests/db/dbtool: a read grant SELECTs its table
# and nothing else (other tables, databases, the grant tables, FILE,
# SUPER, CREATE, TEMPORARY, GRANT); nobody but the process holding the
# password logs in as the account; revocation ends a running SLEEP(600)
# and drops the account; kill -9 after creation is repaired.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || { echo "1..0 # needs root (server account)"; exit 1; }
. "$(dirname "$0")/../../scripts/lib-maria.sh"

DBTOOL=$(dirname "$BREAKGLASS")/tests/dbtool
[ -x "$DBTOOL" ] || { echo "Bail out! $DBTOOL missing (make integration builds it)"; exit 1; }
MU=bgtest${BG_TEST_ID:-}-mdb
HOTFIX=bgtest${BG_TEST_ID:-}-mhotfix
P=$T/maria
mkdir -p "$P"
chmod 711 "$T"
cleanup() {
	[ -n "${HOLD_PID:-}" ] && kill -9 "$HOLD_PID" 2>/dev/null
	maria_down "$P" "$MU"
	id "$HOTFIX" >/dev/null 2>&1 && userdel "$HOTFIX" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
userdel "$HOTFIX" 2>/dev/null
useradd -r -M -d /nonexistent -s /bin/sh "$HOTFIX"
if maria_up "$P" "$MU"; then ok "a MariaDB server of our own"; else
	echo "Bail out! server did not start"; exit 1; fi
M() { $MARIA -N -B "$@" 2>&1; }
M -e "CREATE DATABASE shop; CREATE DATABASE other;
CREATE TABLE shop.orders (id int PRIMARY KEY, status text);
INSERT INTO shop.orders VALUES (1, 'paid'), (2, 'stuck');
CREATE TABLE shop.customers (id int, email text); INSERT INTO shop.customers VALUES (1, 'a@x');
CREATE TABLE other.t (x int);" >/dev/null
snap() { M -e "SELECT group_concat(id, status ORDER BY id) FROM shop.orders;
SELECT count(*) FROM shop.customers; SELECT count(*) FROM information_schema.tables
WHERE table_schema IN ('shop', 'other')"; }
BEFORE=$(snap)

cat >"$T/read.in" <<'EOT'
SELECT count(*) FROM orders
SELECT * FROM customers
SELECT * FROM other.t
SELECT * FROM mysql.user
UPDATE orders SET status = 'x' WHERE id = 1
DELETE FROM orders
SELECT * FROM orders INTO OUTFILE '/tmp/bg-maria-pwned'
LOAD DATA INFILE '/etc/passwd' INTO TABLE orders
SET GLOBAL general_log = 1
CREATE TABLE shop.mine (x int)
CREATE TEMPORARY TABLE tt (x int)
GRANT SELECT ON shop.customers TO CURRENT_USER
CREATE USER x
DROP TABLE orders
SHUTDOWN
\connect other
\connect mysql
\revoke
EOT
"$DBTOOL" maria-session "$MARIA_SOCK" shop 12 shop.orders read <"$T/read.in" >"$T/out" 2>"$T/err"
out_has "^role bg_g12 created" "the grant's account is created"
grep -qx 'row: 2' "$T/out" && ok "a read grant SELECTs its table" || not_ok "SELECT on the granted table"
n_esc=$(($(grep -cv '^SELECT count\|^.revoke' "$T/read.in")))
n_err=$(grep -c '^error' "$T/out")
[ "$n_err" -eq "$n_esc" ] && ok "all $n_esc escape attempts refused by the server" ||
	not_ok "escapes: $n_err errors for $n_esc attempts"
for pat in "denied.*table \`shop\`.\`customers\`" "denied.*table \`other\`.\`t\`" \
    "denied.*table \`mysql\`.\`user\`" "UPDATE command denied" "DELETE command denied" \
    "FILE privilege" "SUPER" "CREATE command denied" "to database 'other'" \
    "to database 'mysql'" "DROP command denied"; do
	out_has "$pat" "escape refused: $pat"
done
[ "$(snap)" = "$BEFORE" ] && ok "nothing changed" || not_ok "the database changed"
[ ! -e /tmp/bg-maria-pwned ] && ok "no file written" || not_ok "INTO OUTFILE wrote"
out_has "^revoked" "revoked at the end"
[ "$(M -e "SELECT count(*) FROM mysql.user WHERE user = 'bg_g12'")" = 0 ] &&
	ok "the account is dropped" || not_ok "bg_g12 left"

mkfifo "$T/fifo"
"$DBTOOL" maria-session "$MARIA_SOCK" shop 14 orders read <"$T/fifo" >"$T/sess" 2>&1 &
HOLD_PID=$!
# while the fifo is open a write to a session that died is an error the
# checks see, not a SIGPIPE that ends the test without its EXIT trap
trap '' PIPE
exec 7>"$T/fifo"
i=0; until grep -qs created "$T/sess" || [ $i -ge 100 ]; do sleep 0.05; i=$((i + 1)); done
M -e "SELECT max_user_connections, max_statement_time FROM mysql.user WHERE user = 'bg_g14'" >"$T/lim"
grep -q '^3	30' "$T/lim" && ok "MAX_USER_CONNECTIONS 3, MAX_STATEMENT_TIME 30" || not_ok "limits: $(cat "$T/lim")"
M -e "SHOW GRANTS FOR 'bg_g14'@'localhost'" >"$T/grants"
grep -q "GRANT SELECT ON \`shop\`.\`orders\`" "$T/grants" && [ "$(wc -l <"$T/grants")" = 2 ] &&
	ok "exactly USAGE and SELECT on shop.orders" || not_ok "grants: $(cat "$T/grants")"
cd "$T"
expect 1 "the hotfix account cannot log in as the account (no password)" \
	runuser -u "$HOTFIX" -- mariadb --no-defaults -S "$MARIA_SOCK" -u bg_g14 shop -e 'SELECT 1'
expect 1 "nor with a guessed password" \
	runuser -u "$HOTFIX" -- mariadb --no-defaults -S "$MARIA_SOCK" -u bg_g14 -pguess shop -e 'SELECT 1'
expect 1 "nor as itself by unix_socket" \
	runuser -u "$HOTFIX" -- mariadb --no-defaults -S "$MARIA_SOCK" shop -e 'SELECT 1'
echo '&SELECT SLEEP(600)' >&7
i=0; until [ "$(M -e "SELECT count(*) FROM information_schema.processlist WHERE user = 'bg_g14' \
	AND info LIKE 'SELECT SLEEP%'")" = 1 ] || [ $i -ge 100 ]; do sleep 0.05; i=$((i + 1)); done
[ $i -lt 100 ] && ok "a SLEEP(600) runs as the account" || not_ok "SLEEP did not start"
printf '%s\n' '\revoke' >&7
exec 7>&-
trap - PIPE
wait "$HOLD_PID"; HOLD_PID=
grep -q '^revoked terminated=2' "$T/sess" && ok "revocation ended both connections" ||
	not_ok "revocation: $(cat "$T/sess")"
grep -q '^running query: error 2013' "$T/sess" && ok "the running query was cut" || not_ok "SLEEP not cut"
[ "$(M -e "SELECT count(*) FROM information_schema.processlist WHERE user = 'bg_g14'")" = 0 ] &&
	ok "no connection of the account left" || not_ok "a connection survived"
[ "$(M -e "SELECT count(*) FROM mysql.user WHERE user = 'bg_g14'")" = 0 ] &&
	ok "the account is dropped" || not_ok "bg_g14 left"

rm -f "$T/fifo"; mkfifo "$T/fifo"
"$DBTOOL" maria-session "$MARIA_SOCK" shop 16 orders read <"$T/fifo" >"$T/k2" 2>&1 &
HOLD_PID=$!
trap '' PIPE
exec 7>"$T/fifo"
printf '%s\n' '\hold' >&7
i=0; until grep -qs holding "$T/k2" || [ $i -ge 100 ]; do sleep 0.05; i=$((i + 1)); done
kill -9 "$HOLD_PID"; wait "$HOLD_PID" 2>/dev/null; HOLD_PID=
exec 7>&-
trap - PIPE
[ "$(M -e "SELECT count(*) FROM mysql.user WHERE user = 'bg_g16'")" = 1 ] &&
	ok "the supervisor died and left account bg_g16" || not_ok "no orphan to repair"
expect 0 "repair runs" "$DBTOOL" maria-repair "$MARIA_SOCK"
out_has "removed 1" "repair removed the orphan"
[ "$(M -e "SELECT count(*) FROM mysql.user WHERE user RLIKE '^bg_g'")" = 0 ] &&
	ok "no grant account left" || not_ok "grant accounts left"
expect 1 "a table in another database is refused" "$DBTOOL" maria-session "$MARIA_SOCK" shop 17 other.t read
err_has "not in database 'shop'" "says why"

done_testing
