/*
 * breakglass-gate - the two programs sshd runs at a login of a hotfix
 * account, in a binary of their own (libc only, no SQLite, crypto or
 * scanner): every request starts two of them, and starting the large
 * breakglass binary (its dynamic linking) cost more than the rest of the
 * request's supervision.
 *
 *   breakglass-gate [--socket PATH]
 *       the forced command: hands fds 0-2 to hostd, exits with the
 *       request's status (login_request);
 *   breakglass-gate principals [--etc DIR] [--auth-spool DIR] USER CERT
 *       the AuthorizedPrincipalsCommand (login_principals);
 *   breakglass-gate -c 'GATE [--socket PATH]'
 *       the forced command once more, as the account's login shell
 *       (host setup --create-accounts): sshd runs SHELL -c FORCECOMMAND,
 *       so with the gate as the shell no /bin/sh starts before it (a
 *       shell's exec and start were ~1.4 ms of every request here), and
 *       whatever else runs the account's shell (su, cron) gets the gate,
 *       which hostd refuses outside an sshd session.
 *
 * It takes no configuration from its caller: --socket only chooses whom
 * to ask (only root's hostd can serve: hostd checks the peer), --etc and
 * --auth-spool are set by root in sshd's configuration, and the
 * principals command runs only as root from sshd (login.c checks both).
 * `breakglass gate` and `breakglass host principals` run the same code.
 */
#include "err.h"
#include "login.h"

#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#define EXIT_REFUSED 1
#define EXIT_USAGE 2
#define EXIT_SYSTEM 4

static const char usage_text[] =
	"usage: breakglass-gate [--socket PATH]\n"
	"       breakglass-gate -c 'GATE [--socket PATH]'\n"
	"       breakglass-gate principals [--etc DIR] [--auth-spool DIR] USER CERT\n\n"
	"What sshd runs for a hotfix account; a person does not run it (breakglass(1),\n"
	"host setup).  The first form is the forced command of breakglass\n"
	"certificates: with the account's ids and no privilege it hands its standard\n"
	"input, output and error to the host supervisor (breakglass hostd, root) over\n"
	"the unix socket PATH (default " LOGIN_DEFAULT_SOCKET ") and exits with\n"
	"the request's status; hostd reads the request and the certificate from the\n"
	"environment sshd gave it and decides (ssh ACCOUNT@HOST help lists the\n"
	"verbs).  Without hostd running every request is refused.  As the account's\n"
	"login shell (host setup --create-accounts) sshd runs it with -c and the forced\n"
	"command, GATE being this program's path: the same, with no shell before it;\n"
	"any other -c is refused.\n\n"
	"The second form is sshd's AuthorizedPrincipalsCommand (run as root, with\n"
	"%%u %%k): it records the certificate offered on this connection in the auth\n"
	"spool (default " LOGIN_DEFAULT_AUTH_SPOOL ") and prints DIR/principals/USER\n"
	"(--etc, default " LOGIN_DEFAULT_ETC "); on any failure it prints nothing and\n"
	"sshd refuses the certificate.\n\n"
	"Exit status: the request's, or 1 refused, 2 usage, 4 system error.\n";

static int
fail(int code, const char *what, const char *msg)
{
	fprintf(stderr, "breakglass: %s%s\n", what, msg);
	return code;
}

static int
exit_code(int r)
{
	switch (r) {
	case BG_ERR_PERM: case BG_ERR_EXISTS:
		return EXIT_REFUSED;
	case BG_ERR_USAGE: case BG_ERR_INVALID: case BG_ERR_TOOLARGE: case BG_ERR_NOTFOUND:
		return EXIT_USAGE;
	default:
		return EXIT_SYSTEM;
	}
}

/* "--name VALUE" at argv[*i], once only; 1 when taken, 0 when argv[*i] is
 * not --name, -1 (after saying why) when it is malformed or repeated. */
static int
take_opt(int argc, char **argv, int *i, const char *name, const char **val)
{
	if (strcmp(argv[*i], name) != 0)
		return 0;
	if (*val != NULL) {
		fprintf(stderr, "breakglass-gate: %s given twice\n", name);
		return -1;
	}
	if (*i + 1 >= argc || argv[*i + 1][0] == '\0') {
		fprintf(stderr, "breakglass-gate: %s needs a value\n", name);
		return -1;
	}
	*val = argv[++*i];
	return 1;
}

