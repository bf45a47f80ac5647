#!/bin/sh
# t1015-hostd-files: reads and writes as approved, whatever the owner,
# through a real OpenSSH sshd on 127.0.0.1.  The supervisor opens the
# grant's files on the account's behalf inside the grant's directories
# only: a root:adm 0640 log is read without the account being in adm; a
# write keeps the replaced file's owner, group and mode (setuid/setgid
# still stripped), a new file takes its directory's owner and group.  And
# the attacks: symlinks and hard links out of the grant, a path escaping
# it, a FIFO or a device (which must not hold the supervisor).
. "$(dirname "$0")/lib.sh"

need_root_sshd "creates accounts and runs sshd"

ACCT=bgtest${BG_TEST_ID:-}-files
WWW=bgtest${BG_TEST_ID:-}-www
GROUP=bgtest${BG_TEST_ID:-}-fgate
SRV=$T/srv
. "$(dirname "$0")/../../scripts/lib-host.sh"
cleanup_host() {
	host_down "$T" "$ACCT" "$GROUP"
	userdel "$WWW" 2>/dev/null
	rm -rf "$T"
}
trap cleanup_host EXIT

userdel "$WWW" 2>/dev/null
useradd --system --no-create-home --home-dir / --shell /usr/sbin/nologin "$WWW" ||
	{ echo "not ok 1 - create the web server's account"; echo "1..1"; exit 1; }
host_test_up "host set up, sshd on"
# a real host's layout: logs root:adm, a docroot the web server owns
mkdir -p "$SRV/log/nginx" "$SRV/www" "$SRV/outside"
chmod 755 "$SRV"
printf 'GET /checkout 500\nPaymentGateway: undefined index\n' >"$SRV/log/nginx/error.log"
chown -R root:adm "$SRV/log/nginx"
chmod 0750 "$SRV/log/nginx"
chmod 0640 "$SRV/log/nginx/error.log"
printf 'secret outside the grant\n' >"$SRV/outside/secret"
chmod 0600 "$SRV/outside/secret"
ln "$SRV/outside/secret" "$SRV/log/nginx/hardlink"
ln -s "$SRV/outside/secret" "$SRV/log/nginx/symlink"
mkfifo "$SRV/log/nginx/fifo"
mknod "$SRV/log/nginx/zero" c 1 5
chown -h root:adm "$SRV/log/nginx/fifo"
printf '<?php echo "old";\n' >"$SRV/www/index.php"
printf 'x\n' >"$SRV/www/suid.php"
chown -R "$WWW:$WWW" "$SRV/www"
chmod 0750 "$SRV/www"
chmod 0640 "$SRV/www/index.php"
chmod 06750 "$SRV/www/suid.php"
id -nG "$ACCT" | grep -qw adm && not_ok "the account is not in adm" || ok "the account is not in adm"
su -s /bin/sh "$ACCT" -c "cat $SRV/log/nginx/error.log" >/dev/null 2>&1 &&
	not_ok "the account cannot read the log itself" || ok "the account cannot read the log itself"

ticket_planned
responder_key
bg grant request T-1 --kind ssh --system web1 --account "$ACCT" --read "$SRV/log/nginx" \
	--ttl 1h --reason "read the logs" >/dev/null
bg grant request T-1 --kind ssh --system web1 --account "$ACCT" --tier shell \
	--read "$SRV/log/nginx" --write "$SRV/www" --ttl 1h --reason "replace a plugin file" >/dev/null
approve_as owner T-1 plan || exit 1
bg grant activate G-1 >/dev/null
bg grant activate G-2 >/dev/null
bg grant cert G-1 --pubkey "$T/user.pub" -o "$T/read-cert.pub" 2>/dev/null
bg grant cert G-2 --pubkey "$T/user.pub" -o "$T/write-cert.pub" 2>/dev/null

# reads: a root:adm 0640 log in a root:adm 0750 directory
expect 0 "cat reads a root:adm 0640 log through a read grant" \
	as_cert "$T/read-cert.pub" cat "$SRV/log/nginx/error.log"
out_has "PaymentGateway" "the log's content"
expect 0 "tail reads it" as_cert "$T/read-cert.pub" tail -n 1 "$SRV/log/nginx/error.log"
out_has "PaymentGateway" "its last line"
expect 0 "grep reads it" as_cert "$T/read-cert.pub" grep -F 500 "$SRV/log/nginx/error.log"
out_has "GET /checkout" "the matching line"
expect 0 "ls lists the root:adm 0750 directory" as_cert "$T/read-cert.pub" ls "$SRV/log/nginx"
out_has "error.log" "the listing names the log"

# attacks on the reads
expect 1 "a symlink out of the grant is refused" as_cert "$T/read-cert.pub" cat "$SRV/log/nginx/symlink"
err_has "outside the grant" "says it leads outside"
expect 1 "a hard link to a file outside the grant is refused" \
	as_cert "$T/read-cert.pub" cat "$SRV/log/nginx/hardlink"
