/*
 * collect.h - gather, read-only, what a responder needs to diagnose a host
 * without access to it, into a bundle (bundle.h) that holds no secret.
 *
 * What is gathered is a profile (profile.h).  Values of configuration
 * keys and environment variables are replaced by a keyed hash (the
 * per-incident key) unless they are known to be harmless: booleans,
 * numbers, sizes, durations, a runtime's own settings, keys on the
 * profile's allowlist; a key whose name looks secret is hashed whatever
 * its value.  Unknown means hashed.  Log tails, commit subjects and deploy
 * log lines go through the secret scanner.  The finished bundle is scanned
 * once more: a record the scanner still finds something in is replaced by
 * hashes (or dropped).
 */
#ifndef BG_COLLECT_H
#define BG_COLLECT_H

#include "buf.h"
#include "bundle.h"
#include "err.h"
#include "dbfacts.h"
#include "profile.h"
#include "snapshot.h"

#include <stdint.h>

/*
 * What a collect through the gate may reach (NULL in collect_opts: what
 * the profile names, with the caller's rights - a local collect).  With
 * limits the root is "/", the environment is not collected (the gate's
 * own is not the application's), and an item outside them is skipped and
 * said through skipped().
 */
typedef struct collect_limits {
	void *ctx;
	/* 1 if the absolute, normalised path lies in what may be read */
	int (*may_read)(void *ctx, const char *path);
	/* path opened for reading (O_RDONLY | O_NONBLOCK) inside what may be
	 * read, no escape by a link: a descriptor, or negative */
	int (*open)(void *ctx, const char *path);
	/* the code tree at path described and hashed (snapshot.h, measuring
	 * mode) inside what may be read: 0 and *out, or negative */
	int (*tree)(void *ctx, const char *path, snapshot *out);
	/* 1 if program (an absolute path) may be started */
	int (*may_run)(void *ctx, const char *program);
	/* item (e.g. "config /etc/nginx/nginx.conf") skipped, and why */
	void (*skipped)(void *ctx, const char *item, const char *why);
} collect_limits;

typedef struct collect_opts {
	const char *root;        /* the host's file system: "/" or a copy of one */
	const char *app;         /* the code tree (NULL: the profile's) */
	const profile *prof;
	const bundle_key *key;   /* NULL: values withheld, nothing comparable */
	int64_t now;
	int timeout_ms;          /* per program run (0: 10 s) */
	const collect_limits *lim; /* NULL: a local collect */
	const dbfacts *db;       /* a database's facts to add (NULL: none) */
} collect_opts;

typedef struct collect_stats {
	uint64_t files;     /* configuration, settings, log files read */
	uint64_t tree;      /* code tree files hashed */
	uint64_t records;
	uint64_t shown;     /* values shown (harmless) */
	uint64_t hashed;    /* values replaced by keyed hashes */
	uint64_t redacted;  /* scanner findings replaced in free text */
	uint64_t rescanned; /* records the final scan hashed or dropped */
	uint64_t skipped;   /* sources missing, unreadable or too large */
} collect_stats;

/*
 * Collect into out (a complete bundle, end line included).  0, or a
 * BG_ERR code with e saying what failed (a missing source is skipped and
 * counted, never an error).
 */
int collect_run(const collect_opts *o, buf *out, collect_stats *st, bg_error *e);

/* 1 if value is harmless whatever its key: a boolean, a small number, a
 * size, a duration, empty. */
int collect_value_harmless(const char *value);
/* 1 if a key's name looks like it holds a secret (password, token, ...). */
int collect_key_secret(const char *key);

#endif
