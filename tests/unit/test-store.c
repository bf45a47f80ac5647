/* test-store.c - the store's single-number queries (store_count, store_int_text). */
#include "unit.h"
#include "store.h"

#include <unistd.h>

typedef struct fx {
	char dir[64];
	char path[96];
	store *s;
} fx;

static int
setup(void **state)
{
	fx *f = calloc(1, sizeof(*f));
	bg_error e;

	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/bg-unit-store.XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/store.db", f->dir);
	if (store_open(f->path, 1, &f->s, &e) != 0)
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	fx *f = *state;
	char p[128];

	store_close(f->s);
	unlink(f->path);
	snprintf(p, sizeof(p), "%s-wal", f->path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", f->path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-journal", f->path);
	unlink(p);
	rmdir(f->dir);
	free(f);
	return 0;
}

static const char *serial_sql =
    "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'serial:' || ?1";

/* a missing row is 0, not an error; a present one is its number */
static void
int_text_row(void **state)
{
	fx *f = *state;
	int64_t n = -1;
	bg_error e;

	assert_int_equal(store_int_text(f->s, serial_sql, "p1", &n, &e), 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_meta_set(f->s, "serial:p1", "5000000000", &e), 0);
	assert_int_equal(store_int_text(f->s, serial_sql, "p1", &n, &e), 0);
	assert_int_equal(n, 5000000000LL);
	assert_int_equal(store_int_text(f->s, serial_sql, "p2", &n, &e), 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_int_text(f->s, "SELECT count(*) FROM meta WHERE key LIKE ?1 || '%'",
	    "serial:", &n, &e), 0);
	assert_int_equal(n, 1);
}

/* a query that fails is an error with *n cleared, never a silent 0 */
static void
int_text_fails(void **state)
{
	fx *f = *state;
	int64_t n = 7;
	bg_error e;

	assert_int_equal(store_int_text(f->s, "SELECT value FROM no_such_table WHERE key = ?1",
	    "x", &n, &e), BG_ERR_STORE);
	assert_int_equal(n, 0);
	n = 7;
	/* a runtime error (not one at prepare) is caught at the step */
	assert_int_equal(store_int_text(f->s, "SELECT abs(-9223372036854775807 - 1) || ?1", "x",
	    &n, &e), BG_ERR_STORE);
	assert_int_equal(n, 0);
}

/* store_count: the count with an integer parameter; no row is an error */
static void
count_int(void **state)
{
	fx *f = *state;
	int n = -1;
	bg_error e;

	assert_int_equal(store_count(f->s, "SELECT count(*) FROM meta WHERE length(key) > ?1", 100,
	    &n, &e), 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_count(f->s, "SELECT 1 FROM meta WHERE ?1 = 0 AND 0", 0, &n, &e),
	    BG_ERR_STORE);
	assert_int_equal(n, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(int_text_row, setup, teardown),
		cmocka_unit_test_setup_teardown(int_text_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(count_int, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
