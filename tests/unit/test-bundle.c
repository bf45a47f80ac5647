/* test-bundle.c - the bundle format, the per-incident key, what collect
 * calls harmless, and envdiff's comparison and ignore rules. */
#include "unit.h"
#include "bundle.h"
#include "collect.h"
#include "envdiff.h"

static void
mkkey(bundle_key *k, unsigned char fill)
{
	unsigned char raw[BUNDLE_KEYBYTES];

	memset(raw, fill, sizeof(raw));
	bundle_key_from(k, raw);
}

static void
make(buf *b, const bundle_key *k, const char *cfgval)
{
	buf_init(b, 0);
	assert_int_equal(bundle_begin(b, 1764633600, "web-php", k), 0);
	assert_int_equal(bundle_add(b, BK_CFG, "@app/.env:A B", cfgval), 0);
	assert_int_equal(bundle_add(b, BK_PKG, "nginx", "1.22"), 0);
	assert_int_equal(bundle_add(b, BK_LOG, "/var/log/x:1", ""), 0);
	assert_int_equal(bundle_finish(b), 0);
}

static void
round_trip(void **state)
{
	bundle_key k;
	bundle bd;
	buf b;
	bg_error e;

	mkkey(&k, 1);
	make(&b, &k, "=x y%");
	assert_non_null(strstr(b.data, "cfg @app/.env:A%20B =x%20y%25\n"));
	assert_non_null(strstr(b.data, "log /var/log/x:1 %\n"));
	assert_int_equal(bundle_parse(b.data, b.len, &bd, &e), 0);
	assert_int_equal(bd.n, 3);
	assert_string_equal(bd.key_id, k.id);
	assert_string_equal(bd.profile, "web-php");
	assert_int_equal(bd.r[0].kind, BK_PKG); /* sorted by kind */
	assert_string_equal(bd.r[1].key, "@app/.env:A B");
	assert_string_equal(bd.r[1].value, "=x y%");
	assert_string_equal(bd.r[2].value, "");
	bundle_release(&bd);
	buf_release(&b);
}

static int
parses(const char *s)
{
	bundle bd;
	bg_error e;
	int r = bundle_parse(s, strlen(s), &bd, &e);

	if (r == 0)
		bundle_release(&bd);
	return r;
}

/* text + a correct end line */
static char *
with_end(const char *body)
{
	buf b;

	buf_init(&b, 0);
	buf_puts(&b, body);
	bundle_finish(&b);
	return buf_detach(&b, NULL);
}

static void
strict(void **state)
{
	static const char head[] = BUNDLE_MAGIC "\ncreated 2026-12-02T00:00:00Z -\n"
	    "profile p -\nkey-id none -\n";
	static const char *const bad[] = {
		"pkg a%41 1\n",         /* a plain byte escaped */
		"pkg a%4 1\n",          /* short escape */
		"pkg a%00 1\n",         /* NUL */
		"pkg a%0a 1\n",         /* lowercase hex */
		"pkg a 1 2\n",          /* four fields */
		"pkg a\n",              /* two */
		"pkg  a 1\n",           /* empty field */
		"nope a 1\n",           /* unknown kind */
		"cfg k v\n",            /* value without =, h: or - */
		"cfg k h:12\n",         /* short hash */
		"svc x maybe\n",        /* bad state */
		"pkg a 1\npkg a 2\n",   /* duplicate */
		"pkg % 1\n",            /* empty key */
	};
	char buf_[512];
	size_t i;
	char *ok;

	ok = with_end(head);
	assert_int_equal(parses(ok), 0);
	free(ok);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *t;

		snprintf(buf_, sizeof(buf_), "%s%s", head, bad[i]);
		t = with_end(buf_);
		if (parses(t) == 0)
			fail_msg("accepted: %s", bad[i]);
		free(t);
	}
	/* the end line: missing, wrong hash, text after it */
	assert_int_equal(parses(head), BG_ERR_INVALID);
	snprintf(buf_, sizeof(buf_), "%send - %064d\n", head, 0);
	assert_int_equal(parses(buf_), BG_ERR_INVALID);
	ok = with_end(head);
	snprintf(buf_, sizeof(buf_), "%spkg a 1\n", ok);
	assert_int_equal(parses(buf_), BG_ERR_INVALID);
	free(ok);
	assert_int_equal(parses("breakglass-bundle v2\n"), BG_ERR_INVALID);
}

static void
keyed_hash(void **state)
{
	bundle_key a, b;
	char h1[BUNDLE_HASHLEN + 1], h2[BUNDLE_HASHLEN + 1], h3[BUNDLE_HASHLEN + 1];

	mkkey(&a, 1);
	mkkey(&b, 2);
	assert_string_not_equal(a.id, b.id);
	bundle_key_hash(&a, "v", 1, h1);
	bundle_key_hash(&a, "v", 1, h2);
	assert_string_equal(h1, h2);
	bundle_key_hash(&a, "w", 1, h2);
	assert_string_not_equal(h1, h2);
	bundle_key_hash(&b, "v", 1, h3);
	assert_string_not_equal(h1, h3);
	assert_true(bundle_value_ok(h1));
	bundle_key_hash(NULL, "v", 1, h3);
	assert_string_equal(h3, "-");
	bundle_key_wipe(&a);
	assert_int_equal(a.k[0], 0);
}

