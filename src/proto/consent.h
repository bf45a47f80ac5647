/*
 * consent.h - the owner's consent to a write grant, as the broker puts it
 * into the grant's certificate and the host verifies it.
 *
 * The approval statement (version 2; the broker issues it, approvers sign
 * it with ssh-keygen -Y sign -n breakglass) lists, for a plan, every write
 * grant with its full scope:
 *
 *   breakglass approval statement v2
 *   kind: plan
 *   ticket: T-3
 *   ...
 *   write-grant: G-5 SPEC-SHA256
 *     kind: ssh                      <- the grant's request, every line,
 *     system: web1                      indented two spaces (read:,
 *     account: hotfix                   write:, command:, sudo:, ... and
 *     write: /srv/shop/app              whatever lines later versions of
 *     ...                               the request add); SPEC-SHA256 is
 *   issued: ...                         the SHA-256 of the unindented lines
 *
 * The certificate extension CERT_CONSENT_EXTENSION carries that statement
 * and the approvers' signatures over it:
 *
 *   breakglass consent v1
 *   statement-bytes: N
 *   <N bytes: the statement>
 *   -----BEGIN SSH SIGNATURE-----    (one armoured SSHSIG per approver)
 *   ...
 *   -----END SSH SIGNATURE-----
 *
 * A host accepts a write certificate only if the statement is a version
 * it knows, a plan of the certificate's ticket, lists the certificate's
 * grant with exactly the certificate's scope (and its artifacts), was
 * still valid when the grant was activated, and a quorum of distinct
 * approvers from the host's own allowed_signers file signed it.  The
 * quorum and the signers come from the host, never from the certificate.
 */
#ifndef BG_CONSENT_H
#define BG_CONSENT_H

#include "buf.h"
#include "err.h"
#include "signers.h"
#include "sshsig.h"

#include <stdint.h>

#define CONSENT_STATEMENT_VERSION 2
#define CONSENT_STATEMENT_HEADER "breakglass approval statement v"
#define CONSENT_NAMESPACE "breakglass"
#define CONSENT_MAX_SIGS 16
#define CONSENT_MAX (48u * 1024)

/* Append a write grant's statement block: the write-grant line, then
 * every line of spec (the canonical request, lines ending in \n)
 * indented two spaces. */
int consent_grant_block(int64_t grant, const char *spec_hash, const char *spec, buf *out);

/* Append the certificate extension's text for statement and signatures. */
int consent_format(const char *statement, const char *const *sigs, size_t nsigs, buf *out);

typedef struct consent {
	char *statement;
	sshsig sigs[CONSENT_MAX_SIGS];
	size_t nsigs;
} consent;

/* Parse the extension's text (strict: version, length, armour, nothing
 * else).  BG_ERR_INVALID, BG_ERR_TOOLARGE. */
int consent_parse(const char *text, size_t len, consent *out, bg_error *e);
void consent_release(consent *c);

/*
 * Check c against the certificate scope (the CERT_SCOPE_EXTENSION text)
 * and the host's approvers: 0, or BG_ERR_PERM / BG_ERR_SIGNATURE /
 * BG_ERR_UNSUPPORTED (a statement version this host does not know) with
 * the reason.  valid_after: the certificate's (the grant's activation);
 * now: the host's clock, for the signers' validity windows.
 */
int consent_verify(const consent *c, const char *scope, const signers *approvers,
    int quorum, int64_t valid_after, int64_t now, bg_error *e);

/*
 * What a (verified) plan statement says of the SQL artifact whose
 * SHA-256 is sha: its approved row count from the "sql-rows: SHA N" line
 * (*rows, -1 if none) and its approved-destructive statements from the
 * "sql-destructive: SHA N" lines (statement N as bit N-1 of
 * *destructive, N <= 64).  Lines of another shape are not marks.  The
 * host's apply and the client's runbook both read them here.
 */
void consent_sql_marks(const char *statement, const char *sha, int64_t *rows,
    uint64_t *destructive);

#endif
