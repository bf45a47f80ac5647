/*
 * cmd-host.c - breakglass host setup: what a production host needs to
 * accept breakglass certificates and run the gate.
 */
#include "argv.h"
#include "audit.h"
#include "cmd.h"
#include "fileio.h"
#include "hostd.h"
#include "login.h"
#include "pgrole.h"
#include "proc.h"
#include "signers.h"
#include "sshkey.h"
#include "text.h"
#include "utc.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <poll.h>
#include <unistd.h>

static const char usage_text[] =
	"usage: breakglass host setup --account NAME... [--apply] [--create-accounts]\n"
	"           [--etc DIR] [--sshd-dir DIR] [--sshd-config FILE] [--audit-dir DIR]\n"
	"           [--group NAME] [--gate-command CMD] [--socket PATH] [--system NAME]\n"
	"           [--approvers FILE [--write-quorum N] [--read-consent]]\n"
	"           [--systemd-dir DIR] [--auth-spool DIR] [--principals-command BINARY]\n"
	"           [--db-postgres CONNINFO [--db-postgres-as OSUSER]] [--db-mariadb SOCKET]\n"
	"           [--krl-max-age DURATION|off]\n"
	"       breakglass host principals [--etc DIR] [--auth-spool DIR] USER CERT\n\n"
	"Prints (and with --apply installs) what a host needs:\n"
	"  SSHD_DIR/breakglass.conf   TrustedUserCAKeys, RevokedKeys, ExposeAuthInfo,\n"
	"                             and a Match block for the hotfix accounts with\n"
	"                             AuthorizedPrincipalsCommand (below),\n"
	"                             ForceCommand (the gate) and no forwarding\n"
	"  ETC/ca.pub, ETC/revoked.krl, ETC/principals/NAME, ETC/gate.conf\n"
	"  ETC/approvers              the owner's approvers (--approvers FILE, an\n"
	"                             allowed_signers file): a write grant's\n"
	"                             certificate must carry WRITE-QUORUM (default 1)\n"
	"                             of their signatures over the plan statement\n"
	"                             with exactly its scope, or the gate refuses it;\n"
	"                             without --approvers every write is refused.\n"
	"                             --read-consent: read grants need it too.\n"
	"  AUDIT_DIR/host.key, audit.log, audit.head, recordings/\n"
	"                             (group GROUP, out of the accounts' reach)\n"
	"then validates the whole sshd configuration with 'sshd -t', and checks what\n"
	"sshd's StrictModes checks at each login (ETC/principals/NAME and every\n"
	"directory above it owned by root and writable by no one else: not under\n"
	"/tmp); it removes the drop-in again, naming the path and the fix, when\n"
	"either would refuse.  --create-accounts adds each hotfix\n"
	"account if missing: no password, and breakglass-gate (CMD's program) as its\n"
	"login shell, so no shell starts before the gate and su or cron as the\n"
	"account get the gate, which refuses; an account it made with /bin/sh before\n"
	"is moved to the gate.  --apply makes CMD's program execute-only (no read\n"
	"for group and others, e.g. 0711): then the gate is non-dumpable from its\n"
	"exec, and no other process of the account can trace it before it protects\n"
	"itself; hostd refuses a gate the account can read.  Defaults: ETC\n"
	"/etc/breakglass, SSHD_DIR /etc/ssh/sshd_config.d, AUDIT_DIR\n"
	"/var/log/breakglass, GROUP breakglass-gate, CMD from the home's config.\n\n"
	"ETC/gate.conf names this host's system, NAME (default: the host name); a\n"
	"certificate for a grant on another system is refused here.  It sets\n"
	"krl-max-age (default 1h; 'off' leaves it out): a host whose KRL was made\n"
	"longer ago refuses new requests, so keep the reaper publishing it\n"
	"(krl-publish, every minute).\n"
	"With --apply it then starts the host supervisor, `breakglass hostd --config\n"
	"ETC/gate.conf --socket PATH --pidfile PATH.pid` (root; it replaces one\n"
	"started before from that pid file), unless systemd runs: then it writes\n"
	"DIR/breakglass-hostd.service.d/breakglass-setup.conf (DIR default\n"
	"/etc/systemd/system) with that command line and says to start\n"
	"contrib/breakglass-hostd.service.  hostd's configuration is named there\n"
	"by root alone, never by the gate's caller.  The gate (CMD) holds no\n"
	"privilege and hands every request to hostd: install the binary\n"
	"root-owned, mode 0755, not setgid.  PATH defaults to\n"
	HOSTD_DEFAULT_SOCKET "; with another PATH the forced command gets\n"
	"'--socket PATH' (a CMD naming another socket is refused).\n\n"
	"Permissions on the host: the hotfix accounts hold no rights of their\n"
	"own (add them to no group, not adm, not www-data).  The gate's file verbs\n"
	"(ls, cat, tail, grep, stat, sha256, find-changed, put, patch, apply of a\n"
	"diff) run with hostd's rights inside the grant's directories only\n"
	"(openat2 RESOLVE_BENEATH): a read grant reads root:adm 0640 logs; a\n"
	"write keeps the replaced file's owner, group and mode, a new file takes\n"
	"its directory's owner and group, setuid/setgid bits are stripped;\n"
	"symlinks out, hard links to another's file, FIFOs and devices are\n"
	"refused.  Allowed commands and shells run with the account's own ids.\n"
	"On a one-host setup set 'krl-publish: ETC/revoked.krl' in the home's config\n"
	"so revocations reach sshd and the gate at once; on many hosts copy\n"
	"HOME/revoked.krl and ca.pub to each host's ETC (ssh, config management).\n\n"
	"Database target (db grants, `ssh ACCOUNT@HOST sql`): --db-postgres names the\n"
	"local PostgreSQL server as a libpq conninfo for its unix socket, e.g.\n"
	"'host=/run/postgresql port=5432 user=postgres' - never a password: hostd\n"
	"connects by peer authentication as root, or as OSUSER (--db-postgres-as,\n"
	"e.g. postgres), and that role must be able to create roles.  The server's\n"
	"pg_hba.conf must accept the group breakglass_grants by scram-sha-256 alone,\n"
	"before any peer or trust line:\n"
	"  local all +breakglass_grants scram-sha-256\n"
	"so that only hostd, which holds each grant role's password in memory, logs\n"
	"in as one.  --db-mariadb names the local MariaDB server's unix socket: hostd\n"
	"connects as root by unix_socket authentication; grant accounts are\n"
	"'bg_gN'@'localhost' with a password only hostd holds and direct grants; a\n"
	"server granting anything to PUBLIC is refused.  Managed databases\n"
	"reached only over TCP are not supported.\n\n"
	"The drop-in names breakglass-gate (a small binary beside breakglass, libc\n"
	"only) as both the forced command and the principals command; hostd serves\n"
	"only the breakglass-gate beside its own binary (or its own 'breakglass\n"
	"gate', kept for older configurations).\n"
	"'host principals' (installed as 'breakglass-gate principals') is sshd's\n"
	"AuthorizedPrincipalsCommand for the hotfix\n"
	"accounts (run as root, with %u %k): it prints ETC/principals/USER and records\n"
	"the certificate offered in DIR (default " HOSTD_DEFAULT_AUTH_SPOOL ", root's,\n"
	"0700) for the connection, so hostd serves a request with the certificate its\n"
	"connection authenticated with, whatever the account writes into its\n"
	"SSH_USER_AUTH file.  sshd runs it only from a path whose every directory is\n"
	"root's and not group- or world-writable: BINARY (default breakglass-gate\n"
	"beside this binary) must be such a path (make install puts both in\n"
	"/usr/local/bin).\n";

