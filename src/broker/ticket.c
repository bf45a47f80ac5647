/*
 * ticket.c - intake validation and ticket storage.
 */
#include "ticket.h"
#include "grantscope.h"
#include "hash.h"
#include "json.h"
#include "scan.h"
#include "text.h"
#include "utc.h"
#include "users.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ML (KV_MULTILINE)

const kv_key ticket_schema[] = {
	{ "project", KV_REQUIRED, 64 },
	{ "system", KV_REQUIRED, 128 },
	{ "requester", KV_REQUIRED, 254 },
	{ "production-url", 0, 512 },
	{ "affected-flow", 0, 512 },
	{ "broken", KV_REQUIRED | ML, 4096 },
	{ "started", KV_REQUIRED, 32 },
	{ "changed-before", ML, 4096 },
	{ "evidence", ML, 8192 },
	{ "reproduce", ML, 4096 },
	{ "last-known-good", ML, 1024 },
	{ "deploy-method", 0, 256 },
	{ "repository", 0, 512 },
	{ "production-branch", 0, 128 },
	{ "emergency-branch", 0, 128 },
	{ "staging-url", 0, 512 },
	{ "log-access", ML, 1024 },
	{ "backup-status", ML, 1024 },
	{ "rollback-method", 0, 256 },
	{ "approver-name", 0, 128 },
	{ "approver-email", 0, 254 },
	{ "window-start", 0, 32 },
	{ "window-end", 0, 32 },
	{ "timezone", 0, 64 },
	{ NULL, 0, 0 }
};

const char *const ticket_confirm_fields[] = {
	"broken", "started", "changed-before", "last-known-good", "deploy-method",
	"backup-status", "rollback-method", "approver-name", "approver-email", NULL
};

static const char *const deploy_methods[] = {
	"github-actions", "hosting-panel", "ssh", "sftp", "ftp", "shopify-theme",
	"wordpress-admin", "cloud-console", "ci-cd", "docker", "manual-upload",
	"other", NULL
};

static const char *const rollback_methods[] = {
	"restore-backup", "revert-commit", "redeploy-previous", "switch-theme",
	"disable-plugin", "restore-image", "rollback-migration", "restore-dns-cdn",
	"prepared-patch", "other", NULL
};

static const char *const free_text[] = {
	"system", "affected-flow", "broken", "changed-before", "evidence", "deploy-method",
	"rollback-method",
	"reproduce", "last-known-good", "repository", "production-branch",
	"emergency-branch", "log-access", "backup-status", "approver-name", "production-url",
	"staging-url", NULL
};

int
ticket_template(buf *out)
{
	return buf_puts(out,
	    "# breakglass emergency ticket - fill in what you know, then:\n"
	    "#   breakglass ticket open --from this-file\n"
	    "# One 'key: value' per line.  Indent further lines of a long value by\n"
	    "# two spaces.  Times have their zone: 2026-11-21T02:10Z (UTC) or\n"
	    "# 2026-11-21 03:10 +01:00 (stored in UTC).  Never paste passwords,\n"
	    "# keys or tokens here: breakglass refuses them.\n"
	    "\n"
	    "# Project (as registered with 'breakglass project add') and the system.\n"
	    "project: \n"
	    "system: \n"
	    "# Who is asking for access (email).\n"
	    "requester: \n"
	    "production-url: \n"
	    "# The user-facing flow that is affected (checkout, login, ...).\n"
	    "affected-flow: \n"
	    "\n"
	    "# What is broken, when it started (UTC), what changed before it.\n"
	    "broken: \n"
	    "started: \n"
	    "changed-before: \n"
	    "# Error messages, failed order IDs, alert links.\n"
	    "evidence: \n"
	    "reproduce: \n"
	    "# Last known good: deploy, commit, release, backup, version or time.\n"
	    "last-known-good: \n"
	    "\n"
	    "# How production is deployed, in your words; e.g. github-actions\n"
	    "#   hosting-panel ssh sftp ftp shopify-theme wordpress-admin\n"
	    "#   cloud-console ci-cd docker manual-upload, Capistrano, Laravel Forge\n"
	    "deploy-method: \n"
	    "repository: \n"
	    "production-branch: \n"
	    "# The branch the fix is made on; a change freeze lets only it through\n"
	    "# (default hotfix/T-N).\n"
	    "emergency-branch: \n"
	    "staging-url: \n"
	    "# Where the logs are and who can read them.\n"
	    "log-access: \n"
	    "\n"
	    "# Is there a current backup?  What, where, when taken?\n"
	    "backup-status: \n"
	    "# How to undo a bad fix, in your words; e.g. restore-backup\n"
	    "#   revert-commit redeploy-previous switch-theme disable-plugin\n"
	    "#   restore-image rollback-migration restore-dns-cdn prepared-patch\n"
	    "rollback-method: \n"
	    "\n"
	    "# Who may approve production changes for this project.\n"
	    "approver-name: \n"
	    "approver-email: \n"
	    "# Maintenance window (UTC) and the client's time zone (for display).\n"
	    "window-start: \n"
	    "window-end: \n"
	    "timezone: \n");
}

