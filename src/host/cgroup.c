/*
 * cgroup.c - containment with cgroup v2 (see cgroup.h).
 */
#include "cgroup.h"
#include "fileio.h"
#include "rawsys.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* clone3(2)'s arguments (linux/sched.h, whose names clash with sched.h) */
struct clone3_args {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls,
	    set_tid, set_tid_size, cgroup;
};
#define CGROUP_CLONE_INTO 0x200000000ULL /* CLONE_INTO_CGROUP, Linux 5.7 */

/* mountinfo escapes space, tab, newline and backslash as \ooo */
static void
unescape(char *s)
{
	char *o = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*o++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else
			*o++ = *s;
	}
	*o = '\0';
}

int
cgroup_parse(char *mountinfo, char *cgroups, buf *out, bg_error *e)
{
	char *line, *save = NULL, mnt[4096] = "", root[4096] = "";
	const char *own = NULL, *rel;
	int r;

	/* ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER */
	for (line = strtok_r(mountinfo, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		char f_root[4096], f_mnt[4096], fstype[64];
		const char *dash = strstr(line, " - ");

		if (dash == NULL || sscanf(dash + 3, "%63s", fstype) != 1 ||
		    strcmp(fstype, "cgroup2") != 0)
			continue;
		if (sscanf(line, "%*s %*s %*s %4095s %4095s", f_root, f_mnt) != 2 ||
		    f_root[0] != '/' || f_mnt[0] != '/')
			continue;
		unescape(f_root);
		unescape(f_mnt);
		snprintf(mnt, sizeof(mnt), "%s", f_mnt);
		snprintf(root, sizeof(root), "%s", f_root);
		break;
	}
	if (mnt[0] == '\0')
		return bg_fail(e, BG_ERR_NOTFOUND, "no cgroup2 file system is mounted");
	save = NULL;
	for (line = strtok_r(cgroups, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save))
		if (strncmp(line, "0::", 3) == 0)
			own = line + 3;
	if (own == NULL || own[0] != '/' || strstr(own, "/../") != NULL ||
	    (strlen(own) >= 3 && strcmp(own + strlen(own) - 3, "/..") == 0))
		return bg_fail(e, BG_ERR_NOTFOUND, "this process has no cgroup v2");
	/* the mount may show a subtree: own is relative to the hierarchy */
	rel = own;
	if (strcmp(root, "/") != 0) {
		size_t n = strlen(root);

		if (strncmp(own, root, n) != 0 || (own[n] != '/' && own[n] != '\0'))
			return bg_fail(e, BG_ERR_NOTFOUND, "this process's cgroup is outside the "
			    "cgroup2 mount");
		rel = own + n;
	}
	buf_reset(out);
	r = buf_printf(out, "%s%s", strcmp(mnt, "/") == 0 ? "" : mnt,
	    strcmp(rel, "/") == 0 || rel[0] == '\0' ? "" : rel);
	if (r == 0 && out->len == 0)
		r = buf_printf(out, "/");
	return r ? bg_fail(e, r, "cgroup path too long") : 0;
}

int
cgroup_self(buf *out, bg_error *e)
{
	buf mi, cg;
	int r;

	buf_init(&mi, 1024 * 1024);
	buf_init(&cg, 64 * 1024);
	if ((r = fileio_read("/proc/self/mountinfo", mi.max, &mi, e)) == 0 &&
	    (r = fileio_read("/proc/self/cgroup", cg.max, &cg, e)) == 0) {
		if (buf_cstr(&mi)[0] == '\0' || buf_cstr(&cg)[0] == '\0')
			r = bg_fail(e, BG_ERR_NOTFOUND, "no cgroup information in /proc");
		else
			r = cgroup_parse(mi.data, cg.data, out, e);
	}
	buf_release(&mi);
	buf_release(&cg);
	return r;
}

int
cgroup_create(const char *dir, const char *name, buf *out, bg_error *e)
{
	buf_reset(out);
	if (fileio_join(out, dir, name) != 0)
		return bg_fail(e, BG_ERR_IO, "cgroup path too long");
	if (mkdir(out->data, 0755) != 0 && errno != EEXIST)
		return bg_fail(e, BG_ERR_IO, "cannot create cgroup %s: %s", out->data, strerror(errno));
	return 0;
}

static double
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000 + (double)ts.tv_nsec / 1e6;
}

/* Write text to path/file; 0 or -1. */
static int
put(const char *path, const char *file, const char *text)
{
	char p[4200];
	int fd, ok;

	if ((size_t)snprintf(p, sizeof(p), "%s/%s", path, file) >= sizeof(p))
		return -1;
	if ((fd = open(p, O_WRONLY | O_CLOEXEC)) < 0)
		return -1;
	ok = fileio_write_full(fd, text, strlen(text)) == 0;
	close(fd);
	return ok ? 0 : -1;
}

int
cgroup_enter(const char *path)
{
	return put(path, "cgroup.procs", "0\n") == 0 ? 0 : BG_ERR_IO;
}

