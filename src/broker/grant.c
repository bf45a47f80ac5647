/*
 * grant.c - grant requests, approval, activation, revocation, expiry.
 */
#include "grant.h"
#include "consent.h"
#include "pgrole.h"
#include "approval.h"
#include "cert.h"
#include "argv.h"
#include "fileio.h"
#include "hash.h"
#include "json.h"
#include "proc.h"
#include "project.h"
#include "scan.h"
#include "text.h"
#include "utc.h"
#include "users.h"
#include "steps.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The fields of a grant request, shared by the request and the scope a
 * certificate carries (which adds ticket, grant and approved artifacts). */
/* Which kinds each field applies to (others: refused). */
static const struct {
	const char *field;
	const char *kinds;
} applies[] = {
	{ "tier", " ssh " },
	{ "read", " ssh sftp " },
	{ "write", " ssh sftp " },
	{ "command", " ssh " },
	{ "sudo", " ssh " },
	{ "sudo-intercept", " ssh " },
	{ "source-address", " ssh sftp " },
	{ "engine", " db " },
	{ "database", " db " },
	{ "schema", " db " },
	{ "table", " db " },
	{ "superuser", " db " },
	{ "branch", " repo " },
	{ "bypass-protection", " repo " },
	{ "role", " cms cloud manual db repo " },
	{ "resource", " cloud " },
	{ "access", " db repo cms cloud manual " },
	{ "granted-by", " manual " },
	{ NULL, NULL }
};

static const char *const kinds[] = {
	"ssh", "db", "repo", "sftp", "cms", "cloud", "manual", NULL
};

static int
one_of(const char *v, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(v, *list) == 0)
			return 1;
	return 0;
}

int
grant_parse_id(const char *s, int64_t *id)
{
	return grantscope_parse_id(s, 'G', id);
}

