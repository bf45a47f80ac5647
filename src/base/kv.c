/*
 * kv.c - the strict key/value document parser.
 *
 * The parser works line by line over a bounded input.  Values are copied
 * into the document; keys point at the static schema so that a document
 * can only ever hold known keys.
 */
#include "kv.h"
#include "buf.h"
#include "text.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const kv_key *
find_key(const kv_key *schema, const char *name, size_t n)
{
	for (; schema->name != NULL; schema++)
		if (strlen(schema->name) == n && memcmp(schema->name, name, n) == 0)
			return schema;
	return NULL;
}

void
kv_doc_release(kv_doc *d)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		free(d->items[i].value);
	free(d->items);
	memset(d, 0, sizeof(*d));
}

static int
push(kv_doc *d, const char *key, const char *value, size_t vlen, size_t line)
{
	kv_item *it;
	char *v;

	if (d->n == d->cap) {
		size_t ncap = d->cap ? d->cap * 2 : 16;

		if (ncap > 4096)
			return BG_ERR_TOOLARGE;
		if ((it = realloc(d->items, ncap * sizeof(*it))) == NULL)
			return BG_ERR_NOMEM;
		d->items = it;
		d->cap = ncap;
	}
	if ((v = malloc(vlen + 1)) == NULL)
		return BG_ERR_NOMEM;
	memcpy(v, value, vlen);
	v[vlen] = '\0';
	d->items[d->n].key = key;
	d->items[d->n].value = v;
	d->items[d->n].line = line;
	d->n++;
	return 0;
}

static int
count_key(const kv_doc *d, const char *key)
{
	size_t i;
	int c = 0;

	for (i = 0; i < d->n; i++)
		if (d->items[i].key == key)
			c++;
	return c;
}

static int
append_cont(kv_item *it, const char *p, size_t n)
{
	size_t old = strlen(it->value);
	char *v = realloc(it->value, old + n + 2);

	if (v == NULL)
		return BG_ERR_NOMEM;
	v[old] = '\n';
	memcpy(v + old + 1, p, n);
	v[old + 1 + n] = '\0';
	it->value = v;
	return 0;
}

/*
 * One more problem with the document: the first sets e, later ones go on
 * lines of their own, so a form's every problem is reported at once.
 * Returns BG_ERR_TOOLARGE after KV_MAX_PROBLEMS (parsing stops), else 0.
 */
