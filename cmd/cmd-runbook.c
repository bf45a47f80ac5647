/*
 * cmd-runbook.c - breakglass runbook: client-executed mode.
 *
 *   export T-N -o FILE      (broker) the approved plan as a signed runbook
 *   run FILE                (client host, no broker) verify, then run step by
 *                           step, and write a signed result bundle
 *   import T-N BUNDLE       (broker) verify the bundle and record it
 *   rollback FILE|BUNDLE    (client host) undo what the run changed
 *
 * The client trusts only its own configuration (--config, default
 * /etc/breakglass/runbook.conf; root-owned, not group/world-writable):
 *   system: web1                  the system this host is
 *   signers: PATH                 allowed_signers of the approvers
 *   quorum: N                     distinct approvers needed
 *   state: DIR                    runs, snapshots, bundles
 *   root: DIR                     where diffs apply (and what is snapshotted)
 *   operator: NAME                who runs it (the bundle names them)
 *   operator-key: PATH            their SSH private key (ssh-keygen -Y sign)
 *   collect-root: DIR             what a collect step reads (default /)
 *   collect-key: PATH             the per-incident key collect steps hash
 *                                 values with (default STATE/collect.key,
 *                                 made 0600 when missing; never sent)
 *   db-postgres: CONNINFO         the database target SQL steps are applied
 *   db-mariadb: SOCKET            to (one of them; peer/unix socket, never a
 *   db-database: NAME             password), and its database
 *
 * A SQL step runs through the database layer's apply (dbapply: the
 * before-image kept in the database, the row count the signed statement
 * states, one transaction) when the configuration names a target of the
 * plan's sql-engine; else the operator runs it and attaches the output.
 */
#include "cmd.h"
#include "approval.h"
#include "audit.h"
#include "bundle.h"
#include "changes.h"
#include "collect.h"
#include "consent.h"
#include "dbapply.h"
#include "diff.h"
#include "fileio.h"
#include "hash.h"
#include "json.h"
#include "kv.h"
#include "pgrole.h"
#include "plan.h"
#include "profile.h"
#include "proc.h"
#include "rbresult.h"
#include "rbstep.h"
#include "rollback.h"
#include "runbook.h"
#include "scan.h"
#include "snapshot.h"
#include "sqlcheck.h"
#include "sshsig.h"
#include "text.h"
#include "ticket.h"
#include "users.h"
#include "utc.h"
#include "workflow.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char usage_text[] =
	"usage: breakglass runbook export T -o FILE\n"
	"       breakglass runbook run FILE [--config CONF] [--yes] [--attach STEP=FILE]...\n"
	"                                   [-o BUNDLE]\n"
	"       breakglass runbook import T BUNDLE\n"
	"       breakglass runbook rollback FILE|BUNDLE [--config CONF] [--yes] [--drop-image]\n\n"
	"Client-executed mode: when nobody outside may touch production, the\n"
	"approved plan goes to the client as a signed runbook, the client's team\n"
	"runs it on their own host (no broker, no network), and sends back a\n"
	"result bundle signed with the operator's SSH key.\n\n"
	"run trusts only CONF (default /etc/breakglass/runbook.conf, root-owned,\n"
	"not group- or world-writable): system, signers (allowed_signers), quorum,\n"
	"state, root, operator, operator-key.  It refuses, before anything runs, a\n"
	"runbook that is expired, already run here, for another system, altered,\n"
	"reordered or not signed by a quorum of the approvers CONF names.  Each\n"
	"step is shown in plain words and asked for (--yes: run all); a diff step\n"
	"checks every target's pre-image first; the root is snapshotted before\n"
	"changes; programs run without a shell; the run stops at the first\n"
	"failure.  Output is redacted as it streams.\n\n"
	"SQL steps run through the database apply when CONF names a target\n"
	"(db-postgres: CONNINFO for the local socket by peer authentication, never\n"
	"a password; db-database: NAME): the script must be the signed artifact,\n"
	"is checked before anything runs (a refused statement, or a destructive one\n"
	"the signed statement does not approve, refuses the runbook), and runs in\n"
	"one transaction with a before-image kept inside the database; a row count\n"
	"other than the signed one rolls back and stops the run.  The result holds\n"
	"counts and changed columns, never row values.  MariaDB: db-mariadb: SOCKET\n"
	"(root by unix_socket authentication, no password) with a plan that says\n"
	"sql-engine: mariadb.  Without a target, when the plan's sql-engine is not\n"
	"the target's, and for other files, the operator runs the step by hand:\n"
	"attach the output with --attach STEP=FILE (recorded as operator-reported,\n"
	"scanned for secrets when it is text).\n\n"
	"The plan's 'check: NAME URL ...' and 'collect: PROFILE' lines are steps\n"
	"too.  Step 0, before the fix: each collect (a built-in profile, read-only,\n"
	"under CONF's collect-root, default /; values hashed with the per-incident\n"
	"key collect-key, default STATE/collect.key, which never leaves this host;\n"
	"the bundle is attached to the result) and each check (a failure there is\n"
	"the incident and does not stop the run).  After the fix steps the checks\n"
	"run again, and a failing one stops the run.  A check records its status,\n"
	"time and the body's SHA-256, never the body.  import records the checks\n"
	"as client-run smoke results and keeps the diagnostics bundles.\n\n"
	"rollback restores the rows SQL steps changed from their before-images\n"
	"(refused if they changed since; the files are then left too), then the\n"
	"files; --drop-image instead drops the run's before-images.\n";

static const opt_def defs[] = {
	{ "-o", OPT_ARG },
	{ "--config", OPT_ARG },
	{ "--yes", 0 },
	{ "--attach", OPT_ARG | OPT_MULTI },
	{ "--drop-image", 0 },
	{ NULL, 0 }
};

#define DEFAULT_CONF "/etc/breakglass/runbook.conf"

/* ---- export (broker) ---------------------------------------------------- */

/* A check as the export record names it: the JSON string "NAME EXPECT URL". */
static void
check_id(const char *name, const char *url, int expect, buf *out)
{
	char id[2600];

	if (expect)
		snprintf(id, sizeof(id), "%s %d %s", name, expect, url);
	else
		snprintf(id, sizeof(id), "%s 2xx %s", name, url);
	json_escape(out, id, strlen(id));
}

static int
do_export(cmd_args *a)
{
	home *h = NULL;
	ticket *t = NULL;
	plan *p = NULL;
	statement *s = NULL;
	approval_state as;
	runbook_part parts[PLAN_MAX_ARTIFACTS];
	buf content[PLAN_MAX_ARTIFACTS], sigs, out, detail;
	const char *sigv[RUNBOOK_MAX_SIGS];
	size_t nsigs = 0, i, k, nc = 0;
	const char *sys;
	char sha[65];
	bg_error e;
	int64_t tid;
	int r;

	if (a->npos != 2)
		return cmd_failf(EXIT_USAGE, "runbook export: name one ticket");
	if (cmd_opt(a, 0) == NULL)
		return cmd_failf(EXIT_USAGE, "runbook export: -o FILE is required");
	if ((r = cmd_ticket_id(a->pos[1], &tid)) != 0)
		return r;
	if ((r = cmd_open_home(a, &h)) != 0)
		return r;
	bg_error_clear(&e);
	buf_init(&sigs, 256 * 1024);
	buf_init(&out, RUNBOOK_MAX_INPUT);
	buf_init(&detail, 4096);
	if ((r = ticket_load(h, tid, &t, &e)) != 0 || (r = plan_current(h, tid, &p, &e)) != 0 ||
	    (r = approval_check(h, t, "plan", p->hash, &as, &e)) != 0) {
		r = cmd_fail(r, &e);
		goto out;
	}
	if (as.statement == 0) {
		r = cmd_failf(EXIT_REFUSED, "the plan of T-%lld is not approved: %s",
		    (long long)tid, as.why);
		goto out;
	}
	if ((r = approval_statement_load(h, as.statement, &s, &sigs, &nsigs, &e)) != 0) {
		r = cmd_fail(r, &e);
		goto out;
	}
	sys = kv_get(&t->fields, "system");
	if (sys == NULL || strstr(s->text, "\nsystem: ") == NULL) {
		r = cmd_failf(EXIT_REFUSED, "the plan statement of T-%lld names no target system; "
		    "it was signed before runbooks existed: issue and sign a new plan statement",
		    (long long)tid);
		goto out;
	}
	if (nsigs > RUNBOOK_MAX_SIGS)
		nsigs = RUNBOOK_MAX_SIGS;
	for (i = 0; i < nsigs; i++)
		sigv[i] = i == 0 ? sigs.data : sigv[i - 1] + strlen(sigv[i - 1]) + 1;
	for (i = 0; i < p->nart; i++) {
		const plan_artifact *which;

		buf_init(&content[i], PLAN_MAX_ARTIFACT);
		nc++;
		if ((r = plan_artifact_read(h, p, p->art[i].name, &content[i], &which, &e)) != 0) {
			r = cmd_fail(r, &e);
			goto out;
		}
		parts[i].kind = which->kind;
		parts[i].sha256 = which->sha256;
		parts[i].name = which->name;
		parts[i].data = content[i].data ? content[i].data : "";
		parts[i].len = content[i].len;
	}
	if ((r = runbook_format(tid, p->id, sys, s->valid_until, s->text, sigv, nsigs, p->text,
	    parts, p->nart, &out, &e)) != 0) {
		r = cmd_fail(r, &e);
		goto out;
	}
	if ((r = fileio_write_atomic(cmd_opt(a, 0), out.data, out.len, 0644, 0, &e)) != 0) {
		r = cmd_fail(r, &e);
		goto out;
	}
	hash_sha256_hex(out.data, out.len, sha);
	buf_printf(&detail, "{\"runbook_sha256\":\"%s\",\"plan\":%lld,\"statement\":%lld,"
	    "\"steps\":%zu,\"signatures\":%zu", sha, (long long)p->id, (long long)s->id,
	    p->nart, nsigs);
	/* what its check and collect steps are: import holds results to these */
	buf_puts(&detail, ",\"checks\":[");
	for (i = 0, k = 0; i < p->fields.n; i++) {
		plan_check pc;

		if (strcmp(p->fields.items[i].key, "check") != 0 ||
		    plan_check_parse(p->fields.items[i].value, &pc, NULL) != 0)
			continue;
		if (pc.is_command) { /* operator-reported in a runbook */
			plan_check_release(&pc);
			continue;
		}
		if (k++ > 0)
			buf_putc(&detail, ',');
		check_id(pc.name, pc.c.url, pc.c.expect, &detail);
		plan_check_release(&pc);
	}
	buf_puts(&detail, "],\"collects\":[");
	for (i = 0, k = 0; i < p->fields.n; i++) {
		if (strcmp(p->fields.items[i].key, "collect") != 0)
			continue;
		if (k++ > 0)
			buf_putc(&detail, ',');
		json_escape(&detail, p->fields.items[i].value, strlen(p->fields.items[i].value));
	}
	/* which steps are SQL scripts: a result may report only those as applied */
	buf_puts(&detail, "],\"sql_steps\":[");
	for (i = 0, k = 0; i < p->nart; i++)
		if (strcmp(p->art[i].kind, "sql") == 0)
			buf_printf(&detail, "%s%zu", k++ ? "," : "", i + 1);
	buf_puts(&detail, "]}");
	if ((r = home_begin(h, &e)) != 0 ||
	    (r = home_record(h, "runbook.export", tid, detail.data, &e)) != 0 ||
	    (r = home_commit(h, &e)) != 0) {
		r = cmd_fail(r, &e);
		goto out;
	}
	if (a->json)
		printf("{\"ticket\":%lld,\"runbook\":\"%s\",\"sha256\":\"%s\",\"steps\":%zu}\n",
		    (long long)tid, cmd_opt(a, 0), sha, p->nart);
	else
		printf("T-%lld: runbook written to %s (%zu steps, %zu signatures, sha256 %s)\n",
		    (long long)tid, cmd_opt(a, 0), p->nart, nsigs, sha);
	r = 0;
out:
	for (i = 0; i < nc; i++)
		buf_release(&content[i]);
	buf_release(&sigs);
	buf_release(&out);
	buf_release(&detail);
	statement_free(s);
	plan_free(p);
	ticket_free(t);
	home_close(h);
	return r;
}