static int
in_list(const char *v, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(v, *list) == 0)
			return 1;
	return 0;
}

static int
valid_url(const char *v)
{
	const char *p;

	if (strncmp(v, "https://", 8) == 0)
		p = v + 8;
	else if (strncmp(v, "http://", 7) == 0)
		p = v + 7;
	else
		return 0;
	if (*p == '\0' || *p == '/')
		return 0;
	for (; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == '"' || *p == '<' || *p == '>' || *p == '\\')
			return 0;
	return 1;
}

static int
valid_tz(const char *v)
{
	for (const char *p = v; *p; p++)
		if (!(isalnum((unsigned char)*p) || strchr("/_+-", *p)))
			return 0;
	return *v != '\0';
}

/*
 * One more problem with the form d (see bg_fail_add): "line N: field 'k':
 * what 'value'".  *np counts them.
 */
static int
field_fail(bg_error *e, int *np, const kv_doc *d, const char *key, const char *fmt,
    const char *v)
{
	size_t line = kv_line(d, key);
	char what[64];

	if (line)
		snprintf(what, sizeof(what), "line %zu: ", line);
	else
		what[0] = '\0';
	if ((*np)++ == 0)
		return bg_fail(e, BG_ERR_INVALID, "%sfield '%s': %s%s%.80s%s", what, key, fmt,
		    v ? " '" : "", v ? v : "", v ? "'" : "");
	return bg_fail_add(e, BG_ERR_INVALID, "%sfield '%s': %s%s%.80s%s", what, key, fmt,
	    v ? " '" : "", v ? v : "", v ? "'" : "");
}

/* What is wrong with a time field's value v (NULL: nothing). */
static const char *
time_problem(const char *v)
{
	int64_t t;

	if (utc_parse_human(v, &t) == 0)
		return NULL;
	{
		char z[64];

		/* the same with a zone would do: say that the zone is missing */
		snprintf(z, sizeof(z), "%.40sZ", v);
		if (utc_parse_human(z, &t) == 0)
			return "has no zone; add Z for UTC or the offset, like " UTC_HUMAN_EXAMPLE ", not";
	}
	return "must be a time with its zone, like " UTC_HUMAN_EXAMPLE ", not";
}

/* The known name of a method typed as people write it ("GitHub Actions"), or NULL. */
static const char *
known_method(const char *v, const char *const *list)
{
	char k[64];
	size_t i;

	for (i = 0; v[i] && i + 1 < sizeof(k); i++)
		k[i] = v[i] == ' ' || v[i] == '_' ? '-' : (char)tolower((unsigned char)v[i]);
	if (v[i] != '\0')
		return NULL;
	k[i] = '\0';
	for (; *list; list++)
		if (strcmp(k, *list) == 0)
			return *list;
	return NULL;
}

