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

#include "argv.h"
#include "buf.h"
#include "err.h"
#include "home.h"

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

/*
 * A command check: a request the responder runs through the gate (ssh
 * ACCOUNT@HOST -- ARGV), decided from the host's own record of it.  The
 * broker never holds host access; it reads the host log (verified with
 * the host's key first), takes the newest gate.end (a command) or
 * gate.verb (a built-in verb such as grep) record of the ticket whose
 * request splits to exactly argv, and compares its exit status.
 */
#define SMOKECMD_MAX_ARGS 64
/* The gate keeps at most 1023 bytes of a request in its record: a longer
 * one is cut, and a cut request could split to a shorter argv.  A check's
 * argv, joined, stays well below; a record that long is never taken. */
#define SMOKECMD_MAX_JOINED 1000
#define SMOKECMD_RECORD_CUT 1023

typedef struct smokecmd {
	/* what to check */
	const char *name;        /* the plan's name for it */
	const char *command;     /* as the plan writes it */
	argv_list av;            /* split; owned by whoever split it */
	int expect_exit;         /* 0..255 */
	const char *host;        /* a host-log name, or NULL: every host log */
	const char *audit_dir;   /* NULL: the home's host-log lines */
	/* what was found */
	char hostname[64];       /* "" when the log has no name */
	uint64_t seq;            /* the record */
	int64_t when;            /* its time */
	int64_t grant;
	int status;              /* its exit status; -1 when it was cut */
	int pass;
	char why[256];
} smokecmd;

/* Check a command check's argv, expected status and host name:
 * BG_ERR_INVALID with e set when unusable. */
int smokecmd_validate(const smokecmd *c, bg_error *e);

/*
 * Find the newest record of ticket tid's request c->av in the verified
 * host log(s) and decide.  0 when a record was found (c->pass says how it
 * ended); BG_ERR_NOTFOUND with e saying which command to run through ssh
 * when there is none; BG_ERR_TAMPER (or another error) when a log does
 * not verify or cannot be read - a log that does not verify is never
 * searched.
 */
int smokecmd_find(home *h, int64_t tid, smokecmd *c, bg_error *e);

#endif
