/*
 * dbfacts.c - a database's schema, applied migrations and row counts
 * (dbfacts.h says what and why).
 *
 * Everything is read in one READ ONLY transaction with a statement
 * timeout, from the catalog (pg_class, pg_attribute, pg_attrdef,
 * pg_index, pg_constraint) with PostgreSQL's own printers (format_type,
 * pg_get_expr, pg_get_indexdef, pg_get_constraintdef).  Row counts use
 * query_to_xml with format('%I.%I'): the server quotes the identifiers,
 * no table name is ever pasted into SQL here.  The migration tables come
 * from rules/migrations.rules (embedded); their names are checked to be
 * plain identifiers and quoted with PQescapeIdentifier; each query runs
 * under a savepoint, so a table of that name with other columns (some
 * other application's "migrations") is skipped, not fatal.  Row contents
 * are never read: a migration table's rows name migrations, nothing else.
 */
#include "dbfacts.h"
#include "myload.h"
#include "pgrole.h"
#include "pqload.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const char dbfacts_migrations_builtin[];
extern const size_t dbfacts_migrations_builtin_len;

#define SYSTEM_SCHEMAS "n.nspname NOT IN ('pg_catalog', 'information_schema') " \
	"AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%' "

void
dbfacts_release(dbfacts *f)
{
	size_t i;

	if (f == NULL)
		return;
	for (i = 0; i < f->n; i++) {
		free(f->f[i].key);
		free(f->f[i].value);
	}
	free(f->f);
	memset(f, 0, sizeof(*f));
}

static int
add(dbfacts *f, int kind, const char *key, const char *value, int flags)
{
	dbfact *nf;

	if (f->n >= DBFACTS_MAX)
		return BG_ERR_TOOLARGE;
	if (f->n == f->cap) {
		size_t nc = f->cap ? 2 * f->cap : 256;

		if ((nf = realloc(f->f, nc * sizeof(*nf))) == NULL)
			return BG_ERR_NOMEM;
		f->f = nf;
		f->cap = nc;
	}
	f->f[f->n].kind = kind;
	f->f[f->n].flags = flags;
	f->f[f->n].key = strdup(key);
	f->f[f->n].value = strdup(value);
	if (f->f[f->n].key == NULL || f->f[f->n].value == NULL) {
		free(f->f[f->n].key);
		free(f->f[f->n].value);
		return BG_ERR_NOMEM;
	}
	f->n++;
	return 0;
}

int
dbfacts_sql_literals(const char *s, dbfacts_literal_fn fn, void *ctx, buf *out)
{
	buf lit;
	int r = 0;

	buf_init(&lit, 1024 * 1024);
	while (*s && r == 0) {
		if (*s != '\'') {
			r = buf_putc(out, *s++);
			continue;
		}
		/* E'...' keeps its E: the literal's bytes go to fn */
		buf_reset(&lit);
		s++;
		for (;;) {
			if (*s == '\0')
				break;
			if (s[0] == '\'' && s[1] == '\'') {
				r = buf_putc(&lit, '\'');
				s += 2;
			} else if (s[0] == '\'') {
				s++;
				break;
			} else if (s[0] == '\\' && s[1] != '\0') {
				/* an E'' escape: kept as written (still hashed) */
				if ((r = buf_putc(&lit, s[0])) == 0)
					r = buf_putc(&lit, s[1]);
				s += 2;
			} else {
				r = buf_putc(&lit, *s++);
			}
			if (r != 0)
				break;
		}
		if (r == 0)
			r = fn(ctx, lit.data ? lit.data : "", lit.len, out);
	}
	buf_release(&lit);
	return r;
}

/* ---- the migration rules ---- */

typedef struct mrule {
	char table[64];
	char what[512];
	char where[512]; /* "" for every row */
} mrule;

static int
ident_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > 63 || !(islower((unsigned char)s[0]) || s[0] == '_'))
		return 0;
	for (i = 0; i < n; i++)
		if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) || s[i] == '_'))
			return 0;
	return 1;
}

