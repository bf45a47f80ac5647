/*
 * cfgfmt.c - key/value extraction from configuration formats.
 *
 * Line formats (INI, .env, YAML subset, PHP, php -i) go line by line: each
 * line is either recognised completely (a comment, a section, a key and a
 * value) or handed to the caller whole.  Nothing is ever half-recognised:
 * a value with an unbalanced quote, a key with odd characters, a tab in
 * YAML indentation all make the line whole.  JSON is parsed by a strict
 * recursive-descent reader (RFC 8259; depth capped) and flattened.
 */
#include "cfgfmt.h"
#include "buf.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const names[CFG_NFMT] = {
	"ini", "env", "json", "yaml", "php", "phpinfo", "lines",
};

const char *
cfg_format_name(int fmt)
{
	return fmt >= 0 && fmt < CFG_NFMT ? names[fmt] : "?";
}

int
cfg_format_named(const char *name)
{
	int i;

	for (i = 0; i < CFG_NFMT; i++)
		if (strcmp(name, names[i]) == 0)
			return i;
	return -1;
}

static int
ends_with(const char *s, const char *suf)
{
	size_t n = strlen(s), k = strlen(suf);

	return n >= k && strcmp(s + n - k, suf) == 0;
}

int
cfg_format_for(const char *filename)
{
	const char *base = strrchr(filename, '/');

	base = base ? base + 1 : filename;
	if (ends_with(base, ".json"))
		return CFG_JSON;
	if (ends_with(base, ".yml") || ends_with(base, ".yaml"))
		return CFG_YAML;
	if (ends_with(base, ".php") || ends_with(base, ".inc"))
		return CFG_PHP;
	if (strcmp(base, ".env") == 0 || strncmp(base, ".env.", 5) == 0 || ends_with(base, ".env") ||
	    strcmp(base, "environment") == 0)
		return CFG_ENV;
	if (ends_with(base, ".ini") || ends_with(base, ".cnf") || ends_with(base, ".conf") ||
	    ends_with(base, ".cfg"))
		return CFG_INI;
	return CFG_LINES;
}

/* ---- shared line helpers ---- */

typedef struct lp {
	cfg_emit_fn fn;
	void *ctx;
	buf path, val, tmp;
} lp;

static void
lp_init(lp *p, cfg_emit_fn fn, void *ctx)
{
	p->fn = fn;
	p->ctx = ctx;
	buf_init(&p->path, CFG_MAX_PATH);
	buf_init(&p->val, CFG_MAX_INPUT);
	buf_init(&p->tmp, CFG_MAX_INPUT);
}

static void
lp_release(lp *p)
{
	buf_release(&p->path);
	buf_release(&p->val);
	buf_release(&p->tmp);
}

static int
whole(lp *p, const char *s, size_t n, size_t line)
{
	char key[32];
	int r;

	snprintf(key, sizeof(key), "#%zu", line);
	buf_reset(&p->val);
	if ((r = buf_append(&p->val, s, n)) != 0)
		return r;
	return p->fn(p->ctx, key, p->val.data, line, CFG_WHOLE);
}

static int
emit(lp *p, const char *prefix, const char *key, size_t klen, const char *v, size_t vlen,
    size_t line, int flags)
{
	int r;

	buf_reset(&p->path);
	buf_reset(&p->val);
	if (prefix != NULL && prefix[0] != '\0' &&
	    ((r = buf_puts(&p->path, prefix)) != 0 || (r = buf_putc(&p->path, '.')) != 0))
		return r;
	if ((r = buf_append(&p->path, key, klen)) != 0 || (r = buf_append(&p->val, v, vlen)) != 0)
		return r;
	return p->fn(p->ctx, p->path.data, p->val.data, line, flags);
}

