#!/bin/sh
# t1520-runbook-sql: a runbook's SQL steps applied on the client's host
# through the database layer's apply path, against a real PostgreSQL 15
# started here.  The client's own runbook configuration names the target
# (peer authentication on the unix socket; a conninfo with a password is
# refused); what may run comes from the signed plan statement (the row
# count, approved-destructive statements), never from the file's unsigned
# parts.  An approved UPDATE runs in one transaction with its before-image
# kept inside the database and the right count; a count mismatch rolls
# back and stops the run; a tampered SQL step and a destructive statement
# the signed plan does not approve are refused before anything runs;
# `runbook rollback` restores exactly (refused when the rows changed
# since) and `--drop-image` drops the image; no row value reaches the
# bundle or the terminal; import and the report show the step as
# client-run with its counts.  A MariaDB target keeps this plan's
# PostgreSQL SQL by hand (MariaDB's own: t1521).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-runbook.sh"
. "$(dirname "$0")/lib-db.sh"
db_local postgresql rb "a server, root-owned configuration"
Q -d postgres -c "CREATE DATABASE shop" >/dev/null
# row values a leak would show: a stuck status, a private note, amounts
Q -d shop >/dev/null <<'EOT'
CREATE TABLE orders (id int PRIMARY KEY, status text, total numeric, note text);
INSERT INTO orders SELECT g, 'paid', g * 10 + 0.37, 'n' || g FROM generate_series(1, 20) g;
UPDATE orders SET status = 'stuckQ7', note = 'NOTE-XK7Q-PRIVATE' WHERE id = 7;
CREATE TABLE customers (id int PRIMARY KEY, email text);
INSERT INTO customers VALUES (1, 'alice@private-customer.example');
EOT
rows() { Q -d shop -c "SELECT string_agg(id || ':' || status || ':' || total || ':' || note, ',' ORDER BY id) FROM orders"; }
BEFORE=$(rows)
images() { Q -d shop -c "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'breakglass' AND c.relname LIKE '$1%'"; }
patch_roles() { Q -d postgres -c "SELECT count(*) FROM pg_roles WHERE rolname LIKE 'bg_rb%'"; }

runbook_client
BACKUP_WHAT="pg_dump shop"
conf "$C/etc/runbook.conf" "$C/state" "db-postgres: $PG_ADMIN" "db-database: shop"

printf "UPDATE orders SET status = 'paid' WHERE id = 7;\n" >"$T/fix.sql"
printf "UPDATE orders SET total = total + 1 WHERE id <= 3;\n" >"$T/over.sql"
printf "DELETE FROM customers;\n" >"$T/wipe.sql"
printf '/usr/bin/touch %s/srv/after-ran\n' "$C" >"$T/after.cmds"
plantext "$T/p1.txt" "expect-rows: fix.sql 1"
planned 1 "$T/p1.txt" --sql "$T/fix.sql" --commands "$T/after.cmds"
grep -q '^step: 1 commands ' "$T/rb1" && grep -q '^step: 2 sql ' "$T/rb1" && grep -q '^sql-rows: [0-9a-f]* 1$' "$T/rb1" &&
	ok "the runbook has the SQL step and the signed row count" || not_ok "the runbook has the SQL step and the signed row count"

run() { bg runbook run "$@" --yes; }
nothing_ran() {
	if [ "$(rows)" = "$BEFORE" ] && [ "$(images rb)" = 0 ] && [ ! -e "$C/srv/after-ran" ]; then
		ok "$1: nothing ran"; else not_ok "$1: nothing ran"; fi
}

# --- the client's configuration: no password in breakglass files ---------------
# refused EXIT WHAT CONNINFO PATTERN: the run refuses a db-postgres of CONNINFO
refused() {
	conf "$C/etc/pw.conf" "$C/state" "db-postgres: $3" "db-database: shop"
	expect "$1" "$2 is refused" run "$T/rb1" --config "$C/etc/pw.conf"
	err_has "$4" "$2: says '$4'"
}
refused 1 "a conninfo with a password" "$PG_ADMIN password=hunter2" "without password, passfile or service"
refused 1 "a conninfo with a passfile" "$PG_ADMIN passfile=/root/.pgpass" "the conninfo names a passfile"
refused 1 "a conninfo naming a service" "$PG_ADMIN service=shop" "the conninfo names a service"
refused 1 "a URI with a password in its query" "postgresql:///shop?host=$PG_SOCK&password=x" \
	"the conninfo names a password"
