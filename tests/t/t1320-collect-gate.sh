#!/bin/sh
# t1320-collect-gate: `ssh ACCOUNT@HOST collect` through a real OpenSSH
# sshd, the gate and hostd.  A grant reading the application's directory
# gets a bundle of it on stdout, made with the per-incident key the
# responder passes on stdin; it compares with envdiff against a local
# collect made with the same key (the application's configuration and code
# equal).  What the profile asks for outside the grant (/etc/nginx, the
# nginx log) is skipped and listed as "not in the grant"; a program the
# grant does not allow (dpkg-query) is not started, and listed; a grant
# whose commands include it gets package versions.  No planted secret -
# random strings under innocuous names, a password in a log - reaches the
# bundle; a link to /etc/shadow or to a readable file outside the grant
# leads nowhere; --app outside the grant, a user's own profile, an unknown
# profile and a missing key are refused.  The host log records the
# request, the bundle's SHA-256 and size, never the key.  Under a db grant
# the bundle holds the database's facts, read through the supervisor's own
# connection.
. "$(dirname "$0")/lib.sh"

need_root_sshd "creates an account and runs sshd and database servers"

ACCT=bgtest${BG_TEST_ID:-}-coll
GROUP=bgtest${BG_TEST_ID:-}-cgate
PGU=bgtest${BG_TEST_ID:-}-cgpg
MU=bgtest${BG_TEST_ID:-}-cgmy
SRV=$T/srv/app
P=$T/pg
M=$T/maria
. "$(dirname "$0")/../../scripts/lib-host.sh"
. "$(dirname "$0")/../../scripts/lib-pg.sh"
. "$(dirname "$0")/../../scripts/lib-maria.sh"
cleanup_host() {
	host_down "$T" "$ACCT" "$GROUP"
	pg_down "$P" "$PGU"
	maria_down "$M" "$MU"
	rm -rf "$T"
}
trap cleanup_host EXIT
rnd() { head -c 48 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c "${1:-24}"; }

# the application: secrets under innocuous names, a password in a log
S1=$(rnd) S2=$(rnd) S3=$(rnd) LOGPW=$(rnd 18) OUT=$(rnd) DEF=$(rnd)
mkdir -p "$SRV/config" "$SRV/logs" "$T/outside" "$P" "$M"
cat >"$SRV/.env" <<EOF2
NODE_ENV=production
WIDGET_COLOR_SEED=$S1
PAYMENT_STRICT_3DS=true
DB_PASSWORD=$S2
EOF2
printf '{"name":"shop","version":"1.4.0","theme":{"accent":"%s","columns":3}}\n' "$S3" \
	>"$SRV/package.json"
printf 'GET / 200\nconnecting to postgres://shop:%s@db1:5432/shop\n' "$LOGPW" >"$SRV/logs/app.log"
printf 'console.log("shop");\n' >"$SRV/index.js"
# links out of the grant: to /etc/shadow, and to a file the account could read
printf '{"OUTSIDE_MARKER_KEY":"%s"}\n' "$OUT" >"$T/outside/secret.json"
ln -s /etc/shadow "$SRV/config/shadow.json"
ln -s "$T/outside/secret.json" "$SRV/config/outside.json"
chmod -R a+rX "$T/srv" "$T/outside"
# a log only root and adm read: the grant names its directory, so collect
# reads it as cat would (the serving process opens it)
printf 'rootonly-line\n' >"$SRV/logs/secure.log"
chown root:adm "$SRV/logs/secure.log"; chmod 0640 "$SRV/logs/secure.log"

chmod 711 "$T"   # the server account walks to its directory
# a PostgreSQL of our own: the host's database target
if pg_up "$P" "$PGU"; then ok "a PostgreSQL 15 server of our own"; else
	echo "Bail out! server did not start"; exit 1; fi
$PG_PSQL -At -d postgres -c "CREATE DATABASE shop" >/dev/null
$PG_PSQL -At -d shop >/dev/null <<EOT
CREATE TABLE customers (id serial PRIMARY KEY, tier text NOT NULL DEFAULT '$DEF');
CREATE TABLE schema_migrations (version bigint PRIMARY KEY);
INSERT INTO schema_migrations VALUES (20261101000000);
EOT

if maria_up "$M" "$MU"; then ok "a MariaDB server of our own"; else
	echo "Bail out! MariaDB did not start"; exit 1; fi
$MARIA -e "CREATE DATABASE shop; CREATE TABLE shop.customers (id int PRIMARY KEY, tier varchar(40) NOT NULL DEFAULT '$DEF'); CREATE TABLE shop.schema_migrations (version bigint PRIMARY KEY); INSERT INTO shop.schema_migrations VALUES (20261101000000)"

