/* test-diff.c - unified diff parsing and exact application. */
#include "unit.h"
#include "diff.h"

static const char *
apply1(const char *patch, const char *old, buf *out, bg_error *e)
{
	diff d;
	int r;

	if (diff_parse(patch, strlen(patch), &d, e) != 0)
		return NULL;
	r = diff_apply(&d, &d.f[0], old, strlen(old), out, e);
	diff_release(&d);
	return r == 0 ? buf_cstr(out) : NULL;
}

static void
applies(void **state)
{
	buf o;
	bg_error e;

	buf_init(&o, 0);
	assert_string_equal(apply1("--- a/x\n+++ b/x\n@@ -2,2 +2,2 @@\n b\n-c\n+C\n",
	    "a\nb\nc\nd\n", &o, &e), "a\nb\nC\nd\n");
	/* git style header, two hunks, an added line at the end */
	assert_string_equal(apply1("diff --git a/x b/x\nindex 1..2 100644\n--- a/x\n+++ b/x\n"
	    "@@ -1 +1 @@\n-a\n+A\n@@ -4 +4,2 @@\n d\n+e\n", "a\nb\nc\nd\n", &o, &e), "A\nb\nc\nd\ne\n");
	/* a new file */
	assert_string_equal(apply1("--- /dev/null\n+++ b/new\n@@ -0,0 +1,2 @@\n+one\n+two\n", "",
	    &o, &e), "one\ntwo\n");
	/* no newline at the end, either side */
	assert_string_equal(apply1("--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n\\ No newline at end of file\n"
	    "+b\n", "a", &o, &e), "b\n");
	assert_string_equal(apply1("--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n\\ No newline at end of "
	    "file\n", "a\n", &o, &e), "b");
	buf_release(&o);
}

static void
refuses(void **state)
{
	buf o;
	bg_error e;
	diff d;

	buf_init(&o, 0);
	/* context mismatch */
	assert_null(apply1("--- a/x\n+++ b/x\n@@ -1 +1 @@\n-z\n+Z\n", "a\n", &o, &e));
	assert_non_null(strstr(e.msg, "does not match"));
	/* creating a file that exists */
	assert_null(apply1("--- /dev/null\n+++ b/x\n@@ -0,0 +1 @@\n+a\n", "old\n", &o, &e));
	/* malformed */
	static const char *const bad[] = {
		"--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n",               /* short hunk */
		"--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n+c\n",       /* long hunk */
		"--- a/x\n+++ b/x\n@@ -x +1 @@\n",                    /* bad header */
		"--- a/x\n+++ b/x\n@@ -3 +3 @@\n-a\n+b\n@@ -1 +1 @@\n-a\n+b\n", /* out of order */
		"hello\n",                                            /* not a diff */
		"--- a/x\n@@ -1 +1 @@\n-a\n+b\n",                     /* no +++ */
		"--- /dev/null\n+++ /dev/null\n@@ -0,0 +0,0 @@\n",     /* nothing */
		NULL
	};
	for (int i = 0; bad[i]; i++)
		if (diff_parse(bad[i], strlen(bad[i]), &d, &e) == 0) {
			diff_release(&d);
			fail_msg("accepted bad diff %d", i);
		}
	assert_int_equal(diff_parse("a\0b", 3, &d, &e), BG_ERR_INVALID);
	buf_release(&o);
}

static void
paths(void **state)
{
	char *p;

	assert_non_null(p = diff_path("a/app/x.php", 1));
	assert_string_equal(p, "app/x.php");
	free(p);
	assert_null(diff_path("a/../etc/passwd", 1));
	assert_null(diff_path("a//x", 1));
	assert_null(diff_path("a/./x", 1));
	assert_null(diff_path("/etc/passwd", 0));
	assert_null(diff_path("x", 1));
	assert_null(diff_path("a/x/", 1));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(applies),
		cmocka_unit_test(refuses),
		cmocka_unit_test(paths),
	};

	return cmocka_run_group_tests_name("diff", tests, NULL, NULL);
}
