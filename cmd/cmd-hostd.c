/*
 * cmd-hostd.c - breakglass hostd: the host supervisor (root).
 */
#include "cmd.h"
#include "confine.h"
#include "gate.h"
#include "hostd.h"

#include <stdio.h>
#include <stdlib.h>

static const char usage_text[] =
	"usage: breakglass hostd [--config FILE] [--socket PATH] [--pidfile FILE]\n\n"
	"The host supervisor, run as root (contrib/breakglass-hostd.service, or\n"
	"started by `breakglass host setup --apply` where no systemd runs).  It\n"
	"listens on the unix socket PATH (default " HOSTD_DEFAULT_SOCKET ") for\n"
	"the forced command - breakglass-gate beside this binary (root's, in a\n"
	"folder only root writes), or this binary's `breakglass gate` - binds each\n"
	"request to the sshd\n"
	"session that started the gate, verifies the certificate, decides, runs and\n"
	"records - the gate itself holds no privilege.  FILE (default\n"
	GATE_DEFAULT_CONFIG ") names the CA key, the KRL and the host log; it must\n"
	"be root's and writable by no one else.  Runs in the foreground until\n"
	"SIGTERM.\n";

static const opt_def defs[] = {
	{ "--config", OPT_ARG },
	{ "--socket", OPT_ARG },
	{ "--pidfile", OPT_ARG },
	{ NULL, 0 }
};

int
cmd_hostd(int argc, char **argv)
{
	cmd_args a;
	hostd_opts o;
	bg_error e;
	int r;

	/* hostd never takes the clock from its environment (a test build
	 * may pretend the kernel has no Landlock: confine.h) */
	confine_hooks_read();
	gate_sql_hooks_read();
	unsetenv("BREAKGLASS_NOW");
	unsetenv("BREAKGLASS_TESTING");
	if ((r = cmd_parse("hostd", argc, argv, defs, &a)) != 0)
		return r;
	if (a.help)
		return cmd_usage(usage_text);
	if (a.npos != 0)
		return cmd_failf(EXIT_USAGE, "hostd takes no arguments");
	o.config = cmd_opt(&a, 0) ? cmd_opt(&a, 0) : GATE_DEFAULT_CONFIG;
	o.socket = cmd_opt(&a, 1) ? cmd_opt(&a, 1) : HOSTD_DEFAULT_SOCKET;
	o.pidfile = cmd_opt(&a, 2);
	bg_error_clear(&e);
	/* the gate's 'collect' verb runs the collector, which lives above
	 * the host layer */
	gate_collect_register(cmd_collect_gate, cmd_collect_known);
	if ((r = hostd_serve(&o, &e)) != 0)
		return cmd_fail(r, &e);
	return 0;
}
