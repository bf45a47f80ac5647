/*
 * cmd-broker.c - breakglass broker setup: remote use over ssh.
 */
#include "cmd.h"
#include "proc.h"
#include "users.h"

#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char usage_text[] =
	"usage: breakglass broker setup --account NAME [--authorized-keys FILE]\n"
	"                               [--command PATH] [--home DIR]\n\n"
	"Remote use, as gitolite does it: the home becomes the service account\n"
	"NAME's (made when missing: a system account whose home is the broker\n"
	"home), readable and writable by it alone (0700), and its authorized_keys\n"
	"(default ~NAME/.ssh/authorized_keys) gets one line per user key:\n"
	"  restrict,command=\"breakglass --home DIR serve --as EMAIL --key FP\" KEY\n"
	"rewritten whenever users or approvers change.  Users then run the same\n"
	"commands with --broker ssh://NAME@HOST[:PORT] (or BREAKGLASS_BROKER); who\n"
	"acts is the key that logged in.  On the broker host root and NAME act as\n"
	"admin.  --command is the breakglass sshd runs (default: this one).\n";

static const opt_def defs[] = {
	{ "--account", OPT_ARG },
	{ "--authorized-keys", OPT_ARG },
	{ "--command", OPT_ARG },
	{ NULL, 0 }
};

static int
run(char *const argv[])
{
	buf out;
	bg_error e;
	int st = 0, r;

	bg_error_clear(&e);
	buf_init(&out, 8192);
	r = proc_run(argv, NULL, 0, &out, &st, &e);
	if (r != 0 || st != 0)
		r = cmd_failf(EXIT_SYSTEM, "broker setup: %s failed: %.300s", argv[0],
		    r ? e.msg : buf_cstr(&out));
	buf_release(&out);
	return r;
}

int
cmd_broker(int argc, char **argv)
{
	cmd_args a;
	home *h = NULL;
	buf dir;
	bg_error e;
	struct passwd *pw;
	struct stat sb;
	char ak[PATH_MAX + 32], self[PATH_MAX], sshdir[PATH_MAX], owner[40];
	const char *acct;
	ssize_t n;
	int r;

	if ((r = cmd_parse("broker", argc, argv, defs, &a)) != 0)
		return r;
	if (a.help)
		return cmd_usage(usage_text);
	if (a.npos != 1 || strcmp(a.pos[0], "setup") != 0)
		return cmd_failf(EXIT_USAGE, "broker: expected 'broker setup --account NAME'");
	if ((acct = cmd_opt(&a, 0)) == NULL)
		return cmd_failf(EXIT_USAGE, "broker setup: --account NAME is required (the "
		    "service account users log in to)");
	bg_error_clear(&e);
	buf_init(&dir, PATH_MAX);
	if ((a.home ? buf_puts(&dir, a.home) : home_default_dir(&dir)) != 0 ||
	    dir.data[0] != '/') {
		r = cmd_failf(EXIT_USAGE, "broker setup: name the home with an absolute --home DIR");
		goto out;
	}
	if (lstat(dir.data, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
		r = cmd_failf(EXIT_HOME, "broker setup: no home at '%s' (run 'breakglass init' "
		    "first)", dir.data);
		goto out;
	}
	if ((pw = getpwnam(acct)) == NULL) {
		char *ua[] = { "/usr/sbin/useradd", "--system", "--home-dir", dir.data,
		    "--no-create-home", "--shell", "/bin/sh", "--password", "*", "--", (char *)acct,
		    NULL };

		if (geteuid() != 0) {
			r = cmd_failf(EXIT_REFUSED, "broker setup: there is no account '%s', and "
			    "only root can make it", acct);
			goto out;
		}
		if ((r = run(ua)) != 0)
			goto out;
		if ((pw = getpwnam(acct)) == NULL) {
			r = cmd_failf(EXIT_SYSTEM, "broker setup: account '%s' was not made", acct);
			goto out;
		}
	}
	if (geteuid() != 0 && geteuid() != pw->pw_uid) {
		r = cmd_failf(EXIT_REFUSED, "broker setup: run it as root or as '%s'", acct);
		goto out;
	}
	/* the home is the account's alone */
	snprintf(owner, sizeof(owner), "%u:%u", (unsigned)pw->pw_uid, (unsigned)pw->pw_gid);
	{
		char *ch[] = { "/bin/chown", "-R", "-h", owner, "--", dir.data, NULL };

		if (geteuid() == 0 && (r = run(ch)) != 0)
			goto out;
	}
	if (chmod(dir.data, 0700) != 0) {
		r = cmd_failf(EXIT_SYSTEM, "broker setup: chmod '%s': %s", dir.data, strerror(errno));
		goto out;
	}
	if (cmd_opt(&a, 1) != NULL)
		snprintf(ak, sizeof(ak), "%s", cmd_opt(&a, 1));
	else {
		snprintf(sshdir, sizeof(sshdir), "%s/.ssh", pw->pw_dir);
		if (mkdir(sshdir, 0700) != 0 && errno != EEXIST) {
			r = cmd_failf(EXIT_SYSTEM, "broker setup: mkdir '%s': %s", sshdir,
			    strerror(errno));
			goto out;
		}
		if (geteuid() == 0 && lchown(sshdir, pw->pw_uid, pw->pw_gid) != 0) {
			r = cmd_failf(EXIT_SYSTEM, "broker setup: chown '%s': %s", sshdir,
			    strerror(errno));
			goto out;
		}
		snprintf(ak, sizeof(ak), "%s/authorized_keys", sshdir);
	}
	if (cmd_opt(&a, 2) != NULL)
		snprintf(self, sizeof(self), "%s", cmd_opt(&a, 2));
	else if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) <= 0) {
		r = cmd_failf(EXIT_SYSTEM, "broker setup: cannot find this binary's path; give "
		    "--command PATH");
		goto out;
	} else
		self[n] = '\0';
	if ((r = cmd_open_home(&a, &h)) != 0)
		goto out;
	if ((r = users_setup_remote(h, ak, self, &e)) != 0) {
		r = cmd_fail(r, &e);
		goto out;
	}
	printf("broker home %s belongs to '%s' (0700); %s lists every user key\n"
	    "  users run: breakglass --broker ssh://%s@HOST COMMAND ...\n", dir.data, acct, ak,
	    acct);
out:
	home_close(h);
	buf_release(&dir);
	return r;
}
