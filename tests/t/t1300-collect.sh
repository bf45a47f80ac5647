#!/bin/sh
# t1300-collect: breakglass collect on a fixture host whose configuration
# files, environment and logs hold secrets leaks none of them - random
# strings under innocuous key names (made here, at run time: no scanner
# rule knows them), numbers too long to be harmless, secrets that the
# scanner does know - while keys and structure stay readable and harmless
# values are shown; equal values get equal keyed hashes, different values
# different ones; the bundle is 0600, never overwritten, tamper-evident;
# the key file is guarded; bundles without the key or with another key
# are refused by envdiff.
. "$(dirname "$0")/lib.sh"

rnd() { head -c 48 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c "${1:-24}"; }
digits() { head -c 64 /dev/urandom | od -An -tu1 | tr -dc 0-9 | head -c "$1"; }
upper() { head -c 96 /dev/urandom | base64 | tr -dc 'A-Z2-7' | head -c "$1"; }

R=$T/host
A=$R/var/www/html
mkdir -p "$A/config" "$A/storage/logs" "$R/etc/php/8.2/fpm" "$R/var/log/nginx" "$R/var/lib/dpkg"
S1=$(rnd); S2=$(rnd); S3=$(rnd); S4=$(rnd); S5=$(rnd); S6=$(rnd); S7=$(rnd); S8=$(rnd)
S9=$(rnd); S10=$(rnd)
N1=$(digits 12)        # a long number: could be a numeric secret
P1=$(digits 5)         # a short number under a secret-looking name
AWS="AKIA$(upper 16)"  # the scanner knows this shape
LOGPW=$(rnd 18)
SAME=$(rnd)            # one value under two keys: equal hashes
cat >"$A/.env" <<EOF2
APP_ENV=production
APP_DEBUG=false
WIDGET_COLOR_SEED=$S1
export LAYOUT_VARIANT="$S2"
TWIN_A=$SAME
TWIN_B=$SAME
LOCKER_NUMBER=$N1
DB_PASSWORD=$P1
UPLOAD_LIMIT=64M
this line is not an assignment $S3
EOF2
printf '{"theme":{"accent":"%s","columns":3,"wide":true},"list":["%s",7]}\n' "$S4" "$S5" \
	>"$A/config/ui.json"
cat >"$A/config/cache.yml" <<EOF2
cache:
  prefix: $S6
  ttl: 300s
  servers:
    - $S7
EOF2
cat >"$A/config/app.php" <<EOF2
<?php
define('LAYOUT_HINT', '$S8');
define('WP_DEBUG', false);
return [
    'mail' => [
        'relay' => '$S9',
        'port' => 587,
    ],
];
EOF2
cat >"$R/etc/php/8.2/fpm/php.ini" <<EOF2
memory_limit = 256M
max_execution_time = 30
[Session]
session.save_path = "tcp://cache1:6379?auth=$S10"
EOF2
printf 'GET / 200\nconnecting to postgres://shop:%s@db1:5432/shop\nkey id %s in use\n' \
	"$LOGPW" "$AWS" >"$R/var/log/nginx/error.log"
printf '<?php echo "hi";\n' >"$A/index.php"
# a file whose name looks secret: its harmless keys are still shown
printf '{"guard":"web","lifetime":120,"password_timeout":10800}\n' >"$A/config/auth.json"
# a secret where the first pass does not look (a file name): the final scan
FNAME="AKIA$(upper 16)"
: >"$A/storage/$FNAME"
printf 'Package: php8.2-fpm\nStatus: install ok installed\nVersion: 8.2.7-1\nArchitecture: amd64\n\n' \
	>"$R/var/lib/dpkg/status"

ENVSECRET=$(rnd)
collect() { env HARMLESS_LOOKING_NAME="$ENVSECRET" "$BREAKGLASS" collect "$@"; }

expect 0 "collect --profile web-php on a fixture host" collect --profile web-php --root "$R" \
	--key "$T/k" -o "$T/b1"
err_has "created the per-incident key" "the key file is created and announced"
B=$T/b1
[ "$(stat -c %a "$B")" = 600 ] && ok "bundle is 0600" || not_ok "bundle is 0600"
[ "$(stat -c %a "$T/k")" = 600 ] && ok "key file is 0600" || not_ok "key file is 0600"

