/*
 * plan.h - fix plans: the smallest change, its artifacts by SHA-256, the
 * rollback path and the expected impact.
 *
 * A plan is a kv document (summary, diagnosis, change, rollback, impact,
 * smoke-test) plus artifacts (diffs, command lists, SQL) stored in the
 * home under their SHA-256.  Its canonical text, with one
 * "artifact: SHA256 KIND NAME" line per artifact, is hashed; the plan
 * approval signs that hash.  Submitting a new plan supersedes the old one
 * (and with it the old plan's approvals).
 */
#ifndef BG_PLAN_H
#define BG_PLAN_H

#include "err.h"
#include "grantscope.h"
#include "home.h"
#include "kv.h"
#include "argv.h"
#include "smokecheck.h"

#define PLAN_MAX_ARTIFACTS 32
#define PLAN_MAX_ARTIFACT GRANTSCOPE_MAX_ARTIFACT

typedef struct plan_artifact {
	char name[256];
	char kind[16];   /* diff, commands, sql, other */
	char sha256[65];
	int64_t size;
} plan_artifact;

typedef struct plan {
	int64_t id;
	int64_t ticket;
	char *text;      /* canonical */
	char hash[65];
	int64_t created;
	char *actor;
	plan_artifact art[PLAN_MAX_ARTIFACTS];
	size_t nart;
	kv_doc fields;
} plan;

typedef struct plan_input {
	const char *path;
	const char *kind;
} plan_input;

extern const kv_key plan_schema[];

/*
 * A smoke check the plan names, split like a command (quote TEXT with
 * spaces):
 *   check: NAME URL [expect=STATUS] [contains=TEXT] [timeout=SECONDS]
 *   check: NAME command='ARGV' [exit=STATUS] [host=NAME]
 * The first is an HTTP request (c; is_command 0), the second a request
 * run through the gate and read back from the host log (cmd; is_command
 * 1; ARGV is split again, so an argument with spaces is quoted inside:
 * command="grep -F 'a b' /srv/f").  Strings point into tok (and
 * cmd.av is owned by pc); c.excerpt is not initialised.
 */
typedef struct plan_check {
	char name[33];
	argv_list tok;
	int is_command;
	smokecheck c;
	smokecmd cmd;
} plan_check;

/* Parse one check line; e may be NULL. */
int plan_check_parse(const char *line, plan_check *out, bg_error *e);
void plan_check_release(plan_check *pc);

/* Print the plan template. */
int plan_template(buf *out);

/*
 * Submit plan text with artifacts for ticket (open).  Text and artifacts
 * are checked for secrets; artifacts are copied into HOME/artifacts.
 */
int plan_submit(home *h, int64_t ticket, const char *text, size_t len,
    const plan_input *in, size_t nin, int64_t *id, bg_error *e);

/* The current (not superseded) plan of ticket; BG_ERR_NOTFOUND if none. */
int plan_current(home *h, int64_t ticket, plan **out, bg_error *e);
void plan_free(plan *p);

/*
 * The bytes of p's artifact called name (or whose SHA-256 starts with
 * name, at least 8 hex digits) into out, checked against the SHA-256 the
 * plan recorded: a stored artifact that changed is BG_ERR_CORRUPT.
 * *which names the artifact.  BG_ERR_NOTFOUND if p has no such artifact.
 */
int plan_artifact_read(home *h, const plan *p, const char *name, buf *out,
    const plan_artifact **which, bg_error *e);

#endif
