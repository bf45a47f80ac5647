/*
 * plan.c - fix plans and their artifacts.
 *
 * Artifacts are read with a size cap, checked as text where they are
 * text, scanned for secrets, and written to HOME/artifacts/SHA256 with an
 * exclusive atomic write (an existing file with that name already holds
 * those exact bytes).
 */
#include "plan.h"
#include "fileio.h"
#include "hash.h"
#include "json.h"
#include "argv.h"
#include "scan.h"
#include "sqlcheck.h"
#include "store.h"
#include "text.h"
#include "ticket.h"
#include "users.h"

#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const kv_key plan_schema[] = {
	{ "summary", KV_REQUIRED, 512 },
	{ "diagnosis", KV_REQUIRED | KV_MULTILINE, 8192 },
	{ "change", KV_REQUIRED | KV_MULTILINE, 8192 },
	{ "rollback", KV_REQUIRED | KV_MULTILINE, 8192 },
	{ "impact", KV_REQUIRED | KV_MULTILINE, 4096 },
	{ "smoke-test", KV_MULTILINE, 4096 },
	{ "check", KV_MULTI, 2048 },
	{ "collect", KV_MULTI, 64 },
	{ "approved-destructive", KV_MULTI, 256 },
	{ "expect-rows", KV_MULTI, 300 },
	{ "sql-engine", 0, 16 },
	{ "artifact", KV_MULTI, 512 },
	{ NULL, 0, 0 }
};

int
plan_template(buf *out)
{
	return buf_puts(out,
	    "# breakglass fix plan - the smallest change that repairs production.\n"
	    "#   breakglass plan T-N --from this-file [--diff F] [--commands F] [--sql F]\n"
	    "# Indent further lines of a long value by two spaces.\n"
	    "\n"
	    "# One line: what the fix does.\n"
	    "summary: \n"
	    "# Root cause found during diagnosis.\n"
	    "diagnosis: \n"
	    "# The change, step by step (the artifacts carry the exact bytes).\n"
	    "change: \n"
	    "# How to undo it if it goes wrong.\n"
	    "rollback: \n"
	    "# Expected impact: downtime, users affected, risk.\n"
	    "impact: \n"
	    "# How the fix will be checked afterwards.\n"
	    "smoke-test: \n"
	    "# Smoke checks by name, run with 'breakglass smoke T-N --run NAME' before\n"
	    "# the fix (they should fail) and after it (one line each):\n"
	    "# check: NAME URL [expect=STATUS] [contains=TEXT] [timeout=SECONDS]\n"
	    "# check: checkout https://shop.example/checkout contains='Thank you'\n"
	    "# or a command run through the gate (ssh ACCOUNT@HOST -- ARGV), read back\n"
	    "# from the host log: check: NAME command='ARGV' [exit=STATUS] [host=NAME]\n"
	    "# check: php-fpm command='/usr/bin/systemctl is-active php-fpm'\n"
	    "# Diagnostics a client-executed runbook gathers first, by built-in\n"
	    "# profile ('breakglass collect --list-profiles'; one line each):\n"
	    "# collect: web-php\n"
	    "# SQL only: each destructive statement the approver accepts, as\n"
	    "# ARTIFACT:N (one line each; needs backup evidence on the ticket).\n"
	    "# approved-destructive: fix.sql:2\n"
	    "# SQL only: the rows each --sql artifact changes, all statements\n"
	    "# together (the host rolls the patch back if the count differs).\n"
	    "# expect-rows: fix.sql 1\n"
	    "# SQL only: the server the patches are for, postgresql (the default:\n"
	    "# read with PostgreSQL's parser) or mariadb (read by breakglass's\n"
	    "# MariaDB tokenizer).\n"
	    "# sql-engine: postgresql\n");
}

/* "php-fpm command='/usr/bin/systemctl is-active php-fpm' exit=0 host=web1":
 * after the name, in out->tok */