refused 2 "a conninfo libpq cannot parse" "$PG_ADMIN dbname='shop" \
	"db-postgres: postgres: conninfo: unterminated quoted string"
# without libpq nothing is guessed (a library of that name that cannot load)
mkdir "$T/nolibpq" && : >"$T/nolibpq/libpq.so.5"
conf "$C/etc/pw.conf" "$C/state" "db-postgres: $PG_ADMIN" "db-database: shop"
expect 4 "a db-postgres target is refused when libpq cannot be loaded" \
	env LD_LIBRARY_PATH="$T/nolibpq" "$BREAKGLASS" runbook run "$T/rb1" --config "$C/etc/pw.conf" --yes
err_has "db-postgres: postgres: libpq.so.5 cannot be loaded" "and says so"
# the check is libpq's parse, keyword by keyword: names that hold "service"
# or "password" are no secret (the configuration loads: what stops
# 'runbook rollback' is the runbook that does not exist)
taken() {
	conf "$C/etc/pw.conf" "$C/state" "db-postgres: $2" "db-database: shop"
	expect 2 "$1 is taken" bg runbook rollback "$T/nosuch" --config "$C/etc/pw.conf"
	err_has "nosuch" "$1: what stops it is the missing runbook"
	err_lacks "db-postgres" "$1: not the conninfo"
}
taken "dbname=customer_service user=password_reset" "$PG_ADMIN dbname=customer_service user=password_reset"
taken "the URI postgresql:///customer_service?host=/run/x" "postgresql:///customer_service?host=/run/x"
conf "$C/etc/pw.conf" "$C/state" "db-postgres: $PG_ADMIN"
expect 2 "a target without its database is refused" run "$T/rb1" --config "$C/etc/pw.conf"
err_has "db-database naming its database" "says what is missing"
nothing_ran "configuration refusals"

# --- a tampered SQL step is refused before anything runs ------------------------
sed "s/status = 'paid' WHERE id = 7;/status = 'paid' WHERE id > 0;/" "$T/rb1" >"$T/rb1-tampered"
cmp -s "$T/rb1" "$T/rb1-tampered" && not_ok "the tampered copy differs" || ok "the tampered copy differs"
expect 1 "a tampered SQL step is refused" run "$T/rb1-tampered" --config "$C/etc/runbook.conf"
err_has "step 2 ('fix.sql') was altered" "names the altered step"
nothing_ran "tampered SQL"

# --- the run: before-image, patch, count, in one transaction ---------------------
expect 0 "the runbook with a SQL step runs on the client host" run "$T/rb1" \
	--config "$C/etc/runbook.conf" -o "$T/bundle1"
out_has "2. apply the SQL script 'fix.sql' to the postgresql database 'shop' in one transaction: UPDATE on public.orders" \
	"the SQL step in plain words"
out_has "the signed plan states 1 row: any other count rolls back and stops the run" "with the approved count"
out_has "applied: 1 row (the signed plan states 1); before-image 'rb1_s2_" "applied with its before-image"
out_has "statement 1: UPDATE on public.orders, 1 row, columns status" "the changed column named"
[ "$(Q -d shop -c "SELECT status FROM orders WHERE id = 7")" = paid ] && ok "order 7 is fixed" || not_ok "order 7 is fixed"
[ "$(Q -d shop -c "SELECT count(*) FROM orders WHERE status = 'paid'")" = 20 ] && ok "and no other row changed" ||
	not_ok "and no other row changed"
