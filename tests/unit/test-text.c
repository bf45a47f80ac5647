/* test-text.c - the input-text checks, the word-at-a-time path against a
 * byte-at-a-time reference. */
#include "unit.h"
#include "err.h"
#include "text.h"
#include "buf.h"
#include "json.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The rule, one code point at a time, written for clarity. */
static int
ref_check(const unsigned char *s, size_t n, int nl, size_t *bad)
{
	size_t i = 0;

	while (i < n) {
		unsigned cp, c = s[i];
		size_t len = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 :
		    c >= 0xf0 && c <= 0xf4 ? 4 : 0;

		if (len == 0 || n - i < len)
			goto fail;
		cp = len == 1 ? c : c & (0xff >> (len + 1));
		for (size_t k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				goto fail;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if ((len == 3 && cp < 0x800) || (cp >= 0xd800 && cp <= 0xdfff) ||
		    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
			goto fail;
		if (cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) ||
		    (cp < 0x20 && cp != '\t' && !(cp == '\n' && nl)))
			goto fail;
		i += len;
	}
	return 0;
fail:
	*bad = i;
	return BG_ERR_INVALID;
}

static void
each_bad_byte_at_each_offset(void **state)
{
	static const unsigned char bad[] = { 0x00, 0x01, 0x0d, 0x1b, 0x1f, 0x7f, 0x80, 0xc0, 0xff };
	char s[40];
	size_t at, i, off;

	for (i = 0; i < sizeof(bad); i++)
		for (at = 0; at < 33; at++) {
			memset(s, 'a', sizeof(s));
			s[at] = (char)bad[i];
			off = 999;
			assert_int_equal(text_check(s, 33, 1, &off), BG_ERR_INVALID);
			assert_int_equal(off, at);
		}
	memset(s, '~', sizeof(s));
	assert_int_equal(text_check(s, sizeof(s), 0, NULL), 0);
	s[17] = '\n';
	assert_int_equal(text_check(s, sizeof(s), 1, NULL), 0);
	assert_int_equal(text_check(s, sizeof(s), 0, &off), BG_ERR_INVALID);
	assert_int_equal(off, 17);
	s[17] = '\t';
	assert_int_equal(text_check(s, sizeof(s), 0, NULL), 0);
}

static void
utf8(void **state)
{
	static const struct {
		const char *s;
		long bad; /* -1: valid */
	} cases[] = {
		{ "caf\xc3\xa9 na\xc3\xafve, \xe2\x82\xac 5, \xf0\x9f\x94\x91 key", -1 },
		{ "12345678\xc0\xaf", 8 },             /* overlong '/' */
		{ "12345678\xe0\x80\xaf", 8 },         /* overlong, 3 bytes */
		{ "1234567\xed\xa0\x80", 7 },          /* surrogate */
		{ "123456789\xf4\x90\x80\x80", 9 },    /* above U+10FFFF */
		{ "abcdefghijklmnop\xc2\x9b[31m", 16 }, /* C1 CSI */
		{ "abcdefgh\xe2\x82", 8 },             /* truncated */
		{ "abcdefgh\xe2\x28\xa1", 8 },         /* bad continuation */
		{ NULL, 0 }
	};
	size_t off;

	for (int i = 0; cases[i].s != NULL; i++) {
		int r = text_check(cases[i].s, strlen(cases[i].s), 0, &off);

		if (cases[i].bad < 0) {
			assert_int_equal(r, 0);
		} else {
			assert_int_equal(r, BG_ERR_INVALID);
			assert_int_equal(off, (size_t)cases[i].bad);
		}
	}
}

/* Random mostly-printable buffers: same verdict and offset as the reference. */
static void
agrees_with_reference(void **state)
{
	static const unsigned char rare[] = { 0x00, 0x09, 0x0a, 0x0d, 0x1f, 0x20, 0x7e, 0x7f, 0x80,
		0xc2, 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xed, 0xf0, 0x9f, 0xf4, 0xff };
	unsigned char s[64];
	uint32_t x = 2463534242u;

	for (int round = 0; round < 200000; round++) {
		size_t n, i, o1 = 0, o2 = 0;
		int r1, r2, nl;

		x ^= x << 13, x ^= x >> 17, x ^= x << 5;
		n = x % sizeof(s);
		nl = (x >> 8) & 1;
		for (i = 0; i < n; i++) {
			x ^= x << 13, x ^= x >> 17, x ^= x << 5;
			s[i] = (x & 0xff) < 8 ? rare[(x >> 8) % sizeof(rare)] : (unsigned char)(0x20 + (x >> 16) % 95);
		}
		r1 = text_check((const char *)s, n, nl, &o1);
		r2 = ref_check(s, n, nl, &o2);
		assert_int_equal(r1, r2);
		if (r1 != 0)
			assert_int_equal(o1, o2);
	}
}

static void
suggest(void **state)
{
	static const char *const cmds[] = { "init", "project", "ticket", "approve", "approver",
		"grant", "scan", NULL };
	static const char *const keys[] = { "window-start", "window-end", "requester", NULL };
	static const struct { const char *name; int x; } tab[] = { { "--from", 1 }, { "--json", 2 },
		{ NULL, 0 } };

	(void)state;
	assert_string_equal(text_suggest("inti", 4, cmds, sizeof(*cmds)), "init");   /* swap */
	assert_string_equal(text_suggest("tcket", 5, cmds, sizeof(*cmds)), "ticket"); /* deletion */
	assert_string_equal(text_suggest("grantt", 6, cmds, sizeof(*cmds)), "grant"); /* insertion */
	assert_string_equal(text_suggest("windw-end", 9, keys, sizeof(*keys)), "window-end");
	assert_string_equal(text_suggest("requestr", 8, keys, sizeof(*keys)), "requester");
	assert_string_equal(text_suggest("--form", 6, tab, sizeof(*tab)), "--from");
	/* not by prefix, nothing far away, and no guess between two as close */
	assert_null(text_suggest("xyzzy", 5, cmds, sizeof(*cmds)));
	assert_null(text_suggest("sc", 2, cmds, sizeof(*cmds)));
	assert_null(text_suggest("approvex", 8, cmds, sizeof(*cmds)));
	assert_null(text_suggest("window-start-and-a-very-long-tail-past-32", 41, keys, sizeof(*keys)));
}

/* names shown to people and written to line-oriented logs */
static void
visible_and_json(void **state)
{
	static const struct { const char *in, *vis, *js; } cases[] = {
		{ "plain name.txt", "plain name.txt", "\"plain name.txt\"" },
		{ "caf\xc3\xa9", "caf\xc3\xa9", "\"caf\xc3\xa9\"" },
		{ "a\nb", "a\\x0ab", "\"a\\nb\"" },
		{ "\x1b]0;t\x07", "\\x1b]0;t\\x07", "\"\\u001b]0;t\\u0007\"" },
		{ "a\xff" "b", "a\\xffb", "\"a\\ufffdb\"" },
		{ "x\xe2\x80\xaey", "x\\u{202e}y", "\"x\\u202ey\"" },
		{ "x\xc2\x9b" "1m", "x\\u{009b}1m", "\"x\\u009b1m\"" },
		{ "l\xe2\x80\xa8s", "l\\u{2028}s", "\"l\\u2028s\"" },
		{ "back\\slash", "back\\\\slash", "\"back\\\\slash\"" },
		{ "\xc0\xaf", "\\xc0\\xaf", "\"\\ufffd\\ufffd\"" },           /* overlong */
		{ "\xed\xa0\x80", "\\xed\\xa0\\x80", "\"\\ufffd\\ufffd\\ufffd\"" }, /* surrogate */
		{ "\xe2\x82", "\\xe2\\x82", "\"\\ufffd\\ufffd\"" },            /* cut short */
		{ "\x7f", "\\x7f", "\"\\u007f\"" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		buf v, j;

		buf_init(&v, 0);
		buf_init(&j, 0);
		assert_int_equal(text_visible(&v, cases[i].in, strlen(cases[i].in)), 0);
		assert_string_equal(buf_cstr(&v), cases[i].vis);
		/* what text_visible gives is itself one safe line */
		assert_int_equal(text_check(v.data, v.len, 0, NULL), 0);
		assert_int_equal(json_escape(&j, cases[i].in, strlen(cases[i].in)), 0);
		assert_string_equal(buf_cstr(&j), cases[i].js);
		assert_int_equal(text_check(j.data, j.len, 0, NULL), 0);
		buf_release(&v);
		buf_release(&j);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(each_bad_byte_at_each_offset),
		cmocka_unit_test(utf8),
		cmocka_unit_test(agrees_with_reference),
		cmocka_unit_test(suggest),
		cmocka_unit_test(visible_and_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
