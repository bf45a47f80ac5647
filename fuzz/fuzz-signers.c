/* fuzz-signers.c - the allowed_signers parser. */
#include "signers.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	signers s;
	bg_error e;

	if (signers_parse((const char *)data, size, &s, &e) == 0) {
		for (size_t i = 0; i < s.n; i++) {
			char fp[SSHKEY_FP_LEN];

			sshkey_fingerprint(&s.v[i].key, fp);
			(void)signers_principal_matches(&s.v[i], "owner@shop.example");
			(void)signers_namespace_allowed(&s.v[i], "breakglass");
		}
		signers_release(&s);
	}
	return 0;
}
