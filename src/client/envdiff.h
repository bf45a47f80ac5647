/*
 * envdiff.h - what differs between two environments' bundles (production
 * and QA), by section, and the ignore file for expected differences.
 *
 * Sections: packages (pkg), runtime (rt), config (cfg), environment (env:
 * names, and values by keyed hash), code (tree: added, removed, changed),
 * deploys (git HEAD and commits, deploy-log lines), services (svc), ports,
 * database (db: tables, columns, indexes, constraints; dbmig: applied
 * migrations).  Row counts (dbrows), like disk and memory (sys), are in
 * the bundle to read, not compared: they always differ.
 * Values are compared as written in the bundles: a keyed hash against a
 * keyed hash (equal values, equal hashes, under one key), a harmless value
 * shown on both sides.  Bundles made without a key, or with different
 * keys, are refused: their hashes cannot be compared.
 *
 * Ignore file, one rule a line ('#' comment lines and blank lines allowed):
 *   SECTION PATTERN      SECTION is one of the names above or '*';
 *                        PATTERN an fnmatch pattern over the key (the
 *                        rest of the line)
 * Unknown sections, empty patterns, duplicate rules: refused with the line.
 */
#ifndef BG_ENVDIFF_H
#define BG_ENVDIFF_H

#include "buf.h"
#include "bundle.h"
#include "err.h"

#define ENVDIFF_NSECTIONS 9
#define ENVDIFF_IGNORE_MAX (64u * 1024)

typedef struct envdiff_rule {
	int section; /* -1: any */
	char *pattern;
} envdiff_rule;

typedef struct envdiff_ignore {
	envdiff_rule *r;
	size_t n;
} envdiff_ignore;

int envdiff_ignore_parse(const char *text, size_t len, envdiff_ignore *out, bg_error *e);
void envdiff_ignore_release(envdiff_ignore *ig);
/* 1 if the rules ignore key in section. */
int envdiff_ignored(const envdiff_ignore *ig, int section, const char *key);

/* The section a record kind belongs to, or -1 (not compared). */
int envdiff_section_of(int kind);
const char *envdiff_section_name(int section);

enum { ENVDIFF_ADDED = '+', ENVDIFF_REMOVED = '-', ENVDIFF_CHANGED = '~' };

typedef struct envdiff_item {
	int section;
	int change;        /* only in A (-), only in B (+), differ (~) */
	const char *key;   /* points into the bundles */
	const char *a, *b; /* the values (NULL when absent) */
} envdiff_item;

typedef struct envdiff_result {
	envdiff_item *it;
	size_t n, cap;
	size_t ignored;
} envdiff_result;

/*
 * Compare a (production) with b (QA).  0 and *out (release with
 * envdiff_result_release; items point into a and b, which must outlive
 * it), or BG_ERR_POLICY when the bundles cannot be compared (no key,
 * different keys), BG_ERR_NOMEM.
 */
int envdiff_run(const bundle *a, const bundle *b, const envdiff_ignore *ig,
    envdiff_result *out, bg_error *e);
void envdiff_result_release(envdiff_result *r);

/*
 * Text or JSON for humans and programs.  A value "=TEXT" is shown as
 * TEXT, a hash as "(hashed)".
 */
int envdiff_format_text(const envdiff_result *r, const char *an, const char *bn, buf *out);
int envdiff_format_json(const envdiff_result *r, const bundle *a, buf *out);

#endif
