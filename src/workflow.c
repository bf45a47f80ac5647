/*
 * workflow.c - gates, status, evidence, smoke tests, cleanup and closing.
 */
#include "workflow.h"
#include "fileio.h"
#include "grant.h"
#include "hash.h"
#include "json.h"
#include "plan.h"
#include "report.h"
#include "scan.h"
#include "text.h"
#include "utc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const cleanup_items[] = {
	"grants-revoked", "secrets-rotated", "branch-merged", "staging-applied",
	"runbook-updated", "followup-ticket", NULL
};

static const char *const cleanup_desc[] = {
	"every grant revoked or expired (checked automatically)",
	"secrets exposed during the incident rotated",
	"emergency branch merged or archived",
	"fix applied to staging",
	"runbook and monitoring updated",
	"follow-up ticket noted",
};

static int
count(home *h, const char *sql, int64_t tid, int *n, bg_error *e)
{
	sqlite3_stmt *st;
	int r;

	*n = 0;
	if ((r = store_prepare(h->st, sql, &st, e)) != 0)
		return r;
	store_bind_int(st, 1, tid);
	if (sqlite3_step(st) == SQLITE_ROW)
		*n = sqlite3_column_int(st, 0);
	else
		r = store_fail(h->st, e, "cannot count");
	sqlite3_finalize(st);
	return r;
}

int
workflow_gates(home *h, const ticket *t, wf_gates *g, bg_error *e)
{
	plan *p = NULL;
	int r, n;

	memset(g, 0, sizeof(*g));
	if ((r = approval_check(h, t, "confirm", t->intake_hash, &g->confirm, e)) != 0 ||
	    (r = approval_check(h, t, "risk", t->intake_hash, &g->risk, e)) != 0)
		return r;
	r = plan_current(h, t->id, &p, e);
	if (r == 0) {
		g->plan_id = p->id;
		memcpy(g->plan_hash, p->hash, 65);
		plan_free(p);
		if ((r = approval_check(h, t, "plan", g->plan_hash, &g->plan, e)) != 0)
			return r;
	} else if (r == BG_ERR_NOTFOUND) {
		snprintf(g->plan.why, sizeof(g->plan.why), "no fix plan submitted");
	} else
		return r;
	if ((r = count(h, "SELECT count(*) FROM evidence WHERE ticket = ? AND kind = 'backup'",
	    t->id, &n, e)) != 0)
		return r;
	g->backup_recorded = n > 0;
	if ((r = count(h, "SELECT count(*) FROM evidence WHERE ticket = ? AND kind = 'rollback'",
	    t->id, &n, e)) != 0)
		return r;
	g->rollback_recorded = n > 0;
	g->backup_ok = (g->backup_recorded && g->rollback_recorded) || g->risk.statement != 0;
	return 0;
}

