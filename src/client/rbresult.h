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
#include "json.h"
#include "smokecheck.h"

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

/*
 * What a result's check and collect steps recorded.  A check step is a
 * "step" record whose JSON names "check" (its phase, before or after the
 * runbook's fix steps, url, expect, result, status, elapsed_ms,
 * body_sha256, body_size; never the body), a diagnostics bundle an
 * "attach" record whose JSON names "collect" (the profile, sha256 and the
 * bundle text as "content"), a SQL step the client applied through its
 * database target a "step" record whose JSON names "sql" (the script's
 * name, engine, database, expect_rows, rows, duration_ms, and either the
 * before-image's tag as before_image or an error; counts only, never row
 * values).
 */
typedef struct rbresult_found {
	json_val *v[RBRESULT_MAX_RECS];   /* owned: the strings below point in */
	size_t nv;
	struct {
		int step;
		smokecheck c;             /* name, url, status, elapsed_ms, body_sha256,
		                             body_size, pass, why */
		const char *phase, *expect;
	} chk[RBRESULT_MAX_RECS];
	size_t nchk;
	struct {
		int step;
		const char *profile, *content;
		char sha[65];
		size_t size;
	} col[RBRESULT_MAX_RECS];
	size_t ncol;
	struct {
		int step;
		const char *name, *engine, *database;
		const char *image;        /* the before-image's tag; NULL unless applied */
		const char *error;        /* NULL when applied */
		int64_t rows, expect, duration_ms;
		int ok;
	} sql[RBRESULT_MAX_RECS];
	size_t nsql;
} rbresult_found;

/*
 * Read them from a parsed result (check it first: rbresult_verify).
 * Strict: a check or SQL record missing a field, with a phase, result,
 * count or status that disagree, or a diagnostics bundle whose text is not the SHA-256
 * the run recorded (BG_ERR_TAMPER) or not a valid bundle (bundle_parse)
 * refuses the whole result.  A check that could not run (its record has
 * "error") is skipped.  0 (release f with rbresult_found_release), or a
 * BG_ERR code with e naming the record; f is empty on failure.
 */
int rbresult_found_read(const rbresult *res, rbresult_found *f, bg_error *e);
void rbresult_found_release(rbresult_found *f);

#endif
