/* test-argv.c - the command tokeniser. */
#include "unit.h"
#include "argv.h"

static void
splits(void **state)
{
	argv_list a;
	bg_error e;
	buf b;

	assert_int_equal(argv_split("/usr/bin/systemctl  restart\tphp-fpm", &a, &e), 0);
	assert_int_equal(a.n, 3);
	assert_string_equal(a.v[2], "php-fpm");
	assert_null(a.v[3]);
	argv_release(&a);
	assert_int_equal(argv_split("grep 'a b' \"c \\\"d\\\\\" ''", &a, &e), 0);
	assert_int_equal(a.n, 4);
	assert_string_equal(a.v[1], "a b");
	assert_string_equal(a.v[2], "c \"d\\");
	assert_string_equal(a.v[3], "");
	buf_init(&b, 0);
	assert_int_equal(argv_join(&a, &b), 0);
	{
		argv_list a2;

		assert_int_equal(argv_split(buf_cstr(&b), &a2, &e), 0);
		assert_true(argv_equal(&a, &a2));
		argv_release(&a2);
	}
	buf_release(&b);
	argv_release(&a);
}

static void
refuses(void **state)
{
	static const char *const bad[] = {
		"echo 'open", "echo \"open", "echo a\\ b", "echo \"\\n\"", "echo a\nb",
		"echo \x1b[2J", "echo \x7f", NULL
	};
	argv_list a;
	bg_error e;
	char big[5000];

	for (int i = 0; bad[i]; i++)
		assert_int_equal(argv_split(bad[i], &a, &e), BG_ERR_INVALID);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(argv_split(big, &a, &e), BG_ERR_TOOLARGE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(splits),
		cmocka_unit_test(refuses),
	};

	return cmocka_run_group_tests_name("argv", tests, NULL, NULL);
}
