/*
 * fuzz-rules.c - the rules-file parser and the engine built from it: any
 * input is either refused with a message or gives rules that compile and
 * scan their own examples without crashing.
 */
#include "scan.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	scan_engine *eng = NULL;
	scan_ctx *c;
	bg_error e;
	size_t i, j, nh;
	const scan_hit *h;

	if (size > 64 * 1024)
		return 0;
	memset(&e, 0, sizeof(e));
	if (scan_engine_new((const char *)data, size, "fuzz", SCAN_ENGINE_PCRE2, 1, &eng, &e) != 0) {
		if (e.msg[0] == '\0' || eng != NULL)
			__builtin_trap(); /* refusals say why and leave nothing */
		return 0;
	}
	if ((c = scan_ctx_new(eng)) == NULL)
		__builtin_trap();
	for (i = 0; i < scan_engine_rules(eng)->n; i++) {
		const rule *ru = &scan_engine_rules(eng)->r[i];

		for (j = 0; j < ru->nexamples; j++)
			if (scan_ctx_run(c, ru->examples[j].s, ru->examples[j].len, &h, &nh, NULL) != 0)
				__builtin_trap();
	}
	scan_ctx_free(c);
	scan_engine_free(eng);
	return 0;
}
