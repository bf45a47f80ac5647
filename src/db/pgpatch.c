/*
 * pgpatch.c - apply a SQL patch with a before-image; roll it back.
 *
 * Text that reaches the server is the patch's own statements (exact
 * substrings the parser delimited), its own target and WHERE text
 * (delimited by the parser's scanner, see sqlcheck find_image), and SQL
 * we assemble from fixed text and identifiers escaped by libpq or by
 * quote_ident on the server.  Image tables are breakglass."TAG_N", one
 * per statement, and breakglass."TAG_xid", the patch's transaction id
 * (written in that transaction); a comment on TAG_N says
 * "KIND\nSCHEMA\nTABLE" (plus "\nrolled back" once restored), so
 * rollback needs nothing from breakglass's files.
 */
#include "pgpatch.h"
#include "pgrole.h"
#include "utc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* one value of a one-row query with text params; NULL value → "" */
static int
q1(PGconn *c, const char *sql, int np, const char *const *pv, buf *out, bg_error *e)
{
	PGresult *res = PQexecParams(c, sql, np, NULL, pv, NULL, NULL, 0);
	int r = 0;

	buf_reset(out);
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
		const char *m = PQresultErrorMessage(res);

		r = bg_fail(e, BG_ERR_STORE, "postgres: %.*s", (int)strcspn(m, "\n"), m);
	} else {
		r = buf_puts(out, PQgetvalue(res, 0, 0));
	}
	PQclear(res);
	return r;
}

/* run on c, returning the rows it touched in *rows */
static int
run_count(PGconn *c, const char *sql, int64_t *rows, const char *what, bg_error *e)
{
	PGresult *res = PQexec(c, sql);
	int r = 0;

	if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK) {
		const char *m = PQresultErrorMessage(res);

		r = bg_fail(e, BG_ERR_STORE, "postgres: %s: %.*s", what, (int)strcspn(m, "\n"), m);
	} else {
		*rows = strtoll(PQcmdTuples(res)[0] ? PQcmdTuples(res) : "0", NULL, 10);
	}
	PQclear(res);
	return r;
}

static int
tag_ok(const char *tag)
{
	size_t n = strlen(tag);

	return n > 0 && n <= 40 && strspn(tag, "abcdefghijklmnopqrstuvwxyz0123456789_") == n;
}

static void
split(const char *qual, char *schema, char *rel)
{
	const char *dot = strchr(qual, '.');

	snprintf(schema, SQLCHECK_NAME, "%.*s", (int)(dot - qual), qual);
	snprintf(rel, SQLCHECK_NAME, "%s", dot + 1);
}

static const char REGCLASS[] = "format('%I.%I', $1::text, $2::text)::regclass";

/* refuse tables whose changes the before-image cannot hold; *pk: the key */
static int
check_table(PGconn *admin, int kind, const char *qual, buf *pk, bg_error *e)
{
	char schema[SQLCHECK_NAME], rel[SQLCHECK_NAME], sql[1024];
	const char *pv[2] = { schema, rel };
	buf v;
	int r;

	split(qual, schema, rel);
	buf_init(&v, 64u * 1024);
	if (strchr(qual, '\n') != NULL) {
		r = bg_fail(e, BG_ERR_UNSUPPORTED, "table name with a newline");
		goto out;
	}
	snprintf(sql, sizeof(sql), "SELECT coalesce(string_agg(tgname, ', '), '') FROM pg_trigger "
	    "WHERE tgrelid = %s AND NOT tgisinternal", REGCLASS);
	if ((r = q1(admin, sql, 2, pv, &v, e)) != 0)
		goto out;
	if (v.len > 0) {
		r = bg_fail(e, BG_ERR_POLICY, "table '%s' has trigger(s) %s: what they change "
		    "would not be in the before-image; apply this change by hand under the "
		    "ticket's approval, or disable the trigger in an approved step", qual,
		    buf_cstr(&v));
		goto out;
	}
	snprintf(sql, sizeof(sql), "SELECT coalesce(string_agg(conname || ' on ' || "
	    "conrelid::regclass::text, ', '), '') FROM pg_constraint WHERE contype = 'f' AND "
	    "confrelid = %s AND (confdeltype IN ('c', 'n', 'd') OR confupdtype IN ('c', 'n', 'd'))",
	    REGCLASS);
	if ((r = q1(admin, sql, 2, pv, &v, e)) != 0)
		goto out;
	if (v.len > 0) {
		r = bg_fail(e, BG_ERR_POLICY, "table '%s' is referenced by cascading foreign "
		    "key(s) %s: the rows they change would not be in the before-image", qual,
		    buf_cstr(&v));
		goto out;
	}
	snprintf(sql, sizeof(sql), "SELECT coalesce(string_agg(quote_ident(a.attname), ', ' "
	    "ORDER BY array_position(i.indkey::int2[], a.attnum)), '') FROM pg_index i "
	    "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
	    "WHERE i.indrelid = %s AND i.indisprimary", REGCLASS);
	if ((r = q1(admin, sql, 2, pv, pk, e)) != 0)
		goto out;
	if (kind == SQLCHECK_UPDATE && pk->len == 0)
		r = bg_fail(e, BG_ERR_UNSUPPORTED, "table '%s' has no primary key: the rows an "
		    "UPDATE changes could not be found again to restore them", qual);
out:
	buf_release(&v);
	return r;
}

