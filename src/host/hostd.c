/*
 * hostd.c - the host supervisor (see hostd.h): the socket, the binding of
 * a request to the sshd session that authenticated it, the ids a request
 * is served with (the gate's client side is in login.c).
 */
#include "hostd.h"
#include "login.h"
#include "gate.h"
#include "buf.h"
#include "cgroup.h"
#include "scan.h"
#include "fileio.h"
#include "utc.h"
#include "text.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#define HOSTD_ENV_MAX (256u * 1024)
#define HOSTD_HELLO_TIMEOUT_S 10
/* how often leftover database grant roles are looked for */
#define HOSTD_DB_REPAIR_S 30
#define HOSTD_MAX_CHILDREN 1024

/* hostd's children and whom they serve: the per-account cap */
static struct { pid_t pid; uid_t uid; } children[HOSTD_MAX_CHILDREN];

/* A child forked ahead of the next request, waiting on sock for hostd to
 * hand it the connection (spare_make): a request does not wait for a fork
 * of hostd (~0.4 ms here). */
static struct { pid_t pid; int sock; } spare = { 0, -1 };

static void
spare_drop(void)
{
	if (spare.sock >= 0)
		close(spare.sock); /* it exits at the closed socket */
	spare.sock = -1;
	spare.pid = 0;
}

static void
reap_children(void)
{
	pid_t p;

	while ((p = waitpid(-1, NULL, WNOHANG)) > 0) {
		if (p == spare.pid)
			spare_drop();
		for (size_t i = 0; i < HOSTD_MAX_CHILDREN; i++)
			if (children[i].pid == p) {
				children[i].pid = 0;
				break;
			}
	}
}

/* A free slot for a child serving uid, or -1 when uid has
 * HOSTD_MAX_PER_ACCOUNT already (or hostd HOSTD_MAX_CHILDREN). */
static int
child_slot(uid_t uid)
{
	size_t i, n = 0;
	int free_at = -1;

	for (i = 0; i < HOSTD_MAX_CHILDREN; i++) {
		if (children[i].pid == 0) {
			if (free_at < 0)
				free_at = (int)i;
		} else if (children[i].uid == uid)
			n++;
	}
	return n >= HOSTD_MAX_PER_ACCOUNT ? -1 : free_at;
}

static volatile sig_atomic_t hostd_stop;

/* breakglass-gate beside the binary hostd runs, when root owns it and its
 * folder and no one else can write either ("" otherwise: then only this
 * binary's own `breakglass gate` is served).  Found once at the start:
 * the path, never anything a caller says. */
static char gate_path[4096];
static char self_path[4096]; /* hostd's own binary */

