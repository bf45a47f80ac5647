# lib.sh - helpers for the breakglass integration tests (TAP output).
#
# Each test script sources this file, uses a throwaway home under a fresh
# temporary directory (removed on exit), and ends with done_testing.
# BREAKGLASS names the binary under test (make integration sets it).

set -u
: "${BREAKGLASS:?set BREAKGLASS to the breakglass binary}"
T=$(mktemp -d /tmp/bg-t.XXXXXX)
trap 'rm -rf "$T"' EXIT
export BREAKGLASS_HOME="$T/home"
export BREAKGLASS_ACTOR=tester
unset BREAKGLASS_NOW BREAKGLASS_TESTING
export LC_ALL=C
N=0
FAILED=0

bg() { "$BREAKGLASS" "$@"; }

ok() { N=$((N + 1)); echo "ok $N - $1"; }
not_ok() {
	N=$((N + 1)); FAILED=$((FAILED + 1)); echo "not ok $N - $1"
	[ -f "$T/err" ] && sed 's/^/#   err: /' "$T/err" | head -20
	[ -f "$T/out" ] && sed 's/^/#   out: /' "$T/out" | head -20
	return 0
}

# expect CODE DESCRIPTION CMD...: run CMD, keep its output in $T/out and
# $T/err, and check its exit status.
expect() {
	_want=$1; _desc=$2; shift 2
	"$@" >"$T/out" 2>"$T/err" </dev/null
	_rc=$?
	if [ "$_rc" -eq "$_want" ]; then ok "$_desc"; else not_ok "$_desc (exit $_rc, want $_want)"; fi
}

# expect_in CODE DESCRIPTION INPUTFILE CMD...: same, with stdin from a file.
expect_in() {
	_want=$1; _desc=$2; _in=$3; shift 3
	"$@" >"$T/out" 2>"$T/err" <"$_in"
	_rc=$?
	if [ "$_rc" -eq "$_want" ]; then ok "$_desc"; else not_ok "$_desc (exit $_rc, want $_want)"; fi
}

err_has() { if grep -q -- "$1" "$T/err"; then ok "$2"; else not_ok "$2 (stderr lacks '$1')"; fi; }
out_has() { if grep -q -- "$1" "$T/out"; then ok "$2"; else not_ok "$2 (stdout lacks '$1')"; fi; }
err_lacks() { if grep -q -- "$1" "$T/err"; then not_ok "$2 (stderr has '$1')"; else ok "$2"; fi; }
file_lacks() { if [ -e "$2" ] && grep -q -- "$1" "$2"; then not_ok "$3 ('$2' has '$1')"; else ok "$3"; fi; }

done_testing() {
	echo "1..$N"
	[ "$FAILED" -eq 0 ]
}

# A home with project 'shop' (systems web1, db1), approvers owner and
# second, and the requester dev (also registered, to prove they cannot
# approve their own ticket).
setup_home() {
	bg init >/dev/null || exit 1
	bg project add shop --systems web1,db1 >/dev/null || exit 1
	for k in owner dev second; do
		ssh-keygen -q -t ed25519 -N '' -C "$k" -f "$T/$k" || exit 1
	done
	bg approver add --project shop --principal owner@shop.example --name "Olga Owner" \
		--key "$T/owner.pub" >/dev/null || exit 1
	roster_add owner shop dev@agency.example "$T/dev.pub" || exit 1
	roster_add owner shop second@shop.example "$T/second.pub" || exit 1
}

# roster SIGNERS approver ARGS...: change a project's approvers (add or
# remove) with the roster statement signed by SIGNERS (keys under $T,
# comma-separated: the project's quorum of its approvers).
roster() {
	_signers=$1; shift
	bg "$@" --statement -o "$T/roster" >/dev/null || return 1
	for _s in $(echo "$_signers" | tr , ' '); do
		cp "$T/roster" "$T/roster.$_s"
		sign "$_s" "$T/roster.$_s" || return 1
		set -- "$@" --signature "$T/roster.$_s.sig"
	done
	bg "$@" --roster "$T/roster" >/dev/null
}

