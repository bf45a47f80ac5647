/*
 * fuzz-scan.c - the secret scanner over arbitrary bytes: both engines must
 * give the same findings, inside the input, sorted and not overlapping,
 * and redaction must keep everything else byte for byte.
 */
#include "scan.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static scan_engine *pc;
static scan_ctx *pcc;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	const scan_engine *eng = scan_builtin(NULL);
	scan_ctx *c;
	const scan_hit *h, *h2;
	size_t nh, nh2, i, end = 0;
	scan_hit *copy;
	buf out;

	if (eng == NULL)
		__builtin_trap();
	if (pc == NULL) {
		if (scan_engine_new_builtin(SCAN_ENGINE_PCRE2, 0, &pc, NULL) != 0 ||
		    (pcc = scan_ctx_new(pc)) == NULL)
			__builtin_trap();
	}
	if ((c = scan_ctx_new(eng)) == NULL || scan_ctx_run(c, s, size, &h, &nh, NULL) != 0)
		__builtin_trap();
	for (i = 0; i < nh; i++) {
		if (h[i].len == 0 || h[i].off < end || h[i].off + h[i].len > size)
			__builtin_trap(); /* empty, unsorted, overlapping or outside */
		end = h[i].off + h[i].len;
	}
	copy = malloc((nh ? nh : 1) * sizeof(*copy));
	if (copy == NULL)
		__builtin_trap();
	if (nh > 0)
		memcpy(copy, h, nh * sizeof(*copy));
	if (scan_ctx_run(pcc, s, size, &h2, &nh2, NULL) != 0 || nh2 != nh)
		__builtin_trap(); /* the engines disagree */
	for (i = 0; i < nh; i++)
		if (h2[i].rule != copy[i].rule || h2[i].off != copy[i].off || h2[i].len != copy[i].len)
			__builtin_trap();
	/* redaction: the text between findings is kept exactly */
	buf_init(&out, 64u * 1024 * 1024);
	if (scan_redact(s, size, &out, NULL) != 0)
		__builtin_trap();
	if (nh == 0 && (out.len != size || (size > 0 && memcmp(out.data, s, size) != 0)))
		__builtin_trap();
	if (nh > 0 && (out.len < copy[0].off || memcmp(out.data, s, copy[0].off) != 0))
		__builtin_trap();
	buf_release(&out);
	free(copy);
	scan_ctx_free(c);
	return 0;
}