static int
run_principals(int argc, char **argv)
{
	const char *etc = NULL, *spool = NULL, *pos[2];
	int npos = 0, t;
	bg_error e;

	for (int i = 2; i < argc; i++) {
		if ((t = take_opt(argc, argv, &i, "--etc", &etc)) < 0 ||
		    (t == 0 && (t = take_opt(argc, argv, &i, "--auth-spool", &spool)) < 0))
			return EXIT_USAGE;
		if (t == 1)
			continue;
		if (argv[i][0] == '-' || npos == 2) {
			fprintf(stderr, "breakglass-gate principals: unexpected '%.64s' (see "
			    "--help)\n", argv[i]);
			return EXIT_USAGE;
		}
		pos[npos++] = argv[i];
	}
	if (npos != 2) {
		fprintf(stderr, "breakglass-gate principals: expected USER and CERT (sshd's %%u "
		    "%%k)\n");
		return EXIT_USAGE;
	}
	bg_error_clear(&e);
	if ((t = login_principals(etc ? etc : LOGIN_DEFAULT_ETC, spool ? spool :
	    LOGIN_DEFAULT_AUTH_SPOOL, pos[0], pos[1], STDOUT_FILENO, &e)) != 0)
		return fail(exit_code(t), "", e.msg[0] ? e.msg : bg_strerror(t));
	return 0;
}

/*
 * The login-shell form: argv is SHELL -c TEXT, and TEXT must be this
 * gate's forced command, "/.../breakglass-gate" with at most
 * "--socket /PATH" after it, words apart by one space (sshd passes the
 * ForceCommand text as configured; host setup writes it so).  Anything
 * else - a command a session asked for, su's or cron's - is refused:
 * the gate runs nothing itself, and a shell it is not.  0 with *sock
 * set (or left NULL), or an exit status.
 */
static int
shell_form(char *text, const char **sock)
{
	static const char name[] = "/breakglass-gate";
	char *w[4], *p = text;
	size_t n = 0, l;

	if (strpbrk(text, "\t\n\r\"'\\$`;&|<>()*?[]{}~") != NULL)
		goto refuse;
	while (*p != '\0') {
		if (n == 4)
			goto refuse;
		w[n++] = p;
		if ((p = strchr(p, ' ')) == NULL)
			break;
		*p++ = '\0';
		if (*p == ' ' || *p == '\0')
			goto refuse;
	}
	if (n != 1 && n != 3)
		goto refuse;
	l = strlen(w[0]);
	if (w[0][0] != '/' || l < sizeof(name) || strcmp(w[0] + l - (sizeof(name) - 1), name) != 0)
		goto refuse;
	if (n == 3) {
		if (strcmp(w[1], "--socket") != 0 || w[2][0] != '/')
			goto refuse;
		*sock = w[2];
	}
	return 0;
refuse:
	return fail(EXIT_REFUSED, "refused: ", "this account's shell is the breakglass gate: it "
	    "runs its forced command only (ssh ACCOUNT@HOST help)");
}

int
main(int argc, char **argv)
{
	const char *sock = NULL;
	bg_error e;
	int status = 1;

	/*
	 * Nothing else of the account may trace or inspect this process: a
	 * traced gate could be re-executed with another session's request
	 * and certificate, made to start processes outside hostd's cgroups,
	 * or to type into its session's terminal (TIOCSTI).  Non-dumpable,
	 * /proc/PID/environ and ptrace are root's alone.  First thing, for
	 * both roles.
	 */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
		return fail(EXIT_REFUSED, "refused: ", "the gate cannot protect itself from tracing");
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(usage_text, stdout);
			return fflush(stdout) == 0 ? 0 : EXIT_SYSTEM;
		}
	if (argc >= 2 && strcmp(argv[1], "principals") == 0)
		return run_principals(argc, argv);
	if (argc >= 2 && strcmp(argv[1], "-c") == 0) {
		int t;

		if (argc != 3)
			return fail(EXIT_REFUSED, "refused: ", "the gate as a shell takes -c and its "
			    "forced command only");
		if ((t = shell_form(argv[2], &sock)) != 0)
			return t;
		argc = 1;
	}
	for (int i = 1; i < argc; i++) {
		int t = take_opt(argc, argv, &i, "--socket", &sock);

		if (t < 0)
			return EXIT_USAGE;
		if (t == 0 && argv[i][0] == '-') {
			fprintf(stderr, "breakglass-gate: unknown option '%.64s' (the gate takes "
			    "--socket PATH only; see --help)\n", argv[i]);
			return EXIT_USAGE;
		}
		if (t == 0)
			return fail(EXIT_REFUSED, "refused: ", "the gate takes no arguments");
	}
	bg_error_clear(&e);
	if (login_request(sock ? sock : LOGIN_DEFAULT_SOCKET, &status, &e) != 0)
		return fail(EXIT_REFUSED, "refused: ", e.msg);
	return status;
}
