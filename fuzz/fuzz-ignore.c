/*
 * fuzz-ignore.c - .breakglassignore parsing and matching: first line of
 * the input is a path, the rest the ignore file.
 */
#include "ignore.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data, *nl = memchr(s, '\n', size);
	ignore_list l;
	char path[512];
	size_t pl;
	int v;

	if (nl == NULL || (pl = (size_t)(nl - s)) >= sizeof(path) || memchr(s, '\0', pl) != NULL)
		return 0;
	memcpy(path, s, pl);
	path[pl] = '\0';
	if (ignore_parse(nl + 1, size - pl - 1, &l, NULL) != 0)
		return 0;
	v = ignore_match(&l, path, 0) + ignore_match(&l, path, 1);
	if (v < -2 || v > 2)
		__builtin_trap();
	ignore_release(&l);
	return 0;
}
