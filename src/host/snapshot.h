/*
 * snapshot.h - content-addressed snapshots of a grant's writable
 * directories, taken before and after every write.
 *
 * STORE/objects/xx/HASH   file contents, named by BLAKE2b-256 (libsodium
 *                         crypto_generichash), written once, never changed;
 *                         cloned with FICLONE where the filesystem can,
 *                         copied otherwise, never hard-linked
 * STORE/ID.manifest       one snapshot: a header, then one line per entry
 *
 * A manifest line is
 *   ROOT TYPE MODE UID GID SIZE MTIME_NS CTIME_NS DEV INO NLINK HASH PATH [TARGET]
 * with TYPE f (file), d (directory), l (symlink) or o (other, not kept),
 * HASH "-" for non-files, and PATH/TARGET %-escaped (bytes outside
 * 0x21..0x7e, and '%').  The manifest is written atomically last: a
 * snapshot that did not complete has no manifest and is never used.
 *
 * A manifest may be a delta ("base: ID" in its header): only the entries
 * that differ from the full manifest ID, with a line of TYPE x for each
 * entry ID has and this snapshot does not.  snapshot_take writes one when
 * the previous snapshot's tree (or its base) has the same roots and at most
 * a quarter of the entries changed, so a snapshot costs what changed, not
 * the size of the tree; snapshot_load reads the base and gives the whole
 * snapshot.  A base is always a full manifest (no chains).
 *
 * A later snapshot is incremental: a file whose inode, size, mtime and
 * ctime match the previous manifest costs one stat.  A file that changes
 * while it is copied is read again once, then the snapshot fails.
 */
#ifndef BG_SNAPSHOT_H
#define BG_SNAPSHOT_H

#include "buf.h"
#include "err.h"

#include <stdint.h>
#include <sys/types.h>

#define SNAP_ID_MAX 128
#define SNAP_MAX_ROOTS 32
#define SNAP_MAX_DEPTH 128    /* directory nesting below a root */

typedef struct snap_entry {
	int root;
	char type;
	mode_t mode;
	uid_t uid;
	gid_t gid;
	int64_t size;
	int64_t mtime_ns, ctime_ns;
	uint64_t dev, ino, nlink;
	char hash[65];
	char *path;     /* relative to the root; "" for the root itself */
	char *target;   /* symlinks */
} snap_entry;

typedef struct snapshot {
	char id[SNAP_ID_MAX];
	char base[SNAP_ID_MAX];     /* manifest text: a delta on this full one */
	char delta_of[SNAP_ID_MAX]; /* loaded or taken: stored as a delta on it */
	int64_t created;
	int64_t ticket, grant;
	char *roots[SNAP_MAX_ROOTS];
	size_t nroots;
	snap_entry *e;
	size_t n, cap;
} snapshot;

typedef struct snap_stats {
	uint64_t files, dirs, links, others;
	uint64_t bytes;        /* bytes of file content in the snapshot */
	uint64_t copied;       /* bytes actually read and stored this time */
	uint64_t reused;       /* files taken from the previous manifest */
	uint64_t cloned;       /* files stored by reflink */
} snap_stats;

typedef void (*snap_progress_fn)(void *ctx, const snap_stats *st);

/*
 * Take a snapshot of roots (absolute directories) into store (created if
 * missing).  prev (may be NULL) makes it incremental.  The new id is
 * "T-N-G-N-TIME-RAND".  progress (may be NULL) is called now and then.
 * With store NULL nothing is written anywhere: the tree is described and
 * hashed only (a dry run), and the id is "measured-not-stored".
 */
int snapshot_take(const char *store, const char *const *roots, size_t nroots,
    const snapshot *prev, int64_t ticket, int64_t grant, int64_t now,
    snap_progress_fn progress, void *pctx, snapshot *out, snap_stats *st, bg_error *e);

/*
 * A progress line on a terminal: a bar, files and bytes done of a stat-only
 * count, the rate and the time left, redrawn in place, and only once the
 * snapshot has run for a second (small trees print nothing).
 * snapshot_tty_begin returns 0 (nothing to do) unless fd is a terminal;
 * pass snapshot_tty_show and the snap_tty to snapshot_take.
 */
typedef struct snap_tty {
	int fd;
	double start, quiet;
	uint64_t files, bytes;
	int shown;
} snap_tty;

int snapshot_tty_begin(snap_tty *p, int fd, const char *const *roots, size_t nroots);
void snapshot_tty_show(void *ctx, const snap_stats *st);
void snapshot_tty_end(snap_tty *p);

/* Files and bytes below roots, for a progress estimate (stat only). */
void snapshot_count(const char *const *roots, size_t nroots, uint64_t *files, uint64_t *bytes);

int snapshot_load(const char *store, const char *id, snapshot *out, bg_error *e);
void snapshot_release(snapshot *s);

/* Ids of the snapshots in store for grant (0: all), oldest first. */
int snapshot_list(const char *store, int64_t grant, char ***ids, size_t *n, bg_error *e);
void snapshot_list_free(char **ids, size_t n);

/* Path of an object in the store. */
int snapshot_object_path(const char *store, const char *hash, buf *out);

/* Find an entry (root, path) by binary search; NULL if absent. */
const snap_entry *snapshot_find(const snapshot *s, int root, const char *path);

/* %-escape / unescape for manifest fields. */
int snapshot_escape(const char *s, buf *out);
int snapshot_unescape(const char *s, size_t n, buf *out);

/* Parse manifest text (for the fuzz target and snapshot_load): a delta
 * (out->base set) holds only its own lines, x entries included. */
int snapshot_parse(const char *text, size_t len, snapshot *out, bg_error *e);

/* Manifest text of s: snapshot_parse of it gives s back. */
int snapshot_format(const snapshot *s, buf *out);

/* Delta manifest text of s against the full snapshot base (same roots). */
int snapshot_format_delta(const snapshot *s, const snapshot *base, buf *out);

#endif
