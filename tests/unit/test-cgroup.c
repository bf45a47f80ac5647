/* test-cgroup.c - a process born in its cgroup (cgroup_spawn), sharing
 * its parent's memory until it execs; a cgroup removed, empty or not.
 * Needs root and a cgroup2 mount (the test machine has both). */
#include "unit.h"
#include "cgroup.h"
#include "fileio.h"
#include "rawsys.h"

#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

static unsigned char stack[16384] __attribute__((aligned(16)));

typedef struct child_arg {
	int go;             /* read one byte, then go on */
	volatile int seen;  /* written by the child: the parent's memory */
	char *const *argv;  /* exec'd when not NULL */
} child_arg;

__attribute__((no_sanitize_address)) static int
child(void *p)
{
	child_arg *a = p;
	char b;

	a->seen = 1;
	if (rawsys(SYS_read, a->go, (long)&b, 1L, 0L) != 1)
		return 3;
	if (a->argv != NULL) {
		char *const env[] = { NULL };

		(void)rawsys(SYS_execve, (long)a->argv[0], (long)a->argv, (long)env, 0L);
		return 127;
	}
	return 42;
}

/* the cgroup pid is in, from /proc (the part after "0::") */
static void
cgroup_of(pid_t pid, char *out, size_t n)
{
	char p[64];
	buf b;
	bg_error e;
	const char *s;

	snprintf(p, sizeof(p), "/proc/%d/cgroup", (int)pid);
	buf_init(&b, 65536);
	assert_int_equal(fileio_read(p, 65536, &b, &e), 0);
	s = strstr(buf_cstr(&b), "0::");
	assert_non_null(s);
	snprintf(out, n, "%.*s", (int)strcspn(s + 3, "\n"), s + 3);
	buf_release(&b);
}

static void
spawn_in_cgroup(void **state)
{
	buf self, cg;
	bg_error e;
	char name[64], in[4200], *rel;
	child_arg a;
	int go[2], st;
	pid_t pid;

	(void)state;
	assert_int_equal(geteuid(), 0);
	buf_init(&self, 4096);
	buf_init(&cg, 4096);
	assert_int_equal(cgroup_self(&self, &e), 0);
	snprintf(name, sizeof(name), "test-cgroup-%d", (int)getpid());
	assert_int_equal(cgroup_create(self.data, name, &cg, &e), 0);
	assert_int_equal(pipe(go), 0);
	memset(&a, 0, sizeof(a));
	a.go = go[0];
	pid = cgroup_spawn(cg.data, child, &a, stack, sizeof(stack));
#ifdef RAWSYS_CLONE_RUN
	assert_true(pid > 0);
	/* in its cgroup while it waits, before anything moved it */
	cgroup_of(pid, in, sizeof(in));
	rel = strstr(cg.data, in);
	assert_non_null(rel);
	assert_string_equal(rel, in);
	assert_int_equal(cgroup_populated(cg.data), 1);
	/* it wrote this process's memory: shared, not copied */
	while (!a.seen)
		usleep(1000);
	assert_int_equal(write(go[1], "x", 1), 1);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 42);
	/* and one that execs: the program's status */
	{
		char *const av[] = { "/bin/sh", "-c", "exit 7", NULL };

		a.argv = av;
		pid = cgroup_spawn(cg.data, child, &a, stack, sizeof(stack));
		assert_true(pid > 0);
		assert_int_equal(write(go[1], "x", 1), 1);
		assert_int_equal(waitpid(pid, &st, 0), pid);
		assert_true(WIFEXITED(st));
		assert_int_equal(WEXITSTATUS(st), 7);
	}
#else
	assert_int_equal(pid, 0); /* the caller forks instead */
	(void)in;
	(void)rel;
	(void)st;
#endif
	/* no such cgroup: no process */
	assert_int_equal(cgroup_spawn("/nonexistent/cg", child, &a, stack, sizeof(stack)), -1);
	close(go[0]);
	close(go[1]);
	assert_int_equal(cgroup_remove(cg.data, &e), 0);
	assert_int_equal(cgroup_remove(cg.data, &e), 0);
	buf_release(&self);
	buf_release(&cg);
}

/*
 * What the gate's program_child does before its exec: every signal
 * blocked, the account's ids taken, then it waits (here: for as long as
 * the test likes, where the gate's child has a few system calls to go).
 * Its memory is the parent's - root's, with a root process's secrets.
 */
#define ACCT_ID 65534
static volatile long secret = 0x5ec7e7;

typedef struct ids_arg {
	int ready, go;
} ids_arg;

__attribute__((no_sanitize_address)) static int
ids_child(void *p)
{
	ids_arg *a = p;
	uint64_t all = ~(uint64_t)0;
	char b = 'r';

	(void)rawsys(SYS_rt_sigprocmask, SIG_SETMASK, (long)&all, 0L, 8L);
	if (rawsys(SYS_setgroups, 0L, 0L, 0L, 0L) != 0 ||
	    rawsys(SYS_setresgid, ACCT_ID, ACCT_ID, ACCT_ID, 0L) != 0 ||
	    rawsys(SYS_setresuid, ACCT_ID, ACCT_ID, ACCT_ID, 0L) != 0)
		return 3;
	(void)rawsys(SYS_write, a->ready, (long)&b, 1L, 0L);
	(void)rawsys(SYS_read, a->go, (long)&b, 1L, 0L);
	return 0;
}