#define KV_MAX_PROBLEMS 20
static int problem(bg_error *e, int *np, int r, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int
problem(bg_error *e, int *np, int r, const char *fmt, ...)
{
	char m[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m, sizeof(m), fmt, ap);
	va_end(ap);
	if ((*np)++ == 0)
		bg_fail(e, r, "%s", m);
	else
		bg_fail_add(e, r, "%s", m);
	return *np >= KV_MAX_PROBLEMS ? BG_ERR_TOOLARGE : 0;
}

static int
parse(const char *text, size_t len, const kv_key *schema, kv_doc *out, bg_error *e,
    int keep)
{
	size_t off = 0, line = 0, bad;
	const kv_key *last = NULL;
	int r = 0, last_empty = 0, np = 0, skip_cont = 0, first_r = BG_ERR_INVALID;

	memset(out, 0, sizeof(*out));
	if (len > KV_MAX_INPUT)
		return bg_fail(e, BG_ERR_TOOLARGE, "input is larger than %u bytes",
		    KV_MAX_INPUT);
	if (text_check(text, len, 1, &bad) != 0) {
		size_t l, c;

		text_position(text, bad, &l, &c);
		return bg_fail(e, BG_ERR_INVALID,
		    "line %zu, column %zu: invalid UTF-8 or control character", l, c);
	}
	while (off < len && r == 0) {
		const char *ln = text + off, *nl = memchr(ln, '\n', len - off);
		size_t n = nl ? (size_t)(nl - ln) : len - off;
		const char *colon, *v;
		const kv_key *k, *prev;
		size_t vlen, klen, i;

		off += n + (nl != NULL);
		line++;
		while (n > 0 && (ln[n - 1] == ' ' || ln[n - 1] == '\t'))
			n--;
		if (n == 0 || ln[0] == '#')
			continue;
		if (ln[0] == ' ' || ln[0] == '\t') {
			while (n > 0 && (*ln == ' ' || *ln == '\t')) {
				ln++;
				n--;
			}
			if (skip_cont)
				continue; /* more of a line already reported */
			if (last == NULL) {
				r = problem(e, &np, BG_ERR_INVALID,
				    "line %zu: continuation line without a key", line);
				continue;
			}
			if (!(last->flags & KV_MULTILINE)) {
				r = problem(e, &np, BG_ERR_INVALID,
				    "line %zu: '%s' takes a single line", line, last->name);
				skip_cont = 1;
				continue;
			}
			if (last_empty) {
				if ((r = push(out, last->name, ln, n, line - 1)) != 0)
					goto fail_r;
				last_empty = 0;
			} else if ((r = append_cont(&out->items[out->n - 1], ln, n)) != 0)
				goto fail_r;
			goto check_len;
		}
		skip_cont = 1;
		prev = last;
		last = NULL;
		colon = memchr(ln, ':', n);
		if (colon == NULL) {
			r = problem(e, &np, BG_ERR_INVALID, "line %zu: expected 'key: value'", line);
			continue;
		}
		klen = (size_t)(colon - ln);
		for (i = 0; i < klen; i++) {
			char c = ln[i];

			if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
				break;
		}
		if (i < klen) {
			r = problem(e, &np, BG_ERR_INVALID,
			    "line %zu, column %zu: invalid character in key", line, i + 1);
			continue;
		}
		if ((k = find_key(schema, ln, klen)) == NULL) {
			const char *near = text_suggest(ln, klen, schema, sizeof(*schema));

			if (near != NULL)
				r = problem(e, &np, BG_ERR_INVALID, "line %zu: unknown key '%.*s'; did "
				    "you mean '%s'?", line, (int)(klen > 64 ? 64 : klen), ln, near);
			else
				r = problem(e, &np, BG_ERR_INVALID, "line %zu: unknown key '%.*s'",
				    line, (int)(klen > 64 ? 64 : klen), ln);
			continue;
		}
		if (!(k->flags & KV_MULTI) && (count_key(out, k->name) > 0 ||
		    (prev == k && last_empty))) {
			r = problem(e, &np, BG_ERR_INVALID, "line %zu: duplicate key '%s'", line,
			    k->name);
			continue;
		}
		skip_cont = 0;
		v = colon + 1;
		vlen = n - klen - 1;
		while (vlen > 0 && (*v == ' ' || *v == '\t')) {
			v++;
			vlen--;
		}
		last = k;
		if (vlen == 0) {
			/* empty: "not given"; a continuation may still fill it */
			last_empty = 1;
			continue;
		}
		last_empty = 0;
		if ((r = push(out, k->name, v, vlen, line)) != 0)
			goto fail_r;
check_len:
		if (!last_empty && out->n > 0) {
			kv_item *it = &out->items[out->n - 1];
			size_t max = last->maxlen ? last->maxlen : 4096;

			if (strlen(it->value) > max) {
				if (np == 0)
					first_r = BG_ERR_TOOLARGE;
				r = problem(e, &np, BG_ERR_TOOLARGE,
				    "line %zu: value of '%s' is longer than %zu bytes", line,
				    last->name, max);
				/* not kept: a validator must not see it */
				free(it->value);
				out->n--;
				last_empty = 1;
				skip_cont = 1;
			}
		}
	}
	for (; r == 0 && schema->name != NULL; schema++)
		if ((schema->flags & KV_REQUIRED) && count_key(out, schema->name) == 0)
			r = problem(e, &np, BG_ERR_INVALID, "missing required key '%s'",
			    schema->name);
	if (np == 0)
		return 0;
	if (!keep)
		kv_doc_release(out);
	return first_r;
fail_r:
	if (r == BG_ERR_TOOLARGE)
		bg_fail(e, r, "line %zu: too many items", line);
	else
		bg_fail(e, r, "line %zu: %s", line, bg_strerror(r));
	kv_doc_release(out);
	return r;
}

int
kv_parse(const char *text, size_t len, const kv_key *schema, kv_doc *out,
    bg_error *e)
{
	return parse(text, len, schema, out, e, 0);
}

int
kv_parse_partial(const char *text, size_t len, const kv_key *schema, kv_doc *out,
    bg_error *e)
{
	return parse(text, len, schema, out, e, 1);
}

const char *
kv_get(const kv_doc *d, const char *key)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		if (strcmp(d->items[i].key, key) == 0)
			return d->items[i].value;
	return NULL;
}

size_t
kv_line(const kv_doc *d, const char *key)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		if (strcmp(d->items[i].key, key) == 0)
			return d->items[i].line;
	return 0;
}

int
kv_add(kv_doc *d, const kv_key *schema, const char *key, const char *value,
    bg_error *e)
{
	const kv_key *k = find_key(schema, key, strlen(key));
	size_t bad, max;

	if (k == NULL) {
		const char *near = text_suggest(key, strlen(key), schema, sizeof(*schema));

		if (near != NULL)
			return bg_fail(e, BG_ERR_INVALID, "unknown key '%.64s'; did you mean '%s'?",
			    key, near);
		return bg_fail(e, BG_ERR_INVALID, "unknown key '%.64s'", key);
	}
	if (!(k->flags & KV_MULTI) && count_key(d, k->name) > 0)
		return bg_fail(e, BG_ERR_INVALID, "'%s' given twice", key);
	max = k->maxlen ? k->maxlen : 4096;
	if (strlen(value) > max)
		return bg_fail(e, BG_ERR_TOOLARGE, "'%s' is longer than %zu bytes", key, max);
	if (text_check(value, strlen(value), (k->flags & KV_MULTILINE) != 0, &bad) != 0)
		return bg_fail(e, BG_ERR_INVALID,
		    "'%s': invalid UTF-8 or control character at byte %zu", key, bad + 1);
	if (value[0] == '\0')
		return 0;
	return push(d, k->name, value, strlen(value), 0);
}

int
kv_set(kv_doc *d, const kv_key *schema, const char *key, const char *value,
    bg_error *e)
{
	size_t i, j;

	for (i = j = 0; i < d->n; i++) {
		if (strcmp(d->items[i].key, key) == 0) {
			free(d->items[i].value);
			continue;
		}
		d->items[j++] = d->items[i];
	}
	d->n = j;
	return kv_add(d, schema, key, value, e);
}
