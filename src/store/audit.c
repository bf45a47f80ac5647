/*
 * audit.c - hash-chained audit log with a signed head and checkpoints.
 *
 * Design notes
 *  - The head file is "breakglass-audit-head v1 SEQ HASH SIG\n" (SEQ padded
 *    to 20 digits, so it keeps its length and is rewritten in place); SIG
 *    is the base64 ed25519 signature over "breakglass-audit-head v1\nSEQ\nHASH\n"
 *    (SEQ unpadded).
 *  - An append (of one record or a batch) writes its lines and the head,
 *    then one fdatasync of the log flushes both (sync_with_head): one
 *    device flush per batch, where there were three per record.
 *  - A checkpoint record's detail is {"covers":SEQ,"head":"HASH","sig":"B64"}
 *    where SIG signs "breakglass-audit-checkpoint v1\nSEQ\nHASH\n".
 *  - Verification re-derives every hash, checks sequence numbers, the
 *    chain, every checkpoint signature and finally that the log ends
 *    exactly at the signed head.  The first failure is reported.
 */
#include "audit.h"
#include "fileio.h"
#include "hash.h"
#include "json.h"
#include "rawsys.h"
#include "sigmemo.h"
#include "utc.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define ZERO_HASH "0000000000000000000000000000000000000000000000000000000000000000"
#define HEAD_TAG "breakglass-audit-head v1"
#define CKPT_TAG "breakglass-audit-checkpoint v1"

static int
sign_text(const sshkey_priv *key, const char *tag, uint64_t seq, const char *hash,
    buf *out)
{
	buf msg;
	unsigned char sig[crypto_sign_BYTES];
	int r;

	buf_init(&msg, 512);
	if ((r = buf_printf(&msg, "%s\n%llu\n%s\n", tag, (unsigned long long)seq, hash)) != 0) {
		buf_release(&msg);
		return r;
	}
	sigmemo_sign(sig, (unsigned char *)msg.data, msg.len, key->sk);
	buf_release(&msg);
	return sshkey_b64_encode(sig, sizeof(sig), out);
}

static int
check_sig(const unsigned char pk[32], const char *tag, uint64_t seq,
    const char *hash, const char *b64, size_t b64len)
{
	buf msg, sig;
	int ok = -1;

	buf_init(&msg, 512);
	buf_init(&sig, 256);
	if (buf_printf(&msg, "%s\n%llu\n%s\n", tag, (unsigned long long)seq, hash) == 0 &&
	    sshkey_b64_decode(b64, b64len, &sig) == 0 && sig.len == crypto_sign_BYTES &&
	    sigmemo_verify((unsigned char *)sig.data, (unsigned char *)msg.data, msg.len, pk) == 0)
		ok = 0;
	buf_release(&msg);
	buf_release(&sig);
	return ok;
}

/* The head's text: SEQ zero-padded to 20 digits, so that every head of a
 * log has the same length and can be rewritten in place. */
static int
head_text(const sshkey_priv *key, uint64_t seq, const char *hash, buf *h)
{
	int r;

	if ((r = buf_printf(h, HEAD_TAG " %020llu %s ", (unsigned long long)seq, hash)) != 0 ||
	    (r = sign_text(key, HEAD_TAG, seq, hash, h)) != 0 ||
	    (r = buf_putc(h, '\n')) != 0)
		return r;
	return 0;
}

/* Replace the head atomically (a new log, or a head of another length). */
static int
write_head(const char *path, const sshkey_priv *key, uint64_t seq,
    const char *hash, bg_error *e)
{
	buf h;
	int r;

	buf_init(&h, 1024);
	if ((r = head_text(key, seq, hash, &h)) != 0) {
		buf_release(&h);
		return bg_fail(e, r, "cannot build audit head");
	}
	r = fileio_write_atomic(path, h.data, h.len, 0640, 0, e);
	buf_release(&h);
	return r;
}

/*
 * Open the head for a rewrite in place: a regular file of exactly len
 * bytes (every head head_text writes for this log), its bytes kept in old
 * (to put back).  The fd, or -1 (then the head is replaced atomically).
 */
