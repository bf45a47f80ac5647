/* fuzz-scan.c - the secret detector over arbitrary bytes. */
#include "scan.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	scan_result r;

	scan_text((const char *)data, size, &r);
	for (size_t i = 0; i < r.n; i++)
		if (r.f[i].off + r.f[i].len > size || r.f[i].len == 0)
			__builtin_trap(); /* findings stay inside the input */
	return 0;
}
