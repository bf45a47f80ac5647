/*
 * approval.h - approvers, the statements they sign, and their signatures.
 *
 * Approvers are registered per project as OpenSSH allowed_signers lines
 * (namespace "breakglass").  An approval is an SSHSIG signature, made with
 * `ssh-keygen -Y sign -n breakglass`, over a canonical statement that
 * breakglass issued for one ticket: a header naming the ticket, project,
 * requester and what is approved (the intake hash, or the plan hash, its
 * artifacts and the write grants it covers), an issue time, a validity
 * end and a nonce, then the words the approver agrees to.
 *
 * A kind of approval (confirm, risk, plan, smoke-waiver, resolved,
 * close-unconfirmed) is satisfied when
 * `quorum` distinct registered approvers, none of them the requester, have
 * signed one statement that is still valid (not past valid-until) and
 * still current (its binding hash equals the ticket's current intake or
 * plan hash).
 */
#ifndef BG_APPROVAL_H
#define BG_APPROVAL_H

#include "buf.h"
#include "err.h"
#include "home.h"
#include "ticket.h"

#include <stdint.h>

#define APPROVAL_NAMESPACE "breakglass"

/*
 * Changing a project's approvers (admins only): once the project has
 * approvers, a roster statement for exactly that change over the current
 * roster, signed by the project's quorum of its current approvers.
 */
typedef struct approver_roster {
	const char *statement;   /* the statement's text as signed */
	const char *const *sigs; /* armoured SSH signatures over it */
	size_t nsigs;
} approver_roster;

/* The change's one-line form: "add PRINCIPAL KEY", "remove PRINCIPAL" or
 * "quorum N" (op "quorum", principal the number). */
int approver_change_text(const char *op, const char *principal, const char *pubkey_line,
    buf *out, bg_error *e);
/* The roster statement to sign for change (approver_change_text). */
int approver_roster_statement(home *h, const char *proj, const char *change, buf *out,
    bg_error *e);
/*
 * Register an approver from an OpenSSH public key line ("type base64 [c]"):
 * the user with that email holds the key (made when missing; a key of
 * another user is refused).  ro: the roster statement, NULL when none.
 */
int approver_add(home *h, const char *proj, const char *principal,
    const char *name, const char *pubkey_line, const approver_roster *ro, bg_error *e);
/* Register every entry of an allowed_signers file (one principal each): a
 * project's first approvers only. */
int approver_import(home *h, const char *proj, const char *text, size_t len,
    int *added, bg_error *e);
/* Change the number of approver signatures the project needs: with a
 * roster statement for "quorum N" signed by the current quorum once the
 * project has approvers; never above the number of approvers. */
int approver_set_quorum(home *h, const char *proj, int quorum, const approver_roster *ro,
    bg_error *e);
/* Remove (mark removed) an approver by principal; never below the quorum. */
int approver_remove(home *h, const char *proj, const char *principal,
    const approver_roster *ro, bg_error *e);
/* The project's approvers as an allowed_signers file. */
int approver_export(home *h, const char *proj, buf *out, bg_error *e);

typedef struct statement {
	int64_t id;
	int64_t ticket;
	char kind[24];
	char *text;
	char hash[65];
	char binding[65];
	int64_t issued;
	int64_t valid_until;
	int fresh;               /* issued by this call (not a re-issue) */
} statement;

void statement_free(statement *s);

/* 1 if kind is confirm, risk, plan, smoke-waiver, resolved or
 * close-unconfirmed. */
int statement_kind_valid(const char *kind);

/*
 * Issue (or re-use the newest still-valid, still-current, identical-scope)
 * statement of kind for ticket t.  reason is required for risk,
 * smoke-waiver and close-unconfirmed.  The statement is stored and audited.
 *
 * resolved is the owner's "the affected flow works for me": it names the
 * affected flow, the current plan, every write grant that was used and
 * the smoke result that counts, and binds their hash
 * (approval_resolved_binding), so more work after it makes it stale.  Like
 * confirm, it must carry the ticket's named approver among the quorum.
 * close-unconfirmed closes without that confirmation, for a reason.
 */
int statement_issue(home *h, int64_t ticket, const char *kind, const char *reason,
    statement **out, bg_error *e);

/*
 * The resolved statement's binding section for t as of now, appended to
 * out, and its SHA-256 in binding (what approval_check compares).
 */
int approval_resolved_binding(home *h, const ticket *t, buf *out, char binding[65],
    bg_error *e);

typedef struct approval_result {
	char kind[24];
	char principal[256];
	char fingerprint[64];
	int64_t statement;
	int signatures;
	int quorum;
} approval_result;

/*
 * Verify an armoured SSHSIG against the ticket's open statements and
 * record it.  Refuses unregistered keys, the requester, altered
 * statements, wrong namespaces, expired statements and duplicates.
 */
int approval_record(home *h, int64_t ticket, const char *sig, size_t len,
    approval_result *res, bg_error *e);

typedef struct approval_state {
	int64_t statement;  /* satisfying statement, 0 if none */
	int signatures;     /* on the newest current statement */
	int quorum;
	int64_t valid_until;
	char why[256];      /* what is missing, when not satisfied */
} approval_state;

/*
 * Is kind satisfied for t right now?  binding is the current intake or
 * plan hash the statement must carry.  0 with st filled either way.
 */
int approval_check(home *h, const ticket *t, const char *kind, const char *binding,
    approval_state *st, bg_error *e);

/* The newest statement of kind issued for ticket (0: none yet). */
int64_t approval_newest(home *h, int64_t tid, const char *kind, bg_error *e);

/* 1 if plan statement stmt lists grant gid with spec hash spec_hash. */
int approval_covers_grant(home *h, int64_t stmt, int64_t gid, const char *spec_hash,
    bg_error *e);

/*
 * Statement stmt and the armoured signatures recorded for it by approvers
 * not removed, oldest first, appended to sigs one after another, each
 * with its NUL (*nsigs of them).  *out is the caller's (statement_free).
 */
int approval_statement_load(home *h, int64_t stmt, statement **out, buf *sigs, size_t *nsigs,
    bg_error *e);

/*
 * Why grant gid is not yet approved by a plan statement that lists it:
 * 1 with why set ("plan statement 3 lists G-3 but has 1 of 2 signatures")
 * when a plan statement of t lists it (the newest one), 0 when none does.
 */
int approval_grant_pending(home *h, const ticket *t, int64_t gid, const char *spec_hash,
    char *why, size_t len, bg_error *e);

/* Visit the signers of a statement (for reports). */
typedef int (*approval_signer_fn)(void *ctx, const char *principal, const char *name,
    const char *fingerprint, int64_t recorded);
int approval_signers(home *h, int64_t stmt, approval_signer_fn fn, void *ctx, bg_error *e);

/*
 * Append the consent a write grant's certificate carries (consent.h): the
 * text of plan statement stmt and every signature recorded over it.
 */
int approval_consent(home *h, int64_t stmt, buf *out, bg_error *e);

#endif