int
grant_validate(const kv_doc *d, int *writes, int64_t *ttl, bg_error *e)
{
	const char *kind = kv_get(d, "kind"), *v;
	char pad[24];
	size_t i, k, bad;
	int r;

	*writes = 0;
	*ttl = 0;
	if (kind == NULL || !one_of(kind, kinds))
		return bg_fail(e, BG_ERR_INVALID, "kind must be one of ssh, db, repo, sftp, cms, "
		    "cloud, manual");
	snprintf(pad, sizeof(pad), " %s ", kind);
	for (i = 0; i < d->n; i++) {
		const char *f = d->items[i].key, *val = d->items[i].value;

		for (k = 0; applies[k].field; k++)
			if (strcmp(applies[k].field, f) == 0 && strstr(applies[k].kinds, pad) == NULL)
				return bg_fail(e, BG_ERR_INVALID, "'%s' does not apply to %s grants",
				    f, kind);
		if (text_check(val, strlen(val), 0, &bad) != 0)
			return bg_fail(e, BG_ERR_INVALID, "'%s': control character or invalid UTF-8",
			    f);
		if (strcmp(f, "command") == 0 || strcmp(f, "sudo") == 0 ||
		    strcmp(f, "sudo-intercept") == 0) {
			int priv = strcmp(f, "command") != 0;
			argv_list a;
			bg_error tmp;

			if (argv_split(val, &a, &tmp) != 0 || a.n == 0) {
				r = bg_fail(e, BG_ERR_INVALID, "%s '%.200s': %s", f, val,
				    a.n == 0 && tmp.msg[0] == '\0' ? "empty" : tmp.msg);
				argv_release(&a);
				return r;
			}
			/* sudoers matches arguments as one space-joined string: only
			 * arguments that cannot blur into each other can be exact */
			for (size_t x = 0; priv && x < a.n; x++) {
				if (a.v[x][0] == '\0' || strspn(a.v[x], "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				    "abcdefghijklmnopqrstuvwxyz0123456789._/@%+=:,-") != strlen(a.v[x])) {
					argv_release(&a);
					return bg_fail(e, BG_ERR_INVALID, "%s '%.200s': privileged command "
					    "arguments may only use letters, digits and ._/@%%+=:,-", f, val);
				}
			}
			argv_release(&a);
		}
		if ((strcmp(f, "read") == 0 || strcmp(f, "write") == 0) && val[0] != '/')
			return bg_fail(e, BG_ERR_INVALID, "%s '%.200s' must be an absolute path", f, val);
		if (strcmp(f, "account") == 0 && !text_is_ident(val, 64))
			return bg_fail(e, BG_ERR_INVALID, "account '%.64s' must be [A-Za-z0-9._-]", val);
		if (strcmp(f, "system") == 0 && !text_is_ident(val, 128))
			return bg_fail(e, BG_ERR_INVALID, "system '%.64s' must be [A-Za-z0-9._-] "
			    "(the name registered for the project)", val);
		{
			/* every field: commands and paths reach the audit log too */
			char what[32];

			snprintf(what, sizeof(what), "'%s'", f);
			if ((r = scan_refuse(what, val, strlen(val), e)) != 0)
				return r;
		}
	}
	if ((v = kv_get(d, "ttl")) == NULL || utc_parse_duration(v, ttl) != 0)
		return bg_fail(e, BG_ERR_INVALID, "ttl must be a duration like 90m or 2h");
	if ((v = kv_get(d, "tier")) != NULL && !one_of(v, (const char *const[]){ "read", "plan",
	    "shell", NULL }))
		return bg_fail(e, BG_ERR_INVALID, "tier must be read, plan or shell");
	if ((v = kv_get(d, "access")) != NULL && !one_of(v, (const char *const[]){ "read-only",
	    "read-write", NULL }))
		return bg_fail(e, BG_ERR_INVALID, "access must be read-only or read-write");
	if ((v = kv_get(d, "engine")) != NULL && !one_of(v, (const char *const[]){ "postgresql",
	    "mysql", "mariadb", "sqlite", "mongodb", "redis", "other", NULL }))
		return bg_fail(e, BG_ERR_INVALID, "engine must be postgresql, mysql, mariadb, sqlite, "
		    "mongodb, redis or other");
	if ((v = kv_get(d, "superuser")) != NULL && !one_of(v, (const char *const[]){ "yes",
	    "no", NULL }))
		return bg_fail(e, BG_ERR_INVALID, "superuser must be yes or no");
	if ((v = kv_get(d, "bypass-protection")) != NULL && !one_of(v, (const char *const[]){
	    "yes", "no", NULL }))
		return bg_fail(e, BG_ERR_INVALID, "bypass-protection must be yes or no");
	if ((v = kv_get(d, "source-address")) != NULL && strspn(v, "0123456789abcdefABCDEF.:/,") !=
	    strlen(v))
		return bg_fail(e, BG_ERR_INVALID, "source-address must be a comma-separated list of "
		    "addresses or CIDR blocks");
	if (strcmp(kind, "manual") == 0 && kv_get(d, "granted-by") == NULL)
		return bg_fail(e, BG_ERR_INVALID, "a manual grant names who grants it (granted-by)");
	if (strcmp(kind, "db") == 0 && kv_get(d, "database") == NULL)
		return bg_fail(e, BG_ERR_INVALID, "a db grant names the database");
	for (size_t t = 0; t < d->n; t++) {
		/* the host makes the role's privileges from these names */
		dbgrant g;
		bg_error ignored;

		if (strcmp(d->items[t].key, "table") != 0)
			continue;
		memset(&g, 0, sizeof(g));
		if (strchr(d->items[t].value, ',') != NULL ||
		    pgrole_grant_tables(&g, d->items[t].value, &ignored) != 0)
			return bg_fail(e, BG_ERR_INVALID, "table '%.64s' must be schema.table (or "
			    "table, in schema public) in lower-case letters, digits and '_'",
			    d->items[t].value);
	}
	if (strcmp(kind, "ssh") == 0) {
		const char *tier = kv_get(d, "tier");

		if (tier == NULL)
			tier = "read";
		if (strcmp(tier, "plan") == 0 && kv_get(d, "write") == NULL)
			return bg_fail(e, BG_ERR_INVALID, "tier plan needs at least one write directory");
		if (strcmp(tier, "read") == 0 && kv_get(d, "read") == NULL &&
		    kv_get(d, "command") == NULL && kv_get(d, "sudo") == NULL &&
		    kv_get(d, "sudo-intercept") == NULL)
			return bg_fail(e, BG_ERR_INVALID, "a read grant names directories (read) or "
			    "commands to allow");
	}
	/* the same rule the host applies to a certificate's scope */
	*writes = grantscope_writes(d);
	return 0;
}

int
grant_canonical(const kv_doc *d, buf *out)
{
	const kv_key *k;
	size_t i;
	int r;

	for (k = grantscope_request_schema; k->name; k++)
		for (i = 0; i < d->n; i++)
			if (strcmp(d->items[i].key, k->name) == 0 &&
			    (r = buf_printf(out, "%s: %s\n", k->name, d->items[i].value)) != 0)
				return r;
	return 0;
}

int
grant_load_policy(home *h, const char *proj, policy *p, bg_error *e)
{
	buf path, text;
	int r;

	memset(p, 0, sizeof(*p));
	buf_init(&path, 4096);
	buf_init(&text, 1024 * 1024);
	if ((r = home_path(h, "policy.rules", &path)) != 0)
		goto out;
	if ((r = fileio_read(path.data, text.max, &text, e)) != 0) {
		r = bg_fail(e, BG_ERR_CORRUPT, "policy '%s' is missing or unreadable: refusing",
		    path.data);
		goto out;
	}
	if ((r = policy_parse(p, buf_cstr(&text), text.len, path.data, e)) != 0) {
		r = BG_ERR_CORRUPT; /* an unusable policy refuses everything */
		goto out;
	}
	buf_reset(&path);
	buf_reset(&text);
	if ((r = buf_printf(&path, "%s/policy.d/%s.rules", h->dir, proj)) != 0)
		goto out;
	r = fileio_read(path.data, text.max, &text, NULL);
	if (r == BG_ERR_NOTFOUND) {
		r = 0;
	} else if (r != 0) {
		r = bg_fail(e, BG_ERR_CORRUPT, "cannot read '%s': refusing", path.data);
	} else {
		if (policy_parse(p, buf_cstr(&text), text.len, path.data, e) != 0)
			r = BG_ERR_CORRUPT;
	}
out:
	if (r != 0)
		policy_release(p);
	buf_release(&path);
	buf_release(&text);
	return r;
}

static int
check_policy(home *h, const ticket *t, const kv_doc *d, int writes, policy_verdict *v,
    bg_error *e)
{
	project *pr = NULL;
	policy pol;
	policy_ctx ctx;
	int r;

	if ((r = project_load(h, t->project, &pr, e)) != 0)
		return r;
	if ((r = grant_load_policy(h, t->project, &pol, e)) != 0) {
		project_free(pr);
		return r;
	}
	memset(&ctx, 0, sizeof(ctx));
	ctx.kind = kv_get(d, "kind");
	ctx.writes = writes;
	ctx.systems = (const char *const *)pr->systems;
	ctx.nsystems = pr->nsystems;
	r = policy_check_request(&pol, d, &ctx, v, e);
	policy_release(&pol);
	project_free(pr);
	return r;
}

static int
audit_refusal(home *h, int64_t tid, const kv_doc *d, const policy_verdict *v)
{
	buf detail;
	json j;
	bg_error e2;
	size_t i;
	int r;

	buf_init(&detail, 16384);
	json_init(&j, &detail);
	json_obj_begin(&j);
	json_kv_str(&j, "kind", kv_get(d, "kind"));
	json_kv_str(&j, "system", kv_get(d, "system"));
	json_key(&j, "rules");
	json_arr_begin(&j);
	for (i = 0; i < v->n; i++)
		json_str(&j, v->v[i].rule);
	json_arr_end(&j);
	json_obj_end(&j);
	if ((r = json_error(&j)) == 0 && (r = home_begin(h, &e2)) == 0) {
		if ((r = home_record(h, "grant.refuse", tid, detail.data, &e2)) == 0)
			r = home_commit(h, &e2);
		else
			home_abort(h);
	}
	buf_release(&detail);
	return r;
}

int
grant_request(home *h, int64_t tid, const kv_doc *d, int64_t *id, policy_verdict *v,
    bg_error *e)
{
	ticket *t = NULL;
	buf canon, detail;
	sqlite3_stmt *st = NULL;
	json j;
	char hash[65];
	int64_t ttl;
	int writes, r;

	*id = 0;
	memset(v, 0, sizeof(*v));
	buf_init(&canon, 64 * 1024);
	buf_init(&detail, 16384);
	if ((r = grant_validate(d, &writes, &ttl, e)) != 0)
		return r;
	if ((r = ticket_load(h, tid, &t, e)) != 0 || (r = ticket_require_open(t, e)) != 0)
		goto out;
	if ((r = check_policy(h, t, d, writes, v, e)) != 0) {
		if (r == BG_ERR_POLICY)
			audit_refusal(h, tid, d, v);
		goto out;
	}
	if ((r = grant_canonical(d, &canon)) != 0)
		goto out;
	hash_sha256_hex(canon.data, canon.len, hash);
	if ((r = home_begin(h, e)) != 0)
		goto out;
	if ((r = users_require(h, USERS_ROLE_RESPONDER, "request grants", e)) != 0)
		goto abort;
	if ((r = store_prepare(h->st, "INSERT INTO grants (ticket, kind, spec, spec_hash, writes, "
	    "ttl, state, requested, requested_by) VALUES (?, ?, ?, ?, ?, ?, 'requested', ?, ?)",
	    &st, e)) != 0)
		goto abort;
	store_bind_int(st, 1, tid);
	store_bind_text(st, 2, kv_get(d, "kind"));
	store_bind_text(st, 3, canon.data);
	store_bind_text(st, 4, hash);
	store_bind_int(st, 5, writes);
	store_bind_int(st, 6, ttl);
	store_bind_int(st, 7, h->now);
	store_bind_text(st, 8, h->actor);
	if (sqlite3_step(st) != SQLITE_DONE) {
		r = store_fail(h->st, e, "cannot store grant");
		goto abort;
	}
	*id = sqlite3_last_insert_rowid(h->st->db);
	json_init(&j, &detail);
	json_obj_begin(&j);
	json_kv_int(&j, "grant", *id);
	json_kv_str(&j, "kind", kv_get(d, "kind"));
	json_kv_str(&j, "system", kv_get(d, "system"));
	json_kv_bool(&j, "writes", writes);
	json_kv_int(&j, "ttl_seconds", ttl);
	json_kv_str(&j, "spec_sha256", hash);
	json_kv_str(&j, "spec", canon.data);
	json_obj_end(&j);
	if ((r = home_record_json(h, "grant.request", tid, &j, e)) != 0 ||
	    (r = grant_refresh(h, t, e)) != 0 || (r = home_commit(h, e)) != 0)
		goto abort;
	goto out;
abort:
	*id = 0;
	home_abort(h);
out:
	sqlite3_finalize(st);
	ticket_free(t);
	buf_release(&canon);
	buf_release(&detail);
	return r;
}

void
grant_free(grant *g)
{
	if (g == NULL)
		return;
	free(g->spec);
	free(g->requested_by);
	free(g->ended_by);
	free(g->end_reason);
	free(g->revocation_confirmed);
	kv_doc_release(&g->fields);
	free(g);
}

int
grant_load(home *h, int64_t id, grant **out, bg_error *e)
{
	sqlite3_stmt *st;
	grant *g;
	int r, rc;

	*out = NULL;
	if ((r = store_prepare(h->st, "SELECT ticket, kind, spec, spec_hash, writes, ttl, state, "
	    "requested, requested_by, approved, approved_via, not_before, not_after, ended, "
	    "ended_by, end_reason, revocation_confirmed FROM grants WHERE id = ?", &st, e)) != 0)
		return r;
	store_bind_int(st, 1, id);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_finalize(st);
		if (rc == SQLITE_DONE)
			return bg_fail(e, BG_ERR_NOTFOUND, "no grant 'G-%lld'", (long long)id);
		return store_fail(h->st, e, "cannot read grant");
	}
	if ((g = calloc(1, sizeof(*g))) == NULL) {
		sqlite3_finalize(st);
		return BG_ERR_NOMEM;
	}
	g->id = id;
	g->ticket = sqlite3_column_int64(st, 0);
	snprintf(g->kind, sizeof(g->kind), "%s", store_col_text(st, 1));
	g->spec = store_col_dup(st, 2);
	snprintf(g->spec_hash, sizeof(g->spec_hash), "%s", store_col_text(st, 3));
	g->writes = sqlite3_column_int(st, 4);
	g->ttl = sqlite3_column_int64(st, 5);
	snprintf(g->state, sizeof(g->state), "%s", store_col_text(st, 6));
	g->requested = sqlite3_column_int64(st, 7);
	g->requested_by = store_col_dup(st, 8);
	g->approved = sqlite3_column_int64(st, 9);
	g->approved_via = sqlite3_column_int64(st, 10);
	g->not_before = sqlite3_column_int64(st, 11);
	g->not_after = sqlite3_column_int64(st, 12);
	g->ended = sqlite3_column_int64(st, 13);
	g->ended_by = store_col_dup(st, 14);
	g->end_reason = store_col_dup(st, 15);
	g->revocation_confirmed = store_col_dup(st, 16);
	sqlite3_finalize(st);
	if (g->spec == NULL || g->requested_by == NULL ||
	    kv_parse(g->spec, strlen(g->spec), grantscope_request_schema, &g->fields, e) != 0) {
		grant_free(g);
		return bg_fail(e, BG_ERR_CORRUPT, "stored grant G-%lld is corrupt", (long long)id);
	}
	*out = g;
	return 0;
}

