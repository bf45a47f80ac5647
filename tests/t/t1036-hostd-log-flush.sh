#!/bin/sh
# t1036-hostd-log-flush: a program runs only once its start record is
# durable, through a real OpenSSH sshd on 127.0.0.1 and hostd.  The start
# record is appended (the page cache takes it) and its flush fails: the log's
# device fails the write-back (an ext4 image on a loop device whose backing
# tmpfs is full).  The flush child writes the go byte only once the flush
# succeeded: the program never runs, the responder is told, and hostd
# refuses what follows.
. "$(dirname "$0")/lib.sh"

ACCT=bgtest${BG_TEST_ID:-}-hlk
GROUP=bgtest${BG_TEST_ID:-}-hlkgate
host_test_log_fs ext4-128-failable:16M "host set up, hostd started, sshd on"
fifo_grant

LOG=$T/hostlog/audit.log
log_fs_fail_writes "$LOG" && ok "the log's device fails every write-back from now on" \
	|| not_ok "the log's device fails every write-back from now on"
n0=$(wc -l <"$LOG")
# the program would open a FIFO for reading: a writer finds a reader only
# if it ran
as_cert "$T/g1.pub" /bin/cat "$SRV/fifo" >"$T/out" 2>"$T/err" </dev/null &
bgpid=$!
if timeout 5 sh -c "echo ran >'$SRV/fifo'" 2>/dev/null; then
	not_ok "the program did not run without a durable start record (it opened the FIFO)"
else
	ok "the program did not run without a durable start record"
fi
wait "$bgpid"; rc=$?; bgpid=
[ "$rc" = 1 ] && ok "refused (exit 1)" || not_ok "refused (exit $rc, want 1)"
err_has "host log cannot be written" "the responder is told why"
[ "$(wc -l <"$LOG")" -gt "$n0" ] && grep -q '"event":"gate.start"' "$LOG" \
	&& ok "its start record was appended (the page cache took it): the flush is what failed" \
	|| not_ok "its start record was appended (the page cache took it): the flush is what failed"
n=$(pgrep -u "$ACCT" -x cat | wc -l)
[ "$n" = 0 ] && ok "no process of the program left waiting" || not_ok "no process of the program left waiting ($n)"
expect 1 "the next request is refused: the log failed" as_cert "$T/g1.pub" /bin/echo g1-marker
if grep -q '^g1-marker' "$T/out"; then not_ok "and runs nothing"; else ok "and runs nothing"; fi
done_testing