# no secret, in the bundle as written or with its escapes decoded
perl -pe 's/%([0-9A-F]{2})/chr(hex($1))/ge' "$B" >"$T/decoded"
leaks=0
for s in "$S1" "$S2" "$S3" "$S4" "$S5" "$S6" "$S7" "$S8" "$S9" "$S10" "$N1" "$SAME" "$AWS" \
    "$LOGPW" "$ENVSECRET" "$FNAME" "$(cat "$T/k" | head -c 64)"; do
	if grep -qF -- "$s" "$B" "$T/decoded"; then leaks=$((leaks + 1)); echo "# leaked: $s"; fi
done
[ "$leaks" -eq 0 ] && ok "no secret, key or random string leaks into the bundle" ||
	not_ok "no secret leaks ($leaks leaked)"
if grep -q "^cfg @app/.env:DB_PASSWORD =" "$B"; then not_ok "a number under a secret name is hashed"; else ok "a number under a secret name is hashed"; fi

# keys and structure stay readable; harmless values shown
has() { if grep -qF -- "$1" "$B"; then ok "$2"; else not_ok "$2 (no '$1')"; fi; }
has "cfg @app/.env:WIDGET_COLOR_SEED h:" "an innocuous key: readable name, hashed value"
has "cfg @app/.env:APP_DEBUG =false" "a boolean is shown"
has "cfg @app/.env:UPLOAD_LIMIT =64M" "a size is shown"
has "cfg @app/.env:APP_ENV =production" "an allowlisted key is shown"
has "cfg @app/.env:#10 h:" "a line that does not parse is hashed whole"
has "cfg @app/config/ui.json:theme.accent h:" "JSON: flattened path, hashed value"
has "cfg @app/config/ui.json:theme.columns =3" "JSON: a number is shown"
has "cfg @app/config/ui.json:list[0] h:" "JSON: list items by index"
has "cfg @app/config/cache.yml:cache.prefix h:" "YAML: nested key, hashed"
has "cfg @app/config/cache.yml:cache.ttl =300s" "YAML: a duration is shown"
has "cfg @app/config/cache.yml:cache.servers[0] h:" "YAML: list item hashed"
has "cfg @app/config/app.php:LAYOUT_HINT h:" "PHP define(): hashed"
has "cfg @app/config/app.php:mail.relay h:" "PHP array config: nested key, hashed"
has "cfg @app/config/app.php:mail.port =587" "PHP array config: a number is shown"
has "cfg /etc/php/8.2/fpm/php.ini:memory_limit =256M" "php.ini: runtime settings shown"
has "cfg @app/config/auth.json:lifetime =120" "a secret-looking file name does not hash harmless keys"
has "cfg @app/config/auth.json:password_timeout h:" "a secret-looking key name does"
has "cfg /etc/php/8.2/fpm/php.ini:Session.session.save_path h:" "php.ini: a URL with a secret is hashed"
has "env HARMLESS_LOOKING_NAME h:" "environment: the name, a hashed value"
has "pkg php8.2-fpm 8.2.7-1" "package versions (dpkg-query)"
has "log /var/log/nginx/error.log:1 GET%20/%20200" "log tail kept"
has "[REDACTED:" "log tail: scanner findings redacted"
has "tree @app/index.php h:" "code tree: file hashes"
grep -q "^tree h:[0-9a-f]* h:" "$B" && ok "the final scan hashes a record the first pass missed" ||
	not_ok "the final scan hashes a record the first pass missed"
has "recent @app/index.php " "recently changed files"
has "svc nginx " "service status"
has "sys mem.total " "memory"
grep -q "^port tcp:[0-9]* listen$" "$B" && ok "listening ports" || not_ok "listening ports"

# keyed hashes: equal values equal, different values different
ha=$(awk '$2 == "@app/.env:TWIN_A" { print $3 }' "$B")
hb=$(awk '$2 == "@app/.env:TWIN_B" { print $3 }' "$B")
hc=$(awk '$2 == "@app/.env:WIDGET_COLOR_SEED" { print $3 }' "$B")
[ -n "$ha" ] && [ "$ha" = "$hb" ] && ok "equal values, equal keyed hashes" || not_ok "equal values, equal keyed hashes ($ha $hb)"
[ -n "$hc" ] && [ "$ha" != "$hc" ] && ok "different values, different keyed hashes" || not_ok "different values, different keyed hashes"

