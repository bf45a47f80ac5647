#!/bin/sh
# t1000-gate-sshd: enforcement on a host, through a real OpenSSH sshd on
# 127.0.0.1: certificates, the gate's verbs and allowlist, the escape
# corpus, expiry and revocation (sshd via the KRL, open sessions cut by the
# gate within 1 s), and a host log the account cannot touch.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || { echo "1..0 # this test creates an account and runs sshd: run it as root"; exit 1; }
SSHD=/usr/sbin/sshd
[ -x "$SSHD" ] || { echo "not ok 1 - sshd is installed (scripts/install-deps)"; echo "1..1"; exit 1; }

# BG_TEST_ID keeps the accounts of test runs that share a machine apart
ACCT=bgtest${BG_TEST_ID:-}-hotfix
GROUP=bgtest${BG_TEST_ID:-}-gate
SRV=$T/srv/app
. "$(dirname "$0")/../../scripts/lib-host.sh"
cleanup_host() {
	[ -n "${HOME_ID:-}" ] && rm -f "/etc/sudoers.d/breakglass-$HOME_ID-G-4" \
		"/etc/sudoers.d/.breakglass-$HOME_ID-G-4.new"
	host_down "$T" "$ACCT" "$GROUP"
	rm -rf "$T"
}
trap cleanup_host EXIT

# revoke_and_time PID G REASON: revoke G, wait (up to 5 s) for the session
# PID to end, set $late to the seconds in between, then make sure it is gone
revoke_and_time() {
	_t0=$(date +%s.%N)
	bg revoke "$2" --reason "$3" >/dev/null
	while kill -0 "$1" 2>/dev/null; do
		[ "$(echo "$(date +%s.%N) $_t0" | awk '{ print ($1 - $2 > 5) }')" = 1 ] && break
		sleep 0.05
	done
	late=$(echo "$(date +%s.%N) $_t0" | awk '{ printf "%.2f", $1 - $2 }')
	kill "$1" 2>/dev/null
}

# the files the grant may read, and traps around them
mkdir -p "$SRV/logs"
printf 'line1\nPaymentGateway: undefined index currency\nline3\n' >"$SRV/logs/error.log"
printf 'old1\nold2\n' >"$SRV/logs/follow.log"
ln -s /etc/passwd "$SRV/passwd-link"
ln -s /etc "$SRV/dirlink"

# 1. at a time 3 hours ago: a grant whose certificate is now expired
past=$(date -u -d '-3 hours' +%Y-%m-%dT%H:%M:%SZ)
export BREAKGLASS_TESTING=1 BREAKGLASS_NOW="$past"
setup_home
bg approver list --project shop --allowed-signers >"$T/approvers"
if host_up "$T" "$ACCT" "$GROUP" "$BREAKGLASS" "$T/approvers"; then
	ok "host set up (sshd -t passed), sshd on 127.0.0.1:$HOST_PORT"
else
	not_ok "host set up"; done_testing; exit 1
fi
chmod -R a+rX "$T/srv"
GATE=$HOST_GATE
bg project set shop --systems web1 >/dev/null
write_intake
sed -i "s/^system: .*/system: web1/" "$T/intake.txt"
bg ticket open --from "$T/intake.txt" >/dev/null
approve_as owner T-1 confirm || exit 1
ssh-keygen -q -t ed25519 -N '' -C responder -f "$T/user"
bg grant request T-1 --kind ssh --system web1 --account "$ACCT" --read "$SRV" --ttl 1h \
	--reason "expired" >/dev/null
bg grant activate G-1 >/dev/null
expect 0 "certificate issued" bg grant cert G-1 --pubkey "$T/user.pub" -o "$T/expired-cert.pub"
unset BREAKGLASS_NOW BREAKGLASS_TESTING

# 2. the host, as host setup describes it
expect 0 "host setup prints the drop-in" bg host setup --account "$ACCT" --etc "$T/etc" \
	--sshd-dir "$T/sshd.d"
out_has "TrustedUserCAKeys $T/etc/ca.pub" "drop-in trusts the CA"
out_has "ForceCommand $GATE" "drop-in forces the gate"
out_has "AllowTcpForwarding no" "drop-in forbids forwarding"
grep -q "AuthorizedPrincipalsCommand /run/bg-host\.[^ ]*/breakglass-gate principals --etc $T/etc --auth-spool $T/authspool %u %k" "$T/sshd.d/breakglass.conf" \
	&& ok "installed drop-in names the principals command (it records each connection's certificate)" \
	|| not_ok "installed drop-in names the principals command (it records each connection's certificate)"
id "$ACCT" >/dev/null 2>&1 && ok "hotfix account created" || not_ok "hotfix account created"
[ "$(stat -c %a "$T/bin/breakglass-gate")" = 711 ] && ok "gate installed execute-only, without setgid" || not_ok "gate installed execute-only, without setgid"
SSH="$HOST_SSH -i $T/user"
as_cert() { cert=$1; shift; $SSH -o CertificateFile="$cert" "$ACCT@127.0.0.1" "$@"; }

# 3. a live read grant with one allowed command
bg grant request T-1 --kind ssh --system web1 --account "$ACCT" --read "$SRV" \
	--command "/usr/bin/uptime" --command "/bin/echo hello 'two words'" --ttl 1h \
	--reason "diagnose the checkout" >/dev/null
# commands can change things: the write gates apply
echo dump >"$T/dump"
bg evidence T-1 backup --what dump --where /b --taken "$past" --file "$T/dump" >/dev/null
bg evidence T-1 rollback --method redeploy-previous --what "deploy 4.2.0" >/dev/null
write_plan
bg plan T-1 --from "$T/plan.txt" --diff "$T/fix.diff" >/dev/null
approve_as owner T-1 plan || exit 1
expect 0 "grant activated" bg grant activate G-2
expect 0 "certificate for G-2" bg grant cert G-2 --pubkey "$T/user.pub" -o "$T/cert.pub"
ssh-keygen -L -f "$T/cert.pub" >"$T/out" 2>&1 && ok "ssh-keygen -L reads it" || not_ok "ssh-keygen -L reads it"
out_has "force-command $GATE" "certificate forces the gate"
out_has "$ACCT" "certificate names the account"

