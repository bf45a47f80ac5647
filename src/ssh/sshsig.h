/*
 * sshsig.h - SSH signatures (OpenSSH PROTOCOL.sshsig), as made by
 * `ssh-keygen -Y sign`.
 *
 * Parsing is strict (armour, version, no trailing data, sizes capped).
 * Every signature OpenSSH makes is verified in process, without
 * ssh-keygen: ssh-ed25519 (libsodium), rsa-sha2-256/512 (SHA-1 "ssh-rsa"
 * refused, as OpenSSH does for SSHSIG), ecdsa-sha2-nistp256/384/521,
 * sk-ssh-ed25519@openssh.com, sk-ecdsa-sha2-nistp256@openssh.com and its
 * webauthn-sk-ecdsa-sha2-nistp256@openssh.com form (libcrypto).  Security
 * key signatures must carry the user-presence flag; webauthn ones an
 * origin the caller allows.
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
	char *armoured;           /* the armoured text as given */
} sshsig;

/* Parse "-----BEGIN SSH SIGNATURE-----" text. */
int sshsig_parse(const char *text, size_t len, sshsig *out, bg_error *e);
void sshsig_release(sshsig *s);

/* What a verification accepts beyond the defaults. */
typedef struct sshsig_opts {
	const char *const *webauthn_origins; /* webauthn signatures' allowed origins */
	size_t n_origins;
} sshsig_opts;

/*
 * Verify s over msg in namespace ns with the key inside s (callers check
 * that key against their allowed signers first).  0, BG_ERR_SIGNATURE,
 * BG_ERR_INVALID (a key libcrypto refuses) or BG_ERR_NOMEM.  Without opts
 * (or with no origins) webauthn signatures are refused.
 */
int sshsig_verify_opts(const sshsig *s, const void *msg, size_t len, const char *ns,
    const sshsig_opts *o, bg_error *e);
int sshsig_verify(const sshsig *s, const void *msg, size_t len, const char *ns,
    bg_error *e);

/*
 * The bytes a signer signs: "SSHSIG" string(ns) string("") string(hashalg)
 * string(H(msg)).  hashalg "sha256" or "sha512".
 */
int sshsig_signed_data(const char *ns, const char *hashalg, const void *msg, size_t len,
    buf *out);

/* Sign msg with an ed25519 key (sha512), producing armoured text. */
int sshsig_sign(const sshkey_priv *k, const void *msg, size_t len, const char *ns,
    buf *out);

#endif
