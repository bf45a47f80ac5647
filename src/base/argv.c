/*
 * argv.c - tokeniser and canonical quoting.
 */
#include "argv.h"

#include <stdlib.h>
#include <string.h>

void
argv_release(argv_list *a)
{
	size_t i;

	for (i = 0; i < a->n; i++)
		free(a->v[i]);
	free(a->v);
	a->v = NULL;
	a->n = 0;
}

static int
push(argv_list *a, buf *cur)
{
	char **v;
	char *s;

	if (a->n + 1 >= ARGV_MAX_ARGS)
		return BG_ERR_TOOLARGE;
	if ((v = realloc(a->v, (a->n + 2) * sizeof(*v))) == NULL)
		return BG_ERR_NOMEM;
	a->v = v;
	if ((s = strdup(buf_cstr(cur))) == NULL)
		return BG_ERR_NOMEM;
	a->v[a->n++] = s;
	a->v[a->n] = NULL;
	buf_reset(cur);
	return 0;
}

int
argv_split(const char *s, argv_list *out, bg_error *e)
{
	buf cur;
	size_t i;
	int in_arg = 0, r = 0;
	char q = 0;

	out->v = NULL;
	out->n = 0;
	buf_init(&cur, ARGV_MAX_ARG);
	for (i = 0; s[i] != '\0'; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 && c != '\t') {
			r = bg_fail(e, BG_ERR_INVALID, "control character at byte %zu", i + 1);
			goto fail;
		}
		if (c == 0x7f) {
			r = bg_fail(e, BG_ERR_INVALID, "control character at byte %zu", i + 1);
			goto fail;
		}
		if (q == '\'') {
			if (c == '\'')
				q = 0;
			else if ((r = buf_putc(&cur, (char)c)) != 0)
				goto toolong;
			continue;
		}
		if (q == '"') {
			if (c == '"') {
				q = 0;
			} else if (c == '\\') {
				if (s[i + 1] != '"' && s[i + 1] != '\\') {
					r = bg_fail(e, BG_ERR_INVALID,
					    "byte %zu: only \\\" and \\\\ are allowed inside \"...\"",
					    i + 1);
					goto fail;
				}
				if ((r = buf_putc(&cur, s[++i])) != 0)
					goto toolong;
			} else if ((r = buf_putc(&cur, (char)c)) != 0)
				goto toolong;
			continue;
		}
		if (c == ' ' || c == '\t') {
			if (in_arg && (r = push(out, &cur)) != 0)
				goto toomany;
			in_arg = 0;
			continue;
		}
		in_arg = 1;
		if (c == '\'' || c == '"') {
			q = (char)c;
			continue;
		}
		if (c == '\\') {
			r = bg_fail(e, BG_ERR_INVALID,
			    "byte %zu: backslash outside quotes is not allowed", i + 1);
			goto fail;
		}
		if ((r = buf_putc(&cur, (char)c)) != 0)
			goto toolong;
	}
	if (q != 0) {
		r = bg_fail(e, BG_ERR_INVALID, "unterminated %c quote", q);
		goto fail;
	}
	if (in_arg && (r = push(out, &cur)) != 0)
		goto toomany;
	buf_release(&cur);
	return 0;
toolong:
	r = bg_fail(e, r, "argument longer than %d bytes", ARGV_MAX_ARG);
	goto fail;
toomany:
	r = bg_fail(e, r, "more than %d arguments", ARGV_MAX_ARGS);
fail:
	buf_release(&cur);
	argv_release(out);
	return r;
}

static int
safe_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || strchr("_./:=@%+,-", c) != NULL;
}

int
argv_join(const argv_list *a, buf *out)
{
	size_t i, j;
	int r = 0;

	for (i = 0; i < a->n && r == 0; i++) {
		const char *s = a->v[i];
		int bare = s[0] != '\0';

		if (i > 0 && (r = buf_putc(out, ' ')) != 0)
			break;
		for (j = 0; s[j] && bare; j++)
			if (!safe_char(s[j]))
				bare = 0;
		if (bare) {
			r = buf_puts(out, s);
		} else if (strchr(s, '\'') == NULL) {
			r = buf_printf(out, "'%s'", s);
		} else {
			r = buf_putc(out, '"');
			for (j = 0; s[j] && r == 0; j++) {
				if (s[j] == '"' || s[j] == '\\')
					r = buf_putc(out, '\\');
				if (r == 0)
					r = buf_putc(out, s[j]);
			}
			if (r == 0)
				r = buf_putc(out, '"');
		}
	}
	return r;
}

int
argv_equal(const argv_list *a, const argv_list *b)
{
	size_t i;

	if (a->n != b->n)
		return 0;
	for (i = 0; i < a->n; i++)
		if (strcmp(a->v[i], b->v[i]) != 0)
			return 0;
	return 1;
}
