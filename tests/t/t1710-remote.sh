#!/bin/sh
# t1710-remote: remote use through a real sshd on loopback.  The broker
# home belongs to a service account; 'broker setup' writes its
# authorized_keys (one restricted forced command per user key); responders
# and approvers run the same CLI with --broker ssh://ACCOUNT@127.0.0.1:PORT,
# files travelling with the command.  Who acts is the key that logged in.
# Then a load test: 50 concurrent clients x 20 state changes, no record
# lost or duplicated, the audit log verifies.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || { not_ok "runs as root (makes an account, starts sshd)"; done_testing; exit 1; }
ACCT=bgtest${BG_TEST_ID:-0}-bk
down() {
	[ -f "$T/sshd.pid" ] && kill "$(cat "$T/sshd.pid")" 2>/dev/null
	if id "$ACCT" >/dev/null 2>&1; then
		pkill -u "$ACCT" 2>/dev/null
		userdel "$ACCT" 2>/dev/null
	fi
	rm -rf "$T"
}
trap down EXIT
down; mkdir -p "$T"
chmod 755 "$T"
mkdir "$T/bin"
cp "$BREAKGLASS" "$T/bin/breakglass"
chmod 755 "$T/bin/breakglass"
B="$T/bin/breakglass"

setup_home
bg user role add dev@agency.example responder >/dev/null || exit 1
expect 0 "broker setup" bg broker setup --account "$ACCT" --command "$B"
out_has "belongs to '$ACCT'" "says whose the home is"
[ "$(stat -c %U:%a "$BREAKGLASS_HOME")" = "$ACCT:700" ] && ok "home is the account's, 0700" ||
	not_ok "home is the account's, 0700 ($(stat -c %U:%a "$BREAKGLASS_HOME"))"
AK="$BREAKGLASS_HOME/.ssh/authorized_keys"
fp=$(ssh-keygen -l -f "$T/dev.pub" | awk '{print $2}')
grep -q "^restrict,command=\"$B --home $BREAKGLASS_HOME serve --as dev@agency.example --key $fp\" ssh-ed25519 " "$AK" &&
	ok "authorized_keys: a restricted forced command per key" || not_ok "authorized_keys line ($(cat "$AK"))"
[ "$(grep -c '^restrict,command=' "$AK")" -eq 3 ] && ok "three keys, three lines" || not_ok "three keys, three lines"
expect 0 "root still acts locally, as admin" bg user list
out_has "owner@shop.example" "lists users"
[ "$(find "$BREAKGLASS_HOME" ! -user "$ACCT" | wc -l)" -eq 0 ] && ok "root's change left the files the account's" ||
	not_ok "root's change left the files the account's ($(find "$BREAKGLASS_HOME" ! -user "$ACCT" | head -3))"

# sshd on loopback, the account's keys from the home
ssh-keygen -q -t ed25519 -N '' -f "$T/hostkey" || exit 1
cat >"$T/sshd_config" <<EOT
ListenAddress 127.0.0.1
HostKey $T/hostkey
PidFile $T/sshd.pid
UsePAM no
AllowUsers $ACCT
AuthenticationMethods publickey
MaxStartups 200
MaxSessions 200
EOT
mkdir -p /run/sshd
PORT=""
for try in 1 2 3 4 5 6 7 8; do
	p=$(( 20000 + ($$ * 11 + try * 7919 + ${BG_TEST_ID:-0} * 13) % 40000 ))
	rm -f "$T/sshd.pid"
	if /usr/sbin/sshd -f "$T/sshd_config" -o "Port $p" -E "$T/sshd.log" && sleep 0.3 && [ -s "$T/sshd.pid" ]; then
		PORT=$p; break
	fi
done
[ -n "$PORT" ] && ok "sshd listening" || { not_ok "sshd listening"; done_testing; exit 1; }
# each party's ssh config: their own key, this throwaway host
sshcfg() {
	cat >"$T/ssh-$1" <<EOT
Host 127.0.0.1
  IdentityFile $T/$1
  IdentitiesOnly yes
  StrictHostKeyChecking no
  UserKnownHostsFile /dev/null
  LogLevel ERROR
  ConnectTimeout 10
EOT
}
for k in dev owner second; do sshcfg $k; done
URL="ssh://$ACCT@127.0.0.1:$PORT"
# the laptop: the CLI with --broker, no home, no BREAKGLASS_ACTOR
as() { _k=$1; shift; env -u BREAKGLASS_ACTOR -u BREAKGLASS_HOME BREAKGLASS_SSH_CONFIG="$T/ssh-$_k" "$BREAKGLASS" --broker "$URL" "$@"; }

