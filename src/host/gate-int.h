/*
 * gate-int.h - what the parts of the gate share (gate.c, gate-read.c,
 * gate-write.c, gate-run.c); not for use outside src/host/gate*.c.
 *
 * One struct gate lives for one request: the configuration, the verified
 * certificate and the grant's scope, the open host log, the request's
 * argv.  Every verb returns the request's exit status: 0 or the
 * command's own status when it ran, 1 after gate_refuse said why.
 */
#ifndef BG_GATE_INT_H
#define BG_GATE_INT_H

#include "gate.h"
#include "argv.h"
#include "audit.h"
#include "buf.h"
#include "cert.h"
#include "confine.h"
#include "kv.h"
#include "scope.h"
#include "snapshot.h"
#include "sshkey.h"

#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

/* what every record and 'help' say on a kernel without Landlock, where
 * the host's gate.conf says 'landlock: optional' */
#define GATE_UNCONFINED "none: this kernel offers no Landlock and the host's gate.conf " \
	"says 'landlock: optional': commands and shells run without kernel confinement"

/* how often a supervised command, a shell or tail -f checks the grant */
#define GATE_TICK_MS 50
/* the byte that lets a prepared program run: its gate.start record is durable */
#define GATE_GO 'R'
/* where sudo reads drop-ins (@includedir of /etc/sudoers) */
#define GATE_SUDOERS_DIR "/etc/sudoers.d"
/* per-statement records held back at most: this many, or this long */
#define GATE_DEFER_MAX 64
#define GATE_DEFER_S 0.2
/* the request as logged (re-quoted, redacted, escaped): longer is refused */
#define GATE_REQUEST_TEXT (24u * 1024)

typedef struct gate {
	const gate_env *env;
	int64_t now, skew;
	unsigned char ca_pk[32];
	char *krl_path;
	char *system;          /* this host's system name (gate.conf) */
	char *audit_dir;
	char *approvers_path;  /* allowed_signers of the owner's approvers */
	char *auth_spool;      /* where sshd records each connection's certificate */
	void *prompt_re;       /* password-prompt (pcre2_code), NULL: no masking */
	int write_quorum;      /* signatures a write grant needs (this host's) */
	int read_consent;      /* read grants need the owner's consent too */
	struct stat krl_st;
	cert c;
	kv_doc scope_doc;
	scope sc;
	int64_t ticket, grant;
	audit_log log;
	sshkey_priv hostkey;
	int log_open;
	argv_list av;
	char request[GATE_REQUEST_TEXT]; /* for the audit log: whole, redacted, escaped */
	uint64_t bytes_out;
	int refused_by_expiry;
	int sudo_watch;        /* what runs can run sudo: end it on a conflict */
	int sudo_conflict;     /* another grant's account-keyed sudoers lines */
	struct timespec sudoers_mtim; /* of GATE_SUDOERS_DIR when last scanned */
	int client_gone;       /* the gate's connection ended (gate killed) */
	int winch;             /* the gate says its terminal was resized */
	int want_int;          /* this request handles Ctrl-C (the sql console) */
	int interrupts;        /* Ctrl-Cs the gate passed on, not yet handled */
	int warned;            /* expiry warnings given: 1 (5 min), 2 (1 min) */
	int log_cut;           /* the host log cannot be written, or its file
	                        * system is below the reserve: fail closed */
	uint64_t log_reserve;  /* bytes the log's file system keeps free */
	int64_t krl_max_age;   /* 0, or how old the KRL may be (krl-max-age) */
	uint64_t krl_generated;/* when the KRL last read was made (UTC) */
	int recorded;          /* a record for this request was written */
	int stdin_null;        /* commands get /dev/null (steps of 'apply') */
	int priv_depth;        /* gate_priv_up calls not yet matched by a down */
	int landlock_abi;      /* the kernel's Landlock ABI (confine.h), 0: none */
	int landlock_optional; /* gate.conf 'landlock: optional': run unconfined
	                        * on a kernel without it (said in help, records) */
	confine cf;            /* the ruleset of what is being started, fd -1 */
	char *db_pg;           /* db-postgres: the supervisor's conninfo */
	char *db_pg_as;        /* db-postgres-as: the OS user it connects as */
	char *db_maria;        /* db-mariadb: the MariaDB server's unix socket */
	int defer_sql;         /* gate.sql records are batched (gate_record_flush) */
	int answered;          /* the gate has the request's status (gate_main) */
	int unsynced;          /* records written, not yet durable (gate_main) */
	audit_syncing syncing; /* a start record's flush in flight (gate_record_started) */
	int go;                /* the pipe it writes GATE_GO to once durable; -1: none */
	int hostkey_borrowed;  /* hostkey is hostd's preloaded one: not released */
	struct gate_pending {
		char *event, *detail;
		int64_t now;
	} pending[GATE_DEFER_MAX];
	size_t npending;       /* records built, not yet in the host log */
	double pending_since;  /* utc_mono() of the oldest */
} gate;

