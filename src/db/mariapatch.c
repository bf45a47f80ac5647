/*
 * mariapatch.c - apply a SQL patch on MariaDB with a before-image; roll
 * it back (the contract is in mariapatch.h).
 *
 * Text that reaches the server is the patch's own statements (exact
 * substrings the tokenizer delimited), its own target and WHERE text
 * (sqlcheck-maria.c find_image), and SQL assembled from fixed text,
 * identifiers quoted with backticks (` doubled) and literals through
 * mysql_real_escape_string.  Column lists come from information_schema
 * and are quoted the same way.  The images are `breakglass`.`TAG_N`, made
 * by CREATE TABLE ... SELECT ... LIMIT 0 (plain columns: no keys, no
 * AUTO_INCREMENT, generated columns as values), with the table comment
 * "KIND\nDATABASE\nTABLE"; `breakglass`.`TAG_after` (InnoDB) holds per
 * statement (n, cnt, h, k, c) written by the patch's transaction, and
 * (0, 0, 0, '', '') once rolled back.  MariaDB's DDL commits, so the
 * images are made before the patch's transaction and dropped again when
 * it does not commit.
 *
 * MariaDB has no row version, so for an UPDATE that row is how rollback
 * sees rows changed by others since: c lists the columns rollback
 * restores and compares (restore_columns: the key, the SET's targets, ON
 * UPDATE columns - all the patch can change), cnt and h the count and
 * digest (digest_rows, key k) of those columns of the patched rows as
 * the patch left them.  Rollback recomputes them under FOR UPDATE and
 * refuses on any difference; a column outside c is neither compared nor
 * restored, so a later change to it is kept rather than undone.  The
 * digest is read back by the supervisor (one plain read of the few
 * columns), not computed by the server: SHA2() over every QUOTE()d
 * column cost as much as the UPDATE itself.
 *
 * The images are Aria tables (TRANSACTIONAL=1: crash-safe), not InnoDB:
 * copying 10,000 rows into a fresh InnoDB table cost 2-3x the UPDATE
 * itself here.  Their rows are therefore written outside the patch's
 * transaction; what makes them trustworthy is TAG_after, which is in it:
 * rollback restores only statements whose TAG_after row exists (the
 * patch committed) and whose image holds exactly the rows it counted.
 */
#include "mariapatch.h"
#include "mariarole.h"
#include "buf.h"
#include "utc.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MP_MAX 16
#define MP_CONCAT_MAX (64u * 1024 * 1024)

static int
mfail(MYSQL *m, bg_error *e, int r, const char *what)
{
	return bg_fail(e, r, "mariadb: %s: %s", what, mysql_error(m));
}

/* run sql on m, discarding a result; *rows: affected rows when asked */
static int
mrun(MYSQL *m, const char *sql, size_t n, int64_t *rows, const char *what, bg_error *e)
{
	MYSQL_RES *res;

	if (mysql_real_query(m, sql, (unsigned long)n) != 0)
		return mfail(m, e, BG_ERR_STORE, what);
	if ((res = mysql_store_result(m)) != NULL)
		mysql_free_result(res);
	else if (mysql_field_count(m) != 0)
		return mfail(m, e, BG_ERR_STORE, what);
	if (rows != NULL)
		*rows = (int64_t)mysql_affected_rows(m);
	return 0;
}

/* mrun of a C string, no row count */
static int
mq(MYSQL *m, const char *sql, const char *what, bg_error *e)
{
	return mrun(m, sql, strlen(sql), NULL, what, e);
}

static int
brun(MYSQL *m, const buf *b, int64_t *rows, const char *what, bg_error *e)
{
	return mrun(m, b->data, b->len, rows, what, e);
}

/* one value of a one-row, one-column query into out (NULL → "") */
static int
q1(MYSQL *m, const buf *b, buf *out, const char *what, bg_error *e)
{
	MYSQL_RES *res;
	MYSQL_ROW row;
	int r = 0;

	buf_reset(out);
	if (mysql_real_query(m, b->data, (unsigned long)b->len) != 0 ||
	    (res = mysql_store_result(m)) == NULL)
		return mfail(m, e, BG_ERR_STORE, what);
	if (mysql_num_rows(res) != 1 || mysql_num_fields(res) < 1 ||
	    (row = mysql_fetch_row(res)) == NULL)
		r = bg_fail(e, BG_ERR_STORE, "mariadb: %s: not one row", what);
	else
		r = buf_puts(out, row[0] ? row[0] : "");
	mysql_free_result(res);
	return r;
}

static int
tag_ok(const char *tag)
{
	size_t n = strlen(tag);

	return n > 0 && n <= 40 && strspn(tag, "abcdefghijklmnopqrstuvwxyz0123456789_") == n;
}

static void
split(const char *qual, char *db, char *rel)
{
	const char *dot = strchr(qual, '.');

	snprintf(db, SQLCHECK_NAME, "%.*s", dot ? (int)(dot - qual) : 0, qual);
	snprintf(rel, SQLCHECK_NAME, "%s", dot ? dot + 1 : qual);
}

/* `breakglass`.`TAG_N` (suffix "after": TAG_after) */
static int
put_image(buf *b, const char *tag, size_t i, const char *suffix)
{
	char name[64];

	if (suffix != NULL)
		snprintf(name, sizeof(name), "%s_%s", tag, suffix);
	else
		snprintf(name, sizeof(name), "%s_%zu", tag, i + 1);
	return mariarole_put_ident(b, MARIAPATCH_DB) || buf_putc(b, '.') || mariarole_put_ident(b, name) ?
	    BG_ERR_NOMEM : 0;
}

static int
put_table(buf *b, const char *db, const char *rel)
{
	return mariarole_put_ident(b, db) || buf_putc(b, '.') || mariarole_put_ident(b, rel) ? BG_ERR_NOMEM : 0;
}

/* "WHERE TABLE_SCHEMA = 'db' AND TABLE_NAME = 'rel'" with the column names given */
static int
put_where(MYSQL *m, buf *b, const char *scol, const char *tcol, const char *db,
    const char *rel)
{
	int r = buf_printf(b, " WHERE %s = ", scol);

	r = r ? r : mariarole_put_literal(m, b, db);
	r = r ? r : buf_printf(b, " AND %s = ", tcol);
	return r ? r : mariarole_put_literal(m, b, rel);
}

