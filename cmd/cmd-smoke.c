/*
 * cmd-smoke.c - breakglass smoke: record the smoke-test result.
 */
#include "cmd.h"
#include "json.h"
#include "plan.h"
#include "utc.h"
#include "workflow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
	"usage: breakglass smoke T --result pass|fail --notes TEXT [--json]\n"
	"       breakglass smoke T --result waived [--json]\n"
	"       breakglass smoke T --check URL [--expect STATUS] [--contains TEXT]\n"
	"                          [--timeout S] [--json]\n"
	"       breakglass smoke T --run NAME|all [--audit-dir DIR] [--json]\n\n"
	"--check makes the request (GET, no redirects followed, TLS verified) and\n"
	"records the status, the time it took and the SHA-256 of the body (never\n"
	"the body).  It passes when the status is STATUS (default: any 2xx) and the\n"
	"body contains TEXT (when given); exit 0 when it passed, 1 when not.  Run it\n"
	"before the fix too: while no write grant has been activated the result is\n"
	"recorded as 'before the fix' - a failing check then shows that it sees the\n"
	"incident, and it never counts for closing.  Manual results (--result) are\n"
	"marked as such in the report.\n\n"
	"--run runs the checks the current fix plan names (its 'check: NAME URL\n"
	"[expect=STATUS] [contains=TEXT] [timeout=SECONDS]' lines, approved with the\n"
	"plan), one or all, recorded under their name: run them before the write\n"
	"grant is activated and again after.  Exit 0 when every one passed.\n\n"
	"A command check ('check: NAME command=\'ARGV\' [exit=STATUS] [host=NAME]')\n"
	"runs nothing from here: run ARGV through the gate first (ssh ACCOUNT@HOST --\n"
	"ARGV; an absolute path the grant allows, or a reading verb such as grep).\n"
	"--run then verifies the host log (the config's host-log lines, or\n"
	"--audit-dir DIR) and takes the newest record of this ticket whose request\n"
	"is exactly ARGV: it passes when its exit status is STATUS (default 0); the\n"
	"record's time says before or after the first write activation.  A log that\n"
	"does not verify is refused; no record is an error naming the command.\n\n"
	"Record what was checked after the change.  Every result is kept (the\n"
	"report shows them all); the newest counts.  A ticket closes only with a\n"
	"passing result or a waiver signed by the approver(s):\n"
	"  breakglass approve T --statement --for smoke-waiver --reason '...'\n";

static const opt_def defs[] = {
	{ "--result", OPT_ARG },
	{ "--notes", OPT_ARG },
	{ "--check", OPT_ARG },
	{ "--expect", OPT_ARG },
	{ "--contains", OPT_ARG },
	{ "--timeout", OPT_ARG },
	{ "--run", OPT_ARG },
	{ "--audit-dir", OPT_ARG },
	{ NULL, 0 }
};

/* A whole number in [lo, hi] from an option, or -1. */
static long
number(const char *s, long lo, long hi)
{
	char *end;
	long v;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	v = strtol(s, &end, 10);
	return *end == '\0' && v >= lo && v <= hi ? v : -1;
}

