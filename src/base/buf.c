/*
 * buf.c - growable, capped, optionally secret byte buffer.
 *
 * Growth doubles capacity; when the buffer is secret the old block is
 * wiped before it is freed, so no copy of a key survives a realloc.
 */
#include "buf.h"
#include "err.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char empty_str[1];

void
buf_init(buf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max ? max : BUF_DEFAULT_MAX;
}

void
buf_init_secret(buf *b, size_t max)
{
	buf_init(b, max);
	b->secret = 1;
}

void
buf_release(buf *b)
{
	if (b->data != NULL) {
		if (b->secret)
			sodium_memzero(b->data, b->cap);
		free(b->data);
	}
	b->data = NULL;
	b->len = b->cap = 0;
}

void
buf_reset(buf *b)
{
	if (b->data != NULL) {
		if (b->secret)
			sodium_memzero(b->data, b->cap);
		b->data[0] = '\0';
	}
	b->len = 0;
}

int
buf_reserve(buf *b, size_t n)
{
	size_t need, ncap;
	char *p;

	if (n > b->max || b->len > b->max - n)
		return BG_ERR_TOOLARGE;
	need = b->len + n + 1;
	if (need <= b->cap)
		return 0;
	ncap = b->cap ? b->cap : 64;
	while (ncap < need)
		ncap *= 2;
	if (ncap > b->max + 1)
		ncap = b->max + 1;
	if ((p = malloc(ncap)) == NULL)
		return BG_ERR_NOMEM;
	if (b->data != NULL) {
		memcpy(p, b->data, b->len);
		if (b->secret)
			sodium_memzero(b->data, b->cap);
		free(b->data);
	}
	b->data = p;
	b->cap = ncap;
	return 0;
}

int
buf_append(buf *b, const void *p, size_t n)
{
	int r;

	if ((r = buf_reserve(b, n)) != 0)
		return r;
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int
buf_puts(buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

int
buf_putc(buf *b, char c)
{
	return buf_append(b, &c, 1);
}

int
buf_vprintf(buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n, r;

	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		return BG_ERR_INVALID;
	if ((r = buf_reserve(b, (size_t)n)) != 0)
		return r;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int
buf_printf(buf *b, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = buf_vprintf(b, fmt, ap);
	va_end(ap);
	return r;
}

int
buf_put_u32(buf *b, uint32_t v)
{
	unsigned char x[4] = { v >> 24, v >> 16, v >> 8, v };

	return buf_append(b, x, 4);
}

int
buf_put_u64(buf *b, uint64_t v)
{
	int r;

	if ((r = buf_put_u32(b, (uint32_t)(v >> 32))) != 0)
		return r;
	return buf_put_u32(b, (uint32_t)v);
}

int
buf_put_string(buf *b, const void *p, size_t n)
{
	int r;

	if (n > UINT32_MAX)
		return BG_ERR_TOOLARGE;
	if ((r = buf_put_u32(b, (uint32_t)n)) != 0)
		return r;
	return buf_append(b, p, n);
}

int
buf_put_cstring(buf *b, const char *s)
{
	return buf_put_string(b, s, strlen(s));
}

const char *
buf_cstr(const buf *b)
{
	return b->data != NULL ? b->data : empty_str;
}

char *
buf_detach(buf *b, size_t *lenp)
{
	char *p;

	if (b->data == NULL && buf_reserve(b, 0) != 0)
		return NULL;
	if (b->data == NULL)
		return NULL;
	p = b->data;
	if (lenp != NULL)
		*lenp = b->len;
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}

int
buf_has_nul(const buf *b)
{
	return b->len > 0 && memchr(b->data, '\0', b->len) != NULL;
}
