/*
 * json.h - a small streaming JSON writer into a buf.
 *
 * Commas are inserted automatically; strings are escaped (control bytes as
 * \u00XX, non-ASCII passed through as UTF-8 since every string breakglass
 * stores was validated as UTF-8 on the way in).  Errors are sticky: check
 * json_error() once at the end.
 */
#ifndef BG_JSON_H
#define BG_JSON_H

#include "buf.h"

#include <stdint.h>

#define JSON_MAXDEPTH 32

typedef struct json {
	buf *out;
	int depth;
	int first[JSON_MAXDEPTH];
	int after_key;
	int err;
} json;

void json_init(json *j, buf *out);
void json_obj_begin(json *j);
void json_obj_end(json *j);
void json_arr_begin(json *j);
void json_arr_end(json *j);
void json_key(json *j, const char *k);
void json_str(json *j, const char *s);       /* NULL writes null */
void json_strn(json *j, const char *s, size_t n);
void json_int(json *j, int64_t v);
void json_bool(json *j, int v);
void json_null(json *j);
void json_time(json *j, int64_t t);         /* 0 writes null */
/* Convenience: key + value. */
void json_kv_str(json *j, const char *k, const char *v);
void json_kv_int(json *j, const char *k, int64_t v);
void json_kv_bool(json *j, const char *k, int v);
void json_kv_time(json *j, const char *k, int64_t t);
/* Append an already-valid JSON value verbatim. */
void json_raw(json *j, const char *s);
int json_error(const json *j);

/* Escape s as a JSON string literal (with quotes) into out. */
int json_escape(buf *out, const char *s, size_t n);

#endif