/* Run check c, record it, print the result: 0 passed, EXIT_REFUSED not. */
static int
run_one(home *h, const cmd_args *a, int64_t tid, smokecheck *c0)
{
	smokecheck c = *c0;
	bg_error e;
	const char *phase = NULL;
	int r;

	bg_error_clear(&e);
	buf_init(&c.excerpt, 4096);
	if ((r = workflow_smoke_check(h, tid, &c, &phase, &e)) != 0) {
		r = cmd_fail(r, &e);
	} else if (a->json) {
		buf out;
		json j;

		buf_init(&out, 64 * 1024);
		json_init(&j, &out);
		json_obj_begin(&j);
		{
			char id[32];

			snprintf(id, sizeof(id), "T-%lld", (long long)tid);
			json_kv_str(&j, "ticket", id);
		}
		if (c.name)
			json_kv_str(&j, "name", c.name);
		json_kv_str(&j, "phase", phase);
		json_kv_str(&j, "result", c.pass ? "pass" : "fail");
		json_kv_str(&j, "url", c.url);
		json_kv_int(&j, "status", c.status);
		json_kv_int(&j, "elapsed_ms", c.elapsed_ms);
		json_kv_str(&j, "body_sha256", c.body_sha256);
		json_kv_int(&j, "body_size", (int64_t)c.body_size);
		if (!c.pass)
			json_kv_str(&j, "why", c.why);
		json_obj_end(&j);
		buf_putc(&out, '\n');
		cmd_write_out(&out);
		buf_release(&out);
		r = c.pass ? 0 : EXIT_REFUSED;
	} else {
		int before = strcmp(phase, "before") == 0;
		char label[64] = "";

		if (c.name)
			snprintf(label, sizeof(label), " '%s'", c.name);
		if (c.pass)
			printf("T-%lld: smoke check%s %s the fix: pass, status %ld (%lld ms, body sha256 "
			    "%.12s...)\n", (long long)tid, label, before ? "before" : "after", c.status,
			    (long long)c.elapsed_ms, c.body_sha256);
		else
			printf("T-%lld: smoke check%s %s the fix: %s (%lld ms, body sha256 %.12s...)\n",
			    (long long)tid, label, before ? "before" : "after", c.why,
			    (long long)c.elapsed_ms, c.body_sha256);
		if (before)
			printf("  %s\n", c.pass ? "it passes before any fix: it may not see the incident; "
			    "check the URL and --contains" : "it fails before the fix, as the incident does: "
			    "run it again after the fix");
		if (!c.pass && c.excerpt.len > 0) {
			char ex[200];
			size_t i, n = c.excerpt.len < sizeof(ex) - 1 ? c.excerpt.len : sizeof(ex) - 1;

			for (i = 0; i < n; i++) {
				unsigned char ch = (unsigned char)c.excerpt.data[i];

				ex[i] = ch < 0x20 || ch == 0x7f ? ' ' : (char)ch;
			}
			ex[n] = '\0';
			printf("  body begins (redacted): %s\n", ex);
		}
		r = c.pass ? 0 : EXIT_REFUSED;
	}
	buf_release(&c.excerpt);
	return r;
}

/* Decide command check c from the host log, record it, print the result:
 * 0 passed, EXIT_REFUSED not. */
static int
run_command(home *h, const cmd_args *a, int64_t tid, smokecmd *c)
{
	const char *phase = NULL;
	char when[UTC_STRLEN], id[32];
	bg_error e;
	buf cmd;
	int r;

	bg_error_clear(&e);
	c->audit_dir = cmd_opt(a, 7);
	if ((r = workflow_smoke_command(h, tid, c, &phase, &e)) != 0)
		return cmd_fail(r, &e);
	buf_init(&cmd, 16384);
	(void)argv_join(&c->av, &cmd);
	utc_format(c->when, when);
	snprintf(id, sizeof(id), "T-%lld", (long long)tid);
	if (a->json) {
		buf out;
		json j;

		buf_init(&out, 64 * 1024);
		json_init(&j, &out);
		json_obj_begin(&j);
		json_kv_str(&j, "ticket", id);
		json_kv_str(&j, "name", c->name);
		json_kv_str(&j, "kind", "command");
		json_kv_str(&j, "phase", phase);
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
		buf_putc(&out, '\n');
		cmd_write_out(&out);
		buf_release(&out);
	} else {
		int before = strcmp(phase, "before") == 0;

		char res[300];

		if (c->pass)
			snprintf(res, sizeof(res), "pass, exit %d", c->status);
		else
			snprintf(res, sizeof(res), "%s", c->why);
		printf("%s: smoke check '%s' %s the fix: %s (%s on %s%s, host log record %llu at %s, "
		    "grant G-%lld)\n", id, c->name, before ? "before" : "after", res, buf_cstr(&cmd),
		    c->hostname[0] ? "host " : "the host", c->hostname, (unsigned long long)c->seq,
		    when, (long long)c->grant);
		if (before)
			printf("  %s\n", c->pass ? "it passes before any fix: it may not see the incident; "
			    "check the command and exit=" : "it fails before the fix, as the incident "
			    "does: run it through the gate again after the fix, then this check");
	}
	buf_release(&cmd);
	return c->pass ? 0 : EXIT_REFUSED;
}