int
ticket_normalise(kv_doc *d)
{
	static const char *const times[] = { "started", "window-start", "window-end", NULL };
	const char *v, *known;
	int64_t t;
	int r;

	for (size_t i = 0; times[i]; i++) {
		char u[UTC_STRLEN];

		if ((v = kv_get(d, times[i])) == NULL || utc_parse_human(v, &t) != 0)
			continue;
		utc_format(t, u);
		if (strcmp(u, v) != 0 && (r = kv_set(d, ticket_schema, times[i], u, NULL)) != 0)
			return r;
	}
	if ((v = kv_get(d, "deploy-method")) != NULL &&
	    (known = known_method(v, deploy_methods)) != NULL && strcmp(known, v) != 0 &&
	    (r = kv_set(d, ticket_schema, "deploy-method", known, NULL)) != 0)
		return r;
	if ((v = kv_get(d, "rollback-method")) != NULL &&
	    (known = known_method(v, rollback_methods)) != NULL && strcmp(known, v) != 0 &&
	    (r = kv_set(d, ticket_schema, "rollback-method", known, NULL)) != 0)
		return r;
	return 0;
}

const char *
ticket_rollback_method(const char *v)
{
	return known_method(v, rollback_methods);
}

/* Every problem of d after the np already in e; 0 when there are none. */
static int
validate(const kv_doc *d, bg_error *e, int np, int missing_reported)
{
	static const char *const times[] = { "started", "window-start", "window-end", NULL };
	const char *v, *why;
	int64_t ws = 0, we = 0;
	size_t i;
	int np0 = np;

	if ((v = kv_get(d, "project")) == NULL ? !missing_reported : !text_is_ident(v, 64))
		field_fail(e, &np, d, "project", v ? "must be a project name ([A-Za-z0-9._-])" :
		    "is missing", v);
	if ((v = kv_get(d, "requester")) == NULL ? !missing_reported : !text_is_email(v))
		field_fail(e, &np, d, "requester", v ? "must be an email address like "
		    "dev@agency.example, not" : "is missing", v);
	if ((v = kv_get(d, "approver-email")) != NULL && !text_is_email(v))
		field_fail(e, &np, d, "approver-email", "must be an email address like "
		    "owner@shop.example, not", v);
	if (kv_get(d, "started") == NULL && !missing_reported)
		field_fail(e, &np, d, "started", "is missing", NULL);
	for (i = 0; times[i]; i++)
		if ((v = kv_get(d, times[i])) != NULL && (why = time_problem(v)) != NULL)
			field_fail(e, &np, d, times[i], why, v);
	if ((v = kv_get(d, "production-url")) != NULL && !valid_url(v))
		field_fail(e, &np, d, "production-url", "must be an http(s) URL like "
		    "https://shop.example, not", v);
	if ((v = kv_get(d, "staging-url")) != NULL && !valid_url(v))
		field_fail(e, &np, d, "staging-url", "must be an http(s) URL like "
		    "https://staging.shop.example, not", v);
	if ((v = kv_get(d, "window-start")) != NULL)
		utc_parse_human(v, &ws);
	if ((v = kv_get(d, "window-end")) != NULL)
		utc_parse_human(v, &we);
	if (ws && we && we <= ws)
		field_fail(e, &np, d, "window-end", "must be after window-start", NULL);
	if ((v = kv_get(d, "timezone")) != NULL && !valid_tz(v))
		field_fail(e, &np, d, "timezone", "must be a zone name like Europe/Berlin, not", v);
	for (i = 0; i < d->n; i++) {
		char what[64];
		bg_error se;

		if (!in_list(d->items[i].key, free_text))
			continue;
		if (d->items[i].line)
			snprintf(what, sizeof(what), "line %zu: field '%s'", d->items[i].line,
			    d->items[i].key);
		else
			snprintf(what, sizeof(what), "field '%s'", d->items[i].key);
		bg_error_clear(&se);
		if (scan_refuse(what, d->items[i].value, strlen(d->items[i].value), &se) != 0) {
			/* a secret outranks the form's other problems: it alone is reported */
			if (e != NULL)
				*e = se;
			return BG_ERR_SECRET;
		}
	}
	return np > np0 ? BG_ERR_INVALID : 0;
}

