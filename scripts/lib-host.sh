# lib-host.sh - a throwaway breakglass host on this machine, shared by the
# demo, the integration tests and the benchmarks.  Source it; needs root.
#
#   host_up DIR ACCOUNT GROUP BINARY [APPROVERS]
#       BREAKGLASS_HOME must name an initialised home.  Installs BINARY
#       as DIR/bin/breakglass and the breakglass-gate beside BINARY as
#       DIR/bin/breakglass-gate (root's, 0711: execute-only), points the home's
#       gate-command and krl-publish at DIR, runs 'host setup --apply'
#       (creating ACCOUNT and GROUP, starting hostd on DIR/hostd.sock with
#       DIR/etc/gate.conf, pid in DIR/hostd.sock.pid), and starts sshd on a
#       free high port of 127.0.0.1.  The host's system name is
#       $HOST_SYSTEM (default web1); gate.conf's krl-max-age is
#       $HOST_KRL_MAX_AGE (default off: tests publish KRLs made at other
#       times).  With APPROVERS (an allowed_signers
#       file) the owner's approvers are installed: without it the host
#       refuses every write.  $HOST_DB_PG (a conninfo) and $HOST_DB_PG_AS
#       (an OS user), when set, become its database target (--db-postgres);
#       $HOST_DB_MARIA (a socket) its MariaDB target (--db-mariadb).
#       sshd's AuthorizedPrincipalsCommand must
#       sit on a root-owned path no one else can write (DIR is under /tmp):
#       breakglass-gate is copied to a directory of its own under /run for it, and
#       the auth spool is DIR/authspool.
#       Sets HOST_PORT, HOST_GATE and HOST_SSH (an ssh command line with
#       the options a test wants; add -i KEY -o CertificateFile=CERT).
#   host_down DIR ACCOUNT GROUP
#       Stops sshd and hostd, removes the account and group (DIR is the
#       caller's).

