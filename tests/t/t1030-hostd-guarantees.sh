#!/bin/sh
# t1030-hostd-guarantees: issue 14's remaining host guarantees, through a
# real OpenSSH sshd on 127.0.0.1 and hostd: no input hidden from the
# owner, requests logged whole and every name escaped, grants on one
# account kept apart, snapshots that cost what changed, a per-uid cap on
# hostd's children.
. "$(dirname "$0")/lib.sh"

ACCT=bgtest${BG_TEST_ID:-}-hg
GROUP=bgtest${BG_TEST_ID:-}-hggate
host_test_cleanup() { [ -n "${HOME_ID:-}" ] && rm -f /etc/sudoers.d/breakglass-"$HOME_ID"-G-*; }
# the host log on a file system of its own (filled at the end)
host_test_log_fs tmpfs:64m "host set up, hostd started, sshd on"
mkdir -m 0755 "$SRV/w" && chown "$ACCT" "$SRV/w"
ticket_planned
approve_as owner T-1 plan || exit 1
responder_key
# grant N ARGS...: request, approve, activate grant G-N, its certificate in $T/gN.pub
grant() {
	_n=$1; shift
	bg grant request T-1 --kind ssh --system web1 --account "$ACCT" "$@" --ttl 1h \
		--reason "grant $_n" >/dev/null || return 1
	# a writing grant waits for the owner's signature on the plan; a read
	# grant has nothing new to sign
	approve_as owner T-1 plan 2>/dev/null || true
	bg grant activate "G-$_n" >/dev/null || return 1
	bg grant cert "G-$_n" --pubkey "$T/user.pub" -o "$T/g$_n.pub" 2>/dev/null
}
linger() { _i=0; while [ $_i -lt $(($1 * 5)) ]; do sleep 0.2; echo || return 0; _i=$((_i + 1)); done; }
# input events of a recording, one per line (the JSON string, escapes kept)
inputs() { grep '^\[[0-9.]*, "i", ' "$1"; }

# item 3: no input hidden from the owner.  Echo off is the account's to
# set: it is no sign of a password.  Every typed byte is an "i" event, an
# output flood drops no input, and a secret typed a key at a time is
# still redacted whole.
grant 1 --tier shell --read "$SRV" --write "$SRV/w" || { not_ok "shell grant"; done_testing; exit 1; }
P=pro; P=${P}of
{
	sleep 1
	echo "stty -echo; touch $SRV/w/${P}-1; exec sh"
	sleep 0.5
	echo "touch $SRV/w/${P}-2"
	echo "head -c 30000000 /dev/zero | tr '\\\\0' x; echo"
	echo "touch $SRV/w/flood-${P}"
	printf 'echo D'; sleep 0.3; printf 'B_PASSWORD=Sl0wT'; sleep 0.3; printf 'yp3dS3cret!\n'
	echo 'exit 0'
	linger 10
} | timeout 60 $SSH -tt -o CertificateFile="$T/g1.pub" "$ACCT@127.0.0.1" >"$T/shell.out" 2>&1
[ -e "$SRV/w/${P}-1" ] && [ -e "$SRV/w/${P}-2" ] && [ -e "$SRV/w/flood-${P}" ] \
	&& ok "the commands ran with echo off and after an output flood" \
	|| not_ok "the commands ran with echo off and after an output flood"
REC=$(ls "$T/hostlog/recordings/"T-1-G-1-*.cast 2>/dev/null | head -1)
[ -n "$REC" ] && ok "recording written" || not_ok "recording written"
inputs "$REC" | grep -q "touch $SRV/w/${P}-1" && ok "input typed before echo went off is an input event" \
	|| not_ok "input typed before echo went off is an input event"
inputs "$REC" | grep -q "touch $SRV/w/${P}-2" && ok "input typed with echo off is an input event" \
	|| not_ok "input typed with echo off is an input event"
inputs "$REC" | grep -q "touch $SRV/w/flood-${P}" && ok "input typed during an output flood is an input event" \
	|| not_ok "input typed during an output flood is an input event"
grep -q 'bytes of output not recorded' "$REC" && ok "the flood itself was capped (and marked)" \
	|| not_ok "the flood itself was capped (and marked)"
