/*
 * gate.h - the forced command on a host: decides what a certificate
 * holder may do, does it, records it.
 *
 * The gate never hands a string to a shell.  It re-verifies the
 * certificate sshd accepted (CA signature, validity window against the
 * current UTC time, principal, serial and key id against the KRL), parses
 * the grant's scope from the certificate, tokenises SSH_ORIGINAL_COMMAND
 * with argv.c's strict rules, and then either runs a built-in read verb
 * confined to the grant's directories, runs one of the grant's exact
 * allowlisted commands with a clean environment under a supervisor that
 * ends it at expiry or revocation, or refuses with one line.  Every
 * invocation is a record in the host's hash-chained audit log and a line
 * in syslog (authpriv).
 */
#ifndef BG_GATE_H
#define BG_GATE_H

#include "err.h"
#include "login.h"
#include "sigmemo.h"

#include <stdint.h>
#include <sys/types.h>

#define GATE_DEFAULT_CONFIG "/etc/breakglass/gate.conf"
/* after its fds the gate sends hostd only these bytes: its terminal was
 * resized (hostd reads the new size from the terminal), or it had a
 * SIGINT (Ctrl-C on its terminal; the sql console cancels the running
 * statement, every other request ends as when the gate dies) */
#define GATE_CLIENT_WINCH LOGIN_CLIENT_WINCH
#define GATE_CLIENT_INT LOGIN_CLIENT_INT

/*
 * What hostd's children share (one MAP_SHARED page, made by hostd): when a
 * host-log append fails every request is refused and every open session
 * ends, until an append succeeds again and says how many were refused.
 */
typedef struct gate_shared {
	volatile int log_failed;          /* an append failed: fail closed */
	volatile unsigned long refused;   /* requests refused since */
	char why[256];                    /* the append's error */
	volatile int state_loaded;        /* AUDIT_DIR/log-state read (once) */
	sigmemo memo;                     /* signatures already checked (sigmemo.h) */
} gate_shared;

/*
 * The shared state outlives hostd in AUDIT_DIR/log-state, a file of
 * exactly GATE_LOG_STATE_SIZE bytes made while the disk has room and then
 * only overwritten in place (no new block needed on a full disk):
 *   "breakglass log-state v1\nfailed: 0|1\nrefused: N\nwhy: TEXT\n" and
 *   spaces up to the size, the last byte a newline.
 * gate_log_state_parse is strict (fuzzed): 0 or BG_ERR_CORRUPT.
 */
#define GATE_LOG_STATE_SIZE 512
int gate_log_state_parse(const char *text, size_t len, int *failed, unsigned long *refused,
    char why[256]);
int gate_log_state_format(int failed, unsigned long refused, const char *why,
    char out[GATE_LOG_STATE_SIZE]);

/* A request as hostd (hostd.h) bound it to its sshd session. */
typedef struct gate_env {
	const char *config;          /* gate.conf path (hostd's own) */
	const char *original_command;/* SSH_ORIGINAL_COMMAND or NULL */
	const char *user_auth;       /* SSH_USER_AUTH file or NULL */
	const char *term;            /* TERM or NULL */
	const char *user;            /* the account the request is for */
	uid_t uid;                   /* its ids */
	gid_t gid;
	const char *refuse;          /* non-NULL: refuse the request, saying this */
	int client;                  /* the gate's connection (-1: none) */
	const char *cgroup_base;     /* hostd's cgroup v2 for requests (cgroup.h) */
	gate_shared *shared;         /* hostd's shared state, or NULL */
	long conn_pid;               /* the connection's sshd monitor (root) */
	unsigned long long conn_start; /* and its start time (/proc/PID/stat) */
	double accepted;             /* utc_mono() when hostd accepted it (0: unknown) */
} gate_env;

/*
 * Serve one request, in a child of hostd whose real and saved uid are
 * root and whose effective ids (and groups) are the account's.  fds 0-2
 * are the gate's.  Returns the request's exit status: 0 or the command's
 * own status when allowed, 1 when refused (after printing one line to
 * stderr saying why).
 */
int gate_main(const gate_env *env);

/* hostd, once at its start: what every request would otherwise load again
 * from the configuration at config (the password-prompt pattern compiled,
 * the host key), kept for its children while unchanged. */
void gate_preload(const char *config);

/*
 * hostd's repair of database grant roles (gate-sql.c): with a db-postgres
 * target in config, revoke every role bg_gN that no open session holds
 * (a crash's leftovers: their passwords died with the process).  0 with
 * *removed counted (0 too when config names no database target).
 */
int gate_sql_repair(const char *config, int *removed, bg_error *e);

/*
 * A SQL patch's before-image (tag, as 'apply' printed it) in database db
 * of config's target: restored (pgpatch_rollback: refused when rows
 * changed since; *changed counts them), or with drop dropped (the
 * cleanup).  Run as root on the host.
 */
/* hostd reads the repair's test pause (BREAKGLASS_TEST_REPAIR_PAUSE, test
 * builds only) at its start, before it drops the test variables. */
void gate_sql_hooks_read(void);

int gate_sql_rollback(const char *config, const char *db, const char *tag, int drop,
    int64_t *restored, int64_t *changed, bg_error *e);

/*
 * 'collect' through the gate (gate-collect.c).  The collector lives above
 * the host layer (src/client), so the command layer registers it here;
 * the gate calls it in a child that is already in the request's cgroup,
 * under its Landlock ruleset and with every id the account's.
 *
 * What the child may reach comes with the call: may_read/open/tree
 * confine reads to the grant's directories (the serving process opens
 * each file, or walks the code tree, beneath them, and hands over the
 * descriptor or the description), may_run to the programs of the grant's commands; skipped says
 * (on the user's stderr) what the profile asked for and did not get.
 */
typedef struct dbfacts dbfacts;
typedef struct snapshot snapshot;
typedef struct gate_collect_io {
	const char *profile;         /* a built-in profile's name (no '/') */
	const char *app;             /* --app DIR, or NULL */
	const unsigned char *key;    /* the per-incident key, 32 bytes */
	const dbfacts *db;           /* the grant's database's facts, or NULL */
	int out;                     /* write the finished bundle here */
	void *ctx;
	int (*may_read)(void *ctx, const char *path);
	int (*open)(void *ctx, const char *path);
	int (*tree)(void *ctx, const char *path, snapshot *out);
	int (*may_run)(void *ctx, const char *program);
	void (*skipped)(void *ctx, const char *item, const char *why);
} gate_collect_io;

/* run: 0 when the whole bundle was written to io->out, else a BG_ERR
 * code with e set.  known: 1 if name is a built-in profile. */
typedef int (*gate_collect_fn)(const gate_collect_io *io, bg_error *e);
typedef int (*gate_collect_known_fn)(const char *name);
void gate_collect_register(gate_collect_fn run, gate_collect_known_fn known);

/* The built-in verbs, for --help and the docs. */
extern const char gate_verbs_help[];

#endif
