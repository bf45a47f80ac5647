/*
 * grantscope.h - a grant as both sides read it.
 *
 * The broker stores a grant request as a kv document with these fields
 * (kind, system, account, tier, read, write, command, sudo, sudo-intercept
 * - a privileged command marked as starting programs, each of which sudo
 * checks again (INTERCEPT) -, ...; a db
 * grant's tables as "table: schema.table" lines); when it
 * issues a certificate, the scope it puts in the certificate's extension
 * is "ticket", "grant", the same fields, and one "artifact: SHA256 KIND"
 * line per approved artifact.  The host's gate parses that scope with
 * grantscope_cert_schema and trusts nothing else about the grant.  Both
 * sides include this header, so neither includes the other.
 */
#ifndef BG_GRANTSCOPE_H
#define BG_GRANTSCOPE_H

#include "kv.h"

#include <stdint.h>

/* The largest plan artifact: the broker stores no larger, the gate reads
 * no more from standard input for 'apply'. */
#define GRANTSCOPE_MAX_ARTIFACT (8u * 1024 * 1024)

/* A grant request: the fields, their limits, which are required. */
extern const kv_key grantscope_request_schema[];

/* The scope a grant certificate carries: ticket, grant, the request's
 * fields, approved artifacts. */
extern const kv_key grantscope_cert_schema[];

/*
 * An id as people write it: "T-12", "t-12" or "12" for prefix 'T' (and
 * 'G' for grants).  0, or BG_ERR_INVALID for anything else (no sign, no
 * leading zero, at most 10^9).
 */
int grantscope_parse_id(const char *s, char prefix, int64_t *id);

/*
 * 1 if a grant with these fields (a request, or a certificate scope) can
 * change anything: ssh with a tier other than read, a write directory, a
 * command or a sudo (or sudo-intercept) line; sftp with a write directory; other kinds with
 * access read-write.
 */
int grantscope_writes(const kv_doc *d);

/*
 * The group that holds a grant's privileged commands on a host.  sudoers
 * lines are keyed by it ("%#GID"), not by the account: only the processes
 * hostd starts for that grant carry the group, so two grants on one
 * account never share each other's privileged commands, and no other
 * process of the account can use them.  Derived from the CA's public key
 * and the grant id (both sides know both): 0x60000000 + 28 bits of
 * SHA-256, far above the ids distributions, systemd and container ranges
 * hand out.
 */
#define GRANTSCOPE_SUDO_GID_BASE 0x60000000u
uint32_t grantscope_sudo_gid(const unsigned char ca_pk[32], int64_t grant);

/* The ticket and grant a certificate scope names. */
int grantscope_ids(const kv_doc *scope, int64_t *ticket, int64_t *grant);

#endif
