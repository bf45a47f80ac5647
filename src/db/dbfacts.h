/*
 * dbfacts.h - what `collect` reports about a database: its schema, the
 * migrations applied to it and per-table row counts; never row contents.
 *
 * The facts are read from the catalog (tables, views, columns with their
 * types, nullability and defaults, indexes and constraints as PostgreSQL
 * prints them), from the migration tables that rules/migrations.rules
 * names (data: one table a line), and from row counts: exact (count(*))
 * for tables the planner estimates below DBFACTS_EXACT_ROWS rows, the
 * planner's estimate above, said in the value ("~N").
 *
 * Values here are raw: a column default or a constraint may hold a string
 * literal that is a secret (DEFAULT 'hunter2', CHECK (token <> '...')).
 * Such values carry DBFACT_SQL, and the caller (collect) replaces every
 * quoted literal in them by a keyed hash (dbfacts_sql_literals) before
 * anything is written.
 */
#ifndef BG_DBFACTS_H
#define BG_DBFACTS_H

#include "buf.h"
#include "err.h"

#include <stddef.h>

#define DBFACTS_EXACT_ROWS 100000
#define DBFACTS_MAX 200000     /* facts from one database, at most */
#define DBFACTS_TIMEOUT_MS 5000 /* per query (statement_timeout) */

enum { DBFACT_SCHEMA, DBFACT_MIGRATION, DBFACT_ROWS };

/* value is SQL text whose quoted literals must be hashed */
#define DBFACT_SQL 0x01

typedef struct dbfact {
	int kind;     /* DBFACT_* */
	char *key;    /* schema.table, schema.table.column, schema.table#index:NAME,
	               * schema.table#constraint:NAME; TABLE:MIGRATION; schema.table */
	char *value;
	int flags;
} dbfact;

typedef struct dbfacts {
	dbfact *f;
	size_t n, cap;
	char engine[16];       /* "postgresql" or "mariadb" */
	size_t migration_tables; /* migration tables found */
} dbfacts;

/*
 * The facts of database db on the PostgreSQL server conninfo names (a
 * unix socket, peer authentication: a conninfo with a password is
 * refused), read in one read-only transaction.  0 and *out (release with
 * dbfacts_release), or a BG_ERR code with e set.
 */
int dbfacts_postgres(const char *conninfo, const char *db, dbfacts *out, bg_error *e);
/*
 * The same from MariaDB: database db on the server whose unix socket is
 * sock, as user (NULL: the OS user's name) by unix_socket authentication;
 * keys without a schema (a MariaDB database is one).  0 and *out, or a
 * BG_ERR code with e set.
 */
int dbfacts_mariadb(const char *sock, const char *user, const char *db, dbfacts *out,
    bg_error *e);
void dbfacts_release(dbfacts *f);

/*
 * Copy SQL text s to out with every quoted literal ('...', E'...', with
 * '' inside) replaced by what fn writes for the literal's bytes (without
 * the quotes); an unterminated literal is passed to fn whole.  0 or the
 * first non-zero fn / buffer result.
 */
typedef int (*dbfacts_literal_fn)(void *ctx, const char *lit, size_t n, buf *out);
int dbfacts_sql_literals(const char *s, dbfacts_literal_fn fn, void *ctx, buf *out);

/*
 * Parse migrations rules text (see rules/migrations.rules): 0, or
 * BG_ERR_INVALID with the line in e.  n: the count of table lines.
 */
int dbfacts_rules_check(const char *text, size_t len, size_t *n, bg_error *e);

#endif