# roster_add SIGNERS PROJECT PRINCIPAL KEY.pub: add an approver that way.
roster_add() {
	roster "$1" approver add --project "$2" --principal "$3" --key "$4"
}

write_intake() {
	cat >"$T/intake.txt" <<'EOT'
project: shop
system: web1
requester: dev@agency.example
production-url: https://shop.example
affected-flow: checkout
broken: Checkout returns HTTP 500 after payment
started: 2026-11-21T02:10Z
changed-before: deploy of release 4.2.1 at 02:00
evidence: PaymentGateway: undefined index 'currency'
last-known-good: release 4.2.0
deploy-method: ssh
backup-status: nightly dump 01:00 UTC
rollback-method: redeploy-previous
approver-name: Olga Owner
approver-email: owner@shop.example
EOT
}

# open_ticket: a new ticket each time, from the same intake (so explicitly
# a duplicate of any still open)
open_ticket() {
	write_intake
	bg ticket open --from "$T/intake.txt" --duplicate >/dev/null || exit 1
}

# sign KEY FILE: the approver signs FILE with the real ssh-keygen.
sign() {
	rm -f "$2.sig"
	ssh-keygen -q -Y sign -n breakglass -f "$T/$1" "$2" </dev/null >/dev/null 2>&1
}

# approve_as KEY T KIND [REASON]: issue the statement, sign, record.
approve_as() {
	if [ $# -gt 3 ]; then
		bg approve "$2" --statement --for "$3" --reason "$4" -o "$T/stmt-$3" 2>/dev/null
	else
		bg approve "$2" --statement --for "$3" -o "$T/stmt-$3" 2>/dev/null
	fi || return 1
	sign "$1" "$T/stmt-$3" || return 1
	bg approve "$2" --signature "$T/stmt-$3.sig" >/dev/null
}

write_plan() {
	cat >"$T/fix.diff" <<'EOT'
--- a/app/Payment.php
+++ b/app/Payment.php
@@ -10,1 +10,1 @@
-    $c = $order['currency'];
+    $c = $order['currency'] ?? 'EUR';
EOT
	cat >"$T/plan.txt" <<'EOT'
summary: default the currency when the gateway omits it
diagnosis: release 4.2.1 reads the currency without a default
change: apply fix.diff
rollback: redeploy release 4.2.0
impact: php-fpm reload, no downtime
smoke-test: a test order with a saved card
EOT
}

# A ticket through confirmation, with a read grant G-1 and a write grant G-2.
ticket_with_grants() {
	open_ticket
	approve_as owner T-1 confirm || exit 1
	bg grant request T-1 --kind ssh --system web1 --account hotfix --read /var/log/nginx \
		--reason "read the logs" >/dev/null || exit 1
	bg grant request T-1 --kind ssh --system web1 --account hotfix --tier plan \
		--write /srv/shop/app --reason "apply the fix" --ttl 1h >/dev/null || exit 1
}

# ---- a test host (tests that run sshd source scripts/lib-host.sh too) ----

# need_root_sshd WHAT: a host test runs as root with sshd installed, and
# fails (never skips) without them; WHAT says what it does as root.
# umount_wait DIR: unmount DIR when it is a mount point, waiting (up to
# 3 s) for processes that still hold it (a request's serving process
# making its last record durable) to go; detached lazily as a last resort,
# so no mount outlives the test that made it
umount_wait() {
	mountpoint -q "$1" 2>/dev/null || return 0
	_u=0
	while ! umount "$1" 2>/dev/null; do
		_u=$((_u + 1))
		if [ $_u -ge 30 ]; then umount -l "$1" 2>/dev/null; return 0; fi
		sleep 0.1
	done
}

need_root_sshd() {
	[ "$(id -u)" -eq 0 ] || { echo "1..0 # this test $1: run it as root"; exit 1; }
	[ -x /usr/sbin/sshd ] || { echo "not ok 1 - sshd is installed (scripts/install-deps)"; echo "1..1"; exit 1; }
}

# host_test_up MESSAGE: a home (setup_home) and, with its approvers, a host
# for account $ACCT and gate group $GROUP (lib-host.sh's host_up): ok
# "MESSAGE 127.0.0.1:PORT" (sshd's port), or not ok and the test ends.
host_test_up() {
	setup_home
	bg approver list --project shop --allowed-signers >"$T/approvers"
	if host_up "$T" "$ACCT" "$GROUP" "$BREAKGLASS" "$T/approvers"; then
		ok "$1 127.0.0.1:$HOST_PORT"
	else
		not_ok "host set up"; done_testing; exit 1
	fi
}

# host_test_log_fs FS MESSAGE: the start of a test of a host whose host log
# ($T/hostlog) is a file system of its own.  The test sets ACCT and GROUP
# first.  Needs root and sshd (need_root_sshd); sources lib-host.sh; SRV is
# $T/srv, with logs/app.log ("first", "second").  FS is tmpfs:SIZE (a
# tmpfs of SIZE, mode 0755) or ext4-128:SIZE (an image of SIZE made with
# 128-byte inodes, whole-second timestamps, mounted on a loop device): a
# mount that fails is a TAP failure, never a skip (the file system is what
# these tests are about).  Then host_test_up MESSAGE, and $SRV readable by
# all.  The EXIT trap kills $bgpid when set, takes the host down, runs the
# test's own host_test_cleanup when it defines one (e.g. a mount inside the
# log's file system), unmounts $T/hostlog and removes $T.  ext4-128-failable:
# as ext4-128, with the image on a tmpfs of its own, for log_fs_fail_writes.
host_test_log_fs() {
	need_root_sshd "creates an account, mounts a file system and runs sshd"
	SRV=$T/srv
	. "$(dirname "$0")/../../scripts/lib-host.sh"
	trap host_test_log_fs_cleanup EXIT
	mkdir -p "$SRV/logs" "$T/hostlog"
	printf 'first\nsecond\n' >"$SRV/logs/app.log"
	case $1 in
	tmpfs:*)
		mount -t tmpfs -o "size=${1#tmpfs:},mode=0755" tmpfs "$T/hostlog" ||
			{ echo "not ok 1 - mount a tmpfs"; echo "1..1"; exit 1; }
		;;
	ext4-128:*|ext4-128-failable:*)
		_img=$T/logfs.img
		if [ "${1%%:*}" = ext4-128-failable ]; then
			# the image, sparse, on a tmpfs of its own ($T/logback):
			# log_fs_fail_writes makes the device fail
			mkdir -p "$T/logback"
			mount -t tmpfs -o "size=${1#*:},mode=0700" tmpfs "$T/logback" ||
				{ echo "not ok 1 - mount a tmpfs for the log's image"; echo "1..1"; exit 1; }
			_img=$T/logback/logfs.img
		fi
		truncate -s "${1#*:}" "$_img"
		if ! mkfs.ext4 -q -F -I 128 "$_img" >/dev/null 2>&1 ||
		    ! mount -o loop "$_img" "$T/hostlog" 2>/dev/null; then
			echo "not ok 1 - an ext4 file system with 128-byte inodes on a loop device (mkfs.ext4, mount -o loop)"
			echo "1..1"; exit 1
		fi
		chmod 0755 "$T/hostlog"
		;;
	*)
		echo "Bail out! host_test_log_fs: file system '$1'"; exit 1
		;;
	esac
	host_test_up "$2"
	chmod -R a+rX "$SRV"
}
host_test_log_fs_cleanup() {
	[ -n "${bgpid:-}" ] && kill "$bgpid" 2>/dev/null
	host_down "$T" "$ACCT" "$GROUP"
	if command -v host_test_cleanup >/dev/null 2>&1; then host_test_cleanup; fi
	umount_wait "$T/hostlog"
	[ -d "$T/logback" ] && umount_wait "$T/logback"
	rm -rf "$T"
}

