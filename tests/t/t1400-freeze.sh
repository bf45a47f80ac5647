#!/bin/sh
# t1400-freeze: the change freeze - pipelines ask the broker over SSH with
# a key that may only ask, hosts read the published state (the apt hook
# refuses a real package install), the emergency branch is let through,
# and the freeze ends with the ticket.
. "$(dirname "$0")/lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
setup_home
PUB="$T/published/freeze.state"
mkdir -p "$T/published"
echo "freeze-publish: $PUB" >>"$BREAKGLASS_HOME/config"

expect 0 "no ticket: not frozen" bg freeze status --project shop
out_has "not frozen" "says so"
open_ticket
expect 0 "an unconfirmed ticket does not freeze" bg freeze status --project shop

approve_as owner T-1 confirm || exit 1
expect 1 "a confirmed emergency freezes its project" bg freeze status --project shop
out_has "frozen: T-1 (shop: web1,db1) is an active emergency since 20" "names the ticket, systems and since"
out_has "ask owner@shop.example (approver) or dev@agency.example (requester)" "says whom to ask"
expect 1 "and each of its systems" bg freeze status --system db1
expect 0 "not a system of another project" bg freeze status --system mail9
expect 0 "the emergency branch is let through" bg freeze status --project shop --branch hotfix/T-1
expect 1 "another branch is not" bg freeze status --project shop --branch main
expect 1 "json" bg freeze status --project shop --json
out_has '"frozen":true,"tickets":\[{"ticket":"T-1","project":"shop"' "json names the ticket"
expect 2 "a malformed name is a usage error" bg freeze status --project 'sh op'
expect 2 "an unknown subcommand" bg freeze stauts
expect 0 "freeze --help" bg freeze --help
out_has "usage: breakglass freeze status" "help"

# the state published to hosts, and the host's own check
[ -s "$PUB" ] && ok "the confirmation published the state" || not_ok "the confirmation published the state"
grep -q "^frozen: T-1 shop 20.* hotfix/T-1 web1,db1$" "$PUB" && ok "published line" || not_ok "published line"
cmp -s "$PUB" "$BREAKGLASS_HOME/freeze.state" && ok "same as HOME/freeze.state" || not_ok "same as HOME/freeze.state"
expect 1 "host check: frozen" bg freeze check --state "$PUB" --system web1
expect 0 "host check: another system" bg freeze check --state "$PUB" --system mail9
expect 0 "host check: the emergency branch" bg freeze check --state "$PUB" --system web1 --branch hotfix/T-1
sed 's/^breakglass freeze v1$/breakglass freeze v9/' "$PUB" >"$T/bad-version"
expect 1 "a version the host does not know refuses" bg freeze check --state "$T/bad-version" --system mail9
err_has "a version this host does not know" "says why"
printf 'breakglass freeze v1\npublished: 2026-12-02T00:00:00Z\nfrozen: T-1 shop yesterday x web1\n' >"$T/bad-line"
expect 1 "a malformed state refuses" bg freeze check --state "$T/bad-line" --system mail9
expect 1 "a missing state refuses" bg freeze check --state "$T/nothing" --system mail9
err_has "cannot read the freeze state" "names the problem"

# a pipeline through a real sshd: the CI key may only ask
[ "$(id -u)" -eq 0 ] || { echo "1..0 # sshd part needs root"; exit 1; }
ssh-keygen -q -t ed25519 -N '' -f "$T/ci" </dev/null || exit 1
ssh-keygen -q -t ed25519 -N '' -f "$T/sshd-hostkey" </dev/null || exit 1
printf 'restrict,command="%s freeze serve --home %s" %s\n' "$BREAKGLASS" "$BREAKGLASS_HOME" \
	"$(cat "$T/ci.pub")" >"$T/authorized_keys"
chmod 600 "$T/authorized_keys"
cat >"$T/sshd_config" <<EOT
ListenAddress 127.0.0.1
HostKey $T/sshd-hostkey
PidFile $T/sshd.pid
AuthorizedKeysFile $T/authorized_keys
PermitRootLogin prohibit-password
UsePAM no
StrictModes no
EOT
mkdir -p /run/sshd
PORT=""
for try in 1 2 3 4 5 6; do
	p=$(( 20000 + ($$ * 13 + try * 7919) % 40000 ))
	if /usr/sbin/sshd -f "$T/sshd_config" -o "Port $p" -E "$T/sshd.log" && sleep 0.3 &&
	   [ -s "$T/sshd.pid" ]; then PORT=$p; break; fi
done
trap 'kill "$(cat "$T/sshd.pid" 2>/dev/null)" 2>/dev/null; rm -rf "$T"' EXIT
[ -n "$PORT" ] && ok "sshd for the broker account started" || { not_ok "sshd started"; done_testing; exit 1; }
export BREAKGLASS_SSH_OPTS="-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR"
CI="$ROOT/contrib/freeze/ci-freeze-check.sh"
expect 1 "the pipeline is held during the emergency" sh "$CI" "$T/ci" "root@127.0.0.1:$PORT" shop main
out_has "frozen: T-1" "the pipeline prints why"
err_has "deploy held: change freeze" "and that the deploy is held"
expect 0 "the emergency branch deploys" sh "$CI" "$T/ci" "root@127.0.0.1:$PORT" shop hotfix/T-1
ssh_ci() { ssh -i "$T/ci" -p "$PORT" -o BatchMode=yes -o IdentitiesOnly=yes $BREAKGLASS_SSH_OPTS \
	root@127.0.0.1 "$@"; }
