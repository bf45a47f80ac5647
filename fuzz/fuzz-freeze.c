/* fuzz-freeze.c - the published change-freeze state parser; what parses
 * is written again and must parse to the same entries. */
#include "freezefmt.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	freezefmt f, g;
	bg_error e;
	buf out;

	if (freezefmt_parse((const char *)data, size, &f, &e) != 0)
		return 0;
	buf_init(&out, 2u * 1024 * 1024);
	if (freezefmt_write(&f, &out) != 0 ||
	    freezefmt_parse(buf_cstr(&out), out.len, &g, &e) != 0)
		abort();
	if (g.n != f.n || g.published != f.published)
		abort();
	for (size_t i = 0; i < f.n; i++) {
		if (g.v[i].ticket != f.v[i].ticket || g.v[i].since != f.v[i].since ||
		    strcmp(g.v[i].systems, f.v[i].systems) != 0 ||
		    strcmp(g.v[i].branch, f.v[i].branch) != 0)
			abort();
		(void)freezefmt_covers(&f.v[i], "web1");
	}
	freezefmt_release(&g);
	freezefmt_release(&f);
	buf_release(&out);
	return 0;
}
