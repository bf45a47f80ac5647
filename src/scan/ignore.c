/*
 * ignore.c - .breakglassignore patterns (see ignore.h for the rules).
 */
#include "ignore.h"
#include "text.h"

#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

void
ignore_release(ignore_list *l)
{
	size_t i;

	if (l == NULL)
		return;
	for (i = 0; i < l->n; i++)
		free(l->p[i].glob);
	free(l->p);
	l->p = NULL;
	l->n = 0;
}

int
ignore_parse(const char *text, size_t len, ignore_list *l, bg_error *e)
{
	ignore_list out = { NULL, 0 };
	size_t pos = 0, line = 0, bad;

	l->p = NULL;
	l->n = 0;
	if (text_check(text, len, 1, &bad) != 0) {
		size_t ln, col;

		text_position(text, bad, &ln, &col);
		return bg_fail(e, BG_ERR_INVALID, "line %zu, column %zu: invalid UTF-8 or control character",
		    ln, col);
	}
	while (pos < len) {
		const char *s = text + pos, *nl = memchr(s, '\n', len - pos);
		size_t n = nl != NULL ? (size_t)(nl - s) : len - pos;
		ignore_pat p = { NULL, 0, 0, 0 };
		ignore_pat *grown;

		pos += n + (nl != NULL);
		line++;
		while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
			n--;
		if (n == 0 || s[0] == '#')
			continue;
		if (n > 1024) {
			ignore_release(&out);
			return bg_fail(e, BG_ERR_TOOLARGE, "line %zu: pattern longer than 1024 bytes", line);
		}
		if (s[0] == '!') {
			p.negate = 1;
			s++;
			n--;
		}
		if (n > 0 && s[n - 1] == '/') {
			p.dir_only = 1;
			n--;
		}
		if (n >= 3 && memcmp(s, "**/", 3) == 0) {
			s += 3;
			n -= 3;
		} else if (n > 0 && s[0] == '/') {
			p.anchored = 1;
			s++;
			n--;
		} else if (memchr(s, '/', n) != NULL) {
			p.anchored = 1;
		}
		if (n == 0)
			continue; /* "/", "!", "**" + "/": nothing to match */
		if (out.n == IGNORE_MAX_PATTERNS) {
			ignore_release(&out);
			return bg_fail(e, BG_ERR_TOOLARGE, "line %zu: more than %d patterns", line,
			    IGNORE_MAX_PATTERNS);
		}
		if ((p.glob = malloc(n + 1)) == NULL ||
		    (grown = realloc(out.p, (out.n + 1) * sizeof(*out.p))) == NULL) {
			free(p.glob);
			ignore_release(&out);
			return bg_fail(e, BG_ERR_NOMEM, "out of memory");
		}
		memcpy(p.glob, s, n);
		p.glob[n] = '\0';
		out.p = grown;
		out.p[out.n++] = p;
	}
	*l = out;
	return 0;
}

int
ignore_match(const ignore_list *l, const char *rel, int is_dir)
{
	const char *base = strrchr(rel, '/');
	size_t i = l->n;

	base = base != NULL ? base + 1 : rel;
	while (i-- > 0) {
		const ignore_pat *p = &l->p[i];

		if (p->dir_only && !is_dir)
			continue;
		if (fnmatch(p->glob, p->anchored ? rel : base, FNM_PATHNAME) == 0)
			return p->negate ? -1 : 1;
	}
	return 0;
}
