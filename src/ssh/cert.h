/*
 * cert.h - OpenSSH user certificates (PROTOCOL.certkeys), signed natively
 * by the breakglass ed25519 CA.
 *
 * The certified key may be of any type sshkey.c understands (ed25519,
 * ECDSA, RSA): the certificate body reuses the fields of the key's own
 * wire blob.  The grant's scope travels in the extension
 * CERT_SCOPE_EXTENSION, and for a write grant the approvers' signed plan
 * statement in CERT_CONSENT_EXTENSION, so a host decides without a
 * database.  The parser
 * is strict: trailing data, unknown critical options, duplicate or
 * unsorted option names, and host certificates are refused.
 */
#ifndef BG_CERT_H
#define BG_CERT_H

#include "buf.h"
#include "err.h"
#include "sshkey.h"

#include <stdint.h>

#define CERT_SCOPE_EXTENSION "grant@breakglass"
/* the owner's consent to a write grant (src/proto/consent.h) */
#define CERT_CONSENT_EXTENSION "consent@breakglass"
#define CERT_MAX_BLOB (64u * 1024)

typedef struct cert_spec {
	const sshkey_pub *key;        /* the user's public key (not a cert) */
	uint64_t serial;
	const char *key_id;
	const char *principal;        /* the one account it logs in as */
	int64_t valid_after;
	int64_t valid_before;
	const char *force_command;    /* required */
	const char *source_address;   /* NULL: any */
	int permit_pty;
	const char *scope;            /* value of CERT_SCOPE_EXTENSION */
	const char *consent;          /* value of CERT_CONSENT_EXTENSION, or NULL */
} cert_spec;

/*
 * Sign spec with the CA and append "TYPE BASE64 COMMENT\n" (an OpenSSH
 * -cert.pub line) to out.
 */
int cert_sign(const cert_spec *spec, const sshkey_priv *ca, const char *comment,
    buf *out, bg_error *e);

typedef struct cert {
	char type[64];
	sshkey_pub key;          /* the certified plain key */
	uint64_t serial;
	uint32_t cert_type;      /* 1 user, 2 host */
	char *key_id;
	char **principals;
	size_t nprincipals;
	uint64_t valid_after;
	uint64_t valid_before;
	char *force_command;
	char *source_address;
	int permit_pty;
	char *scope;
	char *consent;           /* NULL: none */
	sshkey_pub ca;           /* signature key */
	unsigned char *blob;     /* the whole certificate */
	size_t bloblen;
	size_t signed_len;       /* bytes covered by the signature */
	const unsigned char *sig;
	size_t siglen;
} cert;

/* Parse a certificate blob (copied). */
int cert_parse(const unsigned char *p, size_t n, cert *out, bg_error *e);
/* Parse "TYPE BASE64 [comment]". */
int cert_parse_line(const char *line, cert *out, bg_error *e);
void cert_release(cert *c);

/*
 * Verify c: a user certificate signed by the ed25519 key ca_pk, valid at
 * now (UTC seconds).  0, BG_ERR_SIGNATURE or BG_ERR_EXPIRED.
 */
int cert_verify(const cert *c, const unsigned char ca_pk[32], int64_t now, bg_error *e);

#endif
