/* fuzz-sshsig.c - the SSHSIG armour and blob parser, and verification of every
 * signature type (seeds: OpenSSH's vectors, openssh-*). */
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
	static const char *const origins[] = { "https://www.mindrot.org" };
	sshsig_opts o = { origins, 1 };

	if (sshsig_parse((const char *)data, size, &s, &e) == 0) {
		/* in the signature's own namespace, so every type reaches its verifier
		 * (the OpenSSH vectors in the corpus sign this message) */
		(void)sshsig_verify_opts(&s, "This is a test, this is only a test", 35, s.ns,
		    &o, &e);
		(void)sshsig_verify(&s, "breakglass test statement\n", 26, "breakglass", &e);
		sshsig_release(&s);
	}
	return 0;
}
