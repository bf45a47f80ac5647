/*
 * cmd-smoke.c - breakglass smoke: record the smoke-test result.
 */
#include "cmd.h"
#include "workflow.h"

#include <stdio.h>

static const char usage_text[] =
	"usage: breakglass smoke T --result pass|fail --notes TEXT [--json]\n"
	"       breakglass smoke T --result waived [--json]\n\n"
	"Record what was checked after the change.  Every result is kept (the\n"
	"report shows them all); the newest counts.  A ticket closes only with a\n"
	"passing result or a waiver signed by the approver(s):\n"
	"  breakglass approve T --statement --for smoke-waiver --reason '...'\n";

static const opt_def defs[] = {
	{ "--result", OPT_ARG },
	{ "--notes", OPT_ARG },
	{ NULL, 0 }
};

int
cmd_smoke(int argc, char **argv)
{
	cmd_args a;
	home *h = NULL;
	bg_error e;
	int64_t tid;
	int r;

	if ((r = cmd_parse("smoke", argc, argv, defs, &a)) != 0)
		return r;
	if (a.help)
		return cmd_usage(usage_text);
	if (a.npos != 1)
		return cmd_failf(EXIT_USAGE, "smoke: name one ticket");
	if ((r = cmd_ticket_id(a.pos[0], &tid)) != 0)
		return r;
	if (cmd_opt(&a, 0) == NULL)
		return cmd_failf(EXIT_USAGE, "smoke: --result pass|fail|waived is required");
	if ((r = cmd_open_home(&a, &h)) != 0)
		return r;
	bg_error_clear(&e);
	if ((r = workflow_smoke(h, tid, cmd_opt(&a, 0), cmd_opt(&a, 1), &e)) != 0)
		r = cmd_fail(r, &e);
	else if (a.json)
		printf("{\"ticket\":\"T-%lld\",\"smoke\":\"%s\"}\n", (long long)tid, cmd_opt(&a, 0));
	else
		printf("T-%lld: smoke test %s recorded\n", (long long)tid, cmd_opt(&a, 0));
	home_close(h);
	return r;
}
