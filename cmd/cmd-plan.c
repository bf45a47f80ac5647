/*
 * cmd-plan.c - breakglass plan: submit or show the fix plan.
 */
#include "cmd.h"
#include "fileio.h"
#include "json.h"
#include "plan.h"
#include "profile.h"
#include "utc.h"

#include <stdio.h>
#include <string.h>

static const char usage_text[] =
	"usage: breakglass plan template\n"
	"       breakglass plan T --from FILE|- [--diff F]... [--commands F]... [--sql F]...\n"
	"                         [--artifact F]...\n"
	"       breakglass plan show T [--json]\n"
	"       breakglass plan artifact T NAME|SHA256 [-o FILE]\n\n"
	"The fix plan is the smallest change with its rollback path and expected\n"
	"impact.  Artifacts (diffs, command lists, SQL) are stored by SHA-256 and\n"
	"the plan approval signs those hashes.  A new plan replaces the old one and\n"
	"needs a new approval.  SQL artifacts are read with PostgreSQL's parser, or\n"
	"with breakglass's MariaDB tokenizer when the plan says 'sql-engine: mariadb'\n"
	"('plan template' lists every line).\n\n"
	"'plan artifact' prints an artifact's exact bytes (checked against its\n"
	"SHA-256), to send through the gate, which applies only approved ones:\n"
	"  breakglass plan artifact T-1 fix.diff | ssh -o CertificateFile=CERT ACCOUNT@HOST apply\n";

static const opt_def defs[] = {
	{ "--from", OPT_ARG },
	{ "--diff", OPT_ARG | OPT_MULTI },
	{ "--commands", OPT_ARG | OPT_MULTI },
	{ "--sql", OPT_ARG | OPT_MULTI },
	{ "--artifact", OPT_ARG | OPT_MULTI },
	{ "-o", OPT_ARG },
	{ NULL, 0 }
};

enum { O_OUT = 5 };

/*
 * Each "collect: PROFILE" line names a built-in profile: a runbook's
 * collect step runs it on the client's host, and a profile file of the
 * client's own is not what the approvers saw.  A plan that does not parse
 * is left to plan_submit to refuse with its own words.
 */
static int
collect_names(const char *text, size_t len, bg_error *e)
{
	kv_doc d;
	buf names;
	size_t i, k;
	int r = 0;

	if (kv_parse(text, len, plan_schema, &d, NULL) != 0)
		return 0;
	buf_init(&names, 4096);
	for (k = 0; k < profile_builtin_count(); k++)
		buf_printf(&names, "%s%s", k ? ", " : "", profile_builtin_name(k));
	for (i = 0; i < d.n && r == 0; i++) {
		if (strcmp(d.items[i].key, "collect") != 0)
			continue;
		for (k = 0; k < profile_builtin_count(); k++)
			if (strcmp(d.items[i].value, profile_builtin_name(k)) == 0)
				break;
		if (k == profile_builtin_count())
			r = bg_fail(e, BG_ERR_INVALID, "line %zu: collect: '%.64s' is not a built-in "
			    "profile (%s); a runbook collects with built-in profiles only",
			    d.items[i].line, d.items[i].value, buf_cstr(&names));
		for (k = 0; k < i && r == 0; k++)
			if (strcmp(d.items[k].key, "collect") == 0 &&
			    strcmp(d.items[k].value, d.items[i].value) == 0)
				r = bg_fail(e, BG_ERR_INVALID, "line %zu: collect '%s' is named twice",
				    d.items[i].line, d.items[i].value);
	}
	buf_release(&names);
	kv_doc_release(&d);
	return r;
}

/* plan artifact T NAME: the artifact's bytes, checked, to stdout or -o. */
static int
artifact(home *h, int64_t tid, const char *name, const char *outpath)
{
	plan *p = NULL;
	const plan_artifact *a;
	bg_error e;
	buf b;
	int r;

	bg_error_clear(&e);
	if ((r = plan_current(h, tid, &p, &e)) != 0)
		return cmd_fail(r, &e);
	buf_init(&b, PLAN_MAX_ARTIFACT);
	if ((r = plan_artifact_read(h, p, name, &b, &a, &e)) != 0)
		r = cmd_fail(r, &e);
	else if (outpath != NULL) {
		if ((r = fileio_write_atomic(outpath, b.data ? b.data : "", b.len, 0644, 0, &e)) != 0)
			r = cmd_fail(r, &e);
		else
			fprintf(stderr, "%s artifact '%s' of P-%lld (sha256 %s, %zu bytes) written to '%s'\n",
			    a->kind, a->name, (long long)p->id, a->sha256, b.len, outpath);
	} else
		r = cmd_write_out(&b);
	buf_release(&b);
	plan_free(p);
	return r;
}

