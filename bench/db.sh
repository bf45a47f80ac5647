#!/bin/sh
# bench/db.sh - the database layer on a throwaway PostgreSQL 15 (needs
# root): a grant's role creation (limit 100 ms), revocation until no
# backend of the role is alive with a pg_sleep running (p99 limit 1 s),
# and the before-image of a 10,000-row UPDATE against the bare UPDATE
# in the same run (limit 2x); then the same before-image on a throwaway
# MariaDB 10.11.  BENCH_DB_ROUNDS roles (default 50).
# A statement through the gate against psql: bench/db-gate.sh.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/scripts/lib-pg.sh"
. "$here/scripts/lib-maria.sh"
W=$(mktemp -d "${BENCH_DIR:-/var/tmp}/breakglass-bench-db.XXXXXX")
U=bgbench${BG_TEST_ID:-}-pg
MU=bgbench${BG_TEST_ID:-}-m
trap 'set +e; pg_down "$W" "$U"; maria_down "$W/m" "$MU"; rm -rf "$W"' EXIT
pg_up "$W" "$U"
$PG_PSQL -d postgres -c "CREATE DATABASE shop" >/dev/null
$PG_PSQL -d shop -c "CREATE TABLE orders (id int PRIMARY KEY, status text)" >/dev/null
"$here/build/tests/dbtool" harden "$PG_ADMIN" shop >/dev/null
echo "== database (PostgreSQL 15, unix socket)"
"$here/build/tests/dbtool" bench "$PG_ADMIN" shop "${BENCH_DB_ROUNDS:-50}"
pg_down "$W" "$U"
mkdir -p "$W/m"
maria_up "$W/m" "$MU"
$MARIA -e "CREATE DATABASE shop" >/dev/null
echo "== database (MariaDB 10.11, unix socket)"
"$here/build/tests/dbtool" maria-bench "$MARIA_SOCK" shop
