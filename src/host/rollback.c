/*
 * rollback.c - restore a snapshot.
 */
#include "rollback.h"
#include "changes.h"
#include "fileio.h"
#include "testhook.h"
#include "utc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/openat2.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static long
atoi_safe(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);

	return *end == '\0' && v >= 0 && v < 1000 ? v : 0;
}

#define BENEATH (RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV)

typedef struct rb {
	const char *store;
	const snapshot *target;
	int rootfd[SNAP_MAX_ROOTS];
	int dry, as_root;
	buf *report;
	rollback_stats *st;
	bg_error *e;
} rb;

static int
openat2_(int dirfd, const char *path, int flags, unsigned long long resolve)
{
	struct open_how how;

	memset(&how, 0, sizeof(how));
	how.flags = (unsigned long long)(flags | O_CLOEXEC);
	how.resolve = resolve;
	return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
}

static void
say(rb *t, const char *verb, const snap_entry *en, const char *extra)
{
	buf_printf(t->report, "%-8s %s%s%s%s%s\n", verb, t->target->roots[en->root],
	    en->path[0] ? "/" : "", en->path, extra ? " " : "", extra ? extra : "");
}

/* Open the parent directory of en beneath its root; *name gets the last
 * component.  The root itself has no parent here. */
static int
open_parent(rb *t, const snap_entry *en, const char **name)
{
	const char *slash = strrchr(en->path, '/');
	char *dir;
	int fd;

	if (slash == NULL) {
		*name = en->path;
		return fcntl(t->rootfd[en->root], F_DUPFD_CLOEXEC, 3);
	}
	*name = slash + 1;
	if ((dir = strndup(en->path, (size_t)(slash - en->path))) == NULL)
		return -1;
	fd = openat2_(t->rootfd[en->root], dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, BENEATH);
	free(dir);
	return fd;
}

/* Remove name under dfd: a file, a link, or a whole directory tree
 * (never following a symlink). */
static int
remove_tree(int dfd, const char *name, int depth)
{
	struct stat sb;
	int cfd;
	DIR *d;
	struct dirent *de;

	if (fstatat(dfd, name, &sb, AT_SYMLINK_NOFOLLOW) != 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(sb.st_mode))
		return unlinkat(dfd, name, 0) == 0 || errno == ENOENT ? 0 : -1;
	if (depth > SNAP_MAX_DEPTH || (cfd = openat2_(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW,
	    BENEATH)) < 0)
		return -1;
	if ((d = fdopendir(cfd)) == NULL) {
		close(cfd);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (remove_tree(dirfd(d), de->d_name, depth + 1) != 0) {
			closedir(d);
			return -1;
		}
	}
	closedir(d);
	return unlinkat(dfd, name, AT_REMOVEDIR) == 0 || errno == ENOENT ? 0 : -1;
}

static int
tmpname(char out[48])
{
	unsigned char r[6];

	randombytes_buf(r, sizeof(r));
	snprintf(out, 48, ".breakglass-rb-%02x%02x%02x%02x%02x%02x", r[0], r[1], r[2], r[3], r[4],
	    r[5]);
	return 0;
}

static void
set_meta(rb *t, int fd, const snap_entry *en)
{
	struct timespec ts[2];

	fchmod(fd, en->mode);
	if (t->as_root && fchown(fd, en->uid, en->gid) != 0)
		buf_printf(t->report, "warning  cannot restore the owner of %s\n", en->path);
	fchmod(fd, en->mode); /* chown may clear setuid/setgid bits */
	/* floor division: a time before 1970 still has 0 <= tv_nsec < 1e9 */
	ts[0].tv_sec = ts[1].tv_sec = (time_t)(en->mtime_ns / 1000000000LL -
	    (en->mtime_ns % 1000000000LL < 0));
	ts[0].tv_nsec = ts[1].tv_nsec = (long)(((en->mtime_ns % 1000000000LL) + 1000000000LL) %
	    1000000000LL);
	futimens(fd, ts);
}

