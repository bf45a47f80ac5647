/*
 * bundle.h - the diagnostics bundle `collect` writes and `envdiff` reads,
 * and the per-incident key its values are hashed with.
 *
 * A bundle is text, one record a line, three space-separated fields each
 * %-escaped (bytes outside 0x21..0x7e and '%' as %XX; a lone "%" is the
 * empty string):
 *
 *   breakglass-bundle v1
 *   created 2026-12-02T03:00:00Z -
 *   profile web-php -
 *   key-id 0123...(32 hex) -        or "key-id none -": made without a key
 *   KIND KEY VALUE                  the records, any order
 *   end - SHA256                    SHA-256 of every byte before this line
 *
 * Record kinds: pkg (package, version), rt (runtime setting), cfg
 * (FILE:flat.path, value), env (variable name, value), file (collected
 * file, keyed hash of its content), svc (service, running|stopped), port
 * (tcp:PORT, listen), sys (disk and memory figures), tree (code file,
 * keyed hash), recent (recently changed file, time), git (HEAD, commit),
 * deploy (commit or deploy-log line, when and what), log (FILE:N, a
 * redacted log line), db (a database's schema: schema.table, its
 * .column, #index:NAME, #constraint:NAME; "=TEXT" as PostgreSQL prints
 * it, every quoted literal replaced by its keyed hash), dbmig (an
 * applied migration, TABLE:NAME; "applied"), dbrows (schema.table, its
 * rows: N exact, ~N the planner's estimate).  Values of rt, cfg and env are "=TEXT" (a harmless
 * value, shown), "h:" and 32 hex digits (keyed hash), or "-" (withheld:
 * no key).  A (KIND, KEY) pair appears once.
 */
#ifndef BG_BUNDLE_H
#define BG_BUNDLE_H

#include "buf.h"
#include "err.h"

#include <stddef.h>
#include <stdint.h>

#define BUNDLE_MAGIC "breakglass-bundle v1"
#define BUNDLE_KEYBYTES 32
#define BUNDLE_IDHEX 33    /* 32 hex digits + NUL */
#define BUNDLE_HASHLEN 34  /* "h:" + 32 hex digits */
#define BUNDLE_MAX (256u * 1024 * 1024)

/* The per-incident key: kept by the client, never written into a bundle. */
typedef struct bundle_key {
	unsigned char k[BUNDLE_KEYBYTES];
	char id[BUNDLE_IDHEX]; /* a keyed hash of a fixed string: names the key */
} bundle_key;

/*
 * Load the key in path (64 hex digits and a newline, a regular file not
 * readable by group or others).  With create, a missing file is made now
 * (random key, 0600, O_EXCL) and *created set.  0, or BG_ERR_INVALID (bad
 * file), BG_ERR_PERM (group/other can read it), BG_ERR_IO, BG_ERR_NOTFOUND.
 */
int bundle_key_load(const char *path, int create, bundle_key *k, int *created, bg_error *e);
/* A key from 32 bytes (tests, benchmarks). */
void bundle_key_from(bundle_key *k, const unsigned char raw[BUNDLE_KEYBYTES]);
void bundle_key_wipe(bundle_key *k);
/*
 * The keyed hash of p[0..n) as "h:" + 32 hex digits (the first 16 bytes of
 * HMAC-SHA-256), or "-" when k is NULL (no key: nothing comparable).
 */
void bundle_key_hash(const bundle_key *k, const void *p, size_t n, char out[BUNDLE_HASHLEN + 1]);

/* Record kinds. */
enum {
	BK_PKG, BK_RT, BK_CFG, BK_ENV, BK_FILE, BK_SVC, BK_PORT, BK_SYS, BK_TREE, BK_RECENT,
	BK_GIT, BK_DEPLOY, BK_LOG, BK_DB, BK_DBMIG, BK_DBROWS, BK_NKINDS
};

const char *bundle_kind_name(int kind);

/* Writing: header, records, then bundle_finish. */
int bundle_begin(buf *out, int64_t created, const char *profile, const bundle_key *k);
int bundle_add(buf *out, int kind, const char *key, const char *value);
/* The end line (SHA-256 of everything before it). */
int bundle_finish(buf *out);

typedef struct bundle_rec {
	int kind;
	char *key;
	char *value;
	size_t line;
} bundle_rec;

typedef struct bundle {
	int64_t created;
	char profile[128];
	char key_id[BUNDLE_IDHEX]; /* "" when made without a key */
	bundle_rec *r;              /* sorted by kind, then key */
	size_t n, cap;
} bundle;

/*
 * Parse bundle text strictly: the header in order, known kinds, three
 * fields, canonical escapes, valid values per kind, no duplicate (kind,
 * key), the end line last with the right hash.  0 and *out (release with
 * bundle_release), or BG_ERR_INVALID / BG_ERR_CORRUPT (hash) with e
 * naming the line.
 */
int bundle_parse(const char *text, size_t len, bundle *out, bg_error *e);
int bundle_load(const char *path, bundle *out, bg_error *e);
void bundle_release(bundle *b);

/* Escape a field (canonical: bundle_parse accepts only this form). */
int bundle_escape(const char *s, buf *out);

/* 1 if v is a valid rt/cfg/env value ("=TEXT", "h:HEX32" or "-"). */
int bundle_value_ok(const char *v);

#endif
