#!/bin/sh
# t0330-notify: a statement awaiting signatures is announced to every
# 'notify: webhook URL' of the config - a JSON POST (Slack-compatible
# "text") received here by a real HTTP listener on 127.0.0.1 - with the
# statement's hash, ticket and kind, never its text or a secret; a hook
# that fails is reported and the statement still stands.
. "$(dirname "$0")/lib.sh"
setup_home

# listen N FILE: accept N requests on a free port of 127.0.0.1, answer 200,
# append each request (headers and body) to FILE; the port goes to FILE.port
listen() {
	perl -MIO::Socket::INET -e '
		my ($n, $file) = @ARGV;
		my $s;
		for my $try (1 .. 20) {
			$s = IO::Socket::INET->new(LocalAddr => "127.0.0.1",
			    LocalPort => 20000 + int(rand(40000)), Listen => 5, ReuseAddr => 1) and last;
		}
		die "no port" unless $s;
		open(my $p, ">", "$file.port.tmp") or die; print $p $s->sockport, "\n"; close $p;
		rename("$file.port.tmp", "$file.port");
		alarm 20;
		for (1 .. $n) {
			my $c = $s->accept or last;
			my ($req, $len) = ("", 0);
			while (my $l = <$c>) { $req .= $l; $len = $1 if $l =~ /^Content-Length: (\d+)/i; last if $l eq "\r\n"; }
			read($c, my $body, $len);
			open(my $f, ">>", $file) or die; print $f $req, $body, "\n=====\n"; close $f;
			print $c "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
			close $c;
		}' "$@" &
	LPID=$!
	for _i in $(seq 50); do [ -s "$2.port" ] && break; sleep 0.1; done
	PORT=$(cat "$2.port")
}
listen 3 "$T/hooks"
printf 'notify: webhook http://127.0.0.1:%s/hooks/approvers\n' "$PORT" >>"$BREAKGLASS_HOME/config"
printf 'notify: webhook http://127.0.0.1:%s/hooks/second\n' "$PORT" >>"$BREAKGLASS_HOME/config"
open_ticket
expect 0 "statement issued" bg approve T-1 --statement --for confirm -o "$T/confirm.txt"
hash=$(sha256sum "$T/confirm.txt" | cut -d' ' -f1)
grep -c '^POST /hooks/' "$T/hooks" >"$T/n" 2>/dev/null
[ "$(cat "$T/n")" = 2 ] && ok "both hooks were called" || not_ok "both hooks were called ($(cat "$T/n"))"
grep -q '^POST /hooks/approvers HTTP' "$T/hooks" && ok "POST to the first hook's path" || not_ok "POST to the first hook's path"
grep -qi '^Content-Type: application/json' "$T/hooks" && ok "sent as JSON" || not_ok "sent as JSON"
sed -n '/^{/p' "$T/hooks" | head -1 >"$T/body.json"
perl -MJSON::PP -e 'local $/; my $j = decode_json(<STDIN>);
	exit !($j->{text} =~ /T-1/ && $j->{breakglass}{ticket} eq "T-1" && $j->{breakglass}{kind} eq "confirm"
	    && $j->{breakglass}{statement_sha256} eq $ARGV[0])' "$hash" <"$T/body.json" \
	&& ok "Slack-compatible text; ticket, kind and the statement's hash" \
	|| not_ok "Slack-compatible text; ticket, kind and the statement's hash ($(cat "$T/body.json"))"
grep -q "nonce\|intake-sha256\|I confirm" "$T/hooks" && not_ok "the statement's text is not sent" \
	|| ok "the statement's text is not sent"
# re-issuing the same statement does not announce it again
expect 0 "same statement again" bg approve T-1 --statement --for confirm -o "$T/confirm2.txt"
[ "$(grep -c '^POST /hooks/' "$T/hooks")" = 2 ] && ok "no second announcement" || not_ok "no second announcement"
kill "$LPID" 2>/dev/null; wait "$LPID" 2>/dev/null
# a hook that is down: reported, the statement stands
sed -i "s|127.0.0.1:$PORT/hooks/second|127.0.0.1:1/down|" "$BREAKGLASS_HOME/config"
sed -i "/hooks\/approvers/d" "$BREAKGLASS_HOME/config"
expect 0 "statement issued although the hook is down" bg approve T-1 --statement --for risk \
	--reason "no backup of the sessions table" -o "$T/risk.txt"
err_has "notify: webhook http://127.0.0.1:1/down" "the failing hook is named"
[ -s "$T/risk.txt" ] && ok "statement written" || not_ok "statement written"
# the config is strict
printf 'notify: pager 555\n' >>"$BREAKGLASS_HOME/config"
expect 3 "unknown notify kind refused" bg ticket status T-1
err_has "notify" "names the setting"
done_testing