static int
show(home *h, int64_t tid, int as_json)
{
	plan *p = NULL;
	bg_error e;
	buf out;
	size_t i;
	int r;

	bg_error_clear(&e);
	if ((r = plan_current(h, tid, &p, &e)) != 0)
		return cmd_fail(r, &e);
	buf_init(&out, 1024 * 1024);
	if (as_json) {
		json j;

		json_init(&j, &out);
		json_obj_begin(&j);
		json_kv_int(&j, "plan", p->id);
		json_kv_str(&j, "sha256", p->hash);
		json_kv_time(&j, "created", p->created);
		json_kv_str(&j, "actor", p->actor);
		json_kv_str(&j, "text", p->text);
		json_key(&j, "artifacts");
		json_arr_begin(&j);
		for (i = 0; i < p->nart; i++) {
			json_obj_begin(&j);
			json_kv_str(&j, "name", p->art[i].name);
			json_kv_str(&j, "kind", p->art[i].kind);
			json_kv_str(&j, "sha256", p->art[i].sha256);
			json_kv_int(&j, "size", p->art[i].size);
			json_obj_end(&j);
		}
		json_arr_end(&j);
		json_obj_end(&j);
		buf_putc(&out, '\n');
	} else {
		char b[UTC_STRLEN];

		utc_format(p->created, b);
		buf_printf(&out, "P-%lld for T-%lld (sha256 %s), by %s at %s\n\n%s", (long long)p->id,
		    (long long)tid, p->hash, p->actor, b, p->text);
	}
	r = cmd_write_out(&out);
	buf_release(&out);
	plan_free(p);
	return r;
}

int
cmd_plan(int argc, char **argv)
{
	cmd_args a;
	home *h = NULL;
	bg_error e;
	plan_input in[PLAN_MAX_ARTIFACTS];
	size_t nin = 0;
	buf text;
	int64_t tid, pid;
	int r, k, i;
	static const char *const kinds[] = { NULL, "diff", "commands", "sql", "other" };

	if ((r = cmd_parse("plan", argc, argv, defs, &a)) != 0)
		return r;
	if (a.help)
		return cmd_usage(usage_text);
	if (a.npos == 1 && strcmp(a.pos[0], "template") == 0) {
		buf out;

		if (a.json)
			return cmd_no_json("plan template", "it prints the form to fill in");
		buf_init(&out, 8192);
		plan_template(&out);
		r = cmd_write_out(&out);
		buf_release(&out);
		return r;
	}
	if (a.npos == 2 && strcmp(a.pos[0], "show") == 0) {
		if ((r = cmd_ticket_id(a.pos[1], &tid)) != 0 || (r = cmd_open_home(&a, &h)) != 0)
			return r;
		r = show(h, tid, a.json);
		home_close(h);
		return r;
	}
	if (a.npos == 3 && strcmp(a.pos[0], "artifact") == 0) {
		if (a.json)
			return cmd_no_json("plan artifact", "it prints the artifact's exact bytes; "
			    "'plan show T --json' lists them");
		if ((r = cmd_ticket_id(a.pos[1], &tid)) != 0 || (r = cmd_open_home(&a, &h)) != 0)
			return r;
		r = artifact(h, tid, a.pos[2], cmd_opt(&a, O_OUT));
		home_close(h);
		return r;
	}
	if (cmd_opt(&a, O_OUT) != NULL)
		return cmd_failf(EXIT_USAGE, "plan: -o is for 'plan artifact T NAME'");
	if (a.npos != 1)
		return cmd_failf(EXIT_USAGE, "plan: expected 'template', 'show T', 'artifact T NAME' "
		    "or 'T --from FILE'");
	if ((r = cmd_ticket_id(a.pos[0], &tid)) != 0)
		return r;
	if (cmd_opt(&a, 0) == NULL)
		return cmd_failf(EXIT_USAGE, "plan: --from FILE is required (see 'plan template')");
	for (k = 1; k <= 4; k++) {
		for (i = 0; i < a.val[k].n; i++) {
			if (nin == PLAN_MAX_ARTIFACTS)
				return cmd_failf(EXIT_USAGE, "plan: more than %d artifacts",
				    PLAN_MAX_ARTIFACTS);
			in[nin].path = a.val[k].all[i];
			in[nin].kind = kinds[k];
			nin++;
		}
	}
	bg_error_clear(&e);
	buf_init(&text, KV_MAX_INPUT + 1);
	if ((r = fileio_read(cmd_opt(&a, 0), KV_MAX_INPUT, &text, &e)) != 0) {
		buf_release(&text);
		return cmd_fail(r, &e);
	}
	if ((r = collect_names(buf_cstr(&text), text.len, &e)) != 0) {
		buf_release(&text);
		return cmd_fail(r, &e);
	}
	if ((r = cmd_open_home(&a, &h)) != 0) {
		buf_release(&text);
		return r;
	}
	if ((r = plan_submit(h, tid, buf_cstr(&text), text.len, in, nin, &pid, &e)) != 0)
		r = cmd_fail(r, &e);
	else if (a.json)
		printf("{\"ticket\":\"T-%lld\",\"plan\":\"P-%lld\"}\n", (long long)tid, (long long)pid);
	else
		printf("T-%lld: plan P-%lld submitted with %zu artifact(s)\n"
		    "  next: breakglass approve T-%lld --statement --for plan\n", (long long)tid,
		    (long long)pid, nin, (long long)tid);
	buf_release(&text);
	home_close(h);
	return r;
}