/* "populated 1"/"populated 0" from an open cgroup.events: 1, 0 or -1. */
static int
events_populated(int fd)
{
	char b[512];
	ssize_t n;
	const char *v;

	if ((n = pread(fd, b, sizeof(b) - 1, 0)) <= 0)
		return -1;
	b[n] = '\0';
	if ((v = strstr(b, "populated ")) == NULL)
		return -1;
	return v[10] == '1';
}

static int
open_events(const char *path)
{
	char p[4200];

	if ((size_t)snprintf(p, sizeof(p), "%s/cgroup.events", path) >= sizeof(p))
		return -1;
	return open(p, O_RDONLY | O_CLOEXEC);
}

int
cgroup_populated(const char *path)
{
	int fd, pop;

	if ((fd = open_events(path)) < 0)
		return -1;
	pop = events_populated(fd);
	close(fd);
	return pop;
}

/* clone3's arguments for a child born in the cgroup at path: the
 * cgroup's directory descriptor (for the caller to close), or -1 */
static int
into_args(const char *path, struct clone3_args *ca)
{
	int dfd;

	if ((dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	memset(ca, 0, sizeof(*ca));
	ca->flags = CGROUP_CLONE_INTO;
	ca->exit_signal = SIGCHLD;
	ca->cgroup = (uint64_t)dfd;
	return dfd;
}

pid_t
cgroup_fork(const char *path, int *entered)
{
	struct clone3_args ca;
	long pid;
	int dfd;

	*entered = 0;
	if ((dfd = into_args(path, &ca)) < 0)
		return -1;
	pid = syscall(SYS_clone3, &ca, sizeof(ca));
	if (pid == 0) {
		close(dfd);
		*entered = 1;
		return 0;
	}
	close(dfd);
	if (pid > 0) {
		*entered = 1;
		return (pid_t)pid;
	}
	/* a kernel without clone3 or CLONE_INTO_CGROUP: the child enters itself */
	if (errno != ENOSYS && errno != E2BIG && errno != EINVAL)
		return -1;
	return fork();
}

pid_t
cgroup_spawn(const char *path, int (*fn)(void *), void *arg, void *stack, size_t stack_size)
{
#ifdef RAWSYS_CLONE_RUN
	struct clone3_args ca;
	long pid;
	int dfd;

	if ((dfd = into_args(path, &ca)) < 0)
		return -1;
	ca.flags |= CLONE_VM;
	ca.stack = (uint64_t)(uintptr_t)stack;
	ca.stack_size = stack_size & ~(size_t)15;
	pid = rawsys_clone_run(&ca, sizeof(ca), fn, arg);
	close(dfd);
	if (pid > 0)
		return (pid_t)pid;
	/* a kernel without clone3 or CLONE_INTO_CGROUP: cgroup_fork's way */
	if (pid == -ENOSYS || pid == -E2BIG || pid == -EINVAL)
		return 0;
	errno = (int)-pid;
	return -1;
#else
	(void)path;
	(void)fn;
	(void)arg;
	(void)stack;
	(void)stack_size;
	return 0;
#endif
}

int
cgroup_kill(const char *path, int timeout_ms)
{
	double end;
	int fd, pop;

	if (put(path, "cgroup.kill", "1\n") != 0)
		return BG_ERR_IO;
	if ((fd = open_events(path)) < 0)
		return BG_ERR_IO;
	/* the kernel wakes a poller of cgroup.events (POLLPRI) when it changes */
	end = mono_ms() + timeout_ms;
	while ((pop = events_populated(fd)) == 1) {
		struct pollfd pf = { .fd = fd, .events = POLLPRI };
		double left = end - mono_ms();

		if (left <= 0)
			break;
		if (poll(&pf, 1, (int)left + 1) < 0 && errno != EINTR)
			break;
	}
	close(fd);
	return pop == 0 ? 0 : BG_ERR_IO;
}

int
cgroup_remove(const char *path, bg_error *e)
{
	DIR *d;
	struct dirent *de;
	int r = 0;

	/* the usual case: empty, nothing below it (else EBUSY) */
	if (rmdir(path) == 0 || errno == ENOENT)
		return 0;
	if (cgroup_populated(path) == 1 && cgroup_kill(path, 2000) != 0)
		return bg_fail(e, BG_ERR_IO, "processes in %s did not end", path);
	if ((d = opendir(path)) == NULL)
		return errno == ENOENT ? 0 : bg_fail(e, BG_ERR_IO, "cannot read %s", path);
	while ((de = readdir(d)) != NULL) {
		char sub[4200];

		if (de->d_type != DT_DIR || strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if ((size_t)snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name) >= sizeof(sub))
			continue;
		if (cgroup_remove(sub, e) != 0)
			r = BG_ERR_IO;
	}
	closedir(d);
	if (r == 0 && rmdir(path) != 0 && errno != ENOENT)
		r = bg_fail(e, BG_ERR_IO, "cannot remove %s: %s", path, strerror(errno));
	return r;
}