file_lacks "Sl0wT" "$REC" "a secret typed in pieces is redacted whole"
inputs "$REC" | grep -q 'echo DB_PASSWORD=\[REDACTED' && ok "the redaction is marked in the input event" \
	|| not_ok "the redaction is marked in the input event"
[ "$(grep -c "${P}" "$REC")" -ge 3 ] && ok "'proof' is in the recording" || not_ok "'proof' is in the recording"
# the echo of a command typed during an output flood is kept in the
# recording's output though the flood is dropped: the readable replay shows
# it (sh echoes nothing itself: the terminal's echo, drowned in the flood,
# is all there is of it on screen)
{
	sleep 1
	echo "exec sh"
	sleep 0.5
	echo "head -c 60000000 /dev/zero | tr '\\0' x; echo"
	sleep 0.7 # the flood is over the cap by now
	echo "touch $SRV/w/echo-${P}"
	echo 'exit 0'
	linger 10
} | timeout 60 $SSH -tt -o CertificateFile="$T/g1.pub" "$ACCT@127.0.0.1" >"$T/echo.out" 2>&1
REC3=$(ls -t "$T/hostlog/recordings/"T-1-G-1-*.cast 2>/dev/null | head -1)
[ -e "$SRV/w/echo-${P}" ] && grep -q 'bytes of output not recorded' "$REC3" \
	&& ok "a command typed into a flood ran, and the flood was capped" \
	|| not_ok "a command typed into a flood ran, and the flood was capped"
bg replay "$REC3" --instant --plain >"$T/replay.txt" 2>&1
grep -q "touch $SRV/w/echo-${P}" "$T/replay.txt" && ok "the replay shows the command typed during the flood" \
	|| not_ok "the replay shows the command typed during the flood"
# a line typed with echo off right after a password prompt is masked in
# the recording but sealed to the host key: a printed fake prompt hides
# nothing from the owner (replay --unseal)
{
	sleep 1
	echo "printf '%s: ' Pass\"word\"; stty -echo; read -r x; stty echo; eval \"\$x\""
	sleep 0.5
	echo "touch $SRV/w/sealed-${P}"
	sleep 0.5
	echo 'exit 0'
	linger 8
} | timeout 30 $SSH -tt -o CertificateFile="$T/g1.pub" "$ACCT@127.0.0.1" >"$T/mask.out" 2>&1
[ -e "$SRV/w/sealed-${P}" ] && ok "the command typed after the fake prompt ran" || not_ok "the command typed after the fake prompt ran"
REC2=$(ls -t "$T/hostlog/recordings/"T-1-G-1-*.cast | head -1)
file_lacks "sealed-${P}" "$REC2" "the line after the prompt is not in the recording in clear"
inputs "$REC2" | grep -q '\[masked: [0-9]* bytes typed after a password prompt' && ok "its input event says it was masked" \
	|| not_ok "its input event says it was masked"
expect 0 "replay --unseal opens it with the host key" bg replay "$REC2" --unseal "$T/hostlog/host.key"
out_has "^[0-9.]* s: touch $SRV/w/sealed-${P}$" "the owner sees the command that was typed"
ssh-keygen -q -t ed25519 -N '' -f "$T/otherkey"
expect 1 "another key cannot open it" bg replay "$REC2" --unseal "$T/otherkey"
err_has "cannot open" "says so"
# gate.conf's password-prompt edited while hostd runs: the pattern hostd
# compiled at its start (the default, which this prompt does not match) is
# not the one used
echo 'password-prompt: (?i)secret code: ?$' >>"$T/etc/gate.conf"
{
	sleep 1
	echo "printf '%s: ' 'Secret code'; stty -echo; read -r x; stty echo; eval \"\$x\""
	sleep 0.5
	echo "touch $SRV/w/code-${P}"
	sleep 0.5
	echo 'exit 0'
	linger 8
} | timeout 30 $SSH -tt -o CertificateFile="$T/g1.pub" "$ACCT@127.0.0.1" >"$T/mask.out" 2>&1
sed -i '/^password-prompt:/d' "$T/etc/gate.conf"
[ -e "$SRV/w/code-${P}" ] && ok "the command typed after the edited prompt ran" \
	|| not_ok "the command typed after the edited prompt ran"
REC4=$(ls -t "$T/hostlog/recordings/"T-1-G-1-*.cast | head -1)
file_lacks "code-${P}" "$REC4" "gate.conf's prompt edited while hostd runs is the one used (the line after it masked)"