/* Parse the rules; fn gets each (may be NULL: a check). */
static int
rules_each(const char *text, size_t len, int (*fn)(void *, const mrule *), void *ctx, size_t *n,
    bg_error *e)
{
	const char *s = text, *end = text + len;
	size_t line = 0;
	int r = 0;

	*n = 0;
	if (memchr(text, '\0', len) != NULL)
		return bg_fail(e, BG_ERR_INVALID, "migration rules: a NUL byte");
	while (s < end && r == 0) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t ln = nl ? (size_t)(nl - s) : (size_t)(end - s);
		const char *t1, *t2;
		mrule m;

		line++;
		if (ln == 0 || s[0] == '#') {
			s += ln + (nl != NULL);
			continue;
		}
		t1 = memchr(s, '\t', ln);
		t2 = t1 ? memchr(t1 + 1, '\t', ln - (size_t)(t1 - s) - 1) : NULL;
		if (t1 == NULL || t2 == NULL || memchr(t2 + 1, '\t', (size_t)(s + ln - t2 - 1)))
			return bg_fail(e, BG_ERR_INVALID, "migration rules: line %zu: want TABLE, WHAT "
			    "and WHERE separated by tabs", line);
		if (!ident_ok(s, (size_t)(t1 - s)))
			return bg_fail(e, BG_ERR_INVALID, "migration rules: line %zu: the table must "
			    "be a plain lower-case name", line);
		if (t2 - t1 - 1 <= 0 || (size_t)(t2 - t1 - 1) >= sizeof(m.what) ||
		    (size_t)(s + ln - t2 - 1) >= sizeof(m.where) || s + ln - t2 - 1 <= 0 ||
		    memchr(t1, ';', (size_t)(s + ln - t1)) != NULL)
			return bg_fail(e, BG_ERR_INVALID, "migration rules: line %zu: WHAT and WHERE "
			    "must be one expression each (no ';', under 512 bytes)", line);
		memcpy(m.table, s, (size_t)(t1 - s));
		m.table[t1 - s] = '\0';
		memcpy(m.what, t1 + 1, (size_t)(t2 - t1 - 1));
		m.what[t2 - t1 - 1] = '\0';
		if (s + ln - t2 - 1 == 1 && t2[1] == '-')
			m.where[0] = '\0';
		else {
			memcpy(m.where, t2 + 1, (size_t)(s + ln - t2 - 1));
			m.where[s + ln - t2 - 1] = '\0';
		}
		(*n)++;
		if (fn != NULL)
			r = fn(ctx, &m);
		s += ln + (nl != NULL);
	}
	return r;
}

int
dbfacts_rules_check(const char *text, size_t len, size_t *n, bg_error *e)
{
	return rules_each(text, len, NULL, NULL, n, e);
}

/* ---- PostgreSQL ---- */

typedef struct pgx {
	PGconn *c;
	dbfacts *f;
	bg_error *e;
} pgx;

static int
pg_fail(pgx *x, PGresult *res, const char *what)
{
	const char *m = res ? PQresultErrorMessage(res) : PQerrorMessage(x->c);
	char one[512];

	snprintf(one, sizeof(one), "%s", m ? m : "");
	one[strcspn(one, "\n")] = '\0';
	return bg_fail(x->e, BG_ERR_STORE, "postgres: %s: %s", what, one);
}

static int
pg_cmd(pgx *x, const char *sql)
{
	PGresult *res = PQexec(x->c, sql);
	int r = PQresultStatus(res) == PGRES_COMMAND_OK ? 0 : pg_fail(x, res, sql);

	PQclear(res);
	return r;
}

static PGresult *
pg_rows(pgx *x, const char *sql, int cols, int *r, const char *what)
{
	PGresult *res = PQexec(x->c, sql);

	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQnfields(res) != cols) {
		*r = pg_fail(x, res, what);
		PQclear(res);
		return NULL;
	}
	*r = 0;
	return res;
}

