/*
 * main.c - the breakglass command table, and the helpers every command
 * uses.  Commands are matched by exact name only.
 */
#include "cmd.h"
#include "text.h"
#include "audit.h"
#include "fileio.h"
#include "json.h"
#include "testhook.h"
#include "utc.h"
#include "grant.h"
#include "ticket.h"
#include "users.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef BREAKGLASS_VERSION
#define BREAKGLASS_VERSION "0.1.0"
#endif

#ifdef __SANITIZE_ADDRESS__
#include <sys/auxv.h>
/*
 * Sanitizer builds only: LeakSanitizer cannot work in a process that is
 * not dumpable (setuid or setgid), so such a process keeps ASan's other
 * checks and drops only leak detection.
 */
const char *__asan_default_options(void);
const char *
__asan_default_options(void)
{
	return getauxval(AT_SECURE) ? "detect_leaks=0" : "";
}
#endif

static const struct {
	const char *name;
	int (*fn)(int, char **);
	const char *summary;
} commands[] = {
	{ "init", cmd_init, "create a breakglass home (store, keys, config, audit log)" },
	{ "project", cmd_project, "register projects: quorum and systems" },
	{ "user", cmd_user, "users of the broker: emails, SSH keys, roles" },
	{ "approver", cmd_approver, "register approvers' SSH keys (allowed_signers)" },
	{ "broker", cmd_broker, "set up remote use: the service account, its authorized_keys" },
	{ "serve", cmd_serve, "the forced command of remote use (run by sshd)" },
	{ "ticket", cmd_ticket, "open, show, list and follow emergency tickets" },
	{ "approve", cmd_approve, "print a statement to sign, or record a signature" },
	{ "evidence", cmd_evidence, "record backup and rollback evidence" },
	{ "plan", cmd_plan, "submit the fix plan and its artifacts" },
	{ "grant", cmd_grant, "request, activate, list and revoke access grants" },
	{ "revoke", cmd_revoke, "revoke a grant now (same as 'grant revoke')" },
	{ "reap", cmd_reap, "expire grants whose window has ended" },
	{ "smoke", cmd_smoke, "record the smoke-test result" },
	{ "cleanup", cmd_cleanup, "show or complete the cleanup checklist" },
	{ "report", cmd_report, "generate the incident report" },
	{ "audit", cmd_audit, "verify or export the tamper-evident audit log" },
	{ "host", cmd_host, "set up a host: sshd drop-in, gate config, accounts" },
	{ "gate", cmd_gate, "the forced command on a host (run by sshd)" },
	{ "hostd", cmd_hostd, "the host supervisor the gate hands requests to (root)" },
	{ "replay", cmd_replay, "play a shell session recording, safely" },
	{ "snapshot", cmd_snapshot, "snapshot directories on a host now" },
	{ "changes", cmd_changes, "what a ticket's grants changed on this host" },
	{ "rollback", cmd_rollback, "put back what a ticket's grants changed on this host" },
	{ "scan", cmd_scan, "find secrets in files, directories or standard input" },
	{ "freeze", cmd_freeze, "is a change freeze in force? (pipelines, hosts)" },
	{ "runbook", cmd_runbook, "signed runbooks the client runs, and their result bundles" },
	{ "collect", cmd_collect, "a secret-safe diagnostics bundle of this host (read-only)" },
	{ "envdiff", cmd_envdiff, "what differs between production's and QA's bundles" },
	{ NULL, NULL, NULL },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]) - 1)

/* "unknown command 'inti'; did you mean 'init'?" */
static int
unknown_command(const char *name)
{
	const char *near = text_suggest(name, strlen(name), commands, sizeof(commands[0]));

	if (near != NULL)
		fprintf(stderr, "breakglass: unknown command '%.64s'; did you mean '%s'? (see "
		    "'breakglass help')\n", name, near);
	else
		fprintf(stderr, "breakglass: unknown command '%.64s' (see 'breakglass help')\n",
		    name);
	return EXIT_USAGE;
}