# item 5: requests logged whole (up to the gate's cap, which refuses
# anything longer), every name escaped: no byte sequence in a name can
# forge a line, a JSON field or a terminal escape; a strict JSON reader
# accepts every line of the host log
grant 2 --read "$SRV" || { not_ok "read grant"; done_testing; exit 1; }
pat=$(head -c 1000 /dev/zero | tr '\0' x)
as_cert "$T/g2.pub" grep -F -i "sec$pat" "$SRV/logs/app.log" >/dev/null 2>&1
expect 0 "host log export" bg audit export --dir "$T/hostlog"
grep -a "\"event\":\"gate.verb\"" "$T/out" | grep -a -q -- "xxx $SRV/logs/app.log\"" \
	&& ok "the record names the file: the request is logged whole" \
	|| not_ok "the record names the file: the request is logged whole"
# an 8,000-byte request of bytes that are not UTF-8 would be logged as
# 32,000 escaped bytes: refused, not cut
big=$(head -c 4000 /dev/zero | tr '\0' '\377')
expect 1 "a request too long to be logged whole is refused" as_cert "$T/g2.pub" grep -F "$big" "$SRV/logs/$big"
err_has "too long to be recorded whole" "says why"
# names that are not UTF-8, a right-to-left override, a C1 CSI
WEIRD=$(printf 'a\377b\342\200\256c\302\233d')
printf 'x\n' >"$SRV/logs/$WEIRD"; chmod a+r "$SRV/logs/$WEIRD"
expect 0 "a file with an invalid, bidi and C1 name is read" as_cert "$T/g2.pub" cat "$SRV/logs/$WEIRD"
expect 1 "a refusal echoing such a name" as_cert "$T/g2.pub" cat "/etc/$WEIRD"
if grep -q "$(printf '\342\200\256')\|$(printf '\302\233')\|$(printf '\377')" "$T/err"; then
	not_ok "the refusal shows the name escaped"
else
	ok "the refusal shows the name escaped"
fi
# and a change set with names holding a newline, an escape and a forged
# diff header, written from a shell session
NL_NAME="evil
+++ forged"
cat >"$SRV/mk.sh" <<'EOT'
printf 'new\n' >"$1/$(printf 'evil\n+++ forged')"
printf 'new\n' >"$1/$(printf 'esc\033]0;t\007\342\200\256\302\233\377')"
EOT
chmod a+r "$SRV/mk.sh"
{
	sleep 1
	echo "sh $SRV/mk.sh $SRV/w"
	echo 'exit 0'
	linger 8
} | timeout 30 $SSH -tt -o CertificateFile="$T/g1.pub" "$ACCT@127.0.0.1" >"$T/w.out" 2>&1
[ -e "$SRV/w/$NL_NAME" ] && ok "the session wrote a file whose name holds a newline" \
	|| not_ok "the session wrote a file whose name holds a newline"
CS=$(ls -t "$T/hostlog/snapshots/changes/"*.txt 2>/dev/null | head -1)
[ -n "$CS" ] && grep -q 'evil' "$CS" && ok "a change set names it" || not_ok "a change set names it"
if grep -q '^ *+++ forged' "$CS" || grep -q "$(printf '\033')\|$(printf '\342\200\256')\|$(printf '\302\233')\|$(printf '\377')" "$CS"; then
	not_ok "no forged diff header, escape, override or raw byte in the change set text"
else
	ok "no forged diff header, escape, override or raw byte in the change set text"
fi
grep -q '^    +++ b/.*/evil%0A+++%20forged$' "$CS" && ok "the diff header shows the name escaped" \
	|| not_ok "the diff header shows the name escaped"
strict_json() { # every line of each file: a strict JSON reader (UTF-8 strict)
	python3 -c '
import json, sys
bad = 0
for f in sys.argv[1:]:
    with open(f, "rb") as h:
        data = h.read()
    lines = data.split(b"\n") if f.endswith(".log") else [data]
    for n, l in enumerate(lines, 1):
        if not l.strip():
            continue
        try:
            json.loads(l.decode("utf-8", errors="strict"))
        except Exception as e:
            print("%s:%d: %s" % (f, n, e)); bad += 1
        for raw in (b"\xe2\x80\xae", b"\xc2\x9b", b"\x1b", b"\xff"):
            if raw in l:
                print("%s:%d: raw %r" % (f, n, raw)); bad += 1
sys.exit(1 if bad else 0)' "$@"
}
expect 0 "a strict JSON reader accepts every line of the host log, none holds a raw escape, override, C1 or invalid byte" \
	strict_json "$T/hostlog/audit.log"
