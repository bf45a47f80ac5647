#!/bin/sh
# t0331-notify-mail: 'notify: mail ADDRESS' hands a statement awaiting
# signatures to the local sendmail - a real MTA (Debian's exim4, installed
# by scripts/install-deps) delivering to a local account's mailbox - with
# the statement's hash, ticket and kind, never its text.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || { not_ok "runs as root (makes an account)"; done_testing; exit 1; }
[ -x /usr/sbin/exim4 ] || { not_ok "exim4 is installed (scripts/install-deps)"; done_testing; exit 1; }
ACCT=bgtest${BG_TEST_ID:-0}-owner
MBOX=/var/mail/$ACCT
down() {
	if id "$ACCT" >/dev/null 2>&1; then userdel "$ACCT" 2>/dev/null; fi
	rm -f "$MBOX"
	rm -rf "$T"
}
trap down EXIT
down; mkdir -p "$T"
chmod 755 "$T"
useradd -M -d "$T" -s /usr/sbin/nologin "$ACCT" || { not_ok "account made"; done_testing; exit 1; }
setup_home
printf 'notify: mail %s@localhost\n' "$ACCT" >>"$BREAKGLASS_HOME/config"
open_ticket
expect 0 "statement issued" bg approve T-1 --statement --for confirm -o "$T/confirm.txt"
hash=$(sha256sum "$T/confirm.txt" | cut -d' ' -f1)
# exim delivers in the background: wait for the mailbox
for i in $(seq 100); do grep -q "$hash" "$MBOX" 2>/dev/null && break; sleep 0.1; done
grep -q "$hash" "$MBOX" 2>/dev/null && ok "the mail arrived with the statement's hash" ||
	not_ok "the mail arrived with the statement's hash ($(tail -3 /var/log/exim4/mainlog 2>/dev/null))"
grep -q '^Subject: breakglass: T-1 confirm statement awaits your signature' "$MBOX" &&
	ok "subject names ticket and kind" || not_ok "subject names ticket and kind"
grep -q "^To: $ACCT@localhost" "$MBOX" && ok "addressed to the configured address" ||
	not_ok "addressed to the configured address"
grep -q "approve T-1 --statement --for confirm" "$MBOX" && ok "says how to get the statement" ||
	not_ok "says how to get the statement"
file_lacks "I confirm emergency production hotfix mode" "$MBOX" "never the statement's text"
grep -q '^Auto-Submitted: auto-generated' "$MBOX" && ok "marked auto-generated" ||
	not_ok "marked auto-generated"
# an address that could be read as an option, or two, is refused when the home opens
printf 'notify: mail -oQ@x.example\n' >>"$BREAKGLASS_HOME/config"
expect 3 "a mail address starting with '-' is refused" bg ticket status T-1
err_has "notify mail needs one plain email address" "says what the line needs"
done_testing
