#!/bin/sh
# t1100-rollback: snapshots and exact rollback of a tree the hotfix has
# mangled - text, binary, symlinks (in scope and pointing out), a directory
# swapped for a symlink to /etc, hard links, empty directories, modes,
# owners; dry run; undo; kill -9 midway and rerun; a file changing while it
# is snapshotted; a full disk.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || { echo "1..0 # needs root (owners, tmpfs)"; exit 1; }

A=$T/app
H=$T/host
mkdir -p "$A/dir1" "$A/empty" "$A/dir2" "$H"
printf 'hello\n' >"$A/text.txt"
head -c 100000 /dev/urandom >"$A/bin.dat"
printf 'nested\n' >"$A/dir1/nested.txt"
printf 'in dir2\n' >"$A/dir2/keep.txt"
ln -s text.txt "$A/link-in"
ln -s /etc/passwd "$A/link-out"
ln -s . "$A/self"
printf 'shared\n' >"$A/hard1"; ln "$A/hard1" "$A/hard2"
printf 'secret\n' >"$A/secret.txt"; chmod 0600 "$A/secret.txt"; chown nobody:nogroup "$A/secret.txt"
touch -d '2026-01-02 03:04:05' "$A/text.txt"
printf 'moon\n' >"$A/old.txt"; touch -d '1969-07-20 20:17:40.5 UTC' "$A/old.txt"
ETC_SUM=$(cd /etc && find . -maxdepth 1 -type f -name 'host*' -exec sha256sum {} + | sort | sha256sum)

state() { # state DIR OUT: what rollback must restore, one line per path
	(cd "$1" && find . -mindepth 1 \( -type d -printf '%P|d|%m|%U|%G\n' \) -o \
		\( -type f -printf '%P|f|%m|%U|%G|%s|%T@\n' \) -o \( -printf '%P|%y|%U|%G|%l\n' \) | sort
	 find . -type f | sort | while read -r f; do echo "$f $(sha256sum <"$f" | cut -c1-64)"; done) >"$2"
}
same() { if cmp -s "$1" "$2"; then ok "$3"; else not_ok "$3"; diff "$1" "$2" | head -20 | sed 's/^/#   /'; fi; }

state "$A" "$T/s0"
expect 0 "snapshot" bg snapshot T-1 --grant G-1 --audit-dir "$H" "$A"
S1=$(cut -d: -f1 "$T/out")
out_has "T-1-G-1-00001" "snapshot id names ticket, grant and sequence"
expect 0 "a second snapshot is incremental" bg snapshot T-1 --grant G-1 --audit-dir "$H" --json "$A"
out_has '"copied":0' "nothing copied when nothing changed"

# on a terminal a long snapshot shows a progress bar; otherwise it is quiet
mkdir -p "$T/many"; for i in $(seq 1 50); do echo "$i" >"$T/many/f$i"; done
BREAKGLASS_TESTING=1 BREAKGLASS_TEST_PROGRESS_NOW=1 script -qec "$BREAKGLASS snapshot T-2 --grant G-2 --audit-dir $H $T/many" /dev/null \
	| tr '\r' '\n' >"$T/out"
out_has '^  \[####################\] 100%  50/50 files' "progress bar on a terminal: bar, files done of total"
out_has 'MiB/s  ETA 0:00' "with rate and time left"
script -qec "$BREAKGLASS snapshot T-2 --grant G-2 --audit-dir $H --quiet $T/many" /dev/null | tr '\r' '\n' >"$T/out"
grep -q ETA "$T/out" && not_ok "--quiet hides it" || ok "--quiet hides it"
bg snapshot T-2 --grant G-2 --audit-dir "$H" "$T/many" >"$T/out" 2>"$T/err"
grep -q ETA "$T/err" && not_ok "no progress when stderr is not a terminal" || ok "no progress when stderr is not a terminal"
grep -q "not in the host log" "$T/err" && ok "a store without a host log: warned" || not_ok "a store without a host log: warned"

# the hotfix mangles everything it can
printf 'hello, changed\n' >"$A/text.txt"
head -c 100000 /dev/urandom >"$A/bin.dat"
rm "$A/dir1/nested.txt"
printf 'new\n' >"$A/new.txt"
mkdir -p "$A/newdir/deep"; printf 'x\n' >"$A/newdir/deep/x"
chmod 0644 "$A/secret.txt"; chown root:root "$A/secret.txt"
ln -sfn bin.dat "$A/link-in"
rm -rf "$A/dir2"; ln -s /etc "$A/dir2"
rm "$A/hard2"; printf 'shared\n' >"$A/hard2"
rmdir "$A/empty"
rm "$A/self"
printf 'landed\n' >"$A/old.txt"
state "$A" "$T/s1"

