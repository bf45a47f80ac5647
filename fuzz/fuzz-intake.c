/* fuzz-intake.c - the intake form parser and validator. */
#include "kv.h"
#include "ticket.h"

#include <sodium.h>
#include <stdint.h>
#include <string.h>

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

			buf b2;

			/* canonical form must parse back to the same document:
			 * normalising it again changes nothing */
			if (ticket_parse(buf_cstr(&b), b.len, &d2, &e) != 0)
				__builtin_trap();
			buf_init(&b2, 0);
			if (ticket_canonical(&d2, &b2) != 0 || b2.len != b.len ||
			    memcmp(buf_cstr(&b2), buf_cstr(&b), b.len) != 0)
				__builtin_trap();
			buf_release(&b2);
			kv_doc_release(&d2);
		}
		buf_release(&b);
		kv_doc_release(&d);
	}
	return 0;
}
