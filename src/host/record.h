/*
 * record.h - session recordings in asciicast v2 (playable with asciinema).
 *
 *   {"version": 2, "width": W, "height": H, "timestamp": T, "title": ...,
 *    "env": {"TERM": ..., "SHELL": ...}}
 *   [seconds, "o", "output"]      what the session printed
 *   [seconds, "i", "input"]       what was typed, every byte, echo or not
 *   [seconds, "r", "WxH"]         a resize
 *   [seconds, "m", "label"]       a marker (dropped output, the end)
 *
 * Output passes the secret detector before it is written: it is buffered
 * to line ends (at most RECORD_CHUNK bytes) so a secret is seen whole, and
 * each finding is replaced by [REDACTED:rule].  Strings are always valid
 * UTF-8 (invalid bytes become U+FFFD; a sequence split across reads is
 * carried over).  Input is recorded whatever the terminal's echo flag
 * says (the account controls that flag: it is no sign of a password), held
 * back to line ends so a secret typed in pieces is redacted whole.  Above
 * rate_cap bytes per second the recording drops output and writes a
 * marker saying how much; input is never dropped, so an output flood
 * cannot hide what was typed.  The session is never slowed or stopped by
 * its recording.
 */
#ifndef BG_RECORD_H
#define BG_RECORD_H

#include "buf.h"
#include "err.h"

#include <sodium.h>
#include <stdint.h>

#define RECORD_CHUNK 4096
#define RECORD_RATE_CAP (512u * 1024)
#define RECORD_INPUT_TAIL 256

typedef struct recorder {
	int fd;
	double start;
	buf pending;           /* output not yet written */
	double pending_since;
	uint64_t rate_cap;
	double window_start;
	uint64_t window_bytes;
	uint64_t dropped;
	buf inpending;         /* input not yet written (to a line end; secret) */
	crypto_hash_sha256_state hs;
	uint64_t written;
	int err;
} recorder;

/* Write the header to fd.  title and term may be NULL. */
int record_open(recorder *r, int fd, int width, int height, int64_t timestamp,
    const char *title, const char *term);
void record_output(recorder *r, const void *p, size_t n);
/* Every byte typed, whatever the echo flag; never rate-capped. */
void record_input(recorder *r, const void *p, size_t n);
void record_resize(recorder *r, int width, int height);
void record_marker(recorder *r, const char *label);
/* Write buffered output older than a second (call on a timer). */
void record_tick(recorder *r);
/* Flush everything, fsync; hex gets the SHA-256 of the file's bytes. */
int record_close(recorder *r, char hex[65]);

/* Monotonic seconds (for callers that time their own events). */
double record_clock(void);

#endif
