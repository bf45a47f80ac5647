/*
 * workflow.h - the ten steps of an emergency and the gates between them.
 *
 * Nothing here is stored as "the current step": every answer is derived
 * from the records (approvals, evidence, plans, grants, smoke results,
 * cleanup items) at the moment it is asked, with the current UTC time, so
 * an approval that expired a second ago no longer opens its gate.
 *
 *   1 confirmation     signed confirmation statement (quorum, named approver)
 *   2 access review    at least one access request passed policy
 *   3 backup check     backup and rollback evidence, or signed risk acceptance
 *   4 diagnosis        a grant was used, or a plan records the root cause
 *   5 fix plan         a plan with its artifacts by hash
 *   6 approval         the plan signed (quorum), still valid and current
 *   7 implementation   a write grant was activated
 *   8 smoke test       a passing result, or a signed waiver
 *   9 documentation    generated from the records when the ticket closes
 *  10 cleanup          every item done or not applicable; all grants ended
 */
#ifndef BG_WORKFLOW_H
#define BG_WORKFLOW_H

#include "approval.h"
#include "buf.h"
#include "err.h"
#include "home.h"
#include "ticket.h"

typedef struct wf_gates {
	approval_state confirm;
	approval_state risk;
	approval_state plan;
	int64_t plan_id;
	char plan_hash[65];
	int backup_recorded;
	int rollback_recorded;
	int backup_ok; /* evidence of both, or accepted risk */
} wf_gates;

/* Evaluate the gates of t now. */
int workflow_gates(home *h, const ticket *t, wf_gates *g, bg_error *e);

#define WF_STEPS 10

typedef struct wf_step {
	const char *name;
	int done;
	char missing[512];
} wf_step;

typedef struct wf_status {
	wf_step step[WF_STEPS];
	int current;      /* 1..10; 11 when everything is done */
	wf_gates g;
	int grants_open;  /* grants not yet ended */
	int cleanup_open; /* cleanup items not resolved */
	char smoke[16];   /* "", pass, fail, waived */
} wf_status;

int workflow_status(home *h, const ticket *t, wf_status *s, bg_error *e);

/* Evidence for the backup gate.  kind: backup or rollback. */
int evidence_add(home *h, int64_t ticket, const char *kind, const char *method,
    const char *what, const char *location, const char *taken, const char *file,
    const char *sha256, bg_error *e);

/* Smoke test result: pass or fail (notes required), or waived (needs a
 * satisfied smoke-waiver approval). */
int smoke_record(home *h, int64_t ticket, const char *result, const char *notes,
    bg_error *e);

extern const char *const cleanup_items[];
/* Mark a cleanup item done (note optional, required for followup-ticket) or
 * not applicable (na, reason required). */
int cleanup_mark(home *h, int64_t ticket, const char *item, const char *state,
    const char *note, bg_error *e);

/*
 * Close the ticket: reap expired grants, end never-activated ones, check
 * smoke and cleanup, write the final report to HOME/reports/T-N.md, audit
 * it with its hash and sign a per-ticket checkpoint.
 */
int workflow_close(home *h, int64_t ticket, bg_error *e);

/* Withdraw a ticket that never got access (false alarm). */
int workflow_withdraw(home *h, int64_t ticket, const char *reason, bg_error *e);

#endif
