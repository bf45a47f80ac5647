/*
 * gate.c - the host-side forced command.
 *
 * Privileges: when installed setgid (group breakglass-gate, see `host
 * setup`), the gate keeps that group only as its saved gid and raises it
 * just for audit-log writes; everything else, and every child it starts,
 * runs with the account's own ids.  A setgid process is not dumpable, so
 * the account cannot ptrace it to reach the host key or the log.
 *
 * Supervision: allowlisted commands and `tail -f` run in a loop that wakes
 * every GATE_TICK_MS, and ends the work (the child's whole process group:
 * SIGTERM, then SIGKILL a second later) once the certificate's validity
 * ends or the KRL starts revoking it (an unreadable KRL counts as revoked).
 */
#include "gate.h"
#include "argv.h"
#include "audit.h"
#include "buf.h"
#include "cert.h"
#include "changes.h"
#include "diff.h"
#include "fileio.h"
#include "grant.h"
#include "hash.h"
#include "json.h"
#include "krl.h"
#include "record.h"
#include "kv.h"
#include "plan.h"
#include "scan.h"
#include "scope.h"
#include "snapshot.h"
#include "sshkey.h"
#include "text.h"
#include "utc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <regex.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#define GATE_TICK_MS 200
#define GATE_MAX_LINE (64u * 1024)

const char gate_verbs_help[] =
	"  ls [DIR]                      list a directory (no DIR: the grant's directories)\n"
	"  cat FILE                      print a file\n"
	"  tail [-n N] [-f] FILE         last N lines (default 10); -f follows until the\n"
	"                                grant ends\n"
	"  grep [-F] [-i] [-n] PATTERN FILE   matching lines (extended regex, or -F fixed)\n"
	"  stat PATH                     type, mode, owner, size, times\n"
	"  sha256 FILE                   SHA-256 of a file\n"
	"  find-changed --since TIME [DIR]    files changed since TIME (UTC)\n"
	"  put FILE < CONTENT            replace (or create) FILE atomically with stdin\n"
	"  patch DIR < DIFF              apply a unified diff (-p1) under DIR, exactly,\n"
	"                                all files or none (put and patch: tiers plan and\n"
	"                                shell, writable directories only)\n"
	"  apply [DIR] < ARTIFACT        apply an artifact of the approved plan, found by\n"
	"                                its SHA-256: a diff as patch DIR (default: the\n"
	"                                grant's only writable directory), a command list\n"
	"                                one line at a time as requests of their own,\n"
	"                                stopping at the first that fails\n"
	"  help                          what this grant allows\n";

static const kv_key config_schema[] = {
	{ "ca-key", KV_REQUIRED, 1024 },
	{ "krl", KV_REQUIRED, 1024 },
	{ "audit-dir", KV_REQUIRED, 1024 },
	{ "clock-skew", 0, 16 },
	{ NULL, 0, 0 }
};

typedef struct gate {
	const gate_env *env;
	gid_t rgid, sgid;
	int setgid;
	int64_t now, skew;
	unsigned char ca_pk[32];
	char *krl_path;
	char *audit_dir;
	struct stat krl_st;
	cert c;
	kv_doc scope_doc;
	scope sc;
	int64_t ticket, grant;
	audit_log log;
	sshkey_priv hostkey;
	int log_open;
	argv_list av;
	char request[1024];   /* for the audit log, secrets redacted */
	uint64_t bytes_out;
	int refused_by_expiry;
	int recorded;          /* a record for this request was written */
	int stdin_null;        /* commands get /dev/null (steps of 'apply') */
} gate;

/* ---- privileges ---- */

static void
priv_down(gate *g)
{
	if (g->setgid && setresgid(g->rgid, g->rgid, g->sgid) != 0)
		_exit(1);
}

static void
priv_up(gate *g)
{
	if (g->setgid && setresgid(g->rgid, g->sgid, g->sgid) != 0)
		_exit(1);
}

static void
priv_drop_all(gate *g)
{
	if (g->setgid && setresgid(g->rgid, g->rgid, g->rgid) != 0)
		_exit(1);
}

/* ---- output helpers ---- */

static int
out_write(gate *g, int fd, const void *p, size_t n)
{
	if (fileio_write_full(fd, p, n) != 0)
		return BG_ERR_IO;
	if (fd == STDOUT_FILENO)
		g->bytes_out += n;
	return 0;
}

static int
outf(gate *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
outf(gate *g, const char *fmt, ...)
{
	buf b;
	va_list ap;
	int r;

	buf_init(&b, GATE_MAX_LINE);
	va_start(ap, fmt);
	r = buf_vprintf(&b, fmt, ap);
	va_end(ap);
	if (r == 0)
		r = out_write(g, STDOUT_FILENO, b.data, b.len);
	buf_release(&b);
	return r;
}

/* A name printed for a person: control bytes (terminal escapes) become '?'. */
static void
safe_name(const char *s, char *out, size_t n)
{
	size_t i;

	for (i = 0; s[i] && i + 1 < n; i++)
		out[i] = ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) ? '?' : s[i];
	out[i] = '\0';
}

/* ---- audit ---- */

/*
 * A host-log record of this request: who, which grant, what, the decision
 * and why; extra (NULL-terminated name, value pairs, may be NULL) adds
 * fields tools read back, such as a change set's id and hashes.
 */
static void
record_with(gate *g, const char *event, const char *decision, const char *reason, int status,
    const char *const *extra)
{
	buf d;
	json j;
	bg_error e;
	char serial[32];

	buf_init(&d, AUDIT_MAX_RECORD - 1024);
	json_init(&j, &d);
	json_obj_begin(&j);
	json_kv_str(&j, "user", g->env->user);
	snprintf(serial, sizeof(serial), "%llu", (unsigned long long)g->c.serial);
	json_kv_str(&j, "serial", g->c.key_id ? serial : NULL);
	json_kv_int(&j, "grant", g->grant);
	json_kv_str(&j, "request", g->request);
	json_kv_str(&j, "decision", decision);
	if (reason)
		json_kv_str(&j, "reason", reason);
	if (status >= 0)
		json_kv_int(&j, "status", status);
	json_kv_int(&j, "bytes_out", (int64_t)g->bytes_out);
	for (; extra != NULL && extra[0] != NULL; extra += 2)
		json_kv_str(&j, extra[0], extra[1]);
	json_obj_end(&j);
	syslog(LOG_AUTHPRIV | (strcmp(decision, "refuse") == 0 ? LOG_WARNING : LOG_INFO),
	    "breakglass gate: user=%s grant=G-%lld %s %s%s%s", g->env->user,
	    (long long)g->grant, decision, g->request, reason ? ": " : "", reason ? reason : "");
	g->recorded = 1;
	if (!g->log_open || json_error(&j) != 0) {
		buf_release(&d);
		return;
	}
	priv_up(g);
	if (audit_append(&g->log, utc_now(), g->env->user, event, g->ticket, d.data, &e) != 0)
		syslog(LOG_AUTHPRIV | LOG_ERR, "breakglass gate: audit append failed: %s", e.msg);
	priv_down(g);
	buf_release(&d);
}

static void
record(gate *g, const char *event, const char *decision, const char *reason, int status)
{
	record_with(g, event, decision, reason, status, NULL);
}

static void redacted(const char *text, char *out, size_t n);

