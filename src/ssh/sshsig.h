/*
 * sshsig.h - SSH signatures (OpenSSH PROTOCOL.sshsig), as made by
 * `ssh-keygen -Y sign`.
 *
 * Parsing is strict (armour, version, no trailing data, sizes capped).
 * ed25519 signatures are verified natively with libsodium; other key types
 * are verified by running the system's ssh-keygen -Y verify (argv only,
 * never a shell), which callers opt into.
 */
#ifndef BG_SSHSIG_H
#define BG_SSHSIG_H

#include "buf.h"
#include "err.h"
#include "sshkey.h"

#define SSHSIG_MAX_ARMOURED (16u * 1024)

typedef struct sshsig {
	sshkey_pub key;
	char *ns;
	char *hashalg;            /* "sha256" or "sha512" */
	unsigned char *sig;       /* inner signature blob */
	size_t siglen;
	char *armoured;           /* the armoured text as given (for ssh-keygen) */
} sshsig;

/* Parse "-----BEGIN SSH SIGNATURE-----" text. */
int sshsig_parse(const char *text, size_t len, sshsig *out, bg_error *e);
void sshsig_release(sshsig *s);

/*
 * Verify s over msg in namespace ns with the key inside s (callers check
 * that key against their allowed signers first).  ed25519 only:
 * BG_ERR_UNSUPPORTED for other types.  0 or BG_ERR_SIGNATURE.
 */
int sshsig_verify(const sshsig *s, const void *msg, size_t len, const char *ns,
    bg_error *e);

/*
 * Verify through `ssh-keygen -Y verify` with a one-line allowed_signers
 * file naming principal and the key in s.  Used for RSA and ECDSA keys.
 */
int sshsig_verify_external(const sshsig *s, const void *msg, size_t len,
    const char *ns, const char *principal, bg_error *e);

/* Sign msg with an ed25519 key (sha512), producing armoured text. */
int sshsig_sign(const sshkey_priv *k, const void *msg, size_t len, const char *ns,
    buf *out);

#endif
