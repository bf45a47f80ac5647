#!/bin/sh
# t1030-landlock: the kernel confines every process a session starts,
# through a real OpenSSH sshd on 127.0.0.1 and hostd.  Launchers are
# refused by policy; with a project override that lets them pass, Landlock
# still stops them (no uid-0 shell).  From an allowed command and from the
# shell tier: no write to /tmp, /var/tmp, /dev/shm or a world-writable
# directory outside the grant, no read of a world-readable file outside it,
# no program run from outside the allowed set - every target one that the
# file permissions alone would allow (checked first).  sudo of an approved
# command works in the shell tier; a privileged command marked
# sudo-intercept may start the grant's other privileged commands and
# nothing else, one that is not marked starts nothing.  A kernel without
# Landlock (a test hook) refuses commands and shells unless gate.conf says
# 'landlock: optional', and then help and every record say so.
. "$(dirname "$0")/lib.sh"

need_root_sshd "creates an account and runs sshd"
[ -x /usr/bin/sudo ] || { echo "not ok 1 - sudo is installed (scripts/install-deps)"; echo "1..1"; exit 1; }

ID=${BG_TEST_ID:-}
ACCT=bgtest$ID-ll
GROUP=bgtest$ID-llgate
SRV=$T/srv
OTHER=$T/otherapp
WW=$T/ww
# outside $T: the system's temporary directories (removed on exit)
TMPS="/tmp/bgtest$ID-ll /var/tmp/bgtest$ID-ll /dev/shm/bgtest$ID-ll"
. "$(dirname "$0")/../../scripts/lib-host.sh"
cleanup_host() {
	[ -n "${HOME_ID:-}" ] && rm -f /etc/sudoers.d/breakglass-"$HOME_ID"-G-* \
		/etc/sudoers.d/.breakglass-"$HOME_ID"-G-*.new
	host_down "$T" "$ACCT" "$GROUP"
	for f in $TMPS; do rm -f "$f-cmd" "$f-shell" "$f-perm"; done
	rm -rf "$T"
}
trap cleanup_host EXIT

kabi=$(perl -e 'require "syscall.ph"; print syscall(444, 0, 0, 1)' 2>/dev/null)
[ -n "$kabi" ] && [ "$kabi" -ge 1 ] 2>/dev/null && ok "this kernel offers Landlock (ABI $kabi)" \
	|| { not_ok "this kernel offers Landlock (the test needs it: ABI ${kabi:-?})"; done_testing; exit 1; }

host_test_up "host set up, hostd and sshd on"
echo "sudoers-dir: /etc/sudoers.d" >>"$BREAKGLASS_HOME/config"
HOME_ID=$(awk '{ print $2 }' "$BREAKGLASS_HOME/broker.pub" | base64 -d | tail -c 32 | sha256sum | cut -c1-16)

# the fixtures: the grant's directories, another application's config
# (world-readable), a world-writable directory, a program copied into the
# grant's writable directory, a privileged script that starts programs
mkdir -p "$SRV/app" "$OTHER" "$WW" "$T/sbin"
echo readme >"$SRV/app/readme"
printf 'password = other-app-%s\n' "secret" >"$OTHER/config.ini"
chmod 1777 "$WW"
cp /usr/bin/id "$SRV/app/myid"
chown -R "$ACCT" "$SRV/app"
chmod -R a+rX "$SRV" "$OTHER"
cat >"$T/sbin/restart-app" <<'EOT'
#!/bin/sh
/usr/bin/id -u
echo "id-rc=$?"
/bin/cat /etc/hostname
echo "cat-rc=$?"
EOT
chmod 755 "$T/sbin/restart-app"
RESTART=$T/sbin/restart-app

# the targets are ones file permissions alone would allow
asacct() { su -s /bin/sh "$ACCT" -c "$1" >/dev/null 2>&1; }
n=0
for f in $TMPS; do asacct "echo x >$f-perm && rm $f-perm" && n=$((n + 1)); done
asacct "echo x >$WW/perm && rm $WW/perm" && n=$((n + 1))
asacct "cat $OTHER/config.ini" && n=$((n + 1))
asacct "$SRV/app/myid -u" && n=$((n + 1))
[ $n = 6 ] && ok "without the gate the account may write the temporary and world-writable directories, read the other config, run the copied program" \
	|| not_ok "the file permissions allow every target ($n of 6)"

