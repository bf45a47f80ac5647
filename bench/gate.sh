#!/bin/sh
# bench/gate.sh - the gate's cost and the revocation-to-cut latency, each
# against a baseline measured side by side in the same run.  Needs root:
# it sets up a throwaway host (sshd on 127.0.0.1) like the demo.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
BG=$here/build/breakglass
N=${BENCH_GATE_N:-200}
NSSH=${BENCH_SSH_N:-60}
NCUT=${BENCH_CUT_N:-20}
[ "$(id -u)" -eq 0 ] || { echo "gate bench: needs root (sshd, accounts): skipped"; exit 0; }
W=$(mktemp -d /tmp/breakglass-bench.XXXXXX)
ACCT=bgbench${BG_TEST_ID:-}; GROUP=bgbench${BG_TEST_ID:-}-gate; PLAIN=bgbench${BG_TEST_ID:-}-plain
. "$here/scripts/lib-host.sh"
trap 'host_down "$W" "$ACCT" "$GROUP"; userdel "$PLAIN" 2>/dev/null; rm -rf "$W"' EXIT
export BREAKGLASS_HOME=$W/home BREAKGLASS_ACTOR=bench
q() { "$BG" "$@" >/dev/null 2>&1; }
"$BG" init >/dev/null
host_up "$W" "$ACCT" "$GROUP" "$BG"
mkdir -p "$W/srv/app"; head -c 4096 /dev/urandom | base64 >"$W/srv/app/log"; chmod -R a+rX "$W/srv"
for k in owner user; do ssh-keygen -q -t ed25519 -N '' -f "$W/$k"; done
q project add shop --systems web1
q approver add --project shop --principal o@x.example --key "$W/owner.pub"
q ticket open --project shop --system web1 --requester d@x.example --broken bench \
	--started 2026-11-21T01:00Z --changed-before x --last-known-good x --deploy-method ssh \
	--backup-status x --rollback-method other --approver-name O --approver-email o@x.example
"$BG" approve T-1 --statement --for confirm -o "$W/c.txt" 2>/dev/null
ssh-keygen -q -Y sign -n breakglass -f "$W/owner" "$W/c.txt"
q approve T-1 --signature "$W/c.txt.sig"
cert_for() { # cert_for N: a read grant G-N with its certificate in $W/cN.pub
	q grant request T-1 --kind ssh --system web1 --account "$ACCT" --read "$W/srv/app" --reason bench
	q grant activate "G-$1"
	"$BG" grant cert "G-$1" --pubkey "$W/user.pub" -o "$W/c$1.pub" 2>/dev/null
}
cert_for 1

# 1. the gate's added latency per command, without ssh: the gate running
#    'cat FILE' for the account vs /bin/cat FILE for the same account
printf 'publickey %s\n' "$(cut -d' ' -f1,2 "$W/c1.pub")" >"$W/auth"; chmod 644 "$W/auth"
printf 'SSH_ORIGINAL_COMMAND=cat %s\nSSH_USER_AUTH=%s\nPATH=/usr/bin:/bin\n' "$W/srv/app/log" "$W/auth" >"$W/env"
EXEC=$here/build/bench/bench-exec   # built by make bench
[ -x "$EXEC" ] || { echo "gate bench: $EXEC missing: run make bench" >&2; exit 1; }
uid=$(id -u "$ACCT"); gid=$(id -g "$ACCT")
set -- $("$EXEC" "$uid" "$gid" "$N" "$W/env" -- $W/bin/breakglass gate --config "$W/etc/gate.conf" -- /bin/cat "$W/srv/app/log")
echo "gate, no ssh (n=$N): gate 'cat' median $1 ms (p90 $2) vs /bin/cat median $3 ms (p90 $4): added $(echo "$1 $3" | awk '{ printf "%.2f", $1 - $2 }') ms median"

# 2. the same over ssh: a certificate login through the gate vs the same
#    kind of login (same CA, same KRL check) by an account without the gate
useradd --shell /bin/sh --home-dir "$W/plainhome" --create-home --password '*' "$PLAIN" 2>/dev/null || true
cp "$W/user.pub" "$W/plain.pub"
ssh-keygen -q -s "$BREAKGLASS_HOME/ca.key" -I bench-baseline -n "$PLAIN" -V +1h -z 999999 "$W/plain.pub"
S="$HOST_SSH -i $W/user"
g=""; p=""
i=0
while [ $i -lt "$NSSH" ]; do
	t0=$(date +%s%N); $S -o CertificateFile="$W/c1.pub" "$ACCT@127.0.0.1" cat "$W/srv/app/log" >/dev/null; t1=$(date +%s%N)
	$S -o CertificateFile="$W/plain-cert.pub" "$PLAIN@127.0.0.1" cat "$W/srv/app/log" >/dev/null; t2=$(date +%s%N)
	g="$g $(( (t1 - t0) / 1000 ))"; p="$p $(( (t2 - t1) / 1000 ))"
	i=$((i + 1))
done
med() { echo "$@" | tr ' ' '\n' | grep . | sort -n | awk '{ v[NR] = $1 } END { printf "%.1f", v[int((NR + 1) / 2)] / 1000 }'; }
mg=$(med $g); mp=$(med $p)
echo "over ssh (n=$NSSH): certificate login through the gate median $mg ms vs the same login without the gate median $mp ms: added $(echo "$mg $mp" | awk '{ printf "%.1f", $1 - $2 }') ms ($(echo "$mg $mp" | awk '{ printf "%.2f", $1 / $2 }')x)"

# 3. revocation to cut: an open 'tail -f' through the gate, then revoke
cuts=""
i=0
while [ $i -lt "$NCUT" ]; do
	n=$((i + 2))
	cert_for $n
	$S -o CertificateFile="$W/c$n.pub" "$ACCT@127.0.0.1" tail -f "$W/srv/app/log" >"$W/t.out" 2>&1 &
	pid=$!
	while [ ! -s "$W/t.out" ]; do sleep 0.02; done
	t0=$(date +%s%N)
	q revoke "G-$n" --reason bench
	while kill -0 $pid 2>/dev/null; do sleep 0.005; done
	t1=$(date +%s%N)
	cuts="$cuts $(( (t1 - t0) / 1000 ))"
	i=$((i + 1))
done
echo "$cuts" | tr ' ' '\n' | grep . | sort -n | awk -v n="$NCUT" '
	function at(q,   k) { k = int(n * q + 0.999); if (k < 1) k = 1; if (k > n) k = n; return v[k] }
	{ v[NR] = $1 / 1000 }
	END { printf "revocation to cut (n=%d, the revoke command included): p50 %.0f ms, p90 %.0f ms, p99 %.0f ms, max %.0f ms (target p99 <= 1000 ms)\n",
	      n, at(0.5), at(0.9), at(0.99), v[n] }'
