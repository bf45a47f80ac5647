# lib-pg.sh - a throwaway PostgreSQL 15 server for the database tests,
# the bench and the demo.  Source it; needs root.
#
#   pg_up DIR OSUSER
#       DIR and its parents must be searchable by others.
#       Creates the unprivileged OS account OSUSER (the server's owner),
#       initdb's DIR/data with superuser "bgadmin", and starts the server
#       with no TCP listener and its unix socket in DIR/sock.  pg_hba:
#       members of breakglass_grants by SCRAM password only; bgadmin by
#       peer for root and OSUSER (the supervisor's privileged connection);
#       nobody else.  Sets PG_SOCK, PG_ADMIN (a conninfo without password)
#       and PG_PSQL (psql as bgadmin, for the test's own setup and checks).
#   pg_down DIR OSUSER
#       Stops the server and removes the account.

PG_BIN=/usr/lib/postgresql/15/bin

pg_up() {
	_pd=$1; _pu=$2
	pg_down "$_pd" "$_pu"
	useradd -r -M -d /nonexistent -s /usr/sbin/nologin "$_pu" || return 1
	chmod 711 "$_pd"
	rm -rf "$_pd/data" "$_pd/sock" "$_pd/log"
	mkdir -p "$_pd/data" "$_pd/sock" "$_pd/log"
	chown "$_pu" "$_pd/data" "$_pd/sock" "$_pd/log"
	chmod 700 "$_pd/data"
	chmod 755 "$_pd/sock"
	runuser -u "$_pu" -- "$PG_BIN/initdb" -D "$_pd/data" -U bgadmin -A reject -E UTF8 --locale=C.UTF-8 \
		--no-sync >"$_pd/initdb.log" 2>&1 || { cat "$_pd/initdb.log" >&2; return 1; }
	cat >"$_pd/data/pg_hba.conf" <<EOT
local all +breakglass_grants scram-sha-256
local all bgadmin peer map=bg
local all all reject
host all all all reject
EOT
	cat >"$_pd/data/pg_ident.conf" <<EOT
bg root bgadmin
bg $_pu bgadmin
EOT
	cat >>"$_pd/data/postgresql.conf" <<EOT
listen_addresses = ''
unix_socket_directories = '$_pd/sock'
port = 55432
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 60
password_encryption = 'scram-sha-256'
EOT
	runuser -u "$_pu" -- "$PG_BIN/pg_ctl" -D "$_pd/data" -l "$_pd/log/pg.log" -w -t 30 start \
		>/dev/null || { cat "$_pd/log/pg.log" >&2; return 1; }
	PG_SOCK="$_pd/sock"
	PG_ADMIN="host=$PG_SOCK port=55432 user=bgadmin"
	PG_PSQL="psql -X -q -v ON_ERROR_STOP=1 -h $PG_SOCK -p 55432 -U bgadmin"
	return 0
}

pg_down() {
	if [ -f "$1/data/postmaster.pid" ]; then
		runuser -u "$2" -- "$PG_BIN/pg_ctl" -D "$1/data" -m immediate -w stop >/dev/null 2>&1 || true
	fi
	if id "$2" >/dev/null 2>&1; then
		pkill -u "$2" 2>/dev/null || true
		_i=0
		while pgrep -u "$2" >/dev/null 2>&1 && [ $_i -lt 50 ]; do sleep 0.1; _i=$((_i + 1)); done
		userdel "$2" 2>/dev/null || true
	fi
	return 0
}