store_state() { (cd "$H/snapshots" && find . -path ./rollback.lock -prune -o -print | sort); }
store_state >"$T/store0"
expect 0 "dry run" bg rollback T-1 --grant G-1 --audit-dir "$H" --dry-run
store_state >"$T/store1"; same "$T/store0" "$T/store1" "dry run wrote nothing to the snapshot store"
out_has "dry run:" "dry run says what it would do"
out_has "delete .*new.txt" "dry run lists the created file for deletion"
out_has "restore .*text.txt" "dry run lists the changed file"
state "$A" "$T/s1b"; same "$T/s1" "$T/s1b" "dry run changed nothing"
expect 0 "dry run as JSON" bg rollback T-1 --grant G-1 --audit-dir "$H" --dry-run --json
perl -MJSON::PP -e 'local $/; my $j = decode_json(<STDIN>);
	my %a = map { ("$_->{action} $_->{what}" => 1) } @{$j->{actions}};
	exit(($j->{dry_run} && $j->{target} =~ /^T-1-G-1-/ && $j->{delete} >= 1
	    && grep { /^delete .*\/new\.txt$/ } keys %a) ? 0 : 1)' <"$T/out" \
	&& ok "JSON: the actions and counts" || not_ok "JSON: the actions and counts"
state "$A" "$T/s1b"; same "$T/s1" "$T/s1b" "JSON dry run changed nothing"
expect 0 "snapshot --list as JSON" bg snapshot --list T-1 --audit-dir "$H" --json
perl -MJSON::PP -e 'local $/; my $j = decode_json(<STDIN>); exit((ref $j eq "ARRAY" && @$j >= 2
	&& !grep { !/^T-1-G-1-/ } @$j) ? 0 : 1)' <"$T/out" \
	&& ok "JSON: T-1's snapshots" || not_ok "JSON: T-1's snapshots"
# without --audit-dir: the config's host-log line, and every error names its path
bg init >/dev/null || exit 1
echo "host-log: $T/nowhere" >>"$BREAKGLASS_HOME/config"
expect 4 "rollback: a host log that is not there" bg rollback T-1 --grant G-1 --dry-run
err_has "no host log at '$T/nowhere'" "names the configured directory"
expect 0 "changes: nothing there" bg changes T-1
out_has "no changes recorded for T-1 on this host (in '$T/nowhere/snapshots/changes')" "says where it looked"
sed -i '/^host-log:/d' "$BREAKGLASS_HOME/config"
echo "host-log: $H" >>"$BREAKGLASS_HOME/config"
expect 0 "snapshot --list reads the config's host-log" bg snapshot --list T-1
out_has "^T-1-G-1-00001" "lists T-1's snapshots from it"
expect 0 "rollback --dry-run reads the config's host-log" bg rollback T-1 --grant G-1 --dry-run
out_has "delete .*new.txt" "and finds the snapshots"
printf 'host-log: web1 %s\nhost-log: web2 %s\n' "$H" "$T/nowhere" >>"$BREAKGLASS_HOME/config"
sed -i "\|^host-log: $H\$|d" "$BREAKGLASS_HOME/config"
expect 2 "several host logs: which is this host is not guessed" bg rollback T-1 --grant G-1 --dry-run
err_has "names 2 host logs, one per host: give this host's with --audit-dir" "says how"
sed -i '/^host-log:/d' "$BREAKGLASS_HOME/config"

expect 0 "rollback" bg rollback T-1 --grant G-1 --audit-dir "$H"
out_has "undo with: breakglass rollback T-1 --snapshot" "says how to undo"
PRE=$(sed -n 's/.*--snapshot \(T-[^ ]*\).*/\1/p' "$T/out")
state "$A" "$T/s2"; same "$T/s0" "$T/s2" "tree exactly as snapshotted (bytes, modes, owners, times, links)"
[ "$(stat -c %i "$A/hard1")" = "$(stat -c %i "$A/hard2")" ] && ok "hard links re-linked" || not_ok "hard links re-linked"
[ -L "$A/link-out" ] && [ "$(readlink "$A/link-out")" = /etc/passwd ] && ok "symlink out restored as a link" || not_ok "symlink out restored as a link"
[ "$(readlink "$A/self")" = . ] && ok "a link to . restored" || not_ok "a link to . restored"
[ -d "$A/dir2" ] && [ ! -L "$A/dir2" ] && ok "symlink planted over a directory replaced by the directory" || not_ok "symlink planted over a directory replaced by the directory"
[ "$(cd /etc && find . -maxdepth 1 -type f -name 'host*' -exec sha256sum {} + | sort | sha256sum)" = "$ETC_SUM" ] \
	&& ok "nothing outside the tree was touched" || not_ok "nothing outside the tree was touched"
[ ! -e "$H/snapshots/rollback.journal" ] && ok "journal removed after success" || not_ok "journal removed after success"

expect 0 "undo the rollback" bg rollback T-1 --snapshot "$PRE" --audit-dir "$H"
state "$A" "$T/s3"; same "$T/s1" "$T/s3" "undo brings the hotfix's state back exactly"
expect 0 "and roll back again" bg rollback T-1 --grant G-1 --audit-dir "$H"
state "$A" "$T/s4"; same "$T/s0" "$T/s4" "rolled back again"

