/*
 * pgrole.h - PostgreSQL login roles made from a db grant, and taken away.
 *
 * The host supervisor holds one privileged connection per database (peer
 * authentication as the server's admin OS user; the conninfo it is given
 * must not carry a password).  For a grant's first use it creates a role
 * "bg_gN" (N the grant's number) in one transaction: LOGIN with a random
 * password whose SCRAM verifier is computed here (the password itself is
 * never sent and is held only in the returned pgrole, wiped by
 * pgrole_release), a connection limit, VALID UNTIL the grant's expiry,
 * NOINHERIT, none of SUPERUSER/CREATEDB/CREATEROLE/REPLICATION/BYPASSRLS,
 * member of the group "breakglass_grants" (the pg_hba rule accepting that
 * group by scram only is what makes the role usable by the supervisor
 * alone), statement/lock/idle timeouts and default_transaction_read_only
 * as role settings, CONNECT on the grant's database, USAGE on the named
 * schemas and exactly the named table privileges.  Every identifier goes
 * through PQescapeIdentifier, every literal through PQescapeLiteral.
 *
 * Revocation: NOLOGIN and the privileges revoked in one committed
 * transaction, then every backend of the role terminated and waited for,
 * then the role dropped (or, if it owns objects, kept NOLOGIN with no
 * privileges).  pgrole_repair finds every breakglass role the caller does
 * not name as live and revokes it: since passwords live only in the
 * supervisor's memory, after a restart none is usable.
 */
#ifndef BG_PGROLE_H
#define BG_PGROLE_H

#include "buf.h"
#include "err.h"
#include "sqlcheck.h"

#include <libpq-fe.h>
#include <stdint.h>

#define PGROLE_MAX_TABLES 32
#define PGROLE_GROUP "breakglass_grants"

/* table privileges */
enum { PGROLE_SELECT = 1, PGROLE_INSERT = 2, PGROLE_UPDATE = 4, PGROLE_DELETE = 8 };

typedef struct dbgrant {
	int64_t grant;               /* the grant's number: role "bg_g<grant>" */
	char role[32];               /* another name for the role ("" for bg_g<grant>):
	                                a client's runbook apply, never bg_g... */
	char database[64];
	size_t ntables;
	char tables[PGROLE_MAX_TABLES][SQLCHECK_NAME];   /* "schema.table" */
	int privs[PGROLE_MAX_TABLES];                    /* PGROLE_* bits */
	int write;                   /* write tier: default_transaction_read_only off */
	int64_t until;               /* expiry, UTC seconds */
	int conn_limit;              /* 0: 2 */
	int statement_timeout_ms;    /* 0: 30 s */
	int lock_timeout_ms;         /* 0: 5 s */
	int idle_timeout_ms;         /* 0: 10 min (session and in-transaction) */
} dbgrant;

typedef struct pgrole {
	char name[32];
	char password[48];           /* secret: wiped by pgrole_release */
} pgrole;

/*
 * Connect with conninfo (libpq key=value) as the supervisor's privileged
 * user, to database dbname (overrides conninfo's).  A conninfo naming a
 * password, passfile or service is refused (BG_ERR_POLICY); a connection failure
 * is BG_ERR_IO; a user that cannot create roles is BG_ERR_PERM.
 */
int pgrole_admin_connect(const char *conninfo, const char *dbname, PGconn **out,
    bg_error *e);

/* 1 for a conninfo keyword breakglass refuses: password, passfile, and
 * service (a pg_service.conf entry can carry either): its connections are
 * made by peer authentication only. */
int pgrole_conninfo_secretive(const char *keyword);

/*
 * Check a conninfo before it is written to a configuration or used: libpq
 * parses it (key=value or URI form, exactly as a connection would) and no
 * keyword pgrole_conninfo_secretive names has a value.  0;
 * BG_ERR_UNSUPPORTED when libpq cannot be loaded (nothing is guessed
 * without its parser); BG_ERR_INVALID with libpq's message when it cannot
 * parse; BG_ERR_POLICY naming the keyword.
 */
