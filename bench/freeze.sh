#!/bin/sh
# bench/freeze.sh - what a pipeline's freeze check costs on the broker:
# 'breakglass freeze status' on a home with 200 open tickets (2 of them
# confirmed emergencies, a typical day), against 'breakglass version' (process start,
# no home) side by side.  Target: freeze status <= 5 ms.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
BG=$here/build/breakglass
W=$(mktemp -d /tmp/breakglass-bench-freeze.XXXXXX)
trap 'rm -rf "$W"' EXIT
export BREAKGLASS_HOME=$W/home
N=${BENCH_FREEZE_N:-300}
"$BG" init >/dev/null
"$BG" project add shop --systems web1,db1 >/dev/null
ssh-keygen -q -t ed25519 -N '' -f "$W/owner" </dev/null
"$BG" approver add --project shop --principal owner@shop.example --key "$W/owner.pub" >/dev/null
cat >"$W/intake" <<'EOT'
project: shop
system: web1
requester: dev@agency.example
broken: checkout returns 500
started: 2026-11-21T02:10Z
affected-flow: checkout
production-url: https://shop.example
changed-before: deploy of release 4.2.1
last-known-good: release 4.2.0
deploy-method: ssh
backup-status: nightly dump
rollback-method: redeploy-previous
approver-name: Olga Owner
approver-email: owner@shop.example
EOT
i=0
while [ $i -lt 200 ]; do
	sed "s/^broken: .*/broken: checkout returns 500 ($i)/" "$W/intake" >"$W/in"
	"$BG" ticket open --from "$W/in" >/dev/null 2>&1
	i=$((i + 1))
done
i=1
while [ $i -le 2 ]; do
	"$BG" approve T-$i --statement --for confirm -o "$W/st" >/dev/null 2>&1 || true
	ssh-keygen -q -Y sign -n breakglass -f "$W/owner" "$W/st" </dev/null >/dev/null 2>&1 || true
	"$BG" approve T-$i --signature "$W/st.sig" >/dev/null 2>&1 || true
	rm -f "$W/st.sig"
	i=$((i + 1))
done
time_n() { # seconds for N runs of the command
	_t0=$(date +%s.%N)
	_k=0
	while [ $_k -lt "$N" ]; do "$@" >/dev/null 2>&1 || true; _k=$((_k + 1)); done
	echo "$(date +%s.%N) $_t0" | awk '{ printf "%.6f", $1 - $2 }'
}
base=$(time_n "$BG" version)
show=$(time_n "$BG" ticket show T-1)
fz=$(time_n "$BG" freeze status --project shop)
"$BG" freeze status --project shop >/dev/null 2>&1 && frozen=no || frozen=yes
echo "freeze status ($N runs, 200 open tickets, 2 active emergencies, frozen: $frozen)" | awk '{ print "  " $0 }'
echo "$base $show $fz $N" | awk '{ printf "  breakglass version        %.2f ms per run (process start)\n  ticket show T-1           %.2f ms per run (opening the home)\n  freeze status             %.2f ms per run   (target <= 5 ms)\n  freeze status / ticket show %.2fx\n", $1 * 1000 / $4, $2 * 1000 / $4, $3 * 1000 / $4, $3 / $2 }'
