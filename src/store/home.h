/*
 * home.h - a breakglass home: the broker's state on disk.
 *
 *   HOME/store.db       SQLite store (WAL)
 *   HOME/broker.key     ed25519 key signing audit heads and checkpoints (0600)
 *   HOME/broker.pub
 *   HOME/ca.key         ed25519 SSH CA key for grant certificates (0600)
 *   HOME/ca.pub
 *   HOME/config         "key: value" settings
 *   HOME/policy.rules   minimum-access rules (shipped defaults, editable)
 *   HOME/policy.d/      per-project overrides (PROJECT.rules)
 *   HOME/artifacts/     approved-plan artifacts by SHA-256
 *   HOME/reports/       final reports of closed tickets
 *   HOME/audit.log, HOME/audit.head   the audit log and its signed head
 *
 * Every state change goes through home_begin / home_record / home_commit:
 * a store transaction with the clock checked; the change's audit records
 * are queued and appended (and fsync'd) by home_commit just before the
 * transaction commits, so a change refused part-way (home_abort) leaves
 * no record of what did not happen.
 */
#ifndef BG_HOME_H
#define BG_HOME_H

#include "audit.h"
#include "buf.h"
#include "err.h"
#include "json.h"
#include "sshkey.h"
#include "store.h"

#include <stdint.h>

#define HOME_MAX_HOST_LOGS 64
#define HOME_MAX_WEBAUTHN_ORIGINS 16
#define HOME_MAX_NOTIFY 16

typedef struct home {
	char *dir;
	store *st;
	audit_log log;
	sshkey_priv broker;
	int64_t approval_ttl;  /* seconds an approval stays usable */
	int64_t clock_skew;    /* tolerated backwards clock step */
	char *gate_command;    /* forced command for certificates */
	char *krl_publish;     /* where else the KRL is written (single host) */
	char *freeze_publish;  /* where the change-freeze state is written */
	char *sudoers_dir;     /* where grant sudoers drop-ins go (single host) */
	/* the gates' log directories read by reports: "host-log: [NAME] DIR",
	 * once per host (name NULL: the one host, unnamed) */
	struct home_host_log {
		char *name, *dir;
	} host_logs[HOME_MAX_HOST_LOGS];
	size_t nhost_logs;
	/* "webauthn-origin:" lines: origins whose webauthn signatures count */
	char *webauthn_origins[HOME_MAX_WEBAUTHN_ORIGINS];
	size_t n_webauthn_origins;
	/* "notify: webhook URL" lines: told of statements awaiting signatures */
	char *notify[HOME_MAX_NOTIFY];
	size_t n_notify;
	char id[17];           /* names this home where several share a host
	                        * (sudoers drop-ins): 16 hex digits of the
	                        * SHA-256 of the broker public key */
	char actor[129];       /* who acts: a user's email, or the local login */
	/* the authenticated identity (users.h): the key that logged in (empty
	 * for a local admin, root or the home's owner on the broker host), the
	 * user's id (0: local) and roles (USERS_ROLE_* bits) */
	char actor_key[64];
	int64_t actor_user;
	unsigned actor_roles;
	int64_t now;           /* UTC, read when the home is opened */
	int lockfd;            /* HOME/store.lock: writers queue on its flock */
	/* the current change's audit records, appended at commit */
	struct home_pending {
		char *event;   /* NULL: a checkpoint */
		int64_t ticket;
		char *detail;
	} *pending;
	size_t npending;
} home;

/* The default home: $BREAKGLASS_HOME, /var/lib/breakglass as root, else
 * $HOME/.local/share/breakglass. */
int home_default_dir(buf *out);

/*
 * Create a new home in dir (must not exist, or be an empty directory).
 * policy_rules is the text of HOME/policy.rules (the caller's shipped
 * defaults: the home stores the policy, the broker layer owns it).
 */
int home_init(const char *dir, const char *policy_rules, bg_error *e);

/*
 * Open an existing home, checking every part.  actor names who acts (it is
 * recorded in the audit log).
 */
int home_open(const char *dir, const char *actor, home **out, bg_error *e);

/*
 * The host log directory the config of the home at dir names, for the
 * commands run on a host (changes, rollback, snapshot), without opening
 * the store: out gets the one host-log line's directory, or stays empty
 * when there is no home, no config or no host-log line.  Several lines
 * (one per host) are refused: which is this host is not for the config to
 * guess.  Errors name the config's path.
 */
int home_config_host_log(const char *dir, buf *out, bg_error *e);
void home_close(home *h);

/* dir/name into out. */
int home_path(const home *h, const char *name, buf *out);

/* Load the SSH CA key (guarded memory; release with sshkey_priv_release). */
int home_load_ca(home *h, sshkey_priv *ca, bg_error *e);

/*
 * Rewrite HOME/revoked.krl from the store: the serials of unexpired
 * certificates of revoked grants.  Call inside a state change.
 */
int home_write_krl(home *h, bg_error *e);

/* Begin a state change (store transaction + clock check). */
int home_begin(home *h, bg_error *e);
/* Queue an audit record of the change (appended by home_commit). */
int home_record(home *h, const char *event, int64_t ticket, const char *detail_json,
    bg_error *e);
/* Queue a signed checkpoint record. */
int home_checkpoint(home *h, int64_t ticket, bg_error *e);
/*
 * Append the queued records now, within the change: for a change that has
 * passed every check and then reads its own records (a closing report).
 */
int home_flush(home *h, bg_error *e);
/* Append the queued records, then commit the change. */
int home_commit(home *h, bg_error *e);
/*
 * The tail every state change with a JSON detail shares: json_error(j)
 * (returned as it is when the detail could not be built), then
 * home_record of event with the detail j wrote.  0 or the first error;
 * the change stays open either way (the caller aborts on error).
 */
int home_record_json(home *h, const char *event, int64_t ticket, const json *j,
    bg_error *e);
/* home_record_json, then home_commit: 0 or the first error (then abort). */
int home_commit_json(home *h, const char *event, int64_t ticket, const json *j,
    bg_error *e);
/* Abandon the change and its queued records. */
void home_abort(home *h);


#endif
