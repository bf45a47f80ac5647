/*
 * confine.h - the kernel's rules for every process a session starts:
 * a Landlock ruleset derived from the grant.
 *
 * What the ruleset allows (everything else the kernel refuses, whatever
 * the file permissions, for root too):
 *   write    the grant's writable directories, the session's private tmp,
 *            /dev/null and the session's terminal
 *   read     the above, the grant's readable directories, the system's
 *            programs and libraries (/usr, /bin, /sbin, /lib*), its
 *            configuration (/etc), /proc, /sys, a few devices
 *   execute  the grant's allowed and privileged programs (and sudo, and
 *            the dynamic loader); in the shell tier the system's program
 *            directories - never a writable or temporary directory
 * and, on kernels that offer them: no truncation outside the writable
 * places (ABI 3), no TCP listening (ABI 4), no device ioctls but on the
 * terminal (ABI 5), no signals to and no abstract unix sockets of
 * processes outside the session (ABI 6), denials logged by the audit
 * subsystem for every program the session runs (ABI 7).
 *
 * Where it is applied: in the child of the root supervisor, after fork
 * and before the ids are dropped (gate_child_start), with CAP_SYS_ADMIN
 * standing in for no_new_privs - so sudo, set-uid, still works, reads
 * the sudoers files, PAM's configuration and its plugins (all under /etc
 * and /usr, read-only) and the root command it starts is held to the
 * same rules as everything else the session runs.
 */
#ifndef BG_CONFINE_H
#define BG_CONFINE_H

#include "buf.h"
#include "err.h"
#include "scope.h"

#include <stddef.h>

/* the newest Landlock ABI this code knows how to use */
#define CONFINE_ABI_MAX 7

/*
 * The Landlock ABI the running kernel offers, at most CONFINE_ABI_MAX; 0
 * when it offers none (not built, or disabled at boot).  A test build
 * reads 0 with BREAKGLASS_TEST_NO_LANDLOCK=1 (testhook.h).
 */
int confine_abi(void);

/* Test builds: take BREAKGLASS_TEST_NO_LANDLOCK now, for the life of the
 * process (hostd drops BREAKGLASS_TESTING from its environment before it
 * serves).  A no-op in a release build. */
void confine_hooks_read(void);

/* What a session may do, from its grant. */
typedef struct confine_spec {
	const scope *sc;              /* the grant's directories (read, write) */
	const char *const *programs;  /* files that may be executed */
	size_t nprograms;
	int shell;                    /* shell tier: the system's programs too */
	const char *tmp;              /* the session's private tmp, or NULL */
	const char *tty;              /* the session's terminal, or NULL */
} confine_spec;

/* A ruleset built in the supervisor, applied in each child. */
typedef struct confine {
	int fd;        /* -1: none */
	int abi;
	unsigned rules;
} confine;

/*
 * Build the ruleset for spec with the given ABI (confine_abi(), >= 1).
 * Paths that do not exist get no rule (nothing there can be reached).
 * 0, or BG_ERR_IO / BG_ERR_UNSUPPORTED with e set; c->fd is -1 then.
 */
int confine_build(const confine_spec *spec, int abi, confine *c, bg_error *e);

/*
 * Apply c to the calling thread (in a child, after fork): needs
 * CAP_SYS_ADMIN (effective root) or no_new_privs.  0, or -errno.
 * Touches nothing of libc's (a cgroup_spawn child may call it).
 */
int confine_apply(const confine *c);

void confine_release(confine *c);

/*
 * The session's private tmp: a new directory /tmp/breakglass-G-N.XXXXXX,
 * the caller's (effective ids), 0700; its path in *path.  0 or BG_ERR_IO.
 */
int confine_tmp_make(long long grant, buf *path, bg_error *e);

/* Remove what the session left in its tmp, and the tmp (no symlink is
 * followed).  0, or -1 when something stayed. */
int confine_tmp_remove(const char *path);

/*
 * The interpreter a script's first bytes (b, len) name on their #! line:
 * the first word after "#!", an absolute path of printable ASCII, ended
 * by a blank or a newline within len, into out (n bytes).  0, or -1 (out
 * "") for anything else.  The kernel executes it for the script, so an
 * allowed script brings it into the ruleset.
 */
int confine_parse_shebang(const char *b, size_t len, char *out, size_t n);

/* "Landlock ABI 7" / "none" for records and help. */
const char *confine_describe(int abi, char *out, size_t n);

#endif