/*
 * Files are restored in batches: each file's exact bytes and metadata go
 * to a temporary beside it; then every temporary of the batch is fsync'd
 * (the first fsync commits the journal transaction that holds them all, so
 * the rest are cheap), renamed over its name, and each parent directory
 * fsync'd once.  Every rename still happens only after its data is on
 * disk, as with one fsync per file, at a fraction of the cost.  A batch
 * holds open descriptors, so it is bounded.
 */
#define RB_BATCH 64

typedef struct pending {
	const snap_entry *en;
	int pfd, fd;
	const char *name;
	char tmp[48];
	uint64_t dev, ino; /* of the parent, once known */
} pending;

typedef struct batch {
	pending p[RB_BATCH];
	size_t n;
} batch;

/* src's bytes into the empty dst: a reflink, an in-kernel copy, or by hand. */
static int
copy_bytes(int src, int dst)
{
	char b[65536];
	ssize_t n;

	if (ioctl(dst, FICLONE, src) == 0)
		return 0;
	while ((n = copy_file_range(src, NULL, dst, NULL, 1u << 30, 0)) > 0)
		;
	if (n == 0)
		return 0;
	/* not between these two files (or not here at all): by hand, unless
	 * it failed part of the way */
	if (lseek(dst, 0, SEEK_CUR) != 0 || lseek(src, 0, SEEK_SET) != 0)
		return -1;
	while ((n = read(src, b, sizeof(b))) > 0)
		if (fileio_write_full(dst, b, (size_t)n) != 0)
			return -1;
	return n < 0 ? -1 : 0;
}

