/*
 * text.c - UTF-8 and character-class checks for input text.
 */
#include "text.h"
#include "err.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define ONES UINT64_C(0x0101010101010101)

int
text_check(const char *str, size_t n, int allow_newline, size_t *bad)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	while (i < n) {
		unsigned char c;
		size_t len;
		unsigned cp;

		/* eight printable ASCII bytes (0x20..0x7e) at a time: no byte
		 * below 0x20, none above 0x7e (exact tests, see "Bit Twiddling
		 * Hacks", hasless/hasmore) */
		while (n - i >= 8) {
			uint64_t w;

			memcpy(&w, s + i, 8);
			if ((((w - ONES * 0x20) & ~w) | ((w + ONES * 1) | w)) & ONES * 0x80)
				break;
			i += 8;
		}
		if (i == n)
			break;
		c = s[i];
		if (c < 0x80) {
			if (c == 0 || c == 0x7f ||
			    (c < 0x20 && !(c == '\t' || (c == '\n' && allow_newline))))
				goto fail;
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			len = 2;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			len = 3;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			len = 4;
			cp = c & 0x07;
		} else
			goto fail;
		if (n - i < len)
			goto fail;
		for (size_t k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				goto fail;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
			goto fail;
		/* C1 controls (U+0080..U+009F) carry terminal escapes: refuse */
		if (cp >= 0x80 && cp <= 0x9f)
			goto fail;
		i += len;
	}
	return 0;
fail:
	if (bad != NULL)
		*bad = i;
	return BG_ERR_INVALID;
}

size_t
text_utf8_next(const unsigned char *s, size_t n, unsigned *cp)
{
	unsigned char c = s[0];
	size_t len, k;
	unsigned v;

	if (n == 0)
		return 0;
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		v = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		v = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		v = c & 0x07;
	} else
		return 0;
	if (n < len)
		return 0;
	for (k = 1; k < len; k++) {
		if ((s[k] & 0xc0) != 0x80)
			return 0;
		v = v << 6 | (s[k] & 0x3f);
	}
	if ((len == 3 && (v < 0x800 || (v >= 0xd800 && v <= 0xdfff))) ||
	    (len == 4 && (v < 0x10000 || v > 0x10ffff)))
		return 0;
	*cp = v;
	return len;
}

int
text_cp_invisible(unsigned cp)
{
	return (cp >= 0x80 && cp <= 0x9f) || cp == 0x61c || (cp >= 0x200b && cp <= 0x200f) ||
	    (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2060 && cp <= 0x2069) || cp == 0xfeff;
}

int
text_visible(buf *out, const char *str, size_t n)
{
	static const char hx[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, start = 0;
	int r = 0;

	while (i < n && r == 0) {
		unsigned cp;
		size_t len;
		char esc[16];

		if (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '\\') {
			i++;
			continue;
		}
		len = text_utf8_next(s + i, n - i, &cp);
		if (len > 1 && !text_cp_invisible(cp)) {
			i += len;
			continue;
		}
		if ((r = buf_append(out, str + start, i - start)) != 0)
			break;
		if (len == 1 && cp == '\\') {
			r = buf_puts(out, "\\\\");
		} else if (len > 1) {
			snprintf(esc, sizeof(esc), "\\u{%04x}", cp);
			r = buf_puts(out, esc);
		} else {
			char x[4] = { '\\', 'x', hx[s[i] >> 4], hx[s[i] & 15] };

			r = buf_append(out, x, 4);
			len = 1;
		}
		i += len;
		start = i;
	}
	if (r == 0)
		r = buf_append(out, str + start, n - start);
	return r;
}

void
text_position(const char *s, size_t off, size_t *line, size_t *col)
{
	size_t i, l = 1, c = 1;

	for (i = 0; i < off && s[i] != '\0'; i++) {
		if (s[i] == '\n') {
			l++;
			c = 1;
		} else
			c++;
	}
	*line = l;
	*col = c;
}

char *
text_trim(char *s)
{
	size_t n = strlen(s), start = 0;

	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	while (s[start] != '\0' && isspace((unsigned char)s[start]))
		start++;
	if (start > 0)
		memmove(s, s + start, n - start + 1);
	return s;
}

int
text_is_email(const char *s)
{
	const char *at = strchr(s, '@'), *p, *dot;
	size_t n = strlen(s);

	if (at == NULL || at == s || n > 254 || strchr(at + 1, '@') != NULL)
		return 0;
	for (p = s; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c <= 0x20 || c >= 0x7f || strchr("()<>,;:\\\"[]", c) != NULL)
			return 0;
	}
	dot = strrchr(at + 1, '.');
	if (dot == NULL || dot == at + 1 || dot[1] == '\0' || strlen(dot + 1) < 2)
		return 0;
	if (strstr(at + 1, "..") != NULL || at[1] == '.' || at[-1] == '.' || s[0] == '.')
		return 0;
	return 1;
}

int
text_is_ident(const char *s, size_t max)
{
	size_t i;

	if (!isalnum((unsigned char)s[0]))
		return 0;
	for (i = 0; s[i] != '\0'; i++) {
		unsigned char c = (unsigned char)s[i];

		if (i >= max || !(isalnum(c) || c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

/* Optimal string alignment distance of a[0..n) and b, capped at 3. */
static size_t
osa_distance(const char *a, size_t n, const char *b)
{
	size_t m = strlen(b), d[34][34], i, j;

	if (n > 32 || m > 32)
		return 3;
	for (i = 0; i <= n; i++)
		d[i][0] = i;
	for (j = 0; j <= m; j++)
		d[0][j] = j;
	for (i = 1; i <= n; i++) {
		for (j = 1; j <= m; j++) {
			size_t c = a[i - 1] == b[j - 1] ? 0 : 1, v = d[i - 1][j - 1] + c;

			if (d[i - 1][j] + 1 < v)
				v = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	}
	return d[n][m] > 3 ? 3 : d[n][m];
}

const char *
text_suggest(const char *word, size_t n, const void *cands, size_t stride)
{
	const char *best = NULL, *p = cands;
	size_t best_d = n <= 4 ? 2 : 3;
	int tie = 0;

	for (;; p += stride) {
		const char *c = *(const char *const *)(const void *)p;
		size_t dd;

		if (c == NULL)
			break;
		dd = osa_distance(word, n, c);
		if (dd < best_d) {
			best = c;
			best_d = dd;
			tie = 0;
		} else if (dd == best_d && best != NULL) {
			tie = 1;
		}
	}
	return tie ? NULL : best;
}