/* gate.conf's keys (gate.c), for gate_sql_repair */
extern const kv_key *const gate_config_schema;

/* A built-in verb.  step: may be a step of a command list (reads no
 * standard input).  files: reads or writes the grant's files, which it
 * does with the supervisor's rights (root) inside the grant's directories
 * only: every path goes through scope_open's openat2(RESOLVE_BENEATH), so
 * a grant reads and writes as approved whatever the files' owner. */
typedef struct gate_verb {
	const char *name;
	int (*fn)(gate *);
	int step;
	int files;
} gate_verb;

/* ---- gate.c ---- */

/* Root (hostd's real and saved uid): raised only around host-log,
 * recording and snapshot writes and the file verbs (gate_verb.files);
 * every program a request starts drops it for good (all ids the
 * account's).  Calls nest: the ids go back to the account's at the
 * outermost down. */
void gate_priv_down(gate *g);
void gate_priv_up(gate *g);
void gate_priv_drop_all(gate *g);

/* Write to the user (fd 1 or 2); bytes to stdout are counted.  0 or
 * BG_ERR_IO. */
int gate_write(gate *g, int fd, const void *p, size_t n);
int gate_printf(gate *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A name printed for a person: control bytes (terminal escapes) become '?'. */
void gate_safe_name(const char *s, char *out, size_t n);

/*
 * A host-log record of this request: who, which grant, what, the decision
 * and why; extra (NULL-terminated name, value pairs, may be NULL) adds
 * fields tools read back, such as a change set's id and hashes.
 */
void gate_record_with(gate *g, const char *event, const char *decision, const char *reason,
    int status, const char *const *extra);
/*
 * The request's last record (gate.end, gate.verb): written at once
 * (visible: every reader sees it, the chain verifies), made durable after
 * the gate has its status (gate_main): the responder does not wait for
 * its device flush.  A durable record made after it (a write's
 * gate.changes) makes it durable too.  Not held in memory: a serving
 * process that ends while a write's changes are captured (seconds for a
 * large tree) loses the capture, not the record of how the command ended.
 */
void gate_record_end(gate *g, const char *event, const char *decision, const char *reason,
    int status);
void gate_record(gate *g, const char *event, const char *decision, const char *reason,
    int status);

/*
 * Per-statement records in batches (the database console): after
 * gate_record_defer(g), "gate.sql" records are held in memory and appended
 * together - one sync of the log and one of its head for the batch - when
 * GATE_DEFER_MAX are held, when the oldest is GATE_DEFER_S old (checked
 * with the grant, every tick), before any other record (which joins the
 * batch: the order is kept), and when gate_record_flush is called: the
 * console calls it before it waits for the next input, so what a person
 * sees answered is in the host log before they type again, and the
 * session's end (its status to the gate) follows its records.  A batch
 * that cannot be appended fails closed like a single record (log_cut).
 */
void gate_record_defer(gate *g);

/*
 * sudo checks each program an INTERCEPT command starts without the
 * grant's group, so the drop-in of a grant with sudo-intercept commands
 * keys its lines by the account (grant.c): any process of the account
 * that can run sudo could run them.  1 when a breakglass drop-in of
 * another grant in GATE_SUDOERS_DIR has lines keyed by this account
 * (*other: its grant id), else 0; re-scanned only when the directory
 * changed.  Shells and sudo-intercept commands are refused while there
 * is one, and end (gate_grant_ended, with sudo_watch) when one appears.
 */
int gate_sudo_conflict(gate *g, long long *other);
void gate_record_flush(gate *g);

/* Refuse: one line to the user (secrets redacted), a record; returns 1. */
int gate_refuse(gate *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* 1 when the grant has ended (validity over, or the KRL revokes it or
 * cannot be read: fail closed; sets g->refused_by_expiry), or when the
 * gate that handed over the request is gone (sets g->client_gone): what
 * it started ends, and the end is recorded all the same. */
int gate_grant_ended(gate *g);
/* Why it ended, for people ("expired", "was revoked", ...) and for
 * records ("grant expired", ...). */
const char *gate_end_word(const gate *g);
const char *gate_end_reason(const gate *g);

/* 0 when p is an absolute path; else refuses (returns 1). */
int gate_need_path(gate *g, const char *verb, const char *p);

/* "file", "dir", "link", ... for a mode. */
const char *gate_type_of(mode_t m);

/* The built-in verb called name, or NULL. */
const gate_verb *gate_find_verb(const char *name);
/* Run a verb; a record is written for it if the verb wrote none. */
int gate_run_verb(gate *g, const gate_verb *v);
/* The recorder's prompt test: line matches password-prompt (ctx: gate). */
int gate_is_prompt(void *ctx, const char *line, size_t n);

/* g->request from g->av: re-quoted, secrets redacted, escaped with
 * text_visible; whole or refused (returns 1 after gate_refuse). */
int gate_describe_request(gate *g);

/* ---- gate-read.c ---- */

/* Open a regular file inside the scope for reading; refuses and returns
 * a negative value otherwise. */
int gate_open_file(gate *g, const char *path, struct stat *st);
/*
 * The same without refusing (e says why): opened O_PATH first and checked
 * to be a regular file, then that very inode opened for reading - a FIFO
 * or a device is never opened (it could block or act), a name swapped
 * meanwhile changes nothing.  A file with more than one hard link that is
 * not the account's own is refused: a link may bring in a file from
 * outside the grant's directories.  need_write: in a writable directory.
 */
int gate_open_regular(gate *g, const char *path, int need_write, struct stat *st, bg_error *e);

int gate_verb_ls(gate *g);
int gate_verb_cat(gate *g);
int gate_verb_tail(gate *g);
int gate_verb_grep(gate *g);
int gate_verb_stat(gate *g);
int gate_verb_sha256(gate *g);
int gate_verb_find_changed(gate *g);
int gate_verb_help(gate *g);

/* ---- gate-write.c ---- */

/*
 * Snapshot the grant's writable directories before a write (incremental
 * from the grant's last snapshot).  A write without a complete snapshot
 * is refused: returns 1 after refusing, 0 when before is ready (or when
 * the grant has no writable directories: before->id is then empty).
 */
int gate_capture_before(gate *g, snapshot *before);
/* After a write: snapshot again, store the change set, name it in the log. */
void gate_capture_after(gate *g, snapshot *before);

int gate_verb_put(gate *g);
int gate_verb_patch(gate *g);
int gate_verb_apply(gate *g);

/* ---- gate-run.c ---- */

/*
 * The one way a request's process starts: gate_fork (as root, for the
 * cgroup's permission) makes a child born in the request's cgroup (cg,
 * made by hostd's child; cgroup_fork); in the child, before execve,
 * gate_child_start enters the cgroup where the kernel could not (entered
 * 0), applies the request's Landlock ruleset (g->cf, while still root:
 * CAP_SYS_ADMIN instead of no_new_privs, so sudo still works), then makes
 * every id the account's for good; _exit(126) when any fails.  (An
 * allowed command's process is made otherwise: gate-run.c, program_child.)
 */
pid_t gate_fork(gate *g, const buf *cg, int *entered);
void gate_child_start(gate *g, const buf *cg, int entered);

/* A cgroup of its own for what the request starts (path in cg); refuses
 * (returns 1) when there can be none.  gate_kill_request ends every
 * process in it at once and reaps pid; gate_end_cgroup removes it. */
int gate_request_cgroup(gate *g, buf *cg);
void gate_kill_request(gate *g, const buf *cg, pid_t pid);
void gate_end_cgroup(gate *g, buf *cg);
void gate_record_started(gate *g, const char *event, const char *decision, int go);
int gate_record_wait(gate *g);

/* 1: the request is one of the grant's commands; 2: one of its
 * privileged (sudo) commands; 3: a privileged command marked
 * sudo-intercept (it may start programs, each checked by sudo); 0: none. */
int gate_allowed_command(gate *g);
/* Run g->av supervised, privileged 0: as the account, 1: through sudo
 * -n (NOEXEC), 2: through sudo -n (INTERCEPT); its exit status. */
int gate_run_command(gate *g, int privileged);
/* The shell tier: an interactive shell under a recorded pty. */
int gate_run_shell(gate *g);

/* ---- gate-collect.c ---- */

/* 'collect' (gate.h: gate_collect_register); under a db grant too, with
 * the database's facts through the supervisor's connection. */
int gate_verb_collect(gate *g);
/* 1 if a db grant's request is 'collect' (the rest goes to gate-sql.c) */
int gate_collect_wanted(const gate *g);
/* A db grant's 'collect': the request parsed and described, then run. */
int gate_collect_db(gate *g);

/* ---- gate-sql.c ---- */

/* A request under a db grant: 'sql' (statements from standard input, or
 * an interactive console) or 'help'; anything else is refused. */
int gate_db_request(gate *g);

#endif