expect 0 "help" as_cert "$T/cert.pub" help
out_has "allowed commands" "help lists what is allowed"
expect 0 "ls of the grant's directory" as_cert "$T/cert.pub" ls "$SRV/logs"
out_has "error.log" "ls shows the file"
expect 0 "cat inside scope" as_cert "$T/cert.pub" cat "$SRV/logs/error.log"
out_has "PaymentGateway" "cat prints the file"
expect 0 "tail -n" as_cert "$T/cert.pub" tail -n 1 "$SRV/logs/error.log"
out_has "^line3" "tail prints the last line"
# tail -n with tail(1)'s meaning: 0 prints nothing, -nN, +N from line N
expect 0 "tail -n 0" as_cert "$T/cert.pub" tail -n 0 "$SRV/logs/error.log"
[ ! -s "$T/out" ] && ok "tail -n 0 prints nothing" || not_ok "tail -n 0 prints nothing"
expect 0 "tail -n0" as_cert "$T/cert.pub" tail -n0 "$SRV/logs/error.log"
[ ! -s "$T/out" ] && ok "tail -n0 prints nothing" || not_ok "tail -n0 prints nothing"
expect 0 "tail -n2" as_cert "$T/cert.pub" tail -n2 "$SRV/logs/error.log"
[ "$(cat "$T/out")" = "$(tail -n2 "$SRV/logs/error.log")" ] && ok "tail -n2 as tail(1)" || not_ok "tail -n2 as tail(1)"
expect 0 "tail -n +2" as_cert "$T/cert.pub" tail -n +2 "$SRV/logs/error.log"
[ "$(cat "$T/out")" = "$(tail -n +2 "$SRV/logs/error.log")" ] && ok "tail -n +2 as tail(1)" || not_ok "tail -n +2 as tail(1)"
expect 0 "tail -n +9 (past the end)" as_cert "$T/cert.pub" tail -n +9 "$SRV/logs/error.log"
[ ! -s "$T/out" ] && ok "tail -n +9 prints nothing" || not_ok "tail -n +9 prints nothing"
expect 1 "tail -n -3 refused" as_cert "$T/cert.pub" tail -n -3 "$SRV/logs/error.log"
err_has "e.g. -n 50" "with an example"
as_cert "$T/cert.pub" tail -n 0 -f "$SRV/logs/follow.log" >"$T/follow.out" 2>&1 &
fpid=$!
# append only once the process serving it has the file open (a login on a
# loaded machine can take longer than any fixed pause)
for i in $(seq 100); do
	for p in $(pgrep -P "$(cat "$T/hostd.sock.pid")"); do
		ls -l "/proc/$p/fd" 2>/dev/null | grep -q 'follow\.log$' && break 2
	done
	sleep 0.1
done
sleep 0.3; echo new3 >>"$SRV/logs/follow.log"; sleep 1
kill $fpid 2>/dev/null; wait $fpid 2>/dev/null
[ "$(cat "$T/follow.out")" = new3 ] && ok "tail -n 0 -f prints only what is appended" \
	|| not_ok "tail -n 0 -f prints only what is appended ($(head -c 200 "$T/follow.out"))"
expect 0 "grep -F -n" as_cert "$T/cert.pub" grep -F -n currency "$SRV/logs/error.log"
out_has "^2:PaymentGateway" "grep prints the numbered match"
expect 0 "sha256" as_cert "$T/cert.pub" sha256 "$SRV/logs/error.log"
out_has "$(sha256sum "$SRV/logs/error.log" | cut -d' ' -f1)" "sha256 matches sha256sum"
expect 0 "stat" as_cert "$T/cert.pub" stat "$SRV/logs/error.log"
expect 0 "find-changed" as_cert "$T/cert.pub" find-changed --since "$past" "$SRV"
out_has "logs/error.log" "find-changed lists the file"
expect 0 "allowed command runs" as_cert "$T/cert.pub" /usr/bin/uptime
out_has "load average" "uptime printed"
expect 0 "allowed command with quoted words" as_cert "$T/cert.pub" "/bin/echo hello 'two words'"
out_has "^hello two words$" "arguments passed exactly"
expect 1 "disallowed command refused" as_cert "$T/cert.pub" /usr/bin/id
err_has "not an allowed command" "says it is not allowed"
expect 1 "read outside scope refused" as_cert "$T/cert.pub" cat /etc/hostname
err_has "outside the grant's directories" "says it is outside"
expect 1 "interactive shell refused" as_cert "$T/cert.pub"
err_has "no interactive shell" "says no shell"

# the owner's consent, verified on the host: whoever holds the CA (the
# broker's operator) cannot grant writes the owner's approvers did not sign.
# Certificates minted here with ssh-keygen and the broker's CA key.
bg audit export --ticket T-1 --json >"$T/export.json"
perl -MJSON::PP -e 'local $/; my $a = decode_json(<STDIN>);
	for (@$a) { print $_->{detail}{spec} if $_->{event} eq "grant.request" && $_->{detail}{grant} == 2 }' \
	<"$T/export.json" >"$T/g2.spec"
{ printf 'ticket: T-1\ngrant: G-2\n'; cat "$T/g2.spec"
  sed -n 's/^artifact: \([0-9a-f]*\) \([a-z]*\) .*/artifact: \1 \2/p' "$T/stmt-plan"; } >"$T/g2.scope"
consent_of() { # consent_of STATEMENT SIG...: the consent extension's text
	_st=$1; shift
	printf 'breakglass consent v1\nstatement-bytes: %s\n' "$(wc -c <"$_st")"
	cat "$_st" "$@"
}
mint() { # mint NAME SCOPE-FILE [CONSENT-FILE]: a CA-signed certificate NAME-cert.pub
	cp "$T/user" "$T/$1"; cp "$T/user.pub" "$T/$1.pub"
	if [ -n "${3:-}" ]; then
		_c=$(cat "$3"; echo x); _c=${_c%x} # keep the final newline
		ssh-keygen -q -s "$BREAKGLASS_HOME/ca.key" -I "minted $1" -n "$ACCT" -V -5m:+1h -O clear \
			-O force-command="$GATE" -O "extension:consent@breakglass=$_c" \
			-O "extension:grant@breakglass=$(cat "$2")" "$T/$1.pub"
	else
		ssh-keygen -q -s "$BREAKGLASS_HOME/ca.key" -I "minted $1" -n "$ACCT" -V -5m:+1h -O clear \
			-O force-command="$GATE" -O "extension:grant@breakglass=$(cat "$2")" "$T/$1.pub"
	fi
}
mint nocons "$T/g2.scope"
expect 1 "CA-minted write certificate without the owner's signatures refused" \
	as_cert "$T/nocons-cert.pub" /usr/bin/uptime
