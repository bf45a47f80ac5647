/*
 * workflow.c - what moves a ticket along: backup evidence, smoke results,
 * cleanup items, closing and withdrawing.
 *
 * Where the ticket stands is steps.c's answer; this module records and
 * acts on it.  Closing is the one place that needs everything: it reaps
 * grants (grant), checks the steps, and writes the final report (report),
 * so it sits above all three.
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

int
workflow_evidence(home *h, int64_t tid, const char *kind, const char *method, const char *what,
    const char *location, const char *taken, const char *file, const char *sha256,
    bg_error *e)
{
	ticket *t = NULL;
	sqlite3_stmt *st = NULL;
	buf detail;
	json j;
	char computed[65] = "";
	int64_t tk = 0;
	int verified = 0, r;

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
		if (taken == NULL)
			return bg_fail(e, BG_ERR_USAGE, "say when it was taken with --taken "
			    "(" UTC_HUMAN_EXAMPLE ")");
		if (utc_parse_human(taken, &tk) != 0)
			return bg_fail(e, BG_ERR_USAGE, "--taken '%.80s' is not a time with its zone; "
			    "write it like " UTC_HUMAN_EXAMPLE, taken);
		if (tk > utc_now() + h->clock_skew)
			return bg_fail(e, BG_ERR_INVALID, "--taken is in the future");
	} else {
		const char *known;

		/* free text ("restore last night's snapshot"); the known ones by name */
		if (method == NULL || method[strspn(method, " \t")] == '\0')
			return bg_fail(e, BG_ERR_USAGE, "say how to roll back with --method (e.g. "
			    "redeploy-previous, restore-backup, or in your words)");
		if ((known = ticket_rollback_method(method)) != NULL)
			method = known;
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
	if ((r = ticket_load_for_change(h, tid, "record evidence", &t, e)) != 0)
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
	if ((r = home_record_json(h, "evidence.add", tid, &j, e)) != 0 ||
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

/*
 * One row of smoke_results: a result checked by hand (c NULL; waiver the
 * smoke-waiver statement or 0) or a check that ran (c, its phase and the
 * expected status as shown).  Inside the caller's state change.
 */
static int
smoke_insert(home *h, int64_t tid, const char *result, const char *notes, int64_t waiver,
    const smokecheck *c, const char *phase, const char *expect, bg_error *e)
{
	sqlite3_stmt *st;
	int r;

	if ((r = store_prepare(h->st, "INSERT INTO smoke_results (ticket, result, notes, recorded, "
	    "actor, waiver, kind, phase, url, expect, http_status, elapsed_ms, body_sha256, "
	    "body_size) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
	    &st, e)) != 0)
		return r;
	store_bind_int(st, 1, tid);
	store_bind_text(st, 2, result);
	store_bind_text(st, 3, notes);
	store_bind_int(st, 4, h->now);
	store_bind_text(st, 5, h->actor);
	if (waiver)
		store_bind_int(st, 6, waiver);
	store_bind_text(st, 7, c ? "check" : "manual");
	if (c != NULL) {   /* unbound parameters are NULL */
		store_bind_text(st, 8, phase);
		store_bind_text(st, 9, c->url);
		store_bind_text(st, 10, expect);
		store_bind_int(st, 11, c->status);
		store_bind_int(st, 12, c->elapsed_ms);
		store_bind_text(st, 13, c->body_sha256);
		store_bind_int(st, 14, (int64_t)c->body_size);
	}
	if (sqlite3_step(st) != SQLITE_DONE)
		r = store_fail(h->st, e, "cannot store the smoke result");
	sqlite3_finalize(st);
	return r;
}

int
workflow_smoke(home *h, int64_t tid, const char *result, const char *notes, bg_error *e)
{
	ticket *t = NULL;
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
	if ((r = ticket_load_for_change(h, tid, "record smoke results", &t, e)) != 0)
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
	/* every result is kept; the newest one counts for closing */
	if ((r = smoke_insert(h, tid, result, notes, as.statement, NULL, NULL, NULL, e)) != 0)
		goto abort;
	json_init(&j, &detail);
	json_obj_begin(&j);
	json_kv_str(&j, "result", result);
	json_kv_str(&j, "notes", notes);
	if (as.statement)
		json_kv_int(&j, "waiver_statement", as.statement);
	json_obj_end(&j);
	if ((r = home_commit_json(h, "smoke.record", tid, &j, e)) != 0)
		goto abort;
	goto out;
abort:
	home_abort(h);
out:
	ticket_free(t);
	buf_release(&detail);
	return r;
}

int
workflow_smoke_check(home *h, int64_t tid, smokecheck *c, const char **phase, bg_error *e)
{
	ticket *t = NULL;
	buf detail, notes;
	json j;
	char expect[16];
	int writes, r;

	*phase = NULL;
	buf_init(&detail, 8192);
	buf_init(&notes, 4096);
	if ((r = smokecheck_validate(c, e)) != 0)
		return r;
	/* the URL is recorded: it passes the secret check like any text */
	if ((r = scan_input("check URL", c->url, 2048, 0, e)) != 0 ||
	    (c->contains && (r = scan_input("contains", c->contains, 1024, 0, e)) != 0))
		return r;
	/* the request runs outside the store's write lock */
	if ((r = smokecheck_run(c, e)) != 0)
		return r;
	if ((r = home_begin(h, e)) != 0)
		return r;
	if ((r = ticket_load_for_change(h, tid, "record smoke results", &t, e)) != 0 ||
	    (r = store_count(h->st, "SELECT count(*) FROM grants WHERE ticket = ? AND writes = 1 "
	    "AND not_before IS NOT NULL", tid, &writes, e)) != 0)
		goto abort;
	/* before any write access: the check shows the incident; after: the fix */
	*phase = writes > 0 ? "after" : "before";
	if (c->expect)
		snprintf(expect, sizeof(expect), "%d", c->expect);
	else
		snprintf(expect, sizeof(expect), "2xx");
	if (c->name)
		buf_printf(&notes, "check %s: ", c->name);
	buf_printf(&notes, "GET %s: %s (status %ld, expected %s%s%s, %lld ms, body %llu bytes "
	    "sha256 %s)", c->url, c->pass ? "pass" : c->why, c->status, expect,
	    c->contains ? ", containing " : "", c->contains ? c->contains : "",
	    (long long)c->elapsed_ms, (unsigned long long)c->body_size, c->body_sha256);
	if ((r = smoke_insert(h, tid, c->pass ? "pass" : "fail", buf_cstr(&notes), 0, c, *phase,
	    expect, e)) != 0)
		goto abort;
	json_init(&j, &detail);
	json_obj_begin(&j);
	json_kv_str(&j, "kind", "check");
	if (c->name)
		json_kv_str(&j, "name", c->name);
	json_kv_str(&j, "phase", *phase);
	json_kv_str(&j, "result", c->pass ? "pass" : "fail");
	json_kv_str(&j, "url", c->url);
	json_kv_str(&j, "expect", expect);
	json_kv_int(&j, "status", c->status);
	json_kv_int(&j, "elapsed_ms", c->elapsed_ms);
	json_kv_str(&j, "body_sha256", c->body_sha256);
	json_kv_int(&j, "body_size", (int64_t)c->body_size);
	if (!c->pass)
		json_kv_str(&j, "why", c->why);
	json_obj_end(&j);
	if ((r = home_commit_json(h, "smoke.check", tid, &j, e)) != 0)
		goto abort;
	goto out;
abort:
	home_abort(h);
out:
	ticket_free(t);
	buf_release(&detail);
	buf_release(&notes);
	return r;
}

int
workflow_smoke_command(home *h, int64_t tid, smokecmd *c, const char **phase, bg_error *e)
{
	ticket *t = NULL;
	sqlite3_stmt *st = NULL;
	buf detail, notes, cmd;
	json j;
	char expect[8], when[UTC_STRLEN];
	int64_t first_write = 0;
	int r, by_writer = -1;

	*phase = NULL;
	buf_init(&detail, 16384);
	buf_init(&notes, 16384);
	buf_init(&cmd, 16384);
	/* the logs are read (and verified) outside the store's write lock */
	if ((r = smokecmd_find(h, tid, c, e)) != 0)
		goto out;
	if ((r = argv_join(&c->av, &cmd)) != 0 ||
	    (r = scan_input("check command", buf_cstr(&cmd), 16384, 0, e)) != 0)
		goto out;
	if ((r = home_begin(h, e)) != 0)
		goto out;
	if ((r = ticket_load_for_change(h, tid, "record smoke results", &t, e)) != 0)
		goto abort;
	if ((r = store_prepare(h->st, "SELECT (SELECT coalesce(min(not_before), 0) FROM grants "
	    "WHERE ticket = ?1 AND writes = 1 AND not_before IS NOT NULL), "
	    "(SELECT writes FROM grants WHERE ticket = ?1 AND id = ?2)", &st, e)) != 0)
		goto abort;
	store_bind_int(st, 1, tid);
	store_bind_int(st, 2, c->grant);
	if (sqlite3_step(st) == SQLITE_ROW) {
		first_write = sqlite3_column_int64(st, 0);
		by_writer = sqlite3_column_type(st, 1) == SQLITE_NULL ? -1 :
		    sqlite3_column_int(st, 1);
	}
	sqlite3_finalize(st);
	st = NULL;
	if (by_writer < 0) {
		r = bg_fail(e, BG_ERR_CORRUPT, "host log record %llu names grant G-%lld, which is "
		    "not a grant of T-%lld", (unsigned long long)c->seq, (long long)c->grant,
		    (long long)tid);
		goto abort;
	}
	/*
	 * The host's record of the run decides: before the first write access
	 * it shows the incident, from then on the fix.  A run under a write
	 * grant is after by itself; otherwise its time (whole seconds) must be
	 * past the activation - the same second is before, which never counts.
	 */
	*phase = by_writer == 1 || (first_write != 0 && c->when > first_write) ? "after" :
	    "before";
	snprintf(expect, sizeof(expect), "%d", c->expect_exit);
	utc_format(c->when, when);
	buf_printf(&notes, "check %s: %s on %s: %s%s (host log record %llu at %s, grant G-%lld)",
	    c->name ? c->name : "", buf_cstr(&cmd), c->hostname[0] ? c->hostname : "the host",
	    c->pass ? "pass, exit " : c->why, c->pass ? expect : "", (unsigned long long)c->seq,
	    when, (long long)c->grant);
	if ((r = store_prepare(h->st, "INSERT INTO smoke_results (ticket, result, notes, recorded, "
	    "actor, kind, phase, expect, command, host, log_seq, log_time, grant_id, exit_status) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, 'command', ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
	    &st, e)) != 0)
		goto abort;
	store_bind_int(st, 1, tid);
	store_bind_text(st, 2, c->pass ? "pass" : "fail");
	store_bind_text(st, 3, buf_cstr(&notes));
	store_bind_int(st, 4, h->now);
	store_bind_text(st, 5, h->actor);
	store_bind_text(st, 6, *phase);
	store_bind_text(st, 7, expect);
	store_bind_text(st, 8, buf_cstr(&cmd));
	if (c->hostname[0])
		store_bind_text(st, 9, c->hostname);
	store_bind_int(st, 10, (int64_t)c->seq);
	store_bind_int(st, 11, c->when);
	store_bind_int(st, 12, c->grant);
	store_bind_int(st, 13, c->status);
	if (sqlite3_step(st) != SQLITE_DONE) {
		r = store_fail(h->st, e, "cannot store the smoke result");
		goto abort;
	}
	json_init(&j, &detail);
	json_obj_begin(&j);
	json_kv_str(&j, "kind", "command");
	if (c->name)
		json_kv_str(&j, "name", c->name);
	json_kv_str(&j, "phase", *phase);
	json_kv_str(&j, "result", c->pass ? "pass" : "fail");
	json_kv_str(&j, "command", buf_cstr(&cmd));
	json_kv_str(&j, "host", c->hostname[0] ? c->hostname : NULL);
	json_kv_int(&j, "log_seq", (int64_t)c->seq);
	json_kv_str(&j, "log_time", when);
	json_kv_int(&j, "grant", c->grant);
	json_kv_int(&j, "exit", c->status);
	json_kv_int(&j, "expect_exit", c->expect_exit);
	if (!c->pass)
		json_kv_str(&j, "why", c->why);
	json_obj_end(&j);
	if ((r = home_commit_json(h, "smoke.check", tid, &j, e)) != 0)
		goto abort;
	goto out;
abort:
	home_abort(h);
out:
	sqlite3_finalize(st);
	ticket_free(t);
	buf_release(&detail);
	buf_release(&notes);
	buf_release(&cmd);
	return r;
}

int
workflow_smoke_client(home *h, int64_t tid, const smokecheck *c, const char *phase,
    const char *expect, const char *notes, const char *who, bg_error *e)
{
	char actor[sizeof(h->actor)];
	buf detail;
	json j;
	int r;

	if ((strcmp(phase, "before") != 0 && strcmp(phase, "after") != 0) ||
	    strlen(who) >= sizeof(h->actor))
		return bg_fail(e, BG_ERR_INVALID, "client-run check: bad phase or signer");
	memcpy(actor, h->actor, sizeof(actor));
	snprintf(h->actor, sizeof(h->actor), "%s", who);
	r = smoke_insert(h, tid, c->pass ? "pass" : "fail", notes, 0, c, phase, expect, e);
	memcpy(h->actor, actor, sizeof(actor));
	if (r != 0)
		return r;
	buf_init(&detail, 8192);
	json_init(&j, &detail);
	json_obj_begin(&j);
	json_kv_str(&j, "kind", "check");
	json_kv_bool(&j, "client_run", 1);
	if (c->name)
		json_kv_str(&j, "name", c->name);
	json_kv_str(&j, "phase", phase);
	json_kv_str(&j, "result", c->pass ? "pass" : "fail");
	json_kv_str(&j, "url", c->url);
	json_kv_str(&j, "expect", expect);
	json_kv_int(&j, "status", c->status);
	json_kv_int(&j, "elapsed_ms", c->elapsed_ms);
	json_kv_str(&j, "body_sha256", c->body_sha256);
	json_kv_int(&j, "body_size", (int64_t)c->body_size);
	json_kv_str(&j, "signer", who);
	json_obj_end(&j);
	r = home_record_json(h, "smoke.check", tid, &j, e);
	buf_release(&detail);
	return r;
}

static int cleanup_mark(home *h, int64_t tid, const char *item, const char *state,
    const char *note, bg_error *e);

static int
repo_item(const char *item)
{
	return strcmp(item, "branch-merged") == 0 || strcmp(item, "staging-applied") == 0;
}

int
workflow_cleanup(home *h, int64_t tid, const char *item, const char *state, const char *note,
    bg_error *e)
{
	char unverified[1100];

	/* the hotfix back in the repository is checked, or marked as not verified */
	if (repo_item(item) && strcmp(state, "done") == 0) {
		if (note == NULL || *note == '\0')
			return bg_fail(e, BG_ERR_USAGE, "'%s' is checked against the repository: "
			    "breakglass cleanup T-%lld %s --repo PATH --branch NAME --path-map "
			    "HOSTDIR=REPODIR; or say why it cannot be checked with --done --reason "
			    "TEXT (recorded as not verified)", item, (long long)tid, item);
		if (strlen(note) > 1000)
			return bg_fail(e, BG_ERR_INVALID, "--reason is longer than 1000 bytes");
		snprintf(unverified, sizeof(unverified), "not verified: %s", note);
		note = unverified;
	}
	return cleanup_mark(h, tid, item, state, note, e);
}

int
workflow_cleanup_repo(home *h, int64_t tid, const char *item, repocheck *c, const char *reason,
    bg_error *e)
{
	char note[1400];
	int r;

	if (!repo_item(item))
		return bg_fail(e, BG_ERR_USAGE, "only branch-merged and staging-applied are checked "
		    "against a repository, not '%.32s'", item);
	if (reason != NULL && (r = scan_input("reason", reason, 500, 0, e)) != 0)
		return r;
	/* git and the host logs are read before the state change begins */
	if ((r = repocheck_run(h, tid, c, e)) != 0)
		return r;
	if (c->differ > 0 && (reason == NULL || *reason == '\0'))
		return bg_fail(e, BG_ERR_GATE, "'%s' not done: %zu of %zu path(s) the change sets "
		    "changed are not on '%s' (%.12s) as production has them; commit the fix "
		    "there and run this again, or record it as not verified with --reason TEXT",
		    item, c->differ, c->checked, c->branch, c->commit);
	if (c->differ > 0)
		snprintf(note, sizeof(note), "NOT VERIFIED: %zu of %zu path(s) differ on %.200s at "
		    "%.12s in %.300s: %s", c->differ, c->checked, c->branch, c->commit, c->repo,
		    reason);
	else
		snprintf(note, sizeof(note), "verified: %.200s at %.12s in %.300s has all %zu "
		    "path(s) the change sets changed, as production has them%s%s", c->branch,
		    c->commit, c->repo, c->checked, reason ? "; " : "", reason ? reason : "");
	return cleanup_mark(h, tid, item, "done", note, e);
}

static int
cleanup_mark(home *h, int64_t tid, const char *item, const char *state, const char *note,
    bg_error *e)
{
	ticket *t = NULL;
	sqlite3_stmt *st = NULL;
	buf detail;
	json j;
	int r, known = 0;

	buf_init(&detail, 4096);
	for (int i = 1; steps_cleanup_items[i]; i++)
		if (strcmp(item, steps_cleanup_items[i]) == 0)
			known = 1;
	if (strcmp(item, "grants-revoked") == 0)
		return bg_fail(e, BG_ERR_USAGE, "'grants-revoked' is checked automatically: revoke "
		    "the grants instead");
	if (!known)
		return bg_fail(e, BG_ERR_USAGE, "unknown cleanup item '%.32s' (secrets-rotated, "
		    "branch-merged, staging-applied, runbook-updated, followup-ticket, "
		    STEPS_CLEANUP_IMAGES ")", item);
	if (strcmp(state, "na") == 0 && (note == NULL || *note == '\0'))
		return bg_fail(e, BG_ERR_USAGE, "say why '%s' does not apply with --reason", item);
	if (strcmp(item, "followup-ticket") == 0 && strcmp(state, "done") == 0 &&
	    (note == NULL || *note == '\0'))
		return bg_fail(e, BG_ERR_USAGE, "name the follow-up ticket with --note");
	if (note == NULL)
		note = "";
	if ((r = scan_input("note", note, 1500, 0, e)) != 0)
		return r;
	if ((r = home_begin(h, e)) != 0)
		return r;
	if ((r = ticket_load_for_change(h, tid, "record cleanup", &t, e)) != 0)
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
	if ((r = home_commit_json(h, "cleanup.mark", tid, &j, e)) != 0)
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

/* Revoke the ticket's never-activated grants, one record naming each. */
static int
end_unused_grants(home *h, int64_t tid, const char *why, bg_error *e)
{
	sqlite3_stmt *st = NULL;
	int64_t ids[256];
	size_t n = 0, i;
	int r, rc;

again:
	/* in batches: the ones ended drop out of the next SELECT */
	if ((r = store_prepare(h->st, "SELECT id FROM grants WHERE ticket = ? AND "
	    "state IN ('requested','approved') ORDER BY id LIMIT 256", &st, e)) != 0)
		return r;
	store_bind_int(st, 1, tid);
	n = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < sizeof(ids) / sizeof(ids[0]))
		ids[n++] = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	st = NULL;
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return store_fail(h->st, e, "cannot list unused grants");
	for (i = 0; i < n; i++) {
		buf d;
		json j;

		if ((r = store_prepare(h->st, "UPDATE grants SET state = 'revoked', ended = ?, "
		    "ended_by = ?, end_reason = ? WHERE id = ?", &st, e)) != 0)
			return r;
		store_bind_int(st, 1, h->now);
		store_bind_text(st, 2, h->actor);
		store_bind_text(st, 3, why);
		store_bind_int(st, 4, ids[i]);
		rc = sqlite3_step(st);
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE || sqlite3_changes(h->st->db) != 1)
			return store_fail(h->st, e, "cannot end a never-activated grant");
		buf_init(&d, 1024);
		json_init(&j, &d);
		json_obj_begin(&j);
		json_kv_int(&j, "grant", ids[i]);
		json_kv_str(&j, "reason", why);
		json_obj_end(&j);
		r = home_record_json(h, "grant.cancel", tid, &j, e);
		buf_release(&d);
		if (r != 0)
			return r;
	}
	if (n == sizeof(ids) / sizeof(ids[0]))
		goto again;
	return 0;
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
	steps_status s;
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
	/* every check first: a refused close changes nothing, records nothing */
	if ((r = ticket_load_for_change(h, tid, "close it", &t, e)) != 0 ||
	    (r = steps_status_now(h, t, &s, e)) != 0)
		goto abort;
	if (!s.step[7].done) {
		r = bg_fail(e, BG_ERR_GATE, "cannot close 'T-%lld': smoke test: %s", (long long)tid,
		    s.step[7].missing);
		goto abort;
	}
	/* step 10: the cleanup items, then the owner's word last */
	if (s.grants_open > 0 || s.cleanup_open > 0) {
		r = bg_fail(e, BG_ERR_GATE, "cannot close 'T-%lld': cleanup: %s", (long long)tid,
		    s.step[9].missing);
		goto abort;
	}
	if (!s.owner_ok || !s.step[9].done) {
		r = bg_fail(e, BG_ERR_GATE, "cannot close 'T-%lld': %s", (long long)tid,
		    s.owner_missing);
		goto abort;
	}
	/* the report reads this change's records (grants cancelled now) */
	if ((r = end_unused_grants(h, tid, "never activated; ticket closed", e)) != 0 ||
	    (r = set_status(h, tid, "closed", NULL, e)) != 0 || (r = home_flush(h, e)) != 0)
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
	    (r = home_checkpoint(h, tid, e)) != 0 ||
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
	if ((r = ticket_load_for_change(h, tid, "withdraw it", &t, e)) != 0 ||
	    (r = store_count(h->st, "SELECT count(*) FROM grants WHERE ticket = ? AND not_before IS NOT NULL",
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
	    (r = home_commit_json(h, "ticket.withdraw", tid, &j, e)) != 0)
		goto abort;
	goto out;
abort:
	home_abort(h);
out:
	ticket_free(t);
	buf_release(&detail);
	return r;
}