static int
command_check(plan_check *out, bg_error *e)
{
	size_t i;
	int r, have_exit = 0;

	out->is_command = 1;
	out->cmd.name = out->name;
	out->cmd.command = out->tok.v[1] + 8;
	if ((r = argv_split(out->cmd.command, &out->cmd.av, e)) != 0) {
		char why[sizeof(e->msg)];

		snprintf(why, sizeof(why), "%s", e->msg);
		return bg_fail(e, r, "command=: %s", why);
	}
	for (i = 2; i < out->tok.n; i++) {
		const char *a = out->tok.v[i];
		char *end;
		long v;

		if (strncmp(a, "exit=", 5) == 0 && !have_exit) {
			v = strtol(a + 5, &end, 10);
			if (a[5] >= '0' && a[5] <= '9' && *end == '\0' && v >= 0 && v <= 255 &&
			    (a[5] != '0' || a[6] == '\0')) {
				out->cmd.expect_exit = (int)v;
				have_exit = 1;
				continue;
			}
		}
		if (strncmp(a, "host=", 5) == 0 && out->cmd.host == NULL) {
			out->cmd.host = a + 5;
			continue;
		}
		return bg_fail(e, BG_ERR_INVALID, "'%.60s' is not exit=STATUS (0-255) or host=NAME, "
		    "each once (a command check takes no URL options)", a);
	}
	return smokecmd_validate(&out->cmd, e);
}

/* "checkout https://... expect=200 contains='Thank you' timeout=10" */
int
plan_check_parse(const char *line, plan_check *out, bg_error *e)
{
	bg_error tmp;
	size_t i, l;
	int r;

	memset(out, 0, sizeof(*out));
	if (e == NULL)
		e = &tmp;
	if ((r = argv_split(line, &out->tok, e)) != 0)
		return r;
	if (out->tok.n < 2) {
		r = bg_fail(e, BG_ERR_INVALID, "write it as NAME URL [expect=STATUS] "
		    "[contains=TEXT] [timeout=SECONDS] or NAME command='ARGV' [exit=STATUS] "
		    "[host=NAME]");
		goto fail;
	}
	l = strlen(out->tok.v[0]);
	if (l == 0 || l >= sizeof(out->name) ||
	    strspn(out->tok.v[0], "abcdefghijklmnopqrstuvwxyz0123456789-_") != l) {
		r = bg_fail(e, BG_ERR_INVALID, "name '%.40s' must be 1 to %zu of a-z, 0-9, - and _",
		    out->tok.v[0], sizeof(out->name) - 1);
		goto fail;
	}
	memcpy(out->name, out->tok.v[0], l + 1);
	if (strncmp(out->tok.v[1], "command=", 8) == 0) {
		if ((r = command_check(out, e)) != 0)
			goto fail;
		return 0;
	}
	out->c.url = out->tok.v[1];
	out->c.name = out->name;
	out->c.timeout_s = 30;
	for (i = 2; i < out->tok.n; i++) {
		const char *a = out->tok.v[i];
		char *end;
		long v;

		if (strncmp(a, "contains=", 9) == 0 && out->c.contains == NULL) {
			out->c.contains = a + 9;
			continue;
		}
		if (strncmp(a, "expect=", 7) == 0 && out->c.expect == 0) {
			v = strtol(a + 7, &end, 10);
			if (a[7] >= '0' && a[7] <= '9' && *end == '\0' && v >= 100 && v <= 599) {
				out->c.expect = (int)v;
				continue;
			}
		}
		if (strncmp(a, "timeout=", 8) == 0) {
			v = strtol(a + 8, &end, 10);
			if (a[8] >= '0' && a[8] <= '9' && *end == '\0' && v >= 1 && v <= 300) {
				out->c.timeout_s = (int)v;
				continue;
			}
		}
		r = bg_fail(e, BG_ERR_INVALID, "'%.60s' is not expect=STATUS (100-599), "
		    "contains=TEXT or timeout=SECONDS (1-300), each once", a);
		goto fail;
	}
	if ((r = smokecheck_validate(&out->c, e)) != 0)
		goto fail;
	return 0;
fail:
	plan_check_release(out);
	return r;
}

void
plan_check_release(plan_check *pc)
{
	argv_release(&pc->tok);
	argv_release(&pc->cmd.av);
	memset(pc, 0, sizeof(*pc));
}

void
plan_free(plan *p)
{
	if (p == NULL)
		return;
	free(p->text);
	free(p->actor);
	kv_doc_release(&p->fields);
	free(p);
}

