/*
 * err.h - the one set of error codes shared by every breakglass module.
 *
 * Library code returns 0 on success or one of the negative BG_ERR_* codes
 * below; human-readable detail goes into a caller-supplied bg_error.  Only
 * cmd/ turns these into messages and exit codes.
 */
#ifndef BG_ERR_H
#define BG_ERR_H

#include <stddef.h>

enum {
	BG_OK = 0,
	BG_ERR_NOMEM = -1,      /* allocation failed */
	BG_ERR_USAGE = -2,      /* caller passed something meaningless */
	BG_ERR_INVALID = -3,    /* input refused by a parser or validator */
	BG_ERR_NOTFOUND = -4,   /* no such ticket, grant, approver ... */
	BG_ERR_EXISTS = -5,     /* refusing to overwrite */
	BG_ERR_IO = -6,         /* read/write/fsync/rename failed */
	BG_ERR_STORE = -7,      /* SQLite said no */
	BG_ERR_CORRUPT = -8,    /* home, store or key damaged */
	BG_ERR_POLICY = -9,     /* minimum-access policy refused a request */
	BG_ERR_GATE = -10,      /* a workflow gate is closed */
	BG_ERR_EXPIRED = -11,   /* outside a validity window */
	BG_ERR_SIGNATURE = -12, /* signature missing, malformed or wrong */
	BG_ERR_SECRET = -13,    /* input contains a secret */
	BG_ERR_CLOCK = -14,     /* the clock cannot be trusted */
	BG_ERR_STATE = -15,     /* object is in the wrong state */
	BG_ERR_TOOLARGE = -16,  /* input over a size cap */
	BG_ERR_TAMPER = -17,    /* audit log modified, reordered or truncated */
	BG_ERR_PERM = -18,      /* not allowed (requester approving own, ...) */
	BG_ERR_UNSUPPORTED = -19, /* key type or feature we do not handle */
	BG_ERR_EXEC = -20,      /* a helper program failed */
};

/* Detail for the last error: always NUL-terminated, never holds a secret. */
typedef struct bg_error {
	char msg[2048];
} bg_error;

/* Return a short static description of code r ("policy refused"). */
const char *bg_strerror(int r);

/*
 * Format detail into e (may be NULL) and return r, so callers can write
 * `return bg_fail(e, BG_ERR_INVALID, "line %d: ...", n);`.  The arguments may
 * include e->msg itself, to wrap the message e had.
 */
int bg_fail(bg_error *e, int r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Add one more problem to e on a line of its own (after bg_fail set the
 * first), so a form's problems are reported together; what does not fit
 * is cut.  Returns r.
 */
int bg_fail_add(bg_error *e, int r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Clear e (may be NULL). */
void bg_error_clear(bg_error *e);

#endif
