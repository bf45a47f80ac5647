/*
 * diff.c - unified diff parser and exact applier.
 */
#include "diff.h"

#include <stdlib.h>
#include <string.h>

void
diff_release(diff *d)
{
	size_t i;

	for (i = 0; i < d->nf; i++) {
		free(d->f[i].old_path);
		free(d->f[i].new_path);
		free(d->f[i].hunks);
	}
	free(d->lines);
	memset(d, 0, sizeof(*d));
}

static char *
header_path(const char *s, size_t n)
{
	size_t k = 0;

	while (k < n && s[k] != '\t')
		k++;
	while (k > 0 && s[k - 1] == ' ')
		k--;
	if (k == 9 && memcmp(s, "/dev/null", 9) == 0)
		return strdup("");
	if (k == 0 || memchr(s, '\0', k) != NULL)
		return NULL;
	return strndup(s, k);
}

static int
parse_num(const char **p, const char *end, long *v)
{
	long x = 0;
	const char *s = *p;

	if (s >= end || *s < '0' || *s > '9')
		return -1;
	while (s < end && *s >= '0' && *s <= '9') {
		x = x * 10 + (*s - '0');
		if (x > 100000000)
			return -1;
		s++;
	}
	*v = x;
	*p = s;
	return 0;
}

/* "@@ -a[,b] +c[,d] @@..." */
static int
parse_hunk_header(const char *s, size_t n, diff_hunk *h)
{
	const char *p = s + 3, *end = s + n;

	h->old_len = h->new_len = 1;
	if (n < 4 || memcmp(s, "@@ -", 4) != 0)
		return -1;
	p = s + 4;
	if (parse_num(&p, end, &h->old_start) != 0)
		return -1;
	if (p < end && *p == ',') {
		p++;
		if (parse_num(&p, end, &h->old_len) != 0)
			return -1;
	}
	if (end - p < 2 || p[0] != ' ' || p[1] != '+')
		return -1;
	p += 2;
	if (parse_num(&p, end, &h->new_start) != 0)
		return -1;
	if (p < end && *p == ',') {
		p++;
		if (parse_num(&p, end, &h->new_len) != 0)
			return -1;
	}
	if (end - p < 3 || memcmp(p, " @@", 3) != 0)
		return -1;
	if ((h->old_len > 0 && h->old_start == 0) || (h->new_len > 0 && h->new_start == 0))
		return -1;
	return 0;
}

static int
push_line(diff *d, size_t *cap, char op, const char *s, size_t n)
{
	if (d->nlines == *cap) {
		size_t nc = *cap ? *cap * 2 : 256;
		diff_line *v;

		if (nc > 4u * 1024 * 1024 || (v = realloc(d->lines, nc * sizeof(*v))) == NULL)
			return -1;
		d->lines = v;
		*cap = nc;
	}
	d->lines[d->nlines].op = op;
	d->lines[d->nlines].s = s;
	d->lines[d->nlines].n = n;
	d->lines[d->nlines].no_newline = 0;
	d->nlines++;
	return 0;
}

