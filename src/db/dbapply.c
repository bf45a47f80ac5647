/*
 * dbapply.c - an approved patch applied to a configured target (see
 * dbapply.h).  PostgreSQL: two admin connections by peer authentication
 * (pgrole_admin_connect refuses a password or passfile), the patch's own
 * role made with pgrole_create and taken with SET ROLE on the second,
 * pgpatch_apply between them, the role revoked at the end.  The
 * statements that run as the role are exactly the patch's, checked by
 * sqlcheck: none can reset the role (SET/RESET and roles are refused).
 * MariaDB: root by unix_socket on the configured socket
 * (mariarole_admin_connect), the patch's own account made with
 * mariarole_create (its random password lives only in this process) and
 * a connection as it, mariapatch_apply between them, the account revoked
 * and dropped at the end - what the host's gate does, without a grant.
 */
#include "dbapply.h"
#include "mariapatch.h"
#include "mariarole.h"
#include "pgpatch.h"
#include "pgrole.h"
#include "utc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *
dbapply_engine_name(int engine)
{
	return engine == DBAPPLY_MARIADB ? "mariadb" : "postgresql";
}

int
dbapply_supported(const dbapply_target *t, bg_error *e)
{
	if (t->engine == DBAPPLY_POSTGRES || t->engine == DBAPPLY_MARIADB)
		return 0;
	return bg_fail(e, BG_ERR_UNSUPPORTED, "unknown database engine");
}

static int
name_ok(const char *s, size_t max)
{
	size_t n = strlen(s);

	return n > 0 && n <= max && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_") == n;
}

int
dbapply_check(const dbapply_target *t, const char *sql, size_t n, uint64_t approved,
    sqlcheck *c, bg_error *e)
{
	size_t i;
	int r;

	memset(c, 0, sizeof(*c));
	if ((r = dbapply_supported(t, e)) != 0)
		return r;
	if ((r = t->engine == DBAPPLY_MARIADB ?
	    sqlcheck_mariadb(sql, n, t->database, NULL, 0, c, e) :
	    sqlcheck_pg(sql, n, "public", NULL, 0, c, e)) != 0)
		return r;
	if (c->n > DBAPPLY_MAX_STMTS) {
		r = bg_fail(e, BG_ERR_UNSUPPORTED, "%zu statements: a patch applies at most %d",
		    c->n, DBAPPLY_MAX_STMTS);
		goto fail;
	}
	for (i = 0; i < c->n; i++) {
		const sqlcheck_stmt *s = &c->v[i];
		int ok = i < 64 && (approved & ((uint64_t)1 << i)) != 0;

		if (s->refused) {
			r = bg_fail(e, BG_ERR_POLICY, "statement %zu (%s) is refused: %s", i + 1,
			    sqlcheck_kind_name(s->kind), s->why);
			goto fail;
		}
		if (s->destructive && !ok) {
			r = bg_fail(e, BG_ERR_POLICY, "statement %zu (%s) is destructive: %s, and the "
			    "signed plan does not approve it (approved-destructive)", i + 1,
			    sqlcheck_kind_name(s->kind), s->why);
			goto fail;
		}
		if (s->destructive) {
			r = bg_fail(e, BG_ERR_UNSUPPORTED, "statement %zu (%s) is destructive (approved): "
			    "%s; no before-image can hold it", i + 1, sqlcheck_kind_name(s->kind),
			    s->why);
			goto fail;
		}
		/* MariaDB: the target's database holds every table the patch names
		 * (its account gets nothing elsewhere) */
		for (size_t k = 0; t->engine == DBAPPLY_MARIADB && k < s->ntables; k++) {
			size_t dl = strlen(t->database);

			if (strncmp(s->tables[k], t->database, dl) != 0 || s->tables[k][dl] != '.') {
				r = bg_fail(e, BG_ERR_UNSUPPORTED, "statement %zu (%s): table '%s' is not "
				    "in the target's database '%s'", i + 1, sqlcheck_kind_name(s->kind),
				    s->tables[k], t->database);
				goto fail;
			}
		}
		if (!s->imageable || s->ntables == 0) {
			r = bg_fail(e, BG_ERR_UNSUPPORTED, "statement %zu (%s): no before-image for this "
			    "shape (UPDATE or DELETE on one table with a WHERE, without FROM, USING, "
			    "WITH or RETURNING)", i + 1, sqlcheck_kind_name(s->kind));
			goto fail;
		}
	}
	return 0;
fail:
	sqlcheck_release(c);
	memset(c, 0, sizeof(*c));
	return r;
}

