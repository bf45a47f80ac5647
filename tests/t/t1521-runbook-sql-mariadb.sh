#!/bin/sh
# t1521-runbook-sql-mariadb: t1520's runbook SQL steps on a real MariaDB
# 10.11 started here.  The client's runbook configuration names the
# server's unix socket (db-mariadb: root by unix_socket authentication,
# no password; anything but a plain socket path is refused).  With the
# plan's "sql-engine: mariadb" an approved UPDATE runs through a
# temporary account of its own (only the privileges the patch needs,
# dropped at the end) in one transaction with its before-image in the
# server's `breakglass` database and the signed count; a count mismatch
# rolls back and stops the run; `runbook rollback` restores exactly and
# `--drop-image` drops the image; no row value reaches the bundle or the
# terminal.  A plan whose SQL is PostgreSQL's stays a step by hand on a
# MariaDB target (the approvers read it as PostgreSQL), and so does a
# script naming a table outside the target's database.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-runbook.sh"
. "$(dirname "$0")/lib-db.sh"
db_local mariadb rb "a server, root-owned configuration"
vals=$(i=1; while [ $i -le 20 ]; do printf "%s(%d, 'paid', %d.37, 'n%d')" "${sep:-}" $i $((i * 10)) $i; sep=,; i=$((i + 1)); done)
M -e "CREATE DATABASE shop;
CREATE TABLE shop.orders (id int PRIMARY KEY, status varchar(20), total decimal(10,2), note text);
INSERT INTO shop.orders VALUES $vals;
UPDATE shop.orders SET status = 'stuckQ7', note = 'NOTE-XK7Q-PRIVATE' WHERE id = 7;
CREATE TABLE shop.customers (id int PRIMARY KEY, email text);
INSERT INTO shop.customers VALUES (1, 'alice@private-customer.example');" >/dev/null
rows() { M -e "SELECT group_concat(id, ':', status, ':', total, ':', note ORDER BY id) FROM shop.orders"; }
BEFORE=$(rows)
case $BEFORE in *stuckQ7*) ok "the table holds its rows" ;; *) echo "Bail out! $BEFORE"; exit 1 ;; esac
images() { M -e "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'breakglass' AND table_name LIKE '$1%'"; }
accounts() { M -e "SELECT count(*) FROM mysql.user WHERE user LIKE 'bg\\_rb%'"; }

runbook_client
BACKUP_WHAT="mariadb-dump shop"
conf "$C/etc/runbook.conf" "$C/state" "db-mariadb: $MARIA_SOCK" "db-database: shop"

printf "UPDATE orders SET status = 'paid' WHERE id = 7;\n" >"$T/fix.sql"
printf "UPDATE orders SET total = total + 1 WHERE id <= 3;\n" >"$T/over.sql"
printf '/usr/bin/touch %s/srv/after-ran\n' "$C" >"$T/after.cmds"
plantext "$T/p1.txt" "expect-rows: fix.sql 1" "sql-engine: mariadb"
planned 1 "$T/p1.txt" --sql "$T/fix.sql" --commands "$T/after.cmds"

run() { bg runbook run "$@" --yes; }
nothing_ran() {
	if [ "$(rows)" = "$BEFORE" ] && [ "$(images rb)" = 0 ] && [ ! -e "$C/srv/after-ran" ] &&
		[ "$(accounts)" = 0 ]; then ok "$1: nothing ran, no account left"; else not_ok "$1: nothing ran, no account left"; fi
}

# --- the configuration: a socket path, nothing else -------------------------------
for v in "root:hunter2@$MARIA_SOCK" "$MARIA_SOCK password=hunter2" "sock/m.sock" "$MARIA_SOCK;user=x"; do
	conf "$C/etc/pw.conf" "$C/state" "db-mariadb: $v" "db-database: shop"
	expect 2 "db-mariadb '$v' is refused" run "$T/rb1" --config "$C/etc/pw.conf"
done
err_has "db-mariadb is the server's unix socket" "says what it takes"
conf "$C/etc/pw.conf" "$C/state" "db-mariadb: $MARIA_SOCK" "db-postgres: host=/run/postgresql" "db-database: shop"
expect 2 "two targets are refused" run "$T/rb1" --config "$C/etc/pw.conf"
nothing_ran "configuration refusals"

# --- the run: account, before-image, patch, count ----------------------------------
expect 0 "the runbook with a MariaDB SQL step runs on the client host" run "$T/rb1" \
	--config "$C/etc/runbook.conf" -o "$T/bundle1"
out_has "2. apply the SQL script 'fix.sql' to the mariadb database 'shop' in one transaction: UPDATE on shop.orders" \
	"the SQL step in plain words"
out_has "the signed plan states 1 row: any other count rolls back and stops the run" "with the approved count"
out_has "applied: 1 row (the signed plan states 1); before-image 'rb1_s2_" "applied with its before-image"
out_has "statement 1: UPDATE on shop.orders, 1 row, columns status" "the changed column named"
[ "$(M -e "SELECT status FROM shop.orders WHERE id = 7")" = paid ] && ok "order 7 is fixed" || not_ok "order 7 is fixed"
[ "$(M -e "SELECT count(*) FROM shop.orders WHERE status = 'paid'")" = 20 ] && ok "and no other row changed" ||
	not_ok "and no other row changed"
TAG1=$(sed -n 's/^sql: //p' "$C/state/"*.run | head -1)
case $TAG1 in rb1_s2_*) ok "the run record names the before-image ($TAG1)" ;; *) not_ok "the run record names the before-image" ;; esac
[ "$(M -e "SELECT concat(id, ':', status) FROM breakglass.${TAG1}_1")" = "7:stuckQ7" ] &&
	ok "the before-image holds the row as it was, inside the server" || not_ok "the before-image holds the row as it was"
