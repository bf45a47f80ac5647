/*
 * gate.c - the host-side forced command: configuration, the certificate,
 * the request's dispatch and its records.
 *
 * The gate is split by what a request does (gate-int.h holds what the
 * parts share):
 *   gate.c        configuration, the certificate and the KRL, the host-log
 *                 records, privileges, and the dispatch of a request
 *   gate-read.c   the read verbs (ls, cat, tail, grep, stat, sha256,
 *                 find-changed, help), confined to the grant's directories
 *   gate-write.c  the write verbs (put, patch, apply) and the change
 *                 capture around every write (snapshots, change sets)
 *   gate-run.c    running programs: allowlisted and privileged commands,
 *                 the shell tier, and the supervision that cuts them
 *   gate-collect.c  collect: a diagnostics bundle made within the grant
 *
 * Privileges: a request is served by a child of hostd (hostd.h) whose
 * real and saved uid are root and whose effective ids and groups are the
 * account's, so files are opened with the account's permissions; root is
 * raised just for host-log, recording and snapshot writes, and every
 * program a request starts runs with all ids of the account.  The account
 * can neither signal nor ptrace the serving process.
 *
 * A request is one of: no command (the shell tier), a path (an allowed
 * command, matched by exact argv), or a built-in verb.  Anything else is
 * refused with one line, and every decision is a host-log record.
 */
#include "gate.h"
#include "gate-int.h"
#include "argv.h"
#include "fileio.h"
#include "consent.h"
#include "grantscope.h"
#include "json.h"
#include "krl.h"
#include "scan.h"
#include "text.h"
#include "utc.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <poll.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/statvfs.h>
#include <syslog.h>
#include <unistd.h>

#define GATE_MAX_LINE (64u * 1024)
/* what the host log's file system keeps free by default (log-reserve) */
#define GATE_LOG_RESERVE (16u * 1024 * 1024)
/* what a password prompt's last line looks like (password-prompt:) */
#define GATE_DEFAULT_PROMPT "(?i)(password|pass ?phrase|passcode|\\bpin)[^:\\n]{0,64}: ?$"

const char gate_verbs_help[] =
	"  ls [DIR]                      list a directory (no DIR: the grant's directories)\n"
	"  cat FILE                      print a file\n"
	"  tail [-n N|-n +N] [-f] FILE   last N lines (default 10; 0: none), or from line N\n"
	"                                on; -f then follows until the grant ends\n"
	"  grep [-F] [-i] [-n] PATTERN FILE   matching lines (extended regex, or -F fixed)\n"
	"  stat PATH                     type, mode, owner, size, times\n"
	"  sha256 FILE                   SHA-256 of a file\n"
	"  find-changed --since TIME [DIR]    files changed since TIME (UTC)\n"
	"  put FILE < CONTENT            replace (or create) FILE atomically with stdin\n"
	"  patch DIR < DIFF              apply a unified diff under DIR (-p1, or the -pN\n"
	"                                patch(1) would find), exactly,\n"
	"                                all files or none (put and patch: tiers plan and\n"
	"                                shell, writable directories only)\n"
	"  apply [DIR] < ARTIFACT        apply an artifact of the approved plan, found by\n"
	"                                its SHA-256: a diff as patch DIR (default: the\n"
	"                                grant's only writable directory), a command list\n"
	"                                one line at a time as requests of their own,\n"
	"                                stopping at the first that fails\n"
	"  collect [--profile NAME] [--app DIR] < KEY\n"
	"                                a diagnostics bundle (breakglass collect) of what\n"
	"                                the grant may read, by a built-in profile, keyed\n"
	"                                with the per-incident key on stdin; under a db\n"
	"                                grant with the database's schema, migrations and\n"
	"                                row counts\n"
	"  help                          what this grant allows\n";

static const kv_key config_schema[] = {
	{ "ca-key", KV_REQUIRED, 1024 },
	{ "krl", KV_REQUIRED, 1024 },
	{ "audit-dir", KV_REQUIRED, 1024 },
	{ "system", KV_REQUIRED, 128 },
	{ "log-reserve", 0, 32 },
	{ "krl-max-age", 0, 16 },
	{ "clock-skew", 0, 16 },
	{ "approvers", 0, 1024 },
	{ "auth-spool", 0, 1024 },
	{ "password-prompt", 0, 1024 },
	{ "write-quorum", 0, 8 },
	{ "read-consent", 0, 16 },
	{ "landlock", 0, 16 },
	{ "db-postgres", 0, 1024 },
	{ "db-postgres-as", 0, 64 },
	{ "db-mariadb", 0, 1024 },
	{ NULL, 0, 0 }
};

const kv_key *const gate_config_schema = config_schema;
static void log_state_save(gate *g);

void
gate_priv_down(gate *g)
{
	if (g->priv_depth > 1) {
		g->priv_depth--;
		return;
	}
	g->priv_depth = 0;
	if (setresgid((gid_t)-1, g->env->gid, (gid_t)-1) != 0 ||
	    setresuid((uid_t)-1, g->env->uid, (uid_t)-1) != 0)
		_exit(1);
}

void
gate_priv_up(gate *g)
{
	if (g->priv_depth++ > 0)
		return;
	if (setresuid((uid_t)-1, 0, (uid_t)-1) != 0 || setresgid((gid_t)-1, 0, (gid_t)-1) != 0)
		_exit(1);
}

/* For good: from here on every id is the account's (checked). */
void
gate_priv_drop_all(gate *g)
{
	uid_t r, ef, s;

	gate_priv_up(g);
	if (setresgid(g->env->gid, g->env->gid, g->env->gid) != 0 ||
	    setresuid(g->env->uid, g->env->uid, g->env->uid) != 0 ||
	    getresuid(&r, &ef, &s) != 0 || r != g->env->uid || ef != r || s != r)
		_exit(1);
}

int
gate_write(gate *g, int fd, const void *p, size_t n)
{
	if (fileio_write_full(fd, p, n) != 0)
		return BG_ERR_IO;
	if (fd == STDOUT_FILENO)
		g->bytes_out += n;
	return 0;
}

int
gate_printf(gate *g, const char *fmt, ...)
{
	buf b;
	va_list ap;
	int r;

	buf_init(&b, GATE_MAX_LINE);
	va_start(ap, fmt);
	r = buf_vprintf(&b, fmt, ap);
	va_end(ap);
	if (r == 0)
		r = gate_write(g, STDOUT_FILENO, b.data, b.len);
	buf_release(&b);
	return r;
}

/*
 * A name printed for a person or a log line: escaped by text_visible (no
 * byte sequence can end the line, start a terminal escape or reorder the
 * text), cut to n - 1 bytes at a character boundary.
 */
