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
 * cannot hide what was typed, and neither is its echo: the bytes typed
 * while the terminal echoes (never a masked line) are expected back in
 * the output, in order, and
 * those found in dropped output are kept (at most what was typed, the
 * last RECORD_ECHO_MAX bytes), so the readable replay shows the command
 * typed into a flood.  The session is never slowed or stopped by
 * its recording.
 *
 * Masking: with record_mask_after_prompts, a line typed while the terminal
 * does not echo, right after output whose last line the prompt function
 * accepts (a password prompt), is not written as text: its "i" event says
 * "[masked ...]" and an "m" event RECORD_SEALED_PREFIX carries the line
 * sealed (crypto_box_seal) to the given X25519 key, so the owner can
 * recover it (breakglass replay --unseal) and a printed fake prompt hides
 * nothing from them.  A masked line longer than RECORD_MASK_MAX bytes is
 * no password: it is recorded in clear.
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
#define RECORD_MASK_MAX 256
#define RECORD_ECHO_MAX 4096
#define RECORD_SEALED_PREFIX "breakglass sealed-input v1 "

/* 1 when line[0..n) (the last line of output) is a password prompt. */
typedef int (*record_prompt_fn)(void *ctx, const char *line, size_t n);

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
	buf outline;           /* the last line of output (for prompts) */
	record_prompt_fn is_prompt;
	void *prompt_ctx;
	unsigned char seal_pk[32];
	int masking;           /* the line being typed follows a prompt */
	buf masked;            /* that line (secret) */
	buf echo;              /* typed bytes whose echo is still to come */
	crypto_hash_sha256_state hs;
	uint64_t written;
	int err;
} recorder;

/* Write the header to fd.  title and term may be NULL. */
int record_open(recorder *r, int fd, int width, int height, int64_t timestamp,
    const char *title, const char *term);
void record_output(recorder *r, const void *p, size_t n);
/* Mask (and seal to x25519_pk) lines typed after prompts fn accepts. */
void record_mask_after_prompts(recorder *r, const unsigned char x25519_pk[32],
    record_prompt_fn fn, void *ctx);
/* Every byte typed, whatever the echo flag; never rate-capped.  echo_off:
 * the terminal does not echo (only then can a line be masked). */
void record_input(recorder *r, const void *p, size_t n, int echo_off);
void record_resize(recorder *r, int width, int height);
void record_marker(recorder *r, const char *label);
/* Write buffered output older than a second (call on a timer). */
void record_tick(recorder *r);
/* Flush everything, fsync; hex gets the SHA-256 of the file's bytes. */
int record_close(recorder *r, char hex[65]);

/* Monotonic seconds (for callers that time their own events). */
double record_clock(void);

#endif
