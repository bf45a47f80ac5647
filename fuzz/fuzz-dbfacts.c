/*
 * fuzz-dbfacts.c - collect's database facts: the input is split by the
 * literal splitter (every quoted literal replaced; what is left must hold
 * no quote of a literal) and parsed as migration rules.
 */
#include "dbfacts.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
drop(void *ctx, const char *lit, size_t n, buf *out)
{
	(void)lit;
	(*(size_t *)ctx) += n;
	return buf_puts(out, "#");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;
	buf out;
	size_t seen = 0, n;
	bg_error e;

	if (size > 65536 || (s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	buf_init(&out, 1024 * 1024);
	if (dbfacts_sql_literals(s, drop, &seen, &out) == 0 &&
	    (memchr(buf_cstr(&out), '\'', out.len) != NULL || out.len > strlen(s) + 1))
		__builtin_trap(); /* a quote left: a literal shown */
	buf_release(&out);
	(void)dbfacts_rules_check((const char *)data, size, &n, &e);
	free(s);
	return 0;
}