/* The patch's role: SELECT on every table it names, its writes where it writes. */
static int
patch_grant(const dbapply_target *t, const sqlcheck *c, const char *role, dbgrant *g,
    bg_error *e)
{
	size_t i, k, m;

	memset(g, 0, sizeof(*g));
	g->grant = 1;   /* named by role, not by a grant */
	snprintf(g->role, sizeof(g->role), "%s", role);
	snprintf(g->database, sizeof(g->database), "%s", t->database);
	g->write = 1;
	g->until = utc_now() + 3600;
	for (i = 0; i < c->n; i++)
		for (k = 0; k < c->v[i].ntables; k++) {
			for (m = 0; m < g->ntables; m++)
				if (strcmp(g->tables[m], c->v[i].tables[k]) == 0)
					break;
			if (m < g->ntables)
				continue;
			if (g->ntables == PGROLE_MAX_TABLES)
				return bg_fail(e, BG_ERR_TOOLARGE, "the patch names more than %d tables",
				    PGROLE_MAX_TABLES);
			snprintf(g->tables[g->ntables], SQLCHECK_NAME, "%s", c->v[i].tables[k]);
			g->ntables++;
		}
	if (g->ntables == 0)
		return bg_fail(e, BG_ERR_UNSUPPORTED, "the patch names no table");
	if (pgrole_grant_for_patch(g, c, e) != 0)
		return BG_ERR_POLICY;
	for (i = 0; i < g->ntables; i++)
		g->privs[i] |= PGROLE_SELECT;
	return 0;
}

/* The second connection takes the role; settings the role would get at login. */
static int
become(PGconn *admin, PGconn *conn, const char *role, bg_error *e)
{
	buf b;
	int r;

	buf_init(&b, 4096);
	r = buf_puts(&b, "GRANT ");
	r = r ? r : pgrole_put_ident(admin, &b, role);
	r = r ? r : buf_puts(&b, " TO CURRENT_USER");
	if (r != 0 || (r = pgrole_run(admin, buf_cstr(&b), "grant the patch role", e)) != 0)
		goto out;
	buf_reset(&b);
	r = buf_puts(&b, "SET statement_timeout = '30s'; SET lock_timeout = '5s'; "
	    "SET search_path = public; SET ROLE ");
	r = r ? r : pgrole_put_ident(conn, &b, role);
	if (r == 0)
		r = pgrole_run(conn, buf_cstr(&b), "take the patch role", e);
out:
	buf_release(&b);
	return r;
}

/* What leaves: counts, tables, changed columns. */
static void
copy_result(const pgpatch_result *pr, dbapply_result *out)
{
	size_t i;

	out->n = pr->n < DBAPPLY_MAX_STMTS ? pr->n : DBAPPLY_MAX_STMTS;
	for (i = 0; i < out->n; i++) {
		out->v[i].kind = pr->v[i].kind;
		out->v[i].rows = pr->v[i].rows;
		snprintf(out->v[i].table, sizeof(out->v[i].table), "%s", pr->v[i].table);
		snprintf(out->v[i].columns, sizeof(out->v[i].columns), "%s", pr->v[i].columns);
	}
	out->rows = pr->rows;
	out->txn_ms = pr->txn_ms;
}

/* MariaDB: the patch's account, a connection as it, mariapatch_apply. */
static int
patch_maria(const dbapply_target *t, const char *sql, size_t n, const sqlcheck *c,
    int64_t expect_rows, const char *tag, const char *role, dbgrant *g, pgpatch_result *pr,
    bg_error *e)
{
	MYSQL *admin = NULL, *conn = NULL;
	pgrole acct;
	bg_error tmp;
	int r, made = 0, term = 0;

	memset(&acct, 0, sizeof(acct));
	if ((r = mariarole_admin_connect(t->conninfo, &admin, e)) != 0)
		return r;
	/* an account of this name left by a crash goes first */
	if ((r = mariarole_revoke(admin, role, 5000, &term, e)) != 0 ||
	    (r = mariarole_create(admin, g, &acct, e)) != 0)
		goto out;
	made = 1;
	if ((r = mariarole_connect(t->conninfo, g, &acct, &conn, e)) != 0)
		goto out;
	r = mariapatch_apply(admin, conn, acct.name, sql, n, c, expect_rows, tag, pr, e);
out:
	if (conn != NULL)
		mysql_close(conn);
	if (made && mariarole_revoke(admin, role, 5000, &term, r ? &tmp : e) != 0 && r == 0)
		r = BG_ERR_STORE;
	mysql_close(admin);
	pgrole_release(&acct);
	return r;
}

