/*
 * mariapatch.h - an approved SQL patch applied on MariaDB with a
 * before-image, and rolled back from it: pgpatch's contract (pgpatch.h)
 * on MariaDB 10.11, with what MariaDB lacks made explicit.
 *
 * Apply runs in one InnoDB transaction on the grant account's
 * connection: for each statement (UPDATE or DELETE on one table with a
 * WHERE; sqlcheck_mariadb's "imageable"), the rows its own WHERE selects,
 * FOR UPDATE, are copied into `breakglass`.`TAG_N` (a database of the
 * supervisor: the account may INSERT/SELECT there only for the length of
 * the apply), then the statement runs; the rows it matched must equal the
 * rows imaged (UPDATE counts matched rows, not only changed ones, as
 * PostgreSQL does), and the total must equal what the plan states, or
 * everything is rolled back.
 *
 * MariaDB has no row version (PostgreSQL's xmin): in the same transaction
 * the columns an UPDATE can change (its primary key, its SET's targets,
 * ON UPDATE columns; every column when the SET is not plain), and the
 * count and a 64-bit keyed digest of those columns of the updated rows as
 * the patch left them (XOR of per-row SipHash-2-4, computed by this
 * process; read again through the statement's own WHERE, or through the
 * image's keys when that selects other rows) go to
 * `breakglass`.`TAG_after`; rollback recomputes them under FOR UPDATE and
 * refuses when they differ (rows changed or deleted by others since the
 * patch; how many changed is not known, *changed is at least 1), and
 * restores those columns only - a later change to another column is kept.
 * An UPDATE's image holds only those columns of its rows (a DELETE's the
 * whole rows).  The images themselves are Aria tables
 * written beside the transaction (mariapatch.c says why); rollback trusts
 * an image only with its TAG_after row and exactly that many rows.
 *
 * Refused before anything runs: a target that is not an InnoDB base table
 * (a view, MyISAM: no transaction to roll back; a name in another letter
 * case than the server's), a target with triggers, or referenced by a
 * foreign key with ON DELETE/UPDATE CASCADE, SET NULL or SET DEFAULT, an
 * UPDATE of a table without a primary key.  DELETE needs no key.
 *
 * The images hold customer data and stay in the server; what leaves
 * (pgpatch_result) is counts, changed column names, a SHA-256 over the
 * imaged rows' text ("" when the rows exceed 64 MiB of text).
 */
#ifndef BG_MARIAPATCH_H
#define BG_MARIAPATCH_H

#include "err.h"
#include "pgpatch.h"
#include "sqlcheck.h"

#include <mysql.h>
#include <stdint.h>

#define MARIAPATCH_DB "breakglass"

/*
 * Apply patch sql (analysed by sqlcheck_mariadb as c) through role (a
 * connection as account 'account'@'localhost', with the table privileges
 * the patch needs), admin (root) preparing and reading the images, under
 * tag ([a-z0-9_], at most 40).  Returns as pgpatch_apply: 0 on commit;
 * BG_ERR_STATE when a count differs (rolled back, images dropped);
 * BG_ERR_EXISTS when tag was applied before; BG_ERR_UNSUPPORTED /
 * BG_ERR_POLICY for a patch or table refused above; BG_ERR_STORE for the
 * server's errors (rolled back).
 */
int mariapatch_apply(MYSQL *admin, MYSQL *role, const char *account, const char *sql,
    size_t n, const sqlcheck *c, int64_t expect_rows, const char *tag,
    pgpatch_result *out, bg_error *e);

/*
 * Restore the rows of patch tag, last statement first, in one transaction
 * through admin; every image must be of a table in database db.  Refused
 * (BG_ERR_STATE, nothing restored) when rows the patch updated changed
 * since or a deleted row's key is taken again; BG_ERR_NOTFOUND without an
 * image.  0 with *restored rows.
 */
int mariapatch_rollback(MYSQL *admin, const char *db, const char *tag, int64_t *restored,
    int64_t *changed, bg_error *e);

/* Drop the images of tag (the cleanup item); none is 0. */
int mariapatch_cleanup(MYSQL *admin, const char *tag, bg_error *e);

#endif
