/*
 * test-snapshot.c - the snapshot manifest: strict parsing, round trips,
 * and a real snapshot of a small tree (incremental reuse, symlinks never
 * followed).
 */
#include "unit.h"
#include "snapshot.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define HEAD "breakglass-snapshot v1\nid: T-1-G-2-00001-20261121T000000Z-abcdef\n" \
	"created: 2026-11-21T00:00:00Z\nticket: 1\ngrant: 2\nroot: /srv/app\n---\n"
#define HASH "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8"

static int
parses(const char *text)
{
	snapshot s;
	bg_error e;
	int r = snapshot_parse(text, strlen(text), &s, &e);

	if (r == 0)
		snapshot_release(&s);
	return r == 0;
}

static void
parses_deltas(void **state)
{
	snapshot s;
	bg_error e;
	buf out;
	const char *text = "breakglass-snapshot v1\nid: T-1-G-2-00002-20261121T000000Z-abcdef\n"
		"created: 2026-11-21T00:00:00Z\nticket: 1\ngrant: 2\n"
		"base: T-1-G-2-00001-20261121T000000Z-abcdef\nroot: /srv/app\n---\n"
		"0 f 644 1000 1000 5 1 1 1 3 2 " HASH " a\n"
		"0 x 0 0 0 0 0 0 0 0 0 - b\n";

	assert_int_equal(snapshot_parse(text, strlen(text), &s, &e), 0);
	assert_string_equal(s.base, "T-1-G-2-00001-20261121T000000Z-abcdef");
	assert_int_equal(s.n, 2);
	buf_init(&out, 0);
	assert_int_equal(snapshot_format(&s, &out), 0);
	assert_string_equal(out.data, text);
	buf_release(&out);
	snapshot_release(&s);
	/* x lines only in a delta; a delta is not its own base */
	assert_false(parses(HEAD "0 x 0 0 0 0 0 0 0 0 0 - b\n"));
	assert_false(parses("breakglass-snapshot v1\nid: T-1-G-2-00002-20261121T000000Z-abcdef\n"
		"created: 2026-11-21T00:00:00Z\nticket: 1\ngrant: 2\n"
		"base: T-1-G-2-00002-20261121T000000Z-abcdef\nroot: /srv/app\n---\n"));
}

static void
accepts(void **state)
{
	snapshot s;
	bg_error e;
	buf out;
	const char *text = HEAD
		"0 d 755 0 0 4096 -5 0 1 2 3 - .\n"
		"0 f 644 1000 1000 5 1 1 1 3 2 " HASH " a..b\n"
		"0 f 0 0 0 0 1 1 1 3 2 " HASH " dir/%0Aname%25\n"
		"0 l 777 0 0 0 1 1 1 4 1 - link ../outside\n"
		"0 l 777 0 0 0 1 1 1 5 1 - self .\n";

	assert_int_equal(snapshot_parse(text, strlen(text), &s, &e), 0);
	assert_int_equal(s.n, 5);
	assert_int_equal(s.ticket, 1);
	assert_int_equal(s.grant, 2);
	assert_string_equal(s.roots[0], "/srv/app");
	assert_int_equal(s.e[0].mtime_ns, -5);
	assert_string_equal(s.e[1].path, "a..b"); /* a name with dots is still a name */
	assert_string_equal(s.e[2].path, "dir/\nname%");
	assert_string_equal(s.e[3].target, "../outside");
	assert_string_equal(s.e[4].target, "."); /* a link to its own directory */
	assert_non_null(snapshot_find(&s, 0, "dir/\nname%"));
	assert_null(snapshot_find(&s, 0, "dir"));
	buf_init(&out, 0);
	assert_int_equal(snapshot_format(&s, &out), 0);
	assert_string_equal(out.data, text);
	buf_release(&out);
	snapshot_release(&s);
}

