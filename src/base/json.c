/*
 * json.c - streaming JSON writer.
 */
#include "json.h"
#include "text.h"
#include "err.h"
#include "utc.h"

#include <stdlib.h>
#include <string.h>

void
json_init(json *j, buf *out)
{
	memset(j, 0, sizeof(*j));
	j->out = out;
	j->first[0] = 1;
}

static void
sep(json *j)
{
	if (j->after_key) {
		j->after_key = 0;
		return;
	}
	if (!j->first[j->depth] && !j->err)
		j->err = buf_putc(j->out, ',');
	j->first[j->depth] = 0;
}

static void
put(json *j, const char *s)
{
	if (!j->err)
		j->err = buf_puts(j->out, s);
}

static void
open_(json *j, const char *c)
{
	sep(j);
	put(j, c);
	if (j->depth + 1 >= JSON_MAXDEPTH) {
		j->err = BG_ERR_TOOLARGE;
		return;
	}
	j->first[++j->depth] = 1;
}

static void
close_(json *j, const char *c)
{
	if (j->depth > 0)
		j->depth--;
	put(j, c);
}

void json_obj_begin(json *j) { open_(j, "{"); }
void json_obj_end(json *j) { close_(j, "}"); }
void json_arr_begin(json *j) { open_(j, "["); }
void json_arr_end(json *j) { close_(j, "]"); }

/*
 * Always valid JSON that a strict reader accepts: a byte that is not valid
 * UTF-8 becomes U+FFFD; controls, DEL and the code points that can forge or
 * hide text on a terminal (text_cp_invisible: C1 controls, bidirectional
 * overrides, U+2028/U+2029, ...) are written as \uXXXX escapes, so a log
 * line holding a file name reads the same everywhere it is shown.
 */
int
json_escape(buf *out, const char *s, size_t n)
{
	static const char hx[] = "0123456789abcdef";
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, start = 0;
	int r = 0;

	if ((r = buf_putc(out, '"')) != 0)
		return r;
	while (i < n && r == 0) {
		unsigned char c = u[i];
		unsigned cp = c;
		size_t len = 1;
		char esc[7];

		if (c >= 0x20 && c != '"' && c != '\\' && c < 0x7f) {
			i++;
			continue;
		}
		if (c >= 0x80) {
			len = text_utf8_next(u + i, n - i, &cp);
			if (len > 1 && !text_cp_invisible(cp)) {
				i += len;
				continue;
			}
			if (len == 0) {
				len = 1;
				cp = 0xfffd;
			}
		}
		r = buf_append(out, s + start, i - start);
		i += len;
		start = i;
		if (r != 0)
			break;
		switch (cp) {
		case '"': r = buf_puts(out, "\\\""); break;
		case '\\': r = buf_puts(out, "\\\\"); break;
		case '\n': r = buf_puts(out, "\\n"); break;
		case '\t': r = buf_puts(out, "\\t"); break;
		case '\r': r = buf_puts(out, "\\r"); break;
		default:
			esc[0] = '\\';
			esc[1] = 'u';
			esc[2] = hx[(cp >> 12) & 15];
			esc[3] = hx[(cp >> 8) & 15];
			esc[4] = hx[(cp >> 4) & 15];
			esc[5] = hx[cp & 15];
			r = buf_append(out, esc, 6);
		}
	}
	if (r == 0)
		r = buf_append(out, s + start, n - start);
	if (r == 0)
		r = buf_putc(out, '"');
	return r;
}

void
json_key(json *j, const char *k)
{
	sep(j);
	if (!j->err)
		j->err = json_escape(j->out, k, strlen(k));
	put(j, ":");
	j->after_key = 1;
}

void
json_strn(json *j, const char *s, size_t n)
{
	sep(j);
	if (!j->err)
		j->err = json_escape(j->out, s, n);
}

void
json_str(json *j, const char *s)
{
	if (s == NULL) {
		json_null(j);
		return;
	}
	json_strn(j, s, strlen(s));
}

