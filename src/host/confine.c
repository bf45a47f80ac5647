/*
 * confine.c - Landlock rulesets for what a session runs (see confine.h).
 *
 * Debian 12's kernel headers describe Landlock up to ABI 2, so the
 * structures and constants of later ABIs are defined here, as the kernel
 * documents them (include/uapi/linux/landlock.h):
 *   ABI 1  file system: execute, read, write, make, remove
 *   ABI 2  REFER: links and renames across directories (denied unless
 *          both sides allow it)
 *   ABI 3  TRUNCATE
 *   ABI 4  TCP bind and connect (handled_access_net, NET_PORT rules)
 *   ABI 5  IOCTL_DEV: ioctl on devices
 *   ABI 6  scoping: signals and abstract unix sockets stay inside
 *   ABI 7  restrict_self logging flags (audit)
 * A ruleset asks only for what the running kernel knows: the handled
 * rights of a newer ABI are masked off on an older kernel, and the
 * structure passed is the size that kernel expects.
 *
 * Every rule is a path_beneath rule on a descriptor opened O_PATH.  A
 * rule on a file (a program) may carry file rights only.
 */
#include "confine.h"
#include "rawsys.h"
#include "testhook.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_landlock_create_ruleset
#define SYS_landlock_create_ruleset 444
#define SYS_landlock_add_rule 445
#define SYS_landlock_restrict_self 446
#endif

#define LL_CREATE_RULESET_VERSION (1U << 0)
#define LL_RULE_PATH_BENEATH 1

#define FS_EXECUTE      (1ULL << 0)
#define FS_WRITE_FILE   (1ULL << 1)
#define FS_READ_FILE    (1ULL << 2)
#define FS_READ_DIR     (1ULL << 3)
#define FS_REMOVE_DIR   (1ULL << 4)
#define FS_REMOVE_FILE  (1ULL << 5)
#define FS_MAKE_CHAR    (1ULL << 6)
#define FS_MAKE_DIR     (1ULL << 7)
#define FS_MAKE_REG     (1ULL << 8)
#define FS_MAKE_SOCK    (1ULL << 9)
#define FS_MAKE_FIFO    (1ULL << 10)
#define FS_MAKE_BLOCK   (1ULL << 11)
#define FS_MAKE_SYM     (1ULL << 12)
#define FS_REFER        (1ULL << 13)   /* ABI 2 */
#define FS_TRUNCATE     (1ULL << 14)   /* ABI 3 */
#define FS_IOCTL_DEV    (1ULL << 15)   /* ABI 5 */
#define NET_BIND_TCP    (1ULL << 0)    /* ABI 4 */
#define NET_CONNECT_TCP (1ULL << 1)    /* ABI 4 */
#define SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)  /* ABI 6 */
#define SCOPE_SIGNAL    (1ULL << 1)             /* ABI 6 */
#define RESTRICT_SELF_LOG_NEW_EXEC_ON (1U << 1) /* ABI 7 */

/* struct landlock_ruleset_attr as of ABI 6; earlier kernels take a prefix */
struct ll_ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;
	uint64_t scoped;
};

struct ll_path_beneath_attr {
	uint64_t allowed_access;
	int32_t parent_fd;
} __attribute__((packed));

#define FS_ABI1 (FS_EXECUTE | FS_WRITE_FILE | FS_READ_FILE | FS_READ_DIR | FS_REMOVE_DIR | \
	FS_REMOVE_FILE | FS_MAKE_CHAR | FS_MAKE_DIR | FS_MAKE_REG | FS_MAKE_SOCK | FS_MAKE_FIFO | \
	FS_MAKE_BLOCK | FS_MAKE_SYM)
/* what a rule on a file (not a directory) may allow */
#define FS_FILE (FS_EXECUTE | FS_WRITE_FILE | FS_READ_FILE | FS_TRUNCATE | FS_IOCTL_DEV)
#define R_ (FS_READ_FILE | FS_READ_DIR)
#define RX_ (R_ | FS_EXECUTE)
/* no devices made (MAKE_CHAR/BLOCK): a root command could otherwise
 * make one for a disk and read around every rule */
#define RW_ (R_ | FS_WRITE_FILE | FS_REMOVE_DIR | FS_REMOVE_FILE | FS_MAKE_DIR | FS_MAKE_REG | \
	FS_MAKE_SOCK | FS_MAKE_FIFO | FS_MAKE_SYM | FS_REFER | FS_TRUNCATE)
#define DEV_RW (FS_READ_FILE | FS_WRITE_FILE | FS_TRUNCATE | FS_IOCTL_DEV)