static void
find_gate(void)
{
	char self[4096], *slash;
	struct stat st;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	gate_path[0] = self_path[0] = '\0';
	if (n <= 0 || (size_t)n >= sizeof(self) - 1)
		return;
	self[n] = '\0';
	memcpy(self_path, self, (size_t)n + 1);
	if ((slash = strrchr(self, '/')) == NULL || slash == self)
		return;
	*slash = '\0';
	if (stat(self, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != 0 || (st.st_mode & 022))
		return;
	if ((size_t)snprintf(gate_path, sizeof(gate_path), "%s/" HOSTD_GATE_NAME, self) >=
	    sizeof(gate_path) || stat(gate_path, &st) != 0 || !S_ISREG(st.st_mode) ||
	    st.st_uid != 0 || (st.st_mode & 022))
		gate_path[0] = '\0';
}

/*
 * 1 when the account can read the gate's binary (group or other read,
 * looked at now: a mode changed after hostd started counts).  A gate it
 * can read is dumpable from its exec until its prctl: another process of
 * the account could attach to it there and rewrite its environment, which
 * hostd reads as the request.  An execute-only binary is non-dumpable
 * from its first instruction.
 */
static int
gate_readable(const char *path)
{
	struct stat st;

	return path[0] == '\0' || stat(path, &st) != 0 || (st.st_mode & 044) != 0;
}

static void
on_stop(int sig)
{
	(void)sig;
	hostd_stop = 1;
}

const char *
hostd_env_get(const char *env, size_t len, const char *name, int *dup)
{
	size_t nl = strlen(name), i = 0;
	const char *found = NULL;

	while (i < len) {
		const char *s = env + i;
		size_t l = strnlen(s, len - i);

		if (i + l >= len)
			break; /* not NUL-terminated: not a whole entry */
		if (l > nl && strncmp(s, name, nl) == 0 && s[nl] == '=') {
			if (found != NULL)
				*dup = 1;
			found = s + nl + 1;
		}
		i += l + 1;
	}
	return found;
}

/* hostd's own process (the binary it runs), read once at its start: a
 * request from this binary's own `breakglass gate` is served too */
static login_proc hostd_self;

/*
 * An account's passwd entry and groups, looked up by hostd and handed to
 * the serving process with the connection: getpwuid and initgroups were
 * ~0.3 ms of every request in the serving process.  hostd keeps them
 * while /etc/passwd, /etc/group and /etc/nsswitch.conf are the files they
 * were read from (device, inode, size, modification and change times to
 * the nanosecond - a change time cannot be set back), and only when
 * nsswitch.conf takes passwd and group from files (and systemd's module)
 * and no userdb drop-in directory exists: systemd's module answers for
 * every account with the users, groups and memberships of the JSON
 * records there (/run/userdb/USER:GROUP.membership adds a group to a
 * files account), which no file watched here shows.  Otherwise every
 * request looks the account up itself, as before.
 */
#define HOSTD_ACCTS 16
#define HOSTD_ACCT_GROUPS 256
typedef struct hostd_acct {
	uid_t uid;
	gid_t gid;
	int ngroups;
	char name[64], shell[512];
	gid_t groups[HOSTD_ACCT_GROUPS];
} hostd_acct;

static struct {
	int usable;                 /* nsswitch.conf allows it */
	struct stat st[3];          /* the files the entries were read from */
	int n, next;
	hostd_acct v[HOSTD_ACCTS];
} accts;

static const char *const acct_files[3] = { "/etc/passwd", "/etc/group", "/etc/nsswitch.conf" };

/* where systemd's userdb reads drop-in records (systemd's userdb-dropin.c) */
static const char *const userdb_dirs[] = {
	"/etc/userdb", "/run/userdb", "/run/host/userdb", "/usr/local/lib/userdb", "/usr/lib/userdb"
};

/* 1 when no userdb drop-in directory exists (or one cannot be told apart
 * from absent: then 0) */
static int
accts_no_userdb(void)
{
	struct stat st;

	for (size_t i = 0; i < sizeof(userdb_dirs) / sizeof(userdb_dirs[0]); i++)
		if (lstat(userdb_dirs[i], &st) == 0 || errno != ENOENT)
			return 0;
	return 1;
}

/* 1 when nsswitch.conf's passwd and group lines (and initgroups, which
 * getgrouplist consults when present) name files (and systemd) only */
static int
accts_nss_files_only(void)
{
	buf t;
	int seen = 0, ok = 1;
	char *line, *save = NULL;
	bg_error e;

	buf_init(&t, 256 * 1024);
	if (fileio_read("/etc/nsswitch.conf", t.max, &t, &e) != 0 || t.data == NULL) {
		buf_release(&t);
		return 0;
	}
	for (line = strtok_r(t.data, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		char *w, *ws = NULL;
		int db;

		while (*line == ' ' || *line == '\t')
			line++;
		db = strncmp(line, "passwd:", 7) == 0 ? 7 : strncmp(line, "group:", 6) == 0 ? 6 :
		    strncmp(line, "initgroups:", 11) == 0 ? -11 : 0;
		if (db == 0)
			continue;
		if (db > 0)
			seen++;
		else
			db = -db;
		for (w = strtok_r(line + db, " \t", &ws); w != NULL; w = strtok_r(NULL, " \t", &ws)) {
			if (*w == '#')
				break;
			if (strcmp(w, "files") != 0 && strcmp(w, "systemd") != 0)
				ok = 0;
		}
	}
	buf_release(&t);
	return ok && seen == 2;
}

static int
same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	    a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	    a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/* the three acct_files stat'ed now into st: 0, or -1 when one cannot be */
static int
accts_stat(struct stat st[3])
{
	for (int i = 0; i < 3; i++)
		if (stat(acct_files[i], &st[i]) != 0)
			return -1;
	return 0;
}

/* 1 when all three are the files of was */
static int
accts_same(const struct stat now[3], const struct stat was[3])
{
	return same_file(&now[0], &was[0]) && same_file(&now[1], &was[1]) &&
	    same_file(&now[2], &was[2]);
}

/* uid's entry, looked up now when not kept; NULL: the serving process
 * looks it up itself */
static const hostd_acct *
accts_get(uid_t uid)
{
	struct stat st[3], again[3];
	struct passwd *pw;
	hostd_acct got, *a = &got;
	int i, n;

	if (!accts.usable)
		return NULL;
	if (!accts_no_userdb()) {
		accts.n = accts.next = 0; /* what was kept is not trusted again */
		return NULL;
	}
	if (accts_stat(st) != 0)
		return NULL;
	if (!accts_same(st, accts.st)) {
		if (!same_file(&st[2], &accts.st[2]) && !accts_nss_files_only()) {
			accts.usable = 0;
			return NULL;
		}
		memcpy(accts.st, st, sizeof(st));
		accts.n = accts.next = 0;
	}
	for (i = 0; i < accts.n; i++)
		if (accts.v[i].uid == uid)
			return &accts.v[i];
	if ((pw = getpwuid(uid)) == NULL || strlen(pw->pw_name) >= sizeof(a->name) ||
	    pw->pw_shell == NULL || strlen(pw->pw_shell) >= sizeof(a->shell))
		return NULL;
	memset(a, 0, sizeof(*a));
	a->uid = pw->pw_uid;
	a->gid = pw->pw_gid;
	snprintf(a->name, sizeof(a->name), "%s", pw->pw_name);
	snprintf(a->shell, sizeof(a->shell), "%s", pw->pw_shell);
	n = HOSTD_ACCT_GROUPS;
	if (getgrouplist(a->name, a->gid, a->groups, &n) < 0)
		return NULL;
	a->ngroups = n;
	/* the files read are the files stat'ed, no drop-in came meanwhile:
	 * else not kept */
	if (accts_stat(again) != 0 || !accts_same(again, st) || !accts_no_userdb())
		return NULL;
	/*
	 * A file changed within the last 2 s is read, not kept: a kernel
	 * whose change times move in ticks (Debian 12's 6.1: ~4 ms) could
	 * show a second edit of the same size within one tick as none.
	 */
	{
		struct timespec now;

		if (clock_gettime(CLOCK_REALTIME, &now) != 0)
			return NULL;
		for (i = 0; i < 3; i++)
			if (st[i].st_ctim.tv_sec >= now.tv_sec - 2) {
				static hostd_acct fresh;

				fresh = got;
				return &fresh;
			}
	}
	a = &accts.v[accts.next];
	*a = got;
	accts.next = (accts.next + 1) % HOSTD_ACCTS;
	if (accts.n < HOSTD_ACCTS)
		accts.n++;
	return a;
}

typedef struct hostd_peer {
	login_proc gate, shell, sshd, monitor;
	int has_shell;
	buf env;
} hostd_peer;

/*
 * Bind the request to the sshd session that started the peer: the peer
 * runs this binary as uid; its parent (or its login shell's parent) is an
 * sshd running as uid, whose parent is an sshd running as root.  Reads
 * the peer's environment as sshd set it.  0, or BG_ERR_PERM with e set.
 */
static int
bind_session(pid_t pid, uid_t uid, const struct passwd *pw, hostd_peer *p, bg_error *e)
{
	const login_proc *s;
	char path[64];
	pid_t again_ppid;
	unsigned long long again_start;

	if (hostd_self.pid == 0)
		return bg_fail(e, BG_ERR_IO, "the supervisor cannot read its own process");
	if (login_proc_read(pid, &p->gate) != 0)
		return bg_fail(e, BG_ERR_PERM, "the requesting process is gone");
	if ((p->gate.exe_dev != hostd_self.exe_dev || p->gate.exe_ino != hostd_self.exe_ino) &&
	    (gate_path[0] == '\0' || !login_proc_runs(&p->gate, gate_path)))
		return bg_fail(e, BG_ERR_PERM, "the request did not come from breakglass-gate beside "
		    "the binary hostd runs (after an upgrade of breakglass, restart hostd)");
	if (!login_proc_all_uids(&p->gate, uid))
		return bg_fail(e, BG_ERR_PERM, "the gate does not run as the account alone");
	if (login_proc_read(p->gate.ppid, &p->shell) != 0)
		return bg_fail(e, BG_ERR_PERM, "the gate's parent is gone");
	s = &p->shell;
	if (!login_proc_runs(s, HOSTD_SSHD) && pw->pw_shell != NULL && pw->pw_shell[0] == '/' &&
	    login_proc_runs(s, pw->pw_shell) && login_proc_all_uids(s, uid)) {
		p->has_shell = 1;
		if (login_proc_read(s->ppid, &p->sshd) != 0)
			return bg_fail(e, BG_ERR_PERM, "the login shell's parent is gone");
	} else
		p->sshd = p->shell;
	if (!login_proc_runs(&p->sshd, HOSTD_SSHD) || !login_proc_all_uids(&p->sshd, uid))
		return bg_fail(e, BG_ERR_PERM, "the gate was not started by sshd for this login "
		    "(run it only as the forced command)");
	if (login_proc_read(p->sshd.ppid, &p->monitor) != 0 || !login_proc_runs(&p->monitor, HOSTD_SSHD) ||
	    !login_proc_all_uids(&p->monitor, 0))
		return bg_fail(e, BG_ERR_PERM, "the gate's sshd is not a session of this host's sshd");
	{
		int own = p->gate.exe_dev == hostd_self.exe_dev && p->gate.exe_ino == hostd_self.exe_ino;

		if (gate_readable(own ? self_path : gate_path))
			return bg_fail(e, BG_ERR_PERM, "%s can be read by the hotfix account, so another "
			    "of its processes could trace the gate before it protects itself: make it "
			    "execute-only (chmod 0711 %s; host setup --apply does)",
			    own ? self_path : gate_path, own ? self_path : gate_path);
	}
	snprintf(path, sizeof(path), "/proc/%d/environ", (int)pid);
	buf_init(&p->env, HOSTD_ENV_MAX);
	if (fileio_read(path, HOSTD_ENV_MAX, &p->env, e) != 0)
		return bg_fail(e, BG_ERR_PERM, "cannot read the gate's environment");
	/* the same processes still (no pid reuse while we looked) */
	if (login_proc_stat(pid, &again_ppid, &again_start) != 0 || again_start != p->gate.start ||
	    again_ppid != p->gate.ppid)
		return bg_fail(e, BG_ERR_PERM, "the requesting process changed");
	if (login_proc_stat(p->sshd.pid, &again_ppid, &again_start) != 0 ||
	    again_start != p->sshd.start || again_ppid != p->monitor.pid)
		return bg_fail(e, BG_ERR_PERM, "the session's sshd changed");
	return 0;
}

/* Receive the gate's fds 0-2 on c; 0 or -1. */
static int
recv_fds(int c, int fds[3])
{
	char byte = 0;

	if (login_recv_fds(c, &byte, 1, fds, 3) != 0)
		return -1;
	if (byte != LOGIN_MAGIC) {
		for (int i = 0; i < 3; i++)
			close(fds[i]);
		return -1;
	}
	return 0;
}

/*
 * One request, in a child of hostd: bind it to its session, take the
 * account's ids (root kept as real and saved uid), run the gate.
 */
static int
serve_one(const hostd_opts *o, int c, const char *cgroup_base, gate_shared *shared,
    double accepted, const hostd_acct *acct)
{
	struct passwd pwa;
	struct ucred cr;
	socklen_t cl = sizeof(cr);
	int fds[3], status, dup = 0;
	struct passwd *pw;
	hostd_peer p;
	gate_env env;
	bg_error e;
	char user[64];

	memset(&p, 0, sizeof(p));
	memset(&env, 0, sizeof(env));
	bg_error_clear(&e);
	{
		/* a client that connects and sends nothing does not hold a root
		 * process: the gate sends its descriptors at once */
		struct timeval tv = { HOSTD_HELLO_TIMEOUT_S, 0 };

		if (setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0)
			return 1;
	}
	if (getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cr, &cl) != 0 || recv_fds(c, fds) != 0)
		return 1;
	{
		struct timeval none = { 0, 0 };

		(void)setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &none, sizeof(none));
	}
	for (int i = 0; i < 3; i++)
		if (dup2(fds[i], i) != i)
			return 1;
	for (int i = 0; i < 3; i++)
		if (fds[i] > 2)
			close(fds[i]);
	if (acct != NULL && acct->uid == cr.uid) {
		/* hostd looked the account up (accts_get) */
		memset(&pwa, 0, sizeof(pwa));
		pwa.pw_name = (char *)acct->name;
		pwa.pw_uid = acct->uid;
		pwa.pw_gid = acct->gid;
		pwa.pw_shell = (char *)acct->shell;
		pwa.pw_dir = "/";
		pw = &pwa;
	} else
		acct = NULL;
	if (cr.uid == 0 || (acct == NULL && (pw = getpwuid(cr.uid)) == NULL)) {
		fprintf(stderr, "breakglass: refused: the gate serves hotfix accounts only\n");
		syslog(LOG_AUTHPRIV | LOG_WARNING, "breakglass hostd: uid %u refused", (unsigned)cr.uid);
		(void)login_send_status(c, 1);
		return 1;
	}
	snprintf(user, sizeof(user), "%s", pw->pw_name);
	env.config = o->config;
	env.user = user;
	env.uid = pw->pw_uid;
	env.gid = pw->pw_gid;
	if (bind_session(cr.pid, cr.uid, pw, &p, &e) != 0) {
		/*
		 * Not a gate of an sshd session: any process of the account
		 * can connect, and the descriptors it handed over are its
		 * own - a pipe already full whose read end it handed over
		 * too would take the refusal written to it and never give
		 * it back, holding this root process (one of the account's
		 * HOSTD_MAX_PER_ACCOUNT) for good.  They are made
		 * non-blocking (their owner's, so theirs to lose): a write
		 * that would wait is dropped.  The refusal is recorded
		 * before it is written (gate_refuse).  (A timer interrupting
		 * the write was the first fix: its signal could as well
		 * interrupt the log's lock, and a failed append fails the
		 * host log closed for every account.)
		 */
		for (int i = 0; i < 3; i++) {
			int fl = fcntl(i, F_GETFL);

			if (fl < 0 || fcntl(i, F_SETFL, fl | O_NONBLOCK) != 0)
				return 1;
		}
		env.refuse = e.msg;
	} else {
		const char *ev = p.env.data ? p.env.data : "";
		struct stat ts;

		env.original_command = hostd_env_get(ev, p.env.len, "SSH_ORIGINAL_COMMAND", &dup);
		env.user_auth = hostd_env_get(ev, p.env.len, "SSH_USER_AUTH", &dup);
		env.term = hostd_env_get(ev, p.env.len, "TERM", &dup);
		if (dup)
			env.refuse = "the gate's environment names a variable twice";
		/*
		 * The session's terminal (the pty sshd allocated) is the
		 * account's: any other process of the account could open it to
		 * read what the responder types, or draw on their screen
		 * unrecorded.  It becomes root's, 0600: what has it open keeps
		 * it; sshd gives it back when the session ends.
		 */
		if (isatty(0) && fstat(0, &ts) == 0 && S_ISCHR(ts.st_mode) &&
		    ts.st_uid == pw->pw_uid && (fchown(0, 0, ts.st_gid) != 0 ||
		    fchmod(0, 0600) != 0))
			env.refuse = "the session's terminal cannot be made private";
	}
	/* the account's groups and effective ids; root stays real and saved */
	if ((acct != NULL ? setgroups((size_t)acct->ngroups, acct->groups) :
	    initgroups(user, pw->pw_gid)) != 0 || setresgid(0, pw->pw_gid, 0) != 0 ||
	    setresuid(0, pw->pw_uid, 0) != 0) {
		fprintf(stderr, "breakglass: refused: the supervisor cannot take the account's ids\n");
		(void)login_send_status(c, 1);
		return 1;
	}
	env.client = c;
	env.conn_pid = p.monitor.pid;
	env.conn_start = p.monitor.start;
	env.cgroup_base = cgroup_base;
	env.accepted = accepted;
	env.shared = shared;
	/* gate_main answers the gate itself: the status goes out before the
	 * request's last records are made durable (gate.c, gate_answer) */
	status = gate_main(&env);
	buf_release(&p.env);
	return status;
}

