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
#include "err.h"

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


/*
 * Reading: a strict JSON document tree (RFC 8259) for output breakglass
 * gets from other programs (libpg_query's parse tree).  Objects keep
 * their keys in order; duplicate keys, trailing bytes, NULs, lone
 * surrogates, nesting deeper than JSON_READ_MAXDEPTH and more than
 * JSON_READ_MAXNODES values are refused.  Numbers are kept as text.
 */
#define JSON_READ_MAXDEPTH 256
#define JSON_READ_MAXNODES 4000000
#define JSON_READ_MAXKEYS 1024

enum { JSON_NULL, JSON_FALSE, JSON_TRUE, JSON_NUM, JSON_STR, JSON_ARR, JSON_OBJ };

typedef struct json_val json_val;
struct json_val {
	int type;
	char *s;          /* JSON_STR: the decoded string; JSON_NUM: the text */
	size_t n;         /* JSON_ARR / JSON_OBJ: number of members */
	json_val *v;      /* the members */
	char **k;         /* JSON_OBJ: their keys */
};

/*
 * Parse s[0..n) into *out (the caller frees it with json_val_free).
 * 0, BG_ERR_INVALID with the byte offset in e, BG_ERR_TOOLARGE, or
 * BG_ERR_NOMEM; *out is NULL on failure.
 */
int json_parse(const char *s, size_t n, json_val **out, bg_error *e);
void json_val_free(json_val *v);
/* The member called key of object o, or NULL (also if o is no object). */
const json_val *json_get(const json_val *o, const char *key);
/* The string value of member key, or NULL if missing or not a string. */
const char *json_get_str(const json_val *o, const char *key);

#endif