/* a quoted column list of (db, rel) into cols: "`a`,`b`" (primary: its key) */
static int
columns(MYSQL *m, const char *db, const char *rel, int primary, buf *cols, bg_error *e)
{
	buf q;
	int r;

	buf_init(&q, 4096);
	r = buf_puts(&q, "SELECT IFNULL(GROUP_CONCAT(CONCAT('`', REPLACE(COLUMN_NAME, '`', "
	    "'``'), '`') ORDER BY ORDINAL_POSITION SEPARATOR ','), '') FROM ");
	r = r ? r : buf_puts(&q, primary ? "information_schema.KEY_COLUMN_USAGE" :
	    "information_schema.COLUMNS");
	r = r ? r : put_where(m, &q, "TABLE_SCHEMA", "TABLE_NAME", db, rel);
	r = r ? r : buf_puts(&q, primary ? " AND CONSTRAINT_NAME = 'PRIMARY'" :
	    " AND IS_GENERATED = 'NEVER'");
	if (r == 0)
		r = q1(m, &q, cols, primary ? "primary key" : "columns", e);
	buf_release(&q);
	return r;
}

/*
 * Refuse tables whose changes the before-image cannot hold (see
 * mariapatch.h); pk: the primary key's quoted columns, cols: the stored
 * (not generated) columns.
 */
static int
check_table(MYSQL *m, int kind, const char *qual, buf *pk, buf *cols, bg_error *e)
{
	char db[SQLCHECK_NAME], rel[SQLCHECK_NAME];
	buf q, v;
	int r;

	split(qual, db, rel);
	buf_init(&q, 4096);
	buf_init(&v, 64u * 1024);
	r = buf_puts(&q, "SELECT COUNT(*) FROM information_schema.TABLES");
	r = r ? r : put_where(m, &q, "TABLE_SCHEMA", "TABLE_NAME", db, rel);
	r = r ? r : buf_puts(&q, " AND TABLE_TYPE = 'BASE TABLE' AND ENGINE = 'InnoDB'");
	if (r != 0 || (r = q1(m, &q, &v, "table", e)) != 0)
		goto out;
	if (strcmp(buf_cstr(&v), "1") != 0) {
		r = bg_fail(e, BG_ERR_UNSUPPORTED, "table '%s' is no InnoDB base table of the server "
		    "(a view, another engine, or the name in another letter case): no "
		    "transaction could hold its before-image", qual);
		goto out;
	}
	buf_reset(&q);
	r = buf_puts(&q, "SELECT IFNULL(GROUP_CONCAT(TRIGGER_NAME SEPARATOR ', '), '') FROM "
	    "information_schema.TRIGGERS");
	r = r ? r : put_where(m, &q, "EVENT_OBJECT_SCHEMA", "EVENT_OBJECT_TABLE", db, rel);
	if (r != 0 || (r = q1(m, &q, &v, "triggers", e)) != 0)
		goto out;
	if (v.len > 0) {
		r = bg_fail(e, BG_ERR_POLICY, "table '%s' has trigger(s) %s: what they change "
		    "would not be in the before-image; apply this change by hand under the "
		    "ticket's approval, or drop the trigger in an approved step", qual,
		    buf_cstr(&v));
		goto out;
	}
	buf_reset(&q);
	r = buf_puts(&q, "SELECT IFNULL(GROUP_CONCAT(CONCAT(CONSTRAINT_NAME, ' on ', "
	    "CONSTRAINT_SCHEMA, '.', TABLE_NAME) SEPARATOR ', '), '') FROM "
	    "information_schema.REFERENTIAL_CONSTRAINTS");
	r = r ? r : put_where(m, &q, "UNIQUE_CONSTRAINT_SCHEMA", "REFERENCED_TABLE_NAME", db, rel);
	r = r ? r : buf_puts(&q, " AND (DELETE_RULE IN ('CASCADE', 'SET NULL', 'SET DEFAULT') "
	    "OR UPDATE_RULE IN ('CASCADE', 'SET NULL', 'SET DEFAULT'))");
	if (r != 0 || (r = q1(m, &q, &v, "foreign keys", e)) != 0)
		goto out;
	if (v.len > 0) {
		r = bg_fail(e, BG_ERR_POLICY, "table '%s' is referenced by cascading foreign "
		    "key(s) %s: the rows they change would not be in the before-image", qual,
		    buf_cstr(&v));
		goto out;
	}
	if ((r = columns(m, db, rel, 1, pk, e)) != 0 || (r = columns(m, db, rel, 0, cols, e)) != 0)
		goto out;
	if (cols->len == 0)
		r = bg_fail(e, BG_ERR_STORE, "mariadb: table '%s' has no columns", qual);
	else if (kind == SQLCHECK_UPDATE && pk->len == 0)
		r = bg_fail(e, BG_ERR_UNSUPPORTED, "table '%s' has no primary key: the rows an "
		    "UPDATE changes could not be found again to restore them", qual);
out:
	buf_release(&q);
	buf_release(&v);
	return r;
}

/* "a.`x` = b.`x` AND ..." for the quoted key list pk */
static int
put_join(buf *b, const char *pk)
{
	const char *p = pk;
	int r = 0, first = 1;

	while (r == 0 && *p != '\0') {
		size_t l = 1;

		/* `...` with `` inside */
		while (p[l] != '\0' && !(p[l] == '`' && p[l + 1] != '`'))
			l += p[l] == '`' ? 2 : 1;
		if (p[l] != '`')
			return BG_ERR_INVALID;
		l++;
		r = buf_printf(b, "%sa.%.*s <=> b.%.*s", first ? "" : " AND ", (int)l, p, (int)l, p);
		first = 0;
		p += l;
		if (*p == ',')
			p++;
	}
	return r;
}

/* the next `name` of a quoted column list at *p: its length, 0 at the end
 * (or on a list that is not one) */
static size_t
next_col(const char **p)
{
	const char *c = *p;
	size_t l = 1;

	if (*c == ',')
		c++;
	*p = c;
	if (*c != '`')
		return 0;
	while (c[l] != '\0' && !(c[l] == '`' && c[l + 1] != '`'))
		l += c[l] == '`' ? 2 : 1;
	return c[l] == '`' ? l + 1 : 0;
}

