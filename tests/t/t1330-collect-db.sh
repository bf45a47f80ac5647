#!/bin/sh
# t1330-collect-db: database facts in collect's bundles, from a real
# PostgreSQL 15 started here.  Two databases, production and QA, differ in
# one column and one applied migration (and in row counts, which are in
# the bundle to read but never compared); `envdiff` shows exactly those
# two in its "database" section.  The schema (tables, columns with types,
# indexes, constraints), the applied migrations of the common migration
# tables and row counts are there; no row's contents, no string default,
# no literal of a CHECK or a partial index - each a random string under an
# innocuous name - reach a bundle; equal literals hash equal.  A conninfo
# with a password is refused; a database with another application's
# "migrations" table (other columns) is collected all the same.  The same
# with a real MariaDB 10.11 (--db-mariadb SOCKET --db NAME).
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || { echo "1..0 # needs root (server account)"; exit 1; }
. "$(dirname "$0")/../../scripts/lib-pg.sh"
. "$(dirname "$0")/../../scripts/lib-maria.sh"

ID=${BG_TEST_ID:-}
PGU=bgtest$ID-cpg
MU=bgtest$ID-cmy
P=$T/pg
M=$T/maria
mkdir -p "$P" "$M"
chmod 711 "$T"
cleanup() {
	pg_down "$P" "$PGU"
	maria_down "$M" "$MU"
	[ -n "${KEEP:-}" ] && cp "$T"/*.bundle /tmp/h18dbg/ 2>/dev/null; rm -rf "$T"
}
trap cleanup EXIT
rnd() { head -c 48 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 24; }

if pg_up "$P" "$PGU"; then ok "a PostgreSQL 15 server of our own"; else
	echo "Bail out! server did not start"; exit 1; fi
Q() { $PG_PSQL -At "$@" 2>&1; }
DEF=$(rnd) CHK=$(rnd) IDX=$(rnd) ROW=$(rnd) MIGROW=$(rnd)
Q -d postgres -c "CREATE DATABASE shop_prod" -c "CREATE DATABASE shop_qa" >/dev/null
for db in shop_prod shop_qa; do
	Q -d $db >/dev/null <<EOT
CREATE TABLE customers (id serial PRIMARY KEY, email text NOT NULL UNIQUE,
	tier text NOT NULL DEFAULT '$DEF', created timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT tier_ok CHECK (tier <> '$CHK'));
CREATE INDEX customers_vip ON customers (email) WHERE tier = '$IDX';
CREATE TABLE orders (id bigserial PRIMARY KEY, customer int NOT NULL REFERENCES customers (id),
	total numeric(10,2) NOT NULL DEFAULT 0);
CREATE TABLE schema_migrations (version bigint PRIMARY KEY);
INSERT INTO schema_migrations VALUES (20261101000000), (20261115000000);
CREATE TABLE django_migrations (id serial PRIMARY KEY, app text, name text, applied timestamptz);
INSERT INTO django_migrations (app, name, applied) VALUES ('shop', '0001_initial', now());
-- another application's table of a migration table's name
CREATE TABLE migrations (id int, note text);
INSERT INTO migrations VALUES (1, '$MIGROW');
INSERT INTO customers (email) VALUES ('$ROW@example.org');
EOT
done
# production: one more column, one more migration, more rows
Q -d shop_prod >/dev/null <<EOT
ALTER TABLE customers ADD COLUMN locale text;
INSERT INTO schema_migrations VALUES (20261201000000);
INSERT INTO customers (email) SELECT g || '@example.org' FROM generate_series(1, 30) g;
EOT

mkdir -p "$T/root/etc"
KEY=$T/incident.key
PB=$T/prod.bundle QB=$T/qa.bundle
expect 0 "collect production with its database facts" bg collect --root "$T/root" --key "$KEY" \
	--db-postgres "$PG_ADMIN dbname=shop_prod" -o "$PB"
expect 0 "collect QA (--db names the database)" bg collect --root "$T/root" --key "$KEY" \
	--db-postgres "$PG_ADMIN" --db shop_qa -o "$QB"

# what is there
grep -q '^db public.customers =table$' "$PB" && ok "tables" || not_ok "tables"
grep -q '^db public.customers.email =text%20not%20null$' "$PB" && ok "a column's type" \
	|| not_ok "a column's type ($(grep 'customers.email ' "$PB"))"
grep -q '^db public.orders.total =numeric(10,2)%20not%20null%20default%200$' "$PB" \
	&& ok "a numeric default shown" || not_ok "a numeric default shown"
grep -q '^db public.customers#index:customers_email_key =CREATE%20UNIQUE%20INDEX' "$PB" \
	&& ok "indexes" || not_ok "indexes"
grep -q '^db public.orders#constraint:orders_customer_fkey =FOREIGN%20KEY%20(customer)%20REFERENCES%20public.customers(id)$' "$PB" \
	&& ok "constraints" || not_ok "constraints ($(grep customer_fkey "$PB"))"
grep -q '^dbmig schema_migrations:20261201000000 applied$' "$PB" && ok "applied migrations" \
	|| not_ok "applied migrations"
grep -q '^dbmig django_migrations:shop.0001_initial applied$' "$PB" && ok "django's migrations" \
	|| not_ok "django's migrations"
grep -q '^dbrows public.customers 31$' "$PB" && grep -q '^dbrows public.customers 1$' "$QB" \
	&& ok "row counts (exact for small tables)" || not_ok "row counts ($(grep '^dbrows public.customers' "$PB" "$QB"))"
# what is not
leak=0
for s in "$DEF" "$CHK" "$IDX" "$ROW" "$MIGROW"; do
	grep -q -- "$s" "$PB" "$QB" && leak=1
done
[ $leak = 0 ] && ok "no string default, CHECK or index literal, row or foreign table's content in a bundle" \
	|| not_ok "a planted string is in a bundle"
d1=$(grep '^db public.customers.tier ' "$PB" | sed 's/.*default%20//')
d2=$(grep '^db public.customers.tier ' "$QB" | sed 's/.*default%20//')
case $d1 in h:*) [ "$d1" = "$d2" ] && ok "a string default is a keyed hash, equal on both sides" \
	|| not_ok "equal defaults hash equal ($d1 / $d2)" ;;
*) not_ok "a string default is a keyed hash ($d1)" ;; esac
grep -q "^db public.customers#constraint:tier_ok =CHECK%20((tier%20<>%20h:" "$PB" \
	&& ok "a CHECK's literal hashed, its shape kept" || not_ok "a CHECK's literal hashed ($(grep tier_ok "$PB"))"
[ "$(stat -c %a "$PB")" = 600 ] && ok "the bundle is 0600" || not_ok "the bundle is 0600"

# envdiff: exactly the column and the migration
expect 0 "envdiff" bg envdiff "$PB" "$QB" --json
perl -MJSON::PP -e 'local $/; my $d = decode_json(<STDIN>);
	print join("\n", sort map { "$_->{section} $_->{change} $_->{key}" }
	grep { $_->{section} eq "database" } @{$d->{items}}), "\n"' <"$T/out" >"$T/got"
printf 'database removed public.customers.locale\ndatabase removed schema_migrations:20261201000000\n' >"$T/want"
if cmp -s "$T/got" "$T/want"; then ok "the database section: exactly the column and the migration"; else
	not_ok "the database section"; sed 's/^/#   got: /' "$T/got"; fi
expect 0 "envdiff text" bg envdiff "$PB" "$QB"
out_has '^database:' "a database section"
out_has 'public.customers.locale' "names the column"
if grep -q 'dbrows\|public.orders' "$T/out"; then not_ok "row counts are not compared"; else
	ok "row counts are not compared"; fi

# refusals
expect 1 "a conninfo with a password is refused" bg collect --root "$T/root" --key "$KEY" \
	--db-postgres "$PG_ADMIN dbname=shop_prod password=x" -o "$T/x.bundle"
err_has "peer authentication" "says why"
[ ! -e "$T/x.bundle" ] && ok "no bundle written" || not_ok "no bundle written"
expect 1 "so is one naming a service (its entry can hold a password)" bg collect --root "$T/root" \
	--key "$KEY" --db-postgres "$PG_ADMIN dbname=shop_prod service=bgsvc" -o "$T/x.bundle"
err_has "names a service" "says what it names"
expect 2 "--db without --db-postgres" bg collect --root "$T/root" --key "$KEY" --db shop_qa -o "$T/y.bundle"
expect 4 "a database that is not there" bg collect --root "$T/root" --key "$KEY" \
	--db-postgres "$PG_ADMIN dbname=nosuch" -o "$T/z.bundle"
err_has "nosuch" "names it"

# --- MariaDB ---------------------------------------------------------------
if maria_up "$M" "$MU"; then ok "a MariaDB server of our own"; else
	echo "Bail out! MariaDB did not start"; exit 1; fi
MQ() { $MARIA "$@" 2>&1; }
MQ -e "CREATE DATABASE shop_prod; CREATE DATABASE shop_qa" >/dev/null
for db in shop_prod shop_qa; do
	MQ $db >/dev/null <<EOT
CREATE TABLE customers (id int AUTO_INCREMENT PRIMARY KEY, email varchar(200) NOT NULL UNIQUE,
	tier varchar(40) NOT NULL DEFAULT '$DEF', CONSTRAINT tier_ok CHECK (tier <> '$CHK'));
CREATE TABLE orders (id bigint AUTO_INCREMENT PRIMARY KEY, customer int NOT NULL,
	total decimal(10,2) NOT NULL DEFAULT 0, FOREIGN KEY (customer) REFERENCES customers (id));
CREATE TABLE schema_migrations (version bigint PRIMARY KEY);
INSERT INTO schema_migrations VALUES (20261101000000), (20261115000000);
CREATE TABLE django_migrations (id int AUTO_INCREMENT PRIMARY KEY, app varchar(50), name varchar(50));
INSERT INTO django_migrations (app, name) VALUES ('shop', '0001_initial');
CREATE TABLE migrations (id int, note text);
INSERT INTO migrations VALUES (1, '$MIGROW');
INSERT INTO customers (email) VALUES ('$ROW@example.org');
EOT
done
MQ shop_prod >/dev/null <<EOT
ALTER TABLE customers ADD COLUMN locale varchar(8);
INSERT INTO schema_migrations VALUES (20261201000000);
INSERT INTO customers (email) VALUES ('a@example.org'), ('b@example.org');
EOT
MP=$T/mprod.bundle MQB=$T/mqa.bundle
expect 0 "collect a MariaDB database's facts" bg collect --root "$T/root" --key "$KEY" \
	--db-mariadb "$MARIA_SOCK" --db shop_prod -o "$MP"
expect 0 "and QA's" bg collect --root "$T/root" --key "$KEY" --db-mariadb "$MARIA_SOCK" --db shop_qa -o "$MQB"
grep -q '^db customers =table$' "$MP" && ok "MariaDB: tables" || not_ok "MariaDB: tables"
grep -q '^db customers.email =varchar(200)%20not%20null$' "$MP" && ok "MariaDB: a column's type" \
	|| not_ok "MariaDB: a column's type ($(grep 'customers.email ' "$MP"))"
grep -q '^db customers#index:email =UNIQUE%20BTREE%20(email)$' "$MP" && ok "MariaDB: indexes" \
	|| not_ok "MariaDB: indexes ($(grep 'index:email' "$MP"))"
grep -q '^db customers#constraint:tier_ok =CHECK%20' "$MP" && ok "MariaDB: constraints" \
	|| not_ok "MariaDB: constraints"
grep -q '^dbmig django_migrations:shop.0001_initial applied$' "$MP" && ok "MariaDB: migrations" \
	|| not_ok "MariaDB: migrations"
grep -q '^dbrows customers 3$' "$MP" && ok "MariaDB: row counts" || not_ok "MariaDB: row counts ($(grep '^dbrows customers' "$MP"))"
leak=0
for s in "$DEF" "$CHK" "$ROW" "$MIGROW"; do grep -q -- "$s" "$MP" "$MQB" && leak=1; done
[ $leak = 0 ] && ok "MariaDB: no default, CHECK literal or row in a bundle" || not_ok "MariaDB: a planted string is in a bundle"
expect 0 "envdiff of the MariaDB bundles" bg envdiff "$MP" "$MQB" --json
perl -MJSON::PP -e 'local $/; my $d = decode_json(<STDIN>);
	print join("\n", sort map { "$_->{section} $_->{change} $_->{key}" }
	grep { $_->{section} eq "database" } @{$d->{items}}), "\n"' <"$T/out" >"$T/got"
printf 'database removed customers.locale\ndatabase removed schema_migrations:20261201000000\n' >"$T/want"
if cmp -s "$T/got" "$T/want"; then ok "MariaDB: exactly the column and the migration"; else
	not_ok "MariaDB: the database section"; sed 's/^/#   got: /' "$T/got"; fi
expect 2 "--db-mariadb needs --db" bg collect --root "$T/root" --key "$KEY" --db-mariadb "$MARIA_SOCK" -o "$T/w.bundle"
expect 2 "one database server at a time" bg collect --root "$T/root" --key "$KEY" --db-mariadb "$MARIA_SOCK" \
	--db-postgres "$PG_ADMIN" --db shop_qa -o "$T/w.bundle"

done_testing
