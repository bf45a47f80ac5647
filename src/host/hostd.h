/*
 * hostd.h - the host supervisor: the privileged side of the gate.
 *
 * `breakglass hostd` runs as root (a systemd unit, or started by `host
 * setup --apply` where no systemd runs) and listens on a unix socket.  The
 * forced command `breakglass-gate` (login.h; `breakglass gate` is the same
 * client inside the large binary) is an unprivileged thin client: it
 * connects, hands over its standard input, output and error (SCM_RIGHTS)
 * and waits for the request's exit status.  hostd takes nothing else from
 * it: the configuration is hostd's own (a path only root gives on hostd's
 * command line), and the request, the certificate (SSH_USER_AUTH) and the
 * terminal type are read from the environment sshd gave the gate
 * (/proc/PID/environ), after checking that the peer is breakglass-gate
 * beside hostd's binary (root's, in a folder only root writes) or hostd's
 * own binary, started
 * by the sshd session of its account: its parent (or its login shell's
 * parent) is an sshd running as the account, whose parent is an sshd
 * running as root (the privileged monitor).  A gate run from inside a
 * session - with any SSH_USER_AUTH file - is refused.  Start times guard
 * against pid reuse.
 *
 * Each request is served by a child of hostd that keeps root as its real
 * and saved uid and works with the account's uid as its effective uid:
 * the account can neither signal nor ptrace it (kill needs a matching real
 * or saved uid; the credential change makes it non-dumpable), so it cannot
 * stop a host-log append or the supervision of a session.  Programs the
 * request starts run with all ids of the account.
 */
#ifndef BG_HOSTD_H
#define BG_HOSTD_H

#include "err.h"
#include "login.h"

#define HOSTD_DEFAULT_SOCKET LOGIN_DEFAULT_SOCKET
#define HOSTD_DEFAULT_AUTH_SPOOL LOGIN_DEFAULT_AUTH_SPOOL
#define HOSTD_SSHD "/usr/sbin/sshd"
/* the small binary sshd runs (gate/main.c), installed beside breakglass */
#define HOSTD_GATE_NAME "breakglass-gate"
/* requests (hostd children) one account may hold at once: more are
 * refused with a message, so connections that send nothing cannot pile up
 * root processes (each is dropped after 10 s anyway) */
#define HOSTD_MAX_PER_ACCOUNT LOGIN_MAX_PER_ACCOUNT

typedef struct hostd_opts {
	const char *config;   /* the gate configuration (gate.conf) */
	const char *socket;   /* where to listen */
	const char *pidfile;  /* NULL or a file to write hostd's pid to */
} hostd_opts;

/* Serve requests until SIGTERM/SIGINT.  Must run as root.  0 or a
 * negative BG_ERR_* with e set (nothing served). */
int hostd_serve(const hostd_opts *o, bg_error *e);

/* The gate's side and the principals command: login.h. */

/* Parsers of what /proc shows, strict (exposed for the fuzzer). */

/* /proc/PID/stat: login_parse_stat (login.h). */

/* The value of name in a NUL-separated environment block of len bytes;
 * NULL when absent; *dup set when it is there more than once. */
const char *hostd_env_get(const char *env, size_t len, const char *name, int *dup);

#endif
