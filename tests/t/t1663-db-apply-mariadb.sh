#!/bin/sh
# t1663-db-apply-mariadb: an approved SQL patch applied through the real
# sshd, the gate and hostd on a real MariaDB 10.11 (a read-write db grant),
# with t1661's contract: only an artifact of the approved plan, with the
# row count the signed plan states; its before-image stays in the server
# (database `breakglass`, which the account cannot read once the apply
# ends) and restores the rows exactly; the rollback refuses when others
# changed the rows since; a patch touching more rows than approved is
# rolled back; a destructive statement the plan does not approve is
# refused.  What MariaDB adds: a table with a trigger, or referenced by a
# cascading foreign key, is refused before anything runs; an UPDATE of a
# table without a primary key is refused, a DELETE from one applies and
# restores; the account never outlives the request.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-db.sh"
db_server mariadb msqlw
vals=$(i=1; while [ $i -le 20 ]; do printf "%s(%d, 'paid', %d)" "${sep:-}" $i $((i * 10)); sep=,; i=$((i + 1)); done)
M -e "CREATE DATABASE shop;
CREATE TABLE shop.orders (id int PRIMARY KEY, status varchar(20), total decimal(10,2));
INSERT INTO shop.orders VALUES $vals;
UPDATE shop.orders SET status = 'stuck' WHERE id = 7;
CREATE TABLE shop.customers (id int PRIMARY KEY, email text);
CREATE TABLE shop.audited (id int PRIMARY KEY, v int); INSERT INTO shop.audited VALUES (1, 1);
CREATE TABLE shop.log (id int, at datetime);
CREATE TRIGGER shop.audited_log AFTER UPDATE ON shop.audited FOR EACH ROW INSERT INTO shop.log VALUES (NEW.id, NOW());
CREATE TABLE shop.parent (id int PRIMARY KEY); INSERT INTO shop.parent VALUES (1), (2);
CREATE TABLE shop.child (id int PRIMARY KEY, p int, FOREIGN KEY (p) REFERENCES shop.parent (id) ON DELETE CASCADE);
INSERT INTO shop.child VALUES (1, 1);
CREATE TABLE shop.nokey (x int, y varchar(10)); INSERT INTO shop.nokey VALUES (1, 'a'), (2, 'b'), (2, 'b'), (3, NULL);" >/dev/null
rows() { M -e "SELECT group_concat(id, ':', status, ':', total ORDER BY id) FROM shop.orders"; }
snap() { M -e "SELECT group_concat(id, ':', status, ':', total ORDER BY id) FROM shop.orders;
SELECT group_concat(concat_ws(':', x, IFNULL(y, 'NULL')) ORDER BY x, y) FROM shop.nokey;
SELECT (SELECT count(*) FROM shop.log), (SELECT group_concat(id) FROM shop.parent), (SELECT count(*) FROM shop.child),
(SELECT v FROM shop.audited)"; }
BEFORE=$(rows)
SNAP=$(snap)
images() { M -e "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'breakglass' AND table_name LIKE '$1%'"; }

db_host --approvers

db_write_ticket
printf "UPDATE orders SET status = 'paid' WHERE id = 7;\n" >"$T/sql/fix.sql"
printf "UPDATE shop.orders o SET o.total = o.total + 1 WHERE o.id <= 3;\n" >"$T/sql/over.sql"
printf "UPDATE customers SET email = 'x' WHERE id = 1;\n" >"$T/sql/wipe.sql"
printf "UPDATE audited SET v = 2 WHERE id = 1;\n" >"$T/sql/trig.sql"
printf "DELETE FROM parent WHERE id = 1;\n" >"$T/sql/cascade.sql"
printf "UPDATE nokey SET y = 'z' WHERE x = 1;\n" >"$T/sql/nokey-upd.sql"
printf "DELETE FROM nokey WHERE x = 2;\n" >"$T/sql/nokey-del.sql"
printf "UPDATE orders SET status = 'x' WHERE id = 8 LIMIT 1;\n" >"$T/sql/limit.sql"
db_write_plan "expect-rows: fix.sql 1" "expect-rows: over.sql 1" "expect-rows: wipe.sql 1" \
	"expect-rows: trig.sql 1" "expect-rows: cascade.sql 1" "expect-rows: nokey-upd.sql 1" \
	"expect-rows: nokey-del.sql 2" "expect-rows: limit.sql 1" "sql-engine: mariadb"
expect 0 "a plan with MariaDB SQL artifacts and their row counts" bg plan T-1 --from "$T/plan.txt" \
	--sql "$T/sql/fix.sql" --sql "$T/sql/over.sql" --sql "$T/sql/wipe.sql" --sql "$T/sql/trig.sql" \
	--sql "$T/sql/cascade.sql" --sql "$T/sql/nokey-upd.sql" --sql "$T/sql/nokey-del.sql" \
	--sql "$T/sql/limit.sql"
db_write_grant shop.orders shop.audited shop.parent shop.nokey
expect 0 "a read-write MariaDB grant's certificate, with the owner's consent" \
	bg grant cert G-1 --pubkey "$T/user.pub" -o "$T/cert1.pub"

# --- refused before anything runs -------------------------------------------
printf 'UPDATE orders SET status = %s WHERE id = 7;\n' "'x'" >"$T/in"
expect_in 1 "interactive DML is refused under a write grant" "$T/in" SQL 1
err_has "changes go through an approved plan" "the console says where changes go"
expect_in 1 "a patch on a table the grant does not name is refused" "$T/sql/wipe.sql" APPLY 1
err_has "destructive: table 'shop.customers' is outside the granted tables" "refused as destructive, naming the table"
expect_in 1 "a table with a trigger is refused" "$T/sql/trig.sql" APPLY 1
err_has "table 'shop.audited' has trigger(s) audited_log" "naming the trigger"
expect_in 1 "a table referenced by a cascading foreign key is refused" "$T/sql/cascade.sql" APPLY 1
err_has "referenced by cascading foreign key(s) .* on shop.child" "naming the key"
expect_in 1 "an UPDATE of a table without a primary key is refused" "$T/sql/nokey-upd.sql" APPLY 1
err_has "table 'shop.nokey' has no primary key" "and says why"
expect_in 1 "an UPDATE with LIMIT has no before-image" "$T/sql/limit.sql" APPLY 1
err_has "no before-image for this shape on MariaDB" "and says which shapes have one"
[ "$(snap)" = "$SNAP" ] && ok "nothing changed: no row, no trigger fired, no cascade" || not_ok "changed: $(snap)"
[ "$(images g1_)" = 0 ] && ok "no before-image left by the refusals" || not_ok "images left"

# --- more rows than approved: rolled back ------------------------------------
expect_in 1 "a patch touching 3 rows where the plan states 1 is refused" "$T/sql/over.sql" APPLY 1
err_has "the patch touched 3 rows, the plan states 1: rolled back" "and rolled back"
[ "$(rows)" = "$BEFORE" ] && ok "no row changed" || not_ok "rows changed: $(rows)"
[ "$(images g1_)" = 0 ] && ok "its before-image is dropped" || not_ok "images left"
db_roles_are 0 && ok "no grant account left" || not_ok "a grant account is left"

# --- the approved patch, its before-image, the rollback -----------------------
expect_in 0 "the approved patch applies" "$T/sql/fix.sql" APPLY 1
out_has "^statement 1: UPDATE on shop.orders rows=1 columns=status before_sha256=[0-9a-f]\{64\}$" \
	"the report: counts, changed columns, a digest - no values"
out_has "^applied rows=1 (the plan states 1)" "applied, as many rows as the plan states"
TAG=$(sed -n 's/.*before-image \([a-z0-9_]*\) (database breakglass.*/\1/p' "$T/out")
[ -n "$TAG" ] && ok "the output names the before-image $TAG" || not_ok "no tag"
[ "$(M -e "SELECT status FROM shop.orders WHERE id = 7")" = paid ] && ok "order 7 is released" ||
	not_ok "order 7: $(M -e "SELECT status FROM shop.orders WHERE id = 7")"
db_roles_are 0 && ok "the write account is gone after the apply" || not_ok "a grant account is left"
grep -q '"event":"gate.sql.apply"' "$T/hostlog/audit.log" && ok "the apply is in the host log" ||
	not_ok "no apply record"
file_lacks "stuck" "$T/hostlog/audit.log" "the host log holds no row values"
[ "$(M -e "SELECT count(*) FROM breakglass.${TAG}_1")" = 1 ] &&
	ok "the before-image holds the one row, inside the server" || not_ok "before-image $TAG"
[ "$(M -e "SELECT count(*) FROM mysql.tables_priv WHERE db = 'breakglass'")" = 0 ] &&
	ok "no account keeps a grant on the breakglass database" || not_ok "grants on breakglass left"
expect 0 "breakglass rollback --sql on the host" RB "$TAG"
out_has "restored 1 row(s)" "one row restored"
[ "$(rows)" = "$BEFORE" ] && ok "the rows are exactly as before the patch" || not_ok "rows: $(rows)"
expect 1 "a second rollback is refused" RB "$TAG"
err_has "rolled back already" "and says why"
expect 0 "the cleanup drops the before-image" RB "$TAG" --drop-image
[ "$(images "$TAG")" = 0 ] && ok "no before-image left" || not_ok "before-image tables left"

# --- rows changed by others since: the rollback refuses -----------------------
expect_in 0 "the patch applies again" "$T/sql/fix.sql" APPLY 1
M -e "UPDATE shop.orders SET status = 'shipped' WHERE id = 7" >/dev/null
expect 1 "a rollback over a row changed since is refused" RB "$TAG"
err_has "changed or deleted by others since the patch" "and says why"
[ "$(M -e "SELECT status FROM shop.orders WHERE id = 7")" = shipped ] &&
	ok "the other change is kept" || not_ok "the other change was overwritten"
expect 0 "its before-image dropped" RB "$TAG" --drop-image
M -e "UPDATE shop.orders SET status = 'stuck' WHERE id = 7" >/dev/null

# --- a DELETE from a table without a key: applies, restores -------------------
expect_in 0 "a DELETE from a table without a primary key applies" "$T/sql/nokey-del.sql" APPLY 1
out_has "^statement 1: DELETE on shop.nokey rows=2 columns=- before_sha256=" "two rows deleted"
TAG2=$(sed -n 's/.*before-image \([a-z0-9_]*\) (database breakglass.*/\1/p' "$T/out")
[ "$(M -e "SELECT count(*) FROM shop.nokey")" = 2 ] && ok "the rows are gone" || not_ok "nokey: $(snap)"
expect 0 "and its rollback puts them back" RB "$TAG2"
out_has "restored 2 row(s)" "two rows restored"
[ "$(snap)" = "$SNAP" ] && ok "every table is as it was" || not_ok "changed: $(snap)"
expect 0 "its before-image dropped" RB "$TAG2" --drop-image
bg cleanup T-1 >"$T/cleanup"
grep -q '^\[ \] before-images-dropped open' "$T/cleanup" && ok "the ticket's cleanup lists the before-images" ||
	not_ok "cleanup: $(cat "$T/cleanup")"
expect 0 "and records them dropped" bg cleanup T-1 before-images-dropped --done --note "$TAG $TAG2"
[ "$(M -e "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'breakglass'")" = 0 ] &&
	ok "no before-image is left in the server" || not_ok "images left"
db_roles_are 0 && ok "no grant account left" || not_ok "a grant account is left"

done_testing