printf '%s\n' "$RESTART" >"$T/steps.txt"
ticket_planned --commands "$T/steps.txt"
responder_key
req() { bg grant request T-1 --kind ssh --system web1 --account "$ACCT" --ttl 1h --reason why "$@"; }

# 1. policy refuses launchers, saying what to ask for instead
expect 1 "policy refuses a privileged launcher of a shell" req --sudo "/usr/bin/timeout 600 /bin/sh"
err_has "no-launchers-privileged" "names the rule"
expect 1 "policy refuses a launcher as an allowed command" req --read "$SRV" --command "/usr/bin/env /usr/bin/id"
err_has "narrower: request the command without the launcher: --command '/usr/bin/id'" "suggests the command without it"
expect 1 "policy refuses a launcher marked sudo-intercept as well" req --sudo-intercept "/usr/bin/nice /bin/sh"
err_has "no-launchers-privileged" "the privileged rules hold for marked commands"

# a project override lets them pass: the kernel is the backstop
cat >"$BREAKGLASS_HOME/policy.d/shop.rules" <<'EOT'
rule no-launchers
  enabled no
  check deny-launchers command
  reason off for this test
rule no-launchers-privileged
  enabled no
  check deny-launchers sudo
  reason off for this test
EOT
expect 0 "G-1: allowed and privileged commands (launchers let through by the override)" req \
	--read "$SRV" --write "$SRV/app" \
	--command "/usr/bin/touch /tmp/bgtest$ID-ll-cmd" --command "/usr/bin/touch /var/tmp/bgtest$ID-ll-cmd" \
	--command "/usr/bin/touch /dev/shm/bgtest$ID-ll-cmd" --command "/usr/bin/touch $WW/cmd" \
	--command "/usr/bin/touch $SRV/app/cmd" --command "/bin/cat $OTHER/config.ini" \
	--command "/bin/cat $SRV/app/readme" --command "/usr/bin/env $SRV/app/myid" \
	--command "/usr/bin/env /usr/bin/id" --command "/usr/bin/timeout 5 /bin/sh" \
	--sudo "/usr/bin/timeout 600 /bin/sh" --sudo "/usr/bin/id -u" --sudo "$RESTART now" \
	--sudo "/usr/bin/touch /var/tmp/bgtest$ID-ll-cmd" --command "$SRV/loop/prog" \
	--command "$SRV/app/missing"
expect 0 "G-2: the shell tier, sudo of an approved command, a command marked sudo-intercept" req \
	--tier shell --read "$SRV" --write "$SRV/app" --sudo "/usr/bin/id -u" --sudo-intercept "$RESTART"
approve_as owner T-1 plan || exit 1
grep -q "^  sudo-intercept: $RESTART\$" "$T/stmt-plan" && grep -q "^  sudo: /usr/bin/timeout 600 /bin/sh\$" "$T/stmt-plan" \
	&& ok "the plan statement the owner signs lists each privileged command in full, with its mark" \
	|| not_ok "the plan statement lists each privileged command in full, with its mark"
# (activation checks the policy again: the override is still there)
for g in 1 2; do
	bg grant activate G-$g >/dev/null
	bg grant cert G-$g --pubkey "$T/user.pub" -o "$T/g$g-cert.pub" 2>/dev/null
done
rm -f "$BREAKGLASS_HOME/policy.d/shop.rules"
grep -q "NOEXEC: NOPASSWD: /usr/bin/timeout 600 /bin/sh, /usr/bin/id -u, $RESTART now, /usr/bin/touch /var/tmp/bgtest$ID-ll-cmd\$" \
	"/etc/sudoers.d/breakglass-$HOME_ID-G-1" 2>/dev/null \
	&& ok "G-1's drop-in: its privileged commands NOEXEC" || not_ok "G-1's drop-in: its privileged commands NOEXEC"
grep -q "INTERCEPT: NOPASSWD: $RESTART \"\"\$" "/etc/sudoers.d/breakglass-$HOME_ID-G-2" 2>/dev/null \
	&& ok "G-2's drop-in: the marked command INTERCEPT" || not_ok "G-2's drop-in: the marked command INTERCEPT"
grep -qE ' EXEC:|NOPASSWD: ALL' "/etc/sudoers.d/breakglass-$HOME_ID-G-2" \
	&& not_ok "no blanket EXEC" || ok "no blanket EXEC"
visudo -c -q -f "/etc/sudoers.d/breakglass-$HOME_ID-G-2" && ok "visudo accepts it" || not_ok "visudo accepts it"