expect 0 "and every change set's JSON" strict_json "$T/hostlog/snapshots/changes/"*.json
expect 0 "the host log verifies" bg audit verify --dir "$T/hostlog"

# item 8: grants on one account kept apart.  sudoers lines are keyed by
# the grant's group, which only what hostd starts for that grant carries:
# another grant's shell on the same account cannot use them.
HOME_ID=$(awk '{ print $2 }' "$BREAKGLASS_HOME/broker.pub" | base64 -d | tail -c 32 | sha256sum | cut -c1-16)
echo "sudoers-dir: /etc/sudoers.d" >>"$BREAKGLASS_HOME/config"
grant 3 --read "$SRV" --sudo "/usr/bin/id -u" || { not_ok "privileged grant"; done_testing; exit 1; }
SUDOERS=/etc/sudoers.d/breakglass-$HOME_ID-G-3
grep -q "^%#[0-9]* ALL=(root) NOTBEFORE=[0-9]*Z NOTAFTER=[0-9]*Z NOEXEC: NOPASSWD: /usr/bin/id -u$" "$SUDOERS" 2>/dev/null \
	&& ok "the drop-in is keyed by the grant's group, not the account" \
	|| not_ok "the drop-in is keyed by the grant's group, not the account ($(tail -1 "$SUDOERS" 2>/dev/null))"
grep -q "^$ACCT " "$SUDOERS" 2>/dev/null && not_ok "no line for the whole account" || ok "no line for the whole account"
expect 0 "the grant's privileged command runs through the gate" as_cert "$T/g3.pub" /usr/bin/id -u
out_has "^0$" "as root"
{
	sleep 1
	echo 'sudo -n /usr/bin/id -u; echo "other-grant-sudo-rc=$?"'
	echo 'exit 0'
	linger 8
} | timeout 30 $SSH -tt -o CertificateFile="$T/g1.pub" "$ACCT@127.0.0.1" >"$T/iso.out" 2>&1
tr -d '\r' <"$T/iso.out" >"$T/out"
out_has "other-grant-sudo-rc=1" "another grant's shell on the same account cannot run G-3's privileged command"
if grep -q '^0$' "$T/out"; then not_ok "nothing ran as root from it"; else ok "nothing ran as root from it"; fi
su -s /bin/sh "$ACCT" -c "sudo -n /usr/bin/id -u" >"$T/out" 2>&1 && not_ok "nor can the account outside hostd" \
	|| ok "nor can the account outside hostd"
expect 0 "revoke the privileged grant" bg revoke G-3 --reason done
[ ! -e "$SUDOERS" ] && ok "its drop-in is removed" || not_ok "its drop-in is removed"
sed -i '/^sudoers-dir:/d' "$BREAKGLASS_HOME/config"

# item 8, F1a: the SSH_USER_AUTH file sshd writes is the account's, so a
# process of the account can rewrite a new login's file before it is read
# and name another grant's certificate.  A session's own processes are held
# off /tmp by Landlock now; the attacker here is a process of the account
# outside any session (as on a host with 'landlock: optional'), watching
# /tmp with inotify.  hostd serves a
# request with the certificate that connection authenticated with only:
# the one sshd's AuthorizedPrincipalsCommand recorded for it, at auth time,
# in a spool only root can write.
M1=f1a; M2=marker
grant 4 --read "$SRV" --command "/bin/echo $M1-$M2" || { not_ok "command grant"; done_testing; exit 1; }
printf 'publickey %s\n' "$(cat "$T/g4.pub")" >"$T/g4.auth"
cc -O2 -o "$T/f1a" "$(dirname "$0")/data/f1a-rewrite-auth.c" && ok "the attacker is built" || not_ok "the attacker is built"
chmod a+rx "$T/f1a"; chmod a+r "$T/g4.auth"
su -s /bin/sh "$ACCT" -c "$T/f1a $T/g4.auth" >"$T/f1a.out" 2>&1 &
apid=$!
sleep 1
: >"$T/f1a-logins"
for i in 1 2 3; do
	as_cert "$T/g2.pub" "/bin/echo" "$M1-$M2" >>"$T/f1a-logins" 2>&1
	sleep 0.5