TAG1=$(sed -n 's/^sql: //p' "$C/state/"*.run | head -1)
case $TAG1 in rb1_s2_*) ok "the run record names the before-image ($TAG1)" ;; *) not_ok "the run record names the before-image" ;; esac
[ "$(Q -d shop -c "SELECT status || ':' || note FROM breakglass.${TAG1}_1")" = "stuckQ7:NOTE-XK7Q-PRIVATE" ] &&
	ok "the before-image holds the row as it was, inside the database" || not_ok "the before-image holds the row as it was"
[ "$(patch_roles)" = 0 ] && ok "the patch's role is gone after the step" || not_ok "the patch's role is gone after the step"
[ -e "$C/srv/after-ran" ] && ok "the next step ran" || not_ok "the next step ran"
grep -q '"sql":"fix.sql","kind":"client-run","engine":"postgresql","database":"shop","expect_rows":1,"rows":1' "$T/bundle1" &&
	ok "the bundle records the SQL step as client-run with its counts" || not_ok "the bundle records the SQL step"
grep -q '"columns":"status"' "$T/bundle1" && grep -q '"before_image":"rb1_s2_' "$T/bundle1" &&
	ok "and the changed column and the image's name" || not_ok "and the changed column and the image's name"
leaks=0
for v in stuckQ7 NOTE-XK7Q 70.37 private-customer; do
	grep -qF -- "$v" "$T/bundle1" "$T/out" "$T/err" "$C/state/"*.run && leaks=$((leaks + 1))
done
[ "$leaks" -eq 0 ] && ok "no row value in the bundle, the run record or the terminal" ||
	not_ok "no row value in the bundle, the run record or the terminal ($leaks leaked)"

# --- import: the SQL step's outcome, client-run ---------------------------------
bg user add ops@client.example --key "$C/operator.pub" --role operator >/dev/null || exit 1
# the operator's own key signs a result that claims the commands step (1)
# applied SQL: chained and signed properly, refused for what it claims
perl -MDigest::SHA=sha256_hex -0777 -ne '
	my ($head, $rest) = /\A(breakglass runbook result v1\n.*?\noperator: [^\n]*\n)(.*?)signature: /s or die;
	my $prev = sha256_hex($head); my $out = $head;
	while ($rest =~ /\Grecord: (\d+) [0-9a-f]{64} (\S+) (\d+) (\S+) (\d+)\n/gc) {
		my ($seq, $type, $step, $st, $len) = ($1, $2, $3, $4, $5);
		my $body = substr($rest, pos($rest), $len + 1); pos($rest) += $len + 1;
		$step = 1 if $type eq "step" && $body =~ /"sql":"fix.sql"/;
		my $r = "record: $seq $prev $type $step $st $len\n" . $body;
		$prev = sha256_hex($r); $out .= $r; }
	print $out;' "$T/bundle1" >"$T/claim"
ssh-keygen -q -Y sign -n breakglass-runbook -f "$C/operator" "$T/claim" </dev/null >/dev/null 2>&1
{ printf 'signature: %s\n' "$(wc -c <"$T/claim.sig")"; cat "$T/claim.sig"; printf '\nend\n'; } >>"$T/claim"
expect 1 "a signed result claiming SQL for a step that is no SQL script is refused" \
	bg runbook import T-1 "$T/claim"
err_has "step 1 reports a SQL script applied, and the exported runbook's step 1 is no SQL script" "says why"
expect 0 "the bundle is imported" bg runbook import T-1 "$T/bundle1"
out_has "SQL 'fix.sql' (step 2, client-run on web1, postgresql database 'shop'): applied, 1 row (the signed plan states 1)" \
	"import shows the SQL step client-run with its counts"
out_has "step 2: ok" "the step's outcome"
grep -q "operator-reported\|step 2: reported" "$T/out" && not_ok "not as operator-reported" || ok "not as operator-reported"
bg report T-1 >"$T/out"
out_has "SQL applied by the client's runbook (client-run, not operator-reported): 'fix.sql' (step 2) on postgresql database 'shop': applied, 1 row (the signed plan states 1)" \
	"the report shows it"

