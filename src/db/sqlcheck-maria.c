/*
 * sqlcheck-maria.c - MariaDB patches, without MariaDB's parser.
 *
 * There is no packaged MariaDB grammar to call, so this is a strict
 * tokenizer that recognises what it can defend and refuses the rest
 * (sqlcheck.h has the verdicts; the limits are in docs/ARCHITECTURE.md):
 *   - strings with a backslash are refused (their end depends on the
 *     server's sql_mode), as are executable comments (slash-star-bang,
 *     slash-star-M-bang), "--" without a following space, and any byte
 *     that is no token;
 *   - the kind is the first keyword: SELECT, INSERT, UPDATE, DELETE,
 *     REPLACE, TRUNCATE, DROP, ALTER, CREATE TABLE/INDEX; everything else
 *     is refused, as are INTO OUTFILE/DUMPFILE, LOAD_FILE(), multi-table
 *     UPDATE/DELETE and SELECT ... FOR UPDATE outside a patch's rows;
 *   - tables are the names after FROM, JOIN, UPDATE, INTO and TABLE at any
 *     depth, as "database.table" (unqualified: defschema).
 */
#include "sqlcheck.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum { T_WORD, T_QUOTED_ID, T_STRING, T_NUM, T_PUNCT };

typedef struct mtok {
	int type;
	size_t off, len;
	int depth;
} mtok;

typedef struct mstate {
	const char *s;
	mtok *t;
	size_t n, cap;
} mstate;

static int
push(mstate *m, int type, size_t off, size_t len, int depth)
{
	if (m->n == m->cap) {
		size_t nc = m->cap ? m->cap * 2 : 256;
		mtok *nt;

		if (nc > 1000000 || (nt = realloc(m->t, nc * sizeof(*nt))) == NULL)
			return BG_ERR_NOMEM;
		m->t = nt;
		m->cap = nc;
	}
	m->t[m->n++] = (mtok){ type, off, len, depth };
	return 0;
}

static int
tokenize(mstate *m, size_t n, bg_error *e)
{
	const char *s = m->s;
	size_t i = 0;
	int depth = 0, r;

	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		size_t st = i;

		if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
			i++;
		} else if (c == '#' || (c == '-' && i + 2 < n && s[i + 1] == '-' &&
		    (s[i + 2] == ' ' || s[i + 2] == '\t' || s[i + 2] == '\n'))) {
			while (i < n && s[i] != '\n')
				i++;
		} else if (c == '-' && i + 1 < n && s[i + 1] == '-') {
			return bg_fail(e, BG_ERR_INVALID, "mariadb: '--' without a space at byte %zu", i);
		} else if (c == '/' && i + 1 < n && s[i + 1] == '*') {
			if (i + 2 < n && (s[i + 2] == '!' || s[i + 2] == 'M'))
				return bg_fail(e, BG_ERR_INVALID, "mariadb: executable comment at byte %zu", i);
			for (i += 2; i + 1 < n && !(s[i] == '*' && s[i + 1] == '/'); i++)
				;
			if (i + 1 >= n)
				return bg_fail(e, BG_ERR_INVALID, "mariadb: unterminated comment at byte %zu", st);
			i += 2;
		} else if (c == '\'' || c == '"' || c == '`') {
			for (i++;; i++) {
				if (i >= n)
					return bg_fail(e, BG_ERR_INVALID, "mariadb: unterminated quote at byte %zu", st);
				if (s[i] == '\\' && c != '`')
					return bg_fail(e, BG_ERR_INVALID, "mariadb: backslash in a string at "
					    "byte %zu (its meaning depends on sql_mode)", i);
				if (s[i] == (char)c) {
					if (i + 1 < n && s[i + 1] == (char)c) {
						i++;
						continue;
					}
					break;
				}
			}
			i++;
			if ((r = push(m, c == '`' ? T_QUOTED_ID : c == '"' ? T_QUOTED_ID : T_STRING,
			    st, i - st, depth)) != 0)
				return r;
		} else if (isalpha(c) || c == '_' || c == '$' || isdigit(c)) {
			while (i < n && (isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == '$' ||
			    (isdigit(c) && s[i] == '.')))
				i++;
			if ((r = push(m, isdigit(c) ? T_NUM : T_WORD, st, i - st, depth)) != 0)
				return r;
		} else if (strchr("(),.;=<>!+-*/%&|^~:@?", c) != NULL) {
			if (c == ')' && --depth < 0)
				return bg_fail(e, BG_ERR_INVALID, "mariadb: ')' without '(' at byte %zu", i);
			if ((r = push(m, T_PUNCT, i, 1, depth)) != 0)
				return r;
			if (c == '(')
				depth++;
			i++;
		} else {
			return bg_fail(e, BG_ERR_INVALID, "mariadb: unexpected byte 0x%02x at byte %zu", c, i);
		}
	}
	if (depth != 0)
		return bg_fail(e, BG_ERR_INVALID, "mariadb: unbalanced '('");
	return 0;
}

