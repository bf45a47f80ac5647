#!/bin/sh
# t1650-db-postgres: grant roles on a real PostgreSQL 15 (src/db/pgrole),
# driven by tests/db/dbtool as the host supervisor will drive them.  A read
# grant SELECTs its table and nothing else (other tables, schemas,
# databases, TEMP, large objects, COPY ... PROGRAM, SET ROLE, read-only
# switched off, a function that writes); nobody but the process holding
# the password logs in as the role; revocation ends a running
# pg_sleep(600) and drops the role; kill -9 during and after role
# creation leaves nothing repair does not remove.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || { echo "1..0 # needs root (server account)"; exit 1; }
. "$(dirname "$0")/../../scripts/lib-pg.sh"

DBTOOL=$(dirname "$BREAKGLASS")/tests/dbtool
[ -x "$DBTOOL" ] || { echo "Bail out! $DBTOOL missing (make integration builds it)"; exit 1; }
ID=${BG_TEST_ID:-}
PGU=bgtest$ID-pg
HOTFIX=bgtest$ID-dbhotfix
P=$T/pg
mkdir -p "$P"
chmod 711 "$T"   # the server account walks to its directory
cleanup() {
	[ -n "${HOLD_PID:-}" ] && kill -9 "$HOLD_PID" 2>/dev/null
	[ -n "${BLOCK_PID:-}" ] && kill "$BLOCK_PID" 2>/dev/null
	pg_down "$P" "$PGU"
	id "$HOTFIX" >/dev/null 2>&1 && userdel "$HOTFIX" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
userdel "$HOTFIX" 2>/dev/null
useradd -r -M -d /nonexistent -s /bin/sh "$HOTFIX"

if pg_up "$P" "$PGU"; then ok "a PostgreSQL 15 server of our own"; else
	echo "Bail out! server did not start"; exit 1; fi
Q() { $PG_PSQL -At "$@" 2>&1; }
Q -d postgres -c "CREATE DATABASE shop" -c "CREATE DATABASE other" -c "CREATE ROLE app LOGIN" >/dev/null
Q -d shop >/dev/null <<'EOT'
CREATE TABLE orders (id int PRIMARY KEY, status text, total numeric);
INSERT INTO orders SELECT g, 'paid', g * 10 FROM generate_series(1, 20) g;
CREATE TABLE customers (id int PRIMARY KEY, email text);
INSERT INTO customers VALUES (1, 'a@example.com');
CREATE SCHEMA billing; CREATE TABLE billing.cards (id int, num text);
CREATE FUNCTION public.wipe() RETURNS void LANGUAGE sql AS 'DELETE FROM public.customers';
GRANT ALL ON customers TO app;
EOT
Q -d other -c "CREATE TABLE t (x int)" >/dev/null
snap() { Q -d shop -c "SELECT string_agg(id || status || total, ',' ORDER BY id) FROM orders" \
	-c "SELECT count(*) FROM customers" -c "SELECT count(*) FROM pg_largeobject_metadata" \
	-c "SELECT count(*) FROM pg_class WHERE relname = 'mine' OR relpersistence = 't'"; }
BEFORE=$(snap)

expect 0 "harden: PUBLIC's CONNECT, TEMP and large-object reach taken away" "$DBTOOL" harden "$PG_ADMIN" shop
out_has "hardened shop" "harden reports"
expect 0 "harden is idempotent" "$DBTOOL" harden "$PG_ADMIN" shop
if [ "$(Q -d postgres -c "SELECT has_database_privilege('app', 'other', 'CONNECT')")" = t ]; then
	ok "an existing login role keeps CONNECT"; else not_ok "app lost CONNECT"; fi

# --- a read grant and the escapes ---------------------------------------
cat >"$T/read.in" <<'EOT'
SELECT count(*) FROM orders
SELECT id, status FROM public.orders WHERE id = 3
SELECT * FROM customers
SELECT * FROM billing.cards
UPDATE orders SET status = 'x' WHERE id = 1
SET default_transaction_read_only = off
UPDATE orders SET status = 'x' WHERE id = 1
DELETE FROM orders
CREATE TEMP TABLE t (x int)
CREATE TABLE public.mine (x int)
SELECT lo_create(0)
SELECT lo_from_bytea(0, 'x')
SELECT lo_import('/etc/passwd')
COPY orders TO PROGRAM 'id'
COPY (SELECT 1) TO PROGRAM 'touch /tmp/bg-pwned'
COPY orders FROM '/etc/passwd'
SELECT pg_read_file('/etc/passwd')
SET ROLE bgadmin
SET SESSION AUTHORIZATION bgadmin
RESET ROLE
SELECT * FROM customers
SELECT public.wipe()
SELECT * FROM other.public.t
GRANT SELECT ON customers TO CURRENT_USER
ALTER ROLE CURRENT_USER SUPERUSER
CREATE ROLE x
SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'bgadmin'
\connect other
\connect postgres
\connect template1
\revoke
EOT
"$DBTOOL" session "$PG_ADMIN" shop 12 orders read <"$T/read.in" >"$T/out" 2>"$T/err"
out_has "^role bg_g12 created" "the grant's role is created"
sed -n '2,3p' "$T/out" >"$T/ok"
if grep -qx 'ok 1' "$T/ok" && grep -qx 'row: 20' "$T/ok"; then ok "a read grant SELECTs its table"; else
	not_ok "SELECT on the granted table"; fi
grep -q '^row: 3|paid$' "$T/out" && ok "a WHERE on the granted table" || not_ok "WHERE on the table"
# every line after the first two statements is an escape and must fail
awk 'NR>1' "$T/read.in" | grep -v '^SELECT count\|^SELECT id, status\|^SET default\|^RESET ROLE\|^.revoke' >"$T/escapes"
n_esc=$(wc -l <"$T/escapes")
n_err=$(grep -c '^error' "$T/out")
[ "$n_err" -eq "$n_esc" ] && ok "all $n_esc escape attempts refused by the server" ||
	not_ok "escapes: $n_err errors for $n_esc attempts"
for pat in "permission denied for table customers" "permission denied for schema billing" \
    "permission denied for table orders" "permission denied to create temporary tables" \
    "permission denied for function lo_create" "permission denied for function lo_import" \
    "pg_execute_server_program" "permission denied to set role" \
    "permission denied to set session authorization" "cross-database references" \
    "permission denied for database \"other\"" "permission denied for database \"postgres\"" \
    "permission denied for function pg_read_file" "permission denied to create role"; do
	out_has "$pat" "escape refused: $pat"
done
[ "$(snap)" = "$BEFORE" ] && ok "nothing changed: rows, large objects, tables" || not_ok "the database changed"
[ ! -e /tmp/bg-pwned ] && ok "no program ran" || not_ok "COPY PROGRAM ran"
[ "$(Q -d shop -c "SELECT count(*) FROM pg_roles WHERE rolname = 'bg_g12'")" = 0 ] &&
	ok "the role is gone at the end of the session" || not_ok "bg_g12 left behind"

# --- only the supervisor logs in; revocation cuts a running query --------
mkfifo "$T/fifo"
"$DBTOOL" session "$PG_ADMIN" shop 14 orders read <"$T/fifo" >"$T/sess" 2>&1 &
HOLD_PID=$!
# while the fifo is open a write to a session that died is an error the
# checks see, not a SIGPIPE that ends the test without its EXIT trap
trap '' PIPE
exec 7>"$T/fifo"
i=0; until grep -qs created "$T/sess" || [ $i -ge 100 ]; do sleep 0.05; i=$((i + 1)); done
Q -d shop -c "SELECT rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls, \
	rolinherit, rolconnlimit, rolvaliduntil IS NOT NULL FROM pg_roles WHERE rolname = 'bg_g14'" >"$T/attrs"
grep -qx 'f|f|f|f|f|f|3|t' "$T/attrs" && ok "role attributes: no superuser, createrole, createdb, \
replication, bypassrls, inherit; limit 3; valid until" || not_ok "attributes: $(cat "$T/attrs")"
Q -d shop -c "SELECT count(*) FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid \
	JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = 'bg_g14' AND r.rolname <> 'breakglass_grants'" >"$T/mem"
[ "$(cat "$T/mem")" = 0 ] && ok "member of no role but breakglass_grants (no pg_*_server_* roles)" ||
	not_ok "memberships: $(cat "$T/mem")"
Q -d shop -c "SELECT array_to_string(rolconfig, ' ') FROM pg_roles WHERE rolname = 'bg_g14'" >"$T/cfg"
for s in statement_timeout=30000 lock_timeout=5000 idle_session_timeout=600000 \
    idle_in_transaction_session_timeout=600000 default_transaction_read_only=on; do
	grep -q "$s" "$T/cfg" && ok "role setting $s" || not_ok "role setting $s: $(cat "$T/cfg")"
done
cd "$T"
expect 2 "the hotfix account cannot log in as the role (no password)" \
	runuser -u "$HOTFIX" -- psql -X -w -h "$PG_SOCK" -p 55432 -U bg_g14 -d shop -c 'SELECT 1'
err_has "password" "refused for want of the password"
expect 2 "a guessed password is refused" env PGPASSWORD=guess \
	runuser -u "$HOTFIX" -- psql -X -w -h "$PG_SOCK" -p 55432 -U bg_g14 -d shop -c 'SELECT 1'
expect 2 "root's peer mapping does not reach the role" \
	psql -X -w -h "$PG_SOCK" -p 55432 -U bg_g14 -d shop -c 'SELECT 1'
expect 2 "the hotfix account's own name is no role" \
	runuser -u "$HOTFIX" -- psql -X -w -h "$PG_SOCK" -p 55432 -d shop -c 'SELECT 1'
echo '&SELECT pg_sleep(600)' >&7
i=0; until [ "$(Q -d shop -c "SELECT count(*) FROM pg_stat_activity WHERE usename = 'bg_g14' \
	AND query LIKE '%pg_sleep%' AND state = 'active'")" = 1 ] || [ $i -ge 100 ]; do sleep 0.05; i=$((i + 1)); done
[ $i -lt 100 ] && ok "a pg_sleep(600) runs as the role" || not_ok "pg_sleep did not start"
printf '%s\n' '\revoke' >&7
exec 7>&-
trap - PIPE
wait "$HOLD_PID"; HOLD_PID=
grep -q '^revoked terminated=2 kept=0' "$T/sess" && ok "revocation terminated both backends" ||
	not_ok "revocation: $(cat "$T/sess")"
grep -q 'running query: error 57P01' "$T/sess" && ok "the running query ended by the revocation" ||
	not_ok "the pg_sleep was not ended"
ms=$(sed -n 's/^revoked.* ms=\([0-9]*\).*/\1/p' "$T/sess")
[ -n "$ms" ] && [ "$ms" -lt 1000 ] && ok "revocation to no backend in ${ms} ms" || not_ok "revocation took ${ms:-?} ms"
[ "$(Q -d shop -c "SELECT count(*) FROM pg_stat_activity WHERE usename = 'bg_g14'")" = 0 ] &&
	ok "no backend of the role alive" || not_ok "a backend survived"
[ "$(Q -d shop -c "SELECT count(*) FROM pg_roles WHERE rolname = 'bg_g14'")" = 0 ] &&
	ok "the role is dropped" || not_ok "bg_g14 still exists"

# --- kill -9 during creation: the transaction leaves nothing ------------
# an open transaction that holds the orders table's catalog row makes the
# creation wait at its GRANT, after CREATE ROLE; the supervisor dies there
$PG_PSQL -d shop -c "BEGIN" -c "GRANT SELECT ON orders TO app" -c "SELECT pg_sleep(3)" -c "COMMIT" \
	>/dev/null 2>&1 &
BLOCK_PID=$!
sleep 0.5
"$DBTOOL" session "$PG_ADMIN" shop 15 orders read </dev/null >"$T/k1" 2>&1 &
K=$!
i=0; until [ "$(Q -d shop -c "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' \
	AND query LIKE 'COMMENT ON ROLE%'")" = 1 ] || [ $i -ge 100 ]; do sleep 0.05; i=$((i + 1)); done
[ $i -lt 100 ] && ok "role creation caught midway (waiting at its GRANT)" || not_ok "creation was not caught"
kill -9 "$K"; wait "$K" 2>/dev/null
wait "$BLOCK_PID"; BLOCK_PID=
i=0; until [ "$(Q -d shop -c "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'COMMENT ON ROLE%'")" = 0 ] ||
	[ $i -ge 100 ]; do sleep 0.05; i=$((i + 1)); done
grep -q created "$T/k1" && not_ok "creation finished before the kill" || ok "the supervisor died before COMMIT"
[ "$(Q -d shop -c "SELECT count(*) FROM pg_roles WHERE rolname = 'bg_g15'")" = 0 ] &&
	ok "kill -9 during creation leaves no role" || not_ok "bg_g15 exists after kill -9 midway"

# --- kill -9 after creation: repair removes the orphan ------------------
rm -f "$T/fifo"; mkfifo "$T/fifo"
"$DBTOOL" session "$PG_ADMIN" shop 16 orders read <"$T/fifo" >"$T/k2" 2>&1 &
HOLD_PID=$!
trap '' PIPE
exec 7>"$T/fifo"
printf '%s\n' '\hold' >&7
i=0; until grep -qs holding "$T/k2" || [ $i -ge 100 ]; do sleep 0.05; i=$((i + 1)); done
kill -9 "$HOLD_PID"; wait "$HOLD_PID" 2>/dev/null; HOLD_PID=
exec 7>&-
trap - PIPE
[ "$(Q -d shop -c "SELECT count(*) FROM pg_roles WHERE rolname = 'bg_g16'")" = 1 ] &&
	ok "the supervisor died and left role bg_g16" || not_ok "no orphan to repair"
expect 0 "repair runs" "$DBTOOL" repair "$PG_ADMIN" shop
out_has "removed 1" "repair removed the orphan"
[ "$(Q -d shop -c "SELECT count(*) FROM pg_roles WHERE rolname ~ '^bg_g'")" = 0 ] &&
	ok "no grant role left" || not_ok "grant roles left"
expect 0 "repair again finds nothing" "$DBTOOL" repair "$PG_ADMIN" shop
out_has "removed 0" "repair is idempotent"

# --- the admin connection takes no password -----------------------------
expect 1 "an admin conninfo with a password is refused" "$DBTOOL" repair "$PG_ADMIN password=x" shop
err_has "peer authentication" "the refusal says why"
# a service's pg_service.conf entry can hold a password: refused the same
printf '[bgsvc]\npassword=x\n' >"$T/pg_service.conf"
expect 1 "an admin conninfo naming a service is refused" env PGSERVICEFILE="$T/pg_service.conf" \
	"$DBTOOL" repair "$PG_ADMIN service=bgsvc" shop
err_has "names a service" "says what it names"

done_testing
