# lib-db.sh - the common start of the database tests (t166x): a server of
# the test's own and host db1 with it as the database target, reached
# through the real sshd; and the server alone for the runbook SQL tests
# (t152x).  Source it after lib.sh.
#
#   db_server postgresql|mariadb NAME
#       Needs root and sshd (need_root_sshd: a TAP failure without them).  Sets
#       ID=$BG_TEST_ID,
#       ACCT=bgtest$BG_TEST_ID-NAME, GROUP=${ACCT}g and the server's OS
#       user (PGU or MU), starts the server under $T (scripts/lib-pg.sh,
#       lib-maria.sh) and prints its "ok" line; the EXIT trap kills
#       $SESS_PID and $BLOCK_PID when set, takes the host down, stops the
#       server and removes $T.  Defines Q (psql as the server's admin,
#       unaligned) or M (mariadb as root, batch) for the test's own set-up
#       and checks.
#   db_local postgresql|mariadb NAME WHY
#       The same server with no host and no sshd: needs root (without it
#       "1..0 # needs root (WHY)" and the test fails); the server's OS
#       user is bgtest$BG_TEST_ID-NAMEpg or -NAMEm; the EXIT trap stops
#       the server and removes $T.
#   db_host [--approvers]
#       setup_home, then host db1 (host_up) with the server as its
#       database target and, with --approvers, project shop's approvers
#       (written to $T/approvers); prints an "ok" line, or shows host
#       setup's output and ends the test.
#   db_read_grants TABLE
#       After db_host and a ticket T-1 the owner confirmed: the
#       responder's key (lib.sh's responder_key: $T/user, $SSH).  Then
#       grant N asks for a read-only db grant G-N on T-1 (db1, this
#       server's engine, database shop, table TABLE, an hour), activates
#       it and certifies $T/user.pub as $T/certN.pub: status 0 when all
#       three worked (the request's output in $T/grant.out); and SQL N
#       runs the host's sql verb through sshd with G-N's certificate
#       (standard input, output and error the caller's).
#   host_log_settled
#       Waits (up to 5 s) until the host log verifies: a session's last
#       record and the signed head after it are written - before a test
#       kill -9s a session's process (a kill between the two leaves a log
#       hostd refuses to write to until 'audit verify' is run).

. "$(dirname "$0")/../../scripts/lib-host.sh"

db_server() {
	need_root_sshd "starts a database server, makes accounts and runs sshd"
	ACCT=bgtest${BG_TEST_ID:-}-$2
	GROUP=${ACCT}g
	db_start "$1" "$ACCT"
}

db_local() {
	[ "$(id -u)" -eq 0 ] || { echo "1..0 # needs root ($3)"; exit 1; }
	db_start "$1" "bgtest${BG_TEST_ID:-}-$2"
}

# db_start ENGINE PREFIX: ENGINE's server under $T, run by the OS user
# PREFIXpg or PREFIXm; the EXIT trap cleans up (db_cleanup)
db_start() {
	DB_ENGINE=$1
	ID=${BG_TEST_ID:-}
	chmod 711 "$T"
	trap db_cleanup EXIT
	case $DB_ENGINE in
	postgresql)
		. "$(dirname "$0")/../../scripts/lib-pg.sh"
		PGU=${2}pg
		P=$T/pg
		mkdir -p "$P"
		if pg_up "$P" "$PGU"; then ok "a PostgreSQL 15 server of our own"; else
			echo "Bail out! server did not start"; exit 1; fi
		;;
	mariadb)
		. "$(dirname "$0")/../../scripts/lib-maria.sh"
		MU=${2}m
		P=$T/maria
		mkdir -p "$P"
		if maria_up "$P" "$MU"; then ok "a MariaDB server of our own"; else
			echo "Bail out! server did not start"; exit 1; fi
		;;
	*)
		echo "Bail out! db_server: engine '$DB_ENGINE'"; exit 1
		;;
	esac
}

Q() { $PG_PSQL -At "$@" 2>&1; }
M() { $MARIA -N -B "$@" 2>&1; }

db_cleanup() {
	[ -n "${SESS_PID:-}" ] && kill "$SESS_PID" 2>/dev/null
	[ -n "${BLOCK_PID:-}" ] && kill "$BLOCK_PID" 2>/dev/null
	[ -n "${GROUP:-}" ] && host_down "$T" "$ACCT" "$GROUP"
	case $DB_ENGINE in
	postgresql) pg_down "$P" "$PGU" ;;
	mariadb) maria_down "$P" "$MU" ;;
	esac
	rm -rf "$T"
}

db_host() {
	setup_home
	_appr=
	if [ "${1:-}" = --approvers ]; then
		bg approver list --project shop --allowed-signers >"$T/approvers" || exit 1
		_appr=$T/approvers
	fi
	export HOST_SYSTEM=db1
	if [ "$DB_ENGINE" = postgresql ]; then
		export HOST_DB_PG="$PG_ADMIN" HOST_DB_PG_AS="$PGU"
	else
		export HOST_DB_MARIA="$MARIA_SOCK"
	fi
	if host_up "$T" "$ACCT" "$GROUP" "$BREAKGLASS" $_appr; then
		ok "host db1 with a $DB_ENGINE target${_appr:+ and the owner's approvers}, sshd on 127.0.0.1:$HOST_PORT"
	else
		not_ok "host set up"; cat "$T/host-setup.out"; done_testing; exit 1
	fi
	unset HOST_SYSTEM HOST_DB_PG HOST_DB_PG_AS HOST_DB_MARIA
}

db_read_grants() {
	DB_GRANT_TABLE=$1
	responder_key
}

grant() {
	bg grant request T-1 --kind db --system db1 --account "$ACCT" --engine "$DB_ENGINE" \
		--database shop --table "$DB_GRANT_TABLE" --access read-only --ttl 1h --reason diag >"$T/grant.out" 2>&1 &&
	bg grant activate "G-$1" >/dev/null &&
	bg grant cert "G-$1" --pubkey "$T/user.pub" -o "$T/cert$1.pub" >/dev/null 2>&1
}

SQL() { as_cert "$T/cert$1.pub" sql; }

host_log_settled() {
	_i=0
	until bg audit verify --dir "$T/hostlog" >/dev/null 2>&1 || [ $_i -ge 50 ]; do
		sleep 0.1; _i=$((_i + 1))
	done
}
