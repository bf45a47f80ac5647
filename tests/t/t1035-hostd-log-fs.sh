#!/bin/sh
# t1035-hostd-log-fs: what hostd loads ahead and prepares ahead, against a
# host log on a file system like the small log partitions older mke2fs
# made (ext4, 128-byte inodes: timestamps in whole seconds), through a real
# OpenSSH sshd on 127.0.0.1.  A host key replaced in place within the second
# hostd loaded it is the key used (not the one hostd holds), and a log whose
# file system went read-only (errors=remount-ro) runs no program: the
# program's process, made before its start record, runs nothing without it.
. "$(dirname "$0")/lib.sh"

ACCT=bgtest${BG_TEST_ID:-}-hlf
GROUP=bgtest${BG_TEST_ID:-}-hlfgate
host_test_log_fs ext4-128:16M "host set up, hostd started, sshd on"
fifo_grant

# --- the host key, replaced in place within the second hostd loaded it ---
# (a second key in the same format and of the same length: the file keeps
# its inode, size and, on this file system, its times to the second)
K=$T/hostlog/host.key
cp "$K" "$T/key1"
ssh-keygen -q -t ed25519 -N '' -C breakglass-host -f "$T/key2"
[ "$(stat -c %s "$T/key2")" = "$(stat -c %s "$K")" ] && ok "a second host key of the same length" \
	|| not_ok "a second host key of the same length"
same=
for try in 1 2 3; do
	hostd_stop "$T"
	s=$(date +%s)
	while [ "$(date +%s)" = "$s" ]; do sleep 0.02; done
	cat "$T/key1" >"$K"
	st0=$(stat -c '%d %i %s %Y %Z' "$K")
	hostd_start "$T" || break
	cat "$T/key2" >"$K"
	[ "$(stat -c '%d %i %s %Y %Z' "$K")" = "$st0" ] && { same=1; break; }
done
[ -n "$same" ] && ok "host.key replaced with device, inode, size and times unchanged (try $try)" \
	|| not_ok "host.key replaced with device, inode, size and times unchanged"
n0=$(wc -l <"$T/hostlog/audit.log")
expect 1 "a host key that does not sign this log: refused (the key on disk is used)" \
	as_cert "$T/g1.pub" /bin/echo g1-marker
err_has "host log cannot be written: nothing was run" "because the log cannot be appended to with it"
if grep -q '^g1-marker' "$T/out"; then not_ok "nothing ran (it ran: signed with the key hostd had loaded)"
else ok "nothing ran"; fi
[ "$(wc -l <"$T/hostlog/audit.log")" = "$n0" ] && ok "nothing appended with the key hostd had loaded" \
	|| not_ok "nothing appended with the key hostd had loaded"
cat "$T/key1" >"$K"
expect 0 "the log's own key back in place: served" as_cert "$T/g1.pub" /bin/echo g1-marker
out_has "^g1-marker" "it ran"
expect 0 "the host log verifies" bg audit verify --dir "$T/hostlog"

# --- the log's file system read-only (an ext4 error, errors=remount-ro) ---
# the program's process is made before its start record is written; it
# must run nothing when that record cannot be written.  The program would
# open a FIFO for reading: a writer finds a reader only if it ran.
mount -o remount,ro "$T/hostlog" && ok "the log's file system remounted read-only" \
	|| not_ok "the log's file system remounted read-only"
n0=$(wc -l <"$T/hostlog/audit.log")
as_cert "$T/g1.pub" /bin/cat "$SRV/fifo" >"$T/out" 2>"$T/err" </dev/null &
bgpid=$!
if timeout 3 sh -c "echo ran >'$SRV/fifo'" 2>/dev/null; then
	not_ok "the program did not run without its start record (it opened the FIFO)"
else
	ok "the program did not run without its start record"
