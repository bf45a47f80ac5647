/*
 * hostd.c - the host supervisor (see hostd.h): the socket, the binding of
 * a request to the sshd session that authenticated it, the ids a request
 * is served with, and the gate's client side.
 */
#include "hostd.h"
#include "gate.h"
#include "buf.h"
#include "cgroup.h"
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
#include <unistd.h>

#define HOSTD_MAGIC 'G'
#define HOSTD_ENV_MAX (256u * 1024)
#define HOSTD_HELLO_TIMEOUT_S 10
/* how often leftover database grant roles are looked for */
#define HOSTD_DB_REPAIR_S 30
/* the status hostd sends when it serves no more of the account's requests
 * at once (a status a request never has: statuses are 0..255) */
#define HOSTD_STATUS_BUSY 0x7ffffe01
#define HOSTD_MAX_CHILDREN 1024

/* hostd's children and whom they serve: the per-account cap */
static struct { pid_t pid; uid_t uid; } children[HOSTD_MAX_CHILDREN];

static void
reap_children(void)
{
	pid_t p;

	while ((p = waitpid(-1, NULL, WNOHANG)) > 0)
		for (size_t i = 0; i < HOSTD_MAX_CHILDREN; i++)
			if (children[i].pid == p) {
				children[i].pid = 0;
				break;
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
static volatile sig_atomic_t client_winch, client_int;

static void
on_client_winch(int sig)
{
	if (sig == SIGINT)
		client_int = 1;
	else
		client_winch = 1;
}

static void
on_stop(int sig)
{
	(void)sig;
	hostd_stop = 1;
}

/* A process as /proc shows it: parent, start time (clock ticks since
 * boot), real uid and the file it runs. */
typedef struct proc_info {
	pid_t pid, ppid;
	unsigned long long start;
	uid_t uid[4];   /* real, effective, saved, filesystem */
	dev_t exe_dev;
	ino_t exe_ino;
} proc_info;

int
hostd_parse_stat(const char *text, int *ppid, unsigned long long *start)
{
	const char *p;
	char *end;
	int field;

	/* PID (NAME) STATE PPID ...: the name may hold anything, ')' included,
	 * so the fields follow the last ')' */
	if ((p = strrchr(text, ')')) == NULL || p[1] != ' ')
		return BG_ERR_INVALID;
	for (field = 2, p++; *p && field < 22; ) {
		if (*p != ' ')
			return BG_ERR_INVALID;
		p++;
		field++;
		if (field == 4 || field == 22) {
			unsigned long long v;

			if (*p < '0' || *p > '9')
				return BG_ERR_INVALID;
			errno = 0;
			v = strtoull(p, &end, 10);
			if (errno != 0 || (*end != ' ' && *end != '\n' && *end != '\0'))
				return BG_ERR_INVALID;
			if (field == 4) {
				if (v == 0 || v > 0x3fffffff)
					return BG_ERR_INVALID;
				*ppid = (int)v;
			} else
				*start = v;
			p = end;
			continue;
		}
		while (*p && *p != ' ')
			p++;
	}
	return field == 22 ? 0 : BG_ERR_INVALID;
}

static int
proc_info_read(pid_t pid, proc_info *pi)
{
	char path[64], text[4096];
	unsigned long long start = 0;
	int ppid = 0, fd, n;
	ssize_t got;
	struct stat st;
	FILE *f;
	char line[256];

	memset(pi, 0, sizeof(*pi));
	pi->pid = pid;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return BG_ERR_NOTFOUND;
	got = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (got <= 0)
		return BG_ERR_IO;
	text[got] = '\0';
	if (hostd_parse_stat(text, &ppid, &start) != 0)
		return BG_ERR_INVALID;
	pi->ppid = ppid;
	pi->start = start;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((f = fopen(path, "re")) == NULL)
		return BG_ERR_NOTFOUND;
	n = 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		unsigned a, b, c, d;

		if (sscanf(line, "Uid: %u %u %u %u", &a, &b, &c, &d) == 4) {
			pi->uid[0] = a;
			pi->uid[1] = b;
			pi->uid[2] = c;
			pi->uid[3] = d;
			n = 1;
		}
	}
	fclose(f);
	if (!n)
		return BG_ERR_INVALID;
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	if (stat(path, &st) != 0)
		return BG_ERR_NOTFOUND;
	pi->exe_dev = st.st_dev;
	pi->exe_ino = st.st_ino;
	return 0;
}

static int
proc_all_uids(const proc_info *pi, uid_t u)
{
	return pi->uid[0] == u && pi->uid[1] == u && pi->uid[2] == u && pi->uid[3] == u;
}

static int
proc_runs(const proc_info *pi, const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && st.st_dev == pi->exe_dev && st.st_ino == pi->exe_ino;
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

typedef struct hostd_peer {
	proc_info gate, shell, sshd, monitor;
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
	proc_info self, again;
	const proc_info *s;
	char path[64];

	if (proc_info_read(getpid(), &self) != 0)
		return bg_fail(e, BG_ERR_IO, "the supervisor cannot read its own process");
	if (proc_info_read(pid, &p->gate) != 0)
		return bg_fail(e, BG_ERR_PERM, "the requesting process is gone");
	if (p->gate.exe_dev != self.exe_dev || p->gate.exe_ino != self.exe_ino)
		return bg_fail(e, BG_ERR_PERM, "the request did not come from the binary hostd runs "
		    "(after an upgrade of breakglass, restart hostd)");
	if (!proc_all_uids(&p->gate, uid))
		return bg_fail(e, BG_ERR_PERM, "the gate does not run as the account alone");
	if (proc_info_read(p->gate.ppid, &p->shell) != 0)
		return bg_fail(e, BG_ERR_PERM, "the gate's parent is gone");
	s = &p->shell;
	if (!proc_runs(s, HOSTD_SSHD) && pw->pw_shell != NULL && pw->pw_shell[0] == '/' &&
	    proc_runs(s, pw->pw_shell) && proc_all_uids(s, uid)) {
		p->has_shell = 1;
		if (proc_info_read(s->ppid, &p->sshd) != 0)
			return bg_fail(e, BG_ERR_PERM, "the login shell's parent is gone");
	} else
		p->sshd = p->shell;
	if (!proc_runs(&p->sshd, HOSTD_SSHD) || !proc_all_uids(&p->sshd, uid))
		return bg_fail(e, BG_ERR_PERM, "the gate was not started by sshd for this login "
		    "(run it only as the forced command)");
	if (proc_info_read(p->sshd.ppid, &p->monitor) != 0 || !proc_runs(&p->monitor, HOSTD_SSHD) ||
	    !proc_all_uids(&p->monitor, 0))
		return bg_fail(e, BG_ERR_PERM, "the gate's sshd is not a session of this host's sshd");
	snprintf(path, sizeof(path), "/proc/%d/environ", (int)pid);
	buf_init(&p->env, HOSTD_ENV_MAX);
	if (fileio_read(path, HOSTD_ENV_MAX, &p->env, e) != 0)
		return bg_fail(e, BG_ERR_PERM, "cannot read the gate's environment");
	/* the same processes still (no pid reuse while we looked) */
	if (proc_info_read(pid, &again) != 0 || again.start != p->gate.start ||
	    again.ppid != p->gate.ppid)
		return bg_fail(e, BG_ERR_PERM, "the requesting process changed");
	if (proc_info_read(p->sshd.pid, &again) != 0 || again.start != p->sshd.start ||
	    again.ppid != p->monitor.pid)
		return bg_fail(e, BG_ERR_PERM, "the session's sshd changed");
	return 0;
}

/* The one-byte message that carries the gate's three fds. */
typedef union fd_space {
	struct cmsghdr h;
	char space[CMSG_SPACE(3 * sizeof(int))];
} fd_space;

static void
fd_msg_init(struct msghdr *m, struct iovec *iov, char *byte, fd_space *u)
{
	memset(m, 0, sizeof(*m));
	memset(u, 0, sizeof(*u));
	iov->iov_base = byte;
	iov->iov_len = 1;
	m->msg_iov = iov;
	m->msg_iovlen = 1;
	m->msg_control = u->space;
	m->msg_controllen = sizeof(u->space);
}

/* Receive the gate's fds 0-2 on c; 0 or -1. */
static int
recv_fds(int c, int fds[3])
{
	struct msghdr m;
	struct iovec iov;
	char byte = 0;
	fd_space u;
	struct cmsghdr *cm;
	ssize_t got;

	fd_msg_init(&m, &iov, &byte, &u);
	do
		got = recvmsg(c, &m, MSG_CMSG_CLOEXEC);
	while (got < 0 && errno == EINTR);
	if (got != 1 || byte != HOSTD_MAGIC || (m.msg_flags & (MSG_CTRUNC | MSG_TRUNC)))
		return -1;
	cm = CMSG_FIRSTHDR(&m);
	if (cm == NULL || cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS ||
	    cm->cmsg_len != CMSG_LEN(3 * sizeof(int)))
		return -1;
	memcpy(fds, CMSG_DATA(cm), 3 * sizeof(int));
	return 0;
}

static void
send_status(int c, int status)
{
	unsigned char b[4];

	b[0] = (unsigned char)(status >> 24);
	b[1] = (unsigned char)(status >> 16);
	b[2] = (unsigned char)(status >> 8);
	b[3] = (unsigned char)status;
	(void)fileio_write_full(c, b, 4);
}

/*
 * One request, in a child of hostd: bind it to its session, take the
 * account's ids (root kept as real and saved uid), run the gate.
 */
static int
serve_one(const hostd_opts *o, int c, const char *cgroup_base, gate_shared *shared)
{
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
	if (cr.uid == 0 || (pw = getpwuid(cr.uid)) == NULL) {
		fprintf(stderr, "breakglass: refused: the gate serves hotfix accounts only\n");
		syslog(LOG_AUTHPRIV | LOG_WARNING, "breakglass hostd: uid %u refused", (unsigned)cr.uid);
		send_status(c, 1);
		return 1;
	}
	snprintf(user, sizeof(user), "%s", pw->pw_name);
	env.config = o->config;
	env.user = user;
	env.uid = pw->pw_uid;
	env.gid = pw->pw_gid;
	if (bind_session(cr.pid, cr.uid, pw, &p, &e) != 0) {
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
	if (initgroups(user, pw->pw_gid) != 0 || setresgid(0, pw->pw_gid, 0) != 0 ||
	    setresuid(0, pw->pw_uid, 0) != 0) {
		fprintf(stderr, "breakglass: refused: the supervisor cannot take the account's ids\n");
		send_status(c, 1);
		return 1;
	}
	env.client = c;
	env.conn_pid = p.monitor.pid;
	env.conn_start = p.monitor.start;
	env.cgroup_base = cgroup_base;
	env.shared = shared;
	status = gate_main(&env);
	send_status(c, status);
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

static int
b64_ok(const char *s)
{
	size_t n = strlen(s);

	return n >= 16 && n <= 16384 &&
	    strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") == n;
}

/* Remove the records of connections that are gone (pid gone or reused). */
static void
prune_spool(int dfd)
{
	DIR *d;
	struct dirent *de;
	int fd2 = dup(dfd);

	if (fd2 < 0 || (d = fdopendir(fd2)) == NULL) {
		if (fd2 >= 0)
			close(fd2);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		long pid;
		unsigned long long start;
		char tail;
		proc_info pi;

		if (de->d_name[0] == '.' ||
		    sscanf(de->d_name, GATE_AUTH_SPOOL_NAME "%c", &pid, &start, &tail) != 2)
			continue;
		if (pid <= 0 || pid > 0x3fffffff || proc_info_read((pid_t)pid, &pi) != 0 ||
		    pi.start != start)
			(void)unlinkat(dfd, de->d_name, 0);
	}
	closedir(d);
}

int
hostd_auth_record(const char *spool, const char *user, const char *cert_b64, bg_error *e)
{
	proc_info mon;
	struct stat st;
	char name[64];
	buf have;
	int dfd, fd, r = 0, n = 0, dup = 0;

	if (geteuid() != 0)
		return bg_fail(e, BG_ERR_PERM, "host principals runs as root (sshd's "
		    "AuthorizedPrincipalsCommandUser root)");
	if (!text_is_ident(user, 32) || !b64_ok(cert_b64))
		return bg_fail(e, BG_ERR_INVALID, "host principals: expected USER and a base64 "
		    "certificate (sshd's %%u %%k)");
	if (spool[0] != '/')
		return bg_fail(e, BG_ERR_USAGE, "host principals: the spool must be an absolute path");
	if (mkdir(spool, 0700) != 0 && errno != EEXIST)
		return bg_fail(e, BG_ERR_IO, "cannot create the auth spool %s: %s", spool,
		    strerror(errno));
	if ((dfd = open(spool, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return bg_fail(e, BG_ERR_IO, "cannot open the auth spool %s: %s", spool,
		    strerror(errno));
	if (fstat(dfd, &st) != 0 || st.st_uid != 0 || (st.st_mode & 077) != 0) {
		close(dfd);
		return bg_fail(e, BG_ERR_PERM, "the auth spool %s must be root's, mode 0700", spool);
	}
	if (proc_info_read(getppid(), &mon) != 0 || !proc_all_uids(&mon, 0)) {
		close(dfd);
		return bg_fail(e, BG_ERR_PERM, "host principals must be run by sshd (as root)");
	}
	snprintf(name, sizeof(name), GATE_AUTH_SPOOL_NAME, (long)mon.pid, mon.start);
	if ((fd = openat(dfd, name, O_RDWR | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
	    0600)) < 0) {
		close(dfd);
		return bg_fail(e, BG_ERR_IO, "cannot write the auth spool: %s", strerror(errno));
	}
	/* one line per distinct certificate offered on this connection */
	buf_init(&have, 64 * 1024);
	{
		char chunk[8192];
		ssize_t got;

		while ((got = read(fd, chunk, sizeof(chunk))) > 0)
			if (buf_append(&have, chunk, (size_t)got) != 0)
				break;
	}
	for (const char *p = buf_cstr(&have); *p; n++) {
		size_t l = strcspn(p, "\n");

		if (l == strlen(cert_b64) && strncmp(p, cert_b64, l) == 0)
			dup = 1;
		if (l == sizeof(GATE_AUTH_OVERFLOW) - 1 && strncmp(p, GATE_AUTH_OVERFLOW, l) == 0)
			dup = 1; /* already refused as a whole */
		p += l + (p[l] == '\n');
	}
	if (!dup) {
		const char *line = n >= GATE_AUTH_MAX_CERTS ? GATE_AUTH_OVERFLOW : cert_b64;

		/* no fsync: the record is read back by this connection's own
		 * request, and no connection outlives a crash of the machine;
		 * a sync here cost every login a journal commit */
		if (fileio_write_full(fd, line, strlen(line)) != 0 || fileio_write_full(fd, "\n", 1) != 0)
			r = bg_fail(e, BG_ERR_IO, "cannot write the auth spool: %s", strerror(errno));
	}
	buf_release(&have);
	close(fd);
	prune_spool(dfd);
	close(dfd);
	return r;
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
	syslog(LOG_AUTHPRIV | LOG_INFO, "breakglass hostd: serving %s", o->socket);
	repair_databases(o, l);
	last_repair = utc_mono();
	while (!hostd_stop) {
		struct pollfd pf = { .fd = l, .events = POLLIN };
		int c, slot;
		uid_t owner;
		pid_t pid;

		if (utc_mono() - last_repair >= HOSTD_DB_REPAIR_S) {
			repair_databases(o, l);
			last_repair = utc_mono();
		}

		reap_children(); /* the repair's children too, when idle */
		if (poll(&pf, 1, 500) <= 0)
			continue;
		if ((c = accept4(l, NULL, NULL, SOCK_CLOEXEC)) < 0)
			continue;
		{
			/* an account that opens connections without end holds no
			 * more than HOSTD_MAX_PER_ACCOUNT root processes */
			struct ucred cr;
			socklen_t cl = sizeof(cr);

			if (getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cr, &cl) != 0 ||
			    (slot = child_slot(cr.uid)) < 0) {
				send_status(c, HOSTD_STATUS_BUSY);
				syslog(LOG_AUTHPRIV | LOG_WARNING, "breakglass hostd: uid %u has %d requests "
				    "open: refused", (unsigned)cr.uid, HOSTD_MAX_PER_ACCOUNT);
				close(c);
				continue;
			}
			owner = cr.uid;
		}
		if ((pid = fork()) == 0) {
			struct sigaction d;

			close(l);
			memset(&d, 0, sizeof(d));
			d.sa_handler = SIG_DFL;
			sigaction(SIGTERM, &d, NULL);
			sigaction(SIGINT, &d, NULL);
			sigaction(SIGCHLD, &d, NULL);
			setsid(); /* the account's terminal never signals us */
			_exit(serve_one(o, c, cgbase.data, shared) & 0xff);
		}
		if (pid > 0) {
			children[slot].pid = pid;
			children[slot].uid = owner;
		}
		close(c);
	}
	close(l);
	unlink(o->socket);
	/* the supervisor ends: so does everything it started (fail closed) */
	cgroup_remove(cgbase.data, NULL);
	buf_release(&cgbase);
	if (o->pidfile != NULL)
		unlink(o->pidfile);
	closelog();
	return 0;
}

int
hostd_request(const char *socket_path, int *status, bg_error *e)
{
	struct sockaddr_un sa;
	struct msghdr m;
	struct iovec iov;
	char byte = HOSTD_MAGIC;
	int fds[3] = { 0, 1, 2 }, c;
	fd_space u;
	struct cmsghdr *cm;
	unsigned char b[4];
	size_t have = 0;

	if (strlen(socket_path) >= sizeof(sa.sun_path))
		return bg_fail(e, BG_ERR_USAGE, "socket path too long");
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, socket_path, strlen(socket_path));
	if ((c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    connect(c, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		int err = errno;

		if (c >= 0)
			close(c);
		return bg_fail(e, BG_ERR_IO, "the host supervisor is not running (%s: %s); as root, "
		    "start it: systemctl start breakglass-hostd, or breakglass host setup --apply",
		    socket_path, strerror(err));
	}
	fd_msg_init(&m, &iov, &byte, &u);
	cm = CMSG_FIRSTHDR(&m);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(3 * sizeof(int));
	memcpy(CMSG_DATA(cm), fds, sizeof(fds));
	if (sendmsg(c, &m, MSG_NOSIGNAL) != 1) {
		int err = errno;

		/* hostd may have said why before closing: busy */
		if (recv(c, b, 4, MSG_DONTWAIT) == 4 && (((unsigned)b[0] << 24) | ((unsigned)b[1] << 16) |
		    ((unsigned)b[2] << 8) | b[3]) == HOSTD_STATUS_BUSY) {
			close(c);
			return bg_fail(e, BG_ERR_IO, "this account already has %d requests open on "
			    "this host: end some sessions, then try again", HOSTD_MAX_PER_ACCOUNT);
		}
		close(c);
		return bg_fail(e, BG_ERR_IO, "cannot hand the request to the host supervisor: %s",
		    strerror(err));
	}
	/* the terminal's size changes and Ctrl-C reach the gate (sshd's
	 * session): pass them on, one byte each; hostd reads the size from the
	 * terminal, and a request that does not handle Ctrl-C ends at it as
	 * it did when SIGINT killed this process */
	{
		struct sigaction sv;

		memset(&sv, 0, sizeof(sv));
		sv.sa_handler = on_client_winch;
		sigaction(SIGWINCH, &sv, NULL); /* no SA_RESTART: read returns EINTR */
		sigaction(SIGINT, &sv, NULL);
	}
	while (have < 4) {
		ssize_t got = read(c, b + have, 4 - have);

		if (got < 0 && errno == EINTR) {
			if (client_winch) {
				char w = GATE_CLIENT_WINCH;

				client_winch = 0;
				(void)send(c, &w, 1, MSG_NOSIGNAL | MSG_DONTWAIT);
			}
			if (client_int) {
				char w = GATE_CLIENT_INT;

				client_int = 0;
				(void)send(c, &w, 1, MSG_NOSIGNAL | MSG_DONTWAIT);
			}
			continue;
		}
		if (got <= 0) {
			close(c);
			return bg_fail(e, BG_ERR_IO, "the host supervisor ended the request without "
			    "a status");
		}
		have += (size_t)got;
	}
	close(c);
	*status = (int)(((unsigned)b[0] << 24) | ((unsigned)b[1] << 16) | ((unsigned)b[2] << 8) | b[3]);
	if (*status == HOSTD_STATUS_BUSY)
		return bg_fail(e, BG_ERR_IO, "this account already has %d requests open on this host: "
		    "end some sessions, then try again", HOSTD_MAX_PER_ACCOUNT);
	return 0;
}
