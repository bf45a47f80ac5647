/*
 * text.h - validation of text that enters breakglass.
 */
#ifndef BG_TEXT_H
#define BG_TEXT_H

#include "buf.h"

#include <stddef.h>

/*
 * Check that s[0..n) is valid UTF-8 (no overlongs, no surrogates), holds no
 * NUL, DEL, C1 control or other control character than \t, and \n only
 * when allow_newline.  On failure returns BG_ERR_INVALID and sets *bad (if
 * not NULL) to the byte offset of the first offending byte.
 */
int text_check(const char *s, size_t n, int allow_newline, size_t *bad);

/*
 * Decode one UTF-8 sequence at s[0..n): its length (1..4) with *cp set,
 * or 0 when the bytes there are not a valid, shortest-form scalar value.
 */
size_t text_utf8_next(const unsigned char *s, size_t n, unsigned *cp);

/*
 * 1 for the code points that can forge or hide text on a terminal or in a
 * line-oriented log even as valid UTF-8: C1 controls (U+0080..U+009F, an
 * 8-bit CSI among them), bidirectional overrides, embeddings and isolates
 * (U+202A..U+202E, U+2066..U+2069, U+200E, U+200F, U+061C), zero-width
 * and invisible format characters (U+200B..U+200D, U+2060..U+2064,
 * U+FEFF), line and paragraph separators (U+2028, U+2029).
 */
int text_cp_invisible(unsigned cp);

/*
 * Append s[0..n) to out as one line a person or a line-oriented reader
 * can trust: printable UTF-8 is kept; a backslash becomes "\\"; a control
 * byte (newline, escape, DEL, ...) or a byte that is not valid UTF-8
 * becomes "\xHH"; a code point text_cp_invisible names becomes "\u{HHHH}".
 * No byte sequence in s can end the line, start a terminal escape or
 * reorder what is shown.  0 or the buffer's error.
 */
int text_visible(buf *out, const char *s, size_t n);

/* 1-based line and column (in bytes) of offset off in s. */
void text_position(const char *s, size_t off, size_t *line, size_t *col);

/* Strip leading and trailing ASCII whitespace in place; returns s. */
char *text_trim(char *s);

/* 1 if s is a plausible email address (local@domain.tld, ASCII, no spaces). */
int text_is_email(const char *s);

/* 1 if s is a safe identifier: [A-Za-z0-9][A-Za-z0-9._-]{0,max-1}. */
int text_is_ident(const char *s, size_t max);

/*
 * The candidate closest to word (n bytes, not NUL-terminated necessarily)
 * by optimal string alignment distance (an insertion, deletion, change or
 * swap of two neighbours counts 1), if that distance is at most 1 for
 * words up to 4 bytes and at most 2 otherwise; NULL when none is that
 * close or two are equally close.  cands ends with NULL; stride is the
 * size of one array element holding a const char * at its start, so a
 * table of structs whose first member is the name can be passed as is.
 */
const char *text_suggest(const char *word, size_t n, const void *cands, size_t stride);

#endif