static uint64_t
handled_fs(int abi)
{
	uint64_t h = FS_ABI1;

	if (abi >= 2)
		h |= FS_REFER;
	if (abi >= 3)
		h |= FS_TRUNCATE;
	if (abi >= 5)
		h |= FS_IOCTL_DEV;
	return h;
}

static int pretend_none;

void
confine_hooks_read(void)
{
	if (testhook_env("BREAKGLASS_TEST_NO_LANDLOCK") != NULL)
		pretend_none = 1;
}

int
confine_abi(void)
{
	long v;

	if (pretend_none || testhook_env("BREAKGLASS_TEST_NO_LANDLOCK") != NULL)
		return 0;
	v = syscall(SYS_landlock_create_ruleset, NULL, 0, LL_CREATE_RULESET_VERSION);
	if (v <= 0)
		return 0;
	return v > CONFINE_ABI_MAX ? CONFINE_ABI_MAX : (int)v;
}

const char *
confine_describe(int abi, char *out, size_t n)
{
	if (abi <= 0)
		snprintf(out, n, "none");
	else
		snprintf(out, n, "Landlock ABI %d", abi);
	return out;
}

/* Add a rule for an open O_PATH descriptor; directories get access,
 * other files its file rights. */
static int
add_fd(confine *c, int fd, uint64_t access)
{
	struct ll_path_beneath_attr pb;
	struct stat st;

	if (fstat(fd, &st) != 0)
		return -1;
	if (!S_ISDIR(st.st_mode))
		access &= FS_FILE;
	access &= handled_fs(c->abi);
	if (access == 0)
		return 0;
	memset(&pb, 0, sizeof(pb));
	pb.allowed_access = access;
	pb.parent_fd = fd;
	if (syscall(SYS_landlock_add_rule, c->fd, LL_RULE_PATH_BENEATH, &pb, 0) != 0)
		return -1;
	c->rules++;
	return 0;
}

/* A rule for path; a path that is not there gets none. */
static int
add_path(confine *c, const char *path, uint64_t access)
{
	int fd, r;

	if ((fd = open(path, O_PATH | O_CLOEXEC)) < 0)
		return errno == ENOENT || errno == ENOTDIR || errno == EACCES ? 0 : -1;
	r = add_fd(c, fd, access);
	close(fd);
	return r;
}

int
confine_parse_shebang(const char *b, size_t len, char *out, size_t n)
{
	size_t i, k = 0;

	if (n == 0)
		return -1;
	out[0] = '\0';
	if (len < 3 || b[0] != '#' || b[1] != '!')
		return -1;
	for (i = 2; i < len && (b[i] == ' ' || b[i] == '\t'); i++)
		;
	if (i >= len || b[i] != '/')
		return -1;
	for (; i < len && b[i] != ' ' && b[i] != '\t' && b[i] != '\n'; i++) {
		if ((unsigned char)b[i] < 0x21 || (unsigned char)b[i] > 0x7e || k + 1 >= n) {
			out[0] = '\0';
			return -1;
		}
		out[k++] = b[i];
	}
	if (i >= len) {
		out[0] = '\0';
		return -1; /* the line goes on past what was read */
	}
	out[k] = '\0';
	return 0;
}

/* The interpreter of the script at path, or -1 (not a script). */
static int
script_interpreter(const char *path, char *out, size_t n)
{
	char b[256];
	ssize_t got;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) < 0)
		return -1;
	got = read(fd, b, sizeof(b));
	close(fd);
	return got > 0 ? confine_parse_shebang(b, (size_t)got, out, n) : -1;
}

