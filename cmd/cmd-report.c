/*
 * cmd-report.c - breakglass report: the incident report.
 */
#include "cmd.h"
#include "fileio.h"
#include "report.h"

#include <stdio.h>

static const char usage_text[] =
	"usage: breakglass report T [--json] [-o FILE]\n\n"
	"The incident report, generated from the records and the verified audit\n"
	"log: summary, intake facts, approvals (who, when, which hash), evidence,\n"
	"grants (scope, window, outcome), plan and artifacts, what changed and how\n"
	"to roll it back, smoke test, cleanup, and the timeline.  Closing a ticket\n"
	"stores the final report in HOME/reports/.\n";

static const opt_def defs[] = {
	{ "-o", OPT_ARG },
	{ NULL, 0 }
};

int
cmd_report(int argc, char **argv)
{
	cmd_args a;
	home *h = NULL;
	bg_error e;
	buf out;
	int64_t tid;
	int r;

	if ((r = cmd_parse("report", argc, argv, defs, &a)) != 0)
		return r;
	if (a.help)
		return cmd_usage(usage_text);
	if (a.npos != 1)
		return cmd_failf(EXIT_USAGE, "report: name one ticket");
	if ((r = cmd_ticket_id(a.pos[0], &tid)) != 0 || (r = cmd_open_home(&a, &h)) != 0)
		return r;
	bg_error_clear(&e);
	buf_init(&out, 64u * 1024 * 1024);
	if ((r = report_render(h, tid, a.json, &out, &e)) != 0)
		r = cmd_fail(r, &e);
	else if (cmd_opt(&a, 0) != NULL) {
		if ((r = fileio_write_atomic(cmd_opt(&a, 0), out.data, out.len, 0644, 0, &e)) != 0)
			r = cmd_fail(r, &e);
	} else
		r = cmd_write_out(&out);
	buf_release(&out);
	home_close(h);
	return r;
}
