/*
 * login.c - what sshd runs at a login (see login.h): the principals
 * command's record of the offered certificate, the forced command's
 * hand-over to hostd, and the reading of /proc both sides share.
 *
 * libc and err.c only, no heap beyond stdio's: this file is linked into
 * breakglass-gate, whose start-up cost is paid twice by every request.
 */
#include "login.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

int
login_parse_stat(const char *text, int *ppid, unsigned long long *start)
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

/* /proc/PID/NAME whole into text (NUL-terminated); its length, or -1 */
static ssize_t
proc_text(pid_t pid, const char *name, char *text, size_t n)
{
	char path[64];
	ssize_t got, all = 0;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, name);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	while ((size_t)all < n - 1 && (got = read(fd, text + all, n - 1 - (size_t)all)) != 0) {
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			close(fd);
			return -1;
		}
		all += got;
	}
	close(fd);
	text[all] = '\0';
	return all;
}

int
login_proc_stat(pid_t pid, pid_t *ppid, unsigned long long *start)
{
	char text[4096];
	int p = 0;

	if (proc_text(pid, "stat", text, sizeof(text)) <= 0)
		return BG_ERR_NOTFOUND;
	if (login_parse_stat(text, &p, start) != 0)
		return BG_ERR_INVALID;
	*ppid = p;
	return 0;
}

int
login_proc_read(pid_t pid, login_proc *pi)
{
	char path[64], text[8192];
	const char *u;
	struct stat st;
	unsigned a, b, c, d;
	int r;

	memset(pi, 0, sizeof(*pi));
	pi->pid = pid;
	if ((r = login_proc_stat(pid, &pi->ppid, &pi->start)) != 0)
		return r;
	/* the Uid line of status (one read; no line is split: the whole file) */
	if (proc_text(pid, "status", text, sizeof(text)) <= 0)
		return BG_ERR_NOTFOUND;
	if ((u = strstr(text, "\nUid:")) == NULL ||
	    sscanf(u + 1, "Uid: %u %u %u %u", &a, &b, &c, &d) != 4)
		return BG_ERR_INVALID;
	pi->uid[0] = a;
	pi->uid[1] = b;
	pi->uid[2] = c;
	pi->uid[3] = d;
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	if (stat(path, &st) != 0)
		return BG_ERR_NOTFOUND;
	pi->exe_dev = st.st_dev;
	pi->exe_ino = st.st_ino;
	return 0;
}

int
login_proc_all_uids(const login_proc *pi, uid_t u)
{
	return pi->uid[0] == u && pi->uid[1] == u && pi->uid[2] == u && pi->uid[3] == u;
}

int
login_proc_runs(const login_proc *pi, const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && st.st_dev == pi->exe_dev && st.st_ino == pi->exe_ino;
}

/* room for the most descriptors one message carries */
typedef union fd_space {
	struct cmsghdr h;
	char space[CMSG_SPACE(LOGIN_MAX_FDS * sizeof(int))];
} fd_space;

int
login_send_fds(int sock, const void *data, size_t n, const int *fds, int nfds)
{
	struct msghdr m;
	struct iovec iov;
	fd_space u;
	struct cmsghdr *cm;
	ssize_t sent;

	if (nfds < 1 || nfds > LOGIN_MAX_FDS || n == 0)
		return -1;
	memset(&m, 0, sizeof(m));
	memset(&u, 0, sizeof(u));
	iov.iov_base = (void *)data;
	iov.iov_len = n;
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = u.space;
	m.msg_controllen = CMSG_SPACE((size_t)nfds * sizeof(int));
	cm = CMSG_FIRSTHDR(&m);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN((size_t)nfds * sizeof(int));
	memcpy(CMSG_DATA(cm), fds, (size_t)nfds * sizeof(int));
	do
		sent = sendmsg(sock, &m, MSG_NOSIGNAL);
	while (sent < 0 && errno == EINTR);
	return sent == (ssize_t)n ? 0 : -1;
}

