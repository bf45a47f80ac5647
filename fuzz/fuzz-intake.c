/* fuzz-intake.c - the intake form parser and validator. */
#include "kv.h"
#include "ticket.h"

#include <sodium.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	kv_doc d;
	bg_error e;
	buf b;

	if (ticket_parse((const char *)data, size, &d, &e) == 0) {
		buf_init(&b, 0);
		if (ticket_canonical(&d, &b) == 0) {
			kv_doc d2;

			/* canonical form must parse back to the same document */
			if (ticket_parse(buf_cstr(&b), b.len, &d2, &e) != 0)
				__builtin_trap();
			kv_doc_release(&d2);
		}
		buf_release(&b);
		kv_doc_release(&d);
	}
	return 0;
}
