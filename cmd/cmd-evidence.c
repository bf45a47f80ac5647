/*
 * cmd-evidence.c - breakglass evidence: backup and rollback evidence.
 */
#include "cmd.h"
#include "json.h"
#include "utc.h"
#include "workflow.h"

#include <stdio.h>
#include <string.h>

static const char usage_text[] =
	"usage: breakglass evidence T backup --what TEXT --where LOCATION --taken TIME\n"
	"                             [--file PATH [--sha256 HEX]] [--sha256 HEX]\n"
	"       breakglass evidence T rollback --method METHOD --what TEXT\n"
	"       breakglass evidence T [--json]          (list)\n\n"
	"Write access stays closed until a backup and a rollback path are recorded\n"
	"(or an approver signs a risk acceptance).  With --file the backup's SHA-256\n"
	"is computed from the file and, with --sha256, must match.\n"
	"TIME has its zone: 2026-11-21T02:10Z or 2026-11-21 03:10 +01:00.  METHOD\n"
	"is free text; the usual ones are restore-backup revert-commit\n"
	"redeploy-previous switch-theme disable-plugin restore-image\n"
	"rollback-migration restore-dns-cdn prepared-patch.\n";

static const opt_def defs[] = {
	{ "--what", OPT_ARG },
	{ "--where", OPT_ARG },
	{ "--taken", OPT_ARG },
	{ "--file", OPT_ARG },
	{ "--sha256", OPT_ARG },
	{ "--method", OPT_ARG },
	{ NULL, 0 }
};

int
cmd_evidence(int argc, char **argv)
{
	cmd_args a;
	home *h = NULL;
	bg_error e;
	int64_t tid;
	char tname[32];
	int r;

	if ((r = cmd_parse("evidence", argc, argv, defs, &a)) != 0)
		return r;
	if (a.help)
		return cmd_usage(usage_text);
	if (a.npos < 1 || a.npos > 2)
		return cmd_failf(EXIT_USAGE, "evidence: expected T [backup|rollback]");
	if ((r = cmd_ticket_id(a.pos[0], &tid)) != 0)
		return r;
	snprintf(tname, sizeof(tname), "T-%lld", (long long)tid);
	if ((r = cmd_open_home(&a, &h)) != 0)
		return r;
	bg_error_clear(&e);
	if (a.npos == 1) {
		sqlite3_stmt *st;
		buf out;
		json j;

		buf_init(&out, 1024 * 1024);
		if ((r = store_prepare(h->st, "SELECT kind, method, what, location, taken, sha256, "
		    "verified, recorded, actor FROM evidence WHERE ticket = ? ORDER BY id", &st, &e)) != 0) {
			home_close(h);
			return cmd_fail(r, &e);
		}
		store_bind_int(st, 1, tid);
		json_init(&j, &out);
		if (a.json)
			json_arr_begin(&j);
		while (sqlite3_step(st) == SQLITE_ROW) {
			char b[UTC_STRLEN];

			if (a.json) {
				json_obj_begin(&j);
				json_kv_str(&j, "kind", store_col_text(st, 0));
				json_kv_str(&j, "method", store_col_text(st, 1));
				json_kv_str(&j, "what", store_col_text(st, 2));
				json_kv_str(&j, "where", store_col_text(st, 3));
				json_kv_time(&j, "taken", sqlite3_column_int64(st, 4));
				json_kv_str(&j, "sha256", (const char *)sqlite3_column_text(st, 5));
				json_kv_bool(&j, "verified", sqlite3_column_int(st, 6));
				json_kv_time(&j, "recorded", sqlite3_column_int64(st, 7));
				json_kv_str(&j, "actor", store_col_text(st, 8));
				json_obj_end(&j);
			} else {
				utc_format(sqlite3_column_int64(st, 7), b);
				buf_printf(&out, "%-8s %s%s%s  (%s by %s)\n", store_col_text(st, 0),
				    store_col_text(st, 2), *store_col_text(st, 3) ? " @ " : "",
				    store_col_text(st, 3), b, store_col_text(st, 8));
			}
		}
		sqlite3_finalize(st);
		if (a.json) {
			json_arr_end(&j);
			buf_putc(&out, '\n');
		}
		r = cmd_write_out(&out);
		buf_release(&out);
	} else if ((r = workflow_evidence(h, tid, a.pos[1], cmd_opt(&a, 5), cmd_opt(&a, 0),
	    cmd_opt(&a, 1), cmd_opt(&a, 2), cmd_opt(&a, 3), cmd_opt(&a, 4), &e)) != 0) {
		r = cmd_fail(r, &e);
	} else if (a.json) {
		r = cmd_json_done("ticket", tname, "evidence", a.pos[1], "state", "recorded", NULL);
	} else {
		printf("T-%lld: %s evidence recorded\n", (long long)tid, a.pos[1]);
	}
	home_close(h);
	return r;
}