/* breakglass."TAG_N[suffix]" */
static int
put_image(PGconn *c, buf *b, const char *tag, size_t i, const char *suffix)
{
	char name[64];

	snprintf(name, sizeof(name), "%s_%zu%s", tag, i + 1, suffix);
	return pgrole_put_ident(c, b, PGPATCH_SCHEMA) || buf_putc(b, '.') ||
	    pgrole_put_ident(c, b, name) ? BG_ERR_INVALID : 0;
}

/* breakglass."TAG_xid" */
static int
put_xid(PGconn *c, buf *b, const char *tag)
{
	char name[64];

	snprintf(name, sizeof(name), "%s_xid", tag);
	return pgrole_put_ident(c, b, PGPATCH_SCHEMA) || buf_putc(b, '.') ||
	    pgrole_put_ident(c, b, name) ? BG_ERR_INVALID : 0;
}

int
pgpatch_cleanup(PGconn *admin, const char *tag, bg_error *e)
{
	static const char sql[] =
	    "DO $$DECLARE t record; BEGIN "
	    "IF to_regnamespace('" PGPATCH_SCHEMA "') IS NULL THEN RETURN; END IF; "
	    "FOR t IN SELECT relname FROM pg_class WHERE relnamespace = '" PGPATCH_SCHEMA
	    "'::regnamespace AND relkind = 'r' AND relname ~ ('^' || %s || '_([0-9]+|xid)$') "
	    "LOOP EXECUTE format('DROP TABLE " PGPATCH_SCHEMA ".%%I', t.relname); END LOOP; END$$";
	char *lit;
	buf b;
	int r;

	if (!tag_ok(tag))
		return bg_fail(e, BG_ERR_INVALID, "patch tag '%.40s' must be [a-z0-9_]", tag);
	if ((lit = PQescapeLiteral(admin, tag, strlen(tag))) == NULL)
		return BG_ERR_NOMEM;
	buf_init(&b, 4096);
	r = buf_printf(&b, sql, lit);
	PQfreemem(lit);
	if (r == 0)
		r = pgrole_run(admin, buf_cstr(&b), "cleanup", e);
	buf_release(&b);
	return r;
}

