/*
 * steps.c - where a ticket stands: the gates and the ten steps, derived
 * from the records each time they are asked for (see steps.h).
 *
 * This module only reads.  It sits below grant (activation asks the
 * gates), report (the report shows the steps) and workflow (closing asks
 * whether smoke test and cleanup are done), so none of those needs
 * another to know where a ticket stands.
 */
#include "steps.h"
#include "plan.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *const steps_cleanup_items[] = {
	"grants-revoked", "secrets-rotated", "branch-merged", "staging-applied",
	"runbook-updated", "followup-ticket", STEPS_CLEANUP_IMAGES, NULL
};

int
steps_cleanup_implied(const steps_gates *g, const char *item)
{
	return strcmp(item, STEPS_CLEANUP_IMAGES) == 0 && !g->sql_patch;
}

static const char *const cleanup_desc[] = {
	"every grant revoked or expired (checked automatically)",
	"secrets exposed during the incident rotated",
	"emergency branch merged or archived",
	"fix applied to staging",
	"runbook and monitoring updated",
	"follow-up ticket noted",
	"SQL patch before-images dropped on the host (breakglass rollback T --sql TAG "
	"--drop-image)",
};

int
steps_gates_now(home *h, const ticket *t, steps_gates *g, bg_error *e)
{
	plan *p = NULL;
	buf body;
	char resolved[65];
	int r, n;

	memset(g, 0, sizeof(*g));
	if ((r = approval_check(h, t, "confirm", t->intake_hash, &g->confirm, e)) != 0 ||
	    (r = approval_check(h, t, "risk", t->intake_hash, &g->risk, e)) != 0 ||
	    (r = approval_check(h, t, "close-unconfirmed", t->intake_hash, &g->unconfirmed,
	    e)) != 0)
		return r;
	/* the owner's confirmation binds the work as it stands now */
	buf_init(&body, 64 * 1024);
	r = approval_resolved_binding(h, t, &body, resolved, e);
	buf_release(&body);
	if (r != 0 || (r = approval_check(h, t, "resolved", resolved, &g->resolved, e)) != 0)
		return r;
	r = plan_current(h, t->id, &p, e);
	if (r == 0) {
		g->plan_id = p->id;
		memcpy(g->plan_hash, p->hash, 65);
		for (size_t a = 0; a < p->nart; a++)
			if (strcmp(p->art[a].kind, "sql") == 0)
				g->sql_patch = 1;
		plan_free(p);
		if ((r = approval_check(h, t, "plan", g->plan_hash, &g->plan, e)) != 0)
			return r;
	} else if (r == BG_ERR_NOTFOUND) {
		snprintf(g->plan.why, sizeof(g->plan.why), "no fix plan submitted");
	} else
		return r;
	if ((r = store_count(h->st, "SELECT count(*) FROM evidence WHERE ticket = ? AND kind = 'backup'",
	    t->id, &n, e)) != 0)
		return r;
	g->backup_recorded = n > 0;
	if ((r = store_count(h->st, "SELECT count(*) FROM evidence WHERE ticket = ? AND kind = 'rollback'",
	    t->id, &n, e)) != 0)
		return r;
	g->rollback_recorded = n > 0;
	g->backup_ok = (g->backup_recorded && g->rollback_recorded) || g->risk.statement != 0;
	return 0;
}