const char *
grant_state_now(const grant *g, int64_t now)
{
	if (strcmp(g->state, "active") == 0 && now >= g->not_after)
		return "expired";
	return g->state;
}

/* The statement that approves g now (0: none), with why not in e. */
static int64_t
approving_statement(home *h, const ticket *t, const grant *g, const steps_gates *gt,
    bg_error *e)
{
	if (gt->confirm.statement == 0) {
		bg_fail(e, BG_ERR_GATE, "ticket 'T-%lld' has no valid signed confirmation: %s",
		    (long long)g->ticket, gt->confirm.why);
		return 0;
	}
	if (!g->writes)
		return gt->confirm.statement;
	if (!gt->backup_ok) {
		bg_fail(e, BG_ERR_GATE, "G-%lld can change production, but ticket 'T-%lld' has "
		    "no %s evidence and no signed risk acceptance: only read-only access until "
		    "then", (long long)g->id, (long long)g->ticket,
		    !gt->backup_recorded ? "backup" : "rollback");
		return 0;
	}
	if (gt->plan.statement == 0) {
		bg_fail(e, BG_ERR_GATE, "G-%lld can change production and needs an approved "
		    "fix plan: %s", (long long)g->id, gt->plan.why[0] ? gt->plan.why :
		    "no plan approval");
		return 0;
	}
	if (!approval_covers_grant(h, gt->plan.statement, g->id, g->spec_hash, e)) {
		char why[256];

		if (approval_grant_pending(h, t, g->id, g->spec_hash, why, sizeof(why), e)) {
			bg_fail(e, BG_ERR_GATE, "%s; the approved plan statement %lld does not list "
			    "it", why, (long long)gt->plan.statement);
			return 0;
		}
		bg_fail(e, BG_ERR_GATE, "the approved plan does not list G-%lld; issue a new plan "
		    "statement (breakglass approve T-%lld --statement --for plan) and have it signed",
		    (long long)g->id, (long long)g->ticket);
		return 0;
	}
	return gt->plan.statement;
}