int
login_recv_fds(int sock, void *data, size_t n, int *fds, int nfds)
{
	struct msghdr m;
	struct iovec iov;
	fd_space u;
	struct cmsghdr *cm;
	ssize_t got;
	int have = 0, ok;

	if (nfds < 1 || nfds > LOGIN_MAX_FDS || n == 0)
		return -1;
	memset(&m, 0, sizeof(m));
	memset(&u, 0, sizeof(u));
	iov.iov_base = data;
	iov.iov_len = n;
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = u.space;
	m.msg_controllen = sizeof(u.space);
	do
		got = recvmsg(sock, &m, MSG_CMSG_CLOEXEC);
	while (got < 0 && errno == EINTR);
	if (got < 0)
		return -1;
	/* whatever came is taken, and let go again unless it is exactly that */
	ok = got == (ssize_t)n && !(m.msg_flags & (MSG_CTRUNC | MSG_TRUNC));
	for (cm = CMSG_FIRSTHDR(&m); cm != NULL; cm = CMSG_NXTHDR(&m, cm)) {
		size_t k, nk;
		int f;

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS ||
		    cm->cmsg_len < CMSG_LEN(0)) {
			ok = 0;
			continue;
		}
		nk = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (k = 0; k < nk; k++) {
			memcpy(&f, CMSG_DATA(cm) + k * sizeof(int), sizeof(int));
			if (have < nfds)
				fds[have] = f;
			else
				close(f);
			have++;
		}
	}
	if (!ok || have != nfds) {
		for (int i = 0; i < have && i < nfds; i++)
			close(fds[i]);
		return -1;
	}
	return 0;
}

static volatile sig_atomic_t client_winch, client_int;

static void
on_client_winch(int sig)
{
	if (sig == SIGINT)
		client_int = 1;
	else
		client_winch = 1;
}

