/*
 * gate-collect.c - `ssh ACCOUNT@HOST collect [--profile NAME] [--app DIR]
 * < KEY`: a diagnostics bundle of the host, made within the grant.
 *
 * Only built-in profiles: the name is a word (no '/': a user's profile is
 * a file, and runs locally or as a runbook step, never here) that the
 * registered collector knows.  The per-incident key comes on standard
 * input (64 hex digits, as `collect --key` keeps it): the responder's
 * client made it and keeps it, so a bundle made here compares with one
 * made elsewhere under the same key, and the key is never in the bundle,
 * never in the request (the host log records the request, not stdin),
 * never on the host's disk; it lives in this request's memory and is
 * wiped when the bundle is made.  (A key the host made would have to
 * travel back to the client beside the bundle - the one thing a keyed
 * hash must not do.)  The host already holds every value the bundle
 * hashes, so the key tells the host nothing it did not know.
 *
 * The bundle is made in a child started like every other program of a
 * request (gate_fork and gate_child_start: the request's cgroup, the grant's Landlock
 * ruleset, every id the account's for good), which also drops the host
 * key and every descriptor but the scope's roots, its pipe and its
 * socket.  It reads only inside the grant's directories: each file is
 * opened by the serving process as the read verbs open them (root's
 * rights, openat2 beneath the grant's root: no link leads out; regular
 * files only, no foreign hard link) and passed to the child (SCM_RIGHTS),
 * so a root:adm log the grant names is collected as `cat` would show it;
 * the code tree is walked by the child itself (the account's rights, no
 * symlink on the way).  It starts only programs of the grant's commands
 * (the ruleset lets it execute nothing else); an item of the profile
 * outside all that is skipped and said on stderr.  The parent streams the bundle to
 * the user, ends the child when the grant ends, and records the request
 * with the bundle's SHA-256 and size.
 *
 * Under a db grant the bundle also has the database's facts (dbfacts.h),
 * read before the child starts through the supervisor's own connection
 * (db-postgres, as db-postgres-as; db-mariadb, as root by unix_socket) to
 * the database the grant names.
 */
#include "gate-int.h"
#include "dbfacts.h"
#include "fileio.h"
#include "snapshot.h"
#include "utc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#define KEY_HEX 64
#define KEY_WAIT_MS 10000
/* a code tree's manifest, at most */
#define GATE_COLLECT_TREE_MAX (128u * 1024 * 1024)

static gate_collect_fn collect_run_fn;
static gate_collect_known_fn collect_known_fn;

void
gate_collect_register(gate_collect_fn run, gate_collect_known_fn known)
{
	collect_run_fn = run;
	collect_known_fn = known;
}

/* ---- what the child may reach ---- */

static int
lim_may_read(void *ctx, const char *path)
{
	gate *g = ctx;
	size_t i;

	if (!scope_path_ok(path))
		return 0;
	for (i = 0; i < g->sc.n; i++) {
		size_t n = strlen(g->sc.r[i].path);

		if (strncmp(path, g->sc.r[i].path, n) == 0 && (path[n] == '\0' || path[n] == '/' ||
		    strcmp(g->sc.r[i].path, "/") == 0))
			return 1;
	}
	return 0;
}

/*
 * Files are opened by the serving process, as the read verbs open them
 * (gate_open_regular: with root's rights, beneath the grant's roots, a
 * regular file, no foreign hard link), and handed to the child over a
 * socket (SCM_RIGHTS): the child, with the account's ids, reads what the
 * grant approves - a root:adm log included - and nothing else.  One
 * request a message: the path; the answer: one byte, with the descriptor
 * or without it (refused).
 */
static int open_sock = -1;

