/* test-utc.c - UTC instants and durations. */
#include "unit.h"
#include "err.h"
#include "utc.h"

static void
parse_and_format(void **state)
{
	int64_t t;
	char s[UTC_STRLEN];

	assert_int_equal(utc_parse("1970-01-01T00:00:00Z", &t), 0);
	assert_int_equal(t, 0);
	assert_int_equal(utc_parse("2026-11-21T02:10Z", &t), 0);
	utc_format(t, s);
	assert_string_equal(s, "2026-11-21T02:10:00Z");
	assert_int_equal(utc_parse("2024-02-29T23:59:59+00:00", &t), 0);
	utc_format(t, s);
	assert_string_equal(s, "2024-02-29T23:59:59Z");
	assert_int_equal(utc_parse("2026-11-21 02:10Z", &t), 0);
}

static void
parse_refuses(void **state)
{
	static const char *const bad[] = {
		"", "2026-11-21", "2026-11-21T02:10", "2026-11-21T02:10+01:00",
		"2026-13-01T00:00Z", "2026-02-30T00:00Z", "2025-02-29T00:00Z",
		"2026-11-21T24:00Z", "2026-11-21T02:60Z", "2026-11-21T02:10:61Z",
		"2026-11-21T02:10Zjunk", "1969-12-31T23:59Z", "２０２６-11-21T02:10Z",
		"2026-1-21T02:10Z", NULL
	};
	int64_t t;

	for (int i = 0; bad[i]; i++)
		assert_int_equal(utc_parse(bad[i], &t), BG_ERR_INVALID);
}

static void
parse_human(void **state)
{
	static const char *const bad[] = {
		"", "2026-12-02 00:58", "2026-12-02T00:58", "last night", "2026-12-02 00:58 CET",
		"2026-12-02 00:58 +1", "2026-12-02 00:58 +15:00", "2026-12-02 00:58 +01:60",
		"2026-12-02 00:58  +01:00", "2026-12-02 00:58 +01:00 ", "1970-01-01T00:30+01:00",
		"2026-02-30T00:00Z", NULL
	};
	int64_t t, want;

	(void)state;
	assert_int_equal(utc_parse("2026-12-01T23:58Z", &want), 0);
	assert_int_equal(utc_parse_human("2026-12-02 00:58 +01:00", &t), 0);
	assert_int_equal(t, want);
	assert_int_equal(utc_parse_human("2026-12-02T00:58+0100", &t), 0);
	assert_int_equal(t, want);
	assert_int_equal(utc_parse_human("2026-12-01T23:58Z", &t), 0);
	assert_int_equal(t, want);
	assert_int_equal(utc_parse_human("2026-12-01 23:58 UTC", &t), 0);
	assert_int_equal(t, want);
	assert_int_equal(utc_parse_human("2026-12-01 18:58 -05:00", &t), 0);
	assert_int_equal(t, want);
	for (int i = 0; bad[i]; i++)
		assert_int_equal(utc_parse_human(bad[i], &t), BG_ERR_INVALID);
}

static void
durations(void **state)
{
	int64_t s;
	char out[32];

	assert_int_equal(utc_parse_duration("4h", &s), 0);
	assert_int_equal(s, 14400);
	assert_int_equal(utc_parse_duration("1h30m", &s), 0);
	assert_int_equal(s, 5400);
	assert_int_equal(utc_parse_duration("2d", &s), 0);
	assert_int_equal(s, 172800);
	assert_int_equal(utc_parse_duration("30m1h", &s), BG_ERR_INVALID);
	assert_int_equal(utc_parse_duration("0h", &s), BG_ERR_INVALID);
	assert_int_equal(utc_parse_duration("4", &s), BG_ERR_INVALID);
	assert_int_equal(utc_parse_duration("-4h", &s), BG_ERR_INVALID);
	assert_int_equal(utc_parse_duration("400d", &s), BG_ERR_INVALID);
	assert_int_equal(utc_parse_duration("99999999999h", &s), BG_ERR_INVALID);
	utc_format_duration(5400, out, sizeof(out));
	assert_string_equal(out, "1h30m");
	utc_format_duration(14400, out, sizeof(out));
	assert_string_equal(out, "4h");
}

static void
test_clock_needs_testing_flag(void **state)
{
	int64_t now;

	setenv("BREAKGLASS_NOW", "2030-01-01T00:00Z", 1);
	unsetenv("BREAKGLASS_TESTING");
	now = utc_now();
	assert_true(now < 1893456000); /* real clock: not 2030 */
	setenv("BREAKGLASS_TESTING", "1", 1);
#ifdef BG_TEST_HOOKS
	assert_int_equal(utc_now(), 1893456000);
#else
	/* a release build has no clock hook at all */
	assert_true(utc_now() < 1893456000);
#endif
	unsetenv("BREAKGLASS_NOW");
	unsetenv("BREAKGLASS_TESTING");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_and_format),
		cmocka_unit_test(parse_refuses),
		cmocka_unit_test(durations),
		cmocka_unit_test(parse_human),
		cmocka_unit_test(test_clock_needs_testing_flag),
	};

	return cmocka_run_group_tests_name("utc", tests, NULL, NULL);
}
