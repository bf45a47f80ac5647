/*
 * workflow.h - what moves an emergency along: backup evidence, smoke
 * results, cleanup items, closing and withdrawing a ticket.  Each is a
 * state change (home_begin .. home_commit) checked against the steps
 * (steps.h) as of now.
 */
#ifndef BG_WORKFLOW_H
#define BG_WORKFLOW_H

#include "err.h"
#include "home.h"
#include "repocheck.h"
#include "smokecheck.h"
#include "steps.h"

/* Evidence for the backup gate.  kind: backup or rollback. */
int workflow_evidence(home *h, int64_t ticket, const char *kind, const char *method,
    const char *what, const char *location, const char *taken, const char *file,
    const char *sha256, bg_error *e);

/* Smoke test result: pass or fail (notes required), or waived (needs a
 * satisfied smoke-waiver approval). */
int workflow_smoke(home *h, int64_t ticket, const char *result, const char *notes,
    bg_error *e);

/*
 * Run smoke check c (smokecheck.h) and record its result: phase "before"
 * while no write grant of the ticket has been activated (the check should
 * fail then: it sees the incident), "after" once one has.  A "before"
 * result never counts for closing.  *phase is set on success.  The HTTP
 * request is made before the state change begins.
 */
int workflow_smoke_check(home *h, int64_t ticket, smokecheck *c, const char **phase,
    bg_error *e);

/*
 * Decide command check c (smokecheck.h: smokecmd_find reads the verified
 * host logs) and record its result.  The record's own time decides the
 * phase: "before" when the gate ran it before the ticket's first write
 * grant was activated, "after" from then on.  *phase is set on success.
 * No record: BG_ERR_NOTFOUND, nothing recorded.
 */
int workflow_smoke_command(home *h, int64_t ticket, smokecmd *c, const char **phase,
    bg_error *e);

/*
 * Inside the caller's state change (runbook import): record a smoke check
 * the client ran on their own host, a step of a client-executed runbook,
 * with the phase the run gave it (before or after the runbook's fix
 * steps).  notes say it was client-run and where; who (the signer of the
 * result bundle) is recorded as the actor, and a smoke.check audit record
 * marked client_run is written.  c: url, status, elapsed_ms, body_sha256,
 * body_size, pass, why, name (or NULL).
 */
int workflow_smoke_client(home *h, int64_t ticket, const smokecheck *c, const char *phase,
    const char *expect, const char *notes, const char *who, bg_error *e);

/* Mark a cleanup item done (note optional, required for followup-ticket) or
 * not applicable (na, reason required).  branch-merged and staging-applied
 * done this way need the reason it was not checked (note), recorded as
 * "not verified: ..."; workflow_cleanup_repo checks them. */
int workflow_cleanup(home *h, int64_t ticket, const char *item, const char *state,
    const char *note, bg_error *e);

/*
 * branch-merged or staging-applied, checked (repocheck.h): done when every
 * path the ticket's change sets changed is on the branch as production has
 * it; otherwise refused (BG_ERR_GATE, c->diffs lists what differs), or,
 * with reason, done and marked NOT VERIFIED.  c->diffs is the caller's.
 */
int workflow_cleanup_repo(home *h, int64_t ticket, const char *item, repocheck *c,
    const char *reason, bg_error *e);

/*
 * Close the ticket: reap expired grants, end never-activated ones, check
 * smoke and cleanup, write the final report to HOME/reports/T-N.md, audit
 * it with its hash and sign a per-ticket checkpoint.
 */
int workflow_close(home *h, int64_t ticket, bg_error *e);

/* Withdraw a ticket that never got access (false alarm). */
int workflow_withdraw(home *h, int64_t ticket, const char *reason, bg_error *e);

#endif