/* Refuse: one line to the user, a record, exit status 1. */
static int
refuse(gate *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
refuse(gate *g, const char *fmt, ...)
{
	char msg[512], safe[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	redacted(msg, safe, sizeof(safe)); /* reasons echo what the user typed */
	fprintf(stderr, "breakglass: refused: %s\n", safe);
	record(g, "gate.refuse", "refuse", safe, -1);
	return 1;
}

/* ---- setup ---- */

static int
load_config(gate *g, bg_error *e)
{
	buf text, key;
	kv_doc d;
	sshkey_pub ca;
	char *comment = NULL;
	const char *v;
	int r;

	buf_init(&text, 64 * 1024);
	buf_init(&key, 64 * 1024);
	memset(&d, 0, sizeof(d));
	g->skew = 120;
	if ((r = fileio_read(g->env->config, 64 * 1024, &text, e)) != 0 ||
	    (r = kv_parse(buf_cstr(&text), text.len, config_schema, &d, e)) != 0)
		goto out;
	if ((v = kv_get(&d, "clock-skew")) != NULL && utc_parse_duration(v, &g->skew) != 0) {
		r = bg_fail(e, BG_ERR_INVALID, "gate config: invalid clock-skew");
		goto out;
	}
	if ((r = fileio_read(kv_get(&d, "ca-key"), 64 * 1024, &key, e)) != 0 ||
	    (r = sshkey_parse_line(buf_cstr(&key), &ca, &comment, e)) != 0)
		goto out;
	free(comment);
	if (!ca.is_ed25519) {
		sshkey_pub_release(&ca);
		r = bg_fail(e, BG_ERR_INVALID, "gate config: the CA key must be ed25519");
		goto out;
	}
	memcpy(g->ca_pk, ca.ed25519, 32);
	sshkey_pub_release(&ca);
	if ((g->krl_path = strdup(kv_get(&d, "krl"))) == NULL ||
	    (g->audit_dir = strdup(kv_get(&d, "audit-dir"))) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	/* the host log and its key: opened with the gate group, then dropped */
	{
		buf kp, kt;

		buf_init(&kp, 4096);
		buf_init_secret(&kt, 16384);
		priv_up(g);
		r = fileio_join(&kp, kv_get(&d, "audit-dir"), "host.key");
		if (r == 0)
			r = fileio_read(kp.data, 16384, &kt, e);
		if (r == 0)
			r = sshkey_priv_parse(buf_cstr(&kt), kt.len, &g->hostkey, e);
		if (r == 0)
			r = audit_open(&g->log, kv_get(&d, "audit-dir"), &g->hostkey, g->hostkey.pk, e);
		if (r == 0) {
			int64_t last;

			g->log_open = 1;
			r = audit_last_time(&g->log, &last, e);
			if (r == 0 && g->now + g->skew < last)
				r = bg_fail(e, BG_ERR_CLOCK, "the host clock is behind its audit log");
		}
		priv_down(g);
		buf_release(&kp);
		buf_release(&kt);
	}
out:
	kv_doc_release(&d);
	buf_release(&text);
	buf_release(&key);
	return r;
}

/* 1 (revoked or unreadable: fail closed) or 0.  Re-reads only on change. */
static int
krl_says_revoked(gate *g, int force)
{
	struct stat st;
	buf b;
	krl k;
	bg_error e;
	int revoked;

	if (stat(g->krl_path, &st) != 0)
		return 1;
	if (!force && st.st_ino == g->krl_st.st_ino && st.st_size == g->krl_st.st_size &&
	    st.st_mtim.tv_sec == g->krl_st.st_mtim.tv_sec &&
	    st.st_mtim.tv_nsec == g->krl_st.st_mtim.tv_nsec)
		return 0;
	buf_init(&b, KRL_MAX_SIZE);
	if (fileio_read(g->krl_path, KRL_MAX_SIZE, &b, &e) != 0 ||
	    krl_parse(b.data ? b.data : "", b.len, &k, &e) != 0) {
		buf_release(&b);
		return 1;
	}
	revoked = krl_cert_revoked(&k, g->c.ca.blob, g->c.ca.bloblen, g->c.serial, g->c.key_id);
	krl_release(&k);
	buf_release(&b);
	g->krl_st = st;
	return revoked;
}

/* Has the grant ended (expiry or revocation)? */
static int
grant_ended(gate *g)
{
	int64_t now = utc_now();

	if (now < g->now - g->skew || (uint64_t)now >= g->c.valid_before) {
		g->refused_by_expiry = 1;
		return 1;
	}
	return krl_says_revoked(g, 0);
}

static int
load_cert(gate *g, bg_error *e)
{
	buf auth;
	const char *p, *line = NULL;
	size_t found = 0;
	int r;

	if (g->env->user_auth == NULL)
		return bg_fail(e, BG_ERR_PERM, "no authentication details (sshd needs "
		    "ExposeAuthInfo yes)");
	buf_init(&auth, 256 * 1024);
	if ((r = fileio_read(g->env->user_auth, 256 * 1024, &auth, e)) != 0) {
		buf_release(&auth);
		return bg_fail(e, BG_ERR_PERM, "cannot read the authentication details");
	}
	for (p = buf_cstr(&auth); *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : p + strlen(p)) {
		if (strncmp(p, "publickey ", 10) == 0 && strstr(p, "-cert-v01@openssh.com ") != NULL) {
			found++;
			line = p + 10;
		}
	}
	if (found != 1) {
		buf_release(&auth);
		return bg_fail(e, BG_ERR_PERM, "login was not made with exactly one breakglass "
		    "certificate");
	}
	{
		size_t n = strcspn(line, "\n");
		char *l = strndup(line, n);

		if (l == NULL) {
			buf_release(&auth);
			return BG_ERR_NOMEM;
		}
		r = cert_parse_line(l, &g->c, e);
		free(l);
	}
	buf_release(&auth);
	if (r != 0)
		return r;
	if ((r = cert_verify(&g->c, g->ca_pk, g->now, e)) != 0)
		return r;
	if (g->c.nprincipals != 1 || strcmp(g->c.principals[0], g->env->user) != 0)
		return bg_fail(e, BG_ERR_PERM, "certificate is not for account '%s'", g->env->user);
	if (krl_says_revoked(g, 1))
		return bg_fail(e, BG_ERR_PERM, "certificate serial %llu is revoked (or the KRL "
		    "is unreadable)", (unsigned long long)g->c.serial);
	if (g->c.scope == NULL)
		return bg_fail(e, BG_ERR_PERM, "certificate carries no breakglass scope");
	if ((r = kv_parse(g->c.scope, strlen(g->c.scope), grant_scope_schema, &g->scope_doc, e)) != 0)
		return bg_fail(e, BG_ERR_PERM, "certificate scope is malformed");
	return 0;
}

static int
load_scope(gate *g, bg_error *e)
{
	size_t i;
	int r;

	if (ticket_parse_id(kv_get(&g->scope_doc, "ticket"), &g->ticket) != 0 ||
	    grant_parse_id(kv_get(&g->scope_doc, "grant"), &g->grant) != 0)
		return bg_fail(e, BG_ERR_PERM, "certificate scope names no ticket or grant");
	for (i = 0; i < g->scope_doc.n; i++) {
		const kv_item *it = &g->scope_doc.items[i];
		int w = strcmp(it->key, "write") == 0;

		if ((w || strcmp(it->key, "read") == 0) &&
		    (r = scope_add(&g->sc, it->value, w, e)) != 0)
			return r;
	}
	return 0;
}

/* ---- verbs ---- */

static int
need_path(gate *g, const char *verb, const char *p)
{
	if (p == NULL)
		return refuse(g, "%s needs a path", verb);
	if (p[0] != '/')
		return refuse(g, "%s: '%.200s' must be an absolute path", verb, p);
	return 0;
}

static int
open_file(gate *g, const char *path, struct stat *st)
{
	bg_error e;
	int fd = scope_open(&g->sc, path, O_RDONLY, 0, &e);

	if (fd < 0)
		return -refuse(g, "%s", e.msg) - 1;
	if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
		close(fd);
		return -refuse(g, "'%.200s' is not a regular file", path) - 1;
	}
	return fd;
}

static int
verb_cat(gate *g)
{
	struct stat st;
	char b[65536];
	ssize_t n;
	int fd;

	if (g->av.n != 2 || need_path(g, "cat", g->av.v[1]))
		return g->av.n != 2 ? refuse(g, "usage: cat FILE") : 1;
	if ((fd = open_file(g, g->av.v[1], &st)) < 0)
		return 1;
	while ((n = read(fd, b, sizeof(b))) > 0)
		if (out_write(g, STDOUT_FILENO, b, (size_t)n) != 0)
			break;
	close(fd);
	return n < 0 ? 1 : 0;
}

static int
verb_sha256(gate *g)
{
	crypto_hash_sha256_state hs;
	unsigned char h[32], b[65536];
	char hex[65];
	struct stat st;
	ssize_t n;
	int fd;

	if (g->av.n != 2 || need_path(g, "sha256", g->av.v[1]))
		return g->av.n != 2 ? refuse(g, "usage: sha256 FILE") : 1;
	if ((fd = open_file(g, g->av.v[1], &st)) < 0)
		return 1;
	crypto_hash_sha256_init(&hs);
	while ((n = read(fd, b, sizeof(b))) > 0)
		crypto_hash_sha256_update(&hs, b, (size_t)n);
	close(fd);
	if (n < 0)
		return 1;
	crypto_hash_sha256_final(&hs, h);
	hash_hex(h, 32, hex);
	return outf(g, "%s  %s\n", hex, g->av.v[1]) ? 1 : 0;
}

static const char *
type_of(mode_t m)
{
	return S_ISREG(m) ? "file" : S_ISDIR(m) ? "dir" : S_ISLNK(m) ? "link" :
	    S_ISFIFO(m) ? "fifo" : S_ISSOCK(m) ? "socket" : "device";
}

static int
verb_stat(gate *g)
{
	struct stat st;
	bg_error e;
	char m[UTC_STRLEN], c[UTC_STRLEN];
	int fd;

	if (g->av.n != 2 || need_path(g, "stat", g->av.v[1]))
		return g->av.n != 2 ? refuse(g, "usage: stat PATH") : 1;
	if ((fd = scope_open(&g->sc, g->av.v[1], O_PATH | O_NOFOLLOW, 0, &e)) < 0)
		return refuse(g, "%s", e.msg);
	if (fstat(fd, &st) != 0) {
		close(fd);
		return 1;
	}
	close(fd);
	utc_format(st.st_mtim.tv_sec, m);
	utc_format(st.st_ctim.tv_sec, c);
	return outf(g, "path: %s\ntype: %s\nmode: %04o\nuid: %u\ngid: %u\nsize: %lld\n"
	    "links: %lu\ninode: %llu\nmodified: %s\nchanged: %s\n", g->av.v[1],
	    type_of(st.st_mode), (unsigned)(st.st_mode & 07777), (unsigned)st.st_uid,
	    (unsigned)st.st_gid, (long long)st.st_size, (unsigned long)st.st_nlink,
	    (unsigned long long)st.st_ino, m, c) ? 1 : 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
list_dir(gate *g, int dfd, const char *shown)
{
	DIR *d;
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, i;
	int r = 0;

	if ((d = fdopendir(dfd)) == NULL) {
		close(dfd);
		return refuse(g, "cannot list '%.200s'", shown);
	}
	while ((de = readdir(d)) != NULL) {
		char **nv;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (n >= 100000 || (nv = realloc(names, (n + 1) * sizeof(*nv))) == NULL)
			break;
		names = nv;
		if ((names[n] = strdup(de->d_name)) == NULL)
			break;
		n++;
	}
	if (n > 1)
		qsort(names, n, sizeof(*names), cmp_str);
	for (i = 0; i < n && r == 0; i++) {
		struct stat st;
		char safe[512], t[UTC_STRLEN];

		safe_name(names[i], safe, sizeof(safe));
		if (fstatat(dirfd(d), names[i], &st, AT_SYMLINK_NOFOLLOW) != 0)
			continue;
		utc_format(st.st_mtim.tv_sec, t);
		r = outf(g, "%-6s %04o %12lld %s %s\n", type_of(st.st_mode),
		    (unsigned)(st.st_mode & 07777), (long long)st.st_size, t, safe);
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
	return r ? 1 : 0;
}

static int
verb_ls(gate *g)
{
	bg_error e;
	size_t i;
	int fd;

	if (g->av.n == 1) {
		for (i = 0; i < g->sc.n; i++)
			outf(g, "%s %s%s\n", g->sc.r[i].writable ? "rw" : "ro", g->sc.r[i].path,
			    g->sc.r[i].fd < 0 ? " (missing)" : "");
		return 0;
	}
	if (g->av.n != 2 || need_path(g, "ls", g->av.v[1]))
		return g->av.n != 2 ? refuse(g, "usage: ls [DIR]") : 1;
	if ((fd = scope_open(&g->sc, g->av.v[1], O_RDONLY | O_DIRECTORY, 0, &e)) < 0)
		return refuse(g, "%s", e.msg);
	return list_dir(g, fd, g->av.v[1]);
}

/* Print the last n lines of fd (a regular file), return the offset reached. */
static off_t
last_lines(gate *g, int fd, long n, off_t size)
{
	char b[8192];
	off_t pos = size, start = 0;
	long seen = 0;

	while (pos > 0 && seen <= n) {
		size_t chunk = pos > (off_t)sizeof(b) ? sizeof(b) : (size_t)pos;
		ssize_t got;

		pos -= (off_t)chunk;
		if ((got = pread(fd, b, chunk, pos)) <= 0)
			break;
		for (ssize_t i = got - 1; i >= 0; i--) {
			if (b[i] == '\n' && (pos + i != size - 1) && ++seen == n) {
				start = pos + i + 1;
				goto found;
			}
		}
	}
found:
	for (off_t o = start; o < size;) {
		ssize_t got = pread(fd, b, sizeof(b), o);

		if (got <= 0)
			break;
		if (out_write(g, STDOUT_FILENO, b, (size_t)got) != 0)
			break;
		o += got;
	}
	return size;
}

static int
verb_tail(gate *g)
{
	long n = 10;
	int follow = 0, fd;
	size_t i;
	const char *path = NULL;
	struct stat st;
	off_t off;

	for (i = 1; i < g->av.n; i++) {
		const char *a = g->av.v[i];

		if (strcmp(a, "-f") == 0 && !follow) {
			follow = 1;
		} else if (strcmp(a, "-n") == 0 && i + 1 < g->av.n) {
			char *end;

			n = strtol(g->av.v[++i], &end, 10);
			if (*g->av.v[i] == '\0' || *end != '\0' || n < 0 || n > 100000)
				return refuse(g, "tail: -n takes a number from 0 to 100000");
		} else if (a[0] == '-') {
			return refuse(g, "tail: unknown option '%.64s' (allowed: -n N, -f)", a);
		} else if (path == NULL) {
			path = a;
		} else {
			return refuse(g, "usage: tail [-n N] [-f] FILE");
		}
	}
	if (need_path(g, "tail", path))
		return 1;
	if ((fd = open_file(g, path, &st)) < 0)
		return 1;
	off = last_lines(g, fd, n, st.st_size);
	while (follow) {
		char b[65536];
		ssize_t got;

		if (grant_ended(g)) {
			fprintf(stderr, "breakglass: grant G-%lld %s: stopping\n", (long long)g->grant,
			    g->refused_by_expiry ? "expired" : "was revoked");
			close(fd);
			record(g, "gate.end", "cut", g->refused_by_expiry ? "grant expired" :
			    "grant revoked", 1);
			return 1;
		}
		if (fstat(fd, &st) == 0 && st.st_size < off)
			off = 0; /* truncated: start again */
		while ((got = pread(fd, b, sizeof(b), off)) > 0) {
			if (out_write(g, STDOUT_FILENO, b, (size_t)got) != 0) {
				follow = 0;
				break;
			}
			off += got;
		}
		poll(NULL, 0, GATE_TICK_MS);
	}
	close(fd);
	return 0;
}

static int
verb_grep(gate *g)
{
	int fixed = 0, icase = 0, numbers = 0, fd, rc;
	const char *pattern = NULL, *path = NULL;
	regex_t re;
	struct stat st;
	size_t i;
	FILE *f;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	long lineno = 0, matches = 0;

	for (i = 1; i < g->av.n; i++) {
		const char *a = g->av.v[i];

		if (pattern == NULL && strcmp(a, "-F") == 0)
			fixed = 1;
		else if (pattern == NULL && strcmp(a, "-i") == 0)
			icase = 1;
		else if (pattern == NULL && strcmp(a, "-n") == 0)
			numbers = 1;
		else if (pattern == NULL && strcmp(a, "--") == 0 && i + 1 < g->av.n)
			pattern = g->av.v[++i];
		else if (pattern == NULL && a[0] == '-')
			return refuse(g, "grep: unknown option '%.64s' (allowed: -F, -i, -n)", a);
		else if (pattern == NULL)
			pattern = a;
		else if (path == NULL)
			path = a;
		else
			return refuse(g, "usage: grep [-F] [-i] [-n] PATTERN FILE");
	}
	if (pattern == NULL || strlen(pattern) > 1024)
		return refuse(g, "grep: a pattern of at most 1024 bytes is needed");
	if (need_path(g, "grep", path))
		return 1;
	if (!fixed && regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB | (icase ? REG_ICASE : 0)) != 0)
		return refuse(g, "grep: invalid regular expression");
	if ((fd = open_file(g, path, &st)) < 0) {
		if (!fixed)
			regfree(&re);
		return 1;
	}
	if ((f = fdopen(fd, "r")) == NULL) {
		close(fd);
		if (!fixed)
			regfree(&re);
		return 1;
	}
	while ((len = getline(&line, &cap, f)) > 0) {
		int hit;

		lineno++;
		if (fixed)
			hit = (icase ? strcasestr(line, pattern) : strstr(line, pattern)) != NULL;
		else
			hit = regexec(&re, line, 0, NULL, 0) == 0;
		if (!hit)
			continue;
		matches++;
		if (numbers)
			outf(g, "%ld:", lineno);
		out_write(g, STDOUT_FILENO, line, (size_t)len);
		if (line[len - 1] != '\n')
			out_write(g, STDOUT_FILENO, "\n", 1);
	}
	free(line);
	fclose(f);
	if (!fixed)
		regfree(&re);
	rc = matches > 0 ? 0 : 1; /* grep's own convention: 1 = no match */
	return rc;
}

static int
walk_changed(gate *g, int dfd, const char *shown, int64_t since, int depth, long *budget)
{
	DIR *d;
	struct dirent *de;

	if (depth > 32 || (d = fdopendir(dfd)) == NULL) {
		close(dfd);
		return 0;
	}
	while ((de = readdir(d)) != NULL && *budget > 0) {
		struct stat st;
		char path[4096], safe[4096];

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		(*budget)--;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", strcmp(shown, "/") ? shown : "", de->d_name);
		if (st.st_mtim.tv_sec >= since || st.st_ctim.tv_sec >= since) {
			char t[UTC_STRLEN];

			safe_name(path, safe, sizeof(safe));
			utc_format(st.st_mtim.tv_sec > st.st_ctim.tv_sec ? st.st_mtim.tv_sec :
			    st.st_ctim.tv_sec, t);
			outf(g, "%s %-6s %s\n", t, type_of(st.st_mode), safe);
		}
		if (S_ISDIR(st.st_mode)) {
			bg_error e;
			int cfd = scope_openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY, &e);

			if (cfd >= 0)
				walk_changed(g, cfd, path, since, depth + 1, budget);
		}
	}
	closedir(d);
	return 0;
}

static int
verb_find_changed(gate *g)
{
	int64_t since;
	bg_error e;
	long budget = 200000;
	size_t i;
	int fd;

	if (g->av.n < 3 || strcmp(g->av.v[1], "--since") != 0 || g->av.n > 4)
		return refuse(g, "usage: find-changed --since TIME [DIR]");
	if (utc_parse(g->av.v[2], &since) != 0)
		return refuse(g, "find-changed: TIME is UTC, like 2026-11-21T02:00Z");
	if (g->av.n == 4) {
		if (need_path(g, "find-changed", g->av.v[3]))
			return 1;
		if ((fd = scope_open(&g->sc, g->av.v[3], O_RDONLY | O_DIRECTORY, 0, &e)) < 0)
			return refuse(g, "%s", e.msg);
		return walk_changed(g, fd, g->av.v[3], since, 0, &budget);
	}
	for (i = 0; i < g->sc.n; i++) {
		if ((fd = scope_open(&g->sc, g->sc.r[i].path, O_RDONLY | O_DIRECTORY, 0, &e)) >= 0)
			walk_changed(g, fd, g->sc.r[i].path, since, 0, &budget);
	}
	return 0;
}

static int
verb_help(gate *g)
{
	size_t i;

	if (g->av.n != 1)
		return refuse(g, "usage: help");
	outf(g, "breakglass grant G-%lld (ticket T-%lld), valid until ", (long long)g->grant,
	    (long long)g->ticket);
	{
		char t[UTC_STRLEN];

		utc_format((int64_t)g->c.valid_before, t);
		outf(g, "%s\n\nbuilt-in commands:\n%s", t, gate_verbs_help);
	}
	outf(g, "\ndirectories:\n");
	for (i = 0; i < g->sc.n; i++)
		outf(g, "  %s %s\n", g->sc.r[i].writable ? "rw" : "ro", g->sc.r[i].path);
	outf(g, "\nallowed commands (exactly as written):\n");
	for (i = 0; i < g->scope_doc.n; i++)
		if (strcmp(g->scope_doc.items[i].key, "command") == 0)
			outf(g, "  %s\n", g->scope_doc.items[i].value);
		else if (strcmp(g->scope_doc.items[i].key, "sudo") == 0)
			outf(g, "  %s   (as root, through sudo)\n", g->scope_doc.items[i].value);
	return 0;
}

#define GATE_MAX_PUT (256u * 1024 * 1024)

static int
sha256_fd(int fd, char hex[65])
{
	crypto_hash_sha256_state hs;
	unsigned char h[32], b[65536];
	ssize_t n;
	off_t off = 0;

	crypto_hash_sha256_init(&hs);
	while ((n = pread(fd, b, sizeof(b), off)) > 0) {
		crypto_hash_sha256_update(&hs, b, (size_t)n);
		off += n;
	}
	crypto_hash_sha256_final(&hs, h);
	hash_hex(h, 32, hex);
	return n < 0 ? -1 : 0;
}

/* Split an absolute path into a malloc'd parent and a pointer to its name. */
static char *
split_path(const char *path, const char **name)
{
	char *dir, *slash;

	if (strcmp(path, "/") == 0 || (dir = strdup(path)) == NULL)
		return NULL;
	slash = strrchr(dir, '/');
	*slash = '\0';
	*name = path + (slash - dir) + 1;
	if (**name == '\0' || strcmp(*name, ".") == 0 || strcmp(*name, "..") == 0) {
		free(dir);
		return NULL;
	}
	return dir;
}

/*
 * Replace (or create, or with data NULL delete) the regular file at path
 * inside a writable directory of the grant.  The parent is opened
 * confined and pinned; new content goes to an O_EXCL temporary beside the
 * target, is fsync'd and renamed over the name relative to the same
 * descriptor, so no path is resolved twice.  Symlinks and directories are
 * never replaced; setuid/setgid bits are never kept.  oldhex/newhex get
 * the SHA-256 of the old and new content ("-" when absent).
 */
static int
replace_file(gate *g, const char *path, const void *data, size_t len, char oldhex[65],
    char newhex[65], char *err, size_t errlen)
{
	const char *name;
	char *dir = split_path(path, &name), tmpname[64];
	unsigned char rnd[8];
	struct stat st;
	mode_t mode = 0644;
	gid_t keep_gid = (gid_t)-1;
	bg_error e;
	int dfd = -1, tfd = -1, ofd, r = -1;

	memcpy(oldhex, "-", 2);
	memcpy(newhex, "-", 2);
	if (dir == NULL) {
		snprintf(err, errlen, "'%.200s' is not a file path", path);
		return -1;
	}
	if ((dfd = scope_open(&g->sc, dir[0] ? dir : "/", O_RDONLY | O_DIRECTORY, 1, &e)) < 0) {
		snprintf(err, errlen, "%s", e.msg);
		goto out;
	}
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (!S_ISREG(st.st_mode)) {
			snprintf(err, errlen, "'%.200s' is a %s, not a regular file", path,
			    type_of(st.st_mode));
			goto out;
		}
		mode = st.st_mode & 07777 & ~(mode_t)06000; /* never keep setuid/setgid */
		keep_gid = st.st_gid;
		if ((ofd = scope_openat(dfd, name, O_RDONLY, &e)) >= 0) {
			sha256_fd(ofd, oldhex);
			close(ofd);
		}
	} else if (data == NULL) {
		snprintf(err, errlen, "'%.200s' does not exist", path);
		goto out;
	}
	if (data == NULL) {
		if (unlinkat(dfd, name, 0) != 0) {
			snprintf(err, errlen, "cannot delete '%.200s': %s", path, strerror(errno));
			goto out;
		}
		(void)fsync(dfd);
		r = 0;
		goto out;
	}
	randombytes_buf(rnd, sizeof(rnd));
	snprintf(tmpname, sizeof(tmpname), ".breakglass-new-%02x%02x%02x%02x%02x%02x%02x%02x",
	    rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);
	if ((tfd = scope_openat(dfd, tmpname, O_RDWR | O_CREAT | O_EXCL, &e)) < 0) {
		snprintf(err, errlen, "cannot write in '%.200s': %.250s", dir, e.msg);
		goto out;
	}
	/* keep the replaced file's group when the account belongs to it */
	if (keep_gid != (gid_t)-1 && fchown(tfd, (uid_t)-1, keep_gid) != 0 && errno != EPERM) {
		snprintf(err, errlen, "cannot replace '%.200s': %s", path, strerror(errno));
		unlinkat(dfd, tmpname, 0);
		goto out;
	}
	if (fileio_write_full(tfd, data, len) != 0 || fchmod(tfd, mode) != 0 || fsync(tfd) != 0 ||
	    sha256_fd(tfd, newhex) != 0 || renameat(dfd, tmpname, dfd, name) != 0) {
		snprintf(err, errlen, "cannot replace '%.200s': %s", path, strerror(errno));
		unlinkat(dfd, tmpname, 0);
		goto out;
	}
	(void)fsync(dfd);
	r = 0;
out:
	if (tfd >= 0)
		close(tfd);
	if (dfd >= 0)
		close(dfd);
	free(dir);
	return r;
}

/* ---- change capture ---- */

static int
snap_store(gate *g, buf *p)
{
	buf_reset(p);
	return buf_printf(p, "%s/snapshots", g->audit_dir);
}

static size_t
writable_roots(gate *g, const char **roots)
{
	size_t i, n = 0;

	for (i = 0; i < g->sc.n; i++)
		if (g->sc.r[i].writable)
			roots[n++] = g->sc.r[i].path;
	return n;
}

/*
 * Snapshot the grant's writable directories before a write (incremental
 * from the grant's last snapshot).  A write without a complete snapshot
 * is refused: returns 1 after refusing, 0 when before is ready (or when
 * the grant has no writable directories: before->id is then empty).
 */
static int
capture_before(gate *g, snapshot *before)
{
	const char *roots[SCOPE_MAX_ROOTS];
	size_t n = writable_roots(g, roots), nids = 0;
	snapshot prev;
	snap_stats st;
	char **ids = NULL;
	buf sdir;
	bg_error e;
	snap_tty pr;
	int r, have_prev = 0, tty;

	memset(before, 0, sizeof(*before));
	if (n == 0)
		return 0;
	buf_init(&sdir, 4096);
	snap_store(g, &sdir);
	priv_up(g);
	if (snapshot_list(sdir.data, g->grant, &ids, &nids, &e) == 0 && nids > 0 &&
	    snapshot_load(sdir.data, ids[nids - 1], &prev, &e) == 0)
		have_prev = 1;
	/* a large tree takes a while: the user's terminal (if any) says how long */
	tty = snapshot_tty_begin(&pr, STDERR_FILENO, roots, n);
	r = snapshot_take(sdir.data, roots, n, have_prev ? &prev : NULL, g->ticket, g->grant,
	    utc_now(), tty ? snapshot_tty_show : NULL, &pr, before, &st, &e);
	if (tty)
		snapshot_tty_end(&pr);
	priv_down(g);
	snapshot_list_free(ids, nids);
	if (have_prev)
		snapshot_release(&prev);
	buf_release(&sdir);
	if (r != 0)
		return refuse(g, "snapshot before the write failed (%s): nothing was changed", e.msg);
	return 0;
}

/* After a write: snapshot again, store the change set, name it in the log. */
static void
capture_after(gate *g, snapshot *before)
{
	const char *roots[SCOPE_MAX_ROOTS];
	size_t n = writable_roots(g, roots);
	snapshot after;
	snap_stats st;
	changeset cs;
	buf sdir, doc, path;
	bg_error e;
	char hex[65], txthex[65], reason[700];

	if (before->id[0] == '\0')
		return;
	buf_init(&sdir, 4096);
	buf_init(&doc, 64u * 1024 * 1024);
	buf_init(&path, 4096);
	snap_store(g, &sdir);
	priv_up(g);
	if (snapshot_take(sdir.data, roots, n, before, g->ticket, g->grant, utc_now(), NULL, NULL,
	    &after, &st, &e) != 0) {
		priv_down(g);
		snprintf(reason, sizeof(reason), "snapshot after the write failed: %.200s", e.msg);
		record(g, "gate.changes", "error", reason, -1);
		goto out;
	}
	memcpy(hex, "-", 2);
	memcpy(txthex, "-", 2);
	if (changes_compute(before, &after, &cs, &e) == 0) {
		buf_printf(&path, "%s/changes", sdir.data);
		mkdir(path.data, 02750);
		if (changes_text(sdir.data, before, &after, &cs, 64 * 1024, &doc, &e) == 0) {
			hash_sha256_hex(doc.data ? doc.data : "", doc.len, txthex);
			buf_reset(&path);
			buf_printf(&path, "%s/changes/%s.txt", sdir.data, after.id);
			if (fileio_write_atomic(path.data, doc.data, doc.len, 0640, 1, &e) != 0)
				syslog(LOG_AUTHPRIV | LOG_ERR, "breakglass gate: cannot store change set");
		}
		buf_reset(&doc);
		if (changes_json(sdir.data, before, &after, &cs, 64 * 1024, &doc, &e) == 0) {
			buf_reset(&path);
			buf_printf(&path, "%s/changes/%s.json", sdir.data, after.id);
			if (fileio_write_atomic(path.data, doc.data, doc.len, 0640, 1, &e) != 0)
				syslog(LOG_AUTHPRIV | LOG_ERR, "breakglass gate: cannot store change set");
		}
		hash_sha256_hex(doc.data ? doc.data : "", doc.len, hex);
		snprintf(reason, sizeof(reason), "changes %s sha256 %s text-sha256 %s: %zu created, "
		    "%zu modified, %zu deleted (before %s)", after.id, hex, txthex, cs.added,
		    cs.modified, cs.deleted, before->id);
		changes_release(&cs);
	} else
		snprintf(reason, sizeof(reason), "changes not computed: %.200s", e.msg);
	priv_down(g);
	{
		const char *extra[] = { "change_set", after.id, "sha256", hex, "text_sha256", txthex,
			NULL };

		record_with(g, "gate.changes", "allow", reason, -1, extra);
	}
	snapshot_release(&after);
out:
	buf_release(&sdir);
	buf_release(&doc);
	buf_release(&path);
}

/*
 * The kind of the approved artifact with SHA-256 hex ("diff", "commands",
 * ...; "" from a certificate that names hashes only), or NULL when the
 * plan approval did not cover it.  Scope lines are "SHA256 [KIND]".
 */
static const char *
approved_kind(gate *g, const char *hex)
{
	size_t i;

	for (i = 0; i < g->scope_doc.n; i++) {
		const char *v = g->scope_doc.items[i].value;

		if (strcmp(g->scope_doc.items[i].key, "artifact") == 0 && strncmp(v, hex, 64) == 0 &&
		    (v[64] == '\0' || v[64] == ' '))
			return v[64] == ' ' ? v + 65 : "";
	}
	return NULL;
}

/* In the plan tier, written content must be an approved artifact. */
static int
approved_content(gate *g, const char *verb, const void *data, size_t len)
{
	const char *tier = kv_get(&g->scope_doc, "tier");
	char hex[65];

	if (tier == NULL || strcmp(tier, "plan") != 0)
		return 0;
	hash_sha256_hex(data, len, hex);
	if (approved_kind(g, hex) != NULL)
		return 0;
	return refuse(g, "%s: the content (sha256 %s) is not an approved artifact of the plan; "
	    "the plan tier applies only approved artifacts, byte for byte", verb, hex);
}

static int
write_tier(gate *g, const char *verb)
{
	const char *tier = kv_get(&g->scope_doc, "tier");

	if (tier == NULL || (strcmp(tier, "plan") != 0 && strcmp(tier, "shell") != 0))
		return refuse(g, "%s needs tier plan or shell; grant G-%lld is tier %s", verb,
		    (long long)g->grant, tier ? tier : "read");
	return 0;
}

static int
read_stdin(gate *g, buf *in, size_t max, const char *verb)
{
	bg_error e;

	if (fileio_read_fd(STDIN_FILENO, max, in, &e) != 0)
		return refuse(g, "%s: %s", verb, e.msg);
	return 0;
}

/*
 * Refuse early, before reading any content, when FILE's directory is not
 * a writable directory of the grant.  replace_file checks again when it
 * opens the directory; this only gives the clearer reason first.
 */
static int
writable_parent(gate *g, const char *verb, const char *path)
{
	const char *name;
	char *dir = split_path(path, &name);
	bg_error e;
	int fd;

	if (dir == NULL)
		return refuse(g, "%s: '%.200s' is not a file path", verb, path);
	fd = scope_open(&g->sc, dir[0] ? dir : "/", O_PATH | O_DIRECTORY, 1, &e);
	free(dir);
	if (fd < 0)
		return refuse(g, "%s: %s", verb, e.msg);
	close(fd);
	return 0;
}

/* put FILE: stdin replaces (or creates) FILE atomically. */
static int
verb_put(gate *g)
{
	char oldhex[65], newhex[65], err[512], reason[300];
	snapshot before;
	buf in;
	int r;

	if ((r = write_tier(g, "put")) != 0)
		return r;
	if (g->av.n != 2 || need_path(g, "put", g->av.v[1]))
		return g->av.n != 2 ? refuse(g, "usage: put FILE < CONTENT") : 1;
	if ((r = writable_parent(g, "put", g->av.v[1])) != 0)
		return r;
	buf_init(&in, GATE_MAX_PUT);
	if ((r = read_stdin(g, &in, GATE_MAX_PUT, "put")) != 0 ||
	    (r = approved_content(g, "put", in.data ? in.data : "", in.len)) != 0 ||
	    (r = capture_before(g, &before)) != 0) {
		buf_release(&in);
		return r;
	}
	if (replace_file(g, g->av.v[1], in.data ? in.data : "", in.len, oldhex, newhex, err,
	    sizeof(err)) != 0) {
		buf_release(&in);
		r = refuse(g, "put: %s", err);
		capture_after(g, &before);
		snapshot_release(&before);
		return r;
	}
	snprintf(reason, sizeof(reason), "%s %s -> %s (%zu bytes)", strcmp(oldhex, "-") ?
	    "replaced" : "created", oldhex, newhex, in.len);
	record(g, "gate.write", "allow", reason, 0);
	outf(g, "%s %s (%zu bytes, sha256 %s)\n", strcmp(oldhex, "-") ? "replaced" : "created",
	    g->av.v[1], in.len, newhex);
	capture_after(g, &before);
	snapshot_release(&before);
	buf_release(&in);
	return 0;
}

/*
 * patch DIR: a unified diff on stdin (paths relative to DIR after the
 * first component, like patch -p1) applied exactly, all or nothing: every
 * file's new content is computed before the first one is written.
 */
static int
patch_apply(gate *g, const char *dir, buf *in)
{
	buf *outs = NULL;
	char **paths = NULL;
	snapshot before;
	int captured = 0;
	diff d;
	bg_error e;
	size_t i, nf = 0;
	int r = 1;

	memset(&d, 0, sizeof(d));
	memset(&before, 0, sizeof(before));
	if (diff_parse(buf_cstr(in), in->len, &d, &e) != 0) {
		r = refuse(g, "patch: %s", e.msg);
		goto out;
	}
	nf = d.nf;
	if ((outs = calloc(nf, sizeof(*outs))) == NULL || (paths = calloc(nf, sizeof(*paths))) == NULL) {
		r = refuse(g, "patch: out of memory");
		goto out;
	}
	for (i = 0; i < nf; i++) {
		const diff_file *f = &d.f[i];
		char *rel = diff_path(f->new_path ? f->new_path : f->old_path, 1);
		char *orel = f->old_path && f->new_path ? diff_path(f->old_path, 1) : NULL;
		buf old, full;
		struct stat st;
		int fd;

		buf_init(&outs[i], 256u * 1024 * 1024);
		if (rel == NULL || (f->old_path && f->new_path && (orel == NULL || strcmp(rel, orel)))) {
			free(rel);
			free(orel);
			r = refuse(g, "patch: file %zu: paths must be plain, relative and equal on both "
			    "sides (no renames)", i + 1);
			goto out;
		}
		free(orel);
		buf_init(&full, 8192);
		buf_printf(&full, "%s/%s", strcmp(dir, "/") ? dir : "", rel);
		free(rel);
		paths[i] = buf_detach(&full, NULL);
		buf_init(&old, 256u * 1024 * 1024);
		fd = scope_open(&g->sc, paths[i], O_RDONLY, 1, &e);
		if (fd >= 0) {
			if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
			    fileio_read_fd(fd, old.max, &old, &e) != 0) {
				close(fd);
				buf_release(&old);
				r = refuse(g, "patch: cannot read '%.200s'", paths[i]);
				goto out;
			}
			close(fd);
		} else if (f->old_path != NULL) {
			buf_release(&old);
			r = refuse(g, "patch: %s", e.msg);
			goto out;
		}
		if (diff_apply(&d, f, old.data ? old.data : "", old.len, &outs[i], &e) != 0) {
			buf_release(&old);
			r = refuse(g, "patch: '%.200s': %s; nothing was changed", paths[i], e.msg);
			goto out;
		}
		buf_release(&old);
	}
	if ((r = capture_before(g, &before)) != 0)
		goto out;
	captured = 1;
	for (i = 0; i < nf; i++) {
		char oldhex[65], newhex[65], err[512], reason[700];
		int del = d.f[i].new_path == NULL;

		if (replace_file(g, paths[i], del ? NULL : outs[i].data ? outs[i].data : "",
		    outs[i].len, oldhex, newhex, err, sizeof(err)) != 0) {
			r = refuse(g, "patch: %s (%zu of %zu files were written)", err, i, nf);
			goto out;
		}
		snprintf(reason, sizeof(reason), "patched %.400s %s -> %s", paths[i], oldhex, newhex);
		record(g, "gate.write", "allow", reason, 0);
		outf(g, "%s %s (sha256 %s)\n", del ? "deleted" : strcmp(oldhex, "-") ? "patched" :
		    "created", paths[i], del ? oldhex : newhex);
	}
	r = 0;
out:
	if (captured)
		capture_after(g, &before);
	snapshot_release(&before);
	for (i = 0; i < nf; i++) {
		if (outs)
			buf_release(&outs[i]);
		if (paths)
			free(paths[i]);
	}
	free(outs);
	free(paths);
	diff_release(&d);
	return r;
}