static void
harmless(void **state)
{
	static const char *const yes[] = { "", "true", "Off", "0", "-3", "123456789", "1.5",
		"128M", "2GB", "30s", "5min", "100ms", "7d", NULL };
	static const char *const no[] = { "1234567890", "abc", "redis", "12ab", "1.1234567",
		"M", "3 s", "0x1f", "h:00", "1e9", NULL };
	size_t i;

	for (i = 0; yes[i]; i++)
		if (!collect_value_harmless(yes[i]))
			fail_msg("not harmless: '%s'", yes[i]);
	for (i = 0; no[i]; i++)
		if (collect_value_harmless(no[i]))
			fail_msg("harmless: '%s'", no[i]);
	assert_true(collect_key_secret("@app/.env:DB_PASSWORD"));
	assert_true(collect_key_secret("php.ini:mysqli.default_pw"));
	assert_true(collect_key_secret("AUTH_SALT"));
	assert_true(collect_key_secret("api.Token"));
	assert_false(collect_key_secret("@app/.env:CACHE_DRIVER"));
}

static void
ignore_rules(void **state)
{
	envdiff_ignore ig;
	bg_error e;
	static const char ok[] = "# c\n\nconfig @app/.env:APP_*\ncode @app/storage/*\n* x\n";

	assert_int_equal(envdiff_ignore_parse(ok, strlen(ok), &ig, &e), 0);
	assert_int_equal(ig.n, 3);
	assert_true(envdiff_ignored(&ig, 2, "@app/.env:APP_URL"));
	assert_false(envdiff_ignored(&ig, 3, "@app/.env:APP_URL"));
	assert_true(envdiff_ignored(&ig, 4, "@app/storage/a/b"));
	assert_true(envdiff_ignored(&ig, 7, "x"));
	assert_false(envdiff_ignored(&ig, 2, "@app/.env:DB"));
	envdiff_ignore_release(&ig);
	assert_int_equal(envdiff_ignore_parse("config a\nconfig a\n", 18, &ig, &e), BG_ERR_INVALID);
	assert_non_null(strstr(e.msg, "line 2"));
	assert_int_equal(envdiff_ignore_parse("cfg a\n", 6, &ig, &e), BG_ERR_INVALID);
	assert_int_equal(envdiff_ignore_parse("config\n", 7, &ig, &e), BG_ERR_INVALID);
	assert_int_equal(envdiff_ignore_parse("config a \n", 10, &ig, &e), BG_ERR_INVALID);
}

static void
compare(void **state)
{
	bundle_key k1, k2;
	buf a, b, c;
	bundle ba, bb, bc;
	envdiff_result res;
	bg_error e;

	mkkey(&k1, 1);
	mkkey(&k2, 2);
	make(&a, &k1, "=redis");
	make(&b, &k1, "=file");
	make(&c, &k2, "=redis");
	assert_int_equal(bundle_parse(a.data, a.len, &ba, &e), 0);
	assert_int_equal(bundle_parse(b.data, b.len, &bb, &e), 0);
	assert_int_equal(bundle_parse(c.data, c.len, &bc, &e), 0);
	assert_int_equal(envdiff_run(&ba, &bb, NULL, &res, &e), 0);
	assert_int_equal(res.n, 1); /* logs are not compared */
	assert_int_equal(res.it[0].section, 2);
	assert_int_equal(res.it[0].change, ENVDIFF_CHANGED);
	assert_string_equal(res.it[0].a, "=redis");
	envdiff_result_release(&res);
	assert_int_equal(envdiff_run(&ba, &ba, NULL, &res, &e), 0);
	assert_int_equal(res.n, 0);
	envdiff_result_release(&res);
	assert_int_equal(envdiff_run(&ba, &bc, NULL, &res, &e), BG_ERR_POLICY);
	assert_non_null(strstr(e.msg, "different keys"));
	bc.key_id[0] = '\0';
	assert_int_equal(envdiff_run(&ba, &bc, NULL, &res, &e), BG_ERR_POLICY);
	bundle_release(&ba);
	bundle_release(&bb);
	bundle_release(&bc);
	buf_release(&a);
	buf_release(&b);
	buf_release(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip),
		cmocka_unit_test(strict),
		cmocka_unit_test(keyed_hash),
		cmocka_unit_test(harmless),
		cmocka_unit_test(ignore_rules),
		cmocka_unit_test(compare),
	};

	return cmocka_run_group_tests_name("bundle", tests, unit_setup_sodium, NULL);
}
