#!/bin/sh
# bench/remote.sh - remote use: 'breakglass --broker ssh://... ticket status'
# through a real sshd on 127.0.0.1, against a bare ssh round trip to the
# same account (a key whose forced command is /bin/true) side by side.
# Target: remote ticket status <= 1.2x the bare round trip.  Needs root.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
BG=$here/build/breakglass
N=${BENCH_REMOTE_N:-40}
[ "$(id -u)" -eq 0 ] || { echo "  remote: skipped (needs root: an account and sshd)"; exit 0; }
ACCT=bgbench${BG_TEST_ID:-}-bk
W=$(mktemp -d /tmp/breakglass-bench-remote.XXXXXX)
down() {
	[ -f "$W/sshd.pid" ] && kill "$(cat "$W/sshd.pid")" 2>/dev/null || true
	if id "$ACCT" >/dev/null 2>&1; then
		pkill -u "$ACCT" 2>/dev/null || true
		userdel "$ACCT" 2>/dev/null || true
	fi
	rm -rf "$W"
}
trap down EXIT
chmod 755 "$W"
mkdir "$W/bin"
cp "$BG" "$W/bin/breakglass"
chmod 755 "$W/bin/breakglass"
export BREAKGLASS_HOME=$W/home
"$BG" init >/dev/null
"$BG" project add shop --systems web1 >/dev/null
for k in dev owner bare hostkey; do ssh-keygen -q -t ed25519 -N '' -f "$W/$k" </dev/null; done
"$BG" approver add --project shop --principal owner@shop.example --key "$W/owner.pub" >/dev/null
"$BG" user add dev@agency.example --key "$W/dev.pub" --role responder >/dev/null
"$BG" broker setup --account "$ACCT" --command "$W/bin/breakglass" >/dev/null
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
"$BG" ticket open --from "$W/intake" >/dev/null
# the baseline key: the same account, the same sshd, a forced /bin/true
echo "restrict,command=\"/bin/true\" $(cat "$W/bare.pub")" >"$W/home/.ssh/authorized_keys2"
chown "$ACCT" "$W/home/.ssh/authorized_keys2"
cat >"$W/sshd_config" <<EOT
ListenAddress 127.0.0.1
HostKey $W/hostkey
PidFile $W/sshd.pid
UsePAM no
AllowUsers $ACCT
AuthorizedKeysFile .ssh/authorized_keys .ssh/authorized_keys2
EOT
mkdir -p /run/sshd
port=""
for try in 1 2 3 4 5 6 7 8; do
	p=$(( 20000 + ($$ * 13 + try * 7919) % 40000 ))
	rm -f "$W/sshd.pid"
	if /usr/sbin/sshd -f "$W/sshd_config" -o "Port $p" -E "$W/sshd.log" && sleep 0.3 && [ -s "$W/sshd.pid" ]; then
		port=$p; break
	fi
done
[ -n "$port" ] || { echo "  remote: could not start sshd" >&2; exit 1; }
for k in dev bare; do
	printf 'Host 127.0.0.1\n  IdentityFile %s\n  IdentitiesOnly yes\n  StrictHostKeyChecking no\n  UserKnownHostsFile /dev/null\n  LogLevel ERROR\n  BatchMode yes\n  GSSAPIAuthentication no\n  Port %s\n' \
		"$W/$k" "$port" >"$W/ssh-$k"
done
BREAKGLASS_SSH_CONFIG=$W/ssh-dev "$BG" --broker "ssh://$ACCT@127.0.0.1:$port" ticket status T-1 >/dev/null ||
	{ echo "  remote: ticket status over ssh failed" >&2; exit 1; }
time_n() { # seconds for N runs of the command
	_t0=$(date +%s.%N)
	_k=0
	while [ $_k -lt "$N" ]; do "$@" >/dev/null 2>&1 </dev/null || true; _k=$((_k + 1)); done
	echo "$(date +%s.%N) $_t0" | awk '{ printf "%.6f", $1 - $2 }'
}
# interleaved rounds, so a busy machine weighs on both alike
bare=0; remote=0
for round in 1 2 3 4; do
	b=$(time_n ssh -F "$W/ssh-bare" "$ACCT@127.0.0.1")
	r=$(time_n env BREAKGLASS_SSH_CONFIG="$W/ssh-dev" "$BG" --broker "ssh://$ACCT@127.0.0.1:$port" ticket status T-1)
	bare=$(echo "$bare $b" | awk '{ print $1 + $2 }')
	remote=$(echo "$remote $r" | awk '{ print $1 + $2 }')
done
echo "remote use over ssh ($((N * 4)) runs each, interleaved)" | awk '{ print "  " $0 }'
echo "$bare $remote $((N * 4))" | awk '{ printf "  bare ssh round trip        %.2f ms per run (forced /bin/true, same account)\n  remote ticket status       %.2f ms per run\n  remote / bare              %.2fx   (target <= 1.2x)\n", $1 * 1000 / $3, $2 * 1000 / $3, $2 / $1 }'