void
gate_safe_name(const char *s, char *out, size_t n)
{
	buf b;
	size_t k;

	buf_init(&b, 0);
	if (text_visible(&b, s, strlen(s)) != 0) {
		snprintf(out, n, "[name not shown]");
		buf_release(&b);
		return;
	}
	k = b.len < n - 1 ? b.len : n - 1;
	while (k > 0 && k < b.len && ((unsigned char)b.data[k] & 0xc0) == 0x80)
		k--;
	memcpy(out, b.data ? b.data : "", k);
	out[k] = '\0';
	buf_release(&b);
}

static void flush_pending(gate *g, int durable);

/*
 * A host-log record of this request: who, which grant, what, the decision
 * and why; extra (NULL-terminated name, value pairs, may be NULL) adds
 * fields tools read back, such as a change set's id and hashes.  nosync:
 * the request's last record (gate_record_end), written at once, made
 * durable later (by a durable record after it, or gate_record_sync).
 */
static void
record_build(gate *g, const char *event, const char *decision, const char *reason, int status,
    const char *const *extra, int nosync)
{
	buf d, rv;
	json j;
	char serial[32];

	/* a reason names files and echoes requests: escaped like them */
	buf_init(&rv, 16 * 1024);
	if (reason != NULL && text_visible(&rv, reason, strlen(reason)) != 0) {
		buf_reset(&rv);
		buf_puts(&rv, "[reason too long to be recorded]");
	}
	if (reason != NULL)
		reason = buf_cstr(&rv);
	buf_init(&d, AUDIT_MAX_RECORD - 1024);
	json_init(&j, &d);
	json_obj_begin(&j);
	json_kv_str(&j, "user", g->env->user);
	snprintf(serial, sizeof(serial), "%llu", (unsigned long long)g->c.serial);
	json_kv_str(&j, "serial", g->c.key_id ? serial : NULL);
	/* who: the certificate's key id names the broker user it was issued
	 * to, and the key it certifies is the one that logged in here */
	if (g->c.key_id != NULL) {
		char fp[SSHKEY_FP_LEN];

		sshkey_fingerprint(&g->c.key, fp);
		json_kv_str(&j, "key_id", g->c.key_id);
		json_kv_str(&j, "key", fp);
	}
	json_kv_int(&j, "grant", g->grant);
	json_kv_str(&j, "request", g->request);
	json_kv_str(&j, "decision", decision);
	if (reason)
		json_kv_str(&j, "reason", reason);
	if (status >= 0)
		json_kv_int(&j, "status", status);
	json_kv_int(&j, "bytes_out", (int64_t)g->bytes_out);
	/* when in the request the record was made: microseconds after hostd
	 * accepted the gate's connection (what a request costs, part by part) */
	if (g->env->accepted > 0)
		json_kv_int(&j, "at_us", (int64_t)((utc_mono() - g->env->accepted) * 1e6));
	for (; extra != NULL && extra[0] != NULL; extra += 2)
		json_kv_str(&j, extra[0], extra[1]);
	if (g->landlock_abi == 0 && g->landlock_optional)
		json_kv_str(&j, "confinement", GATE_UNCONFINED);
	json_obj_end(&j);
	syslog(LOG_AUTHPRIV | (strcmp(decision, "refuse") == 0 ? LOG_WARNING : LOG_INFO),
	    "breakglass gate: user=%s grant=G-%lld %s %s%s%s", g->env->user,
	    (long long)g->grant, decision, g->request, reason ? ": " : "", reason ? reason : "");
	g->recorded = 1;
	if (g->log_open && json_error(&j) != 0) {
		/* a record that cannot be written whole is not written cut: this
		 * request ends as if the log could not be written */
		syslog(LOG_AUTHPRIV | LOG_ERR, "breakglass gate: a %s record too large for the host log",
		    event);
		g->log_cut = 1;
	}
	if (!g->log_open || json_error(&j) != 0) {
		buf_release(&d);
		buf_release(&rv);
		return;
	}
	{
		struct gate_pending *p = &g->pending[g->npending];

		p->now = utc_now();
		p->event = strdup(event);
		p->detail = buf_detach(&d, NULL);
		if (p->event == NULL || p->detail == NULL) {
			free(p->event);
			free(p->detail);
			syslog(LOG_AUTHPRIV | LOG_ERR, "breakglass gate: out of memory for a %s record",
			    event);
			g->log_cut = 1;
		} else if (g->npending++ == 0)
			g->pending_since = utc_mono();
	}
	if (nosync)
		flush_pending(g, 0);
	else if (g->npending == GATE_DEFER_MAX || !g->defer_sql || strcmp(event, "gate.sql") != 0)
		gate_record_flush(g);
	buf_release(&d);
	buf_release(&rv);
}

void
gate_record_with(gate *g, const char *event, const char *decision, const char *reason, int status,
    const char *const *extra)
{
	record_build(g, event, decision, reason, status, extra, 0);
}

void
gate_record_end(gate *g, const char *event, const char *decision, const char *reason, int status)
{
	record_build(g, event, decision, reason, status, NULL, 1);
}

void
gate_record_defer(gate *g)
{
	g->defer_sql = 1;
}

/* fail closed: this request and every other one, until it works */
static void
log_failed(gate *g, const bg_error *e)
{
	syslog(LOG_AUTHPRIV | LOG_ERR, "breakglass gate: audit append failed: %s", e->msg);
	g->log_cut = 1;
	if (g->env->shared != NULL) {
		snprintf(g->env->shared->why, sizeof(g->env->shared->why), "%.250s", e->msg);
		g->env->shared->log_failed = 1;
	}
}

/* durable: as gate_record_flush; 0: written and visible, made durable by
 * gate_record_sync (gate_main, after the answer) */
static void
flush_pending(gate *g, int durable)
{
	audit_rec recs[GATE_DEFER_MAX];
	bg_error e;
	size_t i, n = g->npending;

	if (n == 0)
		return;
	for (i = 0; i < n; i++) {
		recs[i].now = g->pending[i].now;
		recs[i].actor = g->env->user;
		recs[i].event = g->pending[i].event;
		recs[i].ticket = g->ticket;
		recs[i].detail_json = g->pending[i].detail;
	}
	gate_priv_up(g);
	if (audit_append_many_ex(&g->log, recs, n, durable ? 0 : AUDIT_NOSYNC, &e) != 0)
		log_failed(g, &e);
	else
		g->unsynced = !durable;
	gate_priv_down(g);
	for (i = 0; i < n; i++) {
		free(g->pending[i].event);
		free(g->pending[i].detail);
	}
	g->npending = 0;
	if (g->log_cut && g->env->shared != NULL)
		log_state_save(g); /* the failure outlives a restart of hostd */
}

void
gate_record_flush(gate *g)
{
	flush_pending(g, 1);
}

