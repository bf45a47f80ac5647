/*
 * pgpatch.h - an approved SQL patch applied on PostgreSQL with a
 * before-image, and rolled back from it.
 *
 * Apply runs in one transaction on the grant role's connection: for
 * each statement (UPDATE or DELETE on one table with a WHERE; see
 * sqlcheck's "imageable"), first the rows its own WHERE selects, FOR
 * UPDATE, are copied into breakglass."TAG_N" (a table in the breakglass
 * schema: the supervisor's, the role may only INSERT there for the
 * length of the apply), then the statement runs; the rows it touched
 * must equal the rows imaged, and the total must equal what the plan
 * states, or everything is rolled back.  The transaction's id is kept
 * with the images (TAG_xid): a row the patch updated carries it as xmin
 * until someone else changes the row, so a rollback can tell rows
 * changed since without a second copy of them.
 *
 * Refused before anything runs (fail closed, the reason names the
 * object): a target table with user triggers, or referenced by a foreign
 * key that cascades (ON DELETE/UPDATE CASCADE, SET NULL, SET DEFAULT) —
 * their changes reach rows the before-image does not hold; an UPDATE of
 * a table without a primary key (its rows could not be found again).
 * DELETE needs no key: its rows are inserted back.
 *
 * The before-image holds customer data: it stays in the database.  What
 * leaves (pgpatch_result) is counts, the names of changed columns and a
 * SHA-256 over the imaged rows' text.
 */
#ifndef BG_PGPATCH_H
#define BG_PGPATCH_H

#include "buf.h"
#include "err.h"
#include "sqlcheck.h"

#include <libpq-fe.h>
#include <stdint.h>

#define PGPATCH_SCHEMA "breakglass"

typedef struct pgpatch_stmt {
	int kind;                       /* SQLCHECK_UPDATE or SQLCHECK_DELETE */
	char table[SQLCHECK_NAME];
	int64_t rows;
	char columns[512];              /* UPDATE: changed columns, "a,b" */
	char before_sha256[65];         /* over the imaged rows, as text, sorted */
} pgpatch_stmt;

typedef struct pgpatch_result {
	size_t n;
	pgpatch_stmt v[16];
	int64_t rows;
	double txn_ms;                  /* the role's transaction: images + patch */
} pgpatch_result;

/*
 * Apply patch sql (analysed as c) through role (a connection as grant
 * role rolename) with the before-image under tag (letters, digits, '_';
 * the caller makes it unique, e.g. "g12_p3"), admin preparing and
 * reading the breakglass schema.  expect_rows: the rows the plan says
 * the patch touches.  0 on commit; BG_ERR_STATE when a count differs
 * (rolled back, images dropped, *out says what was counted);
 * BG_ERR_UNSUPPORTED / BG_ERR_POLICY for a patch or table refused above;
 * BG_ERR_STORE for the server's errors (rolled back).
 */
int pgpatch_apply(PGconn *admin, PGconn *role, const char *rolename, const char *sql,
    size_t n, const sqlcheck *c, int64_t expect_rows, const char *tag,
    pgpatch_result *out, bg_error *e);

/*
 * Restore the rows of patch tag from its before-image, last statement
 * first, in one transaction through admin.  Refused (BG_ERR_STATE,
 * nothing restored) when rows the patch updated were changed or deleted
 * by others since (*changed counts them) or a deleted row's key is taken
 * again.  0 with *restored rows.
 */
int pgpatch_rollback(PGconn *admin, const char *tag, int64_t *restored, int64_t *changed,
    bg_error *e);

/* Drop the images of tag (the cleanup item). */
int pgpatch_cleanup(PGconn *admin, const char *tag, bg_error *e);

#endif
