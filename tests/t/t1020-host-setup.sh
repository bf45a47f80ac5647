#!/bin/sh
# t1020-host-setup: what `host setup` writes finds its way, with sshd's own
# defaults (StrictModes yes, unlike the other host tests).  The config
# `init` writes names every key, commented, with its default; the forced
# command reaches the hostd that host setup starts on a non-default socket
# (--socket added to the gate command; a gate command for another socket
# refused), hostd's configuration is named by root alone (its command line,
# the systemd drop-in); and a principals file sshd's StrictModes would
# refuse (under /tmp, writable by others) is refused by host setup, naming
# the directory and the fix, while a login through the real sshd works
# with --etc under root-only directories.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || { echo "1..0 # this test creates an account and runs sshd: run it as root"; exit 1; }
[ -x /usr/sbin/sshd ] || { echo "not ok 1 - sshd is installed (scripts/install-deps)"; echo "1..1"; exit 1; }

ACCT=bgtest${BG_TEST_ID:-}-strict
GROUP=bgtest${BG_TEST_ID:-}-sgate
# the host's files where sshd's StrictModes accepts them: / and /run are
# root's, 0755
D=/run/bgtest${BG_TEST_ID:-}-t1020
. "$(dirname "$0")/../../scripts/lib-host.sh"
cleanup_host() {
	host_down "$D" "$ACCT" "$GROUP"
	rm -rf "$D" "$T"
}
trap cleanup_host EXIT
host_down "$D" "$ACCT" "$GROUP"
rm -rf "$D"

# item 3: the home's config names every key
setup_home
for k in krl-publish sudoers-dir host-log freeze-publish webauthn-origin notify; do
	grep -q "^#$k: " "$BREAKGLASS_HOME/config" && ok "init's config names $k, commented" ||
		not_ok "init's config names $k, commented"
done
cp "$BREAKGLASS_HOME/config" "$T/config.orig"
sed -i -e 's/^#krl-publish:/krl-publish:/' -e 's/^#sudoers-dir:/sudoers-dir:/' \
	-e 's/^#host-log:/host-log:/' "$BREAKGLASS_HOME/config"
expect 0 "the defaults it shows are valid values" bg project list
cp "$T/config.orig" "$BREAKGLASS_HOME/config"

# item 3: the forced command reaches the socket hostd listens on
mkdir -p "$D/bin" "$D/etc" /run/sshd
chmod 755 "$D"
cp "$BREAKGLASS" "$D/bin/breakglass"
cp "$(dirname "$BREAKGLASS")/breakglass-gate" "$D/bin/breakglass-gate"
chmod 755 "$D/bin/breakglass" "$D/bin/breakglass-gate"
echo "krl-publish: $D/etc/revoked.krl" >>"$BREAKGLASS_HOME/config"
# the default: breakglass-gate, the small binary, for both of sshd's commands
grep -q "^gate-command: /usr/local/bin/breakglass-gate\$" "$BREAKGLASS_HOME/config" \
	&& ok "init's config names breakglass-gate as the forced command" \
	|| not_ok "init's config names breakglass-gate as the forced command"
sed -i "s|^gate-command:.*|gate-command: $D/bin/breakglass-gate|" "$BREAKGLASS_HOME/config"
expect 0 "host setup with breakglass-gate" "$D/bin/breakglass" host setup --account "$ACCT" \
	--etc "$D/etc" --socket "$D/hostd.sock" --sshd-dir "$D/sshd.d"
out_has "ForceCommand $D/bin/breakglass-gate --socket $D/hostd.sock\$" \
	"the forced command is breakglass-gate, on the socket given"
out_has "AuthorizedPrincipalsCommand $D/bin/breakglass-gate principals --etc $D/etc " \
	"the principals command is breakglass-gate beside breakglass"
out_has "^ExecStart=$D/bin/breakglass hostd --config $D/etc/gate.conf --socket $D/hostd.sock\$" \
	"hostd is breakglass beside breakglass-gate"
mkdir -p "$T/elsewhere"
cp "$D/bin/breakglass-gate" "$T/elsewhere/breakglass-gate"
if [ ! -d /run/systemd/system ]; then
	expect 2 "--apply refuses a forced command hostd would not serve" "$D/bin/breakglass" host setup \
		--account "$ACCT" --etc "$D/etc" --socket "$D/hostd.sock" --sshd-dir "$D/sshd.d" \
		--gate-command "$T/elsewhere/breakglass-gate" --apply
	err_has "install breakglass and breakglass-gate in one directory" "says why"
	[ ! -e "$D/sshd.d/breakglass.conf" ] && ok "nothing was installed" || not_ok "nothing was installed"
fi
# the older forced command, breakglass gate, still works (below: a login)
sed -i "s|^gate-command:.*|gate-command: $D/bin/breakglass gate|" "$BREAKGLASS_HOME/config"
expect 0 "host setup prints what it would install" bg host setup --account "$ACCT" \
	--etc "$D/etc" --socket "$D/hostd.sock" --sshd-dir "$D/sshd.d"