/* ---- the client's configuration ----------------------------------------- */

static const kv_key conf_schema[] = {
	{ "system", KV_REQUIRED, 127 },
	{ "signers", KV_REQUIRED, 1024 },
	{ "quorum", KV_REQUIRED, 4 },
	{ "state", KV_REQUIRED, 1024 },
	{ "root", KV_REQUIRED, 1024 },
	{ "operator", KV_REQUIRED, 255 },
	{ "operator-key", 0, 1024 },
	{ "collect-root", 0, 1024 },
	{ "collect-key", 0, 1024 },
	{ "db-postgres", 0, 1024 },
	{ "db-mariadb", 0, 1024 },
	{ "db-database", 0, 63 },
	{ NULL, 0, 0 }
};

typedef struct conf {
	kv_doc d;
	const char *system, *state, *root, *op, *key, *croot, *ckey;
	int quorum;
	buf signers;
	dbapply_target db;   /* engine 0: no database target */
} conf;

/* A file the client trusts: owned by root (or whoever runs this), not
 * writable by group or others. */
static int
trusted_file(const char *path, const char *what, bg_error *e)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return bg_fail(e, BG_ERR_NOTFOUND, "%s '%s': %s", what, path, strerror(errno));
	if ((st.st_uid != 0 && st.st_uid != geteuid()) || (st.st_mode & 022) != 0)
		return bg_fail(e, BG_ERR_PERM, "%s '%s' must be owned by root and not group- or "
		    "world-writable", what, path);
	return 0;
}

static void
conf_release(conf *c)
{
	kv_doc_release(&c->d);
	buf_release(&c->signers);
}

static int
conf_load(const char *path, conf *c, bg_error *e)
{
	buf text;
	const char *q;
	int r;

	memset(c, 0, sizeof(*c));
	buf_init(&c->signers, 1024 * 1024);
	buf_init(&text, KV_MAX_INPUT);
	if ((r = trusted_file(path, "runbook configuration", e)) != 0 ||
	    (r = fileio_read(path, KV_MAX_INPUT, &text, e)) != 0 ||
	    (r = kv_parse(text.data ? text.data : "", text.len, conf_schema, &c->d, e)) != 0) {
		if (r == BG_ERR_INVALID)
			r = bg_fail(e, r, "'%s': %.400s", path, e->msg);
		goto out;
	}
	c->system = kv_get(&c->d, "system");
	c->state = kv_get(&c->d, "state");
	c->root = kv_get(&c->d, "root");
	c->op = kv_get(&c->d, "operator");
	c->key = kv_get(&c->d, "operator-key");
	c->croot = kv_get(&c->d, "collect-root") ? kv_get(&c->d, "collect-root") : "/";
	c->ckey = kv_get(&c->d, "collect-key");
	q = kv_get(&c->d, "quorum");
	c->quorum = (q[0] >= '1' && q[0] <= '9' && q[1] == '\0') ? q[0] - '0' : 0;
	if (c->quorum == 0) {
		r = bg_fail(e, BG_ERR_INVALID, "'%s': quorum must be 1 to 9", path);
		goto out;
	}
	if (!text_is_ident(c->system, 127) || c->state[0] != '/' || c->root[0] != '/' ||
	    strchr(c->op, ' ') != NULL || c->croot[0] != '/' || (c->ckey && c->ckey[0] != '/')) {
		r = bg_fail(e, BG_ERR_INVALID, "'%s': system must be a name, state, root, "
		    "collect-root and collect-key absolute paths, operator one word", path);
		goto out;
	}
	{
		const char *pg = kv_get(&c->d, "db-postgres"), *my = kv_get(&c->d, "db-mariadb");
		const char *db = kv_get(&c->d, "db-database");

		if ((pg != NULL || my != NULL) && (db == NULL || (pg != NULL && my != NULL) ||
		    !text_is_ident(db, 63))) {
			r = bg_fail(e, BG_ERR_INVALID, "'%s': a database target is db-postgres or "
			    "db-mariadb (one of them) with db-database naming its database", path);
			goto out;
		}
		if (db != NULL && pg == NULL && my == NULL) {
			r = bg_fail(e, BG_ERR_INVALID, "'%s': db-database needs db-postgres or "
			    "db-mariadb", path);
			goto out;
		}
		/* the client's files hold no database password: peer authentication
		 * (libpq's own parse, the one the connection makes) */
		if (pg != NULL && (r = pgrole_conninfo_check(pg, e)) != 0) {
			r = bg_fail(e, r, "'%s': db-postgres: %.400s", path, e->msg);
			goto out;
		}
		/* only a socket path: no account, password or option rides along */
		if (my != NULL && (my[0] != '/' || strspn(my, "abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-") != strlen(my) ||
		    strstr(my, "/../") != NULL)) {
			r = bg_fail(e, BG_ERR_INVALID, "'%s': db-mariadb is the server's unix socket "
			    "(an absolute path of letters, digits and /._-; root connects by "
			    "unix_socket authentication, never a password)", path);
			goto out;
		}
		c->db.engine = pg != NULL ? DBAPPLY_POSTGRES : my != NULL ? DBAPPLY_MARIADB : 0;
		c->db.conninfo = pg != NULL ? pg : my;
		c->db.database = db;
	}
	if ((r = trusted_file(kv_get(&c->d, "signers"), "allowed signers", e)) != 0 ||
	    (r = fileio_read(kv_get(&c->d, "signers"), 1024 * 1024, &c->signers, e)) != 0)
		goto out;
	if (mkdir(c->state, 0700) != 0 && errno != EEXIST) {
		r = bg_fail(e, BG_ERR_IO, "cannot create state '%s': %s", c->state, strerror(errno));
		goto out;
	}
out:
	buf_release(&text);
	if (r != 0) /* callers release only what loaded */
		conf_release(c);
	return r;
}

/* ---- run (client host) -------------------------------------------------- */

typedef struct action {
	int step;            /* 1.. (the smoke test is nsteps + 1); 0: before the fix */
	int sub;             /* the command's number inside its step (1..), or 0 */
	char kind[16];       /* command, diff, manual, check, collect */
	plan_check pc;       /* check: the plan's named smoke check */
	int have_check;
	const char *phase;   /* check: before or after (the fix steps) */
	char profile[64];    /* collect: a built-in profile */
	argv_list argv;      /* command */
	diff d;              /* diff */
	int have_diff;
	sqlcheck sqlc;       /* sql: the signed script, checked */
	int have_sql;
	int64_t rows;        /* sql: the count the signed statement states */
	const char *name;    /* sql: the artifact's name */
	const char *sha;     /* sql: its SHA-256 (signed) */
	const char *text;    /* manual: what to do; sql: the script */
	size_t len;
	buf words;           /* in plain words */
} action;

#define MAX_ACTIONS 512

static int
ask(const char *what, int yes)
{
	char line[32];

	if (yes)
		return 1;
	printf("%s [y/N] ", what);
	fflush(stdout);
	if (fgets(line, sizeof(line), stdin) == NULL)
		line[0] = '\0';
	return line[0] == 'y' || line[0] == 'Y';
}

/* Path of the run record of a runbook in state. */
static int
run_path(const conf *c, const char *sha, const char *ext, buf *out)
{
	buf_reset(out);
	return buf_printf(out, "%s/%s.%s", c->state, sha, ext);
}

static int
add_command(action *acts, size_t *n, int step, int sub, const char *line, bg_error *e)
{
	action *x;
	int r;

	if (*n == MAX_ACTIONS)
		return bg_fail(e, BG_ERR_TOOLARGE, "more than %d actions", MAX_ACTIONS);
	x = &acts[*n];
	memset(x, 0, sizeof(*x));
	buf_init(&x->words, 8192);
	x->step = step;
	x->sub = sub;
	snprintf(x->kind, sizeof(x->kind), "command");
	if ((r = rbstep_argv(line, &x->argv, e)) != 0) {
		buf_release(&x->words);
		return bg_fail(e, r, "step %d: command '%.200s': %.200s", step, line, e->msg);
	}
	(*n)++;
	return rbstep_describe(&x->argv, &x->words);
}

/* The next action, zeroed, with its words buffer; NULL when full. */
static action *
new_action(action *acts, size_t *n, int step, int sub, const char *kind, bg_error *e)
{
	action *x;

	if (*n == MAX_ACTIONS) {
		bg_fail(e, BG_ERR_TOOLARGE, "more than %d actions", MAX_ACTIONS);
		return NULL;
	}
	x = &acts[(*n)++];
	memset(x, 0, sizeof(*x));
	buf_init(&x->words, 8192);
	x->step = step;
	x->sub = sub;
	snprintf(x->kind, sizeof(x->kind), "%s", kind);
	return x;
}