static int
schema_facts(pgx *x)
{
	static const char tables[] =
	    "SELECT n.nspname, c.relname, CASE c.relkind WHEN 'r' THEN 'table' WHEN 'p' THEN "
	    "'partitioned table' WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' "
	    "ELSE 'foreign table' END FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
	    "WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND " SYSTEM_SCHEMAS "ORDER BY 1, 2";
	static const char columns[] =
	    "SELECT n.nspname, c.relname, a.attname, format_type(a.atttypid, a.atttypmod) || "
	    "CASE WHEN a.attnotnull THEN ' not null' ELSE '' END || coalesce(' default ' || "
	    "pg_get_expr(d.adbin, d.adrelid), '') FROM pg_attribute a JOIN pg_class c ON c.oid = "
	    "a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace LEFT JOIN pg_attrdef d ON "
	    "d.adrelid = a.attrelid AND d.adnum = a.attnum WHERE c.relkind IN ('r', 'p', 'v', 'm', "
	    "'f') AND a.attnum > 0 AND NOT a.attisdropped AND " SYSTEM_SCHEMAS "ORDER BY 1, 2, a.attnum";
	static const char indexes[] =
	    "SELECT n.nspname, c.relname, i.relname, pg_get_indexdef(i.oid) FROM pg_index x "
	    "JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class c ON c.oid = x.indrelid "
	    "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE " SYSTEM_SCHEMAS "ORDER BY 1, 2, 3";
	static const char constraints[] =
	    "SELECT n.nspname, c.relname, k.conname, pg_get_constraintdef(k.oid) FROM pg_constraint k "
	    "JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
	    "WHERE " SYSTEM_SCHEMAS "ORDER BY 1, 2, 3";
	PGresult *res;
	buf key;
	int r = 0, i, n;

	buf_init(&key, 4096);
	if ((res = pg_rows(x, tables, 3, &r, "tables")) == NULL)
		goto out;
	for (i = 0, n = PQntuples(res); i < n && r == 0; i++) {
		buf_reset(&key);
		if ((r = buf_printf(&key, "%s.%s", PQgetvalue(res, i, 0), PQgetvalue(res, i, 1))) == 0)
			r = add(x->f, DBFACT_SCHEMA, key.data, PQgetvalue(res, i, 2), 0);
	}
	PQclear(res);
	if (r != 0 || (res = pg_rows(x, columns, 4, &r, "columns")) == NULL)
		goto out;
	for (i = 0, n = PQntuples(res); i < n && r == 0; i++) {
		buf_reset(&key);
		if ((r = buf_printf(&key, "%s.%s.%s", PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
		    PQgetvalue(res, i, 2))) == 0)
			r = add(x->f, DBFACT_SCHEMA, key.data, PQgetvalue(res, i, 3), DBFACT_SQL);
	}
	PQclear(res);
	if (r != 0 || (res = pg_rows(x, indexes, 4, &r, "indexes")) == NULL)
		goto out;
	for (i = 0, n = PQntuples(res); i < n && r == 0; i++) {
		buf_reset(&key);
		if ((r = buf_printf(&key, "%s.%s#index:%s", PQgetvalue(res, i, 0),
		    PQgetvalue(res, i, 1), PQgetvalue(res, i, 2))) == 0)
			r = add(x->f, DBFACT_SCHEMA, key.data, PQgetvalue(res, i, 3), DBFACT_SQL);
	}
	PQclear(res);
	if (r != 0 || (res = pg_rows(x, constraints, 4, &r, "constraints")) == NULL)
		goto out;
	for (i = 0, n = PQntuples(res); i < n && r == 0; i++) {
		buf_reset(&key);
		if ((r = buf_printf(&key, "%s.%s#constraint:%s", PQgetvalue(res, i, 0),
		    PQgetvalue(res, i, 1), PQgetvalue(res, i, 2))) == 0)
			r = add(x->f, DBFACT_SCHEMA, key.data, PQgetvalue(res, i, 3), DBFACT_SQL);
	}
	PQclear(res);
out:
	buf_release(&key);
	return r;
}

