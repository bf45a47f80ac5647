/* fuzz-rbresult.c - the result bundle parser, its signature check, and the
 * reader of what check and collect steps recorded. */
#include "rbresult.h"

#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>

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
		rbresult_found *f = calloc(1, sizeof(*f));

		(void)rbresult_verify(&r, signers_text, sizeof(signers_text) - 1, 1800000000,
		    principal, fp, &e);
		if (f != NULL && rbresult_found_read(&r, f, &e) == 0)
			rbresult_found_release(f);
		free(f);
		rbresult_release(&r);
	}
	return 0;
}
