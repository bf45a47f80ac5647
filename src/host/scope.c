/*
 * scope.c - openat2-confined access to a grant's directories.
 */
#include "scope.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static int
sys_openat2(int dirfd, const char *path, int flags, unsigned long long resolve)
{
	struct open_how how;

	memset(&how, 0, sizeof(how));
	how.flags = (unsigned long long)flags;
	how.mode = (flags & O_CREAT) ? 0600 : 0;
	how.resolve = resolve;
	return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
}

int
scope_path_ok(const char *p)
{
	const char *s;

	if (p[0] != '/' || strlen(p) > 4096)
		return 0;
	if (strcmp(p, "/") == 0)
		return 1;
	if (p[strlen(p) - 1] == '/' || strstr(p, "//") != NULL)
		return 0;
	for (s = p; (s = strchr(s, '/')) != NULL; s++) {
		if (s[1] == '.' && (s[2] == '/' || s[2] == '\0'))
			return 0;
		if (s[1] == '.' && s[2] == '.' && (s[3] == '/' || s[3] == '\0'))
			return 0;
	}
	return 1;
}

int
scope_add(scope *s, const char *path, int writable, bg_error *e)
{
	scope_root *r;
	int fd;

	if (!scope_path_ok(path))
		return bg_fail(e, BG_ERR_INVALID, "scope path '%.200s' is not absolute and normalised",
		    path);
	if (s->n == SCOPE_MAX_ROOTS)
		return bg_fail(e, BG_ERR_TOOLARGE, "more than %d directories", SCOPE_MAX_ROOTS);
	fd = sys_openat2(AT_FDCWD, path, O_PATH | O_DIRECTORY | O_CLOEXEC,
	    RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
	r = &s->r[s->n];
	if ((r->path = strdup(path)) == NULL) {
		if (fd >= 0)
			close(fd);
		return BG_ERR_NOMEM;
	}
	r->fd = fd;
	r->writable = writable;
	s->n++;
	return 0;
}

void
scope_release(scope *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		if (s->r[i].fd >= 0)
			close(s->r[i].fd);
		free(s->r[i].path);
	}
	s->n = 0;
}

static int
open_fail(int err, const char *path, bg_error *e)
{
	switch (err) {
	case EXDEV:
	case ELOOP:
		return bg_fail(e, BG_ERR_PERM, "'%.200s' leads outside the grant's directories",
		    path);
	case ENOENT:
		return bg_fail(e, BG_ERR_NOTFOUND, "'%.200s' does not exist", path);
	case EACCES:
	case EPERM:
		return bg_fail(e, BG_ERR_PERM, "'%.200s': permission denied", path);
	case ENOTDIR:
		return bg_fail(e, BG_ERR_INVALID, "'%.200s': not a directory", path);
	case EISDIR:
		return bg_fail(e, BG_ERR_INVALID, "'%.200s' is a directory", path);
	case ENOSYS:
		return bg_fail(e, BG_ERR_UNSUPPORTED, "this kernel lacks openat2: refusing");
	default:
		return bg_fail(e, BG_ERR_IO, "'%.200s': %s", path, strerror(err));
	}
}

/*
 * Opens never wait: a FIFO (which the account can make in any directory it
 * writes) blocks open() until a writer comes, and a request stuck there
 * would outlive its grant, since supervision runs between reads (F8).  So
 * every open is non-blocking, and a regular file or directory is made
 * blocking again; whatever else was opened stays non-blocking and is
 * refused by its caller's type check.
 */
static int
opened(int fd, int flags)
{
	struct stat st;

	if (fd < 0 || (flags & O_PATH) || (flags & O_NONBLOCK))
		return fd;
	if (fstat(fd, &st) == 0 && (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)))
		(void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	return fd;
}

int
scope_open(const scope *s, const char *path, int flags, int need_write, bg_error *e)
{
	const scope_root *best = NULL;
	size_t i, bl = 0;
	const char *rel;
	int fd;

	if (!scope_path_ok(path))
		return bg_fail(e, BG_ERR_PERM, "'%.200s' is not an absolute, normalised path", path);
	for (i = 0; i < s->n; i++) {
		size_t l = strlen(s->r[i].path);

		if (need_write && !s->r[i].writable)
			continue;
		if ((strcmp(s->r[i].path, "/") == 0 ||
		    (strncmp(path, s->r[i].path, l) == 0 && (path[l] == '\0' || path[l] == '/'))) &&
		    l >= bl) {
			best = &s->r[i];
			bl = l;
		}
	}
	if (best == NULL)
		return bg_fail(e, BG_ERR_PERM, "'%.200s' is outside the grant's %sdirectories", path,
		    need_write ? "writable " : "");
	if (best->fd < 0)
		return bg_fail(e, BG_ERR_NOTFOUND, "'%.200s' does not exist", best->path);
	rel = path + bl;
	while (*rel == '/')
		rel++;
	if (*rel == '\0')
		rel = ".";
	/* openat2 allows only O_CLOEXEC, O_DIRECTORY and O_NOFOLLOW with O_PATH */
	fd = sys_openat2(best->fd, rel, flags | O_CLOEXEC | ((flags & O_PATH) ? 0 : O_NOCTTY | O_NONBLOCK),
	    RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV);
	if (fd < 0)
		return open_fail(errno, path, e);
	return opened(fd, flags);
}

int
scope_openat(int dirfd, const char *name, int flags, bg_error *e)
{
	int fd;

	if (strchr(name, '/') != NULL || strcmp(name, "..") == 0)
		return bg_fail(e, BG_ERR_PERM, "'%.200s' is not a plain name", name);
	fd = sys_openat2(dirfd, name, flags | O_CLOEXEC | ((flags & O_PATH) ? 0 : O_NOCTTY | O_NONBLOCK),
	    RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV | RESOLVE_NO_SYMLINKS);
	if (fd < 0)
		return open_fail(errno, name, e);
	return opened(fd, flags);
}
