/*
 * smokecheck.c - an HTTP smoke check (see smokecheck.h), made through
 * http.c (libcurl, loaded only when a check runs).
 *
 * The request is as plain as a person's first look: GET, no redirects
 * (a 302 to a login page is what the check must see, not hide), no
 * cookies, no credentials, proxies only from the system's libcurl
 * defaults, TLS verified.  URLs carrying credentials are refused before
 * anything is sent: a smoke check never needs a password, and the URL is
 * recorded.
 *
 * A command check runs nothing here: the broker holds no host access.
 * The responder runs the command through the gate like any request; the
 * host's hash-chained, host-key-signed log records it with its exit
 * status, and the check reads that record - after verifying the log.
 */
#include "smokecheck.h"
#include "audit.h"
#include "hash.h"
#include "http.h"
#include "json.h"
#include "scan.h"
#include "text.h"
#include "utc.h"

#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

int
smokecheck_validate(const smokecheck *c, bg_error *e)
{
	const char *u = c->url, *host, *end;
	size_t n, bad;

	if (u == NULL || (n = strlen(u)) == 0 || n > 2048)
		return bg_fail(e, BG_ERR_INVALID, "--check needs a URL of at most 2048 bytes");
	if (text_check(u, n, 0, &bad) != 0 || strpbrk(u, " \t\"<>\\^`{|}") != NULL)
		return bg_fail(e, BG_ERR_INVALID, "--check '%.80s': spaces, quotes and control "
		    "characters are not allowed in the URL", u);
	if (strncasecmp(u, "http://", 7) == 0)
		host = u + 7;
	else if (strncasecmp(u, "https://", 8) == 0)
		host = u + 8;
	else
		return bg_fail(e, BG_ERR_INVALID, "--check '%.80s' is not an http:// or https:// URL",
		    u);
	end = host + strcspn(host, "/?#");
	if (end == host)
		return bg_fail(e, BG_ERR_INVALID, "--check '%.80s' names no host", u);
	if (memchr(host, '@', (size_t)(end - host)) != NULL)
		return bg_fail(e, BG_ERR_INVALID, "--check: the URL carries credentials "
		    "(user@host); a smoke check never needs them and the URL is recorded");
	if (c->expect != 0 && (c->expect < 100 || c->expect > 599))
		return bg_fail(e, BG_ERR_INVALID, "--expect is an HTTP status, 100 to 599");
	if (c->timeout_s < 1 || c->timeout_s > 300)
		return bg_fail(e, BG_ERR_INVALID, "--timeout is 1 to 300 seconds");
	if (c->contains != NULL && (strlen(c->contains) == 0 || strlen(c->contains) > 1024))
		return bg_fail(e, BG_ERR_INVALID, "--contains takes 1 to 1024 bytes");
	return 0;
}

typedef struct body {
	crypto_hash_sha256_state hs;
	uint64_t size;
	buf head;        /* the first bytes, for the excerpt and the contains test */
	const char *needle;
	size_t nlen;
	int found;
	char tail[1024]; /* the last bytes seen, so a needle across two chunks is found */
	size_t ntail;
} body;

static size_t
on_data(const char *p, size_t n, void *ctx)
{
	body *b = ctx;

	if (n == 0)
		return 0;
	crypto_hash_sha256_update(&b->hs, (const unsigned char *)p, n);
	b->size += n;
	if (b->head.len < 512)
		(void)buf_append(&b->head, p, n > 512 - b->head.len ? 512 - b->head.len : n);
	if (b->needle != NULL && !b->found) {
		/* the needle may straddle the previous chunk and this one */
		char join[2048];
		size_t k = b->ntail, take = n < b->nlen ? n : b->nlen;

		if (k + take <= sizeof(join)) {
			memcpy(join, b->tail, k);
			memcpy(join + k, p, take);
			if (memmem(join, k + take, b->needle, b->nlen) != NULL)
				b->found = 1;
		}
		if (!b->found && memmem(p, n, b->needle, b->nlen) != NULL)
			b->found = 1;
		if (b->nlen > 1) {
			size_t keep = b->nlen - 1;

			if (n >= keep) {
				memcpy(b->tail, p + n - keep, keep);
				b->ntail = keep;
			} else {
				size_t old = b->ntail + n > keep ? keep - n : b->ntail;

				memmove(b->tail, b->tail + b->ntail - old, old);
				memcpy(b->tail + old, p, n);
				b->ntail = old + n;
			}
		}
	}
	if (b->size > SMOKECHECK_MAX_BODY)
		return 0; /* enough: a larger page is hashed no further (and fails) */
	return n;
}