int
dbapply_patch(const dbapply_target *t, const char *sql, size_t n, const sqlcheck *c,
    int64_t expect_rows, const char *tag, const char *role, dbapply_result *out, bg_error *e)
{
	PGconn *admin = NULL, *conn = NULL;
	pgpatch_result *pr = NULL;
	dbgrant g;
	pgrole pr_role;
	bg_error tmp;
	int r, made = 0, term = 0, kept = 0;

	memset(out, 0, sizeof(*out));
	memset(&pr_role, 0, sizeof(pr_role));
	if ((r = dbapply_supported(t, e)) != 0)
		return r;
	if (!name_ok(role, 30) || strncmp(role, "bg_g", 4) == 0)
		return bg_fail(e, BG_ERR_INVALID, "patch role '%.40s' must be [a-z0-9_] and not "
		    "bg_g...", role);
	if ((r = patch_grant(t, c, role, &g, e)) != 0)
		return r;
	if ((pr = calloc(1, sizeof(*pr))) == NULL)
		return BG_ERR_NOMEM;
	if (t->engine == DBAPPLY_MARIADB) {
		r = patch_maria(t, sql, n, c, expect_rows, tag, role, &g, pr, e);
		copy_result(pr, out);
		free(pr);
		return r;
	}
	if ((r = pgrole_admin_connect(t->conninfo, t->database, &admin, e)) != 0 ||
	    (r = pgrole_admin_connect(t->conninfo, t->database, &conn, e)) != 0)
		goto out;
	/* a role of this name left by a crash goes first */
	if ((r = pgrole_revoke(admin, role, 5000, &term, &kept, e)) != 0 ||
	    (r = pgrole_create(admin, &g, &pr_role, e)) != 0)
		goto out;
	made = 1;
	if ((r = become(admin, conn, role, e)) != 0)
		goto out;
	r = pgpatch_apply(admin, conn, role, sql, n, c, expect_rows, tag, pr, e);
	copy_result(pr, out);
out:
	PQfinish(conn);
	if (made && pgrole_revoke(admin, role, 5000, &term, &kept, r ? &tmp : e) != 0 && r == 0)
		r = BG_ERR_STORE;
	PQfinish(admin);
	pgrole_release(&pr_role);
	free(pr);
	return r;
}

int
dbapply_rollback(const dbapply_target *t, const char *tag, int64_t *restored,
    int64_t *changed, bg_error *e)
{
	PGconn *admin = NULL;
	int r;

	*restored = *changed = 0;
	if ((r = dbapply_supported(t, e)) != 0)
		return r;
	if (t->engine == DBAPPLY_MARIADB) {
		MYSQL *m = NULL;

		if ((r = mariarole_admin_connect(t->conninfo, &m, e)) != 0)
			return r;
		r = mariapatch_rollback(m, t->database, tag, restored, changed, e);
		mysql_close(m);
		return r;
	}
	if ((r = pgrole_admin_connect(t->conninfo, t->database, &admin, e)) != 0)
		return r;
	r = pgpatch_rollback(admin, tag, restored, changed, e);
	PQfinish(admin);
	return r;
}

int
dbapply_drop(const dbapply_target *t, const char *tag, bg_error *e)
{
	PGconn *admin = NULL;
	int r;

	if ((r = dbapply_supported(t, e)) != 0)
		return r;
	if (t->engine == DBAPPLY_MARIADB) {
		MYSQL *m = NULL;

		if ((r = mariarole_admin_connect(t->conninfo, &m, e)) != 0)
			return r;
		r = mariapatch_cleanup(m, tag, e);
		mysql_close(m);
		return r;
	}
	if ((r = pgrole_admin_connect(t->conninfo, t->database, &admin, e)) != 0)
		return r;
	r = pgpatch_cleanup(admin, tag, e);
	PQfinish(admin);
	return r;
}