write_intake
grep -v '^requester:' "$T/intake.txt" >"$T/laptop-intake.txt"
expect 0 "dev opens a ticket from the laptop" as dev ticket open --from "$T/laptop-intake.txt"
out_has "opened T-1" "says T-1"
expect 0 "ticket status over ssh" as dev ticket status T-1
out_has "requester: dev@agency.example\|T-1" "status shown"
expect 0 "ticket shown" bg ticket show T-1
out_has "requester: dev@agency.example" "the requester is the key that logged in"
expect 0 "the statement comes back as a file" as dev approve T-1 --statement --for confirm -o "$T/c.txt"
grep -q "I confirm emergency production hotfix mode" "$T/c.txt" && ok "statement file written on the laptop" ||
	not_ok "statement file written on the laptop"
sign dev "$T/c.txt"
expect 1 "dev's own signature, sent by dev, refused" as dev approve T-1 --signature "$T/c.txt.sig"
err_has "requested this access and cannot approve" "says why"
sign owner "$T/c.txt"
expect 0 "the owner approves from her machine" as owner approve T-1 --signature "$T/c.txt.sig"
out_has "approval by owner@shop.example recorded" "recorded"
expect 1 "an approver who is no responder opens no ticket" as owner ticket open --from "$T/intake.txt" --duplicate
err_has "only a responder or an admin" "says so"
expect 1 "a responder adds no approver remotely" as dev approver add --project shop \
	--principal owner@shop.example --key "$T/dev.pub"
err_has "only an admin may add approvers" "says only an admin"
expect 2 "--as is refused remotely" as dev ticket status T-1 --as owner@shop.example
err_has "not for remote use" "says --as is not for remote use"
expect 2 "--home is refused remotely" as dev ticket status T-1 --home /tmp
expect 2 "host commands do not run through a broker" as dev gate
err_has "does not run through a broker" "says where it runs"
# a client that is not breakglass: the request framed by hand (perl), sent
# with plain ssh; a path of the broker's own named without its file is refused
frame() { # frame ARG... : a request whose arguments are ARG..., no files
	perl -e 'print "BGRQ1\n"; print "A", pack("N", length $_), $_ for @ARGV; print "Z", pack("N", 0)' "$@"
}
cp "$BREAKGLASS_HOME/store.db" "$T/store.before"
frame approve T-1 --statement --for confirm -o "$BREAKGLASS_HOME/store.db" >"$T/req"
env -u BREAKGLASS_ACTOR ssh -F "$T/ssh-dev" -p "$PORT" "$ACCT@127.0.0.1" <"$T/req" >"$T/res" 2>"$T/err"
grep -q "names a file that is not in the request" "$T/res" && ok "an unframed -o path is refused" ||
	not_ok "an unframed -o path is refused ($(tr -c '[:print:]\n' . <"$T/res" | head -3))"
cmp -s "$BREAKGLASS_HOME/store.db" "$T/store.before" && ok "the store was not overwritten" ||
	not_ok "the store was not overwritten"
frame approver add --project shop --principal x@agency.example --key "$BREAKGLASS_HOME/ca.pub" >"$T/req"
env -u BREAKGLASS_ACTOR ssh -F "$T/ssh-dev" -p "$PORT" "$ACCT@127.0.0.1" <"$T/req" >"$T/res" 2>"$T/err"
grep -q "names a file that is not in the request" "$T/res" && ok "an unframed input path is refused" ||
	not_ok "an unframed input path is refused"