static void
refuses(void **state)
{
	static const char *const lines[] = {
		"0 f 644 0 0 5 1 1 1 3 2 " HASH " ..\n",             /* escapes the root */
		"0 f 644 0 0 5 1 1 1 3 2 " HASH " a/../../b\n",
		"0 f 644 0 0 5 1 1 1 3 2 " HASH " a//b\n",
		"0 f 644 0 0 5 1 1 1 3 2 " HASH " %2Fetc\n",         /* absolute */
		"0 f 644 0 0 5 1 1 1 3 2 " HASH " a%00b\n",          /* NUL */
		"0 f 644 0 0 +5 1 1 1 3 2 " HASH " a\n",             /* signs, padding, junk */
		"0 f 0644 0 0 5 1 1 1 3 2 " HASH " a\n",
		"0 f 644 0 0 5x 1 1 1 3 2 " HASH " a\n",
		"0 f 644 0 0 -5 1 1 1 3 2 " HASH " a\n",
		"0 f 10000 0 0 5 1 1 1 3 2 " HASH " a\n",             /* mode over 07777 */
		"0 f 644 4294967295 0 5 1 1 1 3 2 " HASH " a\n",     /* uid -1 */
		"0 f 644 0 0 5 1 1 99999999999999999999 3 2 " HASH " a\n",
		"0 f 644 0 0 5 1 1 18446744073709551616 3 2 " HASH " a\n", /* 2^64 */
		"0 f 644 0 0 9223372036854775808 1 1 1 3 2 " HASH " a\n",  /* size 2^63 */
		"0 f 644 0 0 5 -9223372036854775808 1 1 3 2 " HASH " a\n",
		"1 f 644 0 0 5 1 1 1 3 2 " HASH " a\n",              /* no such root */
		"0 f 644 0 0 5 1 1 1 3 2 - a\n",                     /* file without hash */
		"0 d 755 0 0 5 1 1 1 3 2 " HASH " a\n",              /* dir with hash */
		"0 l 777 0 0 0 1 1 1 4 1 - link\n",                  /* link without target */
		"0 f 644 0 0 5 1 1 1 3 2 " HASH " a extra\n",
		"0 x 644 0 0 5 1 1 1 3 2 " HASH " a\n",
		"0 f 644 0 0 5 1 1 1 3 2 " HASH "  a\n",            /* one space, exactly */
		"0 f 644 0 0 5 1 1 1 3 2 " HASH " a \n",
		" 0 f 644 0 0 5 1 1 1 3 2 " HASH " a\n",
		"0 f 644  0 0 5 1 1 1 3 2 " HASH " a\n",
		"0 f 644 0 0 5 1 1 1 3 2 " HASH " a",                /* no final newline */
		"0 f 644 0 0 5 1 1 1 3 2 " HASH " b\n0 f 644 0 0 5 1 1 1 3 2 " HASH " a\n", /* order */
		"0 f 644 0 0 5 1 1 1 3 2 " HASH " a\n0 f 644 0 0 5 1 1 1 3 2 " HASH " a\n", /* dup */
	};
	char text[4096];
	size_t i;

	snprintf(text, sizeof(text), "%s0 f 644 0 0 5 1 1 1 3 2 %s a\n", HEAD, HASH);
	assert_true(parses(text));
	/* the largest values still fit */
	snprintf(text, sizeof(text), "%s0 f 7777 4294967294 4294967294 9223372036854775807 "
	    "-9223372036854775807 9223372036854775807 18446744073709551615 18446744073709551615 "
	    "18446744073709551615 %s a\n", HEAD, HASH);
	assert_true(parses(text));
	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		snprintf(text, sizeof(text), "%s%s", HEAD, lines[i]);
		if (parses(text))
			fail_msg("accepted: %s", lines[i]);
	}
	assert_false(parses("breakglass-snapshot v1\nid: ../x\ncreated: 2026-11-21T00:00:00Z\n"
	    "ticket: 1\ngrant: 2\n---\n"));
	assert_false(parses("breakglass-snapshot v1\nid: T-1\ncreated: 2026-11-21T00:00:00Z\n"
	    "ticket: 01\ngrant: 2\n---\n"));
	assert_false(parses("breakglass-snapshot v1\nid: T-1\ncreated: 2026-11-21T00:00:00Z\n"
	    "ticket: 1\ngrant: 2\nroot: /srv/../etc\n---\n"));
	assert_false(parses("breakglass-snapshot v2\nid: T-1\ncreated: 2026-11-21T00:00:00Z\n"
	    "ticket: 1\ngrant: 2\n---\n"));
}