/*
 * Database grant roles a crash left (gate_sql_repair), removed in a child
 * of hostd so a slow database never holds up serving; at the start and
 * every HOSTD_DB_REPAIR_S.
 */
static void
repair_databases(const hostd_opts *o, int listener)
{
	bg_error e;
	int removed = 0;

	if (fork() != 0)
		return;
	close(listener);
	if (spare.sock >= 0)
		close(spare.sock);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	alarm(60);
	bg_error_clear(&e);
	if (gate_sql_repair(o->config, &removed, &e) != 0)
		syslog(LOG_AUTHPRIV | LOG_ERR, "breakglass hostd: database grant roles not "
		    "repaired: %s", e.msg);
	else if (removed > 0)
		syslog(LOG_AUTHPRIV | LOG_WARNING, "breakglass hostd: removed %d leftover database "
		    "grant role(s)", removed);
	_exit(0);
}

/* A child of hostd as it starts serving: default signals, a session of
 * its own (the account's terminal never signals it). */
static void
child_start(int listener)
{
	struct sigaction d;

	close(listener);
	memset(&d, 0, sizeof(d));
	d.sa_handler = SIG_DFL;
	sigaction(SIGTERM, &d, NULL);
	sigaction(SIGINT, &d, NULL);
	sigaction(SIGCHLD, &d, NULL);
	setsid();
}