static int
row_facts(pgx *x)
{
	static const char sql[] =
	    "SELECT n.nspname, c.relname, CASE WHEN c.reltuples < " "100000"
	    " THEN (xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM %I.%I', "
	    "n.nspname, c.relname), false, true, '')))[1]::text ELSE '~' || c.reltuples::bigint::text "
	    "END FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN "
	    "('r', 'p') AND NOT c.relispartition AND " SYSTEM_SCHEMAS "ORDER BY 1, 2";
	static const char estimates[] =
	    "SELECT n.nspname, c.relname, '~' || greatest(c.reltuples, 0)::bigint::text FROM pg_class c "
	    "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p') AND NOT "
	    "c.relispartition AND " SYSTEM_SCHEMAS "ORDER BY 1, 2";
	PGresult *res;
	buf key;
	int r = 0, i, n;

	/* counting can outlast the timeout (a big table never analysed):
	 * then every count is the planner's estimate */
	if ((r = pg_cmd(x, "SAVEPOINT bg_rows")) != 0)
		return r;
	if ((res = PQexec(x->c, sql)) == NULL || PQresultStatus(res) != PGRES_TUPLES_OK ||
	    PQnfields(res) != 3) {
		PQclear(res);
		if ((r = pg_cmd(x, "ROLLBACK TO SAVEPOINT bg_rows")) != 0 ||
		    (res = pg_rows(x, estimates, 3, &r, "row estimates")) == NULL)
			return r;
	}
	buf_init(&key, 4096);
	for (i = 0, n = PQntuples(res); i < n && r == 0; i++) {
		buf_reset(&key);
		if ((r = buf_printf(&key, "%s.%s", PQgetvalue(res, i, 0), PQgetvalue(res, i, 1))) == 0)
			r = add(x->f, DBFACT_ROWS, key.data, PQgetvalue(res, i, 2), 0);
	}
	buf_release(&key);
	PQclear(res);
	return r;
}

static int
migration_rule(void *ctx, const mrule *m)
{
	pgx *x = ctx;
	const char *params[1] = { m->table };
	PGresult *res, *rows;
	buf sql, key;
	int r = 0, i, n;

	res = PQexecParams(x->c, "SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = "
	    "c.relnamespace WHERE c.relname = $1 AND c.relkind IN ('r', 'p', 'v') AND "
	    SYSTEM_SCHEMAS "ORDER BY 1", 1, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		r = pg_fail(x, res, "migration tables");
		PQclear(res);
		return r;
	}
	buf_init(&sql, 8192);
	buf_init(&key, 8192);
	for (i = 0, n = PQntuples(res); i < n && r == 0; i++) {
		const char *schema = PQgetvalue(res, i, 0);
		char *qs = PQescapeIdentifier(x->c, schema, strlen(schema)),
		     *qt = PQescapeIdentifier(x->c, m->table, strlen(m->table));

		buf_reset(&sql);
		if (qs == NULL || qt == NULL)
			r = BG_ERR_NOMEM;
		else
			r = buf_printf(&sql, "SELECT DISTINCT ((%s))::text FROM %s.%s%s%s ORDER BY 1 "
			    "LIMIT 10000", m->what, qs, qt, m->where[0] ? " WHERE " : "", m->where);
		PQfreemem(qs);
		PQfreemem(qt);
		if (r != 0 || (r = pg_cmd(x, "SAVEPOINT bg_mig")) != 0)
			break;
		rows = PQexec(x->c, sql.data);
		if (PQresultStatus(rows) != PGRES_TUPLES_OK || PQnfields(rows) != 1) {
			/* another application's table of that name: not ours to read */
			PQclear(rows);
			r = pg_cmd(x, "ROLLBACK TO SAVEPOINT bg_mig");
			continue;
		}
		x->f->migration_tables++;
		for (int k = 0; k < PQntuples(rows) && r == 0; k++) {
			if (PQgetisnull(rows, k, 0))
				continue;
			buf_reset(&key);
			if (strcmp(schema, "public") == 0)
				r = buf_printf(&key, "%s:%s", m->table, PQgetvalue(rows, k, 0));
			else
				r = buf_printf(&key, "%s.%s:%s", schema, m->table, PQgetvalue(rows, k, 0));
			if (r == 0)
				r = add(x->f, DBFACT_MIGRATION, key.data, "applied", 0);
		}
		PQclear(rows);
		if (r == 0)
			r = pg_cmd(x, "RELEASE SAVEPOINT bg_mig");
	}
	PQclear(res);
	buf_release(&sql);
	buf_release(&key);
	return r;
}

