/*
 * json.c - streaming JSON writer.
 */
#include "json.h"
#include "err.h"
#include "utc.h"

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

int
json_escape(buf *out, const char *s, size_t n)
{
	static const char hx[] = "0123456789abcdef";
	size_t i, start = 0;
	int r = 0;

	if ((r = buf_putc(out, '"')) != 0)
		return r;
	for (i = 0; i < n && r == 0; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[7];

		if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7f)
			continue;
		r = buf_append(out, s + start, i - start);
		start = i + 1;
		if (r != 0)
			break;
		switch (c) {
		case '"': r = buf_puts(out, "\\\""); break;
		case '\\': r = buf_puts(out, "\\\\"); break;
		case '\n': r = buf_puts(out, "\\n"); break;
		case '\t': r = buf_puts(out, "\\t"); break;
		case '\r': r = buf_puts(out, "\\r"); break;
		default:
			memcpy(esc, "\\u00", 4);
			esc[4] = hx[c >> 4];
			esc[5] = hx[c & 15];
			esc[6] = '\0';
			r = buf_puts(out, esc);
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