fi
wait "$bgpid"; rc=$?; bgpid=
[ "$rc" = 1 ] && ok "refused (exit 1)" || not_ok "refused (exit $rc, want 1)"
err_has "host log cannot be written" "the responder is told why"
[ "$(wc -l <"$T/hostlog/audit.log")" = "$n0" ] && ok "nothing in the log" || not_ok "nothing in the log"
n=$(pgrep -u "$ACCT" -x cat | wc -l)
[ "$n" = 0 ] && ok "no process of the program left waiting" || not_ok "no process of the program left waiting ($n)"
expect 1 "and the next request is refused" as_cert "$T/g1.pub" /bin/echo g1-marker
err_has "every request is refused until it can" "says the log cannot be written"
mount -o remount,rw "$T/hostlog"
expect 0 "writable again: served" as_cert "$T/g1.pub" /bin/echo g1-marker
out_has "^g1-marker" "it ran"
expect 0 "host log export" bg audit export --dir "$T/hostlog"
out_has '"event":"gate.resume".*host log resumed: [1-9][0-9]* requests refused' \
	"the log resumes with a record of the refusal"
expect 0 "the host log verifies" bg audit verify --dir "$T/hostlog"

# --- a command's end record while what it wrote is captured ---
# the changes of a command that wrote are captured after it ends (a
# snapshot: seconds for a large tree); its end record is in the log before
# that, not held until it is done: a serving process ended meanwhile (a
# restart of hostd's unit, the OOM killer; here root's kill) loses the
# capture, not the record of how the command ended
mkdir -p "$SRV/tree" "$T/w"; chown "$ACCT" "$T/w"
(cd "$SRV/tree" && seq 1 20000 | sed 's/^/f-/' | xargs touch)
chmod -R a+rX "$SRV"
bg grant request T-1 --kind ssh --system web1 --account "$ACCT" --read "$SRV" --write "$T/w" \
	--command "/bin/cp -r $SRV/tree $T/w/copy" --ttl 1h --reason "copy" >/dev/null
approve_as owner T-1 plan 2>/dev/null || true
bg grant activate G-2 >/dev/null
bg grant cert G-2 --pubkey "$T/user.pub" -o "$T/g2.pub" 2>/dev/null
as_cert "$T/g2.pub" /bin/cp -r "$SRV/tree" "$T/w/copy" >"$T/out" 2>"$T/err" </dev/null &
bgpid=$!
cpid= server=
for i in $(seq 1 500); do
	cpid=$(pgrep -u "$ACCT" -x cp | head -1)
	[ -n "$cpid" ] && { server=$(ps -o ppid= -p "$cpid" | tr -d ' '); break; }
	sleep 0.01
done
[ -n "$server" ] && [ "$(ps -o ruid= -p "$server" | tr -d ' ')" = 0 ] && ok "the command runs, served by a root process" \
	|| not_ok "the command runs, served by a root process"
while [ -n "$cpid" ] && kill -0 "$cpid" 2>/dev/null; do sleep 0.01; done
# the command has ended; its end record is written as soon as it is made,
# before the capture of what it wrote (seconds for 20,000 files): kill the
# serving process once that record is there (before, it was held until the
# capture had ended, so it came with the changes, or not at all)
while [ -n "$server" ] && kill -0 "$server" 2>/dev/null &&
    ! grep -q '"event":"gate.end".*"request":"/bin/cp -r ' "$T/hostlog/audit.log"; do
	sleep 0.005
done
[ -n "$server" ] && kill -9 "$server"
wait "$bgpid"; bgpid=
[ "$(ls "$T/w/copy" | wc -l)" = 20000 ] && ok "it copied the tree" || not_ok "it copied the tree"
grep '"request":"/bin/cp -r ' "$T/hostlog/audit.log" >"$T/cp.log"
grep -q '"event":"gate.changes"' "$T/cp.log" && not_ok "the serving process ended while the changes were captured (too late)" \
	|| ok "the serving process ended while the changes were captured"
grep -q '"event":"gate.start"' "$T/cp.log" && ok "the command's start record is in the log" \
	|| not_ok "the command's start record is in the log"
grep -q '"event":"gate.end","actor":"[^"]*","detail":{[^}]*"status":0' "$T/cp.log" \
	&& ok "and its end record, with its status" || not_ok "and its end record, with its status"
expect 0 "the host log verifies" bg audit verify --dir "$T/hostlog"
done_testing