static void
step(wf_status *s, int i, const char *name, int done, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static void
step(wf_status *s, int i, const char *name, int done, const char *fmt, ...)
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
workflow_status(home *h, const ticket *t, wf_status *s, bg_error *e)
{
	sqlite3_stmt *st;
	int r, ngrants, nused, nwrites, ncleanup, i;
	long long T = (long long)t->id;
	char missing_fields[256] = "";

	memset(s, 0, sizeof(*s));
	if ((r = workflow_gates(h, t, &s->g, e)) != 0)
		return r;
	if ((r = count(h, "SELECT count(*) FROM grants WHERE ticket = ?", t->id, &ngrants, e)) ||
	    (r = count(h, "SELECT count(*) FROM grants WHERE ticket = ? AND not_before IS NOT NULL",
	    t->id, &nused, e)) ||
	    (r = count(h, "SELECT count(*) FROM grants WHERE ticket = ? AND writes = 1 AND "
	    "not_before IS NOT NULL", t->id, &nwrites, e)) ||
	    (r = count(h, "SELECT count(*) FROM cleanup WHERE ticket = ?", t->id, &ncleanup, e)))
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
	if ((r = store_prepare(h->st, "SELECT result FROM smoke WHERE ticket = ?", &st, e)) != 0)
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
	{
		int prior = 1;

		for (i = 0; i < 8; i++)
			prior &= s->step[i].done;
		step(s, 8, "documentation", strcmp(t->status, "open") != 0 || prior,
		    "generated from the records when the ticket closes (preview: breakglass report "
		    "T-%lld)", T);
	}
	if (s->grants_open > 0)
		step(s, 9, "cleanup", 0, "%d grant(s) still open: revoke them (breakglass grant "
		    "revoke G-N --reason ...); %d other item(s) open (breakglass cleanup T-%lld)",
		    s->grants_open, s->cleanup_open - 1, T);
	else
		step(s, 9, "cleanup", s->cleanup_open == 0, "%d item(s) open: breakglass cleanup "
		    "T-%lld ITEM --done|--na ...", s->cleanup_open, T);
	s->current = WF_STEPS + 1;
	for (i = 0; i < WF_STEPS; i++) {
		if (!s->step[i].done) {
			s->current = i + 1;
			break;
		}
	}
	return 0;
}

int
evidence_add(home *h, int64_t tid, const char *kind, const char *method, const char *what,
    const char *location, const char *taken, const char *file, const char *sha256,
    bg_error *e)
{
	static const char *const rollback_methods[] = {
		"restore-backup", "revert-commit", "redeploy-previous", "switch-theme",
		"disable-plugin", "restore-image", "rollback-migration", "restore-dns-cdn",
		"prepared-patch", "other", NULL
	};
	ticket *t = NULL;
	sqlite3_stmt *st = NULL;
	buf detail;
	json j;
	char computed[65] = "";
	int64_t tk = 0;
	int verified = 0, r, ok = 0;

	buf_init(&detail, 4096);
	if (strcmp(kind, "backup") != 0 && strcmp(kind, "rollback") != 0)
		return bg_fail(e, BG_ERR_USAGE, "evidence is 'backup' or 'rollback'");
	if (what == NULL || *what == '\0')
		return bg_fail(e, BG_ERR_USAGE, "say what it is with --what");
	{
		const char *fields[] = { what, location, method };
		const char *names[] = { "what", "where", "method" };

		for (int i = 0; i < 3; i++) {
			char w[16];

			if (fields[i] == NULL)
				continue;
			snprintf(w, sizeof(w), "--%s", names[i]);
			if ((r = scan_input(w, fields[i], 1000, 0, e)) != 0)
				return r;
		}
	}
	if (strcmp(kind, "backup") == 0) {
		if (location == NULL || *location == '\0')
			return bg_fail(e, BG_ERR_USAGE, "say where the backup is with --where");
		if (taken == NULL || utc_parse(taken, &tk) != 0)
			return bg_fail(e, BG_ERR_USAGE, "say when it was taken with --taken "
			    "(UTC, 2026-11-21T02:00Z)");
		if (tk > utc_now() + h->clock_skew)
			return bg_fail(e, BG_ERR_INVALID, "--taken is in the future");
	} else {
		if (method == NULL)
			return bg_fail(e, BG_ERR_USAGE, "name the rollback --method");
		for (int i = 0; rollback_methods[i]; i++)
			if (strcmp(method, rollback_methods[i]) == 0)
				ok = 1;
		if (!ok)
			return bg_fail(e, BG_ERR_INVALID, "rollback method must be one of "
			    "restore-backup, revert-commit, redeploy-previous, switch-theme, "
			    "disable-plugin, restore-image, rollback-migration, restore-dns-cdn, "
			    "prepared-patch, other");
	}
	if (sha256 != NULL && !hash_is_hex64(sha256))
		return bg_fail(e, BG_ERR_INVALID, "--sha256 must be 64 lowercase hex digits");
	if (file != NULL) {
		if ((r = hash_file_sha256(file, computed)) != 0)
			return bg_fail(e, r, "cannot read '%s' to verify its checksum", file);
		if (sha256 != NULL && strcmp(sha256, computed) != 0)
			return bg_fail(e, BG_ERR_INVALID, "checksum mismatch: '%s' has SHA-256 %s, "
			    "not %s", file, computed, sha256);
		verified = 1;
		sha256 = computed;
	}
	if ((r = home_begin(h, e)) != 0)
		return r;
	if ((r = ticket_load(h, tid, &t, e)) != 0 || (r = ticket_require_open(t, e)) != 0)
		goto abort;
	if ((r = store_prepare(h->st, "INSERT INTO evidence (ticket, kind, method, what, location, "
	    "taken, sha256, verified, recorded, actor) VALUES (?,?,?,?,?,?,?,?,?,?)", &st, e)) != 0)
		goto abort;
	store_bind_int(st, 1, tid);
	store_bind_text(st, 2, kind);
	store_bind_text(st, 3, method ? method : "");
	store_bind_text(st, 4, what);
	store_bind_text(st, 5, location ? location : "");
	if (tk)
		store_bind_int(st, 6, tk);
	else
		sqlite3_bind_null(st, 6);
	store_bind_text(st, 7, sha256);
	store_bind_int(st, 8, verified);
	store_bind_int(st, 9, h->now);
	store_bind_text(st, 10, h->actor);
	if (sqlite3_step(st) != SQLITE_DONE) {
		r = store_fail(h->st, e, "cannot store evidence");
		goto abort;
	}
	json_init(&j, &detail);
	json_obj_begin(&j);
	json_kv_str(&j, "kind", kind);
	json_kv_str(&j, "method", method);
	json_kv_str(&j, "what", what);
	json_kv_str(&j, "where", location);
	json_kv_time(&j, "taken", tk);
	json_kv_str(&j, "sha256", sha256);
	json_kv_bool(&j, "verified", verified);
	json_obj_end(&j);
	if ((r = json_error(&j)) != 0 ||
	    (r = home_record(h, "evidence.add", tid, detail.data, e)) != 0 ||
	    (r = grant_refresh(h, t, e)) != 0 || (r = home_commit(h, e)) != 0)
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

int
smoke_record(home *h, int64_t tid, const char *result, const char *notes, bg_error *e)
{
	ticket *t = NULL;
	sqlite3_stmt *st = NULL;
	approval_state as;
	buf detail;
	json j;
	int r;

	buf_init(&detail, 8192);
	if (strcmp(result, "pass") != 0 && strcmp(result, "fail") != 0 &&
	    strcmp(result, "waived") != 0)
		return bg_fail(e, BG_ERR_USAGE, "result is pass, fail or waived");
	if (strcmp(result, "waived") != 0 && (notes == NULL || *notes == '\0'))
		return bg_fail(e, BG_ERR_USAGE, "say what was tested with --notes");
	if (notes == NULL)
		notes = "";
	if ((r = scan_input("notes", notes, 8192, 1, e)) != 0)
		return r;
	if ((r = home_begin(h, e)) != 0)
		return r;
	if ((r = ticket_load(h, tid, &t, e)) != 0 || (r = ticket_require_open(t, e)) != 0)
		goto abort;
	memset(&as, 0, sizeof(as));
	if (strcmp(result, "waived") == 0) {
		if ((r = approval_check(h, t, "smoke-waiver", t->intake_hash, &as, e)) != 0)
			goto abort;
		if (as.statement == 0) {
			r = bg_fail(e, BG_ERR_GATE, "a smoke-test waiver must be signed: %s", as.why);
			goto abort;
		}
	}
	if ((r = store_prepare(h->st, "INSERT INTO smoke (ticket, result, notes, recorded, actor, "
	    "waiver) VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(ticket) DO UPDATE SET "
	    "result = ?2, notes = ?3, recorded = ?4, actor = ?5, waiver = ?6", &st, e)) != 0)
		goto abort;
	store_bind_int(st, 1, tid);
	store_bind_text(st, 2, result);
	store_bind_text(st, 3, notes);
	store_bind_int(st, 4, h->now);
	store_bind_text(st, 5, h->actor);
	if (as.statement)
		store_bind_int(st, 6, as.statement);
	else
		sqlite3_bind_null(st, 6);
	if (sqlite3_step(st) != SQLITE_DONE) {
		r = store_fail(h->st, e, "cannot store smoke result");
		goto abort;
	}
	json_init(&j, &detail);
	json_obj_begin(&j);
	json_kv_str(&j, "result", result);
	json_kv_str(&j, "notes", notes);
	if (as.statement)
		json_kv_int(&j, "waiver_statement", as.statement);
	json_obj_end(&j);
	if ((r = json_error(&j)) != 0 ||
	    (r = home_record(h, "smoke.record", tid, detail.data, e)) != 0 ||
	    (r = home_commit(h, e)) != 0)
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

int
cleanup_mark(home *h, int64_t tid, const char *item, const char *state, const char *note,
    bg_error *e)
{
	ticket *t = NULL;
	sqlite3_stmt *st = NULL;
	buf detail;
	json j;
	int r, known = 0;

	buf_init(&detail, 4096);
	for (int i = 1; cleanup_items[i]; i++)
		if (strcmp(item, cleanup_items[i]) == 0)
			known = 1;
	if (strcmp(item, "grants-revoked") == 0)
		return bg_fail(e, BG_ERR_USAGE, "'grants-revoked' is checked automatically: revoke "
		    "the grants instead");
	if (!known)
		return bg_fail(e, BG_ERR_USAGE, "unknown cleanup item '%.32s' (secrets-rotated, "
		    "branch-merged, staging-applied, runbook-updated, followup-ticket)", item);
	if (strcmp(state, "na") == 0 && (note == NULL || *note == '\0'))
		return bg_fail(e, BG_ERR_USAGE, "say why '%s' does not apply with --reason", item);
	if (strcmp(item, "followup-ticket") == 0 && strcmp(state, "done") == 0 &&
	    (note == NULL || *note == '\0'))
		return bg_fail(e, BG_ERR_USAGE, "name the follow-up ticket with --note");
	if (note == NULL)
		note = "";
	if ((r = scan_input("note", note, 1000, 0, e)) != 0)
		return r;
	if ((r = home_begin(h, e)) != 0)
		return r;
	if ((r = ticket_load(h, tid, &t, e)) != 0 || (r = ticket_require_open(t, e)) != 0)
		goto abort;
	if ((r = store_prepare(h->st, "INSERT INTO cleanup (ticket, item, state, note, actor, time) "
	    "VALUES (?1,?2,?3,?4,?5,?6) ON CONFLICT(ticket, item) DO UPDATE SET state = ?3, "
	    "note = ?4, actor = ?5, time = ?6", &st, e)) != 0)
		goto abort;
	store_bind_int(st, 1, tid);
	store_bind_text(st, 2, item);
	store_bind_text(st, 3, state);
	store_bind_text(st, 4, note);
	store_bind_text(st, 5, h->actor);
	store_bind_int(st, 6, h->now);
	if (sqlite3_step(st) != SQLITE_DONE) {
		r = store_fail(h->st, e, "cannot store cleanup item");
		goto abort;
	}
	json_init(&j, &detail);
	json_obj_begin(&j);
	json_kv_str(&j, "item", item);
	json_kv_str(&j, "state", state);
	json_kv_str(&j, "note", note);
	json_obj_end(&j);
	if ((r = json_error(&j)) != 0 ||
	    (r = home_record(h, "cleanup.mark", tid, detail.data, e)) != 0 ||
	    (r = home_commit(h, e)) != 0)
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

static int
end_unused_grants(home *h, int64_t tid, const char *why, bg_error *e)
{
	sqlite3_stmt *st = NULL;
	int r;

	if ((r = store_prepare(h->st, "UPDATE grants SET state = 'revoked', ended = ?, ended_by = ?, "
	    "end_reason = ? WHERE ticket = ? AND state IN ('requested','approved')", &st, e)) != 0)
		return r;
	store_bind_int(st, 1, h->now);
	store_bind_text(st, 2, h->actor);
	store_bind_text(st, 3, why);
	store_bind_int(st, 4, tid);
	if (sqlite3_step(st) != SQLITE_DONE)
		r = store_fail(h->st, e, "cannot end grants");
	else if (sqlite3_changes(h->st->db) > 0) {
		char d[96];

		snprintf(d, sizeof(d), "{\"ended\":%d,\"reason\":\"never activated\"}",
		    sqlite3_changes(h->st->db));
		r = home_record(h, "grant.cancel", tid, d, e);
	}
	sqlite3_finalize(st);
	return r;
}

static int
set_status(home *h, int64_t tid, const char *status, const char *note, bg_error *e)
{
	sqlite3_stmt *st;
	int r;

	if ((r = store_prepare(h->st, "UPDATE tickets SET status = ?, closed = ?, close_note = ? "
	    "WHERE id = ? AND status = 'open'", &st, e)) != 0)
		return r;
	store_bind_text(st, 1, status);
	store_bind_int(st, 2, h->now);
	store_bind_text(st, 3, note);
	store_bind_int(st, 4, tid);
	if (sqlite3_step(st) != SQLITE_DONE || sqlite3_changes(h->st->db) != 1)
		r = store_fail(h->st, e, "cannot close ticket");
	sqlite3_finalize(st);
	return r;
}

int
workflow_close(home *h, int64_t tid, bg_error *e)
{
	ticket *t = NULL;
	wf_status s;
	buf report, path, detail;
	char hash[65];
	int reaped, r;

	buf_init(&report, 8u * 1024 * 1024);
	buf_init(&path, 4096);
	buf_init(&detail, 1024);
	if ((r = grant_reap(h, &reaped, e)) != 0)
		return r;
	if ((r = home_begin(h, e)) != 0)
		return r;
	if ((r = ticket_load(h, tid, &t, e)) != 0 || (r = ticket_require_open(t, e)) != 0 ||
	    (r = end_unused_grants(h, tid, "never activated; ticket closed", e)) != 0 ||
	    (r = workflow_status(h, t, &s, e)) != 0)
		goto abort;
	if (!s.step[7].done) {
		r = bg_fail(e, BG_ERR_GATE, "cannot close 'T-%lld': smoke test: %s", (long long)tid,
		    s.step[7].missing);
		goto abort;
	}
	if (!s.step[9].done) {
		r = bg_fail(e, BG_ERR_GATE, "cannot close 'T-%lld': cleanup: %s", (long long)tid,
		    s.step[9].missing);
		goto abort;
	}
	if ((r = set_status(h, tid, "closed", NULL, e)) != 0)
		goto abort;
	ticket_free(t);
	t = NULL;
	if ((r = report_render(h, tid, 0, &report, e)) != 0)
		goto abort;
	hash_sha256_hex(report.data, report.len, hash);
	if ((r = buf_printf(&path, "%s/reports/T-%lld.md", h->dir, (long long)tid)) != 0 ||
	    (r = fileio_write_atomic(path.data, report.data, report.len, 0640, 0, e)) != 0)
		goto abort;
	if ((r = buf_printf(&detail, "{\"report\":\"reports/T-%lld.md\",\"report_sha256\":\"%s\"}",
	    (long long)tid, hash)) != 0 ||
	    (r = home_record(h, "ticket.close", tid, detail.data, e)) != 0 ||
	    (r = audit_checkpoint(&h->log, h->now, h->actor, tid, e)) != 0 ||
	    (r = home_commit(h, e)) != 0)
		goto abort;
	goto out;
abort:
	home_abort(h);
out:
	ticket_free(t);
	buf_release(&report);
	buf_release(&path);
	buf_release(&detail);
	return r;
}

int
workflow_withdraw(home *h, int64_t tid, const char *reason, bg_error *e)
{
	ticket *t = NULL;
	buf detail;
	json j;
	int used, r;

	buf_init(&detail, 2048);
	if (reason == NULL || *reason == '\0')
		return bg_fail(e, BG_ERR_USAGE, "say why with --reason");
	if ((r = scan_input("reason", reason, 1000, 0, e)) != 0)
		return r;
	if ((r = home_begin(h, e)) != 0)
		return r;
	if ((r = ticket_load(h, tid, &t, e)) != 0 || (r = ticket_require_open(t, e)) != 0 ||
	    (r = count(h, "SELECT count(*) FROM grants WHERE ticket = ? AND not_before IS NOT NULL",
	    tid, &used, e)) != 0)
		goto abort;
	if (used > 0) {
		r = bg_fail(e, BG_ERR_STATE, "'T-%lld' has had access granted: finish cleanup and "
		    "close it instead", (long long)tid);
		goto abort;
	}
	json_init(&j, &detail);
	json_obj_begin(&j);
	json_kv_str(&j, "reason", reason);
	json_obj_end(&j);
	if ((r = end_unused_grants(h, tid, "ticket withdrawn", e)) != 0 ||
	    (r = set_status(h, tid, "withdrawn", reason, e)) != 0 ||
	    (r = json_error(&j)) != 0 ||
	    (r = home_record(h, "ticket.withdraw", tid, detail.data, e)) != 0 ||
	    (r = home_commit(h, e)) != 0)
		goto abort;
	goto out;
abort:
	home_abort(h);
out:
	ticket_free(t);
	buf_release(&detail);
	return r;
}