/* "a.`x`, a.`y`" for the quoted list cols, qualifier "a." or "" */
static int
put_cols(buf *b, const char *cols, const char *qualifier)
{
	const char *p = cols;
	size_t l;
	int r = 0, first = 1;

	while (r == 0 && (l = next_col(&p)) > 0) {
		r = buf_printf(b, "%s%s%.*s", first ? "" : ", ", qualifier, (int)l, p);
		first = 0;
		p += l;
	}
	return r != 0 ? r : first || *p != '\0' ? BG_ERR_INVALID : 0;
}

/* 1 when every name of the quoted list sub is in the quoted list of */
static int
cols_within(const char *sub, const char *of)
{
	const char *p = sub;
	size_t l;

	while ((l = next_col(&p)) > 0) {
		const char *q = of;
		size_t k;
		int found = 0;

		while (!found && (k = next_col(&q)) > 0) {
			found = k == l && memcmp(p, q, l) == 0;
			q += k;
		}
		if (!found)
			return 0;
		p += l;
	}
	return *p == '\0';
}

/*
 * The rows query q returns, read as they stream (mysql_use_result), as a
 * count and a 64-bit digest: the XOR over the rows of SipHash-2-4 under
 * key of each row's values, length-prefixed (NULL its own marker).  The
 * XOR makes the order of the rows irrelevant; the key (random per patch,
 * in TAG_after, which only the admin reads) keeps anyone who changes the
 * rows from aiming at a digest.  The values pass through this process's
 * memory only (the row buffer is wiped), never a file or a report.
 */
static int
digest_rows(MYSQL *m, const buf *q, const unsigned char key[crypto_shorthash_KEYBYTES],
    int64_t *cnt, uint64_t *h, const char *what, bg_error *e)
{
	MYSQL_RES *res;
	MYSQL_ROW row;
	buf rb;
	unsigned int nf, i;
	int r = 0;

	*cnt = 0;
	*h = 0;
	if (mysql_real_query(m, q->data, (unsigned long)q->len) != 0 ||
	    (res = mysql_use_result(m)) == NULL)
		return mfail(m, e, BG_ERR_STORE, what);
	nf = mysql_num_fields(res);
	buf_init_secret(&rb, 64u * 1024 * 1024);
	while (r == 0 && (row = mysql_fetch_row(res)) != NULL) {
		unsigned long *len = mysql_fetch_lengths(res);
		unsigned char d[crypto_shorthash_BYTES];
		uint64_t v = 0;

		buf_reset(&rb);
		for (i = 0; r == 0 && i < nf; i++)
			r = row[i] == NULL ? buf_put_u32(&rb, 0xffffffffu) :
			    len == NULL || len[i] >= 0xffffffffu ? BG_ERR_TOOLARGE :
			    buf_put_string(&rb, row[i], len[i]);
		if (r != 0)
			break;
		crypto_shorthash(d, (const unsigned char *)rb.data, rb.len, key);
		for (i = 0; i < sizeof(d); i++)
			v = v << 8 | d[i];
		*h ^= v;
		(*cnt)++;
	}
	/* a row that does not come (fetch's NULL) is the end or an error */
	if (r == 0 && mysql_errno(m) != 0)
		r = mfail(m, e, BG_ERR_STORE, what);
	else if (r != 0)
		r = bg_fail(e, r, "mariadb: %s: a row too large to digest", what);
	mysql_free_result(res);
	buf_release(&rb);
	return r;
}

/*
 * The columns an UPDATE's rollback restores and checks, into icols: the
 * primary key, the columns its SET assigns and those the server changes
 * on every UPDATE (ON UPDATE CURRENT_TIMESTAMP), in the table's order -
 * or every stored column (all) when the SET targets are not known or not
 * all of them name a stored column of the table (then a name differs
 * from the server's idea of it, and only every column is sure to hold
 * it).  These are all the patch can change (triggers and cascades are
 * refused, generated columns are recomputed); a column outside them is
 * neither restored nor compared, so a later change to it by others
 * survives the rollback: ARCHITECTURE.md "Databases".
 */
static int
restore_columns(MYSQL *m, const sqlcheck_stmt *s, const char *qual, const char *all,
    buf *icols, bg_error *e)
{
	char db[SQLCHECK_NAME], rel[SQLCHECK_NAME];
	buf q, in, v;
	size_t j;
	int r = 0, n = -1;

	buf_reset(icols);
	if (s->kind != SQLCHECK_UPDATE || !s->setcols_known || s->nsetcols == 0)
		return buf_puts(icols, all);
	split(qual, db, rel);
	buf_init(&q, 16384);
	buf_init(&in, 8192);
	buf_init(&v, 64u * 1024);
	for (j = 0; r == 0 && j < s->nsetcols; j++)
		r = (j > 0 ? buf_putc(&in, ',') : 0) || mariarole_put_literal(m, &in, s->setcols[j]) ?
		    BG_ERR_NOMEM : 0;
	/* "COUNT;LIST": how many SET targets are stored columns, the list */
	r = r ? r : buf_puts(&q, "SELECT CONCAT(COUNT(DISTINCT IF(COLUMN_NAME IN (");
	r = r ? r : buf_append(&q, in.data, in.len);
	r = r ? r : buf_puts(&q, "), COLUMN_NAME, NULL)), ';', IFNULL(GROUP_CONCAT(IF(COLUMN_NAME IN (");
	r = r ? r : buf_append(&q, in.data, in.len);
	r = r ? r : buf_puts(&q, ") OR EXTRA LIKE '%on update%' OR COLUMN_NAME IN (SELECT COLUMN_NAME "
	    "FROM information_schema.KEY_COLUMN_USAGE");
	r = r ? r : put_where(m, &q, "TABLE_SCHEMA", "TABLE_NAME", db, rel);
	r = r ? r : buf_puts(&q, " AND CONSTRAINT_NAME = 'PRIMARY'), CONCAT('`', REPLACE(COLUMN_NAME, "
	    "'`', '``'), '`'), NULL) ORDER BY ORDINAL_POSITION SEPARATOR ','), '')) FROM "
	    "information_schema.COLUMNS");
	r = r ? r : put_where(m, &q, "TABLE_SCHEMA", "TABLE_NAME", db, rel);
	r = r ? r : buf_puts(&q, " AND IS_GENERATED = 'NEVER'");
	if (r == 0 && (r = q1(m, &q, &v, "restore columns", e)) == 0) {
		const char *semi = strchr(buf_cstr(&v), ';');

		if (semi != NULL)
			n = (int)strtol(buf_cstr(&v), NULL, 10);
		if (n == (int)s->nsetcols && cols_within(semi + 1, all))
			r = buf_puts(icols, semi + 1);
		else
			r = buf_puts(icols, all);
	}
	buf_release(&q);
	buf_release(&in);
	buf_release(&v);
	return r;
}