enum { O_ACCOUNT, O_APPLY, O_CREATE, O_ETC, O_SSHD_DIR, O_SSHD_CONFIG, O_AUDIT, O_GROUP,
    O_GATE, O_SOCKET, O_SYSTEM, O_APPROVERS, O_QUORUM, O_READ_CONSENT, O_SYSTEMD_DIR,
    O_DB_PG, O_DB_PG_AS, O_DB_MARIA, O_SPOOL, O_PCMD, O_KRL_AGE };

static const opt_def defs[] = {
	{ "--account", OPT_ARG | OPT_MULTI },
	{ "--apply", 0 },
	{ "--create-accounts", 0 },
	{ "--etc", OPT_ARG },
	{ "--sshd-dir", OPT_ARG },
	{ "--sshd-config", OPT_ARG },
	{ "--audit-dir", OPT_ARG },
	{ "--group", OPT_ARG },
	{ "--gate-command", OPT_ARG },
	{ "--socket", OPT_ARG },
	{ "--system", OPT_ARG },
	{ "--approvers", OPT_ARG },
	{ "--write-quorum", OPT_ARG },
	{ "--read-consent", 0 },
	{ "--systemd-dir", OPT_ARG },
	{ "--db-postgres", OPT_ARG },
	{ "--db-postgres-as", OPT_ARG },
	{ "--db-mariadb", OPT_ARG },
	{ "--auth-spool", OPT_ARG },
	{ "--principals-command", OPT_ARG },
	{ "--krl-max-age", OPT_ARG },
	{ NULL, 0 }
};

static const char *
opt_or(const cmd_args *a, int i, const char *def)
{
	return cmd_opt(a, i) ? cmd_opt(a, i) : def;
}

static int
mkdir_mode(const char *p, mode_t m, gid_t gid)
{
	if (mkdir(p, m) != 0 && errno != EEXIST)
		return cmd_failf(EXIT_SYSTEM, "cannot create '%s': %s", p, strerror(errno));
	if (chmod(p, m) != 0 || (gid != (gid_t)-1 && chown(p, 0, gid) != 0))
		return cmd_failf(EXIT_SYSTEM, "cannot set permissions of '%s': %s", p, strerror(errno));
	return 0;
}

static int
put_file(const char *dir, const char *name, const void *data, size_t len, mode_t mode)
{
	buf p;
	bg_error e;
	int r;

	buf_init(&p, 4096);
	if ((r = fileio_join(&p, dir, name)) == 0)
		r = fileio_write_atomic(p.data, data, len, mode, 0, &e);
	buf_release(&p);
	return r ? cmd_fail(r, &e) : 0;
}

static int
run(char *const argv[], const char *what)
{
	buf out;
	bg_error e;
	int st, r;

	buf_init(&out, 16384);
	if ((r = proc_run(argv, NULL, 0, &out, &st, &e)) != 0) {
		buf_release(&out);
		return cmd_fail(r, &e);
	}
	if (st != 0) {
		fprintf(stderr, "%s", buf_cstr(&out));
		buf_release(&out);
		return cmd_failf(EXIT_SYSTEM, "%s failed (exit %d)", what, st);
	}
	buf_release(&out);
	return 0;
}