static void
trim(const char **s, size_t *n)
{
	while (*n > 0 && (**s == ' ' || **s == '\t')) {
		(*s)++;
		(*n)--;
	}
	while (*n > 0 && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t' || (*s)[*n - 1] == '\r'))
		(*n)--;
}

static int
keychar(unsigned char c)
{
	return isalnum(c) || c == '_' || c == '.' || c == '-' || c == '/' || c == '[' || c == ']' ||
	    c == ':';
}

/*
 * A value: a fully quoted string ('...' or "...", the same quote not
 * inside it unless escaped with a backslash) loses its quotes; an
 * unquoted value is kept as is.  0 when the value cannot be read (a quote
 * that opens and does not close exactly at the end).
 */
static int
unquote(const char **v, size_t *n)
{
	char q;
	size_t i;

	if (*n == 0 || (**v != '"' && **v != '\''))
		return 1;
	q = **v;
	if (*n < 2 || (*v)[*n - 1] != q)
		return 0;
	for (i = 1; i < *n - 1; i++) {
		if ((*v)[i] == '\\')
			i++;
		else if ((*v)[i] == q)
			return 0;
	}
	if (i != *n - 1)
		return 0; /* the closing quote was escaped */
	(*v)++;
	*n -= 2;
	return 1;
}

/* Lines of text, each (without its newline) to fn; NUL bytes refused. */
typedef int (*line_fn)(lp *p, void *st, const char *s, size_t n, size_t line);

static int
each_line(lp *p, void *st, const char *text, size_t len, line_fn fn)
{
	const char *s = text, *end = text + len;
	size_t line = 0;
	int r;

	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t n = nl ? (size_t)(nl - s) : (size_t)(end - s);

		line++;
		if ((r = fn(p, st, s, n, line)) != 0)
			return r;
		s += n + (nl != NULL);
	}
	return 0;
}

/* ---- INI ---- */

static int
ini_line(lp *p, void *st, const char *s, size_t n, size_t line)
{
	buf *section = st;
	const char *eq, *k, *v;
	size_t kn, vn, i;

	trim(&s, &n);
	if (n == 0 || s[0] == ';' || s[0] == '#')
		return 0;
	if (s[0] == '[') {
		if (n < 3 || s[n - 1] != ']')
			return whole(p, s, n, line);
		for (i = 1; i < n - 1; i++)
			if (!keychar((unsigned char)s[i]) && s[i] != ' ')
				return whole(p, s, n, line);
		buf_reset(section);
		return buf_append(section, s + 1, n - 2);
	}
	if ((eq = memchr(s, '=', n)) == NULL)
		return whole(p, s, n, line);
	k = s;
	kn = (size_t)(eq - s);
	v = eq + 1;
	vn = n - kn - 1;
	trim(&k, &kn);
	trim(&v, &vn);
	if (kn == 0)
		return whole(p, s, n, line);
	for (i = 0; i < kn; i++)
		if (!keychar((unsigned char)k[i]))
			return whole(p, s, n, line);
	if (!unquote(&v, &vn))
		return whole(p, s, n, line);
	return emit(p, section->data, k, kn, v, vn, line, 0);
}

/* ---- .env ---- */

static int
env_line(lp *p, void *st, const char *s, size_t n, size_t line)
{
	const char *eq, *v;
	size_t kn, vn, i;

	trim(&s, &n);
	if (n == 0 || s[0] == '#')
		return 0;
	if (n > 7 && memcmp(s, "export ", 7) == 0) {
		s += 7;
		n -= 7;
		trim(&s, &n);
	}
	if ((eq = memchr(s, '=', n)) == NULL)
		return whole(p, s, n, line);
	kn = (size_t)(eq - s);
	v = eq + 1;
	vn = n - kn - 1;
	if (kn == 0 || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
		return whole(p, s, n, line);
	for (i = 0; i < kn; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == '.'))
			return whole(p, s, n, line);
	trim(&v, &vn);
	if (!unquote(&v, &vn))
		return whole(p, s, n, line);
	return emit(p, NULL, s, kn, v, vn, line, 0);
}

/* ---- php -i ---- */

static int
phpinfo_line(lp *p, void *st, const char *s, size_t n, size_t line)
{
	const char *a, *b, *c;
	size_t an, bn, cn, i;

	trim(&s, &n);
	if (n == 0)
		return 0;
	a = s;
	if ((b = memmem(s, n, " => ", 4)) == NULL)
		return whole(p, s, n, line);
	an = (size_t)(b - a);
	b += 4;
	bn = n - an - 4;
	for (i = 0; i < an; i++)
		if (!keychar((unsigned char)a[i]))
			return whole(p, s, n, line);
	if (an == 0)
		return whole(p, s, n, line);
	if ((c = memmem(b, bn, " => ", 4)) != NULL) { /* directive => local => master */
		cn = (size_t)(c - b);
		if (memmem(c + 4, bn - cn - 4, " => ", 4) != NULL)
			return whole(p, s, n, line);
		return emit(p, NULL, a, an, b, cn, line, CFG_RUNTIME);
	}
	return emit(p, NULL, a, an, b, bn, line, 0);
}