done
wait $apid
grep -q 'REWROTE sshauth\.' "$T/f1a.out" && ok "the attacker rewrote new logins' SSH_USER_AUTH files" \
	|| not_ok "the attacker rewrote new logins' SSH_USER_AUTH files"
if grep -q "^$M1-$M2" "$T/f1a-logins"; then
	not_ok "no login ran with the certificate the attacker wrote"
else
	ok "no login ran with the certificate the attacker wrote"
fi
grep -q "not the certificate this connection authenticated with" "$T/f1a-logins" \
	&& ok "the rewritten file is refused, saying why" \
	|| not_ok "the rewritten file is refused, saying why ($(tr '\n' ' ' <"$T/f1a-logins" | cut -c1-300))"
expect 0 "a login afterwards is served" as_cert "$T/g4.pub" "/bin/echo" "$M1-$M2"
out_has "^$M1-$M2" "with its own certificate"

# item 7: snapshots cost what changed.  A request in a 3,000-file writable
# directory where nothing changed writes at most 64 KiB to the host log's
# file system (before: ~930 KiB, a whole manifest twice); what changed is
# still captured and loads back whole.
mkdir -p "$SRV/big"
i=0; while [ $i -lt 3000 ]; do printf 'file %d\n' $i >"$SRV/big/f-$i.txt"; i=$((i + 1)); done
chown -R "$ACCT" "$SRV/big"
grant 5 --write "$SRV/big" --command "/bin/true" --command "/bin/rm $SRV/big/f-7.txt" || { not_ok "write grant"; done_testing; exit 1; }
expect 0 "a first request in the 3,000-file directory" as_cert "$T/g5.pub" /bin/true
sync
b0=$(du -sb "$T/hostlog" | cut -f1)
expect 0 "a second request, nothing changed" as_cert "$T/g5.pub" /bin/true
sync
b1=$(du -sb "$T/hostlog" | cut -f1)
echo "# bytes written to the host log for a request that changed nothing: $((b1 - b0))"
[ $((b1 - b0)) -le 65536 ] && ok "it wrote $((b1 - b0)) bytes to the host log (<= 64 KiB)" \
	|| not_ok "it wrote $((b1 - b0)) bytes to the host log (<= 64 KiB)"
grep -l '^base: ' "$T/hostlog/snapshots/"T-1-G-5-*.manifest >/dev/null 2>&1 \
	&& ok "its snapshots are deltas on a full one" || not_ok "its snapshots are deltas on a full one"
expect 0 "a request that removes a file" as_cert "$T/g5.pub" /bin/rm "$SRV/big/f-7.txt"
expect 0 "the changes of the grant" bg changes T-1 --audit-dir "$T/hostlog"
out_has "deleted.*big/f-7.txt" "the change is captured"
expect 0 "rollback plans from a delta snapshot" bg rollback T-1 --grant G-5 --dry-run --audit-dir "$T/hostlog"
out_has "f-7.txt" "and names the changed file"

# F6: an account that opens connections to hostd without end (each held a
# root process for 10 s) holds at most 32 of hostd's children; more are
# refused at once, saying why
HP=$(cat "$T/hostd.sock.pid")
{
	sleep 1
	echo "perl -MIO::Socket::UNIX -e 'for (1..80) { push @s, IO::Socket::UNIX->new(Peer => \$ARGV[0]) } print scalar(@s), qq( connections\\n); sleep 6' $T/hostd.sock"
	sleep 8
	echo 'exit 0'
	linger 4
} | timeout 30 $SSH -tt -o CertificateFile="$T/g1.pub" "$ACCT@127.0.0.1" >"$T/flood.out" 2>&1 &
fpid=$!
sleep 3.5
# (hostd's other children besides: the spare forked ahead of the next
# request, and the database repair it forks every 30 s; requests that have
# ended but are not reaped yet are zombies and hold nothing)
nkids=$(ps --ppid "$HP" -o stat= | grep -vc '^Z')
[ "$nkids" -le 34 ] && ok "hostd holds $nkids children during the flood (cap 32 per account, a spare, a repair)" \
	|| not_ok "hostd holds $nkids children during the flood (cap 32 per account, a spare, a repair)"
