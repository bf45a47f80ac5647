#!/bin/sh
# t1652-db-patch: an approved SQL patch applied on a real PostgreSQL 15
# with a before-image (src/db/pgpatch): the rows are restored exactly; a
# patch touching more rows than the plan states is rolled back; tables
# with triggers or cascading foreign keys are refused, an UPDATE of a
# table without a primary key is refused (a DELETE is fine); a rollback
# over rows others changed since is refused; the role keeps no reach
# into the breakglass schema and no row value leaves the database.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || { echo "1..0 # needs root (server account)"; exit 1; }
. "$(dirname "$0")/../../scripts/lib-pg.sh"

DBTOOL=$(dirname "$BREAKGLASS")/tests/dbtool
[ -x "$DBTOOL" ] || { echo "Bail out! $DBTOOL missing (make integration builds it)"; exit 1; }
PGU=bgtest${BG_TEST_ID:-}-pgp
P=$T/pg
mkdir -p "$P"
chmod 711 "$T"
trap 'pg_down "$P" "$PGU"; rm -rf "$T"' EXIT
if pg_up "$P" "$PGU"; then ok "a PostgreSQL 15 server of our own"; else
	echo "Bail out! server did not start"; exit 1; fi
Q() { $PG_PSQL -At "$@" 2>&1; }
Q -d postgres -c "CREATE DATABASE shop" >/dev/null
Q -d shop >/dev/null <<'EOT'
CREATE TABLE orders (id int PRIMARY KEY, status text, total numeric, email text);
INSERT INTO orders SELECT g, CASE WHEN g % 5 = 0 THEN 'stuck' ELSE 'paid' END, g * 10,
	'customer' || g || '@example.com' FROM generate_series(1, 50) g;
CREATE TABLE audit_trail (id serial PRIMARY KEY, what text);
CREATE TABLE trig (id int PRIMARY KEY, v int);
INSERT INTO trig VALUES (1, 1);
CREATE FUNCTION trail() RETURNS trigger LANGUAGE plpgsql AS
	'BEGIN INSERT INTO audit_trail (what) VALUES (TG_OP); RETURN NEW; END';
CREATE TRIGGER trig_trail AFTER UPDATE ON trig FOR EACH ROW EXECUTE FUNCTION trail();
CREATE TABLE parent (id int PRIMARY KEY);
CREATE TABLE child (id int PRIMARY KEY, parent int REFERENCES parent ON DELETE CASCADE);
INSERT INTO parent VALUES (1); INSERT INTO child VALUES (1, 1);
CREATE TABLE nokey (a int, b text);
INSERT INTO nokey VALUES (1, 'x'), (2, 'y'), (3, 'z');
EOT
$DBTOOL harden "$PG_ADMIN" shop >/dev/null
h() { Q -d shop -c "SELECT md5(string_agg(o::text, ',' ORDER BY id)) FROM orders o"; }
H0=$(h)

echo "UPDATE orders SET status = 'paid', total = total + 1 WHERE status = 'stuck' AND id <= 20;" >"$T/fix.sql"
expect 0 "an approved UPDATE applies" "$DBTOOL" patch "$PG_ADMIN" shop 30 orders "$T/fix.sql" 4 p1
out_has "applied rows=4" "it touched the 4 rows the plan states"
out_has "columns=status,total" "the report names the changed columns"
out_has "before_sha256=[0-9a-f]\{64\}" "and a digest of the before-image"
grep -q "customer\|stuck\|@example" "$T/out" "$T/err" && not_ok "a row value left the database" ||
	ok "no row value in the output"
[ "$(Q -d shop -c "SELECT count(*) FROM orders WHERE status = 'stuck'")" = 6 ] &&
	ok "the rows are changed" || not_ok "rows not changed"
[ "$(Q -d shop -c "SELECT count(*) FROM breakglass.p1_1")" = 4 ] &&
	ok "the before-image holds exactly the 4 rows" || not_ok "before-image size"
[ "$(Q -d shop -c "SELECT coalesce(nspacl::text, '') FROM pg_namespace WHERE nspname = 'breakglass'" |
	grep -c bg_g)" = 0 ] && ok "no grant role keeps access to the breakglass schema" ||
	not_ok "a grant role can still reach the breakglass schema"
expect 0 "rollback restores the rows" "$DBTOOL" rollback "$PG_ADMIN" shop p1
out_has "restored rows=4" "4 rows restored"
[ "$(h)" = "$H0" ] && ok "the table is exactly as before the patch" || not_ok "rollback not exact"
expect 1 "a second rollback is refused" "$DBTOOL" rollback "$PG_ADMIN" shop p1
err_has "rolled back already" "says it was rolled back"
expect 0 "cleanup drops the images" "$DBTOOL" cleanup "$PG_ADMIN" shop p1
[ "$(Q -d shop -c "SELECT count(*) FROM pg_class WHERE relname LIKE 'p1_%'")" = 0 ] &&
	ok "no image left" || not_ok "images left"