/* ---- lines (a format we do not read) ---- */

static int
lines_line(lp *p, void *st, const char *s, size_t n, size_t line)
{
	trim(&s, &n);
	if (n == 0 || s[0] == '#' || s[0] == ';')
		return 0;
	return whole(p, s, n, line);
}

/* ---- YAML subset ---- */

typedef struct yframe {
	size_t indent;
	size_t keylen; /* length of the path including this frame */
	unsigned items; /* list items seen under this key */
} yframe;

typedef struct ystate {
	yframe f[CFG_MAX_DEPTH];
	int depth;
	buf path;
	size_t block;  /* inside a block scalar: lines indented more than this */
	int in_block;
} ystate;

static int
yaml_line(lp *p, void *stp, const char *s, size_t n, size_t line)
{
	ystate *st = stp;
	size_t ind = 0, kn, vn, i;
	const char *k, *v, *colon;
	int r;

	while (ind < n && s[ind] == ' ')
		ind++;
	{
		const char *t = s + ind;
		size_t tn = n - ind;

		trim(&t, &tn);
		if (tn == 0 || t[0] == '#')
			return 0;
		if (st->in_block) {
			if (ind > st->block)
				return whole(p, t, tn, line);
			st->in_block = 0;
		}
		if (ind == 0 && (tn == 3 && memcmp(t, "---", 3) == 0))
			return 0;
		if (memchr(s, '\t', n) != NULL && (size_t)((const char *)memchr(s, '\t', n) - s) < ind + 1)
			return whole(p, t, tn, line);
		s = t;
		n = tn;
	}
	while (st->depth > 0 && st->f[st->depth - 1].indent >= ind)
		st->depth--;
	st->path.len = st->depth > 0 ? st->f[st->depth - 1].keylen : 0;
	st->path.data[st->path.len] = '\0';
	if (n >= 2 && s[0] == '-' && s[1] == ' ') {
		/* a list item: only a scalar */
		char idx[32];
		yframe *top = st->depth > 0 ? &st->f[st->depth - 1] : NULL;

		if (top == NULL)
			return whole(p, s, n, line);
		v = s + 2;
		vn = n - 2;
		trim(&v, &vn);
		snprintf(idx, sizeof(idx), "[%u]", top->items++);
		if (vn == 0 || memchr(v, ':', vn) != NULL || !unquote(&v, &vn))
			return whole(p, s, n, line);
		buf_reset(&p->path);
		if ((r = buf_append(&p->path, st->path.data, st->path.len)) != 0 ||
		    (r = buf_puts(&p->path, idx)) != 0)
			return r;
		buf_reset(&p->val);
		if ((r = buf_append(&p->val, v, vn)) != 0)
			return r;
		return p->fn(p->ctx, p->path.data, p->val.data, line, 0);
	}
	if ((colon = memchr(s, ':', n)) == NULL)
		return whole(p, s, n, line);
	k = s;
	kn = (size_t)(colon - s);
	v = colon + 1;
	vn = n - kn - 1;
	if (vn > 0 && v[0] != ' ')
		return whole(p, s, n, line);
	if (!unquote(&k, &kn) || kn == 0)
		return whole(p, s, n, line);
	for (i = 0; i < kn; i++)
		if (!keychar((unsigned char)k[i]) || k[i] == ':')
			return whole(p, s, n, line);
	trim(&v, &vn);
	if (vn > 0 && v[0] != '"' && v[0] != '\'') { /* an inline comment */
		for (i = 0; i + 1 < vn; i++)
			if (v[i] == ' ' && v[i + 1] == '#')
				break;
		if (i + 1 < vn) {
			vn = i;
			trim(&v, &vn);
		}
		if (vn > 0 && v[0] == '#')
			vn = 0;
	}
	if (vn == 0) { /* a mapping or a list follows */
		if (st->depth == CFG_MAX_DEPTH)
			return whole(p, s, n, line);
		if (st->path.len > 0 && (r = buf_putc(&st->path, '.')) != 0)
			return r;
		if ((r = buf_append(&st->path, k, kn)) != 0)
			return r;
		st->f[st->depth].indent = ind;
		st->f[st->depth].keylen = st->path.len;
		st->f[st->depth].items = 0;
		st->depth++;
		return 0;
	}
	if ((vn == 1 && (v[0] == '|' || v[0] == '>')) ||
	    (vn == 2 && (v[0] == '|' || v[0] == '>') && (v[1] == '-' || v[1] == '+'))) {
		st->in_block = 1;
		st->block = ind;
		return whole(p, s, n, line);
	}
	if (!unquote(&v, &vn))
		return whole(p, s, n, line);
	return emit(p, st->path.data, k, kn, v, vn, line, 0);
}

