/*
 * text.c - UTF-8 and character-class checks for input text.
 */
#include "text.h"
#include "err.h"

#include <ctype.h>
#include <stdint.h>
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