int
plan_artifact_read(home *h, const plan *p, const char *name, buf *out,
    const plan_artifact **which, bg_error *e)
{
	const plan_artifact *a = NULL;
	size_t i, nl = strlen(name);
	char hex[65];
	buf path;
	int r;

	*which = NULL;
	for (i = 0; i < p->nart && a == NULL; i++)
		if (strcmp(p->art[i].name, name) == 0)
			a = &p->art[i];
	for (i = 0; i < p->nart && a == NULL && nl >= 8 && nl <= 64 &&
	    strspn(name, "0123456789abcdef") == nl; i++)
		if (strncmp(p->art[i].sha256, name, nl) == 0)
			a = &p->art[i];
	if (a == NULL)
		return bg_fail(e, BG_ERR_NOTFOUND, "the plan of T-%lld (P-%lld) has no artifact '%s'",
		    (long long)p->ticket, (long long)p->id, name);
	buf_init(&path, 4096);
	if ((r = buf_printf(&path, "%s/artifacts/%s", h->dir, a->sha256)) != 0 ||
	    (r = fileio_read(path.data, PLAN_MAX_ARTIFACT, out, e)) != 0) {
		buf_release(&path);
		return r;
	}
	buf_release(&path);
	hash_sha256_hex(out->data ? out->data : "", out->len, hex);
	if (strcmp(hex, a->sha256) != 0)
		return bg_fail(e, BG_ERR_CORRUPT, "stored artifact '%s' does not match its SHA-256 "
		    "(%s, recorded %s): it was altered", a->name, hex, a->sha256);
	*which = a;
	return 0;
}

static int
artifact_kind_valid(const char *k)
{
	return strcmp(k, "diff") == 0 || strcmp(k, "commands") == 0 ||
	    strcmp(k, "sql") == 0 || strcmp(k, "other") == 0;
}

/*
 * Read a SQL artifact with the PostgreSQL parser (or, with the plan's
 * "sql-engine: mariadb", the MariaDB tokenizer: unqualified tables are
 * then shown in "(database)", the grant's, which the host knows).  Refused statements
 * refuse the plan; each destructive one must be listed in the plan's
 * approved-destructive lines as NAME:N.  The destructive statements are
 * named in *named (one line each, for the audit record and the approval
 * statement) and counted in *ndestructive.
 */
static int
sql_check(const kv_doc *d, const char *name, const char *sql, size_t len,
    buf *named, size_t *ndestructive, bg_error *e)
{
	sqlcheck c;
	size_t i, k;
	int r;

	const char *engine = kv_get(d, "sql-engine");

	if ((r = engine != NULL && strcmp(engine, "mariadb") == 0 ?
	    sqlcheck_mariadb(sql, len, "(database)", NULL, 0, &c, e) :
	    sqlcheck_pg(sql, len, NULL, NULL, 0, &c, e)) != 0) {
		bg_error inner = *e;

		return bg_fail(e, r, "artifact '%s': %s", name, inner.msg);
	}
	for (i = 0; i < c.n; i++) {
		const sqlcheck_stmt *s = &c.v[i];
		char want[300];
		int listed = 0;

		if (s->refused) {
			r = bg_fail(e, BG_ERR_POLICY, "artifact '%s': statement %zu (%s): %s; a SQL "
			    "patch holds only SELECT, INSERT, UPDATE, DELETE and table DDL",
			    name, i + 1, s->node, s->why);
			goto out;
		}
		if (!s->destructive)
			continue;
		snprintf(want, sizeof(want), "%.200s:%zu", name, i + 1);
		for (k = 0; k < d->n; k++)
			if (strcmp(d->items[k].key, "approved-destructive") == 0 &&
			    strcmp(d->items[k].value, want) == 0)
				listed = 1;
		if (!listed) {
			r = bg_fail(e, BG_ERR_POLICY, "artifact '%s': statement %zu (%s) is "
			    "destructive: %s; rewrite it (e.g. add a WHERE naming the rows) or mark it "
			    "'approved-destructive: %s' in the plan and record backup evidence",
			    name, i + 1, sqlcheck_kind_name(s->kind), s->why, want);
			goto out;
		}
		(*ndestructive)++;
		if ((r = buf_printf(named, "%s: %s%s%s: %s\n", want, sqlcheck_kind_name(s->kind),
		    s->ntables ? " on " : "", s->ntables ? s->tables[0] : "", s->why)) != 0)
			goto out;
	}
out:
	sqlcheck_release(&c);
	return r;
}