int
ticket_validate(const kv_doc *d, bg_error *e)
{
	return validate(d, e, 0, 0);
}

int
ticket_canonical(const kv_doc *d, buf *out)
{
	const kv_key *k;
	size_t i;
	int r;

	for (k = ticket_schema; k->name; k++) {
		for (i = 0; i < d->n; i++) {
			const char *v, *nl;

			if (strcmp(d->items[i].key, k->name) != 0)
				continue;
			if ((r = buf_printf(out, "%s: ", k->name)) != 0)
				return r;
			for (v = d->items[i].value; (nl = strchr(v, '\n')) != NULL; v = nl + 1)
				if ((r = buf_append(out, v, (size_t)(nl - v))) != 0 ||
				    (r = buf_puts(out, "\n  ")) != 0)
					return r;
			if ((r = buf_printf(out, "%s\n", v)) != 0)
				return r;
		}
	}
	return 0;
}

int
ticket_parse(const char *text, size_t len, kv_doc *out, bg_error *e)
{
	int r, r2, np = 0;

	r = kv_parse_partial(text, len, ticket_schema, out, e);
	if (r != 0 && r != BG_ERR_INVALID && r != BG_ERR_TOOLARGE) {
		kv_doc_release(out);
		return r;
	}
	if (r != 0 && e != NULL) {
		const char *p = e->msg;

		for (np = 1; (p = strchr(p, '\n')) != NULL; p++)
			np++;
	}
	/* the form's problems, with the key/value ones, all at once */
	if ((r2 = ticket_normalise(out)) != 0 || (r2 = validate(out, e, np, 1)) != 0)
		r = r2 == BG_ERR_SECRET || r == 0 ? r2 : r;
	if (r != 0)
		kv_doc_release(out);
	return r;
}

int
ticket_parse_id(const char *s, int64_t *id)
{
	return grantscope_parse_id(s, 'T', id);
}

static int
project_exists(home *h, const char *name, bg_error *e)
{
	sqlite3_stmt *st;
	int r, rc;

	if ((r = store_prepare(h->st, "SELECT 1 FROM projects WHERE name = ?", &st, e)) != 0)
		return r;
	store_bind_text(st, 1, name);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return 0;
	if (rc == SQLITE_DONE)
		return bg_fail(e, BG_ERR_NOTFOUND,
		    "project '%s' is not registered (breakglass project add %s)", name, name);
	return store_fail(h->st, e, "cannot look up project");
}

static void
summary_of(const char *broken, char *out, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n && broken[i] && broken[i] != '\n'; i++)
		out[i] = broken[i];
	out[i] = '\0';
	if (i + 1 == n && n > 4)
		memcpy(out + n - 4, "...", 4);
}

/* BG_ERR_EXISTS naming the open ticket with the same intake hash, if any. */
static int
open_duplicate(home *h, const char *hash, bg_error *e)
{
	sqlite3_stmt *st;
	int r, rc;

	if ((r = store_prepare(h->st, "SELECT id, created FROM tickets WHERE intake_hash = ? AND "
	    "status = 'open' ORDER BY id LIMIT 1", &st, e)) != 0)
		return r;
	store_bind_text(st, 1, hash);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t other = sqlite3_column_int64(st, 0);
		char when[UTC_STRLEN];

		utc_format(sqlite3_column_int64(st, 1), when);
		r = bg_fail(e, BG_ERR_EXISTS, "this intake is already open as T-%lld (opened %s); "
		    "add to that ticket (breakglass ticket comment T-%lld ...), or open a second one "
		    "with --duplicate", (long long)other, when, (long long)other);
	} else if (rc != SQLITE_DONE) {
		r = store_fail(h->st, e, "cannot look up open tickets");
	}
	sqlite3_finalize(st);
	return r;
}