# --- rollback restores exactly; the image can be dropped -------------------------
expect 0 "runbook rollback" bg runbook rollback "$T/bundle1" --config "$C/etc/runbook.conf" --yes
out_has "restore the rows SQL changed from the before-image '$TAG1'" "shows what it will restore"
out_has "restored 1 row of database 'shop' from the before-image '$TAG1'" "says what it restored"
[ "$(rows)" = "$BEFORE" ] && ok "every row is exactly as before the run" || not_ok "every row is exactly as before the run"
[ ! -e "$C/srv/after-ran" ] && ok "and the files too" || not_ok "and the files too"
expect 0 "the before-image is dropped" bg runbook rollback "$T/bundle1" --config "$C/etc/runbook.conf" --yes --drop-image
out_has "dropped the before-image '$TAG1'" "says so"
[ "$(images "$TAG1")" = 0 ] && ok "no image table is left" || not_ok "no image table is left"
[ "$(rows)" = "$BEFORE" ] && ok "dropping changed no row" || not_ok "dropping changed no row"

# --- a count the signed plan does not state rolls back and stops the run ----------
plantext "$T/p2.txt" "expect-rows: over.sql 1" "smoke-test: /usr/bin/touch $C/srv/smoke-ran"
planned 2 "$T/p2.txt" --sql "$T/over.sql"
expect 1 "a count mismatch fails the run" run "$T/rb2" --config "$C/etc/runbook.conf" -o "$T/bundle2"
out_has "the patch touched 3 rows, the plan states 1: rolled back" "says what was counted"
out_has "step 1 failed: the run stops here" "the run stops"
nothing_ran "count mismatch"
[ ! -e "$C/srv/smoke-ran" ] && ok "the step after it did not run" || not_ok "the step after it did not run"
[ "$(patch_roles)" = 0 ] && ok "no patch role is left" || not_ok "no patch role is left"
grep -q '^record: [0-9]* [0-9a-f]* end 0 failed ' "$T/bundle2" && ok "the bundle records the failure" ||
	not_ok "the bundle records the failure"
expect 0 "its bundle imports" bg runbook import T-2 "$T/bundle2"
out_has "SQL 'over.sql' (step 1, client-run on web1, postgresql database 'shop'): not applied, nothing changed (3 rows counted, the signed plan states 1)" \
	"import shows the mismatch"
out_has "step 1: failed" "the step failed"
expect 0 "the failed run's rollback" bg runbook rollback "$T/bundle2" --config "$C/etc/runbook.conf" --yes
out_has "none in database 'shop' (the step did not commit" "says there is no image of the rolled-back step"
[ "$(rows)" = "$BEFORE" ] && ok "no row changed" || not_ok "no row changed"

# --- rollback is refused when the rows changed since -------------------------------
planned 3 "$T/p1.txt" --sql "$T/fix.sql" --commands "$T/after.cmds"
expect 0 "the third runbook runs" run "$T/rb3" --config "$C/etc/runbook.conf" -o "$T/bundle3"
Q -d shop -c "UPDATE orders SET status = 'shipped' WHERE id = 7" >/dev/null
expect 1 "rollback is refused when others changed the rows since" \
	bg runbook rollback "$T/bundle3" --config "$C/etc/runbook.conf" --yes
err_has "changed or deleted by others since the patch: nothing restored" "says why"
[ "$(Q -d shop -c "SELECT status FROM orders WHERE id = 7")" = shipped ] && ok "their change is kept" ||
	not_ok "their change is kept"
[ -e "$C/srv/after-ran" ] && ok "and the files were not rolled back either" || not_ok "and the files were not rolled back either"
expect 0 "its before-image is dropped" bg runbook rollback "$T/bundle3" --config "$C/etc/runbook.conf" --yes --drop-image
[ "$(images rb3_)" = 0 ] && ok "no image of it is left" || not_ok "no image of it is left"
rm -f "$C/srv/after-ran"
Q -d shop >/dev/null <<'EOT'
UPDATE orders SET status = 'stuckQ7' WHERE id = 7;
EOT

