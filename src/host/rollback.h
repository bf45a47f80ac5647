/*
 * rollback.h - put a grant's directories back exactly as a snapshot has
 * them.
 *
 * Given `current` (a fresh snapshot of the same roots) and `target`, every
 * difference is undone: files get their exact bytes back from the object
 * store (each replaced atomically through a temporary and rename), with
 * mode, owner (when run as root) and mtime; symlinks are recreated as
 * links (never followed); files and directories the hotfix created are
 * removed; directories come back with their modes; hard links are
 * re-linked.  Every path is opened beneath its root with openat2 and no
 * symlink is ever followed, so a link planted by the hotfix cannot steer a
 * root-run rollback outside the grant's directories.  Each step is
 * idempotent: running again after a crash finishes the job.
 */
#ifndef BG_ROLLBACK_H
#define BG_ROLLBACK_H

#include "buf.h"
#include "err.h"
#include "snapshot.h"

typedef struct rollback_stats {
	uint64_t restored, created, deleted, meta, linked;
} rollback_stats;

/*
 * Roll the roots of target back.  path (absolute, may be NULL) limits the
 * rollback to entries at or under it.  dry_run: describe only.  report
 * gets one line per action.
 */
int rollback_apply(const char *store, const snapshot *current, const snapshot *target,
    const char *path, int dry_run, buf *report, rollback_stats *st, bg_error *e);

#endif
