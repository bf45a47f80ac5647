/*
 * pgrole.c - grant roles on PostgreSQL.
 *
 * All SQL is assembled in a capped buf from fixed text, identifiers
 * escaped by PQescapeIdentifier and literals by PQescapeLiteral; numbers
 * are printed by us.  Role names are ours ("bg_g" + decimal) and are
 * escaped anyway.  Creation is a single transaction, so a crash in the
 * middle leaves nothing; the window after COMMIT (a role whose password
 * died with the supervisor) is what pgrole_repair is for.
 */
#include "pgrole.h"
#include "buf.h"
#include "pqload.h"
#include "text.h"
#include "utc.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int
pgfail(PGconn *c, bg_error *e, int r, const char *what)
{
	const char *m = PQerrorMessage(c);
	size_t n = strlen(m);

	while (n > 0 && (m[n - 1] == '\n' || m[n - 1] == ' '))
		n--;
	return bg_fail(e, r, "postgres: %s: %.*s", what, (int)n, m);
}

/* libpq prints server notices to stderr by default; library code prints nothing */
static void
quiet(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

int
pgrole_run(PGconn *c, const char *sql, const char *what, bg_error *e)
{
	PGresult *res = PQexec(c, sql);
	int ok = res != NULL && (PQresultStatus(res) == PGRES_COMMAND_OK ||
	    PQresultStatus(res) == PGRES_TUPLES_OK);
	int r = 0;

	if (!ok) {
		const char *m = res ? PQresultErrorMessage(res) : PQerrorMessage(c);
		size_t n = strlen(m);

		while (n > 0 && m[n - 1] == '\n')
			n--;
		r = bg_fail(e, BG_ERR_STORE, "postgres: %s: %.*s", what, (int)n, m);
	}
	PQclear(res);
	return r;
}

int
pgrole_put_ident(PGconn *c, buf *b, const char *s)
{
	char *q = PQescapeIdentifier(c, s, strlen(s));
	int r;

	if (q == NULL)
		return BG_ERR_INVALID;
	r = buf_puts(b, q);
	PQfreemem(q);
	return r;
}

int
pgrole_put_literal(PGconn *c, buf *b, const char *s)
{
	char *q = PQescapeLiteral(c, s, strlen(s));
	int r;

	if (q == NULL)
		return BG_ERR_INVALID;
	r = buf_puts(b, q);
	PQfreemem(q);
	return r;
}

int
pgrole_put_table(PGconn *c, buf *b, const char *qual)
{
	const char *dot = strchr(qual, '.');
	char schema[SQLCHECK_NAME];
	int r;

	if (dot == NULL || (size_t)(dot - qual) >= sizeof(schema))
		return BG_ERR_INVALID;
	memcpy(schema, qual, (size_t)(dot - qual));
	schema[dot - qual] = '\0';
	if ((r = pgrole_put_ident(c, b, schema)) != 0 || (r = buf_putc(b, '.')) != 0)
		return r;
	return pgrole_put_ident(c, b, dot + 1);
}

int
pgrole_conninfo_secretive(const char *keyword)
{
	return strcmp(keyword, "password") == 0 || strcmp(keyword, "passfile") == 0 ||
	    strcmp(keyword, "service") == 0;
}

int
pgrole_conninfo_check(const char *conninfo, bg_error *e)
{
	PQconninfoOption *opts, *o;
	char *err = NULL;
	int r;

	if ((r = pqload_ready(e)) != 0)
		return r;
	if ((opts = PQconninfoParse(conninfo, &err)) == NULL) {
		const char *m = err ? err : "libpq refused it";
		size_t n = strlen(m);

		while (n > 0 && (m[n - 1] == '\n' || m[n - 1] == ' '))
			n--;
		r = bg_fail(e, BG_ERR_INVALID, "postgres: conninfo: %.*s", (int)n, m);
		PQfreemem(err);
		return r;
	}
	for (o = opts; o->keyword != NULL; o++)
		if (o->val != NULL && pgrole_conninfo_secretive(o->keyword)) {
			r = bg_fail(e, BG_ERR_POLICY, "postgres: the conninfo names a %s: breakglass "
			    "takes one without password, passfile or service (it connects by peer "
			    "authentication)", o->keyword);
			break;
		}
	PQconninfoFree(opts);
	return r;
}

int
pgrole_admin_connect(const char *conninfo, const char *dbname, PGconn **out,
    bg_error *e)
{
	PQconninfoOption *opts, *o;
	const char *keys[64], *vals[64];
	char *err = NULL;
	PGconn *c = NULL;
	PGresult *res = NULL;
	int n = 0, r = 0;

	*out = NULL;
	if ((r = pqload_ready(e)) != 0)
		return r;
	if ((opts = PQconninfoParse(conninfo, &err)) == NULL) {
		r = bg_fail(e, BG_ERR_INVALID, "postgres: conninfo: %s", err ? err : "refused");
		PQfreemem(err);
		return r;
	}
	for (o = opts; o->keyword != NULL && n < 62; o++) {
		if (o->val == NULL)
			continue;
		if (pgrole_conninfo_secretive(o->keyword)) {
			r = bg_fail(e, BG_ERR_POLICY,
			    "postgres: the admin conninfo names a %s: use peer authentication",
			    o->keyword);
			goto out;
		}
		if (strcmp(o->keyword, "dbname") == 0)
			continue;
		keys[n] = o->keyword;
		vals[n++] = o->val;
	}
	keys[n] = "dbname";
	vals[n++] = dbname;
	keys[n] = "passfile";     /* no ~/.pgpass either */
	vals[n++] = "/nonexistent/breakglass-no-pgpass";
	keys[n] = NULL;
	vals[n] = NULL;
	c = PQconnectdbParams(keys, vals, 0);
	if (c == NULL || PQstatus(c) != CONNECTION_OK) {
		r = c ? pgfail(c, e, BG_ERR_IO, "admin connection") :
		    bg_fail(e, BG_ERR_NOMEM, "postgres: admin connection");
		goto out;
	}
	PQsetNoticeProcessor(c, quiet, NULL);
	res = PQexec(c, "SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user");
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1 ||
	    strcmp(PQgetvalue(res, 0, 0), "t") != 0) {
		r = bg_fail(e, BG_ERR_PERM, "postgres: admin user '%s' cannot create roles",
		    PQuser(c));
		goto out;
	}
	*out = c;
	c = NULL; /* transferred */
out:
	PQclear(res);
	PQfinish(c);
	PQconninfoFree(opts);
	return r;
}

