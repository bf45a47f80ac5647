/* test-pgrole.c - the PostgreSQL conninfo check host setup and the
 * runbook configuration make before a conninfo is written or used
 * (pgrole_conninfo_check): libpq's own parse, keyword by keyword, so a
 * name that merely contains "password" or "service" is taken and every
 * spelling of a password libpq accepts is refused.  Needs libpq5 (loaded
 * on demand, as in production). */
#include "unit.h"
#include "pgrole.h"

static void
taken(void **state)
{
	static const char *const ok[] = {
		"dbname=customer_service",
		"host=/run/postgresql user=password_reset dbname=passfile_audit",
		"dbname='service password passfile'",
		"application_name=service",
		"postgresql:///customer_service?host=/run/x",
		"postgresql://%2Frun%2Fpostgresql/shop",
		"",
	};
	bg_error e;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		bg_error_clear(&e);
		if (pgrole_conninfo_check(ok[i], &e) != 0)
			fail_msg("'%s' refused: %s", ok[i], e.msg);
	}
}

static void
secrets_refused(void **state)
{
	static const struct { const char *ci, *kw; } no[] = {
		{ "password=x", "password" },
		{ "dbname=shop password=''", "password" },
		{ "dbname=shop  password =  x", "password" },
		{ "passfile=/x", "passfile" },
		{ "service=x", "service" },
		{ "postgresql:///shop?password=x", "password" },
		{ "postgresql://admin:secret@/shop", "password" },
		{ "postgresql:///shop?passfile=/root/.pgpass", "passfile" },
		{ "postgres:///shop?service=shop", "service" },
	};
	char want[64];
	bg_error e;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		bg_error_clear(&e);
		if (pgrole_conninfo_check(no[i].ci, &e) != BG_ERR_POLICY)
			fail_msg("'%s' not refused: %s", no[i].ci, e.msg);
		snprintf(want, sizeof(want), "names a %s:", no[i].kw);
		if (strstr(e.msg, want) == NULL)
			fail_msg("'%s': '%s' lacks '%s'", no[i].ci, e.msg, want);
	}
}

static void
unparseable_refused(void **state)
{
	static const char *const bad[] = {
		"dbname='shop",
		"dbname",
		"pass word=x",
		"PASSWORD=x",
		"nosuchkeyword=1",
		"postgresql://[::1/shop",
	};
	bg_error e;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		bg_error_clear(&e);
		if (pgrole_conninfo_check(bad[i], &e) != BG_ERR_INVALID)
			fail_msg("'%s' not refused as invalid: %s", bad[i], e.msg);
		/* libpq's message, on one line */
		assert_non_null(strstr(e.msg, "postgres: conninfo: "));
		assert_null(strchr(e.msg, '\n'));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(taken),
		cmocka_unit_test(secrets_refused),
		cmocka_unit_test(unparseable_refused),
	};

	return cmocka_run_group_tests(tests, unit_setup_sodium, NULL);
}