/* 1 if a line of named starts with "v: " */
static int
named_has(const char *named, const char *v)
{
	size_t n = strlen(v);
	const char *p;

	for (p = named; *p != '\0'; p = strchr(p, '\n') + 1)
		if (strncmp(p, v, n) == 0 && p[n] == ':' && p[n + 1] == ' ')
			return 1;
	return 0;
}

int
plan_submit(home *h, int64_t tid, const char *text, size_t len, const plan_input *in,
    size_t nin, int64_t *id, bg_error *e)
{
	kv_doc d;
	plan_artifact art[PLAN_MAX_ARTIFACTS];
	buf canon, content, path, detail, named;
	size_t ndestructive = 0;
	ticket *t = NULL;
	sqlite3_stmt *st = NULL;
	json j;
	char hash[65];
	size_t i, k;
	int r;

	*id = 0;
	memset(&d, 0, sizeof(d));
	buf_init(&canon, KV_MAX_INPUT);
	buf_init(&content, PLAN_MAX_ARTIFACT);
	buf_init(&path, 4096);
	buf_init(&detail, 16384);
	buf_init(&named, 65536);
	if (nin > PLAN_MAX_ARTIFACTS)
		return bg_fail(e, BG_ERR_TOOLARGE, "more than %d artifacts", PLAN_MAX_ARTIFACTS);
	if ((r = kv_parse(text, len, plan_schema, &d, e)) != 0)
		goto out;
	if (kv_get(&d, "artifact") != NULL) {
		r = bg_fail(e, BG_ERR_INVALID, "line %zu: artifacts are given with --diff, "
		    "--commands, --sql or --artifact, not in the plan text", kv_line(&d, "artifact"));
		goto out;
	}
	for (i = 0; i < d.n; i++) {
		char what[64];

		snprintf(what, sizeof(what), "line %zu: field '%s'", d.items[i].line, d.items[i].key);
		if ((r = scan_refuse(what, d.items[i].value, strlen(d.items[i].value), e)) != 0)
			goto out;
	}
	/* named smoke checks: each well-formed, each name once */
	for (i = 0; i < d.n; i++) {
		plan_check pc, other;
		size_t prev;

		if (strcmp(d.items[i].key, "check") != 0)
			continue;
		if ((r = plan_check_parse(d.items[i].value, &pc, e)) != 0) {
			char why[sizeof(e->msg)];

			snprintf(why, sizeof(why), "%s", e->msg);
			r = bg_fail(e, r, "line %zu: check: %s", d.items[i].line, why);
			goto out;
		}
		for (prev = 0; prev < i; prev++) {
			if (strcmp(d.items[prev].key, "check") != 0 ||
			    plan_check_parse(d.items[prev].value, &other, NULL) != 0)
				continue;
			if (strcmp(other.name, pc.name) == 0)
				r = bg_fail(e, BG_ERR_INVALID, "line %zu: check '%s' is named twice",
				    d.items[i].line, pc.name);
			plan_check_release(&other);
		}
		plan_check_release(&pc);
		if (r != 0)
			goto out;
	}
	for (i = 0; i < nin; i++) {
		char *copy, *base;
		size_t bad;

		if (!artifact_kind_valid(in[i].kind)) {
			r = bg_fail(e, BG_ERR_USAGE, "unknown artifact kind '%s'", in[i].kind);
			goto out;
		}
		buf_reset(&content);
		if ((r = fileio_read(in[i].path, PLAN_MAX_ARTIFACT, &content, e)) != 0)
			goto out;
		if (content.len == 0) {
			r = bg_fail(e, BG_ERR_INVALID, "artifact '%s' is empty", in[i].path);
			goto out;
		}
		if (strcmp(in[i].kind, "other") != 0 &&
		    text_check(content.data, content.len, 1, &bad) != 0) {
			size_t l, c;

			text_position(content.data, bad, &l, &c);
			r = bg_fail(e, BG_ERR_INVALID, "artifact '%s': line %zu, column %zu: not "
			    "text (invalid UTF-8 or control character)", in[i].path, l, c);
			goto out;
		}
		{
			char what[300];

			snprintf(what, sizeof(what), "artifact '%.256s'", in[i].path);
			if ((r = scan_refuse(what, content.data, content.len, e)) != 0)
				goto out;
		}
		if ((copy = strdup(in[i].path)) == NULL) {
			r = BG_ERR_NOMEM;
			goto out;
		}
		base = basename(copy);
		if (!text_is_ident(base, 200)) {
			r = bg_fail(e, BG_ERR_INVALID, "artifact file name '%.64s' must be "
			    "[A-Za-z0-9._-]", base);
			free(copy);
			goto out;
		}
		snprintf(art[i].name, sizeof(art[i].name), "%s", base);
		free(copy);
		for (k = 0; k < i; k++) {
			if (strcmp(art[k].name, art[i].name) == 0) {
				r = bg_fail(e, BG_ERR_INVALID, "two artifacts named '%s'", art[i].name);
				goto out;
			}
		}
		snprintf(art[i].kind, sizeof(art[i].kind), "%s", in[i].kind);
		if (strcmp(in[i].kind, "sql") == 0 && (r = sql_check(&d, art[i].name,
		    content.data, content.len, &named, &ndestructive, e)) != 0)
			goto out;
		hash_sha256_hex(content.data, content.len, art[i].sha256);
		art[i].size = (int64_t)content.len;
		if ((r = buf_printf(&path, "%s/artifacts/%s", h->dir, art[i].sha256)) != 0)
			goto out;
		r = fileio_write_atomic(path.data, content.data, content.len, 0440, 1, e);
		if (r == BG_ERR_EXISTS)
			r = 0; /* content-addressed: the same bytes are already stored */
		if (r != 0)
			goto out;
		buf_reset(&path);
	}
	if (kv_get(&d, "sql-engine") != NULL && strcmp(kv_get(&d, "sql-engine"), "postgresql") != 0 &&
	    strcmp(kv_get(&d, "sql-engine"), "mariadb") != 0) {
		r = bg_fail(e, BG_ERR_INVALID, "sql-engine '%.16s': postgresql or mariadb",
		    kv_get(&d, "sql-engine"));
		goto out;
	}
	/* every approved-destructive line names one destructive statement */
	for (i = 0, k = 0; i < d.n; i++) {
		if (strcmp(d.items[i].key, "approved-destructive") != 0)
			continue;
		for (size_t m = 0; m < i; m++)
			if (strcmp(d.items[m].key, d.items[i].key) == 0 &&
			    strcmp(d.items[m].value, d.items[i].value) == 0) {
				r = bg_fail(e, BG_ERR_INVALID, "line %zu: approved-destructive '%s' twice",
				    d.items[i].line, d.items[i].value);
				goto out;
			}
		if (!named_has(buf_cstr(&named), d.items[i].value)) {
			r = bg_fail(e, BG_ERR_INVALID, "line %zu: approved-destructive '%s' names no "
			    "destructive statement of a --sql artifact", d.items[i].line,
			    d.items[i].value);
			goto out;
		}
		k++;
	}
	/* each expect-rows line: "NAME N", NAME a --sql artifact, once */
	for (i = 0; i < d.n; i++) {
		const char *v = d.items[i].value, *sp;
		char *end;
		long long rows;
		int found = 0;

		if (strcmp(d.items[i].key, "expect-rows") != 0)
			continue;
		sp = strrchr(v, ' ');
		rows = sp ? strtoll(sp + 1, &end, 10) : -1;
		for (k = 0; sp != NULL && k < nin; k++)
			if (strcmp(in[k].kind, "sql") == 0 && strlen(art[k].name) == (size_t)(sp - v) &&
			    strncmp(art[k].name, v, (size_t)(sp - v)) == 0)
				found = 1;
		if (sp == NULL || sp[1] < '0' || sp[1] > '9' || *end != '\0' || rows < 0 ||
		    rows > 1000000000LL || !found) {
			r = bg_fail(e, BG_ERR_INVALID, "line %zu: expect-rows '%.200s' must be a --sql "
			    "artifact's name and the rows it changes, e.g. 'expect-rows: fix.sql 1'",
			    d.items[i].line, v);
			goto out;
		}
		for (size_t m = 0; m < i; m++)
			if (strcmp(d.items[m].key, "expect-rows") == 0 &&
			    strncmp(d.items[m].value, v, (size_t)(sp - v) + 1) == 0) {
				r = bg_fail(e, BG_ERR_INVALID, "line %zu: a second expect-rows for '%.*s'",
				    d.items[i].line, (int)(sp - v), v);
				goto out;
			}
	}
	/* canonical: schema order (every value of a repeated key, in order),
	 * then the artifact lines */
	for (const kv_key *kk = plan_schema; kk->name; kk++) {
		for (size_t it = 0; it < d.n; it++) {
			const char *v = d.items[it].value, *nl;

			if (strcmp(d.items[it].key, kk->name) != 0)
				continue;
			if ((r = buf_printf(&canon, "%s: ", kk->name)) != 0)
				goto out;
			for (; (nl = strchr(v, '\n')) != NULL; v = nl + 1)
				if ((r = buf_append(&canon, v, (size_t)(nl - v))) != 0 ||
				    (r = buf_puts(&canon, "\n  ")) != 0)
					goto out;
			if ((r = buf_printf(&canon, "%s\n", v)) != 0)
				goto out;
		}
	}
	for (i = 0; i < nin; i++)
		if ((r = buf_printf(&canon, "artifact: %s %s %s\n", art[i].sha256, art[i].kind,
		    art[i].name)) != 0)
			goto out;
	hash_sha256_hex(canon.data, canon.len, hash);
	if ((r = home_begin(h, e)) != 0)
		goto out;
	if ((r = users_require(h, USERS_ROLE_RESPONDER, "submit plans", e)) != 0 ||
	    (r = ticket_load(h, tid, &t, e)) != 0 || (r = ticket_require_open(t, e)) != 0)
		goto abort;
	if (ndestructive > 0) {
		int nb = 0;

		if ((r = store_count(h->st, "SELECT count(*) FROM evidence WHERE ticket = ? AND "
		    "kind = 'backup'", tid, &nb, e)) != 0)
			goto abort;
		if (nb == 0) {
			r = bg_fail(e, BG_ERR_GATE, "the plan approves %zu destructive SQL "
			    "statement(s) but ticket 'T-%lld' has no backup evidence: record the "
			    "database backup first (breakglass evidence T-%lld backup --where ...)",
			    ndestructive, (long long)tid, (long long)tid);
			goto abort;
		}
	}
	if ((r = store_prepare(h->st, "UPDATE plans SET superseded = 1 WHERE ticket = ?",
	    &st, e)) != 0)
		goto abort;
	store_bind_int(st, 1, tid);
	if (sqlite3_step(st) != SQLITE_DONE) {
		r = store_fail(h->st, e, "cannot update plans");
		goto abort;
	}
	sqlite3_finalize(st);
	st = NULL;
	if ((r = store_prepare(h->st, "INSERT INTO plans (ticket, text, hash, created, actor) "
	    "VALUES (?, ?, ?, ?, ?)", &st, e)) != 0)
		goto abort;
	store_bind_int(st, 1, tid);
	store_bind_text(st, 2, canon.data);
	store_bind_text(st, 3, hash);
	store_bind_int(st, 4, h->now);
	store_bind_text(st, 5, h->actor);
	if (sqlite3_step(st) != SQLITE_DONE) {
		r = store_fail(h->st, e, "cannot store plan");
		goto abort;
	}
	*id = sqlite3_last_insert_rowid(h->st->db);
	sqlite3_finalize(st);
	st = NULL;
	if ((r = store_prepare(h->st, "INSERT INTO artifacts (plan, name, kind, sha256, size) "
	    "VALUES (?, ?, ?, ?, ?)", &st, e)) != 0)
		goto abort;
	for (i = 0; i < nin; i++) {
		sqlite3_reset(st);
		store_bind_int(st, 1, *id);
		store_bind_text(st, 2, art[i].name);
		store_bind_text(st, 3, art[i].kind);
		store_bind_text(st, 4, art[i].sha256);
		store_bind_int(st, 5, art[i].size);
		if (sqlite3_step(st) != SQLITE_DONE) {
			r = store_fail(h->st, e, "cannot store artifact");
			goto abort;
		}
	}
	json_init(&j, &detail);
	json_obj_begin(&j);
	json_kv_int(&j, "plan", *id);
	json_kv_str(&j, "sha256", hash);
	json_kv_str(&j, "summary", kv_get(&d, "summary"));
	json_key(&j, "artifacts");
	json_arr_begin(&j);
	for (i = 0; i < nin; i++) {
		json_obj_begin(&j);
		json_kv_str(&j, "name", art[i].name);
		json_kv_str(&j, "kind", art[i].kind);
		json_kv_str(&j, "sha256", art[i].sha256);
		json_kv_int(&j, "size", art[i].size);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	if (ndestructive > 0) {
		const char *p = buf_cstr(&named), *nl;

		json_key(&j, "destructive_sql");
		json_arr_begin(&j);
		for (; (nl = strchr(p, '\n')) != NULL; p = nl + 1)
			json_strn(&j, p, (size_t)(nl - p));
		json_arr_end(&j);
	}
	json_obj_end(&j);
	if ((r = home_commit_json(h, "plan.submit", tid, &j, e)) != 0)
		goto abort;
	goto out;
abort:
	*id = 0;
	home_abort(h);
out:
	sqlite3_finalize(st);
	ticket_free(t);
	kv_doc_release(&d);
	buf_release(&canon);
	buf_release(&content);
	buf_release(&path);
	buf_release(&detail);
	buf_release(&named);
	return r;
}

int
plan_current(home *h, int64_t tid, plan **out, bg_error *e)
{
	sqlite3_stmt *st;
	plan *p;
	kv_key schema_all[sizeof(plan_schema) / sizeof(plan_schema[0])];
	int r, rc;

	*out = NULL;
	if ((r = store_prepare(h->st, "SELECT id, text, hash, created, actor FROM plans "
	    "WHERE ticket = ? AND superseded = 0 ORDER BY id DESC LIMIT 1", &st, e)) != 0)
		return r;
	store_bind_int(st, 1, tid);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_finalize(st);
		if (rc == SQLITE_DONE)
			return bg_fail(e, BG_ERR_NOTFOUND, "ticket 'T-%lld' has no plan",
			    (long long)tid);
		return store_fail(h->st, e, "cannot read plan");
	}
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		sqlite3_finalize(st);
		return BG_ERR_NOMEM;
	}
	p->id = sqlite3_column_int64(st, 0);
	p->ticket = tid;
	p->text = store_col_dup(st, 1);
	snprintf(p->hash, sizeof(p->hash), "%s", store_col_text(st, 2));
	p->created = sqlite3_column_int64(st, 3);
	p->actor = store_col_dup(st, 4);
	sqlite3_finalize(st);
	if (p->text == NULL || p->actor == NULL) {
		plan_free(p);
		return BG_ERR_NOMEM;
	}
	memcpy(schema_all, plan_schema, sizeof(schema_all));
	if ((r = kv_parse(p->text, strlen(p->text), schema_all, &p->fields, e)) != 0) {
		plan_free(p);
		return bg_fail(e, BG_ERR_CORRUPT, "stored plan of T-%lld is corrupt", (long long)tid);
	}
	if ((r = store_prepare(h->st, "SELECT name, kind, sha256, size FROM artifacts "
	    "WHERE plan = ? ORDER BY rowid", &st, e)) != 0) {
		plan_free(p);
		return r;
	}
	store_bind_int(st, 1, p->id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && p->nart < PLAN_MAX_ARTIFACTS) {
		plan_artifact *a = &p->art[p->nart++];

		snprintf(a->name, sizeof(a->name), "%s", store_col_text(st, 0));
		snprintf(a->kind, sizeof(a->kind), "%s", store_col_text(st, 1));
		snprintf(a->sha256, sizeof(a->sha256), "%s", store_col_text(st, 2));
		a->size = sqlite3_column_int64(st, 3);
	}
	sqlite3_finalize(st);
	*out = p;
	return 0;
}
