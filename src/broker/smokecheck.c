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
 */
#include "smokecheck.h"
#include "hash.h"
#include "http.h"
#include "scan.h"
#include "text.h"

#include <sodium.h>
#include <stdio.h>
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
