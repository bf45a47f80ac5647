/*
 * policy.h - minimum-access policy: rules as data, checked in one place.
 *
 * A rules file is a list of stanzas:
 *
 *   rule NAME
 *     applies KIND...      ssh db repo sftp cms cloud manual (default: all)
 *     check CHECK [FIELD]  see below
 *     values VALUE...      for the value-based checks
 *     limit DURATION       for max-ttl
 *     when always|write    write: only for requests that can change things
 *     reason TEXT          why the rule exists (shown on refusal)
 *     suggest TEXT         a narrower request that would pass; {value},
 *                          {field} and {limit} are filled in
 *     enabled yes|no
 *
 * Checks: deny-values, deny-substring, deny-paths, deny-under,
 * deny-wildcards, deny-metachar, deny-programs, deny-launchers,
 * require-absolute, require-field, deny-flag, max-ttl, known-systems.
 *
 * deny-launchers refuses a command in which a program of the launcher
 * list (rules/launchers.rules, built in: programs that run other
 * programs - launchers, shells, interpreters, pagers, editors, programs
 * with shell escapes) appears as the program or as an argument naming a
 * program (a path, or the VALUE of OPTION=VALUE); its optional values add
 * programs to the list.
 *
 * The shipped defaults (policy_default_rules) are written to a new home;
 * a project's file (policy.d/PROJECT.rules) may add rules or replace a
 * default rule by defining one with the same name.
 */
#ifndef BG_POLICY_H
#define BG_POLICY_H

#include "err.h"
#include "kv.h"

#include <stdint.h>

#define POLICY_MAX_RULES 128
#define POLICY_MAX_VALUES 64

typedef enum policy_check {
	PC_DENY_VALUES, PC_DENY_SUBSTRING, PC_DENY_PATHS, PC_DENY_UNDER,
	PC_DENY_WILDCARDS, PC_DENY_METACHAR, PC_DENY_PROGRAMS, PC_REQUIRE_ABSOLUTE,
	PC_REQUIRE_FIELD, PC_DENY_FLAG, PC_MAX_TTL, PC_KNOWN_SYSTEMS, PC_DENY_LAUNCHERS
} policy_check;

typedef struct policy_rule {
	char *name;
	unsigned kinds;       /* bit per kind; 0 = all */
	policy_check check;
	char *field;
	char **values;
	size_t nvalues;
	int64_t limit;
	int write_only;
	int enabled;
	char *reason;
	char *suggest;
	size_t line;
} policy_rule;

typedef struct policy {
	policy_rule r[POLICY_MAX_RULES];
	size_t n;
} policy;

extern const char policy_default_rules[];

#define POLICY_MAX_LAUNCHERS 512
#define POLICY_MAX_CATEGORIES 16

/* The launcher list: categories (name, the reason a refusal gives) and
 * their programs. */
typedef struct policy_launchers {
	struct policy_category {
		char *name;
		char *why;
	} cat[POLICY_MAX_CATEGORIES];
	size_t ncat;
	struct policy_launcher {
		char *name;
		size_t cat;
	} prog[POLICY_MAX_LAUNCHERS];
	size_t nprog;
} policy_launchers;

/* rules/launchers.rules, as built into the binary. */
extern const char policy_launchers_builtin[];
extern const size_t policy_launchers_builtin_len;

/*
 * Parse a launcher list (format in rules/launchers.rules): strict - an
 * unknown line, a program listed twice, a bad name or too many entries is
 * an error naming source and line.  On error l is released.
 */
int policy_launchers_parse(policy_launchers *l, const char *text, size_t len,
    const char *source, bg_error *e);
void policy_launchers_release(policy_launchers *l);

/* The entry of l for a program's last path component (python3.11 matches
 * python3), or NULL. */
const struct policy_launcher *policy_launcher_find(const policy_launchers *l,
    const char *base);

/* Parse rules text into p (appending; a rule with an existing name
 * replaces it).  source names the text in errors. */
int policy_parse(policy *p, const char *text, size_t len, const char *source,
    bg_error *e);
void policy_release(policy *p);

/* Kind names and bits. */
int policy_kind_bit(const char *kind, unsigned *bit);

typedef struct policy_ctx {
	const char *kind;
	int writes;
	const char *const *systems; /* project's registered systems */
	size_t nsystems;
} policy_ctx;

typedef struct policy_violation {
	char rule[64];
	char text[768]; /* "rule 'X': reason (detail); narrower: suggestion" */
} policy_violation;

typedef struct policy_verdict {
	policy_violation v[16];
	size_t n;
} policy_verdict;

/* Evaluate a request document (grant spec) against p. 0 = allowed;
 * BG_ERR_POLICY with e holding the first violation otherwise. */
int policy_check_request(const policy *p, const kv_doc *req, const policy_ctx *ctx,
    policy_verdict *out, bg_error *e);

#endif