int
smokecheck_run(smokecheck *c, bg_error *e)
{
	http_req req;
	http_resp resp;
	body b;
	unsigned char h[32];
	int r;

	if ((r = smokecheck_validate(c, e)) != 0)
		return r;
	memset(&b, 0, sizeof(b));
	crypto_hash_sha256_init(&b.hs);
	buf_init(&b.head, 1024);
	b.needle = c->contains;
	b.nlen = c->contains ? strlen(c->contains) : 0;
	memset(&req, 0, sizeof(req));
	req.method = "GET";
	req.url = c->url;
	req.timeout_s = c->timeout_s;
	req.user_agent = "breakglass-smoke/1";
	req.on_body = on_data;
	req.ctx = &b;
	c->status = 0;
	c->why[0] = '\0';
	if ((r = http_request(&req, &resp, e)) != 0) {
		buf_release(&b.head);
		return r;
	}
	c->status = resp.status;
	c->elapsed_ms = resp.elapsed_ms;
	crypto_hash_sha256_final(&b.hs, h);
	hash_hex(h, 32, c->body_sha256);
	c->body_size = b.size;
	c->contains_found = b.found;
	/* the excerpt is for people and is redacted like any text shown */
	buf_reset(&c->excerpt);
	if (b.head.len > 0 && scan_redact(b.head.data, b.head.len, &c->excerpt, NULL) != 0)
		buf_puts(&c->excerpt, "[unprintable]");
	buf_release(&b.head);
	if (resp.stopped && b.size > SMOKECHECK_MAX_BODY)
		snprintf(c->why, sizeof(c->why), "the body is larger than %u bytes",
		    SMOKECHECK_MAX_BODY);
	else if (!resp.complete)
		snprintf(c->why, sizeof(c->why), "no response: %.200s", resp.error);
	else if (c->expect != 0 && c->status != c->expect)
		snprintf(c->why, sizeof(c->why), "status %ld, expected %d", c->status, c->expect);
	else if (c->expect == 0 && (c->status < 200 || c->status > 299))
		snprintf(c->why, sizeof(c->why), "status %ld, expected 2xx", c->status);
	else if (c->contains != NULL && !b.found)
		snprintf(c->why, sizeof(c->why), "the body does not contain the expected text");
	c->pass = c->why[0] == '\0';
	return 0;
}

/* ---- command checks, decided from the host's record ---- */

/* The gate's built-in verbs that only read: a check may name them. */
static const char *const read_verbs[] = { "cat", "grep", "ls", "stat", "sha256", NULL };