# --- more rows than approved ---------------------------------------------
echo "UPDATE orders SET status = 'paid' WHERE status = 'stuck';" >"$T/wide.sql"
expect 1 "a patch touching more rows than the plan states is refused" \
	"$DBTOOL" patch "$PG_ADMIN" shop 31 orders "$T/wide.sql" 4 p2
err_has "touched 10 rows, the plan states 4: rolled back" "says what it counted"
[ "$(h)" = "$H0" ] && ok "nothing changed" || not_ok "the refused patch changed rows"
[ "$(Q -d shop -c "SELECT count(*) FROM pg_class WHERE relname LIKE 'p2_%'")" = 0 ] &&
	ok "its images are dropped" || not_ok "images of a refused patch left"

# --- triggers, cascades, no key ------------------------------------------
echo "UPDATE trig SET v = 2 WHERE id = 1;" >"$T/t.sql"
expect 1 "a table with a trigger is refused" "$DBTOOL" patch "$PG_ADMIN" shop 32 trig "$T/t.sql" 1 p3
err_has "trigger(s) trig_trail" "names the trigger"
echo "DELETE FROM parent WHERE id = 1;" >"$T/c.sql"
expect 1 "a table under a cascading foreign key is refused" "$DBTOOL" patch "$PG_ADMIN" shop 33 parent "$T/c.sql" 1 p4
err_has "cascading foreign" "names the cascade"
[ "$(Q -d shop -c "SELECT count(*) FROM child")" = 1 ] && ok "the child row is still there" || not_ok "cascade ran"
echo "UPDATE nokey SET b = 'q' WHERE a = 1;" >"$T/n.sql"
expect 1 "an UPDATE of a table without a primary key is refused" "$DBTOOL" patch "$PG_ADMIN" shop 34 nokey "$T/n.sql" 1 p5
err_has "no primary key" "says why"
N0=$(Q -d shop -c "SELECT string_agg(a || b, ',' ORDER BY a) FROM nokey")
echo "DELETE FROM nokey WHERE a >= 2;" >"$T/nd.sql"
expect 0 "a DELETE from a table without a key applies" "$DBTOOL" patch "$PG_ADMIN" shop 35 nokey "$T/nd.sql" 2 p6
expect 0 "and rolls back by inserting the rows again" "$DBTOOL" rollback "$PG_ADMIN" shop p6
[ "$(Q -d shop -c "SELECT string_agg(a || b, ',' ORDER BY a) FROM nokey")" = "$N0" ] &&
	ok "the deleted rows are back" || not_ok "nokey not restored"

# --- rows changed by others after the patch ------------------------------
expect 0 "a patch applies" "$DBTOOL" patch "$PG_ADMIN" shop 36 orders "$T/fix.sql" 4 p7
Q -d shop -c "UPDATE orders SET total = 999 WHERE id = 5" >/dev/null
H1=$(h)
expect 1 "rollback over a row others changed since is refused" "$DBTOOL" rollback "$PG_ADMIN" shop p7
err_has "1 row(s) of 'public.orders' changed or deleted by others" "says how many"
[ "$(h)" = "$H1" ] && ok "nothing restored, their change kept" || not_ok "rollback overwrote a change"

# --- refused shapes --------------------------------------------------------
echo "DELETE FROM orders;" >"$T/all.sql"
expect 1 "a destructive statement is not applied" "$DBTOOL" patch "$PG_ADMIN" shop 37 orders "$T/all.sql" 50 p8
err_has "DELETE without WHERE" "names the reason"
echo "UPDATE orders SET status = 'x' FROM orders o2 WHERE o2.id = orders.id AND orders.id = 1;" >"$T/from.sql"
expect 1 "UPDATE ... FROM has no before-image and is refused" "$DBTOOL" patch "$PG_ADMIN" shop 38 orders "$T/from.sql" 1 p9
err_has "no before-image for this shape" "says why"
echo "UPDATE audit_trail SET what = 'x' WHERE id = 1;" >"$T/other.sql"
expect 1 "a table the grant does not name is refused" "$DBTOOL" patch "$PG_ADMIN" shop 39 orders "$T/other.sql" 0 p10
err_has "the grant does not name" "names the table outside the grant"
[ "$(Q -d shop -c "SELECT count(*) FROM pg_roles WHERE rolname ~ '^bg_g'")" = 0 ] &&
	ok "every patch role was revoked" || not_ok "patch roles left"

done_testing