expect 0 "rollback of one path" bg rollback T-1 --grant G-1 --audit-dir "$H" --path "$A/text.txt" --dry-run
expect 2 "a relative --path is refused" bg rollback T-1 --grant G-1 --audit-dir "$H" --path text.txt
expect 2 "a snapshot of another ticket is refused" bg rollback T-2 --snapshot "$S1" --audit-dir "$H"

# kill -9 in the middle, then run it again
i=0; while [ $i -lt 40 ]; do printf "file %d\n" $i >"$A/f$i.txt"; printf 'm\n' >>"$A/text.txt"; i=$((i + 1)); done
state "$A" "$T/s5"
BREAKGLASS_TESTING=1 BREAKGLASS_TEST_ROLLBACK_DELAY_MS=100 "$BREAKGLASS" rollback T-1 --grant G-1 --audit-dir "$H" >/dev/null 2>&1 &
rbpid=$!
sleep 0.3
while [ ! -e "$H/snapshots/rollback.journal" ] && kill -0 $rbpid 2>/dev/null; do sleep 0.05; done
sleep 0.4
kill -0 $rbpid 2>/dev/null && ok "rollback still running when killed" || not_ok "rollback still running when killed"
kill -9 $rbpid 2>/dev/null; wait $rbpid 2>/dev/null
[ -e "$H/snapshots/rollback.journal" ] && ok "a killed rollback leaves its journal" || not_ok "a killed rollback leaves its journal"
state "$A" "$T/s5k"; cmp -s "$T/s5k" "$T/s0" && not_ok "the kill left a half-done tree" || ok "the kill left a half-done tree"
PRE2=$(sed -n 's/^pre: //p' "$H/snapshots/rollback.journal")
expect 0 "rerun finishes it" bg rollback T-1 --grant G-1 --audit-dir "$H"
err_has "finishing the interrupted rollback" "says it is finishing"
state "$A" "$T/s6"; same "$T/s0" "$T/s6" "after kill -9 and rerun: exactly the snapshot"
expect 0 "the interrupted rollback can still be undone" bg rollback T-1 --snapshot "$PRE2" --audit-dir "$H"
state "$A" "$T/s7"; same "$T/s5" "$T/s7" "undo after the crash restores the state before it"
bg rollback T-1 --grant G-1 --audit-dir "$H" >/dev/null 2>&1

# a file that keeps changing while it is copied: no snapshot, and a clear reason
head -c 30000000 /dev/zero >"$A/grow.log"
( while :; do echo x >>"$A/grow.log"; done ) &
gpid=$!
sleep 0.2
n0=$(ls "$H/snapshots/"*.manifest | wc -l)
bg snapshot T-1 --grant G-9 --audit-dir "$H" "$A" >"$T/out" 2>"$T/err"; rc=$?
kill $gpid; wait $gpid 2>/dev/null
[ "$rc" -ne 0 ] && ok "snapshot of a file that keeps changing fails" || not_ok "snapshot of a file that keeps changing fails"
err_has "keeps changing" "says the file keeps changing"
[ "$(ls "$H/snapshots/"*.manifest | wc -l)" = "$n0" ] && ok "no manifest for a failed snapshot" || not_ok "no manifest for a failed snapshot"
rm -f "$A/grow.log"

# a full disk: the snapshot fails cleanly and leaves nothing usable
mkdir -p "$T/small/snapshots"
mount -t tmpfs -o size=256k tmpfs "$T/small/snapshots" || { not_ok "tmpfs mounted"; done_testing; exit 1; }
head -c 1000000 /dev/urandom >"$A/big.bin"
bg snapshot T-1 --grant G-1 --audit-dir "$T/small" "$A" >"$T/out" 2>"$T/err"; rc=$?
[ "$rc" -ne 0 ] && ok "snapshot on a full disk fails" || not_ok "snapshot on a full disk fails"
err_has "disk full" "says the disk is full"
ls "$T/small/snapshots/"*.manifest >/dev/null 2>&1 && not_ok "no manifest on a full disk" || ok "no manifest on a full disk"
# a dry run still works there: it stores nothing
mkdir -p "$T/tiny"; printf 'one\n' >"$T/tiny/f"
rm -rf "$T/small/snapshots/"*
expect 0 "a small snapshot fits" bg snapshot T-3 --grant G-3 --audit-dir "$T/small" "$T/tiny"
head -c 1000000 /dev/zero >"$T/small/snapshots/fill" 2>/dev/null
printf 'two\n' >"$T/tiny/f"
expect 0 "dry run of a rollback on a full disk" bg rollback T-3 --grant G-3 --audit-dir "$T/small" --dry-run
out_has "restore .*tiny/f" "and says what it would restore"
umount "$T/small/snapshots"
done_testing