int
ticket_open(home *h, const kv_doc *d, int duplicate, int64_t *id, bg_error *e)
{
	buf canon, detail;
	json j;
	sqlite3_stmt *st = NULL;
	char hash[HASH_HEXLEN], summary[121];
	int r;

	*id = 0;
	buf_init(&canon, KV_MAX_INPUT);
	buf_init(&detail, 4096);
	if ((r = ticket_validate(d, e)) != 0 || (r = ticket_canonical(d, &canon)) != 0)
		goto out;
	hash_sha256_hex(canon.data, canon.len, hash);
	summary_of(kv_get(d, "broken"), summary, sizeof(summary));
	if ((r = home_begin(h, e)) != 0)
		goto out;
	if ((r = users_require(h, USERS_ROLE_RESPONDER, "open tickets", e)) != 0)
		goto abort;
	/* the requester is who opened it: a local admin (root on the broker
	 * host) may open one for someone else, a user only for themselves */
	if (h->actor_user != 0 && strcasecmp(kv_get(d, "requester"), h->actor) != 0) {
		r = bg_fail(e, BG_ERR_PERM, "the intake names requester '%.64s', but you are '%s': "
		    "the requester is who opens the ticket (leave the line out and it is filled in)",
		    kv_get(d, "requester"), h->actor);
		goto abort;
	}
	if ((r = project_exists(h, kv_get(d, "project"), e)) != 0 ||
	    (!duplicate && (r = open_duplicate(h, hash, e)) != 0))
		goto abort;
	/* the approver the intake names is a user: one of the project's approvers */
	if (kv_get(d, "approver-email") != NULL) {
		int n = 0;

		if ((r = store_prepare(h->st, "SELECT count(*) FROM approvers WHERE project = ? AND "
		    "lower(principal) = lower(?) AND removed IS NULL", &st, e)) != 0)
			goto abort;
		store_bind_text(st, 1, kv_get(d, "project"));
		store_bind_text(st, 2, kv_get(d, "approver-email"));
		if (sqlite3_step(st) == SQLITE_ROW)
			n = sqlite3_column_int(st, 0);
		sqlite3_finalize(st);
		st = NULL;
		if (n == 0) {
			r = bg_fail(e, BG_ERR_PERM, "approver-email '%.64s' is not an approver of project "
			    "'%s' (an admin adds them with 'breakglass approver add')",
			    kv_get(d, "approver-email"), kv_get(d, "project"));
			goto abort;
		}
	}
	if ((r = store_prepare(h->st, "INSERT INTO tickets (project, requester, summary, "
	    "intake, intake_hash, status, created, opened_by) VALUES (?, ?, ?, ?, ?, 'open', ?, ?)",
	    &st, e)) != 0)
		goto abort;
	store_bind_text(st, 7, h->actor);
	store_bind_text(st, 1, kv_get(d, "project"));
	store_bind_text(st, 2, kv_get(d, "requester"));
	store_bind_text(st, 3, summary);
	store_bind_text(st, 4, canon.data);
	store_bind_text(st, 5, hash);
	store_bind_int(st, 6, h->now);
	if (sqlite3_step(st) != SQLITE_DONE) {
		r = store_fail(h->st, e, "cannot store ticket");
		goto abort;
	}
	*id = sqlite3_last_insert_rowid(h->st->db);
	json_init(&j, &detail);
	json_obj_begin(&j);
	json_kv_str(&j, "project", kv_get(d, "project"));
	json_kv_str(&j, "requester", kv_get(d, "requester"));
	json_kv_str(&j, "summary", summary);
	json_kv_str(&j, "intake_sha256", hash);
	json_obj_end(&j);
	if ((r = home_commit_json(h, "ticket.open", *id, &j, e)) != 0) {
		*id = 0;
		goto abort;
	}
	goto out;
abort:
	home_abort(h);
out:
	sqlite3_finalize(st);
	buf_release(&canon);
	buf_release(&detail);
	return r;
}

