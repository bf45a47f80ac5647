/*
 * rbstep.h - what a runbook step does on the client's host: run one
 * program (argv, never a shell) with its output redacted as it streams,
 * and apply a diff under a root after checking every target's pre-image.
 */
#ifndef BG_RBSTEP_H
#define BG_RBSTEP_H

#include "argv.h"
#include "buf.h"
#include "diff.h"
#include "err.h"

#define RBSTEP_MAX_OUTPUT (1024u * 1024) /* recorded per command; the rest is counted */

/*
 * Split a command line into argv and resolve its program: an absolute
 * path, or a name looked up in /usr/sbin:/usr/bin:/sbin:/bin.  0, or
 * BG_ERR_INVALID / BG_ERR_NOTFOUND with e saying why.
 */
int rbstep_argv(const char *line, argv_list *out, bg_error *e);

/* The same command in plain words ("restart the service 'nginx'", ...). */
int rbstep_describe(const argv_list *a, buf *out);

typedef struct rbstep_run {
	int status;          /* exit status, 128+signal */
	double seconds;
	size_t found;        /* secrets redacted */
	uint64_t bytes;      /* output bytes, before redaction */
	int truncated;       /* more than RBSTEP_MAX_OUTPUT redacted bytes */
} rbstep_run;

/*
 * Run a (resolved) with no input.  Output is redacted as it streams
 * (scan_stream); the redacted text is appended to rec (up to
 * RBSTEP_MAX_OUTPUT) and, when show >= 0, written to that descriptor as it
 * comes.  0 when the program ran (whatever its status), BG_ERR_EXEC when
 * it could not be started.
 */
int rbstep_command(const argv_list *a, int show, buf *rec, rbstep_run *res, bg_error *e);

/*
 * Check that every file of d can be applied under root now: each path
 * plain and beneath root (no symlinks on the way), a file the diff changes
 * or deletes still has the content the diff was made against (its git blob
 * id from the diff's "index" line: a diff without one is refused), a file
 * it creates does not exist yet, and every hunk applies exactly.  0 or
 * BG_ERR_STATE (pre-image mismatch) / BG_ERR_INVALID with e naming the file.
 */
int rbstep_diff_check(const char *root, const diff *d, bg_error *e);

/* Check again, then write each file atomically (mode kept; new files 0644). */
int rbstep_diff_apply(const char *root, const diff *d, buf *report, bg_error *e);

#endif
