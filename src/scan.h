/*
 * scan.h - the secret detector interface.
 *
 * Everything that enters breakglass as free text passes scan_text() first.
 * This interface is deliberately small so the detector behind it can be
 * replaced by the full scanner without touching its callers: a finding is
 * a rule name and a byte range, never a copy of the secret.
 */
#ifndef BG_SCAN_H
#define BG_SCAN_H

#include "buf.h"
#include "err.h"

#include <stddef.h>

#define SCAN_MAX_FINDINGS 32

typedef struct scan_finding {
	const char *rule; /* static string, e.g. "aws-access-key" */
	size_t off;       /* byte offset of the secret part */
	size_t len;
} scan_finding;

typedef struct scan_result {
	scan_finding f[SCAN_MAX_FINDINGS];
	size_t n;
	int truncated; /* more findings than fit */
} scan_result;

/* Scan s[0..n); findings in order of offset.  Never fails. */
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
 * findings (may be NULL).
 */
int scan_redact(const char *s, size_t n, buf *out, size_t *found);

/* Names of the rules this detector knows, NULL-terminated. */
extern const char *const scan_rule_names[];

#endif
