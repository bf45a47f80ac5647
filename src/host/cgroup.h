/*
 * cgroup.h - containment with cgroup v2: every request and shell session
 * runs in a cgroup of its own, and cgroup.kill ends every process in it at
 * once (setsid, nohup, double-forked and signal-ignoring ones included).
 *
 * The cgroup2 mount is found in /proc/self/mountinfo (a hybrid layout has
 * it at /sys/fs/cgroup/unified, a unified one at /sys/fs/cgroup), the
 * supervisor's own cgroup in /proc/self/cgroup ("0::PATH").  hostd makes
 * one base cgroup below its own (with systemd, Delegate=yes gives it that
 * subtree) and one cgroup per request below the base; no controllers are
 * enabled, so none of this limits anything - it only names the processes
 * so they can be ended together.  Needs root (the files are root's).
 */
#ifndef BG_CGROUP_H
#define BG_CGROUP_H

#include "buf.h"
#include "err.h"

#include <sys/types.h>

/* The absolute directory of this process's cgroup v2 in *out.  0, or
 * BG_ERR_NOTFOUND when there is no cgroup2 mount (e set). */
int cgroup_self(buf *out, bg_error *e);

/* The same from the texts of /proc/self/mountinfo and /proc/self/cgroup
 * (NUL-terminated; both are modified).  Strict: a cgroup outside the
 * mount, or none, is an error. */
int cgroup_parse(char *mountinfo, char *cgroups, buf *out, bg_error *e);

/* Create dir/name (0755) and set *out to its path.  0 or BG_ERR_IO. */
int cgroup_create(const char *dir, const char *name, buf *out, bg_error *e);

/* Move the calling process into the cgroup at path.  0 or BG_ERR_IO. */
int cgroup_enter(const char *path);

/*
 * Start a child, as fork(2) does, that is in the cgroup at path from its
 * first instruction (clone3 with CLONE_INTO_CGROUP): no write to
 * cgroup.procs, whose lock costs an RCU grace period (~20 ms) per move.
 * Returns 0 in the child, its pid in the parent, -1 (errno) when there is
 * no child.  *entered is 1 when the child is in the cgroup; 0 only on a
 * kernel without CLONE_INTO_CGROUP, where the child must cgroup_enter
 * itself (and end when it cannot).  The caller needs write access to the
 * cgroup (root).  In the child only async-signal-safe work should follow:
 * the C library's idea of its thread id is the parent's.
 */
pid_t cgroup_fork(const char *path, int *entered);

/*
 * Start fn(arg) in a child that is in the cgroup at path from its first
 * instruction and shares this process's memory until it execs or exits
 * (clone3 with CLONE_VM and CLONE_INTO_CGROUP): nothing of this process's
 * memory is copied, so the child starts at once and its exec has nothing
 * to tear down.  fn runs on stack (stack_size bytes, 16-byte aligned, left
 * alone until the child has exec'd or exited) and may use rawsys() only:
 * no libc function, no write to memory but its own stack.  Its result is
 * the child's exit status.  Returns the pid, 0 when this kernel or
 * architecture cannot (the caller uses cgroup_fork), -1 (errno) on error.
 */
pid_t cgroup_spawn(const char *path, int (*fn)(void *), void *arg, void *stack,
    size_t stack_size);

/* 1 while a process is in the cgroup (or a cgroup below it), 0 when it is
 * empty, negative when its cgroup.events cannot be read. */
int cgroup_populated(const char *path);

/*
 * End every process in the cgroup (cgroup.kill) and wait up to timeout_ms
 * for it to be empty (woken by cgroup.events, not polled).  0 when empty, BG_ERR_IO otherwise.
 */
int cgroup_kill(const char *path, int timeout_ms);

/* Kill what is left, then remove the cgroup and those below it (depth
 * first).  0 or BG_ERR_IO. */
int cgroup_remove(const char *path, bg_error *e);

#endif