err_has "carries no consent" "says the owner's consent is missing"
consent_of "$T/stmt-plan" "$T/stmt-plan.sig" >"$T/good.consent"
mint goodcons "$T/g2.scope" "$T/good.consent"
expect 0 "the same scope with the owner's signed statement is accepted" \
	as_cert "$T/goodcons-cert.pub" /usr/bin/uptime
sed 's|^write: .*|write: /|; s|^read: .*|read: /|' "$T/g2.scope" >"$T/wide.scope"
grep -q '^read: /$' "$T/wide.scope" && ok "scope widened for the test" || not_ok "scope widened for the test"
mint widecons "$T/wide.scope" "$T/good.consent"
expect 1 "a wider scope than the owner signed refused" as_cert "$T/widecons-cert.pub" /usr/bin/uptime
err_has "not the scope the approvers signed" "says the scope differs"
ssh-keygen -q -t ed25519 -N '' -f "$T/evil"
cp "$T/stmt-plan" "$T/evil.txt"
ssh-keygen -q -Y sign -n breakglass -f "$T/evil" "$T/evil.txt" </dev/null >/dev/null 2>&1
consent_of "$T/evil.txt" "$T/evil.txt.sig" >"$T/evil.consent"
mint evilcons "$T/g2.scope" "$T/evil.consent"
expect 1 "a statement signed by a key the host does not trust refused" \
	as_cert "$T/evilcons-cert.pub" /usr/bin/uptime
err_has "0 of 1 required approver signatures" "says the quorum is not met"
sed 's/^breakglass approval statement v2$/breakglass approval statement v3/' "$T/stmt-plan" >"$T/v3.txt"
ssh-keygen -q -Y sign -n breakglass -f "$T/owner" "$T/v3.txt" </dev/null >/dev/null 2>&1
consent_of "$T/v3.txt" "$T/v3.txt.sig" >"$T/v3.consent"
mint v3cons "$T/g2.scope" "$T/v3.consent"
expect 1 "an unknown statement version refused" as_cert "$T/v3cons-cert.pub" /usr/bin/uptime
err_has "version 'v3' is not one this host knows (it knows v2)" "names both versions"

# the escape corpus
n_esc=0; n_bad=0
while IFS= read -r line; do
	case "$line" in ''|'#'*) continue ;; esac
	case "$line" in printf:*) req=$(printf '%b' "${line#printf:}" | sed "s|@SRV@|$SRV|g") ;;
		*) req=$(printf '%s' "$line" | sed "s|@SRV@|$SRV|g") ;; esac
	n_esc=$((n_esc + 1))
	as_cert "$T/cert.pub" "$req" >"$T/esc.out" 2>"$T/esc.err" </dev/null
	rc=$?
	if [ "$rc" -ne 1 ] || ! grep -q "refused" "$T/esc.err" || grep -q "root:x:0" "$T/esc.out" \
	   || grep -q "uid=" "$T/esc.out"; then
		n_bad=$((n_bad + 1))
		echo "# escape NOT refused (exit $rc): $req"
		sed 's/^/#   /' "$T/esc.err" "$T/esc.out" | head -5
	fi
done <"$(dirname "$0")/data/gate-escapes.txt"
big=$(head -c 10000 /dev/zero | tr '\0' A)
as_cert "$T/cert.pub" "cat $big" >/dev/null 2>"$T/esc.err"; rc=$?
[ $rc -eq 1 ] || { n_bad=$((n_bad + 1)); echo "# overlong request not refused"; }
[ "$n_bad" -eq 0 ] && ok "all $((n_esc + 1)) escape attempts refused" || not_ok "$n_bad of $((n_esc + 1)) escape attempts not refused"

# write verbs: tier plan, writable directories only, atomic, no symlinks;
# the plan tier writes only approved artifacts, byte for byte
mkdir -p "$SRV/current/app"
printf 'old\n' >"$SRV/current/app/Payment.php"; chmod 0640 "$SRV/current/app/Payment.php"
printf 'fixed\n' >"$SRV/current/app/Other.php"
chown -R "$ACCT" "$SRV/current"
ln -s /etc/hostname "$SRV/current/app/link.php"
printf 'fixed\n' >"$T/fixed.php"
cat >"$T/p1.diff" <<EOT
--- a/app/Payment.php
+++ b/app/Payment.php
@@ -1 +1 @@
-fixed
+fixed by patch
--- /dev/null
+++ b/app/Added.php
@@ -0,0 +1 @@
+added
EOT
cat >"$T/p2.diff" <<EOT
--- a/app/Other.php
+++ b/app/Other.php
@@ -1 +1 @@
-fixed
+changed
--- a/app/Payment.php
+++ b/app/Payment.php
@@ -1 +1 @@
-not what is there
+x
EOT
printf -- '--- a/../../etc/hostname\n+++ b/../../etc/hostname\n@@ -1 +1 @@\n-x\n+y\n' >"$T/p3.diff"
printf -- '--- a/logs/error.log\n+++ b/logs/error.log\n@@ -1 +1 @@\n-line1\n+LINE1\n' >"$T/p4.diff"
echo "not a diff" >"$T/p5.diff"
printf -- '--- a/Other.php\n+++ b/Other.php\n@@ -1 +1 @@\n-fixed\n+applied\n' >"$T/p6.diff"
# made one directory up: a/app/Other.php for the directory app
printf -- '--- a/app/Other.php\n+++ b/app/Other.php\n@@ -1 +1 @@\n-applied\n+applied from above\n' >"$T/p8.diff"
printf -- '--- a/includes/Missing.php\n+++ b/includes/Missing.php\n@@ -1 +1 @@\n-x\n+y\n' >"$T/p9.diff"
printf '# the approved steps, in order\n/bin/echo step one\n\ncat %s/logs/error.log\n/bin/ls /nonexistent-breakglass\n/bin/echo never\n' "$SRV" >"$T/steps.txt"
printf '/bin/echo step one\nsha256 %s/logs/error.log\n' "$SRV" >"$T/steps-ok.txt"
printf '/bin/echo step one\n/bin/echo not allowed\n' >"$T/steps-bad.txt"
printf 'tail -f %s/logs/error.log\n' "$SRV" >"$T/steps-tail.txt"
printf 'UPDATE orders SET state = 1 WHERE id = 7;\n' >"$T/fix.sql"
bg grant request T-1 --kind ssh --system web1 --account "$ACCT" --tier plan --read "$SRV" \
	--write "$SRV/current/app" --command "/bin/echo step one" --command "/bin/ls /nonexistent-breakglass" \
	--command "/bin/echo never" --ttl 1h --reason "apply the fix" >/dev/null
