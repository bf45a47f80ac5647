#!/bin/sh
# bench/db-gate.sh - a statement through the gate against psql on the same
# socket, side by side (limit: 3 ms more per statement), and the first use
# of a db grant (the host making its role) as the host log records it
# (limit 100 ms).  Needs root: a throwaway PostgreSQL 15 and host (sshd on
# 127.0.0.1).  Per-statement figures are slopes: a session of N+1
# statements against one of 1, so ssh's handshake and the role's creation
# cancel out.  BENCH_SQL_N statements (default 400), BENCH_SQL_ROUNDS
# sessions each (default 5; medians).
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
BG=$here/build/breakglass
N=${BENCH_SQL_N:-400}
R=${BENCH_SQL_ROUNDS:-5}
[ "$(id -u)" -eq 0 ] || { echo "db gate bench: needs root (sshd, accounts, a server): skipped"; exit 0; }
W=$(mktemp -d /tmp/breakglass-bench-sql.XXXXXX)
chmod 711 "$W"
ACCT=bgbench${BG_TEST_ID:-}-sql; GROUP=bgbench${BG_TEST_ID:-}-sqlg; PGU=bgbench${BG_TEST_ID:-}-sqlpg
. "$here/scripts/lib-host.sh"
. "$here/scripts/lib-pg.sh"
trap 'set +e; host_down "$W" "$ACCT" "$GROUP"; pg_down "$W/pg" "$PGU"; rm -rf "$W"' EXIT
mkdir -p "$W/pg"
pg_up "$W/pg" "$PGU"
$PG_PSQL -d postgres -c "CREATE DATABASE shop" >/dev/null
$PG_PSQL -d shop -c "CREATE TABLE orders (id int PRIMARY KEY, status text)" \
	-c "INSERT INTO orders SELECT g, 'paid' FROM generate_series(1, 1000) g" >/dev/null
export BREAKGLASS_HOME=$W/home
q() { "$BG" "$@" >/dev/null 2>&1; }
"$BG" init >/dev/null
HOST_SYSTEM=db1 HOST_DB_PG=$PG_ADMIN HOST_DB_PG_AS=$PGU host_up "$W" "$ACCT" "$GROUP" "$BG"
for k in owner user; do ssh-keygen -q -t ed25519 -N '' -f "$W/$k"; done
q project add shop --systems db1
q approver add --project shop --principal o@x.example --key "$W/owner.pub"
q ticket open --project shop --system db1 --requester d@x.example --broken bench \
	--started 2026-11-21T01:00Z --changed-before x --last-known-good x --deploy-method ssh \
	--backup-status x --rollback-method other --approver-name O --approver-email o@x.example
"$BG" approve T-1 --statement --for confirm -o "$W/c.txt" 2>/dev/null
ssh-keygen -q -Y sign -n breakglass -f "$W/owner" "$W/c.txt"
q approve T-1 --signature "$W/c.txt.sig"
q grant request T-1 --kind db --system db1 --account "$ACCT" --engine postgresql --database shop \
	--table public.orders --access read-only --reason bench
q grant activate G-1
"$BG" grant cert G-1 --pubkey "$W/user.pub" -o "$W/c1.pub" 2>/dev/null
stmts() { i=0; while [ $i -lt "$1" ]; do echo "SELECT id, status FROM orders WHERE id = $((i % 1000 + 1));"; i=$((i + 1)); done; }
stmts 1 >"$W/one.sql"; stmts $((N + 1)) >"$W/many.sql"
now_ms() { date +%s%N | cut -c1-13; }
gate() { $HOST_SSH -i "$W/user" -o CertificateFile="$W/c1.pub" "$ACCT@127.0.0.1" sql <"$1" >/dev/null; }
psql_() { $PG_PSQL -d shop -f "$1" >/dev/null; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
slope() { # slope CMD: per-statement microseconds of CMD, R rounds, median
	r=0
	while [ $r -lt "$R" ]; do
		t0=$(now_ms); "$1" "$W/one.sql"; t1=$(now_ms); "$1" "$W/many.sql"; t2=$(now_ms)
		echo $(( ((t2 - t1) - (t1 - t0)) * 1000 / N ))
		r=$((r + 1))
	done | median
}
echo "== a statement through the gate against psql (PostgreSQL 15, unix socket)"
g=$(slope gate); p=$(slope psql_)
awk -v g="$g" -v p="$p" 'BEGIN { printf "statement: through ssh, the gate and hostd %.2f ms, psql %.2f ms on the same socket: %+.2f ms (limit +3 ms); medians of '"$R"' sessions of '"$N"' statements\n", g / 1000, p / 1000, (g - p) / 1000 }'
sed -n 's/.*"reason":"role bg_g1 on database shop made in \([0-9]*\) ms.*/\1/p' "$W/hostlog/audit.log" |
	median | awk '{ printf "first use of the grant (role made by the host, in the session): median %d ms (limit 100 ms) over '"$((2 * R))"' sessions\n", $1 }'