int
grant_refresh(home *h, const ticket *t, bg_error *e)
{
	sqlite3_stmt *st = NULL, *up = NULL;
	steps_gates gt;
	int64_t ids[256];
	size_t n = 0, i;
	int r, rc;

	if ((r = steps_gates_now(h, t, &gt, e)) != 0)
		return r;
	if ((r = store_prepare(h->st, "SELECT id FROM grants WHERE ticket = ? AND state IN "
	    "('requested', 'approved') ORDER BY id", &st, e)) != 0)
		return r;
	store_bind_int(st, 1, t->id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < 256)
		ids[n++] = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if ((r = store_prepare(h->st, "UPDATE grants SET state = ?, approved = ?, approved_via = ? "
	    "WHERE id = ?", &up, e)) != 0)
		return r;
	for (i = 0; i < n && r == 0; i++) {
		grant *g = NULL;
		bg_error why;
		int64_t via;

		if ((r = grant_load(h, ids[i], &g, e)) != 0)
			break;
		via = approving_statement(h, t, g, &gt, &why);
		if ((via != 0) != (strcmp(g->state, "approved") == 0) ||
		    (via != 0 && via != g->approved_via)) {
			sqlite3_reset(up);
			store_bind_text(up, 1, via ? "approved" : "requested");
			if (via)
				store_bind_int(up, 2, h->now);
			else
				sqlite3_bind_null(up, 2);
			if (via)
				store_bind_int(up, 3, via);
			else
				sqlite3_bind_null(up, 3);
			store_bind_int(up, 4, g->id);
			if (sqlite3_step(up) != SQLITE_DONE)
				r = store_fail(h->st, e, "cannot update grant");
			else if (via) {
				char d[128];

				snprintf(d, sizeof(d), "{\"grant\":%lld,\"statement\":%lld}",
				    (long long)g->id, (long long)via);
				r = home_record(h, "grant.approve", t->id, d, e);
			}
		}
		grant_free(g);
	}
	sqlite3_finalize(up);
	return r;
}

