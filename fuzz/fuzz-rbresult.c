/* fuzz-rbresult.c - the result bundle parser, and its signature check. */
#include "rbresult.h"

#include <sodium.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char signers_text[] =
	"ops@client.example ssh-ed25519 "
	"AAAAC3NzaC1lZDI1NTE5AAAAIB+SlS5NDs7RHgTO8gx0LbrqMZZfggFfb1bW7CUfYuUx\n";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	rbresult r;
	bg_error e;
	char principal[256], fp[64];

	if (sodium_init() < 0)
		return 0;
	if (rbresult_parse((const char *)data, size, &r, &e) == 0) {
		(void)rbresult_verify(&r, signers_text, sizeof(signers_text) - 1, 1800000000,
		    principal, fp, &e);
		rbresult_release(&r);
	}
	return 0;
}