/* 1 when something accepts connections on the unix socket path. */
static int
socket_answers(const char *path)
{
	struct sockaddr_un sa;
	int c, ok;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path) ||
	    (c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return 0;
	memcpy(sa.sun_path, path, strlen(path));
	ok = connect(c, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(c);
	return ok;
}

/*
 * Start hostd (this binary) for config on sock, detached, after stopping
 * the one its pid file names; wait until it answers (up to 5 s).
 */
static int
start_hostd(const char *config, const char *sock)
{
	buf pidfile, old;
	bg_error e;
	pid_t pid;
	int r = 0;

	buf_init(&pidfile, 4096);
	buf_init(&old, 64);
	buf_printf(&pidfile, "%s.pid", sock);
	if (fileio_read(pidfile.data, 64, &old, &e) == 0) {
		long op = strtol(buf_cstr(&old), NULL, 10);
		char exe[64], self[4096], other[4096];
		ssize_t a, b;

		/* only a breakglass hostd: a stale pid file may name anything */
		snprintf(exe, sizeof(exe), "/proc/%ld/exe", op);
		a = readlink("/proc/self/exe", self, sizeof(self) - 1);
		b = readlink(exe, other, sizeof(other) - 1);
		if (op > 1 && a > 0 && b == a && memcmp(self, other, (size_t)a) == 0) {
			kill((pid_t)op, SIGTERM);
			for (int i = 0; i < 50 && kill((pid_t)op, 0) == 0; i++)
				poll(NULL, 0, 100);
		}
	}
	{
		char dir[4096], *slash;

		snprintf(dir, sizeof(dir), "%s", sock);
		if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
			*slash = '\0';
			if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
				r = cmd_failf(EXIT_SYSTEM, "cannot create '%s': %s", dir, strerror(errno));
				goto out;
			}
		}
	}
	if ((pid = fork()) < 0) {
		r = cmd_failf(EXIT_SYSTEM, "cannot start hostd: %s", strerror(errno));
		goto out;
	}
	if (pid == 0) {
		char *const av[] = { "breakglass", "hostd", "--config", (char *)config, "--socket",
			(char *)sock, "--pidfile", pidfile.data, NULL };
		char *const envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8", NULL };
		int nul = open("/dev/null", O_RDWR);

		if (nul < 0 || setsid() < 0 || dup2(nul, 0) < 0 || dup2(nul, 1) < 0 ||
		    dup2(nul, 2) < 0)
			_exit(126);
		for (int fd = 3; fd < 1024; fd++)
			close(fd);
		if (fork() != 0) /* not our child: init reaps it */
			_exit(0);
		execve("/proc/self/exe", av, envp);
		_exit(127);
	}
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	for (int i = 0; i < 50 && !socket_answers(sock); i++)
		poll(NULL, 0, 100);
	if (!socket_answers(sock))
		r = cmd_failf(EXIT_SYSTEM, "hostd did not start on %s (see syslog; run `breakglass "
		    "hostd --config %s --socket %s` to see why)", sock, config, sock);
out:
	buf_release(&pidfile);
	buf_release(&old);
	return r;
}

/* The host's own audit log: key and files readable/writable by the group only. */
static int
setup_audit(const char *dir, gid_t gid)
{
	sshkey_priv k;
	buf text, p;
	bg_error e;
	struct stat st;
	int r = 0;

	buf_init_secret(&text, 16384);
	buf_init(&p, 4096);
	/* setgid directory: whatever is created inside - by the gate, or by root
	 * running rollback - belongs to the gate's group */
	if ((r = mkdir_mode(dir, 02770, gid)) != 0)
		goto out;
	if (fileio_join(&p, dir, "host.key") == 0 && lstat(p.data, &st) == 0)
		goto perms; /* an existing host log is kept */
	if (sshkey_priv_generate(&k) != 0 || sshkey_priv_format(&k, "breakglass-host", &text) != 0) {
		r = cmd_failf(EXIT_SYSTEM, "cannot generate the host key");
		goto out;
	}
	if ((r = fileio_write_atomic(p.data, text.data, text.len, 0640, 1, &e)) != 0 ||
	    (r = audit_create(dir, &k, &e)) != 0) {
		sshkey_priv_release(&k);
		r = cmd_fail(r, &e);
		goto out;
	}
	sshkey_priv_release(&k);
perms:
	if ((r = fileio_join(&p, dir, "recordings")) != 0 || (r = mkdir_mode(p.data, 02770, gid)) != 0)
		goto out;
	if ((r = fileio_join(&p, dir, "snapshots")) != 0 || (r = mkdir_mode(p.data, 02770, gid)) != 0)
		goto out;
	{
		static const char *const f[] = { "host.key", "audit.log", "audit.head" };
		static const mode_t m[] = { 0640, 0660, 0660 };

		for (int i = 0; i < 3; i++) {
			if (fileio_join(&p, dir, f[i]) != 0 || chown(p.data, 0, gid) != 0 ||
			    chmod(p.data, m[i]) != 0) {
				r = cmd_failf(EXIT_SYSTEM, "cannot set permissions of '%s'", p.data);
				goto out;
			}
		}
	}
out:
	buf_release(&text);
	buf_release(&p);
	return r;
}

/*
 * sshd's StrictModes, as sshd checks an AuthorizedPrincipalsFile (its
 * safe_path): the file, then every directory above it up to the account's
 * home or /, must be owned by root or the account and writable by neither
 * group nor others.  0, or 1 with why naming the path and the fix.
 */
static int
strict_modes_refuse(const char *file, const struct passwd *pw, char *why, size_t len)
{
	char real[PATH_MAX], homedir[PATH_MAX], cur[PATH_MAX];
	struct stat st;
	int have_home;

	if (realpath(file, real) == NULL) {
		snprintf(why, len, "cannot resolve '%.300s': %s", file, strerror(errno));
		return 1;
	}
	have_home = pw->pw_dir != NULL && realpath(pw->pw_dir, homedir) != NULL;
	snprintf(cur, sizeof(cur), "%s", real);
	for (int first = 1;; first = 0) {
		if (stat(cur, &st) != 0) {
			snprintf(why, len, "cannot read '%.300s': %s", cur, strerror(errno));
			return 1;
		}
		if (st.st_uid != 0 && st.st_uid != pw->pw_uid) {
			snprintf(why, len, "%s '%.300s' is owned by uid %u, not root: chown root '%.300s', or "
			    "choose --etc under root-owned directories (the default /etc/breakglass)",
			    first ? "file" : "directory", cur, (unsigned)st.st_uid, cur);
			return 1;
		}
		if (st.st_mode & 022) {
			snprintf(why, len, "%s '%.300s' is writable by %s (mode %04o): choose --etc under "
			    "directories only root can write (the default /etc/breakglass is), or "
			    "chmod go-w '%.300s' if nothing needs that", first ? "file" : "directory", cur,
			    (st.st_mode & 002) ? "others" : "its group",
			    (unsigned)(st.st_mode & 07777), cur);
			return 1;
		}
		if ((!first && have_home && strcmp(cur, homedir) == 0) || strcmp(cur, "/") == 0)
			return 0;
		{
			char tmp[PATH_MAX];

			memcpy(tmp, cur, sizeof(tmp));
			snprintf(cur, sizeof(cur), "%s", dirname(tmp));
		}
	}
}

