/*
 * fuzz-bundle.c - the bundle reader.  Whatever it accepts, written again
 * record by record, must read back to the same records: envdiff trusts a
 * bundle to say exactly what collect saw.
 */
#include "bundle.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	bundle b, c;
	bundle_key k;
	bg_error e;
	buf out;
	size_t i;

	if (bundle_parse((const char *)data, size, &b, &e) != 0)
		return 0;
	memset(&k, 0, sizeof(k));
	memcpy(k.id, b.key_id, sizeof(k.id));
	buf_init(&out, BUNDLE_MAX);
	if (bundle_begin(&out, b.created, b.profile, b.key_id[0] ? &k : NULL) != 0)
		__builtin_trap();
	for (i = 0; i < b.n; i++)
		if (bundle_add(&out, b.r[i].kind, b.r[i].key, b.r[i].value) != 0)
			__builtin_trap();
	if (bundle_finish(&out) != 0 || bundle_parse(out.data, out.len, &c, &e) != 0)
		__builtin_trap();
	if (c.n != b.n || c.created != b.created || strcmp(c.key_id, b.key_id) != 0 ||
	    strcmp(c.profile, b.profile) != 0)
		__builtin_trap();
	for (i = 0; i < b.n; i++)
		if (c.r[i].kind != b.r[i].kind || strcmp(c.r[i].key, b.r[i].key) != 0 ||
		    strcmp(c.r[i].value, b.r[i].value) != 0)
			__builtin_trap();
	bundle_release(&b);
	bundle_release(&c);
	buf_release(&out);
	return 0;
}
