/*
 * buf.h - the one growable byte buffer, with a hard size cap.
 *
 * Every piece of text, SQL, JSON or wire data breakglass assembles goes
 * through a buf.  Appends past the cap fail with BG_ERR_TOOLARGE and leave
 * the buffer unchanged.  The contents are always NUL-terminated (the NUL is
 * not counted in len) so text can be handed to C APIs directly.  A buffer
 * marked secret is wiped with sodium_memzero whenever memory is released.
 */
#ifndef BG_BUF_H
#define BG_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define BUF_DEFAULT_MAX (16u * 1024 * 1024)

typedef struct buf {
	char *data;
	size_t len;
	size_t cap;
	size_t max;
	int secret;
} buf;

/* Initialise an empty buffer that may grow to max bytes (0: default). */
void buf_init(buf *b, size_t max);
/* Initialise a buffer whose memory is wiped when released. */
void buf_init_secret(buf *b, size_t max);
/* Free the memory (wiping it if secret); b is left empty and reusable. */
void buf_release(buf *b);
/* Forget the contents but keep the memory (wiped if secret). */
void buf_reset(buf *b);

/* Append bytes; 0, BG_ERR_TOOLARGE or BG_ERR_NOMEM. */
int buf_append(buf *b, const void *p, size_t n);
/* Make room for n more bytes now (BG_ERR_TOOLARGE past the cap). */
int buf_reserve(buf *b, size_t n);
int buf_puts(buf *b, const char *s);
int buf_putc(buf *b, char c);
int buf_printf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vprintf(buf *b, const char *fmt, va_list ap);

/* Big-endian SSH wire encodings (RFC 4251). */
int buf_put_u32(buf *b, uint32_t v);
int buf_put_u64(buf *b, uint64_t v);
int buf_put_string(buf *b, const void *p, size_t n);
int buf_put_cstring(buf *b, const char *s);

/* Always a valid C string (possibly ""). */
const char *buf_cstr(const buf *b);

/*
 * Take ownership of the contents as a malloc'd NUL-terminated string;
 * the buffer is left empty.  Returns NULL only when out of memory.
 */
char *buf_detach(buf *b, size_t *lenp);

/* 1 if the contents hold a NUL byte (text readers refuse those). */
int buf_has_nul(const buf *b);

#endif
