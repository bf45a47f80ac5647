/*
 * cmd-envdiff.c - breakglass envdiff: what differs between production's
 * and QA's bundles, by section.
 */
#include "cmd.h"
#include "bundle.h"
#include "envdiff.h"
#include "fileio.h"

#include <stdio.h>
#include <string.h>

static const char usage_text[] =
	"usage: breakglass envdiff PROD QA [--ignore FILE] [--json]\n\n"
	"Compare two bundles made by 'breakglass collect' with the same per-incident\n"
	"key and show, by section, what differs: packages, runtime settings,\n"
	"configuration keys (FILE:flattened.path), environment variables, code tree\n"
	"(added, removed, changed files), deploys (git HEAD, commits, deploy log),\n"
	"services and listening ports.  Values are compared by keyed hash: equal\n"
	"values compare equal without being revealed; harmless values are shown on\n"
	"both sides.  Bundles made without a key or with different keys are refused\n"
	"(exit 1).  --ignore FILE lists expected differences, one 'SECTION PATTERN' a\n"
	"line (SECTION: one of the above or '*'; PATTERN: fnmatch over the key).\n";

static const opt_def defs[] = {
	{ "--ignore", OPT_ARG },
	{ NULL, 0 }
};

int
cmd_envdiff(int argc, char **argv)
{
	cmd_args a;
	bg_error e;
	bundle pa, qa;
	envdiff_ignore ig;
	envdiff_result res;
	buf out;
	int r, wrc = 0;

	if ((r = cmd_parse("envdiff", argc, argv, defs, &a)) != 0)
		return r;
	if (a.help)
		return cmd_usage(usage_text);
	if (a.npos != 2)
		return cmd_failf(EXIT_USAGE, "envdiff: name two bundles, production first");
	bg_error_clear(&e);
	memset(&ig, 0, sizeof(ig));
	memset(&res, 0, sizeof(res));
	memset(&pa, 0, sizeof(pa));
	memset(&qa, 0, sizeof(qa));
	buf_init(&out, 64u * 1024 * 1024);
	if (cmd_opt(&a, 0) != NULL) {
		buf b;

		buf_init(&b, ENVDIFF_IGNORE_MAX);
		if ((r = fileio_read(cmd_opt(&a, 0), ENVDIFF_IGNORE_MAX, &b, &e)) == 0 &&
		    (r = envdiff_ignore_parse(b.data, b.len, &ig, &e)) != 0) {
			bg_error e2 = e;

			bg_fail(&e, r, "ignore file '%s': %s", cmd_opt(&a, 0), e2.msg);
		}
		buf_release(&b);
		if (r != 0)
			goto out;
	}
	if ((r = bundle_load(a.pos[0], &pa, &e)) != 0 || (r = bundle_load(a.pos[1], &qa, &e)) != 0 ||
	    (r = envdiff_run(&pa, &qa, &ig, &res, &e)) != 0)
		goto out;
	if (a.json)
		r = envdiff_format_json(&res, &pa, &out);
	else
		r = envdiff_format_text(&res, "production", "qa", &out);
	if (r == 0)
		wrc = cmd_write_out(&out);
out:
	envdiff_result_release(&res);
	envdiff_ignore_release(&ig);
	bundle_release(&pa);
	bundle_release(&qa);
	buf_release(&out);
	if (r != 0)
		return cmd_fail(r, &e);
	return wrc;
}