static void
usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: breakglass [--broker ssh://ACCOUNT@HOST[:PORT]] COMMAND [ARGS] "
	    "[--home DIR] [--json]\n\n"
	    "Temporary, controlled, audited production access for emergency hotfixes.\n\n"
	    "Commands:\n");
	for (i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "  %-10s %s\n", "help", "this list, or 'help COMMAND'");
	fprintf(f, "  %-10s %s\n", "version", "print the version");
	fprintf(f, "\nRun 'breakglass COMMAND --help' for a command's options; "
	    "see breakglass(1).\n");
}

int
main(int argc, char **argv)
{
	size_t i;

	/*
	 * Nothing is installed setgid any more (the host log is hostd's): a
	 * binary someone left setgid drops the group before doing anything.
	 */
	if (getegid() != getgid() && setresgid(getgid(), getgid(), getgid()) != 0) {
		fprintf(stderr, "breakglass: cannot drop privileges\n");
		return EXIT_SYSTEM;
	}
	signal(SIGPIPE, SIG_IGN);
	/*
	 * A release build has no test hooks; one in the environment means a
	 * test setting leaked into production (or someone trying to move the
	 * clock): refuse rather than run without it silently.
	 */
	if (!testhook_compiled() && testhook_env_named() != NULL) {
		fprintf(stderr, "breakglass: %s is set, but this is a release build: test "
		    "hooks exist only in test builds (make check); unset it\n",
		    testhook_env_named());
		return EXIT_USAGE;
	}
	if (sodium_init() < 0) {
		fprintf(stderr, "breakglass: cannot initialise libsodium\n");
		return EXIT_SYSTEM;
	}
	/*
	 * --broker URL (or BREAKGLASS_BROKER) before the command: the command
	 * runs on that broker, over ssh, as the key that logs in there.
	 */
	{
		const char *url = getenv("BREAKGLASS_BROKER");
		int skip = 0;

		if (argc > 2 && strcmp(argv[1], "--broker") == 0) {
			url = argv[2];
			skip = 2;
		} else if (argc > 1 && strncmp(argv[1], "--broker=", 9) == 0) {
			url = argv[1] + 9;
			skip = 1;
		}
		if (url != NULL && *url != '\0' && argc > 1 + skip &&
		    cmd_remote_allowed(argv[1 + skip]) && strcmp(argv[1 + skip], "help") != 0 &&
		    strcmp(argv[1 + skip], "version") != 0)
			return cmd_remote(url, argc - 1 - skip, argv + 1 + skip);
		if (skip) {
			if (argc <= 1 + skip) {
				usage(stderr);
				return EXIT_USAGE;
			}
			if (!cmd_remote_allowed(argv[1 + skip]))
				return cmd_failf(EXIT_USAGE, "'%.64s' does not run through a broker (run "
				    "it on the host it is for, without --broker)", argv[1 + skip]);
			argc -= skip;
			argv += skip;
			argv[0] = argv[-skip];
		}
	}
	/* global options before the command are passed on to it */
	{
		static char *args[512];
		char **globals = argv + 1;
		int ng = 0, k, n = 0;

		while (ng < argc - 1 && (strcmp(globals[ng], "--home") == 0 ||
		    strcmp(globals[ng], "--as") == 0) && ng + 1 < argc - 1)
			ng += 2;
		while (ng < argc - 1 && (strncmp(globals[ng], "--home=", 7) == 0 ||
		    strncmp(globals[ng], "--as=", 5) == 0))
			ng++;
		if (ng > 0 && argc < 500) {
			args[n++] = argv[0];
			for (k = 1 + ng; k < argc; k++)
				args[n++] = argv[k];
			for (k = 0; k < ng; k++)
				args[n++] = globals[k];
			args[n] = NULL;
			if (n == ng + 1) {
				usage(stderr);
				return EXIT_USAGE;
			}
			argc = n;
			argv = args;
		}
	}
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		if (argc > 2) {
			for (i = 0; i < NCOMMANDS; i++) {
				if (strcmp(argv[2], commands[i].name) == 0) {
					char *args[] = { argv[2], "--help", NULL };

					return commands[i].fn(2, args);
				}
			}
			return unknown_command(argv[2]);
		}
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "version") == 0 || strcmp(argv[1], "--version") == 0) {
		printf("breakglass %s%s\n", BREAKGLASS_VERSION,
		    testhook_compiled() ? " (test build: test hooks enabled)" : "");
		return 0;
	}
	return cmd_run(argc - 1, argv + 1);
}