int
pgrole_grant_for_patch(dbgrant *g, const sqlcheck *c, bg_error *e)
{
	size_t i, t, k;

	if (!g->write)
		return bg_fail(e, BG_ERR_POLICY, "db grant: a read grant applies no patch");
	for (i = 0; i < c->n; i++) {
		const sqlcheck_stmt *s = &c->v[i];
		/* the before-image locks a DELETE's rows FOR UPDATE, which
		 * PostgreSQL allows only with UPDATE privilege */
		int p = s->kind == SQLCHECK_INSERT ? PGROLE_INSERT :
		    s->kind == SQLCHECK_UPDATE ? PGROLE_UPDATE :
		    s->kind == SQLCHECK_DELETE ? PGROLE_DELETE | PGROLE_UPDATE : 0;

		for (t = 0; t < s->ntables; t++) {
			for (k = 0; k < g->ntables; k++)
				if (strcmp(g->tables[k], s->tables[t]) == 0)
					break;
			if (k == g->ntables)
				return bg_fail(e, BG_ERR_POLICY, "db grant: statement %zu touches "
				    "table '%s' the grant does not name", i + 1, s->tables[t]);
			/* the modified table is the first RangeVar of the statement */
			if (t == 0)
				g->privs[k] |= p;
		}
	}
	return 0;
}

