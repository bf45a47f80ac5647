#!/bin/sh
# t1651-db-plan: SQL artifacts in a fix plan are read with the PostgreSQL
# parser when the plan is submitted: refused statements refuse the plan;
# destructive ones (DELETE/UPDATE without WHERE, DROP, TRUNCATE, ALTER ...
# DROP, DML hidden in a CTE) need an approved-destructive line naming them
# and backup evidence on the ticket, and are named in the audit record.
. "$(dirname "$0")/lib.sh"

setup_home
open_ticket
write_plan
printf "UPDATE orders SET status = 'paid' WHERE id = 7;\n" >"$T/ok.sql"
expect 0 "a patch with a WHERE passes" bg plan T-1 --from "$T/plan.txt" --sql "$T/ok.sql"

printf "UPDATE orders SET status = 'paid' WHERE id = 7;\nDELETE FROM orders;\n" >"$T/fix.sql"
expect 1 "DELETE without WHERE refused" bg plan T-1 --from "$T/plan.txt" --sql "$T/fix.sql"
err_has "statement 2 (DELETE) is destructive" "names the statement and kind"
err_has "approved-destructive: fix.sql:2" "says how to approve it"

printf "WITH g AS (DELETE FROM orders WHERE id = 1 RETURNING *) SELECT * FROM g;\n" >"$T/cte.sql"
expect 1 "DML hidden in a CTE refused" bg plan T-1 --from "$T/plan.txt" --sql "$T/cte.sql"
err_has "hidden inside another statement" "says the statement hides one"
for s in "TRUNCATE orders" "DROP TABLE orders" "ALTER TABLE orders DROP COLUMN note" \
    "UPDATE orders SET total = 0"; do
	printf '%s;\n' "$s" >"$T/d.sql"
	expect 1 "destructive refused: $s" bg plan T-1 --from "$T/plan.txt" --sql "$T/d.sql"
done
for s in "COPY orders TO PROGRAM 'id'" "SET ROLE postgres" "BEGIN" "GRANT ALL ON orders TO x" \
    "SELECT lo_import('/etc/passwd')" "DO \$\$ BEGIN NULL; END \$\$" "CREATE FUNCTION f() RETURNS int AS 'select 1' LANGUAGE sql"; do
	printf '%s;\n' "$s" >"$T/r.sql"
	expect 1 "never in a patch: $s" bg plan T-1 --from "$T/plan.txt" --sql "$T/r.sql"
	err_has "a SQL patch holds only" "refusal says what a patch may hold: $s"
done
printf "UPDATE orders SET status = 'x' WHERE;\n" >"$T/bad.sql"
expect 2 "SQL the parser refuses is refused" bg plan T-1 --from "$T/plan.txt" --sql "$T/bad.sql"
err_has "syntax error" "with the parser's message"

cp "$T/plan.txt" "$T/plan-d.txt"
echo "approved-destructive: fix.sql:2" >>"$T/plan-d.txt"
expect 1 "approved-destructive still needs backup evidence" bg plan T-1 --from "$T/plan-d.txt" \
	--sql "$T/fix.sql"
err_has "no backup evidence" "says the backup is missing"
expect 0 "backup evidence" bg evidence T-1 backup --what "pg_dump shop" --where /backups \
	--taken 2026-11-21T01:00Z
expect 0 "approved-destructive with backup evidence passes" bg plan T-1 --from "$T/plan-d.txt" \
	--sql "$T/fix.sql"
bg audit export --ticket T-1 --json >"$T/audit"
grep -q 'fix.sql:2: DELETE on public.orders: DELETE without WHERE' "$T/audit" &&
	ok "the audit record names the destructive statement" || not_ok "destructive statement not recorded"
echo "approved-destructive: fix.sql:1" >>"$T/plan-d.txt"
expect 2 "an approved-destructive line naming a harmless statement is refused" \
	bg plan T-1 --from "$T/plan-d.txt" --sql "$T/fix.sql"
err_has "names no destructive statement" "says which line is wrong"

done_testing