int pgrole_conninfo_check(const char *conninfo, bg_error *e);

/*
 * Take away what PUBLIC reaches that a grant role must not: CONNECT and
 * TEMPORARY on every database, EXECUTE on the large-object functions in
 * admin's database.  PostgreSQL cannot subtract a PUBLIC privilege for
 * one role, so it is revoked from PUBLIC and granted back by name to
 * every existing login role that is not a breakglass role (database
 * owners and superusers keep theirs anyway): what exists keeps working,
 * a role made later gets nothing it was not given.  Idempotent; the
 * supervisor runs it on each database target before the first role.
 */
int pgrole_harden(PGconn *admin, bg_error *e);

/*
 * Parse "schema.table" names for g from a grant's comma list (unqualified
 * names are in schema "public"); each gets SELECT.  BG_ERR_INVALID for
 * anything but plain identifiers, duplicates or more than
 * PGROLE_MAX_TABLES.
 */
int pgrole_grant_tables(dbgrant *g, const char *list, bg_error *e);

/*
 * Add the privileges an approved patch needs (INSERT/UPDATE/DELETE on
 * the tables it modifies; DELETE also UPDATE, which PostgreSQL requires
 * for the before-image's FOR UPDATE) to write-tier grant g.  A table the grant does
 * not name is BG_ERR_POLICY.
 */
int pgrole_grant_for_patch(dbgrant *g, const sqlcheck *c, bg_error *e);

/*
 * Create the role for g through admin (connected to g->database).  0 with
 * *out filled; BG_ERR_EXISTS if the role already exists (the caller
 * revokes it first); BG_ERR_STORE with the server's message otherwise.
 * Nothing is left behind on failure (one transaction).
 */
int pgrole_create(PGconn *admin, const dbgrant *g, pgrole *out, bg_error *e);

/*
 * The supervisor's own connection as role r to g's database, through the
 * server reached by conninfo (its user and password keys are replaced).
 */
int pgrole_connect(const char *conninfo, const dbgrant *g, const pgrole *r,
    PGconn **out, bg_error *e);

/*
 * Revoke role name through admin (connected to the database it was made
 * for): NOLOGIN + privileges revoked (committed), backends terminated and
 * waited for (up to wait_ms), role dropped.  *terminated counts the
 * backends ended; *kept is 1 if the role owns objects and was kept
 * NOLOGIN.  A role that does not exist is 0 (revocation is idempotent).
 * BG_ERR_STATE if a backend is still alive after wait_ms.
 */
int pgrole_revoke(PGconn *admin, const char *name, int wait_ms, int *terminated,
    int *kept, bg_error *e);

/*
 * Revoke every breakglass role (bg_g<N>) whose N is not in live[0..nlive)
 * — leftovers of a crash or of a revocation that failed halfway.
 * *removed counts them.  Roles made for another database than admin's
 * are revoked too (NOLOGIN, backends ended, dropped if nothing holds
 * them; their privileges there go when that database is repaired).
 */
int pgrole_repair(PGconn *admin, const int64_t *live, size_t nlive, int *removed,
    bg_error *e);

/* Run sql expecting no rows: 0, or BG_ERR_STORE with the server's
 * message after "postgres: WHAT: " in e (may be NULL). */
int pgrole_run(PGconn *c, const char *sql, const char *what, bg_error *e);
/* Append an identifier escaped by PQescapeIdentifier, a literal by
 * PQescapeLiteral, "schema.table" as two escaped identifiers. */
int pgrole_put_ident(PGconn *c, buf *b, const char *s);
int pgrole_put_literal(PGconn *c, buf *b, const char *s);
int pgrole_put_table(PGconn *c, buf *b, const char *qual);

/* Wipe the password. */
void pgrole_release(pgrole *r);

#endif