static int
restore_prepare(rb *t, const snap_entry *en, pending *pe)
{
	buf obj;
	int src = -1, r = -1;

	pe->en = en;
	pe->fd = -1;
	buf_init(&obj, 4096);
	if ((pe->pfd = open_parent(t, en, &pe->name)) < 0) {
		bg_fail(t->e, BG_ERR_IO, "cannot open the directory of '%s': %s", en->path,
		    strerror(errno));
		buf_release(&obj);
		return -1;
	}
	snapshot_object_path(t->store, en->hash, &obj);
	if ((src = open(obj.data, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0) {
		bg_fail(t->e, BG_ERR_CORRUPT, "snapshot object for '%s' is missing", en->path);
		goto out;
	}
	tmpname(pe->tmp);
	if ((pe->fd = openat(pe->pfd, pe->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600)) < 0) {
		bg_fail(t->e, BG_ERR_IO, "cannot write beside '%s': %s", en->path, strerror(errno));
		goto out;
	}
	if (copy_bytes(src, pe->fd) != 0) {
		bg_fail(t->e, BG_ERR_IO, "cannot restore '%s': %s", en->path, strerror(errno));
		goto out;
	}
	set_meta(t, pe->fd, en);
	r = 0;
out:
	if (src >= 0)
		close(src);
	if (r != 0) {
		if (pe->fd >= 0) {
			close(pe->fd);
			unlinkat(pe->pfd, pe->tmp, 0);
		}
		close(pe->pfd);
	}
	buf_release(&obj);
	return r;
}

/* Commit (or, with r already set, abandon) the batch; 0 or -1. */
static int
flush_batch(rb *t, batch *bt, int r)
{
	size_t i, k;

	for (i = 0; r == 0 && i < bt->n; i++) {
		if (fsync(bt->p[i].fd) != 0) {
			bg_fail(t->e, BG_ERR_IO, "cannot restore '%s': %s", bt->p[i].en->path,
			    strerror(errno));
			r = -1;
		}
	}
	for (i = 0; r == 0 && i < bt->n; i++) {
		pending *pe = &bt->p[i];

		if (remove_tree(pe->pfd, pe->name, 0) != 0 ||
		    renameat(pe->pfd, pe->tmp, pe->pfd, pe->name) != 0) {
			bg_fail(t->e, BG_ERR_IO, "cannot restore '%s': %s", pe->en->path,
			    strerror(errno));
			r = -1;
		} else {
			pe->tmp[0] = '\0'; /* in place */
		}
	}
	for (i = 0; i < bt->n; i++) {
		pending *pe = &bt->p[i];
		struct stat sb;
		int seen = 0;

		close(pe->fd);
		if (pe->tmp[0] != '\0')
			unlinkat(pe->pfd, pe->tmp, 0);
		/* one fsync per distinct parent directory */
		pe->dev = pe->ino = 0;
		if (r != 0 || fstat(pe->pfd, &sb) != 0)
			continue;
		pe->dev = (uint64_t)sb.st_dev;
		pe->ino = (uint64_t)sb.st_ino;
		for (k = 0; k < i && !seen; k++)
			seen = bt->p[k].dev == pe->dev && bt->p[k].ino == pe->ino;
		if (!seen)
			(void)fsync(pe->pfd);
	}
	for (i = 0; i < bt->n; i++)
		close(bt->p[i].pfd);
	bt->n = 0;
	return r;
}

static int
restore_link(rb *t, const snap_entry *en)
{
	const char *name;
	char tmp[48];
	int pfd = open_parent(t, en, &name), r = -1;

	if (pfd < 0)
		return bg_fail(t->e, BG_ERR_IO, "cannot open the directory of '%s'", en->path), -1;
	tmpname(tmp);
	if (symlinkat(en->target, pfd, tmp) != 0) {
		bg_fail(t->e, BG_ERR_IO, "cannot recreate link '%s': %s", en->path, strerror(errno));
		goto out;
	}
	if (t->as_root && fchownat(pfd, tmp, en->uid, en->gid, AT_SYMLINK_NOFOLLOW) != 0)
		buf_printf(t->report, "warning  cannot restore the owner of %s\n", en->path);
	if (remove_tree(pfd, name, 0) != 0 || renameat(pfd, tmp, pfd, name) != 0) {
		unlinkat(pfd, tmp, 0);
		bg_fail(t->e, BG_ERR_IO, "cannot recreate link '%s': %s", en->path, strerror(errno));
		goto out;
	}
	r = 0;
out:
	close(pfd);
	return r;
}

static int
make_dir(rb *t, const snap_entry *en)
{
	const char *name;
	struct stat sb;
	int pfd, fd;

	if (en->path[0] == '\0') {
		if (mkdir(t->target->roots[en->root], 0700) != 0 && errno != EEXIST)
			return bg_fail(t->e, BG_ERR_IO, "cannot recreate '%s'", t->target->roots[en->root]), -1;
		return 0;
	}
	if ((pfd = open_parent(t, en, &name)) < 0)
		return bg_fail(t->e, BG_ERR_IO, "cannot open the directory of '%s'", en->path), -1;
	if (fstatat(pfd, name, &sb, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR(sb.st_mode) &&
	    remove_tree(pfd, name, 0) != 0) {
		close(pfd);
		return bg_fail(t->e, BG_ERR_IO, "cannot replace '%s' with a directory", en->path), -1;
	}
	if (mkdirat(pfd, name, 0700) != 0 && errno != EEXIST) {
		close(pfd);
		return bg_fail(t->e, BG_ERR_IO, "cannot recreate '%s': %s", en->path, strerror(errno)), -1;
	}
	fd = openat2_(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, BENEATH);
	close(pfd);
	if (fd >= 0)
		close(fd);
	return fd >= 0 ? 0 : (bg_fail(t->e, BG_ERR_IO, "cannot open '%s'", en->path), -1);
}

static int
fix_meta(rb *t, const snap_entry *en)
{
	int fd;

	if (en->type == 'l') {
		const char *name;
		int pfd = open_parent(t, en, &name);

		if (pfd < 0)
			return -1;
		if (t->as_root && fchownat(pfd, name, en->uid, en->gid, AT_SYMLINK_NOFOLLOW) != 0)
			buf_printf(t->report, "warning  cannot restore the owner of %s\n", en->path);
		close(pfd);
		return 0;
	}
	fd = en->path[0] == '\0' ? fcntl(t->rootfd[en->root], F_DUPFD_CLOEXEC, 3) :
	    openat2_(t->rootfd[en->root], en->path, O_RDONLY | O_NOFOLLOW |
	    (en->type == 'd' ? O_DIRECTORY : 0), BENEATH);
	if (fd < 0)
		return bg_fail(t->e, BG_ERR_IO, "cannot open '%s': %s", en->path, strerror(errno)), -1;
	set_meta(t, fd, en);
	close(fd);
	return 0;
}

static int
in_scope(const snapshot *s, const snap_entry *en, const char *path)
{
	size_t rl, pl;
	const char *root = s->roots[en->root];

	if (path == NULL)
		return 1;
	rl = strlen(root);
	pl = strlen(path);
	/* path is ROOT or ROOT/REL...: en must be at or under it */
	if (strncmp(path, root, rl) != 0 || (path[rl] != '\0' && path[rl] != '/'))
		return 0;
	path += rl;
	while (*path == '/')
		path++;
	pl = strlen(path);
	return pl == 0 || (strncmp(en->path, path, pl) == 0 &&
	    (en->path[pl] == '\0' || en->path[pl] == '/'));
}

/* Test builds only (testhook.h, BREAKGLASS_TESTING=1): pause between steps so a test can
 * kill a rollback midway. */
static void
test_pause(void)
{
	const char *ms = testhook_env("BREAKGLASS_TEST_ROLLBACK_DELAY_MS");

	if (ms != NULL) {
		struct timespec ts = { 0, (long)atoi_safe(ms) * 1000000L };

		nanosleep(&ts, NULL);
	}
}

int
rollback_apply(const char *store, const snapshot *cur, const snapshot *target, const char *path,
    int dry_run, buf *report, rollback_stats *st, bg_error *e)
{
	changeset cs;
	rb t;
	batch bt;
	size_t i;
	int r = 0;

	bt.n = 0;
	memset(st, 0, sizeof(*st));
	memset(&t, 0, sizeof(t));
	for (i = 0; i < SNAP_MAX_ROOTS; i++)
		t.rootfd[i] = -1;
	t.store = store;
	t.target = target;
	t.dry = dry_run;
	t.as_root = geteuid() == 0;
	t.report = report;
	t.st = st;
	t.e = e;
	if ((r = changes_compute(cur, target, &cs, e)) != 0)
		return r;
	for (i = 0; i < target->nroots; i++) {
		t.rootfd[i] = openat2_(AT_FDCWD, target->roots[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW,
		    RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
		if (t.rootfd[i] < 0 && errno != ENOENT) {
			r = bg_fail(e, BG_ERR_PERM, "cannot open '%s': %s", target->roots[i], strerror(errno));
			goto out;
		}
	}
	/* 1: create and restore, parents first (the change list is sorted) */
	for (i = 0; i < cs.n && r == 0; i++) {
		const change *c = &cs.c[i];
		const snap_entry *want = c->after; /* "after" is the target here */

		if (c->kind == 'D' || !in_scope(target, want, path))
			continue;
		if (c->kind == 'M' && !(c->what & (CH_TYPE | CH_CONTENT | CH_TARGET | CH_LINKS))) {
			if (!dry_run && fix_meta(&t, want) != 0) {
				r = BG_ERR_IO;
				break;
			}
			say(&t, "meta", want, NULL);
			st->meta++;
			continue;
		}
		say(&t, c->kind == 'A' ? "create" : "restore", want, want->type == 'd' ? "(directory)" :
		    want->type == 'l' ? "(symlink)" : NULL);
		if (dry_run) {
			st->restored += c->kind != 'A';
			st->created += c->kind == 'A';
			continue;
		}
		if (want->type == 'd') {
			if (make_dir(&t, want) != 0) {
				r = BG_ERR_IO;
				break;
			}
			if (want->path[0] == '\0' && t.rootfd[want->root] < 0)
				t.rootfd[want->root] = openat2_(AT_FDCWD, target->roots[want->root],
				    O_RDONLY | O_DIRECTORY | O_NOFOLLOW, RESOLVE_NO_SYMLINKS);
		} else if (want->type == 'l') {
			if (restore_link(&t, want) != 0) {
				r = BG_ERR_IO;
				break;
			}
		} else if (want->type == 'f') {
			if (restore_prepare(&t, want, &bt.p[bt.n]) != 0) {
				r = BG_ERR_IO;
				break;
			}
			if (++bt.n == RB_BATCH && flush_batch(&t, &bt, 0) != 0) {
				r = BG_ERR_IO;
				break;
			}
		}
		if (c->kind == 'A')
			st->created++;
		else
			st->restored++;
		test_pause();
	}
	if (flush_batch(&t, &bt, r) != 0 && r == 0)
		r = BG_ERR_IO;
	/* 2: remove what the target does not have, deepest first */
	for (i = cs.n; r == 0 && i-- > 0;) {
		const change *c = &cs.c[i];
		const char *name;
		int pfd;

		if (c->kind != 'D' || !in_scope(cur, c->before, path))
			continue;
		say(&t, "delete", c->before, c->before->type == 'd' ? "(directory)" : NULL);
		st->deleted++;
		if (dry_run || c->before->path[0] == '\0')
			continue;
		if ((pfd = open_parent(&t, c->before, &name)) < 0) {
			/* the parent itself was replaced (by a link or a file) in step 1:
			 * this entry went with it */
			if (errno == ENOENT || errno == ELOOP || errno == ENOTDIR)
				continue;
			r = bg_fail(e, BG_ERR_IO, "cannot open the directory of '%s'", c->before->path);
			break;
		}
		if (remove_tree(pfd, name, 0) != 0)
			r = bg_fail(e, BG_ERR_IO, "cannot remove '%s': %s", c->before->path,
			    strerror(errno));
		close(pfd);
		test_pause();
	}
	/* 3: hard links: every path of one target inode shares one inode again */
	for (i = 0; r == 0 && !dry_run && i < target->n; i++) {
		const snap_entry *a = &target->e[i];

		if (a->type != 'f' || a->nlink < 2 || !in_scope(target, a, path))
			continue;
		for (size_t k = 0; k < i; k++) {
			const snap_entry *b = &target->e[k];
			struct stat sa, sb;
			const char *na, *nb;
			int pa, pb;
			char tmp[48];

			if (b->type != 'f' || b->ino != a->ino || b->dev != a->dev || b->root != a->root)
				continue;
			if ((pa = open_parent(&t, a, &na)) < 0)
				break;
			if ((pb = open_parent(&t, b, &nb)) < 0) {
				close(pa);
				break;
			}
			if (fstatat(pa, na, &sa, AT_SYMLINK_NOFOLLOW) == 0 &&
			    fstatat(pb, nb, &sb, AT_SYMLINK_NOFOLLOW) == 0 && sa.st_ino != sb.st_ino) {
				tmpname(tmp);
				if (linkat(pb, nb, pa, tmp, 0) == 0 && renameat(pa, tmp, pa, na) == 0) {
					say(&t, "link", a, b->path);
					st->linked++;
				} else
					unlinkat(pa, tmp, 0);
			}
			close(pa);
			close(pb);
			break;
		}
	}
	/* 4: directory modes, owners and times last, deepest first */
	for (i = target->n; r == 0 && !dry_run && i-- > 0;) {
		const snap_entry *d = &target->e[i];

		if (d->type == 'd' && in_scope(target, d, path) && fix_meta(&t, d) != 0)
			r = BG_ERR_IO;
	}
out:
	for (i = 0; i < SNAP_MAX_ROOTS; i++)
		if (t.rootfd[i] >= 0)
			close(t.rootfd[i]);
	changes_release(&cs);
	return r;
}