int
cmd_run(int argc, char **argv)
{
	size_t i;

	for (i = 0; i < NCOMMANDS; i++)
		if (strcmp(argv[0], commands[i].name) == 0)
			return commands[i].fn(argc, argv);
	if (strcmp(argv[0], "help") == 0 || strcmp(argv[0], "version") == 0) {
		char *args[] = { "breakglass", argv[0], argc > 1 ? argv[1] : NULL, NULL };

		return main(argc > 1 ? 3 : 2, args);
	}
	return unknown_command(argv[0]);
}

/* ---- helpers shared by the command files ---- */

int
cmd_parse(const char *cmd, int argc, char **argv, const opt_def *defs, cmd_args *a)
{
	int i, k, done = 0;

	memset(a, 0, sizeof(*a));
	for (i = 1; i < argc; i++) {
		const char *arg = argv[i], *val = NULL, *eq;
		size_t nlen;

		if (done || arg[0] != '-' || strcmp(arg, "-") == 0) {
			if (a->npos == OPT_MAXPOS)
				return cmd_failf(EXIT_USAGE, "%s: too many arguments", cmd);
			a->pos[a->npos++] = arg;
			continue;
		}
		if (strcmp(arg, "--") == 0) {
			done = 1;
			continue;
		}
		if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
			a->help = 1;
			continue;
		}
		if (strcmp(arg, "--json") == 0) {
			a->json = 1;
			continue;
		}
		eq = strchr(arg, '=');
		nlen = eq ? (size_t)(eq - arg) : strlen(arg);
		if ((nlen == 6 && strncmp(arg, "--home", 6) == 0) ||
		    (nlen == 4 && strncmp(arg, "--as", 4) == 0)) {
			if (eq)
				val = eq + 1;
			else if (i + 1 < argc)
				val = argv[++i];
			else
				return cmd_failf(EXIT_USAGE, "%s: option '%.*s' needs a value", cmd,
				    (int)nlen, arg);
			if (arg[2] == 'h')
				a->home = val;
			else
				a->actor = val;
			continue;
		}
		for (k = 0; defs && defs[k].name; k++)
			if (strlen(defs[k].name) == nlen && strncmp(defs[k].name, arg, nlen) == 0)
				break;
		if (defs == NULL || defs[k].name == NULL) {
			const char *near = defs ? text_suggest(arg, nlen, defs, sizeof(*defs)) : NULL;

			if (near != NULL)
				return cmd_failf(EXIT_USAGE, "%s: unknown option '%.*s'; did you mean "
				    "'%s'? (see 'breakglass %s --help')", cmd,
				    (int)(nlen > 64 ? 64 : nlen), arg, near, cmd);
			return cmd_failf(EXIT_USAGE, "%s: unknown option '%.*s' (see 'breakglass %s "
			    "--help')", cmd, (int)(nlen > 64 ? 64 : nlen), arg, cmd);
		}
		if (defs[k].flags & OPT_ARG) {
			if (eq)
				val = eq + 1;
			else if (i + 1 < argc)
				val = argv[++i];
			else
				return cmd_failf(EXIT_USAGE, "%s: option '%s' needs a value", cmd,
				    defs[k].name);
		} else if (eq) {
			return cmd_failf(EXIT_USAGE, "%s: option '%s' takes no value", cmd,
			    defs[k].name);
		}
		if (a->val[k].set && !(defs[k].flags & OPT_MULTI))
			return cmd_failf(EXIT_USAGE, "%s: option '%s' given twice", cmd, defs[k].name);
		if (a->val[k].n == OPT_MAXVALS)
			return cmd_failf(EXIT_USAGE, "%s: option '%s' given too often", cmd,
			    defs[k].name);
		a->val[k].set = 1;
		a->val[k].v = val ? val : "";
		a->val[k].all[a->val[k].n++] = val ? val : "";
	}
	return 0;
}