/*
 * " SELECT COLS" of a statement's before-image: a DELETE's holds the
 * whole rows (rollback inserts them again), an UPDATE's only the columns
 * its rollback restores and compares (restore_columns): the key, the
 * SET's targets, the ON UPDATE columns.  What the patch cannot change is
 * not copied: less customer data leaves the table, and the copy costs
 * what the change touches (bench/db.sh).
 */
static int
put_image_select(buf *b, const sqlcheck_stmt *s, const char *rcols)
{
	int r;

	if (s->kind != SQLCHECK_UPDATE)
		return buf_puts(b, " SELECT *");
	r = buf_puts(b, " SELECT ");
	return r ? r : put_cols(b, rcols, "");
}

/* "SELECT a.COLS FROM t a JOIN image b ON key": the rows of qual whose key
 * is in image i, the image's columns as they are now */
static int
put_rows_now(buf *b, const char *tag, size_t i, const char *qual, const char *pk,
    const char *cols)
{
	char db[SQLCHECK_NAME], rel[SQLCHECK_NAME];
	int r;

	split(qual, db, rel);
	r = buf_puts(b, "SELECT ");
	r = r ? r : put_cols(b, cols, "a.");
	r = r ? r : buf_puts(b, " FROM ");
	r = r ? r : put_table(b, db, rel);
	r = r ? r : buf_puts(b, " a JOIN ");
	r = r ? r : put_image(b, tag, i, NULL);
	r = r ? r : buf_puts(b, " b ON ");
	return r ? r : put_join(b, pk);
}

/* the tables of tag in the breakglass database: "NAME\tCOMMENT" rows */
static int
list_images(MYSQL *m, const char *tag, int with_after, MYSQL_RES **out, bg_error *e)
{
	buf q;
	int r;

	*out = NULL;
	buf_init(&q, 1024);
	r = buf_printf(&q, "SELECT TABLE_NAME, TABLE_COMMENT FROM information_schema.TABLES "
	    "WHERE TABLE_SCHEMA = '" MARIAPATCH_DB "' AND TABLE_NAME RLIKE '^%s_(%s)$' ORDER BY "
	    "CAST(SUBSTRING_INDEX(TABLE_NAME, '_', -1) AS UNSIGNED) DESC", tag,
	    with_after ? "[0-9]+|after" : "[0-9]+");
	if (r == 0 && (mysql_real_query(m, q.data, (unsigned long)q.len) != 0 ||
	    (*out = mysql_store_result(m)) == NULL))
		r = mfail(m, e, BG_ERR_STORE, "before-images");
	buf_release(&q);
	return r;
}

int
mariapatch_cleanup(MYSQL *admin, const char *tag, bg_error *e)
{
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	buf b;
	int r;

	if (!tag_ok(tag))
		return bg_fail(e, BG_ERR_INVALID, "patch tag '%.40s' must be [a-z0-9_]", tag);
	if ((r = list_images(admin, tag, 1, &res, e)) != 0)
		return r;
	buf_init(&b, 1024);
	while (r == 0 && (row = mysql_fetch_row(res)) != NULL) {
		buf_reset(&b);
		r = buf_puts(&b, "DROP TABLE IF EXISTS ");
		r = r ? r : mariarole_put_ident(&b, MARIAPATCH_DB);
		r = r ? r : buf_putc(&b, '.');
		r = r ? r : mariarole_put_ident(&b, row[0]);
		r = r ? r : brun(admin, &b, NULL, "drop before-image", e);
	}
	mysql_free_result(res);
	buf_release(&b);
	return r;
}

/* "Rows matched: N  Changed: M  Warnings: W" → N; or the affected rows */
static int64_t
matched_rows(MYSQL *m, int kind)
{
	const char *info = mysql_info(m);
	long long n;

	if (kind == SQLCHECK_UPDATE && info != NULL && sscanf(info, "Rows matched: %lld", &n) == 1)
		return n;
	return (int64_t)mysql_affected_rows(m);
}