# 2. allowed commands, each under the grant's ruleset
for f in $TMPS; do
	as_cert "$T/g1-cert.pub" /usr/bin/touch "$f-cmd" >"$T/out" 2>"$T/err"
	[ ! -e "$f-cmd" ] && grep -q "Permission denied" "$T/err" \
		&& ok "an allowed command cannot write $(dirname "$f")" || not_ok "an allowed command cannot write $(dirname "$f")"
done
expect 1 "an allowed command cannot write a world-writable directory outside the grant" \
	as_cert "$T/g1-cert.pub" /usr/bin/touch "$WW/cmd"
[ ! -e "$WW/cmd" ] && ok "nothing was written there" || not_ok "nothing was written there"
expect 0 "an allowed command writes the grant's writable directory" as_cert "$T/g1-cert.pub" \
	/usr/bin/touch "$SRV/app/cmd"
expect 1 "an allowed command cannot read another application's config" as_cert "$T/g1-cert.pub" \
	/bin/cat "$OTHER/config.ini"
if grep -q "other-app-secret" "$T/out"; then not_ok "nothing of it was read"; else ok "nothing of it was read"; fi
expect 0 "an allowed command reads the grant's directories" as_cert "$T/g1-cert.pub" /bin/cat "$SRV/app/readme"
out_has "^readme" "what it read"
expect 126 "an allowed command cannot run a program copied into the writable directory" \
	as_cert "$T/g1-cert.pub" /usr/bin/env "$SRV/app/myid"
err_has "Permission denied" "the kernel refused the exec"
expect 126 "nor a system program outside the allowed set" as_cert "$T/g1-cert.pub" /usr/bin/env /usr/bin/id
echo 'id -u; echo "shell-ran"' >"$T/in"
expect_in 126 "an allowed launcher cannot start a shell" "$T/in" as_cert "$T/g1-cert.pub" /usr/bin/timeout 5 /bin/sh
if grep -q "shell-ran" "$T/out"; then not_ok "no shell ran"; else ok "no shell ran"; fi
echo 'id -u; cat /etc/shadow; touch /tmp/bgtest'"$ID"'-ll-cmd; echo "shell-ran"' >"$T/in"
as_cert "$T/g1-cert.pub" /usr/bin/timeout 600 /bin/sh <"$T/in" >"$T/out" 2>"$T/err"
if grep -q "^0$\|shell-ran\|^root:" "$T/out"; then not_ok "a privileged launcher gives no uid-0 shell"; else ok "a privileged launcher gives no uid-0 shell"; fi
[ ! -e "/tmp/bgtest$ID-ll-cmd" ] && ok "and leaves no root-owned file" || not_ok "and leaves no root-owned file"
expect 0 "a privileged command runs as root under the same rules" as_cert "$T/g1-cert.pub" /usr/bin/id -u
out_has "^0$" "as root"
expect 1 "a privileged command cannot write /var/tmp" as_cert "$T/g1-cert.pub" /usr/bin/touch "/var/tmp/bgtest$ID-ll-cmd"
[ ! -e "/var/tmp/bgtest$ID-ll-cmd" ] && ok "no root-owned file there" || not_ok "no root-owned file there"
expect 0 "help" as_cert "$T/g1-cert.pub" help
out_has "kernel confinement: Landlock ABI $kabi" "help names the Landlock ABI in use"
out_has "(as root, through sudo; starts no program)" "help tells NOEXEC commands"
expect 0 "help" as_cert "$T/g2-cert.pub" help
out_has "$RESTART   (as root, through sudo; each program it starts is checked by sudo)" "and marked ones"
as_cert "$T/g1-cert.pub" "$RESTART" now >"$T/out" 2>"$T/err"
out_has "id-rc=126" "unmarked (NOEXEC), the privileged script cannot start the grant's other privileged command"
as_cert "$T/g2-cert.pub" "$RESTART" >"$T/out" 2>"$T/err"
out_has "^0$" "marked sudo-intercept, it starts the grant's other privileged command, as root"
out_has "id-rc=0" "which succeeds"
if grep -q "^$(hostname)$" "$T/out"; then not_ok "but nothing else"; else ok "but nothing else"; fi
err_has "not allowed to execute '/bin/cat /etc/hostname'" "sudo checked it and said no"
expect_in 0 "a marked command as a step of an approved command list" "$T/steps.txt" as_cert "$T/g2-cert.pub" apply
out_has "^0$" "runs the same way: as root, starting the grant's other privileged command"
out_has "id-rc=0" "which succeeds there too"

