/*
 * cmd-freeze.c - breakglass freeze: is a change freeze in force?
 *
 *   status   (broker) exit 1 while an emergency of the project/system is
 *            active, naming it; exit 0 otherwise.  For pipelines.
 *   publish  (broker) rewrite the published freeze state now.
 *   check    (host) the same answer from the state the broker published,
 *            with no broker: for the apt hook and deploy guards.  A state
 *            that cannot be read or parsed refuses (exit 1).
 *   serve    the forced command of a CI runner's key on the broker
 *            account: it runs 'freeze status' and nothing else.
 */
#include "cmd.h"
#include "argv.h"
#include "fileio.h"
#include "freeze.h"
#include "json.h"
#include "utc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
	"usage: breakglass freeze status [--project P] [--system S] [--branch B] [--json]\n"
	"       breakglass freeze publish\n"
	"       breakglass freeze check --state FILE --system S [--branch B] [--json]\n"
	"       breakglass freeze serve        (forced command of a CI key)\n\n"
	"While an emergency ticket is active - from its signed confirmation until it\n"
	"is closed or withdrawn - nothing unrelated is deployed or upgraded on its\n"
	"project's systems.  'freeze status' exits 1 while a ticket of the project or\n"
	"system is active and says which, since when and whom to ask; it exits 0\n"
	"otherwise.  --branch B lets the ticket's own emergency branch through (the\n"
	"intake's emergency-branch, else hotfix/T-N).\n\n"
	"The broker publishes the state at every change that can alter it, to\n"
	"HOME/freeze.state and to the config's freeze-publish path; on a host,\n"
	"'freeze check' reads that file (an unreadable or malformed state refuses).\n"
	"'freeze publish' rewrites it now.\n\n"
	"A CI runner asks the broker over SSH with a key whose only right is this:\n"
	"  restrict,command=\"/usr/local/bin/breakglass freeze serve\" ssh-ed25519 AAAA... ci\n"
	"in the broker account's authorized_keys; then\n"
	"  ssh breakglass@broker freeze status --project shop --branch \"$BRANCH\"\n"
	"Examples for GitHub Actions, GitLab CI, a git pre-receive hook and an apt\n"
	"hook are in contrib/freeze/.\n";

static const opt_def defs[] = {
	{ "--project", OPT_ARG },
	{ "--system", OPT_ARG },
	{ "--branch", OPT_ARG },
	{ "--state", OPT_ARG },
	{ NULL, 0 }
};

/* Print f's entries (text or JSON) and return 1 if any, else 0. */
static int
show(const freezefmt *f, const freeze_contact *c, const char *what, int as_json)
{
	buf out;
	size_t i;
	char t[UTC_STRLEN];

	buf_init(&out, 1024 * 1024);
	if (as_json) {
		json j;

		json_init(&j, &out);
		json_obj_begin(&j);
		json_kv_bool(&j, "frozen", f->n > 0);
		json_key(&j, "tickets");
		json_arr_begin(&j);
		for (i = 0; i < f->n; i++) {
			char id[32];

			snprintf(id, sizeof(id), "T-%lld", (long long)f->v[i].ticket);
			json_obj_begin(&j);
			json_kv_str(&j, "ticket", id);
			json_kv_str(&j, "project", f->v[i].project);
			json_kv_time(&j, "since", f->v[i].since);
			json_kv_str(&j, "branch", f->v[i].branch);
			json_kv_str(&j, "systems", f->v[i].systems);
			if (c != NULL) {
				json_kv_str(&j, "requester", c[i].requester);
				json_kv_str(&j, "approver", c[i].approver[0] ? c[i].approver : NULL);
			}
			json_obj_end(&j);
		}
		json_arr_end(&j);
		json_obj_end(&j);
		buf_putc(&out, '\n');
	} else if (f->n == 0) {
		buf_printf(&out, "not frozen: no active emergency for %s\n", what);
	} else {
		for (i = 0; i < f->n; i++) {
			utc_format(f->v[i].since, t);
			buf_printf(&out, "frozen: T-%lld (%s: %s) is an active emergency since %s; "
			    "deploy only its branch %s", (long long)f->v[i].ticket, f->v[i].project,
			    f->v[i].systems, t, f->v[i].branch);
			if (c != NULL)
				buf_printf(&out, "; ask %s%s%s", c[i].approver[0] ? c[i].approver : "",
				    c[i].approver[0] ? " (approver) or " : "", c[i].requester);
			buf_puts(&out, c != NULL ? " (requester)\n" : "\n");
		}
	}
	cmd_write_out(&out);
	buf_release(&out);
	return f->n > 0 ? 1 : 0;
}

