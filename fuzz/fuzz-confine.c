/*
 * fuzz-confine.c - the #! line a program's first bytes name, which the
 * Landlock ruleset lets the kernel execute for an allowed script.
 */
#include "confine.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char out[64];
	size_t n;

	if (confine_parse_shebang((const char *)data, size, out, sizeof(out)) != 0) {
		if (out[0] != '\0')
			__builtin_trap();
		return 0;
	}
	/* an absolute path of printable bytes, no blank, from the input */
	n = strlen(out);
	if (n == 0 || out[0] != '/' || n >= sizeof(out) || strpbrk(out, " \t\n") != NULL ||
	    memmem(data, size, out, n) == NULL)
		__builtin_trap();
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)out[i] < 0x21 || (unsigned char)out[i] > 0x7e)
			__builtin_trap();
	return 0;
}
