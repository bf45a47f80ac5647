/*
 * kv.h - strict "key: value" documents (intake forms, grant requests, plans).
 *
 * Grammar, one item per line:
 *   # comment               (only at the start of a line)
 *   key: value              (key = [a-z0-9-]+, one space after the colon
 *                            optional; an empty value means "not given")
 *     continuation          (a line starting with a space or tab continues
 *                            the previous value; only for KV_MULTILINE keys)
 * Unknown keys, duplicate single keys, invalid UTF-8, control characters,
 * over-long values and a total over the cap are refused with the line.
 */
#ifndef BG_KV_H
#define BG_KV_H

#include "err.h"

#include <stddef.h>

#define KV_MULTI     0x01 /* may repeat */
#define KV_MULTILINE 0x02 /* continuation lines allowed */
#define KV_REQUIRED  0x04 /* must be present and non-empty */

typedef struct kv_key {
	const char *name;
	unsigned flags;
	size_t maxlen; /* per value, bytes; 0 = 4096 */
} kv_key;

typedef struct kv_item {
	const char *key;   /* points into the schema */
	char *value;       /* owned, trimmed, NUL-terminated */
	size_t line;
} kv_item;

typedef struct kv_doc {
	kv_item *items;
	size_t n;
	size_t cap;
} kv_doc;

#define KV_MAX_INPUT (256u * 1024)

/*
 * Parse text[0..len) against schema (terminated by a {NULL} entry) into
 * *out, which the caller releases with kv_doc_release.  On failure *out is
 * empty and e names every problem found (up to 20), one "line N: ..." per
 * line of e->msg.
 */
int kv_parse(const char *text, size_t len, const kv_key *schema, kv_doc *out,
    bg_error *e);
/*
 * The same, but on BG_ERR_INVALID or BG_ERR_TOOLARGE of a value *out keeps
 * the items that were well-formed, so a validator can add its problems
 * to e's (bg_fail_add).  The caller releases *out in every case.
 */
int kv_parse_partial(const char *text, size_t len, const kv_key *schema, kv_doc *out,
    bg_error *e);
void kv_doc_release(kv_doc *d);

/* First value of key, or NULL. */
const char *kv_get(const kv_doc *d, const char *key);
/* Line of the first item with key, or 0. */
size_t kv_line(const kv_doc *d, const char *key);
/* Add an item (used when building documents from flags); value copied. */
int kv_add(kv_doc *d, const kv_key *schema, const char *key, const char *value,
    bg_error *e);
/* Replace (or add) the single value of key. */
int kv_set(kv_doc *d, const kv_key *schema, const char *key, const char *value,
    bg_error *e);

#endif
