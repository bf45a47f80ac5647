/* fuzz-sqlcheck.c - a SQL patch through libpg_query and the analysis of
 * its parse tree, and the JSON reader on the raw bytes; every statement
 * found lies inside the input and has a verdict consistent with counts. */
#include "json.h"
#include "sqlcheck.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const granted[] = { "public.orders", "shop.items" };
	json_val *v = NULL;
	size_t i, nd = 0, nr = 0;
	sqlcheck c;
	bg_error e;
	buf b;
	json j;

	if (json_parse((const char *)data, size, &v, &e) == 0)
		json_val_free(v);
	if (sqlcheck_pg((const char *)data, size, "public", granted, 2, &c, &e) != 0)
		return 0;
	if (c.n == 0)
		abort();
	for (i = 0; i < c.n; i++) {
		if (c.v[i].off > size || c.v[i].len > size - c.v[i].off)
			abort();
		if ((c.v[i].refused || c.v[i].destructive) && c.v[i].why[0] == '\0')
			abort();
		nr += c.v[i].refused != 0;
		nd += !c.v[i].refused && c.v[i].destructive;
	}
	if (nr != c.nrefused || nd != c.ndestructive)
		abort();
	buf_init(&b, 0);
	json_init(&j, &b);
	sqlcheck_json(&c, &j);
	if (json_error(&j) == 0 && sqlcheck_describe(&c, &b) != 0)
		abort();
	buf_release(&b);
	sqlcheck_release(&c);
	return 0;
}