/* ---- PHP config ---- */

typedef struct pstate {
	size_t keylen[CFG_MAX_DEPTH];
	int depth;
	unsigned items[CFG_MAX_DEPTH];
	buf path;
	int in_comment;
} pstate;

/* The literal at v: a quoted string (without quotes) in out. */
static int
php_string(const char *v, size_t vn, const char **out, size_t *on)
{
	if (vn < 2 || (v[0] != '\'' && v[0] != '"'))
		return 0;
	*out = v;
	*on = vn;
	return unquote(out, on) && *on + 2 == vn;
}

static int
opens_array(const char *v, size_t vn)
{
	return (vn == 1 && v[0] == '[') || (vn == 6 && memcmp(v, "array(", 6) == 0);
}

static int
php_push(pstate *st, const char *k, size_t kn)
{
	int r;

	if (st->depth == CFG_MAX_DEPTH)
		return BG_ERR_TOOLARGE;
	if (st->depth > 0 && st->path.len > 0 && (r = buf_putc(&st->path, '.')) != 0)
		return r;
	if ((r = buf_append(&st->path, k, kn)) != 0)
		return r;
	st->keylen[st->depth] = st->path.len;
	st->items[st->depth] = 0;
	st->depth++;
	return 0;
}

static int
php_line(lp *p, void *stp, const char *s, size_t n, size_t line)
{
	pstate *st = stp;
	const char *k, *v, *arrow;
	size_t kn, vn;
	int r;

	trim(&s, &n);
	if (st->in_comment) {
		if (n >= 2 && memmem(s, n, "*/", 2) != NULL) {
			st->in_comment = 0;
			if (memmem(s, n, "*/", 2) != s + n - 2)
				return whole(p, s, n, line);
		}
		return 0;
	}
	if (n == 0 || s[0] == '#' || (n >= 2 && s[0] == '/' && s[1] == '/'))
		return 0;
	if (n >= 2 && s[0] == '/' && s[1] == '*') {
		const char *c = memmem(s + 2, n - 2, "*/", 2);

		if (c == NULL)
			st->in_comment = 1;
		else if (c != s + n - 2)
			return whole(p, s, n, line);
		return 0;
	}
	if ((n == 5 && memcmp(s, "<?php", 5) == 0) || (n == 2 && memcmp(s, "?>", 2) == 0))
		return 0;
	if ((n == 8 && memcmp(s, "return [", 8) == 0) ||
	    (n == 13 && memcmp(s, "return array(", 13) == 0)) {
		if (st->depth != 0)
			return whole(p, s, n, line);
		st->depth = 1;
		st->keylen[0] = 0;
		st->items[0] = 0;
		st->path.len = 0;
		st->path.data[0] = '\0';
		return 0;
	}
	if ((n <= 2 && (s[0] == ']' || s[0] == ')')) &&
	    (n == 1 || s[1] == ',' || s[1] == ';')) {
		if (st->depth == 0)
			return whole(p, s, n, line);
		st->depth--;
		st->path.len = st->depth > 0 ? st->keylen[st->depth - 1] : 0;
		st->path.data[st->path.len] = '\0';
		return 0;
	}
	if (n > 8 && memcmp(s, "define(", 7) == 0 && s[n - 1] == ';' && s[n - 2] == ')') {
		const char *comma;

		k = s + 7;
		kn = n - 9;
		if ((comma = memchr(k, ',', kn)) == NULL)
			return whole(p, s, n, line);
		v = comma + 1;
		vn = kn - (size_t)(comma - k) - 1;
		kn = (size_t)(comma - k);
		trim(&k, &kn);
		trim(&v, &vn);
		if (!php_string(k, kn, &k, &kn) || kn == 0 || memchr(k, '\\', kn) != NULL)
			return whole(p, s, n, line);
		if (vn > 0 && (v[0] == '\'' || v[0] == '"') && !php_string(v, vn, &v, &vn))
			return whole(p, s, n, line);
		return emit(p, NULL, k, kn, v, vn, line, 0);
	}
	if (s[0] == '$') {
		const char *eq = memchr(s, '=', n);
		size_t i;

		if (eq == NULL || s[n - 1] != ';')
			return whole(p, s, n, line);
		k = s;
		kn = (size_t)(eq - s);
		v = eq + 1;
		vn = n - kn - 2;
		trim(&k, &kn);
		trim(&v, &vn);
		for (i = 1; i < kn; i++)
			if (!(isalnum((unsigned char)k[i]) || k[i] == '_'))
				return whole(p, s, n, line);
		if (kn < 2 || vn == 0)
			return whole(p, s, n, line);
		if ((v[0] == '\'' || v[0] == '"') && !php_string(v, vn, &v, &vn))
			return whole(p, s, n, line);
		return emit(p, NULL, k, kn, v, vn, line, 0);
	}
	if (st->depth > 0 && (arrow = memmem(s, n, "=>", 2)) != NULL) {
		k = s;
		kn = (size_t)(arrow - s);
		v = arrow + 2;
		vn = n - kn - 2;
		trim(&k, &kn);
		trim(&v, &vn);
		if (!php_string(k, kn, &k, &kn) || kn == 0)
			return whole(p, s, n, line);
		if (memchr(k, '.', kn) != NULL || memchr(k, '\\', kn) != NULL)
			return whole(p, s, n, line);
		if (opens_array(v, vn)) {
			if ((r = php_push(st, k, kn)) != 0)
				return whole(p, s, n, line);
			return 0;
		}
		if (vn == 0 || v[vn - 1] != ',')
			return whole(p, s, n, line);
		vn--;
		trim(&v, &vn);
		if (vn > 0 && (v[0] == '\'' || v[0] == '"') && !php_string(v, vn, &v, &vn))
			return whole(p, s, n, line);
		return emit(p, st->path.data, k, kn, v, vn, line, 0);
	}
	return whole(p, s, n, line);
}

