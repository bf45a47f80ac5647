/* fuzz-diff.c - the unified diff parser, and applying it to its own text. */
#include "diff.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	diff d;
	bg_error e;
	buf out;

	if (diff_parse((const char *)data, size, &d, &e) != 0)
		return 0;
	buf_init(&out, 0);
	for (size_t i = 0; i < d.nf; i++) {
		char *p = d.f[i].new_path ? diff_path(d.f[i].new_path, 1) : NULL;

		if (p && (p[0] == '/' || strstr(p, "..") == p))
			__builtin_trap();
		free(p);
		(void)diff_apply(&d, &d.f[i], (const char *)data, size, &out, &e);
		(void)diff_apply(&d, &d.f[i], "", 0, &out, &e);
	}
	buf_release(&out);
	diff_release(&d);
	return 0;
}