int
pgrole_harden(PGconn *admin, bg_error *e)
{
	/* format('%I') quotes identifiers server-side */
	static const char sql[] =
	    "DO $$DECLARE d record; o record; f record; BEGIN "
	    "FOR d IN SELECT datname FROM pg_database WHERE datallowconn AND "
	    "  (datacl IS NULL OR EXISTS (SELECT 1 FROM aclexplode(datacl) a "
	    "   WHERE a.grantee = 0 AND a.privilege_type IN ('CONNECT', 'TEMPORARY'))) LOOP "
	    "  FOR o IN SELECT rolname FROM pg_roles WHERE rolcanlogin AND NOT rolsuper "
	    "    AND rolname !~ '^bg_g[0-9]+$' LOOP "
	    "    EXECUTE format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO %I', d.datname, o.rolname); "
	    "  END LOOP; "
	    "  EXECUTE format('REVOKE CONNECT, TEMPORARY ON DATABASE %I FROM PUBLIC', d.datname); "
	    "END LOOP; "
	    "FOR f IN SELECT p.oid::regprocedure AS sig FROM pg_proc p "
	    "  WHERE p.pronamespace = 'pg_catalog'::regnamespace "
	    "  AND (p.proname LIKE 'lo\\_%' OR p.proname IN ('lowrite', 'loread')) "
	    "  AND (p.proacl IS NULL OR EXISTS (SELECT 1 FROM aclexplode(p.proacl) a "
	    "   WHERE a.grantee = 0)) LOOP "
	    "  FOR o IN SELECT rolname FROM pg_roles WHERE rolcanlogin AND NOT rolsuper "
	    "    AND rolname !~ '^bg_g[0-9]+$' LOOP "
	    "    EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO %I', f.sig, o.rolname); "
	    "  END LOOP; "
	    "  EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', f.sig); "
	    "END LOOP; END$$";

	return pgrole_run(admin, sql, "harden", e);
}

static void
role_name(const dbgrant *g, char name[32])
{
	if (g->role[0] != '\0')
		snprintf(name, 32, "%s", g->role);
	else
		snprintf(name, 32, "bg_g%lld", (long long)g->grant);
}