expect 1 "a request of that account during the flood is refused" as_cert "$T/g2.pub" cat "$SRV/logs/app.log"
err_has "already has 32 requests open on this host" "says why"
wait $fpid
sleep 1
expect 0 "served again once the connections are gone" as_cert "$T/g2.pub" cat "$SRV/logs/app.log"

# F8: opening a FIFO blocked the request before supervision ran, so a
# request could outlive its grant waiting for a writer; opens never wait now
mkfifo "$SRV/logs/pipe"; chmod a+r "$SRV/logs/pipe"
t0=$(date +%s)
expect 1 "cat of a FIFO is refused" timeout 10 $SSH -o CertificateFile="$T/g2.pub" "$ACCT@127.0.0.1" cat "$SRV/logs/pipe"
err_has "is not a regular file" "says it is not a regular file"
[ $(( $(date +%s) - t0 )) -le 5 ] && ok "at once, without waiting for a writer" || not_ok "at once, without waiting for a writer"
expect 1 "so is tail of it" timeout 10 $SSH -o CertificateFile="$T/g2.pub" "$ACCT@127.0.0.1" tail -f "$SRV/logs/pipe"

# the count of requests refused while the host log cannot be written is
# kept across a restart of hostd (AUDIT_DIR/log-state, overwritten in place)
[ "$(stat -c %s "$T/hostlog/log-state" 2>/dev/null)" = 512 ] && ok "hostd keeps its log state in a file made ahead" \
	|| not_ok "hostd keeps its log state in a file made ahead"
dd if=/dev/zero of="$T/hostlog/rootfill" bs=4k 2>/dev/null
# the head is rewritten in place (no new file): refusals (below the
# reserve) are still recorded while the log's last block has room, until a
# record does not fit and the log fails closed
i=0
while [ $i -lt 24 ] && ! grep -q '^failed: 1$' "$T/hostlog/log-state"; do
	i=$((i + 1))
	as_cert "$T/g2.pub" cat "$SRV/logs/app.log" >/dev/null 2>&1 && break
done
grep -q '^failed: 1$' "$T/hostlog/log-state" && ok "the failure is in the state file" || not_ok "the failure is in the state file"
expect 1 "log full: refused (2)" as_cert "$T/g2.pub" cat "$SRV/logs/app.log"
err_has "host log cannot be written" "says the log cannot be written"
hostd_stop "$T"
hostd_start "$T" && ok "hostd restarted while the log is full" || not_ok "hostd restarted while the log is full"
for i in 3 4; do
	expect 1 "log full, new hostd: refused ($i)" as_cert "$T/g2.pub" cat "$SRV/logs/app.log"
	err_has "host log cannot be written" "says the log cannot be written"
done
rm -f "$T/hostlog/rootfill"
expect 0 "space back: served" as_cert "$T/g2.pub" cat "$SRV/logs/app.log"
expect 0 "host log export" bg audit export --dir "$T/hostlog"
n=$(grep -o 'host log resumed: [0-9]* requests refused' "$T/out" | tail -1 | grep -o '[0-9][0-9]*')
[ "${n:-0}" -ge 4 ] && ok "the resume record counts the $n refused before and after the restart" \
	|| not_ok "the resume record counts those refused before and after the restart (${n:-none})"
grep -q '^failed: 0$' "$T/hostlog/log-state" && ok "and the state file says the log is writable again" \
	|| not_ok "and the state file says the log is writable again"
expect 0 "the host log verifies" bg audit verify --dir "$T/hostlog"

# host setup writes krl-max-age (default 1h; a duration; off leaves it out)
PC="$(cat "$T/principals-dir")/breakglass-gate"
expect 0 "host setup prints gate.conf" bg host setup --account "$ACCT" --etc "$T/etc2" \
	--sshd-dir "$T/sshd2" --principals-command "$PC"
out_has "^krl-max-age: 1h$" "with krl-max-age 1h by default"
expect 0 "host setup --krl-max-age 30m" bg host setup --account "$ACCT" --etc "$T/etc2" \
	--sshd-dir "$T/sshd2" --principals-command "$PC" --krl-max-age 30m
out_has "^krl-max-age: 30m$" "writes the age given"
expect 2 "a bad age is refused" bg host setup --account "$ACCT" --principals-command "$PC" --krl-max-age soon
err_has "is a duration" "says what it takes"

done_testing
