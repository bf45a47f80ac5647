/*
 * replay.h - read asciicast v2 recordings and play them back safely.
 *
 * A recording holds whatever the session printed, including escape
 * sequences a terminal would obey: set the window title, write to the
 * clipboard (OSC 52), define hyperlinks, switch modes, answer queries.
 * Replay keeps printable text, \n \r \t \b, SGR colour/attribute
 * sequences and plain cursor movement (CSI digits/; and one of
 * m A B C D E F G H J K f), and drops every other control, escape
 * sequence and C1 control, including an OSC/DCS/SOS/PM/APC payload up to
 * its terminator.  State carries across events, so a sequence split
 * between two events is still recognised.
 */
#ifndef BG_REPLAY_H
#define BG_REPLAY_H

#include "buf.h"
#include "err.h"

#define REPLAY_MAX_LINE (1024u * 1024)

typedef struct replay_filter {
	int state;        /* inside an escape sequence, a string, ... */
	buf seq;          /* the CSI sequence being collected */
	int plain;        /* drop every escape sequence and \r \b */
} replay_filter;

void replay_filter_init(replay_filter *f, int plain);
void replay_filter_release(replay_filter *f);
/* Filter n bytes of terminal output into out. */
int replay_filter_run(replay_filter *f, const char *s, size_t n, buf *out);

/* Parse the header line: version must be 2; width/height returned. */
int replay_parse_header(const char *line, size_t n, int *width, int *height, bg_error *e);
/*
 * Parse one event line [time, "code", "data"]: code is one character
 * (o, i, m, r); data is unescaped into out (which is reset first).
 */
int replay_parse_event(const char *line, size_t n, double *t, char *code, buf *out,
    bg_error *e);

typedef struct replay_opts {
	double speed;       /* 1.0: real time */
	double idle_limit;  /* longest pause, seconds */
	int instant;        /* no pauses at all */
	int plain;          /* text only */
	int markers;        /* show markers (dropped output, cut) as lines */
} replay_opts;

/*
 * The lines a recording masked after password prompts (record.h), opened
 * with the host key (ed25519, 64-byte secret key) they were sealed to:
 * one line each into out, "SECONDS s: TEXT" with TEXT escaped by
 * text_visible; *n counts them.  A sealed line the key cannot open is an
 * error (BG_ERR_CRYPTO-like: BG_ERR_PERM) naming its line.
 */
int replay_unseal(const char *text, size_t len, const unsigned char ed_sk[64], buf *out,
    size_t *n, bg_error *e);

/* Play recording text (whole file) to fd out. */
int replay_play(const char *text, size_t len, int out, const replay_opts *o, bg_error *e);

#endif