static int
head_open_in_place(const char *path, size_t len, char *old, size_t oldmax)
{
	struct stat st;
	int fd;

	if (len > oldmax || (fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return -1;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1 ||
	    (size_t)st.st_size != len || pread(fd, old, len, 0) != (ssize_t)len) {
		close(fd);
		return -1;
	}
	return fd;
}

/* what audit_log.head_known holds for the head text t */
static void
head_digest(const buf *t, unsigned char d[32])
{
	crypto_generichash(d, 32, (const unsigned char *)t->data, t->len, NULL, 0);
}

/*
 * Parse and verify the head file; its digest into d.  known (an append's
 * audit_log.head_known, or NULL): the signature check is skipped when the
 * file holds exactly those bytes, which this handle last wrote or
 * verified (the same bytes verify the same way); audit_verify always
 * checks.
 */
static int
read_head(const audit_log *a, const unsigned char *known, uint64_t *seq,
    char hash[HASH_HEXLEN], unsigned char d[32], bg_error *e)
{
	buf h;
	char *p, *end;
	unsigned long long s;
	int r;

	buf_init(&h, 1024);
	if ((r = fileio_read(a->headpath, 1000, &h, e)) != 0) {
		buf_release(&h);
		return bg_fail(e, BG_ERR_TAMPER, "signed audit head '%s' is missing or unreadable",
		    a->headpath);
	}
	p = h.data;
	r = BG_ERR_TAMPER;
	if (p == NULL || strncmp(p, HEAD_TAG " ", sizeof(HEAD_TAG)) != 0)
		goto bad;
	p += sizeof(HEAD_TAG);
	if (*p < '0' || *p > '9')
		goto bad;
	errno = 0;
	s = strtoull(p, &end, 10);
	if (errno != 0 || *end != ' ')
		goto bad;
	p = end + 1;
	if (strlen(p) < 66 || p[64] != ' ')
		goto bad;
	memcpy(hash, p, 64);
	hash[64] = '\0';
	if (!hash_is_hex64(hash))
		goto bad;
	p += 65;
	end = strchr(p, '\n');
	if (end == NULL || end[1] != '\0')
		goto bad;
	head_digest(&h, d);
	if (!(known != NULL && sodium_memcmp(d, known, 32) == 0) &&
	    check_sig(a->pk, HEAD_TAG, s, hash, p, (size_t)(end - p)) != 0) {
		r = bg_fail(e, BG_ERR_TAMPER, "signature on the audit head is not valid");
		buf_release(&h);
		return r;
	}
	*seq = s;
	buf_release(&h);
	return 0;
bad:
	buf_release(&h);
	return bg_fail(e, r, "audit head '%s' is malformed", a->headpath);
}

int
audit_create(const char *dir, const sshkey_priv *key, bg_error *e)
{
	buf p;
	int r;

	buf_init(&p, 4096);
	if ((r = fileio_join(&p, dir, "audit.log")) != 0)
		goto out;
	if ((r = fileio_write_atomic(p.data, "", 0, 0640, 1, e)) != 0)
		goto out;
	if ((r = fileio_join(&p, dir, "audit.head")) != 0)
		goto out;
	r = write_head(p.data, key, 0, ZERO_HASH, e);
out:
	buf_release(&p);
	return r;
}

int
audit_open(audit_log *a, const char *dir, const sshkey_priv *key,
    const unsigned char pk[32], bg_error *e)
{
	buf p;

	memset(a, 0, sizeof(*a));
	buf_init(&p, 4096);
	if (fileio_join(&p, dir, "audit.log") != 0 ||
	    (a->path = buf_detach(&p, NULL)) == NULL ||
	    fileio_join(&p, dir, "audit.head") != 0 ||
	    (a->headpath = buf_detach(&p, NULL)) == NULL) {
		buf_release(&p);
		audit_close(a);
		return bg_fail(e, BG_ERR_NOMEM, "out of memory");
	}
	a->key = key;
	memcpy(a->pk, pk, 32);
	a->checkpoint_every = 64;
	return 0;
}

void
audit_close(audit_log *a)
{
	free(a->path);
	free(a->headpath);
	memset(a, 0, sizeof(*a));
}

/*
 * Parse the fixed prefix and the hash suffix of one record line (without
 * its newline).  Fills seq, prev, ticket, event, time; verifies the hash.
 */
typedef struct rec {
	uint64_t seq;
	char prev[HASH_HEXLEN];
	char hash[HASH_HEXLEN];
	char time[UTC_STRLEN];
	char event[64];
	int64_t ticket;
	const char *detail; /* points at '{' of detail */
	size_t detail_len;
} rec;

static int
parse_record(const char *l, size_t n, rec *out, const char **why)
{
	const char *p = l, *end = l + n, *hp;
	char h[HASH_HEXLEN];
	size_t i;

	memset(out, 0, sizeof(*out));
	*why = "malformed record";
#define LIT(s) do {						\
		size_t _l = sizeof(s) - 1;				\
		if ((size_t)(end - p) < _l || memcmp(p, s, _l) != 0)	\
			return -1;					\
		p += _l;						\
	} while (0)
	LIT("{\"seq\":");
	if (p >= end || *p < '1' || *p > '9')
		return -1;
	for (; p < end && *p >= '0' && *p <= '9'; p++) {
		if (out->seq > UINT64_MAX / 10 - 10)
			return -1;
		out->seq = out->seq * 10 + (uint64_t)(*p - '0');
	}
	LIT(",\"time\":\"");
	if (end - p < 20)
		return -1;
	memcpy(out->time, p, 20);
	out->time[20] = '\0';
	p += 20;
	LIT("\",\"prev\":\"");
	if (end - p < 64)
		return -1;
	memcpy(out->prev, p, 64);
	out->prev[64] = '\0';
	if (!hash_is_hex64(out->prev))
		return -1;
	p += 64;
	LIT("\",\"ticket\":");
	if ((size_t)(end - p) >= 4 && memcmp(p, "null", 4) == 0) {
		p += 4;
	} else {
		if (p >= end || *p < '1' || *p > '9')
			return -1;
		for (; p < end && *p >= '0' && *p <= '9'; p++) {
			if (out->ticket > INT64_MAX / 10 - 10)
				return -1;
			out->ticket = out->ticket * 10 + (*p - '0');
		}
	}
	LIT(",\"event\":\"");
	for (i = 0; p < end && *p != '"'; p++, i++) {
		if (i + 1 >= sizeof(out->event) ||
		    !((*p >= 'a' && *p <= 'z') || *p == '.' || *p == '-'))
			return -1;
		out->event[i] = *p;
	}
	if (i == 0)
		return -1;
	LIT("\",\"actor\":\"");
	/* skip the actor string */
	for (; p < end && *p != '"'; p++)
		if (*p == '\\' && ++p >= end)
			return -1;
	LIT("\",\"detail\":");
	/* suffix: ,"hash":"<64>"} */
	if (n < 64 + 11)
		return -1;
	hp = end - 66;
	if (memcmp(hp - 9, ",\"hash\":\"", 9) != 0 || memcmp(end - 2, "\"}", 2) != 0)
		return -1;
	if (p >= hp - 9 || *p != '{' || hp[-10] != '}')
		return -1;
	out->detail = p;
	out->detail_len = (size_t)(hp - 9 - p);
	memcpy(out->hash, hp, 64);
	out->hash[64] = '\0';
	if (!hash_is_hex64(out->hash))
		return -1;
#undef LIT
	hash_sha256_hex(l, (size_t)(hp - 9 - l), h);
	if (strcmp(h, out->hash) != 0) {
		*why = "hash mismatch (record modified)";
		return -1;
	}
	{
		int64_t t;

		if (utc_parse(out->time, &t) != 0)
			return -1;
	}
	return 0;
}

