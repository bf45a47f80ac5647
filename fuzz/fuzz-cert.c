/* fuzz-cert.c - the OpenSSH certificate parser and verifier. */
#include "cert.h"

#include <sodium.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned char ca[32] = { 1 };
	cert c;
	bg_error e;

	if (sodium_init() < 0)
		return 0;
	if (cert_parse(data, size, &c, &e) == 0) {
		(void)cert_verify(&c, ca, 1800000000, &e);
		if (c.signed_len > c.bloblen)
			__builtin_trap();
		cert_release(&c);
	}
	return 0;
}