expect 1 "the CI key cannot list tickets" ssh_ci ticket list
err_has "this key may only ask" "says what the key may do"
expect 1 "nor pick another home" ssh_ci freeze status --home /tmp
err_has "option '--home' is not allowed" "names the option"
expect 1 "nor read a host state file" ssh_ci freeze check --state /etc/shadow --system x
expect 1 "nor smuggle a second command" ssh_ci 'freeze status; id'

# the apt hook as shipped (paths pointed at this test), on a real package
if command -v dpkg-deb >/dev/null && command -v apt-get >/dev/null; then
	PKG=bgtest${BG_TEST_ID:-}-freeze-dummy
	mkdir -p "$T/deb/DEBIAN"
	printf 'Package: %s\nVersion: 1.0\nArchitecture: all\nMaintainer: t <t@example.org>\nDescription: breakglass test\n' \
		"$PKG" >"$T/deb/DEBIAN/control"
	dpkg-deb -b "$T/deb" "$T/dummy.deb" >/dev/null 2>&1
	sed -e "s|/usr/local/bin/breakglass|$BREAKGLASS|; s|/etc/breakglass/freeze.state|$PUB|; s|SYSTEM|web1|" \
		"$ROOT/contrib/freeze/99breakglass-freeze" >"$T/apt-hook.conf"
	# other runs on this machine may hold the dpkg lock for a moment: wait for it
	aptget() { apt-get -c "$T/apt-hook.conf" -y -q -o Dpkg::Use-Pty=0 -o DPkg::Lock::Timeout=120 "$@"; }
	expect 100 "apt refuses to change packages on a frozen host" aptget install "$T/dummy.deb"
	cat "$T/out" "$T/err" | grep -q "frozen: T-1" && ok "the hook said why" || not_ok "the hook said why"
	err_has "Pre-Invoke" "apt names the hook that refused"
	dpkg -s "$PKG" >/dev/null 2>&1 && not_ok "nothing was installed" || ok "nothing was installed"
fi

# the emergency ends: closing the ticket lifts the freeze
expect 0 "read grant activates" bg grant request T-1 --kind ssh --system web1 --account hotfix \
	--read /var/log/nginx --reason "logs"
bg grant activate G-1 >/dev/null
bg smoke T-1 --result pass --notes "checkout works" >/dev/null
bg revoke G-1 --reason done >/dev/null
for i in secrets-rotated branch-merged staging-applied runbook-updated; do
	bg cleanup T-1 $i --na --reason "test" >/dev/null
done
bg cleanup T-1 followup-ticket --done --note "SHOP-1" >/dev/null
approve_as owner T-1 resolved || exit 1
expect 0 "close" bg ticket close T-1
expect 0 "not frozen after close" bg freeze status --project shop
expect 0 "the published state says so" bg freeze check --state "$PUB" --system web1
grep -q '^frozen:' "$PUB" && not_ok "no frozen line left" || ok "no frozen line left"
expect 0 "the pipeline deploys after close" sh "$CI" "$T/ci" "root@127.0.0.1:$PORT" shop main
if [ -n "${PKG:-}" ]; then
	expect 0 "apt installs once the freeze has ended" aptget install "$T/dummy.deb"
	dpkg -r "$PKG" >/dev/null 2>&1
fi

# access granted keeps the freeze when the confirmation lapses; a lapsed
# confirmation with no access ends it
sed -i 's/^approval-ttl:.*/approval-ttl: 1h/' "$BREAKGLASS_HOME/config"
write_intake
sed -i 's/^system: web1/system: db1/' "$T/intake.txt"
bg ticket open --from "$T/intake.txt" >/dev/null
approve_as owner T-2 confirm || exit 1
bg grant request T-2 --kind ssh --system db1 --account hotfix --read /var/log/mysql --reason x >/dev/null
bg grant activate G-2 >/dev/null
bg ticket open --from "$T/intake.txt" --duplicate >/dev/null # the same intake, a second ticket
approve_as owner T-3 confirm || exit 1
later=$(date -u -d '+2 hours' +%Y-%m-%dT%H:%M:%SZ)
expect 1 "two hours on, the ticket with access still freezes" \
	env BREAKGLASS_TESTING=1 BREAKGLASS_NOW="$later" "$BREAKGLASS" freeze status --project shop
out_has "frozen: T-2" "T-2 (access granted) is frozen"
if grep -q "T-3" "$T/out"; then not_ok "T-3 (confirmation lapsed, no access) is not"; else ok "T-3 (confirmation lapsed, no access) is not"; fi
done_testing
