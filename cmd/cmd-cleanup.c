/*
 * cmd-cleanup.c - breakglass cleanup: the checklist that must be finished
 * before a ticket closes.
 */
#include "cmd.h"
#include "json.h"
#include "repocheck.h"
#include "ticket.h"
#include "utc.h"
#include "workflow.h"

#include <stdio.h>
#include <string.h>

static const char usage_text[] =
	"usage: breakglass cleanup T [--json]\n"
	"       breakglass cleanup T ITEM --done [--note TEXT]\n"
	"       breakglass cleanup T ITEM --na --reason TEXT\n"
	"       breakglass cleanup T branch-merged|staging-applied --repo PATH --branch NAME\n"
	"                  --path-map HOSTDIR=REPODIR... [--audit-dir DIR] [--reason TEXT]\n\n"
	"Items: grants-revoked (checked automatically), secrets-rotated,\n"
	"branch-merged, staging-applied, runbook-updated, followup-ticket (--note\n"
	"names it), before-images-dropped (a plan with a SQL patch: its before-images\n"
	"dropped on the host, breakglass rollback T --sql TAG --drop-image; not\n"
	"applicable otherwise).  Each is recorded with who and when.\n\n"
	"branch-merged and staging-applied are checked with git: every file the\n"
	"ticket's change sets (from the verified host logs: host-log lines in the\n"
	"config, or --audit-dir) left changed must be on BRANCH of the repository\n"
	"with the content production has now, and every file the hotfix deleted\n"
	"must be gone.  --path-map says where a host directory is in the\n"
	"repository (e.g. --path-map /srv/shop/current=.); the longest match wins.\n"
	"What differs is listed and the item stays open (exit 1), unless --reason\n"
	"says why: then it is done and marked NOT VERIFIED.  --done without --repo\n"
	"needs --reason too and is marked not verified.  git runs without a shell,\n"
	"with no system or global config, hooks and fsmonitor off and no network.\n";

static const opt_def defs[] = {
	{ "--done", 0 },
	{ "--na", 0 },
	{ "--note", OPT_ARG },
	{ "--reason", OPT_ARG },
	{ "--repo", OPT_ARG },
	{ "--branch", OPT_ARG },
	{ "--path-map", OPT_ARG | OPT_MULTI },
	{ "--audit-dir", OPT_ARG },
	{ NULL, 0 }
};

/* cleanup T ITEM --repo PATH --branch NAME --path-map ...: the git check */
static int
cleanup_repo(home *h, cmd_args *a, int64_t tid)
{
	repocheck c;
	bg_error e;
	char maps[REPOCHECK_MAX_MAPS][4096];
	int r, i;

	memset(&c, 0, sizeof(c));
	bg_error_clear(&e);
	c.repo = cmd_opt(a, 4);
	c.branch = cmd_opt(a, 5);
	c.audit_dir = cmd_opt(a, 7);
	if (c.branch == NULL)
		return cmd_failf(EXIT_USAGE, "cleanup: --repo needs --branch NAME (the branch that "
		    "should hold the hotfix)");
	if (a->val[6].n > REPOCHECK_MAX_MAPS)
		return cmd_failf(EXIT_USAGE, "cleanup: at most %d --path-map options",
		    REPOCHECK_MAX_MAPS);
	for (i = 0; i < a->val[6].n; i++) {
		snprintf(maps[i], sizeof(maps[i]), "%s", a->val[6].all[i]);
		if ((r = repocheck_add_map(&c, maps[i], &e)) != 0)
			return cmd_fail(r, &e);
	}
	buf_init(&c.diffs, 1024u * 1024);
	r = workflow_cleanup_repo(h, tid, a->pos[1], &c, cmd_opt(a, 3), &e);
	if (c.differ > 0) {
		/* the list goes with the outcome: stdout when recorded (not as JSON) */
		FILE *f = r == 0 && !a->json ? stdout : stderr;

		fprintf(f, "%zu of %zu path(s) are not on %s (%.12s) as production has them:\n",
		    c.differ, c.checked, c.branch, c.commit);
		fwrite(c.diffs.data, 1, c.diffs.len, f);
	}
	if (r != 0)
		r = cmd_fail(r, &e);
	else if (a->json) {
		buf o;
		json j;
		char tname[32];

		snprintf(tname, sizeof(tname), "T-%lld", (long long)tid);
		buf_init(&o, 64 * 1024);
		json_init(&j, &o);
		json_obj_begin(&j);
		json_kv_str(&j, "ticket", tname);
		json_kv_str(&j, "item", a->pos[1]);
		json_kv_str(&j, "state", "done");
		json_kv_bool(&j, "verified", c.differ == 0);
		json_kv_str(&j, "branch", c.branch);
		json_kv_str(&j, "commit", c.commit);
		json_kv_int(&j, "checked", (int64_t)c.checked);
		json_kv_int(&j, "differ", (int64_t)c.differ);
		json_obj_end(&j);
		buf_putc(&o, '\n');
		r = json_error(&j) ? EXIT_SYSTEM : cmd_write_out(&o);
		buf_release(&o);
	} else if (c.differ == 0)
		printf("T-%lld: %s verified: %s (%.12s) has all %zu path(s) the change sets "
		    "changed, as production has them\n", (long long)tid, a->pos[1], c.branch,
		    c.commit, c.checked);
	else
		printf("T-%lld: %s marked done, NOT VERIFIED: %s\n", (long long)tid, a->pos[1],
		    cmd_opt(a, 3));
	buf_release(&c.diffs);
	return r;
}