int
diff_parse(const char *text, size_t len, diff *d, bg_error *e)
{
	size_t off = 0, lineno = 0, cap = 0;
	diff_file *cur = NULL;
	diff_hunk *h = NULL;
	long need_old = 0, need_new = 0;
	int r = BG_ERR_INVALID, in_header = 0;
	char pend_index[65] = "";

	memset(d, 0, sizeof(*d));
	if (len > DIFF_MAX_INPUT)
		return bg_fail(e, BG_ERR_TOOLARGE, "diff larger than %u bytes", DIFF_MAX_INPUT);
	if (memchr(text, '\0', len) != NULL)
		return bg_fail(e, BG_ERR_INVALID, "diff contains a NUL byte");
	while (off < len) {
		const char *l = text + off, *nl = memchr(l, '\n', len - off);
		size_t n = nl ? (size_t)(nl - l) : len - off;

		off += n + (nl != NULL);
		lineno++;
		if (n > 0 && l[n - 1] == '\r' && h == NULL)
			n--;
		if (h != NULL && (need_old > 0 || need_new > 0)) {
			char op = n ? l[0] : ' ';   /* an empty line is empty context */

			if (op == '\\') {
				if (d->nlines == h->first || n < 12 || memcmp(l, "\\ No newline", 12) != 0) {
					bg_fail(e, r, "line %zu: misplaced '\\' line", lineno);
					goto fail;
				}
				d->lines[d->nlines - 1].no_newline = 1;
				continue;
			}
			if (op != ' ' && op != '-' && op != '+') {
				bg_fail(e, r, "line %zu: hunk ends early (expected %ld more old and %ld "
				    "more new lines)", lineno, need_old, need_new);
				goto fail;
			}
			if ((op != '+' && need_old-- <= 0) || (op != '-' && need_new-- <= 0)) {
				bg_fail(e, r, "line %zu: hunk has more lines than its header says", lineno);
				goto fail;
			}
			if (push_line(d, &cap, op, n ? l + 1 : l, n ? n - 1 : 0) != 0) {
				r = bg_fail(e, BG_ERR_TOOLARGE, "diff has too many lines");
				goto fail;
			}
			h->count++;
			continue;
		}
		if (h != NULL && n >= 12 && memcmp(l, "\\ No newline", 12) == 0) {
			if (d->nlines == h->first) {
				bg_fail(e, r, "line %zu: misplaced '\\' line", lineno);
				goto fail;
			}
			d->lines[d->nlines - 1].no_newline = 1;
			continue;
		}
		if (n >= 3 && memcmp(l, "@@ ", 3) == 0) {
			diff_hunk *v;

			if (cur == NULL || cur->new_path == NULL) {
				bg_fail(e, r, "line %zu: hunk outside a file", lineno);
				goto fail;
			}
			if (cur->nhunks >= 10000 ||
			    (v = realloc(cur->hunks, (cur->nhunks + 1) * sizeof(*v))) == NULL) {
				r = bg_fail(e, BG_ERR_TOOLARGE, "too many hunks");
				goto fail;
			}
			cur->hunks = v;
			h = &cur->hunks[cur->nhunks++];
			memset(h, 0, sizeof(*h));
			if (parse_hunk_header(l, n, h) != 0) {
				bg_fail(e, r, "line %zu: malformed hunk header", lineno);
				goto fail;
			}
			if (cur->nhunks > 1) {
				diff_hunk *prev = &cur->hunks[cur->nhunks - 2];

				if (h->old_start < prev->old_start + prev->old_len) {
					bg_fail(e, r, "line %zu: hunks overlap or are out of order", lineno);
					goto fail;
				}
			}
			h->first = d->nlines;
			need_old = h->old_len;
			need_new = h->new_len;
			in_header = 0;
			continue;
		}
		if (n >= 4 && memcmp(l, "--- ", 4) == 0) {
			if (d->nf == DIFF_MAX_FILES) {
				r = bg_fail(e, BG_ERR_TOOLARGE, "more than %d files", DIFF_MAX_FILES);
				goto fail;
			}
			cur = &d->f[d->nf++];
			memset(cur, 0, sizeof(*cur));
			memcpy(cur->old_index, pend_index, sizeof(pend_index));
			pend_index[0] = '\0';
			h = NULL;
			if ((cur->old_path = header_path(l + 4, n - 4)) == NULL) {
				bg_fail(e, r, "line %zu: malformed '---' path", lineno);
				goto fail;
			}
			in_header = 1;
			continue;
		}
		if (n >= 4 && memcmp(l, "+++ ", 4) == 0 && cur != NULL && in_header &&
		    cur->new_path == NULL) {
			if ((cur->new_path = header_path(l + 4, n - 4)) == NULL) {
				bg_fail(e, r, "line %zu: malformed '+++' path", lineno);
				goto fail;
			}
			continue;
		}
		if ((n >= 5 && memcmp(l, "diff ", 5) == 0) || (n >= 6 && memcmp(l, "index ", 6) == 0) ||
		    (n >= 14 && memcmp(l, "new file mode ", 14) == 0) ||
		    (n >= 18 && memcmp(l, "deleted file mode ", 18) == 0)) {
			if (in_header) {
				bg_fail(e, r, "line %zu: unexpected line in a file header", lineno);
				goto fail;
			}
			h = NULL;
			if (n >= 5 && memcmp(l, "diff ", 5) == 0)
				pend_index[0] = '\0';
			if (n >= 6 && memcmp(l, "index ", 6) == 0) {
				/* "index OLD..NEW[ MODE]": git blob ids (abbreviated) */
				size_t k = strspn(l + 6, "0123456789abcdef");

				if (k < 1 || k > 64 || 6 + k + 2 > n || l[6 + k] != '.' ||
				    l[7 + k] != '.') {
					bg_fail(e, r, "line %zu: malformed 'index' line", lineno);
					goto fail;
				}
				memcpy(pend_index, l + 6, k);
				pend_index[k] = '\0';
			}
			continue;
		}
		if (n == 0 && h == NULL && cur == NULL)
			continue;
		bg_fail(e, r, "line %zu: not part of a unified diff", lineno);
		goto fail;
	}
	if (h != NULL && (need_old > 0 || need_new > 0)) {
		bg_fail(e, r, "the last hunk is incomplete");
		goto fail;
	}
	if (d->nf == 0) {
		bg_fail(e, r, "no files in the diff");
		goto fail;
	}
	for (size_t i = 0; i < d->nf; i++) {
		diff_file *f = &d->f[i];

		if (f->new_path == NULL || f->nhunks == 0) {
			bg_fail(e, r, "file %zu: no '+++' line or no hunks", i + 1);
			goto fail;
		}
		/* "" marks /dev/null */
		if (f->old_path[0] == '\0') {
			free(f->old_path);
			f->old_path = NULL;
		}
		if (f->new_path[0] == '\0') {
			free(f->new_path);
			f->new_path = NULL;
		}
		if (f->old_path == NULL && f->new_path == NULL) {
			bg_fail(e, r, "file %zu: both sides are /dev/null", i + 1);
			goto fail;
		}
	}
	return 0;
fail:
	diff_release(d);
	return r;
}

