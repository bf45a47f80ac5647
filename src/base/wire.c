/*
 * wire.c - strict SSH wire decoding.  Every failure is BG_ERR_INVALID; the
 * reader never reads past its range.
 */
#include "wire.h"
#include "err.h"

#include <stdlib.h>
#include <string.h>

void
wire_init(wire *w, const void *p, size_t len)
{
	w->p = p;
	w->len = len;
	w->off = 0;
}

int
wire_get_u32(wire *w, uint32_t *v)
{
	const unsigned char *q;

	if (w->len - w->off < 4)
		return BG_ERR_INVALID;
	q = w->p + w->off;
	*v = (uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 | (uint32_t)q[2] << 8 | q[3];
	w->off += 4;
	return 0;
}

int
wire_get_u64(wire *w, uint64_t *v)
{
	uint32_t hi, lo;

	if (w->len - w->off < 8)
		return BG_ERR_INVALID;
	wire_get_u32(w, &hi);
	wire_get_u32(w, &lo);
	*v = (uint64_t)hi << 32 | lo;
	return 0;
}

int
wire_get_string(wire *w, const unsigned char **p, size_t *n)
{
	uint32_t l;
	size_t save = w->off;

	if (wire_get_u32(w, &l) != 0)
		return BG_ERR_INVALID;
	if (w->len - w->off < l) {
		w->off = save;
		return BG_ERR_INVALID;
	}
	*p = w->p + w->off;
	*n = l;
	w->off += l;
	return 0;
}

int
wire_expect_cstring(wire *w, const char *s)
{
	const unsigned char *p;
	size_t n;

	if (wire_get_string(w, &p, &n) != 0)
		return BG_ERR_INVALID;
	if (n != strlen(s) || memcmp(p, s, n) != 0)
		return BG_ERR_INVALID;
	return 0;
}

int
wire_get_cstring(wire *w, char **out)
{
	const unsigned char *p;
	size_t n;
	char *s;

	*out = NULL;
	if (wire_get_string(w, &p, &n) != 0)
		return BG_ERR_INVALID;
	if (memchr(p, '\0', n) != NULL)
		return BG_ERR_INVALID;
	if ((s = malloc(n + 1)) == NULL)
		return BG_ERR_NOMEM;
	memcpy(s, p, n);
	s[n] = '\0';
	*out = s;
	return 0;
}

int
wire_get_bytes(wire *w, void *out, size_t n)
{
	if (w->len - w->off < n)
		return BG_ERR_INVALID;
	memcpy(out, w->p + w->off, n);
	w->off += n;
	return 0;
}

int
wire_end(const wire *w)
{
	return w->off == w->len ? 0 : BG_ERR_INVALID;
}