int
grant_activate(home *h, int64_t id, bg_error *e)
{
	grant *g = NULL;
	ticket *t = NULL;
	steps_gates gt;
	policy_verdict v;
	sqlite3_stmt *st = NULL;
	buf detail;
	json j;
	int64_t via, nb, na, wend = 0;
	const char *we;
	int r;

	buf_init(&detail, 4096);
	if ((r = home_begin(h, e)) != 0)
		return r;
	if ((r = grant_load(h, id, &g, e)) != 0 || (r = ticket_load(h, g->ticket, &t, e)) != 0 ||
	    (r = ticket_require_open(t, e)) != 0)
		goto abort;
	if (strcmp(g->state, "requested") != 0 && strcmp(g->state, "approved") != 0) {
		r = bg_fail(e, BG_ERR_STATE, "grant 'G-%lld' is %s", (long long)id,
		    grant_state_now(g, h->now));
		goto abort;
	}
	if ((r = steps_gates_now(h, t, &gt, e)) != 0)
		goto abort;
	if ((via = approving_statement(h, t, g, &gt, e)) == 0) {
		r = BG_ERR_GATE;
		goto abort;
	}
	/* the policy may have been tightened since the request: check again */
	if ((r = check_policy(h, t, &g->fields, g->writes, &v, e)) != 0)
		goto abort;
	nb = h->now;
	na = nb + g->ttl;
	if ((we = kv_get(&t->fields, "window-end")) != NULL && utc_parse(we, &wend) == 0) {
		if (wend <= nb) {
			r = bg_fail(e, BG_ERR_EXPIRED, "the maintenance window of 'T-%lld' ended at %s",
			    (long long)t->id, we);
			goto abort;
		}
		if (wend < na)
			na = wend;
	}
	{
		approval_state *as = g->writes ? &gt.plan : &gt.confirm;

		/* activation needs the approval to be valid now; the grant's own
		 * clock then runs independently of the approval's */
		if (as->valid_until <= nb) {
			r = bg_fail(e, BG_ERR_EXPIRED, "approval of 'G-%lld' has expired",
			    (long long)id);
			goto abort;
		}
	}
	if ((r = store_prepare(h->st, "UPDATE grants SET state = 'active', approved = "
	    "coalesce(approved, ?1), approved_via = ?2, not_before = ?1, not_after = ?3 "
	    "WHERE id = ?4 AND state IN ('requested', 'approved')", &st, e)) != 0)
		goto abort;
	store_bind_int(st, 1, nb);
	store_bind_int(st, 2, via);
	store_bind_int(st, 3, na);
	store_bind_int(st, 4, id);
	if (sqlite3_step(st) != SQLITE_DONE || sqlite3_changes(h->st->db) != 1) {
		r = store_fail(h->st, e, "cannot activate grant");
		goto abort;
	}
	g->not_before = nb;
	g->not_after = na;
	if ((r = grant_sudoers_install(h, g, e)) != 0)
		goto abort;
	json_init(&j, &detail);
	json_obj_begin(&j);
	json_kv_int(&j, "grant", id);
	json_kv_int(&j, "statement", via);
	json_kv_time(&j, "not_before", nb);
	json_kv_time(&j, "not_after", na);
	json_kv_bool(&j, "writes", g->writes);
	json_obj_end(&j);
	if ((r = home_commit_json(h, "grant.activate", t->id, &j, e)) != 0)
		goto abort;
	goto out;
abort:
	home_abort(h);
out:
	sqlite3_finalize(st);
	grant_free(g);
	ticket_free(t);
	buf_release(&detail);
	return r;
}

int
grant_revoke(home *h, int64_t id, const char *reason, const char *confirm, bg_error *e)
{
	grant *g = NULL;
	sqlite3_stmt *st = NULL;
	buf detail;
	json j;
	const char *now_state;
	int r;

	buf_init(&detail, 4096);
	if (reason == NULL || *reason == '\0')
		return bg_fail(e, BG_ERR_USAGE, "say why with --reason");
	if ((r = scan_input("reason", reason, 1000, 0, e)) != 0 ||
	    (confirm && (r = scan_input("confirmation", confirm, 1000, 0, e)) != 0))
		return r;
	if ((r = home_begin(h, e)) != 0)
		return r;
	if ((r = grant_load(h, id, &g, e)) != 0)
		goto abort;
	now_state = grant_state_now(g, h->now);
	if (strcmp(g->state, "revoked") == 0 ||
	    (strcmp(g->state, "expired") == 0 && strcmp(g->kind, "manual") != 0)) {
		r = bg_fail(e, BG_ERR_STATE, "grant 'G-%lld' is already %s", (long long)id, g->state);
		goto abort;
	}
	if (strcmp(g->kind, "manual") == 0 && g->not_before != 0 && confirm == NULL) {
		r = bg_fail(e, BG_ERR_USAGE, "G-%lld was granted by hand outside breakglass: say how "
		    "it was removed with --confirm 'who removed what, where'", (long long)id);
		goto abort;
	}
	if ((r = store_prepare(h->st, "UPDATE grants SET state = 'revoked', ended = ?, ended_by = ?, "
	    "end_reason = ?, revocation_confirmed = ? WHERE id = ?", &st, e)) != 0)
		goto abort;
	store_bind_int(st, 1, h->now);
	store_bind_text(st, 2, h->actor);
	store_bind_text(st, 3, reason);
	store_bind_text(st, 4, confirm);
	store_bind_int(st, 5, id);
	if (sqlite3_step(st) != SQLITE_DONE) {
		r = store_fail(h->st, e, "cannot revoke grant");
		goto abort;
	}
	json_init(&j, &detail);
	json_obj_begin(&j);
	json_kv_int(&j, "grant", id);
	json_kv_str(&j, "was", now_state);
	json_kv_str(&j, "reason", reason);
	if (confirm)
		json_kv_str(&j, "confirmed", confirm);
	json_obj_end(&j);
	if ((r = home_record_json(h, "grant.revoke", g->ticket, &j, e)) != 0 ||
	    (r = home_write_krl(h, e)) != 0)
		goto abort;
	{
		/* sudo is reachable only through the gate, which checks the KRL
		 * first; a drop-in that cannot be removed is recorded, and the
		 * revocation still happens */
		bg_error se;
		char d[64];

		snprintf(d, sizeof(d), "{\"grant\":%lld}", (long long)id);
		if (grant_sudoers_remove(h, id, &se) != 0 &&
		    (r = home_record(h, "sudoers.remove-failed", g->ticket, d, e)) != 0)
			goto abort;
	}
	if ((r = home_commit(h, e)) != 0)
		goto abort;
	goto out;
abort:
	home_abort(h);
out:
	sqlite3_finalize(st);
	grant_free(g);
	buf_release(&detail);
	return r;
}