static int
name_arg(const char *opt, const char *v, int slash)
{
	if (v != NULL && !freezefmt_name_ok(v, 128, slash))
		return cmd_failf(EXIT_USAGE, "freeze: %s '%.64s' is not a valid name", opt, v);
	return 0;
}

static int
status(const cmd_args *a)
{
	home *h = NULL;
	freezefmt f;
	freeze_contact *c = NULL;
	bg_error e;
	char what[400];
	int r;

	if ((r = name_arg("--project", cmd_opt(a, 0), 0)) != 0 ||
	    (r = name_arg("--system", cmd_opt(a, 1), 0)) != 0 ||
	    (r = name_arg("--branch", cmd_opt(a, 2), 1)) != 0)
		return r;
	if ((r = cmd_open_home(a, &h)) != 0)
		return r;
	bg_error_clear(&e);
	if ((r = freeze_query(h, cmd_opt(a, 0), cmd_opt(a, 1), cmd_opt(a, 2), &f, &c, &e)) != 0) {
		home_close(h);
		/* a pipeline that cannot learn the state must not deploy */
		cmd_fail(r, &e);
		return EXIT_REFUSED;
	}
	snprintf(what, sizeof(what), "%s%s%s%s", cmd_opt(a, 0) ? "project " : "",
	    cmd_opt(a, 0) ? cmd_opt(a, 0) : "", cmd_opt(a, 1) ? " system " : "",
	    cmd_opt(a, 1) ? cmd_opt(a, 1) : "");
	r = show(&f, c, what[0] ? what : "any project", a->json);
	freezefmt_release(&f);
	free(c);
	home_close(h);
	return r;
}

static int
check(const cmd_args *a)
{
	const char *path = cmd_opt(a, 3), *sys = cmd_opt(a, 1), *branch = cmd_opt(a, 2);
	freezefmt f, hit;
	buf text;
	bg_error e;
	size_t i;
	char what[200];
	int r;

	if (path == NULL || sys == NULL)
		return cmd_failf(EXIT_USAGE, "freeze check: --state FILE and --system S are required");
	if ((r = name_arg("--system", sys, 0)) != 0 || (r = name_arg("--branch", branch, 1)) != 0)
		return r;
	buf_init(&text, 1024 * 1024);
	bg_error_clear(&e);
	if ((r = fileio_read(path, 1024 * 1024, &text, &e)) != 0 ||
	    (r = freezefmt_parse(buf_cstr(&text), text.len, &f, &e)) != 0) {
		buf_release(&text);
		fprintf(stderr, "breakglass: refused: cannot read the freeze state '%s': %s\n", path,
		    e.msg);
		return EXIT_REFUSED;
	}
	buf_release(&text);
	memset(&hit, 0, sizeof(hit));
	for (i = 0; i < f.n; i++)
		if (freezefmt_covers(&f.v[i], sys) && (branch == NULL ||
		    strcmp(branch, f.v[i].branch) != 0) && freezefmt_add(&hit, &f.v[i]) != 0) {
			freezefmt_release(&f);
			freezefmt_release(&hit);
			return cmd_failf(EXIT_REFUSED, "freeze check: out of memory");
		}
	snprintf(what, sizeof(what), "system %s", sys);
	r = show(&hit, NULL, what, a->json);
	freezefmt_release(&f);
	freezefmt_release(&hit);
	return r;
}