host_up() {
	_d=$1; _acct=$2; _grp=$3; _bin=$4; _appr=${5:-}
	host_down "$_d" "$_acct" "$_grp"
	chmod 755 "$_d"
	mkdir -p "$_d/bin" "$_d/etc" /run/sshd
	cp "$_bin" "$_d/bin/breakglass"
	cp "$(dirname "$_bin")/breakglass-gate" "$_d/bin/breakglass-gate" || return 1
	chmod 755 "$_d/bin/breakglass"
	chmod 711 "$_d/bin/breakglass-gate" # execute-only: non-dumpable from its exec
	_safe=$(mktemp -d /run/bg-host.XXXXXX) || return 1
	echo "$_safe" >"$_d/principals-dir"
	chmod 755 "$_safe"
	cp "$(dirname "$_bin")/breakglass-gate" "$_safe/breakglass-gate" || return 1
	chmod 711 "$_safe/breakglass-gate"
	HOST_GATE="$_d/bin/breakglass-gate --socket $_d/hostd.sock"
	sed -i "s|^gate-command:.*|gate-command: $HOST_GATE|" "$BREAKGLASS_HOME/config"
	grep -q '^krl-publish:' "$BREAKGLASS_HOME/config" ||
		echo "krl-publish: $_d/etc/revoked.krl" >>"$BREAKGLASS_HOME/config"
	ssh-keygen -q -t ed25519 -N '' -f "$_d/hostkey" </dev/null >/dev/null 2>&1 || return 1
	cat >"$_d/sshd_config" <<EOT
ListenAddress 127.0.0.1
HostKey $_d/hostkey
PidFile $_d/sshd.pid
UsePAM no
StrictModes no
LogLevel VERBOSE
MaxStartups 100
Include $_d/sshd.d/*.conf
EOT
	"$_d/bin/breakglass" host setup --socket "$_d/hostd.sock" --system "${HOST_SYSTEM:-web1}" --account "$_acct" --create-accounts --apply --etc "$_d/etc" \
		--sshd-dir "$_d/sshd.d" --sshd-config "$_d/sshd_config" --audit-dir "$_d/hostlog" \
		--group "$_grp" ${_appr:+--approvers "$_appr"} --auth-spool "$_d/authspool" \
		--principals-command "$_safe/breakglass-gate" --krl-max-age "${HOST_KRL_MAX_AGE:-off}" \
		${HOST_DB_PG:+--db-postgres "$HOST_DB_PG"} ${HOST_DB_PG_AS:+--db-postgres-as "$HOST_DB_PG_AS"} \
		${HOST_DB_MARIA:+--db-mariadb "$HOST_DB_MARIA"} >"$_d/host-setup.out" 2>&1 ||
		{ cat "$_d/host-setup.out" >&2; return 1; }
	HOST_PORT=""
	for _try in 1 2 3 4 5 6 7 8; do
		_p=$(( 20000 + ($$ * 7 + _try * 7919) % 40000 ))
		rm -f "$_d/sshd.pid"
		if /usr/sbin/sshd -f "$_d/sshd_config" -o "Port $_p" -E "$_d/sshd.log" &&
		   sleep 0.3 && [ -s "$_d/sshd.pid" ]; then
			HOST_PORT=$_p
			break
		fi
	done
	[ -n "$HOST_PORT" ] || return 1
	HOST_SSH="ssh -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR -o ConnectTimeout=5 -p $HOST_PORT"
	return 0
}

host_down() {
	if [ -f "$1/sshd.pid" ]; then kill "$(cat "$1/sshd.pid")" 2>/dev/null || true; fi
	rm -f "$1/sshd.pid"
	hostd_stop "$1"
	if [ -f "$1/principals-dir" ]; then
		case $(cat "$1/principals-dir") in /run/bg-host.*) rm -rf "$(cat "$1/principals-dir")" ;; esac
		rm -f "$1/principals-dir"
	fi
	# userdel refuses while a process of the account still runs: kill and
	# retry (bounded) so no account is left behind
	_i=0
	while id "$2" >/dev/null 2>&1 && [ $_i -lt 30 ]; do
		pkill -KILL -u "$2" 2>/dev/null || true
		userdel "$2" 2>/dev/null || sleep 0.1
		_i=$((_i + 1))
	done
	groupdel "$3" 2>/dev/null || true
	return 0
}

# cgroup2_mount: where the cgroup v2 hierarchy is mounted (hybrid layouts
# have it at /sys/fs/cgroup/unified)
cgroup2_mount() {
	awk '{ for (i = 7; i <= NF; i++) if ($i == "-") { if ($(i + 1) == "cgroup2") { print $5; exit } break } }' \
		/proc/self/mountinfo
}

# hostd_stop DIR: stop the hostd that host_up started (its pid file), wait
# for it to go, and remove the cgroups it made if it could not
hostd_stop() {
	[ -f "$1/hostd.sock.pid" ] || return 0
	_hp=$(cat "$1/hostd.sock.pid")
	kill "$_hp" 2>/dev/null || true
	for _i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
		kill -0 "$_hp" 2>/dev/null || break
		sleep 0.1
	done
	kill -9 "$_hp" 2>/dev/null || true
	_cg=$(cgroup2_mount)
	if [ -n "$_cg" ]; then
		find "$_cg" -maxdepth 4 -type d -name "bg-hostd-$_hp" 2>/dev/null | while read -r _b; do
			echo 1 >"$_b/cgroup.kill" 2>/dev/null
			sleep 0.2
			find "$_b" -depth -type d -exec rmdir {} \; 2>/dev/null
		done
	fi
	rm -f "$1/hostd.sock.pid"
	return 0
}

# hostd_start DIR: start hostd again as host_up did
hostd_start() {
	"$1/bin/breakglass" hostd --config "$1/etc/gate.conf" --socket "$1/hostd.sock" \
		--pidfile "$1/hostd.sock.pid" </dev/null >/dev/null 2>&1 &
	for _i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
		[ -S "$1/hostd.sock" ] && [ -s "$1/hostd.sock.pid" ] && return 0
		sleep 0.1
	done
	return 1
}