void
json_int(json *j, int64_t v)
{
	sep(j);
	if (!j->err)
		j->err = buf_printf(j->out, "%lld", (long long)v);
}

void
json_bool(json *j, int v)
{
	sep(j);
	put(j, v ? "true" : "false");
}

void
json_null(json *j)
{
	sep(j);
	put(j, "null");
}

void
json_time(json *j, int64_t t)
{
	char s[UTC_STRLEN];

	if (t == 0) {
		json_null(j);
		return;
	}
	utc_format(t, s);
	json_str(j, s);
}

void
json_raw(json *j, const char *s)
{
	sep(j);
	put(j, s);
}

void json_kv_str(json *j, const char *k, const char *v) { json_key(j, k); json_str(j, v); }
void json_kv_int(json *j, const char *k, int64_t v) { json_key(j, k); json_int(j, v); }
void json_kv_bool(json *j, const char *k, int v) { json_key(j, k); json_bool(j, v); }
void json_kv_time(json *j, const char *k, int64_t t) { json_key(j, k); json_time(j, t); }

int
json_error(const json *j)
{
	return j->err;
}

/* --- reading ------------------------------------------------------------ */

typedef struct jrd {
	const char *s;
	size_t n, i, nodes;
	bg_error *e;
} jrd;

static void
jval_release(json_val *v)
{
	size_t i;

	free(v->s);
	for (i = 0; i < v->n; i++) {
		jval_release(&v->v[i]);
		if (v->k != NULL)
			free(v->k[i]);
	}
	free(v->v);
	free(v->k);
	memset(v, 0, sizeof(*v));
}

void
json_val_free(json_val *v)
{
	if (v == NULL)
		return;
	jval_release(v);
	free(v);
}

static void
jws(jrd *p)
{
	while (p->i < p->n && (p->s[p->i] == ' ' || p->s[p->i] == '\t' ||
	    p->s[p->i] == '\n' || p->s[p->i] == '\r'))
		p->i++;
}

static int
jbad(jrd *p, const char *what)
{
	return bg_fail(p->e, BG_ERR_INVALID, "json: %s at byte %zu", what, p->i);
}

static int
jhex4(jrd *p, unsigned *u)
{
	unsigned x = 0;
	int k;

	if (p->n - p->i < 4)
		return jbad(p, "short \\u escape");
	for (k = 0; k < 4; k++) {
		char c = p->s[p->i++];

		x <<= 4;
		if (c >= '0' && c <= '9')
			x |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			x |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			x |= (unsigned)(c - 'A' + 10);
		else
			return jbad(p, "bad \\u escape");
	}
	*u = x;
	return 0;
}

static int
jutf8(buf *b, unsigned u)
{
	char c[4];
	size_t n;

	if (u < 0x80) {
		c[0] = (char)u;
		n = 1;
	} else if (u < 0x800) {
		c[0] = (char)(0xc0 | (u >> 6));
		c[1] = (char)(0x80 | (u & 0x3f));
		n = 2;
	} else if (u < 0x10000) {
		c[0] = (char)(0xe0 | (u >> 12));
		c[1] = (char)(0x80 | ((u >> 6) & 0x3f));
		c[2] = (char)(0x80 | (u & 0x3f));
		n = 3;
	} else {
		c[0] = (char)(0xf0 | (u >> 18));
		c[1] = (char)(0x80 | ((u >> 12) & 0x3f));
		c[2] = (char)(0x80 | ((u >> 6) & 0x3f));
		c[3] = (char)(0x80 | (u & 0x3f));
		n = 4;
	}
	return buf_append(b, c, n);
}