static int
verb_patch(gate *g)
{
	buf in;
	int r;

	if ((r = write_tier(g, "patch")) != 0)
		return r;
	if (g->av.n != 2 || need_path(g, "patch", g->av.v[1]))
		return g->av.n != 2 ? refuse(g, "usage: patch DIR < UNIFIED-DIFF") : 1;
	buf_init(&in, DIFF_MAX_INPUT);
	if ((r = read_stdin(g, &in, DIFF_MAX_INPUT, "patch")) == 0 &&
	    (r = approved_content(g, "patch", in.data ? in.data : "", in.len)) == 0)
		r = patch_apply(g, g->av.v[1], &in);
	buf_release(&in);
	return r;
}

/* ---- allowlisted commands ---- */

/* 1: one of the grant's commands; 2: one of its privileged (sudo) commands */
static int
allowed_command(gate *g)
{
	size_t i;

	for (i = 0; i < g->scope_doc.n; i++) {
		argv_list a;
		bg_error e;
		int eq, priv = strcmp(g->scope_doc.items[i].key, "sudo") == 0;

		if (strcmp(g->scope_doc.items[i].key, "command") != 0 && !priv)
			continue;
		if (argv_split(g->scope_doc.items[i].value, &a, &e) != 0)
			continue;
		eq = argv_equal(&a, &g->av);
		argv_release(&a);
		if (eq)
			return priv ? 2 : 1;
	}
	return 0;
}

