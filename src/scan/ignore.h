/*
 * ignore.h - .breakglassignore: paths `breakglass scan` leaves out.
 *
 * One pattern per line, gitignore-like: '#' comments, blank lines, '!'
 * re-includes, a trailing '/' matches directories only, a pattern with a
 * '/' (other than trailing) is anchored at the directory holding the file,
 * "**" + "/" at the start matches at any depth, other patterns match the
 * name at any depth.  Globs are fnmatch(3) with FNM_PATHNAME.  The last
 * matching pattern wins.
 */
#ifndef BG_IGNORE_H
#define BG_IGNORE_H

#include "err.h"

#include <stddef.h>

#define IGNORE_MAX_PATTERNS 4096

typedef struct ignore_pat {
	char *glob;
	int negate, dir_only, anchored;
} ignore_pat;

typedef struct ignore_list {
	ignore_pat *p;
	size_t n;
} ignore_list;

/*
 * Parse a .breakglassignore.  0 and *l (release with ignore_release), or
 * BG_ERR_INVALID (NUL or control bytes, invalid UTF-8) / BG_ERR_TOOLARGE
 * with e naming the line.
 */
int ignore_parse(const char *text, size_t len, ignore_list *l, bg_error *e);
void ignore_release(ignore_list *l);

/*
 * Verdict of l for rel (path relative to the ignore file's directory, no
 * leading "./"): 1 ignored, -1 re-included, 0 no pattern matched.
 */
int ignore_match(const ignore_list *l, const char *rel, int is_dir);

#endif
