/*
 * scan.h - the secret scanner.
 *
 * Everything that enters breakglass as free text passes this module:
 * refused (tickets, comments, plans) or redacted (recordings, command
 * output, change-set diffs, host-log requests).  The rules are data
 * (rules.h); matching runs on Hyperscan/vectorscan when built with it and
 * on PCRE2 otherwise, with identical results (scan.c says why).  A finding
 * is a rule and a byte range, never a copy of the secret.
 */
#ifndef BG_SCAN_H
#define BG_SCAN_H

#include "buf.h"
#include "err.h"
#include "rules.h"

#include <stddef.h>

enum { SCAN_ENGINE_AUTO, SCAN_ENGINE_HYPERSCAN, SCAN_ENGINE_PCRE2 };

typedef struct scan_engine scan_engine;
typedef struct scan_ctx scan_ctx;

typedef struct scan_hit {
	unsigned rule;     /* index into scan_engine_rules() */
	size_t off, len;   /* the secret part */
	size_t moff, mlen; /* the whole match: context around the secret */
} scan_hit;

/*
 * Build an engine from rules text (name is used in messages).  kind is
 * SCAN_ENGINE_*; AUTO picks Hyperscan when built in.  eager compiles and
 * checks every PCRE2 pattern now (otherwise each is compiled at first
 * use).  0 and *out, or BG_ERR_INVALID (bad rules or pattern, e names the
 * rule), BG_ERR_UNSUPPORTED (engine not built in), BG_ERR_NOMEM.
 */
int scan_engine_new(const char *text, size_t len, const char *name, int kind, int eager,
    scan_engine **out, bg_error *e);
void scan_engine_free(scan_engine *eng);

/*
 * The built-in rules as an engine of the given kind, using the vectorscan
 * database compiled at build time.  The breakglass binary links only the
 * vectorscan runtime (no C++ compiler library: it would cost every
 * command, the gate included, a millisecond of start-up), so vectorscan
 * runs the built-in rules only; scan_engine_new gives other rules the
 * pcre2 engine, and a built-in database that does not run on this CPU
 * falls back to pcre2 too (same findings).
 */
int scan_engine_new_builtin(int kind, int eager, scan_engine **out, bg_error *e);
const rule_set *scan_engine_rules(const scan_engine *eng);
/* "vectorscan" or "pcre2". */
const char *scan_engine_name(const scan_engine *eng);
/*
 * Serialize a vectorscan engine's database (the build embeds the built-in
 * one).  0 and *out (free with free()), or BG_ERR_UNSUPPORTED/NOMEM.
 */
int scan_engine_serialize(const scan_engine *eng, char **out, size_t *len, bg_error *e);

/* The built-in rules' database, serialized at build time (len 0: none). */
extern const unsigned char scan_builtin_hsdb[];
extern const size_t scan_builtin_hsdb_len;
extern const size_t scan_builtin_hsdb_nrules; /* the rules it was compiled from */

/* 1 when Hyperscan/vectorscan is compiled in. */
int scan_have_hyperscan(void);

/*
 * The engine for the built-in rules, built at first use (kind from
 * BREAKGLASS_SCAN_ENGINE=pcre2|vectorscan, default AUTO).  NULL when it
 * cannot be built; callers then fail closed.
 */
const scan_engine *scan_builtin(bg_error *e);

/* Per-thread scanning state. NULL on allocation failure. */
scan_ctx *scan_ctx_new(const scan_engine *eng);
void scan_ctx_free(scan_ctx *c);

/*
 * Scan s[0..n).  0 with *hits (owned by c, valid until the next call)
 * sorted by offset and not overlapping; or BG_ERR_NOMEM / BG_ERR_IO
 * (engine failure) / BG_ERR_TOOLARGE.  Callers must fail closed on error.
 */
int scan_ctx_run(scan_ctx *c, const char *s, size_t n, const scan_hit **hits, size_t *nhits,
    bg_error *e);

