/*
 * cmd-cleanup.c - breakglass cleanup: the checklist that must be finished
 * before a ticket closes.
 */
#include "cmd.h"
#include "json.h"
#include "ticket.h"
#include "utc.h"
#include "workflow.h"

#include <stdio.h>
#include <string.h>

static const char usage_text[] =
	"usage: breakglass cleanup T [--json]\n"
	"       breakglass cleanup T ITEM --done [--note TEXT]\n"
	"       breakglass cleanup T ITEM --na --reason TEXT\n\n"
	"Items: grants-revoked (checked automatically), secrets-rotated,\n"
	"branch-merged, staging-applied, runbook-updated, followup-ticket (--note\n"
	"names it).  Each is recorded with who and when.\n";

static const opt_def defs[] = {
	{ "--done", 0 },
	{ "--na", 0 },
	{ "--note", OPT_ARG },
	{ "--reason", OPT_ARG },
	{ NULL, 0 }
};

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
	if (a.npos == 2 && a.val[0].set == a.val[1].set)
		return cmd_failf(EXIT_USAGE, "cleanup: give --done or --na");
	if ((r = cmd_open_home(&a, &h)) != 0)
		return r;
	bg_error_clear(&e);
	if (a.npos == 2) {
		const char *note = a.val[1].set ? cmd_opt(&a, 3) : cmd_opt(&a, 2);

		if ((r = workflow_cleanup(h, tid, a.pos[1], a.val[0].set ? "done" : "na", note, &e)) != 0)
			r = cmd_fail(r, &e);
		else if (a.json)
			r = cmd_json_done("ticket", tname, "item", a.pos[1], "state",
			    a.val[0].set ? "done" : "na", NULL);
		else
			printf("T-%lld: %s marked %s\n", (long long)tid, a.pos[1],
			    a.val[0].set ? "done" : "not applicable");
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