int
grant_reap(home *h, int *n, bg_error *e)
{
	sqlite3_stmt *st = NULL, *up = NULL;
	int r, rc;

	*n = 0;
	if ((r = home_begin(h, e)) != 0)
		return r;
	if ((r = store_prepare(h->st, "SELECT id, ticket, not_after FROM grants WHERE state = "
	    "'active' AND not_after <= ? ORDER BY id", &st, e)) != 0 ||
	    (r = store_prepare(h->st, "UPDATE grants SET state = 'expired', ended = not_after, "
	    "ended_by = 'reaper', end_reason = 'window ended' WHERE id = ?", &up, e)) != 0)
		goto abort;
	store_bind_int(st, 1, h->now);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(st, 0), tid = sqlite3_column_int64(st, 1);
		char d[128], na[UTC_STRLEN];

		utc_format(sqlite3_column_int64(st, 2), na);
		sqlite3_reset(up);
		store_bind_int(up, 1, id);
		if (sqlite3_step(up) != SQLITE_DONE) {
			r = store_fail(h->st, e, "cannot expire grant");
			goto abort;
		}
		snprintf(d, sizeof(d), "{\"grant\":%lld,\"not_after\":\"%s\"}", (long long)id, na);
		if ((r = home_record(h, "grant.expire", tid, d, e)) != 0)
			goto abort;
		{
			bg_error se;

			(void)grant_sudoers_remove(h, id, &se); /* NOTAFTER holds anyway */
		}
		(*n)++;
	}
	if (rc != SQLITE_DONE) {
		r = store_fail(h->st, e, "cannot list grants");
		goto abort;
	}
	sqlite3_finalize(st);
	sqlite3_finalize(up);
	return home_commit(h, e);
abort:
	*n = 0;
	sqlite3_finalize(st);
	sqlite3_finalize(up);
	home_abort(h);
	return r;
}

/* The artifacts of plan statement stmt, as "artifact: SHA256 KIND" lines
 * (the statement has "artifact: SHA256 KIND NAME"; the name stays out of
 * the certificate). */
static int
approved_artifacts(home *h, int64_t stmt, buf *out, bg_error *e)
{
	sqlite3_stmt *st;
	const char *p;
	int r;

	if (stmt == 0)
		return 0;
	if ((r = store_prepare(h->st, "SELECT text FROM statements WHERE id = ? AND kind = 'plan'",
	    &st, e)) != 0)
		return r;
	store_bind_int(st, 1, stmt);
	if (sqlite3_step(st) == SQLITE_ROW) {
		for (p = store_col_text(st, 0); r == 0 && (p = strstr(p, "\nartifact: ")) != NULL; p++) {
			const char *k = p + 11;
			size_t kl = 0;

			if (strnlen(k, 66) > 65 && k[64] == ' ')
				kl = strspn(k + 65, "abcdefghijklmnopqrstuvwxyz");
			r = buf_printf(out, "artifact: %.64s%s%.*s\n", k, kl > 0 && kl < 16 ? " " : "",
			    kl > 0 && kl < 16 ? (int)kl : 0, k + 65);
		}
	}
	sqlite3_finalize(st);
	return r;
}