/*
 * The account the child has become may signal it (as it may its own
 * program), but not trace it, nor read or write its memory, nor take its
 * descriptors: the memory is shared with a root process, and the kernel
 * made it non-dumpable when the child's ids changed.
 */
static void
spawned_child_out_of_reach(void **state)
{
	buf self, cg;
	bg_error e;
	char name[64], path[64], b;
	ids_arg a;
	int ready[2], go[2], res[2], st;
	pid_t pid, at;

	(void)state;
	buf_init(&self, 4096);
	buf_init(&cg, 4096);
	assert_int_equal(cgroup_self(&self, &e), 0);
	snprintf(name, sizeof(name), "test-cgroup-i%d", (int)getpid());
	assert_int_equal(cgroup_create(self.data, name, &cg, &e), 0);
	assert_int_equal(pipe(ready), 0);
	assert_int_equal(pipe(go), 0);
	assert_int_equal(pipe(res), 0);
	a.ready = ready[1];
	a.go = go[0];
	pid = cgroup_spawn(cg.data, ids_child, &a, stack, sizeof(stack));
	if (pid == 0 && (pid = fork()) == 0)
		_exit(ids_child(&a));
	assert_true(pid > 0);
	assert_int_equal(read(ready[0], &b, 1), 1);
	if ((at = fork()) == 0) {
		long v = 0x0bad;
		struct iovec l = { &v, sizeof(v) }, r = { (void *)&secret, sizeof(v) };
		char fails = 0;
		int pfd;

		if (setgroups(0, NULL) != 0 || setresgid(ACCT_ID, ACCT_ID, ACCT_ID) != 0 ||
		    setresuid(ACCT_ID, ACCT_ID, ACCT_ID) != 0)
			_exit(1);
		fails += kill(pid, 0) == 0; /* it may signal it: the account's */
		fails += ptrace(PTRACE_ATTACH, pid, 0, 0) != 0;
		fails += ptrace(PTRACE_SEIZE, pid, 0, 0) != 0;
		snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
		fails += open(path, O_RDWR) < 0;
		fails += open(path, O_RDONLY) < 0;
		fails += process_vm_writev(pid, &l, 1, &r, 1, 0) < 0;
		fails += process_vm_readv(pid, &l, 1, &r, 1, 0) < 0;
		pfd = (int)syscall(SYS_pidfd_open, pid, 0);
		fails += pfd >= 0 && syscall(SYS_pidfd_getfd, pfd, 0, 0) < 0;
		snprintf(path, sizeof(path), "/proc/%d/fd/0", (int)pid);
		fails += open(path, O_RDONLY) < 0;
		if (write(res[1], &fails, 1) != 1)
			_exit(1);
		_exit(0);
	}
	assert_true(at > 0);
	assert_int_equal(waitpid(at, &st, 0), at);
	if (read(res[0], &b, 1) != 1)
		b = -1;
	/* (a tracer that got in left it stopped: let it end either way) */
	(void)kill(pid, SIGCONT);
	assert_int_equal(write(go[1], "x", 1), 1);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_int_equal(b, 9); /* every attempt failed but the signal */
	assert_int_equal(secret, 0x5ec7e7);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	for (int k = 0; k < 2; k++) {
		close(ready[k]);
		close(go[k]);
		close(res[k]);
	}
	assert_int_equal(cgroup_remove(cg.data, &e), 0);
	buf_release(&self);
	buf_release(&cg);
}

/* removal ends what is still inside, however it hides */
static void
remove_populated(void **state)
{
	buf self, cg;
	bg_error e;
	char name[64];
	int entered = 0;
	pid_t pid;

	(void)state;
	buf_init(&self, 4096);
	buf_init(&cg, 4096);
	assert_int_equal(cgroup_self(&self, &e), 0);
	snprintf(name, sizeof(name), "test-cgroup-p%d", (int)getpid());
	assert_int_equal(cgroup_create(self.data, name, &cg, &e), 0);
	pid = cgroup_fork(cg.data, &entered);
	assert_true(pid >= 0);
	if (pid == 0) {
		if (!entered && cgroup_enter(cg.data) != 0)
			_exit(1);
		signal(SIGTERM, SIG_IGN);
		setsid();
		for (;;)
			pause();
	}
	assert_int_equal(cgroup_populated(cg.data), 1);
	assert_int_equal(cgroup_remove(cg.data, &e), 0);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	{
		struct stat st;

		assert_int_not_equal(stat(cg.data, &st), 0);
	}
	buf_release(&self);
	buf_release(&cg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(spawn_in_cgroup),
		cmocka_unit_test(remove_populated),
		cmocka_unit_test(spawned_child_out_of_reach),
	};

	return cmocka_run_group_tests_name("cgroup", tests, NULL, NULL);
}
