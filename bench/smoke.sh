#!/bin/sh
# bench/smoke.sh - what a smoke check costs over curl of the same URL: the
# whole 'breakglass smoke T --check URL' (opening the home, the request,
# the audited state change) against 'curl -s -o /dev/null URL', side by
# side, on a local page that takes 100 ms (as a real shop's would) and on
# one that answers at once.  Target: <= 1.1x curl.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
BG=$here/build/breakglass
N=${BENCH_SMOKE_N:-20}
W=$(mktemp -d /tmp/breakglass-bench-smoke.XXXXXX)
command -v curl >/dev/null || { echo "smoke bench: curl not installed: skipped"; exit 0; }
perl "$here/tests/t/data/http-fixture.pl" "$W/port" "$W" &
SRV=$!
trap 'kill $SRV 2>/dev/null; rm -rf "$W"' EXIT
for i in 1 2 3 4 5 6 7 8 9 10; do [ -s "$W/port" ] && break; sleep 0.2; done
URL="http://127.0.0.1:$(cat "$W/port")"
export BREAKGLASS_HOME=$W/home
"$BG" init >/dev/null
"$BG" project add shop --systems web1 >/dev/null
cat >"$W/intake" <<'EOT'
project: shop
system: web1
requester: dev@agency.example
broken: checkout returns 500
started: 2026-11-21T02:10Z
EOT
"$BG" ticket open --from "$W/intake" >/dev/null
time_n() {
	_t0=$(date +%s.%N); _k=0
	while [ $_k -lt "$N" ]; do "$@" >/dev/null 2>&1 || true; _k=$((_k + 1)); done
	echo "$(date +%s.%N) $_t0" | awk '{ printf "%.6f", $1 - $2 }'
}
echo "smoke check against curl ($N runs each)"
for path in page100 checkout; do
	touch "$W/fixed"
	c=$(time_n curl -s -o /dev/null "$URL/$path")
	b=$(time_n "$BG" smoke T-1 --check "$URL/$path")
	echo "$path $c $b $N" | awk '{ printf "  /%-9s curl %7.2f ms   breakglass smoke --check %7.2f ms   ratio %.2fx (target <= 1.1x)   +%.2f ms\n", $1, $2 * 1000 / $4, $3 * 1000 / $4, $3 / $2, ($3 - $2) * 1000 / $4 }'
done