int
confine_build(const confine_spec *s, int abi, confine *c, bg_error *e)
{
	/* the dynamic loaders a program's PT_INTERP names */
	static const char *const loaders[] = { "/lib64/ld-linux-x86-64.so.2",
		"/lib/ld-linux-aarch64.so.1", "/lib/ld-linux-armhf.so.3", "/lib/ld-linux.so.2",
		NULL };
	static const char *const sys_read[] = { "/usr", "/bin", "/sbin", "/lib", "/lib32",
		"/lib64", "/libx32", "/proc", "/sys", NULL };
	/* the shell tier runs the system's programs: none of these is
	 * writable by the account, and /usr/local, /opt, /tmp are not here */
	static const char *const sys_exec[] = { "/usr/bin", "/usr/sbin", "/bin", "/sbin",
		"/usr/lib", "/usr/libexec", "/lib", "/lib64", NULL };
	static const char *const dev_read[] = { "/dev/zero", "/dev/full", "/dev/random",
		"/dev/urandom", NULL };
	struct ll_ruleset_attr attr;
	size_t size, i;

	c->fd = -1;
	c->abi = abi;
	c->rules = 0;
	if (abi < 1)
		return bg_fail(e, BG_ERR_UNSUPPORTED, "this kernel offers no Landlock");
	memset(&attr, 0, sizeof(attr));
	attr.handled_access_fs = handled_fs(abi);
	size = sizeof(attr.handled_access_fs);
	if (abi >= 4) {
		/* no listening socket: a session is no server (outgoing TCP stays
		 * open: a rule per port would be needed for each) */
		attr.handled_access_net = NET_BIND_TCP;
		size = offsetof(struct ll_ruleset_attr, scoped);
	}
	if (abi >= 6) {
		attr.scoped = SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL;
		size = sizeof(attr);
	}
	{
		long fd = syscall(SYS_landlock_create_ruleset, &attr, size, 0U);

		if (fd < 0)
			return bg_fail(e, BG_ERR_IO, "cannot create a Landlock ruleset (ABI %d): %s",
			    abi, strerror(errno));
		c->fd = (int)fd;
	}
	for (i = 0; sys_read[i] != NULL; i++)
		if (add_path(c, sys_read[i], R_) != 0)
			goto fail;
	/* /etc as a whole: a rule on a file holds for its inode only, and
	 * files there are replaced (/etc/passwd by useradd) */
	if (add_path(c, "/etc", R_) != 0)
		goto fail;
	for (i = 0; dev_read[i] != NULL; i++)
		if (add_path(c, dev_read[i], FS_READ_FILE) != 0)
			goto fail;
	/* sudo's use_pty: a new pty for the command (other ptys are their
	 * owners', 0600 or 0620) */
	if (add_path(c, "/dev/null", DEV_RW) != 0 || add_path(c, "/dev/tty", DEV_RW) != 0 ||
	    add_path(c, "/dev/ptmx", DEV_RW) != 0 || add_path(c, "/dev/pts", DEV_RW | FS_READ_DIR) != 0 ||
	    (s->tty != NULL && add_path(c, s->tty, DEV_RW) != 0))
		goto fail;
	for (i = 0; loaders[i] != NULL; i++)
		if (add_path(c, loaders[i], FS_EXECUTE | FS_READ_FILE) != 0)
			goto fail;
	if (s->shell)
		for (i = 0; sys_exec[i] != NULL; i++)
			if (add_path(c, sys_exec[i], RX_) != 0)
				goto fail;
	for (i = 0; i < s->nprograms; i++) {
		char interp[200];

		if (add_path(c, s->programs[i], FS_EXECUTE | FS_READ_FILE) != 0)
			goto fail;
		/* a script's interpreter is executed by the kernel for it */
		if (script_interpreter(s->programs[i], interp, sizeof(interp)) == 0 &&
		    add_path(c, interp, FS_EXECUTE | FS_READ_FILE) != 0)
			goto fail;
	}
	for (i = 0; s->sc != NULL && i < s->sc->n; i++)
		if (s->sc->r[i].fd >= 0 &&
		    add_fd(c, s->sc->r[i].fd, s->sc->r[i].writable ? RW_ : R_) != 0)
			goto fail;
	if (s->tmp != NULL && add_path(c, s->tmp, RW_) != 0)
		goto fail;
	return 0;
fail:
	{
		int err = errno;

		close(c->fd);
		c->fd = -1;
		return bg_fail(e, BG_ERR_IO, "cannot build the Landlock ruleset: %s", strerror(err));
	}
}

/* no ASan frame: a cgroup_spawn child has no thread state of its own */
__attribute__((no_sanitize_address)) int
confine_apply(const confine *c)
{
	unsigned flags = c->abi >= 7 ? RESTRICT_SELF_LOG_NEW_EXEC_ON : 0;

	if (c->fd < 0)
		return -EINVAL;
	return (int)rawsys(SYS_landlock_restrict_self, c->fd, (long)flags, 0L, 0L);
}

void
confine_release(confine *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

int
confine_tmp_make(long long grant, buf *path, bg_error *e)
{
	char t[64];

	snprintf(t, sizeof(t), "/tmp/breakglass-G-%lld.XXXXXX", grant);
	if (mkdtemp(t) == NULL)
		return bg_fail(e, BG_ERR_IO, "cannot make the session's private tmp: %s",
		    strerror(errno));
	buf_reset(path);
	return buf_puts(path, t);
}

static int
remove_below(int dfd, int depth)
{
	DIR *d;
	struct dirent *de;
	int r = 0;

	if (depth > 64 || (d = fdopendir(dfd)) == NULL) {
		close(dfd);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		int sub;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) == 0)
			continue;
		sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub < 0 || remove_below(sub, depth + 1) != 0 ||
		    unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR) != 0)
			r = -1;
	}
	closedir(d);
	return r;
}

int
confine_tmp_remove(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	if (remove_below(fd, 0) != 0)
		return -1;
	return rmdir(path);
}