[ "$(M -e "SELECT count(*) FROM information_schema.columns WHERE table_schema = 'breakglass' AND table_name = '${TAG1}_1' AND column_name = 'note'")" = 0 ] &&
	ok "and not the column the fix does not touch (the private note stays in its table)" || not_ok "the image copied the note column"
[ "$(accounts)" = 0 ] && ok "the patch's account is gone after the step" || not_ok "the patch's account is gone after the step"
[ -e "$C/srv/after-ran" ] && ok "the next step ran" || not_ok "the next step ran"
grep -q '"sql":"fix.sql","kind":"client-run","engine":"mariadb","database":"shop","expect_rows":1,"rows":1' "$T/bundle1" &&
	ok "the bundle records the SQL step as client-run with its counts" || not_ok "the bundle records the SQL step"
leaks=0
for v in stuckQ7 NOTE-XK7Q 70.37 private-customer; do
	grep -qF -- "$v" "$T/bundle1" "$T/out" "$T/err" "$C/state/"*.run && leaks=$((leaks + 1))
done
[ "$leaks" -eq 0 ] && ok "no row value in the bundle, the run record or the terminal" ||
	not_ok "no row value in the bundle, the run record or the terminal ($leaks leaked)"
bg user add ops@client.example --key "$C/operator.pub" --role operator >/dev/null || exit 1
expect 0 "the bundle is imported" bg runbook import T-1 "$T/bundle1"
out_has "SQL 'fix.sql' (step 2, client-run on web1, mariadb database 'shop'): applied, 1 row (the signed plan states 1)" \
	"import shows the SQL step client-run with its counts"

# --- rollback restores exactly; the image can be dropped -------------------------
expect 0 "runbook rollback" bg runbook rollback "$T/bundle1" --config "$C/etc/runbook.conf" --yes
out_has "restored 1 row of database 'shop' from the before-image '$TAG1'" "says what it restored"
[ "$(rows)" = "$BEFORE" ] && ok "every row is exactly as before the run" || not_ok "every row is exactly as before the run"
[ ! -e "$C/srv/after-ran" ] && ok "and the files too" || not_ok "and the files too"
expect 0 "a second rollback" bg runbook rollback "$T/bundle1" --config "$C/etc/runbook.conf" --yes
out_has "rolled back already" "says it was done"
expect 0 "the before-image is dropped" bg runbook rollback "$T/bundle1" --config "$C/etc/runbook.conf" --yes --drop-image
out_has "dropped the before-image '$TAG1'" "says so"
[ "$(images "$TAG1")" = 0 ] && ok "no image table is left" || not_ok "no image table is left"
[ "$(rows)" = "$BEFORE" ] && ok "dropping changed no row" || not_ok "dropping changed no row"

# --- a count the signed plan does not state rolls back and stops the run ----------
plantext "$T/p2.txt" "expect-rows: over.sql 1" "sql-engine: mariadb" "smoke-test: /usr/bin/touch $C/srv/smoke-ran"
planned 2 "$T/p2.txt" --sql "$T/over.sql"
expect 1 "a count mismatch fails the run" run "$T/rb2" --config "$C/etc/runbook.conf" -o "$T/bundle2"
out_has "rolled back" "says it was rolled back"
out_has "step 1 failed: the run stops here" "the run stops"
nothing_ran "count mismatch"
[ ! -e "$C/srv/smoke-ran" ] && ok "the step after it did not run" || not_ok "the step after it did not run"
grep -q '^record: [0-9]* [0-9a-f]* end 0 failed ' "$T/bundle2" && ok "the bundle records the failure" ||
	not_ok "the bundle records the failure"
expect 0 "the failed run's rollback" bg runbook rollback "$T/bundle2" --config "$C/etc/runbook.conf" --yes
out_has "none in database 'shop' (the step did not commit" "says there is no image of the rolled-back step"
[ "$(rows)" = "$BEFORE" ] && ok "no row changed" || not_ok "no row changed"

# --- the plan's sql-engine: PostgreSQL SQL stays by hand on MariaDB ---------------
plantext "$T/p3.txt" "expect-rows: fix.sql 1"
planned 3 "$T/p3.txt" --sql "$T/fix.sql"
printf 'UPDATE 1\n' >"$C/sql-output.txt"
expect 0 "a plan of PostgreSQL SQL on a MariaDB target is a step by hand" run "$T/rb3" \
	--config "$C/etc/runbook.conf" --attach "1=$C/sql-output.txt" -o "$T/bundle3"
out_has "the signed plan's SQL is for postgresql (sql-engine), this host's target is mariadb; run it by hand" "says why"
out_has "recorded as operator-reported" "and records it so"
nothing_ran "a plan for another engine"

# --- a table outside the target's database: the account would get nothing there ---
M -e "CREATE DATABASE other; CREATE TABLE other.t (id int PRIMARY KEY, v int); INSERT INTO other.t VALUES (1, 1)" >/dev/null
printf "UPDATE other.t SET v = 2 WHERE id = 1;\n" >"$T/other.sql"
plantext "$T/p4.txt" "expect-rows: other.sql 1" "sql-engine: mariadb"
planned 4 "$T/p4.txt" --sql "$T/other.sql"
expect 0 "a table in another database is a step by hand" run "$T/rb4" \
	--config "$C/etc/runbook.conf" --attach "1=$C/sql-output.txt" -o "$T/bundle4"
out_has "table 'other.t' is not in the target's database 'shop'; run it by hand" "says why"
[ "$(M -e "SELECT v FROM other.t")" = 1 ] && ok "that table is untouched" || not_ok "that table is untouched"
nothing_ran "another database"

done_testing
