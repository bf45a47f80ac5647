/*
 * sqlcheck.c - a SQL patch read with PostgreSQL's own grammar.
 *
 * libpg_query turns the text into the server's parse tree as JSON; we
 * read that with json_parse and walk it.  Classification is by the top
 * node of each statement, from an allow-list: a node kind not listed is
 * refused, so a statement type added in a later PostgreSQL is refused
 * until someone decides what it means.  Tables are every RangeVar in the
 * tree (minus the names of the statement's own CTEs) and the names a
 * DROP lists; they are compared with the grant as "schema.table" after
 * the parser's own case folding.  Functions are looked up by their last
 * name component against a list of server-side effects (files, large
 * objects, other backends, settings, dblink).
 */
#include "sqlcheck.h"

#include <pg_query.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct topnode {
	const char *node;
	int kind;
	const char *refuse;   /* non-NULL: refused, and why */
} topnode;

static const topnode tops[] = {
	{ "SelectStmt", SQLCHECK_SELECT, NULL },
	{ "InsertStmt", SQLCHECK_INSERT, NULL },
	{ "UpdateStmt", SQLCHECK_UPDATE, NULL },
	{ "DeleteStmt", SQLCHECK_DELETE, NULL },
	{ "MergeStmt", SQLCHECK_MERGE, NULL },
	{ "TruncateStmt", SQLCHECK_TRUNCATE, NULL },
	{ "DropStmt", SQLCHECK_DDL, NULL },
	{ "AlterTableStmt", SQLCHECK_DDL, NULL },
	{ "CreateStmt", SQLCHECK_DDL, NULL },
	{ "IndexStmt", SQLCHECK_DDL, NULL },
	{ "CopyStmt", SQLCHECK_OTHER, "COPY reads or writes outside the database" },
	{ "TransactionStmt", SQLCHECK_OTHER,
	  "transaction control: breakglass runs the patch in one transaction" },
	{ "VariableSetStmt", SQLCHECK_OTHER, "SET changes the session breakglass controls" },
	{ "VariableShowStmt", SQLCHECK_OTHER, "SHOW is no patch statement" },
	{ "DoStmt", SQLCHECK_OTHER, "DO runs code the parser cannot see into" },
	{ "CallStmt", SQLCHECK_OTHER, "CALL runs code the parser cannot see into" },
	{ NULL, 0, NULL }
};

/*
 * functions with effects outside the rows a patch names.  pg_sleep() is
 * not one: it changes nothing, and the role's statement_timeout and the
 * cut bound it like any long SELECT (pg_sleep_for/_until call it).
 */
static const char *const bad_funcs[] = {
	"lo_import", "lo_export", "lo_create", "lo_creat", "lo_unlink", "lo_open",
	"lo_put", "lo_from_bytea", "lo_truncate", "lowrite", "loread",
	"pg_read_file", "pg_read_binary_file", "pg_ls_dir", "pg_stat_file",
	"pg_ls_logdir", "pg_ls_waldir", "pg_ls_tmpdir", "pg_ls_archive_statusdir",
	"pg_file_write", "pg_file_rename", "pg_file_unlink",
	"pg_terminate_backend", "pg_cancel_backend", "pg_reload_conf",
	"pg_rotate_logfile", "pg_promote", "pg_switch_wal", "set_config",
	"setval", "pg_advisory_lock", "pg_advisory_xact_lock",
	"dblink", "dblink_exec", "dblink_connect", "dblink_send_query",
	"pg_logical_emit_message", "pg_notify", "query_to_xml",
	NULL
};

typedef struct walk {
	sqlcheck_stmt *st;
	const char *defschema;
	const char *const *granted;
	size_t ngranted;
	char ctes[16][64];
	size_t nctes;
	const json_val *top;
	const char *sql;
	bg_error *e;
	int r;
} walk;

const char *
sqlcheck_kind_name(int kind)
{
	switch (kind) {
	case SQLCHECK_SELECT: return "SELECT";
	case SQLCHECK_INSERT: return "INSERT";
	case SQLCHECK_UPDATE: return "UPDATE";
	case SQLCHECK_DELETE: return "DELETE";
	case SQLCHECK_MERGE: return "MERGE";
	case SQLCHECK_TRUNCATE: return "TRUNCATE";
	case SQLCHECK_DDL: return "DDL";
	default: return "OTHER";
	}
}