# a ruleset the kernel cannot be given (its program's path is a symlink
# loop: ELOOP, not a missing file) is found after the start record is
# written: the request is refused with a record of its own after that one,
# and nothing runs
ln -s loop "$SRV/loop"
LOG=$T/hostlog/audit.log
n0=$(wc -l <"$LOG")
expect 1 "a command whose ruleset cannot be built is refused" as_cert "$T/g1-cert.pub" "$SRV/loop/prog"
err_has "nothing was run" "the responder is told nothing was run"
tail -n +"$((n0 + 1))" "$LOG" >"$T/new.log"
grep -q '"event":"gate.start"' "$T/new.log" && grep -q "\"event\":\"gate.refuse\".*nothing was run" "$T/new.log" \
	&& [ "$(grep -n '"event":"gate.start"' "$T/new.log" | cut -d: -f1)" -lt \
	    "$(grep -n '"event":"gate.refuse"' "$T/new.log" | cut -d: -f1)" ] \
	&& ok "its start record is followed by a refusal that says nothing was run" \
	|| { not_ok "its start record is followed by a refusal that says nothing was run"; sed 's/^/# /' "$T/new.log"; }
if grep -q '"event":"gate.end"' "$T/new.log"; then not_ok "no end record: nothing ran"; else ok "no end record: nothing ran"; fi
rm -f "$SRV/loop"
# a program that is not there: its process (made in the serving process's
# memory) takes the account's ids, its exec fails, it exits 127 - recorded
n0=$(wc -l <"$LOG")
expect 127 "a command whose program is not there exits 127" as_cert "$T/g1-cert.pub" "$SRV/app/missing"
err_has "could not be run on this host" "the responder is told it could not be run"
tail -n +"$((n0 + 1))" "$LOG" | grep -q '"event":"gate.end".*"status":127' \
	&& ok "its end record has status 127" || not_ok "its end record has status 127"