/* a string after its opening quote, into a malloc'd C string */
static int
jstr(jrd *p, char **out)
{
	buf b;
	int r = 0;

	*out = NULL;
	buf_init(&b, p->n + 1);
	for (;;) {
		unsigned char c;

		if (p->i >= p->n) {
			r = jbad(p, "unterminated string");
			goto out;
		}
		c = (unsigned char)p->s[p->i++];
		if (c == '"')
			break;
		if (c < 0x20) {
			r = jbad(p, "control byte in string");
			goto out;
		}
		if (c != '\\') {
			if ((r = buf_putc(&b, (char)c)) != 0)
				goto out;
			continue;
		}
		if (p->i >= p->n) {
			r = jbad(p, "unterminated escape");
			goto out;
		}
		c = (unsigned char)p->s[p->i++];
		switch (c) {
		case '"': case '\\': case '/':
			r = buf_putc(&b, (char)c);
			break;
		case 'b': r = buf_putc(&b, '\b'); break;
		case 'f': r = buf_putc(&b, '\f'); break;
		case 'n': r = buf_putc(&b, '\n'); break;
		case 'r': r = buf_putc(&b, '\r'); break;
		case 't': r = buf_putc(&b, '\t'); break;
		case 'u': {
			unsigned u, lo;

			if ((r = jhex4(p, &u)) != 0)
				goto out;
			if (u == 0) {
				r = jbad(p, "NUL in string");
				goto out;
			}
			if (u >= 0xdc00 && u <= 0xdfff) {
				r = jbad(p, "lone low surrogate");
				goto out;
			}
			if (u >= 0xd800 && u <= 0xdbff) {
				if (p->n - p->i < 2 || p->s[p->i] != '\\' || p->s[p->i + 1] != 'u') {
					r = jbad(p, "lone high surrogate");
					goto out;
				}
				p->i += 2;
				if ((r = jhex4(p, &lo)) != 0)
					goto out;
				if (lo < 0xdc00 || lo > 0xdfff) {
					r = jbad(p, "bad surrogate pair");
					goto out;
				}
				u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
			}
			r = jutf8(&b, u);
			break;
		}
		default:
			r = jbad(p, "unknown escape");
			goto out;
		}
		if (r != 0)
			goto out;
	}
	if ((*out = buf_detach(&b, NULL)) == NULL)
		r = BG_ERR_NOMEM;
out:
	buf_release(&b);
	return r;
}

static int
jnum(jrd *p, json_val *v)
{
	size_t st = p->i;

	if (p->i < p->n && p->s[p->i] == '-')
		p->i++;
	if (p->i < p->n && p->s[p->i] == '0')
		p->i++;
	else if (p->i < p->n && p->s[p->i] >= '1' && p->s[p->i] <= '9')
		while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9')
			p->i++;
	else
		return jbad(p, "bad number");
	if (p->i < p->n && p->s[p->i] == '.') {
		p->i++;
		if (p->i >= p->n || p->s[p->i] < '0' || p->s[p->i] > '9')
			return jbad(p, "bad fraction");
		while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9')
			p->i++;
	}
	if (p->i < p->n && (p->s[p->i] == 'e' || p->s[p->i] == 'E')) {
		p->i++;
		if (p->i < p->n && (p->s[p->i] == '+' || p->s[p->i] == '-'))
			p->i++;
		if (p->i >= p->n || p->s[p->i] < '0' || p->s[p->i] > '9')
			return jbad(p, "bad exponent");
		while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9')
			p->i++;
	}
	v->type = JSON_NUM;
	if ((v->s = strndup(p->s + st, p->i - st)) == NULL)
		return BG_ERR_NOMEM;
	return 0;
}

static int
jlit(jrd *p, const char *w, json_val *v, int type)
{
	size_t l = strlen(w);

	if (p->n - p->i < l || memcmp(p->s + p->i, w, l) != 0)
		return jbad(p, "unexpected token");
	p->i += l;
	v->type = type;
	return 0;
}

/* append one member slot to container v */
static int
jgrow(json_val *v, size_t *cap, int obj)
{
	if (v->n == *cap) {
		size_t nc = *cap ? *cap * 2 : 4;
		json_val *nv = realloc(v->v, nc * sizeof(*nv));

		if (nv == NULL)
			return BG_ERR_NOMEM;
		v->v = nv;
		if (obj) {
			char **nk = realloc(v->k, nc * sizeof(*nk));

			if (nk == NULL)
				return BG_ERR_NOMEM;
			v->k = nk;
		}
		*cap = nc;
	}
	memset(&v->v[v->n], 0, sizeof(v->v[v->n]));
	if (obj)
		v->k[v->n] = NULL;
	v->n++;
	return 0;
}

