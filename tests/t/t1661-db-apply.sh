#!/bin/sh
# t1661-db-apply: an approved SQL patch applied through the real sshd, the
# gate and hostd on a real PostgreSQL 15 (a read-write db grant): only an
# artifact of the approved plan, with the row count the signed plan
# states; the before-image restores the rows exactly ('breakglass rollback
# --sql' on the host), refuses when others changed them since, and is
# dropped by the cleanup; a patch touching more rows than approved is
# rolled back; a destructive statement the plan does not approve is
# refused; the write role never outlives the request.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-db.sh"
db_server postgresql sqlw
Q -d postgres -c "CREATE DATABASE shop" >/dev/null
Q -d shop >/dev/null <<'EOT'
CREATE TABLE orders (id int PRIMARY KEY, status text, total numeric);
INSERT INTO orders SELECT g, 'paid', g * 10 FROM generate_series(1, 20) g;
UPDATE orders SET status = 'stuck' WHERE id = 7;
CREATE TABLE customers (id int PRIMARY KEY, email text);
EOT
rows() { Q -d shop -c "SELECT string_agg(id || ':' || status || ':' || total, ',' ORDER BY id) FROM orders"; }
BEFORE=$(rows)

db_host --approvers

db_write_ticket
printf "UPDATE orders SET status = 'paid' WHERE id = 7;\n" >"$T/sql/fix.sql"
printf "UPDATE orders SET total = total + 1 WHERE id <= 3;\n" >"$T/sql/over.sql"
printf "UPDATE customers SET email = 'x' WHERE id = 1;\n" >"$T/sql/wipe.sql"
printf "UPDATE orders SET status = 'x' WHERE id = 8;\n" >"$T/sql/unlisted.sql"
db_write_plan "expect-rows: fix.sql 1" "expect-rows: over.sql 1" "expect-rows: wipe.sql 1"
expect 2 "expect-rows must name a --sql artifact" bg plan T-1 --from "$T/plan.txt" --sql "$T/sql/fix.sql"
err_has "expect-rows 'over.sql 1' must be a --sql artifact" "says which line and what it needs"
expect 0 "a plan with three SQL artifacts and their row counts" bg plan T-1 --from "$T/plan.txt" \
	--sql "$T/sql/fix.sql" --sql "$T/sql/over.sql" --sql "$T/sql/wipe.sql"
db_write_grant public.orders
grep -q "^sql-rows: $(sha256sum <"$T/sql/fix.sql" | cut -c1-64) 1$" "$T/stmt-plan" &&
	ok "the statement the owner signs states the patch's row count" || not_ok "no sql-rows in: $(cat "$T/stmt-plan")"
expect 0 "a read-write db grant's certificate, with the owner's consent" \
	bg grant cert G-1 --pubkey "$T/user.pub" -o "$T/cert1.pub"

# --- only approved artifacts ---------------------------------------------
expect_in 1 "a patch that is not in the plan is refused" "$T/sql/unlisted.sql" APPLY 1
err_has "no SQL artifact of grant G-1's approved plan" "and says why"
printf 'UPDATE orders SET status = %s WHERE id = 7;\n' "'x'" >"$T/in"
expect_in 1 "interactive DML is refused under a write grant too" "$T/in" SQL 1
err_has "changes go through an approved plan" "the console says where changes go"
[ "$(rows)" = "$BEFORE" ] && ok "nothing changed" || not_ok "rows changed"

# --- destructive, not approved (the plan check does not know the grant's
# tables; the host does) ---------------------------------------------------
expect_in 1 "a patch on a table the grant does not name is refused" "$T/sql/wipe.sql" APPLY 1
err_has "destructive: table 'public.customers' is outside the granted tables" "refused as destructive, naming the table"
[ "$(rows)" = "$BEFORE" ] && ok "nothing changed" || not_ok "rows changed"

