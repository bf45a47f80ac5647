/*
 * rbresult.h - the result bundle of a runbook run: hash-chained records,
 * signed by the operator with their SSH key (SSHSIG, namespace
 * "breakglass-runbook", made by `ssh-keygen -Y sign` on their machine).
 *
 *   breakglass runbook result v1
 *   ticket: T-3
 *   runbook: SHA256                 the runbook file that was run
 *   system: web1
 *   operator: ops@client.example
 *   record: SEQ PREV TYPE STEP STATUS LEN
 *   <LEN bytes of JSON>
 *   ...
 *   signature: LEN                  over every byte before this line
 *   <armoured SSHSIG>
 *   end
 *
 * SEQ counts from 1; PREV is the SHA-256 of the previous record (its
 * "record:" line and body with the newline), of the header for the first;
 * TYPE is run, step, attach or end (exactly one end, last); STATUS is ok,
 * failed, reported, skipped or "-".  A bundle whose chain, sequence, end
 * record or signature is missing or wrong is refused.
 */
#ifndef BG_RBRESULT_H
#define BG_RBRESULT_H

#include "buf.h"
#include "err.h"

#include <stdint.h>

#define RBRESULT_NAMESPACE "breakglass-runbook"
#define RBRESULT_MAX_RECS 256
#define RBRESULT_MAX_INPUT (64u * 1024 * 1024)
#define RBRESULT_MAX_BODY (8u * 1024 * 1024)

typedef struct rbresult_rec {
	int seq;
	char type[8];
	int step;
	char status[10];
	const char *body;   /* into the bundle text */
	size_t len;
} rbresult_rec;

typedef struct rbresult {
	char *text;         /* owned */
	size_t len;
	int64_t ticket;
	char runbook[65];
	char system[128];
	char operator_[256];
	rbresult_rec rec[RBRESULT_MAX_RECS];
	size_t n;
	size_t signed_len;  /* text[0..signed_len) is what the operator signed */
	char *sig;          /* armoured (owned) */
	size_t siglen;
} rbresult;

/* Strict parse (chain, sequence, one final end record, a signature). */
int rbresult_parse(const char *text, size_t len, rbresult *out, bg_error *e);
void rbresult_release(rbresult *r);

/*
 * Check the signature against allowed_signers text: the key must be one
 * of its entries (namespace allowed, inside its validity) and sign the
 * bundle in RBRESULT_NAMESPACE.  principal gets the entry's principals.
 * 0, BG_ERR_PERM (a key the signers do not list) or BG_ERR_SIGNATURE.
 */
int rbresult_verify(const rbresult *r, const char *signers_text, size_t signers_len,
    int64_t now, char principal[256], char fingerprint[64], bg_error *e);

/* Writing: the records so far; the caller signs w->out, then seals. */
typedef struct rbresult_writer {
	buf out;
	char prev[65];
	int seq;
} rbresult_writer;

int rbresult_begin(rbresult_writer *w, int64_t ticket, const char *runbook_sha,
    const char *system, const char *operator_);
int rbresult_add(rbresult_writer *w, const char *type, int step, const char *status,
    const char *body, size_t len);
/* Append the signature and "end" (w->out is then the bundle). */
int rbresult_seal(rbresult_writer *w, const char *sig, size_t len);
void rbresult_writer_release(rbresult_writer *w);

#endif
