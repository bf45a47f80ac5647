#!/bin/sh
# t0100-home: init, and clear failures on missing, corrupt or unsafe homes.
. "$(dirname "$0")/lib.sh"

expect 0 "init creates a home" bg init
for f in store.db broker.key broker.pub ca.key ca.pub config policy.rules audit.log audit.head; do
	if [ -f "$BREAKGLASS_HOME/$f" ]; then ok "home has $f"; else not_ok "home has $f"; fi
done
for f in broker.key ca.key; do
	m=$(stat -c %a "$BREAKGLASS_HOME/$f")
	if [ "$m" = 600 ]; then ok "$f is 0600"; else not_ok "$f is 0600 (is $m)"; fi
done
m=$(stat -c %a "$BREAKGLASS_HOME")
if [ "$m" = 700 ]; then ok "home is 0700"; else not_ok "home is 0700 (is $m)"; fi
if ssh-keygen -y -f "$BREAKGLASS_HOME/ca.key" >"$T/ca.derived" 2>/dev/null &&
   [ "$(cut -d' ' -f2 "$T/ca.derived")" = "$(cut -d' ' -f2 "$BREAKGLASS_HOME/ca.pub")" ]; then
	ok "ssh-keygen reads the CA key and derives ca.pub"
else
	not_ok "ssh-keygen reads the CA key and derives ca.pub"
fi
sum1=$(sha256sum "$BREAKGLASS_HOME/broker.key")
expect 1 "init refuses an existing home" bg init
err_has "refusing to overwrite" "says it will not overwrite"
sum2=$(sha256sum "$BREAKGLASS_HOME/broker.key")
[ "$sum1" = "$sum2" ] && ok "existing keys untouched" || not_ok "existing keys untouched"
expect 0 "audit log of a new home verifies" bg audit verify
expect 0 "a fresh home works" bg ticket list

expect 4 "init under a missing parent fails" bg init --home "$T/no/such/dir"
[ ! -e "$T/no" ] && ok "nothing left behind" || not_ok "nothing left behind"

cp -a "$BREAKGLASS_HOME" "$T/good"
head -c 8192 /dev/urandom >"$BREAKGLASS_HOME/store.db"
rm -f "$BREAKGLASS_HOME/store.db-wal" "$BREAKGLASS_HOME/store.db-shm"
expect 3 "corrupt store: exit 3" bg ticket list
err_has "not a database or is corrupt" "says the store is corrupt"

rm -rf "$BREAKGLASS_HOME"; cp -a "$T/good" "$BREAKGLASS_HOME"
: >"$BREAKGLASS_HOME/store.db"; rm -f "$BREAKGLASS_HOME/store.db-wal" "$BREAKGLASS_HOME/store.db-shm"
expect 3 "empty store file: exit 3" bg ticket list
err_has "not a breakglass store" "says it is not a breakglass store"

rm -rf "$BREAKGLASS_HOME"; cp -a "$T/good" "$BREAKGLASS_HOME"
head -c 100 "$T/good/broker.key" >"$BREAKGLASS_HOME/broker.key"
expect 3 "truncated broker key: exit 3" bg ticket list
err_has "broker.key" "names the broker key"

rm -rf "$BREAKGLASS_HOME"; cp -a "$T/good" "$BREAKGLASS_HOME"
chmod 0644 "$BREAKGLASS_HOME/broker.key"
expect 3 "readable broker key refused" bg ticket list
err_has "readable only by its owner" "says why"

rm -rf "$BREAKGLASS_HOME"; cp -a "$T/good" "$BREAKGLASS_HOME"
chmod 0777 "$BREAKGLASS_HOME"
expect 3 "world-writable home refused" bg ticket list
chmod 0700 "$BREAKGLASS_HOME"

echo "approval-ttl: soon" >"$BREAKGLASS_HOME/config"
expect 3 "bad config refused" bg ticket list
err_has "approval-ttl" "names the bad setting"
echo "colour: blue" >"$BREAKGLASS_HOME/config"
expect 3 "unknown config key refused" bg ticket list
err_has "unknown key 'colour'" "names the unknown key"

rm -rf "$BREAKGLASS_HOME"; cp -a "$T/good" "$BREAKGLASS_HOME"
rm "$BREAKGLASS_HOME/audit.head"
expect 3 "missing audit head refused" bg ticket list
sqlite3 "$T/future.db" "PRAGMA user_version = 99; CREATE TABLE meta(key, value);"
rm -rf "$BREAKGLASS_HOME"; cp -a "$T/good" "$BREAKGLASS_HOME"
cp "$T/future.db" "$BREAKGLASS_HOME/store.db"
expect 3 "a newer schema is refused" bg ticket list
err_has "newer than this breakglass" "says the schema is newer"
done_testing