/* ---- JSON ---- */

typedef struct jp {
	lp *p;
	const char *s, *end, *start;
	buf path;
	int depth;
	bg_error *e;
} jp;

static void
jws(jp *j)
{
	while (j->s < j->end && (*j->s == ' ' || *j->s == '\t' || *j->s == '\n' || *j->s == '\r'))
		j->s++;
}

static int
jfail(jp *j, const char *what)
{
	return bg_fail(j->e, BG_ERR_INVALID, "offset %zu: %s", (size_t)(j->s - j->start), what);
}

static int
put_utf8(buf *b, unsigned long cp)
{
	char u[4];
	size_t n;

	if (cp < 0x80) {
		u[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | cp >> 6);
		u[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | cp >> 12);
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		u[0] = (char)(0xf0 | cp >> 18);
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	return buf_append(b, u, n);
}

static int
hex4(const char *s, unsigned long *v)
{
	int i;

	*v = 0;
	for (i = 0; i < 4; i++) {
		int c = s[i];

		*v <<= 4;
		if (c >= '0' && c <= '9')
			*v |= (unsigned long)(c - '0');
		else if (c >= 'a' && c <= 'f')
			*v |= (unsigned long)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			*v |= (unsigned long)(c - 'A' + 10);
		else
			return 0;
	}
	return 1;
}

/* A JSON string at j->s into out (decoded). */
static int
jstring(jp *j, buf *out)
{
	int r;

	buf_reset(out);
	j->s++; /* the opening quote */
	while (j->s < j->end && *j->s != '"') {
		unsigned char c = (unsigned char)*j->s;

		if (c < 0x20)
			return jfail(j, "control character in a string");
		if (c != '\\') {
			if ((r = buf_putc(out, (char)c)) != 0)
				return r;
			j->s++;
			continue;
		}
		if (j->end - j->s < 2)
			return jfail(j, "unterminated escape");
		switch (j->s[1]) {
		case '"': case '\\': case '/':
			r = buf_putc(out, j->s[1]);
			break;
		case 'b': r = buf_putc(out, '\b'); break;
		case 'f': r = buf_putc(out, '\f'); break;
		case 'n': r = buf_putc(out, '\n'); break;
		case 'r': r = buf_putc(out, '\r'); break;
		case 't': r = buf_putc(out, '\t'); break;
		case 'u': {
			unsigned long cp, lo;

			if (j->end - j->s < 6 || !hex4(j->s + 2, &cp))
				return jfail(j, "bad \\u escape");
			if (cp == 0)
				return jfail(j, "NUL in a string");
			if (cp >= 0xdc00 && cp <= 0xdfff)
				return jfail(j, "lone low surrogate");
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (j->end - j->s < 12 || j->s[6] != '\\' || j->s[7] != 'u' ||
				    !hex4(j->s + 8, &lo) || lo < 0xdc00 || lo > 0xdfff)
					return jfail(j, "lone high surrogate");
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				j->s += 6;
			}
			r = put_utf8(out, cp);
			j->s += 4;
			break;
		}
		default:
			return jfail(j, "bad escape");
		}
		if (r != 0)
			return r;
		j->s += 2;
	}
	if (j->s >= j->end)
		return jfail(j, "unterminated string");
	j->s++;
	return 0;
}