/* 1 when sshd, for a login of user, checks modes (StrictModes, the
 * default): asked of sshd itself; when it cannot say, assume so. */
static int
sshd_strict_modes(const char *sshd_config, const char *user)
{
	buf out, conn;
	bg_error e;
	int st, strict = 1;

	buf_init(&out, 256 * 1024);
	buf_init(&conn, 512);
	buf_printf(&conn, "user=%s,host=localhost,addr=127.0.0.1", user);
	{
		char *const av[] = { "/usr/sbin/sshd", "-T", "-f", (char *)sshd_config, "-C",
			conn.data, NULL };

		if (proc_run(av, NULL, 0, &out, &st, &e) == 0 && st == 0 && out.data != NULL &&
		    (strncmp(out.data, "strictmodes no\n", 15) == 0 ||
		    strstr(out.data, "\nstrictmodes no\n") != NULL))
			strict = 0;
	}
	buf_release(&out);
	buf_release(&conn);
	return strict;
}

/*
 * The socket the forced command reaches: the gate command's own --socket,
 * else the default.  sock (the socket hostd is started on) must be that
 * one: with --socket and a gate command without one, the option is added.
 * 0, or a refusal.
 */
static int
gate_socket(const char *gate, const char *want, buf *cmd, const char **sock_out)
{
	argv_list av;
	bg_error e;
	const char *have = NULL;

	memset(&av, 0, sizeof(av));
	if (argv_split(gate, &av, &e) != 0)
		return cmd_failf(EXIT_USAGE, "host setup: the gate command '%s': %s", gate, e.msg);
	for (size_t i = 1; i + 1 < av.n; i++)
		if (strcmp(av.v[i], "--socket") == 0)
			have = av.v[i + 1];
	buf_reset(cmd);
	buf_puts(cmd, gate);
	if (have != NULL && want != NULL && strcmp(have, want) != 0) {
		int r = cmd_failf(EXIT_USAGE, "host setup: the gate command reaches hostd on '%s' "
		    "but --socket says '%s': the forced command would miss hostd; drop --socket, "
		    "or set gate-command in the home's config to '... " HOSTD_GATE_NAME " --socket %s'", have,
		    want, want);

		argv_release(&av);
		return r;
	}
	if (have == NULL && want != NULL && strcmp(want, HOSTD_DEFAULT_SOCKET) != 0)
		buf_printf(cmd, " --socket %s", want);
	*sock_out = have != NULL ? strdup(have) : strdup(want != NULL ? want : HOSTD_DEFAULT_SOCKET);
	argv_release(&av);
	return *sock_out == NULL ? cmd_failf(EXIT_SYSTEM, "out of memory") : 0;
}

/*
 * sshd's AuthorizedPrincipalsCommand (host setup names breakglass-gate
 * principals, the same code in the small binary): record the offered
 * certificate for this connection, then print the account's principals
 * (login_principals).  Any failure prints nothing: sshd then refuses the
 * certificate.
 */
static int
host_principals(const cmd_args *a)
{
	bg_error e;
	int r;

	bg_error_clear(&e);
	fflush(stdout);
	if ((r = login_principals(opt_or(a, O_ETC, LOGIN_DEFAULT_ETC),
	    opt_or(a, O_SPOOL, HOSTD_DEFAULT_AUTH_SPOOL), a->pos[1], a->pos[2],
	    STDOUT_FILENO, &e)) != 0)
		return cmd_fail(r, &e);
	return 0;
}

/* The length of the forced command's program (gate's first word) when it
 * is breakglass-gate (".../breakglass-gate"), else 0. */
static size_t
gate_program_len(const char *gate)
{
	size_t pl = strcspn(gate, " \t");

	return pl >= sizeof(HOSTD_GATE_NAME) && memcmp(gate + pl - sizeof(HOSTD_GATE_NAME),
	    "/" HOSTD_GATE_NAME, sizeof(HOSTD_GATE_NAME)) == 0 ? pl : 0;
}

/*
 * hostd, started from this binary, serves only breakglass-gate beside it
 * (or this binary's own `breakglass gate`): 1 when the forced command's
 * program (gate's first word) is one of them, else 0 with why set.
 */
static int
gate_served_here(const char *gate, char *why, size_t n)
{
	char self[4096], prog[4096], *slash;
	struct stat gs, ss;
	ssize_t sl = readlink("/proc/self/exe", self, sizeof(self) - 1);
	size_t pl = strcspn(gate, " \t");

	if (sl <= 0 || (size_t)sl + sizeof(HOSTD_GATE_NAME) >= sizeof(self) || pl >= sizeof(prog)) {
		snprintf(why, n, "cannot find this binary");
		return 0;
	}
	self[sl] = '\0';
	memcpy(prog, gate, pl);
	prog[pl] = '\0';
	if (stat(prog, &gs) != 0) {
		snprintf(why, n, "'%s' does not exist", prog);
		return 0;
	}
	if (stat("/proc/self/exe", &ss) == 0 && ss.st_dev == gs.st_dev && ss.st_ino == gs.st_ino)
		return 1;
	if ((slash = strrchr(self, '/')) != NULL) {
		memcpy(slash + 1, HOSTD_GATE_NAME, sizeof(HOSTD_GATE_NAME));
		if (stat(self, &ss) == 0 && ss.st_dev == gs.st_dev && ss.st_ino == gs.st_ino)
			return 1;
	}
	snprintf(why, n, "hostd (this binary) serves only %s or itself, and the forced command "
	    "runs '%s': install breakglass and " HOSTD_GATE_NAME " in one directory", self, prog);
	return 0;
}

/* sshd runs a principals command only from a root-owned path no one else
 * can write, every directory up to / included */