/* A plan's "check:" line as a check step, in plain words. */
static int
add_check(action *acts, size_t *n, int step, int sub, const char *line, const char *phase,
    bg_error *e)
{
	action *x;
	int r;

	if ((x = new_action(acts, n, step, sub, "check", e)) == NULL)
		return BG_ERR_TOOLARGE;
	if ((r = plan_check_parse(line, &x->pc, e)) != 0)
		return bg_fail(e, r, "the plan's check '%.200s': %.200s", line, e->msg);
	x->have_check = 1;
	x->phase = phase;
	if (x->pc.is_command) {
		/*
		 * A command check runs through the gate and is read back from the
		 * host log; here there is neither: after the fix the operator runs
		 * it by hand and attaches its output (operator-reported).
		 */
		if (strcmp(phase, "before") == 0) {
			plan_check_release(&x->pc);
			buf_release(&x->words);
			(*n)--;
			return 0;
		}
		snprintf(x->kind, sizeof(x->kind), "manual");
		return buf_printf(&x->words, "the plan's check '%s' is a command for the gate: run "
		    "it by hand and attach its output (--attach %d=FILE); recorded as "
		    "operator-reported", x->pc.name, step);
	}
	if (x->pc.c.expect)
		r = buf_printf(&x->words, "check that %s answers %d", x->pc.c.url, x->pc.c.expect);
	else
		r = buf_printf(&x->words, "check that %s answers a 2xx status", x->pc.c.url);
	if (r == 0 && x->pc.c.contains != NULL)
		r = buf_printf(&x->words, " and contains '%s'", x->pc.c.contains);
	if (r == 0)
		r = buf_printf(&x->words, " (the plan's check '%s', %s the fix: %s)", x->pc.name,
		    phase, strcmp(phase, "before") == 0 ? "it should fail, as the incident does; "
		    "a failure here does not stop the run" : "a failure stops the run");
	return r;
}

/* A plan's "collect:" line: a built-in profile (checked now), in words. */
static int
add_collect(action *acts, size_t *n, int sub, const char *name, bg_error *e)
{
	action *x;
	profile prof;
	int r;

	if (strchr(name, '/') != NULL || strlen(name) >= sizeof(x->profile))
		return bg_fail(e, BG_ERR_INVALID, "the plan's collect '%.100s': a runbook collects "
		    "with a built-in profile only", name);
	if ((r = profile_load(name, &prof, e)) != 0)
		return bg_fail(e, r, "the plan's collect '%.100s': %.300s", name, e->msg);
	if ((x = new_action(acts, n, 0, sub, "collect", e)) == NULL) {
		profile_release(&prof);
		return BG_ERR_TOOLARGE;
	}
	snprintf(x->profile, sizeof(x->profile), "%s", name);
	r = buf_printf(&x->words, "collect diagnostics with the built-in profile '%s' (%s), "
	    "read-only: configuration and environment values replaced by keyed hashes, "
	    "free text redacted; the bundle is attached to the result", name, prof.describe);
	profile_release(&prof);
	return r;
}

/*
 * A SQL step: applied through the configured database target when it
 * can be, else by hand.  What it may do comes from the signed statement
 * (the row count, approved-destructive statements, by the script's
 * SHA-256) and the configuration (the target), never from the file's
 * unsigned parts.  A statement that is refused, or destructive without
 * approval, refuses the runbook (BG_ERR_POLICY) before anything runs.
 */
static int
add_sql(const runbook *rb, const dbapply_target *db, const runbook_step *s, action *x,
    bg_error *e)
{
	uint64_t marks = 0;
	bg_error why;
	int r;

	bg_error_clear(&why);
	x->name = s->name;
	x->sha = s->sha256;
	if (db->engine == 0) {
		snprintf(x->kind, sizeof(x->kind), "manual");
		return buf_printf(&x->words, "the SQL script '%s': run it by hand and attach its "
		    "output (--attach %d=FILE); recorded as operator-reported (no database target "
		    "in this host's runbook configuration)", s->name, s->n);
	}
	consent_sql_marks(rb->stmt, s->sha256, &x->rows, &marks);
	r = dbapply_supported(db, &why);
	if (r == 0) {
		/* the approvers read the script as the plan's engine: another
		 * engine's reading of it is not what they signed */
		char *pe = runbook_plan_field(rb, "sql-engine");
		const char *want = pe != NULL ? pe : "postgresql";

		if (strcmp(want, dbapply_engine_name(db->engine)) != 0)
			r = bg_fail(&why, BG_ERR_UNSUPPORTED, "the signed plan's SQL is for %.16s "
			    "(sql-engine), this host's target is %s", want,
			    dbapply_engine_name(db->engine));
		free(pe);
	}
	if (r == 0 && x->rows < 0)
		r = bg_fail(&why, BG_ERR_UNSUPPORTED, "the signed plan states no row count for it "
		    "(expect-rows)");
	if (r == 0 && (r = dbapply_check(db, s->data, s->len, marks, &x->sqlc, &why)) == 0)
		x->have_sql = 1;
	if (r == BG_ERR_POLICY || r == BG_ERR_INVALID || r == BG_ERR_TOOLARGE)
		return bg_fail(e, r, "step %d (SQL script '%s'): %.400s", s->n, s->name, why.msg);
	if (r != 0) {
		snprintf(x->kind, sizeof(x->kind), "manual");
		return buf_printf(&x->words, "the SQL script '%s' (%s database '%s'): %s; run it by "
		    "hand and attach its output (--attach %d=FILE); recorded as operator-reported",
		    s->name, dbapply_engine_name(db->engine), db->database, why.msg, s->n);
	}
	snprintf(x->kind, sizeof(x->kind), "sql");
	r = buf_printf(&x->words, "apply the SQL script '%s' to the %s database '%s' in one "
	    "transaction:", s->name, dbapply_engine_name(db->engine), db->database);
	for (size_t i = 0; r == 0 && i < x->sqlc.n; i++)
		r = buf_printf(&x->words, "%s %s on %s", i ? "," : "",
		    sqlcheck_kind_name(x->sqlc.v[i].kind), x->sqlc.v[i].tables[0]);
	if (r == 0)
		r = buf_printf(&x->words, "; the rows it changes are kept first as a before-image "
		    "inside the database; the signed plan states %lld row%s: any other count rolls "
		    "back and stops the run", (long long)x->rows, x->rows == 1 ? "" : "s");
	return r;
}

/*
 * Every action of rb, parsed and described, before anything runs: step 0
 * (before the fix: the plan's collects, then its checks), the artifacts in
 * order, the smoke test (nsteps + 1), the checks again after the fix (the
 * step after that).  Checks and collects come from the plan text, which
 * the approvers signed (its SHA-256 is in the statement).
 */
static int
plan_actions(const runbook *rb, const dbapply_target *db, action *acts, size_t *n, bg_error *e)
{
	char *smoke = runbook_plan_field(rb, "smoke-test");
	kv_doc d;
	size_t i;
	int r = 0, sub0 = 0, nsub = 0, after;

	*n = 0;
	if ((r = runbook_plan_doc(rb, &d, e)) != 0) {
		free(smoke);
		return bg_fail(e, r, "the plan text: %.300s", e->msg);
	}
	for (i = 0; i < d.n && r == 0; i++)
		if (strcmp(d.items[i].key, "collect") == 0)
			r = add_collect(acts, n, ++sub0, d.items[i].value, e);
	for (i = 0; i < d.n && r == 0; i++)
		if (strcmp(d.items[i].key, "check") == 0)
			r = add_check(acts, n, 0, ++sub0, d.items[i].value, "before", e);
	for (i = 0; i < rb->nsteps && r == 0; i++) {
		const runbook_step *s = &rb->step[i];

		if (strcmp(s->kind, "commands") == 0) {
			const char *p = s->data, *end = s->data + s->len;
			int sub = 0;

			while (p < end && r == 0) {
				const char *nl = memchr(p, '\n', (size_t)(end - p));
				size_t ln = nl ? (size_t)(nl - p) : (size_t)(end - p);
				char line[ARGV_MAX_ARG];

				if (ln >= sizeof(line)) {
					r = bg_fail(e, BG_ERR_INVALID, "step %d: a command line is too long",
					    s->n);
					break;
				}
				memcpy(line, p, ln);
				line[ln] = '\0';
				p += ln + (nl != NULL);
				text_trim(line);
				if (line[0] == '\0' || line[0] == '#')
					continue;
				r = add_command(acts, n, s->n, ++sub, line, e);
			}
			continue;
		}
		if (*n == MAX_ACTIONS) {
			r = bg_fail(e, BG_ERR_TOOLARGE, "more than %d actions", MAX_ACTIONS);
			break;
		}
		memset(&acts[*n], 0, sizeof(acts[0]));
		buf_init(&acts[*n].words, 8192);
		acts[*n].step = s->n;
		acts[*n].text = s->data;
		acts[*n].len = s->len;
		if (strcmp(s->kind, "diff") == 0) {
			snprintf(acts[*n].kind, sizeof(acts[0].kind), "diff");
			if ((r = diff_parse(s->data, s->len, &acts[*n].d, e)) != 0) {
				buf_release(&acts[*n].words);
				r = bg_fail(e, r, "step %d ('%s'): %.300s", s->n, s->name, e->msg);
				break;
			}
			acts[*n].have_diff = 1;
			r = buf_printf(&acts[*n].words, "apply the diff '%s' (%zu file%s) under the "
			    "root, after checking each file still has the approved pre-image",
			    s->name, acts[*n].d.nf, acts[*n].d.nf == 1 ? "" : "s");
		} else if (strcmp(s->kind, "sql") == 0) {
			(*n)++;   /* counted now: a refusal releases it with the rest */
			if ((r = add_sql(rb, db, s, &acts[*n - 1], e)) != 0)
				break;
			continue;
		} else {
			snprintf(acts[*n].kind, sizeof(acts[0].kind), "manual");
			r = buf_printf(&acts[*n].words, "the file '%s': run it by hand and attach its "
			    "output (--attach %d=FILE); recorded as operator-reported", s->name, s->n);
		}
		(*n)++;
	}
	if (r == 0 && smoke != NULL) {
		argv_list probe;
		bg_error tmp;

		if (strchr(smoke, '\n') == NULL && rbstep_argv(smoke, &probe, &tmp) == 0) {
			argv_release(&probe);
			r = add_command(acts, n, (int)rb->nsteps + 1, 0, smoke, e);
			if (r == 0)
				r = buf_puts(&acts[*n - 1].words, " (the plan's smoke check)");
		} else if (*n < MAX_ACTIONS) {
			memset(&acts[*n], 0, sizeof(acts[0]));
			buf_init(&acts[*n].words, 8192);
			acts[*n].step = (int)rb->nsteps + 1;
			snprintf(acts[*n].kind, sizeof(acts[0].kind), "manual");
			r = buf_printf(&acts[*n].words, "smoke check by hand: %s (attach the result: "
			    "--attach %zu=FILE)", smoke, rb->nsteps + 1);
			(*n)++;
		}
	}
	after = (int)rb->nsteps + 1 + (smoke != NULL);
	for (i = 0; i < d.n && r == 0; i++)
		if (strcmp(d.items[i].key, "check") == 0)
			r = add_check(acts, n, after, ++nsub, d.items[i].value, "after", e);
	kv_doc_release(&d);
	free(smoke);
	return r;
}

/* "2" or "2.3" (the third command of step 2). */
static const char *
label(const action *x, char lb[32])
{
	if (x->sub > 0)
		snprintf(lb, 32, "%d.%d", x->step, x->sub);
	else
		snprintf(lb, 32, "%d", x->step);
	return lb;
}

static void
actions_free(action *acts, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		argv_release(&acts[i].argv);
		if (acts[i].have_check)
			plan_check_release(&acts[i].pc);
		if (acts[i].have_diff)
			diff_release(&acts[i].d);
		if (acts[i].have_sql)
			sqlcheck_release(&acts[i].sqlc);
		buf_release(&acts[i].words);
	}
}