void
ticket_free(ticket *t)
{
	if (t == NULL)
		return;
	free(t->project);
	free(t->requester);
	free(t->summary);
	free(t->status);
	free(t->close_note);
	free(t->intake);
	kv_doc_release(&t->fields);
	free(t);
}

int
ticket_load(home *h, int64_t id, ticket **out, bg_error *e)
{
	sqlite3_stmt *st;
	ticket *t;
	int r, rc;

	*out = NULL;
	if ((r = store_prepare(h->st, "SELECT project, requester, summary, status, created, "
	    "closed, close_note, intake, intake_hash FROM tickets WHERE id = ?", &st, e)) != 0)
		return r;
	store_bind_int(st, 1, id);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_finalize(st);
		if (rc == SQLITE_DONE)
			return bg_fail(e, BG_ERR_NOTFOUND, "no ticket 'T-%lld'", (long long)id);
		return store_fail(h->st, e, "cannot read ticket");
	}
	if ((t = calloc(1, sizeof(*t))) == NULL) {
		sqlite3_finalize(st);
		return BG_ERR_NOMEM;
	}
	t->id = id;
	t->project = store_col_dup(st, 0);
	t->requester = store_col_dup(st, 1);
	t->summary = store_col_dup(st, 2);
	t->status = store_col_dup(st, 3);
	t->created = sqlite3_column_int64(st, 4);
	t->closed = sqlite3_column_int64(st, 5);
	t->close_note = store_col_dup(st, 6);
	t->intake = store_col_dup(st, 7);
	snprintf(t->intake_hash, sizeof(t->intake_hash), "%s", store_col_text(st, 8));
	sqlite3_finalize(st);
	if (!t->project || !t->requester || !t->summary || !t->status || !t->intake) {
		ticket_free(t);
		return BG_ERR_NOMEM;
	}
	if ((r = kv_parse(t->intake, strlen(t->intake), ticket_schema, &t->fields, e)) != 0) {
		ticket_free(t);
		return bg_fail(e, BG_ERR_CORRUPT, "stored intake of T-%lld is corrupt",
		    (long long)id);
	}
	*out = t;
	return 0;
}

int
ticket_require_open(const ticket *t, bg_error *e)
{
	if (strcmp(t->status, "open") != 0)
		return bg_fail(e, BG_ERR_STATE, "ticket 'T-%lld' is %s", (long long)t->id,
		    t->status);
	return 0;
}

int
ticket_require_party(home *h, const ticket *t, const char *what, bg_error *e)
{
	sqlite3_stmt *st;
	int r, yes;

	if ((h->actor_roles & (USERS_ROLE_ADMIN | USERS_ROLE_RESPONDER | USERS_ROLE_OPERATOR)) ||
	    (t->requester != NULL && strcasecmp(h->actor, t->requester) == 0))
		return 0;
	if ((r = store_prepare(h->st, "SELECT 1 FROM approvers WHERE project = ? AND "
	    "principal = ? COLLATE NOCASE AND removed IS NULL", &st, e)) != 0)
		return r;
	store_bind_text(st, 1, t->project);
	store_bind_text(st, 2, h->actor);
	yes = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	if (yes)
		return 0;
	return bg_fail(e, BG_ERR_PERM, "only T-%lld's requester, a responder, an operator, an "
	    "admin or an approver of project '%s' may %s; '%s' is none of them", (long long)t->id,
	    t->project, what, h->actor);
}

int
ticket_load_for_change(home *h, int64_t id, const char *what, ticket **out, bg_error *e)
{
	ticket *t = NULL;
	int r;

	*out = NULL;
	if ((r = ticket_load(h, id, &t, e)) != 0 || (r = ticket_require_open(t, e)) != 0 ||
	    (r = ticket_require_party(h, t, what, e)) != 0) {
		ticket_free(t);
		return r;
	}
	*out = t;
	return 0;
}

