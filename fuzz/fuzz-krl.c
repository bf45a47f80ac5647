/* fuzz-krl.c - the KRL parser and lookup. */
#include "krl.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	krl k;
	bg_error e;

	if (krl_parse(data, size, &k, &e) == 0) {
		(void)krl_cert_revoked(&k, (const unsigned char *)"x", 1, 7, "id");
		krl_release(&k);
	}
	return 0;
}