/* Extract "key":"value" from a checkpoint detail (fixed layout). */
static int
checkpoint_fields(const rec *r, uint64_t *covers, char head[HASH_HEXLEN],
    const char **sig, size_t *siglen)
{
	const char *p = r->detail, *end = r->detail + r->detail_len;
	unsigned long long c = 0;

	if (r->detail_len < 12 || memcmp(p, "{\"covers\":", 10) != 0)
		return -1;
	p += 10;
	if (p >= end || *p < '0' || *p > '9')
		return -1;
	for (; p < end && *p >= '0' && *p <= '9'; p++)
		c = c * 10 + (unsigned long long)(*p - '0');
	if ((size_t)(end - p) < 10 + 64 || memcmp(p, ",\"head\":\"", 9) != 0)
		return -1;
	p += 9;
	memcpy(head, p, 64);
	head[64] = '\0';
	p += 64;
	if ((size_t)(end - p) < 10 || memcmp(p, "\",\"sig\":\"", 9) != 0)
		return -1;
	p += 9;
	*sig = p;
	while (p < end && *p != '"')
		p++;
	if (p + 2 != end || p[1] != '}')
		return -1;
	*siglen = (size_t)(p - *sig);
	*covers = c;
	return 0;
}

typedef int (*walk_fn)(void *ctx, const rec *r, const char *line, size_t len);

/*
 * Walk and verify every record; call fn for each verified record.  The
 * whole log is read into memory (capped at 1 GiB).
 */
