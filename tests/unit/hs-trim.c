/*
 * hs-trim.c - the relaxed patterns given to vectorscan's candidate stage
 * (scan.c: relax_repeats, trim_tail, trim_head, cut_head).  Each must
 * match wherever the rule's pattern matches, ending in the same line; the
 * engine-parity tests check that on corpora, this checks the rewriting.
 * Built only with vectorscan (it links the compiler side of scan.c).
 */
#include "unit.h"
#include "scan-candidate.h"

#include <stdlib.h>
#include <string.h>

/* This program has no built-in database (like tools/gen-hsdb). */
const unsigned char scan_builtin_hsdb[1];
const size_t scan_builtin_hsdb_len = 0;
const size_t scan_builtin_hsdb_nrules = 0;

char *bg_test_hs_trimmed(const char *pattern);

static void
rewrites(void **state)
{
	static const char *const cases[][2] = {
		/* tails: optional and ranged ends shrink to the minimum */
		{ "\\b(ghp_[A-Za-z0-9]{36})\\b", "(ghp_[A-Za-z0-9]{8})" },
		{ "abc[^ ]{7,255}", "abc[^ ]{7}" },
		{ "abc(?:def)?", "abc" },
		{ "abc[0-9]+$", "abc[0-9]" },
		/* wide ranges and long exact repeats in the middle relax */
		{ "ax{2,40}yz", "ax{2,}yz" },
		{ "AKIA[A-Z2-7]{16}Q", "AKIA[A-Z2-7]{8,}Q" },
		{ "a{9}b", "a{9}b" },
		/* heads: optional leads go, {m,n} keeps its minimum */
		{ "[a-z]*token=[a-z]", "token=[a-z]" },
		{ "(?i)\\btoken=[a-z]", "(?i)token=[a-z]" },
		/* cut after the last .* / [^\n]* */
		{ "(?i)(?:server|dsn)=[^\\n]*;pwd=([^;]{3,128})", "(?i);pwd=([^;]{3})" },
		{ "curl[^\\n]*[ \\t]-u ([^ ]{3,})", "[ \\t]-u ([^ ]{3})" },
		{ "a.*b.+cde", "cde" },
		/* leading classes and groups before three literal characters */
		{ "\\b[a-z][a-z0-9+.-]{1,20}://[^ @]{1,128}@h", "://[^ @]{1,}@h" },
		{ "(?:postgres|mysql)://[^ @]+@h", "://[^ @]+@h" },
		/* a run of sixteen literal characters after other atoms, inside
		 * a group around the whole pattern (dropped with the head) */
		{ "(https://[a-z0-9-]+\\.webhook\\.office\\.com/x[0-9]{4,40})",
		  "\\.webhook\\.office\\.com/x[0-9]{4}" },
		{ "(?i)([a-z0-9]{8,}\\.atlasv1\\.[a-z]{8,})", "(?i)\\.atlasv1\\.[a-z]{8}" },
		{ "(?i)(x[0-9]+\\.atlasv1\\.[a-z]{8,})", "(?i)(x[0-9]+\\.atlasv1\\.[a-z]{8})" },
		/* ...but not a shorter one, nor inside a literal run, nor a
		 * group that is not the whole pattern */
		{ "(?i)jdbc:[a-z0-9]+:[^ ]*[?&;]password=([^ ])", "(?i)jdbc:[a-z0-9]+:[^ ]*[?&;]password=([^ ])" },
		{ "abcdefghijklmnopqrstuvwxyz[0-9]", "abcdefghijklmnopqrstuvwxyz[0-9]" },
		{ "(ab|c[0-9]+0123456789abcdefgh)", "(ab|c[0-9]+0123456789abcdefgh)" },
		{ "(ab)c[0-9]+0123456789abcdefghi", "0123456789abcdefghi" },
		/* no cut: alternation at the top, too short a literal, nothing left
		 * (X+ at the head still becomes X) */
		{ "[a-z]+://x|y.*zzz", "[a-z]://x|y.*zzz" },
		{ "[a-z]+ab[0-9]", "[a-z]ab[0-9]" },
		{ "(?:AKIA|ASIA)[A-Z]{8}", "(?:AKIA|ASIA)[A-Z]{8}" },
		{ "abc.*", "abc" },
		{ NULL, NULL }
	};

	int bad = 0;

	for (int i = 0; cases[i][0] != NULL; i++) {
		char *t = bg_test_hs_trimmed(cases[i][0]);

		assert_non_null(t);
		if (strcmp(t, cases[i][1]) != 0) {
			print_error("'%s' became '%s', expected '%s'\n", cases[i][0], t, cases[i][1]);
			bad++;
		}
		free(t);
	}
	assert_int_equal(bad, 0);
}

static void
candidate_on_both_engines(void **state)
{
	(void)state;
	check_candidate_rule(SCAN_ENGINE_PCRE2);
	check_candidate_rule(SCAN_ENGINE_HYPERSCAN);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rewrites),
		cmocka_unit_test(candidate_on_both_engines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
