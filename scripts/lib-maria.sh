# lib-maria.sh - a throwaway MariaDB server for the database tests.
# Source it; needs root.
#
#   maria_up DIR OSUSER
#       DIR and its parents must be searchable by others.  Creates the
#       unprivileged OS account OSUSER, installs a data directory with
#       root@localhost by unix_socket only, and starts mariadbd without
#       networking, its socket DIR/sock/m.sock.  Sets MARIA_SOCK and
#       MARIA (the mariadb client as root over the socket).
#   maria_down DIR OSUSER
#       Stops the server and removes the account.

maria_up() {
	_md=$1; _mu=$2
	maria_down "$_md" "$_mu"
	useradd -r -M -d /nonexistent -s /usr/sbin/nologin "$_mu" || return 1
	chmod 711 "$_md"
	rm -rf "$_md/mdata" "$_md/sock" "$_md/mlog"
	mkdir -p "$_md/mdata" "$_md/sock" "$_md/mlog"
	chown "$_mu" "$_md/mdata" "$_md/sock" "$_md/mlog"
	chmod 755 "$_md/sock"
	mariadb-install-db --no-defaults --user="$_mu" --datadir="$_md/mdata" \
		--auth-root-authentication-method=socket --skip-test-db >"$_md/mlog/install.log" 2>&1 ||
		{ cat "$_md/mlog/install.log" >&2; return 1; }
	runuser -u "$_mu" -- /usr/sbin/mariadbd --no-defaults --datadir="$_md/mdata" \
		--socket="$_md/sock/m.sock" --skip-networking --pid-file="$_md/sock/m.pid" \
		--log-error="$_md/mlog/err.log" --innodb-buffer-pool-size=16M \
		--innodb-log-file-size=8M --skip-log-bin >/dev/null 2>&1 &
	_i=0
	until [ -S "$_md/sock/m.sock" ] && mariadb --no-defaults -S "$_md/sock/m.sock" -u root \
		-e 'SELECT 1' >/dev/null 2>&1; do
		_i=$((_i + 1)); [ $_i -gt 150 ] && { cat "$_md/mlog/err.log" >&2; return 1; }
		sleep 0.1
	done
	MARIA_SOCK="$_md/sock/m.sock"
	MARIA="mariadb --no-defaults -S $MARIA_SOCK -u root"
	return 0
}

maria_down() {
	if [ -f "$1/sock/m.pid" ]; then
		kill "$(cat "$1/sock/m.pid")" 2>/dev/null || true
	fi
	if id "$2" >/dev/null 2>&1; then
		_i=0
		while pgrep -u "$2" >/dev/null 2>&1 && [ $_i -lt 100 ]; do sleep 0.1; _i=$((_i + 1)); done
		pkill -9 -u "$2" 2>/dev/null || true
		userdel "$2" 2>/dev/null || true
	fi
	return 0
}
