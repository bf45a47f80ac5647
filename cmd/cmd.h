/*
 * cmd.h - what every command file shares: option parsing, opening the
 * home, turning error codes into messages and stable exit codes.
 *
 * Exit codes (documented in breakglass(1)):
 *   0  success
 *   1  refused: policy, workflow gate, signature, secret, expiry,
 *      permission, clock, state or audit-tamper refusal
 *   2  usage error or invalid input (including unknown tickets/grants)
 *   3  the home or its store is missing, unreadable or corrupt
 *   4  system error (I/O, memory, a helper program)
 */
#ifndef BG_CMD_H
#define BG_CMD_H

#include "buf.h"
#include "err.h"
#include "home.h"

#define EXIT_REFUSED 1
#define EXIT_USAGE 2
#define EXIT_HOME 3
#define EXIT_SYSTEM 4

#define OPT_ARG 1
#define OPT_MULTI 2

typedef struct opt_def {
	const char *name;  /* "--what" */
	int flags;         /* OPT_ARG, OPT_MULTI */
} opt_def;

#define OPT_MAXVALS 32

typedef struct opt_val {
	int set;
	const char *v;               /* last value */
	const char *all[OPT_MAXVALS];
	int n;
} opt_val;

#define OPT_MAXPOS 16

typedef struct cmd_args {
	/* common options */
	const char *home;
	const char *actor;
	int json;
	int help;
	/* the command's own */
	opt_val val[40];
	const char *pos[OPT_MAXPOS];
	int npos;
} cmd_args;

/*
 * Parse argv (after the command name) against defs (NULL-terminated).
 * Common options (--home, --as, --json, --help/-h) are always accepted.
 * Returns 0, or prints a usage error and returns EXIT_USAGE.
 */
int cmd_parse(const char *cmd, int argc, char **argv, const opt_def *defs, cmd_args *a);
/* Value of option i (index in defs) or NULL. */
const char *cmd_opt(const cmd_args *a, int i);

/* Open the home named by --home/BREAKGLASS_HOME/default. */
int cmd_open_home(const cmd_args *a, home **h);

/* Print "breakglass: MSG" and return the exit code for r. */
int cmd_fail(int r, const bg_error *e);
/* cmd_fail with the place: "breakglass: WHAT 'PATH': detail" (unless detail names it). */
int cmd_fail_at(int r, const bg_error *e, const char *what, const char *path);
int cmd_failf(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/*
 * "CMD: unknown subcommand 'SUB'; did you mean 'X'? (subcommands: ...)":
 * print it and return EXIT_USAGE.  subs ends with NULL.
 */
/*
 * The host log directory of the commands run on a host (changes,
 * rollback, snapshot) into out: given (--audit-dir), else the host-log
 * line of the home's config, else /var/log/breakglass.  0, or an exit
 * code after printing why (naming the config).
 */
int cmd_host_log_dir(const cmd_args *a, const char *given, buf *out);
/*
 * What an action did, as one JSON object on stdout for --json: the
 * arguments are key, value pairs of strings, ending with NULL.  0 or an
 * exit code.
 */
int cmd_json_done(const char *key, ...);
/* "CMD: --json is not supported (WHY)": EXIT_USAGE. */
int cmd_no_json(const char *cmd, const char *why);
int cmd_unknown_sub(const char *cmd, const char *sub, const char *const *subs);
/* Exit code for an error code. */
int cmd_exit_code(int r);

/* Print usage text (for --help) and return 0. */
int cmd_usage(const char *text);

/* Write a whole buffer to stdout; 0 or EXIT_SYSTEM. */
int cmd_write_out(const buf *b);

/*
 * Append a record to the host log in dir (root's work on a host: rollback,
 * manual snapshots).  The actor is the effective user, with SUDO_USER in
 * the detail when set.  A host without a log gets a warning, not a
 * refusal: putting production back must not depend on it.
 */
void cmd_host_record(const char *dir, const char *event, int64_t ticket,
    const char *detail_json);

/*
 * Publish the change-freeze state after a change that can alter it
 * (confirmation, activation, close, withdraw).  0, or EXIT_SYSTEM after
 * saying the change was made but hosts were not told.
 */
int cmd_freeze_publish(home *h);

/* Parse a ticket or grant id argument, or fail with a usage message. */
int cmd_ticket_id(const char *s, int64_t *id);
int cmd_grant_id(const char *s, int64_t *id);

/*
 * Remote use (cmd-serve.c): the user and key serve acts for (NULL when
 * not serving); 1 if a command may run through a broker; run argv on the
 * broker at url; run one command (argv[0] its name) in this process.
 */
extern const char *cmd_serve_user, *cmd_serve_key;
int cmd_remote_allowed(const char *name);
int cmd_remote(const char *url, int argc, char **argv);
int cmd_run(int argc, char **argv);

/* The commands. */
int cmd_init(int argc, char **argv);
int cmd_project(int argc, char **argv);
int cmd_approver(int argc, char **argv);
int cmd_user(int argc, char **argv);
int cmd_broker(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_ticket(int argc, char **argv);
int cmd_approve(int argc, char **argv);
int cmd_evidence(int argc, char **argv);
int cmd_plan(int argc, char **argv);
int cmd_grant(int argc, char **argv);
int cmd_revoke(int argc, char **argv);
int cmd_reap(int argc, char **argv);
int cmd_smoke(int argc, char **argv);
int cmd_cleanup(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_audit(int argc, char **argv);
int cmd_gate(int argc, char **argv);
int cmd_hostd(int argc, char **argv);
int cmd_host(int argc, char **argv);
int cmd_replay(int argc, char **argv);
int cmd_rollback(int argc, char **argv);
int cmd_changes(int argc, char **argv);
int cmd_snapshot(int argc, char **argv);
int cmd_scan(int argc, char **argv);
int cmd_freeze(int argc, char **argv);
int cmd_runbook(int argc, char **argv);
int cmd_collect(int argc, char **argv);
/* The gate's 'collect' (gate.h: gate_collect_register), in its confined
 * child; and whether a name is a built-in profile. */
struct gate_collect_io;
int cmd_collect_gate(const struct gate_collect_io *io, bg_error *e);
int cmd_collect_known(const char *name);
int cmd_envdiff(int argc, char **argv);

#endif
