/*
 * report.c - incident report from the records.
 *
 * The same walk over the records feeds both renderings: Markdown for
 * people, JSON for tools.  The timeline comes from the audit log, which is
 * verified end to end first; a report is never written from a log that
 * fails verification.
 */
#include "report.h"
#include "approval.h"
#include "audit.h"
#include "fileio.h"
#include "hash.h"
#include "grant.h"
#include "json.h"
#include "plan.h"
#include "ticket.h"
#include "utc.h"
#include "steps.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct rctx {
	home *h;
	buf *out;
	json j;
	int as_json;
	int changed_header;     /* "What changed" already opened by the plan */
	int r;
} rctx;

static void
md(rctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
md(rctx *c, const char *fmt, ...)
{
	va_list ap;

	if (c->r != 0 || c->as_json)
		return;
	va_start(ap, fmt);
	c->r = buf_vprintf(c->out, fmt, ap);
	va_end(ap);
}

/* Markdown-safe inline text: escape the characters that change layout. */
static void
md_text(rctx *c, const char *s)
{
	for (; *s && c->r == 0; s++) {
		if (strchr("\\`*_[]<>|#", *s))
			c->r = buf_putc(c->out, '\\');
		if (c->r == 0)
			c->r = buf_putc(c->out, *s == '\n' ? ' ' : *s);
	}
}

static void
md_block(rctx *c, const char *s)
{
	const char *p;

	md(c, "```\n");
	for (p = s; *p && c->r == 0; p++) {
		/* a fence inside the text must not end the block */
		if (strncmp(p, "```", 3) == 0 && (p == s || p[-1] == '\n')) {
			c->r = buf_puts(c->out, "` ``");
			p += 2;
			continue;
		}
		c->r = buf_putc(c->out, *p);
	}
	if (c->r == 0 && (s[0] == '\0' || s[strlen(s) - 1] != '\n'))
		c->r = buf_putc(c->out, '\n');
	md(c, "```\n");
}

static const char *
ts(int64_t t, char b[UTC_STRLEN])
{
	if (t == 0)
		return "-";
	utc_format(t, b);
	return b;
}

struct tl {
	rctx *c;
};

static int
timeline_one(void *vctx, uint64_t seq, const char *time, const char *event,
    const char *line, size_t len)
{
	rctx *c = vctx;
	const char *a, *end;

	if (c->as_json) {
		json_obj_begin(&c->j);
		json_kv_int(&c->j, "seq", (int64_t)seq);
		json_kv_str(&c->j, "time", time);
		json_kv_str(&c->j, "event", event);
		/* actor: the JSON string after "actor": */
		a = strstr(line, "\"actor\":\"");
		if (a && (size_t)(a - line) < len) {
			a += 9;
			for (end = a; end < line + len && *end != '"'; end++)
				if (*end == '\\')
					end++;
			json_key(&c->j, "actor");
			json_strn(&c->j, a, (size_t)(end - a));
		}
		json_obj_end(&c->j);
		return 0;
	}
	a = strstr(line, "\"actor\":\"");
	md(c, "| %llu | %s | %s | ", (unsigned long long)seq, time, event);
	if (a && (size_t)(a - line) < len) {
		char who[160];
		size_t i = 0;

		for (a += 9; a < line + len && *a != '"' && i + 1 < sizeof(who); a++)
			who[i++] = *a == '\\' ? *++a : *a;
		who[i] = '\0';
		md_text(c, who);
	}
	md(c, " |\n");
	return c->r;
}

static int
signer_one(void *vctx, const char *principal, const char *name, const char *fp,
    int64_t recorded)
{
	rctx *c = vctx;
	char b[UTC_STRLEN];

	if (c->as_json) {
		json_obj_begin(&c->j);
		json_kv_str(&c->j, "principal", principal);
		json_kv_str(&c->j, "name", name);
		json_kv_str(&c->j, "fingerprint", fp);
		json_kv_time(&c->j, "recorded", recorded);
		json_obj_end(&c->j);
		return 0;
	}
	md(c, "  - signed by ");
	md_text(c, principal);
	if (*name) {
		md(c, " (");
		md_text(c, name);
		md(c, ")");
	}
	md(c, ", key `%s`, recorded %s\n", fp, ts(recorded, b));
	return c->r;
}

static void
section_intake(rctx *c, const ticket *t)
{
	size_t i;

	if (c->as_json) {
		json_key(&c->j, "intake");
		json_obj_begin(&c->j);
		for (i = 0; i < t->fields.n; i++)
			json_kv_str(&c->j, t->fields.items[i].key, t->fields.items[i].value);
		json_obj_end(&c->j);
		return;
	}
	md(c, "\n## Intake\n\n| field | value |\n|---|---|\n");
	for (i = 0; i < t->fields.n; i++) {
		md(c, "| %s | ", t->fields.items[i].key);
		md_text(c, t->fields.items[i].value);
		md(c, " |\n");
	}
}

static void
section_approvals(rctx *c, const ticket *t, bg_error *e)
{
	sqlite3_stmt *st;
	char b1[UTC_STRLEN], b2[UTC_STRLEN];

	if (c->r || (c->r = store_prepare(c->h->st, "SELECT id, kind, hash, issued, valid_until "
	    "FROM statements WHERE ticket = ? AND id IN (SELECT statement FROM approvals) "
	    "ORDER BY id", &st, e)) != 0)
		return;
	store_bind_int(st, 1, t->id);
	if (c->as_json) {
		json_key(&c->j, "approvals");
		json_arr_begin(&c->j);
	} else
		md(c, "\n## Approvals\n\n");
	while (c->r == 0 && sqlite3_step(st) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(st, 0);

		if (c->as_json) {
			json_obj_begin(&c->j);
			json_kv_int(&c->j, "statement", id);
			json_kv_str(&c->j, "kind", store_col_text(st, 1));
			json_kv_str(&c->j, "sha256", store_col_text(st, 2));
			json_kv_time(&c->j, "issued", sqlite3_column_int64(st, 3));
			json_kv_time(&c->j, "valid_until", sqlite3_column_int64(st, 4));
			json_key(&c->j, "signers");
			json_arr_begin(&c->j);
		} else
			md(c, "- **%s** statement %lld, SHA-256 `%s`, issued %s, valid until %s\n",
			    store_col_text(st, 1), (long long)id, store_col_text(st, 2),
			    ts(sqlite3_column_int64(st, 3), b1), ts(sqlite3_column_int64(st, 4), b2));
		if (c->r == 0)
			c->r = approval_signers(c->h, id, signer_one, c, e);
		if (c->as_json) {
			json_arr_end(&c->j);
			json_obj_end(&c->j);
		}
	}
	sqlite3_finalize(st);
	if (c->as_json)
		json_arr_end(&c->j);
}

static void
section_evidence(rctx *c, const ticket *t, bg_error *e)
{
	sqlite3_stmt *st;
	char b[UTC_STRLEN];

	if (c->r || (c->r = store_prepare(c->h->st, "SELECT kind, method, what, location, taken, "
	    "sha256, verified, recorded, actor FROM evidence WHERE ticket = ? ORDER BY id",
	    &st, e)) != 0)
		return;
	store_bind_int(st, 1, t->id);
	if (c->as_json) {
		json_key(&c->j, "evidence");
		json_arr_begin(&c->j);
	} else
		md(c, "\n## Backup and rollback evidence\n\n");
	while (c->r == 0 && sqlite3_step(st) == SQLITE_ROW) {
		if (c->as_json) {
			json_obj_begin(&c->j);
			json_kv_str(&c->j, "kind", store_col_text(st, 0));
			json_kv_str(&c->j, "method", store_col_text(st, 1));
			json_kv_str(&c->j, "what", store_col_text(st, 2));
			json_kv_str(&c->j, "where", store_col_text(st, 3));
			json_kv_time(&c->j, "taken", sqlite3_column_int64(st, 4));
			json_kv_str(&c->j, "sha256", (const char *)sqlite3_column_text(st, 5));
			json_kv_bool(&c->j, "verified", sqlite3_column_int(st, 6));
			json_kv_time(&c->j, "recorded", sqlite3_column_int64(st, 7));
			json_kv_str(&c->j, "actor", store_col_text(st, 8));
			json_obj_end(&c->j);
			continue;
		}
		md(c, "- %s: ", store_col_text(st, 0));
		if (*store_col_text(st, 1))
			md(c, "method %s; ", store_col_text(st, 1));
		md_text(c, store_col_text(st, 2));
		if (*store_col_text(st, 3)) {
			md(c, " at ");
			md_text(c, store_col_text(st, 3));
		}
		if (sqlite3_column_int64(st, 4))
			md(c, ", taken %s", ts(sqlite3_column_int64(st, 4), b));
		if (sqlite3_column_type(st, 5) != SQLITE_NULL)
			md(c, ", SHA-256 `%s`%s", store_col_text(st, 5),
			    sqlite3_column_int(st, 6) ? " (verified against the file)" : " (not verified)");
		md(c, "\n");
	}
	sqlite3_finalize(st);
	if (c->as_json)
		json_arr_end(&c->j);
}

static void
section_plan(rctx *c, const ticket *t, bg_error *e)
{
	plan *p = NULL;
	size_t i;
	int r = plan_current(c->h, t->id, &p, e);

	if (r == BG_ERR_NOTFOUND) {
		if (c->as_json) {
			json_key(&c->j, "plan");
			json_null(&c->j);
		} else
			md(c, "\n## Fix plan\n\nNo plan was submitted.\n");
		return;
	}
	if (r != 0) {
		c->r = r;
		return;
	}
	if (c->as_json) {
		json_key(&c->j, "plan");
		json_obj_begin(&c->j);
		json_kv_int(&c->j, "id", p->id);
		json_kv_str(&c->j, "sha256", p->hash);
		for (i = 0; i < p->fields.n; i++)
			json_kv_str(&c->j, p->fields.items[i].key, p->fields.items[i].value);
		json_key(&c->j, "artifacts");
		json_arr_begin(&c->j);
		for (i = 0; i < p->nart; i++) {
			json_obj_begin(&c->j);
			json_kv_str(&c->j, "name", p->art[i].name);
			json_kv_str(&c->j, "kind", p->art[i].kind);
			json_kv_str(&c->j, "sha256", p->art[i].sha256);
			json_kv_int(&c->j, "size", p->art[i].size);
			json_obj_end(&c->j);
		}
		json_arr_end(&c->j);
		json_obj_end(&c->j);
	} else {
		md(c, "\n## Fix plan (P-%lld, SHA-256 `%s`)\n\n", (long long)p->id, p->hash);
		for (i = 0; i < p->fields.n; i++) {
			md(c, "**%s**\n\n", p->fields.items[i].key);
			md_block(c, p->fields.items[i].value);
			md(c, "\n");
		}
		if (p->nart) {
			md(c, "| artifact | kind | bytes | SHA-256 |\n|---|---|---|---|\n");
			for (i = 0; i < p->nart; i++)
				md(c, "| %s | %s | %lld | `%s` |\n", p->art[i].name, p->art[i].kind,
				    (long long)p->art[i].size, p->art[i].sha256);
		}
		md(c, "\n## What changed, where, how to roll it back\n\n");
		c->changed_header = 1;
		md(c, "The approved change is the plan above; its artifacts are stored "
		    "byte for byte under their SHA-256 in the breakglass home.\n\n");
		md(c, "Rollback path:\n\n");
		md_block(c, kv_get(&p->fields, "rollback") ? kv_get(&p->fields, "rollback") : "-");
	}
	plan_free(p);
}

/* ---- change sets from the host log ---- */

/*
 * A plain string field of a record line: "name":"value" where value has
 * no escapes (ids and hex digests never do).  0, or -1 when absent.
 */
static int
plain_field(const char *line, size_t len, const char *name, char *out, size_t outlen)
{
	char key[64];
	const char *p, *q, *end = line + len;
	int kl = snprintf(key, sizeof(key), "\"%s\":\"", name);

	if (kl <= 0 || (size_t)kl >= sizeof(key) || (p = memmem(line, len, key, (size_t)kl)) == NULL)
		return -1;
	p += kl;
	for (q = p; q < end && *q != '"' && *q != '\\'; q++)
		;
	if (q == end || *q != '"' || (size_t)(q - p) >= outlen)
		return -1;
	memcpy(out, p, (size_t)(q - p));
	out[q - p] = '\0';
	return 0;
}

static int
is_hex64(const char *s)
{
	return strlen(s) == 64 && strspn(s, "0123456789abcdef") == 64;
}

/*
 * The change set a gate.changes record names (its change_set, sha256 and
 * text_sha256 fields); records without them (a failed snapshot) are
 * skipped.
 */
static int
change_ref(const char *line, size_t len, report_cs *out)
{
	const char *g;

	if (plain_field(line, len, "change_set", out->id, sizeof(out->id)) != 0 ||
	    plain_field(line, len, "text_sha256", out->text_sha256, sizeof(out->text_sha256)) != 0 ||
	    out->id[0] != 'T' || strspn(out->id, "TGZ-0123456789abcdef") != strlen(out->id) ||
	    !is_hex64(out->text_sha256))
		return -1;
	if (plain_field(line, len, "sha256", out->sha256, sizeof(out->sha256)) != 0 ||
	    !is_hex64(out->sha256))
		out->sha256[0] = '\0';
	/* T-N-G-N-...: the grant */
	g = strstr(out->id, "-G-");
	out->grant = g ? strtoll(g + 3, NULL, 10) : 0;
	return 0;
}

typedef struct cs_list {
	report_cs *v;
	size_t n;
	int oom;
} cs_list;

static int
changes_one(void *vctx, uint64_t seq, const char *time, const char *event,
    const char *line, size_t len)
{
	cs_list *l = vctx;
	report_cs ref, *v;

	(void)seq;
	(void)time;
	if (strcmp(event, "gate.changes") != 0 || change_ref(line, len, &ref) != 0)
		return 0;
	if (l->n == REPORT_CS_MAX || (v = realloc(l->v, (l->n + 1) * sizeof(*v))) == NULL) {
		l->oom = 1;
		return 0;
	}
	l->v = v;
	l->v[l->n++] = ref;
	return 0;
}

int
report_change_sets(const char *dir, int64_t tid, report_cs **out, size_t *n, bg_error *e)
{
	sshkey_priv k;
	audit_log log;
	cs_list l = { NULL, 0, 0 };
	int r;

	*out = NULL;
	*n = 0;
	if ((r = audit_host_key(dir, &k, e)) == 0) {
		if ((r = audit_open(&log, dir, NULL, k.pk, e)) == 0) {
			r = audit_each(&log, tid, changes_one, &l, e);
			audit_close(&log);
		}
		sshkey_priv_release(&k);
	}
	if (r == 0 && l.oom)
		r = bg_fail(e, BG_ERR_NOMEM, "too many change sets");
	if (r != 0) {
		free(l.v);
		return r;
	}
	*out = l.v;
	*n = l.n;
	return 0;
}

/* A host as the report names it: `name`, or "the host" when there is one. */
static void
md_host(rctx *c, const char *name)
{
	if (name == NULL) {
		md(c, "the host");
		return;
	}
	md(c, "`");
	md_text(c, name);
	md(c, "`");
}

/*
 * The change sets one host's gate recorded for this ticket: its log is
 * verified first, and each change set's text must hash to what the log
 * says, or it is reported as not matching instead of shown.  name is the
 * host (NULL: the one host, unnamed).
 */
static void
host_changes(rctx *c, const ticket *t, const char *name, const char *dir)
{
	cs_list l = { NULL, 0, 0 };
	bg_error e2;
	int64_t grants[64];
	size_t i, ng = 0;
	int r;

	r = report_change_sets(dir, t->id, &l.v, &l.n, &e2);
	if (c->as_json) {
		json_obj_begin(&c->j);
		json_kv_str(&c->j, "host", name);
		json_kv_str(&c->j, "host_log", dir);
		json_kv_bool(&c->j, "host_log_verified", r == 0);
		if (r != 0)
			json_kv_str(&c->j, "error", e2.msg);
		json_key(&c->j, "change_sets");
		json_arr_begin(&c->j);
	} else {
		md(c, "\n### On ");
		md_host(c, name);
		if (r != 0) {
			md(c, "\n\n**The host log at `");
			md_text(c, dir);
			md(c, "` could not be verified: ");
			md_text(c, e2.msg);
			md(c, ".** No change set from it is shown.\n");
		} else if (l.n == 0)
			md(c, "\n\nThe host log (verified) records no change for this ticket.\n");
		else
			md(c, " (%zu change set%s, from the verified host log)\n", l.n,
			    l.n == 1 ? "" : "s");
	}
	for (i = 0; r == 0 && i < l.n && c->r == 0; i++) {
		buf path, text;
		char hex[65];
		int ok;
		size_t k2;

		buf_init(&path, 4096);
		buf_init(&text, 8u * 1024 * 1024);
		ok = buf_printf(&path, "%s/snapshots/changes/%s.txt", dir, l.v[i].id) == 0 &&
		    fileio_read(path.data, text.max, &text, &e2) == 0;
		if (ok) {
			hash_sha256_hex(text.data ? text.data : "", text.len, hex);
			ok = strcmp(hex, l.v[i].text_sha256) == 0;
		}
		if (c->as_json) {
			json_obj_begin(&c->j);
			json_kv_str(&c->j, "id", l.v[i].id);
			json_kv_int(&c->j, "grant", l.v[i].grant);
			json_kv_str(&c->j, "text_sha256", l.v[i].text_sha256);
			json_kv_bool(&c->j, "matches_host_log", ok);
			if (ok)
				json_kv_str(&c->j, "text", buf_cstr(&text));
			json_obj_end(&c->j);
		} else if (ok) {
			md(c, "\n");
			md_block(c, buf_cstr(&text));
		} else
			md(c, "\n**Change set `%s` is missing or does not match the host log.**\n",
			    l.v[i].id);
		for (k2 = 0; k2 < ng && grants[k2] != l.v[i].grant; k2++)
			;
		if (k2 == ng && ng < sizeof(grants) / sizeof(grants[0]))
			grants[ng++] = l.v[i].grant;
		buf_release(&path);
		buf_release(&text);
	}
	if (c->as_json) {
		json_arr_end(&c->j);
		json_obj_end(&c->j);
	} else if (r == 0 && ng > 0) {
		md(c, "\nTo put it back, on ");
		md_host(c, name);
		md(c, " as root (each prints what it did and how to undo it; `--dry-run` first "
		    "shows the plan):\n\n");
		for (i = 0; i < ng; i++)
			md(c, "    breakglass rollback T-%lld --grant G-%lld\n", (long long)t->id,
			    (long long)grants[i]);
	}
	free(l.v);
}

/* The value of "key":"..." in an audit line, unescaped, into v. */
static void
line_str(const char *line, size_t len, const char *key, char *v, size_t max)
{
	char pat[64];
	const char *a;
	size_t i = 0;

	snprintf(pat, sizeof(pat), "\"%s\":\"", key);
	v[0] = '\0';
	if ((a = memmem(line, len, pat, strlen(pat))) == NULL)
		return;
	for (a += strlen(pat); a < line + len && *a != '"' && i + 1 < max; a++)
		v[i++] = *a == '\\' && a + 1 < line + len ? *++a : *a;
	v[i] = '\0';
}

typedef struct rb_ctx {
	rctx *c;
	int n;
} rb_ctx;

static int
runbook_one(void *vctx, uint64_t seq, const char *time, const char *event, const char *line,
    size_t len)
{
	rb_ctx *x = vctx;
	char sum[1024], sys[160], op[260], chk[2048], dia[2048], sql[2048];

	if (strcmp(event, "runbook.import") != 0)
		return 0;
	line_str(line, len, "summary", sum, sizeof(sum));
	line_str(line, len, "checks_summary", chk, sizeof(chk));
	line_str(line, len, "diagnostics_summary", dia, sizeof(dia));
	line_str(line, len, "sql_summary", sql, sizeof(sql));
	line_str(line, len, "system", sys, sizeof(sys));
	line_str(line, len, "operator", op, sizeof(op));
	if (x->c->as_json) {
		json_obj_begin(&x->c->j);
		json_kv_int(&x->c->j, "seq", (int64_t)seq);
		json_kv_str(&x->c->j, "imported", time);
		json_kv_str(&x->c->j, "system", sys);
		json_kv_str(&x->c->j, "operator", op);
		json_kv_str(&x->c->j, "outcome", sum);
		json_kv_str(&x->c->j, "checks", chk[0] ? chk : NULL);
		json_kv_str(&x->c->j, "diagnostics", dia[0] ? dia : NULL);
		json_kv_str(&x->c->j, "sql", sql[0] ? sql : NULL);
		json_obj_end(&x->c->j);
	} else {
		if (x->n == 0)
			md(x->c, "\n## Run by the client (signed result bundles)\n\n");
		md(x->c, "- imported %s (audit record %llu): run on `", time, (unsigned long long)seq);
		md_text(x->c, sys);
		md(x->c, "` by ");
		md_text(x->c, op);
		md(x->c, ": ");
		md_text(x->c, sum);
		md(x->c, "\n");
		if (chk[0]) {
			md(x->c, "  - smoke checks run by the client: ");
			md_text(x->c, chk);
			md(x->c, "\n");
		}
		if (dia[0]) {
			md(x->c, "  - diagnostics collected by the client: ");
			md_text(x->c, dia);
			md(x->c, "\n");
		}
		if (sql[0]) {
			md(x->c, "  - SQL applied by the client's runbook (client-run, not "
			    "operator-reported): ");
			md_text(x->c, sql);
			md(x->c, "\n");
		}
	}
	x->n++;
	return x->c->r;
}

/* Client-executed runs: each imported result bundle, step by step. */
static void
section_runbooks(rctx *c, const ticket *t, bg_error *e)
{
	rb_ctx x = { c, 0 };
	int r;

	if (c->r)
		return;
	if (c->as_json) {
		json_key(&c->j, "runbooks");
		json_arr_begin(&c->j);
	}
	r = audit_each(&c->h->log, t->id, runbook_one, &x, e);
	if (c->r == 0)
		c->r = r;
	if (c->as_json)
		json_arr_end(&c->j);
}

/* Every configured host's change sets (host-log lines), in config order. */
static void
section_changes(rctx *c, const ticket *t)
{
	size_t i;

	if (c->r)
		return;
	if (!c->as_json && !c->changed_header)
		md(c, "\n## What changed, where, how to roll it back\n\n");
	if (c->h->nhost_logs == 0) {
		if (c->as_json) {
			json_key(&c->j, "changes");
			json_null(&c->j);
		} else
			md(c, "\nChange sets are kept on the host: run `breakglass changes T-%lld` there "
			    "(or name each host's log directory with `host-log` in the config).\n",
			    (long long)t->id);
		return;
	}
	if (c->as_json) {
		json_key(&c->j, "changes");
		json_arr_begin(&c->j);
	}
	for (i = 0; i < c->h->nhost_logs && c->r == 0; i++)
		host_changes(c, t, c->h->host_logs[i].name, c->h->host_logs[i].dir);
	if (c->as_json)
		json_arr_end(&c->j);
}

static void
section_grants(rctx *c, const ticket *t, bg_error *e)
{
	sqlite3_stmt *st;
	char b1[UTC_STRLEN], b2[UTC_STRLEN], b3[UTC_STRLEN];

	if (c->r || (c->r = store_prepare(c->h->st, "SELECT id FROM grants WHERE ticket = ? "
	    "ORDER BY id", &st, e)) != 0)
		return;
	store_bind_int(st, 1, t->id);
	if (c->as_json) {
		json_key(&c->j, "grants");
		json_arr_begin(&c->j);
	} else
		md(c, "\n## Grants\n\n");
	while (c->r == 0 && sqlite3_step(st) == SQLITE_ROW) {
		grant *g = NULL;

		if ((c->r = grant_load(c->h, sqlite3_column_int64(st, 0), &g, e)) != 0)
			break;
		if (c->as_json) {
			json_obj_begin(&c->j);
			json_kv_int(&c->j, "id", g->id);
			json_kv_str(&c->j, "kind", g->kind);
			json_kv_str(&c->j, "state", grant_state_now(g, c->h->now));
			json_kv_bool(&c->j, "writes", g->writes);
			json_kv_str(&c->j, "spec", g->spec);
			json_kv_str(&c->j, "spec_sha256", g->spec_hash);
			json_kv_time(&c->j, "not_before", g->not_before);
			json_kv_time(&c->j, "not_after", g->not_after);
			json_kv_time(&c->j, "ended", g->ended);
			json_kv_str(&c->j, "end_reason", g->end_reason);
			json_kv_str(&c->j, "revocation_confirmed", g->revocation_confirmed);
			json_obj_end(&c->j);
		} else {
			md(c, "- **G-%lld** %s (%s), %s; window %s .. %s", (long long)g->id, g->kind,
			    g->writes ? "can write" : "read-only", grant_state_now(g, c->h->now),
			    ts(g->not_before, b1), ts(g->not_after, b2));
			if (g->ended) {
				md(c, "; ended %s: ", ts(g->ended, b3));
				md_text(c, g->end_reason ? g->end_reason : "");
			}
			if (g->revocation_confirmed) {
				md(c, "; removal confirmed: ");
				md_text(c, g->revocation_confirmed);
			}
			md(c, "\n");
			md_block(c, g->spec);
		}
		grant_free(g);
	}
	sqlite3_finalize(st);
	if (c->as_json)
		json_arr_end(&c->j);
}

static void
section_smoke_cleanup(rctx *c, const ticket *t, const steps_status *s, bg_error *e)
{
	sqlite3_stmt *st;
	char b[UTC_STRLEN];
	int n = 0, total = 0;

	/*
	 * Every result, oldest first; the newest is the one that counts (JSON:
	 * "smoke" is the newest, "smoke_results" all of them).
	 */
	if (c->r || (c->r = store_prepare(c->h->st, "SELECT result, notes, recorded, actor, "
	    "count(*) OVER (), kind, phase, url, http_status, elapsed_ms, body_sha256, expect, "
	    "command, host, log_seq, log_time, grant_id, exit_status "
	    "FROM smoke_results WHERE ticket = ? ORDER BY id", &st, e)) != 0)
		return;
	store_bind_int(st, 1, t->id);
	if (c->as_json) {
		json_key(&c->j, "smoke_results");
		json_arr_begin(&c->j);
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		total = sqlite3_column_int(st, 4);
		n++;
		if (c->as_json) {
			json_obj_begin(&c->j);
			json_kv_str(&c->j, "result", store_col_text(st, 0));
			json_kv_str(&c->j, "notes", store_col_text(st, 1));
			json_kv_time(&c->j, "recorded", sqlite3_column_int64(st, 2));
			json_kv_str(&c->j, "actor", store_col_text(st, 3));
			json_kv_str(&c->j, "kind", store_col_text(st, 5));
			if (strcmp(store_col_text(st, 5), "check") == 0) {
				json_kv_str(&c->j, "phase", store_col_text(st, 6));
				json_kv_str(&c->j, "url", store_col_text(st, 7));
				json_kv_int(&c->j, "status", sqlite3_column_int64(st, 8));
				json_kv_int(&c->j, "elapsed_ms", sqlite3_column_int64(st, 9));
				json_kv_str(&c->j, "body_sha256", store_col_text(st, 10));
				json_kv_str(&c->j, "expect", store_col_text(st, 11));
			} else if (strcmp(store_col_text(st, 5), "command") == 0) {
				json_kv_str(&c->j, "phase", store_col_text(st, 6));
				json_kv_str(&c->j, "command", store_col_text(st, 12));
				json_kv_str(&c->j, "host", sqlite3_column_type(st, 13) == SQLITE_NULL ?
				    NULL : store_col_text(st, 13));
				json_kv_int(&c->j, "log_seq", sqlite3_column_int64(st, 14));
				json_kv_time(&c->j, "log_time", sqlite3_column_int64(st, 15));
				json_kv_int(&c->j, "grant", sqlite3_column_int64(st, 16));
				json_kv_int(&c->j, "exit", sqlite3_column_int64(st, 17));
				json_kv_str(&c->j, "expect", store_col_text(st, 11));
			}
			json_obj_end(&c->j);
			continue;
		}
		if (n == 1)
			md(c, "\n## Smoke test\n\n");
		if (total > 1)
			md(c, "%d of %d%s: ", n, total, n == total ? " (the one that counts)" : "");
		if (strcmp(store_col_text(st, 5), "check") == 0) {
			int before = strcmp(store_col_text(st, 6), "before") == 0;

			md(c, "**%s** (a check that ran, %s the fix%s: status %lld, expected %s, "
			    "%lld ms, body sha256 `%.16s...`), recorded %s by ", store_col_text(st, 0),
			    before ? "before" : "after", before ? "; it does not count for closing" : "",
			    (long long)sqlite3_column_int64(st, 8), store_col_text(st, 11),
			    (long long)sqlite3_column_int64(st, 9), store_col_text(st, 10),
			    ts(sqlite3_column_int64(st, 2), b));
		} else if (strcmp(store_col_text(st, 5), "command") == 0) {
			int before = strcmp(store_col_text(st, 6), "before") == 0;
			char b2[UTC_STRLEN];

			/* the host's own signed record of the run, read back */
			md(c, "**%s** (a command run through the gate on ", store_col_text(st, 0));
			if (sqlite3_column_type(st, 13) == SQLITE_NULL)
				md(c, "the host");
			else {
				md(c, "`");
				md_text(c, store_col_text(st, 13));
				md(c, "`");
			}
			md(c, ", %s the fix%s: exit %lld, expected %s; host log record %lld at %s, "
			    "grant G-%lld), recorded %s by ", before ? "before" : "after",
			    before ? "; it does not count for closing" : "",
			    (long long)sqlite3_column_int64(st, 17), store_col_text(st, 11),
			    (long long)sqlite3_column_int64(st, 14), ts(sqlite3_column_int64(st, 15), b2),
			    (long long)sqlite3_column_int64(st, 16), ts(sqlite3_column_int64(st, 2), b));
		} else {
			md(c, "**%s** (checked by hand), recorded %s by ", store_col_text(st, 0),
			    ts(sqlite3_column_int64(st, 2), b));
		}
		md_text(c, store_col_text(st, 3));
		md(c, "\n\n");
		md_block(c, store_col_text(st, 1));
		if (n < total)
			md(c, "\n");
	}
	sqlite3_finalize(st);
	if (c->as_json) {
		json_arr_end(&c->j);
		json_key(&c->j, "smoke");
		if (n == 0)
			json_null(&c->j);
		else if ((c->r = store_prepare(c->h->st, "SELECT result, notes, recorded, actor FROM "
		    "smoke_results WHERE ticket = ? ORDER BY id DESC LIMIT 1", &st, e)) != 0)
			return;
		else {
			store_bind_int(st, 1, t->id);
			json_obj_begin(&c->j);
			if (sqlite3_step(st) == SQLITE_ROW) {
				json_kv_str(&c->j, "result", store_col_text(st, 0));
				json_kv_str(&c->j, "notes", store_col_text(st, 1));
				json_kv_time(&c->j, "recorded", sqlite3_column_int64(st, 2));
				json_kv_str(&c->j, "actor", store_col_text(st, 3));
			}
			json_obj_end(&c->j);
			sqlite3_finalize(st);
		}
	} else if (n == 0) {
		md(c, "\n## Smoke test\n\nNot recorded.\n");
	}
	if (c->r || (c->r = store_prepare(c->h->st, "SELECT item, state, note, actor, time FROM "
	    "cleanup WHERE ticket = ?1 AND item = ?2", &st, e)) != 0)
		return;
	if (c->as_json) {
		json_key(&c->j, "cleanup");
		json_arr_begin(&c->j);
	} else
		md(c, "\n## Cleanup\n\n");
	for (int i = 0; steps_cleanup_items[i] && c->r == 0; i++) {
		const char *state = "open", *note = "", *actor = "";
		int64_t when = 0;

		if (i == 0) {
			state = s->grants_open == 0 ? "done" : "open";
		} else if (steps_cleanup_implied(&s->g, steps_cleanup_items[i])) {
			state = "not applicable";
			note = "no SQL patch";
			sqlite3_reset(st);
			store_bind_int(st, 1, t->id);
			store_bind_text(st, 2, steps_cleanup_items[i]);
			if (sqlite3_step(st) == SQLITE_ROW) {
				note = store_col_text(st, 2);
				actor = store_col_text(st, 3);
				when = sqlite3_column_int64(st, 4);
			}
		} else {
			sqlite3_reset(st);
			store_bind_int(st, 1, t->id);
			store_bind_text(st, 2, steps_cleanup_items[i]);
			if (sqlite3_step(st) == SQLITE_ROW) {
				state = strcmp(store_col_text(st, 1), "na") == 0 ? "not applicable" : "done";
				note = store_col_text(st, 2);
				actor = store_col_text(st, 3);
				when = sqlite3_column_int64(st, 4);
			}
		}
		if (c->as_json) {
			json_obj_begin(&c->j);
			json_kv_str(&c->j, "item", steps_cleanup_items[i]);
			json_kv_str(&c->j, "state", state);
			json_kv_str(&c->j, "note", note);
			json_kv_str(&c->j, "by", actor);
			json_kv_time(&c->j, "time", when);
			json_obj_end(&c->j);
		} else {
			md(c, "- [%c] %s: %s", strcmp(state, "open") ? 'x' : ' ', steps_cleanup_items[i],
			    state);
			if (*actor) {
				md(c, " by ");
				md_text(c, actor);
				md(c, " at %s", ts(when, b));
			}
			if (*note) {
				md(c, " - ");
				md_text(c, note);
			}
			md(c, "\n");
		}
	}
	sqlite3_finalize(st);
	if (c->as_json)
		json_arr_end(&c->j);
}

/*
 * The owner's word at close: the signed resolved statement ("the affected
 * flow works for me"), or the signed close-unconfirmed one with its reason.
 */
static void
section_owner(rctx *c, const steps_status *s, bg_error *e)
{
	int64_t id = s->g.resolved.statement ? s->g.resolved.statement :
	    s->g.unconfirmed.statement;
	const char *kind = s->g.resolved.statement ? "resolved" : "close-unconfirmed";
	statement *st = NULL;
	buf sigs;
	size_t n = 0;
	char reason[1024] = "";

	if (c->r)
		return;
	if (c->as_json) {
		json_key(&c->j, "owner_confirmation");
		if (id == 0) {
			json_null(&c->j);
			return;
		}
	} else {
		md(c, "\n## The owner's confirmation\n\n");
		if (id == 0) {
			md(c, "Not given yet: %s.\n", s->owner_missing);
			return;
		}
	}
	buf_init(&sigs, 1024u * 1024);
	if ((c->r = approval_statement_load(c->h, id, &st, &sigs, &n, e)) == 0) {
		const char *p = strstr(st->text, "\nreason: ");

		if (p != NULL) {
			size_t l = strcspn(p + 9, "\n");

			snprintf(reason, sizeof(reason), "%.*s", (int)l, p + 9);
		}
	}
	buf_release(&sigs);
	if (c->r == 0) {
		if (c->as_json) {
			json_obj_begin(&c->j);
			json_kv_str(&c->j, "kind", kind);
			json_kv_bool(&c->j, "confirmed", s->g.resolved.statement != 0);
			json_kv_int(&c->j, "statement", id);
			json_kv_str(&c->j, "sha256", st->hash);
			if (*reason)
				json_kv_str(&c->j, "reason", reason);
			json_key(&c->j, "signers");
			json_arr_begin(&c->j);
		} else if (s->g.resolved.statement) {
			md(c, "**Confirmed:** the affected flow works for the owner (signed `resolved` "
			    "statement %lld, SHA-256 `%s`):\n", (long long)id, st->hash);
		} else {
			md(c, "**Closed without the owner's confirmation** (signed `close-unconfirmed` "
			    "statement %lld, SHA-256 `%s`), because: ", (long long)id, st->hash);
			md_text(c, reason);
			md(c, "\n");
		}
		c->r = approval_signers(c->h, id, signer_one, c, e);
		if (c->as_json) {
			json_arr_end(&c->j);
			json_obj_end(&c->j);
		}
	}
	statement_free(st);
}

int
report_render(home *h, int64_t tid, int as_json, buf *out, bg_error *e)
{
	ticket *t = NULL;
	steps_status s;
	rctx c;
	char b1[UTC_STRLEN], b2[UTC_STRLEN];
	int r, i;

	memset(&c, 0, sizeof(c));
	c.h = h;
	c.out = out;
	c.as_json = as_json;
	json_init(&c.j, out);
	if ((r = ticket_load(h, tid, &t, e)) != 0)
		return r;
	if ((r = steps_status_now(h, t, &s, e)) != 0)
		goto out;
	if (as_json) {
		json_obj_begin(&c.j);
		json_kv_str(&c.j, "format", "breakglass-report-v1");
		json_key(&c.j, "ticket");
		json_obj_begin(&c.j);
		json_kv_int(&c.j, "id", t->id);
		json_kv_str(&c.j, "project", t->project);
		json_kv_str(&c.j, "requester", t->requester);
		json_kv_str(&c.j, "summary", t->summary);
		json_kv_str(&c.j, "status", t->status);
		json_kv_time(&c.j, "created", t->created);
		json_kv_time(&c.j, "closed", t->closed);
		json_kv_str(&c.j, "intake_sha256", t->intake_hash);
		json_obj_end(&c.j);
		json_key(&c.j, "steps");
		json_arr_begin(&c.j);
		for (i = 0; i < STEPS_N; i++) {
			json_obj_begin(&c.j);
			json_kv_int(&c.j, "step", i + 1);
			json_kv_str(&c.j, "name", s.step[i].name);
			json_kv_bool(&c.j, "done", s.step[i].done);
			json_obj_end(&c.j);
		}
		json_arr_end(&c.j);
	} else {
		md(&c, "# Incident report: T-%lld\n\n", (long long)t->id);
		md(&c, "- **Summary:** ");
		md_text(&c, t->summary);
		md(&c, "\n- **Project:** ");
		md_text(&c, t->project);
		md(&c, "\n- **Requester:** ");
		md_text(&c, t->requester);
		md(&c, "\n- **Status:** %s (opened %s, closed %s)\n", t->status, ts(t->created, b1),
		    ts(t->closed, b2));
		md(&c, "- **Intake SHA-256:** `%s`\n\n## Workflow\n\n", t->intake_hash);
		for (i = 0; i < STEPS_N; i++)
			md(&c, "%d. [%c] %s\n", i + 1, s.step[i].done ? 'x' : ' ', s.step[i].name);
	}
	section_intake(&c, t);
	section_approvals(&c, t, e);
	section_evidence(&c, t, e);
	section_grants(&c, t, e);
	section_plan(&c, t, e);
	section_changes(&c, t);
	section_runbooks(&c, t, e);
	section_smoke_cleanup(&c, t, &s, e);
	section_owner(&c, &s, e);
	if (c.r == 0) {
		if (as_json) {
			json_key(&c.j, "timeline");
			json_arr_begin(&c.j);
		} else
			md(&c, "\n## Timeline (from the verified audit log)\n\n"
			    "| # | time (UTC) | event | actor |\n|---|---|---|---|\n");
		c.r = audit_each(&h->log, tid, timeline_one, &c, e);
		if (as_json) {
			json_arr_end(&c.j);
			json_obj_end(&c.j);
			if (c.r == 0)
				c.r = json_error(&c.j);
			if (c.r == 0)
				c.r = buf_putc(out, '\n');
		}
	}
	r = c.r;
out:
	ticket_free(t);
	return r;
}