/* Attachments given for step (--attach STEP=FILE) as records. */
static int
attach_records(const cmd_args *a, int step, rbresult_writer *w, int *count, bg_error *e)
{
	int r = 0;

	*count = 0;
	for (int i = 0; i < a->val[3].n && r == 0; i++) {
		const char *v = a->val[3].all[i], *eq = strchr(v, '=');
		char *endp;
		long s = strtol(v, &endp, 10);
		buf content, red, body;
		json j;
		size_t bad, found = 0;
		char sha[65];
		int istext;

		if (eq == NULL || endp != eq || s != step)
			continue;
		buf_init(&content, 8 * 1024 * 1024);
		buf_init(&red, RBRESULT_MAX_BODY);
		buf_init(&body, RBRESULT_MAX_BODY);
		if ((r = fileio_read(eq + 1, 4 * 1024 * 1024, &content, e)) == 0) {
			hash_sha256_hex(content.data ? content.data : "", content.len, sha);
			istext = text_check(content.data ? content.data : "", content.len, 1, &bad) == 0;
			if (istext)
				r = scan_redact(content.data ? content.data : "", content.len, &red, &found);
			json_init(&j, &body);
			json_obj_begin(&j);
			json_kv_str(&j, "file", eq + 1);
			json_kv_str(&j, "sha256", sha);
			json_kv_int(&j, "size", (int64_t)content.len);
			json_kv_bool(&j, "text", istext);
			json_kv_int(&j, "redacted", (int64_t)found);
			if (istext) {
				json_key(&j, "content");
				json_strn(&j, red.data ? red.data : "", red.len);
			}
			json_obj_end(&j);
			if (r == 0 && (r = json_error(&j)) == 0)
				r = rbresult_add(w, "attach", step, "reported", body.data, body.len);
			if (r == 0)
				(*count)++;
		}
		buf_release(&content);
		buf_release(&red);
		buf_release(&body);
	}
	return r;
}

/* Sign text with the operator's key through ssh-keygen -Y sign. */
static int
operator_sign(const conf *c, const char *sha, const buf *text, buf *sig, bg_error *e)
{
	buf path, sigpath, outp;
	char *argv[] = { "/usr/bin/ssh-keygen", "-q", "-Y", "sign", "-n", RBRESULT_NAMESPACE,
		"-f", NULL, NULL, NULL };
	int r, status;

	buf_init(&path, 4096);
	buf_init(&sigpath, 4096);
	buf_init(&outp, 16384);
	if ((r = run_path(c, sha, "unsigned", &path)) != 0 ||
	    (r = buf_printf(&sigpath, "%s.sig", path.data)) != 0)
		goto out;
	unlink(path.data);
	unlink(sigpath.data);
	if ((r = fileio_write_atomic(path.data, text->data, text->len, 0600, 0, e)) != 0)
		goto out;
	argv[7] = (char *)c->key;
	argv[8] = path.data;
	if ((r = proc_run(argv, NULL, 0, &outp, &status, e)) != 0)
		goto out;
	if (status != 0) {
		r = bg_fail(e, BG_ERR_EXEC, "ssh-keygen -Y sign failed (exit %d): %.200s", status,
		    buf_cstr(&outp));
		goto out;
	}
	r = fileio_read(sigpath.data, SSHSIG_MAX_ARMOURED, sig, e);
	unlink(sigpath.data);
out:
	buf_release(&path);
	buf_release(&sigpath);
	buf_release(&outp);
	return r;
}

/*
 * A check step: the request (smokecheck_run, on this host), its status,
 * timing and body hash into j - never the body.  Before the fix a failing
 * check is what the incident looks like, so it does not stop the run
 * (status "-"); after the fix a failing check fails the run.
 */
static const char *
run_check(action *x, json *j, bg_error *e)
{
	smokecheck c = x->pc.c;
	int before = strcmp(x->phase, "before") == 0, r;
	char expect[16];
	const char *status;

	buf_init(&c.excerpt, 4096);
	if (c.expect)
		snprintf(expect, sizeof(expect), "%d", c.expect);
	else
		snprintf(expect, sizeof(expect), "2xx");
	json_kv_str(j, "check", x->pc.name);
	json_kv_str(j, "phase", x->phase);
	json_kv_str(j, "url", c.url);
	json_kv_str(j, "expect", expect);
	if (c.contains != NULL)
		json_kv_str(j, "contains", c.contains);
	if ((r = smokecheck_run(&c, e)) != 0) {
		json_kv_str(j, "error", e->msg);
		printf("   the check could not run: %s\n", e->msg);
		buf_release(&c.excerpt);
		return "failed";
	}
	json_kv_str(j, "result", c.pass ? "pass" : "fail");
	json_kv_int(j, "status", c.status);
	json_kv_int(j, "elapsed_ms", c.elapsed_ms);
	json_kv_str(j, "body_sha256", c.body_sha256);
	json_kv_int(j, "body_size", (int64_t)c.body_size);
	if (!c.pass)
		json_kv_str(j, "why", c.why);
	if (c.pass)
		printf("   pass: status %ld (%lld ms, body sha256 %.12s...)\n", c.status,
		    (long long)c.elapsed_ms, c.body_sha256);
	else
		printf("   fail: %s (%lld ms, body sha256 %.12s...)\n", c.why,
		    (long long)c.elapsed_ms, c.body_sha256);
	if (before)
		printf("   %s\n", c.pass ? "it passes before any fix: it may not see the incident" :
		    "it fails before the fix, as the incident does: it runs again after the fix");
	if (!c.pass && c.excerpt.len > 0) {
		char ex[200];
		size_t i, n = c.excerpt.len < sizeof(ex) - 1 ? c.excerpt.len : sizeof(ex) - 1;

		for (i = 0; i < n; i++) {
			unsigned char ch = (unsigned char)c.excerpt.data[i];

			ex[i] = ch < 0x20 || ch == 0x7f ? ' ' : (char)ch;
		}
		ex[n] = '\0';
		printf("   body begins (redacted, not recorded): %s\n", ex);
	}
	status = before ? "-" : c.pass ? "ok" : "failed";
	buf_release(&c.excerpt);
	return status;
}

/*
 * A collect step: the built-in profile, read-only, under collect-root,
 * values hashed with the per-incident key (kept here, never attached).
 * The bundle is kept in the state directory and its text goes into the
 * result as an attach record (attach: the JSON for it); the step record
 * carries its SHA-256.
 */
static const char *
run_collect(const conf *cf, const runbook *rb, action *x, json *j, buf *attach, bg_error *e)
{
	profile prof;
	bundle_key key;
	collect_opts o;
	collect_stats st;
	buf out, kpath, local;
	char sha[65];
	int created = 0, r, have_prof = 0, have_key = 0;
	double t0 = utc_mono();
	json aj;

	buf_init(&out, BUNDLE_MAX);
	buf_init(&kpath, 4096);
	buf_init(&local, 4096);
	json_kv_str(j, "collect", x->profile);
	if ((r = profile_load(x->profile, &prof, e)) != 0)
		goto fail;
	have_prof = 1;
	if (cf->ckey != NULL)
		r = buf_puts(&kpath, cf->ckey);
	else
		r = buf_printf(&kpath, "%s/collect.key", cf->state);
	if (r != 0 || (r = bundle_key_load(kpath.data, 1, &key, &created, e)) != 0)
		goto fail;
	have_key = 1;
	memset(&o, 0, sizeof(o));
	o.root = cf->croot;
	o.prof = &prof;
	o.key = &key;
	o.now = utc_now();
	if ((r = collect_run(&o, &out, &st, e)) != 0)
		goto fail;
	hash_sha256_hex(out.data, out.len, sha);
	if ((r = run_path(cf, rb->sha256, "", &local)) != 0 ||
	    (r = buf_printf(&local, "collect-%d.bundle", x->sub)) != 0 ||
	    (r = fileio_write_atomic(local.data, out.data, out.len, 0600, 0, e)) != 0)
		goto fail;
	json_kv_str(j, "sha256", sha);
	json_kv_int(j, "size", (int64_t)out.len);
	json_kv_str(j, "key_id", key.id);
	json_kv_int(j, "records", (int64_t)st.records);
	json_kv_int(j, "shown", (int64_t)st.shown);
	json_kv_int(j, "hashed", (int64_t)st.hashed);
	json_kv_int(j, "redacted", (int64_t)st.redacted);
	json_kv_int(j, "skipped", (int64_t)st.skipped);
	json_kv_int(j, "duration_ms", (int64_t)((utc_mono() - t0) * 1000.0 + 0.5));
	json_kv_str(j, "kept", local.data);
	json_init(&aj, attach);
	json_obj_begin(&aj);
	json_kv_str(&aj, "collect", x->profile);
	json_kv_str(&aj, "sha256", sha);
	json_kv_int(&aj, "size", (int64_t)out.len);
	json_key(&aj, "content");
	json_strn(&aj, out.data, out.len);
	json_obj_end(&aj);
	if ((r = json_error(&aj)) != 0 || attach->len > RBRESULT_MAX_BODY) {
		buf_reset(attach);
		r = bg_fail(e, BG_ERR_TOOLARGE, "the diagnostics bundle (%zu bytes) is too large to "
		    "attach to the result (%u bytes at most); it is kept in %s", out.len,
		    RBRESULT_MAX_BODY, local.data);
		goto fail;
	}
	printf("   %llu records (%llu values shown, %llu hashed, %llu findings redacted), "
	    "sha256 %.12s..., kept in %s\n", (unsigned long long)st.records,
	    (unsigned long long)st.shown, (unsigned long long)st.hashed,
	    (unsigned long long)st.redacted, sha, local.data);
	if (created)
		printf("   made the per-incident key %s: keep it here, never send it\n", kpath.data);
	goto out;
fail:
	json_kv_str(j, "error", e->msg);
	printf("   collect failed: %s\n", e->msg);
out:
	if (have_key)
		bundle_key_wipe(&key);
	if (have_prof)
		profile_release(&prof);
	buf_release(&out);
	buf_release(&kpath);
	buf_release(&local);
	return r == 0 ? "ok" : "failed";
}

/* Append a line to the run record (what rollback undoes); fsync'd. */
static int
run_note(const conf *c, const char *sha, const char *line, bg_error *e)
{
	buf p;
	int fd, r = 0;

	buf_init(&p, 4096);
	if ((r = run_path(c, sha, "run", &p)) != 0)
		goto out;
	if ((fd = open(p.data, O_WRONLY | O_APPEND | O_CLOEXEC)) < 0) {
		r = bg_fail(e, BG_ERR_IO, "'%s': %s", p.data, strerror(errno));
		goto out;
	}
	if (fileio_write_full(fd, line, strlen(line)) != 0 || fsync(fd) != 0)
		r = bg_fail(e, BG_ERR_IO, "'%s': %s", p.data, strerror(errno));
	close(fd);
out:
	buf_release(&p);
	return r;
}

