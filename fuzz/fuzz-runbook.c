/* fuzz-runbook.c - the runbook parser, and verification of what parses. */
#include "runbook.h"

#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char signers_text[] =
	"owner@shop.example ssh-ed25519 "
	"AAAAC3NzaC1lZDI1NTE5AAAAIB+SlS5NDs7RHgTO8gx0LbrqMZZfggFfb1bW7CUfYuUx\n";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	runbook rb;
	runbook_trust tr = { signers_text, sizeof(signers_text) - 1, 1, "web1" };
	bg_error e;

	if (sodium_init() < 0)
		return 0;
	if (runbook_parse((const char *)data, size, &rb, &e) == 0) {
		free(runbook_plan_field(&rb, "rollback"));
		(void)runbook_verify(&rb, &tr, 1800000000, &e);
		runbook_release(&rb);
	}
	return 0;
}
