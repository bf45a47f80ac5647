/* test-cfgfmt.c - the configuration-format parsers: keys found, values
 * unquoted, and every line they cannot read handed over whole. */
#include "unit.h"
#include "cfgfmt.h"

typedef struct got {
	char s[4096];
} got;

static int
collect_kv(void *ctx, const char *path, const char *value, size_t line, int flags)
{
	got *g = ctx;
	size_t n = strlen(g->s);

	snprintf(g->s + n, sizeof(g->s) - n, "%s%s=%s|", flags & CFG_WHOLE ? "W:" :
	    flags & CFG_RUNTIME ? "R:" : "", path, value);
	(void)line;
	return 0;
}

static const char *
parse(int fmt, const char *text, got *g, int *r)
{
	bg_error e;

	memset(g, 0, sizeof(*g));
	*r = cfg_parse(fmt, text, strlen(text), collect_kv, g, &e);
	return g->s;
}

static void
ini_and_env(void **state)
{
	got g;
	int r;

	assert_string_equal(parse(CFG_INI, "; c\na = 1\n[S]\nb = \"x y\"\nc='q'\nbad line\n"
	    "d = \"open\n", &g, &r), "a=1|S.b=x y|S.c=q|W:#6=bad line|W:#7=d = \"open|");
	assert_int_equal(r, 0);
	assert_string_equal(parse(CFG_ENV, "export A=1\nB=\"two words\"\n# c\n"
	    "1X=y\nC=a\"b\"c\nnot one\n", &g, &r), "A=1|B=two words|W:#4=1X=y|"
	    "C=a\"b\"c|W:#6=not one|");
}

static void
json(void **state)
{
	got g;
	int r;

	assert_string_equal(parse(CFG_JSON, "{\"a\":{\"b\":[1,\"x\\u00e9\",true,null]},\"c\":\"d\"}",
	    &g, &r), "a.b[0]=1|a.b[1]=x\xc3\xa9|a.b[2]=true|a.b[3]=null|c=d|");
	assert_int_equal(r, 0);
	parse(CFG_JSON, "{\"a\":1,}", &g, &r);
	assert_int_equal(r, BG_ERR_INVALID);
	parse(CFG_JSON, "{\"a\":01}", &g, &r);
	assert_int_equal(r, BG_ERR_INVALID);
	parse(CFG_JSON, "{\"a\":\"\\ud800\"}", &g, &r);
	assert_int_equal(r, BG_ERR_INVALID);
	parse(CFG_JSON, "[1] x", &g, &r);
	assert_int_equal(r, BG_ERR_INVALID);
	{
		char deep[200];

		memset(deep, '[', 100);
		memset(deep + 100, ']', 100);
		parse(CFG_JSON, "", &g, &r);
		assert_int_equal(r, BG_ERR_INVALID);
		assert_int_equal(cfg_parse(CFG_JSON, deep, 200, collect_kv, &g, NULL),
		    BG_ERR_INVALID);
	}
	assert_int_equal(cfg_parse(CFG_JSON, "{\"a\":\"\0\"}", 8, collect_kv, &g, NULL),
	    BG_ERR_INVALID);
}

static void
yaml(void **state)
{
	got g;
	int r;

	assert_string_equal(parse(CFG_YAML, "a:\n  b: 1\n  c:\n    - x\n    - \"y\"\n"
	    "  d: |\n    block\n  e: v # note\nf: 'g'\n  \tbad: tab\n- top\n", &g, &r),
	    "a.b=1|a.c[0]=x|a.c[1]=y|W:#6=d: ||W:#7=block|a.e=v|f=g|W:#10=bad: tab|"
	    "W:#11=- top|");
	assert_int_equal(r, 0);
}

static void
php(void **state)
{
	got g;
	int r;

	assert_string_equal(parse(CFG_PHP, "<?php\n/* c\n * d */\ndefine('A', 'b');\n"
	    "define('N', 3);\n$x = 'y';\nreturn [\n  'db' => [\n    'host' => 'h',\n  ],\n"
	    "  'k' => true,\n];\nrequire_once 'x';\ndefine('Q', 'it''s');\n", &g, &r),
	    "A=b|N=3|$x=y|db.host=h|k=true|W:#13=require_once 'x';|"
	    "W:#14=define('Q', 'it''s');|");
	assert_int_equal(r, 0);
}

static void
phpinfo_and_names(void **state)
{
	got g;
	int r;

	assert_string_equal(parse(CFG_PHPINFO, "PHP Version => 8.2.7\nmemory_limit => 128M => 64M\n"
	    "Core\n", &g, &r), "W:#1=PHP Version => 8.2.7|R:memory_limit=128M|W:#3=Core|");
	assert_int_equal(cfg_format_for("/a/.env"), CFG_ENV);
	assert_int_equal(cfg_format_for("/a/b.json"), CFG_JSON);
	assert_int_equal(cfg_format_for("/a/b.yaml"), CFG_YAML);
	assert_int_equal(cfg_format_for("/a/wp-config.php"), CFG_PHP);
	assert_int_equal(cfg_format_for("/etc/php.ini"), CFG_INI);
	assert_int_equal(cfg_format_for("/etc/nginx/sites-enabled/x"), CFG_LINES);
	assert_int_equal(cfg_format_named("yaml"), CFG_YAML);
	assert_int_equal(cfg_format_named("toml"), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ini_and_env),
		cmocka_unit_test(json),
		cmocka_unit_test(yaml),
		cmocka_unit_test(php),
		cmocka_unit_test(phpinfo_and_names),
	};

	return cmocka_run_group_tests_name("cfgfmt", tests, NULL, NULL);
}
