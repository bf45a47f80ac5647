/*
 * fuzz-profile.c - collection profiles.  An accepted profile has a name,
 * and every item an argument.
 */
#include "profile.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	profile p;
	size_t i;

	if (profile_parse((const char *)data, size, &p, NULL) != 0)
		return 0;
	if (p.name[0] == '\0')
		__builtin_trap();
	for (i = 0; i < p.n; i++)
		if (p.it[i].arg == NULL || p.it[i].arg[0] == '\0')
			__builtin_trap();
	(void)profile_allows(&p, "@app/.env:APP_ENV");
	profile_release(&p);
	return 0;
}