static void
quiet(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

static int
pg_connect(const char *conninfo, const char *db, PGconn **out, bg_error *e)
{
	PQconninfoOption *opts, *o;
	const char *keys[64], *vals[64];
	char *err = NULL;
	PGconn *c;
	int n = 0, r = 0;

	*out = NULL;
	if ((r = pqload_ready(e)) != 0)
		return r;
	if ((opts = PQconninfoParse(conninfo, &err)) == NULL) {
		r = bg_fail(e, BG_ERR_INVALID, "postgres: conninfo: %s", err ? err : "refused");
		PQfreemem(err);
		return r;
	}
	for (o = opts; o->keyword != NULL && n < 60; o++) {
		if (o->val == NULL)
			continue;
		if (pgrole_conninfo_secretive(o->keyword)) {
			r = bg_fail(e, BG_ERR_POLICY, "postgres: the conninfo names a %s: collect "
			    "connects by peer authentication only", o->keyword);
			PQconninfoFree(opts);
			return r;
		}
		if (strcmp(o->keyword, "dbname") == 0 && db != NULL)
			continue;
		keys[n] = o->keyword;
		vals[n++] = o->val;
	}
	if (db != NULL) {
		keys[n] = "dbname";
		vals[n++] = db;
	}
	keys[n] = "passfile";
	vals[n++] = "/nonexistent/breakglass-no-pgpass";
	keys[n] = "application_name";
	vals[n++] = "breakglass collect";
	keys[n] = NULL;
	vals[n] = NULL;
	c = PQconnectdbParams(keys, vals, 0);
	PQconninfoFree(opts);
	if (c == NULL || PQstatus(c) != CONNECTION_OK) {
		char one[512];

		snprintf(one, sizeof(one), "%s", c ? PQerrorMessage(c) : "out of memory");
		one[strcspn(one, "\n")] = '\0';
		PQfinish(c);
		return bg_fail(e, BG_ERR_IO, "postgres: cannot connect: %s", one);
	}
	PQsetNoticeProcessor(c, quiet, NULL);
	*out = c;
	return 0;
}

int
dbfacts_postgres(const char *conninfo, const char *db, dbfacts *out, bg_error *e)
{
	pgx x;
	size_t nrules;
	int r;
	char set[96];

	memset(out, 0, sizeof(*out));
	snprintf(out->engine, sizeof(out->engine), "postgresql");
	memset(&x, 0, sizeof(x));
	x.f = out;
	x.e = e;
	if ((r = pg_connect(conninfo, db, &x.c, e)) != 0)
		return r;
	snprintf(set, sizeof(set), "SET LOCAL statement_timeout = %d", DBFACTS_TIMEOUT_MS);
	if ((r = pg_cmd(&x, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")) != 0 ||
	    (r = pg_cmd(&x, set)) != 0 ||
	    (r = pg_cmd(&x, "SET LOCAL search_path = pg_catalog")) != 0 ||
	    (r = schema_facts(&x)) != 0 || (r = row_facts(&x)) != 0 ||
	    (r = rules_each(dbfacts_migrations_builtin, dbfacts_migrations_builtin_len,
	    migration_rule, &x, &nrules, e)) != 0)
		goto out;
	r = pg_cmd(&x, "COMMIT");
out:
	if (r == BG_ERR_NOMEM || r == BG_ERR_TOOLARGE)
		r = bg_fail(e, r, "postgres: database facts: %s", bg_strerror(r));
	PQfinish(x.c);
	if (r != 0)
		dbfacts_release(out);
	return r;
}

/* ---- MariaDB ---- */

typedef struct myx {
	MYSQL *m;
	dbfacts *f;
	bg_error *e;
} myx;

static int
my_fail(myx *x, const char *what)
{
	return bg_fail(x->e, BG_ERR_STORE, "mariadb: %s: %s", what, mysql_error(x->m));
}

static int
my_cmd(myx *x, const char *sql)
{
	MYSQL_RES *res;

	if (mysql_real_query(x->m, sql, strlen(sql)) != 0)
		return my_fail(x, sql);
	if ((res = mysql_store_result(x->m)) != NULL)
		mysql_free_result(res);
	return 0;
}

static MYSQL_RES *
my_rows(myx *x, const char *sql, unsigned cols, int *r, const char *what)
{
	MYSQL_RES *res;

	if (mysql_real_query(x->m, sql, strlen(sql)) != 0 ||
	    (res = mysql_store_result(x->m)) == NULL) {
		*r = my_fail(x, what);
		return NULL;
	}
	if (mysql_num_fields(res) != cols) {
		mysql_free_result(res);
		*r = bg_fail(x->e, BG_ERR_STORE, "mariadb: %s: unexpected columns", what);
		return NULL;
	}
	*r = 0;
	return res;
}

/* `name` with backticks doubled: an identifier, whatever it holds */
static int
my_ident(const char *name, buf *out)
{
	int r = buf_putc(out, '`');

	for (; *name && r == 0; name++)
		r = *name == '`' ? buf_puts(out, "``") : buf_putc(out, *name);
	return r == 0 ? buf_putc(out, '`') : r;
}

static int
my_schema(myx *x)
{
	static const struct {
		const char *sql, *what;
		unsigned cols;
		int flags;
		const char *fmt; /* key: table, or table + "#index:" / "#constraint:" + name */
	} q[] = {
		{ "SELECT TABLE_NAME, CASE TABLE_TYPE WHEN 'VIEW' THEN 'view' ELSE 'table' END "
		  "FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() ORDER BY 1",
		  "tables", 2, 0, NULL },
		{ "SELECT TABLE_NAME, COLUMN_NAME, CONCAT(COLUMN_TYPE, IF(IS_NULLABLE = 'NO', "
		  "' not null', ''), COALESCE(CONCAT(' default ', COLUMN_DEFAULT), ''), "
		  "IF(EXTRA = '', '', CONCAT(' ', EXTRA))) FROM information_schema.COLUMNS "
		  "WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME, ORDINAL_POSITION",
		  "columns", 3, DBFACT_SQL, "." },
		{ "SELECT TABLE_NAME, INDEX_NAME, CONCAT(IF(NON_UNIQUE = 0, 'UNIQUE ', ''), "
		  "INDEX_TYPE, ' (', GROUP_CONCAT(COLUMN_NAME ORDER BY SEQ_IN_INDEX SEPARATOR ', '), "
		  "')') FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() "
		  "GROUP BY TABLE_NAME, INDEX_NAME, NON_UNIQUE, INDEX_TYPE ORDER BY 1, 2",
		  "indexes", 3, 0, "#index:" },
		{ "SELECT tc.TABLE_NAME, tc.CONSTRAINT_NAME, CONCAT(tc.CONSTRAINT_TYPE, "
		  "COALESCE(CONCAT(' ', cc.CHECK_CLAUSE), ''), COALESCE(CONCAT(' REFERENCES ', "
		  "rc.REFERENCED_TABLE_NAME), '')) FROM information_schema.TABLE_CONSTRAINTS tc "
		  "LEFT JOIN information_schema.CHECK_CONSTRAINTS cc ON cc.CONSTRAINT_SCHEMA = "
		  "tc.CONSTRAINT_SCHEMA AND cc.TABLE_NAME = tc.TABLE_NAME AND cc.CONSTRAINT_NAME = "
		  "tc.CONSTRAINT_NAME LEFT JOIN information_schema.REFERENTIAL_CONSTRAINTS rc ON "
		  "rc.CONSTRAINT_SCHEMA = tc.CONSTRAINT_SCHEMA AND rc.TABLE_NAME = tc.TABLE_NAME AND "
		  "rc.CONSTRAINT_NAME = tc.CONSTRAINT_NAME WHERE tc.TABLE_SCHEMA = DATABASE() "
		  "ORDER BY 1, 2", "constraints", 3, DBFACT_SQL, "#constraint:" },
	};
	buf key;
	int r = 0;

	buf_init(&key, 4096);
	for (size_t i = 0; i < sizeof(q) / sizeof(q[0]) && r == 0; i++) {
		MYSQL_RES *res = my_rows(x, q[i].sql, q[i].cols, &r, q[i].what);
		MYSQL_ROW row;

		if (res == NULL)
			break;
		while (r == 0 && (row = mysql_fetch_row(res)) != NULL) {
			buf_reset(&key);
			if (row[0] == NULL || row[1] == NULL || (q[i].cols == 3 && row[2] == NULL))
				continue;
			if (q[i].fmt == NULL)
				r = buf_puts(&key, row[0]);
			else
				r = buf_printf(&key, "%s%s%s", row[0], q[i].fmt, row[1]);
			if (r == 0)
				r = add(x->f, DBFACT_SCHEMA, key.data, row[q[i].cols - 1], q[i].flags);
		}
		mysql_free_result(res);
	}
	buf_release(&key);
	return r;
}

static int
my_rowcounts(myx *x)
{
	MYSQL_RES *res, *cnt;
	MYSQL_ROW row, c;
	buf sql;
	char v[40];
	int r = 0;

	if ((res = my_rows(x, "SELECT TABLE_NAME, COALESCE(TABLE_ROWS, 0) FROM information_schema."
	    "TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE' ORDER BY 1", 2,
	    &r, "row counts")) == NULL)
		return r;
	buf_init(&sql, 4096);
	while (r == 0 && (row = mysql_fetch_row(res)) != NULL) {
		long long est = row[1] ? strtoll(row[1], NULL, 10) : 0;

		if (row[0] == NULL)
			continue;
		snprintf(v, sizeof(v), "~%lld", est < 0 ? 0 : est);
		buf_reset(&sql);
		if (est < DBFACTS_EXACT_ROWS && (r = buf_puts(&sql, "SELECT COUNT(*) FROM ")) == 0 &&
		    (r = my_ident(row[0], &sql)) == 0 && mysql_real_query(x->m, sql.data, sql.len) == 0 &&
		    (cnt = mysql_store_result(x->m)) != NULL) {
			if ((c = mysql_fetch_row(cnt)) != NULL && c[0] != NULL)
				snprintf(v, sizeof(v), "%s", c[0]);
			mysql_free_result(cnt);
		}
		if (r == 0)
			r = add(x->f, DBFACT_ROWS, row[0], v, 0);
	}
	mysql_free_result(res);
	buf_release(&sql);
	return r;
}

static int
my_migration_rule(void *ctx, const mrule *m)
{
	myx *x = ctx;
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	buf sql, key;
	int r = 0, found;

	buf_init(&sql, 8192);
	buf_init(&key, 8192);
	/* m->table is a plain lower-case name (rules_each) */
	if ((r = buf_printf(&sql, "SELECT TABLE_NAME FROM information_schema.TABLES WHERE "
	    "TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '%s'", m->table)) != 0 ||
	    (res = my_rows(x, sql.data, 1, &r, "migration tables")) == NULL)
		goto out;
	found = mysql_fetch_row(res) != NULL;
	mysql_free_result(res);
	res = NULL;
	if (!found)
		goto out;
	buf_reset(&sql);
	if ((r = buf_printf(&sql, "SELECT DISTINCT (%s) FROM ", m->what)) != 0 ||
	    (r = my_ident(m->table, &sql)) != 0 ||
	    (r = buf_printf(&sql, "%s%s ORDER BY 1 LIMIT 10000", m->where[0] ? " WHERE " : "",
	    m->where)) != 0)
		goto out;
	if (mysql_real_query(x->m, sql.data, sql.len) != 0 ||
	    (res = mysql_store_result(x->m)) == NULL || mysql_num_fields(res) != 1) {
		/* (MariaDB's transaction goes on after a failed statement) */
		/* another application's table of that name: not ours to read */
		if (res != NULL)
			mysql_free_result(res);
		goto out;
	}
	x->f->migration_tables++;
	while (r == 0 && (row = mysql_fetch_row(res)) != NULL) {
		if (row[0] == NULL)
			continue;
		buf_reset(&key);
		if ((r = buf_printf(&key, "%s:%s", m->table, row[0])) == 0)
			r = add(x->f, DBFACT_MIGRATION, key.data, "applied", 0);
	}
	mysql_free_result(res);
out:
	buf_release(&sql);
	buf_release(&key);
	return r;
}

int
dbfacts_mariadb(const char *sock, const char *user, const char *db, dbfacts *out, bg_error *e)
{
	myx x;
	size_t nrules;
	char set[96];
	int r;

	memset(out, 0, sizeof(*out));
	snprintf(out->engine, sizeof(out->engine), "mariadb");
	if (sock == NULL || sock[0] != '/' || db == NULL || db[0] == '\0')
		return bg_fail(e, BG_ERR_USAGE, "mariadb: a unix socket's path and a database");
	if ((r = myload_ready(e)) != 0)
		return r;
	memset(&x, 0, sizeof(x));
	x.f = out;
	x.e = e;
	if ((x.m = mysql_init(NULL)) == NULL)
		return bg_fail(e, BG_ERR_NOMEM, "mariadb: out of memory");
	/* the unix socket only, no password: unix_socket authentication */
	if (mysql_real_connect(x.m, NULL, user, NULL, db, 0, sock, 0) == NULL) {
		r = bg_fail(e, BG_ERR_IO, "mariadb: cannot connect: %s", mysql_error(x.m));
		mysql_close(x.m);
		return r;
	}
	snprintf(set, sizeof(set), "SET SESSION max_statement_time = %d", DBFACTS_TIMEOUT_MS / 1000);
	if ((r = my_cmd(&x, "SET SESSION sql_mode = 'PIPES_AS_CONCAT,ANSI_QUOTES'")) != 0 ||
	    (r = my_cmd(&x, set)) != 0 ||
	    (r = my_cmd(&x, "START TRANSACTION READ ONLY")) != 0 ||
	    (r = my_schema(&x)) != 0 || (r = my_rowcounts(&x)) != 0 ||
	    (r = rules_each(dbfacts_migrations_builtin, dbfacts_migrations_builtin_len,
	    my_migration_rule, &x, &nrules, e)) != 0)
		goto out;
	r = my_cmd(&x, "COMMIT");
out:
	if (r == BG_ERR_NOMEM || r == BG_ERR_TOOLARGE)
		r = bg_fail(e, r, "mariadb: database facts: %s", bg_strerror(r));
	mysql_close(x.m);
	if (r != 0)
		dbfacts_release(out);
	return r;
}