/* What the spare is handed with a connection. */
typedef struct spare_msg {
	double accepted;     /* when hostd accepted it */
	int has_acct;        /* acct holds the peer's account (accts_get) */
	hostd_acct acct;
} spare_msg;

/* The accepted connection c, when it was accepted and the account, to the spare. */
static int
spare_hand(int c, double accepted, const hostd_acct *a)
{
	spare_msg sm;

	memset(&sm, 0, sizeof(sm));
	sm.accepted = accepted;
	if (a != NULL) {
		sm.has_acct = 1;
		sm.acct = *a;
	}
	return login_send_fds(spare.sock, &sm, sizeof(sm), &c, 1);
}

/* In the spare: wait for a connection (-1: hostd ended or said nothing). */
static int
spare_wait(int s, spare_msg *sm)
{
	int c;

	return login_recv_fds(s, sm, sizeof(*sm), &c, 1) == 0 ? c : -1;
}

static void
spare_make(const hostd_opts *o, int listener, const char *cgbase, gate_shared *shared)
{
	int sp[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) != 0)
		return;
	if ((pid = fork()) == 0) {
		spare_msg sm;
		int c;

		close(sp[0]);
		child_start(listener);
		if ((c = spare_wait(sp[1], &sm)) < 0)
			_exit(0);
		close(sp[1]);
		_exit(serve_one(o, c, cgbase, shared, sm.accepted, sm.has_acct ? &sm.acct : NULL) &
		    0xff);
	}
	close(sp[1]);
	if (pid < 0) {
		close(sp[0]);
		return;
	}
	spare.pid = pid;
	spare.sock = sp[0];
}