expect 0 "plan with the write artifacts" bg plan T-1 --from "$T/plan.txt" --diff "$T/p1.diff" \
	--diff "$T/p2.diff" --diff "$T/p3.diff" --diff "$T/p4.diff" --artifact "$T/p5.diff" \
	--artifact "$T/fixed.php" --diff "$T/p6.diff" --diff "$T/p8.diff" --diff "$T/p9.diff" \
	--commands "$T/steps.txt" \
	--commands "$T/steps-ok.txt" --commands "$T/steps-bad.txt" --commands "$T/steps-tail.txt" \
	--sql "$T/fix.sql"
approve_as owner T-1 plan || exit 1
expect 0 "write grant activated" bg grant activate G-3
bg grant cert G-3 --pubkey "$T/user.pub" -o "$T/w-cert.pub" 2>/dev/null
printf 'fixed\n' >"$T/fixed.php"
expect_in 0 "put replaces a file" "$T/fixed.php" as_cert "$T/w-cert.pub" put "$SRV/current/app/Payment.php"
out_has "replaced" "put reports the replacement"
[ "$(cat "$SRV/current/app/Payment.php")" = fixed ] && ok "content replaced" || not_ok "content replaced"
[ "$(stat -c %a "$SRV/current/app/Payment.php")" = 640 ] && ok "mode kept" || not_ok "mode kept"
expect_in 0 "put creates a file" "$T/fixed.php" as_cert "$T/w-cert.pub" put "$SRV/current/app/New.php"
expect_in 1 "put through a symlink refused" "$T/fixed.php" as_cert "$T/w-cert.pub" put "$SRV/current/app/link.php"
[ "$(cat /etc/hostname)" != fixed ] && ok "symlink target untouched" || not_ok "symlink target untouched"
expect_in 1 "put onto a directory refused" "$T/fixed.php" as_cert "$T/w-cert.pub" put "$SRV/current"
expect_in 1 "put outside the writable directories refused" "$T/fixed.php" as_cert "$T/w-cert.pub" put "$SRV/logs/x"
err_has "outside the grant's writable directories" "refused for its place, before its content"
expect_in 1 "put with a read-tier grant refused" "$T/fixed.php" as_cert "$T/cert.pub" put "$SRV/current/app/Payment.php"
printf 'something else\n' >"$T/unapproved.php"
expect_in 1 "content that is not an approved artifact refused" "$T/unapproved.php" as_cert "$T/w-cert.pub" put "$SRV/current/app/Payment.php"
err_has "not an approved artifact" "says it is not approved"
# patch: a unified diff applied exactly, all files or none
expect_in 0 "patch applies a two-file diff" "$T/p1.diff" as_cert "$T/w-cert.pub" patch "$SRV/current"
out_has "patched $SRV/current/app/Payment.php" "patch reports the changed file"
[ "$(cat "$SRV/current/app/Payment.php")" = "fixed by patch" ] && ok "content patched" || not_ok "content patched"
[ "$(cat "$SRV/current/app/Added.php")" = "added" ] && ok "new file created" || not_ok "new file created"
expect_in 1 "a diff that does not match is refused" "$T/p2.diff" as_cert "$T/w-cert.pub" patch "$SRV/current"
err_has "nothing was changed" "says nothing was changed"
[ "$(cat "$SRV/current/app/Other.php")" = fixed ] && ok "all or nothing: the matching file is untouched" || not_ok "all or nothing: the matching file is untouched"
expect_in 1 "patch with .. refused" "$T/p3.diff" as_cert "$T/w-cert.pub" patch "$SRV/current"
expect_in 1 "patch outside the writable directories refused" "$T/p4.diff" as_cert "$T/w-cert.pub" patch "$SRV"
expect_in 1 "malformed diff refused" "$T/p5.diff" as_cert "$T/w-cert.pub" patch "$SRV/current"
ls -a "$SRV/current/app" | grep -q breakglass- && not_ok "no temporary files left" || ok "no temporary files left"

# apply: approved artifacts by their SHA-256, with the kind the plan gave them
expect 0 "plan artifact prints the approved bytes" bg plan artifact T-1 p6.diff
cmp -s "$T/out" "$T/p6.diff" && ok "byte for byte" || not_ok "byte for byte"
expect 0 "plan artifact by SHA-256 prefix, to a file" bg plan artifact T-1 \
	"$(sha256sum "$T/steps.txt" | cut -c1-12)" -o "$T/steps.copy"
cmp -s "$T/steps.copy" "$T/steps.txt" && ok "the same bytes" || not_ok "the same bytes"
expect 2 "plan artifact: an unknown name" bg plan artifact T-1 nope.diff
bg plan artifact T-1 p6.diff >"$T/p6.from-plan"
expect_in 0 "apply a diff (the grant's only writable directory)" "$T/p6.from-plan" as_cert "$T/w-cert.pub" apply
[ "$(cat "$SRV/current/app/Other.php")" = applied ] && ok "the diff was applied" || not_ok "the diff was applied"
printf -- '--- a/Other.php\n+++ b/Other.php\n@@ -1 +1 @@\n-applied\n+not approved\n' >"$T/p7.diff"
expect_in 1 "apply: an unapproved diff refused" "$T/p7.diff" as_cert "$T/w-cert.pub" apply
err_has "not an approved artifact of the plan of T-1" "says it is not approved"
[ "$(cat "$SRV/current/app/Other.php")" = applied ] && ok "nothing written" || not_ok "nothing written"
expect_in 0 "apply: a diff made one directory up (a/app/Other.php)" "$T/p8.diff" as_cert "$T/w-cert.pub" apply
err_has "applied with -p2, as patch would" "says the strip level it found"
[ "$(cat "$SRV/current/app/Other.php")" = "applied from above" ] && ok "the file itself was patched" || not_ok "the file itself was patched"
[ ! -e "$SRV/current/app/app" ] && ok "no doubled directory" || not_ok "no doubled directory"
expect_in 1 "apply: a diff whose files are not there at any level" "$T/p9.diff" as_cert "$T/w-cert.pub" apply
err_has "not all under '$SRV/current/app' at any strip level" "says so, naming the directory"
expect_in 2 "apply a command list: runs steps in order, stops at the first failure" "$T/steps.txt" \
	as_cert "$T/w-cert.pub" apply
