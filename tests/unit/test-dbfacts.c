/* test-dbfacts.c - collect's database facts: the literal splitter that
 * hashes every quoted literal of a default or definition, the migration
 * rules' parser, and the bundle records they become. */
#include "unit.h"
#include "bundle.h"
#include "dbfacts.h"

extern const char dbfacts_migrations_builtin[];
extern const size_t dbfacts_migrations_builtin_len;

static int
mark(void *ctx, const char *lit, size_t n, buf *out)
{
	(void)ctx;
	return buf_printf(out, "<%.*s>", (int)n, lit);
}

static const char *
lits(const char *s, buf *b)
{
	buf_reset(b);
	assert_int_equal(dbfacts_sql_literals(s, mark, NULL, b), 0);
	return buf_cstr(b);
}

static void
literals(void **state)
{
	buf b;

	(void)state;
	buf_init(&b, 0);
	assert_string_equal(lits("text not null default 'x1'::text", &b),
	    "text not null default <x1>::text");
	assert_string_equal(lits("CHECK ((tier <> 'a''b'::text))", &b), "CHECK ((tier <> <a'b>::text))");
	assert_string_equal(lits("integer default 0", &b), "integer default 0");
	assert_string_equal(lits("'a' || 'b'", &b), "<a> || <b>");
	assert_string_equal(lits("E'x\\'y' z", &b), "E<x\\'y> z");
	/* unterminated: the rest is one literal, nothing shown */
	assert_string_equal(lits("default 'secret", &b), "default <secret>");
	assert_string_equal(lits("''", &b), "<>");
	/* identifiers stay */
	assert_string_equal(lits("\"Weird Name\" = 'v'", &b), "\"Weird Name\" = <v>");
	buf_release(&b);
}

static int
rules(const char *s)
{
	size_t n;
	bg_error e;

	return dbfacts_rules_check(s, strlen(s), &n, &e);
}

static void
migration_rules(void **state)
{
	size_t n;
	bg_error e;

	(void)state;
	assert_int_equal(dbfacts_rules_check(dbfacts_migrations_builtin,
	    dbfacts_migrations_builtin_len, &n, &e), 0);
	assert_true(n >= 8);
	assert_int_equal(rules("# c\n\nt\tname\t-\n"), 0);
	assert_int_equal(rules("t\tname\tx = 'y'\n"), 0);
	assert_int_equal(rules("t name -\n"), BG_ERR_INVALID);          /* tabs */
	assert_int_equal(rules("t\tname\n"), BG_ERR_INVALID);           /* two fields */
	assert_int_equal(rules("t\tname\t-\textra\n"), BG_ERR_INVALID); /* four */
	assert_int_equal(rules("T\tname\t-\n"), BG_ERR_INVALID);        /* not lower case */
	assert_int_equal(rules("a.b\tname\t-\n"), BG_ERR_INVALID);      /* not a plain name */
	assert_int_equal(rules("t\tname; DROP TABLE x\t-\n"), BG_ERR_INVALID);
	assert_int_equal(rules("t\tname\t1=1; DROP TABLE x\n"), BG_ERR_INVALID);
	assert_int_equal(rules("t\t\t-\n"), BG_ERR_INVALID);            /* empty WHAT */
	assert_int_equal(dbfacts_rules_check("t\tn\t-\0", 7, &n, &e), BG_ERR_INVALID);
}

static void
records(void **state)
{
	bundle bd;
	buf b;
	bg_error e;

	(void)state;
	buf_init(&b, 0);
	assert_int_equal(bundle_begin(&b, 1764633600, "base", NULL), 0);
	assert_int_equal(bundle_add(&b, BK_DB, "public.t.c", "=text default -"), 0);
	assert_int_equal(bundle_add(&b, BK_DBMIG, "schema_migrations:1", "applied"), 0);
	assert_int_equal(bundle_add(&b, BK_DBROWS, "public.t", "~1200000"), 0);
	assert_int_equal(bundle_add(&b, BK_DBROWS, "public.u", "12"), 0);
	assert_int_equal(bundle_finish(&b), 0);
	assert_int_equal(bundle_parse(b.data, b.len, &bd, &e), 0);
	assert_int_equal(bd.n, 4);
	bundle_release(&bd);
	buf_release(&b);
	/* a row count is digits (~ for an estimate), a migration "applied" */
	buf_init(&b, 0);
	assert_int_equal(bundle_begin(&b, 1764633600, "base", NULL), 0);
	assert_int_equal(bundle_add(&b, BK_DBROWS, "public.t", "12 rows"), 0);
	assert_int_equal(bundle_finish(&b), 0);
	assert_int_equal(bundle_parse(b.data, b.len, &bd, &e), BG_ERR_INVALID);
	buf_release(&b);
	buf_init(&b, 0);
	assert_int_equal(bundle_begin(&b, 1764633600, "base", NULL), 0);
	assert_int_equal(bundle_add(&b, BK_DBMIG, "m:1", "secret"), 0);
	assert_int_equal(bundle_finish(&b), 0);
	assert_int_equal(bundle_parse(b.data, b.len, &bd, &e), BG_ERR_INVALID);
	buf_release(&b);
	buf_init(&b, 0);
	assert_int_equal(bundle_begin(&b, 1764633600, "base", NULL), 0);
	assert_int_equal(bundle_add(&b, BK_DB, "public.t", "table"), 0);
	assert_int_equal(bundle_finish(&b), 0);
	assert_int_equal(bundle_parse(b.data, b.len, &bd, &e), BG_ERR_INVALID);
	buf_release(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(literals),
		cmocka_unit_test(migration_rules),
		cmocka_unit_test(records),
	};

	return cmocka_run_group_tests(tests, unit_setup_sodium, NULL);
}
