/* test-proc.c - running a helper: output captured, exit status, and the
 * time limit collect relies on (a program that hangs is killed). */
#include "unit.h"
#include "proc.h"
#include "utc.h"

static void
runs_and_captures(void **state)
{
	char *argv[] = { "/bin/echo", "hello", NULL };
	buf out;
	int st;

	buf_init(&out, 4096);
	assert_int_equal(proc_run_timeout(argv, NULL, 0, &out, &st, 5000, NULL), 0);
	assert_int_equal(st, 0);
	assert_string_equal(out.data, "hello\n");
	buf_release(&out);
}

static void
timeout_kills(void **state)
{
	char *argv[] = { "/bin/sleep", "10", NULL };
	buf out;
	int st;
	double t0 = utc_mono();
	bg_error e;

	buf_init(&out, 4096);
	assert_int_equal(proc_run_timeout(argv, NULL, 0, &out, &st, 200, &e), BG_ERR_EXEC);
	assert_true(utc_mono() - t0 < 3.0);
	assert_non_null(strstr(e.msg, "did not finish within 200 ms"));
	assert_int_equal(st, 128 + 9);
	buf_release(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(runs_and_captures),
		cmocka_unit_test(timeout_kills),
	};

	return cmocka_run_group_tests_name("proc", tests, NULL, NULL);
}