char *
diff_path(const char *path, int strip)
{
	const char *p = path;
	char *out;

	for (int i = 0; i < strip; i++) {
		const char *s = strchr(p, '/');

		if (s == NULL)
			return NULL;
		p = s + 1;
	}
	if (*p == '\0' || *p == '/' || strlen(p) > 1024)
		return NULL;
	if ((out = strdup(p)) == NULL)
		return NULL;
	/* components: no empty, ".", ".." */
	for (const char *c = out; *c;) {
		size_t l = strcspn(c, "/");

		if (l == 0 || (l == 1 && c[0] == '.') || (l == 2 && c[0] == '.' && c[1] == '.')) {
			free(out);
			return NULL;
		}
		c += l;
		if (*c == '/') {
			c++;
			if (*c == '\0') {
				free(out);
				return NULL;
			}
		}
	}
	return out;
}

int
diff_apply(const diff *d, const diff_file *f, const char *old, size_t oldlen, buf *out,
    bg_error *e)
{
	size_t pos = 0, i, k;
	long line = 1;          /* 1-based number of the old line at pos */
	int last_nonl = 0, r;

	buf_reset(out);
	if (f->old_path == NULL && oldlen > 0)
		return bg_fail(e, BG_ERR_INVALID, "the diff creates a file that already exists");
	for (i = 0; i < f->nhunks; i++) {
		const diff_hunk *h = &f->hunks[i];
		long start = h->old_len == 0 ? h->old_start + 1 : h->old_start;

		/* copy unchanged lines up to the hunk */
		while (line < start) {
			const char *nl;

			if (pos >= oldlen)
				return bg_fail(e, BG_ERR_INVALID, "hunk %zu starts past the end of the file",
				    i + 1);
			nl = memchr(old + pos, '\n', oldlen - pos);
			k = nl ? (size_t)(nl - (old + pos)) + 1 : oldlen - pos;
			if ((r = buf_append(out, old + pos, k)) != 0)
				return r;
			pos += k;
			line++;
		}
		for (k = h->first; k < h->first + h->count; k++) {
			const diff_line *dl = &d->lines[k];

			if (dl->op != '+') {
				const char *nl = pos < oldlen ? memchr(old + pos, '\n', oldlen - pos) : NULL;
				size_t ln = nl ? (size_t)(nl - (old + pos)) : oldlen - pos;

				if (pos >= oldlen || ln != dl->n || memcmp(old + pos, dl->s, ln) != 0 ||
				    (nl == NULL) != (dl->no_newline != 0))
					return bg_fail(e, BG_ERR_INVALID, "hunk %zu does not match the file at "
					    "line %ld", i + 1, line);
				pos += ln + (nl != NULL);
				line++;
			}
			if (dl->op != '-') {
				if ((r = buf_append(out, dl->s, dl->n)) != 0)
					return r;
				if (!dl->no_newline && (r = buf_putc(out, '\n')) != 0)
					return r;
				last_nonl = dl->no_newline;
			}
		}
	}
	if ((r = buf_append(out, old + pos, oldlen - pos)) != 0)
		return r;
	(void)last_nonl;
	if (f->new_path == NULL && out->len != 0)
		return bg_fail(e, BG_ERR_INVALID, "the diff deletes the file but leaves content");
	return 0;
}
