/*
 * fuzz-utc.c - the time parsers: utc_parse (strict, for records) and
 * utc_parse_human (forms and options: a zone or an offset).  What the
 * strict one takes the human one takes with the same value, and what the
 * human one takes formats to a time the strict one reads back unchanged.
 */
#include "utc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char s[128], out[UTC_STRLEN];
	int64_t t1, t2, t3;

	if (size >= sizeof(s))
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (utc_parse(s, &t1) == 0 && (utc_parse_human(s, &t2) != 0 || t1 != t2))
		__builtin_trap();
	if (utc_parse_human(s, &t2) == 0) {
		utc_format(t2, out);
		if (strcmp(out, "out-of-range") != 0 && (utc_parse(out, &t3) != 0 || t3 != t2))
			__builtin_trap();
	}
	return 0;
}