frame audit export --dir "$BREAKGLASS_HOME" >"$T/req"
env -u BREAKGLASS_ACTOR ssh -F "$T/ssh-dev" -p "$PORT" "$ACCT@127.0.0.1" <"$T/req" >"$T/res" 2>"$T/err"
grep -q -- "--dir is not for remote use" "$T/res" && ok "--dir is refused remotely" || not_ok "--dir is refused remotely"
printf 'BGRQ1\nA\000\000\377\377' >"$T/req"
env -u BREAKGLASS_ACTOR ssh -F "$T/ssh-dev" -p "$PORT" "$ACCT@127.0.0.1" <"$T/req" >"$T/res" 2>"$T/err"
grep -q "truncated record" "$T/res" && ok "a malformed request is refused" || not_ok "a malformed request is refused"
# a key nobody registered does not get in
ssh-keygen -q -t ed25519 -N '' -f "$T/stranger" || exit 1
sshcfg stranger
expect 4 "an unregistered key cannot log in" as stranger ticket status T-1
err_has "did not answer" "says the broker did not answer"
# users change: authorized_keys follows
expect 0 "admin adds the stranger" bg user add stranger@agency.example --key "$T/stranger.pub" --role responder
expect 0 "the new user's key logs in" as stranger ticket status T-1
expect 0 "admin removes them" bg user remove stranger@agency.example
expect 4 "the removed user's key no longer logs in" as stranger ticket status T-1
# the audit log names the user and key of each remote change
fo=$(ssh-keygen -l -f "$T/owner.pub" | awk '{print $2}')
grep -q "\"event\":\"approval.record\",\"actor\":\"owner@shop.example key=$fo\"" "$BREAKGLASS_HOME/audit.log" &&
	ok "the approval's record names owner and her key" || not_ok "the approval's record names owner and her key"

# --- load: 50 concurrent clients x 20 state changes ---------------------------
NC=50; NS=20
i=0
# each client keeps its connection open (ssh's ControlMaster), as a laptop
# running commands in a row would
while [ $i -lt $NC ]; do
	ssh-keygen -q -t ed25519 -N '' -f "$T/c$i" || exit 1
	sshcfg c$i
	printf '  ControlMaster auto\n  ControlPath %s/cm-c%s\n  ControlPersist 120\n' "$T" "$i" >>"$T/ssh-c$i"
	bg user add "c$i@agency.example" --key "$T/c$i.pub" --role responder >/dev/null || exit 1
	i=$((i + 1))
done
start=$(date +%s)
i=0
while [ $i -lt $NC ]; do
	(
		j=0; fails=0
		while [ $j -lt $NS ]; do
			as c$i ticket comment T-1 --text "load c$i n$j" >/dev/null 2>>"$T/load-err.$i" ||
				fails=$((fails + 1))
			j=$((j + 1))
		done
		echo $fails >"$T/load-fails.$i"
	) &
	i=$((i + 1))
done
wait
secs=$(( $(date +%s) - start ))
fails=$(cat "$T"/load-fails.* | awk '{s += $1} END {print s}')
[ "$fails" -eq 0 ] && ok "$((NC * NS)) remote state changes by $NC clients in ${secs}s, none failed" ||
	not_ok "$fails of $((NC * NS)) remote state changes failed ($(cat "$T"/load-err.* | sort | uniq -c | head -5))"
echo "# load: $NC clients x $NS changes in ${secs}s"
# the log: one ticket.comment record per change, each naming its client
grep '"event":"ticket.comment"' "$BREAKGLASS_HOME/audit.log" >"$T/comments"
n=$(wc -l <"$T/comments")
per=$(sed -n 's/.*"actor":"\(c[0-9]*\)@agency.example key=SHA256:[^"]*".*/\1/p' "$T/comments" |
	sort | uniq -c | awk -v ns=$NS '$1 == ns' | wc -l)
[ "$n" -eq $((NC * NS)) ] && [ "$per" -eq $NC ] &&
	ok "the log has $n comment records, $NS from each client, each naming client and key" ||
	not_ok "the log has one record per change ($n records; $per clients with $NS)"
# the store: every comment once
expect 0 "the store has them too" bg ticket show T-1
n=$(grep -o 'load c[0-9]* n[0-9]*' "$T/out" | wc -l)
u=$(grep -o 'load c[0-9]* n[0-9]*' "$T/out" | sort -u | wc -l)
[ "$n" -eq $((NC * NS)) ] && [ "$u" -eq $((NC * NS)) ] && ok "the ticket shows $n comments, none twice" ||
	not_ok "the ticket shows every comment once ($n, $u distinct, want $((NC * NS)))"
i=0
while [ $i -lt $NC ]; do
	ssh -F "$T/ssh-c$i" -p "$PORT" -O exit "$ACCT@127.0.0.1" 2>/dev/null
	i=$((i + 1))
done
expect 0 "audit verify after the load" bg audit verify
expect 0 "and remotely" as dev audit verify
done_testing
