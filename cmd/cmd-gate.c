/*
 * cmd-gate.c - breakglass gate: the forced command on a host, a thin
 * client of the host supervisor (hostd.h).  sshd runs breakglass-gate
 * (gate/main.c), the same client in a small binary; this command is kept
 * for configurations that name `breakglass gate`.
 */
#include "cmd.h"
#include "gate.h"
#include "hostd.h"
#include "login.h"

#include <stdio.h>
#include <sys/prctl.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
	"usage: breakglass gate [--socket PATH]\n\n"
	"The forced command of breakglass certificates (sshd runs it; a person does\n"
	"not).  host setup names breakglass-gate, the same client in a small binary\n"
	"(libc only: each request starts it); this command does the same.  It runs with the account's ids and no privilege: it hands its\n"
	"standard input, output and error to the host supervisor (breakglass hostd,\n"
	"root) over the unix socket PATH (default " HOSTD_DEFAULT_SOCKET ") and exits\n"
	"with the request's status.  hostd checks that the gate was started by the\n"
	"sshd session of the account, reads the request (SSH_ORIGINAL_COMMAND) and\n"
	"the login certificate (SSH_USER_AUTH, sshd's ExposeAuthInfo) from the\n"
	"environment sshd gave it, re-verifies the certificate against the CA, the\n"
	"clock and the KRL, and runs what the grant allows:\n\n"
	"%s"
	"  /ABSOLUTE/PROGRAM ARGS...     one of the grant's allowed commands, exactly\n\n"
	"Anything else is refused with one line and exit status 1.  Every request\n"
	"is recorded in the host's audit log and in syslog.  The configuration is\n"
	"hostd's own (root names it on hostd's command line); the gate takes none.\n"
	"Without hostd running every request is refused.\n";

static const opt_def defs[] = {
	{ "--socket", OPT_ARG },
	{ NULL, 0 }
};

int
cmd_gate(int argc, char **argv)
{
	cmd_args a;
	bg_error e;
	int r, status = 1;

	/*
	 * Nothing else of the account may trace or inspect this process: a
	 * traced gate could be re-executed with another session's request
	 * and certificate, made to start processes outside hostd's cgroups,
	 * or to type into its session's terminal (TIOCSTI).  Non-dumpable,
	 * /proc/PID/environ and ptrace are root's alone.
	 */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
		return cmd_failf(EXIT_REFUSED, "refused: the gate cannot protect itself from tracing");
	if ((r = cmd_parse("gate", argc, argv, defs, &a)) != 0)
		return r;
	if (a.help) {
		printf(usage_text, gate_verbs_help);
		return 0;
	}
	if (a.npos != 0 || a.json)
		return cmd_failf(EXIT_REFUSED, "refused: the gate takes no arguments");
	bg_error_clear(&e);
	if (login_request(cmd_opt(&a, 0) ? cmd_opt(&a, 0) : HOSTD_DEFAULT_SOCKET, &status, &e) != 0)
		return cmd_failf(EXIT_REFUSED, "refused: %s", e.msg);
	return status;
}