static int
walk(const audit_log *a, audit_report *rep, walk_fn fn, void *ctx, bg_error *e)
{
	buf log;
	size_t off = 0, line = 0;
	uint64_t head_seq, expect = 1;
	unsigned char hd[32];
	char prev[HASH_HEXLEN] = ZERO_HASH, head_hash[HASH_HEXLEN];
	int r;

	memset(rep, 0, sizeof(*rep));
	buf_init(&log, 1024u * 1024 * 1024);
	if ((r = fileio_read(a->path, log.max, &log, e)) != 0) {
		buf_release(&log);
		return bg_fail(e, BG_ERR_TAMPER, "audit log '%s' is missing or unreadable",
		    a->path);
	}
	if ((r = read_head(a, NULL, &head_seq, head_hash, hd, e)) != 0)
		goto out;
	while (off < log.len) {
		const char *l = log.data + off, *nl = memchr(l, '\n', log.len - off);
		size_t n;
		const char *why;
		rec rc;

		line++;
		if (nl == NULL) {
			rep->bad_seq = expect;
			rep->bad_line = line;
			r = bg_fail(e, BG_ERR_TAMPER,
			    "record %llu (line %zu): incomplete record (no newline)",
			    (unsigned long long)expect, line);
			goto out;
		}
		n = (size_t)(nl - l);
		off += n + 1;
		if (n > AUDIT_MAX_RECORD || parse_record(l, n, &rc, &why) != 0) {
			rep->bad_seq = expect;
			rep->bad_line = line;
			r = bg_fail(e, BG_ERR_TAMPER, "record %llu (line %zu): %s",
			    (unsigned long long)expect, line,
			    n > AUDIT_MAX_RECORD ? "record too large" : why);
			goto out;
		}
		if (rc.seq != expect) {
			rep->bad_seq = expect;
			rep->bad_line = line;
			r = bg_fail(e, BG_ERR_TAMPER,
			    "record %llu (line %zu): sequence number is %llu "
			    "(record deleted or reordered)", (unsigned long long)expect,
			    line, (unsigned long long)rc.seq);
			goto out;
		}
		if (strcmp(rc.prev, prev) != 0) {
			rep->bad_seq = expect;
			rep->bad_line = line;
			r = bg_fail(e, BG_ERR_TAMPER,
			    "record %llu (line %zu): does not chain to the previous record",
			    (unsigned long long)expect, line);
			goto out;
		}
		if (strcmp(rc.event, "checkpoint") == 0) {
			uint64_t covers;
			char h[HASH_HEXLEN];
			const char *sig;
			size_t siglen;

			if (checkpoint_fields(&rc, &covers, h, &sig, &siglen) != 0 ||
			    covers != expect - 1 || strcmp(h, prev) != 0 ||
			    check_sig(a->pk, CKPT_TAG, covers, h, sig, siglen) != 0) {
				rep->bad_seq = expect;
				rep->bad_line = line;
				r = bg_fail(e, BG_ERR_TAMPER,
				    "record %llu (line %zu): checkpoint signature is not valid",
				    (unsigned long long)expect, line);
				goto out;
			}
			rep->checkpoints++;
		}
		if (fn != NULL && (r = fn(ctx, &rc, l, n)) != 0)
			goto out;
		memcpy(prev, rc.hash, HASH_HEXLEN);
		rep->records++;
		expect++;
	}
	if (head_seq != rep->records || strcmp(head_hash, prev) != 0) {
		rep->bad_seq = head_seq > rep->records ? rep->records + 1 : head_seq + 1;
		rep->bad_line = (size_t)rep->bad_seq;
		if (head_seq > rep->records)
			r = bg_fail(e, BG_ERR_TAMPER,
			    "record %llu: missing; the log ends at record %llu but the "
			    "signed head names record %llu (log truncated)",
			    (unsigned long long)rep->records + 1,
			    (unsigned long long)rep->records, (unsigned long long)head_seq);
		else if (head_seq < rep->records)
			r = bg_fail(e, BG_ERR_TAMPER,
			    "record %llu (line %llu): not covered by the signed head "
			    "(head names record %llu)", (unsigned long long)head_seq + 1,
			    (unsigned long long)head_seq + 1, (unsigned long long)head_seq);
		else
			r = bg_fail(e, BG_ERR_TAMPER,
			    "record %llu: differs from the record named by the signed head",
			    (unsigned long long)head_seq);
		goto out;
	}
	r = 0;
out:
	buf_release(&log);
	return r;
}

int
audit_verify(const audit_log *a, audit_report *rep, bg_error *e)
{
	return walk(a, rep, NULL, NULL, e);
}

struct export_ctx {
	buf *out;
	int64_t ticket;
	int first;
};

static int
export_one(void *vctx, const rec *r, const char *line, size_t len)
{
	struct export_ctx *c = vctx;
	int rc;

	if (c->ticket != 0 && r->ticket != c->ticket)
		return 0;
	if (!c->first && (rc = buf_puts(c->out, ",\n")) != 0)
		return rc;
	c->first = 0;
	return buf_append(c->out, line, len);
}

int
audit_export(const audit_log *a, int64_t ticket, buf *out, bg_error *e)
{
	struct export_ctx c = { out, ticket, 1 };
	audit_report rep;
	int r;

	if ((r = buf_puts(out, "[\n")) != 0)
		return r;
	if ((r = walk(a, &rep, export_one, &c, e)) != 0)
		return r;
	return buf_puts(out, c.first ? "]\n" : "\n]\n");
}

struct each_ctx {
	audit_visit_fn fn;
	void *ctx;
	int64_t ticket;
};

static int
each_one(void *vctx, const rec *r, const char *line, size_t len)
{
	struct each_ctx *c = vctx;

	if (c->ticket != 0 && r->ticket != c->ticket)
		return 0;
	return c->fn(c->ctx, r->seq, r->time, r->event, line, len);
}

int
audit_each(const audit_log *a, int64_t ticket, audit_visit_fn fn, void *ctx,
    bg_error *e)
{
	struct each_ctx c = { fn, ctx, ticket };
	audit_report rep;

	return walk(a, &rep, each_one, &c, e);
}

