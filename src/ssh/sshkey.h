/*
 * sshkey.h - OpenSSH public keys and unencrypted ed25519 private keys.
 *
 * Public keys are kept as their wire blob plus the parsed type; the blob's
 * structure is validated for every supported type (ed25519, ECDSA
 * P-256/384/521, RSA >= 2048 bits, sk-ssh-ed25519 and sk-ecdsa-sha2-nistp256
 * security keys; ssh-dss refused), and the raw ed25519 point is extracted
 * (for ssh-ed25519 and sk-ssh-ed25519).  Private keys are
 * only ever ed25519 ("openssh-key-v1", cipher none) and live in
 * sodium_malloc'd memory wiped on release.
 */
#ifndef BG_SSHKEY_H
#define BG_SSHKEY_H

#include "buf.h"
#include "err.h"

#include <stddef.h>

#define SSHKEY_FP_LEN 64
/* Security-key (FIDO) types, PROTOCOL.u2f. */
#define SSHKEY_SK_ED25519 "sk-ssh-ed25519@openssh.com"
#define SSHKEY_SK_ECDSA "sk-ecdsa-sha2-nistp256@openssh.com"

typedef struct sshkey_pub {
	char type[48];
	unsigned char *blob;
	size_t bloblen;
	unsigned char ed25519[32]; /* ssh-ed25519 and sk-ssh-ed25519 */
	int is_ed25519;            /* a plain ssh-ed25519 key */
} sshkey_pub;

/* Decode base64 blob b64 whose declared type must be `type`. */
int sshkey_parse_pub(const char *type, const char *b64, sshkey_pub *out, bg_error *e);
/* Parse a wire blob (copied). */
int sshkey_from_blob(const unsigned char *p, size_t n, sshkey_pub *out, bg_error *e);
/* Parse "type base64 [comment]" (a .pub file's line).  *comment may be NULL. */
int sshkey_parse_line(const char *line, sshkey_pub *out, char **comment, bg_error *e);
void sshkey_pub_release(sshkey_pub *k);
/* "SHA256:<base64 without padding>", as ssh-keygen -l prints. */
void sshkey_fingerprint(const sshkey_pub *k, char out[SSHKEY_FP_LEN]);
/* Append "type base64" to out. */
int sshkey_pub_format(const sshkey_pub *k, buf *out);
/* 1 if both keys are the same key. */
int sshkey_equal(const sshkey_pub *a, const sshkey_pub *b);
/* Build the ed25519 public key object from a raw 32-byte point. */
int sshkey_from_ed25519(const unsigned char pk[32], sshkey_pub *out);

/* An ed25519 secret key held in guarded memory. */
typedef struct sshkey_priv {
	unsigned char *sk; /* 64 bytes, sodium_malloc'd */
	unsigned char pk[32];
} sshkey_priv;

/* Generate a fresh ed25519 key. */
int sshkey_priv_generate(sshkey_priv *k);
void sshkey_priv_release(sshkey_priv *k);
/* Serialise as an unencrypted OpenSSH private key (PEM armour). */
int sshkey_priv_format(const sshkey_priv *k, const char *comment, buf *out);
/* Parse an unencrypted OpenSSH ed25519 private key. */
int sshkey_priv_parse(const char *text, size_t len, sshkey_priv *k, bg_error *e);

/*
 * Append data as PEM-style armour: "-----BEGIN label-----", base64 in
 * lines of 70, "-----END label-----", each line ending in \n.
 */
int sshkey_armour(const char *label, const void *data, size_t len, buf *out);

/* Base64 helpers (standard alphabet, padded). */
int sshkey_b64_decode(const char *s, size_t n, buf *out);
int sshkey_b64_encode(const unsigned char *p, size_t n, buf *out);

#endif
