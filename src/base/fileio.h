/*
 * fileio.h - the only ways breakglass reads and writes files.
 *
 * Reads are capped; files that must never be half-written go through
 * fileio_write_atomic (O_EXCL temporary, fsync, rename, fsync directory);
 * append-only logs use fileio_write_full + fsync.
 */
#ifndef BG_FILEIO_H
#define BG_FILEIO_H

#include "buf.h"
#include "err.h"

#include <sys/types.h>

/* Read all of path (or stdin for "-") into out, refusing more than max. */
int fileio_read(const char *path, size_t max, buf *out, bg_error *e);
/* Read all of fd into out, refusing more than max. */
int fileio_read_fd(int fd, size_t max, buf *out, bg_error *e);

/*
 * Write data to path atomically with the given mode.  If excl is set,
 * refuse (BG_ERR_EXISTS) when path already exists.
 */
int fileio_write_atomic(const char *path, const void *data, size_t len,
    mode_t mode, int excl, bg_error *e);

/* write(2) until done or error; retries EINTR. 0 or BG_ERR_IO. */
int fileio_write_full(int fd, const void *data, size_t len);

/* fsync the directory containing path. */
int fileio_sync_dir(const char *path);

/* Join dir and name into out ("dir/name"). */
int fileio_join(buf *out, const char *dir, const char *name);

#endif