/*
 * Append s[0..n) to out with each of the hits replaced by
 * "[REDACTED:rule]" (hits from scan_ctx_run on the same s with eng).
 * 0 or BG_ERR_TOOLARGE/BG_ERR_NOMEM.
 */
int scan_redact_hits(const scan_engine *eng, const char *s, size_t n, const scan_hit *h, size_t nh,
    buf *out);

/*
 * Check every rule's examples (each must be found by its rule) and
 * counter-examples (none may be found by any rule).  report is called for
 * each failure: positive 1 for a missed example, 0 for a counter-example
 * found (found_by names the rule); index counts from 1.  Returns the
 * number of failures, or a negative BG_ERR code.
 */
typedef void (*scan_check_report)(void *arg, const rule *ru, int positive, size_t index,
    const char *found_by);
long scan_engine_check(const scan_engine *eng, scan_check_report report, void *arg, bg_error *e);

/* ---- the interface every other module uses (built-in rules) ---- */

#define SCAN_MAX_FINDINGS 32

typedef struct scan_finding {
	const char *rule; /* rule id, e.g. "aws-access-key-id" */
	size_t off;       /* byte offset of the secret part */
	size_t len;
} scan_finding;

typedef struct scan_result {
	scan_finding f[SCAN_MAX_FINDINGS];
	size_t n;
	int truncated; /* more findings than fit */
} scan_result;

/*
 * Scan s[0..n); findings in order of offset.  Never fails: when the
 * scanner itself cannot run, the whole input is one finding of rule
 * "scanner-unavailable" (fail closed).
 */
void scan_text(const char *s, size_t n, scan_result *res);

/*
 * Scan and refuse: 0 when clean; otherwise BG_ERR_SECRET with e naming
 * what (e.g. "field 'evidence'") and each finding's rule, line and column.
 * The message never contains the secret.
 */
int scan_refuse(const char *what, const char *s, size_t n, bg_error *e);

/*
 * The one check for free text typed into a command (reasons, notes,
 * comments, evidence): at most max bytes, valid UTF-8 without control
 * characters (newlines only when multiline), and no secrets.  0, or
 * BG_ERR_TOOLARGE / BG_ERR_INVALID / BG_ERR_SECRET with e naming what and
 * where (never the secret).
 */
int scan_input(const char *what, const char *s, size_t max, int multiline, bg_error *e);

/*
 * Append s[0..n) to out with every finding replaced by "[REDACTED:rule]";
 * everything else is kept byte for byte.  *found gets the number of
 * findings (may be NULL).  When the scanner cannot run, all of s is
 * replaced by "[REDACTED:scanner-unavailable]".
 */
int scan_redact(const char *s, size_t n, buf *out, size_t *found);

/*
 * Streaming redaction of a program's output.  Bytes are held back until
 * they end at a safe point: a line end outside an open "-----BEGIN "
 * block, so a secret split across two writes at any offset, and a
 * multi-line PEM key, are scanned whole.  Held-back text is capped at
 * SCAN_STREAM_HOLD: past it, the text is cut at a space or tab at least
 * SCAN_STREAM_TAIL bytes before its end (a token never spans it), or
 * failing that at that point itself.
 */
#define SCAN_STREAM_HOLD (1024u * 1024)
#define SCAN_STREAM_TAIL 4096u

typedef struct scan_stream {
	buf pending;
	size_t found;     /* findings so far */
} scan_stream;

void scan_stream_init(scan_stream *s);
void scan_stream_release(scan_stream *s);
/*
 * Feed p[0..n); the redacted text up to the last safe point is appended to
 * out.  0 or BG_ERR_NOMEM/BG_ERR_TOOLARGE (out's cap).
 */
int scan_stream_write(scan_stream *s, const void *p, size_t n, buf *out);
/* The end of the stream: everything held back, redacted, into out. */
int scan_stream_finish(scan_stream *s, buf *out);

/* Shannon entropy of s[0..n) in bits per byte (exposed for tests). */
double scan_entropy(const char *s, size_t n);

#endif