int
pgpatch_apply(PGconn *admin, PGconn *role, const char *rolename, const char *sql,
    size_t n, const sqlcheck *c, int64_t expect_rows, const char *tag,
    pgpatch_result *out, bg_error *e)
{
	buf pk[16], b, v;
	double t0 = 0;
	size_t i;
	int r = 0, began = 0, prepared = 0;

	memset(out, 0, sizeof(*out));
	buf_init(&b, 2u * 1024 * 1024);
	buf_init(&v, 64u * 1024);
	for (i = 0; i < 16; i++)
		buf_init(&pk[i], 8192);
	if (!tag_ok(tag)) {
		r = bg_fail(e, BG_ERR_INVALID, "patch tag '%.40s' must be [a-z0-9_]", tag);
		goto out;
	}
	if (c->n > 16) {
		r = bg_fail(e, BG_ERR_UNSUPPORTED, "a patch applies at most 16 statements");
		goto out;
	}
	for (i = 0; i < c->n; i++) {
		const sqlcheck_stmt *s = &c->v[i];

		if (s->refused || s->destructive) {
			r = bg_fail(e, BG_ERR_POLICY, "statement %zu (%s): %s", i + 1,
			    sqlcheck_kind_name(s->kind), s->why);
			goto out;
		}
		if (!s->imageable || s->ntables == 0) {
			r = bg_fail(e, BG_ERR_UNSUPPORTED, "statement %zu (%s): no before-image for "
			    "this shape; write UPDATE or DELETE on one table with a WHERE, without "
			    "FROM, USING, WITH or RETURNING", i + 1, sqlcheck_kind_name(s->kind));
			goto out;
		}
		if ((r = check_table(admin, s->kind, s->tables[0], &pk[i], e)) != 0)
			goto out;
		out->v[i].kind = s->kind;
		snprintf(out->v[i].table, sizeof(out->v[i].table), "%s", s->tables[0]);
	}
	out->n = c->n;
	/* the images: the supervisor's schema, INSERT/SELECT for the role now */
	r = buf_puts(&b, "CREATE SCHEMA IF NOT EXISTS " PGPATCH_SCHEMA "; REVOKE ALL ON SCHEMA "
	    PGPATCH_SCHEMA " FROM PUBLIC; GRANT USAGE ON SCHEMA " PGPATCH_SCHEMA " TO ");
	r = r ? r : pgrole_put_ident(admin, &b, rolename);
	for (i = 0; r == 0 && i < c->n; i++) {
		const char *sfx[1] = { "" };
		char note[3 * SQLCHECK_NAME];
		char schema[SQLCHECK_NAME], rel[SQLCHECK_NAME];

		split(out->v[i].table, schema, rel);
		snprintf(note, sizeof(note), "%s\n%s\n%s", sqlcheck_kind_name(c->v[i].kind),
		    schema, rel);
		for (int k = 0; r == 0 && k < 1; k++) {
			r = buf_puts(&b, "; CREATE TABLE ");
			r = r ? r : put_image(admin, &b, tag, i, sfx[k]);
			r = r ? r : buf_puts(&b, " (LIKE ");
			r = r ? r : pgrole_put_table(admin, &b, out->v[i].table);
			r = r ? r : buf_puts(&b, "); GRANT INSERT, SELECT ON ");
			r = r ? r : put_image(admin, &b, tag, i, sfx[k]);
			r = r ? r : buf_puts(&b, " TO ");
			r = r ? r : pgrole_put_ident(admin, &b, rolename);
		}
		r = r ? r : buf_puts(&b, "; COMMENT ON TABLE ");
		r = r ? r : put_image(admin, &b, tag, i, "");
		r = r ? r : buf_puts(&b, " IS ");
		r = r ? r : pgrole_put_literal(admin, &b, note);
	}
	/* the transaction id of the patch: rows it updated carry it as xmin
	 * until someone else changes them */
	r = r ? r : buf_puts(&b, "; CREATE TABLE ");
	r = r ? r : put_xid(admin, &b, tag);
	r = r ? r : buf_puts(&b, " (xid text NOT NULL); GRANT INSERT ON ");
	r = r ? r : put_xid(admin, &b, tag);
	r = r ? r : buf_puts(&b, " TO ");
	r = r ? r : pgrole_put_ident(admin, &b, rolename);
	if (r != 0)
		goto out;
	if ((r = pgrole_run(admin, "BEGIN", "begin", e)) != 0)
		goto out;
	if ((r = pgrole_run(admin, buf_cstr(&b), "before-image tables", e)) != 0) {
		(void)pgrole_run(admin, "ROLLBACK", "rollback", NULL);
		if (strstr(e->msg, "already exists") != NULL)
			r = bg_fail(e, BG_ERR_EXISTS, "patch '%s' was applied before", tag);
		goto out;
	}
	if ((r = pgrole_run(admin, "COMMIT", "commit", e)) != 0)
		goto out;
	prepared = 1;
	/* one transaction as the role: image, patch, counts */
	t0 = utc_mono();
	if ((r = pgrole_run(role, "BEGIN ISOLATION LEVEL READ COMMITTED READ WRITE", "begin", e)) != 0)
		goto out;
	began = 1;
	for (i = 0; i < c->n; i++) {
		const sqlcheck_stmt *s = &c->v[i];
		int64_t before = 0, touched = 0;
		char what[64];

		buf_reset(&b);
		r = buf_puts(&b, "INSERT INTO ");
		r = r ? r : put_image(role, &b, tag, i, "");
		r = r ? r : buf_puts(&b, " SELECT * FROM");
		r = r ? r : buf_append(&b, sql + s->rel_off, s->rel_len);
		r = r ? r : buf_puts(&b, "WHERE (");
		r = r ? r : buf_append(&b, sql + s->where_off, s->where_len);
		r = r ? r : buf_puts(&b, "\n) FOR UPDATE");
		snprintf(what, sizeof(what), "statement %zu before-image", i + 1);
		if (r != 0 || (r = run_count(role, buf_cstr(&b), &before, what, e)) != 0)
			goto out;
		buf_reset(&b);
		if ((r = buf_append(&b, sql + s->off, s->len)) != 0)
			goto out;
		snprintf(what, sizeof(what), "statement %zu", i + 1);
		if ((r = run_count(role, buf_cstr(&b), &touched, what, e)) != 0)
			goto out;
		out->v[i].rows = touched;
		out->rows += touched;
		if (touched != before) {
			r = bg_fail(e, BG_ERR_STATE, "statement %zu touched %lld rows but its WHERE "
			    "selected %lld for the before-image (a volatile condition?): rolled back",
			    i + 1, (long long)touched, (long long)before);
			goto out;
		}
	}
	buf_reset(&b);
	r = buf_puts(&b, "INSERT INTO ");
	r = r ? r : put_xid(role, &b, tag);
	r = r ? r : buf_puts(&b, " SELECT (txid_current() % 4294967296)::text");
	if (r != 0 || (r = pgrole_run(role, buf_cstr(&b), "patch xid", e)) != 0)
		goto out;
	if (out->rows != expect_rows) {
		r = bg_fail(e, BG_ERR_STATE, "the patch touched %lld rows, the plan states %lld: "
		    "rolled back", (long long)out->rows, (long long)expect_rows);
		goto out;
	}
	if ((r = pgrole_run(role, "COMMIT", "commit", e)) != 0)
		goto out;
	began = 0;
	out->txn_ms = (utc_mono() - t0) * 1000;
	/* what leaves the database: counts, changed columns, a digest */
	for (i = 0; i < c->n; i++) {
		pgpatch_stmt *st = &out->v[i];

		buf_reset(&b);
		r = buf_puts(&b, "SELECT encode(sha256(convert_to(coalesce(string_agg(b::text, "
		    "E'\\n' ORDER BY b::text), ''), 'UTF8')), 'hex') FROM ");
		r = r ? r : put_image(admin, &b, tag, i, "");
		r = r ? r : buf_puts(&b, " b");
		if (r != 0 || (r = q1(admin, buf_cstr(&b), 0, NULL, &v, e)) != 0)
			goto out;
		snprintf(st->before_sha256, sizeof(st->before_sha256), "%s", buf_cstr(&v));
		if (st->kind != SQLCHECK_UPDATE)
			continue;
		/* one test per column: did any imaged row change it */
		{
			char schema[SQLCHECK_NAME], rel[SQLCHECK_NAME], q[512];
			const char *pv[2] = { schema, rel };
			PGresult *cr;
			int k;

			split(st->table, schema, rel);
			snprintf(q, sizeof(q), "SELECT quote_ident(attname), quote_literal(attname) "
			    "FROM pg_attribute WHERE attrelid = %s AND attnum > 0 AND NOT "
			    "attisdropped ORDER BY attnum", REGCLASS);
			cr = PQexecParams(admin, q, 2, NULL, pv, NULL, NULL, 0);
			if (PQresultStatus(cr) != PGRES_TUPLES_OK) {
				PQclear(cr);
				r = bg_fail(e, BG_ERR_STORE, "postgres: columns of '%s'", st->table);
				goto out;
			}
			buf_reset(&b);
			r = buf_puts(&b, "SELECT concat_ws(','");
			for (k = 0; r == 0 && k < PQntuples(cr); k++)
				r = buf_printf(&b, ", CASE WHEN bool_or(b.%s IS DISTINCT FROM a.%s) "
				    "THEN %s END", PQgetvalue(cr, k, 0), PQgetvalue(cr, k, 0),
				    PQgetvalue(cr, k, 1));
			PQclear(cr);
		}
		r = r ? r : buf_puts(&b, ") FROM ");
		r = r ? r : put_image(admin, &b, tag, i, "");
		r = r ? r : buf_printf(&b, " b JOIN ");
		r = r ? r : pgrole_put_table(admin, &b, st->table);
		r = r ? r : buf_printf(&b, " a USING (%s)", buf_cstr(&pk[i]));
		if (r != 0 || (r = q1(admin, buf_cstr(&b), 0, NULL, &v, e)) != 0)
			goto out;
		snprintf(st->columns, sizeof(st->columns), "%s", buf_cstr(&v));
	}
out:
	if (began)
		(void)pgrole_run(role, "ROLLBACK", "rollback", NULL);
	if (prepared) {
		/* the role keeps no reach into the breakglass schema */
		buf_reset(&b);
		if (buf_puts(&b, "DO $$DECLARE t record; BEGIN FOR t IN SELECT relname FROM pg_class "
		    "WHERE relnamespace = '" PGPATCH_SCHEMA "'::regnamespace AND relkind = 'r' LOOP "
		    "EXECUTE format('REVOKE ALL ON " PGPATCH_SCHEMA ".%I FROM %I', t.relname, ") == 0 &&
		    pgrole_put_literal(admin, &b, rolename) == 0 &&
		    buf_puts(&b, "); END LOOP; EXECUTE format('REVOKE ALL ON SCHEMA " PGPATCH_SCHEMA
		    " FROM %I', ") == 0 && pgrole_put_literal(admin, &b, rolename) == 0 &&
		    buf_puts(&b, "); END$$") == 0 &&
		    pgrole_run(admin, buf_cstr(&b), "revoke image access", r ? NULL : e) != 0 && r == 0)
			r = BG_ERR_STORE;
		if (r != 0 && r != BG_ERR_EXISTS)
			(void)pgpatch_cleanup(admin, tag, NULL);
	}
	for (i = 0; i < 16; i++)
		buf_release(&pk[i]);
	buf_release(&b);
	buf_release(&v);
	return r;
}