/*
 * A manifest over a megabyte is parsed in two halves on two threads: the
 * same result as one, and errors found in either half or across the cut,
 * with the right line number.
 */
static void
parses_large_in_halves(void **state)
{
	const size_t n = 24000; /* ~2.4 MB of same-length lines */
	buf t, out;
	snapshot s;
	bg_error e;
	size_t i, head, ll, mid, cut, cutline;
	char *bad;

	buf_init(&t, 64u * 1024 * 1024);
	assert_int_equal(buf_puts(&t, HEAD), 0);
	head = t.len;
	for (i = 0; i < n; i++)
		assert_int_equal(buf_printf(&t, "0 f 644 0 0 5 1 1 1 %zu 1 %s d%03zu/f%06zu\n",
		    100000 + i, HASH, i / 100, i), 0);
	ll = (t.len - head) / n;
	assert_int_equal(snapshot_parse(t.data, t.len, &s, &e), 0);
	assert_int_equal(s.n, n);
	assert_string_equal(s.e[n - 1].path, "d239/f023999");
	buf_init(&out, 64u * 1024 * 1024);
	assert_int_equal(snapshot_format(&s, &out), 0);
	assert_int_equal(out.len, t.len);
	assert_memory_equal(out.data, t.data, t.len);
	buf_release(&out);
	snapshot_release(&s);

	/* where parse_entries cuts: the line after the middle of the entries */
	mid = head + (t.len - head) / 2;
	cut = head + ((mid - head) / ll + 1) * ll;
	cutline = 7 + (cut - head) / ll; /* as the parser counts */
	bad = malloc(t.len);
	assert_non_null(bad);

	/* the line before the cut repeated after it: a duplicate across it */
	memcpy(bad, t.data, t.len);
	memcpy(bad + cut, bad + cut - ll, ll);
	assert_int_equal(snapshot_parse(bad, t.len, &s, &e), BG_ERR_CORRUPT);
	assert_non_null(strstr(e.msg, "malformed"));
	{
		char want[64];

		snprintf(want, sizeof(want), "(line %zu)", cutline);
		if (strstr(e.msg, want) == NULL)
			fail_msg("'%s' lacks '%s'", e.msg, want);
	}
	/* a bad number late in the second half, and early in the first */
	memcpy(bad, t.data, t.len);
	bad[head + (n - 3) * ll + 2] = 'x';
	assert_int_equal(snapshot_parse(bad, t.len, &s, &e), BG_ERR_CORRUPT);
	{
		char want[64];

		snprintf(want, sizeof(want), "(line %zu)", (size_t)7 + n - 3);
		if (strstr(e.msg, want) == NULL)
			fail_msg("'%s' lacks '%s'", e.msg, want);
	}
	memcpy(bad, t.data, t.len);
	bad[head + 10 * ll + 2] = 'x';
	assert_int_equal(snapshot_parse(bad, t.len, &s, &e), BG_ERR_CORRUPT);
	assert_non_null(strstr(e.msg, "(line 17)"));
	free(bad);
	buf_release(&t);
}

/* rm -rf dir (a test's scratch directory) */
static void
remove_tree(char *dir)
{
	char *const argv[] = { "rm", "-rf", dir, NULL };
	pid_t pid = fork();

	if (pid == 0) {
		execv("/bin/rm", argv);
		_exit(127);
	}
	waitpid(pid, NULL, 0);
}