export HOST_DB_PG="$PG_ADMIN" HOST_DB_MARIA="$MARIA_SOCK"
host_test_up "host set up with PostgreSQL and MariaDB targets, sshd on"
# (a grant with a command can change production: it needs the evidence
# and the signed plan)
ticket_planned
approve_as owner T-1 plan || exit 1
responder_key
bg grant request T-1 --kind ssh --system web1 --account "$ACCT" --read "$SRV" \
	--ttl 1h --reason "diagnose" >/dev/null
bg grant request T-1 --kind ssh --system web1 --account "$ACCT" --read "$SRV" --read /var/lib/dpkg \
	--command "/usr/bin/dpkg-query -W openssl" --ttl 1h --reason "diagnose with packages" >/dev/null
bg grant request T-1 --kind db --system web1 --account "$ACCT" --engine postgresql --database shop \
	--table public.customers --access read-only --ttl 1h --reason "the schema" >/dev/null
bg grant request T-1 --kind db --system web1 --account "$ACCT" --engine mariadb --database shop \
	--table public.customers --access read-only --ttl 1h --reason "the schema" >/dev/null
approve_as owner T-1 plan || exit 1
for g in 1 2 3 4; do
	bg grant activate G-$g >/dev/null || not_ok "activate G-$g"
	bg grant cert G-$g --pubkey "$T/user.pub" -o "$T/cert$g.pub" 2>/dev/null || not_ok "cert G-$g"
done
bg collect --list-profiles >/dev/null
KEY=$T/incident.key
bg collect --profile node --app "$SRV" --key "$KEY" -o "$T/local.bundle" >/dev/null 2>&1 ||
	not_ok "a local collect"

expect_in 0 "collect through the gate, the key on stdin" "$KEY" \
	as_cert "$T/cert1.pub" collect --profile node --app "$SRV"
cp "$T/out" "$T/gate.bundle"
cp "$T/err" "$T/gate.err"
head -1 "$T/gate.bundle" | grep -q '^breakglass-bundle v1$' && ok "a bundle on stdout" || not_ok "a bundle on stdout"
grep -q "^tree @app/index.js h:" "$T/gate.bundle" && ok "the code tree within the grant" \
	|| not_ok "the code tree within the grant"
grep -q "^cfg @app/.env:NODE_ENV =production$" "$T/gate.bundle" && ok "harmless values shown" \
	|| not_ok "harmless values shown"
grep -q "^log @app/logs/app.log:1 GET%20/%20200$" "$T/gate.bundle" && ok "log tails" || not_ok "log tails"
grep -q "^log @app/logs/secure.log:1 rootonly-line$" "$T/gate.bundle" \
	&& ok "a root:adm 0640 log in the grant's directory, read as the read verbs read it" \
	|| not_ok "a root:adm 0640 log in the grant's directory"
err_has "skipped config /etc/nginx/nginx.conf: not in the grant" "a configuration file outside the grant: skipped, listed"
err_has "skipped log /var/log/nginx/error.log: not in the grant" "a log outside the grant: skipped, listed"
err_has "skipped packages /usr/bin/dpkg-query: not a program the grant allows" "a program the grant does not allow: not started, listed"
err_has "skipped git /usr/bin/git: not a program the grant allows" "git is not started either"
if grep -q '^pkg ' "$T/gate.bundle"; then not_ok "no package versions without dpkg-query"; else ok "no package versions without dpkg-query"; fi
if grep -q '^env ' "$T/gate.bundle"; then not_ok "no environment (the gate's is not the application's)"; else ok "no environment (the gate's is not the application's)"; fi
leak=0
for s in "$S1" "$S2" "$S3" "$LOGPW" "$OUT" OUTSIDE_MARKER_KEY "$(cut -c1-20 "$KEY")" root: ; do
	grep -q -- "$s" "$T/gate.bundle" "$T/gate.err" && { leak=1; echo "# leaked: $s"; }
done
[ $leak = 0 ] && ok "no planted secret, nothing behind a link out of the grant, not the key" \
	|| not_ok "no planted secret, nothing behind a link out of the grant, not the key"
if grep -q '^file @app/config/shadow.json\|^file @app/config/outside.json' "$T/gate.bundle"; then
	not_ok "links out of the grant are not read"; else ok "links out of the grant are not read"; fi

# it compares with a local collect made with the same key: configuration
# and code equal (what only root's local collect sees aside)
expect 0 "envdiff of the gate's bundle and a local one" bg envdiff "$T/gate.bundle" "$T/local.bundle" --json
perl -MJSON::PP -e 'local $/; my $d = decode_json(<STDIN>);
	print join("\n", map { "$_->{section} $_->{change} $_->{key}" }
	grep { $_->{section} =~ /^(config|code)$/ && $_->{key} =~ /^\@app/ } @{$d->{items}}), "\n"' \
	<"$T/out" >"$T/appdiff"