int
mariapatch_apply(MYSQL *admin, MYSQL *role, const char *account, const char *sql,
    size_t n, const sqlcheck *c, int64_t expect_rows, const char *tag,
    pgpatch_result *out, bg_error *e)
{
	buf pk[MP_MAX], cols[MP_MAX], rcols[MP_MAX], b, v;
	unsigned char key[crypto_shorthash_KEYBYTES];
	char keyhex[2 * crypto_shorthash_KEYBYTES + 1];
	double t0;
	size_t i;
	int r = 0, began = 0, prepared = 0, committed = 0;

	memset(out, 0, sizeof(*out));
	randombytes_buf(key, sizeof(key));
	sodium_bin2hex(keyhex, sizeof(keyhex), key, sizeof(key));
	buf_init(&b, 2u * 1024 * 1024);
	buf_init(&v, 64u * 1024);
	for (i = 0; i < MP_MAX; i++) {
		buf_init(&pk[i], 8192);
		buf_init(&cols[i], 64u * 1024);
		buf_init(&rcols[i], 64u * 1024);
	}
	if (!tag_ok(tag)) {
		r = bg_fail(e, BG_ERR_INVALID, "patch tag '%.40s' must be [a-z0-9_]", tag);
		goto out;
	}
	if (c->n > MP_MAX) {
		r = bg_fail(e, BG_ERR_UNSUPPORTED, "a patch applies at most %d statements", MP_MAX);
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
			    "this shape on MariaDB; write UPDATE t SET ... WHERE ... or DELETE FROM "
			    "t WHERE ... on one table, without ORDER BY, LIMIT, IGNORE or RETURNING",
			    i + 1, sqlcheck_kind_name(s->kind));
			goto out;
		}
		if ((r = check_table(admin, s->kind, s->tables[0], &pk[i], &cols[i], e)) != 0 ||
		    (r = restore_columns(admin, s, s->tables[0], buf_cstr(&cols[i]), &rcols[i],
		    e)) != 0)
			goto out;
		if (s->kind == SQLCHECK_UPDATE && !cols_within(buf_cstr(&pk[i]), buf_cstr(&rcols[i]))) {
			r = bg_fail(e, BG_ERR_STORE, "mariadb: the columns statement %zu would "
			    "restore lack the primary key", i + 1);
			goto out;
		}
		out->v[i].kind = s->kind;
		snprintf(out->v[i].table, sizeof(out->v[i].table), "%s", s->tables[0]);
	}
	out->n = c->n;
	/* the images, made by the admin (DDL commits: before the patch) */
	if ((r = mq(admin, "CREATE DATABASE IF NOT EXISTS " MARIAPATCH_DB, "image database",
	    e)) != 0)
		goto out;
	buf_reset(&b);
	r = buf_puts(&b, "CREATE TABLE ");
	r = r ? r : put_image(&b, tag, 0, "after");
	r = r ? r : buf_puts(&b, " (n INT NOT NULL, cnt BIGINT NOT NULL, h BIGINT UNSIGNED NOT "
	    "NULL, k BINARY(16) NOT NULL, c TEXT NOT NULL) ENGINE=InnoDB");
	if (r != 0)
		goto out;
	if (mysql_real_query(admin, b.data, (unsigned long)b.len) != 0) {
		r = mysql_errno(admin) == 1050 ?
		    bg_fail(e, BG_ERR_EXISTS, "patch '%s' was applied before", tag) :
		    mfail(admin, e, BG_ERR_STORE, "before-image tables");
		goto out;
	}
	prepared = 1;
	for (i = 0; i < c->n; i++) {
		char db[SQLCHECK_NAME], rel[SQLCHECK_NAME], note[3 * SQLCHECK_NAME];

		split(out->v[i].table, db, rel);
		snprintf(note, sizeof(note), "%s\n%s\n%s", sqlcheck_kind_name(c->v[i].kind), db, rel);
		buf_reset(&b);
		r = buf_puts(&b, "CREATE TABLE ");
		r = r ? r : put_image(&b, tag, i, NULL);
		r = r ? r : buf_puts(&b, " ENGINE=Aria TRANSACTIONAL=1 COMMENT=");
		r = r ? r : mariarole_put_literal(admin, &b, note);
		r = r ? r : put_image_select(&b, &c->v[i], buf_cstr(&rcols[i]));
		r = r ? r : buf_puts(&b, " FROM ");
		r = r ? r : put_table(&b, db, rel);
		r = r ? r : buf_puts(&b, " LIMIT 0");
		if (r != 0 || (r = brun(admin, &b, NULL, "before-image table", e)) != 0)
			goto out;
		buf_reset(&b);
		r = buf_puts(&b, "GRANT INSERT, SELECT ON ");
		r = r ? r : put_image(&b, tag, i, NULL);
		r = r ? r : buf_puts(&b, " TO ");
		r = r ? r : mariarole_put_literal(admin, &b, account);
		r = r ? r : buf_puts(&b, "@'localhost'");
		if (r != 0 || (r = brun(admin, &b, NULL, "image grant", e)) != 0)
			goto out;
	}
	buf_reset(&b);
	r = buf_puts(&b, "GRANT INSERT ON ");
	r = r ? r : put_image(&b, tag, 0, "after");
	r = r ? r : buf_puts(&b, " TO ");
	r = r ? r : mariarole_put_literal(admin, &b, account);
	r = r ? r : buf_puts(&b, "@'localhost'");
	if (r != 0 || (r = brun(admin, &b, NULL, "image grant", e)) != 0)
		goto out;
	/* one transaction as the account: image, patch, counts */
	t0 = utc_mono();
	if ((r = mq(role, "START TRANSACTION READ WRITE", "begin", e)) != 0)
		goto out;
	began = 1;
	for (i = 0; i < c->n; i++) {
		const sqlcheck_stmt *s = &c->v[i];
		int64_t before = 0, touched;
		char what[64];

		buf_reset(&b);
		r = buf_puts(&b, "INSERT INTO ");
		r = r ? r : put_image(&b, tag, i, NULL);
		r = r ? r : put_image_select(&b, s, buf_cstr(&rcols[i]));
		r = r ? r : buf_puts(&b, " FROM");
		r = r ? r : buf_append(&b, sql + s->rel_off, s->rel_len);
		r = r ? r : buf_puts(&b, "WHERE (");
		r = r ? r : buf_append(&b, sql + s->where_off, s->where_len);
		r = r ? r : buf_puts(&b, "\n) FOR UPDATE");
		snprintf(what, sizeof(what), "statement %zu before-image", i + 1);
		if (r != 0 || (r = brun(role, &b, &before, what, e)) != 0)
			goto out;
		snprintf(what, sizeof(what), "statement %zu", i + 1);
		if ((r = mrun(role, sql + s->off, s->len, NULL, what, e)) != 0)
			goto out;
		touched = matched_rows(role, s->kind);
		out->v[i].rows = touched;
		out->rows += touched;
		if (touched != before) {
			r = bg_fail(e, BG_ERR_STATE, "statement %zu touched %lld rows but its WHERE "
			    "selected %lld for the before-image (a volatile condition?): rolled back",
			    i + 1, (long long)touched, (long long)before);
			goto out;
		}
		/*
		 * What the patch left, for rollback to compare: for a DELETE the
		 * row only says the statement committed (the image is written
		 * outside the transaction); for an UPDATE the columns rollback
		 * restores (rcols) and their count and digest (digest_rows) as
		 * the patch left them.
		 * Cheap path: the statement's own WHERE, read again (a plain read
		 * in this transaction: the patched rows are locked by it and read
		 * as it left them); when it no longer selects as many rows (the
		 * UPDATE changed what it tests) the image's keys are joined.  A
		 * WHERE selecting other rows than the patched ones gives a digest
		 * no current row set matches: rollback refuses, never overwrites.
		 */
		if (s->kind == SQLCHECK_UPDATE) {
			int64_t cnt;
			uint64_t h;

			buf_reset(&v);
			r = buf_puts(&v, "SELECT ");
			r = r ? r : put_cols(&v, buf_cstr(&rcols[i]), "");
			r = r ? r : buf_puts(&v, " FROM");
			r = r ? r : buf_append(&v, sql + s->rel_off, s->rel_len);
			r = r ? r : buf_puts(&v, "WHERE (");
			r = r ? r : buf_append(&v, sql + s->where_off, s->where_len);
			r = r ? r : buf_puts(&v, "\n)");
			if (r != 0 || (r = digest_rows(role, &v, key, &cnt, &h, "after digest", e)) != 0)
				goto out;
			if (cnt != touched) {
				buf_reset(&v);
				r = put_rows_now(&v, tag, i, out->v[i].table, buf_cstr(&pk[i]),
				    buf_cstr(&rcols[i]));
				if (r != 0 || (r = digest_rows(role, &v, key, &cnt, &h, "after digest",
				    e)) != 0)
					goto out;
			}
			buf_reset(&b);
			r = buf_puts(&b, "INSERT INTO ");
			r = r ? r : put_image(&b, tag, 0, "after");
			r = r ? r : buf_printf(&b, " VALUES (%zu, %lld, %llu, X'%s', ", i + 1,
			    (long long)cnt, (unsigned long long)h, keyhex);
			r = r ? r : mariarole_put_literal(role, &b, buf_cstr(&rcols[i]));
			r = r ? r : buf_putc(&b, ')');
		} else {
			buf_reset(&b);
			r = buf_puts(&b, "INSERT INTO ");
			r = r ? r : put_image(&b, tag, 0, "after");
			r = r ? r : buf_printf(&b, " VALUES (%zu, %lld, 0, X'%s', '')", i + 1,
			    (long long)touched, keyhex);
		}
		if (r != 0 || (r = brun(role, &b, NULL, "after mark", e)) != 0)
			goto out;
	}
	if (out->rows != expect_rows) {
		r = bg_fail(e, BG_ERR_STATE, "the patch touched %lld rows, the plan states %lld: "
		    "rolled back", (long long)out->rows, (long long)expect_rows);
		goto out;
	}
	if ((r = mq(role, "COMMIT", "commit", e)) != 0)
		goto out;
	began = 0;
	committed = 1;
	out->txn_ms = (utc_mono() - t0) * 1000;
	/* what leaves the database: counts, changed columns, a digest */
	if ((r = mq(admin, "SET SESSION group_concat_max_len = 67108864", "session", e)) != 0)
		goto out;
	for (i = 0; i < c->n; i++) {
		pgpatch_stmt *st = &out->v[i];
		char db[SQLCHECK_NAME], rel[SQLCHECK_NAME];
		/* the image's own columns: an UPDATE's are its restore columns */
		const char *icols = buf_cstr(st->kind == SQLCHECK_UPDATE ? &rcols[i] : &cols[i]);
		const char *p = icols;

		split(st->table, db, rel);
		buf_reset(&b);
		r = buf_puts(&b, "SELECT SHA2(IFNULL(GROUP_CONCAT(CONCAT_WS(','");
		while (r == 0 && *p != '\0') {
			size_t l = 1;

			while (p[l] != '\0' && !(p[l] == '`' && p[l + 1] != '`'))
				l += p[l] == '`' ? 2 : 1;
			l += p[l] == '`';
			r = buf_printf(&b, ", QUOTE(b.%.*s)", (int)l, p);
			p += l;
			if (*p == ',')
				p++;
		}
		r = r ? r : buf_puts(&b, ") ORDER BY 1 SEPARATOR '\\n'), ''), 256) FROM ");
		r = r ? r : put_image(&b, tag, i, NULL);
		r = r ? r : buf_puts(&b, " b");
		if (r != 0 || (r = q1(admin, &b, &v, "digest", e)) != 0)
			goto out;
		if (mysql_warning_count(admin) == 0)
			snprintf(st->before_sha256, sizeof(st->before_sha256), "%s", buf_cstr(&v));
		if (st->kind != SQLCHECK_UPDATE)
			continue;
		/* one test per column: did any imaged row change it */
		buf_reset(&b);
		r = buf_puts(&b, "SELECT CONCAT_WS(','");
		p = icols;
		while (r == 0 && *p != '\0') {
			size_t l = 1;
			char name[256];

			while (p[l] != '\0' && !(p[l] == '`' && p[l + 1] != '`'))
				l += p[l] == '`' ? 2 : 1;
			l += p[l] == '`';
			{
				/* the name itself, for the literal: `a``b` → a`b */
				size_t o = 0, k;

				for (k = 1; k + 1 < l && o + 1 < sizeof(name); k++) {
					name[o++] = p[k];
					if (p[k] == '`')
						k++;
				}
				name[o] = '\0';
			}
			r = buf_printf(&b, ", IF(SUM(NOT (a.%.*s <=> b.%.*s)) > 0, ", (int)l, p,
			    (int)l, p);
			r = r ? r : mariarole_put_literal(admin, &b, name);
			r = r ? r : buf_puts(&b, ", NULL)");
			p += l;
			if (*p == ',')
				p++;
		}
		r = r ? r : buf_puts(&b, ") FROM ");
		r = r ? r : put_image(&b, tag, i, NULL);
		r = r ? r : buf_puts(&b, " b JOIN ");
		r = r ? r : put_table(&b, db, rel);
		r = r ? r : buf_puts(&b, " a ON ");
		r = r ? r : put_join(&b, buf_cstr(&pk[i]));
		if (r != 0 || (r = q1(admin, &b, &v, "changed columns", e)) != 0)
			goto out;
		snprintf(st->columns, sizeof(st->columns), "%s", buf_cstr(&v));
	}
