/*
 * fileio.c - capped reads, atomic replacement, full writes.
 *
 * The temporary file for an atomic write lives next to its target (same
 * filesystem, so rename is atomic) and is created with O_EXCL|O_NOFOLLOW
 * so a pre-planted file or link is never written through.
 */
#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int
fileio_read_fd(int fd, size_t max, buf *out, bg_error *e)
{
	char tmp[8192];
	ssize_t n;
	int r;

	for (;;) {
		n = read(fd, tmp, sizeof(tmp));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return bg_fail(e, BG_ERR_IO, "read failed: %s", strerror(errno));
		if (n == 0)
			break;
		if (out->len + (size_t)n > max) {
			sodium_memzero(tmp, sizeof(tmp));
			return bg_fail(e, BG_ERR_TOOLARGE, "input larger than %zu bytes", max);
		}
		if ((r = buf_append(out, tmp, (size_t)n)) != 0)
			return bg_fail(e, r, "input too large");
	}
	sodium_memzero(tmp, sizeof(tmp));
	return 0;
}

int
fileio_read(const char *path, size_t max, buf *out, bg_error *e)
{
	int fd, r;
	struct stat st;

	if (strcmp(path, "-") == 0)
		return fileio_read_fd(STDIN_FILENO, max, out, e);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0) {
		r = errno == ENOENT ? BG_ERR_NOTFOUND : BG_ERR_IO;
		return bg_fail(e, r, "cannot open '%s': %s", path, strerror(errno));
	}
	if (fstat(fd, &st) != 0)
		st.st_mode = 0;
	if (S_ISDIR(st.st_mode)) {
		close(fd);
		return bg_fail(e, BG_ERR_INVALID, "'%s' is a directory", path);
	}
	/* a regular file's size is known: one allocation instead of doublings */
	if (S_ISREG(st.st_mode) && st.st_size > 0 && (uint64_t)st.st_size < max)
		(void)buf_reserve(out, (size_t)st.st_size + 1);
	r = fileio_read_fd(fd, max, out, e);
	close(fd);
	if (r != 0 && e != NULL && r == BG_ERR_TOOLARGE)
		bg_fail(e, r, "'%s' is larger than %zu bytes", path, max);
	return r;
}

int
fileio_write_full(int fd, const void *data, size_t len)
{
	const char *p = data;
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return BG_ERR_IO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
fileio_sync_dir(const char *path)
{
	char *copy, *dir;
	int fd, r = 0;

	if ((copy = strdup(path)) == NULL)
		return BG_ERR_NOMEM;
	dir = dirname(copy);
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		free(copy);
		return BG_ERR_IO;
	}
	if (fsync(fd) != 0)
		r = BG_ERR_IO;
	close(fd);
	free(copy);
	return r;
}

int
fileio_write_atomic(const char *path, const void *data, size_t len,
    mode_t mode, int excl, bg_error *e)
{
	buf tmp;
	unsigned char rnd[8];
	int fd = -1, r;
	struct stat st;

	buf_init(&tmp, 4096);
	if (excl && lstat(path, &st) == 0)
		return bg_fail(e, BG_ERR_EXISTS, "'%s' already exists", path);
	randombytes_buf(rnd, sizeof(rnd));
	if ((r = buf_printf(&tmp, "%s.tmp.%02x%02x%02x%02x%02x%02x%02x%02x", path,
	    rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7])) != 0)
		return bg_fail(e, r, "path too long");
	fd = open(buf_cstr(&tmp), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0) {
		r = bg_fail(e, BG_ERR_IO, "cannot create '%s': %s", buf_cstr(&tmp), strerror(errno));
		goto out;
	}
	if (fchmod(fd, mode) != 0 || fileio_write_full(fd, data, len) != 0 ||
	    fsync(fd) != 0) {
		r = bg_fail(e, BG_ERR_IO, "cannot write '%s': %s", path, strerror(errno));
		goto out;
	}
	if (close(fd) != 0) {
		fd = -1;
		r = bg_fail(e, BG_ERR_IO, "cannot write '%s': %s", path, strerror(errno));
		goto out;
	}
	fd = -1;
	if (excl) {
		/* link() fails if the target appeared meanwhile: no overwrite */
		if (link(buf_cstr(&tmp), path) != 0) {
			r = errno == EEXIST ? BG_ERR_EXISTS : BG_ERR_IO;
			r = bg_fail(e, r, "cannot create '%s': %s", path, strerror(errno));
			goto out;
		}
		unlink(buf_cstr(&tmp));
	} else if (rename(buf_cstr(&tmp), path) != 0) {
		r = bg_fail(e, BG_ERR_IO, "cannot replace '%s': %s", path, strerror(errno));
		goto out;
	}
	if (fileio_sync_dir(path) != 0) {
		r = bg_fail(e, BG_ERR_IO, "cannot sync directory of '%s'", path);
		goto out;
	}
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	if (r != 0 && tmp.data != NULL)
		unlink(buf_cstr(&tmp));
	buf_release(&tmp);
	return r;
}

int
fileio_join(buf *out, const char *dir, const char *name)
{
	buf_reset(out);
	return buf_printf(out, "%s/%s", dir, name);
}
