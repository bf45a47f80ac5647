/*
 * mariarole.h - MariaDB accounts made from a db grant, and taken away.
 *
 * The same contract as pgrole (see pgrole.h) on MariaDB 10.11: account
 * 'bg_gN'@'localhost' with a random password held by the supervisor,
 * MAX_USER_CONNECTIONS and MAX_STATEMENT_TIME, exactly SELECT on the
 * named tables (write tier: what the approved patch needs), nothing on
 * other databases (MariaDB has no PUBLIC grant to take away).  The
 * privileged connection is root by unix_socket (no password).  MariaDB's
 * account statements are not transactional: a crash between CREATE USER
 * and the GRANTs leaves an account with fewer privileges, never more,
 * and mariarole_repair removes it.  The password travels once, in CREATE
 * USER over the local socket (MariaDB masks it in its logs).
 * Revocation: ACCOUNT LOCK, REVOKE ALL, KILL HARD USER, wait until no
 * connection is left, DROP USER.
 *
 * A server that grants anything to PUBLIC (MariaDB 10.11) is refused:
 * every account has those privileges, a grant's account too.
 *
 * Direct grants, not a role per grant: with one account per grant a role
 * is a second object holding the same privileges - one more thing a crash
 * can leave behind and the repair must find, a DEFAULT ROLE to keep set,
 * and SET ROLE states (NONE, the role) the account can switch between -
 * while revoking the account's own grants and dropping it already takes
 * everything at once.  MariaDB's roles share privileges among accounts;
 * breakglass never shares.
 */
#ifndef BG_MARIAROLE_H
#define BG_MARIAROLE_H

#include "err.h"
#include "pgrole.h"

#include <mysql.h>

/* Connect as root over the unix socket sock; BG_ERR_IO on failure. */
/* Append an identifier in backquotes (a backquote doubled), a literal
 * escaped by mysql_real_escape_string for connection M (its buffer wiped). */
int mariarole_put_ident(buf *b, const char *s);
int mariarole_put_literal(MYSQL *m, buf *b, const char *s);
int mariarole_admin_connect(const char *sock, MYSQL **out, bg_error *e);
/* Create the account for g (g->database is the MariaDB database): named
 * g->role when set (a client's runbook apply), else bg_g<grant>. */
int mariarole_create(MYSQL *admin, const dbgrant *g, pgrole *out, bg_error *e);
/* The supervisor's connection as the account. */
int mariarole_connect(const char *sock, const dbgrant *g, const pgrole *r, MYSQL **out,
    bg_error *e);
/* Revoke the account called name (see above); a missing account is 0. */
int mariarole_revoke(MYSQL *admin, const char *name, int wait_ms, int *terminated,
    bg_error *e);
/* Revoke every bg_gN account whose N is not in live. */
int mariarole_repair(MYSQL *admin, const int64_t *live, size_t nlive, int *removed,
    bg_error *e);

#endif
