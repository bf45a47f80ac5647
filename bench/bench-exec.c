/*
 * bench-exec.c - time two programs side by side, alternating A and B so
 * that drift on a shared machine hits both alike; print medians, p90 and
 * the difference of medians.  Run as root: each child switches to UID/GID
 * before exec, so the gate runs as the hotfix account would.
 *
 * usage: bench-exec UID GID N ENV_A -- ARGV_A... -- ARGV_B...
 *   ENV_A: a file of NAME=VALUE lines given to A only (the gate's sshd env)
 */
#include "bench.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double
run(uid_t uid, gid_t gid, char **argv, char **envp)
{
	double t0 = utc_mono();
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, 1);
		dup2(null, 2);
		if (setgroups(0, NULL) != 0 || setgid(gid) != 0 || setuid(uid) != 0)
			_exit(126);
		execve(argv[0], argv, envp);
		_exit(127);
	}
	waitpid(pid, &st, 0);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "bench-exec: %s failed (status %d)\n", argv[0], st);
		exit(1);
	}
	return utc_mono() - t0;
}

int
main(int argc, char **argv)
{
	char *enva[64], line[8192];
	char *envb[] = { "PATH=/usr/bin:/bin", NULL };
	char **a, **b;
	double *ta, *tb;
	int n, i, ne = 0;
	FILE *f;

	if (argc < 8)
		return 2;
	n = (int)strtol(argv[3], NULL, 10);
	if ((f = fopen(argv[4], "r")) == NULL)
		return 2;
	while (ne < 63 && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		enva[ne++] = strdup(line);
	}
	enva[ne] = NULL;
	fclose(f);
	a = argv + 6;
	for (b = a; *b && strcmp(*b, "--") != 0; b++)
		;
	if (*b == NULL)
		return 2;
	*b++ = NULL;
	ta = calloc((size_t)n, sizeof(*ta));
	tb = calloc((size_t)n, sizeof(*tb));
	for (i = 0; i < n; i++) {
		ta[i] = run((uid_t)strtol(argv[1], NULL, 10), (gid_t)strtol(argv[2], NULL, 10), a, enva);
		tb[i] = run((uid_t)strtol(argv[1], NULL, 10), (gid_t)strtol(argv[2], NULL, 10), b, envb);
	}
	bench_sort(ta, n);
	bench_sort(tb, n);
	printf("%.3f %.3f %.3f %.3f\n", ta[n / 2] * 1e3, ta[n * 9 / 10] * 1e3, tb[n / 2] * 1e3,
	    tb[n * 9 / 10] * 1e3);
	return 0;
}
