/*
 * fuzz-cfgfmt.c - the configuration-format parsers.  The first byte picks
 * the format; the rest is the file.  Every key found must be a C string
 * no longer than the cap, and a whole line must come with a "#N" key.
 */
#include "cfgfmt.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
found(void *ctx, const char *path, const char *value, size_t line, int flags)
{
	size_t *n = ctx;

	if (path == NULL || value == NULL || strlen(path) > CFG_MAX_PATH || line == 0)
		__builtin_trap();
	if ((flags & CFG_WHOLE) && path[0] != '#')
		__builtin_trap();
	(*n)++;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t n = 0;
	bg_error e;

	if (size < 1)
		return 0;
	(void)cfg_parse(data[0] % CFG_NFMT, (const char *)data + 1, size - 1, found, &n, &e);
	return 0;
}
