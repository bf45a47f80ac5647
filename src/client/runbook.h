/*
 * runbook.h - a signed runbook: an approved fix plan as one self-contained
 * file that the client runs on their own host, with no broker and no
 * network (client-executed mode).
 *
 *   breakglass runbook v1
 *   ticket: T-3
 *   plan: P-2
 *   system: web1
 *   expires: 2026-12-02T05:00:00Z
 *   statement: LEN              the plan statement, exactly as signed
 *   <LEN bytes>
 *   signature: LEN              one per approver (armoured SSHSIG), 1..16
 *   <LEN bytes>
 *   plan-text: LEN              the canonical plan text (summary, rollback
 *   <LEN bytes>                 notes, smoke test ...)
 *   step: N KIND SHA256 LEN NAME   one per artifact, in the plan's order
 *   <LEN bytes>
 *   end
 *
 * Every LEN bytes are followed by one newline.  The header lines are a
 * convenience for people: runbook_verify trusts only the signed statement,
 * and refuses a file whose header, plan text or steps disagree with it.
 */
#ifndef BG_RUNBOOK_H
#define BG_RUNBOOK_H

#include "buf.h"
#include "err.h"
#include "kv.h"

#include <stdint.h>

#define RUNBOOK_MAX_INPUT (40u * 1024 * 1024)
#define RUNBOOK_MAX_STEPS 32
#define RUNBOOK_MAX_SIGS 16
#define RUNBOOK_MAX_BLOB (16u * 1024 * 1024)
#define RUNBOOK_NAMESPACE "breakglass" /* approvers sign plan statements in it */

typedef struct runbook_step {
	int n;             /* 1.. */
	char kind[16];     /* diff, commands, sql, other */
	char sha256[65];
	char name[256];
	const char *data;  /* into the runbook text */
	size_t len;
} runbook_step;

typedef struct runbook {
	char *text;        /* the whole file (owned) */
	size_t len;
	char sha256[65];   /* of the whole file: the runbook's identity */
	int64_t ticket, plan;
	char system[128];
	int64_t expires;
	const char *stmt;  /* statement text, NUL-terminated copy (owned) */
	char *sigs[RUNBOOK_MAX_SIGS];
	size_t sig_len[RUNBOOK_MAX_SIGS];
	size_t nsigs;
	char *plan_text;   /* NUL-terminated copy (owned) */
	runbook_step step[RUNBOOK_MAX_STEPS];
	size_t nsteps;
} runbook;

/*
 * Parse runbook text (copied).  Strict: fixed order, known keys only,
 * sizes capped, no trailing data; e names the line.  0 or
 * BG_ERR_INVALID/BG_ERR_TOOLARGE/BG_ERR_NOMEM; *rb is empty on failure.
 */
int runbook_parse(const char *text, size_t len, runbook *rb, bg_error *e);
void runbook_release(runbook *rb);

/* One input for runbook_format. */
typedef struct runbook_part {
	const char *kind, *sha256, *name;
	const char *data;
	size_t len;
} runbook_part;

/* Write a runbook (the broker's export); parse(format(x)) gives x back. */
int runbook_format(int64_t ticket, int64_t plan, const char *system, int64_t expires,
    const char *stmt, const char *const *sigs, size_t nsigs, const char *plan_text,
    const runbook_part *steps, size_t nsteps, buf *out, bg_error *e);

/* The client's trust: its own configuration, never the runbook. */
typedef struct runbook_trust {
	const char *signers_text;  /* allowed_signers */
	size_t signers_len;
	int quorum;
	const char *system;
} runbook_trust;

/*
 * Check rb before anything runs: the statement is a plan statement for
 * trust->system, unexpired at now, signed (namespace "breakglass") by
 * quorum distinct principals of the allowed signers, none of them the
 * requester; the plan text and every step match what it names, in its
 * order.  0, or BG_ERR_SIGNATURE / BG_ERR_EXPIRED / BG_ERR_PERM /
 * BG_ERR_TAMPER / BG_ERR_INVALID with e saying what.
 */
int runbook_verify(const runbook *rb, const runbook_trust *trust, int64_t now, bg_error *e);

/* The value of a plan-text field (summary, rollback, smoke-test ...), or
 * NULL; malloc'd. */
char *runbook_plan_field(const runbook *rb, const char *key);

/*
 * The plan text parsed with the plan's schema (plan.h): every field in
 * order, repeated ones (check, collect) included.  The plan text is the
 * approved one (runbook_verify checks its SHA-256 against the signed
 * statement), so steps derived from it are as signed as the artifacts.
 * 0 or BG_ERR_INVALID; release with kv_doc_release.
 */
int runbook_plan_doc(const runbook *rb, kv_doc *d, bg_error *e);

#endif