int
pgrole_create(PGconn *admin, const dbgrant *g, pgrole *out, bg_error *e)
{
	static const char alnum[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	char until[UTC_STRLEN], *verifier = NULL;
	PGresult *res = NULL;
	int64_t now;
	size_t i, k;
	int r = 0, began = 0;
	buf b;

	memset(out, 0, sizeof(*out));
	buf_init(&b, 256u * 1024);
	if (g->grant <= 0 || g->ntables == 0 || g->database[0] == '\0')
		return bg_fail(e, BG_ERR_USAGE, "db grant: incomplete");
	if (strcmp(PQdb(admin), g->database) != 0)
		return bg_fail(e, BG_ERR_USAGE, "postgres: admin connection is to '%s', not '%s'",
		    PQdb(admin), g->database);
	now = utc_now();
	if (g->until <= now)
		return bg_fail(e, BG_ERR_EXPIRED, "db grant G-%lld expired", (long long)g->grant);
	role_name(g, out->name);
	for (i = 0; i < 40; i++)
		out->password[i] = alnum[randombytes_uniform(sizeof(alnum) - 1)];
	out->password[40] = '\0';
	/* the verifier is computed here: the password itself never travels */
	if ((verifier = PQencryptPasswordConn(admin, out->password, out->name,
	    "scram-sha-256")) == NULL) {
		r = pgfail(admin, e, BG_ERR_STORE, "password verifier");
		goto out;
	}
	res = PQexecParams(admin, "SELECT 1 FROM pg_roles WHERE rolname = $1", 1, NULL,
	    (const char *const[]){ out->name }, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		r = pgfail(admin, e, BG_ERR_STORE, "role lookup");
		goto out;
	}
	if (PQntuples(res) != 0) {
		r = bg_fail(e, BG_ERR_EXISTS, "postgres: role '%s' exists", out->name);
		goto out;
	}
	if ((r = pgrole_run(admin, "BEGIN", "begin", e)) != 0)
		goto out;
	began = 1;
	/* the group the pg_hba rule names; it has no privileges itself */
	if ((r = pgrole_run(admin, "DO $$BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '"
	    PGROLE_GROUP "') THEN CREATE ROLE " PGROLE_GROUP " NOLOGIN; END IF; END$$",
	    "group role", e)) != 0)
		goto out;
	utc_format(g->until, until);
	r = buf_puts(&b, "CREATE ROLE ");
	r = r ? r : pgrole_put_ident(admin, &b, out->name);
	r = r ? r : buf_printf(&b, " LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT "
	    "NOREPLICATION NOBYPASSRLS CONNECTION LIMIT %d IN ROLE " PGROLE_GROUP
	    " PASSWORD ", g->conn_limit > 0 ? g->conn_limit : 2);
	r = r ? r : pgrole_put_literal(admin, &b, verifier);
	r = r ? r : buf_puts(&b, " VALID UNTIL ");
	r = r ? r : pgrole_put_literal(admin, &b, until);
	if (r != 0 || (r = pgrole_run(admin, buf_cstr(&b), "create role", e)) != 0)
		goto out;
	{
		static const char *const set[] = {
			"statement_timeout", "lock_timeout", "idle_in_transaction_session_timeout",
			"idle_session_timeout", "default_transaction_read_only",
			"temp_file_limit", NULL
		};
		char val[64];

		for (k = 0; set[k] != NULL; k++) {
			switch (k) {
			case 0: snprintf(val, sizeof(val), "%d", g->statement_timeout_ms > 0 ?
			    g->statement_timeout_ms : 30000); break;
			case 1: snprintf(val, sizeof(val), "%d", g->lock_timeout_ms > 0 ?
			    g->lock_timeout_ms : 5000); break;
			case 2: case 3: snprintf(val, sizeof(val), "%d", g->idle_timeout_ms > 0 ?
			    g->idle_timeout_ms : 600000); break;
			case 4: snprintf(val, sizeof(val), "%s", g->write ? "off" : "on"); break;
			default: snprintf(val, sizeof(val), "0"); break;
			}
			buf_reset(&b);
			r = buf_puts(&b, "ALTER ROLE ");
			r = r ? r : pgrole_put_ident(admin, &b, out->name);
			r = r ? r : buf_printf(&b, " SET %s = ", set[k]);
			r = r ? r : pgrole_put_literal(admin, &b, val);
			if (r != 0 || (r = pgrole_run(admin, buf_cstr(&b), "role setting", e)) != 0)
				goto out;
		}
	}
	/* search_path: the granted tables' schemas, as identifiers */
	buf_reset(&b);
	r = buf_puts(&b, "ALTER ROLE ");
	r = r ? r : pgrole_put_ident(admin, &b, out->name);
	r = r ? r : buf_puts(&b, " SET search_path = ");
	for (i = 0; r == 0 && i < g->ntables; i++) {
		const char *dot = strchr(g->tables[i], '.');
		char schema[SQLCHECK_NAME];

		for (k = 0; k < i; k++)
			if (strncmp(g->tables[k], g->tables[i], (size_t)(dot - g->tables[i]) + 1) == 0)
				break;
		if (k < i)
			continue;
		snprintf(schema, sizeof(schema), "%.*s", (int)(dot - g->tables[i]), g->tables[i]);
		r = buf_puts(&b, i ? ", " : "");
		r = r ? r : pgrole_put_ident(admin, &b, schema);
	}
	if (r != 0 || (r = pgrole_run(admin, buf_cstr(&b), "search_path", e)) != 0)
		goto out;
	buf_reset(&b);
	r = buf_puts(&b, "COMMENT ON ROLE ");
	r = r ? r : pgrole_put_ident(admin, &b, out->name);
	r = r ? r : buf_puts(&b, " IS ");
	{
		char note[256];

		snprintf(note, sizeof(note), "breakglass grant G-%lld on %s until %s",
		    (long long)g->grant, g->database, until);
		r = r ? r : pgrole_put_literal(admin, &b, note);
	}
	r = r ? r : buf_puts(&b, "; GRANT CONNECT ON DATABASE ");
	r = r ? r : pgrole_put_ident(admin, &b, g->database);
	r = r ? r : buf_puts(&b, " TO ");
	r = r ? r : pgrole_put_ident(admin, &b, out->name);
	for (i = 0; r == 0 && i < g->ntables; i++) {
		static const char *const pn[] = { "SELECT", "INSERT", "UPDATE", "DELETE" };
		const char *dot = strchr(g->tables[i], '.');
		int first = 1;
		char schema[SQLCHECK_NAME];

		snprintf(schema, sizeof(schema), "%.*s", (int)(dot - g->tables[i]), g->tables[i]);
		r = buf_puts(&b, "; GRANT USAGE ON SCHEMA ");
		r = r ? r : pgrole_put_ident(admin, &b, schema);
		r = r ? r : buf_puts(&b, " TO ");
		r = r ? r : pgrole_put_ident(admin, &b, out->name);
		r = r ? r : buf_puts(&b, "; GRANT ");
		for (k = 0; r == 0 && k < 4; k++)
			if (g->privs[i] & (1 << k)) {
				r = buf_printf(&b, "%s%s", first ? "" : ", ", pn[k]);
				first = 0;
			}
		r = r ? r : buf_puts(&b, " ON TABLE ");
		r = r ? r : pgrole_put_table(admin, &b, g->tables[i]);
		r = r ? r : buf_puts(&b, " TO ");
		r = r ? r : pgrole_put_ident(admin, &b, out->name);
	}
	if (r != 0 || (r = pgrole_run(admin, buf_cstr(&b), "grant", e)) != 0)
		goto out;
	r = pgrole_run(admin, "COMMIT", "commit", e);
	began = 0;
out:
	if (began)
		(void)pgrole_run(admin, "ROLLBACK", "rollback", NULL);
	if (r != 0)
		pgrole_release(out);
	PQclear(res);
	if (verifier != NULL)
		PQfreemem(verifier);
	buf_release(&b);
	return r;
}

int
pgrole_connect(const char *conninfo, const dbgrant *g, const pgrole *role,
    PGconn **out, bg_error *e)
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
	for (o = opts; o->keyword != NULL && n < 58; o++) {
		if (o->val == NULL || strcmp(o->keyword, "user") == 0 ||
		    pgrole_conninfo_secretive(o->keyword) ||
		    strcmp(o->keyword, "dbname") == 0 || strcmp(o->keyword, "options") == 0)
			continue;
		keys[n] = o->keyword;
		vals[n++] = o->val;
	}
	keys[n] = "user"; vals[n++] = role->name;
	keys[n] = "password"; vals[n++] = role->password;
	keys[n] = "dbname"; vals[n++] = g->database;
	keys[n] = "passfile"; vals[n++] = "/nonexistent/breakglass-no-pgpass";
	keys[n] = "application_name"; vals[n++] = "breakglass";
	keys[n] = NULL; vals[n] = NULL;
	c = PQconnectdbParams(keys, vals, 0);
	PQconninfoFree(opts);
	if (c == NULL || PQstatus(c) != CONNECTION_OK) {
		r = c ? pgfail(c, e, BG_ERR_IO, "role connection") :
		    bg_fail(e, BG_ERR_NOMEM, "postgres: role connection");
		PQfinish(c);
		return r;
	}
	PQsetNoticeProcessor(c, quiet, NULL);
	*out = c;
	return 0;
}

