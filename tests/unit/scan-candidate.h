/*
 * scan-candidate.h - one check shared by test-scan (PCRE2) and hs-trim
 * (both engines: only it can compile rules for vectorscan at run time).
 *
 * A candidate makes vectorscan look for the pattern's beginning only and
 * report where it starts; confirming starts there.  The findings, and the
 * matches extend-left widens, must not depend on the engine.
 */
#ifndef BG_TEST_SCAN_CANDIDATE_H
#define BG_TEST_SCAN_CANDIDATE_H

#include "scan.h"

static void
check_candidate_rule(int kind)
{
	static const char rules[] =
	    "[kv]\ntitle = t\nprovider = p\n"
	    "pattern = (?i)(?:klmnopqrst|mn|tok)=([0-9A-Z]{4,})\n"
	    "candidate = (?i)(?:klmnopqrst|mn|tok)\n"
	    "secret = 1\nextend-left = a-z0-9=_\nexample = my_tok=1234\nnot = tok=12\n";
	/* line 1: "mn" ends first (at 4), yet the match starts at 0 with
	 * "klmnopqrst", which ends later on the same line; line 2: two
	 * matches, the second widened back to where the first ended but not
	 * over it */
	static const char text[] = "klmnopqrst=1234\nx_tok=1234=y_tok=5678\nmn not a match\n";
	scan_engine *eng = NULL;
	scan_ctx *c;
	const scan_hit *h;
	size_t n;
	bg_error e;

	if (scan_engine_new(rules, strlen(rules), "t", kind, 1, &eng, &e) != 0)
		fail_msg("engine %d: %s", kind, e.msg);
	assert_int_equal(scan_engine_name(eng)[0], kind == SCAN_ENGINE_PCRE2 ? 'p' : 'v');
	c = scan_ctx_new(eng);
	assert_non_null(c);
	if (scan_ctx_run(c, text, strlen(text), &h, &n, &e) != 0)
		fail_msg("scan: %s", e.msg);
	assert_int_equal(n, 3);
	assert_int_equal(h[0].off, 11); /* 1234 */
	assert_int_equal(h[0].moff, 0);
	assert_int_equal(h[1].off, 22); /* 1234 */
	assert_int_equal(h[1].moff, 16); /* x_tok: the whole key */
	assert_int_equal(h[2].off, 33); /* 5678 */
	assert_int_equal(h[2].moff, 26); /* back to the first one's end */
	assert_int_equal(h[2].mlen, 11);
	scan_ctx_free(c);
	scan_engine_free(eng);
}

#endif