/* restore one statement's rows; *changed > 0 refuses (caller rolls back) */
static int
restore_one(PGconn *admin, const char *tag, size_t i, const char *note, int64_t *restored,
    int64_t *changed, bg_error *e)
{
	char kind[16], schema[SQLCHECK_NAME], rel[SQLCHECK_NAME], qual[2 * SQLCHECK_NAME];
	const char *p = note, *nl;
	const char *pv[2] = { schema, rel };
	PGresult *cr = NULL;
	buf b, pk, v, cols;
	int64_t want = 0, got = 0;
	int r = 0, k;

	buf_init(&b, 256u * 1024);
	buf_init(&pk, 8192);
	buf_init(&v, 4096);
	buf_init(&cols, 64u * 1024);
	/* "KIND\nSCHEMA\nTABLE" */
	if ((nl = strchr(p, '\n')) == NULL || (size_t)(nl - p) >= sizeof(kind))
		goto corrupt;
	snprintf(kind, sizeof(kind), "%.*s", (int)(nl - p), p);
	p = nl + 1;
	if ((nl = strchr(p, '\n')) == NULL || (size_t)(nl - p) >= SQLCHECK_NAME)
		goto corrupt;
	snprintf(schema, sizeof(schema), "%.*s", (int)(nl - p), p);
	p = nl + 1;
	if (strchr(p, '\n') != NULL || strlen(p) >= SQLCHECK_NAME ||
	    (strcmp(kind, "UPDATE") != 0 && strcmp(kind, "DELETE") != 0))
		goto corrupt;
	snprintf(rel, sizeof(rel), "%s", p);
	snprintf(qual, sizeof(qual), "%s.%s", schema, rel);
	if ((r = check_table(admin, SQLCHECK_UPDATE, qual, &pk, e)) != 0 &&
	    !(r == BG_ERR_UNSUPPORTED && strcmp(kind, "DELETE") == 0))
		goto out;
	r = 0;
	buf_reset(&b);
	r = buf_puts(&b, "SELECT count(*) FROM ");
	r = r ? r : put_image(admin, &b, tag, i, "");
	if (r != 0 || (r = q1(admin, buf_cstr(&b), 0, NULL, &v, e)) != 0)
		goto out;
	want = strtoll(buf_cstr(&v), NULL, 10);
	{
		char q[512];

		snprintf(q, sizeof(q), "SELECT quote_ident(attname) FROM pg_attribute WHERE "
		    "attrelid = %s AND attnum > 0 AND NOT attisdropped AND attgenerated = '' "
		    "ORDER BY attnum", REGCLASS);
		cr = PQexecParams(admin, q, 2, NULL, pv, NULL, NULL, 0);
		if (PQresultStatus(cr) != PGRES_TUPLES_OK || PQntuples(cr) == 0) {
			r = bg_fail(e, BG_ERR_STORE, "postgres: columns of '%s'", qual);
			goto out;
		}
	}
	if (strcmp(kind, "UPDATE") == 0) {
		/* lock the rows, then: did anyone change them since the patch */
		buf_reset(&b);
		r = buf_puts(&b, "SELECT count(*) FROM (SELECT 1 FROM ");
		r = r ? r : pgrole_put_table(admin, &b, qual);
		r = r ? r : buf_printf(&b, " WHERE (%s) IN (SELECT %s FROM ", buf_cstr(&pk),
		    buf_cstr(&pk));
		r = r ? r : put_image(admin, &b, tag, i, "");
		r = r ? r : buf_puts(&b, ") FOR UPDATE) x");
		if (r != 0 || (r = q1(admin, buf_cstr(&b), 0, NULL, &v, e)) != 0)
			goto out;
		buf_reset(&b);
		r = buf_puts(&b, "SELECT x.xid FROM ");
		r = r ? r : put_xid(admin, &b, tag);
		r = r ? r : buf_puts(&b, " x");
		if (r != 0 || (r = q1(admin, buf_cstr(&b), 0, NULL, &v, e)) != 0) {
			r = bg_fail(e, BG_ERR_CORRUPT, "patch '%s' has no transaction id: cannot "
			    "tell whether its rows changed since; nothing restored", tag);
			goto out;
		}
		{
			char *xid = PQescapeLiteral(admin, buf_cstr(&v), v.len);

			if (xid == NULL) {
				r = BG_ERR_NOMEM;
				goto out;
			}
			buf_reset(&b);
			r = buf_puts(&b, "SELECT count(*) FROM ");
			r = r ? r : put_image(admin, &b, tag, i, "");
			r = r ? r : buf_puts(&b, " b LEFT JOIN ");
			r = r ? r : pgrole_put_table(admin, &b, qual);
			r = r ? r : buf_printf(&b, " t USING (%s) WHERE t.xmin IS NULL OR "
			    "t.xmin::text <> %s", buf_cstr(&pk), xid);
			PQfreemem(xid);
		}
		if (r != 0 || (r = q1(admin, buf_cstr(&b), 0, NULL, &v, e)) != 0)
			goto out;
		*changed += strtoll(buf_cstr(&v), NULL, 10);
		if (strcmp(buf_cstr(&v), "0") != 0) {
			r = bg_fail(e, BG_ERR_STATE, "%s row(s) of '%s' changed or deleted by others "
			    "since the patch: nothing restored (restoring would undo their change)",
			    buf_cstr(&v), qual);
			goto out;
		}
		buf_reset(&b);
		r = buf_puts(&b, "UPDATE ");
		r = r ? r : pgrole_put_table(admin, &b, qual);
		r = r ? r : buf_puts(&b, " AS t SET (");
		for (k = 0; r == 0 && k < PQntuples(cr); k++)
			r = buf_printf(&b, "%s%s", k ? ", " : "", PQgetvalue(cr, k, 0));
		r = r ? r : buf_puts(&b, ") = ROW(");
		for (k = 0; r == 0 && k < PQntuples(cr); k++)
			r = buf_printf(&b, "%sb.%s", k ? ", " : "", PQgetvalue(cr, k, 0));
		r = r ? r : buf_puts(&b, ") FROM ");
		r = r ? r : put_image(admin, &b, tag, i, "");
		r = r ? r : buf_printf(&b, " b WHERE (");
		for (const char *q = buf_cstr(&pk); r == 0 && *q != '\0';) {
			size_t l = strcspn(q, ",");   /* quote_ident'ed, no comma unquoted */
			int inq = 0;
			size_t m;

			for (m = 0; q[m] != '\0' && (q[m] != ',' || inq); m++)
				if (q[m] == '"')
					inq ^= 1;
			l = m;
			r = buf_printf(&b, "%st.%.*s = b.%.*s", q == buf_cstr(&pk) ? "" : " AND ",
			    (int)l, q, (int)l, q);
			q += l;
			while (*q == ',' || *q == ' ')
				q++;
		}
		r = r ? r : buf_puts(&b, ")");
	} else {
		for (k = 0; r == 0 && k < PQntuples(cr); k++)
			r = buf_printf(&cols, "%s%s", k ? ", " : "", PQgetvalue(cr, k, 0));
		buf_reset(&b);
		r = r ? r : buf_puts(&b, "INSERT INTO ");
		r = r ? r : pgrole_put_table(admin, &b, qual);
		r = r ? r : buf_printf(&b, " (%s) OVERRIDING SYSTEM VALUE SELECT %s FROM ",
		    buf_cstr(&cols), buf_cstr(&cols));
		r = r ? r : put_image(admin, &b, tag, i, "");
	}
	if (r != 0 || (r = run_count(admin, buf_cstr(&b), &got, "restore", e)) != 0) {
		if (r == BG_ERR_STORE && strstr(e->msg, "duplicate key") != NULL)
			r = bg_fail(e, BG_ERR_STATE, "a deleted row's key of '%s' is in use again: "
			    "nothing restored", qual);
		goto out;
	}
	if (got != want) {
		r = bg_fail(e, BG_ERR_STATE, "restored %lld rows of '%s', the image holds %lld: "
		    "nothing restored", (long long)got, qual, (long long)want);
		goto out;
	}
	*restored += got;
	goto out;
corrupt:
	r = bg_fail(e, BG_ERR_CORRUPT, "before-image %zu of '%s' has no valid note", i + 1, tag);
out:
	PQclear(cr);
	buf_release(&b);
	buf_release(&pk);
	buf_release(&v);
	buf_release(&cols);
	return r;
}