static int jvalue(jp *j);

static int
jleaf(jp *j, const char *v, size_t vn, size_t off)
{
	size_t line = 1;
	const char *q;

	for (q = j->start; q < j->start + off; q++)
		line += *q == '\n';
	buf_reset(&j->p->val);
	if (buf_append(&j->p->val, v, vn) != 0)
		return BG_ERR_TOOLARGE;
	return j->p->fn(j->p->ctx, j->path.len ? j->path.data : "$", j->p->val.data, line, 0);
}

static int
jnumber(jp *j)
{
	const char *s = j->s;

	if (s < j->end && *s == '-')
		s++;
	if (s >= j->end || !isdigit((unsigned char)*s))
		return jfail(j, "bad number");
	if (*s == '0')
		s++;
	else
		while (s < j->end && isdigit((unsigned char)*s))
			s++;
	if (s < j->end && *s == '.') {
		s++;
		if (s >= j->end || !isdigit((unsigned char)*s))
			return jfail(j, "bad number");
		while (s < j->end && isdigit((unsigned char)*s))
			s++;
	}
	if (s < j->end && (*s == 'e' || *s == 'E')) {
		s++;
		if (s < j->end && (*s == '+' || *s == '-'))
			s++;
		if (s >= j->end || !isdigit((unsigned char)*s))
			return jfail(j, "bad number");
		while (s < j->end && isdigit((unsigned char)*s))
			s++;
	}
	{
		const char *st = j->s;

		j->s = s;
		return jleaf(j, st, (size_t)(s - st), (size_t)(st - j->start));
	}
}