# the same value collected again with the same key: the same hash; another key: another
expect 0 "collect again with the same key" collect --profile web-php --root "$R" --key "$T/k" -o "$T/b2"
h2=$(awk '$2 == "@app/.env:WIDGET_COLOR_SEED" { print $3 }' "$T/b2")
[ "$hc" = "$h2" ] && ok "same key, same value: same hash across bundles" || not_ok "same hash across bundles"
expect 0 "collect with another key" collect --profile web-php --root "$R" --key "$T/k2" -o "$T/b3"
h3=$(awk '$2 == "@app/.env:WIDGET_COLOR_SEED" { print $3 }' "$T/b3")
[ "$hc" != "$h3" ] && ok "another key: another hash" || not_ok "another key: another hash"
expect 1 "envdiff refuses bundles made with different keys" bg envdiff "$T/b1" "$T/b3"
err_has "different keys" "says why"
expect 0 "collect without a key" collect --profile web-php --root "$R" -o "$T/b4"
err_has "cannot be compared" "warns that it cannot be compared"
if grep -q " h:" "$T/b4"; then not_ok "without a key no hash is written"; else ok "without a key no hash is written"; fi
grep -q "^key-id none -$" "$T/b4" && ok "key-id none" || not_ok "key-id none"
expect 1 "envdiff refuses a bundle made without a key" bg envdiff "$T/b1" "$T/b4"
err_has "without a per-incident key" "says why"
printf '# other tests open and close ports on this machine\nports *\n' >"$T/ignore"
expect 0 "envdiff of two bundles of one host" bg envdiff --ignore "$T/ignore" "$T/b1" "$T/b2"
out_has "^0 differences" "finds no difference"

# the bundle file and the key file are guarded
expect 1 "collect refuses to overwrite a bundle" collect --profile web-php --root "$R" --key "$T/k" -o "$T/b1"
chmod 644 "$T/k"
expect 1 "a key file readable by others is refused" collect --profile web-php --root "$R" --key "$T/k" -o "$T/b5"
err_has "readable by others" "says why"
chmod 600 "$T/k"
printf 'not a key\n' >"$T/badkey"; chmod 600 "$T/badkey"
expect 2 "a malformed key file is refused" collect --root "$R" --key "$T/badkey" -o "$T/b6"
sed 's/=production/=prodXction/' "$T/b2" >"$T/tampered"
expect 2 "a changed bundle is refused" bg envdiff "$T/b1" "$T/tampered"
err_has "hash does not match" "says the hash does not match"
head -n 20 "$T/b2" >"$T/truncated"
expect 2 "a truncated bundle is refused" bg envdiff "$T/b1" "$T/truncated"

# profiles: built-ins listed and shown; a user's profile includes one
expect 0 "--list-profiles" bg collect --list-profiles
for p in web-php wordpress node base; do out_has "^$p " "built-in profile $p"; done
expect 0 "--show-profile wordpress" bg collect --show-profile wordpress
out_has "^include web-php" "wordpress builds on web-php"
printf 'profile mine\ninclude web-php\nconfig /etc/extra.ini\nallow WIDGET_COLOR_SEED\n' >"$T/mine.profile"
printf 'flavour = vanilla %s\n' "$S1" >"$R/etc/extra.ini"
expect 0 "a user's profile file" collect --profile "$T/mine.profile" --root "$R" --key "$T/k" -o "$T/b7"
grep -q "^cfg @app/.env:WIDGET_COLOR_SEED =" "$T/b7" && ok "its allowlist shows a value" || not_ok "its allowlist shows a value"
grep -q "^cfg /etc/extra.ini:flavour h:" "$T/b7" && ok "its extra config file is read" || not_ok "its extra config file is read"
printf 'profile bad\nfetch http://x\n' >"$T/bad.profile"
expect 2 "an unknown directive is refused" collect --profile "$T/bad.profile" -o "$T/b8"
err_has "line 2: unknown directive" "with its line"
expect 2 "an unknown built-in profile" collect --profile nosuch -o "$T/b8"
expect 2 "no -o" collect --profile web-php
expect 0 "--help" bg collect --help
out_has "usage: breakglass collect" "help text"
expect 0 "--json" collect --profile web-php --root "$R" --key "$T/k" --json -o "$T/b9"
perl -MJSON::PP -e 'local $/; my $d = decode_json(<STDIN>); die unless $d->{records} > 0 && $d->{key_id} =~ /^[0-9a-f]{32}$/' <"$T/out" \
	&& ok "--json: a summary object" || not_ok "--json: a summary object"

done_testing
