/*
 * scope.h - file access confined to a grant's directories.
 *
 * Each root directory of the grant is opened once (O_PATH, no symlink
 * anywhere on the way: RESOLVE_NO_SYMLINKS).  A request names an absolute
 * path; it is matched to the deepest root containing it and opened
 * relative to that root's descriptor with openat2(RESOLVE_BENEATH |
 * RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV): the kernel refuses every
 * resolution that would leave the root - "..", absolute or escaping
 * symlinks, /proc magic links, other mounts - at the moment of the open,
 * so there is no check-then-use race.
 */
#ifndef BG_SCOPE_H
#define BG_SCOPE_H

#include "err.h"

#include <stddef.h>

#define SCOPE_MAX_ROOTS 32

typedef struct scope_root {
	char *path;
	int fd;        /* -1 when the directory does not exist (nothing inside) */
	int writable;
} scope_root;

typedef struct scope {
	scope_root r[SCOPE_MAX_ROOTS];
	size_t n;
} scope;

/* 1 if p is absolute and normalised: no "//", ".", ".." or trailing '/'. */
int scope_path_ok(const char *p);

/* Add a root (absolute, normalised).  Missing directories are kept closed. */
int scope_add(scope *s, const char *path, int writable, bg_error *e);
void scope_release(scope *s);

/*
 * Open absolute path inside the scope with open(2) flags (O_CLOEXEC and
 * O_NOCTTY are added).  need_write: the path must lie in a writable root.
 * Returns a descriptor, or a negative BG_ERR code with e set.
 */
int scope_open(const scope *s, const char *path, int flags, int need_write, bg_error *e);

/* Open dirfd-relative name (one component, no '/') beneath dirfd. */
int scope_openat(int dirfd, const char *name, int flags, bg_error *e);

#endif