/*
 * End a process group now: SIGHUP (interactive shells ignore SIGTERM) and
 * SIGTERM, then SIGKILL after half a second.  Reaps pid.
 */
static void
kill_group(pid_t pid)
{
	kill(-pid, SIGHUP);
	kill(-pid, SIGTERM);
	for (int i = 0; i < 5; i++) {
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return;
		poll(NULL, 0, 100);
	}
	kill(-pid, SIGKILL);
}

static int
run_command(gate *g, int privileged)
{
	int outp[2], errp[2], status = 0, open_fds = 2, cut = 0;
	pid_t pid;
	struct pollfd pf[2];
	char b[65536];

	snapshot before;

	if (capture_before(g, &before) != 0)
		return 1;
	if (pipe2(outp, O_CLOEXEC) != 0 || pipe2(errp, O_CLOEXEC) != 0) {
		snapshot_release(&before);
		return refuse(g, "cannot create pipes");
	}
	record(g, "gate.start", "allow", NULL, -1);
	if ((pid = fork()) < 0)
		return refuse(g, "cannot start the command");
	if (pid == 0) {
		char *const envp[] = {
			"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8", "HOME=/",
			"SHELL=/bin/false", NULL
		};
		int fd;

		setpgid(0, 0);
		priv_drop_all(g);
		signal(SIGPIPE, SIG_DFL);
		dup2(outp[1], STDOUT_FILENO);
		dup2(errp[1], STDERR_FILENO);
		if (g->stdin_null) {
			int nul = open("/dev/null", O_RDONLY | O_CLOEXEC);

			if (nul < 0 || dup2(nul, STDIN_FILENO) < 0)
				_exit(126);
		}
		for (fd = 3; fd < 1024; fd++)
			close(fd);
		if (chdir("/") != 0)
			_exit(126);
		if (privileged) {
			/* sudo checks the exact argv against the grant's drop-in */
			char **sv = calloc(g->av.n + 4, sizeof(*sv));

			if (sv == NULL)
				_exit(126);
			sv[0] = "/usr/bin/sudo";
			sv[1] = "-n";
			sv[2] = "--";
			for (size_t k = 0; k < g->av.n; k++)
				sv[3 + k] = g->av.v[k];
			execve(sv[0], sv, envp);
			_exit(127);
		}
		execve(g->av.v[0], g->av.v, envp);
		_exit(127);
	}
	setpgid(pid, pid);
	close(outp[1]);
	close(errp[1]);
	pf[0].fd = outp[0];
	pf[1].fd = errp[0];
	pf[0].events = pf[1].events = POLLIN;
	while (open_fds > 0) {
		int n = poll(pf, 2, GATE_TICK_MS);

		if (n < 0 && errno != EINTR)
			break;
		for (int k = 0; k < 2; k++) {
			ssize_t got;

			if (pf[k].fd < 0 || !(pf[k].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			got = read(pf[k].fd, b, sizeof(b));
			if (got <= 0) {
				close(pf[k].fd);
				pf[k].fd = -1;
				open_fds--;
				continue;
			}
			out_write(g, k == 0 ? STDOUT_FILENO : STDERR_FILENO, b, (size_t)got);
		}
		if (!cut && grant_ended(g)) {
			cut = 1;
			fprintf(stderr, "breakglass: grant G-%lld %s: command ended\n",
			    (long long)g->grant, g->refused_by_expiry ? "expired" : "was revoked");
			kill_group(pid);
			break;
		}
	}
	for (int k = 0; k < 2; k++)
		if (pf[k].fd >= 0)
			close(pf[k].fd);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	if (status == 127 && !cut)
		fprintf(stderr, "breakglass: '%s' could not be run on this host\n", g->av.v[0]);
	record(g, "gate.end", cut ? "cut" : "allow", cut ? (g->refused_by_expiry ?
	    "grant expired" : "grant revoked") : NULL, status);
	capture_after(g, &before);
	snapshot_release(&before);
	return status;
}

/* ---- the shell tier ---- */

static volatile sig_atomic_t got_winch;

static void
on_winch(int sig)
{
	(void)sig;
	got_winch = 1;
}

static int
valid_term(const char *t)
{
	return t != NULL && *t && strlen(t) < 64 &&
	    strspn(t, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.+-_") == strlen(t);
}

/*
 * An interactive shell under a new pty, fully recorded.  The recording is
 * created (in the host log's directory, out of the account's reach)
 * before the shell starts: without a recording there is no session.
 */
static int
run_shell(gate *g)
{
	const char *tier = kv_get(&g->scope_doc, "tier");
	const char *term = getenv("TERM");
	char name[160], path[4096], slave[128], hex[65], ts[UTC_STRLEN], reason[256];
	unsigned char rnd[4];
	struct winsize ws;
	struct termios saved, raw;
	int recfd, master, status = 0, tty = isatty(STDIN_FILENO), stdin_open = 1, cut = 0;
	recorder rec;
	snapshot before;
	pid_t pid;

	if (tier == NULL || strcmp(tier, "shell") != 0)
		return refuse(g, "no interactive shell: grant G-%lld is tier %s; run a command "
		    "(ssh HOST help)", (long long)g->grant, tier ? tier : "read");
	if (!valid_term(term))
		term = "dumb";
	utc_format(g->now, ts);
	randombytes_buf(rnd, sizeof(rnd));
	snprintf(name, sizeof(name), "T-%lld-G-%lld-%.4s%.2s%.2sT%.2s%.2s%.2sZ-%02x%02x%02x%02x.cast",
	    (long long)g->ticket, (long long)g->grant, ts, ts + 5, ts + 8, ts + 11, ts + 14, ts + 17,
	    rnd[0], rnd[1], rnd[2], rnd[3]);
	snprintf(path, sizeof(path), "%s/recordings/%s", g->audit_dir, name);
	priv_up(g);
	recfd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);
	priv_down(g);
	if (recfd < 0)
		return refuse(g, "cannot start the session recording (%s): no shell without it",
		    strerror(errno));
	if (capture_before(g, &before) != 0) {
		close(recfd);
		return 1;
	}
	memset(&ws, 0, sizeof(ws));
	if (!tty || ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) != 0 || ws.ws_col == 0) {
		ws.ws_col = 80;
		ws.ws_row = 24;
	}
	if ((master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0 || grantpt(master) != 0 ||
	    unlockpt(master) != 0 || ptsname_r(master, slave, sizeof(slave)) != 0) {
		close(recfd);
		return refuse(g, "cannot allocate a terminal");
	}
	ioctl(master, TIOCSWINSZ, &ws);
	{
		char title[96];

		snprintf(title, sizeof(title), "breakglass T-%lld G-%lld %s", (long long)g->ticket,
		    (long long)g->grant, g->env->user);
		record_open(&rec, recfd, ws.ws_col, ws.ws_row, g->now, title, term);
	}
	snprintf(reason, sizeof(reason), "recording %s", name);
	record(g, "gate.start", "allow", reason, -1);
	if ((pid = fork()) < 0) {
		close(master);
		close(recfd);
		return refuse(g, "cannot start the shell");
	}
	if (pid == 0) {
		char termv[80], ps1[96], gv[40];
		char *envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8", "HOME=/",
			"SHELL=/bin/sh", termv, ps1, gv, NULL };
		int s;

		snprintf(termv, sizeof(termv), "TERM=%s", term);
		snprintf(ps1, sizeof(ps1), "PS1=[breakglass G-%lld] \\u@\\h:\\w\\$ ",
		    (long long)g->grant);
		snprintf(gv, sizeof(gv), "BREAKGLASS_GRANT=G-%lld", (long long)g->grant);
		if (setsid() < 0 || (s = open(slave, O_RDWR)) < 0)
			_exit(126);
		ioctl(s, TIOCSCTTY, 0);
		dup2(s, 0);
		dup2(s, 1);
		dup2(s, 2);
		for (int fd = 3; fd < 1024; fd++)
			close(fd);
		priv_drop_all(g);
		signal(SIGPIPE, SIG_DFL);
		if (access("/bin/bash", X_OK) == 0) {
			char *const av[] = { "bash", "--noprofile", "--norc", "-i", NULL };

			execve("/bin/bash", av, envp);
		} else {
			char *const av[] = { "sh", "-i", NULL };

			execve("/bin/sh", av, envp);
		}
		_exit(127);
	}
	if (tty && tcgetattr(STDIN_FILENO, &saved) == 0) {
		raw = saved;
		cfmakeraw(&raw);
		tcsetattr(STDIN_FILENO, TCSANOW, &raw); /* keep typeahead */
	} else
		tty = 0;
	signal(SIGWINCH, on_winch);
	for (;;) {
		struct pollfd pf[2];
		char b[16384];
		ssize_t n;

		pf[0].fd = stdin_open ? STDIN_FILENO : -1;
		pf[1].fd = master;
		pf[0].events = pf[1].events = POLLIN;
		n = poll(pf, 2, GATE_TICK_MS);
		if (n < 0 && errno != EINTR)
			break;
		if (got_winch) {
			got_winch = 0;
			if (tty && ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) {
				ioctl(master, TIOCSWINSZ, &ws);
				record_resize(&rec, ws.ws_col, ws.ws_row);
			}
		}
		if (n > 0 && (pf[1].revents & (POLLIN | POLLHUP | POLLERR))) {
			if ((n = read(master, b, sizeof(b))) <= 0)
				break; /* the shell is gone */
			out_write(g, STDOUT_FILENO, b, (size_t)n);
			record_output(&rec, b, (size_t)n);
		}
		if (stdin_open && pf[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			if ((n = read(STDIN_FILENO, b, sizeof(b))) <= 0) {
				stdin_open = 0;
			} else {
				struct termios t;
				int hidden = tcgetattr(master, &t) == 0 && !(t.c_lflag & ECHO);

				(void)fileio_write_full(master, b, (size_t)n);
				record_input(&rec, b, (size_t)n, hidden);
			}
		}
		record_tick(&rec);
		if (grant_ended(g)) {
			static const char msg_e[] = "\r\nbreakglass: the grant expired: session ended\r\n";
			static const char msg_r[] = "\r\nbreakglass: the grant was revoked: session ended\r\n";
			const char *m = g->refused_by_expiry ? msg_e : msg_r;

			cut = 1;
			(void)fileio_write_full(STDOUT_FILENO, m, strlen(m));
			record_marker(&rec, g->refused_by_expiry ? "breakglass: grant expired: session ended" :
			    "breakglass: grant revoked: session ended");
			kill_group(pid);
			break;
		}
	}
	if (tty)
		tcsetattr(STDIN_FILENO, TCSADRAIN, &saved);
	if (!cut)
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	close(master);
	if (record_close(&rec, hex) != 0)
		syslog(LOG_AUTHPRIV | LOG_ERR, "breakglass gate: recording %s incomplete", name);
	close(recfd);
	status = cut ? 128 + SIGHUP : WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	snprintf(reason, sizeof(reason), "recording %s sha256 %s", name, hex);
	record(g, "gate.end", cut ? "cut" : "allow", reason, status);
	capture_after(g, &before);
	snapshot_release(&before);
	return status;
}

/* ---- the verbs, and apply ---- */

static int verb_apply(gate *g);

typedef struct gate_verb {
	const char *name;
	int (*fn)(gate *);
	int step; /* may be a step of a command list: reads no standard input */
} gate_verb;

static const gate_verb verbs[] = {
	{ "ls", verb_ls, 1 }, { "cat", verb_cat, 1 }, { "tail", verb_tail, 1 },
	{ "grep", verb_grep, 1 }, { "stat", verb_stat, 1 }, { "sha256", verb_sha256, 1 },
	{ "find-changed", verb_find_changed, 1 }, { "put", verb_put, 0 },
	{ "patch", verb_patch, 0 }, { "apply", verb_apply, 0 },
	{ "help", verb_help, 1 },
};

static const gate_verb *
find_verb(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strcmp(verbs[i].name, name) == 0)
			return &verbs[i];
	return NULL;
}

static int
run_verb(gate *g, const gate_verb *v)
{
	int status;

	g->bytes_out = 0;
	g->recorded = 0;
	status = v->fn(g);
	/* refusals, cuts and writes record themselves */
	if (!g->recorded)
		record(g, "gate.verb", "allow", NULL, status);
	return status;
}

static void describe_request(gate *g);

/* One step of a command list, already split into g->av. */
static int
run_step(gate *g, size_t k, size_t n)
{
	const gate_verb *v;
	size_t i;

	describe_request(g);
	fprintf(stderr, "breakglass: apply: step %zu of %zu: %s\n", k, n, g->request);
	/* a list can outlast its grant: each step is checked like a login */
	if (grant_ended(g))
		return refuse(g, "grant G-%lld %s: step %zu and those after it were not run",
		    (long long)g->grant, g->refused_by_expiry ? "expired" : "was revoked", k);
	if (strchr(g->av.v[0], '/') != NULL) {
		int kind_of = allowed_command(g);

		if (kind_of == 0)
			return refuse(g, "'%.200s' is not an allowed command of grant G-%lld",
			    g->request, (long long)g->grant);
		return run_command(g, kind_of == 2);
	}
	if ((v = find_verb(g->av.v[0])) == NULL || !v->step)
		return refuse(g, "'%.64s' cannot be a step of a command list (steps are allowed "
		    "commands and the verbs that read no input)", g->av.v[0]);
	for (i = 1; strcmp(v->name, "tail") == 0 && i < g->av.n; i++)
		if (strcmp(g->av.v[i], "-f") == 0)
			return refuse(g, "tail -f cannot be a step of a command list: it would not end");
	return run_verb(g, v);
}

/*
 * A command list: one request per line (blank lines and lines starting
 * with '#' skipped), each split like an ssh request and checked like one
 * (allowed commands by exact argv, verbs by their own rules), run in
 * order with standard input from /dev/null; the first failure stops it.
 */
static int
apply_commands(gate *g, const char *text, size_t len)
{
	argv_list saved = g->av;
	char saved_req[sizeof(g->request)];
	size_t pos, n = 0, k = 0;
	int status = 0, pass;

	memcpy(saved_req, g->request, sizeof(saved_req));
	g->stdin_null = 1;
	for (pass = 0; pass < 2 && status == 0; pass++) {
		for (pos = 0; pos < len && status == 0;) {
			const char *s = text + pos, *nl = memchr(s, '\n', len - pos);
			size_t ln = nl != NULL ? (size_t)(nl - s) : len - pos, lead;
			char *line;
			bg_error e;

			pos += ln + (nl != NULL);
			lead = 0;
			while (lead < ln && (s[lead] == ' ' || s[lead] == '\t'))
				lead++;
			if (lead == ln || s[lead] == '#')
				continue;
			if (pass == 0) {
				n++;
				if (ln > 8192 || memchr(s, '\0', ln) != NULL)
					status = refuse(g, "apply: step %zu: longer than 8192 bytes or not text", n);
				continue;
			}
			k++;
			if ((line = strndup(s, ln)) == NULL) {
				status = refuse(g, "apply: out of memory");
				break;
			}
			if (argv_split(line, &g->av, &e) != 0 || g->av.n == 0) {
				status = refuse(g, "apply: step %zu: cannot parse it: %s", k,
				    g->av.n == 0 ? "empty" : e.msg);
			} else {
				status = run_step(g, k, n);
				if (status != 0 && k < n)
					fprintf(stderr, "breakglass: apply: step %zu failed (exit %d); the "
					    "%zu after it were not run\n", k, status, n - k);
			}
			argv_release(&g->av);
			free(line);
		}
		if (pass == 0 && n == 0 && status == 0)
			status = refuse(g, "apply: the command list has no commands");
	}
	g->stdin_null = 0;
	g->av = saved;
	memcpy(g->request, saved_req, sizeof(saved_req));
	return status;
}

/* A diff with no kind in the certificate (issued before kinds were). */
static int
looks_like_diff(const char *s, size_t n)
{
	return (n >= 4 && (memcmp(s, "--- ", 4) == 0 || memcmp(s, "diff", 4) == 0)) ||
	    (memmem(s, n, "\n--- ", 5) != NULL && memmem(s, n, "\n+++ ", 5) != NULL);
}

/*
 * apply [DIR] < ARTIFACT: the bytes must be an artifact the plan approval
 * signed (its SHA-256 is in the certificate, with its kind).  A diff is
 * applied like patch; a command list step by step; SQL and other kinds
 * are refused here (the gate has no database connection).
 */
static int
verb_apply(gate *g)
{
	const char *kind, *roots[SCOPE_MAX_ROOTS];
	char hex[65], reason[160];
	buf in;
	int r;

	if (g->av.n > 2)
		return refuse(g, "usage: apply [DIR] < ARTIFACT");
	buf_init(&in, PLAN_MAX_ARTIFACT);
	if ((r = read_stdin(g, &in, PLAN_MAX_ARTIFACT, "apply")) != 0)
		goto out;
	hash_sha256_hex(in.data ? in.data : "", in.len, hex);
	if ((kind = approved_kind(g, hex)) == NULL) {
		r = refuse(g, "apply: the content (sha256 %s) is not an approved artifact of the plan "
		    "of T-%lld; only approved artifacts are applied, byte for byte", hex,
		    (long long)g->ticket);
		goto out;
	}
	if (*kind == '\0' && looks_like_diff(in.data ? in.data : "", in.len))
		kind = "diff";
	snprintf(reason, sizeof(reason), "artifact sha256 %s (%s)", hex, *kind ? kind : "kind unknown");
	if (strcmp(kind, "diff") == 0) {
		const char *dir = g->av.n == 2 ? g->av.v[1] : NULL;

		if ((r = write_tier(g, "apply")) != 0)
			goto out;
		if (dir == NULL) {
			if (writable_roots(g, roots) != 1) {
				r = refuse(g, "apply: name the directory the diff applies under "
				    "(apply DIR): grant G-%lld has %zu writable directories",
				    (long long)g->grant, writable_roots(g, roots));
				goto out;
			}
			dir = roots[0];
		}
		if ((r = need_path(g, "apply", dir)) != 0)
			goto out;
		record(g, "gate.apply", "allow", reason, -1);
		r = patch_apply(g, dir, &in);
	} else if (strcmp(kind, "commands") == 0) {
		if (g->av.n != 1) {
			r = refuse(g, "apply: a command list takes no directory");
			goto out;
		}
		record(g, "gate.apply", "allow", reason, -1);
		r = apply_commands(g, in.data ? in.data : "", in.len);
	} else if (*kind == '\0') {
		r = refuse(g, "apply: this certificate names the artifact without its kind; get a "
		    "new one (breakglass grant cert)");
		goto out;
	} else {
		r = refuse(g, "apply: %s artifacts are not applied by the gate (it has no database "
		    "or other connection); the owner runs them and records the output", kind);
		goto out;
	}
	record(g, "gate.apply", "allow", reason, r); /* the end, with the status */
out:
	buf_release(&in);
	return r;
}

/* ---- main ---- */

/* Copy text into out (n bytes) with secrets redacted and controls made safe. */
static void
redacted(const char *text, char *out, size_t n)
{
	buf b;

	buf_init(&b, 64 * 1024);
	if (scan_redact(text, strlen(text), &b, NULL) != 0)
		snprintf(out, n, "[unrecordable]");
	else
		safe_name(buf_cstr(&b), out, n);
	buf_release(&b);
}

static void
describe_request(gate *g)
{
	buf j;

	buf_init(&j, 64 * 1024);
	if (argv_join(&g->av, &j) != 0)
		snprintf(g->request, sizeof(g->request), "[request too long: %zu arguments]", g->av.n);
	else
		redacted(buf_cstr(&j), g->request, sizeof(g->request));
	buf_release(&j);
}

int
gate_main(const gate_env *env)
{
	gate g;
	bg_error e;
	int r, status;
	const char *kind, *verb;

	memset(&g, 0, sizeof(g));
	g.env = env;
	g.rgid = getgid();
	g.sgid = getegid();
	g.setgid = g.rgid != g.sgid;
	priv_down(&g);
	g.now = utc_now();
	snprintf(g.request, sizeof(g.request), "%s", "(interactive)");
	openlog("breakglass", LOG_PID, LOG_AUTHPRIV);
	bg_error_clear(&e);
	if ((r = load_config(&g, &e)) != 0) {
		status = refuse(&g, "gate is not usable: %s", e.msg);
		goto out;
	}
	if ((r = load_cert(&g, &e)) != 0 || (r = load_scope(&g, &e)) != 0) {
		status = refuse(&g, "%s", e.msg);
		goto out;
	}
	kind = kv_get(&g.scope_doc, "kind");
	if (kind == NULL || strcmp(kind, "ssh") != 0) {
		status = refuse(&g, "grant G-%lld is not an ssh grant", (long long)g.grant);
		goto out;
	}
	if (env->original_command == NULL) {
		status = run_shell(&g);
		goto out;
	}
	if (strlen(env->original_command) > 8192) {
		status = refuse(&g, "request longer than 8192 bytes");
		goto out;
	}
	if (argv_split(env->original_command, &g.av, &e) != 0) {
		snprintf(g.request, sizeof(g.request), "(unparseable)");
		status = refuse(&g, "cannot parse the request: %s", e.msg);
		goto out;
	}
	if (g.av.n == 0) {
		status = refuse(&g, "empty request");
		goto out;
	}
	describe_request(&g);
	verb = g.av.v[0];
	if (strchr(verb, '/') != NULL) {
		int kind_of = allowed_command(&g);

		if (kind_of == 0) {
			status = refuse(&g, "'%.200s' is not an allowed command of grant G-%lld "
			    "(see 'help')", g.request, (long long)g.grant);
			goto out;
		}
		status = run_command(&g, kind_of == 2);
		goto out;
	}
	{
		const gate_verb *v = find_verb(verb);

		if (v != NULL) {
			status = run_verb(&g, v);
			goto out;
		}
	}
	status = refuse(&g, "'%.64s' is not a breakglass command or an allowed command of grant "
	    "G-%lld (see 'help')", verb, (long long)g.grant);
out:
	argv_release(&g.av);
	scope_release(&g.sc);
	kv_doc_release(&g.scope_doc);
	cert_release(&g.c);
	if (g.log_open)
		audit_close(&g.log);
	sshkey_priv_release(&g.hostkey);
	free(g.krl_path);
	free(g.audit_dir);
	closelog();
	return status;
}
