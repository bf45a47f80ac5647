/*
 * utc.h - time in UTC, and nothing else.
 *
 * breakglass keeps every instant as seconds since the epoch (int64_t, UTC)
 * and writes it as "YYYY-MM-DDTHH:MM:SSZ".  Durations are written "90m",
 * "4h", "1h30m", "2d", "45s".
 */
#ifndef BG_UTC_H
#define BG_UTC_H

#include <stddef.h>
#include <stdint.h>

#define UTC_STRLEN 21 /* "2026-11-21T05:30:00Z" + NUL */

/*
 * The current UTC time.  BREAKGLASS_NOW (an ISO-8601 UTC instant) overrides
 * the clock for tests: only in a test build (testhook.h) and only with
 * BREAKGLASS_TESTING=1 too; a release build has no such hook.
 */
int64_t utc_now(void);

/* Seconds on the monotonic clock: for intervals (progress, rates), never dates. */
double utc_mono(void);

/* Format t into out (UTC_STRLEN bytes). */
void utc_format(int64_t t, char out[UTC_STRLEN]);

/*
 * Parse "YYYY-MM-DDTHH:MM[:SS]Z" (also "YYYY-MM-DD HH:MM[:SS]Z"/"+00:00")
 * strictly: fields in range, no trailing text, UTC only.  0 or
 * BG_ERR_INVALID.
 */
int utc_parse(const char *s, int64_t *t);

/*
 * A time as people type it, for forms and options: the date and time as
 * utc_parse takes them, then (after an optional space) "Z", "UTC" or an
 * offset "+01:00", "-0500"; converted to UTC.  A time without an offset
 * or zone is refused (its zone is not for breakglass to guess).  0 or
 * BG_ERR_INVALID.
 */
int utc_parse_human(const char *s, int64_t *t);

/* Example of the forms utc_parse_human takes, for error messages. */
#define UTC_HUMAN_EXAMPLE "2026-11-21T02:10Z or 2026-11-21 03:10 +01:00"

/* Parse a duration ("4h", "1h30m", "90m", "2d", "300s"); > 0 seconds. */
int utc_parse_duration(const char *s, int64_t *secs);

/* Format a duration compactly ("4h", "1h30m", "45s"). */
void utc_format_duration(int64_t secs, char *out, size_t outlen);

#endif