# --- more rows than approved: rolled back ----------------------------------
expect_in 1 "a patch touching 3 rows where the plan states 1 is refused" "$T/sql/over.sql" APPLY 1
err_has "rolled back" "and rolled back"
[ "$(rows)" = "$BEFORE" ] && ok "no row changed" || not_ok "rows changed: $(rows)"
db_roles_are 0 && ok "no grant role left" || not_ok "a grant role is left"

# --- the approved patch, its before-image, the rollback ---------------------
expect_in 0 "the approved patch applies" "$T/sql/fix.sql" APPLY 1
out_has "^statement 1: UPDATE on public.orders rows=1 columns=status before_sha256=[0-9a-f]\{64\}$" \
	"the report: counts, changed columns, a digest - no values"
out_has "^applied rows=1 (the plan states 1)" "applied, as many rows as the plan states"
TAG=$(sed -n 's/.*before-image \([a-z0-9_]*\) (schema breakglass.*/\1/p' "$T/out")
[ "$(Q -d shop -c "SELECT status FROM orders WHERE id = 7")" = paid ] && ok "order 7 is released" ||
	not_ok "order 7: $(Q -d shop -c "SELECT status FROM orders WHERE id = 7")"
AFTER=$(rows)
db_roles_are 0 && ok "the write role is gone after the apply" || not_ok "a grant role is left"
grep -q '"event":"gate.sql.apply"' "$T/hostlog/audit.log" && ok "the apply is in the host log" ||
	not_ok "no apply record"
file_lacks "stuck" "$T/hostlog/audit.log" "the host log holds no row values"
[ "$(Q -d shop -c "SELECT count(*) FROM breakglass.\"${TAG}_1\"")" = 1 ] &&
	ok "the before-image holds the one row, inside the database" || not_ok "before-image $TAG"
[ "$(Q -d shop -c "SELECT has_schema_privilege('$ACCT', 'breakglass', 'USAGE')" 2>/dev/null)" != t ] &&
	ok "no one else reads the breakglass schema" || not_ok "the breakglass schema is readable"
expect 0 "breakglass rollback --sql on the host" RB "$TAG"
out_has "restored 1 row(s)" "one row restored"
[ "$(rows)" = "$BEFORE" ] && ok "the rows are exactly as before the patch" || not_ok "rows: $(rows)"
expect 0 "the cleanup drops the before-image" RB "$TAG" --drop-image
[ "$(Q -d shop -c "SELECT count(*) FROM pg_tables WHERE schemaname = 'breakglass' AND tablename LIKE '$TAG%'")" = 0 ] &&
	ok "no before-image left" || not_ok "before-image tables left"

# --- rows changed by others since: the rollback refuses -----------------------
expect_in 0 "the patch applies again" "$T/sql/fix.sql" APPLY 1
Q -d shop -c "UPDATE orders SET status = 'shipped' WHERE id = 7" >/dev/null
expect 1 "a rollback over a row changed since is refused" RB "$TAG"
err_has "changed by others since" "and says why"
[ "$(Q -d shop -c "SELECT status FROM orders WHERE id = 7")" = shipped ] &&
	ok "the other change is kept" || not_ok "the other change was overwritten"
expect 0 "its before-image dropped" RB "$TAG" --drop-image
bg cleanup T-1 >"$T/cleanup"
grep -q '^\[ \] before-images-dropped open' "$T/cleanup" && ok "the ticket's cleanup lists the before-images" ||
	not_ok "cleanup: $(cat "$T/cleanup")"
expect 0 "and records them dropped" bg cleanup T-1 before-images-dropped --done --note "$TAG"
expect 2 "rollback --sql needs --database" "$T/bin/breakglass" rollback T-1 --sql "$TAG"
expect 2 "a tag that is no tag is refused" "$T/bin/breakglass" rollback T-1 --sql "x; drop" \
	--database shop
db_roles_are 0 && ok "no grant role left" || not_ok "a grant role is left"

done_testing
