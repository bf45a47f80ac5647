/*
 * fuzz-envignore.c - envdiff's ignore file: the first line of the input is
 * a key, the rest the ignore file.
 */
#include "envdiff.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data, *nl = memchr(s, '\n', size);
	envdiff_ignore ig;
	char key[512];
	size_t kl;
	int sec, v = 0;

	if (nl == NULL || (kl = (size_t)(nl - s)) >= sizeof(key) || memchr(s, '\0', kl) != NULL)
		return 0;
	memcpy(key, s, kl);
	key[kl] = '\0';
	if (envdiff_ignore_parse(nl + 1, size - kl - 1, &ig, NULL) != 0)
		return 0;
	for (sec = 0; sec < ENVDIFF_NSECTIONS; sec++)
		v += envdiff_ignored(&ig, sec, key);
	if (v < 0 || v > ENVDIFF_NSECTIONS)
		__builtin_trap();
	envdiff_ignore_release(&ig);
	return 0;
}
