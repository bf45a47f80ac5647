/* test-sigmemo.c - the memo of good signatures: a hit only for the same
 * key, message and signature; a failure never remembered. */
#include "unit.h"
#include "sigmemo.h"

#include <sodium.h>

static unsigned char pk[32], sk[64], pk2[32], sk2[64];

static int
setup(void **state)
{
	(void)state;
	if (sodium_init() < 0)
		return -1;
	crypto_sign_keypair(pk, sk);
	crypto_sign_keypair(pk2, sk2);
	return 0;
}

static void
without_memo(void **state)
{
	unsigned char sig[64], m[] = "tag\n1\nabc\n";

	(void)state;
	sigmemo_use(NULL);
	crypto_sign_detached(sig, NULL, m, sizeof(m), sk);
	assert_int_equal(sigmemo_verify(sig, m, sizeof(m), pk), 0);
	sig[3] ^= 1;
	assert_int_equal(sigmemo_verify(sig, m, sizeof(m), pk), -1);
}

/* a remembered signature answers for those exact inputs only */
static void
hit_only_for_same_inputs(void **state)
{
	static sigmemo mm;
	unsigned char sig[64], bad[64], m[] = "breakglass head 7 0123", m2[] = "breakglass head 8 0123";

	(void)state;
	memset(&mm, 0, sizeof(mm));
	sigmemo_use(&mm);
	crypto_sign_detached(sig, NULL, m, sizeof(m), sk);
	assert_int_equal(sigmemo_verify(sig, m, sizeof(m), pk), 0);
	assert_int_equal(mm.next, 1);
	assert_int_equal(sigmemo_verify(sig, m, sizeof(m), pk), 0);
	assert_int_equal(mm.next, 1); /* a hit adds nothing */
	/* the same signature over other bytes, under another key, or
	 * changed: checked, and refused */
	assert_int_equal(sigmemo_verify(sig, m2, sizeof(m2), pk), -1);
	assert_int_equal(sigmemo_verify(sig, m, sizeof(m), pk2), -1);
	assert_int_equal(sigmemo_verify(sig, m, sizeof(m) - 1, pk), -1);
	memcpy(bad, sig, sizeof(bad));
	bad[63] ^= 0x10;
	assert_int_equal(sigmemo_verify(bad, m, sizeof(m), pk), -1);
	assert_int_equal(mm.next, 1); /* failures are not remembered */
	assert_int_equal(sigmemo_verify(bad, m, sizeof(m), pk), -1);
	sigmemo_use(NULL);
}

/* what this process signs is remembered: the next check is a hit */
static void
own_signature(void **state)
{
	static sigmemo mm;
	unsigned char sig[64], m[] = "checkpoint\n9\nff\n";

	(void)state;
	memset(&mm, 0, sizeof(mm));
	sigmemo_use(&mm);
	sigmemo_sign(sig, m, sizeof(m), sk2);
	assert_int_equal(mm.next, 1);
	assert_int_equal(crypto_sign_verify_detached(sig, m, sizeof(m), pk2), 0);
	assert_int_equal(sigmemo_verify(sig, m, sizeof(m), pk2), 0);
	assert_int_equal(mm.next, 1);
	assert_int_equal(sigmemo_verify(sig, m, sizeof(m), pk), -1);
	sigmemo_use(NULL);
}

/* entries are replaced in turn; a replaced one is checked again */
static void
replaced_in_turn(void **state)
{
	static sigmemo mm;
	unsigned char sig[SIGMEMO_SLOTS + 1][64], m[SIGMEMO_SLOTS + 1][16];

	(void)state;
	memset(&mm, 0, sizeof(mm));
	sigmemo_use(&mm);
	for (int i = 0; i <= SIGMEMO_SLOTS; i++) {
		snprintf((char *)m[i], sizeof(m[i]), "m%d", i);
		crypto_sign_detached(sig[i], NULL, m[i], sizeof(m[i]), sk);
		assert_int_equal(sigmemo_verify(sig[i], m[i], sizeof(m[i]), pk), 0);
	}
	assert_int_equal(mm.next, SIGMEMO_SLOTS + 1);
	/* the first was replaced by the last: a miss, checked, good */
	assert_int_equal(sigmemo_verify(sig[0], m[0], sizeof(m[0]), pk), 0);
	assert_int_equal(mm.next, SIGMEMO_SLOTS + 2);
	/* the last is still there */
	assert_int_equal(sigmemo_verify(sig[SIGMEMO_SLOTS], m[SIGMEMO_SLOTS],
	    sizeof(m[0]), pk), 0);
	assert_int_equal(mm.next, SIGMEMO_SLOTS + 2);
	sigmemo_use(NULL);
}

/* a slot torn between two writers matches neither of them */
static void
torn_slot(void **state)
{
	static sigmemo mm;
	unsigned char s1[64], s2[64], m1[] = "one", m2[] = "two";

	(void)state;
	memset(&mm, 0, sizeof(mm));
	sigmemo_use(&mm);
	crypto_sign_detached(s1, NULL, m1, sizeof(m1), sk);
	crypto_sign_detached(s2, NULL, m2, sizeof(m2), sk);
	assert_int_equal(sigmemo_verify(s1, m1, sizeof(m1), pk), 0);
	assert_int_equal(sigmemo_verify(s2, m2, sizeof(m2), pk), 0);
	/* slot 0 gets half of slot 1: now a digest of nothing */
	mm.slot[0][2] = mm.slot[1][2];
	mm.slot[0][3] = mm.slot[1][3];
	mm.slot[1][0] = 0;
	assert_int_equal(sigmemo_verify(s1, m1, sizeof(m1), pk), 0); /* checked again */
	assert_int_equal(mm.next, 3);
	s2[0] ^= 1;
	assert_int_equal(sigmemo_verify(s2, m2, sizeof(m2), pk), -1);
	sigmemo_use(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(without_memo),
		cmocka_unit_test(hit_only_for_same_inputs),
		cmocka_unit_test(own_signature),
		cmocka_unit_test(replaced_in_turn),
		cmocka_unit_test(torn_slot),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
