/*
 * cmd-gate.c - breakglass gate: the forced command on a host.
 */
#include "cmd.h"
#include "gate.h"

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage_text[] =
	"usage: breakglass gate [--config FILE]\n\n"
	"The forced command of breakglass certificates (sshd runs it; a person does\n"
	"not).  It re-verifies the login certificate (from SSH_USER_AUTH, sshd's\n"
	"ExposeAuthInfo) against the CA, the clock and the KRL, parses the request\n"
	"in SSH_ORIGINAL_COMMAND without a shell and runs what the grant allows:\n\n"
	"%s"
	"  /ABSOLUTE/PROGRAM ARGS...     one of the grant's allowed commands, exactly\n\n"
	"Anything else is refused with one line and exit status 1.  Every request\n"
	"is recorded in the host's audit log and in syslog.  FILE defaults to\n"
	GATE_DEFAULT_CONFIG ".\n";

static const opt_def defs[] = {
	{ "--config", OPT_ARG },
	{ NULL, 0 }
};

int
cmd_gate(int argc, char **argv)
{
	cmd_args a;
	gate_env env;
	struct passwd *pw;
	int r;

	/* the gate never takes the clock from its environment */
	unsetenv("BREAKGLASS_NOW");
	unsetenv("BREAKGLASS_TESTING");
	if ((r = cmd_parse("gate", argc, argv, defs, &a)) != 0)
		return r;
	if (a.help) {
		printf(usage_text, gate_verbs_help);
		return 0;
	}
	if (a.npos != 0 || a.json)
		return cmd_failf(EXIT_REFUSED, "refused: the gate takes no arguments");
	if ((pw = getpwuid(getuid())) == NULL)
		return cmd_failf(EXIT_REFUSED, "refused: unknown account");
	memset(&env, 0, sizeof(env));
	env.config = cmd_opt(&a, 0) ? cmd_opt(&a, 0) : GATE_DEFAULT_CONFIG;
	env.original_command = getenv("SSH_ORIGINAL_COMMAND");
	env.user_auth = getenv("SSH_USER_AUTH");
	env.user = pw->pw_name;
	return gate_main(&env);
}
