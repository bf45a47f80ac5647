#!/bin/sh
# bench/runbook.sh - client-executed mode: per-step overhead of a runbook
# step over running the program bare, and streaming output redaction on
# one core (BENCH_RUNBOOK_MIB, default 128, of the scanner bench's
# generated corpus: logs, source, config with seeded secrets), and a SQL
# step through the database apply path against psql, and on MariaDB against
# the mariadb client (below; needs root).
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
MIB=${BENCH_RUNBOOK_MIB:-128}
W=$(mktemp -d "${BENCH_DIR:-/var/tmp}/breakglass-bench-runbook.XXXXXX")
trap 'rm -rf "$W"' EXIT
echo "== runbook"
"$here/build/bench/bench-runbook" step "${BENCH_RUNBOOK_STEPS:-300}"
"$here/build/bench/gen-corpus" "$W" "$MIB" >/dev/null
cat "$W"/corpus/* >"$W/output"
rm -rf "$W/corpus"
taskset -c 0 "$here/build/bench/bench-runbook" redact "$W/output" "${BENCH_RUNBOOK_ROUNDS:-3}"

# A SQL step's cost on the client's host: the database apply path a runbook
# uses (dbapply: two peer connections, the patch's role made and dropped,
# the before-image, the count, one transaction) against psql running the same
# one-row UPDATE, each a process of its own, alternating, BENCH_RUNBOOK_SQL
# rounds (default 30).  Needs root (a throwaway PostgreSQL 15).
. "$here/scripts/lib-pg.sh"
U=bgbench${BG_TEST_ID:-}-rbpg
mkdir -p "$W/pg"
chmod 711 "$W"
trap 'set +e; pg_down "$W/pg" "$U"; rm -rf "$W"' EXIT
pg_up "$W/pg" "$U"
$PG_PSQL -d postgres -c "CREATE DATABASE shop" >/dev/null
$PG_PSQL -d shop -c "CREATE TABLE orders (id int PRIMARY KEY, status text, total numeric);
	INSERT INTO orders SELECT g, 'paid', g FROM generate_series(1, 1000) g" >/dev/null
FIX="UPDATE orders SET status = 'paid' WHERE id = 7;"
printf '%s\n' "$FIX" >"$W/fix.sql"
ms() { echo $(( $(date +%s%N) / 1000 )); }
i=0; : >"$W/t-psql"; : >"$W/t-step"
while [ $i -lt "${BENCH_RUNBOOK_SQL:-30}" ]; do
	a=$(ms); $PG_PSQL -d shop -c "$FIX" >/dev/null; b=$(ms)
	echo $((b - a)) >>"$W/t-psql"
	a=$(ms); "$here/build/tests/dbtool" dbapply "$PG_ADMIN" shop "$W/fix.sql" 1 "bench$i" >/dev/null; b=$(ms)
	echo $((b - a)) >>"$W/t-step"
	"$here/build/tests/dbtool" cleanup "$PG_ADMIN" shop "bench$i" >/dev/null
	i=$((i + 1))
done
med() { sort -n "$1" | awk '{ v[NR] = $1 } END { printf "%.1f", v[int((NR + 1) / 2)] / 1000 }'; }
P=$(med "$W/t-psql"); S=$(med "$W/t-step")
echo "SQL step (one-row UPDATE): through the apply path (patch role, before-image, count) median $S ms," \
	"psql running the same UPDATE $P ms: +$(echo "$S $P" | awk '{ printf "%.1f", $1 - $2 }') ms," \
	"$(echo "$S $P" | awk '{ printf "%.2f", $1 / $2 }')x ($i rounds each, a process each)"

# The same on MariaDB: the apply path (root by unix_socket, the patch's
# account made and dropped, mariapatch's before-image and count) against the
# mariadb client running the same UPDATE, alternating, BENCH_RUNBOOK_SQL rounds.
. "$here/scripts/lib-maria.sh"
MU=bgbench${BG_TEST_ID:-}-rbmy
mkdir -p "$W/my"
trap 'set +e; pg_down "$W/pg" "$U"; maria_down "$W/my" "$MU"; rm -rf "$W"' EXIT
maria_up "$W/my" "$MU"
vals=$(i=1; while [ $i -le 1000 ]; do printf "%s(%d,'paid',%d)" "${sep:-}" $i $i; sep=,; i=$((i + 1)); done)
$MARIA -e "CREATE DATABASE shop; CREATE TABLE shop.orders (id int PRIMARY KEY, status varchar(20),
	total decimal(10,2)); INSERT INTO shop.orders VALUES $vals"
i=0; : >"$W/t-my"; : >"$W/t-mstep"
while [ $i -lt "${BENCH_RUNBOOK_SQL:-30}" ]; do
	a=$(ms); $MARIA shop -e "$FIX" >/dev/null; b=$(ms)
	echo $((b - a)) >>"$W/t-my"
	a=$(ms); "$here/build/tests/dbtool" maria-dbapply "$MARIA_SOCK" shop "$W/fix.sql" 1 "bench$i" >/dev/null; b=$(ms)
	echo $((b - a)) >>"$W/t-mstep"
	"$here/build/tests/dbtool" maria-drop "$MARIA_SOCK" shop "bench$i" >/dev/null
	i=$((i + 1))
done
P=$(med "$W/t-my"); S=$(med "$W/t-mstep")
echo "MariaDB SQL step (one-row UPDATE): through the apply path (patch account, before-image, count)" \
	"median $S ms, the mariadb client running the same UPDATE $P ms:" \
	"+$(echo "$S $P" | awk '{ printf "%.1f", $1 - $2 }') ms, $(echo "$S $P" | awk '{ printf "%.2f", $1 / $2 }')x" \
	"($i rounds each, a process each)"
