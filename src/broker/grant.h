/*
 * grant.h - access grants: requested -> approved -> active -> expired |
 * revoked.
 *
 * A grant request is a kv document (kind, system, account, tier, read,
 * write, command, sudo, ...).  It is validated structurally here, then
 * checked against the minimum-access policy; a refusal names the rule and
 * a narrower request.  Approval is derived from signatures (read grants:
 * the confirmation; write grants: the plan approval that lists them);
 * activation starts the clock (not-before/not-after in UTC) and re-checks
 * every gate and the policy.  Time is checked at every use: an active
 * grant past its not-after is treated as expired even before reaping.
 */
#ifndef BG_GRANT_H
#define BG_GRANT_H

#include "err.h"
#include "grantscope.h"
#include "home.h"
#include "kv.h"
#include "policy.h"
#include "ticket.h"

#define GRANT_DEFAULT_TTL "2h"

typedef struct grant {
	int64_t id;
	int64_t ticket;
	char kind[16];
	char *spec;        /* canonical request */
	char spec_hash[65];
	int writes;
	int64_t ttl;
	char state[16];    /* stored state */
	int64_t requested;
	char *requested_by;
	int64_t approved;
	int64_t approved_via;
	int64_t not_before;
	int64_t not_after;
	int64_t ended;
	char *ended_by;
	char *end_reason;
	char *revocation_confirmed;
	kv_doc fields;
} grant;

/* "G-12" or "12". */
int grant_parse_id(const char *s, int64_t *id);

/* Structural validation; sets *writes and *ttl. */
int grant_validate(const kv_doc *d, int *writes, int64_t *ttl, bg_error *e);

/* Canonical text of a request (schema order). */
int grant_canonical(const kv_doc *d, buf *out);

/*
 * Check and store a request for ticket.  On a policy refusal returns
 * BG_ERR_POLICY with every violation in *v (and audits the refusal).
 */
int grant_request(home *h, int64_t ticket, const kv_doc *d, int64_t *id,
    policy_verdict *v, bg_error *e);

/* Start the grant's window after re-checking every gate. */
int grant_activate(home *h, int64_t id, bg_error *e);

/* Revoke.  Manual grants that were active need confirm (how it was removed). */
int grant_revoke(home *h, int64_t id, const char *reason, const char *confirm,
    bg_error *e);

/* Expire every active grant whose window has ended; *n how many. */
int grant_reap(home *h, int *n, bg_error *e);

/* Move requested grants to approved where signatures allow (inside a
 * state change). */
int grant_refresh(home *h, const ticket *t, bg_error *e);

int grant_load(home *h, int64_t id, grant **out, bg_error *e);
void grant_free(grant *g);

/* State as of now: "expired" for an active grant past its not-after. */
const char *grant_state_now(const grant *g, int64_t now);

/*
 * Issue an OpenSSH user certificate for an active ssh/sftp grant of an
 * open ticket: principal = the grant's account, validity = the grant's
 * window, force-command = the configured gate, the scope in an extension,
 * a new serial.  Appends the -cert.pub line to out; audited.
 */
int grant_cert(home *h, int64_t id, const char *pubkey_line, buf *out, uint64_t *serial,
    bg_error *e);

/*
 * The sudoers drop-in for g's privileged commands: the processes hostd
 * starts for this grant (they alone carry its group, grantscope_sudo_gid
 * of the CA key ca_pk) may run exactly those argvs as root, without a password, only between the
 * grant's not-before and not-after (generalized time with Z); sudo
 * commands NOEXEC, sudo-intercept commands INTERCEPT.  Returns
 * BG_ERR_NOTFOUND when g has no privileged commands.
 */
int grant_sudoers_text(const grant *g, const char *account, const unsigned char ca_pk[32],
    buf *out);

/* With sudoers-dir configured: install g's drop-in after visudo -cf
 * accepts it (at activation); remove it (at revocation and expiry). */
int grant_sudoers_install(home *h, const grant *g, bg_error *e);
int grant_sudoers_remove(home *h, int64_t gid, bg_error *e);

/* Load the effective policy for a project (home rules + project file). */
int grant_load_policy(home *h, const char *proj, policy *p, bg_error *e);

#endif
