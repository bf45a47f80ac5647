/*
 * fuzz-snapshot.c - the snapshot manifest parser.  Whatever it accepts
 * must format back to text that parses to the same snapshot, byte for
 * byte: rollback trusts a loaded manifest to say exactly what was there.
 */
#include "snapshot.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	snapshot s, t;
	bg_error e;
	buf a, b;

	if (snapshot_parse((const char *)data, size, &s, &e) != 0)
		return 0;
	buf_init(&a, 0);
	buf_init(&b, 0);
	if (snapshot_format(&s, &a) != 0 || snapshot_parse(a.data, a.len, &t, &e) != 0)
		__builtin_trap();
	if (snapshot_format(&t, &b) != 0 || a.len != b.len || memcmp(a.data, b.data, a.len) != 0 ||
	    t.n != s.n || t.nroots != s.nroots)
		__builtin_trap();
	for (size_t i = 0; i < s.n; i++) {
		const snap_entry *x = &s.e[i];

		if (x->path[0] == '/' || strcmp(x->path, "..") == 0 || strncmp(x->path, "../", 3) == 0 ||
		    strstr(x->path, "/../") != NULL || snapshot_find(&s, x->root, x->path) != x)
			__builtin_trap();
	}
	snapshot_release(&t);
	snapshot_release(&s);
	buf_release(&a);
	buf_release(&b);
	return 0;
}
