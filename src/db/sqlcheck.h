/*
 * sqlcheck.h - what a SQL patch does, read with the real PostgreSQL
 * parser (libpg_query) before anyone approves or runs it.
 *
 * Each statement is classified (SELECT, INSERT, UPDATE, DELETE, ...),
 * the tables it touches are listed, and two verdicts are given:
 *
 *   refused      never in a patch, whatever is approved: COPY, SET, roles
 *                and grants, transaction control, DO/CALL/functions,
 *                extensions, server-side file and large-object functions,
 *                and every statement kind this module does not know;
 *   destructive  allowed only when the plan marks it approved-destructive
 *                and backup evidence exists: DROP, TRUNCATE, DELETE or
 *                UPDATE without WHERE, ALTER TABLE ... DROP, a
 *                data-modifying statement hidden inside another (a
 *                WITH ... DELETE in a SELECT), MERGE, any table outside
 *                the granted ones.
 *
 * The broker's plan submission and the host's apply both use it; the
 * reasons name the statement (its number and its first words) so an
 * approval statement can list them.
 */
#ifndef BG_SQLCHECK_H
#define BG_SQLCHECK_H

#include "buf.h"
#include "err.h"
#include "json.h"

#include <stddef.h>

#define SQLCHECK_MAX_STMTS 256
#define SQLCHECK_MAX_TABLES 32
#define SQLCHECK_NAME 130     /* "schema.table" with NUL */
#define SQLCHECK_MAX_SET 16   /* SET targets named per MariaDB UPDATE */
#define SQLCHECK_COL 65       /* a column name with NUL */
#define SQLCHECK_MAX_INPUT (1024u * 1024)

enum sqlcheck_kind {
	SQLCHECK_SELECT = 1,
	SQLCHECK_INSERT,
	SQLCHECK_UPDATE,
	SQLCHECK_DELETE,
	SQLCHECK_MERGE,
	SQLCHECK_TRUNCATE,
	SQLCHECK_DDL,
	SQLCHECK_OTHER,
};

typedef struct sqlcheck_stmt {
	int kind;
	char node[48];             /* the parser's node name: "UpdateStmt" */
	size_t off, len;           /* where the statement is in the patch */
	int has_where;             /* UPDATE/DELETE: a WHERE clause */
	int destructive;
	int refused;
	char why[256];             /* the first reason, "" if neither */
	/*
	 * UPDATE/DELETE on one table with a WHERE and no FROM, USING, WITH
	 * or RETURNING: where its target ("orders o") and its condition are
	 * in the patch, so a before-image can select exactly its rows.
	 */
	int imageable;
	size_t rel_off, rel_len, where_off, where_len;
	/*
	 * MariaDB UPDATE (imageable): the column names its SET assigns
	 * (`a``b` unquoted, plain words lower-cased; the last name of
	 * o.col / db.t.col).  setcols_known is 0 when a target is of another
	 * shape or there are more than SQLCHECK_MAX_SET: every column then.
	 */
	int setcols_known;
	size_t nsetcols;
	char setcols[SQLCHECK_MAX_SET][SQLCHECK_COL];
	size_t ntables;
	char tables[SQLCHECK_MAX_TABLES][SQLCHECK_NAME]; /* "schema.table" */
} sqlcheck_stmt;

typedef struct sqlcheck {
	size_t n;
	sqlcheck_stmt *v;
	size_t ndestructive, nrefused;
} sqlcheck;

/*
 * Analyse the PostgreSQL patch sql[0..n).  granted lists the tables the
 * grant names ("schema.table"; ngranted 0 means "not checked here");
 * unqualified names in the patch are read in schema defschema ("public"
 * if NULL).  0 with *out filled (release with sqlcheck_release) — the
 * verdicts are in it, a refused statement is no error here;
 * BG_ERR_INVALID when the parser refuses the text (e has the position),
 * when it is empty or holds more than SQLCHECK_MAX_STMTS statements;
 * BG_ERR_TOOLARGE over SQLCHECK_MAX_INPUT or the per-statement table cap.
 */
int sqlcheck_pg(const char *sql, size_t n, const char *defschema,
    const char *const *granted, size_t ngranted, sqlcheck *out, bg_error *e);

/*
 * The same for MariaDB, from a strict tokenizer (sqlcheck-maria.c; no
 * parse tree: before-image offsets only for UPDATE t [[AS] a] SET ...
 * WHERE ... and DELETE FROM t [[AS] a] WHERE ..., without ORDER BY, LIMIT
 * or RETURNING): unqualified tables are in database defschema (required).  Anything it cannot classify is a
 * refused statement or BG_ERR_INVALID.
 */
int sqlcheck_mariadb(const char *sql, size_t n, const char *defschema,
    const char *const *granted, size_t ngranted, sqlcheck *out, bg_error *e);

void sqlcheck_release(sqlcheck *c);

/* "SELECT", "UPDATE", ... */
const char *sqlcheck_kind_name(int kind);

/* One object per statement into j: number, kind, tables, verdicts. */
void sqlcheck_json(const sqlcheck *c, json *j);

/*
 * One line per destructive or refused statement into out:
 * "statement N (KIND on T): REASON\n".  Nothing for a clean patch.
 */
int sqlcheck_describe(const sqlcheck *c, buf *out);

#endif