# log_fs_fail_writes FILE...: from now on the device under an
# ext4-128-failable host log fails the write-back of FILE's last block and
# of every block not written before (the journal's among them): their
# pages in the image are freed, its tmpfs filled.  What is already in the
# page cache reads as before; fsync and fdatasync fail (EIO).
log_fs_fail_writes() {
	for _f in "$@"; do
		_bs=$(stat -f -c %S "$_f")
		_last=$(( ($(stat -c %s "$_f") - 1) / _bs ))
		# the kernel's map of it (FIEMAP): the image's own may lag
		_blk=$(filefrag -e -b"$_bs" "$_f" 2>/dev/null | awk -v l="$_last" -F'[:. ]+' \
			'$2 ~ /^[0-9]+$/ && $3 + 0 <= l && l <= $4 + 0 { print $5 + l - $3; exit }')
		[ -n "$_blk" ] || return 1
		fallocate --punch-hole -o $((_blk * _bs / 4096 * 4096)) -l 4096 "$T/logback/logfs.img" || return 1
	done
	dd if=/dev/zero of="$T/logback/fill" bs=64k 2>/dev/null
	[ "$(df -k --output=avail "$T/logback" | tail -1 | tr -d ' ')" = 0 ]
}

# ticket_planned [PLAN-ARGS...]: T-1 opened and confirmed by the owner,
# its backup and rollback evidence recorded, write_plan's plan submitted
# (bg plan with PLAN-ARGS added); the plan is not approved yet.
ticket_planned() {
	open_ticket
	approve_as owner T-1 confirm || exit 1
	echo dump >"$T/dump"
	bg evidence T-1 backup --what dump --where /b --taken "$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)" \
		--file "$T/dump" >/dev/null
	bg evidence T-1 rollback --method redeploy-previous --what "deploy 4.2.0" >/dev/null
	write_plan
	bg plan T-1 --from "$T/plan.txt" --diff "$T/fix.diff" "$@" >/dev/null
}