static void
step(steps_status *s, int i, const char *name, int done, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static void
step(steps_status *s, int i, const char *name, int done, const char *fmt, ...)
{
	va_list ap;

	s->step[i].name = name;
	s->step[i].done = done;
	s->step[i].missing[0] = '\0';
	if (!done && fmt) {
		va_start(ap, fmt);
		vsnprintf(s->step[i].missing, sizeof(s->step[i].missing), fmt, ap);
		va_end(ap);
	}
}

int
steps_status_now(home *h, const ticket *t, steps_status *s, bg_error *e)
{
	sqlite3_stmt *st;
	int r, ngrants, nused, nwrites, ncleanup, i;
	long long T = (long long)t->id;
	char missing_fields[256] = "";

	memset(s, 0, sizeof(*s));
	if ((r = steps_gates_now(h, t, &s->g, e)) != 0)
		return r;
	if ((r = store_count(h->st, "SELECT count(*) FROM grants WHERE ticket = ?", t->id, &ngrants, e)) ||
	    (r = store_count(h->st, "SELECT count(*) FROM grants WHERE ticket = ? AND not_before IS NOT NULL",
	    t->id, &nused, e)) ||
	    (r = store_count(h->st, "SELECT count(*) FROM grants WHERE ticket = ? AND writes = 1 AND "
	    "not_before IS NOT NULL", t->id, &nwrites, e)) ||
	    (r = store_count(h->st, "SELECT count(*) FROM cleanup WHERE ticket = ?", t->id, &ncleanup, e)))
		return r;
	{
		/* grants that gave access and have not ended as of now (active past
		 * not-after counts as ended, except manual grants, whose removal
		 * must be confirmed); never-activated grants are cancelled at close */
		if ((r = store_prepare(h->st, "SELECT count(*) FROM grants WHERE ticket = ?1 AND ("
		    "(state = 'active' AND (not_after > ?2 OR kind = 'manual')) OR "
		    "(state = 'expired' AND kind = 'manual'))", &st, e)) != 0)
			return r;
		store_bind_int(st, 1, t->id);
		store_bind_int(st, 2, h->now);
		if (sqlite3_step(st) == SQLITE_ROW)
			s->grants_open = sqlite3_column_int(st, 0);
		sqlite3_finalize(st);
	}
	/* a check made before the fix shows the incident: it never counts */
	if ((r = store_prepare(h->st, "SELECT result FROM smoke_results WHERE ticket = ? AND "
	    "(phase IS NULL OR phase = 'after') "
	    "ORDER BY id DESC LIMIT 1", &st, e)) != 0)
		return r;
	store_bind_int(st, 1, t->id);
	if (sqlite3_step(st) == SQLITE_ROW)
		snprintf(s->smoke, sizeof(s->smoke), "%s", store_col_text(st, 0));
	sqlite3_finalize(st);
	for (i = 0; ticket_confirm_fields[i]; i++) {
		if (kv_get(&t->fields, ticket_confirm_fields[i]) == NULL) {
			size_t l = strlen(missing_fields);

			snprintf(missing_fields + l, sizeof(missing_fields) - l, "%s%s",
			    l ? ", " : "", ticket_confirm_fields[i]);
		}
	}
	if (missing_fields[0])
		step(s, 0, "confirmation", 0, "complete the intake first (%s): breakglass ticket "
		    "set T-%lld FIELD VALUE", missing_fields, T);
	else
		step(s, 0, "confirmation", s->g.confirm.statement != 0,
		    "%s: breakglass approve T-%lld --statement --for confirm, then the approver "
		    "signs it (ssh-keygen -Y sign -n breakglass) and you record it with "
		    "breakglass approve T-%lld --signature FILE", s->g.confirm.why, T, T);
	step(s, 1, "access review", ngrants > 0,
	    "request the narrowest access: breakglass grant request T-%lld --kind ssh ...", T);
	step(s, 2, "backup check", s->g.backup_ok,
	    "record %s%s%s (breakglass evidence T-%lld backup|rollback ...) or have a risk "
	    "acceptance signed (--for risk); until then only read-only access",
	    s->g.backup_recorded ? "" : "backup evidence",
	    !s->g.backup_recorded && !s->g.rollback_recorded ? " and " : "",
	    s->g.rollback_recorded ? "" : "the rollback method", T);
	step(s, 3, "diagnosis", nused > 0 || s->g.plan_id != 0,
	    "activate a read-only grant and find the cause (breakglass grant activate G-N)");
	step(s, 4, "fix plan", s->g.plan_id != 0,
	    "submit the fix plan with its artifacts: breakglass plan T-%lld --from FILE "
	    "[--diff F] [--commands F] [--sql F]", T);
	step(s, 5, "approval", s->g.plan.statement != 0,
	    "%s: breakglass approve T-%lld --statement --for plan, signed by the approver",
	    s->g.plan.why, T);
	step(s, 6, "implementation", nwrites > 0,
	    "activate the approved write grant: breakglass grant activate G-N");
	step(s, 7, "smoke test", strcmp(s->smoke, "pass") == 0 || strcmp(s->smoke, "waived") == 0,
	    "%s", strcmp(s->smoke, "fail") == 0 ? "the smoke test failed: roll back or fix, "
	    "then record a passing result" : "record the result: breakglass smoke T-N --result "
	    "pass --notes '...' (or a signed waiver, --for smoke-waiver)");
	s->cleanup_open = (int)(sizeof(cleanup_desc) / sizeof(cleanup_desc[0])) - 1 - ncleanup +
	    (s->grants_open > 0);
	if (!s->g.sql_patch) {
		int recorded;

		if ((r = store_count(h->st, "SELECT count(*) FROM cleanup WHERE ticket = ? AND item = '"
		    STEPS_CLEANUP_IMAGES "'", t->id, &recorded, e)) != 0)
			return r;
		s->cleanup_open -= recorded == 0;
	}
	{
		int prior = 1;

		for (i = 0; i < 8; i++)
			prior &= s->step[i].done;
		step(s, 8, "documentation", strcmp(t->status, "open") != 0 || prior,
		    "generated from the records when the ticket closes (preview: breakglass report "
		    "T-%lld)", T);
	}
	s->owner_ok = s->g.resolved.statement != 0 || s->g.unconfirmed.statement != 0;
	if (!s->owner_ok) {
		const char *named = kv_get(&t->fields, "approver-email");

		snprintf(s->owner_missing, sizeof(s->owner_missing), "the owner has not confirmed "
		    "the fix (%s): issue 'breakglass approve T-%lld --statement --for resolved' "
		    "for %d approver(s) other than the requester%s%s%s to sign (ssh-keygen -Y sign "
		    "-n breakglass), record each with 'breakglass approve T-%lld --signature FILE'; "
		    "or close without it: --for close-unconfirmed --reason TEXT",
		    s->g.resolved.why, T, s->g.resolved.quorum, named ? ", among them '" : "",
		    named ? named : "", named ? "'" : "", T);
	}
	if (s->grants_open > 0)
		step(s, 9, "cleanup", 0, "%d grant(s) still open: revoke them (breakglass grant "
		    "revoke G-N --reason ...); %d other item(s) open (breakglass cleanup T-%lld)",
		    s->grants_open, s->cleanup_open - 1, T);
	else if (s->cleanup_open > 0)
		step(s, 9, "cleanup", 0, "%d item(s) open: breakglass cleanup "
		    "T-%lld ITEM --done|--na ...", s->cleanup_open, T);
	else
		step(s, 9, "cleanup", s->owner_ok, "%s", s->owner_missing);
	s->current = STEPS_N + 1;
	for (i = 0; i < STEPS_N; i++) {
		if (!s->step[i].done) {
			s->current = i + 1;
			break;
		}
	}
	return 0;
}