out:
	if (began)
		(void)mq(role, "ROLLBACK", "rollback", NULL);
	if (prepared) {
		/* the account keeps no reach into the image database */
		for (i = 0; i <= c->n && i <= MP_MAX; i++) {
			buf_reset(&b);
			if (buf_puts(&b, "REVOKE ALL PRIVILEGES ON ") != 0 ||
			    put_image(&b, tag, i, i == c->n ? "after" : NULL) != 0 ||
			    buf_puts(&b, " FROM ") != 0 || mariarole_put_literal(admin, &b, account) != 0 ||
			    buf_puts(&b, "@'localhost'") != 0)
				continue;
			/* an image not made yet has no grant (error 1147): nothing to take */
			if (mysql_real_query(admin, b.data, (unsigned long)b.len) != 0 &&
			    mysql_errno(admin) != 1147 && mysql_errno(admin) != 1146 && r == 0)
				r = mfail(admin, e, BG_ERR_STORE, "revoke image access");
		}
		if (!committed)
			(void)mariapatch_cleanup(admin, tag, NULL);
	}
	for (i = 0; i < MP_MAX; i++) {
		buf_release(&pk[i]);
		buf_release(&cols[i]);
		buf_release(&rcols[i]);
	}
	buf_release(&b);
	buf_release(&v);
	sodium_memzero(key, sizeof(key));
	sodium_memzero(keyhex, sizeof(keyhex));
	return r;
}