# responder_key: the responder's key $T/user and SSH, the host's ssh with
# it; as_cert CERT CMD... runs CMD on the host as $ACCT with that key and
# certificate CERT.
responder_key() {
	ssh-keygen -q -t ed25519 -N '' -C responder -f "$T/user"
	SSH="$HOST_SSH -i $T/user"
}
as_cert() { cert=$1; shift; $SSH -o CertificateFile="$cert" "$ACCT@127.0.0.1" "$@"; }

# fifo_grant: after host_test_log_fs, a FIFO $SRV/fifo, a 1M log reserve,
# and grant G-1 (read $SRV; commands /bin/echo g1-marker and /bin/cat of
# the FIFO: a writer finds a reader only if the program ran) with its
# certificate in $T/g1.pub; checks that one command runs
fifo_grant() {
	mkfifo -m 0644 "$SRV/fifo"
	echo "log-reserve: 1M" >>"$T/etc/gate.conf"
	ticket_planned
	approve_as owner T-1 plan || exit 1
	responder_key
	bg grant request T-1 --kind ssh --system web1 --account "$ACCT" --read "$SRV" \
		--command "/bin/echo g1-marker" --command "/bin/cat $SRV/fifo" --ttl 1h --reason "read" >/dev/null
	approve_as owner T-1 plan 2>/dev/null || true
	bg grant activate G-1 >/dev/null
	bg grant cert G-1 --pubkey "$T/user.pub" -o "$T/g1.pub" 2>/dev/null
	expect 0 "a command through sshd, the gate and hostd" as_cert "$T/g1.pub" /bin/echo g1-marker
	out_has "^g1-marker" "it ran"
}
