/*
 * bench-confine.c - what the Landlock ruleset adds to a request: building
 * it (in hostd's child) and applying it (in the child that execs), side by
 * side with the same fork + exec of /bin/true without it, alternating so
 * drift on a shared machine hits both alike.  Two rulesets: an allowed
 * command's and a shell tier's (the system's programs too).  Run as root.
 *
 * usage: bench-confine N [REQUEST_MS]
 *   REQUEST_MS: the median of a whole request over ssh (bench/gate.sh), to
 *   print the ruleset's share of it
 */
#include "bench.h"
#include "confine.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static double
once(const confine_spec *sp, int abi)
{
	double t0 = utc_mono();
	confine c = { -1, 0, 0 };
	bg_error e;
	pid_t pid;
	int st;

	if (sp != NULL && confine_build(sp, abi, &c, &e) != 0) {
		fprintf(stderr, "bench-confine: %s\n", e.msg);
		exit(1);
	}
	if ((pid = fork()) == 0) {
		char *const av[] = { "/bin/true", NULL }, *const ev[] = { NULL };

		if (sp != NULL && confine_apply(&c) != 0)
			_exit(126);
		execve(av[0], av, ev);
		_exit(127);
	}
	confine_release(&c);
	waitpid(pid, &st, 0);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "bench-confine: /bin/true failed (status %d)\n", st);
		exit(1);
	}
	return utc_mono() - t0;
}

int
main(int argc, char **argv)
{
	const char *progs[] = { "/bin/true" }, *sprogs[] = { "/usr/bin/sudo" };
	confine_spec cmd, shell;
	scope sc;
	bg_error e;
	double *t0, *t1, *t2, req = 0;
	int n, abi = confine_abi();

	if (argc < 2 || (n = (int)strtol(argv[1], NULL, 10)) < 1)
		return 2;
	if (argc > 2)
		req = strtod(argv[2], NULL);
	if (abi < 1) {
		printf("Landlock: this kernel offers none: not measured\n");
		return 0;
	}
	memset(&sc, 0, sizeof(sc));
	if (scope_add(&sc, "/var/log", 0, &e) != 0 || scope_add(&sc, "/tmp", 1, &e) != 0)
		return 1;
	memset(&cmd, 0, sizeof(cmd));
	cmd.sc = &sc;
	cmd.programs = progs;
	cmd.nprograms = 1;
	cmd.tmp = "/tmp";
	shell = cmd;
	shell.programs = sprogs;
	shell.shell = 1;
	t0 = calloc((size_t)n, sizeof(*t0));
	t1 = calloc((size_t)n, sizeof(*t1));
	t2 = calloc((size_t)n, sizeof(*t2));
	for (int i = 0; i < n; i++) {
		t0[i] = once(NULL, abi);
		t1[i] = once(&cmd, abi);
		t2[i] = once(&shell, abi);
	}
	bench_sort(t0, n);
	bench_sort(t1, n);
	bench_sort(t2, n);
	{
		double base = t0[n / 2] * 1e3, c = t1[n / 2] * 1e3 - base, s = t2[n / 2] * 1e3 - base;

		printf("Landlock ABI %d set-up (n=%d): fork+exec /bin/true median %.3f ms; with an "
		    "allowed command's ruleset (build + apply) +%.3f ms (%.2fx), with a shell tier's "
		    "(the system's programs too) +%.3f ms (%.2fx)\n", abi, n, base, c,
		    t1[n / 2] * 1e3 / base, s, t2[n / 2] * 1e3 / base);
		if (req > 0)
			printf("  share of a request over ssh (allowed command median %.1f ms): "
			    "%.2f%% (command), %.2f%% (shell tier)\n", req, 100 * c / req, 100 * s / req);
	}
	scope_release(&sc);
	free(t0);
	free(t1);
	free(t2);
	return 0;
}