int
smokecmd_validate(const smokecmd *c, bg_error *e)
{
	size_t i, bad;

	if (c->av.n == 0)
		return bg_fail(e, BG_ERR_INVALID, "command= names no command");
	if (c->av.n > SMOKECMD_MAX_ARGS)
		return bg_fail(e, BG_ERR_INVALID, "command= has more than %d arguments",
		    SMOKECMD_MAX_ARGS);
	for (i = 0; i < c->av.n; i++)
		if (c->av.v[i][0] == '\0' || text_check(c->av.v[i], strlen(c->av.v[i]), 0, &bad) != 0)
			return bg_fail(e, BG_ERR_INVALID, "command= argument %zu is empty or has "
			    "control characters", i + 1);
	{
		buf j;
		int too_long;

		buf_init(&j, 64 * 1024);
		too_long = argv_join(&c->av, &j) != 0 || j.len > SMOKECMD_MAX_JOINED;
		buf_release(&j);
		if (too_long)
			return bg_fail(e, BG_ERR_INVALID, "command= is longer than %d bytes: the "
			    "gate's record of it would be cut", SMOKECMD_MAX_JOINED);
	}
	for (i = 0; i < c->av.n; i++)
		if (strstr(c->av.v[i], "[REDACTED") != NULL)
			return bg_fail(e, BG_ERR_INVALID, "command= argument %zu has '[REDACTED': "
			    "that is what the gate records in place of a secret", i + 1);
	if (c->av.v[0][0] != '/') {
		for (i = 0; read_verbs[i] && strcmp(read_verbs[i], c->av.v[0]) != 0; i++)
			;
		if (read_verbs[i] == NULL)
			return bg_fail(e, BG_ERR_INVALID, "command= '%.60s' is neither an absolute "
			    "path (a command the grant allows) nor a gate verb that only reads (cat, "
			    "grep, ls, stat, sha256)", c->av.v[0]);
	}
	if (c->expect_exit < 0 || c->expect_exit > 255)
		return bg_fail(e, BG_ERR_INVALID, "exit= is an exit status, 0 to 255");
	if (c->host != NULL && (c->host[0] == '\0' || strlen(c->host) >= sizeof(c->hostname) ||
	    strspn(c->host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_") !=
	    strlen(c->host)))
		return bg_fail(e, BG_ERR_INVALID, "host= '%.60s' is not a host-log name", c->host);
	return 0;
}

typedef struct cmd_find {
	const smokecmd *c;
	uint64_t seq;
	int64_t when;
	int64_t grant;
	int status;
	int found;
} cmd_find;

/* An integer member of a record's detail, or -1. */
static int64_t
detail_int(const json_val *d, const char *key, int64_t max)
{
	const json_val *v = json_get(d, key);
	char *end;
	long long n;

	if (v == NULL || v->type != JSON_NUM || v->s[0] < '0' || v->s[0] > '9')
		return -1;
	n = strtoll(v->s, &end, 10);
	return *end == '\0' && n >= 0 && n <= max ? n : -1;
}

static int
cmd_one(void *vctx, uint64_t seq, const char *time, const char *event, const char *line,
    size_t len)
{
	cmd_find *f = vctx;
	json_val *rec = NULL;
	const json_val *d;
	const char *req, *decision;
	argv_list av = { NULL, 0 };
	bg_error e;
	int64_t when, st;

	if (strcmp(event, "gate.end") != 0 && strcmp(event, "gate.verb") != 0)
		return 0;
	if (utc_parse(time, &when) != 0)
		return 0;
	if (f->found && when < f->when)
		return 0;
	if (json_parse(line, len, &rec, &e) != 0)
		return 0;
	d = json_get(rec, "detail");
	req = json_get_str(d, "request");
	decision = json_get_str(d, "decision");
	/* the request the gate ran, split: equal argv, never a substring */
	if (req != NULL && decision != NULL && strlen(req) < SMOKECMD_RECORD_CUT &&
	    argv_split(req, &av, &e) == 0 &&
	    argv_equal(&av, &f->c->av)) {
		st = detail_int(d, "status", 255);
		f->found = 1;
		f->seq = seq;
		f->when = when;
		f->grant = detail_int(d, "grant", INT64_MAX);
		/* a cut request (the grant ended under it) did not finish */
		f->status = strcmp(decision, "allow") == 0 ? (int)st : -1;
	}
	argv_release(&av);
	json_val_free(rec);
	return 0;
}

int
smokecmd_find(home *h, int64_t tid, smokecmd *c, bg_error *e)
{
	size_t i, n, searched = 0;
	buf want;
	char why[sizeof(e->msg)];
	int r = 0, found = 0;

	c->hostname[0] = '\0';
	c->seq = 0;
	c->when = c->grant = 0;
	c->status = -1;
	c->pass = 0;
	c->why[0] = '\0';
	if ((r = smokecmd_validate(c, e)) != 0)
		return r;
	n = c->audit_dir ? 1 : h->nhost_logs;
	if (n == 0)
		return bg_fail(e, BG_ERR_USAGE, "no host log to read the check's record from: name "
		    "each host's log directory with 'host-log: [NAME] DIR' in the config, or give "
		    "--audit-dir DIR");
	if (c->audit_dir && c->host)
		return bg_fail(e, BG_ERR_USAGE, "check '%s' names host '%s': read it from the "
		    "host-log lines of the config, not --audit-dir", c->name ? c->name : "",
		    c->host);
	for (i = 0; i < n; i++) {
		const char *dir = c->audit_dir ? c->audit_dir : h->host_logs[i].dir;
		const char *name = c->audit_dir ? NULL : h->host_logs[i].name;
		cmd_find f;
		sshkey_priv k;
		audit_log log;

		if (c->host && (name == NULL || strcmp(name, c->host) != 0))
			continue;
		searched++;
		memset(&f, 0, sizeof(f));
		f.c = c;
		/* the whole log verifies with the host's key, or nothing in it counts */
		if ((r = audit_host_key(dir, &k, e)) != 0) {
			snprintf(why, sizeof(why), "%s", e->msg);
			return bg_fail(e, r, "host log '%s': %s", dir, why);
		}
		if ((r = audit_open(&log, dir, NULL, k.pk, e)) == 0) {
			r = audit_each(&log, tid, cmd_one, &f, e);
			audit_close(&log);
		}
		sshkey_priv_release(&k);
		if (r != 0) {
			snprintf(why, sizeof(why), "%s", e->msg);
			return bg_fail(e, r, "host log '%s' does not verify; nothing in it is used: %s",
			    dir, why);
		}
		if (f.found && (!found || f.when >= c->when)) {
			found = 1;
			snprintf(c->hostname, sizeof(c->hostname), "%s", name ? name : "");
			c->seq = f.seq;
			c->when = f.when;
			c->grant = f.grant;
			c->status = f.status;
		}
	}
	if (searched == 0)
		return bg_fail(e, BG_ERR_USAGE, "check '%s' names host '%s', but no 'host-log: %s "
		    "DIR' line in the config names it", c->name ? c->name : "", c->host, c->host);
	if (!found) {
		buf_init(&want, 16384);
		(void)argv_join(&c->av, &want);
		r = bg_fail(e, BG_ERR_NOTFOUND, "no record of '%s' for T-%lld in the host log%s: "
		    "run it through the gate first (ssh ACCOUNT@%s -- %s), then run the check again",
		    buf_cstr(&want), (long long)tid, searched > 1 ? "s" : "",
		    c->host ? c->host : "HOST", buf_cstr(&want));
		buf_release(&want);
		return r;
	}
	if (c->status < 0)
		snprintf(c->why, sizeof(c->why), "the request was cut (its grant ended) before it "
		    "finished");
	else if (c->status != c->expect_exit)
		snprintf(c->why, sizeof(c->why), "exit status %d, expected %d", c->status,
		    c->expect_exit);
	c->pass = c->why[0] == '\0';
	return 0;
}