/* Read the last record of the log (fd positioned anywhere). */
static int
last_record(int fd, uint64_t *seq, char hash[HASH_HEXLEN], bg_error *e)
{
	struct stat st;
	char *tail = NULL;
	size_t want, n;
	off_t start;
	const char *l, *why;
	rec rc;
	ssize_t got;

	if (fstat(fd, &st) != 0)
		return bg_fail(e, BG_ERR_IO, "cannot stat audit log");
	if (st.st_size == 0) {
		*seq = 0;
		memcpy(hash, ZERO_HASH, HASH_HEXLEN);
		return 0;
	}
	want = st.st_size > (off_t)AUDIT_MAX_RECORD + 2 ? AUDIT_MAX_RECORD + 2 : (size_t)st.st_size;
	start = st.st_size - (off_t)want;
	if ((tail = malloc(want + 1)) == NULL)
		return BG_ERR_NOMEM;
	got = pread(fd, tail, want, start);
	if (got < 0 || (size_t)got != want) {
		free(tail);
		return bg_fail(e, BG_ERR_IO, "cannot read audit log");
	}
	tail[want] = '\0';
	if (tail[want - 1] != '\n') {
		free(tail);
		return bg_fail(e, BG_ERR_TAMPER, "audit log ends with an incomplete record");
	}
	n = want - 1;
	l = tail + n;
	while (l > tail && l[-1] != '\n')
		l--;
	if (l == tail && start != 0) {
		free(tail);
		return bg_fail(e, BG_ERR_TAMPER, "audit log's last record is too large");
	}
	if (parse_record(l, (size_t)(tail + n - l), &rc, &why) != 0) {
		free(tail);
		return bg_fail(e, BG_ERR_TAMPER, "audit log's last record: %s", why);
	}
	*seq = rc.seq;
	memcpy(hash, rc.hash, HASH_HEXLEN);
	free(tail);
	return 0;
}

/*
 * One record line after (seq, prev), written at the end of fd without a
 * sync; seq and prev become the new record's.
 */
static int
append_line(int fd, int64_t now, const char *actor, const char *event, int64_t ticket,
    const char *detail_json, uint64_t *seq, char prev[HASH_HEXLEN], bg_error *e)
{
	char h[HASH_HEXLEN], ts[UTC_STRLEN];
	buf line;
	int r;

	utc_format(now, ts);
	buf_init(&line, AUDIT_MAX_RECORD);
	if ((r = buf_printf(&line, "{\"seq\":%llu,\"time\":\"%s\",\"prev\":\"%s\",\"ticket\":",
	    (unsigned long long)*seq + 1, ts, prev)) != 0)
		goto out;
	if (ticket > 0)
		r = buf_printf(&line, "%lld", (long long)ticket);
	else
		r = buf_puts(&line, "null");
	if (r != 0 || (r = buf_printf(&line, ",\"event\":\"%s\",\"actor\":", event)) != 0 ||
	    (r = json_escape(&line, actor, strlen(actor))) != 0 ||
	    (r = buf_puts(&line, ",\"detail\":")) != 0 ||
	    (r = buf_puts(&line, detail_json ? detail_json : "{}")) != 0)
		goto out;
	hash_sha256_hex(line.data, line.len, h);
	if ((r = buf_printf(&line, ",\"hash\":\"%s\"}\n", h)) != 0)
		goto out;
	if (lseek(fd, 0, SEEK_END) < 0 || fileio_write_full(fd, line.data, line.len) != 0) {
		r = bg_fail(e, BG_ERR_IO, "cannot append to audit log: %s", strerror(errno));
		goto out;
	}
	(*seq)++;
	memcpy(prev, h, HASH_HEXLEN);
out:
	if (r == BG_ERR_TOOLARGE)
		bg_fail(e, r, "audit record larger than %u bytes", AUDIT_MAX_RECORD);
	buf_release(&line);
	return r;
}

static int
valid_event(const char *ev)
{
	size_t i;

	for (i = 0; ev[i]; i++)
		if (!((ev[i] >= 'a' && ev[i] <= 'z') || ev[i] == '.' || ev[i] == '-'))
			return 0;
	return i > 0 && i < 63;
}

/* A checkpoint record over (seq, prev): written like append_line. */
static int
checkpoint_line(audit_log *a, int fd, int64_t now, const char *actor, int64_t ticket,
    uint64_t *seq, char prev[HASH_HEXLEN], bg_error *e)
{
	buf d;
	int r;

	buf_init(&d, 1024);
	if ((r = buf_printf(&d, "{\"covers\":%llu,\"head\":\"%s\",\"sig\":\"",
	    (unsigned long long)*seq, prev)) != 0 ||
	    (r = sign_text(a->key, CKPT_TAG, *seq, prev, &d)) != 0 ||
	    (r = buf_puts(&d, "\"}")) != 0) {
		buf_release(&d);
		return r;
	}
	r = append_line(fd, now, actor, "checkpoint", ticket, d.data, seq, prev, e);
	buf_release(&d);
	return r;
}