int
pgpatch_rollback(PGconn *admin, const char *tag, int64_t *restored, int64_t *changed,
    bg_error *e)
{
	PGresult *res = NULL;
	const char *pv[1] = { tag };
	int i, r, began = 0;
	buf b;

	*restored = 0;
	*changed = 0;
	buf_init(&b, 4096);
	if (!tag_ok(tag))
		return bg_fail(e, BG_ERR_INVALID, "patch tag '%.40s' must be [a-z0-9_]", tag);
	if ((r = pgrole_run(admin, "BEGIN", "begin", e)) != 0)
		goto out;
	began = 1;
	/* the statements, last first */
	res = PQexecParams(admin, "SELECT substring(relname from '_([0-9]+)$')::int, "
	    "obj_description(oid, 'pg_class') FROM pg_class WHERE to_regnamespace('"
	    PGPATCH_SCHEMA "') IS NOT NULL AND relnamespace = to_regnamespace('" PGPATCH_SCHEMA
	    "') AND relkind = 'r' AND relname ~ ('^' || $1 || '_[0-9]+$') ORDER BY 1 DESC",
	    1, NULL, pv, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		r = bg_fail(e, BG_ERR_STORE, "postgres: before-images of '%s'", tag);
		goto out;
	}
	if (PQntuples(res) == 0) {
		r = bg_fail(e, BG_ERR_NOTFOUND, "no before-image of patch '%s'", tag);
		goto out;
	}
	for (i = 0; i < PQntuples(res); i++) {
		const char *note = PQgetvalue(res, i, 1);
		size_t idx = (size_t)strtoul(PQgetvalue(res, i, 0), NULL, 10);

		if (strstr(note, "\nrolled back") != NULL) {
			r = bg_fail(e, BG_ERR_STATE, "patch '%s' was rolled back already", tag);
			goto out;
		}
		if (idx == 0 || idx > 16 ||
		    (r = restore_one(admin, tag, idx - 1, note, restored, changed, e)) != 0)
			goto out;
		buf_reset(&b);
		r = buf_puts(&b, "COMMENT ON TABLE ");
		r = r ? r : put_image(admin, &b, tag, idx - 1, "");
		r = r ? r : buf_puts(&b, " IS ");
		{
			char n2[3 * SQLCHECK_NAME + 16];

			snprintf(n2, sizeof(n2), "%s\nrolled back", note);
			r = r ? r : pgrole_put_literal(admin, &b, n2);
		}
		if (r != 0 || (r = pgrole_run(admin, buf_cstr(&b), "mark", e)) != 0)
			goto out;
	}
	r = pgrole_run(admin, "COMMIT", "commit", e);
	began = 0;
out:
	if (began) {
		(void)pgrole_run(admin, "ROLLBACK", "rollback", NULL);
		*restored = 0;
	}
	PQclear(res);
	buf_release(&b);
	return r;
}