/*
 * A SQL step through the database target: before-image, patch and the
 * count in one transaction (dbapply).  Into j: counts, statements' kinds,
 * tables and changed columns, the image's tag, duration; never a row
 * value.  The tag goes into the run record for rollback before the patch
 * runs, so a crash after its commit still leaves rollback the image.
 */
static const char *
run_sql(const conf *cf, const runbook *rb, action *x, json *j, bg_error *e)
{
	dbapply_result res;
	char tag[48], role[32], line[96];
	double t0 = utc_mono();
	int r;

	snprintf(tag, sizeof(tag), "rb%lld_s%d_%.12s", (long long)rb->ticket, x->step, x->sha);
	snprintf(role, sizeof(role), "bg_rb%lld", (long long)rb->ticket);
	json_kv_str(j, "sql", x->name);
	json_kv_str(j, "kind", "client-run");
	json_kv_str(j, "engine", dbapply_engine_name(cf->db.engine));
	json_kv_str(j, "database", cf->db.database);
	json_kv_int(j, "expect_rows", x->rows);
	memset(&res, 0, sizeof(res));
	snprintf(line, sizeof(line), "sql: %s\n", tag);
	if ((r = run_note(cf, rb->sha256, line, e)) == 0)
		r = dbapply_patch(&cf->db, x->text, x->len, &x->sqlc, x->rows, tag, role, &res, e);
	json_kv_int(j, "rows", res.rows);
	json_key(j, "statements");
	json_arr_begin(j);
	for (size_t i = 0; i < res.n; i++) {
		json_obj_begin(j);
		json_kv_int(j, "n", (int64_t)i + 1);
		json_kv_str(j, "kind", sqlcheck_kind_name(res.v[i].kind));
		json_kv_str(j, "table", res.v[i].table);
		json_kv_int(j, "rows", res.v[i].rows);
		if (res.v[i].columns[0])
			json_kv_str(j, "columns", res.v[i].columns);
		json_obj_end(j);
	}
	json_arr_end(j);
	json_kv_int(j, "duration_ms", (int64_t)((utc_mono() - t0) * 1000.0 + 0.5));
	if (r != 0) {
		json_kv_str(j, "error", e->msg);
		printf("   not applied: %s\n", e->msg);
		return "failed";
	}
	json_kv_int(j, "transaction_ms", (int64_t)(res.txn_ms + 0.5));
	json_kv_str(j, "before_image", tag);
	for (size_t i = 0; i < res.n; i++)
		printf("   statement %zu: %s on %s, %lld row%s%s%s\n", i + 1,
		    sqlcheck_kind_name(res.v[i].kind), res.v[i].table, (long long)res.v[i].rows,
		    res.v[i].rows == 1 ? "" : "s", res.v[i].columns[0] ? ", columns " : "",
		    res.v[i].columns);
	printf("   applied: %lld row%s (the signed plan states %lld); before-image '%s' kept in "
	    "%s breakglass %s '%s' (undo: breakglass runbook rollback FILE)\n",
	    (long long)res.rows, res.rows == 1 ? "" : "s", (long long)x->rows, tag,
	    cf->db.engine == DBAPPLY_MARIADB ? "database" : "schema",
	    cf->db.engine == DBAPPLY_MARIADB ? "of the MariaDB server, beside" : "of database",
	    cf->db.database);
	return "ok";
}

static int
do_run(cmd_args *a)
{
	conf c;
	runbook rb;
	action *acts = NULL;
	size_t nacts = 0, i;
	rbresult_writer w;
	snapshot before, prev, cur;
	snap_stats sst;
	buf text, p1, body, rec, sig, report, cattach;
	char *summary = NULL, *rollback = NULL, u[UTC_STRLEN];
	int have_before = 0, have_prev = 0, failed = 0, stopped = 0, ran = 0, r, fd;
	int64_t now;
	bg_error e;
	json j;
	char lb[32];

	if (a->npos != 2)
		return cmd_failf(EXIT_USAGE, "runbook run: name one runbook file");
	bg_error_clear(&e);
	memset(&rb, 0, sizeof(rb));
	memset(&w, 0, sizeof(w));
	memset(&before, 0, sizeof(before));
	memset(&prev, 0, sizeof(prev));
	memset(&cur, 0, sizeof(cur));
	buf_init(&text, RUNBOOK_MAX_INPUT);
	buf_init(&p1, 4096);
	buf_init(&body, RBRESULT_MAX_BODY);
	buf_init(&rec, RBSTEP_MAX_OUTPUT + 1024);
	buf_init(&sig, SSHSIG_MAX_ARMOURED);
	buf_init(&report, 64 * 1024);
	buf_init(&cattach, RBRESULT_MAX_BODY);
	if ((r = conf_load(cmd_opt(a, 1) ? cmd_opt(a, 1) : DEFAULT_CONF, &c, &e)) != 0) {
		r = cmd_fail(r, &e);
		goto out0;
	}
	if (c.key == NULL) {
		r = cmd_failf(EXIT_USAGE, "runbook run: the configuration names no operator-key "
		    "to sign the result bundle with");
		goto out;
	}
	if ((acts = calloc(MAX_ACTIONS, sizeof(*acts))) == NULL) {
		r = cmd_fail(BG_ERR_NOMEM, NULL);
		goto out;
	}
	/* everything is checked before anything runs */
	now = utc_now();
	if ((r = fileio_read(a->pos[1], RUNBOOK_MAX_INPUT, &text, &e)) != 0 ||
	    (r = runbook_parse(text.data ? text.data : "", text.len, &rb, &e)) != 0) {
		r = cmd_fail(r, &e);
		goto out;
	}
	{
		runbook_trust tr = { c.signers.data ? c.signers.data : "", c.signers.len, c.quorum,
			c.system };

		if ((r = runbook_verify(&rb, &tr, now, &e)) != 0) {
			r = cmd_failf(cmd_exit_code(r), "runbook '%s' refused, nothing was run: %s",
			    a->pos[1], e.msg);
			goto out;
		}
	}
	if ((r = plan_actions(&rb, &c.db, acts, &nacts, &e)) != 0) {
		r = cmd_failf(cmd_exit_code(r), "runbook '%s' refused, nothing was run: %s",
		    a->pos[1], e.msg);
		goto out;
	}
	run_path(&c, rb.sha256, "run", &p1);
	if (access(p1.data, F_OK) == 0) {
		r = cmd_failf(EXIT_REFUSED, "runbook '%s' (sha256 %.16s...) was already run on this "
		    "host (%s); nothing was run", a->pos[1], rb.sha256, p1.data);
		goto out;
	}
	summary = runbook_plan_field(&rb, "summary");
	rollback = runbook_plan_field(&rb, "rollback");
	utc_format(rb.expires, u);
	printf("runbook for T-%lld, plan P-%lld, system %s: %s\n  signed by a quorum of %d known "
	    "approvers; valid until %s\n  rollback notes: %s\n  %zu actions:\n",
	    (long long)rb.ticket, (long long)rb.plan, rb.system, summary ? summary : "",
	    c.quorum, u, rollback ? rollback : "", nacts);
	for (i = 0; i < nacts; i++)
		printf("    %s. %s\n", label(&acts[i], lb), acts[i].words.data);
	fflush(stdout);
	/* from here on this runbook counts as run on this host */
	fd = open(p1.data, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		r = cmd_failf(EXIT_REFUSED, "runbook already started on this host (%s)", p1.data);
		goto out;
	}
	if ((r = rbresult_begin(&w, rb.ticket, rb.sha256, c.system, c.op)) != 0) {
		close(fd);
		r = cmd_fail(r, &e);
		goto out;
	}
	/* the snapshot everything is undone to */
	run_path(&c, "snapshots", "d", &p1);
	{
		const char *roots[1] = { c.root };

		if ((r = snapshot_take(p1.data, roots, 1, NULL, rb.ticket, 0, utc_now(), NULL, NULL,
		    &before, &sst, &e)) != 0) {
			close(fd);
			r = cmd_fail(r, &e);
			goto out;
		}
	}
	have_before = 1;
	{
		buf st;

		buf_init(&st, 1024);
		buf_printf(&st, "runbook: %s\nticket: T-%lld\nsnapshot: %s\n", rb.sha256,
		    (long long)rb.ticket, before.id);
		(void)fileio_write_full(fd, st.data, st.len);
		(void)fsync(fd);
		buf_release(&st);
	}
	close(fd);
	json_init(&j, &body);
	json_obj_begin(&j);
	json_kv_int(&j, "ticket", rb.ticket);
	json_kv_int(&j, "plan", rb.plan);
	json_kv_str(&j, "system", c.system);
	json_kv_str(&j, "operator", c.op);
	json_kv_time(&j, "started", utc_now());
	json_kv_str(&j, "snapshot", before.id);
	json_kv_int(&j, "actions", (int64_t)nacts);
	json_obj_end(&j);
	if ((r = rbresult_add(&w, "run", 0, "-", body.data, body.len)) != 0) {
		r = cmd_fail(r, &e);
		goto out;
	}
	for (i = 0; i < nacts && !failed && !stopped; i++) {
		action *x = &acts[i];
		const char *status = "ok";
		char q[600];
		int nattach = 0;

		buf_reset(&body);
		buf_reset(&rec);
		printf("\n== step %s: %s\n", label(x, lb), x->words.data);
		fflush(stdout);
		if (strcmp(x->kind, "manual") == 0) {
			if ((r = attach_records(a, x->step, &w, &nattach, &e)) != 0) {
				r = cmd_fail(r, &e);
				goto out;
			}
			status = nattach > 0 ? "reported" : "skipped";
			json_init(&j, &body);
			json_obj_begin(&j);
			json_kv_str(&j, "action", x->words.data);
			json_kv_str(&j, "kind", "operator-reported");
			json_kv_int(&j, "attachments", nattach);
			json_obj_end(&j);
			printf("   %s\n", nattach ? "recorded as operator-reported" :
			    "nothing attached: recorded as not run");
			if ((r = rbresult_add(&w, "step", x->step, status, body.data, body.len)) != 0) {
				r = cmd_fail(r, &e);
				goto out;
			}
			continue;
		}
		snprintf(q, sizeof(q), "   run step %s?", label(x, lb));
		if (!ask(q, cmd_opt(a, 2) != NULL)) {
			printf("   not run: the run stops here\n");
			json_init(&j, &body);
			json_obj_begin(&j);
			json_kv_str(&j, "action", x->words.data);
			json_kv_str(&j, "why", "declined by the operator");
			json_obj_end(&j);
			rbresult_add(&w, "step", x->step, "skipped", body.data, body.len);
			stopped = 1;
			break;
		}
		ran++;
		json_init(&j, &body);
		json_obj_begin(&j);
		json_kv_str(&j, "action", x->words.data);
		if (strcmp(x->kind, "command") == 0) {
			rbstep_run res;
			buf argvtxt;

			buf_init(&argvtxt, 64 * 1024);
			argv_join(&x->argv, &argvtxt);
			json_kv_str(&j, "argv", argvtxt.data);
			json_kv_int(&j, "command", x->sub);
			buf_release(&argvtxt);
			r = rbstep_command(&x->argv, STDOUT_FILENO, &rec, &res, &e);
			if (r != 0) {
				json_kv_str(&j, "error", e.msg);
				status = "failed";
			} else {
				json_kv_int(&j, "exit", res.status);
				json_kv_int(&j, "duration_ms", (int64_t)(res.seconds * 1000.0 + 0.5));
				json_kv_int(&j, "redacted", (int64_t)res.found);
				json_kv_bool(&j, "output_truncated", res.truncated);
				if (res.status != 0)
					status = "failed";
			}
			json_key(&j, "output");
			json_strn(&j, rec.data ? rec.data : "", rec.len);
			printf("   exit %d\n", r == 0 ? res.status : -1);
		} else if (strcmp(x->kind, "check") == 0) {
			status = run_check(x, &j, &e);
			r = 0;
		} else if (strcmp(x->kind, "collect") == 0) {
			buf_reset(&cattach);
			status = run_collect(&c, &rb, x, &j, &cattach, &e);
			r = 0;
		} else if (strcmp(x->kind, "sql") == 0) {
			status = run_sql(&c, &rb, x, &j, &e);
			r = 0;
		} else {
			const char *roots[1] = { c.root };
			double t0 = utc_mono();

			buf_reset(&report);
			r = rbstep_diff_apply(c.root, &x->d, &report, &e);
			json_kv_int(&j, "duration_ms", (int64_t)((utc_mono() - t0) * 1000.0 + 0.5));
			if (r != 0) {
				json_kv_str(&j, "error", e.msg);
				printf("   refused: %s\n", e.msg);
				status = "failed";
			} else {
				printf("%s", report.data);
				r = snapshot_take(p1.data, roots, 1, have_prev ? &prev : &before,
				    rb.ticket, 0, utc_now(), NULL, NULL, &cur, &sst, &e);
				if (r == 0) {
					changeset cs;
					buf cj;

					buf_init(&cj, 4 * 1024 * 1024);
					if (changes_compute(have_prev ? &prev : &before, &cur, &cs, &e) == 0) {
						if (changes_json(p1.data, have_prev ? &prev : &before, &cur, &cs,
						    64 * 1024, &cj, &e) == 0) {
							json_key(&j, "changes");
							json_raw(&j, cj.data);
						}
						changes_release(&cs);
					}
					buf_release(&cj);
					if (have_prev)
						snapshot_release(&prev);
					prev = cur;
					memset(&cur, 0, sizeof(cur));
					have_prev = 1;
				} else {
					json_kv_str(&j, "error", e.msg);
					status = "failed";
				}
			}
			r = 0;
		}
		json_obj_end(&j);
		if ((r = json_error(&j)) != 0 ||
		    (r = rbresult_add(&w, "step", x->step, status, body.data, body.len)) != 0 ||
		    (cattach.len > 0 && (r = rbresult_add(&w, "attach", x->step, "ok", cattach.data,
		    cattach.len)) != 0) ||
		    (r = attach_records(a, x->step, &w, &nattach, &e)) != 0) {
			r = cmd_fail(r, &e);
			goto out;
		}
		if (strcmp(status, "failed") == 0) {
			failed = 1;
			printf("   step %s failed: the run stops here (undo with: breakglass runbook "
			    "rollback %s)\n", label(x, lb), a->pos[1]);
		}
	}
	buf_reset(&body);
	json_init(&j, &body);
	json_obj_begin(&j);
	json_kv_str(&j, "outcome", failed ? "failed" : stopped ? "stopped" : "completed");
	json_kv_int(&j, "ran", ran);
	json_kv_int(&j, "actions", (int64_t)nacts);
	json_kv_time(&j, "ended", utc_now());
	json_obj_end(&j);
	if ((r = rbresult_add(&w, "end", 0, failed ? "failed" : stopped ? "skipped" : "ok",
	    body.data, body.len)) != 0 ||
	    (r = operator_sign(&c, rb.sha256, &w.out, &sig, &e)) != 0 ||
	    (r = rbresult_seal(&w, sig.data, sig.len)) != 0) {
		r = cmd_fail(r, &e);
		goto out;
	}
	run_path(&c, rb.sha256, "bundle", &p1);
	if ((r = fileio_write_atomic(p1.data, w.out.data, w.out.len, 0600, 0, &e)) != 0 ||
	    (cmd_opt(a, 0) != NULL &&
	    (r = fileio_write_atomic(cmd_opt(a, 0), w.out.data, w.out.len, 0644, 0, &e)) != 0)) {
		r = cmd_fail(r, &e);
		goto out;
	}
	printf("\nresult bundle: %s (signed by %s); send it back for: breakglass runbook import "
	    "T-%lld BUNDLE\n", cmd_opt(a, 0) ? cmd_opt(a, 0) : p1.data, c.op, (long long)rb.ticket);
	r = failed || stopped ? EXIT_REFUSED : 0;
out:
	if (acts != NULL)
		actions_free(acts, nacts);
	free(acts);
	conf_release(&c);
out0:
	if (have_before)
		snapshot_release(&before);
	if (have_prev)
		snapshot_release(&prev);
	rbresult_writer_release(&w);
	runbook_release(&rb);
	free(summary);
	free(rollback);
	buf_release(&text);
	buf_release(&p1);
	buf_release(&body);
	buf_release(&rec);
	buf_release(&sig);
	buf_release(&report);
	buf_release(&cattach);
	return r;
}

