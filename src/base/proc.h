/*
 * proc.h - run a helper program: argv only (never a shell), a fixed clean
 * environment, optional stdin bytes, stdout and stderr captured together.
 */
#ifndef BG_PROC_H
#define BG_PROC_H

#include "buf.h"
#include "err.h"

/*
 * Run argv[0] (an absolute path) with argv.  in/inlen are written to its
 * stdin (NULL: /dev/null).  Output (stdout+stderr, capped by out->max) is
 * appended to out when out is not NULL.  *status gets the exit status (or
 * 128+signal).  Returns 0 when the program ran, BG_ERR_EXEC when it could
 * not be started.
 */
int proc_run(char *const argv[], const void *in, size_t inlen, buf *out, int *status,
    bg_error *e);

/*
 * proc_run with stdin from /dev/null, env (NULL-terminated "NAME=value",
 * at most 16) added to the fixed environment, and stderr captured apart
 * into err (NULL: discarded), both capped by their buffers' max.
 */
int proc_run_env(char *const argv[], const char *const *env, buf *out, buf *err, int *status,
    bg_error *e);

/*
 * The same, with each chunk of output handed to sink as it arrives (in the
 * order the program wrote it).  A sink that returns non-zero has the
 * program killed; reading goes on until the pipe closes.
 */
typedef int (*proc_sink_fn)(void *ctx, const char *p, size_t n);
int proc_run_stream(char *const argv[], const void *in, size_t inlen, proc_sink_fn sink,
    void *ctx, int *status, bg_error *e);

/*
 * proc_run with a time limit: a program still running after timeout_ms
 * (0: none) is killed (SIGKILL) and BG_ERR_EXEC returned, its output so far
 * kept in out.
 */
int proc_run_timeout(char *const argv[], const void *in, size_t inlen, buf *out, int *status,
    int timeout_ms, bg_error *e);

#endif