# --- destructive statements: only what the signed plan approves -------------------
plantext "$T/p4.txt" "expect-rows: wipe.sql 1" "approved-destructive: wipe.sql:1"
planned 4 "$T/p4.txt" --sql "$T/wipe.sql"
grep -q '^sql-destructive: [0-9a-f]* 1$' "$T/rb4" && ok "the signed statement approves statement 1" ||
	not_ok "the signed statement approves statement 1"
# the same runbook with a statement that does not approve it, signed by both
# approvers (the client checks the marks itself, whatever the broker did)
T="$T" perl -0777 -e '
	local $/; my $t = <STDIN>;
	$t =~ /^statement: (\d+)\n/m or die; my ($s, $b, $n) = ($-[0], $+[0], $1);
	my $st = substr($t, $b, $n); $st =~ s/^sql-destructive: .*\n//m or die;
	open(my $f, ">", "$ENV{T}/stmt4") or die; print $f $st; close $f;
	my $e = $b + $n + 1; my $sigs = "";
	while (substr($t, $e) =~ /\Asignature: (\d+)\n/) { $e += length("signature: $1\n") + $1 + 1; }
	open($f, ">", "$ENV{T}/rb4-head") or die; print $f substr($t, 0, $s); close $f;
	open($f, ">", "$ENV{T}/rb4-tail") or die; print $f substr($t, $e); close $f;' <"$T/rb4" || exit 1
for k in owner second; do cp "$T/stmt4" "$T/stmt4.$k"; sign "$k" "$T/stmt4.$k"; done
{ cat "$T/rb4-head"; printf 'statement: %s\n' "$(wc -c <"$T/stmt4")"; cat "$T/stmt4"; echo
  for k in owner second; do printf 'signature: %s\n' "$(wc -c <"$T/stmt4.$k.sig")"; cat "$T/stmt4.$k.sig"; echo; done
  cat "$T/rb4-tail"; } >"$T/rb4-unapproved"
expect 1 "a destructive statement the signed plan does not approve is refused" \
	run "$T/rb4-unapproved" --config "$C/etc/runbook.conf"
err_has "statement 1 (DELETE) is destructive: .*the signed plan does not approve it" "says which and why"
err_has "refused, nothing was run" "before anything runs"
[ "$(Q -d shop -c "SELECT count(*) FROM customers")" = 1 ] && ok "the table is untouched" || not_ok "the table is untouched"
expect 0 "an approved destructive statement is a step by hand (no before-image holds it)" \
	run "$T/rb4" --config "$C/etc/runbook.conf" -o "$T/bundle4"
out_has "is destructive (approved): .*no before-image can hold it; run it by hand" "says why"
[ "$(Q -d shop -c "SELECT count(*) FROM customers")" = 1 ] && ok "breakglass did not run it" || not_ok "breakglass did not run it"

# --- a MariaDB target: this plan's SQL is PostgreSQL's, so it stays by hand ------
# (MariaDB's own apply: t1521)
mkdir -p "$C/state-m"
conf "$C/etc/maria.conf" "$C/state-m" "db-mariadb: /run/mysqld/mysqld.sock" "db-database: shop"
printf 'UPDATE 1\n' >"$C/sql-output.txt"
expect 0 "with a MariaDB target the PostgreSQL SQL step is the operator's" run "$T/rb2" --config "$C/etc/maria.conf" \
	--attach "1=$C/sql-output.txt" -o "$T/bundle-m"
out_has "the signed plan's SQL is for postgresql (sql-engine), this host's target is mariadb; run it by hand" "says why"
out_has "recorded as operator-reported" "and records it so"
[ "$(rows)" = "$BEFORE" ] && ok "no row changed" || not_ok "no row changed"

# --- without a target the SQL step is the operator's, as before ------------------
mkdir -p "$C/state-n"
conf "$C/etc/none.conf" "$C/state-n"
expect 0 "without a database target the SQL step is by hand" run "$T/rb2" --config "$C/etc/none.conf"
out_has "no database target in this host's runbook configuration" "says why"
[ "$(rows)" = "$BEFORE" ] && ok "no row changed" || not_ok "no row changed"

done_testing