/* ---- rollback (client host) --------------------------------------------- */

#define MAX_SQL_TAGS 32

/*
 * The run's SQL steps, last first: restore each from its before-image
 * (refused, nothing restored, when its rows changed since), or with drop
 * only drop the images.  A patch rolled back before is said and skipped.
 * 0, or the first refusal (what was restored before it stays restored:
 * each patch is one transaction).
 */
static int
rollback_sql(const conf *c, char tags[][48], size_t n, int drop, bg_error *e)
{
	int64_t restored, changed;
	int r;

	for (size_t i = n; i-- > 0;) {
		if (drop) {
			if ((r = dbapply_drop(&c->db, tags[i], e)) != 0)
				return r;
			printf("dropped the before-image '%s' (database '%s')\n", tags[i],
			    c->db.database);
			continue;
		}
		r = dbapply_rollback(&c->db, tags[i], &restored, &changed, e);
		if (r == BG_ERR_STATE && strstr(e->msg, "rolled back already") != NULL) {
			printf("SQL before-image '%s': rolled back already\n", tags[i]);
			continue;
		}
		if (r == BG_ERR_NOTFOUND) { /* the step did not commit, or its image was dropped */
			printf("SQL before-image '%s': none in database '%s' (the step did not commit, "
			    "or its image was dropped): no rows restored for it\n", tags[i],
			    c->db.database);
			continue;
		}
		if (r != 0)
			return r;
		printf("restored %lld row%s of database '%s' from the before-image '%s'\n",
		    (long long)restored, restored == 1 ? "" : "s", c->db.database, tags[i]);
	}
	return 0;
}

static int
do_rollback(cmd_args *a)
{
	conf c;
	buf text, p, st, report;
	char sha[65], id[SNAP_ID_MAX] = "";
	snapshot target, current;
	snap_stats sst;
	rollback_stats rs;
	bg_error e;
	char tags[MAX_SQL_TAGS][48];
	size_t ntags = 0;
	int r, have_t = 0, have_c = 0, drop = cmd_opt(a, 4) != NULL;

	if (a->npos != 2)
		return cmd_failf(EXIT_USAGE, "runbook rollback: name the runbook or result bundle");
	bg_error_clear(&e);
	buf_init(&text, RUNBOOK_MAX_INPUT);
	buf_init(&p, 4096);
	buf_init(&st, 4096);
	buf_init(&report, 1024 * 1024);
	if ((r = conf_load(cmd_opt(a, 1) ? cmd_opt(a, 1) : DEFAULT_CONF, &c, &e)) != 0) {
		r = cmd_fail(r, &e);
		goto out0;
	}
	if ((r = fileio_read(a->pos[1], RUNBOOK_MAX_INPUT, &text, &e)) != 0) {
		r = cmd_fail(r, &e);
		goto out;
	}
	if (text.len > 29 && memcmp(text.data, "breakglass runbook result v1\n", 29) == 0) {
		rbresult res;

		if ((r = rbresult_parse(text.data, text.len, &res, &e)) != 0) {
			r = cmd_fail(r, &e);
			goto out;
		}
		memcpy(sha, res.runbook, sizeof(sha));
		rbresult_release(&res);
	} else {
		hash_sha256_hex(text.data ? text.data : "", text.len, sha);
	}
	run_path(&c, sha, "run", &p);
	if ((r = fileio_read(p.data, 64 * 1024, &st, &e)) != 0) {
		r = cmd_failf(EXIT_USAGE, "runbook %.16s... was not run on this host (no '%s')", sha,
		    p.data);
		goto out;
	}
	{
		const char *s = strstr(st.data, "\nsnapshot: "), *nl;

		if (s == NULL || (nl = strchr(s + 11, '\n')) == NULL ||
		    (size_t)(nl - s - 11) >= sizeof(id)) {
			r = cmd_failf(EXIT_HOME, "run record '%s' is damaged", p.data);
			goto out;
		}
		memcpy(id, s + 11, (size_t)(nl - s - 11));
		id[nl - s - 11] = '\0';
		/* "sql: TAG" lines: the SQL steps that committed */
		for (s = strstr(st.data, "\nsql: "); s != NULL; s = strstr(nl, "\nsql: ")) {
			size_t l;

			s += 6;
			nl = strchr(s, '\n');
			l = nl ? (size_t)(nl - s) : 0;
			if (nl == NULL || l == 0 || l >= sizeof(tags[0]) || ntags == MAX_SQL_TAGS ||
			    strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_") != l) {
				r = cmd_failf(EXIT_HOME, "run record '%s' is damaged", p.data);
				goto out;
			}
			memcpy(tags[ntags], s, l);
			tags[ntags++][l] = '\0';
		}
	}
	if (ntags > 0 && c.db.engine == 0) {
		r = cmd_failf(EXIT_USAGE, "runbook %.16s... applied %zu SQL step%s here, and the "
		    "configuration names no database target (db-postgres or db-mariadb, "
		    "db-database): nothing was changed", sha, ntags, ntags == 1 ? "" : "s");
		goto out;
	}
	if (drop) {
		if (ntags == 0) {
			r = cmd_failf(EXIT_USAGE, "runbook %.16s... applied no SQL step here: no "
			    "before-image to drop", sha);
			goto out;
		}
		printf("drop the before-image%s of runbook %.16s...'s SQL step%s (the rows stay as "
		    "the run left them; a SQL rollback is no longer possible):\n", ntags == 1 ? "" :
		    "s", sha, ntags == 1 ? "" : "s");
		for (size_t i = 0; i < ntags; i++)
			printf("  %s (database '%s')\n", tags[i], c.db.database);
		if (!ask("drop them?", cmd_opt(a, 2) != NULL)) {
			printf("nothing was changed\n");
			r = EXIT_REFUSED;
			goto out;
		}
		if ((r = rollback_sql(&c, tags, ntags, 1, &e)) != 0)
			r = cmd_fail(r, &e);
		goto out;
	}
	run_path(&c, "snapshots", "d", &p);
	if ((r = snapshot_load(p.data, id, &target, &e)) != 0) {
		r = cmd_fail(r, &e);
		goto out;
	}
	have_t = 1;
	if ((r = snapshot_take(p.data, (const char *const *)target.roots, target.nroots, &target,
	    target.ticket, 0, utc_now(), NULL, NULL, &current, &sst, &e)) != 0) {
		r = cmd_fail(r, &e);
		goto out;
	}
	have_c = 1;
	if ((r = rollback_apply(p.data, &current, &target, NULL, 1, &report, &rs, &e)) != 0) {
		r = cmd_fail(r, &e);
		goto out;
	}
	printf("roll back to last known good: what runbook %.16s... changed under %s\n%s",
	    sha, c.root, report.data);
	for (size_t i = ntags; i-- > 0;)
		printf("  restore the rows SQL changed from the before-image '%s' (database '%s'; "
		    "refused if they changed since)\n", tags[i], c.db.database);
	if (!ask("put these back?", cmd_opt(a, 2) != NULL)) {
		printf("nothing was changed\n");
		r = EXIT_REFUSED;
		goto out;
	}
	/* the database first: a refusal there leaves the files as they are */
	if ((r = rollback_sql(&c, tags, ntags, 0, &e)) != 0) {
		r = cmd_failf(cmd_exit_code(r), "SQL rollback refused: %s; the files were not "
		    "rolled back either", e.msg);
		goto out;
	}
	buf_reset(&report);
	if ((r = rollback_apply(p.data, &current, &target, NULL, 0, &report, &rs, &e)) != 0) {
		r = cmd_fail(r, &e);
		goto out;
	}
	printf("rolled back to %s: %llu restored, %llu recreated, %llu removed, %llu adjusted\n"
	    "  the state before the rollback is kept as snapshot %s\n", id,
	    (unsigned long long)rs.restored, (unsigned long long)rs.created,
	    (unsigned long long)rs.deleted, (unsigned long long)rs.meta, current.id);
	r = 0;
out:
	conf_release(&c);
out0:
	if (have_t)
		snapshot_release(&target);
	if (have_c)
		snapshot_release(&current);
	buf_release(&text);
	buf_release(&p);
	buf_release(&st);
	buf_release(&report);
	return r;
}

