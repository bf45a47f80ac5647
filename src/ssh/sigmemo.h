/*
 * sigmemo.h - a memo of ed25519 signatures already found good, so that a
 * process handed the same signed bytes again checks a digest instead of
 * the curve (~70 us a signature here).  hostd's serving processes check
 * the same certificate, the same owner's consent and the same log head on
 * every request of a session: three signatures per request.
 *
 * An entry is SHA-256 over a domain tag, the public key, the signature
 * and the signed message: a lookup that matches is the verification it
 * recorded, because the digest binds all of its inputs (and ed25519
 * verification is deterministic).  Only a good signature adds an entry;
 * a failed check is never remembered and is made again each time.  What
 * the key is trusted for (the CA in gate.conf, the approvers file, the
 * host key) is the caller's to check each time, as are validity windows
 * and revocation: the memo answers "is this a valid signature by this
 * key over these bytes" and nothing else.  A signature this process made
 * (sigmemo_sign) is entered too: the host log's head, signed by one
 * request, is checked by the next.
 *
 * The memo lives where the process puts it (sigmemo_use): hostd puts it
 * in memory shared by its serving processes and nothing else (root's,
 * mapped before any fork; the account can neither map it nor write it),
 * so one request's checks serve the next.  Entries are replaced in turn.
 * Two writers at once can tear an entry: a torn entry is a digest of
 * nothing, so it matches nothing.  Without a memo every check is made.
 */
#ifndef BG_SIGMEMO_H
#define BG_SIGMEMO_H

#include <stddef.h>
#include <stdint.h>

#define SIGMEMO_SLOTS 64

typedef struct sigmemo {
	uint32_t next;
	uint64_t slot[SIGMEMO_SLOTS][4];
} sigmemo;

/* The memo this process's checks use from now on (NULL: none). */
void sigmemo_use(sigmemo *m);

/*
 * crypto_sign_verify_detached with the memo: 0 when sig (64 bytes) is a
 * valid ed25519 signature by pk (32 bytes) over m, -1 when not.
 */
int sigmemo_verify(const unsigned char *sig, const unsigned char *m, size_t mlen,
    const unsigned char *pk);

/*
 * crypto_sign_detached with the memo: sig (64 bytes) made over m with sk
 * (libsodium's 64 bytes, the public key its last 32) and remembered as
 * good, so the next process that checks it does not have to.
 */
void sigmemo_sign(unsigned char *sig, const unsigned char *m, size_t mlen,
    const unsigned char *sk);

#endif
