/* fuzz-sshsig.c - the SSHSIG armour and blob parser, and verification. */
#include "sshsig.h"

#include <sodium.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sshsig s;
	bg_error e;

	if (sodium_init() < 0)
		return 0;
	if (sshsig_parse((const char *)data, size, &s, &e) == 0) {
		(void)sshsig_verify(&s, "breakglass test statement\n", 26, "breakglass", &e);
		sshsig_release(&s);
	}
	return 0;
}