out_has "^step one" "step 1 ran"
out_has "PaymentGateway: undefined index currency" "step 2 (a verb) ran"
err_has "step 3 of 4: /bin/ls /nonexistent-breakglass" "step 3 named"
err_has "step 3 failed (exit 2); the 1 after it were not run" "says what was not run"
if grep -q "^never" "$T/out"; then not_ok "step 4 not run"; else ok "step 4 not run"; fi
expect_in 0 "apply a command list that succeeds" "$T/steps-ok.txt" as_cert "$T/w-cert.pub" apply
out_has "$(sha256sum "$SRV/logs/error.log" | cut -d' ' -f1)" "its verb step ran"
expect_in 1 "apply: a step the grant does not allow is refused" "$T/steps-bad.txt" as_cert "$T/w-cert.pub" apply
err_has "'/bin/echo not allowed' is not an allowed command" "names the step"
expect_in 1 "apply: tail -f cannot be a step" "$T/steps-tail.txt" as_cert "$T/w-cert.pub" apply
printf '/bin/echo step one\n' >"$T/steps-unapproved.txt"
expect_in 1 "apply: an unapproved command list refused" "$T/steps-unapproved.txt" as_cert "$T/w-cert.pub" apply
if grep -q "^step one" "$T/out"; then not_ok "none of it ran"; else ok "none of it ran"; fi
expect_in 1 "apply: SQL is not run by the gate" "$T/fix.sql" as_cert "$T/w-cert.pub" apply
err_has "sql artifacts are not applied by the gate" "says so"
expect_in 1 "apply: a command list takes no directory" "$T/steps-ok.txt" as_cert "$T/w-cert.pub" apply "$SRV/current/app"
expect 0 "host log export" bg audit export --dir "$T/hostlog"
out_has '"event":"gate.apply".*artifact sha256 '"$(sha256sum "$T/steps.txt" | cut -d' ' -f1)"' (commands)' \
	"the host log names each applied artifact by SHA-256 and kind"
ufp=$(ssh-keygen -l -f "$T/user.pub" | awk '{print $2}')
out_has '"event":"gate.apply".*"key_id":"breakglass T-1 G-[0-9]* tester","key":"'"$ufp"'"' \
	"host records name the certificate's user and the key that logged in"

# every write was snapshotted before and after: the change sets, and rollback
expect 0 "change sets of the ticket" bg changes T-1 --audit-dir "$T/hostlog" --json
perl -MJSON::PP -e 'local $/; my $j = decode_json(<STDIN>); my %seen;
	for my $cs (@$j) { for my $f (@{$cs->{files}}) { $seen{"$f->{change} $f->{path}"} = $f } }
	my ($k) = grep { /modified .*Payment.php$/ } keys %seen;
	exit(($k && $seen{$k}{diff} =~ /\+fixed by patch/ && grep { /created .*Added.php$/ } keys %seen) ? 0 : 1)' <"$T/out" \
	&& ok "change sets name each file with a diff" || not_ok "change sets name each file with a diff"
expect 0 "change sets for people" bg changes T-1 --audit-dir "$T/hostlog"
out_has "^change set T-1-G-3-" "one block per change set"
out_has "^  modified $SRV/current/app/Payment.php (content" "modified file named with what changed"
out_has "^    +fixed by patch" "with its diff, indented"
out_has "^  created  $SRV/current/app/Added.php" "created file named"
expect 0 "no change sets for another ticket" bg changes T-9 --audit-dir "$T/hostlog"
out_has "no changes recorded for T-9" "says so"
expect 0 "host log names the change sets" bg audit export --dir "$T/hostlog"
out_has '"event":"gate.changes"' "gate.changes records"
# put, put, patch, two applies of a diff changed files; the refused put through a
# symlink and the command lists changed nothing: no change set for those
n_cs=$(ls "$T/hostlog/snapshots/changes/"T-1-G-3-*.txt 2>/dev/null | wc -l)
[ "$n_cs" -eq 5 ] && ok "one change set per write that changed something, none for refused ones" \
	|| not_ok "one change set per write that changed something, none for refused ones (got $n_cs, want 5)"
expect 0 "change sets for people" bg changes T-1 --audit-dir "$T/hostlog"
if grep -q "0 created, 0 modified, 0 deleted" "$T/out"; then not_ok "no empty change set shown"; else ok "no empty change set shown"; fi
expect 0 "rollback of the write grant, dry run" bg rollback T-1 --grant G-3 --audit-dir "$T/hostlog" --dry-run
out_has "delete .*Added.php" "dry run would remove the created file"
expect 0 "rollback of the write grant" bg rollback T-1 --grant G-3 --audit-dir "$T/hostlog"
[ "$(cat "$SRV/current/app/Payment.php")" = old ] && ok "Payment.php is back as it was before G-3" || not_ok "Payment.php is back as it was before G-3"
[ ! -e "$SRV/current/app/Added.php" ] && [ ! -e "$SRV/current/app/New.php" ] && ok "files the hotfix created are gone" || not_ok "files the hotfix created are gone"
[ "$(stat -c %a "$SRV/current/app/Payment.php")" = 640 ] && ok "mode restored" || not_ok "mode restored"
[ "$(stat -c %U "$SRV/current/app/Payment.php")" = "$ACCT" ] && ok "owner restored" || not_ok "owner restored"
expect 0 "host log still verifies" bg audit verify --dir "$T/hostlog"
expect 0 "host log export" bg audit export --dir "$T/hostlog"
out_has '"event":"rollback"' "the rollback is in the host log"
expect 0 "a manual snapshot on the host" bg snapshot T-1 --grant G-3 --audit-dir "$T/hostlog" "$SRV/current/app"
expect 0 "host log export" bg audit export --dir "$T/hostlog"
out_has '"event":"snapshot"' "the manual snapshot is in the host log"
[ "$(stat -c %G "$T/hostlog/audit.head")" = "$GROUP" ] && ok "root's append kept the head in the gate's group" || not_ok "root's append kept the head in the gate's group"