int
hostd_serve(const hostd_opts *o, bg_error *e)
{
	double last_repair;
	struct sockaddr_un sa;
	struct sigaction sv;
	struct stat st;
	buf cgself, cgbase;
	char cgname[64];
	gate_shared *shared;
	int l;

	if (geteuid() != 0 || getuid() != 0)
		return bg_fail(e, BG_ERR_PERM, "hostd must run as root");
	if (strlen(o->socket) >= sizeof(sa.sun_path) || o->socket[0] != '/')
		return bg_fail(e, BG_ERR_USAGE, "hostd: the socket must be an absolute path under "
		    "%zu bytes", sizeof(sa.sun_path));
	find_gate();
	/* the configuration names the CA and the host log: root's alone */
	if (stat(o->config, &st) != 0)
		return bg_fail(e, BG_ERR_NOTFOUND, "hostd: cannot read %s: %s", o->config,
		    strerror(errno));
	if (st.st_uid != 0 || (st.st_mode & 022) || !S_ISREG(st.st_mode))
		return bg_fail(e, BG_ERR_PERM, "hostd: %s must be a root-owned file no one else "
		    "can write", o->config);
	/* one page every request's process sees: the host log's state */
	shared = mmap(NULL, sizeof(*shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
	    -1, 0);
	if (shared == MAP_FAILED)
		return bg_fail(e, BG_ERR_NOMEM, "hostd: cannot map its shared state");
	memset(shared, 0, sizeof(*shared));
	/* a certificate, a consent and the log's head checked by one
	 * request need not be checked again by the next */
	sigmemo_use(&shared->memo);
	/* every request in a cgroup of its own, below one of hostd's: without
	 * containment nothing is served */
	buf_init(&cgself, 4096);
	buf_init(&cgbase, 4096);
	snprintf(cgname, sizeof(cgname), "bg-hostd-%d", (int)getpid());
	if (cgroup_self(&cgself, e) != 0 || cgroup_create(cgself.data, cgname, &cgbase, e) != 0) {
		char m[sizeof(e->msg)];

		snprintf(m, sizeof(m), "%s", e->msg);
		buf_release(&cgself);
		buf_release(&cgbase);
		return bg_fail(e, BG_ERR_IO, "hostd: cannot contain requests: %s", m);
	}
	buf_release(&cgself);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, o->socket, strlen(o->socket));
	if ((l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		cgroup_remove(cgbase.data, NULL);
		buf_release(&cgbase);
		return bg_fail(e, BG_ERR_IO, "hostd: socket: %s", strerror(errno));
	}
	if (lstat(o->socket, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(o->socket);
	if (bind(l, (struct sockaddr *)&sa, sizeof(sa)) != 0 || chmod(o->socket, 0666) != 0 ||
	    listen(l, 64) != 0) {
		int err = errno;

		close(l);
		cgroup_remove(cgbase.data, NULL);
		buf_release(&cgbase);
		return bg_fail(e, BG_ERR_IO, "hostd: cannot listen on %s: %s", o->socket,
		    strerror(err));
	}
	if (o->pidfile != NULL) {
		char pb[32];
		int n = snprintf(pb, sizeof(pb), "%d\n", (int)getpid());

		int r = fileio_write_atomic(o->pidfile, pb, (size_t)n, 0644, 1, e);

		if (r != 0) {
			close(l);
			unlink(o->socket);
			cgroup_remove(cgbase.data, NULL);
			buf_release(&cgbase);
			return r;
		}
	}
	memset(&sv, 0, sizeof(sv));
	sv.sa_handler = on_stop;
	sigaction(SIGTERM, &sv, NULL);
	sigaction(SIGINT, &sv, NULL);
	sv.sa_handler = SIG_DFL; /* children are reaped (and counted) in the loop */
	sigaction(SIGCHLD, &sv, NULL);
	signal(SIGPIPE, SIG_IGN);
	openlog("breakglass-hostd", LOG_PID, LOG_AUTHPRIV);
	{
		/* the name service's modules (nsswitch.conf: systemd's, for one)
		 * are loaded once here, not again by every request's initgroups */
		gid_t gs[64];
		int ng = 64;

		(void)getpwuid(0);
		(void)getgrgid(0);
		(void)getgrouplist("root", 0, gs, &ng);
	}
	gate_preload(o->config);
	if (login_proc_read(getpid(), &hostd_self) != 0)
		memset(&hostd_self, 0, sizeof(hostd_self));
	accts.usable = accts_nss_files_only();
	{
		/* the secret scanner's database, which redacts every request's
		 * description, is loaded here once, not again by every request */
		buf none;

		buf_init(&none, 64);
		(void)scan_redact("", 0, &none, NULL);
		buf_release(&none);
	}
	syslog(LOG_AUTHPRIV | LOG_INFO, "breakglass hostd: serving %s", o->socket);
	repair_databases(o, l);
	last_repair = utc_mono();
	while (!hostd_stop) {
		struct pollfd pf = { .fd = l, .events = POLLIN };
		int c, slot;
		double accepted;
		uid_t owner;
		pid_t pid;
		const hostd_acct *acct;

		if (utc_mono() - last_repair >= HOSTD_DB_REPAIR_S) {
			repair_databases(o, l);
			last_repair = utc_mono();
		}

		reap_children(); /* the repair's children too, when idle */
		if (spare.pid == 0)
			spare_make(o, l, cgbase.data, shared);
		if (poll(&pf, 1, 500) <= 0)
			continue;
		if ((c = accept4(l, NULL, NULL, SOCK_CLOEXEC)) < 0)
			continue;
		accepted = utc_mono();
		{
			/* an account that opens connections without end holds no
			 * more than HOSTD_MAX_PER_ACCOUNT root processes */
			struct ucred cr;
			socklen_t cl = sizeof(cr);

			if (getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cr, &cl) != 0 ||
			    (slot = child_slot(cr.uid)) < 0) {
				(void)login_send_status(c, LOGIN_STATUS_BUSY);
				syslog(LOG_AUTHPRIV | LOG_WARNING, "breakglass hostd: uid %u has %d requests "
				    "open: refused", (unsigned)cr.uid, HOSTD_MAX_PER_ACCOUNT);
				close(c);
				continue;
			}
			owner = cr.uid;
		}
		acct = accts_get(owner);
		if (spare.pid > 0 && spare_hand(c, accepted, acct) == 0) {
			pid = spare.pid;
			spare_drop();
		} else {
			/* no spare, or one that is gone: a child of its own */
			if (spare.pid > 0)
				kill(spare.pid, SIGKILL);
			spare_drop();
			if ((pid = fork()) == 0) {
				child_start(l);
				_exit(serve_one(o, c, cgbase.data, shared, accepted, acct) & 0xff);
			}
		}
		if (pid > 0) {
			children[slot].pid = pid;
			children[slot].uid = owner;
		}
		close(c);
	}
	close(l);
	spare_drop();
	unlink(o->socket);
	/* the supervisor ends: so does everything it started (fail closed) */
	cgroup_remove(cgbase.data, NULL);
	buf_release(&cgbase);
	if (o->pidfile != NULL)
		unlink(o->pidfile);
	closelog();
	return 0;
}