/*
 * The record that announces a program (gate.start), written at once and
 * its flush started (audit_sync_start): the program's process is made
 * (Landlock, cgroup, fork) while the device flushes, and runs only once
 * the record is durable: go (-1: none) is the pipe it waits on, and the
 * flush writes GATE_GO to it the moment the record is durable.  A step
 * that fails meanwhile refuses with a record of its own after it:
 * "nothing was run".
 */
void
gate_record_started(gate *g, const char *event, const char *decision, int go)
{
	g->go = go;
	record_build(g, event, decision, NULL, -1, NULL, 1);
	if (g->log_cut || !g->unsynced)
		return;
	gate_priv_up(g);
	(void)audit_sync_start(&g->log, &g->syncing, go, GATE_GO);
	gate_priv_down(g);
}

/* 0 when what gate_record_started wrote is durable and GATE_GO was
 * written to its go; 1 when durable but go could not be written; -1 when
 * the log failed (every request is refused) */
int
gate_record_wait(gate *g)
{
	bg_error e;
	int r, go = g->go;

	g->go = -1;
	if (!g->syncing.started) {
		char w = GATE_GO;

		if (g->log_cut)
			return -1;
		return go < 0 || write(go, &w, 1) == 1 ? 0 : 1;
	}
	gate_priv_up(g);
	r = audit_sync_wait(&g->log, &g->syncing, &e);
	gate_priv_down(g);
	if (r != 0) {
		log_failed(g, &e);
		if (g->env->shared != NULL)
			log_state_save(g);
	} else if (g->npending == 0)
		g->unsynced = 0;
	if (g->log_cut)
		return -1;
	return go < 0 || g->syncing.notified ? 0 : 1;
}

/* What flush_pending(g, 0) wrote, durable. */
static void
gate_record_sync(gate *g)
{
	bg_error e;

	(void)gate_record_wait(g);
	if (!g->unsynced)
		return;
	g->unsynced = 0;
	gate_priv_up(g);
	if (audit_sync(&g->log, &e) != 0)
		log_failed(g, &e);
	gate_priv_down(g);
	if (g->log_cut && g->env->shared != NULL)
		log_state_save(g);
}

void
gate_record(gate *g, const char *event, const char *decision, const char *reason, int status)
{
	gate_record_with(g, event, decision, reason, status, NULL);
}

#define LOG_STATE_MAGIC "breakglass log-state v1\n"

int
gate_log_state_format(int failed, unsigned long refused, const char *why,
    char out[GATE_LOG_STATE_SIZE])
{
	char w[256];
	int n;
	size_t i;

	/* one line: the reason is an error message, made safe anyway */
	for (i = 0; why[i] && i + 1 < sizeof(w); i++)
		w[i] = (unsigned char)why[i] < 0x20 || why[i] == 0x7f ? '?' : why[i];
	w[i] = '\0';
	n = snprintf(out, GATE_LOG_STATE_SIZE, LOG_STATE_MAGIC "failed: %d\nrefused: %lu\nwhy: %s\n",
	    failed ? 1 : 0, refused, w);
	if (n < 0 || n >= GATE_LOG_STATE_SIZE)
		return BG_ERR_TOOLARGE;
	memset(out + n, ' ', GATE_LOG_STATE_SIZE - (size_t)n);
	out[GATE_LOG_STATE_SIZE - 1] = '\n';
	return 0;
}

int
gate_log_state_parse(const char *text, size_t len, int *failed, unsigned long *refused,
    char why[256])
{
	const char *p = text, *end = text + len, *nl;
	unsigned long v = 0;
	size_t i;

	if (len != GATE_LOG_STATE_SIZE || text[len - 1] != '\n' ||
	    memcmp(p, LOG_STATE_MAGIC, sizeof(LOG_STATE_MAGIC) - 1) != 0)
		return BG_ERR_CORRUPT;
	p += sizeof(LOG_STATE_MAGIC) - 1;
	if (end - p < 11 || memcmp(p, "failed: ", 8) != 0 || (p[8] != '0' && p[8] != '1') ||
	    p[9] != '\n')
		return BG_ERR_CORRUPT;
	*failed = p[8] == '1';
	p += 10;
	if (end - p < 11 || memcmp(p, "refused: ", 9) != 0)
		return BG_ERR_CORRUPT;
	p += 9;
	for (i = 0; p < end && *p >= '0' && *p <= '9'; i++, p++) {
		if (i == 19 || (i == 1 && v == 0))
			return BG_ERR_CORRUPT; /* no leading zero, no overflow */
		v = v * 10 + (unsigned long)(*p - '0');
	}
	if (i == 0 || p == end || *p++ != '\n' || end - p < 5 || memcmp(p, "why: ", 5) != 0)
		return BG_ERR_CORRUPT;
	p += 5;
	if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL || (size_t)(nl - p) >= 256)
		return BG_ERR_CORRUPT;
	for (const char *c = p; c < nl; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return BG_ERR_CORRUPT;
	memcpy(why, p, (size_t)(nl - p));
	why[nl - p] = '\0';
	for (p = nl + 1; p < end - 1; p++)
		if (*p != ' ')
			return BG_ERR_CORRUPT;
	*refused = v;
	return 0;
}

/* Write the shared state to AUDIT_DIR/log-state, in place. */
static void
log_state_save(gate *g)
{
	char text[GATE_LOG_STATE_SIZE], path[4200];
	int fd;

	if (g->env->shared == NULL || g->audit_dir == NULL ||
	    gate_log_state_format(g->env->shared->log_failed, g->env->shared->refused,
	    g->env->shared->why, text) != 0)
		return;
	snprintf(path, sizeof(path), "%s/log-state", g->audit_dir);
	gate_priv_up(g);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600)) >= 0) {
		if (pwrite(fd, text, sizeof(text), 0) != (ssize_t)sizeof(text))
			syslog(LOG_AUTHPRIV | LOG_ERR, "breakglass gate: cannot save the log state");
		close(fd);
	}
	gate_priv_down(g);
}

