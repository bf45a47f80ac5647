/*
 * cmd-project.c - breakglass project add|set|show|list.
 */
#include "cmd.h"
#include "json.h"
#include "project.h"
#include "utc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
	"usage: breakglass project add NAME [--quorum N] [--systems A,B,...]\n"
	"       breakglass project set NAME [--quorum N] [--systems A,B,...]\n"
	"       breakglass project show NAME [--json]\n"
	"       breakglass project list [--json]\n\n"
	"A project groups the systems an emergency may touch (requests for other\n"
	"systems are refused) and says how many distinct approvers must sign\n"
	"(quorum, default 1).\n";

static const opt_def defs[] = {
	{ "--quorum", OPT_ARG },
	{ "--systems", OPT_ARG },
	{ NULL, 0 }
};

static int
parse_quorum(const char *s, int *q)
{
	char *end;
	long v;

	*q = 0;
	if (s == NULL)
		return 0;
	v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || v < 1 || v > 9)
		return cmd_failf(EXIT_USAGE, "project: --quorum must be 1..9");
	*q = (int)v;
	return 0;
}

static int
show(home *h, const char *name, int as_json, buf *out)
{
	project *p = NULL;
	bg_error e;
	char t[UTC_STRLEN];
	int r;
	size_t i;

	bg_error_clear(&e);
	if ((r = project_load(h, name, &p, &e)) != 0)
		return cmd_fail(r, &e);
	utc_format(p->created, t);
	if (as_json) {
		json j;

		json_init(&j, out);
		json_obj_begin(&j);
		json_kv_str(&j, "name", p->name);
		json_kv_int(&j, "quorum", p->quorum);
		json_key(&j, "systems");
		json_arr_begin(&j);
		for (i = 0; i < p->nsystems; i++)
			json_str(&j, p->systems[i]);
		json_arr_end(&j);
		json_kv_str(&j, "created", t);
		json_obj_end(&j);
		buf_putc(out, '\n');
	} else {
		buf_printf(out, "project %s\n  quorum:  %d\n  systems:", p->name, p->quorum);
		for (i = 0; i < p->nsystems; i++)
			buf_printf(out, "%s%s", i ? ", " : " ", p->systems[i]);
		buf_printf(out, "%s\n  created: %s\n", p->nsystems ? "" : " (none)", t);
	}
	project_free(p);
	return 0;
}

int
cmd_project(int argc, char **argv)
{
	cmd_args a;
	home *h = NULL;
	buf out;
	bg_error e;
	const char *sub;
	int r, q;

	if ((r = cmd_parse("project", argc, argv, defs, &a)) != 0)
		return r;
	if (a.help)
		return cmd_usage(usage_text);
	if (a.npos < 1)
		return cmd_failf(EXIT_USAGE, "project: expected add, set, show or list");
	sub = a.pos[0];
	if (strcmp(sub, "add") && strcmp(sub, "set") && strcmp(sub, "show") && strcmp(sub, "list"))
	{
		static const char *const subs[] = { "add", "set", "show", "list", NULL };

		return cmd_unknown_sub("project", sub, subs);
	}
	if (strcmp(sub, "list") != 0 && a.npos != 2)
		return cmd_failf(EXIT_USAGE, "project %s: name one project", sub);
	if ((r = parse_quorum(cmd_opt(&a, 0), &q)) != 0)
		return r;
	if ((r = cmd_open_home(&a, &h)) != 0)
		return r;
	buf_init(&out, 1024 * 1024);
	bg_error_clear(&e);
	if (strcmp(sub, "add") == 0) {
		if ((r = project_add(h, a.pos[1], q, cmd_opt(&a, 1), &e)) != 0)
			r = cmd_fail(r, &e);
		else
			r = show(h, a.pos[1], a.json, &out);
	} else if (strcmp(sub, "set") == 0) {
		if (q == 0 && cmd_opt(&a, 1) == NULL)
			r = cmd_failf(EXIT_USAGE, "project set: give --quorum and/or --systems");
		else if ((r = project_set(h, a.pos[1], q, cmd_opt(&a, 1), &e)) != 0)
			r = cmd_fail(r, &e);
		else
			r = show(h, a.pos[1], a.json, &out);
	} else if (strcmp(sub, "show") == 0) {
		r = show(h, a.pos[1], a.json, &out);
	} else {
		sqlite3_stmt *st;
		int first = 1;

		if ((r = store_prepare(h->st, "SELECT name FROM projects ORDER BY name", &st, &e)) != 0) {
			r = cmd_fail(r, &e);
		} else {
			if (a.json)
				buf_puts(&out, "[");
			while (r == 0 && sqlite3_step(st) == SQLITE_ROW) {
				if (a.json) {
					buf b2;

					buf_init(&b2, 64 * 1024);
					r = show(h, store_col_text(st, 0), 1, &b2);
					if (b2.len > 0)
						b2.data[--b2.len] = '\0'; /* drop newline */
					buf_printf(&out, "%s%s", first ? "" : ",", buf_cstr(&b2));
					buf_release(&b2);
				} else
					r = show(h, store_col_text(st, 0), 0, &out);
				first = 0;
			}
			if (a.json)
				buf_puts(&out, "]\n");
			sqlite3_finalize(st);
		}
	}
	if (r == 0)
		r = cmd_write_out(&out);
	buf_release(&out);
	home_close(h);
	return r;
}