static int
jvalue(jp *j)
{
	size_t base = j->path.len;
	int r;

	jws(j);
	if (j->s >= j->end)
		return jfail(j, "value expected");
	if (*j->s == '{' || *j->s == '[') {
		char close = *j->s == '{' ? '}' : ']';
		int obj = *j->s == '{';
		unsigned idx = 0;

		if (++j->depth > CFG_MAX_DEPTH)
			return jfail(j, "nested too deep");
		j->s++;
		jws(j);
		if (j->s < j->end && *j->s == close) {
			j->s++;
			j->depth--;
			return 0;
		}
		for (;;) {
			j->path.len = base;
			j->path.data[base] = '\0';
			if (obj) {
				size_t koff;

				jws(j);
				if (j->s >= j->end || *j->s != '"')
					return jfail(j, "key expected");
				koff = j->path.len;
				if (koff > 0 && (r = buf_putc(&j->path, '.')) != 0)
					return r;
				if ((r = jstring(j, &j->p->tmp)) != 0)
					return r;
				if ((r = buf_append(&j->path, j->p->tmp.data, j->p->tmp.len)) != 0)
					return r;
				jws(j);
				if (j->s >= j->end || *j->s != ':')
					return jfail(j, "':' expected");
				j->s++;
			} else {
				char ix[32];

				snprintf(ix, sizeof(ix), "[%u]", idx++);
				if ((r = buf_puts(&j->path, ix)) != 0)
					return r;
			}
			if ((r = jvalue(j)) != 0)
				return r;
			jws(j);
			if (j->s < j->end && *j->s == ',') {
				j->s++;
				continue;
			}
			if (j->s < j->end && *j->s == close) {
				j->s++;
				break;
			}
			return jfail(j, "',' or end of container expected");
		}
		j->path.len = base;
		j->path.data[base] = '\0';
		j->depth--;
		return 0;
	}
	if (*j->s == '"') {
		size_t off = (size_t)(j->s - j->start);

		if ((r = jstring(j, &j->p->tmp)) != 0)
			return r;
		return jleaf(j, j->p->tmp.data, j->p->tmp.len, off);
	}
	if (j->end - j->s >= 4 && memcmp(j->s, "true", 4) == 0) {
		j->s += 4;
		return jleaf(j, "true", 4, (size_t)(j->s - j->start));
	}
	if (j->end - j->s >= 5 && memcmp(j->s, "false", 5) == 0) {
		j->s += 5;
		return jleaf(j, "false", 5, (size_t)(j->s - j->start));
	}
	if (j->end - j->s >= 4 && memcmp(j->s, "null", 4) == 0) {
		j->s += 4;
		return jleaf(j, "null", 4, (size_t)(j->s - j->start));
	}
	return jnumber(j);
}

int
cfg_parse(int fmt, const char *text, size_t len, cfg_emit_fn fn, void *ctx, bg_error *e)
{
	lp p;
	int r = 0;

	if (len > CFG_MAX_INPUT)
		return bg_fail(e, BG_ERR_TOOLARGE, "over %u bytes", CFG_MAX_INPUT);
	if (memchr(text, '\0', len) != NULL)
		return bg_fail(e, BG_ERR_INVALID, "a NUL byte: not a text file");
	lp_init(&p, fn, ctx);
	switch (fmt) {
	case CFG_INI: {
		buf section;

		buf_init(&section, CFG_MAX_PATH);
		r = each_line(&p, &section, text, len, ini_line);
		buf_release(&section);
		break;
	}
	case CFG_ENV:
		r = each_line(&p, NULL, text, len, env_line);
		break;
	case CFG_PHPINFO:
		r = each_line(&p, NULL, text, len, phpinfo_line);
		break;
	case CFG_LINES:
		r = each_line(&p, NULL, text, len, lines_line);
		break;
	case CFG_YAML: {
		ystate *st = calloc(1, sizeof(*st));

		if (st == NULL) {
			r = BG_ERR_NOMEM;
			break;
		}
		buf_init(&st->path, CFG_MAX_PATH);
		if ((r = buf_reserve(&st->path, 1)) == 0)
			r = each_line(&p, st, text, len, yaml_line);
		buf_release(&st->path);
		free(st);
		break;
	}
	case CFG_PHP: {
		pstate *st = calloc(1, sizeof(*st));

		if (st == NULL) {
			r = BG_ERR_NOMEM;
			break;
		}
		buf_init(&st->path, CFG_MAX_PATH);
		if ((r = buf_reserve(&st->path, 1)) == 0)
			r = each_line(&p, st, text, len, php_line);
		buf_release(&st->path);
		free(st);
		break;
	}
	case CFG_JSON: {
		jp j;

		memset(&j, 0, sizeof(j));
		j.p = &p;
		j.s = j.start = text;
		j.end = text + len;
		j.e = e;
		buf_init(&j.path, CFG_MAX_PATH);
		if ((r = buf_reserve(&j.path, 1)) == 0 && (r = jvalue(&j)) == 0) {
			jws(&j);
			if (j.s != j.end)
				r = jfail(&j, "text after the value");
		}
		buf_release(&j.path);
		break;
	}
	default:
		r = bg_fail(e, BG_ERR_USAGE, "unknown format");
	}
	lp_release(&p);
	return r;
}
