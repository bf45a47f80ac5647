/*
 * login.h - what sshd runs at a login of a hotfix account: the two
 * unprivileged-looking entry points of the host side, kept to libc so the
 * small binary breakglass-gate (gate/main.c) can carry them without the
 * rest of breakglass (no SQLite, crypto, scanner: each login starts two of
 * these processes, and the dynamic loader's work for a large binary was
 * most of a request's cost).
 *
 *   - the AuthorizedPrincipalsCommand (`breakglass-gate principals`, run
 *     as root by the connection's privileged sshd monitor): records the
 *     certificate offered on this connection in the auth spool, then
 *     prints the account's principals (login_principals);
 *   - the forced command (`breakglass-gate --socket PATH`, run with the
 *     account's ids): hands its fds 0-2 to hostd and waits for the
 *     request's status (login_request).
 *
 * Also the reading of /proc both sides share: hostd binds a request to
 * its sshd session with it, the principals command finds its monitor.
 * Everything here uses libc and err.c only.
 */
#ifndef BG_LOGIN_H
#define BG_LOGIN_H

#include "err.h"

#include <sys/types.h>

#define LOGIN_DEFAULT_SOCKET "/run/breakglass/hostd.sock"
#define LOGIN_DEFAULT_AUTH_SPOOL "/run/breakglass/auth"
#define LOGIN_DEFAULT_ETC "/etc/breakglass"
/* the gate's one-byte hello that carries its fds */
#define LOGIN_MAGIC 'G'

/*
 * One message of n bytes (data, n > 0) and nfds descriptors (SCM_RIGHTS,
 * at most LOGIN_MAX_FDS) on a unix socket: the gate's fds 0-2 to hostd
 * (the byte LOGIN_MAGIC), an accepted connection to hostd's spare.
 * login_recv_fds: 0 only for exactly n bytes and exactly nfds
 * descriptors (taken close-on-exec), nothing cut; otherwise whatever
 * descriptors came are closed again and -1.
 */
#define LOGIN_MAX_FDS 3
int login_send_fds(int sock, const void *data, size_t n, const int *fds, int nfds);
int login_recv_fds(int sock, void *data, size_t n, int *fds, int nfds);
/* the status hostd sends when it serves no more of the account's requests
 * at once (a status a request never has: statuses are 0..255) */
#define LOGIN_STATUS_BUSY 0x7ffffe01
/* requests (hostd children) one account may hold at once */
#define LOGIN_MAX_PER_ACCOUNT 32
/* a terminal size change, and a SIGINT (Ctrl-C), passed on by the gate as
 * one byte each */
#define LOGIN_CLIENT_WINCH 'W'
#define LOGIN_CLIENT_INT 'I'
/* the principals file's size cap */
#define LOGIN_PRINCIPALS_MAX (64u * 1024)

/* A connection's record in the auth spool (login_principals): the sshd
 * monitor's pid and start time.  At most 16 certificates per record;
 * past that the line GATE_AUTH_OVERFLOW, and the gate refuses. */
#define GATE_AUTH_SPOOL_NAME "%ld-%llu"
#define GATE_AUTH_MAX_CERTS 16
#define GATE_AUTH_OVERFLOW "!overflow"

/* A process as /proc shows it: parent, start time (clock ticks since
 * boot), its four uids and the file it runs. */
typedef struct login_proc {
	pid_t pid, ppid;
	unsigned long long start;
	uid_t uid[4];   /* real, effective, saved, filesystem */
	dev_t exe_dev;
	ino_t exe_ino;
} login_proc;

/* /proc/PID/stat: the parent (field 4) and the start time (field 22).
 * Strict (fuzzed by fuzz-hostproc).  0 or BG_ERR_INVALID. */
int login_parse_stat(const char *text, int *ppid, unsigned long long *start);

/* Read pid's stat, status and exe into *pi.  0, or BG_ERR_NOTFOUND (gone),
 * BG_ERR_IO or BG_ERR_INVALID. */
int login_proc_read(pid_t pid, login_proc *pi);

/* pid's parent and start time alone (its stat): 0 or as login_proc_read */
int login_proc_stat(pid_t pid, pid_t *ppid, unsigned long long *start);

/* 1 when all four uids of pi are u. */
int login_proc_all_uids(const login_proc *pi, uid_t u);

/* 1 when pi runs the file at path (same device and inode). */
int login_proc_runs(const login_proc *pi, const char *path);

/*
 * The forced command's side: hand this process's fds 0-2 to the hostd
 * listening at socket_path and wait for the request's exit status (set
 * in *status).  0, or BG_ERR_IO with e saying why (hostd not running,
 * busy, gone mid-request).
 */
int login_request(const char *socket_path, int *status, bg_error *e);

/*
 * sshd's AuthorizedPrincipalsCommand, run as root by the connection's
 * privileged monitor for every certificate a client offers for a hotfix
 * account: record cert_b64 in spool (a root-only directory, created 0700
 * if missing) under the connection's key, GATE_AUTH_SPOOL_NAME of the
 * monitor's pid and start time, so the gate can tell the certificate the
 * connection authenticated with from whatever the account writes into its
 * SSH_USER_AUTH file (records that outlived their connection are
 * removed); then write ETC/principals/USER to fd out (nothing when there
 * is none).  0, or an error with e set: then the caller prints nothing
 * and sshd refuses the certificate (fail closed).
 */
int login_principals(const char *etc, const char *spool, const char *user,
    const char *cert_b64, int out, bg_error *e);

/* hostd's side of the same exchange: the request's status (or
 * LOGIN_STATUS_BUSY) as login_request reads it.  0, or -1 (the gate is
 * gone: nothing else to do). */
int login_send_status(int c, int status);

#endif
