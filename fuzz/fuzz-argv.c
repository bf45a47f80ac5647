/* fuzz-argv.c - the command tokeniser: split, join, split again. */
#include "argv.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	argv_list a, b;
	bg_error e;
	buf j;

	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (argv_split(s, &a, &e) == 0) {
		buf_init(&j, 0);
		if (argv_join(&a, &j) == 0) {
			if (argv_split(buf_cstr(&j), &b, &e) != 0 || !argv_equal(&a, &b))
				__builtin_trap(); /* quoting must round-trip */
			argv_release(&b);
		}
		buf_release(&j);
		argv_release(&a);
	}
	free(s);
	return 0;
}