int
grant_cert(home *h, int64_t id, const char *pubkey_line, buf *out, uint64_t *serial,
    bg_error *e)
{
	grant *g = NULL;
	ticket *t = NULL;
	sshkey_pub key;
	sshkey_priv ca;
	sqlite3_stmt *st = NULL;
	cert_spec spec;
	buf scope, keyid, detail, cons;
	json j;
	char fp[SSHKEY_FP_LEN], *comment = NULL;
	const char *tier;
	int r;

	*serial = 0;
	memset(&key, 0, sizeof(key));
	memset(&ca, 0, sizeof(ca));
	buf_init(&scope, 64 * 1024);
	buf_init(&keyid, 1024);
	buf_init(&detail, 4096);
	buf_init(&cons, CONSENT_MAX);
	if ((r = sshkey_parse_line(pubkey_line, &key, &comment, e)) != 0)
		return r;
	free(comment);
	if ((r = home_begin(h, e)) != 0)
		goto out;
	if ((r = grant_load(h, id, &g, e)) != 0 || (r = ticket_load(h, g->ticket, &t, e)) != 0 ||
	    (r = ticket_require_open(t, e)) != 0)
		goto abort;
	if (strcmp(grant_state_now(g, h->now), "active") != 0) {
		r = bg_fail(e, BG_ERR_STATE, "grant 'G-%lld' is %s: only active grants get a "
		    "certificate", (long long)id, grant_state_now(g, h->now));
		goto abort;
	}
	if (strcmp(g->kind, "ssh") != 0 && strcmp(g->kind, "sftp") != 0 &&
	    strcmp(g->kind, "db") != 0) {
		r = bg_fail(e, BG_ERR_USAGE, "grant 'G-%lld' is a %s grant: certificates are for "
		    "ssh, sftp and db grants", (long long)id, g->kind);
		goto abort;
	}
	if ((r = buf_printf(&scope, "ticket: T-%lld\ngrant: G-%lld\n%s", (long long)g->ticket,
	    (long long)id, g->spec)) != 0 ||
	    (r = approved_artifacts(h, g->approved_via, &scope, e)) != 0 ||
	    (r = buf_printf(&keyid, "breakglass T-%lld G-%lld %s", (long long)g->ticket,
	    (long long)id, h->actor)) != 0)
		goto abort;
	if ((r = store_prepare(h->st, "SELECT coalesce(max(serial), 0) + 1 FROM certs", &st, e)) != 0)
		goto abort;
	if (sqlite3_step(st) == SQLITE_ROW)
		*serial = (uint64_t)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	st = NULL;
	if ((r = home_load_ca(h, &ca, e)) != 0)
		goto abort;
	tier = kv_get(&g->fields, "tier");
	memset(&spec, 0, sizeof(spec));
	spec.key = &key;
	spec.serial = *serial;
	spec.key_id = keyid.data;
	spec.principal = kv_get(&g->fields, "account");
	spec.valid_after = g->not_before;
	spec.valid_before = g->not_after;
	spec.force_command = h->gate_command;
	spec.source_address = kv_get(&g->fields, "source-address");
	/* a db grant's console reads lines on a terminal (no shell behind it) */
	spec.permit_pty = (tier != NULL && strcmp(tier, "shell") == 0) || strcmp(g->kind, "db") == 0;
	spec.scope = scope.data;
	/* a write grant carries the owner's consent, which the host verifies */
	if (g->writes) {
		if (g->approved_via == 0) {
			r = bg_fail(e, BG_ERR_GATE, "write grant 'G-%lld' has no approved plan",
			    (long long)id);
			goto abort;
		}
		if ((r = approval_consent(h, g->approved_via, &cons, e)) != 0)
			goto abort;
		spec.consent = cons.data;
	}
	if (spec.principal == NULL) {
		r = bg_fail(e, BG_ERR_USAGE, "grant 'G-%lld' names no account", (long long)id);
		goto abort;
	}
	if ((r = cert_sign(&spec, &ca, keyid.data, out, e)) != 0)
		goto abort;
	sshkey_fingerprint(&key, fp);
	if ((r = store_prepare(h->st, "INSERT INTO certs (serial, grant_id, fingerprint, key_id, "
	    "issued, valid_before, actor) VALUES (?, ?, ?, ?, ?, ?, ?)", &st, e)) != 0)
		goto abort;
	store_bind_int(st, 1, (int64_t)*serial);
	store_bind_int(st, 2, id);
	store_bind_text(st, 3, fp);
	store_bind_text(st, 4, keyid.data);
	store_bind_int(st, 5, h->now);
	store_bind_int(st, 6, g->not_after);
	store_bind_text(st, 7, h->actor);
	if (sqlite3_step(st) != SQLITE_DONE) {
		r = store_fail(h->st, e, "cannot record certificate");
		goto abort;
	}
	json_init(&j, &detail);
	json_obj_begin(&j);
	json_kv_int(&j, "grant", id);
	json_kv_int(&j, "serial", (int64_t)*serial);
	json_kv_str(&j, "fingerprint", fp);
	json_kv_str(&j, "principal", spec.principal);
	json_kv_time(&j, "valid_after", spec.valid_after);
	json_kv_time(&j, "valid_before", spec.valid_before);
	json_kv_bool(&j, "pty", spec.permit_pty);
	json_kv_bool(&j, "consent", spec.consent != NULL);
	json_obj_end(&j);
	if ((r = home_commit_json(h, "cert.issue", g->ticket, &j, e)) != 0)
		goto abort;
	goto out;
abort:
	*serial = 0;
	buf_reset(out);
	home_abort(h);
out:
	sqlite3_finalize(st);
	sshkey_priv_release(&ca);
	sshkey_pub_release(&key);
	grant_free(g);
	ticket_free(t);
	buf_release(&scope);
	buf_release(&keyid);
	buf_release(&detail);
	buf_release(&cons);
	return r;
}

/* Append the grant's commands named key as a sudoers Cmnd list; *n
 * counts them. */
static int
sudoers_cmnds(const grant *g, const char *key, buf *out, size_t *n)
{
	int r = 0;

	for (size_t i = 0; i < g->fields.n; i++) {
		argv_list a;
		bg_error e;

		if (strcmp(g->fields.items[i].key, key) != 0)
			continue;
		if (argv_split(g->fields.items[i].value, &a, &e) != 0)
			return BG_ERR_INVALID;
		r = buf_printf(out, "%s%s", (*n)++ ? ", " : "", a.v[0]);
		for (size_t k = 1; r == 0 && k < a.n; k++) {
			r = buf_putc(out, ' ');
			for (const char *c = a.v[k]; r == 0 && *c; c++) {
				if (strchr(",:=\\", *c) != NULL)
					r = buf_putc(out, '\\');
				if (r == 0)
					r = buf_putc(out, *c);
			}
		}
		if (r == 0 && a.n == 1)
			r = buf_puts(out, " \"\""); /* no arguments at all */
		argv_release(&a);
		if (r != 0)
			return r;
	}
	return 0;
}

