/*
 * wire.h - strict reader for SSH wire encodings (RFC 4251).
 *
 * A wire reader walks a borrowed byte range; every get checks lengths, and
 * wire_end() insists that nothing is left over.  Strings returned by
 * wire_get_string point into the input (not copied, not NUL-terminated).
 */
#ifndef BG_WIRE_H
#define BG_WIRE_H

#include <stddef.h>
#include <stdint.h>

typedef struct wire {
	const unsigned char *p;
	size_t len;
	size_t off;
} wire;

void wire_init(wire *w, const void *p, size_t len);
/* 0 or BG_ERR_INVALID on short input. */
int wire_get_u32(wire *w, uint32_t *v);
int wire_get_u64(wire *w, uint64_t *v);
/* Borrowed pointer + length of the next string. */
int wire_get_string(wire *w, const unsigned char **p, size_t *n);
/* Next string must equal s exactly. */
int wire_expect_cstring(wire *w, const char *s);
/* Next string copied as a malloc'd C string; refuses embedded NULs. */
int wire_get_cstring(wire *w, char **out);
/* Raw bytes. */
int wire_get_bytes(wire *w, void *out, size_t n);
/* 0 if the reader consumed everything, BG_ERR_INVALID if bytes remain. */
int wire_end(const wire *w);

#endif
