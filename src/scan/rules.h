/*
 * rules.h - the secret-scanner rules file: parsed, checked, held as data.
 *
 * The rules live in rules/secrets.rules (embedded in the binary at build
 * time; `breakglass scan --rules FILE` loads another).  This module only
 * parses; scan.c compiles the patterns and runs them.
 */
#ifndef BG_RULES_H
#define BG_RULES_H

#include "err.h"

#include <stddef.h>

#define RULES_MAX 1024
#define RULES_LINE_MAX 4096

enum { RULE_CK_NONE, RULE_CK_CRC32_BASE62 };
enum { RULE_BLOCK_NONE, RULE_BLOCK_PEM, RULE_BLOCK_PUTTY };
enum { RULE_FILTER_NONE, RULE_FILTER_GENERIC };

typedef struct rule_text {
	char *s; /* NUL-terminated, escapes already undone */
	size_t len;
} rule_text;

typedef struct rule {
	char *id;        /* [a-z0-9-], unique */
	char *provider;
	char *title;
	char *pattern;   /* regex, as written */
	unsigned secret; /* capture group holding the secret, 0 = whole match */
	double entropy;  /* minimum bits per byte, 0 = no test */
	int checksum;    /* RULE_CK_* */
	char *b64_contains;
	int block;       /* RULE_BLOCK_* */
	char *candidate; /* the pattern's top-level beginning, or NULL */
	char *anchor;    /* plain text every match contains, or NULL */
	char *trigger;   /* regex or NULL */
	size_t window;   /* bytes after a trigger line (default 4096) */
	int filter;      /* RULE_FILTER_* */
	unsigned char extend_left[32]; /* bit set: bytes a reported match extends over */
	rule_text *allow, *examples, *nots;
	size_t nallow, nexamples, nnots;
	size_t line;     /* line of the [id] header */
} rule;

typedef struct rule_set {
	rule *r;
	size_t n;
} rule_set;

/*
 * Parse a rules file.  Strict: unknown or repeated keys, malformed values,
 * unknown escapes, rules without a pattern, title, provider, example or
 * counter-example are refused with e naming the line.  0 and *rs filled
 * (release with rules_release), or BG_ERR_INVALID / BG_ERR_TOOLARGE /
 * BG_ERR_NOMEM with *rs empty.
 */
int rules_parse(const char *text, size_t len, const char *name, rule_set *rs, bg_error *e);

void rules_release(rule_set *rs);

/* Index of the rule called id, or -1. */
long rules_find(const rule_set *rs, const char *id);

/* The rules built into the binary (rules/secrets.rules). */
extern const char rules_builtin_text[];
extern const size_t rules_builtin_len;

#endif
