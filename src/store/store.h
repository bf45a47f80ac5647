/*
 * store.h - the broker's SQLite store.
 *
 * One database file per home, opened in WAL mode with foreign keys on and
 * synchronous=FULL.  The schema is versioned with PRAGMA user_version and
 * upgraded by the ordered migrations in store.c; a database newer than
 * this program is refused rather than guessed at.  Modules use the
 * prepared-statement helpers below; only bound parameters ever carry
 * values into SQL.
 */
#ifndef BG_STORE_H
#define BG_STORE_H

#include "err.h"

#include <sqlite3.h>
#include <stdint.h>

typedef struct store {
	sqlite3 *db;
	int in_txn;
} store;

#define STORE_SCHEMA_VERSION 2

/*
 * Open path.  With create, the file must not exist and is created with the
 * schema; without, it must exist, be a breakglass store and have a schema
 * this program knows (older ones are migrated).
 */
int store_open(const char *path, int create, store **out, bg_error *e);
void store_close(store *s);

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK. */
int store_begin(store *s, bg_error *e);
int store_commit(store *s, bg_error *e);
void store_rollback(store *s);

int store_exec(store *s, const char *sql, bg_error *e);
int store_prepare(store *s, const char *sql, sqlite3_stmt **st, bg_error *e);
/* Turn the last SQLite error into BG_ERR_STORE with context. */
int store_fail(store *s, bg_error *e, const char *what);

/* Bind helpers: NULL text binds SQL NULL. */
int store_bind_text(sqlite3_stmt *st, int i, const char *v);
int store_bind_int(sqlite3_stmt *st, int i, int64_t v);
/* Column as malloc'd string (NULL for SQL NULL); *err set on OOM. */
char *store_col_dup(sqlite3_stmt *st, int i);
const char *store_col_text(sqlite3_stmt *st, int i);

/*
 * *n = the integer the single-row query sql returns with param bound to
 * ?1 (a count).  0, or BG_ERR_STORE with e set (*n is then 0).
 */
int store_count(store *s, const char *sql, int64_t param, int *n, bg_error *e);
/*
 * *n = the integer in the first column of the first row sql returns with
 * the text param bound to ?1, 0 when it returns no row (a missing meta
 * key).  0, or BG_ERR_STORE with e set when the query fails (*n is 0).
 */
int store_int_text(store *s, const char *sql, const char *param, int64_t *n, bg_error *e);

/* Key/value metadata. */
int store_meta_get(store *s, const char *key, char **val, bg_error *e);
int store_meta_set(store *s, const char *key, const char *val, bg_error *e);

/*
 * Clock sanity: refuse (BG_ERR_CLOCK) when now is more than skew seconds
 * behind the latest time this store has seen, else record now.  Call
 * inside a write transaction.
 */
int store_clock_check(store *s, int64_t now, int64_t skew, bg_error *e);

#endif