# root's local collect follows the two links (a copy of a host may have
# them); the gate's does not: they are the only differences
printf 'config added @app/config/outside.json:OUTSIDE_MARKER_KEY\nconfig added @app/config/shadow.json:#file\n' >"$T/appwant"
if cmp -s "$T/appdiff" "$T/appwant"; then ok "the application's configuration and code are equal in both, but for the links the gate did not follow"; else
	not_ok "the application's configuration and code are equal in both"; sed 's/^/#   /' "$T/appdiff"; fi

# the host log: the request, the bundle's SHA-256 and size, never the key
sum=$(sha256sum "$T/gate.bundle" | cut -d' ' -f1)
size=$(stat -c %s "$T/gate.bundle")
grep '"gate.collect"\|gate\.collect' "$T/hostlog/audit.log" | grep -q "$sum" && ok "the host log has the bundle's SHA-256" \
	|| not_ok "the host log has the bundle's SHA-256"
grep "$sum" "$T/hostlog/audit.log" | grep -q "\"bundle_bytes\":\"$size\"" && ok "and its size" || not_ok "and its size"
grep "$sum" "$T/hostlog/audit.log" | grep -q '"request":"collect --profile node --app ' && ok "and the request" \
	|| not_ok "and the request"
if grep -q "$(cut -c1-32 "$KEY")" "$T/hostlog/audit.log"; then not_ok "the key is not in the host log"; else
	ok "the key is not in the host log"; fi
grep -q "SHA-256 $sum" "$T/gate.err" && ok "the responder is told the recorded SHA-256" \
	|| not_ok "the responder is told the recorded SHA-256"
expect 0 "host log verifies" bg audit verify --dir "$T/hostlog"

# a grant whose commands include dpkg-query (and that reads dpkg's status)
expect_in 0 "collect under a grant allowing dpkg-query" "$KEY" \
	as_cert "$T/cert2.pub" collect --profile node --app "$SRV"
grep -q '^pkg openssl ' "$T/out" && ok "package versions" || not_ok "package versions"
err_lacks "skipped packages" "packages not skipped"

# refusals
expect_in 1 "a user's own profile is refused" "$KEY" as_cert "$T/cert1.pub" collect --profile "$T/my.profile"
err_has "built-in profiles only" "says built-in profiles only"
expect_in 1 "an unknown profile is refused" "$KEY" as_cert "$T/cert1.pub" collect --profile nosuch
expect_in 1 "--app outside the grant is refused" "$KEY" as_cert "$T/cert1.pub" collect --profile node --app /etc
err_has "not a directory of grant" "says why"
expect 1 "no key on stdin: refused" as_cert "$T/cert1.pub" collect --profile node --app "$SRV"
err_has "per-incident key on standard input" "says how to pass it"
printf 'not-a-key\n' >"$T/badkey"
expect_in 1 "a malformed key: refused" "$T/badkey" as_cert "$T/cert1.pub" collect --app "$SRV"
expect_in 1 "collect takes no other argument" "$KEY" as_cert "$T/cert1.pub" collect --root /

# a db grant: the database's facts through the supervisor
expect 0 "help under a db grant" as_cert "$T/cert3.pub" help
out_has "collect < KEY" "names collect"
expect_in 0 "collect under a db grant" "$KEY" as_cert "$T/cert3.pub" collect
grep -q '^db public.customers.tier =text%20not%20null%20default%20h:' "$T/out" \
	&& ok "the schema, the string default hashed" || not_ok "the schema, the string default hashed"
grep -q '^dbmig schema_migrations:20261101000000 applied$' "$T/out" && ok "the applied migrations" \
	|| not_ok "the applied migrations"
grep -q '^dbrows public.customers 0$' "$T/out" && ok "row counts" || not_ok "row counts"
grep -q -- "$DEF" "$T/out" && not_ok "the default's value is not in the bundle" || ok "the default's value is not in the bundle"
grep '"gate.collect"\|gate\.collect' "$T/hostlog/audit.log" | tail -1 | grep -q '"db_facts":"[1-9]' \
	&& ok "the host log counts the database facts" || not_ok "the host log counts the database facts"

# a MariaDB db grant: the same through the supervisor's root connection
expect_in 0 "collect under a MariaDB db grant" "$KEY" as_cert "$T/cert4.pub" collect
grep -q '^db customers.tier =varchar(40)%20not%20null%20default%20h:' "$T/out" \
	&& ok "MariaDB: the schema, the string default hashed" || not_ok "MariaDB: the schema"
grep -q '^dbmig schema_migrations:20261101000000 applied$' "$T/out" && ok "MariaDB: the applied migrations" \
	|| not_ok "MariaDB: the applied migrations"
grep -q -- "$DEF" "$T/out" && not_ok "MariaDB: the default's value is not in the bundle" \
	|| ok "MariaDB: the default's value is not in the bundle"

done_testing