/*
 * Make the lines just written to the log (fd) and the new head (seq, hash)
 * durable with one cache flush of the device.  The head keeps its length
 * (head_text), so it is rewritten in place: a pwrite of ~200 bytes at
 * offset 0 - inside the first 512-byte sector, which a disk writes whole
 * or not at all - handed to the device by sync_file_range (its block is
 * allocated and its size does not change: no metadata) together with the
 * log's new blocks (a write started, not waited for: the two run at once),
 * the head's write waited for, then fdatasync of the log: it waits for the
 * log's blocks, and the log grew, so the file system commits its journal,
 * which ends with a cache flush, and a flush makes every write the device
 * has completed durable - the head's included, completed before it.  One
 * flush per batch, where a record used to cost three (the log, a temporary
 * head, its directory).  When anything fails the previous head's bytes are
 * put back (synced on their own).  A head of another length (an older, unpadded one) is
 * replaced atomically after the log's sync, once.
 */
static int
sync_with_head(audit_log *a, int fd, uint64_t seq, const char *hash, int durable, bg_error *e)
{
	char old[512];
	buf h;
	int hfd, r = 0;

	buf_init(&h, 1024);
	if ((r = head_text(a->key, seq, hash, &h)) != 0) {
		buf_release(&h);
		return bg_fail(e, r, "cannot build audit head");
	}
	if ((hfd = head_open_in_place(a->headpath, h.len, old, sizeof(old))) < 0) {
		if (fdatasync(fd) != 0)
			r = bg_fail(e, BG_ERR_IO, "cannot append to audit log: %s", strerror(errno));
		else
			r = fileio_write_atomic(a->headpath, h.data, h.len, 0640, 0, e);
		a->head_known_set = r == 0;
		if (r == 0)
			head_digest(&h, a->head_known);
		buf_release(&h);
		return r;
	}
	if (pwrite(hfd, h.data, h.len, 0) != (ssize_t)h.len) {
		r = bg_fail(e, BG_ERR_IO, "cannot write audit head: %s", strerror(errno));
	} else if (!durable) {
		/* written, visible to every reader; audit_sync makes it durable */
	} else if ((void)sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE),
	    sync_file_range(hfd, 0, (off_t)h.len, SYNC_FILE_RANGE_WAIT_BEFORE |
	    SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER) != 0) {
		/* a file system without it: a sync of its own, after the log's */
		if ((errno != EINVAL && errno != ENOSYS && errno != ESPIPE) || fdatasync(fd) != 0 ||
		    fdatasync(hfd) != 0)
			r = bg_fail(e, BG_ERR_IO, "cannot append to audit log: %s", strerror(errno));
	} else if (fdatasync(fd) != 0)
		r = bg_fail(e, BG_ERR_IO, "cannot append to audit log: %s", strerror(errno));
	if (r != 0) {
		if (pwrite(hfd, old, h.len, 0) == (ssize_t)h.len)
			(void)fdatasync(hfd);
	}
	a->head_known_set = r == 0;
	if (r == 0)
		head_digest(&h, a->head_known);
	close(hfd);
	buf_release(&h);
	return r;
}

/*
 * Append recs (n may be 0 when checkpoint asks for a checkpoint alone)
 * under the lock held on fd: the log must end at its signed head; every
 * line is written, then sync_with_head makes them and the new head
 * durable together.  On any failure the log is
 * cut back to where it was, so log and head still agree.
 */
static int
append_batch_locked(audit_log *a, int fd, const audit_rec *recs, size_t n, int checkpoint,
    int durable, bg_error *e)
{
	uint64_t seq, hseq;
	unsigned char hd[32];
	char prev[HASH_HEXLEN], hhash[HASH_HEXLEN];
	struct stat st;
	size_t i;
	int r = 0;

	if (fstat(fd, &st) != 0)
		return bg_fail(e, BG_ERR_IO, "cannot stat audit log");
	if ((r = last_record(fd, &seq, prev, e)) != 0)
		return r;
	if ((r = read_head(a, a->head_known_set ? a->head_known : NULL, &hseq, hhash, hd, e)) != 0)
		return r;
	memcpy(a->head_known, hd, sizeof(hd));
	a->head_known_set = 1;
	if (hseq != seq || strcmp(hhash, prev) != 0)
		return bg_fail(e, BG_ERR_TAMPER,
		    "audit log does not end at its signed head (record %llu vs %llu); "
		    "run 'breakglass audit verify'", (unsigned long long)seq,
		    (unsigned long long)hseq);
	for (i = 0; i < n && r == 0; i++) {
		r = append_line(fd, recs[i].now, recs[i].actor, recs[i].event, recs[i].ticket,
		    recs[i].detail_json, &seq, prev, e);
		if (r == 0 && a->checkpoint_every > 0 && seq % a->checkpoint_every == 0)
			r = checkpoint_line(a, fd, recs[i].now, recs[i].actor, 0, &seq, prev, e);
	}
	if (r == 0 && checkpoint)
		r = checkpoint_line(a, fd, recs[0].now, recs[0].actor, recs[0].ticket, &seq, prev, e);
	if (r == 0)
		r = sync_with_head(a, fd, seq, prev, durable, e);
	if (r != 0) {
		/* take the records back (a full disk: the head could not
		 * follow), so that log and head still agree and the next
		 * append works */
		if (ftruncate(fd, st.st_size) == 0)
			(void)fdatasync(fd);
	}
	return r;
}