# 3. the shell tier
# answered PATTERN: wait (up to 20 s) until the session's output has it
answered() {
	_i=0
	while [ $_i -lt 200 ] && ! grep -q "$1" "$T/shell.out" 2>/dev/null; do sleep 0.1; _i=$((_i + 1)); done
}
{
	sleep 1
	# (one at a time: sudo relays the terminal, typed-ahead lines included,
	# so the next line waits for the last one's answer)
	echo "sudo -n /usr/bin/id -u | sed 's/^/sudo-uid=/'"; answered 'sudo-uid=[0-9]'
	echo "sudo -n /usr/bin/id -g; echo \"SUDO-OTHER-RC\"=\$?"; answered 'SUDO-OTHER-RC=[0-9]'
	# G-1's drop-in lets this account run it as root: the kernel does not
	# let it write outside the grant
	echo "sudo -n /usr/bin/touch /var/tmp/bgtest$ID-ll-cmd; echo \"SUDO-TOUCH-RC\"=\$?"
	answered 'SUDO-TOUCH-RC=[0-9]'
	for f in $TMPS; do echo "echo x >$f-shell && echo \"W\"\"ROTE-$(basename "$(dirname "$f")")\"; echo \"T\"\"RIED\""; done
	echo "echo x >$WW/shell && echo \"W\"\"ROTE-ww\""
	echo "echo x >$SRV/app/shell && echo \"GRANT\"\"-WRITTEN\""
	echo "echo x >\$TMPDIR/f && cat \$TMPDIR/f >/dev/null && echo \"PRIVATE\"\"-TMP-OK\" \$TMPDIR"
	echo "cat $OTHER/config.ini"
	echo "$SRV/app/myid -u; echo \"COPIED-RC\"=\$?"
	echo "cp /usr/bin/id \$TMPDIR/id2; \$TMPDIR/id2 -u; echo \"TMP-EXEC-RC\"=\$?"
	echo "/usr/bin/id -u; echo \"SYSTEM\"\"-PROGRAM-RAN\""
	# its own gate runs as the account too: the permissions allow it
	echo 'for p in $(pgrep -x -u $(id -u) breakglass-gate); do kill -0 $p 2>/dev/null; echo "SIGNAL-OUT-RC"=$?; done'
	echo 'kill -0 $$; echo "SIGNAL-SELF-RC"=$?'
	echo 'exit 0'
} | timeout 30 $SSH -tt -o CertificateFile="$T/g2-cert.pub" "$ACCT@127.0.0.1" >"$T/shell.out" 2>&1
# (without the terminal's escapes: bash's bracketed paste mode)
perl -pe 's/\e\[[?0-9;]*[A-Za-z]//g; s/\r//g' <"$T/shell.out" >"$T/out"
sed 's/^/# shell: /' "$T/out" | grep -v '^# shell: $' | head -60
[ "$(grep -c '^TRIED' "$T/out")" = 3 ] && ok "the shell tried the temporary directories" || not_ok "the shell tried the temporary directories"
if grep -q "^WROTE-" "$T/out"; then not_ok "the shell cannot write /tmp, /var/tmp, /dev/shm or a world-writable directory"; else ok "the shell cannot write /tmp, /var/tmp, /dev/shm or a world-writable directory"; fi
n=0; for f in $TMPS "$WW/x"; do [ -e "$f-shell" ] && n=$((n + 1)); done; [ -e "$WW/shell" ] && n=$((n + 1))
[ $n = 0 ] && ok "no file was made there" || not_ok "no file was made there ($n)"
out_has "^GRANT-WRITTEN" "the shell writes the grant's writable directory"
out_has "^PRIVATE-TMP-OK /tmp/breakglass-G-2\." "and its private tmp (TMPDIR)"
ptmp=$(sed -n 's/^PRIVATE-TMP-OK //p' "$T/out" | head -1)
[ -n "$ptmp" ] && [ ! -e "$ptmp" ] && ok "the private tmp is gone with the session" || not_ok "the private tmp is gone with the session ($ptmp)"
if grep -q "^password = other-app-secret" "$T/out"; then not_ok "the shell cannot read another application's config"; else ok "the shell cannot read another application's config"; fi
out_has "^COPIED-RC=126" "the shell cannot run a program copied into the writable directory"
out_has "^TMP-EXEC-RC=126" "nor one copied into its tmp"
out_has "^SYSTEM-PROGRAM-RAN" "the shell runs the system's programs"
out_has "^sudo-uid=0" "sudo of an approved command works in the shell tier"
out_has "^SUDO-OTHER-RC=1" "sudo of anything else does not"
out_has "^SUDO-TOUCH-RC=1" "a root command sudo starts in the shell cannot write /var/tmp"
[ ! -e "/var/tmp/bgtest$ID-ll-cmd" ] && ok "no root-owned file there" || not_ok "no root-owned file there"
out_has "^SIGNAL-SELF-RC=0" "the shell signals its own processes"
out_has "^SIGNAL-OUT-RC=1" "but not a process outside the session (its gate, the account's too)"
if grep -q "^SIGNAL-OUT-RC=0" "$T/out"; then not_ok "none outside"; else ok "none outside"; fi

# 4. a kernel without Landlock (the test hook): refused unless optional
hostd_stop "$T"
(export BREAKGLASS_TESTING=1 BREAKGLASS_TEST_NO_LANDLOCK=1; hostd_start "$T") && ok "hostd restarted on a kernel 'without Landlock'" \
	|| not_ok "hostd restarted without Landlock"