static void
put(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static void
takes(void **state)
{
	char tmpl[] = "/tmp/bg-unit-snap.XXXXXX", root[256], store[256], p[300];
	const char *roots[1];
	snapshot a, b, c;
	snap_stats st;
	bg_error e;
	const snap_entry *x;

	assert_non_null(mkdtemp(tmpl));
	snprintf(root, sizeof(root), "%s/root", tmpl);
	snprintf(store, sizeof(store), "%s/store", tmpl);
	assert_int_equal(mkdir(root, 0755), 0);
	snprintf(p, sizeof(p), "%s/one", root);
	put(p, "one\n");
	snprintf(p, sizeof(p), "%s/sub", root);
	assert_int_equal(mkdir(p, 0750), 0);
	snprintf(p, sizeof(p), "%s/sub/two", root);
	put(p, "two\n");
	snprintf(p, sizeof(p), "%s/passwd", root);
	assert_int_equal(symlink("/etc/passwd", p), 0);
	snprintf(p, sizeof(p), "%s/self", root);
	assert_int_equal(symlink(".", p), 0);
	roots[0] = root;

	assert_int_equal(snapshot_take(store, roots, 1, NULL, 1, 2, 1795000000, NULL, NULL, &a, &st,
	    &e), 0);
	assert_int_equal(st.files, 2);
	assert_int_equal(st.dirs, 1); /* below the root */
	assert_int_equal(st.links, 2);
	assert_int_equal(st.reused, 0);
	x = snapshot_find(&a, 0, "passwd");
	assert_non_null(x);
	assert_int_equal(x->type, 'l');
	assert_string_equal(x->target, "/etc/passwd"); /* recorded, never followed */
	assert_string_equal(snapshot_find(&a, 0, "self")->target, ".");

	/* unchanged files cost a stat: reused from the previous manifest */
	snprintf(p, sizeof(p), "%s/sub/two", root);
	put(p, "two, changed\n");
	assert_int_equal(snapshot_take(store, roots, 1, &a, 1, 2, 1795000001, NULL, NULL, &b, &st,
	    &e), 0);
	assert_int_equal(st.reused, 1);
	assert_int_equal(st.copied, strlen("two, changed\n"));
	assert_string_not_equal(snapshot_find(&a, 0, "sub/two")->hash,
	    snapshot_find(&b, 0, "sub/two")->hash);
	assert_string_equal(snapshot_find(&a, 0, "one")->hash, snapshot_find(&b, 0, "one")->hash);

	/* what was stored loads back identically */
	assert_int_equal(snapshot_load(store, b.id, &c, &e), 0);
	assert_int_equal(c.n, b.n);
	assert_string_equal(snapshot_find(&c, 0, "sub/two")->hash, snapshot_find(&b, 0, "sub/two")->hash);
	assert_string_equal(snapshot_find(&c, 0, "self")->target, ".");
	snapshot_release(&c);
	assert_int_not_equal(snapshot_load(store, "../x", &c, &e), 0);

	snapshot_release(&a);
	snapshot_release(&b);
	snapshot_release(&c);
	remove_tree(tmpl);
}

/* A snapshot costs what changed: a delta on the previous full manifest,
 * loaded back whole; a tree that changed a lot is stored full again. */
static void
stores_deltas(void **state)
{
	char tmpl[] = "/tmp/bg-unit-delta.XXXXXX", root[256], store[256], p[512];
	const char *roots[1];
	snapshot a, b, c, d, l;
	snap_stats st;
	bg_error e;
	struct stat sa, sb;
	int i;

	assert_non_null(mkdtemp(tmpl));
	snprintf(root, sizeof(root), "%s/root", tmpl);
	snprintf(store, sizeof(store), "%s/store", tmpl);
	assert_int_equal(mkdir(root, 0755), 0);
	for (i = 0; i < 200; i++) {
		snprintf(p, sizeof(p), "%s/file-%03d", root, i);
		put(p, "content\n");
	}
	roots[0] = root;
	assert_int_equal(snapshot_take(store, roots, 1, NULL, 1, 2, 1795000000, NULL, NULL, &a, &st,
	    &e), 0);
	assert_string_equal(a.delta_of, "");
	/* nothing changed: a header and no entry */
	assert_int_equal(snapshot_take(store, roots, 1, &a, 1, 2, 1795000001, NULL, NULL, &b, &st,
	    &e), 0);
	assert_string_equal(b.delta_of, a.id);
	snprintf(p, sizeof(p), "%s/%s.manifest", store, a.id);
	assert_int_equal(stat(p, &sa), 0);
	snprintf(p, sizeof(p), "%s/%s.manifest", store, b.id);
	assert_int_equal(stat(p, &sb), 0);
	assert_true(sb.st_size < 400);
	assert_true(sa.st_size > 200 * 50);
	/* one changed, one removed, one added: a delta on a (not on b) */
	snprintf(p, sizeof(p), "%s/file-007", root);
	put(p, "changed\n");
	snprintf(p, sizeof(p), "%s/file-008", root);
	assert_int_equal(unlink(p), 0);
	snprintf(p, sizeof(p), "%s/new", root);
	put(p, "new\n");
	assert_int_equal(snapshot_take(store, roots, 1, &b, 1, 2, 1795000002, NULL, NULL, &c, &st,
	    &e), 0);
	assert_string_equal(c.delta_of, a.id);
	assert_int_equal(snapshot_load(store, c.id, &l, &e), 0);
	assert_string_equal(l.delta_of, a.id);
	assert_string_equal(l.base, "");
	assert_int_equal(l.n, c.n);
	for (size_t k = 0; k < c.n; k++) {
		assert_string_equal(l.e[k].path, c.e[k].path);
		assert_string_equal(l.e[k].hash, c.e[k].hash);
		assert_int_equal(l.e[k].ino, c.e[k].ino);
	}
	assert_null(snapshot_find(&l, 0, "file-008"));
	assert_non_null(snapshot_find(&l, 0, "new"));
	assert_string_not_equal(snapshot_find(&l, 0, "file-007")->hash,
	    snapshot_find(&a, 0, "file-007")->hash);
	/* the base loads as itself */
	snapshot_release(&l);
	assert_int_equal(snapshot_load(store, a.id, &l, &e), 0);
	assert_int_equal(l.n, a.n);
	assert_string_equal(l.delta_of, "");
	snapshot_release(&l);
	/* most of the tree gone: stored full again */
	for (i = 0; i < 150; i++) {
		snprintf(p, sizeof(p), "%s/file-%03d", root, i);
		unlink(p);
	}
	assert_int_equal(snapshot_take(store, roots, 1, &c, 1, 2, 1795000003, NULL, NULL, &d, &st,
	    &e), 0);
	assert_string_equal(d.delta_of, "");
	/* a delta whose base is missing does not load */
	snprintf(p, sizeof(p), "%s/%s.manifest", store, a.id);
	assert_int_equal(unlink(p), 0);
	assert_int_equal(snapshot_load(store, c.id, &l, &e), BG_ERR_CORRUPT);
	snapshot_release(&a);
	snapshot_release(&b);
	snapshot_release(&c);
	snapshot_release(&d);
	remove_tree(tmpl);
}

/*
 * A tree wider and deeper than the thread count, with more new objects than
 * are fsync'd one by one (the store is then synced whole), over two roots:
 * every entry once, sorted, the same as a walk from scratch, all reused
 * the second time.
 */
static void
takes_a_wide_deep_tree(void **state)
{
	char tmpl[] = "/tmp/bg-unit-snap.XXXXXX", r1[256], r2[256], store[256], p[512], t[64];
	const char *roots[2];
	snapshot a, b, c;
	snap_stats st;
	bg_error e;
	buf fa, fc;
	size_t i, k, want_files = 0, want_dirs = 0;

	assert_non_null(mkdtemp(tmpl));
	snprintf(r1, sizeof(r1), "%s/r1", tmpl);
	snprintf(r2, sizeof(r2), "%s/r2", tmpl);
	snprintf(store, sizeof(store), "%s/store", tmpl);
	assert_int_equal(mkdir(r1, 0755), 0);
	assert_int_equal(mkdir(r2, 0755), 0);
	for (i = 0; i < 30; i++) {
		/* r1/dNN/ and a chain r1/dNN/x/y/z for some */
		snprintf(p, sizeof(p), "%s/d%02zu", r1, i);
		assert_int_equal(mkdir(p, 0755), 0);
		want_dirs++;
		for (k = 0; k < 10; k++) {
			snprintf(p, sizeof(p), "%s/d%02zu/f%zu.txt", r1, i, k);
			snprintf(t, sizeof(t), "file %zu %zu\n", i, k);
			put(p, k == 9 ? "the same in every directory\n" : t);
			want_files++;
		}
		if (i % 3 == 0) {
			snprintf(p, sizeof(p), "%s/d%02zu/x", r1, i);
			assert_int_equal(mkdir(p, 0755), 0);
			snprintf(p, sizeof(p), "%s/d%02zu/x/y", r1, i);
			assert_int_equal(mkdir(p, 0755), 0);
			snprintf(p, sizeof(p), "%s/d%02zu/x/y/deep", r1, i);
			put(p, "deep\n");
			want_dirs += 2;
			want_files++;
		}
	}
	/* names that sort around '/': "a", "a.b", "a-b" and "a/..." */
	snprintf(p, sizeof(p), "%s/a", r2);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/a/inner", r2);
	put(p, "inner\n");
	snprintf(p, sizeof(p), "%s/a.b", r2);
	put(p, "a.b\n");
	snprintf(p, sizeof(p), "%s/a-b", r2);
	put(p, "a-b\n");
	want_dirs++;
	want_files += 3;
	roots[0] = r1;
	roots[1] = r2;

	assert_int_equal(snapshot_take(store, roots, 2, NULL, 1, 2, 1795000000, NULL, NULL, &a, &st,
	    &e), 0);
	assert_int_equal(st.files, want_files);
	assert_int_equal(st.dirs, want_dirs);
	assert_int_equal(a.n, want_files + want_dirs + 2);
	for (i = 1; i < a.n; i++)
		assert_true(a.e[i - 1].root < a.e[i].root || (a.e[i - 1].root == a.e[i].root &&
		    strcmp(a.e[i - 1].path, a.e[i].path) < 0));
	assert_non_null(snapshot_find(&a, 0, "d27/x/y/deep"));
	assert_non_null(snapshot_find(&a, 1, "a/inner"));
	assert_string_equal(snapshot_find(&a, 0, "d00/f9.txt")->hash,
	    snapshot_find(&a, 0, "d29/f9.txt")->hash);

	/* all reused the second time, and the manifest is the same as a walk
	 * from scratch (only the id and time differ) */
	assert_int_equal(snapshot_take(store, roots, 2, &a, 1, 2, 1795000000, NULL, NULL, &b, &st,
	    &e), 0);
	assert_int_equal(st.reused, want_files);
	assert_int_equal(st.copied, 0);
	assert_int_equal(snapshot_load(store, b.id, &c, &e), 0);
	memcpy(c.id, a.id, sizeof(c.id));
	buf_init(&fa, 0);
	buf_init(&fc, 0);
	assert_int_equal(snapshot_format(&a, &fa), 0);
	assert_int_equal(snapshot_format(&c, &fc), 0);
	assert_string_equal(fa.data, fc.data);
	buf_release(&fa);
	buf_release(&fc);
	snapshot_release(&a);
	snapshot_release(&b);
	snapshot_release(&c);
	remove_tree(tmpl);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(accepts),
		cmocka_unit_test(parses_deltas),
		cmocka_unit_test(refuses),
		cmocka_unit_test(takes),
		cmocka_unit_test(stores_deltas),
		cmocka_unit_test(takes_a_wide_deep_tree),
		cmocka_unit_test(parses_large_in_halves),
	};

	return cmocka_run_group_tests(tests, unit_setup_sodium, NULL);
}
