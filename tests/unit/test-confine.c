/* test-confine.c - the Landlock ruleset of what a session starts, and the
 * #! line of an allowed script. */
#include "unit.h"
#include "confine.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static void
shebang(void **state)
{
	char out[64];

	assert_int_equal(confine_parse_shebang("#!/bin/sh\necho\n", 15, out, sizeof(out)), 0);
	assert_string_equal(out, "/bin/sh");
	assert_int_equal(confine_parse_shebang("#! \t/usr/bin/perl -w\n", 21, out, sizeof(out)), 0);
	assert_string_equal(out, "/usr/bin/perl");
	/* not a script, a relative or unprintable interpreter, a line that
	 * goes on past what was read, a path longer than out */
	assert_int_equal(confine_parse_shebang("\177ELF", 4, out, sizeof(out)), -1);
	assert_string_equal(out, "");
	assert_int_equal(confine_parse_shebang("#!sh\n", 5, out, sizeof(out)), -1);
	assert_int_equal(confine_parse_shebang("#!/bin/\001sh\n", 10, out, sizeof(out)), -1);
	assert_string_equal(out, "");
	assert_int_equal(confine_parse_shebang("#!/bin/sh", 9, out, sizeof(out)), -1);
	assert_int_equal(confine_parse_shebang("#!/bin/bash\n", 12, out, 8), -1);
	assert_string_equal(out, "");
}

/* In a child under the ruleset (no_new_privs: no root needed), what may
 * be done: a bit per check, 1 when it was allowed. */
static int
probe(const confine *c, const char *rw, const char *ro, const char *outside, const char *prog)
{
	pid_t pid = fork();
	int st;

	assert_true(pid >= 0);
	if (pid == 0) {
		char p[512];
		int bits = 0, fd;

		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || confine_apply(c) != 0)
			_exit(255);
		snprintf(p, sizeof(p), "%s/new", rw);
		if ((fd = open(p, O_WRONLY | O_CREAT, 0600)) >= 0) {
			bits |= 1;
			close(fd);
		}
		snprintf(p, sizeof(p), "%s/new", outside);
		if ((fd = open(p, O_WRONLY | O_CREAT, 0600)) >= 0) {
			bits |= 2;
			close(fd);
		}
		snprintf(p, sizeof(p), "%s/file", ro);
		if ((fd = open(p, O_RDONLY)) >= 0) {
			bits |= 4;
			close(fd);
		}
		snprintf(p, sizeof(p), "%s/file", outside);
		if ((fd = open(p, O_RDONLY)) >= 0) {
			bits |= 8;
			close(fd);
		}
		if ((fd = open("/etc/passwd", O_RDONLY)) >= 0) {
			bits |= 16;
			close(fd);
		}
		if (fork() == 0) {
			char *const av[] = { (char *)prog, NULL }, *const ev[] = { NULL };

			execve(prog, av, ev);
			_exit(errno == EACCES ? 3 : 4);
		}
		if (wait(&st) > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0)
			bits |= 32;
		if (fork() == 0) {
			char *const av[] = { "/usr/bin/env", NULL }, *const ev[] = { NULL };

			execve(av[0], av, ev);
			_exit(errno == EACCES ? 3 : 4);
		}
		if (wait(&st) > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0)
			bits |= 64;
		_exit(bits);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

static void
ruleset(void **state)
{
	char base[] = "/tmp/test-confine.XXXXXX", rw[128], ro[128], out[128], f[160];
	const char *progs[] = { "/bin/true" };
	confine_spec sp;
	confine c;
	scope sc;
	bg_error e;
	int abi = confine_abi(), fd, bits;

	assert_true(abi >= 1); /* the test machine's kernel has Landlock */
	assert_non_null(mkdtemp(base));
	snprintf(rw, sizeof(rw), "%s/rw", base);
	snprintf(ro, sizeof(ro), "%s/ro", base);
	snprintf(out, sizeof(out), "%s/out", base);
	assert_int_equal(mkdir(rw, 0700), 0);
	assert_int_equal(mkdir(ro, 0700), 0);
	assert_int_equal(mkdir(out, 0700), 0);
	snprintf(f, sizeof(f), "%s/file", ro);
	assert_true((fd = open(f, O_WRONLY | O_CREAT, 0600)) >= 0);
	close(fd);
	snprintf(f, sizeof(f), "%s/file", out);
	assert_true((fd = open(f, O_WRONLY | O_CREAT, 0600)) >= 0);
	close(fd);
	memset(&sc, 0, sizeof(sc));
	assert_int_equal(scope_add(&sc, rw, 1, &e), 0);
	assert_int_equal(scope_add(&sc, ro, 0, &e), 0);
	memset(&sp, 0, sizeof(sp));
	sp.sc = &sc;
	sp.programs = progs;
	sp.nprograms = 1;
	assert_int_equal(confine_build(&sp, abi, &c, &e), 0);
	bits = probe(&c, rw, ro, out, "/bin/true");
	/* writes in rw only; reads in ro and /etc, not outside; the allowed
	 * program runs, another system program does not */
	assert_int_equal(bits, 1 | 4 | 16 | 32);
	confine_release(&c);
	/* the shell tier: the system's programs run too */
	sp.shell = 1;
	assert_int_equal(confine_build(&sp, abi, &c, &e), 0);
	assert_int_equal(probe(&c, rw, ro, out, "/bin/true"), 1 | 4 | 16 | 32 | 64);
	confine_release(&c);
	/* no ABI, no ruleset */
	assert_int_equal(confine_build(&sp, 0, &c, &e), BG_ERR_UNSUPPORTED);
	assert_int_equal(c.fd, -1);
	scope_release(&sc);
	{
		char *const av[] = { "/bin/rm", "-rf", base, NULL };
		pid_t pid = fork();

		if (pid == 0) {
			execv(av[0], av);
			_exit(127);
		}
		waitpid(pid, NULL, 0);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(shebang),
		cmocka_unit_test(ruleset),
	};

	return cmocka_run_group_tests_name("confine", tests, NULL, NULL);
}
