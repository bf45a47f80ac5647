/*
 * signers.h - OpenSSH allowed_signers files (ssh-keygen(1), ALLOWED
 * SIGNERS): one line per signer,
 *     principals [options] key-type base64-key [comment]
 * Options understood: cert-authority, namespaces="a,b",
 * valid-after="YYYYMMDD[HHMM[SS]]Z", valid-before="...".  breakglass keeps
 * time in UTC only, so validity times must carry the Z suffix.  Unknown
 * options, duplicated options and malformed keys are refused with the line
 * and column.
 */
#ifndef BG_SIGNERS_H
#define BG_SIGNERS_H

#include "err.h"
#include "sshkey.h"

#include <stdint.h>

#define SIGNERS_MAX_INPUT (1024u * 1024)
#define SIGNERS_MAX_LINE 8192

typedef struct signer_entry {
	char *principals;   /* comma-separated patterns, unquoted */
	int cert_authority;
	char *namespaces;   /* NULL: any */
	int64_t valid_after;  /* 0: none */
	int64_t valid_before; /* 0: none */
	sshkey_pub key;
	char *comment;
	size_t line;
} signer_entry;

typedef struct signers {
	signer_entry *v;
	size_t n;
} signers;

int signers_parse(const char *text, size_t len, signers *out, bg_error *e);
void signers_release(signers *s);

/* 1 if principal matches one of entry's principal patterns (* and ?). */
int signers_principal_matches(const signer_entry *s, const char *principal);
/* 1 if namespace ns is allowed by the entry. */
int signers_namespace_allowed(const signer_entry *s, const char *ns);

#endif