/*
 * expr of statement i's row in TAG_after (what the patch's committed
 * transaction recorded) into out; a record without that column (written
 * by an earlier breakglass: lacks says what it lacks) is refused with
 * BG_ERR_UNSUPPORTED, saying to restore by hand.
 */
static int
after_field(MYSQL *m, const char *tag, size_t i, const char *expr, const char *what,
    const char *lacks, buf *out, bg_error *e)
{
	buf b;
	int r;

	buf_init(&b, 256);
	r = buf_printf(&b, "SELECT %s FROM ", expr);
	r = r ? r : put_image(&b, tag, 0, "after");
	r = r ? r : buf_printf(&b, " WHERE n = %zu", i + 1);
	if (r == 0 && (r = q1(m, &b, out, what, e)) != 0 && mysql_errno(m) == 1054)
		r = bg_fail(e, BG_ERR_UNSUPPORTED, "patch '%s' was applied by an earlier breakglass "
		    "(its record %s): restore its rows by hand from `%s`", tag, lacks, MARIAPATCH_DB);
	buf_release(&b);
	return r;
}

/* restore one statement's rows; a refusal leaves the caller to roll back */
static int
restore_one(MYSQL *m, const char *db_want, const char *tag, size_t i, const char *note,
    int64_t *restored, int64_t *changed, bg_error *e)
{
	char kind[16], db[SQLCHECK_NAME], rel[SQLCHECK_NAME], qual[2 * SQLCHECK_NAME + 2];
	const char *p = note, *nl;
	buf b, pk, v, cols, want_d;
	int64_t want = 0, got = 0;
	int r = 0;

	buf_init(&b, 256u * 1024);
	buf_init(&pk, 8192);
	buf_init(&v, 64u * 1024);
	buf_init(&cols, 64u * 1024);
	buf_init(&want_d, 256);
	/* "KIND\nDB\nTABLE" */
	if ((nl = strchr(p, '\n')) == NULL || (size_t)(nl - p) >= sizeof(kind))
		goto corrupt;
	snprintf(kind, sizeof(kind), "%.*s", (int)(nl - p), p);
	p = nl + 1;
	if ((nl = strchr(p, '\n')) == NULL || (size_t)(nl - p) >= SQLCHECK_NAME)
		goto corrupt;
	snprintf(db, sizeof(db), "%.*s", (int)(nl - p), p);
	p = nl + 1;
	if (strchr(p, '\n') != NULL || strlen(p) >= SQLCHECK_NAME ||
	    (strcmp(kind, "UPDATE") != 0 && strcmp(kind, "DELETE") != 0))
		goto corrupt;
	snprintf(rel, sizeof(rel), "%s", p);
	snprintf(qual, sizeof(qual), "%s.%s", db, rel);
	if (strcmp(db, db_want) != 0) {
		r = bg_fail(e, BG_ERR_INVALID, "patch '%s' changed database '%s', not '%s'", tag,
		    db, db_want);
		goto out;
	}
	if ((r = check_table(m, SQLCHECK_UPDATE, qual, &pk, &cols, e)) != 0 &&
	    !(r == BG_ERR_UNSUPPORTED && strcmp(kind, "DELETE") == 0 && cols.len > 0))
		goto out;
	r = 0;
	buf_reset(&b);
	r = buf_puts(&b, "SELECT COUNT(*) FROM ");
	r = r ? r : put_image(&b, tag, i, NULL);
	if (r != 0 || (r = q1(m, &b, &v, "image rows", e)) != 0)
		goto out;
	want = strtoll(buf_cstr(&v), NULL, 10);
	/* what the patch's committed transaction left: (cnt, h); the image (not
	 * transactional) must hold as many rows, or it is of no committed
	 * patch, or damaged */
	r = after_field(m, tag, i, "CONCAT(cnt, ' ', h, ' ', HEX(k))", "after digest",
	    "has no digest key", &want_d, e);
	if (r == BG_ERR_UNSUPPORTED)
		goto out;
	if (r != 0) {
		r = bg_fail(e, BG_ERR_CORRUPT, "patch '%s' statement %zu has no record of its "
		    "commit: the image is of a patch that did not commit (or was damaged); "
		    "nothing restored", tag, i + 1);
		goto out;
	}
	if (strtoll(buf_cstr(&want_d), NULL, 10) != want) {
		r = bg_fail(e, BG_ERR_CORRUPT, "before-image %zu of '%s' holds %lld rows, the patch "
		    "touched %lld: nothing restored", i + 1, tag, (long long)want,
		    strtoll(buf_cstr(&want_d), NULL, 10));
		goto out;
	}
	if (strcmp(kind, "UPDATE") == 0) {
		char img[64];

		/* the columns the apply chose to restore (restore_columns): names of
		 * the image's own columns, the key among them, or nothing runs */
		snprintf(img, sizeof(img), "%s_%zu", tag, i + 1);
		r = after_field(m, tag, i, "c", "restore columns", "names no columns", &cols, e);
		if (r != 0 || (r = columns(m, MARIAPATCH_DB, img, 0, &v, e)) != 0)
			goto out;
		if (cols.len == 0 || !cols_within(buf_cstr(&cols), buf_cstr(&v)) ||
		    !cols_within(buf_cstr(&pk), buf_cstr(&cols))) {
			r = bg_fail(e, BG_ERR_CORRUPT, "before-image %zu of '%s': its record's columns "
			    "are not the image's, or lack the primary key of '%s': nothing restored",
			    i + 1, tag, qual);
			goto out;
		}
	}
	if (strcmp(kind, "UPDATE") == 0) {
		unsigned char key[crypto_shorthash_KEYBYTES];
		unsigned long long want_h = 0;
		long long want_cnt = -1;
		char keyhex[2 * crypto_shorthash_KEYBYTES + 1];
		int64_t now_cnt = -1;
		uint64_t now_h = 0;
		size_t kl;

		if (sscanf(buf_cstr(&want_d), "%lld %llu %32s", &want_cnt, &want_h, keyhex) != 3 ||
		    sodium_hex2bin(key, sizeof(key), keyhex, strlen(keyhex), NULL, &kl, NULL) != 0 ||
		    kl != sizeof(key)) {
			sodium_memzero(keyhex, sizeof(keyhex));
			goto corrupt;
		}
		sodium_memzero(keyhex, sizeof(keyhex));
		/* lock the rows and digest them as they are now */
		buf_reset(&b);
		r = put_rows_now(&b, tag, i, qual, buf_cstr(&pk), buf_cstr(&cols));
		r = r ? r : buf_puts(&b, " FOR UPDATE");
		r = r ? r : digest_rows(m, &b, key, &now_cnt, &now_h, "rows now", e);
		sodium_memzero(key, sizeof(key));
		if (r != 0)
			goto out;
		if (now_cnt != want_cnt || now_h != (uint64_t)want_h) {
			int64_t gone = want > now_cnt ? want - now_cnt : 0;

			*changed += gone > 0 ? gone : 1;
			r = bg_fail(e, BG_ERR_STATE, "row(s) of '%s' changed or deleted by others since "
			    "the patch%s: nothing restored (restoring would undo their change)", qual,
			    gone > 0 ? " (some deleted)" : "");
			goto out;
		}
		buf_reset(&b);
		r = buf_puts(&b, "UPDATE ");
		r = r ? r : put_table(&b, db, rel);
		r = r ? r : buf_puts(&b, " a JOIN ");
		r = r ? r : put_image(&b, tag, i, NULL);
		r = r ? r : buf_puts(&b, " b ON ");
		r = r ? r : put_join(&b, buf_cstr(&pk));
		r = r ? r : buf_puts(&b, " SET ");
		for (p = buf_cstr(&cols); r == 0 && *p != '\0';) {
			size_t l = 1;

			while (p[l] != '\0' && !(p[l] == '`' && p[l + 1] != '`'))
				l += p[l] == '`' ? 2 : 1;
			l += p[l] == '`';
			r = buf_printf(&b, "%sa.%.*s = b.%.*s", p == buf_cstr(&cols) ? "" : ", ",
			    (int)l, p, (int)l, p);
			p += l;
			if (*p == ',')
				p++;
		}
		if (r != 0 || (r = brun(m, &b, NULL, "restore", e)) != 0)
			goto out;
		got = matched_rows(m, SQLCHECK_UPDATE);
	} else {
		buf_reset(&b);
		r = buf_puts(&b, "INSERT INTO ");
		r = r ? r : put_table(&b, db, rel);
		r = r ? r : buf_printf(&b, " (%s) SELECT %s FROM ", buf_cstr(&cols), buf_cstr(&cols));
		r = r ? r : put_image(&b, tag, i, NULL);
		if (r != 0)
			goto out;
		if (mysql_real_query(m, b.data, (unsigned long)b.len) != 0) {
			r = mysql_errno(m) == 1062 ?
			    bg_fail(e, BG_ERR_STATE, "a deleted row's key of '%s' is in use again: "
			    "nothing restored", qual) : mfail(m, e, BG_ERR_STORE, "restore");
			goto out;
		}
		got = (int64_t)mysql_affected_rows(m);
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
	buf_release(&b);
	buf_release(&pk);
	buf_release(&v);
	buf_release(&cols);
	buf_release(&want_d);
	return r;
}

int
mariapatch_rollback(MYSQL *admin, const char *db, const char *tag, int64_t *restored,
    int64_t *changed, bg_error *e)
{
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	buf b, v;
	int r, began = 0, any = 0;

	*restored = 0;
	*changed = 0;
	if (!tag_ok(tag))
		return bg_fail(e, BG_ERR_INVALID, "patch tag '%.40s' must be [a-z0-9_]", tag);
	buf_init(&b, 4096);
	buf_init(&v, 256);
	if ((r = list_images(admin, tag, 0, &res, e)) != 0)
		goto out;
	if (mysql_num_rows(res) == 0) {
		r = bg_fail(e, BG_ERR_NOTFOUND, "no before-image of patch '%s'", tag);
		goto out;
	}
	if ((r = mq(admin, "START TRANSACTION READ WRITE", "begin", e)) != 0)
		goto out;
	began = 1;
	r = buf_puts(&b, "SELECT COUNT(*) FROM ");
	r = r ? r : put_image(&b, tag, 0, "after");
	r = r ? r : buf_puts(&b, " WHERE n = 0 FOR UPDATE");
	if (r != 0 || (r = q1(admin, &b, &v, "rolled back mark", e)) != 0)
		goto out;
	if (strcmp(buf_cstr(&v), "0") != 0) {
		r = bg_fail(e, BG_ERR_STATE, "patch '%s' was rolled back already", tag);
		goto out;
	}
	/* the statements, last first */
	while ((row = mysql_fetch_row(res)) != NULL) {
		const char *num = strrchr(row[0], '_');
		size_t idx = num ? (size_t)strtoul(num + 1, NULL, 10) : 0;

		if (idx == 0 || idx > MP_MAX || row[1] == NULL) {
			r = bg_fail(e, BG_ERR_CORRUPT, "before-image '%s' is not breakglass's", row[0]);
			goto out;
		}
		if ((r = restore_one(admin, db, tag, idx - 1, row[1], restored, changed, e)) != 0)
			goto out;
		any = 1;
	}
	buf_reset(&b);
	r = buf_puts(&b, "INSERT INTO ");
	r = r ? r : put_image(&b, tag, 0, "after");
	r = r ? r : buf_puts(&b, " VALUES (0, 0, 0, '', '')");
	if (r != 0 || (r = brun(admin, &b, NULL, "mark", e)) != 0)
		goto out;
	r = mq(admin, "COMMIT", "commit", e);
	began = 0;
out:
	if (began) {
		(void)mq(admin, "ROLLBACK", "rollback", NULL);
		*restored = 0;
	}
	(void)any;
	if (res != NULL)
		mysql_free_result(res);
	buf_release(&b);
	buf_release(&v);
	return r;
}
