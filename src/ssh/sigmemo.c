/*
 * sigmemo.c - the memo of good ed25519 signatures (see sigmemo.h).
 *
 * The slots are read and written a 64-bit word at a time with atomic
 * loads and stores: writers in several processes may race on a slot,
 * and a slot mixed from two digests matches neither (nor anything else).
 */
#include "sigmemo.h"

#include <sodium.h>
#include <string.h>

#define SIGMEMO_TAG "breakglass sigmemo v1 ed25519"

static sigmemo *memo;

void
sigmemo_use(sigmemo *m)
{
	memo = m;
}

static void
digest(const unsigned char *sig, const unsigned char *m, size_t mlen, const unsigned char *pk,
    uint64_t d[4])
{
	crypto_hash_sha256_state st;
	unsigned char h[32];

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, (const unsigned char *)SIGMEMO_TAG, sizeof(SIGMEMO_TAG));
	crypto_hash_sha256_update(&st, pk, 32);
	crypto_hash_sha256_update(&st, sig, 64);
	crypto_hash_sha256_update(&st, m, mlen);
	crypto_hash_sha256_final(&st, h);
	memcpy(d, h, sizeof(h));
}

static int
known(const sigmemo *mm, const uint64_t d[4])
{
	for (size_t i = 0; i < SIGMEMO_SLOTS; i++) {
		int same = 1;

		for (size_t k = 0; k < 4; k++)
			same &= __atomic_load_n(&mm->slot[i][k], __ATOMIC_RELAXED) == d[k];
		if (same)
			return 1;
	}
	return 0;
}

static void
remember(sigmemo *mm, const uint64_t d[4])
{
	uint32_t i = __atomic_fetch_add(&mm->next, 1, __ATOMIC_RELAXED) % SIGMEMO_SLOTS;

	for (size_t k = 0; k < 4; k++)
		__atomic_store_n(&mm->slot[i][k], d[k], __ATOMIC_RELAXED);
}

void
sigmemo_sign(unsigned char *sig, const unsigned char *m, size_t mlen, const unsigned char *sk)
{
	sigmemo *mm = memo;
	uint64_t d[4];

	crypto_sign_detached(sig, NULL, m, mlen, sk);
	if (mm == NULL)
		return;
	digest(sig, m, mlen, sk + 32, d);
	remember(mm, d);
}

int
sigmemo_verify(const unsigned char *sig, const unsigned char *m, size_t mlen,
    const unsigned char *pk)
{
	sigmemo *mm = memo;
	uint64_t d[4];

	if (mm == NULL)
		return crypto_sign_verify_detached(sig, m, mlen, pk) == 0 ? 0 : -1;
	digest(sig, m, mlen, pk, d);
	if (known(mm, d))
		return 0;
	if (crypto_sign_verify_detached(sig, m, mlen, pk) != 0)
		return -1;
	remember(mm, d);
	return 0;
}
