/*
 * snapshot.c - the content-addressed snapshot store.
 *
 * The walk never follows a symlink: every directory is opened relative to
 * its root (pinned once) with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS
 * | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV), every file relative to its
 * directory the same way, and each is checked to be the inode that was
 * listed (a directory swapped in between fails the snapshot).
 */
#include "snapshot.h"
#include "fileio.h"
#include "testhook.h"
#include "utc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/openat2.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define MAGIC "breakglass-snapshot v1"

static int
openat2_(int dirfd, const char *path, int flags, unsigned long long resolve)
{
	struct open_how how;

	memset(&how, 0, sizeof(how));
	how.flags = (unsigned long long)(flags | O_CLOEXEC);
	how.mode = (flags & O_CREAT) ? 0600 : 0;
	how.resolve = resolve;
	return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
}

#define BENEATH (RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV)

/* Length of the run of bytes at s that stand for themselves (0x21..0x7e
 * but '%'), up to n. */
static size_t
plain_run(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n && (unsigned char)s[i] > 0x20 && (unsigned char)s[i] < 0x7f && s[i] != '%')
		i++;
	return i;
}

int
snapshot_escape(const char *s, buf *out)
{
	static const char hx[] = "0123456789ABCDEF";
	size_t n = strlen(s), k = plain_run(s, n);
	int r = 0;

	if (k == n) /* the usual path: nothing to escape */
		return buf_append(out, s, n);
	for (; *s && r == 0; s++) {
		unsigned char c = (unsigned char)*s;

		if (c > 0x20 && c < 0x7f && c != '%')
			r = buf_putc(out, (char)c);
		else {
			char e[3] = { '%', hx[c >> 4], hx[c & 15] };

			r = buf_append(out, e, 3);
		}
	}
	return r;
}

static int
hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

int
snapshot_unescape(const char *s, size_t n, buf *out)
{
	size_t i;
	int r = 0;

	buf_reset(out);
	if (plain_run(s, n) == n)
		return buf_append(out, s, n); /* the usual path: nothing escaped */
	for (i = 0; i < n && r == 0; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '%') {
			int a, b;

			if (i + 2 >= n || (a = hexval(s[i + 1])) < 0 || (b = hexval(s[i + 2])) < 0)
				return BG_ERR_INVALID;
			c = (unsigned char)(a << 4 | b);
			if (c == 0)
				return BG_ERR_INVALID;
			i += 2;
		} else if (c <= 0x20 || c >= 0x7f) {
			return BG_ERR_INVALID;
		}
		r = buf_putc(out, (char)c);
	}
	return r;
}

void
snapshot_release(snapshot *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		free(s->e[i].path);
		free(s->e[i].target);
	}
	free(s->e);
	for (i = 0; i < s->nroots; i++)
		free(s->roots[i]);
	memset(s, 0, sizeof(*s));
}

static int
entry_cmp(const void *a, const void *b)
{
	const snap_entry *x = a, *y = b;

	if (x->root != y->root)
		return x->root < y->root ? -1 : 1;
	return strcmp(x->path, y->path);
}

const snap_entry *
snapshot_find(const snapshot *s, int root, const char *path)
{
	snap_entry key;

	memset(&key, 0, sizeof(key));
	key.root = root;
	key.path = (char *)path;
	return bsearch(&key, s->e, s->n, sizeof(*s->e), entry_cmp);
}

/* Room for need entries in s (doubling, at most 16 M); 0 or -1. */
static int
reserve_entries(snapshot *s, size_t need)
{
	while (s->cap < need) {
		size_t nc = s->cap ? s->cap * 2 : 1024;
		snap_entry *v;

		if (nc > 16u * 1024 * 1024 || (v = realloc(s->e, nc * sizeof(*v))) == NULL)
			return -1;
		s->e = v;
		s->cap = nc;
	}
	return 0;
}

static snap_entry *
add_entry(snapshot *s)
{
	if (reserve_entries(s, s->n + 1) != 0)
		return NULL;
	memset(&s->e[s->n], 0, sizeof(s->e[0]));
	return &s->e[s->n++];
}

int
snapshot_object_path(const char *store, const char *hash, buf *out)
{
	buf_reset(out);
	return buf_printf(out, "%s/objects/%.2s/%s", store, hash, hash);
}

/* ---- taking a snapshot ---- */

#define SNAP_IO_SIZE (1 << 20)
#define SNAP_LINE_MAX (64 * 1024)   /* > 2 * 3 * PATH_MAX + the numbers */

#define KEEP_MAX 256

typedef struct dirjob {
	struct dirjob *next;
	int root;
	char *rel;
	dev_t dev;  /* the directory that was listed in its parent: the one */
	ino_t ino;  /* walked, or the snapshot fails */
} dirjob;

/*
 * The walk runs on up to SNAP_THREADS threads: a queue of directories to
 * list, each thread listing one at a time and queueing the directories it
 * finds (the kernel's stat work is most of a snapshot's time, and it runs
 * in parallel).  Entries go to the thread's own array; they are merged
 * and sorted at the end, so the manifest does not depend on the timing.
 */
#define SNAP_THREADS 4

typedef struct taker {
	const char *store;
	int storefd, objfd, tmpfd;
	int rootfd[SNAP_MAX_ROOTS];
	const snapshot *prev;
	int prevroot[SNAP_MAX_ROOTS]; /* index of the same root in prev, or -1 */
	snap_stats *st;         /* updated with atomic adds */
	snap_progress_fn progress;
	void *pctx;
	double last_progress;
	char tmpbase[17];       /* random per snapshot; a counter per object */
	uint64_t tmpseq;        /* atomic */
	int measure;            /* store NULL: hash and describe, store nothing */
	bg_error *e;            /* the first error of any thread */
	pthread_mutex_t mu;     /* the queue, the error and what follows */
	pthread_cond_t cv;
	dirjob *queue;
	size_t active;          /* directories being listed */
	int failed;
	/* new objects, made durable before the manifest names them: a few are
	 * kept open and fsync'd at the end (the first fsync commits them all,
	 * and waits for nothing else); past KEEP_MAX, one syncfs */
	int keep[KEEP_MAX];
	size_t nkeep;
	int overflow;
	unsigned char subdir[256]; /* objects/XX directories written to */
	unsigned char made[256];   /* objects/XX known to exist (atomic) */
} taker;

typedef struct walker {
	taker *t;
	snapshot out;           /* the entries this thread found */
	unsigned char *io;      /* its read buffer */
	bg_error e;
	int lead;               /* the calling thread: shows progress */
	int noclone;            /* FICLONE failed from noclone_dev */
	dev_t noclone_dev;
} walker;

#define ADD(t, field, v) __atomic_fetch_add(&(t)->st->field, (uint64_t)(v), __ATOMIC_RELAXED)

