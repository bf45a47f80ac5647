/*
 * freeze.h - the change freeze: while an emergency is active, nothing
 * unrelated is deployed or upgraded on its project's systems.
 *
 * A ticket freezes its project's systems (and its own system) from the
 * moment its confirmation is signed until it is closed or withdrawn:
 * precisely, while it is open and either its confirmation gate is open
 * now, or it has had access granted (a confirmation that lapses after work
 * began does not end the emergency; one that lapses before any access was
 * granted does).  "Since" is when the first confirmation signature was
 * recorded.  The ticket's own emergency branch (the intake's
 * emergency-branch, else hotfix/T-N) is let through.
 *
 * Pipelines ask with `breakglass freeze status`; hosts read the state the
 * broker publishes (freezefmt.h) at every change that can alter it.
 */
#ifndef BG_FREEZE_H
#define BG_FREEZE_H

#include "err.h"
#include "freezefmt.h"
#include "home.h"

/* Who to ask about a frozen ticket. */
typedef struct freeze_contact {
	int64_t ticket;
	char requester[256];
	char approver[256];   /* the intake's approver-email, or "" */
} freeze_contact;

/*
 * The active emergencies as of h->now, filtered: proj (NULL: any),
 * system S (NULL: any; else tickets that freeze S), branch (NULL: none;
 * else tickets whose emergency branch it is are left out).  out->v[i]
 * and contacts[i] (may be NULL; malloc'd, free with free()) correspond.
 */
int freeze_query(home *h, const char *proj, const char *system, const char *branch,
    freezefmt *out, freeze_contact **contacts, bg_error *e);

/*
 * Write the whole freeze state (no filter) to HOME/freeze.state and, when
 * the config names one, to freeze-publish.  Call inside a state change
 * that can alter it (confirmation signed, grant activated, ticket closed
 * or withdrawn).
 */
int freeze_publish(home *h, bg_error *e);

#endif