static int
ask(int kind, const char *path)
{
	char msg[PATH_MAX + 1];
	struct msghdr m;
	struct iovec iv;
	char ok, cbuf[CMSG_SPACE(sizeof(int))];
	struct cmsghdr *cm;
	ssize_t n;
	size_t len = strlen(path);
	int fd = -1;

	if (open_sock < 0 || len >= PATH_MAX)
		return -1;
	msg[0] = (char)kind;
	memcpy(msg + 1, path, len);
	while ((n = send(open_sock, msg, len + 1, MSG_NOSIGNAL)) < 0 && errno == EINTR)
		;
	if (n != (ssize_t)len + 1)
		return -1;
	memset(&m, 0, sizeof(m));
	iv.iov_base = &ok;
	iv.iov_len = 1;
	m.msg_iov = &iv;
	m.msg_iovlen = 1;
	m.msg_control = cbuf;
	m.msg_controllen = sizeof(cbuf);
	while ((n = recvmsg(open_sock, &m, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR)
		;
	if (n != 1)
		return -1;
	for (cm = CMSG_FIRSTHDR(&m); cm != NULL; cm = CMSG_NXTHDR(&m, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
		    cm->cmsg_len == CMSG_LEN(sizeof(int)))
			memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	if (ok != 'y' && fd >= 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

static int
lim_open(void *ctx, const char *path)
{
	if (!lim_may_read(ctx, path))
		return -1;
	return ask('f', path);
}

/* The code tree: its manifest (snapshot_format) arrives in a memfd. */
static int
lim_tree(void *ctx, const char *path, snapshot *out)
{
	struct stat st;
	buf text;
	bg_error e;
	int fd, r;

	if (!lim_may_read(ctx, path) || (fd = ask('t', path)) < 0)
		return -1;
	if (fstat(fd, &st) != 0 || st.st_size <= 0 || st.st_size > (off_t)GATE_COLLECT_TREE_MAX) {
		close(fd);
		return -1;
	}
	buf_init(&text, GATE_COLLECT_TREE_MAX + 1);
	r = fileio_read_fd(fd, text.max - 1, &text, &e);
	close(fd);
	if (r == 0)
		r = snapshot_parse(text.data, text.len, out, &e);
	buf_release(&text);
	return r == 0 ? 0 : -1;
}

/* The serving process: the tree at path, walked as root beneath the
 * grant's roots (no symlink on the way, none followed), in a memfd. */
static int
tree_fd(gate *g, const char *path)
{
	const char *roots[1] = { path };
	snapshot s;
	snap_stats ss;
	bg_error e;
	buf text;
	int fd = -1, r;

	memset(&s, 0, sizeof(s));
	gate_priv_up(g);
	r = snapshot_take(NULL, roots, 1, NULL, g->ticket, g->grant, utc_now(), NULL, NULL, &s, &ss, &e);
	gate_priv_down(g);
	/* a manifest's id is of the store's alphabet: a measured one is not */
	snprintf(s.id, sizeof(s.id), "T-%lld-G-%lld", (long long)g->ticket, (long long)g->grant);
	buf_init(&text, GATE_COLLECT_TREE_MAX);
	if (r == 0 && (r = snapshot_format(&s, &text)) == 0 &&
	    (fd = memfd_create("breakglass-collect-tree", MFD_CLOEXEC)) >= 0 &&
	    (fileio_write_full(fd, text.data, text.len) != 0 || lseek(fd, 0, SEEK_SET) != 0)) {
		close(fd);
		fd = -1;
	}
	buf_release(&text);
	snapshot_release(&s);
	return fd;
}

/* In the serving process: answer one open request of the child. */
static int
serve_open(gate *g, int sock)
{
	char path[PATH_MAX + 1], ok = 'n', cbuf[CMSG_SPACE(sizeof(int))];
	struct msghdr m;
	struct iovec iv;
	struct stat st;
	bg_error e;
	ssize_t n;
	int fd = -1;

	/* MSG_TRUNC: the message's whole length, so a cut path is refused */
	if ((n = recv(sock, path, PATH_MAX, MSG_TRUNC)) <= 0)
		return n < 0 && errno == EINTR ? 0 : -1;
	if (n >= PATH_MAX)
		n = 0; /* too long: refused below */
	path[n] = '\0';
	if (n > 1 && memchr(path, '\0', (size_t)n) == NULL && lim_may_read(g, path + 1)) {
		if (path[0] == 'f')
			fd = gate_open_regular(g, path + 1, 0, &st, &e);
		else if (path[0] == 't')
			fd = tree_fd(g, path + 1);
		ok = fd >= 0 ? 'y' : 'n';
	}
	memset(&m, 0, sizeof(m));
	iv.iov_base = &ok;
	iv.iov_len = 1;
	m.msg_iov = &iv;
	m.msg_iovlen = 1;
	if (fd >= 0) {
		struct cmsghdr *cm;

		memset(cbuf, 0, sizeof(cbuf));
		m.msg_control = cbuf;
		m.msg_controllen = sizeof(cbuf);
		cm = CMSG_FIRSTHDR(&m);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	}
	while ((n = sendmsg(sock, &m, MSG_NOSIGNAL)) < 0 && errno == EINTR)
		;
	if (fd >= 0)
		close(fd);
	return n == 1 ? 0 : -1;
}

static int
lim_may_run(void *ctx, const char *program)
{
	gate *g = ctx;
	size_t i;

	for (i = 0; i < g->scope_doc.n; i++) {
		argv_list a;
		bg_error e;
		int eq;

		if (strcmp(g->scope_doc.items[i].key, "command") != 0 ||
		    argv_split(g->scope_doc.items[i].value, &a, &e) != 0)
			continue;
		eq = a.n > 0 && strcmp(a.v[0], program) == 0;
		argv_release(&a);
		if (eq)
			return 1;
	}
	return 0;
}

static void
lim_skipped(void *ctx, const char *item, const char *why)
{
	char safe[512];

	(void)ctx;
	gate_safe_name(item, safe, sizeof(safe));
	fprintf(stderr, "breakglass: collect: skipped %s: %s\n", safe, why);
}

/* ---- the request ---- */

/* The key from standard input: 64 hex digits and an optional newline,
 * within KEY_WAIT_MS.  0, or refuses (returns 1). */
static int
read_key(gate *g, unsigned char key[32])
{
	char in[KEY_HEX + 4];
	size_t n = 0, len;
	/* (in holds at most sizeof(in) - 1 bytes: always NUL-terminated) */
	int64_t deadline = (int64_t)(utc_mono() * 1000) + KEY_WAIT_MS;
	int r = 0;

	while (n < sizeof(in) - 1) {
		struct pollfd pf = { STDIN_FILENO, POLLIN, 0 };
		int64_t left = deadline - (int64_t)(utc_mono() * 1000);
		ssize_t got;

		if (left <= 0 || poll(&pf, 1, (int)left) <= 0) {
			r = -1;
			break;
		}
		if ((got = read(STDIN_FILENO, in + n, sizeof(in) - 1 - n)) < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		n += (size_t)got;
	}
	in[n] = '\0';
	len = n;
	if (len > 0 && in[len - 1] == '\n')
		len--;
	if (r != 0 || len != KEY_HEX || strspn(in, "0123456789abcdefABCDEF") < KEY_HEX ||
	    sodium_hex2bin(key, 32, in, KEY_HEX, NULL, NULL, NULL) != 0) {
		sodium_memzero(in, sizeof(in));
		sodium_memzero(key, 32);
		return gate_refuse(g, "collect needs the per-incident key on standard input (64 hex "
		    "digits, as 'breakglass collect --key FILE' keeps it): ssh ... collect "
		    "[--profile NAME] < FILE");
	}
	sodium_memzero(in, sizeof(in));
	return 0;
}

/* The database facts of a db grant, as the supervisor (db-postgres-as). */
static int
db_facts(gate *g, dbfacts *f)
{
	const char *engine = kv_get(&g->scope_doc, "engine"), *db = kv_get(&g->scope_doc, "database");
	struct passwd *pw = NULL;
	bg_error e;
	int r;

	int maria = engine != NULL && (strcmp(engine, "mariadb") == 0 || strcmp(engine, "mysql") == 0);

	if (engine != NULL && strcmp(engine, "postgresql") != 0 && !maria)
		return gate_refuse(g, "collect reads database facts from PostgreSQL and MariaDB; "
		    "grant G-%lld is for '%.32s'", (long long)g->grant, engine);
	if (db == NULL)
		return gate_refuse(g, "grant G-%lld names no database", (long long)g->grant);
	if (maria) {
		if (g->db_maria == NULL)
			return gate_refuse(g, "this host has no MariaDB target (host setup "
			    "--db-mariadb)");
		/* root by unix_socket, as the supervisor's admin connection */
		gate_priv_up(g);
		r = dbfacts_mariadb(g->db_maria, "root", db, f, &e);
		gate_priv_down(g);
		if (r != 0)
			return gate_refuse(g, "collect: the database's facts: %s", e.msg);
		return 0;
	}
	if (g->db_pg == NULL)
		return gate_refuse(g, "this host has no PostgreSQL target (host setup --db-postgres)");
	if (g->db_pg_as != NULL && (pw = getpwnam(g->db_pg_as)) == NULL)
		return gate_refuse(g, "gate config: db-postgres-as: no OS user '%.64s'", g->db_pg_as);
	gate_priv_up(g);
	if (pw != NULL && setresuid((uid_t)-1, pw->pw_uid, (uid_t)-1) != 0)
		_exit(1);
	r = dbfacts_postgres(g->db_pg, db, f, &e);
	if (pw != NULL && setresuid((uid_t)-1, 0, (uid_t)-1) != 0)
		_exit(1);
	gate_priv_down(g);
	if (r != 0)
		return gate_refuse(g, "collect: the database's facts: %s", e.msg);
	return 0;
}

/* The child's ruleset: the grant's directories to read, nothing to
 * write, the programs of the grant's commands to execute. */
static int
collect_confine(gate *g)
{
	char *progs[256];
	size_t n = 0, i;
	confine_spec sp;
	bg_error e;
	int r;

	g->cf.fd = -1;
	if (g->landlock_abi == 0) {
		if (g->landlock_optional)
			return 0;
		return gate_refuse(g, "this host's kernel offers no Landlock, and the gate starts no "
		    "collect without it (a host that accepts that sets 'landlock: optional')");
	}
	for (i = 0; i < g->scope_doc.n && n < 256; i++) {
		argv_list a;

		if (strcmp(g->scope_doc.items[i].key, "command") != 0 ||
		    argv_split(g->scope_doc.items[i].value, &a, &e) != 0)
			continue;
		if (a.n > 0 && (progs[n] = strdup(a.v[0])) != NULL)
			n++;
		argv_release(&a);
	}
	memset(&sp, 0, sizeof(sp));
	sp.sc = &g->sc;
	sp.programs = (const char *const *)progs;
	sp.nprograms = n;
	r = confine_build(&sp, g->landlock_abi, &g->cf, &e);
	for (i = 0; i < n; i++)
		free(progs[i]);
	if (r != 0)
		return gate_refuse(g, "%s: nothing was run", e.msg);
	return 0;
}

/* In the child: nothing of the supervisor's but the scope and the pipe. */
static void
child_close(gate *g, int keep)
{
	int fd;

	sshkey_priv_release(&g->hostkey);
	for (fd = 3; fd < 1024; fd++) {
		size_t i;
		int k = fd == keep || fd == open_sock;

		for (i = 0; i < g->sc.n && !k; i++)
			k = g->sc.r[i].fd == fd;
		if (!k)
			close(fd);
	}
}

static int
run_collect(gate *g, const char *profile, const char *app, const dbfacts *db)
{
	unsigned char key[32];
	crypto_hash_sha256_state hs;
	unsigned char digest[32];
	char hex[65], size[32], ndb[32];
	int p[2] = { -1, -1 }, sp[2] = { -1, -1 }, status = 0, cut = 0, entered = 0;
	uint64_t total = 0;
	buf cg;
	pid_t pid;

	if (read_key(g, key) != 0)
		return 1;
	if (collect_confine(g) != 0) {
		sodium_memzero(key, sizeof(key));
		return 1;
	}
	if (gate_request_cgroup(g, &cg) != 0) {
		sodium_memzero(key, sizeof(key));
		confine_release(&g->cf);
		return 1;
	}
	if (pipe2(p, O_CLOEXEC) != 0 ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) != 0) {
		sodium_memzero(key, sizeof(key));
		if (p[0] >= 0) {
			close(p[0]);
			close(p[1]);
		}
		gate_end_cgroup(g, &cg);
		confine_release(&g->cf);
		return gate_refuse(g, "cannot create a pipe");
	}
	if ((pid = gate_fork(g, &cg, &entered)) < 0) {
		sodium_memzero(key, sizeof(key));
		close(p[0]);
		close(p[1]);
		close(sp[0]);
		close(sp[1]);
		gate_end_cgroup(g, &cg);
		confine_release(&g->cf);
		return gate_refuse(g, "cannot start the collector");
	}
	if (pid == 0) {
		gate_collect_io io;
		bg_error e;
		int nul;

		setpgid(0, 0);
		close(sp[0]);
		open_sock = sp[1];
		gate_child_start(g, &cg, entered);
		signal(SIGPIPE, SIG_DFL);
		if ((nul = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0 ||
		    dup2(nul, STDIN_FILENO) < 0 || dup2(p[1], STDOUT_FILENO) < 0)
			_exit(126);
		child_close(g, -1);
		if (chdir("/") != 0)
			_exit(126);
		memset(&io, 0, sizeof(io));
		io.profile = profile;
		io.app = app;
		io.key = key;
		io.db = db;
		io.out = STDOUT_FILENO;
		io.ctx = g;
		io.may_read = lim_may_read;
		io.open = lim_open;
		io.tree = lim_tree;
		io.may_run = lim_may_run;
		io.skipped = lim_skipped;
		if (collect_run_fn(&io, &e) != 0) {
			sodium_memzero(key, sizeof(key));
			fprintf(stderr, "breakglass: collect: %s\n", e.msg);
			_exit(1);
		}
		sodium_memzero(key, sizeof(key));
		_exit(0);
	}
	sodium_memzero(key, sizeof(key));
	setpgid(pid, pid);
	close(p[1]);
	close(sp[1]);
	confine_release(&g->cf);
	crypto_hash_sha256_init(&hs);
	for (;;) {
		struct pollfd pf[2] = { { p[0], POLLIN, 0 }, { sp[0], POLLIN, 0 } };
		char b[65536];
		ssize_t got;
		int n = poll(pf, sp[0] >= 0 ? 2 : 1, GATE_TICK_MS);

		if (n < 0 && errno != EINTR)
			break;
		if (n > 0 && sp[0] >= 0 && (pf[1].revents & (POLLIN | POLLHUP | POLLERR)) &&
		    serve_open(g, sp[0]) != 0) {
			close(sp[0]);
			sp[0] = -1;
		}
		if (n > 0 && (pf[0].revents & (POLLIN | POLLHUP | POLLERR))) {
			if ((got = read(p[0], b, sizeof(b))) < 0 && errno == EINTR)
				continue;
			if (got <= 0)
				break;
			crypto_hash_sha256_update(&hs, (unsigned char *)b, (unsigned long long)got);
			total += (uint64_t)got;
			gate_write(g, STDOUT_FILENO, b, (size_t)got);
		}
		if (gate_grant_ended(g)) {
			cut = 1;
			fprintf(stderr, "breakglass: grant G-%lld %s: collect ended\n",
			    (long long)g->grant, gate_end_word(g));
			gate_kill_request(g, &cg, pid);
			break;
		}
	}
	close(p[0]);
	if (sp[0] >= 0)
		close(sp[0]);
	if (cut)
		status = W_EXITCODE(0, SIGKILL);
	else
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	gate_end_cgroup(g, &cg);
	status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	crypto_hash_sha256_final(&hs, digest);
	sodium_bin2hex(hex, sizeof(hex), digest, sizeof(digest));
	snprintf(size, sizeof(size), "%llu", (unsigned long long)total);
	snprintf(ndb, sizeof(ndb), "%zu", db ? db->n : 0);
	{
		const char *extra[] = { "profile", profile, "bundle_sha256", hex, "bundle_bytes", size,
			"db_facts", ndb, NULL };

		gate_record_with(g, "gate.collect", cut ? "cut" : status == 0 ? "allow" : "fail",
		    cut ? gate_end_reason(g) : status == 0 ? NULL : "the collector failed", status,
		    extra);
	}
	if (status == 0 && !cut)
		fprintf(stderr, "breakglass: collect: bundle %llu bytes, SHA-256 %s (recorded in "
		    "the host log)\n", (unsigned long long)total, hex);
	return status;
}

int
gate_verb_collect(gate *g)
{
	const char *profile = "base", *app = NULL;
	dbfacts db;
	int status, have_db = 0;
	size_t i;

	if (collect_run_fn == NULL || collect_known_fn == NULL)
		return gate_refuse(g, "collect is not available in this supervisor");
	for (i = 1; i < g->av.n; i++) {
		const char *a = g->av.v[i];

		if (strcmp(a, "--profile") == 0 && i + 1 < g->av.n)
			profile = g->av.v[++i];
		else if (strcmp(a, "--app") == 0 && i + 1 < g->av.n)
			app = g->av.v[++i];
		else
			return gate_refuse(g, "usage: collect [--profile NAME] [--app DIR] < KEY");
	}
	if (strchr(profile, '/') != NULL || !collect_known_fn(profile))
		return gate_refuse(g, "collect through the gate runs built-in profiles only; '%.64s' "
		    "is not one (a profile of your own runs locally: breakglass collect --profile "
		    "FILE, or as a runbook step)", profile);
	if (app != NULL && (!scope_path_ok(app) || !lim_may_read(g, app)))
		return gate_refuse(g, "collect: --app '%.200s' is not a directory of grant G-%lld",
		    app, (long long)g->grant);
	memset(&db, 0, sizeof(db));
	if (kv_get(&g->scope_doc, "kind") != NULL &&
	    strcmp(kv_get(&g->scope_doc, "kind"), "db") == 0) {
		if (db_facts(g, &db) != 0)
			return 1;
		have_db = 1;
	}
	status = run_collect(g, profile, app, have_db ? &db : NULL);
	dbfacts_release(&db);
	return status;
}

int
gate_collect_wanted(const gate *g)
{
	const char *c = g->env->original_command;

	return c != NULL && strncmp(c, "collect", 7) == 0 && (c[7] == '\0' || c[7] == ' ');
}

int
gate_collect_db(gate *g)
{
	bg_error e;

	if (strlen(g->env->original_command) > 8192)
		return gate_refuse(g, "request longer than 8192 bytes");
	if (argv_split(g->env->original_command, &g->av, &e) != 0) {
		snprintf(g->request, sizeof(g->request), "(unparseable)");
		return gate_refuse(g, "cannot parse the request: %s", e.msg);
	}
	if (gate_describe_request(g) != 0)
		return 1;
	return gate_run_verb(g, gate_find_verb("collect"));
}