/* ---- import (broker) ---------------------------------------------------- */

typedef struct exported {
	const char *sha;
	int found;
	buf line;            /* the runbook.export record */
} exported;

/* Was this runbook exported for the ticket?  (its runbook.export record) */
static int
find_export(void *ctx, uint64_t seq, const char *time, const char *event, const char *line,
    size_t len)
{
	exported *x = ctx;

	if (strcmp(event, "runbook.export") == 0 && memmem(line, len, x->sha, 64) != NULL) {
		x->found = 1;
		buf_reset(&x->line);
		return buf_append(&x->line, line, len);
	}
	return 0;
}

/*
 * Every check and collect the result reports is one the exported runbook
 * has (its export record names them): a result cannot add a check that
 * passes or a bundle nobody asked for.
 */
static int
export_has(const exported *x, const rbresult_found *f, bg_error *e)
{
	const char *at = x->line.data ? x->line.data : "", *cols;
	size_t i;
	buf want;
	int r = 0;

	buf_init(&want, 8192);
	if ((at = strstr(at, "\"checks\":[")) == NULL || (cols = strstr(at, "\"collects\":[")) ==
	    NULL) {
		buf_release(&want);
		return f->nchk || f->ncol || f->nsql ? bg_fail(e, BG_ERR_TAMPER, "the runbook was "
		    "exported without check, collect or SQL steps, and the result reports some") : 0;
	}
	for (i = 0; i < f->nchk && r == 0; i++) {
		const char *es = f->chk[i].expect;
		int ex = strcmp(es, "2xx") == 0 ? 0 : (int)strtol(es, NULL, 10);

		buf_reset(&want);
		check_id(f->chk[i].c.name, f->chk[i].c.url, ex, &want);
		if (memmem(at, (size_t)(cols - at), want.data, want.len) == NULL)
			r = bg_fail(e, BG_ERR_TAMPER, "step %d reports a check '%.40s' of %.200s that "
			    "the exported runbook does not have", f->chk[i].step, f->chk[i].c.name,
			    f->chk[i].c.url);
	}
	for (i = 0; i < f->nsql && r == 0; i++) {
		const char *sq = strstr(x->line.data, "\"sql_steps\":["), *end;
		char num[24];
		size_t l;
		int hit = 0;

		if (sq != NULL && (end = strchr(sq, ']')) != NULL) {
			l = (size_t)snprintf(num, sizeof(num), "%d", f->sql[i].step);
			for (const char *q = sq + 13; q < end; q += strcspn(q, ",]") + 1)
				if ((size_t)(end - q) >= l && strncmp(q, num, l) == 0 &&
				    (q[l] == ',' || q[l] == ']'))
					hit = 1;
		}
		if (!hit)
			r = bg_fail(e, BG_ERR_TAMPER, "step %d reports a SQL script applied, and the "
			    "exported runbook's step %d is no SQL script", f->sql[i].step,
			    f->sql[i].step);
	}
	for (i = 0; i < f->ncol && r == 0; i++) {
		const char *end = strchr(cols, ']');

		buf_reset(&want);
		json_escape(&want, f->col[i].profile, strlen(f->col[i].profile));
		if (end == NULL || memmem(cols, (size_t)(end - cols), want.data, want.len) == NULL)
			r = bg_fail(e, BG_ERR_TAMPER, "step %d attaches diagnostics of profile '%s' "
			    "that the exported runbook does not collect", f->col[i].step,
			    f->col[i].profile);
	}
	buf_release(&want);
	return r;
}