/* --run NAME|all: the checks the current plan names */
static int
run_named(const cmd_args *a, int64_t tid)
{
	home *h = NULL;
	plan *p = NULL;
	bg_error e;
	const char *want = cmd_opt(a, 6);
	size_t i;
	int r, worst = 0, found = 0;

	if (cmd_opt(a, 0) || cmd_opt(a, 1) || cmd_opt(a, 2) || cmd_opt(a, 3) || cmd_opt(a, 4) ||
	    cmd_opt(a, 5))
		return cmd_failf(EXIT_USAGE, "smoke: --run takes the check from the plan; give no "
		    "--check, --result or their options with it");
	if ((r = cmd_open_home(a, &h)) != 0)
		return r;
	bg_error_clear(&e);
	if ((r = plan_current(h, tid, &p, &e)) != 0) {
		if (r == BG_ERR_NOTFOUND)
			r = cmd_failf(EXIT_USAGE, "smoke: T-%lld has no fix plan to name checks "
			    "(check: NAME URL ... lines in the plan)", (long long)tid);
		else
			r = cmd_fail(r, &e);
		home_close(h);
		return r;
	}
	for (i = 0; i < p->fields.n && worst != EXIT_USAGE; i++) {
		plan_check pc;

		if (strcmp(p->fields.items[i].key, "check") != 0)
			continue;
		if ((r = plan_check_parse(p->fields.items[i].value, &pc, &e)) != 0) {
			worst = cmd_fail(r, &e);
			break;
		}
		if (strcmp(want, "all") == 0 || strcmp(want, pc.name) == 0) {
			found++;
			r = pc.is_command ? run_command(h, a, tid, &pc.cmd) : run_one(h, a, tid, &pc.c);
			if (r != 0 && (worst == 0 || r != EXIT_REFUSED))
				worst = r;
		}
		plan_check_release(&pc);
	}
	if (found == 0 && worst == 0) {
		buf names;

		buf_init(&names, 4096);
		for (i = 0; i < p->fields.n; i++) {
			plan_check pc;

			if (strcmp(p->fields.items[i].key, "check") == 0 &&
			    plan_check_parse(p->fields.items[i].value, &pc, NULL) == 0) {
				buf_printf(&names, "%s%s", names.len ? ", " : "", pc.name);
				plan_check_release(&pc);
			}
		}
		worst = cmd_failf(EXIT_USAGE, "smoke: the plan of T-%lld names no check '%s' (%s%s)",
		    (long long)tid, want, names.len ? "it names: " : "it names none; add check: NAME "
		    "URL ... lines", buf_cstr(&names));
		buf_release(&names);
	}
	plan_free(p);
	home_close(h);
	return worst;
}

static int
check(const cmd_args *a, int64_t tid)
{
	smokecheck c;
	home *h = NULL;
	bg_error e;
	int r;

	memset(&c, 0, sizeof(c));
	c.url = cmd_opt(a, 2);
	c.contains = cmd_opt(a, 4);
	c.timeout_s = 30;
	if (cmd_opt(a, 0) != NULL || cmd_opt(a, 1) != NULL)
		return cmd_failf(EXIT_USAGE, "smoke: --check records its own result; --result and "
		    "--notes are for results checked by hand");
	if (cmd_opt(a, 3) != NULL && (c.expect = (int)number(cmd_opt(a, 3), 100, 599)) < 0)
		return cmd_failf(EXIT_USAGE, "smoke: --expect is an HTTP status, 100 to 599");
	if (cmd_opt(a, 5) != NULL && (c.timeout_s = (int)number(cmd_opt(a, 5), 1, 300)) < 0)
		return cmd_failf(EXIT_USAGE, "smoke: --timeout is 1 to 300 seconds");
	bg_error_clear(&e);
	if (smokecheck_validate(&c, &e) != 0)
		return cmd_failf(EXIT_USAGE, "smoke: %s", e.msg);
	if ((r = cmd_open_home(a, &h)) != 0)
		return r;
	r = run_one(h, a, tid, &c);
	home_close(h);
	return r;
}

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
	if (cmd_opt(&a, 6) != NULL)
		return run_named(&a, tid);
	if (cmd_opt(&a, 7) != NULL)
		return cmd_failf(EXIT_USAGE, "smoke: --audit-dir goes with --run (a command check "
		    "reads the host log there)");
	if (cmd_opt(&a, 2) != NULL)
		return check(&a, tid);
	if (cmd_opt(&a, 3) != NULL || cmd_opt(&a, 4) != NULL || cmd_opt(&a, 5) != NULL)
		return cmd_failf(EXIT_USAGE, "smoke: --expect, --contains and --timeout go with --check");
	if (cmd_opt(&a, 0) == NULL)
		return cmd_failf(EXIT_USAGE, "smoke: --result pass|fail|waived or --check URL is "
		    "required");
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