/* the number of backends of role name still alive, or -1 */
static int
alive(PGconn *admin, const char *name)
{
	PGresult *res = PQexecParams(admin,
	    "SELECT count(*) FROM pg_stat_activity WHERE usename = $1", 1, NULL,
	    (const char *const[]){ name }, NULL, NULL, 0);
	int n = -1;

	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
		n = (int)strtol(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return n;
}

int
pgrole_revoke(PGconn *admin, const char *name, int wait_ms, int *terminated,
    int *kept, bg_error *e)
{
	PGresult *res = NULL;
	int r = 0, owns, began = 0, n, waited;
	buf b, id;

	*terminated = 0;
	*kept = 0;
	buf_init(&b, 64u * 1024);
	buf_init(&id, 256);
	if ((r = pgrole_put_ident(admin, &id, name)) != 0)
		goto out;
	res = PQexecParams(admin, "SELECT (SELECT count(*) FROM pg_shdepend d WHERE d.refobjid "
	    "= r.oid AND d.deptype = 'o') FROM pg_roles r WHERE r.rolname = $1", 1, NULL,
	    (const char *const[]){ name }, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		r = pgfail(admin, e, BG_ERR_STORE, "role lookup");
		goto out;
	}
	if (PQntuples(res) == 0)
		goto out;                 /* already gone */
	owns = strcmp(PQgetvalue(res, 0, 0), "0") != 0;
	if ((r = pgrole_run(admin, "BEGIN", "begin", e)) != 0)
		goto out;
	began = 1;
	r = buf_printf(&b, "ALTER ROLE %s NOLOGIN CONNECTION LIMIT 0 VALID UNTIL '-infinity'; ",
	    buf_cstr(&id));
	if (!owns) {
		/* owns nothing: DROP OWNED only takes its privileges here */
		r = r ? r : buf_printf(&b, "DROP OWNED BY %s", buf_cstr(&id));
	} else {
		/* keep what it owns; take every privilege it holds here */
		r = r ? r : buf_puts(&b, "DO $$DECLARE t record; who text := ");
		r = r ? r : pgrole_put_literal(admin, &b, name);
		r = r ? r : buf_puts(&b, "; BEGIN "
		    "FOR t IN SELECT DISTINCT table_schema s, table_name n FROM "
		    "information_schema.role_table_grants WHERE grantee = who LOOP "
		    "EXECUTE format('REVOKE ALL ON TABLE %I.%I FROM %I', t.s, t.n, who); END LOOP; "
		    "FOR t IN SELECT nspname s FROM pg_namespace LOOP "
		    "EXECUTE format('REVOKE ALL ON SCHEMA %I FROM %I', t.s, who); END LOOP; "
		    "EXECUTE format('REVOKE ALL ON DATABASE %I FROM %I', current_database(), who); "
		    "END$$");
	}
	if (r != 0 || (r = pgrole_run(admin, buf_cstr(&b), "revoke", e)) != 0)
		goto out;
	if (r != 0 || (r = pgrole_run(admin, "COMMIT", "commit", e)) != 0)
		goto out;
	began = 0;
	/* committed: no new login, no privilege; now end what is running */
	for (waited = 0;; waited += 10) {
		PGresult *t = PQexecParams(admin, "SELECT count(*) FILTER (WHERE "
		    "pg_terminate_backend(pid)) FROM pg_stat_activity WHERE usename = $1", 1, NULL,
		    (const char *const[]){ name }, NULL, NULL, 0);

		if (PQresultStatus(t) != PGRES_TUPLES_OK) {
			PQclear(t);
			r = pgfail(admin, e, BG_ERR_STORE, "terminate");
			goto out;
		}
		*terminated += (int)strtol(PQgetvalue(t, 0, 0), NULL, 10);
		PQclear(t);
		if ((n = alive(admin, name)) == 0)
			break;
		if (n < 0) {
			r = pgfail(admin, e, BG_ERR_STORE, "backend count");
			goto out;
		}
		if (waited >= wait_ms) {
			r = bg_fail(e, BG_ERR_STATE, "postgres: %d backend(s) of '%s' still alive "
			    "after %d ms", n, name, wait_ms);
			goto out;
		}
		nanosleep(&(struct timespec){ 0, 10 * 1000 * 1000 }, NULL);
	}
	if (owns) {
		*kept = 1;
		goto out;
	}
	buf_reset(&b);
	if ((r = buf_printf(&b, "DROP ROLE %s", buf_cstr(&id))) != 0)
		goto out;
	if (pgrole_run(admin, buf_cstr(&b), "drop role", e) != 0) {
		/* privileges in another database still hold it: NOLOGIN, kept */
		*kept = 1;
		bg_error_clear(e);
	}
out:
	if (began)
		(void)pgrole_run(admin, "ROLLBACK", "rollback", NULL);
	PQclear(res);
	buf_release(&b);
	buf_release(&id);
	return r;
}

int
pgrole_repair(PGconn *admin, const int64_t *live, size_t nlive, int *removed,
    bg_error *e)
{
	PGresult *res;
	int i, r = 0, term, kept;
	size_t k;

	*removed = 0;
	res = PQexec(admin, "SELECT rolname FROM pg_roles WHERE rolname ~ '^bg_g[1-9][0-9]{0,9}$' "
	    "ORDER BY rolname");
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		r = pgfail(admin, e, BG_ERR_STORE, "role list");
		goto out;
	}
	for (i = 0; i < PQntuples(res) && r == 0; i++) {
		const char *name = PQgetvalue(res, i, 0);
		int64_t g = strtoll(name + 4, NULL, 10);

		for (k = 0; k < nlive; k++)
			if (live[k] == g)
				break;
		if (k < nlive)
			continue;
		if ((r = pgrole_revoke(admin, name, 5000, &term, &kept, e)) == 0)
			(*removed)++;
	}
out:
	PQclear(res);
	return r;
}

void
pgrole_release(pgrole *r)
{
	if (r != NULL)
		sodium_memzero(r, sizeof(*r));
}