static int
is(const mstate *m, size_t k, const char *w)
{
	return k < m->n && m->t[k].type == T_WORD && m->t[k].len == strlen(w) &&
	    strncasecmp(m->s + m->t[k].off, w, m->t[k].len) == 0;
}

static int
punct(const mstate *m, size_t k, char c)
{
	return k < m->n && m->t[k].type == T_PUNCT && m->s[m->t[k].off] == c;
}

static void mverdict(sqlcheck_stmt *st, int refused, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
mverdict(sqlcheck_stmt *st, int refused, const char *fmt, ...)
{
	int set = refused ? !st->refused : st->why[0] == '\0';
	va_list ap;

	if (refused)
		st->refused = 1;
	else
		st->destructive = 1;
	if (set) {
		va_start(ap, fmt);
		vsnprintf(st->why, sizeof(st->why), fmt, ap);
		va_end(ap);
	}
}

/* a name token as text: `a``b` → a`b, plain words lower-cased */
static int
name_at(const mstate *m, size_t k, char *out, size_t cap)
{
	const mtok *t = &m->t[k];
	size_t i, o = 0;

	if (t->type == T_WORD) {
		if (t->len >= cap)
			return -1;
		for (i = 0; i < t->len; i++)
			out[o++] = (char)tolower((unsigned char)m->s[t->off + i]);
	} else if (t->type == T_QUOTED_ID && m->s[t->off] == '`') {
		for (i = t->off + 1; i + 1 < t->off + t->len && o + 1 < cap; i++) {
			out[o++] = m->s[i];
			if (m->s[i] == '`')
				i++;
		}
	} else {
		return -1;
	}
	out[o] = '\0';
	return 0;
}

/*
 * The columns an UPDATE's SET list [k, end) at depth d assigns: each
 * assignment is name [. name [. name]] = expression, separated by ','
 * at depth d (an expression has no comma of its own at that depth: a
 * function's arguments and IN lists are inside parentheses).  Any other
 * shape leaves setcols_known 0, and the image then holds every column.
 */
static void
set_targets(const mstate *m, size_t k, size_t end, int d, sqlcheck_stmt *st)
{
	size_t j;

	st->nsetcols = 0;
	while (k < end) {
		size_t name = k, parts = 1;
		char col[SQLCHECK_COL];

		if (m->t[k].type != T_WORD && !(m->t[k].type == T_QUOTED_ID && m->s[m->t[k].off] == '`'))
			return;
		while (parts < 3 && punct(m, name + 1, '.') && name + 2 < end &&
		    (m->t[name + 2].type == T_WORD || (m->t[name + 2].type == T_QUOTED_ID &&
		    m->s[m->t[name + 2].off] == '`'))) {
			name += 2;
			parts++;
		}
		/* (a name as long as col would be cut short by name_at) */
		if (name + 1 >= end || !punct(m, name + 1, '=') || m->t[name + 1].depth != d ||
		    m->t[name].len >= sizeof(col) ||
		    name_at(m, name, col, sizeof(col)) != 0 || col[0] == '\0')
			return;
		for (j = 0; j < st->nsetcols; j++)
			if (strcasecmp(st->setcols[j], col) == 0)
				break;
		if (j == st->nsetcols) {
			if (st->nsetcols == SQLCHECK_MAX_SET)
				return;
			memcpy(st->setcols[st->nsetcols++], col, strlen(col) + 1);
		}
		/* the expression: up to the next ',' at depth d */
		for (k = name + 2; k < end && !(punct(m, k, ',') && m->t[k].depth == d); k++)
			;
		if (k == name + 2)
			return;
		if (k < end && ++k == end)
			return;
	}
	st->setcols_known = st->nsetcols > 0;
}

/*
 * The before-image offsets of UPDATE t [[AS] a] SET ... WHERE cond and
 * DELETE FROM t [[AS] a] WHERE cond (sqlcheck.h): the target is a name,
 * db.name, optionally an alias, nothing else (no PARTITION, no IGNORE);
 * nothing after the condition at its depth may limit or return rows
 * (ORDER BY, LIMIT, RETURNING), or the image and the change would differ.
 */
static void
find_image(const mstate *m, size_t a, size_t b, sqlcheck_stmt *st)
{
	int upd = st->kind == SQLCHECK_UPDATE, d = m->t[a].depth;
	size_t r0 = upd ? a + 1 : a + 2, r1 = 0, wh = 0, i, k;

	if (!upd && !is(m, a + 1, "from"))
		return;
	for (i = r0; i < b; i++) {
		if (m->t[i].depth != d)
			continue;
		if (r1 == 0 && is(m, i, upd ? "set" : "where"))
			r1 = i;
		if (wh == 0 && is(m, i, "where"))
			wh = i;
		if (wh != 0 && (is(m, i, "order") || is(m, i, "limit") || is(m, i, "returning")))
			return;
	}
	if (r1 == 0 || wh == 0 || wh + 1 >= b || r1 <= r0)
		return;
	/* name [. name] [[AS] alias]; UPDATE's modifiers are no table */
	k = r0;
	if ((m->t[k].type != T_WORD && m->t[k].type != T_QUOTED_ID) || is(m, k, "ignore") ||
	    is(m, k, "low_priority"))
		return;
	k++;
	if (punct(m, k, '.')) {
		if (k + 1 >= r1 || (m->t[k + 1].type != T_WORD && m->t[k + 1].type != T_QUOTED_ID))
			return;
		k += 2;
	}
	if (k < r1 && is(m, k, "as"))
		k++;
	if (k < r1 && (m->t[k].type == T_WORD || m->t[k].type == T_QUOTED_ID) &&
	    !is(m, k, "partition"))
		k++;
	if (k != r1)
		return;
	st->imageable = 1;
	if (upd)
		set_targets(m, r1 + 1, wh, d, st);
	st->rel_off = m->t[r0 - 1].off + m->t[r0 - 1].len;
	st->rel_len = m->t[r1].off - st->rel_off;
	st->where_off = m->t[wh].off + m->t[wh].len;
	st->where_len = m->t[b - 1].off + m->t[b - 1].len - st->where_off;
}

static int
analyse(const mstate *m, size_t a, size_t b, const char *defschema,
    const char *const *granted, size_t ngranted, sqlcheck_stmt *st, bg_error *e)
{
	static const char *const refused_words[] = {
		"outfile", "dumpfile", "load_file", "sys_exec", "sys_eval", "benchmark", NULL
	};
	const char *k;
	size_t i, j;

	st->off = m->t[a].off;
	st->len = m->t[b - 1].off + m->t[b - 1].len - st->off;
	st->kind = SQLCHECK_OTHER;
	k = "";
	if (is(m, a, "select")) st->kind = SQLCHECK_SELECT, k = "SELECT";
	else if (is(m, a, "insert")) st->kind = SQLCHECK_INSERT, k = "INSERT";
	else if (is(m, a, "replace")) st->kind = SQLCHECK_INSERT, k = "REPLACE";
	else if (is(m, a, "update")) st->kind = SQLCHECK_UPDATE, k = "UPDATE";
	else if (is(m, a, "delete")) st->kind = SQLCHECK_DELETE, k = "DELETE";
	else if (is(m, a, "truncate")) st->kind = SQLCHECK_TRUNCATE, k = "TRUNCATE";
	else if (is(m, a, "drop")) st->kind = SQLCHECK_DDL, k = "DROP";
	else if (is(m, a, "alter") && is(m, a + 1, "table")) st->kind = SQLCHECK_DDL, k = "ALTER";
	else if (is(m, a, "create") && (is(m, a + 1, "table") || is(m, a + 1, "index") ||
	    (is(m, a + 1, "unique") && is(m, a + 2, "index"))))
		st->kind = SQLCHECK_DDL, k = "CREATE";
	snprintf(st->node, sizeof(st->node), "mariadb:%s", k[0] ? k : "unknown");
	if (k[0] == '\0') {
		char w[32];

		snprintf(w, sizeof(w), "%.*s", (int)(m->t[a].len < 24 ? m->t[a].len : 24),
		    m->s + m->t[a].off);
		mverdict(st, 1, "'%s' is not a statement a MariaDB patch may hold", w);
		return 0;
	}
	if (strcmp(k, "REPLACE") == 0)
		mverdict(st, 0, "REPLACE deletes the rows it replaces");
	if (st->kind == SQLCHECK_TRUNCATE)
		mverdict(st, 0, "TRUNCATE removes every row");
	if (strcmp(k, "DROP") == 0)
		mverdict(st, 0, "DROP");
	for (i = a; i < b; i++) {
		for (j = 0; refused_words[j] != NULL; j++)
			if (is(m, i, refused_words[j]))
				mverdict(st, 1, "%s reaches outside the patch's rows", refused_words[j]);
		if (strcmp(k, "ALTER") == 0 && is(m, i, "drop"))
			mverdict(st, 0, "ALTER TABLE ... DROP");
		if (is(m, i, "for") && is(m, i + 1, "update") && st->kind == SQLCHECK_SELECT)
			mverdict(st, 1, "SELECT ... FOR UPDATE locks rows");
		if (is(m, i, "lock") && is(m, i + 1, "in"))
			mverdict(st, 1, "LOCK IN SHARE MODE locks rows");
	}
	if (st->kind == SQLCHECK_UPDATE || st->kind == SQLCHECK_DELETE) {
		for (i = a + 1; i < b; i++)
			if (m->t[i].depth == m->t[a].depth && is(m, i, "where"))
				st->has_where = 1;
		if (!st->has_where)
			mverdict(st, 0, "%s without WHERE touches every row", k);
		for (i = a + 1; i < b; i++) {
			if (m->t[i].depth != m->t[a].depth)
				continue;
			if (is(m, i, "where") || is(m, i, "set"))
				break;
			if (is(m, i, "join") || punct(m, i, ',') || is(m, i, "using"))
				mverdict(st, 1, "multi-table %s is not analysed", k);
		}
		if (st->kind == SQLCHECK_DELETE && !is(m, a + 1, "from"))
			mverdict(st, 1, "multi-table DELETE is not analysed");
		if (!st->refused && st->has_where)
			find_image(m, a, b, st);
	}
	/* tables */
	for (i = a; i + 1 < b; i++) {
		char n1[65], n2[65], q[SQLCHECK_NAME];
		size_t t = i + 1;
		int r;

		if (!(is(m, i, "from") || is(m, i, "join") || is(m, i, "into") ||
		    (is(m, i, "update") && i == a) || (is(m, i, "table") && i <= a + 2)))
			continue;
		if (is(m, t, "if") && is(m, t + 1, "exists"))
			t += 2;
		if (punct(m, t, '(') || is(m, t, "outfile") || is(m, t, "dumpfile") ||
		    punct(m, t, '@'))
			continue;                     /* a subquery, a file, a variable */
		if (t >= b || name_at(m, t, n1, sizeof(n1)) != 0)
			continue;
		if (punct(m, t + 1, '.') && t + 2 < b && name_at(m, t + 2, n2, sizeof(n2)) == 0)
			r = snprintf(q, sizeof(q), "%s.%s", n1, n2);
		else
			r = snprintf(q, sizeof(q), "%s.%s", defschema, n1);
		if (r >= (int)sizeof(q))
			return bg_fail(e, BG_ERR_TOOLARGE, "mariadb: table name too long");
		for (j = 0; j < st->ntables; j++)
			if (strcmp(st->tables[j], q) == 0)
				break;
		if (j < st->ntables)
			continue;
		if (st->ntables == SQLCHECK_MAX_TABLES)
			return bg_fail(e, BG_ERR_TOOLARGE, "mariadb: more than %d tables",
			    SQLCHECK_MAX_TABLES);
		memcpy(st->tables[st->ntables++], q, strlen(q) + 1);
		if (ngranted > 0) {
			for (j = 0; j < ngranted; j++)
				if (strcmp(granted[j], q) == 0)
					break;
			if (j == ngranted)
				mverdict(st, 0, "table '%s' is outside the granted tables", q);
		}
	}
	return 0;
}

int
sqlcheck_mariadb(const char *sql, size_t n, const char *defschema,
    const char *const *granted, size_t ngranted, sqlcheck *out, bg_error *e)
{
	mstate m = { sql, NULL, 0, 0 };
	size_t i, a, ns = 0;
	int r;

	memset(out, 0, sizeof(*out));
	if (n > SQLCHECK_MAX_INPUT)
		return bg_fail(e, BG_ERR_TOOLARGE, "sql: patch over %u bytes", SQLCHECK_MAX_INPUT);
	if (memchr(sql, '\0', n) != NULL)
		return bg_fail(e, BG_ERR_INVALID, "sql: NUL byte in patch");
	if (defschema == NULL || defschema[0] == '\0')
		return bg_fail(e, BG_ERR_USAGE, "mariadb: the database is needed");
	if ((r = tokenize(&m, n, e)) != 0)
		goto out;
	for (i = 0; i < m.n; i++)
		if (punct(&m, i, ';') && m.t[i].depth != 0) {
			r = bg_fail(e, BG_ERR_INVALID, "mariadb: ';' inside parentheses");
			goto out;
		}
	for (i = 0, a = 0; i <= m.n; i++)
		if (i == m.n || punct(&m, i, ';')) {
			if (i > a)
				ns++;
			a = i + 1;
		}
	if (ns == 0 || ns > SQLCHECK_MAX_STMTS) {
		r = bg_fail(e, BG_ERR_INVALID, ns ? "sql: more than %d statements" :
		    "sql: no statement in patch", SQLCHECK_MAX_STMTS);
		goto out;
	}
	if ((out->v = calloc(ns, sizeof(*out->v))) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	for (i = 0, a = 0; i <= m.n && r == 0; i++) {
		if (i < m.n && !punct(&m, i, ';'))
			continue;
		if (i > a) {
			sqlcheck_stmt *st = &out->v[out->n++];

			if ((r = analyse(&m, a, i, defschema, granted, ngranted, st, e)) != 0)
				break;
			if (st->refused)
				out->nrefused++;
			else if (st->destructive)
				out->ndestructive++;
		}
		a = i + 1;
	}
out:
	if (r != 0)
		sqlcheck_release(out);
	free(m.t);
	return r;
}