err_has "hard links" "says why"
expect 1 "a path escaping the grant is refused" as_cert "$T/read-cert.pub" cat "$SRV/log/nginx/../../outside/secret"
expect 1 "a path outside the grant is refused" as_cert "$T/read-cert.pub" cat "$SRV/outside/secret"
if grep -q "secret outside" "$T/out"; then not_ok "nothing outside was read"; else ok "nothing outside was read"; fi
t0=$(date +%s)
expect 1 "a FIFO is refused" timeout 20 sh -c "$HOST_SSH -i $T/user -o CertificateFile=$T/read-cert.pub $ACCT@127.0.0.1 cat $SRV/log/nginx/fifo"
err_has "not a regular file" "says it is not a regular file"
[ $(($(date +%s) - t0)) -lt 10 ] && ok "the FIFO did not hold the request" || not_ok "the FIFO did not hold the request"
expect 1 "a device is refused" timeout 20 sh -c "$HOST_SSH -i $T/user -o CertificateFile=$T/read-cert.pub $ACCT@127.0.0.1 cat $SRV/log/nginx/zero"
err_has "not a regular file" "says it is not a regular file"
expect 1 "tail -f of a FIFO is refused" timeout 20 sh -c "$HOST_SSH -i $T/user -o CertificateFile=$T/read-cert.pub $ACCT@127.0.0.1 tail -f $SRV/log/nginx/fifo"
expect 1 "the read grant cannot write" sh -c "printf 'x\n' | $HOST_SSH -i $T/user -o CertificateFile=$T/read-cert.pub $ACCT@127.0.0.1 put $SRV/log/nginx/error.log"

# writes: the replaced file keeps owner, group and mode
printf '<?php echo "fixed";\n' >"$T/index.php"
expect_in 0 "put replaces a www-data 0640 file" "$T/index.php" \
	as_cert "$T/write-cert.pub" put "$SRV/www/index.php"
grep -q fixed "$SRV/www/index.php" && ok "the new content is there" || not_ok "the new content is there"
[ "$(stat -c '%U:%G %a' "$SRV/www/index.php")" = "$WWW:$WWW 640" ] &&
	ok "it keeps its owner, group and mode" ||
	not_ok "it keeps its owner, group and mode ($(stat -c '%U:%G %a' "$SRV/www/index.php"))"
expect_in 0 "put of a new file" "$T/index.php" as_cert "$T/write-cert.pub" put "$SRV/www/new.php"
[ "$(stat -c '%U:%G' "$SRV/www/new.php")" = "$WWW:$WWW" ] &&
	ok "a new file takes the directory's owner and group" ||
	not_ok "a new file takes the directory's owner and group ($(stat -c '%U:%G' "$SRV/www/new.php"))"
expect_in 0 "put replaces a setuid/setgid file" "$T/index.php" as_cert "$T/write-cert.pub" put "$SRV/www/suid.php"
[ "$(stat -c '%U:%G %a' "$SRV/www/suid.php")" = "$WWW:$WWW 750" ] &&
	ok "owner and group kept, setuid/setgid stripped" ||
	not_ok "owner and group kept, setuid/setgid stripped ($(stat -c '%U:%G %a' "$SRV/www/suid.php"))"
ln -s "$SRV/outside/secret" "$SRV/www/link.php"
expect_in 1 "put through a symlink is refused" "$T/index.php" as_cert "$T/write-cert.pub" put "$SRV/www/link.php"
grep -q "secret outside" "$SRV/outside/secret" && ok "the symlink's target is untouched" || not_ok "the symlink's target is untouched"
expect_in 1 "put outside the writable directory is refused" "$T/index.php" \
	as_cert "$T/write-cert.pub" put "$SRV/outside/new.php"
[ ! -e "$SRV/outside/new.php" ] && ok "nothing written outside" || not_ok "nothing written outside"
expect_in 1 "put escaping the writable directory is refused" "$T/index.php" \
	as_cert "$T/write-cert.pub" put "$SRV/www/../outside/new.php"
mkfifo "$SRV/www/fifo.php"
expect_in 1 "put over a FIFO is refused" "$T/index.php" as_cert "$T/write-cert.pub" put "$SRV/www/fifo.php"
[ -p "$SRV/www/fifo.php" ] && ok "the FIFO is left alone" || not_ok "the FIFO is left alone"
# the shell tier runs programs with the account's rights, not the supervisor's
expect 0 "a shell session's own commands run as the account" \
	sh -c "echo 'cat $SRV/log/nginx/error.log; echo rc=\$?; exit' | $HOST_SSH -tt -i $T/user -o CertificateFile=$T/write-cert.pub $ACCT@127.0.0.1"
out_has "rc=1" "and cannot read the root:adm log themselves"
expect 0 "host log verifies" bg audit verify --dir "$T/hostlog"

done_testing