static int
lock_log(audit_log *a, bg_error *e)
{
	int fd;

	if (a->key == NULL)
		return bg_fail(e, BG_ERR_USAGE, "audit log opened read-only");
	fd = open(a->path, O_RDWR | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return bg_fail(e, BG_ERR_IO, "cannot open audit log '%s': %s", a->path,
		    strerror(errno));
	if (flock(fd, LOCK_EX) != 0) {
		close(fd);
		return bg_fail(e, BG_ERR_IO, "cannot lock audit log");
	}
	return fd;
}

int
audit_append_many_ex(audit_log *a, const audit_rec *recs, size_t n, int flags, bg_error *e)
{
	size_t i;
	int fd, r;

	if (n == 0)
		return 0;
	if (n > AUDIT_MAX_BATCH)
		return bg_fail(e, BG_ERR_USAGE, "more than %u audit records at once", AUDIT_MAX_BATCH);
	for (i = 0; i < n; i++)
		if (!valid_event(recs[i].event))
			return bg_fail(e, BG_ERR_USAGE, "invalid audit event name");
	if ((fd = lock_log(a, e)) < 0)
		return fd;
	r = append_batch_locked(a, fd, recs, n, 0, !(flags & AUDIT_NOSYNC), e);
	close(fd);
	return r;
}

int
audit_append_many(audit_log *a, const audit_rec *recs, size_t n, bg_error *e)
{
	return audit_append_many_ex(a, recs, n, 0, e);
}

/*
 * What AUDIT_NOSYNC appends left in the page cache, durable: under the
 * log's lock (no other append is half-written meanwhile), the head's
 * block handed to the device, then the log's fdatasync and the cache
 * flush it ends with - as sync_with_head does.  A later durable append
 * makes them durable too (the same file, the same head).
 */
int
audit_sync(audit_log *a, bg_error *e)
{
	int fd, hfd, r = 0;

	if ((fd = lock_log(a, e)) < 0)
		return fd;
	if ((hfd = open(a->headpath, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		r = bg_fail(e, BG_ERR_IO, "cannot open audit head: %s", strerror(errno));
	else if ((void)sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE),
	    sync_file_range(hfd, 0, 0, SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE |
	    SYNC_FILE_RANGE_WAIT_AFTER) != 0 && ((errno != EINVAL && errno != ENOSYS &&
	    errno != ESPIPE) || fdatasync(hfd) != 0))
		r = bg_fail(e, BG_ERR_IO, "cannot sync audit head: %s", strerror(errno));
	if (r == 0 && fdatasync(fd) != 0)
		r = bg_fail(e, BG_ERR_IO, "cannot sync audit log: %s", strerror(errno));
	if (hfd >= 0)
		close(hfd);
	close(fd);
	return r;
}

/*
 * The child: rawsys() only (it shares this process's memory, so nothing
 * of libc's state may be touched, errno included), the flush audit_sync
 * makes, then the notify byte.  Exit status: 0 durable and notified, 2
 * durable and not notified (the reader is gone), 1 not durable.  No lock
 * is taken (unlike audit_sync): the flush runs while another writer may
 * be half-way through an append anyway, and it makes durable at least
 * everything written before audit_sync_start - which is all the caller
 * needs.  Its signals stay blocked: a notify pipe with no reader is
 * EPIPE, not SIGPIPE; it dies with its parent (PR_SET_PDEATHSIG), so
 * nothing is started for a writer that is gone.
 */
__attribute__((no_sanitize_address)) static int
sync_child(void *arg)
{
	const audit_syncing *ss = arg;
	uint64_t all = ~(uint64_t)0;
	long r;

	(void)rawsys(SYS_rt_sigprocmask, SIG_SETMASK, (long)&all, 0L, 8L);
	if (ss->notify >= 0 && (rawsys(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0L, 0L) != 0 ||
	    rawsys(SYS_getppid, 0L, 0L, 0L, 0L) != ss->ppid))
		return 1;
	/* both blocks handed to the device at once (see sync_with_head) */
	(void)rawsys(SYS_sync_file_range, ss->fd, 0L, 0L, (long)SYNC_FILE_RANGE_WRITE);
	r = rawsys(SYS_sync_file_range, ss->hfd, 0L, 0L, (long)(SYNC_FILE_RANGE_WAIT_BEFORE |
	    SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER));
	if (r != 0)
		r = rawsys(SYS_fdatasync, ss->hfd, 0L, 0L, 0L);
	if (r == 0)
		r = rawsys(SYS_fdatasync, ss->fd, 0L, 0L, 0L);
	if (r != 0)
		return 1;
	if (ss->notify >= 0 && rawsys(SYS_write, ss->notify, (long)&ss->byte, 1L, 0L) != 1)
		return 2;
	return 0;
}

int
audit_sync_start(audit_log *a, audit_syncing *ss, int notify, unsigned char byte)
{
	long pid;

	ss->fd = ss->hfd = -1;
	ss->pid = 0;
	ss->started = 1;
	ss->notify = notify;
	ss->byte = byte;
	ss->notified = 0;
	ss->ppid = (int)getpid();
	if ((ss->fd = open(a->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0 ||
	    (ss->hfd = open(a->headpath, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return 0; /* audit_sync_wait syncs (and says what failed) */
	pid = clone(sync_child, ss->stack + sizeof(ss->stack), CLONE_VM | SIGCHLD, ss);
	ss->pid = pid > 0 ? (int)pid : 0;
	return 0;
}

int
audit_sync_wait(audit_log *a, audit_syncing *ss, bg_error *e)
{
	int r = 0, st = 0;

	if (!ss->started)
		return 0;
	ss->started = 0;
	if (ss->pid > 0) {
		pid_t w;

		while ((w = waitpid(ss->pid, &st, 0)) < 0 && errno == EINTR)
			;
		/* no second try: a write error the child's fdatasync saw may
		 * not be reported again to a descriptor opened after it */
		if (w != ss->pid || !WIFEXITED(st) || (WEXITSTATUS(st) != 0 && WEXITSTATUS(st) != 2))
			r = bg_fail(e, BG_ERR_IO, "cannot sync audit log: %s", w != ss->pid ?
			    "its flush was lost" : "the flush failed");
		else
			ss->notified = ss->notify >= 0 && WEXITSTATUS(st) == 0;
	} else if ((r = audit_sync(a, e)) == 0 && ss->notify >= 0)
		ss->notified = write(ss->notify, &ss->byte, 1) == 1;
	if (ss->fd >= 0)
		close(ss->fd);
	if (ss->hfd >= 0)
		close(ss->hfd);
	return r;
}

int
audit_append(audit_log *a, int64_t now, const char *actor, const char *event,
    int64_t ticket, const char *detail_json, bg_error *e)
{
	audit_rec one = { now, actor, event, ticket, detail_json };

	return audit_append_many(a, &one, 1, e);
}

int
audit_last_time(const audit_log *a, int64_t *t, bg_error *e)
{
	struct stat st;
	char *tail = NULL;
	size_t want;
	const char *l, *why;
	rec rc;
	int fd, r = 0;

	*t = 0;
	if ((fd = open(a->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return bg_fail(e, BG_ERR_IO, "cannot open audit log '%s'", a->path);
	if (fstat(fd, &st) != 0 || st.st_size == 0) {
		close(fd);
		return 0;
	}
	want = st.st_size > (off_t)AUDIT_MAX_RECORD + 2 ? AUDIT_MAX_RECORD + 2 : (size_t)st.st_size;
	if ((tail = malloc(want + 1)) == NULL) {
		close(fd);
		return BG_ERR_NOMEM;
	}
	if (pread(fd, tail, want, st.st_size - (off_t)want) != (ssize_t)want ||
	    tail[want - 1] != '\n') {
		r = bg_fail(e, BG_ERR_TAMPER, "audit log ends with an incomplete record");
		goto out;
	}
	tail[want - 1] = '\0';
	l = strrchr(tail, '\n');
	l = l ? l + 1 : tail;
	if (parse_record(l, strlen(l), &rc, &why) != 0) {
		r = bg_fail(e, BG_ERR_TAMPER, "audit log's last record: %s", why);
		goto out;
	}
	if (utc_parse(rc.time, t) != 0)
		r = bg_fail(e, BG_ERR_TAMPER, "audit log's last record has a bad time");
out:
	free(tail);
	close(fd);
	return r;
}

int
audit_checkpoint(audit_log *a, int64_t now, const char *actor, int64_t ticket,
    bg_error *e)
{
	audit_rec one = { now, actor, "checkpoint", ticket, NULL };
	int fd, r;

	if ((fd = lock_log(a, e)) < 0)
		return fd;
	r = append_batch_locked(a, fd, &one, 0, 1, 1, e);
	close(fd);
	return r;
}

int
audit_host_key(const char *dir, sshkey_priv *k, bg_error *e)
{
	buf p, t;
	int r;

	buf_init(&p, 4096);
	buf_init_secret(&t, 16384);
	if ((r = fileio_join(&p, dir, "host.key")) == 0 &&
	    (r = fileio_read(p.data, 16384, &t, e)) == 0)
		r = sshkey_priv_parse(buf_cstr(&t), t.len, k, e);
	buf_release(&p);
	buf_release(&t);
	return r;
}
