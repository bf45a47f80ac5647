/*
 * proc.c - fork/execve with pipes.  The child gets PATH=/usr/sbin:/usr/bin:
 * /sbin:/bin and LC_ALL=C (and, through proc_run_env, the caller's fixed
 * extra entries) only; descriptors other than 0-2 are closed.
 */
#include "proc.h"
#include "fileio.h"
#include "utc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int
collect(void *ctx, const char *p, size_t n)
{
	buf *out = ctx;

	if (out != NULL && out->len + n <= out->max)
		buf_append(out, p, n);
	return 0;
}

static int run(char *const argv[], const void *in, size_t inlen, proc_sink_fn sink, void *ctx,
    int *status, int timeout_ms, const char *const *env, int errfd, bg_error *e);

int
proc_run(char *const argv[], const void *in, size_t inlen, buf *out, int *status,
    bg_error *e)
{
	return run(argv, in, inlen, collect, out, status, 0, NULL, -1, e);
}

int
proc_run_env(char *const argv[], const char *const *env, buf *out, buf *err, int *status,
    bg_error *e)
{
	char b[4096];
	ssize_t n;
	int fd, r;

	/* stderr apart, in an unnamed file: read after the program ended */
	if ((fd = open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600)) < 0)
		return bg_fail(e, BG_ERR_EXEC, "cannot make a file for the helper's errors: %s",
		    strerror(errno));
	r = run(argv, NULL, 0, collect, out, status, 0, env, fd, e);
	if (r == 0 && err != NULL && lseek(fd, 0, SEEK_SET) == 0)
		while ((n = read(fd, b, sizeof(b))) > 0 && err->len + (size_t)n <= err->max)
			buf_append(err, b, (size_t)n);
	close(fd);
	return r;
}

int
proc_run_stream(char *const argv[], const void *in, size_t inlen, proc_sink_fn sink,
    void *ctx, int *status, bg_error *e)
{
	return run(argv, in, inlen, sink, ctx, status, 0, NULL, -1, e);
}

int
proc_run_timeout(char *const argv[], const void *in, size_t inlen, buf *out, int *status,
    int timeout_ms, bg_error *e)
{
	return run(argv, in, inlen, collect, out, status, timeout_ms, NULL, -1, e);
}

#define PROC_MAX_ENV 16

static int
run(char *const argv[], const void *in, size_t inlen, proc_sink_fn sink, void *ctx,
    int *status, int timeout_ms, const char *const *env, int errfd, bg_error *e)
{
	char *envp[PROC_MAX_ENV + 3] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", NULL };
	size_t ne = 2;
	double deadline = timeout_ms > 0 ? utc_mono() + timeout_ms / 1000.0 : 0;
	int pin[2] = { -1, -1 }, pout[2] = { -1, -1 }, st = 0, timed_out = 0;
	pid_t pid;
	char b[65536];
	ssize_t n;

	*status = -1;
	for (; env != NULL && env[ne - 2] != NULL; ne++) {
		if (ne - 2 == PROC_MAX_ENV || strchr(env[ne - 2], '=') == NULL)
			return bg_fail(e, BG_ERR_USAGE, "helper environment: too many or malformed");
		envp[ne] = (char *)env[ne - 2];
	}
	envp[ne] = NULL;
	if (argv[0] == NULL || argv[0][0] != '/')
		return bg_fail(e, BG_ERR_USAGE, "helper path must be absolute");
	if (access(argv[0], X_OK) != 0)
		return bg_fail(e, BG_ERR_EXEC, "cannot run '%s': %s", argv[0], strerror(errno));
	if (pipe2(pin, O_CLOEXEC) != 0 || pipe2(pout, O_CLOEXEC) != 0) {
		if (pin[0] >= 0) {
			close(pin[0]);
			close(pin[1]);
		}
		return bg_fail(e, BG_ERR_EXEC, "pipe: %s", strerror(errno));
	}
	if ((pid = fork()) < 0) {
		close(pin[0]); close(pin[1]); close(pout[0]); close(pout[1]);
		return bg_fail(e, BG_ERR_EXEC, "fork: %s", strerror(errno));
	}
	if (pid == 0) {
		signal(SIGPIPE, SIG_DFL);
		dup2(pin[0], 0);
		dup2(pout[1], 1);
		dup2(errfd >= 0 ? errfd : pout[1], 2);
		for (int fd = 3; fd < 1024; fd++)
			close(fd);
		execve(argv[0], argv, envp);
		_exit(127);
	}
	close(pin[0]);
	close(pout[1]);
	if (in != NULL && inlen > 0)
		(void)fileio_write_full(pin[1], in, inlen); /* a helper may exit early */
	close(pin[1]);
	for (;;) {
		if (deadline > 0) { /* wait for output no longer than the time left */
			struct pollfd pf = { .fd = pout[0], .events = POLLIN };
			double left = deadline - utc_mono();
			int pr = left > 0 ? poll(&pf, 1, (int)(left * 1000) + 1) : 0;

			if (pr < 0 && errno == EINTR)
				continue;
			if (pr < 0) { /* cannot wait with a limit: do not wait at all */
				kill(pid, SIGKILL);
				break;
			}
			if (pr == 0 && utc_mono() < deadline)
				continue;
			if (pr == 0) {
				timed_out = 1;
				kill(pid, SIGKILL);
				break;
			}
		}
		if ((n = read(pout[0], b, sizeof(b))) == 0)
			break;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		if (sink(ctx, b, (size_t)n) != 0)
			kill(pid, SIGKILL); /* the reader failed: stop the program */
	}
	close(pout[0]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	*status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	if (timed_out)
		return bg_fail(e, BG_ERR_EXEC, "'%s' did not finish within %d ms", argv[0], timeout_ms);
	if (*status == 127)
		return bg_fail(e, BG_ERR_EXEC, "cannot run '%s'", argv[0]);
	return 0;
}