static int
jvalue(jrd *p, json_val *v, int depth)
{
	size_t cap = 0;
	int r, obj;

	if (depth > JSON_READ_MAXDEPTH)
		return bg_fail(p->e, BG_ERR_TOOLARGE, "json: nested deeper than %d at byte %zu",
		    JSON_READ_MAXDEPTH, p->i);
	if (++p->nodes > JSON_READ_MAXNODES)
		return bg_fail(p->e, BG_ERR_TOOLARGE, "json: more than %d values",
		    JSON_READ_MAXNODES);
	jws(p);
	if (p->i >= p->n)
		return jbad(p, "value expected");
	switch (p->s[p->i]) {
	case 'n': return jlit(p, "null", v, JSON_NULL);
	case 't': return jlit(p, "true", v, JSON_TRUE);
	case 'f': return jlit(p, "false", v, JSON_FALSE);
	case '"':
		p->i++;
		v->type = JSON_STR;
		return jstr(p, &v->s);
	case '[': case '{':
		break;
	default:
		return jnum(p, v);
	}
	obj = p->s[p->i] == '{';
	v->type = obj ? JSON_OBJ : JSON_ARR;
	p->i++;
	jws(p);
	if (p->i < p->n && p->s[p->i] == (obj ? '}' : ']')) {
		p->i++;
		return 0;
	}
	for (;;) {
		if ((r = jgrow(v, &cap, obj)) != 0)
			return r;
		if (obj) {
			size_t j;

			if (v->n > JSON_READ_MAXKEYS)
				return jbad(p, "object with too many keys");
			jws(p);
			if (p->i >= p->n || p->s[p->i] != '"')
				return jbad(p, "key expected");
			p->i++;
			if ((r = jstr(p, &v->k[v->n - 1])) != 0)
				return r;
			for (j = 0; j + 1 < v->n; j++)
				if (strcmp(v->k[j], v->k[v->n - 1]) == 0)
					return jbad(p, "duplicate key");
			jws(p);
			if (p->i >= p->n || p->s[p->i] != ':')
				return jbad(p, "':' expected");
			p->i++;
		}
		if ((r = jvalue(p, &v->v[v->n - 1], depth + 1)) != 0)
			return r;
		jws(p);
		if (p->i < p->n && p->s[p->i] == ',') {
			p->i++;
			continue;
		}
		if (p->i < p->n && p->s[p->i] == (obj ? '}' : ']')) {
			p->i++;
			return 0;
		}
		return jbad(p, obj ? "',' or '}' expected" : "',' or ']' expected");
	}
}

int
json_parse(const char *s, size_t n, json_val **out, bg_error *e)
{
	jrd p = { s, n, 0, 0, e };
	json_val *v;
	int r;

	*out = NULL;
	if (memchr(s, '\0', n) != NULL)
		return bg_fail(e, BG_ERR_INVALID, "json: NUL byte");
	if ((v = calloc(1, sizeof(*v))) == NULL)
		return BG_ERR_NOMEM;
	if ((r = jvalue(&p, v, 0)) == 0) {
		jws(&p);
		if (p.i != n)
			r = jbad(&p, "trailing bytes");
	}
	if (r != 0) {
		json_val_free(v);
		return r;
	}
	*out = v;
	return 0;
}

const json_val *
json_get(const json_val *o, const char *key)
{
	size_t i;

	if (o == NULL || o->type != JSON_OBJ)
		return NULL;
	for (i = 0; i < o->n; i++)
		if (strcmp(o->k[i], key) == 0)
			return &o->v[i];
	return NULL;
}

const char *
json_get_str(const json_val *o, const char *key)
{
	const json_val *v = json_get(o, key);

	return v != NULL && v->type == JSON_STR ? v->s : NULL;
}
