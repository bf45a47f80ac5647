/*
 * repocheck.h - is the hotfix back in the repository?  Every file the
 * ticket's change sets (from the verified host logs) left changed on the
 * host is looked up on a branch of a git repository: a file must be there
 * with the content production now has (the change set's BLAKE2b-256 of it,
 * computed here over the blob git holds), a symlink with its target, and
 * a file the hotfix deleted must be gone.
 *
 * git runs by argv (no shell) with no system or global config, no HOME,
 * literal pathspecs, no pager, hooks and fsmonitor switched off and every
 * transport protocol refused (a partial clone cannot fetch); it only reads
 * objects (rev-parse, ls-tree, cat-file), never the work tree or the index.
 * Paths from the change sets are untrusted: a path with "..", an empty or
 * "." component, or control characters is never looked up and counts as a
 * difference.
 */
#ifndef BG_REPOCHECK_H
#define BG_REPOCHECK_H

#include "buf.h"
#include "err.h"
#include "home.h"

#include <stddef.h>
#include <stdint.h>

#define REPOCHECK_MAX_MAPS 16
#define REPOCHECK_MAX_FILES 4096
#define REPOCHECK_GIT "/usr/bin/git"

typedef struct repocheck {
	/* what to check */
	const char *repo;                /* a directory in the repository */
	const char *branch;              /* a branch, tag or commit */
	const char *map_host[REPOCHECK_MAX_MAPS];  /* absolute host directories */
	const char *map_repo[REPOCHECK_MAX_MAPS];  /* their place in the repository */
	size_t nmap;
	const char *audit_dir;           /* NULL: the home's host-log lines */
	/* what was found */
	char commit[65];
	size_t checked;                  /* paths compared */
	size_t differ;                   /* of them, not as production has them */
	buf diffs;                       /* one line per difference, for people */
} repocheck;

/* Parse "HOSTDIR=REPODIR" into c's next map (pointers into arg, which is
 * modified).  BG_ERR_USAGE with e set when it is not one. */
int repocheck_add_map(repocheck *c, char *arg, bg_error *e);

/*
 * Compare ticket tid's change sets with c->branch of c->repo.  0 when the
 * comparison was made (c->differ says whether it passed), or an error when
 * it could not be made (no host log, a log that does not verify, a change
 * set that does not match its record, no git, not a repository, an
 * unknown branch).  c->diffs must be initialised (buf_init) and released
 * by the caller.  Reads only: no state change.
 */
int repocheck_run(home *h, int64_t tid, repocheck *c, bg_error *e);

#endif