rm -f "$SRV/app/cmd"
expect 1 "without Landlock an allowed command is refused" as_cert "$T/g1-cert.pub" /usr/bin/touch "$SRV/app/cmd"
err_has "offers no Landlock" "says why"
err_has "landlock: optional" "and what a host that accepts it sets"
[ ! -e "$SRV/app/cmd" ] && ok "nothing ran" || not_ok "nothing ran"
echo 'exit 0' | timeout 20 $SSH -tt -o CertificateFile="$T/g2-cert.pub" "$ACCT@127.0.0.1" >"$T/out" 2>&1
out_has "offers no Landlock" "the shell tier is refused too"
expect 0 "the gate's own verbs still serve" as_cert "$T/g1-cert.pub" cat "$SRV/app/readme"
expect 0 "help" as_cert "$T/g1-cert.pub" help
out_has "kernel confinement: none: this kernel offers no Landlock, so this host runs no command" "help says so"
echo "landlock: optional" >>"$T/etc/gate.conf"
n0=$(wc -l <"$T/hostlog/audit.log")
expect 0 "with 'landlock: optional' the command runs" as_cert "$T/g1-cert.pub" /usr/bin/touch "$SRV/app/cmd"
[ -e "$SRV/app/cmd" ] && ok "it ran" || not_ok "it ran"
expect 0 "help" as_cert "$T/g1-cert.pub" help
out_has "kernel confinement: none: this kernel offers no Landlock and the host's gate.conf says 'landlock: optional'" "help says it runs unconfined"
n1=$(wc -l <"$T/hostlog/audit.log")
# (the request records: the log's own checkpoints are about the log)
tail -n $((n1 - n0)) "$T/hostlog/audit.log" | grep '"event":"gate\.' >"$T/recs"
nr=$(wc -l <"$T/recs")
[ "$nr" -ge 3 ] && [ "$(grep -c '"confinement":"none: this kernel offers no Landlock' "$T/recs")" = "$nr" ] \
	&& ok "every record says so ($nr records)" || not_ok "every record says so ($(grep -c confinement "$T/recs") of $nr)"
expect 0 "the host log verifies" bg audit verify --dir "$T/hostlog"
sed -i '/^landlock:/d' "$T/etc/gate.conf"
hostd_stop "$T"
hostd_start "$T" && ok "hostd restarted" || not_ok "hostd restarted"
expect 1 "with Landlock again: confined" as_cert "$T/g1-cert.pub" /bin/cat "$OTHER/config.ini"
echo "landlock: maybe" >>"$T/etc/gate.conf"
expect 1 "a landlock setting other than required or optional refuses" as_cert "$T/g1-cert.pub" /bin/cat "$SRV/app/readme"
err_has "landlock is 'required' (the default) or 'optional'" "says what it may be"
sed -i '/^landlock:/d' "$T/etc/gate.conf"

# 5. grants on one account kept apart from sudo-intercept lines: sudo checks
# what an INTERCEPT command starts without the grant's group, so such a
# grant's lines are keyed by the account, and a shell of another grant on
# it ran that grant's marked command as root (reproduced: "0" from G-3's
# shell for G-4's /usr/bin/id, a system program the shell tier may run)
expect 0 "G-3: a shell-tier grant on the same account, no privileged command" req \
	--tier shell --read "$SRV"
expect 0 "G-4, G-5: grants with a system program marked sudo-intercept" req --sudo-intercept "/usr/bin/id -u"
req --sudo-intercept "/usr/bin/id -u" >/dev/null
approve_as owner T-1 plan || exit 1
for g in 3 4; do
	bg grant activate G-$g >/dev/null
	bg grant cert G-$g --pubkey "$T/user.pub" -o "$T/g$g-cert.pub" 2>/dev/null
done
{
	sleep 1
	echo "sudo -n /usr/bin/id -u; echo \"OTHER-SUDO-RC\"=\$?"
	sleep 2
	echo 'exit 0'
} | timeout 30 $SSH -tt -o CertificateFile="$T/g3-cert.pub" "$ACCT@127.0.0.1" >"$T/g3.out" 2>&1
perl -pe 's/\e\[[?0-9;]*[A-Za-z]//g; s/\r//g' <"$T/g3.out" >"$T/out"
sed 's/^/# g3: /' "$T/out" | head -5
if grep -q "^0$\|OTHER-SUDO-RC=0" "$T/out"; then not_ok "another grant's shell cannot run G-4's marked command as root"
else ok "another grant's shell cannot run G-4's marked command as root"; fi
out_has "on this account has sudo-intercept commands" "its shell is refused while such a grant is active, saying why"
bg revoke G-2 --reason "done" >/dev/null
bg revoke G-4 --reason "done" >/dev/null
[ ! -e "/etc/sudoers.d/breakglass-$HOME_ID-G-4" ] && ok "G-4's drop-in is gone" || not_ok "G-4's drop-in is gone"
{
	sleep 1
	echo "echo \"G3\"-SHELL-UP"
	sleep 2
	# a grant with sudo-intercept commands becomes active meanwhile
	bg grant activate G-5 >/dev/null
	sleep 3
	echo "echo \"STILL\"-HERE"
	sleep 1
	echo 'exit 0'
} | timeout 30 $SSH -tt -o CertificateFile="$T/g3-cert.pub" "$ACCT@127.0.0.1" >"$T/g3.out" 2>&1
perl -pe 's/\e\[[?0-9;]*[A-Za-z]//g; s/\r//g' <"$T/g3.out" >"$T/out"
out_has "^G3-SHELL-UP" "with those revoked, G-3's shell is served"
if grep -q "^STILL-HERE" "$T/out"; then not_ok "the shell ends when G-5 (sudo-intercept) becomes active"
else ok "the shell ends when G-5 (sudo-intercept) becomes active"; fi
out_has "a grant with sudo-intercept commands became active on this account" "the responder is told why"
done_testing
