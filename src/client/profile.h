/*
 * profile.h - collection profiles: what `collect` gathers, as data.
 *
 * Built-in profiles are the files in profiles/ (embedded at build time);
 * a user's own profile is a file named by path and may include built-in
 * ones.  One directive a line ('#' starts a comment line):
 *
 *   profile NAME             first: the profile's name
 *   describe TEXT            one line for `collect --list-profiles`
 *   include NAME             a built-in profile's directives, first
 *   app PATH                 the code tree (collect --app overrides it)
 *   config PATH [FORMAT]     configuration files (a glob; @app/... is
 *                            below the code tree); FORMAT ini, env, json,
 *                            yaml, php, lines (default: by file name)
 *   settings PATH [FORMAT]   the runtime's own settings files (php.ini):
 *                            values shown unless the key looks secret
 *   log PATH [BYTES]         a log's tail (default 65536 bytes, max 1 MiB)
 *   tree PATH                file hashes of a code tree
 *   git PATH                 HEAD and recent commits of a git work tree
 *   deploylog PATH           a deploy log's tail: the deploy history
 *   packages PATTERN...      installed packages (dpkg-query patterns)
 *   runtime NAME...          php, node, python: versions and settings
 *   service NAME...          running or stopped (process names)
 *   allow PATTERN...         keys whose values are harmless (fnmatch: a
 *                            pattern with ':' matches the whole key
 *                            FILE:path, one with '.' the path inside the
 *                            file, any other the key's last part, after
 *                            the last ':' or '.')
 *   ports                    listening TCP ports
 *   system                   disk and memory
 *   environment              the environment's variable names (values
 *                            hashed)
 *   recent DURATION          window for recently changed files (7d)
 *
 * Unknown directives, a missing or misplaced `profile` line, duplicates
 * of single directives, bad arguments: refused, with the line.
 */
#ifndef BG_PROFILE_H
#define BG_PROFILE_H

#include "err.h"

#include <stddef.h>
#include <stdint.h>

enum {
	PD_CONFIG, PD_SETTINGS, PD_LOG, PD_TREE, PD_GIT, PD_DEPLOYLOG, PD_PACKAGES, PD_RUNTIME,
	PD_SERVICE, PD_ALLOW
};

#define PROFILE_PORTS 0x01
#define PROFILE_SYSTEM 0x02
#define PROFILE_ENVIRONMENT 0x04

#define PROFILE_MAX_INPUT (64u * 1024)
#define PROFILE_MAX_ITEMS 512
#define PROFILE_MAX_LOG (1024u * 1024)

typedef struct profile_item {
	int kind;      /* PD_* */
	char *arg;     /* path or name */
	int format;    /* PD_CONFIG/PD_SETTINGS: CFG_* or -1 (by name) */
	size_t bytes;  /* PD_LOG */
} profile_item;

typedef struct profile {
	char name[64];
	char describe[256];
	char app[1024];      /* "" when none */
	int64_t recent;      /* seconds */
	unsigned flags;      /* PROFILE_* */
	profile_item *it;
	size_t n, cap;
} profile;

/*
 * Parse one profile's text (includes are not followed: see profile_load).
 * 0 and *out (release with profile_release), or BG_ERR_INVALID with
 * "line N: ..." in e.
 */
int profile_parse(const char *text, size_t len, profile *out, bg_error *e);

/*
 * A built-in profile by name, or a user's profile file when spec holds a
 * '/', with includes resolved (built-in ones only, 4 deep at most).
 */
int profile_load(const char *spec, profile *out, bg_error *e);
void profile_release(profile *p);

/* The built-in profiles: count, and name/text of the i-th. */
size_t profile_builtin_count(void);
const char *profile_builtin_name(size_t i);
const char *profile_builtin_text(size_t i, size_t *len);

/* 1 if key matches one of p's allow patterns. */
int profile_allows(const profile *p, const char *key);

#endif
