/* fuzz-sqlcheck.c - a SQL patch through libpg_query and the analysis of
 * its parse tree, through the MariaDB tokenizer, and the JSON reader on
 * the raw bytes; every statement found lies inside the input and has a
 * verdict consistent with the counts. */
#include "json.h"
#include "sqlcheck.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
one(const sqlcheck *c, size_t size)
{
	size_t i, nd = 0, nr = 0;
	buf b;
	json j;

	if (c->n == 0)
		abort();
	for (i = 0; i < c->n; i++) {
		const sqlcheck_stmt *s = &c->v[i];

		if (s->off > size || s->len > size - s->off)
			abort();
		if (s->imageable && (s->rel_off < s->off || s->where_off + s->where_len >
		    s->off + s->len))
			abort();
		if ((s->refused || s->destructive) && s->why[0] == '\0')
			abort();
		nr += s->refused != 0;
		nd += !s->refused && s->destructive;
	}
	if (nr != c->nrefused || nd != c->ndestructive)
		abort();
	buf_init(&b, 0);
	json_init(&j, &b);
	sqlcheck_json(c, &j);
	if (json_error(&j) == 0 && sqlcheck_describe(c, &b) != 0)
		abort();
	buf_release(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const granted[] = { "public.orders", "shop.items" };
	json_val *v = NULL;
	sqlcheck c;
	bg_error e;

	if (json_parse((const char *)data, size, &v, &e) == 0)
		json_val_free(v);
	if (sqlcheck_pg((const char *)data, size, "public", granted, 2, &c, &e) == 0) {
		one(&c, size);
		sqlcheck_release(&c);
	}
	if (sqlcheck_mariadb((const char *)data, size, "shop", granted, 2, &c, &e) == 0) {
		one(&c, size);
		sqlcheck_release(&c);
	}
	return 0;
}