# the report: change sets from the verified host log (one host: host-log)
expect 0 "report without host-log" bg report T-1
out_has "run \`breakglass changes T-1\` there" "says where the change sets are"
echo "host-log: $T/hostlog" >>"$BREAKGLASS_HOME/config"
expect 0 "report with host-log" bg report T-1
out_has "^### On the host ([0-9]* change sets, from the verified host log)" "change sets in the report"
out_has "^  modified $SRV/current/app/Payment.php (content" "naming each file"
out_has "^    breakglass rollback T-1 --grant G-3" "and the rollback command"
expect 0 "report as JSON" bg report T-1 --json
out_has '"host_log_verified":true' "host log verified for the JSON report"
cs=$(grep -l "fixed by patch" "$T/hostlog/snapshots/changes/"T-1-G-3-*.txt | head -1)
cp "$cs" "$T/cs.bak"; sed -i 's/fixed by patch/harmless/' "$cs"
expect 0 "report with an altered change set" bg report T-1
out_has "does not match the host log" "an altered change set is flagged, not shown"
cp "$T/cs.bak" "$cs"
sed -i '/^host-log:/d' "$BREAKGLASS_HOME/config"

# several hosts: one host-log line per host, each verified on its own
rm -rf "$T/hostlog-web2" "$T/hostlog-web3"
cp -a "$T/hostlog" "$T/hostlog-web2"
cp -a "$T/hostlog" "$T/hostlog-web3"
sed -i '0,/"event":"gate.changes"/s/"event":"gate.changes"/"event":"gate.chonges"/' "$T/hostlog-web3/audit.log"
printf 'host-log: web1 %s\nhost-log: web2 %s\nhost-log: web3 %s\n' "$T/hostlog" "$T/hostlog-web2" \
	"$T/hostlog-web3" >>"$BREAKGLASS_HOME/config"
expect 0 "report over three hosts" bg report T-1
out_has '^### On `web1` ([0-9]* change sets, from the verified host log)' "first host named"
out_has '^### On `web2` ([0-9]* change sets, from the verified host log)' "second host named"
out_has '^### On `web3`' "third host named"
out_has 'The host log at `.*hostlog-web3` could not be verified' "an altered host log is flagged, its change sets not shown"
out_has '^To put it back, on `web2` as root' "rollback commands per host"
expect 0 "report over three hosts as JSON" bg report T-1 --json
perl -MJSON::PP -e 'local $/; my $j = decode_json(<STDIN>); my $c = $j->{changes};
	exit((ref $c eq "ARRAY" && @$c == 3 && $c->[0]{host} eq "web1" && $c->[0]{host_log_verified}
	    && @{$c->[1]{change_sets}} > 0 && !$c->[2]{host_log_verified} && $c->[2]{error}) ? 0 : 1)' <"$T/out" \
	&& ok "JSON: one entry per host, verified or with the error" || not_ok "JSON: one entry per host, verified or with the error"
printf 'host-log: %s\n' "$T/hostlog" >>"$BREAKGLASS_HOME/config"
expect 3 "an unnamed host-log among named ones is refused" bg report T-1
err_has "each names its host" "says how"
sed -i '/^host-log:/d' "$BREAKGLASS_HOME/config"
printf 'host-log: web1 relative/dir\n' >>"$BREAKGLASS_HOME/config"
expect 3 "a relative host-log is refused" bg report T-1
sed -i '/^host-log:/d' "$BREAKGLASS_HOME/config"
rm -rf "$T/hostlog-web2" "$T/hostlog-web3"

# privileged commands: exact argv through sudo, via a drop-in that exists
# only while the grant is active (this test writes to /etc/sudoers.d)
echo "sudoers-dir: /etc/sudoers.d" >>"$BREAKGLASS_HOME/config"
# a project that lets a launcher through its policy (env): the drop-in's
# NOEXEC still stops it from starting anything as root
printf 'rule no-launchers-privileged\n  enabled no\n  check deny-launchers sudo\n  reason test\n' \
	>"$BREAKGLASS_HOME/policy.d/shop.rules"
bg grant request T-1 --kind ssh --system web1 --account "$ACCT" --read "$SRV" \
	--sudo "/usr/bin/id -u" --sudo "/usr/bin/env /usr/bin/id -u" --ttl 1h \
	--reason "check privileges" >/dev/null
approve_as owner T-1 plan || exit 1
expect 0 "privileged grant activated" bg grant activate G-4
rm -f "$BREAKGLASS_HOME/policy.d/shop.rules"
# drop-ins are named by home (the broker key's hash) and grant: two homes
# on one host never replace or remove each other's
HOME_ID=$(awk '{ print $2 }' "$BREAKGLASS_HOME/broker.pub" | base64 -d | tail -c 32 | sha256sum | cut -c1-16)
SUDOERS=/etc/sudoers.d/breakglass-$HOME_ID-G-4
[ ! -e /etc/sudoers.d/breakglass-G-4 ] && ok "no drop-in named by grant id alone" || not_ok "no drop-in named by grant id alone"
[ -f "$SUDOERS" ] && ok "sudoers drop-in installed" || not_ok "sudoers drop-in installed"
grep -q "NOTAFTER=[0-9]*Z NOEXEC: NOPASSWD: /usr/bin/id -u, /usr/bin/env /usr/bin/id -u$" "$SUDOERS" 2>/dev/null \
	&& ok "drop-in: exact commands, NOTAFTER in UTC, NOEXEC" || not_ok "drop-in: exact commands, NOTAFTER in UTC, NOEXEC"