static int
same_meta(const struct stat *a, const struct stat *b)
{
	return a->st_ino == b->st_ino && a->st_size == b->st_size &&
	    a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	    a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/* Keep *fd (an object just stored, or found stored) to fsync before the
 * manifest; past KEEP_MAX the whole store is synced instead. */
static void
keep_object(taker *t, int *fd, unsigned char sub)
{
	pthread_mutex_lock(&t->mu);
	t->subdir[sub] = 1;
	if (*fd >= 0 && !t->overflow && t->nkeep < KEEP_MAX) {
		t->keep[t->nkeep++] = *fd;
		*fd = -1;
	} else {
		t->overflow = 1;
	}
	pthread_mutex_unlock(&t->mu);
}

/* Store the content of src (open, read-only, on device dev) as an object;
 * hex gets its hash. */
static int
store_object(walker *w, int src, dev_t dev, char hex[65], int *cloned)
{
	taker *t = w->t;
	crypto_generichash_state hs;
	unsigned char h[32], *b = w->io;
	char tmpname[64], dir[3], name[68];
	int dst, r = 0, cl = 0;
	ssize_t n;
	off_t off = 0;

	*cloned = 0;
	if (t->measure) {
		crypto_generichash_init(&hs, NULL, 0, sizeof(h));
		while ((n = pread(src, b, SNAP_IO_SIZE, off)) > 0) {
			crypto_generichash_update(&hs, b, (size_t)n);
			off += n;
		}
		if (n < 0)
			return bg_fail(&w->e, BG_ERR_IO, "cannot read a file to snapshot: %s",
			    strerror(errno));
		crypto_generichash_final(&hs, h, sizeof(h));
		sodium_bin2hex(hex, 65, h, sizeof(h));
		return 0;
	}
	snprintf(tmpname, sizeof(tmpname), "%s-%llu.tmp", t->tmpbase,
	    (unsigned long long)__atomic_add_fetch(&t->tmpseq, 1, __ATOMIC_RELAXED));
	if ((dst = openat(t->tmpfd, tmpname, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
	    0440)) < 0)
		return bg_fail(&w->e, BG_ERR_IO, "cannot write to the snapshot store: %s",
		    strerror(errno));
	/* a reflink shares the blocks copy-on-write: no data written, and the
	 * object stays independent of the live file */
	if (!(w->noclone && w->noclone_dev == dev)) {
		if (ioctl(dst, FICLONE, src) == 0)
			cl = 1;
		else if (errno == EOPNOTSUPP || errno == EXDEV || errno == EINVAL) {
			/* no reflinks from this filesystem: do not ask again */
			w->noclone = 1;
			w->noclone_dev = dev;
		}
	}
	crypto_generichash_init(&hs, NULL, 0, sizeof(h));
	while ((n = pread(src, b, SNAP_IO_SIZE, off)) > 0) {
		crypto_generichash_update(&hs, b, (size_t)n);
		if (!cl && fileio_write_full(dst, b, (size_t)n) != 0) {
			r = bg_fail(&w->e, BG_ERR_IO, "cannot write to the snapshot store: %s "
			    "(disk full?)", strerror(errno));
			goto out;
		}
		off += n;
	}
	if (n < 0) {
		r = bg_fail(&w->e, BG_ERR_IO, "cannot read a file to snapshot: %s", strerror(errno));
		goto out;
	}
	ADD(t, copied, off);
	crypto_generichash_final(&hs, h, sizeof(h));
	sodium_bin2hex(hex, 65, h, sizeof(h));
	snprintf(dir, sizeof(dir), "%.2s", hex);
	snprintf(name, sizeof(name), "%.2s/%s", hex, hex);
	/* objects/XX once per snapshot (a call per file adds up on a tree) */
	if (!__atomic_load_n(&t->made[h[0]], __ATOMIC_RELAXED)) {
		if (mkdirat(t->objfd, dir, 0750) != 0 && errno != EEXIST) {
			r = bg_fail(&w->e, BG_ERR_IO, "cannot write to the snapshot store: %s",
			    strerror(errno));
			goto out;
		}
		__atomic_store_n(&t->made[h[0]], 1, __ATOMIC_RELAXED);
	}
	/* in place unless an object of that name is there (then the same
	 * bytes are already stored: deduplicated) */
	if (renameat2(t->tmpfd, tmpname, t->objfd, name, RENAME_NOREPLACE) == 0) {
		keep_object(t, &dst, h[0]);
	} else if (errno != EEXIST && errno != EINVAL && errno != ENOSYS) {
		r = bg_fail(&w->e, BG_ERR_IO, "cannot write to the snapshot store: %s", strerror(errno));
		goto out;
	} else if (errno == EEXIST || faccessat(t->objfd, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
		unlinkat(t->tmpfd, tmpname, 0); /* already stored: deduplicated */
		/* it may be from a snapshot that never finished: sync it too */
		close(dst);
		dst = openat(t->objfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		keep_object(t, &dst, h[0]);
	} else if (renameat(t->tmpfd, tmpname, t->objfd, name) != 0) {
		r = bg_fail(&w->e, BG_ERR_IO, "cannot write to the snapshot store: %s", strerror(errno));
		goto out;
	} else {
		keep_object(t, &dst, h[0]);
	}
	*cloned = cl;
out:
	if (r != 0)
		unlinkat(t->tmpfd, tmpname, 0);
	if (dst >= 0)
		close(dst);
	return r;
}

/*
 * Make the new objects durable: fsync each kept one and each object
 * directory they went to, or - when there were many - the whole store's
 * filesystem at once.
 */
static int
sync_objects(taker *t)
{
	size_t i;
	int r = 0;

	if (t->overflow)
		return syncfs(t->storefd);
	for (i = 0; i < t->nkeep && r == 0; i++)
		r = fsync(t->keep[i]);
	for (i = 0; i < 256 && r == 0; i++) {
		char dir[3];
		int fd;

		if (!t->subdir[i])
			continue;
		snprintf(dir, sizeof(dir), "%02x", (unsigned)i);
		if ((fd = openat(t->objfd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW)) < 0)
			return -1;
		r = fsync(fd);
		close(fd);
	}
	if (r == 0 && t->nkeep > 0)
		r = fsync(t->objfd); /* new XX directories */
	return r;
}

static void
progress(taker *t, int force)
{
	double now;

	if (t->progress == NULL)
		return;
	now = utc_mono();
	if (force || now - t->last_progress >= 0.2) {
		snap_stats c;

		/* a consistent-enough copy of counters other threads add to */
		c.files = __atomic_load_n(&t->st->files, __ATOMIC_RELAXED);
		c.dirs = __atomic_load_n(&t->st->dirs, __ATOMIC_RELAXED);
		c.links = __atomic_load_n(&t->st->links, __ATOMIC_RELAXED);
		c.others = __atomic_load_n(&t->st->others, __ATOMIC_RELAXED);
		c.bytes = __atomic_load_n(&t->st->bytes, __ATOMIC_RELAXED);
		c.copied = __atomic_load_n(&t->st->copied, __ATOMIC_RELAXED);
		c.reused = __atomic_load_n(&t->st->reused, __ATOMIC_RELAXED);
		c.cloned = __atomic_load_n(&t->st->cloned, __ATOMIC_RELAXED);
		t->last_progress = now;
		t->progress(t->pctx, &c);
	}
}

static int
fill_meta(snap_entry *en, const struct stat *sb)
{
	en->mode = sb->st_mode & 07777;
	en->uid = sb->st_uid;
	en->gid = sb->st_gid;
	en->size = sb->st_size;
	en->mtime_ns = (int64_t)sb->st_mtim.tv_sec * 1000000000LL + sb->st_mtim.tv_nsec;
	en->ctime_ns = (int64_t)sb->st_ctim.tv_sec * 1000000000LL + sb->st_ctim.tv_nsec;
	en->dev = (uint64_t)sb->st_dev;
	en->ino = (uint64_t)sb->st_ino;
	en->nlink = (uint64_t)sb->st_nlink;
	return 0;
}

/* Nesting level of a relative path: "" 0, "a" 1, "a/b" 2. */
static int
depth_of(const char *rel)
{
	int d = *rel ? 1 : 0;

	for (; *rel; rel++)
		d += *rel == '/';
	return d;
}

/* Free the directories still queued (after a failure). */
static void
drop_queue(taker *t)
{
	while (t->queue != NULL) {
		dirjob *j = t->queue;

		t->queue = j->next;
		free(j->rel);
		free(j);
	}
}

/* Queue the directory rel of root for some thread to list. */
static int
push_dir(taker *t, int root, const char *rel, const struct stat *sb)
{
	dirjob *j = malloc(sizeof(*j));

	if (j == NULL || (j->rel = strdup(rel)) == NULL) {
		free(j);
		return BG_ERR_NOMEM;
	}
	j->root = root;
	j->dev = sb->st_dev;
	j->ino = sb->st_ino;
	pthread_mutex_lock(&t->mu);
	j->next = t->queue;
	t->queue = j;
	pthread_cond_signal(&t->cv);
	pthread_mutex_unlock(&t->mu);
	return 0;
}

static int
visit(walker *w, int root, int dfd, const char *name, const char *rel)
{
	taker *t = w->t;
	struct stat sb, sb2;
	snap_entry *en;
	char *path;
	int r = 0;

	if (fstatat(dfd, name, &sb, AT_SYMLINK_NOFOLLOW) != 0)
		return bg_fail(&w->e, BG_ERR_IO, "cannot stat '%s': %s", rel, strerror(errno));
	if ((path = strdup(rel)) == NULL || (en = add_entry(&w->out)) == NULL) {
		free(path);
		return bg_fail(&w->e, BG_ERR_NOMEM, "out of memory");
	}
	en->root = root;
	en->path = path;
	memcpy(en->hash, "-", 2);
	fill_meta(en, &sb);
	if (S_ISDIR(sb.st_mode)) {
		int cfd = openat2_(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, BENEATH);

		en->type = 'd';
		ADD(t, dirs, 1);
		if (cfd < 0) {
			if (errno == EXDEV) {
				en->type = 'o'; /* another mount: not kept */
				return 0;
			}
			return bg_fail(&w->e, BG_ERR_PERM, "cannot read directory '%s': %s", rel,
			    strerror(errno));
		}
		close(cfd);
		if (depth_of(rel) > SNAP_MAX_DEPTH)
			return bg_fail(&w->e, BG_ERR_TOOLARGE, "directories nested deeper than %d "
			    "levels", SNAP_MAX_DEPTH);
		return push_dir(t, root, rel, &sb) == 0 ? 0 :
		    bg_fail(&w->e, BG_ERR_NOMEM, "out of memory");
	}
	if (S_ISLNK(sb.st_mode)) {
		char target[4097];
		ssize_t n = readlinkat(dfd, name, target, sizeof(target) - 1);

		if (n < 0 || n >= (ssize_t)sizeof(target) - 1)
			return bg_fail(&w->e, BG_ERR_IO, "cannot read link '%s'", rel);
		target[n] = '\0';
		en->type = 'l';
		ADD(t, links, 1);
		if ((en->target = strdup(target)) == NULL)
			return bg_fail(&w->e, BG_ERR_NOMEM, "out of memory");
		return 0;
	}
	if (!S_ISREG(sb.st_mode)) {
		en->type = 'o';
		ADD(t, others, 1);
		return 0;
	}
	en->type = 'f';
	ADD(t, files, 1);
	ADD(t, bytes, sb.st_size);
	/*
	 * Unchanged since the previous snapshot (same device, inode, size,
	 * mtime and ctime): its object is already stored.  Objects are never
	 * removed while a manifest names them, so this costs no further call.
	 */
	if (t->prev != NULL && t->prevroot[root] >= 0) {
		const snap_entry *p = snapshot_find(t->prev, t->prevroot[root], rel);

		if (p != NULL && p->type == 'f' && p->dev == (uint64_t)sb.st_dev &&
		    p->ino == (uint64_t)sb.st_ino && p->size == sb.st_size &&
		    p->mtime_ns == en->mtime_ns && p->ctime_ns == en->ctime_ns) {
			memcpy(en->hash, p->hash, sizeof(en->hash));
			ADD(t, reused, 1);
			return 0;
		}
	}
	for (int attempt = 0; attempt < 2; attempt++) {
		int fd = openat2_(dfd, name, O_RDONLY | O_NOFOLLOW | O_NOCTTY, BENEATH), cloned;

		if (fd < 0)
			return bg_fail(&w->e, BG_ERR_PERM, "cannot read '%s': %s", rel, strerror(errno));
		if (fstat(fd, &sb2) != 0 || sb2.st_ino != sb.st_ino) {
			close(fd);
			return bg_fail(&w->e, BG_ERR_IO, "'%s' changed while being snapshotted", rel);
		}
		r = store_object(w, fd, sb2.st_dev, en->hash, &cloned);
		if (r == 0 && fstat(fd, &sb2) == 0 && same_meta(&sb, &sb2)) {
			close(fd);
			ADD(t, cloned, cloned);
			return 0;
		}
		close(fd);
		if (r != 0)
			return r;
		/* changed while we read it: take its new state once more */
		sb = sb2;
		fill_meta(en, &sb);
	}
	return bg_fail(&w->e, BG_ERR_IO, "'%s' keeps changing while being snapshotted: try again",
	    rel);
}

/* List one queued directory: visit each entry (queueing subdirectories). */
static int
walk_dir(walker *w, const dirjob *j)
{
	taker *t = w->t;
	DIR *d;
	struct dirent *de;
	struct stat sb;
	buf child;
	int dfd, r = 0;

	/* opened again from its root, confined: it may have been replaced by a
	 * link since it was listed, which this refuses */
	dfd = openat2_(t->rootfd[j->root], j->rel[0] ? j->rel : ".", O_RDONLY | O_DIRECTORY |
	    O_NOFOLLOW, BENEATH);
	if (dfd < 0)
		return bg_fail(&w->e, BG_ERR_IO, "cannot list '%s': %s (changed while being "
		    "snapshotted?)", j->rel, strerror(errno));
	if (fstat(dfd, &sb) != 0 || sb.st_dev != j->dev || sb.st_ino != j->ino) {
		close(dfd);
		return bg_fail(&w->e, BG_ERR_IO, "directory '%s' changed while being snapshotted",
		    j->rel);
	}
	if ((d = fdopendir(dfd)) == NULL) {
		close(dfd);
		return bg_fail(&w->e, BG_ERR_IO, "cannot list '%s'", j->rel);
	}
	buf_init(&child, 8192);
	while (r == 0 && (de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		buf_reset(&child);
		if ((j->rel[0] && ((r = buf_puts(&child, j->rel)) != 0 ||
		    (r = buf_putc(&child, '/')) != 0)) || (r = buf_puts(&child, de->d_name)) != 0) {
			r = bg_fail(&w->e, BG_ERR_TOOLARGE, "a path below '%.200s' is longer than %zu "
			    "bytes", j->rel, child.max);
			break;
		}
		r = visit(w, j->root, dirfd(d), de->d_name, child.data);
		if (w->lead)
			progress(t, 0);
	}
	buf_release(&child);
	closedir(d);
	return r;
}

/* A walking thread: list queued directories until none is left or one
 * failed.  The lead thread also shows progress while it waits. */
static void *
walker_run(void *arg)
{
	walker *w = arg;
	taker *t = w->t;

	pthread_mutex_lock(&t->mu);
	for (;;) {
		dirjob *j;
		int r;

		while (t->queue == NULL && t->active > 0 && !t->failed) {
			if (w->lead && t->progress != NULL) {
				struct timespec ts;

				clock_gettime(CLOCK_REALTIME, &ts);
				ts.tv_nsec += 200000000L;
				if (ts.tv_nsec >= 1000000000L) {
					ts.tv_sec++;
					ts.tv_nsec -= 1000000000L;
				}
				pthread_cond_timedwait(&t->cv, &t->mu, &ts);
				pthread_mutex_unlock(&t->mu);
				progress(t, 0);
				pthread_mutex_lock(&t->mu);
			} else {
				pthread_cond_wait(&t->cv, &t->mu);
			}
		}
		if (t->failed || (t->queue == NULL && t->active == 0))
			break;
		j = t->queue;
		t->queue = j->next;
		t->active++;
		pthread_mutex_unlock(&t->mu);
		r = walk_dir(w, j);
		free(j->rel);
		free(j);
		pthread_mutex_lock(&t->mu);
		t->active--;
		if (r != 0 && !t->failed) {
			t->failed = r;
			if (t->e != NULL)
				*t->e = w->e;
		}
		if (t->failed || (t->queue == NULL && t->active == 0))
			pthread_cond_broadcast(&t->cv);
	}
	pthread_mutex_unlock(&t->mu);
	/* each thread sorts its own entries, in parallel; walk_all merges */
	if (w->out.n > 1)
		qsort(w->out.e, w->out.n, sizeof(*w->out.e), entry_cmp);
	return NULL;
}

/* Walk every queued root on up to SNAP_THREADS threads; merge into out. */
static int
walk_all(taker *t, snapshot *out)
{
	walker w[SNAP_THREADS];
	pthread_t th[SNAP_THREADS];
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	size_t nw = cpus < 1 ? 1 : cpus > SNAP_THREADS ? SNAP_THREADS : (size_t)cpus, i, k,
	    started = 0, total = out->n;
	int r = 0;

	memset(w, 0, sizeof(w));
	for (i = 0; i < nw; i++) {
		w[i].t = t;
		w[i].lead = i == 0;
		if ((w[i].io = malloc(SNAP_IO_SIZE)) == NULL) {
			nw = i;
			break;
		}
	}
	if (nw == 0)
		return bg_fail(t->e, BG_ERR_NOMEM, "out of memory");
	for (i = 1; i < nw; i++) {
		if (pthread_create(&th[i], NULL, walker_run, &w[i]) != 0)
			break;
		started = i;
	}
	walker_run(&w[0]);
	for (i = 1; i <= started; i++)
		pthread_join(th[i], NULL);
	r = t->failed;
	drop_queue(t); /* left by a failure */
	for (i = 0; i < nw; i++)
		total += w[i].out.n;
	if (r == 0) {
		/* merge the sorted runs - out's root entries and each thread's -
		 * into one; the entries move, their strings now belong to out */
		const snapshot *run[SNAP_THREADS + 1];
		size_t pos[SNAP_THREADS + 1], nr = 0, n = 0;
		snap_entry *v = malloc((total ? total : 1) * sizeof(*v));

		if (v == NULL)
			r = bg_fail(t->e, BG_ERR_NOMEM, "out of memory");
		run[nr++] = out;
		for (i = 0; i < nw; i++)
			run[nr++] = &w[i].out;
		memset(pos, 0, sizeof(pos));
		while (v != NULL && n < total) {
			size_t best = nr;

			for (k = 0; k < nr; k++)
				if (pos[k] < run[k]->n && (best == nr ||
				    entry_cmp(&run[k]->e[pos[k]], &run[best]->e[pos[best]]) < 0))
					best = k;
			v[n++] = run[best]->e[pos[best]++];
		}
		if (v != NULL) {
			free(out->e);
			out->e = v;
			out->n = out->cap = total;
			for (i = 0; i < nw; i++) {
				free(w[i].out.e);
				memset(&w[i].out, 0, sizeof(w[i].out));
			}
		}
	}
	for (k = 0; k < nw; k++) {
		snapshot_release(&w[k].out); /* only what was not merged */
		free(w[k].io);
	}
	return r;
}

/* Count files and bytes below roots (stat only, no symlink followed). */
static void
count_dir(int dfd, int depth, uint64_t *files, uint64_t *bytes)
{
	DIR *d;
	struct dirent *de;
	struct stat sb;

	if (depth > SNAP_MAX_DEPTH || (d = fdopendir(dfd)) == NULL) {
		close(dfd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
		    fstatat(dirfd(d), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) != 0)
			continue;
		if (S_ISREG(sb.st_mode)) {
			(*files)++;
			*bytes += (uint64_t)sb.st_size;
		} else if (S_ISDIR(sb.st_mode)) {
			int cfd = openat2_(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW,
			    BENEATH);

			if (cfd >= 0)
				count_dir(cfd, depth + 1, files, bytes);
		}
	}
	closedir(d);
}

void
snapshot_count(const char *const *roots, size_t nroots, uint64_t *files, uint64_t *bytes)
{
	size_t i;

	*files = *bytes = 0;
	for (i = 0; i < nroots; i++) {
		int fd = openat2_(AT_FDCWD, roots[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW,
		    RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);

		if (fd >= 0)
			count_dir(fd, 0, files, bytes);
	}
}

/* Digits of v in base (8 or 10) at p; returns the end. */
static char *
put_u64(char *p, uint64_t v, unsigned base)
{
	char tmp[24];
	size_t n = 0;

	do {
		tmp[n++] = (char)('0' + v % base);
		v /= base;
	} while (v != 0);
	while (n > 0)
		*p++ = tmp[--n];
	return p;
}

static char *
put_i64(char *p, int64_t v)
{
	if (v < 0) {
		*p++ = '-';
		return put_u64(p, (uint64_t)0 - (uint64_t)v, 10);
	}
	return put_u64(p, (uint64_t)v, 10);
}

int
snapshot_tty_begin(snap_tty *p, int fd, const char *const *roots, size_t nroots)
{
	memset(p, 0, sizeof(*p));
	if (!isatty(fd))
		return 0;
	p->fd = fd;
	p->start = utc_mono();
	p->quiet = 1.0;
	if (testhook_env("BREAKGLASS_TEST_PROGRESS_NOW") != NULL)
		p->quiet = 0.0; /* tests see the bar on a small tree (test builds) */
	snapshot_count(roots, nroots, &p->files, &p->bytes);
	return 1;
}

void
snapshot_tty_show(void *ctx, const snap_stats *st)
{
	snap_tty *p = ctx;
	double el = utc_mono() - p->start, frac, eta;
	char bar[21];
	int i, fill;

	if (el < p->quiet)
		return;
	frac = p->bytes > 0 ? (double)st->bytes / (double)p->bytes :
	    p->files > 0 ? (double)st->files / (double)p->files : 0.0;
	if (frac > 1.0)
		frac = 1.0;
	fill = (int)(frac * 20.0);
	for (i = 0; i < 20; i++)
		bar[i] = i < fill ? '#' : '-';
	bar[20] = '\0';
	eta = frac > 0.001 ? el * (1.0 - frac) / frac : 0.0;
	dprintf(p->fd, "\r  [%s] %3d%%  %llu/%llu files  %.0f/%.0f MiB  %.1f MiB/s  ETA %d:%02d  ",
	    bar, (int)(frac * 100.0), (unsigned long long)st->files, (unsigned long long)p->files,
	    (double)st->bytes / 1048576.0, (double)p->bytes / 1048576.0,
	    el > 0 ? (double)st->copied / 1048576.0 / el : 0.0, (int)eta / 60, (int)eta % 60);
	p->shown = 1;
}

void
snapshot_tty_end(snap_tty *p)
{
	if (p->shown)
		dprintf(p->fd, "\n");
}

static int
format_head(const snapshot *s, const char *base, buf *out)
{
	char ts[UTC_STRLEN];
	size_t i;
	int r;

	utc_format(s->created, ts);
	if ((r = buf_printf(out, MAGIC "\nid: %s\ncreated: %s\nticket: %lld\ngrant: %lld\n", s->id,
	    ts, (long long)s->ticket, (long long)s->grant)) != 0)
		return r;
	if (base != NULL && base[0] != '\0' && (r = buf_printf(out, "base: %s\n", base)) != 0)
		return r;
	for (i = 0; i < s->nroots; i++) {
		if ((r = buf_puts(out, "root: ")) != 0 || (r = snapshot_escape(s->roots[i], out)) != 0 ||
		    (r = buf_putc(out, '\n')) != 0)
			return r;
	}
	return buf_puts(out, "---\n");
}

static int
format_entry(const snap_entry *en, buf *out)
{
	size_t start = out->len;
	char line[400], *p = line;
	int r;

	/* printf costs a fifth of an incremental snapshot: numbers by hand */
	p = put_u64(p, (uint64_t)en->root, 10);
	*p++ = ' ';
	*p++ = en->type;
	*p++ = ' ';
	p = put_u64(p, (uint64_t)en->mode, 8);
	*p++ = ' ';
	p = put_u64(p, (uint64_t)en->uid, 10);
	*p++ = ' ';
	p = put_u64(p, (uint64_t)en->gid, 10);
	*p++ = ' ';
	p = put_i64(p, en->size);
	*p++ = ' ';
	p = put_i64(p, en->mtime_ns);
	*p++ = ' ';
	p = put_i64(p, en->ctime_ns);
	*p++ = ' ';
	p = put_u64(p, en->dev, 10);
	*p++ = ' ';
	p = put_u64(p, en->ino, 10);
	*p++ = ' ';
	p = put_u64(p, en->nlink, 10);
	*p++ = ' ';
	memcpy(p, en->hash, strlen(en->hash));
	p += strlen(en->hash);
	*p++ = ' ';
	if ((r = buf_append(out, line, (size_t)(p - line))) != 0)
		return r;
	if (en->path[0] == '\0')
		r = buf_putc(out, '.');
	else
		r = snapshot_escape(en->path, out);
	if (r == 0 && en->target != NULL) {
		r = buf_putc(out, ' ');
		if (r == 0)
			r = snapshot_escape(en->target, out); /* never empty: readlink */
	}
	/* never write a line the parser would refuse: such a tree is refused */
	if (r == 0 && out->len - start > SNAP_LINE_MAX)
		r = BG_ERR_TOOLARGE;
	if (r == 0)
		r = buf_putc(out, '\n');
	return r;
}

int
snapshot_format(const snapshot *s, buf *out)
{
	size_t i;
	int r;

	if ((r = format_head(s, s->base, out)) != 0)
		return r;
	for (i = 0; i < s->n; i++)
		if ((r = format_entry(&s->e[i], out)) != 0)
			return r;
	return 0;
}

static int
same_entry(const snap_entry *a, const snap_entry *b)
{
	return a->type == b->type && a->mode == b->mode && a->uid == b->uid && a->gid == b->gid &&
	    a->size == b->size && a->mtime_ns == b->mtime_ns && a->ctime_ns == b->ctime_ns &&
	    a->dev == b->dev && a->ino == b->ino && a->nlink == b->nlink &&
	    strcmp(a->hash, b->hash) == 0 &&
	    (a->target == NULL ? b->target == NULL : b->target != NULL && strcmp(a->target, b->target) == 0);
}

static int
same_roots(const snapshot *a, const snapshot *b)
{
	size_t i;

	if (a->nroots != b->nroots)
		return 0;
	for (i = 0; i < a->nroots; i++)
		if (strcmp(a->roots[i], b->roots[i]) != 0)
			return 0;
	return 1;
}

/* Entries of s that differ from base's, and x lines for those s lacks;
 * *n counts them. */
static int
format_diff(const snapshot *s, const snapshot *base, buf *out, size_t *n)
{
	size_t i = 0, k = 0;
	int r = 0;

	*n = 0;
	while (r == 0 && (i < s->n || k < base->n)) {
		int c = i == s->n ? 1 : k == base->n ? -1 : entry_cmp(&s->e[i], &base->e[k]);

		if (c < 0 || (c == 0 && !same_entry(&s->e[i], &base->e[k]))) {
			r = format_entry(&s->e[i], out);
			++*n;
		} else if (c > 0) {
			snap_entry gone = base->e[k];

			gone.type = 'x';
			gone.mode = 0;
			gone.uid = gone.gid = 0;
			gone.size = gone.mtime_ns = gone.ctime_ns = 0;
			gone.dev = gone.ino = gone.nlink = 0;
			memcpy(gone.hash, "-", 2);
			gone.target = NULL;
			r = format_entry(&gone, out);
			++*n;
		}
		if (c <= 0)
			i++;
		if (c >= 0)
			k++;
	}
	return r;
}

int
snapshot_format_delta(const snapshot *s, const snapshot *base, buf *out)
{
	size_t n;
	int r;

	if (base->base[0] != '\0' || base->delta_of[0] != '\0' || !same_roots(s, base))
		return BG_ERR_INVALID;
	if ((r = format_head(s, base->id, out)) != 0)
		return r;
	return format_diff(s, base, out, &n);
}

static int
ensure_dirs(const char *store, bg_error *e)
{
	static const char *const sub[] = { "", "/objects", "/tmp" };
	buf p;
	int r = 0;

	buf_init(&p, 4096);
	for (int i = 0; i < 3 && r == 0; i++) {
		buf_reset(&p);
		buf_printf(&p, "%s%s", store, sub[i]);
		if (mkdir(p.data, 0750) != 0 && errno != EEXIST)
			r = bg_fail(e, BG_ERR_IO, "cannot create '%s': %s", p.data, strerror(errno));
	}
	buf_release(&p);
	return r;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
snapshot_list(const char *store, int64_t grant, char ***ids, size_t *n, bg_error *e)
{
	DIR *d;
	struct dirent *de;
	char **v = NULL, prefix[64];
	size_t cnt = 0;

	*ids = NULL;
	*n = 0;
	snprintf(prefix, sizeof(prefix), "-G-%lld-", (long long)grant);
	if ((d = opendir(store)) == NULL)
		return errno == ENOENT ? 0 : bg_fail(e, BG_ERR_IO, "cannot read '%s'", store);
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);
		char **nv;

		if (l < 10 || strcmp(de->d_name + l - 9, ".manifest") != 0)
			continue;
		if (grant != 0 && strstr(de->d_name, prefix) == NULL)
			continue;
		/* a short list would make "the grant's first snapshot" a lie: fail */
		if (cnt >= 99999) {
			closedir(d);
			snapshot_list_free(v, cnt);
			return bg_fail(e, BG_ERR_TOOLARGE, "more than 99999 snapshots in '%s'", store);
		}
		if ((nv = realloc(v, (cnt + 1) * sizeof(*v))) == NULL ||
		    (v = nv, (v[cnt] = strndup(de->d_name, l - 9)) == NULL)) {
			closedir(d);
			snapshot_list_free(v, cnt);
			return bg_fail(e, BG_ERR_NOMEM, "out of memory");
		}
		cnt++;
	}
	closedir(d);
	if (cnt > 1)
		qsort(v, cnt, sizeof(*v), cmp_names);
	*ids = v;
	*n = cnt;
	return 0;
}

void
snapshot_list_free(char **ids, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
}

int
snapshot_take(const char *store, const char *const *roots, size_t nroots, const snapshot *prev,
    int64_t ticket, int64_t grant, int64_t now, snap_progress_fn progressfn, void *pctx,
    snapshot *out, snap_stats *st, bg_error *e)
{
	taker t;
	buf text, path;
	char ts[UTC_STRLEN], **ids = NULL;
	size_t nids = 0, i;
	unsigned char rnd[3];
	int r = 0;

	memset(out, 0, sizeof(*out));
	memset(st, 0, sizeof(*st));
	if (nroots > SNAP_MAX_ROOTS)
		return bg_fail(e, BG_ERR_TOOLARGE, "more than %d directories", SNAP_MAX_ROOTS);
	if (store != NULL && (r = ensure_dirs(store, e)) != 0)
		return r;
	memset(&t, 0, sizeof(t));
	t.store = store;
	t.prev = prev;
	for (i = 0; i < nroots; i++) {
		size_t k;

		t.prevroot[i] = -1;
		for (k = 0; prev != NULL && k < prev->nroots; k++)
			if (strcmp(prev->roots[k], roots[i]) == 0)
				t.prevroot[i] = (int)k;
	}
	t.st = st;
	t.progress = progressfn;
	t.pctx = pctx;
	t.e = e;
	{
		unsigned char tr[8];

		randombytes_buf(tr, sizeof(tr));
		sodium_bin2hex(t.tmpbase, sizeof(t.tmpbase), tr, sizeof(tr));
	}
	for (i = 0; i < SNAP_MAX_ROOTS; i++)
		t.rootfd[i] = -1;
	pthread_mutex_init(&t.mu, NULL);
	pthread_cond_init(&t.cv, NULL);
	t.measure = store == NULL;
	t.storefd = t.objfd = t.tmpfd = -1;
	if (!t.measure) {
		t.storefd = open(store, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		t.objfd = openat(t.storefd, "objects", O_RDONLY | O_DIRECTORY | O_CLOEXEC |
		    O_NOFOLLOW);
		t.tmpfd = openat(t.storefd, "tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	}
	buf_init(&text, 1024u * 1024 * 1024);
	buf_init(&path, 4096);
	if (!t.measure && (t.storefd < 0 || t.objfd < 0 || t.tmpfd < 0)) {
		r = bg_fail(e, BG_ERR_IO, "cannot open the snapshot store '%s'", store);
		goto out;
	}
	out->created = now;
	out->ticket = ticket;
	out->grant = grant;
	for (i = 0; i < nroots; i++) {
		int fd;
		snap_entry *en;
		struct stat sb;

		if ((out->roots[i] = strdup(roots[i])) == NULL) {
			r = BG_ERR_NOMEM;
			goto out;
		}
		out->nroots = i + 1;
		fd = openat2_(AT_FDCWD, roots[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW,
		    RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
		if (fd < 0) {
			if (errno == ENOENT)
				continue; /* nothing there yet */
			r = bg_fail(e, BG_ERR_PERM, "cannot read '%s': %s", roots[i], strerror(errno));
			goto out;
		}
		if (fstat(fd, &sb) != 0 || (en = add_entry(out)) == NULL || (en->path = strdup("")) == NULL) {
			close(fd);
			r = BG_ERR_NOMEM;
			goto out;
		}
		t.rootfd[i] = fd;
		en->root = (int)i;
		en->type = 'd';
		memcpy(en->hash, "-", 2);
		fill_meta(en, &sb);
		if ((r = push_dir(&t, (int)i, "", &sb)) != 0) {
			r = bg_fail(e, r, "out of memory");
			goto out;
		}
	}
	if ((r = walk_all(&t, out)) != 0)
		goto out;
	progress(&t, 1);
	if (t.measure) {
		snprintf(out->id, sizeof(out->id), "measured-not-stored");
		goto out;
	}
	/* the objects must be on disk before the manifest names them */
	if (sync_objects(&t) != 0) {
		r = bg_fail(e, BG_ERR_IO, "cannot sync the snapshot store: %s", strerror(errno));
		goto out;
	}
	if ((r = snapshot_list(store, grant, &ids, &nids, e)) != 0)
		goto out;
	utc_format(now, ts);
	randombytes_buf(rnd, sizeof(rnd));
	snprintf(out->id, sizeof(out->id), "T-%lld-G-%lld-%05zu-%.4s%.2s%.2sT%.2s%.2s%.2sZ-%02x%02x%02x",
	    (long long)ticket, (long long)grant, nids + 1, ts, ts + 5, ts + 8, ts + 11, ts + 14,
	    ts + 17, rnd[0], rnd[1], rnd[2]);
	{
		/*
		 * A delta on the previous snapshot's full manifest when at most a
		 * quarter of the entries differ: a request that changed nothing
		 * writes a header, not the tree.
		 */
		snapshot loaded;
		const snapshot *base = NULL;
		size_t nd = 0;
		struct stat bs;

		memset(&loaded, 0, sizeof(loaded));
		if (prev != NULL && same_roots(prev, out)) {
			if (prev->delta_of[0] != '\0') {
				bg_error le;

				if (snapshot_load(store, prev->delta_of, &loaded, &le) == 0 &&
				    loaded.delta_of[0] == '\0' && same_roots(&loaded, out))
					base = &loaded;
			} else if (prev->base[0] == '\0')
				base = prev;
		}
		if (base != NULL && (buf_printf(&path, "%s/%s.manifest", store, base->id) != 0 ||
		    stat(path.data, &bs) != 0))
			base = NULL; /* not in this store */
		buf_reset(&path);
		if (base != NULL && (r = format_head(out, base->id, &text)) == 0 &&
		    (r = format_diff(out, base, &text, &nd)) == 0 && nd * 4 <= base->n + 16)
			memcpy(out->delta_of, base->id, sizeof(out->delta_of));
		else {
			buf_reset(&text);
			r = snapshot_format(out, &text);
		}
		snapshot_release(&loaded);
	}
	if (r != 0 || (r = buf_printf(&path, "%s/%s.manifest", store, out->id)) != 0) {
		r = bg_fail(e, r, "cannot build the manifest");
		goto out;
	}
	if ((r = fileio_write_atomic(path.data, text.data, text.len, 0440, 1, e)) != 0)
		goto out;
out:
	for (i = 0; i < t.nkeep; i++)
		close(t.keep[i]);
	for (i = 0; i < SNAP_MAX_ROOTS; i++)
		if (t.rootfd[i] >= 0)
			close(t.rootfd[i]);
	drop_queue(&t); /* queued, never walked */
	pthread_mutex_destroy(&t.mu);
	pthread_cond_destroy(&t.cv);
	snapshot_list_free(ids, nids);
	if (t.storefd >= 0)
		close(t.storefd);
	if (t.objfd >= 0)
		close(t.objfd);
	if (t.tmpfd >= 0)
		close(t.tmpfd);
	buf_release(&text);
	buf_release(&path);
	if (r != 0)
		snapshot_release(out);
	return r;
}

/* ---- reading manifests ---- */

static int
header_value(const char **p, const char *end, const char *key, buf *v)
{
	size_t kl = strlen(key);
	const char *nl = memchr(*p, '\n', (size_t)(end - *p));

	if (nl == NULL || (size_t)(nl - *p) < kl + 2 || memcmp(*p, key, kl) != 0 ||
	    (*p)[kl] != ':' || (*p)[kl + 1] != ' ')
		return BG_ERR_INVALID;
	buf_reset(v);
	if (buf_append(v, *p + kl + 2, (size_t)(nl - *p) - kl - 2) != 0)
		return BG_ERR_NOMEM;
	*p = nl + 1;
	return 0;
}

/*
 * Strict decimal (or octal): digits only, no sign, blank or leading zero
 * (bar "0" itself), no overflow past max.  Manifests are written by
 * breakglass alone; anything else is a damaged or forged file.
 */
static int
num_u64(const char *s, unsigned base, uint64_t max, uint64_t *out)
{
	uint64_t v = 0, lim = max / base, rem = max % base;
	const char *p;

	if (s[0] == '\0' || (s[0] == '0' && s[1] != '\0'))
		return -1;
	for (p = s; *p; p++) {
		unsigned d = (unsigned)(*p - '0');

		/* v * base + d <= max, without a division per digit */
		if (*p < '0' || d >= base || v > lim || (v == lim && d > rem))
			return -1;
		v = v * base + d;
	}
	*out = v;
	return 0;
}

static int
num_i64(const char *s, int64_t *out)
{
	uint64_t v;

	if (s[0] == '-') {
		if (num_u64(s + 1, 10, (uint64_t)INT64_MAX, &v) != 0 || v == 0)
			return -1;
		*out = -(int64_t)v;
		return 0;
	}
	if (num_u64(s, 10, (uint64_t)INT64_MAX, &v) != 0)
		return -1;
	*out = (int64_t)v;
	return 0;
}

/* A relative path of normal components: no "", ".", ".." or leading '/'. */
static int
relative_path_ok(const char *p)
{
	const char *c = p;

	for (;;) {
		const char *slash = strchr(c, '/');
		size_t l = slash ? (size_t)(slash - c) : strlen(c);

		if (l == 0 || (l == 1 && c[0] == '.') || (l == 2 && c[0] == '.' && c[1] == '.'))
			return 0;
		if (slash == NULL)
			return 1;
		c = slash + 1;
	}
}

/*
 * Entry lines [p, end) into s (which has its roots): *line counts the
 * lines read, and on failure names the bad one.  0, BG_ERR_CORRUPT or
 * BG_ERR_NOMEM.
 */
static int
parse_chunk(const char *p, const char *end, snapshot *s, size_t nroots, int delta, size_t *line)
{
	buf f;
	char *copy;
	int r = BG_ERR_CORRUPT;

	buf_init(&f, 64 * 1024);
	/* one line at a time in a reused buffer: a path of PATH_MAX bytes,
	 * every one escaped, and a link target like it still fit */
	if ((copy = malloc(SNAP_LINE_MAX + 1)) == NULL) {
		buf_release(&f);
		return BG_ERR_NOMEM;
	}
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		char *fields[14], *c;
		size_t nfields = 0, ll;
		int extra = 0;
		snap_entry *en;
		uint64_t root, mode, uid, gid, dev, ino, nlink;
		int64_t size, mt, ct;

		(*line)++;
		if (nl == NULL || (ll = (size_t)(nl - p)) > SNAP_LINE_MAX)
			goto out;
		memcpy(copy, p, ll);
		copy[ll] = '\0';
		p = nl + 1;
		/* exactly one space between fields: no empty field, none extra */
		for (c = copy; ; c++) {
			if (nfields == 14) {
				extra = 1;
				break;
			}
			fields[nfields++] = c;
			if ((c = strchr(c, ' ')) == NULL)
				break;
			*c = '\0';
		}
		for (size_t k = 0; k < nfields; k++)
			if (fields[k][0] == '\0')
				extra = 1;
		if ((nfields != 13 && nfields != 14) || extra ||
		    num_u64(fields[0], 10, nroots ? nroots - 1 : 0, &root) != 0 ||
		    nroots == 0 ||
		    strlen(fields[1]) != 1 || strchr(delta ? "fdlox" : "fdlo", fields[1][0]) == NULL ||
		    num_u64(fields[2], 8, 07777, &mode) != 0 ||
		    num_u64(fields[3], 10, UINT32_MAX - 1, &uid) != 0 ||
		    num_u64(fields[4], 10, UINT32_MAX - 1, &gid) != 0 ||
		    num_i64(fields[5], &size) != 0 || size < 0 ||
		    num_i64(fields[6], &mt) != 0 || num_i64(fields[7], &ct) != 0 ||
		    num_u64(fields[8], 10, UINT64_MAX, &dev) != 0 ||
		    num_u64(fields[9], 10, UINT64_MAX, &ino) != 0 ||
		    num_u64(fields[10], 10, UINT64_MAX, &nlink) != 0 ||
		    (fields[1][0] == 'f' ? strlen(fields[11]) != 64 ||
		    strspn(fields[11], "0123456789abcdef") != 64 : strcmp(fields[11], "-") != 0) ||
		    (fields[1][0] == 'l') != (nfields == 14))
			goto out;
		if ((en = add_entry(s)) == NULL) {
			r = BG_ERR_NOMEM;
			goto out;
		}
		en->root = (int)root;
		en->type = fields[1][0];
		en->mode = (mode_t)mode;
		en->uid = (uid_t)uid;
		en->gid = (gid_t)gid;
		en->size = size;
		en->mtime_ns = mt;
		en->ctime_ns = ct;
		en->dev = dev;
		en->ino = ino;
		en->nlink = nlink;
		memcpy(en->hash, fields[11], strlen(fields[11]) + 1); /* 64 hex digits or "-" */
		if (strcmp(fields[12], ".") == 0)
			en->path = strdup("");
		else if (snapshot_unescape(fields[12], strlen(fields[12]), &f) == 0 &&
		    relative_path_ok(f.data))
			en->path = strdup(f.data);
		if (en->path == NULL)
			goto out;
		if (nfields == 14) {
			/* "." is a link to "." (a target is never empty) */
			if (snapshot_unescape(fields[13], strlen(fields[13]), &f) == 0)
				en->target = strdup(f.data);
			if (en->target == NULL)
				goto out;
		}
		if (s->n > 1 && entry_cmp(&s->e[s->n - 2], &s->e[s->n - 1]) >= 0)
			goto out; /* sorted, no duplicates: snapshot_find relies on it */
	}
	r = 0;
out:
	free(copy);
	buf_release(&f);
	return r;
}

typedef struct chunk_job {
	const char *p, *end;
	snapshot part;
	size_t nroots, line;
	int delta, r;
} chunk_job;

static void *
chunk_run(void *arg)
{
	chunk_job *j = arg;

	j->r = parse_chunk(j->p, j->end, &j->part, j->nroots, j->delta, &j->line);
	return NULL;
}

/* Manifests above this size are parsed in two halves, one per thread. */
#define PARSE_SPLIT (1024 * 1024)

/*
 * The entry lines [p, end) into s; *line is the last line read (on
 * failure, the bad one).  A large manifest is cut at a line boundary near
 * its middle and the second half parsed by a second thread; the halves
 * are joined and the order checked across the cut.
 */
static int
parse_entries(const char *p, const char *end, snapshot *s, size_t *line)
{
	const char *mid = p + (size_t)(end - p) / 2, *cut;
	chunk_job j;
	pthread_t th;
	size_t first;
	int r;

	if ((size_t)(end - p) < PARSE_SPLIT || sysconf(_SC_NPROCESSORS_ONLN) < 2 ||
	    (cut = memchr(mid, '\n', (size_t)(end - mid))) == NULL || cut + 1 >= end)
		return parse_chunk(p, end, s, s->nroots, s->base[0] != '\0', line);
	cut++;
	memset(&j, 0, sizeof(j));
	j.p = cut;
	j.end = end;
	j.nroots = s->nroots;
	j.delta = s->base[0] != '\0';
	if (pthread_create(&th, NULL, chunk_run, &j) != 0)
		return parse_chunk(p, end, s, s->nroots, j.delta, line);
	r = parse_chunk(p, cut, s, s->nroots, j.delta, line);
	pthread_join(th, NULL);
	first = *line;
	if (r == 0 && j.r != 0) {
		r = j.r;
		*line = first + j.line;
	}
	if (r == 0) {
		/* join: the second half's entries move to s */
		if (reserve_entries(s, s->n + j.part.n) != 0)
			r = BG_ERR_NOMEM;
		if (r == 0 && j.part.n > 0) {
			size_t at = s->n;

			memcpy(s->e + at, j.part.e, j.part.n * sizeof(*s->e));
			s->n += j.part.n;
			free(j.part.e);
			memset(&j.part, 0, sizeof(j.part));
			*line = first + j.line;
			if (at > 0 && entry_cmp(&s->e[at - 1], &s->e[at]) >= 0) {
				r = BG_ERR_CORRUPT;
				*line = first + 1; /* the first line after the cut */
			}
		}
	}
	snapshot_release(&j.part);
	return r;
}

int
snapshot_parse(const char *text, size_t len, snapshot *s, bg_error *e)
{
	const char *p = text, *end = text + len;
	buf v, f;
	size_t line = 5;
	int r = BG_ERR_INVALID;

	memset(s, 0, sizeof(*s));
	buf_init(&v, 64 * 1024);
	buf_init(&f, 64 * 1024);
	if (len < sizeof(MAGIC) || memcmp(p, MAGIC "\n", sizeof(MAGIC)) != 0 ||
	    memchr(text, '\0', len) != NULL)
		goto bad;
	p += sizeof(MAGIC);
	if (header_value(&p, end, "id", &v) != 0 || v.len == 0 || v.len >= SNAP_ID_MAX ||
	    strspn(v.data, "TG-0123456789Zabcdef") != v.len)
		goto bad;
	memcpy(s->id, v.data, v.len + 1);
	if (header_value(&p, end, "created", &v) != 0 || utc_parse(buf_cstr(&v), &s->created) != 0)
		goto bad;
	if (header_value(&p, end, "ticket", &v) != 0 || num_i64(buf_cstr(&v), &s->ticket) != 0 ||
	    s->ticket < 0)
		goto bad;
	if (header_value(&p, end, "grant", &v) != 0 || num_i64(buf_cstr(&v), &s->grant) != 0 ||
	    s->grant < 0)
		goto bad;
	if (header_value(&p, end, "base", &v) == 0) {
		line++;
		if (v.len == 0 || v.len >= SNAP_ID_MAX || strspn(v.data, "TG-0123456789Zabcdef") != v.len ||
		    strcmp(v.data, s->id) == 0)
			goto bad;
		memcpy(s->base, v.data, v.len + 1);
	}
	while (header_value(&p, end, "root", &v) == 0) {
		line++;
		if (s->nroots == SNAP_MAX_ROOTS || snapshot_unescape(buf_cstr(&v), v.len, &f) != 0 ||
		    f.len == 0 || f.data[0] != '/' || (f.data[1] != '\0' && !relative_path_ok(f.data + 1)) ||
		    (s->roots[s->nroots] = strdup(f.data)) == NULL)
			goto bad;
		s->nroots++;
	}
	if ((size_t)(end - p) < 4 || memcmp(p, "---\n", 4) != 0)
		goto bad;
	p += 4;
	if ((r = parse_entries(p, end, s, &line)) != 0)
		goto bad;
	r = 0;
	goto out;
bad:
	r = r == BG_ERR_NOMEM ? bg_fail(e, r, "out of memory") :
	    bg_fail(e, BG_ERR_CORRUPT, "snapshot manifest is malformed (line %zu)", line);
out:
	buf_release(&v);
	buf_release(&f);
	if (r != 0)
		snapshot_release(s);
	return r;
}

static int
load_manifest(const char *store, const char *id, snapshot *out, bg_error *e)
{
	buf path, text;
	int r;

	memset(out, 0, sizeof(*out));
	if (strchr(id, '/') != NULL || strlen(id) >= SNAP_ID_MAX)
		return bg_fail(e, BG_ERR_INVALID, "invalid snapshot id");
	buf_init(&path, 4096);
	buf_init(&text, 1024u * 1024 * 1024);
	if ((r = buf_printf(&path, "%s/%s.manifest", store, id)) == 0 &&
	    (r = fileio_read(path.data, text.max, &text, e)) == 0)
		r = snapshot_parse(buf_cstr(&text), text.len, out, e);
	if (r == BG_ERR_NOTFOUND)
		bg_fail(e, r, "no snapshot '%s'", id);
	buf_release(&path);
	buf_release(&text);
	return r;
}

/* A delta (s->base set) made whole with its base's entries. */
static int
merge_base(const char *store, snapshot *s, bg_error *e)
{
	snapshot b;
	snap_entry *m;
	size_t i = 0, k = 0, n = 0, alloc;
	int r;

	if ((r = load_manifest(store, s->base, &b, e)) != 0)
		return bg_fail(e, r == BG_ERR_NOTFOUND ? BG_ERR_CORRUPT : r, "snapshot %s: its base "
		    "%s cannot be read", s->id, s->base);
	if (b.base[0] != '\0' || !same_roots(s, &b)) {
		snapshot_release(&b);
		return bg_fail(e, BG_ERR_CORRUPT, "snapshot %s: its base %s is not a full snapshot "
		    "of the same directories", s->id, s->base);
	}
	alloc = s->n + b.n + 1;
	if ((m = calloc(alloc, sizeof(*m))) == NULL) {
		snapshot_release(&b);
		return bg_fail(e, BG_ERR_NOMEM, "out of memory");
	}
	while (r == 0 && (i < s->n || k < b.n)) {
		int c = i == s->n ? 1 : k == b.n ? -1 : entry_cmp(&s->e[i], &b.e[k]);

		if (c > 0) {
			m[n++] = b.e[k];
			memset(&b.e[k++], 0, sizeof(b.e[0]));
			continue;
		}
		if (s->e[i].type == 'x') {
			if (c != 0)
				r = BG_ERR_CORRUPT; /* gone, yet not in the base */
			free(s->e[i].path);
			free(s->e[i].target);
		} else
			m[n++] = s->e[i];
		memset(&s->e[i++], 0, sizeof(s->e[0]));
		if (c == 0) {
			free(b.e[k].path);
			free(b.e[k].target);
			memset(&b.e[k++], 0, sizeof(b.e[0]));
		}
	}
	snapshot_release(&b); /* entries moved out are zeroed */
	for (i = 0; i < s->n; i++) {
		free(s->e[i].path);
		free(s->e[i].target);
	}
	free(s->e);
	s->e = m;
	s->n = n;
	s->cap = alloc;
	memcpy(s->delta_of, s->base, sizeof(s->delta_of));
	s->base[0] = '\0';
	if (r != 0)
		return bg_fail(e, BG_ERR_CORRUPT, "snapshot %s removes an entry its base %s does not "
		    "have", s->id, s->delta_of);
	return 0;
}


int
snapshot_load(const char *store, const char *id, snapshot *out, bg_error *e)
{
	int r = load_manifest(store, id, out, e);

	if (r == 0 && out->base[0] != '\0' && (r = merge_base(store, out, e)) != 0)
		snapshot_release(out);
	return r;
}
