#!/bin/sh
# t1016-hostd-clients: what a process of a hotfix account that is not the
# gate (a shell grant's program, say) can do to hostd through its socket,
# which every local account can connect to, with a real OpenSSH sshd on
# 127.0.0.1 for the requests that follow.  Such a client is refused; the
# descriptors it hands hostd are its own, and whatever they are, hostd's
# root process serving it must not stay: here a pipe already full, with
# its own read end as standard input, so that the refusal written to it
# can never be read.  Before the fix each such client held a root process
# for good, and LOGIN_MAX_PER_ACCOUNT (32) of them left the account busy
# for every responder until hostd restarted.
. "$(dirname "$0")/lib.sh"

ACCT=bgtest${BG_TEST_ID:-}-hcl
GROUP=bgtest${BG_TEST_ID:-}-hclgate
host_test_log_fs tmpfs:64m "host set up, hostd started, sshd on"
ticket_planned
approve_as owner T-1 plan || exit 1
responder_key
bg grant request T-1 --kind ssh --system web1 --account "$ACCT" --read "$SRV" \
	--command "/bin/echo g1-marker" --ttl 1h --reason "read" >/dev/null
approve_as owner T-1 plan 2>/dev/null || true
bg grant activate G-1 >/dev/null
bg grant cert G-1 --pubkey "$T/user.pub" -o "$T/g1.pub" 2>/dev/null
expect 0 "a command through sshd, the gate and hostd" as_cert "$T/g1.pub" /bin/echo g1-marker
out_has "^g1-marker" "it ran"

uid=$(id -u "$ACCT")
hostd=$(cat "$T/hostd.sock.pid")
# hostd's children serving the account (their effective uid is the account's)
serving() { ps -o euid= --ppid "$hostd" | awk -v u="$uid" '$1 == u' | wc -l; }
cat >"$T/client.py" <<'EOF'
import array, fcntl, os, socket, sys
n = int(sys.argv[2])
for i in range(n):
    r, w = os.pipe()
    fcntl.fcntl(w, fcntl.F_SETFL, os.O_NONBLOCK)
    try:
        while True:
            os.write(w, b"x" * 65536)
    except BlockingIOError:
        pass
    fcntl.fcntl(w, fcntl.F_SETFL, 0)  # blocking again: a write to it waits
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sys.argv[1])
    s.sendmsg([b"G"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [r, w, w]))])
    s.close(); os.close(r); os.close(w)
print("sent", n)
EOF
chmod 0644 "$T/client.py"
expect 0 "the account's own client hands hostd a full pipe 32 times" \
	setpriv --reuid="$ACCT" --regid="$(id -g "$ACCT")" --init-groups \
	/usr/bin/python3 "$T/client.py" "$T/hostd.sock" 32
out_has "^sent 32" "all sent"
left=
for i in $(seq 1 120); do
	left=$(serving)
	[ "$left" = 0 ] && break
	sleep 0.5
done
[ "$left" = 0 ] && ok "no root process of hostd stays serving them (after $((i / 2))s)" ||
	not_ok "no root process of hostd stays serving them ($left left after 60 s)"
# their refusals are on the record: not a gate, or (hostd is slower than
# the client under ASan and load) a process already gone when looked at;
# a connection over the account's 32 is answered busy, not recorded
grep -qE '"event":"gate.refuse".*(did not come from breakglass-gate|the requesting process is gone)' \
	"$T/hostlog/audit.log" &&
	ok "their refusal is in the host log" || not_ok "their refusal is in the host log"
expect 0 "the account is served again, not busy" as_cert "$T/g1.pub" /bin/echo g1-marker
out_has "^g1-marker" "it ran"
expect 0 "the host log verifies" bg audit verify --dir "$T/hostlog"
done_testing
