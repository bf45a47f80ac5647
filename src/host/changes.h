/*
 * changes.h - what changed between two snapshots, and how to say it.
 *
 * A change set is the difference of two manifests of the same roots:
 * created, deleted and modified entries, where "modified" says which of
 * content, type, mode, owner and symlink target differ.  Rendered as JSON
 * it names every path with its before and after hashes, sizes and modes,
 * and for text files a unified diff (from the system's diff -u over the
 * two stored objects, capped and with secrets redacted); binary files get
 * sizes and hashes only.
 */
#ifndef BG_CHANGES_H
#define BG_CHANGES_H

#include "buf.h"
#include "err.h"
#include "snapshot.h"

#define CH_CONTENT 1
#define CH_TYPE 2
#define CH_MODE 4
#define CH_OWNER 8
#define CH_TARGET 16
#define CH_LINKS 32    /* hard-linked on one side, not on the other */

typedef struct change {
	char kind;                 /* 'A' added, 'D' deleted, 'M' modified */
	unsigned what;             /* CH_* for 'M' */
	const snap_entry *before;  /* NULL for 'A' */
	const snap_entry *after;   /* NULL for 'D' */
} change;

typedef struct changeset {
	change *c;
	size_t n;
	size_t added, deleted, modified;
} changeset;

/* Compare before and after (same roots, in the same order). */
int changes_compute(const snapshot *before, const snapshot *after, changeset *out, bg_error *e);
void changes_release(changeset *cs);

/*
 * Render cs as one JSON object (before/after ids, counts, files[]); text
 * diffs come from the objects in store, capped at diff_cap bytes each.
 */
int changes_json(const char *store, const snapshot *before, const snapshot *after,
    const changeset *cs, size_t diff_cap, buf *out, bg_error *e);

/*
 * The same change set as text for people: one block per path with its
 * before and after type, mode, owner and size, and the indented diff.
 * Paths and link targets are escaped as in manifests.
 */
int changes_text(const char *store, const snapshot *before, const snapshot *after,
    const changeset *cs, size_t diff_cap, buf *out, bg_error *e);

#endif
