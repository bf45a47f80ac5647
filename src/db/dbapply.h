/*
 * dbapply.h - an approved SQL patch applied to a database target named by
 * the caller's own configuration, with its before-image kept in the
 * database, and rolled back from it: the engine-neutral entry the
 * client's runbook uses (the host's gate drives pgpatch through its own
 * grant role and session).
 *
 * A target is an engine and how to reach it locally: PostgreSQL through
 * a libpq conninfo for the unix socket with peer authentication (a
 * conninfo naming a password or passfile is refused), MariaDB through
 * its unix socket as root by unix_socket authentication (no password
 * anywhere).
 *
 * On PostgreSQL, dbapply_patch makes a role for the patch (pgrole_create
 * with a caller-chosen name; its random password is never used or kept:
 * SELECT on every table the patch names, INSERT/UPDATE/DELETE only where
 * a statement modifies it), takes it with SET ROLE on a second admin
 * connection (the client's server needs no password rule), and runs
 * pgpatch_apply:
 * one transaction with the before-image, the row counts compared with
 * the approved count, rolled back on any difference.  The role is
 * revoked and dropped before the call returns, whatever happened.
 *
 * On MariaDB the same with mariarole and mariapatch: an account
 * 'ROLE'@'localhost' with the same privileges (its random password never
 * leaves the process), a connection as it, mariapatch_apply (images in
 * database `breakglass`), the account revoked and dropped at the end.
 * Every table the patch names must be in the target's database.
 */
#ifndef BG_DBAPPLY_H
#define BG_DBAPPLY_H

#include "err.h"
#include "sqlcheck.h"

#include <stdint.h>

enum { DBAPPLY_POSTGRES = 1, DBAPPLY_MARIADB = 2 };

#define DBAPPLY_MAX_STMTS 16

typedef struct dbapply_target {
	int engine;                /* DBAPPLY_* */
	const char *conninfo;      /* PostgreSQL: libpq conninfo; MariaDB: the socket */
	const char *database;
} dbapply_target;

typedef struct dbapply_stmt {
	int kind;                  /* SQLCHECK_UPDATE or SQLCHECK_DELETE */
	char table[SQLCHECK_NAME];
	int64_t rows;
	char columns[512];         /* UPDATE: the changed columns, "a,b" */
} dbapply_stmt;

/* What leaves the database: counts and column names, never row values. */
typedef struct dbapply_result {
	size_t n;
	dbapply_stmt v[DBAPPLY_MAX_STMTS];
	int64_t rows;
	double txn_ms;             /* the patch's transaction: images + statements */
} dbapply_result;

/* "postgresql" or "mariadb". */
const char *dbapply_engine_name(int engine);

/* 0 if t's engine applies patches with a before-image here, else
 * BG_ERR_UNSUPPORTED with the reason. */
int dbapply_supported(const dbapply_target *t, bg_error *e);

/*
 * Read sql[0..n) with t's engine's parser (sqlcheck) and decide, before
 * anything connects, whether it can be applied: every statement neither
 * refused nor destructive unless its bit in approved (statement N as bit
 * N-1, from the signed plan) is set, and each of a shape a before-image
 * holds (UPDATE or DELETE on one table with a WHERE).  0 with *c filled
 * (release with sqlcheck_release); BG_ERR_POLICY (refused, or destructive
 * and not approved), BG_ERR_UNSUPPORTED (no before-image for it: an
 * approved destructive statement included; more than DBAPPLY_MAX_STMTS),
 * BG_ERR_INVALID (the parser's), with e naming the statement; *c empty.
 * MariaDB: read by sqlcheck_mariadb with the target's database as the
 * default; a table in another database is BG_ERR_UNSUPPORTED.
 */
int dbapply_check(const dbapply_target *t, const char *sql, size_t n, uint64_t approved,
    sqlcheck *c, bg_error *e);

/*
 * Apply sql (checked as c by dbapply_check) to t: before-image under tag
 * ([a-z0-9_], at most 40; unique per patch), the patch, the rows it
 * touched compared with expect_rows, through a role named role (made and
 * dropped here; [a-z0-9_], not "bg_g..." which hosts' repair owns).
 * 0 on commit with *out; BG_ERR_STATE when a count differs (rolled back,
 * images dropped, *out says what was counted); BG_ERR_EXISTS when tag was
 * applied before; BG_ERR_POLICY / BG_ERR_UNSUPPORTED for a table refused
 * (triggers, cascading keys, no primary key); BG_ERR_IO when the target
 * cannot be reached, BG_ERR_STORE for the server's errors.
 */
int dbapply_patch(const dbapply_target *t, const char *sql, size_t n, const sqlcheck *c,
    int64_t expect_rows, const char *tag, const char *role, dbapply_result *out, bg_error *e);

/*
 * Restore the rows of patch tag from its before-image (pgpatch_rollback,
 * mariapatch_rollback:
 * refused, nothing restored, when rows were changed since; *changed
 * counts them).  0 with *restored.
 */
int dbapply_rollback(const dbapply_target *t, const char *tag, int64_t *restored,
    int64_t *changed, bg_error *e);

/* Drop the before-image of tag. */
int dbapply_drop(const dbapply_target *t, const char *tag, bg_error *e);

#endif