int
cmd_cleanup(int argc, char **argv)
{
	cmd_args a;
	home *h = NULL;
	bg_error e;
	int64_t tid;
	char tname[32];
	int r;

	if ((r = cmd_parse("cleanup", argc, argv, defs, &a)) != 0)
		return r;
	if (a.help)
		return cmd_usage(usage_text);
	if (a.npos < 1 || a.npos > 2)
		return cmd_failf(EXIT_USAGE, "cleanup: expected T [ITEM --done|--na]");
	if ((r = cmd_ticket_id(a.pos[0], &tid)) != 0)
		return r;
	snprintf(tname, sizeof(tname), "T-%lld", (long long)tid);
	if (a.npos == 2 && cmd_opt(&a, 4) != NULL) {
		if (a.val[1].set)
			return cmd_failf(EXIT_USAGE, "cleanup: --repo checks the item: give it "
			    "without --na");
	} else if (a.npos == 2 && a.val[0].set == a.val[1].set)
		return cmd_failf(EXIT_USAGE, "cleanup: give --done or --na");
	if (cmd_opt(&a, 4) == NULL && (cmd_opt(&a, 5) || a.val[6].n || cmd_opt(&a, 7)))
		return cmd_failf(EXIT_USAGE, "cleanup: --branch, --path-map and --audit-dir go "
		    "with --repo PATH");
	if ((r = cmd_open_home(&a, &h)) != 0)
		return r;
	bg_error_clear(&e);
	if (a.npos == 2 && cmd_opt(&a, 4) != NULL) {
		r = cleanup_repo(h, &a, tid);
	} else if (a.npos == 2) {
		/* --done --reason: why a checkable item was not checked */
		int checkable = strcmp(a.pos[1], "branch-merged") == 0 ||
		    strcmp(a.pos[1], "staging-applied") == 0;
		const char *note = a.val[1].set || checkable ? cmd_opt(&a, 3) : cmd_opt(&a, 2);

		if ((r = workflow_cleanup(h, tid, a.pos[1], a.val[0].set ? "done" : "na", note, &e)) != 0)
			r = cmd_fail(r, &e);
		else if (a.json)
			r = cmd_json_done("ticket", tname, "item", a.pos[1], "state",
			    a.val[0].set ? "done" : "na", NULL);
		else
			printf("T-%lld: %s marked %s\n", (long long)tid, a.pos[1],
			    !a.val[0].set ? "not applicable" : checkable ?
			    "done, not verified (check it with --repo PATH --branch NAME)" : "done");
	} else {
		ticket *t = NULL;
		steps_status s;
		sqlite3_stmt *st = NULL;
		buf out;
		json j;

		buf_init(&out, 64 * 1024);
		if ((r = ticket_load(h, tid, &t, &e)) != 0 || (r = steps_status_now(h, t, &s, &e)) != 0 ||
		    (r = store_prepare(h->st, "SELECT state, note, actor, time FROM cleanup WHERE "
		    "ticket = ?1 AND item = ?2", &st, &e)) != 0) {
			r = cmd_fail(r, &e);
		} else {
			json_init(&j, &out);
			if (a.json)
				json_arr_begin(&j);
			for (int i = 0; steps_cleanup_items[i]; i++) {
				const char *state = "open", *note = "", *who = "";
				int64_t when = 0;

				if (i == 0) {
					state = s.grants_open ? "open" : "done";
				} else if (steps_cleanup_implied(&s.g, steps_cleanup_items[i])) {
					state = "na";
					note = "no SQL patch";
				} else {
					sqlite3_reset(st);
					store_bind_int(st, 1, tid);
					store_bind_text(st, 2, steps_cleanup_items[i]);
					if (sqlite3_step(st) == SQLITE_ROW) {
						state = store_col_text(st, 0);
						note = store_col_text(st, 1);
						who = store_col_text(st, 2);
						when = sqlite3_column_int64(st, 3);
					}
				}
				if (a.json) {
					json_obj_begin(&j);
					json_kv_str(&j, "item", steps_cleanup_items[i]);
					json_kv_str(&j, "state", state);
					json_kv_str(&j, "note", note);
					json_kv_str(&j, "by", who);
					json_kv_time(&j, "time", when);
					json_obj_end(&j);
				} else {
					char b[UTC_STRLEN] = "";

					if (when)
						utc_format(when, b);
					buf_printf(&out, "[%c] %-16s %-5s%s%s%s%s%s%s\n",
					    strcmp(state, "open") ? 'x' : ' ', steps_cleanup_items[i], state,
					    *who ? " by " : "", who, *b ? " at " : "", b, *note ? " - " : "",
					    note);
					if (i == 0 && s.grants_open)
						buf_printf(&out, "    %d grant(s) still open: breakglass grant "
						    "list T-%lld\n", s.grants_open, (long long)tid);
				}
			}
			if (a.json) {
				json_arr_end(&j);
				buf_putc(&out, '\n');
			}
			r = cmd_write_out(&out);
		}
		sqlite3_finalize(st);
		ticket_free(t);
		buf_release(&out);
	}
	home_close(h);
	return r;
}