/* record a verdict; a refusal's reason replaces a destructive one */
static void verdict(sqlcheck_stmt *st, int refused, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
verdict(sqlcheck_stmt *st, int refused, const char *fmt, ...)
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

static int
granted_has(const walk *w, const char *name)
{
	size_t i;

	if (w->ngranted == 0)
		return 1;
	for (i = 0; i < w->ngranted; i++)
		if (strcmp(w->granted[i], name) == 0)
			return 1;
	return 0;
}

static void
add_table(walk *w, const char *schema, const char *rel)
{
	sqlcheck_stmt *st = w->st;
	char name[SQLCHECK_NAME];
	size_t i;

	if (rel == NULL || w->r != 0)
		return;
	if (schema == NULL)
		for (i = 0; i < w->nctes; i++)
			if (strcmp(w->ctes[i], rel) == 0)
				return;
	if (snprintf(name, sizeof(name), "%s.%s", schema ? schema : w->defschema, rel) >=
	    (int)sizeof(name)) {
		w->r = bg_fail(w->e, BG_ERR_TOOLARGE, "sql: table name too long");
		return;
	}
	for (i = 0; i < st->ntables; i++)
		if (strcmp(st->tables[i], name) == 0)
			return;
	if (st->ntables == SQLCHECK_MAX_TABLES) {
		w->r = bg_fail(w->e, BG_ERR_TOOLARGE, "sql: statement touches more than %d tables",
		    SQLCHECK_MAX_TABLES);
		return;
	}
	memcpy(st->tables[st->ntables++], name, strlen(name) + 1);
	if (!granted_has(w, name))
		verdict(st, 0, "table '%s' is outside the granted tables", name);
}

/* the last String of a name list ([{"String":{"sval":"x"}}, ...]) */
static const char *
last_name(const json_val *list, const char **schema)
{
	const char *last = NULL, *prev = NULL;
	size_t i;

	if (schema)
		*schema = NULL;
	if (list == NULL || list->type != JSON_ARR)
		return NULL;
	for (i = 0; i < list->n; i++) {
		const char *s = json_get_str(json_get(&list->v[i], "String"), "sval");

		if (s != NULL) {
			prev = last;
			last = s;
		}
	}
	if (schema && list->n >= 2)
		*schema = prev;
	return last;
}

static void
collect_ctes(walk *w, const json_val *v)
{
	size_t i;

	if (v == NULL || (v->type != JSON_OBJ && v->type != JSON_ARR))
		return;
	if (v->type == JSON_OBJ) {
		const char *n = json_get_str(json_get(v, "CommonTableExpr"), "ctename");

		if (n != NULL && w->nctes < 16 && strlen(n) < 64)
			memcpy(w->ctes[w->nctes++], n, strlen(n) + 1);
	}
	for (i = 0; i < v->n; i++)
		collect_ctes(w, &v->v[i]);
}

static void
walk_node(walk *w, const json_val *v)
{
	size_t i;

	if (v == NULL || w->r != 0 || (v->type != JSON_OBJ && v->type != JSON_ARR))
		return;
	if (v->type == JSON_OBJ) {
		for (i = 0; i < v->n; i++) {
			const char *k = v->k[i];
			const json_val *c = &v->v[i];

			if (strcmp(k, "RangeVar") == 0 || (strcmp(k, "relation") == 0 &&
			    json_get_str(c, "relname") != NULL)) {
				add_table(w, json_get_str(c, "schemaname"), json_get_str(c, "relname"));
			} else if (strcmp(k, "FuncCall") == 0) {
				const char *f = last_name(json_get(c, "funcname"), NULL);
				size_t j;

				for (j = 0; f != NULL && bad_funcs[j] != NULL; j++)
					if (strcmp(f, bad_funcs[j]) == 0)
						verdict(w->st, 1, "function %s() acts outside the patch's rows", f);
			} else if (c != w->top && (strcmp(k, "UpdateStmt") == 0 ||
			    strcmp(k, "DeleteStmt") == 0 || strcmp(k, "InsertStmt") == 0 ||
			    strcmp(k, "MergeStmt") == 0)) {
				verdict(w->st, 0, "a data-modifying %s hidden inside another statement", k);
				if ((strcmp(k, "UpdateStmt") == 0 || strcmp(k, "DeleteStmt") == 0) &&
				    json_get(c, "whereClause") == NULL)
					verdict(w->st, 0, "%s without WHERE", k);
			} else if (strcmp(k, "intoClause") == 0) {
				verdict(w->st, 1, "SELECT INTO creates a table");
			}
			walk_node(w, c);
		}
	} else {
		for (i = 0; i < v->n; i++)
			walk_node(w, &v->v[i]);
	}
}

/* DROP's objects: [{"List":{"items":[String...]}}] or [[String...]] */
static void
drop_tables(walk *w, const json_val *drop)
{
	const json_val *objs = json_get(drop, "objects");
	const char *type = json_get_str(drop, "removeType");
	size_t i;

	if (type == NULL || strcmp(type, "OBJECT_TABLE") != 0 || objs == NULL ||
	    objs->type != JSON_ARR)
		return;
	for (i = 0; i < objs->n; i++) {
		const json_val *items = json_get(json_get(&objs->v[i], "List"), "items");
		const char *schema, *rel = last_name(items, &schema);

		add_table(w, schema, rel);
	}
}

/*
 * The scanner's tokens of one statement, from libpg_query's protobuf
 * ScanResult: field 2 repeats ScanToken { 1 start, 2 end, 4 token,
 * 5 keyword_kind }.  Only varints and length-delimited fields occur; any
 * other wire type is refused.
 */
typedef struct tok {
	uint32_t start, end, kw;
} tok;

static int
pb_varint(const uint8_t *p, size_t n, size_t *i, uint64_t *v)
{
	int sh;

	*v = 0;
	for (sh = 0; sh < 64; sh += 7) {
		if (*i >= n)
			return -1;
		*v |= (uint64_t)(p[*i] & 0x7f) << sh;
		if ((p[(*i)++] & 0x80) == 0)
			return 0;
	}
	return -1;
}

static int
scan_tokens(const char *text, size_t tlen, tok *t, size_t max, size_t *nt)
{
	PgQueryScanResult sr = pg_query_scan(text);
	const uint8_t *p = (const uint8_t *)sr.pbuf.data;
	size_t n = sr.pbuf.len, i = 0;
	int r = -1;

	*nt = 0;
	if (sr.error != NULL || p == NULL)
		goto out;
	while (i < n) {
		uint64_t key, v, len;
		size_t end, j;
		tok k = { 0, 0, 0 };

		if (pb_varint(p, n, &i, &key) != 0)
			goto out;
		if ((key & 7) == 0) {
			if (pb_varint(p, n, &i, &v) != 0)
				goto out;
			continue;
		}
		if ((key & 7) != 2 || pb_varint(p, n, &i, &len) != 0 || len > n - i)
			goto out;
		end = i + (size_t)len;
		if ((key >> 3) != 2) {
			i = end;
			continue;
		}
		for (j = i; j < end;) {
			uint64_t f;

			if (pb_varint(p, end, &j, &f) != 0 || (f & 7) != 0 ||
			    pb_varint(p, end, &j, &v) != 0)
				goto out;
			if ((f >> 3) == 1)
				k.start = (uint32_t)v;
			else if ((f >> 3) == 2)
				k.end = (uint32_t)v;
			else if ((f >> 3) == 5)
				k.kw = (uint32_t)v;
		}
		i = end;
		if (k.end < k.start || k.end > tlen || *nt == max)
			goto out;
		t[(*nt)++] = k;
	}
	r = 0;
out:
	pg_query_free_scan_result(sr);
	return r;
}

static int
tok_is(const char *s, const tok *t, const char *word)
{
	size_t n = strlen(word);

	return t->kw != 0 && t->end - t->start == n && strncasecmp(s + t->start, word, n) == 0;
}

/* fill rel/where offsets of a simple UPDATE/DELETE (see sqlcheck.h) */
static void
find_image(const char *sql, sqlcheck_stmt *st, const json_val *body)
{
	enum { MAXTOK = 4096 };
	tok *t = NULL;
	char *text = NULL;
	size_t nt, i, rel0 = 0, rel1 = 0, wh = 0;
	int depth = 0, upd = st->kind == SQLCHECK_UPDATE;

	if ((!upd && st->kind != SQLCHECK_DELETE) || !st->has_where ||
	    json_get(body, "fromClause") != NULL || json_get(body, "usingClause") != NULL ||
	    json_get(body, "withClause") != NULL || json_get(body, "returningList") != NULL)
		return;
	if ((text = strndup(sql + st->off, st->len)) == NULL ||
	    (t = calloc(MAXTOK, sizeof(*t))) == NULL ||
	    scan_tokens(text, st->len, t, MAXTOK, &nt) != 0 || nt < 4)
		goto out;
	if (!tok_is(text, &t[0], upd ? "update" : "delete"))
		goto out;
	if (!upd && !tok_is(text, &t[1], "from"))
		goto out;
	rel0 = t[upd ? 0 : 1].end;
	for (i = upd ? 1 : 2; i < nt; i++) {
		if (t[i].end - t[i].start == 1 && text[t[i].start] == '(')
			depth++;
		else if (t[i].end - t[i].start == 1 && text[t[i].start] == ')')
			depth--;
		else if (depth == 0 && rel1 == 0 && tok_is(text, &t[i], upd ? "set" : "where"))
			rel1 = t[i].start;
		if (depth == 0 && wh == 0 && tok_is(text, &t[i], "where"))
			wh = t[i].end;
	}
	if (rel1 == 0 || wh == 0 || rel1 <= rel0 || wh >= st->len)
		goto out;
	st->imageable = 1;
	st->rel_off = st->off + rel0;
	st->rel_len = rel1 - rel0;
	st->where_off = st->off + wh;
	st->where_len = st->len - wh;
out:
	free(t);
	free(text);
}

static int
classify(walk *w, const json_val *stmt)
{
	sqlcheck_stmt *st = w->st;
	const json_val *body;
	const topnode *t;
	const char *name;

	if (stmt == NULL || stmt->type != JSON_OBJ || stmt->n != 1)
		return bg_fail(w->e, BG_ERR_INVALID, "sql: parse tree without a statement");
	name = stmt->k[0];
	body = &stmt->v[0];
	snprintf(st->node, sizeof(st->node), "%s", name);
	st->kind = SQLCHECK_OTHER;
	for (t = tops; t->node != NULL; t++)
		if (strcmp(t->node, name) == 0)
			break;
	if (t->node == NULL) {
		verdict(st, 1, "%s is not a statement a patch may hold", name);
	} else {
		st->kind = t->kind;
		if (t->refuse != NULL)
			verdict(st, 1, "%s", t->refuse);
	}
	w->top = body;
	collect_ctes(w, body);
	/* the table a statement modifies comes first in its list */
	{
		const json_val *rel = json_get(body, "relation");

		add_table(w, json_get_str(rel, "schemaname"), json_get_str(rel, "relname"));
	}
	switch (st->kind) {
	case SQLCHECK_UPDATE:
	case SQLCHECK_DELETE:
		st->has_where = json_get(body, "whereClause") != NULL;
		if (!st->has_where)
			verdict(st, 0, "%s without WHERE touches every row",
			    sqlcheck_kind_name(st->kind));
		break;
	case SQLCHECK_MERGE:
		verdict(st, 0, "MERGE may delete and update rows");
		break;
	case SQLCHECK_TRUNCATE:
		verdict(st, 0, "TRUNCATE removes every row");
		break;
	default:
		break;
	}
	if (strcmp(name, "DropStmt") == 0) {
		const char *type = json_get_str(body, "removeType");

		verdict(st, 0, "DROP %s", type ? type + (strncmp(type, "OBJECT_", 7) == 0 ? 7 : 0) : "");
		drop_tables(w, body);
	}
	if (strcmp(name, "AlterTableStmt") == 0) {
		const json_val *cmds = json_get(body, "cmds");
		size_t i;

		for (i = 0; cmds != NULL && cmds->type == JSON_ARR && i < cmds->n; i++) {
			const char *sub = json_get_str(json_get(&cmds->v[i], "AlterTableCmd"), "subtype");

			if (sub == NULL || strncmp(sub, "AT_Drop", 7) == 0)
				verdict(st, 0, "ALTER TABLE ... %s", sub ? sub + 3 : "(unknown)");
		}
	}
	walk_node(w, body);
	find_image(w->sql, st, body);
	return w->r;
}

int
sqlcheck_pg(const char *sql, size_t n, const char *defschema,
    const char *const *granted, size_t ngranted, sqlcheck *out, bg_error *e)
{
	PgQueryParseResult pr;
	json_val *tree = NULL;
	const json_val *stmts;
	char *text = NULL;
	size_t i;
	int r = 0;

	memset(out, 0, sizeof(*out));
	memset(&pr, 0, sizeof(pr));
	if (n > SQLCHECK_MAX_INPUT)
		return bg_fail(e, BG_ERR_TOOLARGE, "sql: patch over %u bytes", SQLCHECK_MAX_INPUT);
	if (memchr(sql, '\0', n) != NULL)
		return bg_fail(e, BG_ERR_INVALID, "sql: NUL byte in patch");
	if ((text = strndup(sql, n)) == NULL)
		return BG_ERR_NOMEM;
	pr = pg_query_parse(text);
	if (pr.error != NULL) {
		r = bg_fail(e, BG_ERR_INVALID, "sql: %s at byte %d", pr.error->message,
		    pr.error->cursorpos);
		goto out;
	}
	if ((r = json_parse(pr.parse_tree, strlen(pr.parse_tree), &tree, e)) != 0)
		goto out;
	stmts = json_get(tree, "stmts");
	if (stmts == NULL || stmts->type != JSON_ARR || stmts->n == 0) {
		r = bg_fail(e, BG_ERR_INVALID, "sql: no statement in patch");
		goto out;
	}
	if (stmts->n > SQLCHECK_MAX_STMTS) {
		r = bg_fail(e, BG_ERR_INVALID, "sql: more than %d statements", SQLCHECK_MAX_STMTS);
		goto out;
	}
	if ((out->v = calloc(stmts->n, sizeof(*out->v))) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	out->n = stmts->n;
	for (i = 0; i < stmts->n; i++) {
		const json_val *raw = &stmts->v[i];
		const json_val *loc = json_get(raw, "stmt_location");
		const json_val *len = json_get(raw, "stmt_len");
		walk w;

		memset(&w, 0, sizeof(w));
		w.st = &out->v[i];
		w.defschema = defschema ? defschema : "public";
		w.granted = granted;
		w.ngranted = ngranted;
		w.e = e;
		w.sql = text;
		w.st->off = loc && loc->type == JSON_NUM ? strtoul(loc->s, NULL, 10) : 0;
		w.st->len = len && len->type == JSON_NUM ? strtoul(len->s, NULL, 10) : n - w.st->off;
		if (w.st->off > n || w.st->len > n - w.st->off)
			w.st->len = n - (w.st->off > n ? (w.st->off = n) : w.st->off);
		if ((r = classify(&w, json_get(raw, "stmt"))) != 0)
			goto out;
		if (w.st->refused)
			out->nrefused++;
		else if (w.st->destructive)
			out->ndestructive++;
	}
out:
	if (r != 0)
		sqlcheck_release(out);
	json_val_free(tree);
	pg_query_free_parse_result(pr);
	free(text);
	return r;
}

void
sqlcheck_release(sqlcheck *c)
{
	if (c == NULL)
		return;
	free(c->v);
	memset(c, 0, sizeof(*c));
}

void
sqlcheck_json(const sqlcheck *c, json *j)
{
	size_t i, t;

	json_arr_begin(j);
	for (i = 0; i < c->n; i++) {
		const sqlcheck_stmt *s = &c->v[i];

		json_obj_begin(j);
		json_kv_int(j, "statement", (int64_t)i + 1);
		json_kv_str(j, "kind", sqlcheck_kind_name(s->kind));
		json_kv_str(j, "node", s->node);
		json_key(j, "tables");
		json_arr_begin(j);
		for (t = 0; t < s->ntables; t++)
			json_str(j, s->tables[t]);
		json_arr_end(j);
		json_kv_bool(j, "destructive", s->destructive);
		json_kv_bool(j, "refused", s->refused);
		json_kv_str(j, "why", s->why[0] ? s->why : NULL);
		json_obj_end(j);
	}
	json_arr_end(j);
}

int
sqlcheck_describe(const sqlcheck *c, buf *out)
{
	size_t i;
	int r = 0;

	for (i = 0; i < c->n && r == 0; i++) {
		const sqlcheck_stmt *s = &c->v[i];

		if (!s->refused && !s->destructive)
			continue;
		r = buf_printf(out, "statement %zu (%s%s%s): %s: %s\n", i + 1,
		    sqlcheck_kind_name(s->kind), s->ntables ? " on " : "",
		    s->ntables ? s->tables[0] : "", s->refused ? "refused" : "destructive",
		    s->why);
	}
	return r;
}