out_has "ForceCommand $D/bin/breakglass gate --socket $D/hostd.sock\$" \
	"the forced command reaches hostd on the socket given"
out_has "^ExecStart=$D/bin/breakglass hostd --config $D/etc/gate.conf --socket $D/hostd.sock\$" \
	"the systemd drop-in names hostd's configuration (root's alone)"
expect 2 "a gate command for another socket is refused" bg host setup --account "$ACCT" \
	--etc "$D/etc" --socket "$D/hostd.sock" --gate-command "$D/bin/breakglass gate --socket /run/x.sock"
err_has "would miss hostd" "says the forced command would miss hostd"
# sshd runs the principals command only from a root-owned path: a dry run
# says so and still prints; --apply refuses (a clone under /tmp is one)
cp "$(dirname "$BREAKGLASS")/breakglass-gate" "$T/unsafe-breakglass"
expect 0 "a dry run with a principals command under /tmp still prints" bg host setup \
	--account "$ACCT" --etc "$D/etc" --socket "$D/hostd.sock" --sshd-dir "$D/sshd.d" \
	--principals-command "$T/unsafe-breakglass"
err_has "note: sshd would not run $T/unsafe-breakglass" "and notes that --apply would refuse"
expect 2 "--apply refuses it" bg host setup --account "$ACCT" --etc "$D/etc" \
	--socket "$D/hostd.sock" --sshd-dir "$D/sshd.d" --principals-command "$T/unsafe-breakglass" --apply
err_has "sshd would not run $T/unsafe-breakglass as its AuthorizedPrincipalsCommand" "says why"

# item 4: sshd with its defaults (StrictModes yes)
ssh-keygen -q -t ed25519 -N '' -f "$D/hostkey" </dev/null >/dev/null 2>&1
cat >"$D/sshd_config" <<EOT
ListenAddress 127.0.0.1
HostKey $D/hostkey
PidFile $D/sshd.pid
UsePAM no
LogLevel VERBOSE
Include $D/sshd.d/*.conf
EOT
bg approver list --project shop --allowed-signers >"$T/approvers"
setup() {
	"$D/bin/breakglass" host setup --account "$ACCT" --create-accounts --apply --etc "$1" \
		--socket "$D/hostd.sock" --sshd-dir "$D/sshd.d" --sshd-config "$D/sshd_config" \
		--audit-dir "$D/hostlog" --group "$GROUP" --approvers "$T/approvers" --system web1
}
expect 4 "--etc under /tmp (writable by others) is refused" setup "$T/etc"
err_has "StrictModes" "names sshd's check"
err_has "directory '/tmp' is writable by others (mode 1777)" "names the directory and its mode"
err_has "the default /etc/breakglass" "and the fix"
[ ! -e "$D/sshd.d/breakglass.conf" ] && ok "the drop-in was removed again" || not_ok "the drop-in was removed again"
expect 0 "--etc under root-only directories is accepted" setup "$D/etc"
out_has "hostd started on $D/hostd.sock" "hostd started on the socket given"
HOST_PORT=""
for _try in 1 2 3 4 5 6 7 8; do
	_p=$(( 20000 + ($$ * 13 + _try * 7919) % 40000 ))
	rm -f "$D/sshd.pid"
	if /usr/sbin/sshd -f "$D/sshd_config" -o "Port $_p" -E "$D/sshd.log" && sleep 0.3 &&
	   [ -s "$D/sshd.pid" ]; then
		HOST_PORT=$_p
		break
	fi
done
[ -n "$HOST_PORT" ] && ok "sshd (StrictModes yes) on 127.0.0.1:$HOST_PORT" || { not_ok "sshd started"; done_testing; exit 1; }
mkdir -p "$T/srv"
chmod 755 "$T/srv"
echo "strict-modes-login-works" >"$T/srv/app.log"
open_ticket
approve_as owner T-1 confirm || exit 1
ssh-keygen -q -t ed25519 -N '' -C responder -f "$T/user"
bg grant request T-1 --kind ssh --system web1 --account "$ACCT" --read "$T/srv" --ttl 1h \
	--reason "read" >/dev/null
bg grant activate G-1 >/dev/null
bg grant cert G-1 --pubkey "$T/user.pub" -o "$T/cert.pub" 2>/dev/null
expect 0 "a login through sshd with StrictModes yes" ssh -o StrictHostKeyChecking=no \
	-o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR -o ConnectTimeout=5 \
	-p "$HOST_PORT" -i "$T/user" -o CertificateFile="$T/cert.pub" "$ACCT@127.0.0.1" cat "$T/srv/app.log"
out_has "strict-modes-login-works" "the gate reached hostd, which served it"
if grep -q "bad ownership or modes" "$D/sshd.log"; then not_ok "sshd refused nothing"; else ok "sshd refused nothing"; fi

done_testing