static int
write_full(int fd, const void *data, size_t len)
{
	const char *p = data;
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return BG_ERR_IO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static unsigned
be32(const unsigned char b[4])
{
	return ((unsigned)b[0] << 24) | ((unsigned)b[1] << 16) | ((unsigned)b[2] << 8) | b[3];
}

int
login_send_status(int c, int status)
{
	unsigned char b[4];
	size_t done = 0;

	b[0] = (unsigned char)((unsigned)status >> 24);
	b[1] = (unsigned char)((unsigned)status >> 16);
	b[2] = (unsigned char)((unsigned)status >> 8);
	b[3] = (unsigned char)status;
	while (done < 4) {
		ssize_t n = send(c, b + done, 4 - done, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		done += (size_t)n;
	}
	return 0;
}

int
login_request(const char *socket_path, int *status, bg_error *e)
{
	struct sockaddr_un sa;
	char byte = LOGIN_MAGIC;
	int fds[3] = { 0, 1, 2 }, c;
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
	if (login_send_fds(c, &byte, 1, fds, 3) != 0) {
		int err = errno;

		/* hostd may have said why before closing: busy */
		if (recv(c, b, 4, MSG_DONTWAIT) == 4 && be32(b) == LOGIN_STATUS_BUSY) {
			close(c);
			return bg_fail(e, BG_ERR_IO, "this account already has %d requests open on "
			    "this host: end some sessions, then try again", LOGIN_MAX_PER_ACCOUNT);
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
				char w = LOGIN_CLIENT_WINCH;

				client_winch = 0;
				(void)send(c, &w, 1, MSG_NOSIGNAL | MSG_DONTWAIT);
			}
			if (client_int) {
				char w = LOGIN_CLIENT_INT;

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
	*status = (int)be32(b);
	if (*status == LOGIN_STATUS_BUSY)
		return bg_fail(e, BG_ERR_IO, "this account already has %d requests open on this host: "
		    "end some sessions, then try again", LOGIN_MAX_PER_ACCOUNT);
	return 0;
}

/* An account name as text_is_ident(s, 32) accepts it, in ASCII. */
static int
account_ok(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		char c = s[i];
		int alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');

		if (i >= 32 || !(alnum || (i > 0 && (c == '.' || c == '_' || c == '-'))))
			return 0;
	}
	return i > 0;
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
		login_proc pi;

		if (de->d_name[0] == '.' ||
		    sscanf(de->d_name, GATE_AUTH_SPOOL_NAME "%c", &pid, &start, &tail) != 2)
			continue;
		if (pid <= 0 || pid > 0x3fffffff || login_proc_read((pid_t)pid, &pi) != 0 ||
		    pi.start != start)
			(void)unlinkat(dfd, de->d_name, 0);
	}
	closedir(d);
}

/* Read all of fd (at most max bytes, else BG_ERR_TOOLARGE) into a new
 * NUL-terminated string *out (the caller frees it). */
static int
read_all(int fd, size_t max, char **out, size_t *len)
{
	size_t cap = 8192, n = 0;
	char *p = malloc(cap + 1), *q;
	ssize_t got;

	*out = NULL;
	if (p == NULL)
		return BG_ERR_NOMEM;
	for (;;) {
		if (n == cap) {
			if (cap >= max) {
				free(p);
				return BG_ERR_TOOLARGE;
			}
			cap = cap * 2 > max ? max : cap * 2;
			if ((q = realloc(p, cap + 1)) == NULL) {
				free(p);
				return BG_ERR_NOMEM;
			}
			p = q;
		}
		got = read(fd, p + n, cap - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			free(p);
			return BG_ERR_IO;
		}
		if (got == 0)
			break;
		n += (size_t)got;
	}
	if (memchr(p, '\0', n) != NULL) {
		free(p);
		return BG_ERR_INVALID;
	}
	p[n] = '\0';
	*out = p;
	*len = n;
	return 0;
}

/* The certificate's record for this connection; 0 or an error with e set. */
static int
auth_record(const char *spool, const char *user, const char *cert_b64, bg_error *e)
{
	login_proc mon;
	struct stat st;
	char name[64], *have = NULL;
	size_t have_len = 0;
	int dfd, fd, r = 0, n = 0, dup = 0;

	if (geteuid() != 0)
		return bg_fail(e, BG_ERR_PERM, "host principals runs as root (sshd's "
		    "AuthorizedPrincipalsCommandUser root)");
	if (!account_ok(user) || !b64_ok(cert_b64))
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
	if (login_proc_read(getppid(), &mon) != 0 || !login_proc_all_uids(&mon, 0)) {
		close(dfd);
		return bg_fail(e, BG_ERR_PERM, "host principals must be run by sshd (as root)");
	}
	snprintf(name, sizeof(name), GATE_AUTH_SPOOL_NAME, (long)mon.pid, mon.start);
	if ((fd = openat(dfd, name, O_RDWR | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
	    0600)) < 0) {
		close(dfd);
		return bg_fail(e, BG_ERR_IO, "cannot write the auth spool: %s", strerror(errno));
	}
	/* one line per distinct certificate offered on this connection; a
	 * record that cannot be read whole refuses (GATE_AUTH_MAX_CERTS lines
	 * of at most 16 KiB fit) */
	if ((r = read_all(fd, (GATE_AUTH_MAX_CERTS + 1) * (16384 + 1), &have, &have_len)) != 0) {
		close(fd);
		close(dfd);
		return bg_fail(e, r, "cannot read the auth spool's record %s", name);
	}
	for (const char *p = have; *p; n++) {
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
		if (write_full(fd, line, strlen(line)) != 0 || write_full(fd, "\n", 1) != 0)
			r = bg_fail(e, BG_ERR_IO, "cannot write the auth spool: %s", strerror(errno));
	}
	free(have);
	close(fd);
	prune_spool(dfd);
	close(dfd);
	return r;
}

int
login_principals(const char *etc, const char *spool, const char *user,
    const char *cert_b64, int out, bg_error *e)
{
	char path[4096], *text = NULL;
	size_t len = 0;
	int r, fd;

	if ((r = auth_record(spool, user, cert_b64, e)) != 0)
		return r;
	if ((size_t)snprintf(path, sizeof(path), "%s/principals/%s", etc, user) >= sizeof(path))
		return bg_fail(e, BG_ERR_USAGE, "host principals: --etc is too long");
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0) {
		if (errno == ENOENT)
			return 0; /* no principals: none */
		return bg_fail(e, BG_ERR_IO, "cannot open '%s': %s", path, strerror(errno));
	}
	r = read_all(fd, LOGIN_PRINCIPALS_MAX, &text, &len);
	close(fd);
	if (r == BG_ERR_TOOLARGE)
		return bg_fail(e, r, "'%s' is larger than %u bytes", path, LOGIN_PRINCIPALS_MAX);
	if (r != 0)
		return bg_fail(e, r, "cannot read '%s'", path);
	if (len > 0 && write_full(out, text, len) != 0)
		r = bg_fail(e, BG_ERR_IO, "cannot write output: %s", strerror(errno));
	free(text);
	return r;
}