[ "$(stat -c %a "$SUDOERS" 2>/dev/null)" = 440 ] && ok "drop-in is 0440" || not_ok "drop-in is 0440"
visudo -c -q -f "$SUDOERS" && ok "visudo accepts it" || not_ok "visudo accepts it"
expect 0 "grant sudoers prints the same drop-in" bg grant sudoers G-4
cmp -s "$T/out" "$SUDOERS" && ok "printed drop-in matches the installed one" || not_ok "printed drop-in matches the installed one"
bg grant cert G-4 --pubkey "$T/user.pub" -o "$T/sudo-cert.pub" 2>/dev/null
expect 0 "privileged command runs as root" as_cert "$T/sudo-cert.pub" /usr/bin/id -u
out_has "^0$" "it ran as root"
expect 1 "other arguments refused by the gate" as_cert "$T/sudo-cert.pub" /usr/bin/id
as_cert "$T/sudo-cert.pub" /usr/bin/env /usr/bin/id -u >"$T/out" 2>"$T/err"
if grep -q "^0$" "$T/out"; then not_ok "NOEXEC: a privileged launcher cannot start a program as root"; else ok "NOEXEC: a privileged launcher cannot start a program as root"; fi
err_has "Permission denied" "the exec is what was refused"
su -s /bin/sh "$ACCT" -c "sudo -n /usr/bin/id -g" >/dev/null 2>&1 && not_ok "sudo refuses anything else" || ok "sudo refuses anything else"
expect 0 "revoke the privileged grant" bg revoke G-4 --reason done
[ ! -e "$SUDOERS" ] && ok "drop-in removed at revocation" || not_ok "drop-in removed at revocation"
su -s /bin/sh "$ACCT" -c "sudo -n /usr/bin/id -u" >/dev/null 2>&1 && not_ok "sudo refuses after revocation" || ok "sudo refuses after revocation"
sed -i '/^sudoers-dir:/d' "$BREAKGLASS_HOME/config"

# the shell tier: a pty, fully recorded (input with echo off too), secrets
# redacted, replay that strips escapes, cut on revocation
bg grant request T-1 --kind ssh --system web1 --account "$ACCT" --tier shell --read "$SRV" \
	--write "$SRV/current/app" --ttl 1h --reason "interactive repair" >/dev/null
approve_as owner T-1 plan || exit 1
expect 0 "shell grant activated" bg grant activate G-5
bg grant cert G-5 --pubkey "$T/user.pub" -o "$T/shell-cert.pub" 2>/dev/null
ssh-keygen -L -f "$T/shell-cert.pub" | grep -q permit-pty && ok "shell certificate permits a pty" || not_ok "shell certificate permits a pty"
ssh-keygen -L -f "$T/cert.pub" | grep -q permit-pty && not_ok "read certificate has no pty" || ok "read certificate has no pty"
{
	echo 'echo hello-from-shell $BREAKGLASS_GRANT'
	printf '%s\n' "printf '\\033]0;evil-title\\007\\033]52;c;ZXZpbA==\\007visible\\n'"
	echo 'echo DB_PASSWORD=Sup3rS3cret!'
	echo 'stty -echo; read x; stty echo; echo got-${#x}-chars'
	sleep 1.5; echo 'hunter2xyz'; sleep 0.5
	echo 'exit 7'
} | $SSH -tt -o CertificateFile="$T/shell-cert.pub" "$ACCT@127.0.0.1" >"$T/shell.out" 2>&1
rc=$?
[ "$rc" -eq 7 ] && ok "shell session ran, exit status passed through" || not_ok "shell session ran (exit $rc, want 7)"
grep -q "hello-from-shell G-5" "$T/shell.out" && ok "the shell ran the commands" || not_ok "the shell ran the commands"
grep -q "got-10-chars" "$T/shell.out" && ok "typed input reached the shell" || not_ok "typed input reached the shell"
REC=$(ls "$T/hostlog/recordings/"T-1-G-5-*.cast 2>/dev/null | head -1)
[ -n "$REC" ] && ok "recording written" || not_ok "recording written"
head -1 "$REC" | grep -q '"version":2' && ok "asciicast v2 header" || not_ok "asciicast v2 header"
grep -q 'hello-from-shell' "$REC" && ok "output recorded" || not_ok "output recorded"
grep -q '"i", "echo hello' "$REC" && ok "input recorded" || not_ok "input recorded"
file_lacks "Sup3rS3cret" "$REC" "secret in output redacted in the recording"
grep -q 'REDACTED:secret-assignment' "$REC" && ok "redaction marked" || not_ok "redaction marked"
grep '"i", ' "$REC" | grep -q 'hunter2xyz' && ok "input typed with echo off is recorded too (issue 14 item 3)" \
	|| not_ok "input typed with echo off is recorded too (issue 14 item 3)"
expect 0 "replay" bg replay --instant "$REC"
out_has "hello-from-shell" "replay shows the session"
out_has "visible" "replay keeps text"
if grep -q "$(printf '\033')]" "$T/out" || grep -q "$(printf '\007')" "$T/out"; then
	not_ok "replay strips OSC title and clipboard sequences"
else
	ok "replay strips OSC title and clipboard sequences"
fi
grep -q "$(printf '\033')]0;evil" "$REC" || grep -q 'u001b]0;evil' "$REC" && ok "the recording itself is faithful (escape kept, as data)" || not_ok "the recording itself is faithful"
# asciinema wants a terminal: script(1) gives it one
LC_ALL=C.UTF-8 script -qec "asciinema cat '$REC'" /dev/null </dev/null >"$T/asciinema.out" 2>&1 && grep -q hello-from-shell "$T/asciinema.out" \
	&& ok "asciinema reads the recording" || not_ok "asciinema reads the recording"
expect 0 "host log" bg audit export --dir "$T/hostlog"
out_has "recording T-1-G-5-" "recording named in the host log"
out_has "sha256 $(sha256sum "$REC" | cut -d' ' -f1)" "recording's hash in the host log"
su -s /bin/sh "$ACCT" -c "cat '$REC'" >/dev/null 2>&1 && not_ok "account cannot read recordings" || ok "account cannot read recordings"
su -s /bin/sh "$ACCT" -c ": > '$REC'" 2>/dev/null; [ -s "$REC" ] && ok "account cannot truncate recordings" || not_ok "account cannot truncate recordings"
# cut: an idle shell ends within 1 s of revocation
( sleep 20 ) | $SSH -tt -o CertificateFile="$T/shell-cert.pub" "$ACCT@127.0.0.1" >"$T/shell2.out" 2>&1 &
spid=$!
sleep 1.5
revoke_and_time $spid G-5 "cut the shell"
awk -v l="$late" 'BEGIN { exit !(l <= 1.0) }' && ok "shell session cut ${late}s after revocation (<= 1 s)" \
	|| not_ok "shell session cut ${late}s after revocation (<= 1 s)"