const char *
cmd_opt(const cmd_args *a, int i)
{
	return a->val[i].set ? a->val[i].v : NULL;
}

int
cmd_exit_code(int r)
{
	switch (r) {
	case 0:
		return 0;
	case BG_ERR_POLICY: case BG_ERR_GATE: case BG_ERR_SIGNATURE: case BG_ERR_SECRET:
	case BG_ERR_EXPIRED: case BG_ERR_PERM: case BG_ERR_CLOCK: case BG_ERR_STATE:
	case BG_ERR_TAMPER: case BG_ERR_EXISTS:
		return EXIT_REFUSED;
	case BG_ERR_USAGE: case BG_ERR_INVALID: case BG_ERR_TOOLARGE: case BG_ERR_NOTFOUND:
		return EXIT_USAGE;
	case BG_ERR_CORRUPT: case BG_ERR_STORE:
		return EXIT_HOME;
	default:
		return EXIT_SYSTEM;
	}
}

int
cmd_fail(int r, const bg_error *e)
{
	const char *m = e && e->msg[0] ? e->msg : bg_strerror(r), *p;
	size_t n = 1;

	for (p = m; (p = strchr(p, '\n')) != NULL; p++)
		n++;
	if (n == 1) {
		fprintf(stderr, "breakglass: %s\n", m);
		return cmd_exit_code(r);
	}
	/* several problems (a form's): one a line, in the order of their lines */
	{
		struct { const char *p; size_t len, line, k; } v[64], tmp;
		size_t k = 0, i, j;

		for (p = m; *p && k < 64; k++) {
			v[k].p = p;
			v[k].len = strcspn(p, "\n");
			v[k].line = strncmp(p, "line ", 5) == 0 ? strtoul(p + 5, NULL, 10) : SIZE_MAX;
			v[k].k = k;
			p += v[k].len + (p[v[k].len] == '\n');
		}
		for (i = 1; i < k; i++) /* insertion sort: stable */
			for (j = i; j > 0 && v[j - 1].line > v[j].line; j--) {
				tmp = v[j];
				v[j] = v[j - 1];
				v[j - 1] = tmp;
			}
		fprintf(stderr, "breakglass: %zu problems:\n", k);
		for (i = 0; i < k; i++)
			fprintf(stderr, "  %.*s\n", (int)v[i].len, v[i].p);
	}
	return cmd_exit_code(r);
}

int
cmd_fail_at(int r, const bg_error *e, const char *what, const char *path)
{
	const char *m = e && e->msg[0] ? e->msg : bg_strerror(r);

	if (strstr(m, path) != NULL)
		fprintf(stderr, "breakglass: %s\n", m);
	else
		fprintf(stderr, "breakglass: %s '%s': %s\n", what, path, m);
	return cmd_exit_code(r);
}