int
ticket_set(home *h, int64_t id, const char *key, const char *value, bg_error *e)
{
	ticket *t = NULL;
	buf canon, detail;
	json j;
	sqlite3_stmt *st = NULL;
	char hash[HASH_HEXLEN], summary[121];
	int r;

	buf_init(&canon, KV_MAX_INPUT);
	buf_init(&detail, 4096);
	if (strcmp(key, "project") == 0 || strcmp(key, "requester") == 0)
		return bg_fail(e, BG_ERR_INVALID, "field '%s' cannot change after opening", key);
	if ((r = home_begin(h, e)) != 0)
		goto out;
	if ((r = ticket_load_for_change(h, id, "change its intake", &t, e)) != 0)
		goto abort;
	if ((r = kv_set(&t->fields, ticket_schema, key, value, e)) != 0 ||
	    (r = ticket_normalise(&t->fields)) != 0 || (r = ticket_validate(&t->fields, e)) != 0)
		goto abort;
	if (kv_get(&t->fields, "broken") == NULL || kv_get(&t->fields, "system") == NULL ||
	    kv_get(&t->fields, "started") == NULL) {
		r = bg_fail(e, BG_ERR_INVALID, "field '%s' is required", key);
		goto abort;
	}
	if ((r = ticket_canonical(&t->fields, &canon)) != 0)
		goto abort;
	hash_sha256_hex(canon.data, canon.len, hash);
	summary_of(kv_get(&t->fields, "broken"), summary, sizeof(summary));
	if ((r = store_prepare(h->st, "UPDATE tickets SET intake = ?, intake_hash = ?, "
	    "summary = ? WHERE id = ?", &st, e)) != 0)
		goto abort;
	store_bind_text(st, 1, canon.data);
	store_bind_text(st, 2, hash);
	store_bind_text(st, 3, summary);
	store_bind_int(st, 4, id);
	if (sqlite3_step(st) != SQLITE_DONE) {
		r = store_fail(h->st, e, "cannot update ticket");
		goto abort;
	}
	json_init(&j, &detail);
	json_obj_begin(&j);
	json_kv_str(&j, "field", key);
	json_kv_str(&j, "intake_sha256", hash);
	json_obj_end(&j);
	if ((r = home_commit_json(h, "ticket.update", id, &j, e)) != 0)
		goto abort;
	goto out;
abort:
	home_abort(h);
out:
	sqlite3_finalize(st);
	ticket_free(t);
	buf_release(&canon);
	buf_release(&detail);
	return r;
}

int
ticket_comment(home *h, int64_t id, const char *body, bg_error *e)
{
	ticket *t = NULL;
	sqlite3_stmt *st = NULL;
	buf detail;
	json j;
	size_t n = strlen(body);
	int r;

	buf_init(&detail, 1024);
	if (n == 0)
		return bg_fail(e, BG_ERR_INVALID, "empty comment");
	if ((r = scan_input("comment", body, 16384, 1, e)) != 0)
		return r;
	if ((r = home_begin(h, e)) != 0)
		goto out;
	if ((r = ticket_load_for_change(h, id, "comment on it", &t, e)) != 0)
		goto abort;
	if ((r = store_prepare(h->st, "INSERT INTO comments (ticket, author, time, body) "
	    "VALUES (?, ?, ?, ?)", &st, e)) != 0)
		goto abort;
	store_bind_int(st, 1, id);
	store_bind_text(st, 2, h->actor);
	store_bind_int(st, 3, h->now);
	store_bind_text(st, 4, body);
	if (sqlite3_step(st) != SQLITE_DONE) {
		r = store_fail(h->st, e, "cannot store comment");
		goto abort;
	}
	json_init(&j, &detail);
	json_obj_begin(&j);
	json_kv_int(&j, "comment", sqlite3_last_insert_rowid(h->st->db));
	json_kv_int(&j, "bytes", (int64_t)n);
	json_obj_end(&j);
	if ((r = home_commit_json(h, "ticket.comment", id, &j, e)) != 0)
		goto abort;
	goto out;
abort:
	home_abort(h);
out:
	sqlite3_finalize(st);
	ticket_free(t);
	buf_release(&detail);
	return r;
}