grep -q "revoked: session ended" "$T/shell2.out" && ok "user told the session ended" || not_ok "user told the session ended"
G_SHORT=G-6; G_REV=G-7

# a secret in a request is never written to the host log
as_cert "$T/cert.pub" "cat $SRV/DB_PASSWORD=Sup3rS3cret!" >/dev/null 2>&1
file_lacks "Sup3rS3cret" "$T/hostlog/audit.log" "secret in a request is redacted in the host log"

# expired certificate: sshd itself refuses
expect 255 "expired certificate refused by sshd" as_cert "$T/expired-cert.pub" help
grep -q "expired" "$T/sshd.log" && ok "sshd logs the expiry" || not_ok "sshd logs the expiry"

# expiry cuts an open session within 1 s of not-after
bg grant request T-1 --kind ssh --system web1 --account "$ACCT" --read "$SRV" --ttl 4s \
	--reason "short" >/dev/null
bg grant activate $G_SHORT >/dev/null
bg grant cert $G_SHORT --pubkey "$T/user.pub" -o "$T/short-cert.pub" 2>/dev/null
na=$(bg grant show $G_SHORT --json | perl -MJSON::PP -e 'local $/; print decode_json(<STDIN>)->{not_after}')
na_s=$(date -u -d "$na" +%s)
as_cert "$T/short-cert.pub" tail -f "$SRV/logs/error.log" >"$T/tail1.out" 2>&1 &
tpid=$!
while kill -0 $tpid 2>/dev/null && [ "$(date +%s)" -lt $((na_s + 5)) ]; do sleep 0.1; done
end=$(date +%s.%N)
kill $tpid 2>/dev/null
late=$(echo "$end $na_s" | awk '{ printf "%.2f", $1 - $2 }')
awk -v l="$late" 'BEGIN { exit !(l <= 1.0) }' && ok "open session cut ${late}s after expiry (<= 1 s)" \
	|| not_ok "open session cut ${late}s after expiry (<= 1 s)"
grep -q "expired: stopping" "$T/tail1.out" && ok "user told the grant expired" || not_ok "user told the grant expired"

# revocation cuts an open session within 1 s, and sshd refuses via the KRL
bg grant request T-1 --kind ssh --system web1 --account "$ACCT" --read "$SRV" --ttl 1h \
	--reason "revoke me" >/dev/null
bg grant activate $G_REV >/dev/null
bg grant cert $G_REV --pubkey "$T/user.pub" -o "$T/rev-cert.pub" 2>/dev/null
as_cert "$T/rev-cert.pub" tail -f "$SRV/logs/error.log" >"$T/tail2.out" 2>&1 &
tpid=$!
sleep 1.5
kill -0 $tpid 2>/dev/null && ok "session open before revocation" || not_ok "session open before revocation"
revoke_and_time $tpid $G_REV test
awk -v l="$late" 'BEGIN { exit !(l <= 1.0) }' && ok "open session cut ${late}s after revocation (<= 1 s)" \
	|| not_ok "open session cut ${late}s after revocation (<= 1 s)"
expect 255 "revoked certificate refused by sshd (KRL)" as_cert "$T/rev-cert.pub" help
ssh-keygen -Q -f "$T/etc/revoked.krl" "$T/rev-cert.pub" >"$T/out" 2>&1
out_has "REVOKED" "ssh-keygen agrees the published KRL revokes it"
echo "garbage" >"$T/etc/revoked.krl.bad"
cp "$T/etc/revoked.krl" "$T/krl.good"; cp "$T/etc/revoked.krl.bad" "$T/etc/revoked.krl"
expect 255 "an unreadable KRL: sshd refuses everyone" as_cert "$T/cert.pub" help
cp "$T/krl.good" "$T/etc/revoked.krl"
expect 0 "good KRL back: G-2 works again" as_cert "$T/cert.pub" help

# the account cannot touch the records
su -s /bin/sh "$ACCT" -c "echo forged >> '$T/hostlog/audit.log'" 2>/dev/null && not_ok "account cannot append to the host log" || ok "account cannot append to the host log"
su -s /bin/sh "$ACCT" -c ": > '$T/hostlog/audit.log'" 2>/dev/null && not_ok "account cannot truncate the host log" || ok "account cannot truncate the host log"
su -s /bin/sh "$ACCT" -c "rm -f '$T/hostlog/audit.log'" 2>/dev/null
[ -s "$T/hostlog/audit.log" ] && ok "account cannot delete the host log" || not_ok "account cannot delete the host log"
su -s /bin/sh "$ACCT" -c "cat '$T/hostlog/host.key'" >/dev/null 2>&1 && not_ok "account cannot read the host key" || ok "account cannot read the host key"
expect 0 "host log verifies" bg audit verify --dir "$T/hostlog"
expect 0 "host log export" bg audit export --dir "$T/hostlog"
out_has '"event":"gate.refuse"' "refusals are in the host log"
out_has '"request":"/usr/bin/uptime"' "allowed commands are in the host log"
out_has '"decision":"cut"' "cut sessions are in the host log"
out_has '"event":"gate.end"' "command ends are in the host log"
out_has '"event":"gate.write"' "writes are in the host log with both hashes"

# a host set up without the owner's approvers refuses every write
expect 0 "host set up again without --approvers" "$T/bin/breakglass" host setup \
	--socket "$T/hostd.sock" --system "${HOST_SYSTEM:-web1}" --account "$ACCT" --apply \
	--etc "$T/etc" --sshd-dir "$T/sshd.d" --sshd-config "$T/sshd_config" \
	--audit-dir "$T/hostlog" --group "$GROUP" --auth-spool "$T/authspool" \
	--principals-command "$(cat "$T/principals-dir")/breakglass-gate"
grep -q '^approvers:' "$T/etc/gate.conf" && not_ok "gate.conf names no approvers" || ok "gate.conf names no approvers"
expect 1 "a write certificate with consent refused by a host without approvers" \
	as_cert "$T/goodcons-cert.pub" /usr/bin/uptime
err_has "has no approvers" "says the host has no approvers"
done_testing