/*
 * The forced command of a CI key: SSH_ORIGINAL_COMMAND must be
 * "freeze status [OPTIONS]" (or "status [OPTIONS]"), split without a
 * shell; anything else is refused.
 */
static int
serve(const cmd_args *outer)
{
	const char *req = getenv("SSH_ORIGINAL_COMMAND");
	argv_list av;
	bg_error e;
	cmd_args a;
	char *args[24];
	size_t i, k = 0;
	int r;

	if (req == NULL || strlen(req) > 1024)
		return cmd_failf(EXIT_REFUSED, "freeze serve: this key may only ask "
		    "'freeze status [--project P] [--system S] [--branch B] [--json]'");
	if (argv_split(req, &av, &e) != 0 || av.n == 0 || av.n > 20)
		return cmd_failf(EXIT_REFUSED, "freeze serve: cannot parse the request");
	i = strcmp(av.v[0], "freeze") == 0 ? 1 : 0;
	if (i >= av.n || strcmp(av.v[i], "status") != 0) {
		argv_release(&av);
		return cmd_failf(EXIT_REFUSED, "freeze serve: this key may only ask "
		    "'freeze status [--project P] [--system S] [--branch B] [--json]'");
	}
	args[k++] = "freeze";
	for (i++; i < av.n; i++) {
		/* only the status options: never --home, --as or --state */
		const char *o = av.v[i];

		if (o[0] == '-' && strcmp(o, "--project") && strcmp(o, "--system") &&
		    strcmp(o, "--branch") && strcmp(o, "--json")) {
			r = cmd_failf(EXIT_REFUSED, "freeze serve: option '%.32s' is not allowed", o);
			argv_release(&av);
			return r;
		}
		args[k++] = av.v[i];
	}
	args[k] = NULL;
	if ((r = cmd_parse("freeze", (int)k, args, defs, &a)) == 0) {
		if (a.npos != 0 || cmd_opt(&a, 3) != NULL)
			r = cmd_failf(EXIT_REFUSED, "freeze serve: unexpected arguments");
		else {
			a.home = outer->home; /* the broker account's own home, never the caller's */
			r = status(&a);
		}
	}
	argv_release(&av);
	return r;
}

int
cmd_freeze_publish(home *h)
{
	bg_error e;

	bg_error_clear(&e);
	if (freeze_publish(h, &e) != 0) {
		fprintf(stderr, "breakglass: the change was made, but the freeze state could not "
		    "be published: %s (run 'breakglass freeze publish')\n", e.msg);
		return EXIT_SYSTEM;
	}
	return 0;
}

int
cmd_freeze(int argc, char **argv)
{
	cmd_args a;
	home *h = NULL;
	int r;

	if ((r = cmd_parse("freeze", argc, argv, defs, &a)) != 0)
		return r;
	if (a.help)
		return cmd_usage(usage_text);
	if (a.npos != 1)
		return cmd_failf(EXIT_USAGE, "freeze: status, publish, check or serve (see "
		    "'breakglass freeze --help')");
	if (strcmp(a.pos[0], "status") == 0) {
		if (cmd_opt(&a, 3) != NULL)
			return cmd_failf(EXIT_USAGE, "freeze status: --state is for 'freeze check'");
		return status(&a);
	}
	if (strcmp(a.pos[0], "check") == 0)
		return check(&a);
	if (strcmp(a.pos[0], "serve") == 0)
		return serve(&a);
	if (strcmp(a.pos[0], "publish") == 0) {
		if ((r = cmd_open_home(&a, &h)) != 0)
			return r;
		r = cmd_freeze_publish(h);
		if (r == 0)
			printf("freeze state published\n");
		home_close(h);
		return r;
	}
	{
		static const char *const subs[] = { "status", "publish", "check", "serve", NULL };

		return cmd_unknown_sub("freeze", a.pos[0], subs);
	}
}
