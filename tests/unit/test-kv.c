/* test-kv.c - the strict key/value parser and the intake validation. */
#include "unit.h"
#include "kv.h"
#include "ticket.h"

static const kv_key schema[] = {
	{ "name", KV_REQUIRED, 16 },
	{ "note", KV_MULTILINE, 64 },
	{ "tag", KV_MULTI, 16 },
	{ NULL, 0, 0 }
};

static int
parse(const char *s, kv_doc *d, bg_error *e)
{
	return kv_parse(s, strlen(s), schema, d, e);
}

static void
accepts_valid(void **state)
{
	kv_doc d;
	bg_error e;

	assert_int_equal(parse("# c\nname: x\n\nnote: a\n  b\n\tc\ntag: 1\ntag: 2\n", &d, &e), 0);
	assert_string_equal(kv_get(&d, "name"), "x");
	assert_string_equal(kv_get(&d, "note"), "a\nb\nc");
	assert_int_equal(d.n, 4);
	kv_doc_release(&d);
	/* empty value means not given; a continuation may fill it */
	assert_int_equal(parse("name: y\nnote:\n  first\n", &d, &e), 0);
	assert_string_equal(kv_get(&d, "note"), "first");
	kv_doc_release(&d);
}

static void
refuses_with_line(void **state)
{
	kv_doc d;
	bg_error e;

	assert_int_equal(parse("name: x\nbogus: 1\n", &d, &e), BG_ERR_INVALID);
	assert_non_null(strstr(e.msg, "line 2"));
	assert_non_null(strstr(e.msg, "unknown key 'bogus'"));
	assert_int_equal(d.n, 0);
	assert_int_equal(parse("name: x\nname: y\n", &d, &e), BG_ERR_INVALID);
	assert_non_null(strstr(e.msg, "duplicate key 'name'"));
	assert_int_equal(parse("name:\nname: y\n", &d, &e), BG_ERR_INVALID);
	assert_non_null(strstr(e.msg, "line 2: duplicate key 'name'"));
	assert_int_equal(parse("name: x\ntag: 1\n  more\n", &d, &e), BG_ERR_INVALID);
	assert_non_null(strstr(e.msg, "single line"));
	assert_int_equal(parse("note: x\n", &d, &e), BG_ERR_INVALID);
	assert_non_null(strstr(e.msg, "missing required key 'name'"));
	assert_int_equal(parse("name: 0123456789abcdefX\n", &d, &e), BG_ERR_TOOLARGE);
	assert_int_equal(parse("name: x\xff\n", &d, &e), BG_ERR_INVALID);
	assert_non_null(strstr(e.msg, "line 1"));
	assert_int_equal(parse("name: a\x1b[31m\n", &d, &e), BG_ERR_INVALID);
	assert_int_equal(kv_parse("name: a\0b\n", 10, schema, &d, &e), BG_ERR_INVALID);
	assert_int_equal(parse("Name: x\n", &d, &e), BG_ERR_INVALID);
	assert_int_equal(parse("name x\n", &d, &e), BG_ERR_INVALID);
	/* every problem at once, one a line; continuations of a bad line skipped */
	assert_int_equal(parse("bogus: 1\n  more\nname: x\nname: y\nnoet: z\n", &d, &e),
	    BG_ERR_INVALID);
	assert_string_equal(e.msg, "line 1: unknown key 'bogus'\nline 4: duplicate key 'name'\n"
	    "line 5: unknown key 'noet'; did you mean 'note'?");
	assert_int_equal(d.n, 0);
	/* the partial parse keeps what was well-formed */
	assert_int_equal(kv_parse_partial("name: x\nbogus: 1\n", 17, schema, &d, &e),
	    BG_ERR_INVALID);
	assert_string_equal(kv_get(&d, "name"), "x");
	kv_doc_release(&d);
	assert_int_equal(parse("  orphan\nname: x\n", &d, &e), BG_ERR_INVALID);
}

static const char good_intake[] =
	"project: shop\nsystem: web1\nrequester: dev@agency.example\n"
	"broken: checkout fails\nstarted: 2026-11-21T02:10Z\n"
	"deploy-method: ssh\nrollback-method: revert-commit\n"
	"approver-email: owner@shop.example\n";

static void
intake_validation(void **state)
{
	kv_doc d;
	bg_error e;
	buf b;
	char text[2048];

	assert_int_equal(ticket_parse(good_intake, strlen(good_intake), &d, &e), 0);
	buf_init(&b, 0);
	assert_int_equal(ticket_canonical(&d, &b), 0);
	assert_non_null(strstr(buf_cstr(&b), "deploy-method: ssh\n"));
	buf_release(&b);
	kv_doc_release(&d);

	snprintf(text, sizeof(text), "%sstaging-url: ftp://x\n", good_intake);
	assert_int_equal(ticket_parse(text, strlen(text), &d, &e), BG_ERR_INVALID);
	assert_non_null(strstr(e.msg, "staging-url"));

	/* a deploy method is free text; known ones are stored by name */
	snprintf(text, sizeof(text), "%s", good_intake);
	memcpy(strstr(text, "ssh\n"), "SSH\n", 4);
	assert_int_equal(ticket_parse(text, strlen(text), &d, &e), 0);
	assert_string_equal(kv_get(&d, "deploy-method"), "ssh");
	kv_doc_release(&d);

	/* a time without a zone, and every problem at once, each with its line */
	snprintf(text, sizeof(text), "%s", good_intake);
	memcpy(strstr(text, "T02:10Z"), " 02:10 ", 7);
	memcpy(strstr(text, "dev@agency"), "dev agency", 10);
	assert_int_equal(ticket_parse(text, strlen(text), &d, &e), BG_ERR_INVALID);
	assert_non_null(strstr(e.msg, "line 5: field 'started': has no zone"));
	assert_non_null(strstr(e.msg, "line 3: field 'requester'"));
	assert_non_null(strchr(e.msg, '\n'));

	snprintf(text, sizeof(text), "%s", good_intake);
	memcpy(strstr(text, "owner@shop"), "owner shop", 10);
	assert_int_equal(ticket_parse(text, strlen(text), &d, &e), BG_ERR_INVALID);
	assert_non_null(strstr(e.msg, "approver-email"));

	snprintf(text, sizeof(text), "%sevidence: db url postgres://app:S3cretPass@db1/shop\n",
	    good_intake);
	assert_int_equal(ticket_parse(text, strlen(text), &d, &e), BG_ERR_SECRET);
	assert_non_null(strstr(e.msg, "connection-string-password"));
	assert_null(strstr(e.msg, "S3cretPass"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(accepts_valid),
		cmocka_unit_test(refuses_with_line),
		cmocka_unit_test(intake_validation),
	};

	return cmocka_run_group_tests_name("kv", tests, NULL, NULL);
}
