#!/bin/sh
# t1020-hostd-guarantees: issue 14's remaining host guarantees, through a
# real OpenSSH sshd on 127.0.0.1 and hostd: no input hidden from the
# owner, requests logged whole and every name escaped, grants on one
# account kept apart, snapshots that cost what changed, a per-uid cap on
# hostd's children.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || { echo "1..0 # this test creates an account and runs sshd: run it as root"; exit 1; }
[ -x /usr/sbin/sshd ] || { echo "not ok 1 - sshd is installed (scripts/install-deps)"; echo "1..1"; exit 1; }

ACCT=bgtest${BG_TEST_ID:-}-hg
GROUP=bgtest${BG_TEST_ID:-}-hggate
SRV=$T/srv
. "$(dirname "$0")/../../scripts/lib-host.sh"
cleanup_host() {
	host_down "$T" "$ACCT" "$GROUP"
	rm -rf "$T"
}
trap cleanup_host EXIT

mkdir -p "$SRV/logs" "$SRV/w"
printf 'first\nsecond\n' >"$SRV/logs/app.log"
setup_home
bg approver list --project shop --allowed-signers >"$T/approvers"
if host_up "$T" "$ACCT" "$GROUP" "$BREAKGLASS" "$T/approvers"; then
	ok "host set up, hostd started, sshd on 127.0.0.1:$HOST_PORT"
else
	not_ok "host set up"; done_testing; exit 1
fi
chown "$ACCT" "$SRV/w"
chmod -R a+rX "$T/srv"
open_ticket
approve_as owner T-1 confirm || exit 1
echo dump >"$T/dump"
bg evidence T-1 backup --what dump --where /b --taken "$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)" \
	--file "$T/dump" >/dev/null
bg evidence T-1 rollback --method redeploy-previous --what "deploy 4.2.0" >/dev/null
write_plan
bg plan T-1 --from "$T/plan.txt" --diff "$T/fix.diff" >/dev/null
approve_as owner T-1 plan || exit 1
ssh-keygen -q -t ed25519 -N '' -C responder -f "$T/user"
SSH="$HOST_SSH -i $T/user"
as_cert() { cert=$1; shift; $SSH -o CertificateFile="$cert" "$ACCT@127.0.0.1" "$@"; }
# grant N ARGS...: request, approve, activate grant G-N, its certificate in $T/gN.pub
grant() {
	_n=$1; shift
	bg grant request T-1 --kind ssh --system web1 --account "$ACCT" "$@" --ttl 1h \
		--reason "grant $_n" >/dev/null || return 1
	approve_as owner T-1 plan || return 1
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

done_testing