/* Once per hostd: the state a previous hostd left (or a new file). */
static void
log_state_load(gate *g)
{
	gate_shared *sh = g->env->shared;
	char path[4200], why[256];
	buf text;
	bg_error e;
	int failed, expect = 0;
	unsigned long refused;

	if (sh == NULL || !__atomic_compare_exchange_n(&sh->state_loaded, &expect, 1, 0,
	    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
		return;
	snprintf(path, sizeof(path), "%s/log-state", g->audit_dir);
	buf_init(&text, GATE_LOG_STATE_SIZE + 1);
	gate_priv_up(g);
	if (fileio_read(path, text.max, &text, &e) == 0) {
		if (gate_log_state_parse(text.data ? text.data : "", text.len, &failed, &refused,
		    why) == 0) {
			if (failed) {
				sh->refused = refused;
				snprintf(sh->why, sizeof(sh->why), "%s", why);
				sh->log_failed = 1;
			}
		} else
			syslog(LOG_AUTHPRIV | LOG_ERR, "breakglass gate: %s is damaged: rewritten", path);
	}
	gate_priv_down(g);
	buf_release(&text);
	log_state_save(g); /* made now, while there is room, or rewritten */
}

int
gate_refuse(gate *g, const char *fmt, ...)
{
	char msg[512], safe[2048];
	va_list ap;
	buf red;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* reasons echo what the user typed: redacted here, escaped where shown */
	buf_init(&red, 64 * 1024);
	if (scan_redact(msg, strlen(msg), &red, NULL) != 0) {
		buf_reset(&red);
		buf_puts(&red, "[unrecordable]");
	}
	gate_safe_name(buf_cstr(&red), safe, sizeof(safe));
	/* recorded first: the client's stderr may take the message late or
	 * never (hostd.c, a client that is not a gate) */
	gate_record(g, "gate.refuse", "refuse", buf_cstr(&red), -1);
	fprintf(stderr, "breakglass: refused: %s\n", safe);
	buf_release(&red);
	if (g->env->shared != NULL && g->env->shared->log_failed) {
		__atomic_add_fetch(&g->env->shared->refused, 1, __ATOMIC_SEQ_CST);
		log_state_save(g);
	}
	return 1;
}

/* "123", "64K", "16M", "1G": strict, at most 1 TiB. */
static int
parse_size(const char *s, uint64_t *out)
{
	uint64_t v = 0, mul = 1;
	size_t i;

	for (i = 0; s[i] >= '0' && s[i] <= '9'; i++) {
		if (i >= 13)
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (i == 0)
		return -1;
	if (s[i] == 'K')
		mul = 1024;
	else if (s[i] == 'M')
		mul = 1024 * 1024;
	else if (s[i] == 'G')
		mul = 1024 * 1024 * 1024;
	else if (s[i] != '\0')
		return -1;
	if (mul != 1 && s[i + 1] != '\0')
		return -1;
	if (v > (UINT64_C(1) << 40) / mul)
		return -1;
	*out = v * mul;
	return 0;
}

/* 1 when the host log's file system has less than the reserve free for
 * anyone but root (hostd appends as root, into the reserve). */
static int
below_reserve(const gate *g, uint64_t *avail)
{
	struct statvfs sv;

	if (g->audit_dir == NULL || statvfs(g->audit_dir, &sv) != 0) {
		*avail = 0;
		return 1;
	}
	*avail = (uint64_t)sv.f_bavail * sv.f_frsize;
	return *avail < g->log_reserve;
}

/*
 * What load_config would otherwise make again at every request, made once
 * by hostd (gate_preload) and inherited by the children it forks: the
 * compiled password-prompt pattern (reused while gate.conf names the same
 * text) and the host key parsed (reused while host.key holds the same
 * bytes: read and hashed at every request, a few microseconds; the
 * file's times are not enough - a file system that keeps them in whole
 * seconds shows a key replaced in place within the second hostd loaded it
 * as unchanged).  ~0.3 ms a request.
 */
static struct {
	char *prompt;
	pcre2_code *prompt_re;
	int have_key;
	/* BLAKE2b of the file's bytes: the text itself (the private key) is
	 * not kept, only the key parsed, in its guarded allocation */
	unsigned char key_hash[32];
	sshkey_priv key;
} preload;

/* The host key at path, read: the preloaded one when the file holds the
 * bytes it was parsed from (*borrowed set: not to be released), else
 * parsed.  hostd (gate_preload): load it into preload. */
static int
host_key_load(const char *path, sshkey_priv *k, int *borrowed, bg_error *e)
{
	unsigned char h[sizeof(preload.key_hash)];
	buf kt;
	int r;

	*borrowed = 0;
	buf_init_secret(&kt, 16384);
	if ((r = fileio_read(path, 16384, &kt, e)) == 0) {
		crypto_generichash(h, sizeof(h), (const unsigned char *)kt.data, kt.len, NULL, 0);
		if (preload.have_key && sodium_memcmp(h, preload.key_hash, sizeof(h)) == 0) {
			*k = preload.key;
			*borrowed = 1;
		} else if ((r = sshkey_priv_parse(buf_cstr(&kt), kt.len, k, e)) == 0 &&
		    k == &preload.key) {
			memcpy(preload.key_hash, h, sizeof(h));
			preload.have_key = 1;
		}
	}
	buf_release(&kt);
	return r;
}

void
gate_preload(const char *config)
{
	buf text, kp;
	kv_doc d;
	bg_error e;
	const char *v;
	int err;
	PCRE2_SIZE off;

	buf_init(&text, 64 * 1024);
	buf_init(&kp, 4096);
	memset(&d, 0, sizeof(d));
	if (fileio_read(config, 64 * 1024, &text, &e) != 0 ||
	    kv_parse(buf_cstr(&text), text.len, config_schema, &d, &e) != 0)
		goto out;
	if ((v = kv_get(&d, "password-prompt")) == NULL)
		v = GATE_DEFAULT_PROMPT;
	if (strcmp(v, "off") != 0 && preload.prompt == NULL &&
	    (preload.prompt_re = pcre2_compile((PCRE2_SPTR)v, PCRE2_ZERO_TERMINATED, PCRE2_UTF,
	    &err, &off, NULL)) != NULL && (preload.prompt = strdup(v)) == NULL) {
		pcre2_code_free(preload.prompt_re);
		preload.prompt_re = NULL;
	}
	if (!preload.have_key && (v = kv_get(&d, "audit-dir")) != NULL &&
	    fileio_join(&kp, v, "host.key") == 0) {
		int borrowed;

		(void)host_key_load(kp.data, &preload.key, &borrowed, &e);
	}
out:
	kv_doc_release(&d);
	buf_release(&text);
	buf_release(&kp);
}

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
	g->log_reserve = GATE_LOG_RESERVE;
	if ((v = kv_get(&d, "log-reserve")) != NULL && parse_size(v, &g->log_reserve) != 0) {
		r = bg_fail(e, BG_ERR_INVALID, "gate config: invalid log-reserve (bytes, or a "
		    "number with K, M or G)");
		goto out;
	}
	if ((v = kv_get(&d, "krl-max-age")) != NULL &&
	    (utc_parse_duration(v, &g->krl_max_age) != 0 || g->krl_max_age <= 0)) {
		r = bg_fail(e, BG_ERR_INVALID, "gate config: invalid krl-max-age");
		goto out;
	}
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
	/* the owner's consent: whose signatures, how many (never from the cert) */
	g->write_quorum = 1;
	if ((v = kv_get(&d, "write-quorum")) != NULL) {
		char *end;
		long q = strtol(v, &end, 10);

		if (*end != '\0' || q < 1 || q > 16) {
			r = bg_fail(e, BG_ERR_INVALID, "gate config: write-quorum must be 1 to 16");
			goto out;
		}
		g->write_quorum = (int)q;
	}
	if ((v = kv_get(&d, "read-consent")) != NULL) {
		if (strcmp(v, "required") != 0 && strcmp(v, "ca-only") != 0) {
			r = bg_fail(e, BG_ERR_INVALID, "gate config: read-consent is 'ca-only' or "
			    "'required'");
			goto out;
		}
		g->read_consent = strcmp(v, "required") == 0;
	}
	if ((v = kv_get(&d, "landlock")) != NULL) {
		if (strcmp(v, "required") != 0 && strcmp(v, "optional") != 0) {
			r = bg_fail(e, BG_ERR_INVALID, "gate config: landlock is 'required' (the "
			    "default) or 'optional'");
			goto out;
		}
		g->landlock_optional = strcmp(v, "optional") == 0;
	}
	if ((v = kv_get(&d, "approvers")) != NULL && (g->approvers_path = strdup(v)) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	/* database targets (gate-sql.c): a conninfo with no password */
	if ((v = kv_get(&d, "db-postgres")) != NULL && (g->db_pg = strdup(v)) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	if ((v = kv_get(&d, "db-postgres-as")) != NULL && (g->db_pg_as = strdup(v)) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	if ((v = kv_get(&d, "db-mariadb")) != NULL && (g->db_maria = strdup(v)) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	{
		/* a line typed after such a prompt, with echo off, is sealed in the
		 * recording ("off": never masked) */
		int err;
		PCRE2_SIZE off;

		v = kv_get(&d, "password-prompt");
		if (v == NULL)
			v = GATE_DEFAULT_PROMPT;
		if (strcmp(v, "off") != 0 && preload.prompt != NULL && strcmp(v, preload.prompt) == 0) {
			if ((g->prompt_re = pcre2_code_copy(preload.prompt_re)) == NULL) {
				r = BG_ERR_NOMEM;
				goto out;
			}
		} else if (strcmp(v, "off") != 0 && (g->prompt_re = pcre2_compile((PCRE2_SPTR)v,
		    PCRE2_ZERO_TERMINATED, PCRE2_UTF, &err, &off, NULL)) == NULL) {
			r = bg_fail(e, BG_ERR_INVALID, "gate config: password-prompt is not a valid "
			    "regular expression (at offset %zu)", (size_t)off);
			goto out;
		}
	}
	if ((v = kv_get(&d, "auth-spool")) != NULL && (v[0] != '/' ||
	    (g->auth_spool = strdup(v)) == NULL)) {
		r = v[0] != '/' ? bg_fail(e, BG_ERR_INVALID, "gate config: auth-spool must be an "
		    "absolute path") : BG_ERR_NOMEM;
		goto out;
	}
	if ((g->system = strdup(kv_get(&d, "system"))) == NULL ||
	    (g->krl_path = strdup(kv_get(&d, "krl"))) == NULL ||
	    (g->audit_dir = strdup(kv_get(&d, "audit-dir"))) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	/* the host log and its key: opened with the gate group, then dropped */
	{
		buf kp;

		buf_init(&kp, 4096);
		gate_priv_up(g);
		r = fileio_join(&kp, kv_get(&d, "audit-dir"), "host.key");
		if (r == 0)
			r = host_key_load(kp.data, &g->hostkey, &g->hostkey_borrowed, e);
		if (r == 0)
			r = audit_open(&g->log, kv_get(&d, "audit-dir"), &g->hostkey, g->hostkey.pk, e);
		if (r == 0) {
			int64_t last;

			g->log_open = 1;
			r = audit_last_time(&g->log, &last, e);
			if (r == 0 && g->now + g->skew < last)
				r = bg_fail(e, BG_ERR_CLOCK, "the host clock is behind its audit log");
		}
		gate_priv_down(g);
		buf_release(&kp);
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
	g->krl_generated = k.generated;
	krl_release(&k);
	buf_release(&b);
	g->krl_st = st;
	return revoked;
}

/* One drop-in: its grant's id when it has lines keyed by user (and is not
 * this grant's), else 0. */
static long long
sudoers_account_keyed(const gate *g, const char *path)
{
	buf text;
	bg_error e;
	long long gid = 0, tid = 0, found = 0;
	char who[64];
	size_t ul = strlen(g->env->user);
	const char *p;

	buf_init(&text, 256 * 1024);
	if (fileio_read(path, text.max, &text, &e) != 0 ||
	    sscanf(buf_cstr(&text), "# breakglass G-%lld (T-%lld) for %63[^:]:", &gid, &tid,
	    who) != 3) {
		buf_release(&text);
		return 0;
	}
	for (p = buf_cstr(&text); *p; ) {
		size_t l = strcspn(p, "\n");

		if (l > ul && strncmp(p, g->env->user, ul) == 0 && p[ul] == ' ')
			found = 1;
		p += l + (p[l] == '\n');
	}
	buf_release(&text);
	if (!found || (gid == g->grant && tid == g->ticket))
		return 0;
	return gid > 0 ? gid : -1;
}

int
gate_sudo_conflict(gate *g, long long *other)
{
	struct stat st;
	DIR *d;
	struct dirent *de;
	long long o = 0;

	*other = 0;
	gate_priv_up(g);
	if (stat(GATE_SUDOERS_DIR, &st) != 0) {
		gate_priv_down(g);
		g->sudo_conflict = 0;
		return 0;
	}
	if (g->sudoers_mtim.tv_sec != 0 && st.st_mtim.tv_sec == g->sudoers_mtim.tv_sec &&
	    st.st_mtim.tv_nsec == g->sudoers_mtim.tv_nsec) {
		gate_priv_down(g);
		*other = g->sudo_conflict;
		return g->sudo_conflict != 0;
	}
	g->sudoers_mtim = st.st_mtim;
	if ((d = opendir(GATE_SUDOERS_DIR)) != NULL) {
		while (o == 0 && (de = readdir(d)) != NULL) {
			char path[512];

			/* sudo reads no name with a dot: nor do we */
			if (strncmp(de->d_name, "breakglass-", 11) != 0 || strchr(de->d_name, '.'))
				continue;
			snprintf(path, sizeof(path), "%s/%s", GATE_SUDOERS_DIR, de->d_name);
			o = sudoers_account_keyed(g, path);
		}
		closedir(d);
	}
	gate_priv_down(g);
	g->sudo_conflict = (int)(o > INT_MAX ? -1 : o);
	*other = o;
	return o != 0;
}

const char *
gate_end_word(const gate *g)
{
	if (g->sudo_conflict && !g->log_cut && !g->client_gone)
		return "ended (a grant with sudo-intercept commands became active on this account: "
		    "sudo cannot keep them from this session)";
	return g->log_cut ? "ended (the host log cannot be written, or its file system is below "
	    "the reserve)" : g->client_gone ? "lost its gate" : g->refused_by_expiry ?
	    "expired" : "was revoked";
}

const char *
gate_end_reason(const gate *g)
{
	if (g->sudo_conflict && !g->log_cut && !g->client_gone)
		return "another grant's sudo-intercept commands";
	return g->log_cut ? "host log unwritable" : g->client_gone ? "gate gone" :
	    g->refused_by_expiry ? "grant expired" : "grant revoked";
}

/* Has the grant ended (expiry or revocation)? */
int
gate_grant_ended(gate *g)
{
	int64_t now = utc_now();

	if (g->npending > 0 && utc_mono() - g->pending_since >= GATE_DEFER_S)
		gate_record_flush(g);
	{
		uint64_t avail;

		if (g->log_cut || (g->env->shared != NULL && g->env->shared->log_failed) ||
		    below_reserve(g, &avail)) {
			g->log_cut = 1;
			return 1;
		}
	}
	if (g->env->client >= 0) {
		struct pollfd pf = { .fd = g->env->client, .events = POLLIN | POLLRDHUP };

		/* after its fds the gate sends only resize and Ctrl-C bytes (the
		 * latter only where the request handles it): anything else, or
		 * the end of the connection, is its end */
		while (poll(&pf, 1, 0) > 0) {
			char w;

			if (!(pf.revents & POLLIN) || (pf.revents & (POLLRDHUP | POLLHUP | POLLERR)) ||
			    recv(g->env->client, &w, 1, MSG_DONTWAIT) != 1 ||
			    (w != GATE_CLIENT_WINCH && !(w == GATE_CLIENT_INT && g->want_int))) {
				g->client_gone = 1;
				return 1;
			}
			if (w == GATE_CLIENT_WINCH)
				g->winch = 1;
			else
				g->interrupts++;
		}
	}
	/* what runs on (a shell, tail -f, a command) hears of the end twice */
	if ((uint64_t)now < g->c.valid_before && g->warned < 2) {
		int64_t left = (int64_t)(g->c.valid_before - (uint64_t)now);
		int level = left <= 60 ? 2 : left <= 300 ? 1 : 0;

		if (level > g->warned) {
			char t[UTC_STRLEN], m[160];
			int nl = isatty(STDERR_FILENO);

			g->warned = level;
			utc_format((int64_t)g->c.valid_before, t);
			snprintf(m, sizeof(m), "%sbreakglass: grant G-%lld expires in %lld:%02lld min "
			    "(at %s): everything it runs ends then%s\n", nl ? "\r\n" : "",
			    (long long)g->grant, (long long)(left / 60), (long long)(left % 60), t,
			    nl ? "\r" : "");
			(void)fileio_write_full(STDERR_FILENO, m, strlen(m));
		}
	}
	if (now < g->now - g->skew || (uint64_t)now >= g->c.valid_before) {
		g->refused_by_expiry = 1;
		return 1;
	}
	if (g->sudo_watch) {
		long long other;

		if (gate_sudo_conflict(g, &other))
			return 1;
	}
	return krl_says_revoked(g, 0);
}

/*
 * The SSH_USER_AUTH file is the account's: any process of the account can
 * rewrite a new login's file before it is read (F1a).  What counts is the
 * certificate sshd's AuthorizedPrincipalsCommand recorded for this
 * connection (login_principals, keyed by the connection's privileged
 * monitor, which hostd found): exactly one was offered, and the file names
 * that one.  b64 is the certificate's base64 from the file.
 */
static int
check_auth_spool(gate *g, const char *b64, size_t n, bg_error *e)
{
	buf path, text;
	const char *p;
	size_t lines = 0;
	int r, same = 0, over = 0;

	if (g->auth_spool == NULL)
		return bg_fail(e, BG_ERR_PERM, "gate.conf names no auth-spool: run 'breakglass host "
		    "setup' again (it makes sshd record each connection's certificate)");
	if (g->env->conn_pid <= 0)
		return bg_fail(e, BG_ERR_PERM, "the request is not bound to an sshd connection");
	buf_init(&path, 4096);
	buf_init(&text, 64 * 1024 + 1);
	buf_printf(&path, "%s/" GATE_AUTH_SPOOL_NAME, g->auth_spool, g->env->conn_pid,
	    g->env->conn_start);
	gate_priv_up(g);
	r = fileio_read(path.data, text.max, &text, e);
	gate_priv_down(g);
	buf_release(&path);
	if (r != 0) {
		buf_release(&text);
		return bg_fail(e, BG_ERR_PERM, "sshd recorded no certificate for this connection: "
		    "run 'breakglass host setup' again (sshd's AuthorizedPrincipalsCommand) and "
		    "reload sshd");
	}
	for (p = buf_cstr(&text); *p;) {
		size_t l = strcspn(p, "\n");

		if (l == sizeof(GATE_AUTH_OVERFLOW) - 1 && strncmp(p, GATE_AUTH_OVERFLOW, l) == 0)
			over = 1;
		else if (l == n && memcmp(p, b64, n) == 0)
			same = 1;
		lines++;
		p += l + (p[l] == '\n');
	}
	buf_release(&text);
	if (over || lines > 1)
		return bg_fail(e, BG_ERR_PERM, "more than one certificate was offered on this "
		    "connection: offer only the grant's (ssh -o IdentitiesOnly=yes -i KEY -o "
		    "CertificateFile=CERT)");
	if (!same)
		return bg_fail(e, BG_ERR_PERM, "the login's SSH_USER_AUTH file was changed: it is "
		    "not the certificate this connection authenticated with");
	return 0;
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
		size_t n = strcspn(line, "\n"), t = strcspn(line, " \n"), b = 0;
		char *l;

		/* "TYPE BASE64": the base64 is what sshd recorded at auth time */
		if (line[t] == ' ')
			b = strcspn(line + t + 1, " \n");
		if (b == 0 || (r = check_auth_spool(g, line + t + 1, b, e)) != 0) {
			buf_release(&auth);
			return b == 0 ? bg_fail(e, BG_ERR_PERM, "malformed authentication details") : r;
		}
		if ((l = strndup(line, n)) == NULL) {
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
	/* a host that stopped receiving revocations stops granting */
	if (g->krl_max_age > 0 && (g->krl_generated > (uint64_t)(g->now + g->skew) ||
	    (uint64_t)g->now - g->krl_generated > (uint64_t)g->krl_max_age)) {
		char age[32], max[32];

		utc_format_duration(g->krl_generated > (uint64_t)g->now ? 0 :
		    (int64_t)((uint64_t)g->now - g->krl_generated), age, sizeof(age));
		utc_format_duration(g->krl_max_age, max, sizeof(max));
		return bg_fail(e, BG_ERR_PERM, "this host's KRL was made %s ago, longer than "
		    "krl-max-age %s: it no longer receives revocations, so it grants nothing new",
		    age, max);
	}
	if (g->c.scope == NULL)
		return bg_fail(e, BG_ERR_PERM, "certificate carries no breakglass scope");
	if ((r = kv_parse(g->c.scope, strlen(g->c.scope), grantscope_cert_schema, &g->scope_doc, e)) != 0)
		return bg_fail(e, BG_ERR_PERM, "certificate scope is malformed");
	return 0;
}

/*
 * The owner's consent (consent.h): a write grant (or any grant, with
 * read-consent: required) needs a quorum of this host's approvers'
 * signatures over a statement with exactly the certificate's scope.
 */
static int
check_consent(gate *g, bg_error *e)
{
	buf text;
	signers ss;
	consent cs;
	int r;

	if (!grantscope_writes(&g->scope_doc) && !g->read_consent)
		return 0;
	if (g->approvers_path == NULL)
		return bg_fail(e, BG_ERR_PERM, "grant G-%lld writes, and this host has no "
		    "approvers to check the owner's consent with (breakglass host setup "
		    "--approvers FILE)", (long long)g->grant);
	if (g->c.consent == NULL)
		return bg_fail(e, BG_ERR_PERM, "grant G-%lld writes, and its certificate carries "
		    "no consent signed by the owner's approvers", (long long)g->grant);
	buf_init(&text, SIGNERS_MAX_INPUT);
	memset(&ss, 0, sizeof(ss));
	if ((r = fileio_read(g->approvers_path, SIGNERS_MAX_INPUT, &text, e)) != 0 ||
	    (r = signers_parse(buf_cstr(&text), text.len, &ss, e)) != 0) {
		char msg[sizeof(e->msg)];

		snprintf(msg, sizeof(msg), "this host's approvers file is not usable: %.400s",
		    e ? e->msg : "");
		buf_release(&text);
		return bg_fail(e, BG_ERR_PERM, "%s", msg);
	}
	buf_release(&text);
	if ((r = consent_parse(g->c.consent, strlen(g->c.consent), &cs, e)) == 0) {
		r = consent_verify(&cs, g->c.scope, &ss, g->write_quorum,
		    (int64_t)g->c.valid_after, g->now, e);
		consent_release(&cs);
	}
	signers_release(&ss);
	if (r != 0) {
		char msg[sizeof(e->msg)];

		snprintf(msg, sizeof(msg), "grant G-%lld: %.440s", (long long)g->grant,
		    e ? e->msg : "");
		return bg_fail(e, r == BG_ERR_UNSUPPORTED ? r : BG_ERR_PERM, "%s", msg);
	}
	return 0;
}

static int
load_scope(gate *g, bg_error *e)
{
	size_t i;
	int r;

	if (grantscope_ids(&g->scope_doc, &g->ticket, &g->grant) != 0)
		return bg_fail(e, BG_ERR_PERM, "certificate scope names no ticket or grant");
	for (i = 0; i < g->scope_doc.n; i++) {
		const kv_item *it = &g->scope_doc.items[i];
		int w = strcmp(it->key, "write") == 0;

		if (w || strcmp(it->key, "read") == 0) {
			/* the supervisor's rights: a root:adm 0750 directory is
			 * a grant's as much as the account's own */
			gate_priv_up(g);
			r = scope_add(&g->sc, it->value, w, e);
			gate_priv_down(g);
			if (r != 0)
				return r;
		}
	}
	return 0;
}

int
gate_is_prompt(void *ctx, const char *line, size_t n)
{
	gate *g = ctx;
	pcre2_match_data *md;
	int rc;

	if (g->prompt_re == NULL || (md = pcre2_match_data_create_from_pattern(g->prompt_re,
	    NULL)) == NULL)
		return 0;
	/* pcre2 checks the line is UTF-8: a line that is not is no prompt */
	rc = pcre2_match(g->prompt_re, (PCRE2_SPTR)line, n, 0, 0, md, NULL);
	pcre2_match_data_free(md);
	return rc >= 0;
}

int
gate_need_path(gate *g, const char *verb, const char *p)
{
	if (p == NULL)
		return gate_refuse(g, "%s needs a path", verb);
	if (p[0] != '/')
		return gate_refuse(g, "%s: '%.200s' must be an absolute path", verb, p);
	return 0;
}

const char *
gate_type_of(mode_t m)
{
	return S_ISREG(m) ? "file" : S_ISDIR(m) ? "dir" : S_ISLNK(m) ? "link" :
	    S_ISFIFO(m) ? "fifo" : S_ISSOCK(m) ? "socket" : "device";
}

static const gate_verb verbs[] = {
	{ "ls", gate_verb_ls, 1, 1 }, { "cat", gate_verb_cat, 1, 1 },
	{ "tail", gate_verb_tail, 1, 1 }, { "grep", gate_verb_grep, 1, 1 },
	{ "stat", gate_verb_stat, 1, 1 }, { "sha256", gate_verb_sha256, 1, 1 },
	{ "find-changed", gate_verb_find_changed, 1, 1 }, { "put", gate_verb_put, 0, 1 },
	{ "patch", gate_verb_patch, 0, 1 }, { "apply", gate_verb_apply, 0, 0 },
	{ "help", gate_verb_help, 1, 0 }, { "collect", gate_verb_collect, 0, 0 },
};

const gate_verb *
gate_find_verb(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strcmp(verbs[i].name, name) == 0)
			return &verbs[i];
	return NULL;
}

int
gate_run_verb(gate *g, const gate_verb *v)
{
	int status;

	g->bytes_out = 0;
	g->recorded = 0;
	if (v->files)
		gate_priv_up(g);
	status = v->fn(g);
	if (v->files)
		gate_priv_down(g);
	/* refusals, cuts and writes record themselves */
	if (!g->recorded)
		gate_record_end(g, "gate.verb", "allow", NULL, status);
	return status;
}

int
gate_describe_request(gate *g)
{
	buf j, red, vis;
	int r;

	buf_init(&j, 64 * 1024);
	buf_init(&red, 64 * 1024);
	buf_init(&vis, sizeof(g->request) - 1);
	r = argv_join(&g->av, &j) != 0 || scan_redact(j.data ? j.data : "", j.len, &red, NULL) != 0 ||
	    text_visible(&vis, red.data ? red.data : "", red.len) != 0;
	if (r == 0)
		memcpy(g->request, vis.data ? vis.data : "", vis.len + 1);
	buf_release(&j);
	buf_release(&red);
	buf_release(&vis);
	if (r != 0) {
		/* logged whole or not served: never a request cut short in the log */
		snprintf(g->request, sizeof(g->request), "[a request of %zu arguments, too long to be "
		    "recorded whole]", g->av.n);
		return gate_refuse(g, "the request is too long to be recorded whole (at most %zu "
		    "bytes as logged): nothing was run", sizeof(g->request) - 1);
	}
	return 0;
}

/*
 * The request's status to the gate, once, and the session's descriptors
 * let go: sshd ends the session when the gate has exited and the output
 * it handed over is closed.  What gate_record_end wrote (every reader of
 * the log sees it, the chain verifies) is made durable after, by this
 * process, which the account cannot signal, unless a durable record
 * (a write's gate.changes) followed it: the responder
 * does not wait for that record's device flush.  The record that
 * announced what ran (gate.start) was durable before it ran; a crash of
 * the host in the millisecond after the answer can leave that start
 * without its end in the log.
 */
static void
gate_answer(gate *g, int status)
{
	int nul, fd;

	if (g->env->client < 0 || g->answered)
		return;
	g->answered = 1;
	(void)login_send_status(g->env->client, status);
	if ((nul = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0)
		return;
	for (fd = 0; fd < 3; fd++)
		if (fd != nul)
			(void)dup2(nul, fd);
	if (nul > 2)
		close(nul);
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
	g.now = utc_now();
	g.cf.fd = -1;
	g.go = -1;
	g.landlock_abi = confine_abi();
	snprintf(g.request, sizeof(g.request), "%s", "(interactive)");
	openlog("breakglass", LOG_PID, LOG_AUTHPRIV);
	bg_error_clear(&e);
	if ((r = load_config(&g, &e)) != 0) {
		status = gate_refuse(&g, "gate is not usable: %s", e.msg);
		goto out;
	}
	log_state_load(&g);
	if (env->shared != NULL && env->shared->log_failed) {
		/* recovery: the first record that can be appended says what was
		 * refused meanwhile; until then everything is refused */
		char why[300];

		snprintf(why, sizeof(why), "host log resumed: %lu requests refused while it could not "
		    "be written (%.200s)", env->shared->refused, env->shared->why);
		g.log_cut = 0;
		gate_record(&g, "gate.resume", "allow", why, -1);
		if (g.log_cut) {
			__atomic_add_fetch(&env->shared->refused, 1, __ATOMIC_SEQ_CST);
			log_state_save(&g);
			fprintf(stderr, "breakglass: refused: the host log cannot be written (%s): every "
			    "request is refused until it can\n", env->shared->why);
			status = 1;
			goto out;
		}
		env->shared->log_failed = 0;
		env->shared->refused = 0;
		log_state_save(&g);
	}
	{
		uint64_t avail;

		if (below_reserve(&g, &avail)) {
			status = gate_refuse(&g, "the host log's file system has %llu KiB free, below its "
			    "reserve of %llu KiB: every request is refused until space returns",
			    (unsigned long long)(avail / 1024),
			    (unsigned long long)(g.log_reserve / 1024));
			goto out;
		}
	}
	if (env->refuse != NULL) {
		status = gate_refuse(&g, "%s", env->refuse);
		goto out;
	}
	if ((r = load_cert(&g, &e)) != 0 || (r = load_scope(&g, &e)) != 0 ||
	    (r = check_consent(&g, &e)) != 0) {
		status = gate_refuse(&g, "%s", e.msg);
		goto out;
	}
	/* a certificate for another system is refused, whatever the account */
	if (kv_get(&g.scope_doc, "system") == NULL ||
	    strcmp(kv_get(&g.scope_doc, "system"), g.system) != 0) {
		status = gate_refuse(&g, "grant G-%lld is for system '%.128s', not this host (%s)",
		    (long long)g.grant, kv_get(&g.scope_doc, "system") ?
		    kv_get(&g.scope_doc, "system") : "", g.system);
		goto out;
	}
	kind = kv_get(&g.scope_doc, "kind");
	if (kind != NULL && strcmp(kind, "db") == 0) {
		/* a db grant: the database through this host's supervisor only */
		status = gate_collect_wanted(&g) ? gate_collect_db(&g) : gate_db_request(&g);
		goto out;
	}
	if (kind == NULL || strcmp(kind, "ssh") != 0) {
		status = gate_refuse(&g, "grant G-%lld is not an ssh grant", (long long)g.grant);
		goto out;
	}
	if (env->original_command == NULL) {
		status = gate_run_shell(&g);
		goto out;
	}
	if (strlen(env->original_command) > 8192) {
		status = gate_refuse(&g, "request longer than 8192 bytes");
		goto out;
	}
	if (argv_split(env->original_command, &g.av, &e) != 0) {
		snprintf(g.request, sizeof(g.request), "(unparseable)");
		status = gate_refuse(&g, "cannot parse the request: %s", e.msg);
		goto out;
	}
	if (g.av.n == 0) {
		status = gate_refuse(&g, "empty request");
		goto out;
	}
	if (gate_describe_request(&g) != 0) {
		status = 1;
		goto out;
	}
	verb = g.av.v[0];
	if (strchr(verb, '/') != NULL) {
		int kind_of = gate_allowed_command(&g);

		if (kind_of == 0) {
			status = gate_refuse(&g, "'%.200s' is not an allowed command of grant G-%lld "
			    "(see 'help')", g.request, (long long)g.grant);
			goto out;
		}
		status = gate_run_command(&g, kind_of - 1);
		goto out;
	}
	{
		const gate_verb *v = gate_find_verb(verb);

		if (v != NULL) {
			status = gate_run_verb(&g, v);
			goto out;
		}
	}
	status = gate_refuse(&g, "'%.64s' is not a breakglass command or an allowed command of grant "
	    "G-%lld (see 'help')", verb, (long long)g.grant);
out:
	flush_pending(&g, 0);
	gate_answer(&g, status);
	gate_record_sync(&g);
	argv_release(&g.av);
	scope_release(&g.sc);
	kv_doc_release(&g.scope_doc);
	cert_release(&g.c);
	if (g.log_open)
		audit_close(&g.log);
	if (!g.hostkey_borrowed)
		sshkey_priv_release(&g.hostkey);
	free(g.krl_path);
	free(g.system);
	free(g.audit_dir);
	free(g.approvers_path);
	free(g.db_pg);
	free(g.db_pg_as);
	free(g.db_maria);
	free(g.auth_spool);
	if (g.prompt_re != NULL)
		pcre2_code_free(g.prompt_re);
	closelog();
	return status;
}