static int
do_import(cmd_args *a)
{
	home *h = NULL;
	ticket *t = NULL;
	rbresult res;
	buf text, opsigners, detail, path, summary, lines, checks, diags, notes, sqls;
	char principal[256], fp[64], sha[65];
	rbresult_found *found = NULL;
	exported ex;
	int64_t tid;
	bg_error e;
	json j;
	size_t i;
	int r, have_res = 0;

	if (a->npos != 3)
		return cmd_failf(EXIT_USAGE, "runbook import: name the ticket and the bundle");
	if ((r = cmd_ticket_id(a->pos[1], &tid)) != 0)
		return r;
	if ((r = cmd_open_home(a, &h)) != 0)
		return r;
	bg_error_clear(&e);
	buf_init(&text, RBRESULT_MAX_INPUT);
	buf_init(&opsigners, 1024 * 1024);
	buf_init(&detail, 64 * 1024);
	buf_init(&path, 4096);
	buf_init(&summary, 8192);
	buf_init(&lines, 8192);
	buf_init(&checks, 64 * 1024);
	buf_init(&diags, 64 * 1024);
	buf_init(&notes, 8192);
	buf_init(&sqls, 64 * 1024);
	memset(&ex, 0, sizeof(ex));
	buf_init(&ex.line, 1024 * 1024);
	if ((found = calloc(1, sizeof(*found))) == NULL) {
		r = cmd_fail(BG_ERR_NOMEM, NULL);
		goto out;
	}
	if ((r = fileio_read(a->pos[2], RBRESULT_MAX_INPUT, &text, &e)) != 0 ||
	    (r = rbresult_parse(text.data ? text.data : "", text.len, &res, &e)) != 0) {
		r = cmd_failf(cmd_exit_code(r), "bundle '%s' refused: %s", a->pos[2], e.msg);
		goto out;
	}
	have_res = 1;
	if (res.ticket != tid) {
		r = cmd_failf(EXIT_REFUSED, "bundle '%s' is for T-%lld, not T-%lld", a->pos[2],
		    (long long)res.ticket, (long long)tid);
		goto out;
	}
	ex.sha = res.runbook;
	if ((r = audit_each(&h->log, tid, find_export, &ex, &e)) != 0) {
		r = cmd_fail(r, &e);
		goto out;
	}
	if (!ex.found) {
		r = cmd_failf(EXIT_REFUSED, "bundle '%s' is the result of runbook %.16s..., "
		    "which was not exported for T-%lld here", a->pos[2], res.runbook,
		    (long long)tid);
		goto out;
	}
	/* the operator's key: a user with the operator role, or one of the
	 * project's approvers (who may run what they approved themselves) */
	if ((r = ticket_load(h, tid, &t, &e)) != 0 ||
	    (r = users_role_signers(h, USERS_ROLE_OPERATOR, &opsigners, &e)) != 0 ||
	    (r = approver_export(h, t->project, &opsigners, &e)) != 0) {
		r = cmd_fail(r, &e);
		goto out;
	}
	if ((r = rbresult_verify(&res, opsigners.data ? opsigners.data : "", opsigners.len,
	    h->now, principal, fp, &e)) != 0) {
		r = cmd_failf(cmd_exit_code(r), "bundle '%s' refused: %s", a->pos[2], e.msg);
		goto out;
	}
	if ((r = rbresult_found_read(&res, found, &e)) != 0 ||
	    (r = export_has(&ex, found, &e)) != 0) {
		r = cmd_failf(cmd_exit_code(r), "bundle '%s' refused: %s", a->pos[2], e.msg);
		goto out;
	}
	hash_sha256_hex(text.data, text.len, sha);
	if ((r = home_path(h, "results", &path)) != 0) {
		r = cmd_fail(r, NULL);
		goto out;
	}
	if (mkdir(path.data, 0700) != 0 && errno != EEXIST) {
		r = cmd_failf(EXIT_SYSTEM, "cannot create '%s': %s", path.data, strerror(errno));
		goto out;
	}
	buf_printf(&path, "/%s", sha);
	r = fileio_write_atomic(path.data, text.data, text.len, 0440, 1, &e);
	if (r == BG_ERR_EXISTS) {
		r = cmd_failf(EXIT_REFUSED, "bundle '%s' was already imported", a->pos[2]);
		goto out;
	}
	if (r != 0) {
		r = cmd_fail(r, &e);
		goto out;
	}
	/* the diagnostics bundles, each as a file of its own (envdiff reads them) */
	for (i = 0; i < found->ncol; i++) {
		buf_reset(&path);
		if ((r = home_path(h, "results", &path)) != 0 ||
		    (r = buf_printf(&path, "/%s.collect", found->col[i].sha)) != 0) {
			r = cmd_fail(r, NULL);
			goto out;
		}
		r = fileio_write_atomic(path.data, found->col[i].content, found->col[i].size, 0440, 1,
		    &e);
		if (r != 0 && r != BG_ERR_EXISTS) { /* the same bytes, when it exists */
			r = cmd_fail(r, &e);
			goto out;
		}
		buf_printf(&diags, "%s'%s' (step %d, %zu bytes, sha256 %.16s..., kept as "
		    "results/%s.collect)", diags.len ? "; " : "", found->col[i].profile,
		    found->col[i].step, found->col[i].size, found->col[i].sha, found->col[i].sha);
	}
	for (i = 0; i < found->nchk; i++)
		buf_printf(&checks, "%s'%s' %s the fix: %s, status %ld", checks.len ? "; " : "",
		    found->chk[i].c.name, found->chk[i].phase, found->chk[i].c.pass ? "pass" : "fail",
		    found->chk[i].c.status);
	json_init(&j, &detail);
	json_obj_begin(&j);
	json_kv_str(&j, "bundle_sha256", sha);
	json_kv_str(&j, "runbook_sha256", res.runbook);
	json_kv_str(&j, "system", res.system);
	json_kv_str(&j, "operator", res.operator_);
	json_kv_str(&j, "signer", principal);
	json_kv_str(&j, "fingerprint", fp);
	json_key(&j, "steps");
	json_arr_begin(&j);
	for (i = 0; i < res.n; i++) {
		if (strcmp(res.rec[i].type, "step") != 0 && strcmp(res.rec[i].type, "attach") != 0)
			continue;
		json_obj_begin(&j);
		json_kv_int(&j, "step", res.rec[i].step);
		json_kv_str(&j, "type", res.rec[i].type);
		json_kv_str(&j, "status", res.rec[i].status);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_kv_str(&j, "outcome", res.rec[res.n - 1].status);
	json_key(&j, "checks");
	json_arr_begin(&j);
	for (i = 0; i < found->nchk; i++) {
		json_obj_begin(&j);
		json_kv_int(&j, "step", found->chk[i].step);
		json_kv_str(&j, "name", found->chk[i].c.name);
		json_kv_str(&j, "phase", found->chk[i].phase);
		json_kv_str(&j, "result", found->chk[i].c.pass ? "pass" : "fail");
		json_kv_int(&j, "status", found->chk[i].c.status);
		json_kv_str(&j, "body_sha256", found->chk[i].c.body_sha256);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_key(&j, "diagnostics");
	json_arr_begin(&j);
	for (i = 0; i < found->ncol; i++) {
		json_obj_begin(&j);
		json_kv_int(&j, "step", found->col[i].step);
		json_kv_str(&j, "profile", found->col[i].profile);
		json_kv_str(&j, "sha256", found->col[i].sha);
		json_kv_int(&j, "size", (int64_t)found->col[i].size);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_key(&j, "sql");
	json_arr_begin(&j);
	for (i = 0; i < found->nsql; i++) {
		json_obj_begin(&j);
		json_kv_int(&j, "step", found->sql[i].step);
		json_kv_str(&j, "name", found->sql[i].name);
		json_kv_str(&j, "run", "client-run");
		json_kv_str(&j, "engine", found->sql[i].engine);
		json_kv_str(&j, "database", found->sql[i].database);
		json_kv_int(&j, "rows", found->sql[i].rows);
		json_kv_int(&j, "expect_rows", found->sql[i].expect);
		json_kv_str(&j, "result", found->sql[i].ok ? "applied" : "not applied");
		if (found->sql[i].image != NULL)
			json_kv_str(&j, "before_image", found->sql[i].image);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	if (checks.len)
		json_kv_str(&j, "checks_summary", checks.data);
	if (diags.len)
		json_kv_str(&j, "diagnostics_summary", diags.data);
	for (i = 0; i < found->nsql; i++)
		buf_printf(&sqls, "%s'%s' (step %d) on %s database '%s': %s, %lld row%s (the signed "
		    "plan states %lld)%s%s", sqls.len ? "; " : "", found->sql[i].name,
		    found->sql[i].step, found->sql[i].engine, found->sql[i].database,
		    found->sql[i].ok ? "applied" : "not applied", (long long)found->sql[i].rows,
		    found->sql[i].rows == 1 ? "" : "s", (long long)found->sql[i].expect,
		    found->sql[i].ok ? ", before-image " : "", found->sql[i].ok ?
		    found->sql[i].image : "");
	if (sqls.len)
		json_kv_str(&j, "sql_summary", sqls.data);
	/* one outcome per step: a step's commands each have a record */
	for (i = 0; i < res.n; i++) {
		const char *st;
		size_t k;

		if (strcmp(res.rec[i].type, "step") != 0)
			continue;
		st = res.rec[i].status;
		for (k = i + 1; k < res.n && (strcmp(res.rec[k].type, "attach") == 0 ||
		    (strcmp(res.rec[k].type, "step") == 0 && res.rec[k].step == res.rec[i].step));
		    k++)
			if (strcmp(res.rec[k].type, "step") == 0 && strcmp(res.rec[k].status, "-") != 0 &&
			    (strcmp(st, "ok") == 0 || strcmp(st, "-") == 0))
				st = res.rec[k].status;
		if (strcmp(st, "-") == 0)
			st = "ran"; /* checks before the fix: they do not pass or fail the run */
		buf_printf(&summary, "step %d %s, ", res.rec[i].step, st);
		buf_printf(&lines, "  step %d: %s\n", res.rec[i].step, st);
		i = k - 1;
	}
	buf_printf(&summary, "outcome %s", strcmp(res.rec[res.n - 1].status, "skipped") == 0 ?
	    "stopped by the operator" : res.rec[res.n - 1].status);
	json_kv_str(&j, "summary", summary.data);
	json_obj_end(&j);
	if ((r = json_error(&j)) != 0 || (r = home_begin(h, &e)) != 0) {
		r = cmd_fail(r, &e);
		goto out;
	}
	/* the checks the client ran: smoke results of the ticket, marked client-run */
	for (i = 0; i < found->nchk && r == 0; i++) {
		const smokecheck *c = &found->chk[i].c;

		buf_reset(&notes);
		buf_printf(&notes, "client-run on %s by %s (runbook result %.16s..., step %d): check "
		    "%s %s the runbook's fix steps: GET %s: %s (status %ld, expected %s, %lld ms, "
		    "body %llu bytes sha256 %s)", res.system, res.operator_, sha, found->chk[i].step,
		    c->name, found->chk[i].phase, c->url, c->pass ? "pass" : c->why, c->status,
		    found->chk[i].expect, (long long)c->elapsed_ms, (unsigned long long)c->body_size,
		    c->body_sha256);
		r = workflow_smoke_client(h, tid, c, found->chk[i].phase, found->chk[i].expect,
		    buf_cstr(&notes), principal, &e);
	}
	if (r != 0 || (r = home_record(h, "runbook.import", tid, detail.data, &e)) != 0 ||
	    (r = home_commit(h, &e)) != 0) {
		home_abort(h);
		r = cmd_fail(r, &e);
		goto out;
	}
	if (a->json) {
		printf("%s\n", detail.data);
	} else {
		printf("T-%lld: result bundle of runbook %.16s... recorded (run on %s by %s, signed "
		    "by %s)\n", (long long)tid, res.runbook, res.system, res.operator_, principal);
		printf("%s", buf_cstr(&lines));
		for (i = 0; i < found->nchk; i++)
			printf("  check '%s' %s the fix (client-run): %s, status %ld, body sha256 "
			    "%.12s... - recorded as a smoke result\n", found->chk[i].c.name,
			    found->chk[i].phase, found->chk[i].c.pass ? "pass" : "fail",
			    found->chk[i].c.status, found->chk[i].c.body_sha256);
		for (i = 0; i < found->ncol; i++)
			printf("  diagnostics '%s' (step %d): %zu bytes, sha256 %.12s..., stored as "
			    "results/%s.collect\n", found->col[i].profile, found->col[i].step,
			    found->col[i].size, found->col[i].sha, found->col[i].sha);
		for (i = 0; i < found->nsql; i++) {
			if (found->sql[i].ok)
				printf("  SQL '%s' (step %d, client-run on %s, %s database '%s'): "
				    "applied, %lld row%s (the signed plan states %lld), before-image '%s' "
				    "on the client's database, %lld ms\n", found->sql[i].name,
				    found->sql[i].step, res.system, found->sql[i].engine,
				    found->sql[i].database, (long long)found->sql[i].rows,
				    found->sql[i].rows == 1 ? "" : "s", (long long)found->sql[i].expect,
				    found->sql[i].image, (long long)found->sql[i].duration_ms);
			else
				printf("  SQL '%s' (step %d, client-run on %s, %s database '%s'): not "
				    "applied, nothing changed (%lld row%s counted, the signed plan states "
				    "%lld): %.300s\n", found->sql[i].name, found->sql[i].step,
				    res.system, found->sql[i].engine, found->sql[i].database,
				    (long long)found->sql[i].rows, found->sql[i].rows == 1 ? "" : "s",
				    (long long)found->sql[i].expect, found->sql[i].error);
		}
		printf("  outcome: %s\n", strcmp(res.rec[res.n - 1].status, "ok") == 0 ?
		    "every step succeeded" : strcmp(res.rec[res.n - 1].status, "skipped") == 0 ?
		    "stopped by the operator" : "a step failed");
	}
	r = 0;
out:
	if (have_res)
		rbresult_release(&res);
	ticket_free(t);
	home_close(h);
	buf_release(&text);
	buf_release(&opsigners);
	buf_release(&detail);
	buf_release(&path);
	buf_release(&summary);
	buf_release(&lines);
	buf_release(&checks);
	buf_release(&diags);
	buf_release(&notes);
	buf_release(&sqls);
	buf_release(&ex.line);
	if (found != NULL)
		rbresult_found_release(found);
	free(found);
	return r;
}

int
cmd_runbook(int argc, char **argv)
{
	cmd_args a;
	int r;

	if ((r = cmd_parse("runbook", argc, argv, defs, &a)) != 0)
		return r;
	if (a.help || a.npos == 0)
		return a.help ? cmd_usage(usage_text) :
		    cmd_failf(EXIT_USAGE, "runbook: export, run, import or rollback");
	if (cmd_opt(&a, 4) != NULL && strcmp(a.pos[0], "rollback") != 0)
		return cmd_failf(EXIT_USAGE, "runbook %s: --drop-image is an option of runbook "
		    "rollback", a.pos[0]);
	if (strcmp(a.pos[0], "export") == 0)
		return do_export(&a);
	if (strcmp(a.pos[0], "run") == 0)
		return do_run(&a);
	if (strcmp(a.pos[0], "import") == 0)
		return do_import(&a);
	if (strcmp(a.pos[0], "rollback") == 0)
		return do_rollback(&a);
	{
		static const char *const subs[] = { "export", "run", "import", "rollback", NULL };

		return cmd_unknown_sub("runbook", a.pos[0], subs);
	}
}