int
grant_sudoers_text(const grant *g, const char *account, const unsigned char ca_pk[32], buf *out)
{
	static const struct {
		const char *key, *tag;
	} tags[] = {
		/* NOEXEC: the command may not start another program (a pager's
		 * '!sh', an editor's ':!', a systemctl pager): a privileged
		 * command that could would be unrestricted root whatever the
		 * policy's launcher list missed */
		{ "sudo", "NOEXEC" },
		/* INTERCEPT: the approved grant marks the command as starting
		 * programs; sudo checks each one against these rules again, so
		 * it may start the grant's other privileged commands and
		 * nothing else (never a blanket EXEC) */
		{ "sudo-intercept", "INTERCEPT" },
	};
	char nb[UTC_STRLEN], na[UTC_STRLEN];
	size_t total = 0;
	int r;

	utc_format(g->not_before, nb);
	utc_format(g->not_after, na);
	/* sudoers generalized time: YYYYMMDDHHMMSSZ - always with Z, so the
	 * caller's TZ cannot move the window */
	if ((r = buf_printf(out, "# breakglass G-%lld (T-%lld) for %s: removed at revocation or "
	    "expiry\n", (long long)g->id, (long long)g->ticket, account)) != 0)
		return r;
	for (size_t k = 0; k < sizeof(tags) / sizeof(tags[0]); k++) {
		size_t n = 0;

		if (kv_get(&g->fields, tags[k].key) == NULL)
			continue;
		/* keyed by the grant's group (grantscope_sudo_gid), not the
		 * account: hostd gives that group only to what it starts for
		 * this grant, so another grant's session cannot run these.
		 * Not with sudo-intercept: sudo checks an intercepted program
		 * without that group, so such a grant's lines stay the
		 * account's; the host keeps other grants' shells and intercept
		 * commands from running while they exist (gate_sudo_conflict) */
		char who[40];

		if (kv_get(&g->fields, "sudo-intercept") != NULL)
			snprintf(who, sizeof(who), "%.32s", account);
		else
			snprintf(who, sizeof(who), "%%#%lu",
			    (unsigned long)grantscope_sudo_gid(ca_pk, g->id));
		if ((r = buf_printf(out, "%s ALL=(root) NOTBEFORE=%.4s%.2s%.2s%.2s%.2s%.2sZ "
		    "NOTAFTER=%.4s%.2s%.2s%.2s%.2s%.2sZ %s: NOPASSWD: ", who, nb, nb + 5, nb + 8,
		    nb + 11, nb + 14, nb + 17, na, na + 5, na + 8, na + 11, na + 14, na + 17,
		    tags[k].tag)) != 0 ||
		    (r = sudoers_cmnds(g, tags[k].key, out, &n)) != 0 ||
		    (r = buf_putc(out, '\n')) != 0)
			return r;
		total += n;
	}
	return total == 0 ? BG_ERR_NOTFOUND : 0;
}

static int
sudoers_path(home *h, int64_t gid, buf *p)
{
	buf_reset(p);
	/* named by home and grant: two homes serving one host (or two test
	 * runs) never replace or remove each other's drop-ins */
	return buf_printf(p, "%s/breakglass-%s-G-%lld", h->sudoers_dir, h->id, (long long)gid);
}

int
grant_sudoers_install(home *h, const grant *g, bg_error *e)
{
	buf text, path, tmp;
	const char *account = kv_get(&g->fields, "account");
	int r, st;

	if (h->sudoers_dir == NULL || (kv_get(&g->fields, "sudo") == NULL &&
	    kv_get(&g->fields, "sudo-intercept") == NULL))
		return 0;
	buf_init(&text, 64 * 1024);
	buf_init(&path, 4096);
	buf_init(&tmp, 4096);
	{
		sshkey_priv ca;

		memset(&ca, 0, sizeof(ca));
		if ((r = home_load_ca(h, &ca, e)) != 0)
			goto out;
		r = grant_sudoers_text(g, account, ca.pk, &text);
		sshkey_priv_release(&ca);
	}
	if (r != 0 ||
	    (r = sudoers_path(h, g->id, &path)) != 0 ||
	    (r = buf_printf(&tmp, "%s/.breakglass-%s-G-%lld.new", h->sudoers_dir, h->id,
	    (long long)g->id)) != 0) {
		r = bg_fail(e, r, "cannot build the sudoers drop-in");
		goto out;
	}
	/* a name with a dot is ignored by sudo: safe while it is checked */
	unlink(tmp.data);
	if ((r = fileio_write_atomic(tmp.data, text.data, text.len, 0440, 1, e)) != 0)
		goto out;
	{
		char *const argv[] = { "/usr/sbin/visudo", "-c", "-q", "-f", tmp.data, NULL };
		buf outb;

		buf_init(&outb, 8192);
		r = proc_run(argv, NULL, 0, &outb, &st, e);
		if (r == 0 && st != 0)
			r = bg_fail(e, BG_ERR_EXEC, "visudo refused the sudoers drop-in: %.300s",
			    buf_cstr(&outb));
		buf_release(&outb);
		if (r != 0) {
			unlink(tmp.data);
			goto out;
		}
	}
	if (rename(tmp.data, path.data) != 0) {
		unlink(tmp.data);
		r = bg_fail(e, BG_ERR_IO, "cannot install '%s': %s", path.data, strerror(errno));
		goto out;
	}
	fileio_sync_dir(path.data);
out:
	buf_release(&text);
	buf_release(&path);
	buf_release(&tmp);
	return r;
}

int
grant_sudoers_remove(home *h, int64_t gid, bg_error *e)
{
	buf path;
	int r = 0;

	if (h->sudoers_dir == NULL)
		return 0;
	buf_init(&path, 4096);
	if (sudoers_path(h, gid, &path) == 0 && unlink(path.data) != 0 && errno != ENOENT)
		r = bg_fail(e, BG_ERR_IO, "cannot remove '%s': %s", path.data, strerror(errno));
	else
		fileio_sync_dir(path.data);
	buf_release(&path);
	return r;
}
