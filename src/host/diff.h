/*
 * diff.h - strict unified diffs (as made by diff -u and git diff).
 *
 * The parser accepts, per file: optional "diff --git", "index", "new file
 * mode" and "deleted file mode" lines, then "--- OLD" and "+++ NEW" (a
 * tab ends a path), then hunks "@@ -l[,s] +l[,s] @@" whose bodies hold
 * exactly the counted ' ', '-' and '+' lines, each optionally followed by
 * "\ No newline at end of file".  Anything else is refused with its line.
 * Applying is exact: every context and removed line must match where the
 * hunk says; there is no fuzz and no offset search.
 */
#ifndef BG_DIFF_H
#define BG_DIFF_H

#include "buf.h"
#include "err.h"

#define DIFF_MAX_FILES 64
#define DIFF_MAX_INPUT (16u * 1024 * 1024)

typedef struct diff_line {
	char op;          /* ' ', '-', '+' */
	const char *s;    /* points into the diff text, without the op */
	size_t n;         /* without the newline */
	int no_newline;   /* "\ No newline at end of file" follows */
} diff_line;

typedef struct diff_hunk {
	long old_start, old_len, new_start, new_len;
	size_t first;     /* index into lines */
	size_t count;
} diff_hunk;

typedef struct diff_file {
	char *old_path;   /* NULL for /dev/null (a new file) */
	char *new_path;   /* NULL for /dev/null (a deleted file) */
	char old_index[65]; /* git blob id (a prefix) of the pre-image from an
	                       "index" line; "" when the diff has none */
	diff_hunk *hunks;
	size_t nhunks;
} diff_file;

typedef struct diff {
	diff_file f[DIFF_MAX_FILES];
	size_t nf;
	diff_line *lines;
	size_t nlines;
} diff;

int diff_parse(const char *text, size_t len, diff *out, bg_error *e);
void diff_release(diff *d);

/*
 * The file's path with `strip` leading components removed (like patch
 * -p); NULL when it cannot be a plain relative path (absolute, "..",
 * empty, too few components).
 */
char *diff_path(const char *path, int strip);

/* Apply file f of d to old[0..oldlen) into out. */
int diff_apply(const diff *d, const diff_file *f, const char *old, size_t oldlen, buf *out,
    bg_error *e);

#endif
