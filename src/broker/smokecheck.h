/*
 * smokecheck.h - a smoke test that runs: an HTTP(S) request to the
 * affected flow's URL, its status, timing and a hash of its body.
 *
 * "The affected flow is tested after the fix": a check is made with
 * libcurl (no redirects followed, no cookies, no proxy from the
 * environment, a timeout), and decided here - the status must be the
 * expected one (default: any 2xx) and, when asked, the body must contain a
 * text.  Only the body's SHA-256 and size are kept; the body itself is
 * never stored (a failing check shows a redacted excerpt on the terminal).
 */
#ifndef BG_SMOKECHECK_H
#define BG_SMOKECHECK_H

#include "buf.h"
#include "err.h"

#include <stdint.h>

#define SMOKECHECK_MAX_BODY (4u * 1024 * 1024)

typedef struct smokecheck {
	/* what to check */
	const char *name;       /* the plan's name for it, or NULL */
	const char *url;        /* http:// or https:// */
	int expect;             /* expected status; 0: any 2xx */
	const char *contains;   /* NULL or text the body must contain */
	int timeout_s;          /* 1..300 */
	/* what was seen */
	long status;            /* 0 when no response */
	int64_t elapsed_ms;
	uint64_t body_size;
	char body_sha256[65];
	int contains_found;
	int pass;
	char why[256];          /* what failed, or "" */
	buf excerpt;            /* the body's first bytes, redacted (for people) */
} smokecheck;

/* Check c->url, c->expect, c->contains, c->timeout_s: BG_ERR_INVALID with
 * e set for an unusable request (not http/https, spaces, controls, user
 * info in the URL, a timeout out of range, a text too long). */
int smokecheck_validate(const smokecheck *c, bg_error *e);

/*
 * Make the request and decide.  0 when a decision was made (c->pass says
 * which; a connection failure is a failed check, with c->why), or a
 * negative code when the check could not run at all (libcurl missing,
 * memory).  c->excerpt must be initialised by the caller (buf_init) and
 * released by it.
 */
int smokecheck_run(smokecheck *c, bg_error *e);

#endif
