/*
 * steps.h - the ten steps of an emergency and the gates between them.
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
 *  10 cleanup          every item done or not applicable; all grants ended;
 *                      the owner's signed resolved statement (or a signed
 *                      close-unconfirmed statement saying why not)
 */
#ifndef BG_STEPS_H
#define BG_STEPS_H

#include "approval.h"
#include "buf.h"
#include "err.h"
#include "home.h"
#include "ticket.h"

typedef struct steps_gates {
	approval_state confirm;
	approval_state risk;
	approval_state plan;
	approval_state resolved;     /* the owner: "the affected flow works for me" */
	approval_state unconfirmed;  /* close-unconfirmed: closed without it, and why */
	int64_t plan_id;
	char plan_hash[65];
	int backup_recorded;
	int rollback_recorded;
	int backup_ok; /* evidence of both, or accepted risk */
	int sql_patch; /* the current plan has a SQL artifact: its before-images
	                * must be dropped (cleanup item before-images-dropped) */
} steps_gates;

/* Evaluate the gates of t as of h->now.  0, or a store error. */
int steps_gates_now(home *h, const ticket *t, steps_gates *g, bg_error *e);

#define STEPS_N 10

typedef struct steps_step {
	const char *name;
	int done;
	char missing[1024];
} steps_step;

typedef struct steps_status {
	steps_step step[STEPS_N];
	int current;      /* 1..10; 11 when everything is done */
	steps_gates g;
	int grants_open;  /* grants not yet ended */
	int cleanup_open; /* cleanup items not resolved */
	int owner_ok;     /* resolved or close-unconfirmed satisfied */
	char owner_missing[1024]; /* what to issue and who signs, when not */
	char smoke[16];   /* "", pass, fail, waived */
} steps_status;

/* Every step of t as of h->now, with what is missing for each. */
int steps_status_now(home *h, const ticket *t, steps_status *s, bg_error *e);

/* before-images-dropped, the last cleanup item: only a ticket whose plan
 * has a SQL artifact needs it (otherwise it counts as not applicable) */
#define STEPS_CLEANUP_IMAGES "before-images-dropped"

/* 1 when item i is resolved without a record: before-images-dropped on a
 * ticket without a SQL patch. */
int steps_cleanup_implied(const steps_gates *g, const char *item);

/* The cleanup items, NULL-terminated; the first (grants-revoked) is
 * checked automatically. */
extern const char *const steps_cleanup_items[];

#endif