static int
safe_for_sshd(const char *p, char *why, size_t n)
{
	char d[4096];
	struct stat st;

	if (p[0] != '/' || strlen(p) >= sizeof(d) - 1 || strpbrk(p, " \t\n%\"'") != NULL) {
		snprintf(why, n, "'%s' is not an absolute path without spaces, quotes or %%", p);
		return 0;
	}
	snprintf(d, sizeof(d), "%s", p);
	for (;;) {
		char *slash;

		if (stat(d, &st) != 0 || st.st_uid != 0 || (st.st_mode & 022) != 0) {
			snprintf(why, n, "'%s' is not root's or is group- or world-writable", d);
			return 0;
		}
		if ((slash = strrchr(d, '/')) == NULL || strcmp(d, "/") == 0)
			return 1;
		if (slash == d)
			d[1] = '\0';
		else
			*slash = '\0';
	}
}

int
cmd_host(int argc, char **argv)
{
	cmd_args a;
	home *h = NULL;
	buf drop, gconf, accts, path, ca, krl, approvers, gcmd, unit;
	bg_error e;
	const char *etc, *sshd_dir, *sshd_config, *audit_dir, *group, *gate, *systemd_dir, *spool;
	const char *sock = NULL;
	char sysname[256], self[4096], why[8400];
	struct group *gr;
	int r, i;

	if ((r = cmd_parse("host", argc, argv, defs, &a)) != 0)
		return r;
	if (a.help)
		return cmd_usage(usage_text);
	if (a.json)
		return cmd_failf(EXIT_USAGE, "host setup: --json is not supported (it prints the "
		    "sshd drop-in it writes)");
	if (a.npos == 3 && strcmp(a.pos[0], "principals") == 0)
		return host_principals(&a);
	if (a.npos != 1 || strcmp(a.pos[0], "setup") != 0)
		return cmd_failf(EXIT_USAGE, "host: expected 'setup' or 'principals USER CERT' "
		    "(see --help)");
	if (a.val[O_ACCOUNT].n == 0)
		return cmd_failf(EXIT_USAGE, "host setup: name the hotfix account(s) with --account");
	for (i = 0; i < a.val[O_ACCOUNT].n; i++) {
		const char *n = a.val[O_ACCOUNT].all[i];

		if (!text_is_ident(n, 32) || strcmp(n, "root") == 0)
			return cmd_failf(EXIT_USAGE, "host setup: invalid account '%.32s'", n);
	}
	etc = opt_or(&a, O_ETC, "/etc/breakglass");
	sshd_dir = opt_or(&a, O_SSHD_DIR, "/etc/ssh/sshd_config.d");
	sshd_config = opt_or(&a, O_SSHD_CONFIG, "/etc/ssh/sshd_config");
	audit_dir = opt_or(&a, O_AUDIT, "/var/log/breakglass");
	group = opt_or(&a, O_GROUP, "breakglass-gate");
	if (!text_is_ident(group, 32))
		return cmd_failf(EXIT_USAGE, "host setup: invalid group name");
	spool = opt_or(&a, O_SPOOL, HOSTD_DEFAULT_AUTH_SPOOL);
	if (spool[0] != '/' || strpbrk(spool, " \t\n%\"'") != NULL)
		return cmd_failf(EXIT_USAGE, "host setup: --auth-spool must be an absolute path "
		    "without spaces, quotes or %%");
	if (cmd_opt(&a, O_PCMD) != NULL) {
		snprintf(self, sizeof(self), "%s", cmd_opt(&a, O_PCMD));
	} else {
		/* breakglass-gate beside this binary (make install puts both in
		 * /usr/local/bin) */
		ssize_t sl = readlink("/proc/self/exe", self, sizeof(self) - 1);
		char *slash;

		if (sl <= 0 || (size_t)sl + sizeof(HOSTD_GATE_NAME) >= sizeof(self))
			return cmd_failf(EXIT_SYSTEM, "host setup: cannot find this binary: name "
			    HOSTD_GATE_NAME " with --principals-command");
		self[sl] = '\0';
		if ((slash = strrchr(self, '/')) == NULL)
			return cmd_failf(EXIT_SYSTEM, "host setup: cannot find this binary: name "
			    HOSTD_GATE_NAME " with --principals-command");
		memcpy(slash + 1, HOSTD_GATE_NAME, sizeof(HOSTD_GATE_NAME));
	}
	if (!safe_for_sshd(self, why, sizeof(why))) {
		/* the dry run still shows what would be installed; --apply refuses */
		if (a.val[O_APPLY].set)
			return cmd_failf(EXIT_USAGE, "host setup: sshd would not run %s as its "
			    "AuthorizedPrincipalsCommand: %s; install breakglass and "
			    HOSTD_GATE_NAME " under a root-owned path (make install: /usr/local/bin) "
			    "or name one with --principals-command", self, why);
		fprintf(stderr, "host setup: note: sshd would not run %s as its "
		    "AuthorizedPrincipalsCommand (%s): --apply refuses until " HOSTD_GATE_NAME
		    " is under a root-owned path (make install: /usr/local/bin) or "
		    "--principals-command names one\n", self, why);
	}
	if ((r = cmd_open_home(&a, &h)) != 0)
		return r;
	gate = opt_or(&a, O_GATE, h->gate_command);
	if (cmd_opt(&a, O_SYSTEM) != NULL) {
		snprintf(sysname, sizeof(sysname), "%s", cmd_opt(&a, O_SYSTEM));
	} else if (gethostname(sysname, sizeof(sysname)) != 0) {
		home_close(h);
		return cmd_failf(EXIT_SYSTEM, "host setup: no host name: name the system with --system");
	}
	if (!text_is_ident(sysname, 128)) {
		home_close(h);
		return cmd_failf(EXIT_USAGE, "host setup: invalid system name '%.128s'", sysname);
	}
	systemd_dir = opt_or(&a, O_SYSTEMD_DIR, "/etc/systemd/system");
	buf_init(&gcmd, 4096);
	buf_init(&unit, 8192);
	if ((r = gate_socket(gate, cmd_opt(&a, O_SOCKET), &gcmd, &sock)) != 0) {
		buf_release(&gcmd);
		buf_release(&unit);
		home_close(h);
		return r;
	}
	{
		/* where host setup starts hostd itself (no systemd), before
		 * anything is written: the forced command must be one hostd serves */
		struct stat sst;

		if (a.val[O_APPLY].set && lstat("/run/systemd/system", &sst) != 0 &&
		    !gate_served_here(gate, why, sizeof(why))) {
			buf_release(&gcmd);
			buf_release(&unit);
			free((char *)sock);
			home_close(h);
			return cmd_failf(EXIT_USAGE, "host setup: %s", why);
		}
	}
	/* hostd's configuration is named by root alone: on its command line,
	 * in the unit (this drop-in) or by host setup starting it - never by
	 * the gate's caller */
	{
		/* hostd is breakglass beside the gate's binary (it serves only
		 * breakglass-gate beside itself, or its own `breakglass gate`) */
		int pl = (int)strcspn(gate, " \t"), bl = pl;

		if (gate_program_len(gate) > 0)
			bl = pl - (int)sizeof(HOSTD_GATE_NAME) + 1; /* up to the slash */
		buf_printf(&unit, "# breakglass host setup: hostd serves the gate of "
		    "%s/breakglass.conf\n[Service]\nExecStart=\nExecStart=%.*s%s hostd --config "
		    "%s/gate.conf --socket %s\n", opt_or(&a, O_SSHD_DIR, "/etc/ssh/sshd_config.d"),
		    bl, gate, bl != pl ? "breakglass" : "", opt_or(&a, O_ETC, "/etc/breakglass"),
		    sock);
	}
	buf_init(&drop, 64 * 1024);
	buf_init(&gconf, 8192);
	buf_init(&accts, 4096);
	buf_init(&path, 4096);
	buf_init(&ca, 64 * 1024);
	buf_init(&krl, 16u * 1024 * 1024);
	buf_init(&approvers, SIGNERS_MAX_INPUT);
	for (i = 0; i < a.val[O_ACCOUNT].n; i++)
		buf_printf(&accts, "%s%s", i ? "," : "", a.val[O_ACCOUNT].all[i]);
	buf_printf(&drop,
	    "# breakglass: certificate logins for hotfix accounts (breakglass host setup)\n"
	    "TrustedUserCAKeys %s/ca.pub\n"
	    "RevokedKeys %s/revoked.krl\n"
	    "ExposeAuthInfo yes\n"
	    "\n"
	    "Match User %s\n"
	    "\tAuthorizedPrincipalsCommand %s principals --etc %s --auth-spool %s %%u %%k\n"
	    "\tAuthorizedPrincipalsCommandUser root\n"
	    "\tAuthorizedKeysFile none\n"
	    "\tPasswordAuthentication no\n"
	    "\tKbdInteractiveAuthentication no\n"
	    "\tAllowTcpForwarding no\n"
	    "\tAllowStreamLocalForwarding no\n"
	    "\tAllowAgentForwarding no\n"
	    "\tX11Forwarding no\n"
	    "\tPermitTunnel no\n"
	    "\tPermitUserRC no\n"
	    "\tForceCommand %s\n", etc, etc, buf_cstr(&accts), self, etc, spool, buf_cstr(&gcmd));
	buf_printf(&gconf, "# breakglass gate configuration (breakglass host setup)\n"
	    "ca-key: %s/ca.pub\nkrl: %s/revoked.krl\naudit-dir: %s\nsystem: %s\nauth-spool: %s\n",
	    etc, etc, audit_dir, sysname, spool);
	{
		/* a host that stops receiving revocations stops granting */
		const char *age = opt_or(&a, O_KRL_AGE, "1h");
		int64_t secs;

		if (strcmp(age, "off") != 0) {
			if (utc_parse_duration(age, &secs) != 0 || secs <= 0) {
				r = cmd_failf(EXIT_USAGE, "host setup: --krl-max-age is a duration (30m, 1h, "
				    "2d) or off");
				goto out;
			}
			buf_printf(&gconf, "krl-max-age: %s\n", age);
		}
	}
	if (cmd_opt(&a, O_APPROVERS) != NULL) {
		/* the owner's keys, checked now: a host that cannot read them refuses
		 * every write */
		signers ss;
		long q = 1;

		if (cmd_opt(&a, O_QUORUM) != NULL) {
			char *end;

			q = strtol(cmd_opt(&a, O_QUORUM), &end, 10);
			if (*end != '\0' || q < 1 || q > 16) {
				r = cmd_failf(EXIT_USAGE, "host setup: --write-quorum is 1 to 16");
				goto out;
			}
		}
		bg_error_clear(&e);
		if ((r = fileio_read(cmd_opt(&a, O_APPROVERS), SIGNERS_MAX_INPUT, &approvers,
		    &e)) != 0 || (r = signers_parse(buf_cstr(&approvers), approvers.len, &ss,
		    &e)) != 0) {
			r = cmd_fail(r, &e);
			goto out;
		}
		if (ss.n == 0 || (long)ss.n < q) {
			signers_release(&ss);
			r = cmd_failf(EXIT_USAGE, "host setup: %s lists %zu approver key(s), fewer "
			    "than the write quorum %ld", cmd_opt(&a, O_APPROVERS), ss.n, q);
			goto out;
		}
		signers_release(&ss);
		buf_printf(&gconf, "approvers: %s/approvers\nwrite-quorum: %ld\n", etc, q);
	} else if (cmd_opt(&a, O_QUORUM) != NULL || a.val[O_READ_CONSENT].set) {
		r = cmd_failf(EXIT_USAGE, "host setup: --write-quorum and --read-consent need "
		    "--approvers FILE");
		goto out;
	}
	if (a.val[O_READ_CONSENT].set)
		buf_printf(&gconf, "read-consent: required\n");
	if (cmd_opt(&a, O_DB_PG) != NULL) {
		const char *ci = cmd_opt(&a, O_DB_PG), *as = cmd_opt(&a, O_DB_PG_AS);
		int rc;

		/* gate.conf is world-readable, and a password has no place there:
		 * libpq's own parse, the one hostd's connection makes */
		if (strchr(ci, '\n') != NULL || strlen(ci) > 1000) {
			r = cmd_failf(EXIT_USAGE, "host setup: --db-postgres takes a conninfo of one "
			    "line, at most 1000 bytes");
			goto out;
		}
		if ((rc = pgrole_conninfo_check(ci, &e)) != 0) {
			r = cmd_failf(rc == BG_ERR_UNSUPPORTED ? EXIT_SYSTEM : EXIT_USAGE,
			    "host setup: --db-postgres: %s", e.msg);
			goto out;
		}
		if (as != NULL && (getpwnam(as) == NULL || strlen(as) > 63)) {
			r = cmd_failf(EXIT_USAGE, "host setup: --db-postgres-as: no OS user '%.64s'", as);
			goto out;
		}
		buf_printf(&gconf, "db-postgres: %s\n", ci);
		if (as != NULL)
			buf_printf(&gconf, "db-postgres-as: %s\n", as);
	} else if (cmd_opt(&a, O_DB_PG_AS) != NULL) {
		r = cmd_failf(EXIT_USAGE, "host setup: --db-postgres-as needs --db-postgres");
		goto out;
	}
	if (cmd_opt(&a, O_DB_MARIA) != NULL) {
		const char *sk = cmd_opt(&a, O_DB_MARIA);

		if (sk[0] != '/' || strchr(sk, '\n') != NULL || strlen(sk) > 1000) {
			r = cmd_failf(EXIT_USAGE, "host setup: --db-mariadb takes the server's unix "
			    "socket, an absolute path");
			goto out;
		}
		buf_printf(&gconf, "db-mariadb: %s\n", sk);
	}
	if (!a.val[O_APPLY].set) {
		printf("# %s/breakglass.conf\n%s\n# %s/gate.conf\n%s\n"
		    "# %s/breakglass-hostd.service.d/breakglass-setup.conf (where systemd runs)\n"
		    "%s\n# run again with --apply to install (and validate with sshd -t)\n",
		    sshd_dir, buf_cstr(&drop), etc, buf_cstr(&gconf), systemd_dir, buf_cstr(&unit));
		r = 0;
		goto out;
	}
	if (geteuid() != 0) {
		r = cmd_failf(EXIT_USAGE, "host setup --apply must run as root");
		goto out;
	}
	{
		/* the gate's program execute-only: then it is non-dumpable from
		 * its exec, and no other process of the account can trace it
		 * before it protects itself (hostd refuses one it can read) */
		char prog[4096];
		size_t pl = strcspn(gate, " \t");
		struct stat gst;

		if (pl < sizeof(prog)) {
			memcpy(prog, gate, pl);
			prog[pl] = '\0';
			if (stat(prog, &gst) == 0 && S_ISREG(gst.st_mode) && (gst.st_mode & 044)) {
				if (chmod(prog, gst.st_mode & 07733) != 0) {
					r = cmd_failf(EXIT_SYSTEM, "host setup: cannot make '%s' execute-only: %s",
					    prog, strerror(errno));
					goto out;
				}
				printf("host setup: %s made execute-only (%04o): the account runs it, and "
				    "cannot read or trace it\n", prog, (unsigned)(gst.st_mode & 07733));
			}
		}
	}
	bg_error_clear(&e);
	/* the group that owns the host log; the binary is installed setgid to it */
	if ((gr = getgrnam(group)) == NULL) {
		char *const argv_g[] = { "/usr/sbin/groupadd", "--system", (char *)group, NULL };

		if ((r = run(argv_g, "groupadd")) != 0)
			goto out;
		if ((gr = getgrnam(group)) == NULL) {
			r = cmd_failf(EXIT_SYSTEM, "group '%s' was not created", group);
			goto out;
		}
	}
	if (a.val[O_CREATE].set) {
		/*
		 * The accounts' login shell is the gate itself when the forced
		 * command is breakglass-gate: sshd runs SHELL -c FORCECOMMAND, so
		 * no /bin/sh starts before the gate (gate/main.c), and su or cron
		 * as the account get the gate, which hostd refuses outside sshd.
		 * An account an earlier host setup made with /bin/sh is moved over.
		 */
		char shell[4096];
		size_t pl = gate_program_len(gate);

		snprintf(shell, sizeof(shell), "%s", "/bin/sh");
		if (pl > 0 && pl < sizeof(shell))
			snprintf(shell, sizeof(shell), "%.*s", (int)pl, gate);
		for (i = 0; i < a.val[O_ACCOUNT].n; i++) {
			char *n = (char *)a.val[O_ACCOUNT].all[i];
			char *const argv_u[] = {
				"/usr/sbin/useradd", "--system", "--shell", shell, "--home-dir", "/",
				"--no-create-home", "--password", "*", "--comment", "breakglass hotfix",
				n, NULL
			};
			char *const argv_m[] = { "/usr/sbin/usermod", "--shell", shell, n, NULL };
			struct passwd *pw = getpwnam(n);

			if (pw == NULL && (r = run(argv_u, "useradd")) != 0)
				goto out;
			if (pw != NULL && pw->pw_gecos != NULL &&
			    strcmp(pw->pw_gecos, "breakglass hotfix") == 0 &&
			    strcmp(pw->pw_shell, shell) != 0 && (r = run(argv_m, "usermod")) != 0)
				goto out;
		}
	}
	for (i = 0; i < a.val[O_ACCOUNT].n; i++) {
		struct passwd *pw = getpwnam(a.val[O_ACCOUNT].all[i]);

		if (pw == NULL) {
			r = cmd_failf(EXIT_USAGE, "account '%s' does not exist (use --create-accounts)",
			    a.val[O_ACCOUNT].all[i]);
			goto out;
		}
		if (pw->pw_uid == 0) {
			r = cmd_failf(EXIT_USAGE, "account '%s' has uid 0: refusing", pw->pw_name);
			goto out;
		}
		{
			struct group *g2 = getgrgid(pw->pw_gid);

			if (pw->pw_gid == gr->gr_gid || (g2 && strcmp(g2->gr_name, group) == 0)) {
				r = cmd_failf(EXIT_USAGE, "account '%s' must not be in group '%s'",
				    pw->pw_name, group);
				goto out;
			}
			for (char **m = gr->gr_mem; m && *m; m++)
				if (strcmp(*m, pw->pw_name) == 0) {
					r = cmd_failf(EXIT_USAGE, "account '%s' must not be in group '%s'",
					    pw->pw_name, group);
					goto out;
				}
		}
	}
	if ((r = mkdir_mode(etc, 0755, 0)) != 0)
		goto out;
	{
		/* the auth spool: root's alone (sshd's principals command writes it) */
		char parent[4096], *sl;

		snprintf(parent, sizeof(parent), "%s", spool);
		if ((sl = strrchr(parent, '/')) != NULL && sl != parent) {
			*sl = '\0';
			if (mkdir(parent, 0755) != 0 && errno != EEXIST) {
				r = cmd_failf(EXIT_SYSTEM, "cannot create '%s': %s", parent, strerror(errno));
				goto out;
			}
		}
		if ((r = mkdir_mode(spool, 0700, 0)) != 0)
			goto out;
	}
	if ((r = fileio_join(&path, etc, "principals")) != 0 ||
	    (r = mkdir_mode(path.data, 0755, 0)) != 0)
		goto out;
	for (i = 0; i < a.val[O_ACCOUNT].n; i++) {
		buf line;

		buf_init(&line, 256);
		buf_printf(&line, "%s\n", a.val[O_ACCOUNT].all[i]);
		r = put_file(path.data, a.val[O_ACCOUNT].all[i], line.data, line.len, 0644);
		buf_release(&line);
		if (r != 0)
			goto out;
	}
	if ((r = home_path(h, "ca.pub", &path)) != 0 ||
	    (r = fileio_read(path.data, 64 * 1024, &ca, &e)) != 0 ||
	    (r = home_path(h, "revoked.krl", &path)) != 0 ||
	    (r = fileio_read(path.data, krl.max, &krl, &e)) != 0) {
		r = cmd_fail(r, &e);
		goto out;
	}
	if ((r = put_file(etc, "ca.pub", ca.data, ca.len, 0644)) != 0 ||
	    (r = put_file(etc, "revoked.krl", krl.data, krl.len, 0644)) != 0 ||
	    (approvers.len > 0 &&
	    (r = put_file(etc, "approvers", approvers.data, approvers.len, 0644)) != 0) ||
	    (r = put_file(etc, "gate.conf", gconf.data, gconf.len, 0644)) != 0 ||
	    (r = setup_audit(audit_dir, gr->gr_gid)) != 0 ||
	    (r = mkdir_mode(sshd_dir, 0755, (gid_t)-1)) != 0 ||
	    (r = put_file(sshd_dir, "breakglass.conf", drop.data, drop.len, 0644)) != 0)
		goto out;
	{
		char *const argv_t[] = { "/usr/sbin/sshd", "-t", "-f", (char *)sshd_config, NULL };

		if ((r = run(argv_t, "sshd -t")) != 0) {
			fileio_join(&path, sshd_dir, "breakglass.conf");
			unlink(path.data);
			fprintf(stderr, "breakglass: the drop-in was removed again\n");
			goto out;
		}
	}
	/* sshd -t does not check what sshd checks at each login: with
	 * StrictModes (the default) a principals file under a directory others
	 * can write refuses every login, and the client sees only "Permission
	 * denied" */
	for (i = 0; i < a.val[O_ACCOUNT].n; i++) {
		const char *n = a.val[O_ACCOUNT].all[i];
		struct passwd *pw = getpwnam(n);
		buf pf;

		if (pw == NULL || !sshd_strict_modes(sshd_config, n))
			continue;
		buf_init(&pf, 4096);
		buf_printf(&pf, "%s/principals/%s", etc, n);
		if (strict_modes_refuse(pf.data, pw, why, sizeof(why))) {
			buf_release(&pf);
			fileio_join(&path, sshd_dir, "breakglass.conf");
			unlink(path.data);
			r = cmd_failf(EXIT_SYSTEM, "host setup: sshd (StrictModes) would refuse every "
			    "login of '%s': %s (the drop-in was removed again)", n, why);
			goto out;
		}
		buf_release(&pf);
	}
	{
		struct stat sst;

		if (lstat("/run/systemd/system", &sst) == 0) {
			buf_reset(&path);
			buf_printf(&path, "%s/breakglass-hostd.service.d", systemd_dir);
			if ((r = mkdir_mode(path.data, 0755, (gid_t)-1)) != 0 ||
			    (r = put_file(path.data, "breakglass-setup.conf", unit.data, unit.len,
			    0644)) != 0)
				goto out;
			printf("host set up: %s/breakglass.conf (sshd -t passed), %s/gate.conf, host log "
			    "in %s, %s/breakglass-setup.conf\n  reload sshd, and start the supervisor: "
			    "systemctl daemon-reload; systemctl enable --now breakglass-hostd\n",
			    sshd_dir, etc, audit_dir, path.data);
		} else {
			if ((r = fileio_join(&path, etc, "gate.conf")) != 0 ||
			    (r = start_hostd(path.data, sock)) != 0)
				goto out;
			printf("host set up: %s/breakglass.conf (sshd -t passed), %s/gate.conf, host log "
			    "in %s\n  hostd started on %s; reload sshd to take effect\n", sshd_dir,
			    etc, audit_dir, sock);
		}
	}
	r = 0;
out:
	buf_release(&drop);
	buf_release(&gconf);
	buf_release(&accts);
	buf_release(&path);
	buf_release(&ca);
	buf_release(&krl);
	buf_release(&approvers);
	buf_release(&gcmd);
	buf_release(&unit);
	free((char *)sock);
	home_close(h);
	return r;
}