int
cmd_failf(int code, const char *fmt, ...)
{
	va_list ap;

	fputs("breakglass: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

int
cmd_host_log_dir(const cmd_args *a, const char *given, buf *out)
{
	buf dir;
	bg_error e;
	int r = 0;

	buf_reset(out);
	if (given != NULL)
		return buf_puts(out, given) ? cmd_failf(EXIT_USAGE, "--audit-dir is too long") : 0;
	bg_error_clear(&e);
	buf_init(&dir, 4096);
	if (a->home != NULL ? buf_puts(&dir, a->home) == 0 : home_default_dir(&dir) == 0)
		r = home_config_host_log(dir.data, out, &e);
	buf_release(&dir);
	if (r != 0)
		return cmd_fail(r, &e);
	if (out->len == 0 && buf_puts(out, "/var/log/breakglass") != 0)
		return cmd_failf(EXIT_SYSTEM, "out of memory");
	return 0;
}

int
cmd_json_done(const char *key, ...)
{
	va_list ap;
	buf o;
	json j;
	const char *k;
	int r;

	buf_init(&o, 1024 * 1024);
	json_init(&j, &o);
	json_obj_begin(&j);
	va_start(ap, key);
	for (k = key; k != NULL; k = va_arg(ap, const char *))
		json_kv_str(&j, k, va_arg(ap, const char *));
	va_end(ap);
	json_obj_end(&j);
	buf_putc(&o, '\n');
	r = json_error(&j) != 0 ? cmd_failf(EXIT_SYSTEM, "too much to show as JSON") :
	    cmd_write_out(&o);
	buf_release(&o);
	return r;
}

int
cmd_no_json(const char *cmd, const char *why)
{
	return cmd_failf(EXIT_USAGE, "%s: --json is not supported (%s)", cmd, why);
}

int
cmd_unknown_sub(const char *cmd, const char *sub, const char *const *subs)
{
	const char *near = text_suggest(sub, strlen(sub), subs, sizeof(*subs));
	size_t i;

	fprintf(stderr, "breakglass: %s: unknown subcommand '%.64s'", cmd, sub);
	if (near != NULL)
		fprintf(stderr, "; did you mean '%s'?", near);
	fputs(" (subcommands:", stderr);
	for (i = 0; subs[i] != NULL; i++)
		fprintf(stderr, "%s %s", i ? "," : "", subs[i]);
	fputs(")\n", stderr);
	return EXIT_USAGE;
}

int
cmd_usage(const char *text)
{
	fputs(text, stdout);
	return 0;
}

/*
 * Who acts.  Remotely: the user and key serve was started for (sshd ran
 * the forced command).  On the broker host: root or the home's owner, as
 * a local admin under their login name (root acts as the owner, so the
 * files stay the owner's); nobody else.  --as and BREAKGLASS_ACTOR exist in
 * test builds only (a registered user by email or name, else a local admin
 * of that name); the release build refuses them.
 */
int
cmd_open_home(const cmd_args *a, home **h)
{
	const char *as = a->actor;
	struct passwd *pw;
	struct stat sb;
	char login[129];
	buf dir;
	bg_error e;
	int r;

	bg_error_clear(&e);
	if (cmd_serve_user == NULL && as == NULL && getenv("BREAKGLASS_ACTOR") != NULL &&
	    *getenv("BREAKGLASS_ACTOR") != '\0')
		as = getenv("BREAKGLASS_ACTOR");
	if (cmd_serve_user == NULL && as != NULL && !testhook_compiled())
		return cmd_failf(EXIT_USAGE, "--as is not for the command line: who acts is the key "
		    "that logged in (breakglass --broker ssh://...), or on the broker host root or "
		    "the home's owner");
	buf_init(&dir, 4096);
	if (a->home != NULL)
		r = buf_puts(&dir, a->home);
	else
		r = home_default_dir(&dir);
	if (r != 0) {
		buf_release(&dir);
		return cmd_failf(EXIT_HOME, "cannot determine the home directory (use --home DIR)");
	}
	pw = getpwuid(geteuid());
	snprintf(login, sizeof(login), "%s", pw ? pw->pw_name : "unknown");
	if (cmd_serve_user == NULL && stat(dir.data, &sb) == 0) {
		if (geteuid() != 0 && geteuid() != sb.st_uid) {
			r = cmd_failf(EXIT_REFUSED, "the home '%s' is not yours: on the broker host only "
			    "root and its owner use it; others run 'breakglass --broker "
			    "ssh://ACCOUNT@HOST ...'", dir.data);
			buf_release(&dir);
			return r;
		}
		/* root works on a service account's home as that account */
		if (geteuid() == 0 && sb.st_uid != 0 &&
		    (setgroups(0, NULL) != 0 || setresgid(sb.st_gid, sb.st_gid, sb.st_gid) != 0 ||
		    setresuid(sb.st_uid, sb.st_uid, sb.st_uid) != 0)) {
			buf_release(&dir);
			return cmd_failf(EXIT_SYSTEM, "cannot act as the owner of '%s'", dir.data);
		}
	}
	r = home_open(dir.data, cmd_serve_user ? cmd_serve_user : as ? as : login, h, &e);
	buf_release(&dir);
	if (r == 0) {
		if (cmd_serve_user != NULL)
			r = users_act_as(*h, cmd_serve_user, cmd_serve_key, &e);
		else if (as != NULL && users_exists(*h, as))
			r = users_act_as(*h, as, NULL, &e);
		else
			users_act_local(*h);
		if (r != 0) {
			home_close(*h);
			*h = NULL;
			return cmd_fail(r, &e);
		}
	}
	if (r != 0) {
		fprintf(stderr, "breakglass: %s\n", e.msg[0] ? e.msg : bg_strerror(r));
		return r == BG_ERR_USAGE ? EXIT_USAGE : r == BG_ERR_NOMEM ? EXIT_SYSTEM : EXIT_HOME;
	}
	return 0;
}

int
cmd_write_out(const buf *b)
{
	if (b->len > 0 && fwrite(b->data, 1, b->len, stdout) != b->len)
		return cmd_failf(EXIT_SYSTEM, "cannot write output: %s", strerror(errno));
	if (fflush(stdout) != 0)
		return cmd_failf(EXIT_SYSTEM, "cannot write output: %s", strerror(errno));
	return 0;
}

int
cmd_ticket_id(const char *s, int64_t *id)
{
	if (s == NULL)
		return cmd_failf(EXIT_USAGE, "name a ticket (T-N)");
	if (ticket_parse_id(s, id) != 0)
		return cmd_failf(EXIT_USAGE, "invalid ticket '%.32s' (expected T-N)", s);
	return 0;
}

int
cmd_grant_id(const char *s, int64_t *id)
{
	if (s == NULL)
		return cmd_failf(EXIT_USAGE, "name a grant (G-N)");
	if (grant_parse_id(s, id) != 0)
		return cmd_failf(EXIT_USAGE, "invalid grant '%.32s' (expected G-N)", s);
	return 0;
}

void
cmd_host_record(const char *dir, const char *event, int64_t tkt, const char *detail_json)
{
	const struct passwd *pw = getpwuid(geteuid());
	const char *sudo = getenv("SUDO_USER");
	sshkey_priv k;
	audit_log log;
	bg_error e;
	buf d;
	size_t l;

	/* the detail, with who asked sudo for it folded in */
	buf_init(&d, AUDIT_MAX_RECORD - 1024);
	l = strlen(detail_json);
	if (sudo != NULL && *sudo != '\0' && l >= 2 && detail_json[l - 1] == '}') {
		buf_append(&d, detail_json, l - 1);
		buf_puts(&d, l > 2 ? ",\"sudo_user\":" : "\"sudo_user\":");
		json_escape(&d, sudo, strlen(sudo));
		buf_putc(&d, '}');
	} else
		buf_puts(&d, detail_json);
	if (audit_host_key(dir, &k, &e) == 0) {
		if (audit_open(&log, dir, &k, k.pk, &e) == 0) {
			if (audit_append(&log, utc_now(), pw ? pw->pw_name : "root", event, tkt,
			    buf_cstr(&d), &e) != 0)
				fprintf(stderr, "breakglass: warning: host log: %s\n", e.msg);
			audit_close(&log);
		} else
			fprintf(stderr, "breakglass: warning: the %s is not in the host log: %s\n",
			    event, e.msg);
		sshkey_priv_release(&k);
	} else
		fprintf(stderr, "breakglass: warning: the %s is not in the host log (%s; is this a "
		    "host set up with 'breakglass host setup'?)\n", event, e.msg);
	buf_release(&d);
}
