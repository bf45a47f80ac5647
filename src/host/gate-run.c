/*
 * gate-run.c - running programs: the grant's allowlisted commands, its
 * privileged ones (through sudo and the grant's drop-in), and the shell
 * tier under a recorded pty.
 *
 * Nothing is run through a shell: an allowed command is the request's
 * argv, equal to one in the grant, executed directly with a clean
 * environment.  Every command and shell runs in a cgroup v2 of its own
 * (cgroup.h), entered before the program is executed.  The gate
 * supervises what it starts: it wakes every GATE_TICK_MS, and once the
 * certificate's validity ends or the KRL revokes it (an unreadable KRL
 * counts as revoked), or the gate that handed the request over is gone,
 * it writes cgroup.kill: every process of the request ends at once,
 * setsid, nohup, double-forked and signal-ignoring ones included.  When
 * the request ends normally, what it left running is killed the same way
 * and the cgroup removed: nothing a request starts outlives it.
 *
 * The shell tier's recording is created, in the host log's directory and
 * out of the account's reach, before the shell starts: without a
 * recording there is no session.
 */
#include "gate-int.h"
#include "cgroup.h"
#include "fileio.h"
#include "grantscope.h"
#include "rawsys.h"
#include "record.h"
#include "utc.h"

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <syslog.h>
#include <termios.h>
#include <unistd.h>

/* 1: one of the grant's commands; 2: one of its privileged (sudo)
 * commands; 3: a privileged command marked sudo-intercept */
int
gate_allowed_command(gate *g)
{
	size_t i;

	for (i = 0; i < g->scope_doc.n; i++) {
		const char *k = g->scope_doc.items[i].key;
		argv_list a;
		bg_error e;
		int eq, kind = strcmp(k, "command") == 0 ? 1 : strcmp(k, "sudo") == 0 ? 2 :
		    strcmp(k, "sudo-intercept") == 0 ? 3 : 0;

		if (kind == 0)
			continue;
		if (argv_split(g->scope_doc.items[i].value, &a, &e) != 0)
			continue;
		eq = argv_equal(&a, &g->av);
		argv_release(&a);
		if (eq)
			return kind;
	}
	return 0;
}

/* A cgroup of its own for what this request starts; refuses (returns 1)
 * when there can be none: nothing runs uncontained. */
int
gate_request_cgroup(gate *g, buf *cg)
{
	static unsigned seq;
	char name[96];
	bg_error e;
	int r;

	buf_init(cg, 4096);
	if (g->env->cgroup_base == NULL)
		return gate_refuse(g, "no cgroup for the request: nothing was run");
	snprintf(name, sizeof(name), "G-%lld-%d-%u", (long long)g->grant, (int)getpid(), seq++);
	gate_priv_up(g);
	r = cgroup_create(g->env->cgroup_base, name, cg, &e);
	gate_priv_down(g);
	if (r != 0) {
		buf_release(cg);
		return gate_refuse(g, "cannot contain the request (%s): nothing was run", e.msg);
	}
	return 0;
}

/*
 * A grant with privileged commands: its processes carry the grant's group
 * (grantscope_sudo_gid), which its sudoers drop-in is keyed by; no other
 * grant's process, and nothing the account starts outside hostd, has it.
 */
static int
sudo_group(gate *g, gid_t *gid)
{
	if (kv_get(&g->scope_doc, "sudo") == NULL)
		return 0;
	*gid = (gid_t)grantscope_sudo_gid(g->ca_pk, g->grant);
	return 1;
}

static void
add_sudo_group(gate *g)
{
	gid_t gs[NGROUPS_MAX + 1];
	int n;

	if (!sudo_group(g, &gs[0]))
		return;
	if ((n = getgroups(NGROUPS_MAX, gs + 1)) < 0 || setgroups((size_t)n + 1, gs) != 0)
		_exit(126);
}

pid_t
gate_fork(gate *g, const buf *cg, int *entered)
{
	pid_t pid;

	gate_priv_up(g);
	pid = cgroup_fork(cg->data, entered);
	if (pid != 0)
		gate_priv_down(g);
	return pid;
}

void
gate_child_start(gate *g, const buf *cg, int entered)
{
	gate_priv_up(g);
	if (!entered && cgroup_enter(cg->data) != 0)
		_exit(126);
	/* root still: Landlock without no_new_privs, which sudo refuses */
	if (g->cf.fd >= 0 ? confine_apply(&g->cf) != 0 :
	    !(g->landlock_abi == 0 && g->landlock_optional))
		_exit(126);
	add_sudo_group(g);
	gate_priv_drop_all(g);
}

/* Add argv[0] of each of the grant's commands named key (NULL: command,
 * sudo and sudo-intercept) to progs. */
static void
grant_programs(gate *g, const char *key, char **progs, size_t *n, size_t max)
{
	for (size_t i = 0; i < g->scope_doc.n && *n < max; i++) {
		const char *k = g->scope_doc.items[i].key;
		argv_list a;
		bg_error e;

		if (key != NULL ? strcmp(k, key) != 0 : strcmp(k, "command") != 0 &&
		    strcmp(k, "sudo") != 0 && strcmp(k, "sudo-intercept") != 0)
			continue;
		if (argv_split(g->scope_doc.items[i].value, &a, &e) != 0)
			continue;
		if (a.n > 0 && (progs[*n] = strdup(a.v[0])) != NULL)
			(*n)++;
		argv_release(&a);
	}
}

#define CONFINE_MAX_PROGRAMS 256

/*
 * The private tmp of what this request starts (its path in tmp, "" when
 * none).  A kernel without Landlock refuses (returns 1) unless the host
 * says 'landlock: optional'.
 */
static int
request_tmp(gate *g, buf *tmp)
{
	bg_error e;

	g->cf.fd = -1;
	buf_init(tmp, 4096);
	if (g->landlock_abi == 0) {
		if (g->landlock_optional)
			return 0;
		return gate_refuse(g, "this host's kernel offers no Landlock, and the gate starts no "
		    "command and no shell without it (a host that accepts that sets 'landlock: "
		    "optional' in its gate.conf)");
	}
	if (confine_tmp_make(g->grant, tmp, &e) != 0) {
		buf_release(tmp);
		return gate_refuse(g, "%s: nothing was run", e.msg);
	}
	return 0;
}

/*
 * The Landlock ruleset of what this request starts (g->cf; none where
 * request_tmp let a kernel without Landlock through).  What may be
 * executed: the request's program (through sudo when privileged; a
 * command marked sudo-intercept may start the grant's other privileged
 * programs, each checked again by sudo), or in the shell tier the
 * system's programs and the grant's; what may be written: the grant's
 * directories, the private tmp, the terminal.  On failure the tmp goes
 * too and the request is refused (1).
 */
static int
request_rules(gate *g, int shell, int privileged, const char *tty, buf *tmp)
{
	char *progs[CONFINE_MAX_PROGRAMS];
	size_t n = 0;
	confine_spec sp;
	bg_error e;
	int r;

	if (g->landlock_abi == 0)
		return 0;
	if (shell)
		grant_programs(g, NULL, progs, &n, CONFINE_MAX_PROGRAMS);
	else {
		progs[n] = strdup(privileged ? "/usr/bin/sudo" : g->av.v[0]);
		n += progs[n] != NULL;
		if (privileged && n < CONFINE_MAX_PROGRAMS)
			n += (progs[n] = strdup(g->av.v[0])) != NULL;
		if (privileged == 2)
			grant_programs(g, NULL, progs, &n, CONFINE_MAX_PROGRAMS);
	}
	memset(&sp, 0, sizeof(sp));
	sp.sc = &g->sc;
	sp.programs = (const char *const *)progs;
	sp.nprograms = n;
	sp.shell = shell;
	sp.tmp = tmp->data;
	sp.tty = tty;
	r = confine_build(&sp, g->landlock_abi, &g->cf, &e);
	for (size_t i = 0; i < n; i++)
		free(progs[i]);
	if (r != 0) {
		(void)confine_tmp_remove(tmp->data);
		buf_release(tmp);
		return gate_refuse(g, "%s: nothing was run", e.msg);
	}
	return 0;
}

/* Both of the above, for the shell tier. */
static int
request_confine(gate *g, int shell, int privileged, const char *tty, buf *tmp)
{
	if (request_tmp(g, tmp) != 0)
		return 1;
	return request_rules(g, shell, privileged, tty, tmp);
}

/*
 * An allowed command's process, made while its start record is flushed:
 * in its cgroup from birth, Landlock applied, then it waits - root still,
 * so the account can neither stop nor kill it - for one byte on go, sent
 * once the record is durable; without it (the log failed, or the serving
 * process died) it exits having run nothing.  Then the account's ids
 * (with the grant's sudo group for a privileged command) and the exec.
 *
 * It shares the serving process's memory until it execs (cgroup_spawn):
 * everything it needs is made here first, and program_child reads it
 * with rawsys() only.  Its signals are blocked from its first instruction
 * and every handler it inherited is put back to the default before they
 * are unblocked at the exec, so nothing of the serving process's runs in
 * it.  Where cgroup_spawn cannot, a forked child runs the same function.
 */
typedef struct program_start {
	const char *path;
	char *const *argv;
	char *const *envp;
	int out, err, in;     /* its stdout, stderr, stdin (-1: the serving process's) */
	int go_r, go_w;       /* the go pipe */
	const confine *cf;    /* NULL: none ('landlock: optional', no Landlock) */
	gid_t *groups;
	size_t ngroups;
	uid_t uid;
	gid_t gid;
	uint64_t reset;       /* signals put back to the default (bit n-1: signal n) */
	uint64_t mask;        /* the signal mask it execs with */
} program_start;

/* where program_child runs until it execs (16-byte aligned) */
static unsigned char program_stack[32768] __attribute__((aligned(16)));

__attribute__((no_sanitize_address)) static int
program_child(void *arg)
{
	const program_start *ps = arg;
	uint64_t all = ~(uint64_t)0, dfl[4] = { 0, 0, 0, 0 }; /* SIG_DFL, no flags, no mask */
	uid_t r = 0, e = 0, s = 0;
	char w = 0;
	long n;

	(void)rawsys(SYS_rt_sigprocmask, SIG_SETMASK, (long)&all, 0L, 8L);
	for (int sig = 1; sig <= 64; sig++)
		if ((ps->reset >> (sig - 1)) & 1)
			(void)rawsys(SYS_rt_sigaction, sig, (long)dfl, 0L, 8L);
	(void)rawsys(SYS_setpgid, 0L, 0L, 0L, 0L);
	if (ps->cf != NULL && confine_apply(ps->cf) != 0)
		return 126;
	if (rawsys(SYS_dup3, ps->out, STDOUT_FILENO, 0L, 0L) < 0 ||
	    rawsys(SYS_dup3, ps->err, STDERR_FILENO, 0L, 0L) < 0 ||
	    (ps->in >= 0 && rawsys(SYS_dup3, ps->in, STDIN_FILENO, 0L, 0L) < 0))
		return 126;
	(void)rawsys(SYS_close, ps->go_w, 0L, 0L, 0L);
	while ((n = rawsys(SYS_read, ps->go_r, (long)&w, 1L, 0L)) == -EINTR)
		;
	if (n != 1 || w != GATE_GO)
		return 126;
	if (rawsys(SYS_setgroups, (long)ps->ngroups, (long)ps->groups, 0L, 0L) != 0 ||
	    rawsys(SYS_setresgid, ps->gid, ps->gid, ps->gid, 0L) != 0 ||
	    rawsys(SYS_setresuid, ps->uid, ps->uid, ps->uid, 0L) != 0 ||
	    rawsys(SYS_getresuid, (long)&r, (long)&e, (long)&s, 0L) != 0 ||
	    r != ps->uid || e != ps->uid || s != ps->uid)
		return 126;
	if (rawsys(SYS_close_range, 3L, (long)~0U, 0L, 0L) != 0)
		for (long fd = 3; fd < 1024; fd++)
			(void)rawsys(SYS_close, fd, 0L, 0L, 0L);
	if (rawsys(SYS_chdir, (long)"/", 0L, 0L, 0L) != 0)
		return 126;
	(void)rawsys(SYS_rt_sigprocmask, SIG_SETMASK, (long)&ps->mask, 0L, 8L);
	(void)rawsys(SYS_execve, (long)ps->path, (long)ps->argv, (long)ps->envp, 0L);
	return 127;
}

/* ps's ids and groups (the grant's sudo group too, as gate_child_start's),
 * the signals to reset.  0, or -1 (nothing to free). */
static int
program_prepare(gate *g, program_start *ps)
{
	sigset_t cur;
	int n;

	ps->cf = g->cf.fd >= 0 ? &g->cf : NULL;
	if (ps->cf == NULL && !(g->landlock_abi == 0 && g->landlock_optional))
		return -1;
	if ((n = getgroups(0, NULL)) < 0 ||
	    (ps->groups = calloc((size_t)n + 1, sizeof(gid_t))) == NULL)
		return -1;
	if ((n = getgroups(n, ps->groups)) < 0) {
		free(ps->groups);
		return -1;
	}
	ps->ngroups = (size_t)n;
	if (sudo_group(g, &ps->groups[ps->ngroups]))
		ps->ngroups++;
	ps->uid = g->env->uid;
	ps->gid = g->env->gid;
	/* SIGPIPE is ignored here and is the program's default; 32 and 33
	 * are the C library's own */
	ps->reset = 1ULL << (SIGPIPE - 1) | 1ULL << 31 | 1ULL << 32;
	for (int sig = 1; sig < 65; sig++) {
		struct sigaction sa;

		if (sig != SIGKILL && sig != SIGSTOP && sig != 32 && sig != 33 &&
		    sigaction(sig, NULL, &sa) == 0 && sa.sa_handler != SIG_DFL &&
		    sa.sa_handler != SIG_IGN)
			ps->reset |= 1ULL << (sig - 1);
	}
	if (sigprocmask(SIG_BLOCK, NULL, &cur) != 0) {
		free(ps->groups);
		return -1;
	}
	memcpy(&ps->mask, &cur, sizeof(ps->mask));
	return 0;
}

/*
 * 1 when a process that takes the account's ids stays non-dumpable (the
 * kernel sets fs.suid_dumpable on its memory: 0 and 2 keep the account
 * out; 1, "debug", lets it trace the process).  A process sharing the
 * serving process's memory is made only then: on a host in debug mode the
 * account could write root's memory through it in the moment before its
 * exec, so the program gets a copy (a fork) there.
 */
static int
shared_memory_safe(void)
{
	char v[8];
	int fd = open("/proc/sys/fs/suid_dumpable", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, v, sizeof(v)) : -1;

	if (fd >= 0)
		close(fd);
	return n >= 1 && (v[0] == '0' || v[0] == '2') && (n == 1 || v[1] == '\n');
}

/* Start ps's process in the cgroup cg: its pid, or -1. */
static pid_t
program_spawn(gate *g, const buf *cg, program_start *ps)
{
	pid_t pid = 0;
	int entered = 0;

	gate_priv_up(g);
	if (shared_memory_safe())
		pid = cgroup_spawn(cg->data, program_child, ps, program_stack,
		    sizeof(program_stack));
	if (pid == 0 && (pid = cgroup_fork(cg->data, &entered)) == 0) {
		if (!entered && cgroup_enter(cg->data) != 0)
			_exit(126);
		_exit(program_child(ps));
	}
	gate_priv_down(g);
	return pid;
}

/* The request is over: its ruleset goes, and what it left in its tmp. */
static void
end_confine(gate *g, buf *tmp)
{
	confine_release(&g->cf);
	if (tmp->len > 0 && confine_tmp_remove(tmp->data) != 0)
		syslog(LOG_AUTHPRIV | LOG_ERR, "breakglass gate: cannot remove %s", tmp->data);
	buf_release(tmp);
}

/* End every process of the request at once (cgroup.kill) and reap pid. */
void
gate_kill_request(gate *g, const buf *cg, pid_t pid)
{
	gate_priv_up(g);
	if (cgroup_kill(cg->data, 2000) != 0)
		syslog(LOG_AUTHPRIV | LOG_ERR, "breakglass gate: cgroup %s did not empty", cg->data);
	gate_priv_down(g);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

/* The request is over: what it left running ends, its cgroup goes. */
void
gate_end_cgroup(gate *g, buf *cg)
{
	bg_error e;

	gate_priv_up(g);
	if (cgroup_remove(cg->data, &e) != 0)
		syslog(LOG_AUTHPRIV | LOG_ERR, "breakglass gate: %s", e.msg);
	gate_priv_down(g);
	buf_release(cg);
}

/*
 * What is about to run can run sudo with an argv of its choosing: a shell
 * (Landlock lets it run the system's programs), or a command marked
 * sudo-intercept (whatever it starts sudo checks by account).  Refused
 * (1) while another grant's account-keyed sudoers lines exist, since sudo
 * would let it run them; else watched, so it ends if such lines appear.
 * (Other privileged commands run NOEXEC and start nothing; other allowed
 * commands may execute only their own program.)
 */
static int
sudo_apart(gate *g)
{
	long long other;

	if (gate_sudo_conflict(g, &other))
		return gate_refuse(g, "grant G-%lld on this account has sudo-intercept commands, which "
		    "sudo checks by account, not by grant: while it is active no shell or sudo-intercept "
		    "command of another grant runs here (it could run them)", other);
	g->sudo_watch = 1;
	return 0;
}

int
gate_run_command(gate *g, int privileged)
{
	int outp[2] = { -1, -1 }, errp[2] = { -1, -1 }, go[2] = { -1, -1 }, nul = -1, status = 0,
	    open_fds = 2, cut = 0;
	pid_t pid;
	struct pollfd pf[2];
	char b[65536], tmpv[4200];
	char *envp[] = {
		"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8", "HOME=/", "SHELL=/bin/false",
		tmpv, NULL
	};
	char **sv = NULL;
	buf cg, tmp;
	snapshot before;
	program_start ps;

	if (privileged == 2 && sudo_apart(g) != 0)
		return 1;
	if (request_tmp(g, &tmp) != 0)
		return 1;
	if (gate_capture_before(g, &before) != 0) {
		end_confine(g, &tmp);
		return 1;
	}
	/*
	 * The start record, its flush started: the program's process is made
	 * (its cgroup, its Landlock ruleset) while the device flushes, and
	 * runs nothing until the record is durable - it waits for one byte on
	 * go, and without it (the log failed, or this process died) it exits.
	 * (After the private tmp and the before-snapshot, which write to a
	 * file system that may be the log's: they would wait for its
	 * journal's commit.  Whatever fails from here refuses with a record
	 * of its own after this one: "nothing was run".)
	 */
	if (pipe2(go, O_CLOEXEC) != 0) {
		snapshot_release(&before);
		end_confine(g, &tmp);
		return gate_refuse(g, "cannot create pipes: nothing was run");
	}
	gate_record_started(g, "gate.start", "allow", go[1]);
	if (g->log_cut) {
		(void)gate_record_wait(g);
		close(go[0]);
		close(go[1]);
		snapshot_release(&before);
		end_confine(g, &tmp);
		fprintf(stderr, "breakglass: refused: the host log cannot be written: nothing was "
		    "run\n");
		return 1;
	}
	if (gate_request_cgroup(g, &cg) != 0) {
		(void)gate_record_wait(g);
		close(go[0]);
		close(go[1]);
		snapshot_release(&before);
		end_confine(g, &tmp);
		return 1;
	}
	if (request_rules(g, 0, privileged, NULL, &tmp) != 0) {
		(void)gate_record_wait(g);
		close(go[0]);
		close(go[1]);
		snapshot_release(&before);
		gate_end_cgroup(g, &cg);
		return 1;
	}
	memset(&ps, 0, sizeof(ps));
	snprintf(tmpv, sizeof(tmpv), "TMPDIR=%s", tmp.len ? tmp.data : "/nonexistent");
	ps.path = g->av.v[0];
	ps.argv = g->av.v;
	ps.envp = envp;
	if (privileged) {
		/* sudo checks the exact argv against the grant's drop-in */
		if ((sv = calloc(g->av.n + 4, sizeof(*sv))) != NULL) {
			sv[0] = "/usr/bin/sudo";
			sv[1] = "-n";
			sv[2] = "--";
			for (size_t k = 0; k < g->av.n; k++)
				sv[3 + k] = g->av.v[k];
			ps.path = sv[0];
			ps.argv = sv;
		}
	}
	if ((privileged && sv == NULL) || pipe2(outp, O_CLOEXEC) != 0 ||
	    pipe2(errp, O_CLOEXEC) != 0 ||
	    (g->stdin_null && (nul = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0) ||
	    program_prepare(g, &ps) != 0) {
		int fds[] = { outp[0], outp[1], errp[0], errp[1], go[0], go[1], nul };

		(void)gate_record_wait(g);
		for (size_t k = 0; k < sizeof(fds) / sizeof(fds[0]); k++)
			if (fds[k] >= 0)
				close(fds[k]);
		free(sv);
		snapshot_release(&before);
		gate_end_cgroup(g, &cg);
		end_confine(g, &tmp);
		return gate_refuse(g, "cannot start the command: nothing was run");
	}
	ps.out = outp[1];
	ps.err = errp[1];
	ps.in = nul;
	ps.go_r = go[0];
	ps.go_w = go[1];
	pid = program_spawn(g, &cg, &ps);
	close(go[0]);
	close(outp[1]);
	close(errp[1]);
	if (nul >= 0)
		close(nul);
	if (pid < 0) {
		(void)gate_record_wait(g);
		close(go[1]);
		close(outp[0]);
		close(errp[0]);
		free(ps.groups);
		free(sv);
		snapshot_release(&before);
		gate_end_cgroup(g, &cg);
		end_confine(g, &tmp);
		return gate_refuse(g, "cannot start the command: nothing was run");
	}
	setpgid(pid, pid);
	{
		/* GATE_GO is written by the flush, the moment the record is durable */
		if (gate_record_wait(g) != 0) {
			/*
			 * Not recorded, not run: the child exits at the closed pipe.
			 * It is ended with its cgroup all the same: a flush child
			 * killed after it wrote the byte, before it exited, reads as
			 * a failed flush, and the program may be running already.
			 */
			close(go[1]);
			close(outp[0]);
			close(errp[0]);
			gate_kill_request(g, &cg, pid);
			free(ps.groups);
			free(sv);
			snapshot_release(&before);
			gate_end_cgroup(g, &cg);
			end_confine(g, &tmp);
			if (g->log_cut) {
				fprintf(stderr, "breakglass: refused: the host log cannot be written: "
				    "nothing was run\n");
				return 1;
			}
			return gate_refuse(g, "cannot start the command: nothing was run");
		}
		close(go[1]);
	}
	pf[0].fd = outp[0];
	pf[1].fd = errp[0];
	pf[0].events = pf[1].events = POLLIN;
	while (open_fds > 0) {
		int n = poll(pf, 2, GATE_TICK_MS);

		if (n < 0 && errno != EINTR)
			break;
		for (int k = 0; k < 2; k++) {
			ssize_t got;

			if (pf[k].fd < 0 || !(pf[k].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			got = read(pf[k].fd, b, sizeof(b));
			if (got <= 0) {
				close(pf[k].fd);
				pf[k].fd = -1;
				open_fds--;
				continue;
			}
			gate_write(g, k == 0 ? STDOUT_FILENO : STDERR_FILENO, b, (size_t)got);
		}
		if (!cut && gate_grant_ended(g)) {
			cut = 1;
			fprintf(stderr, "breakglass: grant G-%lld %s: command ended\n",
			    (long long)g->grant, gate_end_word(g));
			gate_kill_request(g, &cg, pid);
			break;
		}
	}
	for (int k = 0; k < 2; k++)
		if (pf[k].fd >= 0)
			close(pf[k].fd);
	if (cut)
		status = W_EXITCODE(0, SIGKILL);
	else
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	/* it has exec'd or exited: what it read can go */
	free(ps.groups);
	free(sv);
	gate_end_cgroup(g, &cg);
	end_confine(g, &tmp);
	status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	if (status == 127 && !cut)
		fprintf(stderr, "breakglass: '%s' could not be run on this host\n", g->av.v[0]);
	gate_record_end(g, "gate.end", cut ? "cut" : "allow", cut ? gate_end_reason(g) : NULL, status);
	gate_capture_after(g, &before);
	snapshot_release(&before);
	return status;
}

static volatile sig_atomic_t got_winch;

static void
on_winch(int sig)
{
	(void)sig;
	got_winch = 1;
}

static int
valid_term(const char *t)
{
	return t != NULL && *t && strlen(t) < 64 &&
	    strspn(t, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.+-_") == strlen(t);
}

/*
 * An interactive shell under a new pty, fully recorded.  The recording is
 * created (in the host log's directory, out of the account's reach)
 * before the shell starts: without a recording there is no session.
 */
int
gate_run_shell(gate *g)
{
	const char *tier = kv_get(&g->scope_doc, "tier");
	const char *term = g->env->term;
	char name[160], path[4096], slave[128], hex[65], ts[UTC_STRLEN], reason[256];
	unsigned char rnd[4];
	struct winsize ws;
	struct termios saved, raw;
	int recfd, master, status = 0, tty = isatty(STDIN_FILENO), stdin_open = 1, cut = 0,
	    reaped = 0, entered = 0;
	recorder rec;
	snapshot before;
	buf cg, tmp;
	pid_t pid;

	if (tier == NULL || strcmp(tier, "shell") != 0)
		return gate_refuse(g, "no interactive shell: grant G-%lld is tier %s; run a command "
		    "(ssh HOST help)", (long long)g->grant, tier ? tier : "read");
	if (sudo_apart(g) != 0)
		return 1;
	if (!valid_term(term))
		term = "dumb";
	utc_format(g->now, ts);
	randombytes_buf(rnd, sizeof(rnd));
	snprintf(name, sizeof(name), "T-%lld-G-%lld-%.4s%.2s%.2sT%.2s%.2s%.2sZ-%02x%02x%02x%02x.cast",
	    (long long)g->ticket, (long long)g->grant, ts, ts + 5, ts + 8, ts + 11, ts + 14, ts + 17,
	    rnd[0], rnd[1], rnd[2], rnd[3]);
	snprintf(path, sizeof(path), "%s/recordings/%s", g->audit_dir, name);
	gate_priv_up(g);
	recfd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);
	gate_priv_down(g);
	if (recfd < 0)
		return gate_refuse(g, "cannot start the session recording (%s): no shell without it",
		    strerror(errno));
	if (gate_capture_before(g, &before) != 0) {
		close(recfd);
		return 1;
	}
	if (gate_request_cgroup(g, &cg) != 0) {
		close(recfd);
		snapshot_release(&before);
		return 1;
	}
	memset(&ws, 0, sizeof(ws));
	if (!tty || ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) != 0 || ws.ws_col == 0) {
		ws.ws_col = 80;
		ws.ws_row = 24;
	}
	if ((master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0 || grantpt(master) != 0 ||
	    unlockpt(master) != 0 || ptsname_r(master, slave, sizeof(slave)) != 0) {
		close(recfd);
		gate_end_cgroup(g, &cg);
		snapshot_release(&before);
		return gate_refuse(g, "cannot allocate a terminal");
	}
	if (request_confine(g, 1, 0, slave, &tmp) != 0) {
		close(master);
		close(recfd);
		gate_end_cgroup(g, &cg);
		snapshot_release(&before);
		return 1;
	}
	ioctl(master, TIOCSWINSZ, &ws);
	{
		char title[96];

		snprintf(title, sizeof(title), "breakglass T-%lld G-%lld %s", (long long)g->ticket,
		    (long long)g->grant, g->env->user);
		record_open(&rec, recfd, ws.ws_col, ws.ws_row, g->now, title, term);
		{
			/* a line typed after a password prompt is sealed to the host key,
			 * not written in clear: the owner can recover it */
			unsigned char xpk[32];

			if (g->prompt_re != NULL &&
			    crypto_sign_ed25519_pk_to_curve25519(xpk, g->hostkey.pk) == 0)
				record_mask_after_prompts(&rec, xpk, gate_is_prompt, g);
		}
	}
	snprintf(reason, sizeof(reason), "recording %s", name);
	gate_record(g, "gate.start", "allow", reason, -1);
	if (g->log_cut) {
		close(master);
		close(recfd);
		gate_end_cgroup(g, &cg);
		end_confine(g, &tmp);
		snapshot_release(&before);
		fprintf(stderr, "breakglass: refused: the host log cannot be written: no session\n");
		return 1;
	}
	if ((pid = gate_fork(g, &cg, &entered)) < 0) {
		close(master);
		close(recfd);
		gate_end_cgroup(g, &cg);
		end_confine(g, &tmp);
		snapshot_release(&before);
		return gate_refuse(g, "cannot start the shell");
	}
	if (pid == 0) {
		char termv[80], ps1[96], gv[40], tmpv[4200];
		char *envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8", "HOME=/",
			"SHELL=/bin/sh", termv, ps1, gv, tmpv, NULL };
		int s;

		snprintf(tmpv, sizeof(tmpv), "TMPDIR=%s", tmp.len ? tmp.data : "/nonexistent");
		snprintf(termv, sizeof(termv), "TERM=%s", term);
		snprintf(ps1, sizeof(ps1), "PS1=[breakglass G-%lld] \\u@\\h:\\w\\$ ",
		    (long long)g->grant);
		snprintf(gv, sizeof(gv), "BREAKGLASS_GRANT=G-%lld", (long long)g->grant);
		if (setsid() < 0 || (s = open(slave, O_RDWR)) < 0)
			_exit(126);
		ioctl(s, TIOCSCTTY, 0);
		dup2(s, 0);
		dup2(s, 1);
		dup2(s, 2);
		gate_child_start(g, &cg, entered);
		if (close_range(3, ~0U, 0) != 0)
			for (int fd = 3; fd < 1024; fd++)
				close(fd);
		signal(SIGPIPE, SIG_DFL);
		if (access("/bin/bash", X_OK) == 0) {
			char *const av[] = { "bash", "--noprofile", "--norc", "-i", NULL };

			execve("/bin/bash", av, envp);
		} else {
			char *const av[] = { "sh", "-i", NULL };

			execve("/bin/sh", av, envp);
		}
		_exit(127);
	}
	if (tty && tcgetattr(STDIN_FILENO, &saved) == 0) {
		raw = saved;
		cfmakeraw(&raw);
		tcsetattr(STDIN_FILENO, TCSANOW, &raw); /* keep typeahead */
	} else
		tty = 0;
	signal(SIGWINCH, on_winch);
	for (;;) {
		struct pollfd pf[2];
		char b[16384];
		ssize_t n;

		pf[0].fd = stdin_open ? STDIN_FILENO : -1;
		pf[1].fd = master;
		pf[0].events = pf[1].events = POLLIN;
		n = poll(pf, 2, GATE_TICK_MS);
		if (n < 0 && errno != EINTR)
			break;
		if (got_winch || g->winch) {
			got_winch = 0;
			g->winch = 0;
			if (tty && ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) {
				ioctl(master, TIOCSWINSZ, &ws);
				record_resize(&rec, ws.ws_col, ws.ws_row);
			}
		}
		if (n > 0 && (pf[1].revents & (POLLIN | POLLHUP | POLLERR))) {
			if ((n = read(master, b, sizeof(b))) <= 0)
				break; /* the shell is gone */
			gate_write(g, STDOUT_FILENO, b, (size_t)n);
			record_output(&rec, b, (size_t)n);
		}
		if (stdin_open && pf[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			if ((n = read(STDIN_FILENO, b, sizeof(b))) <= 0) {
				stdin_open = 0;
			} else {
				struct termios t;
				int echo_off = tcgetattr(master, &t) == 0 && !(t.c_lflag & ECHO);

				(void)fileio_write_full(master, b, (size_t)n);
				record_input(&rec, b, (size_t)n, echo_off);
			}
		}
		record_tick(&rec);
		/* the shell is gone but something it left holds the terminal: the
		 * session is over all the same (what is left ends with the cgroup) */
		if (!reaped && waitpid(pid, &status, WNOHANG) == pid) {
			reaped = 1;
			for (int k = 0; k < 64; k++) {
				struct pollfd d = { .fd = master, .events = POLLIN };

				if (poll(&d, 1, 0) <= 0 || (n = read(master, b, sizeof(b))) <= 0)
					break;
				gate_write(g, STDOUT_FILENO, b, (size_t)n);
				record_output(&rec, b, (size_t)n);
			}
			break;
		}
		if (gate_grant_ended(g)) {
			char m[128];

			cut = 1;
			snprintf(m, sizeof(m), "\r\nbreakglass: the grant %s: session ended\r\n",
			    gate_end_word(g));
			(void)fileio_write_full(STDOUT_FILENO, m, strlen(m));
			snprintf(m, sizeof(m), "breakglass: %s: session ended", gate_end_reason(g));
			record_marker(&rec, m);
			gate_kill_request(g, &cg, pid);
			break;
		}
	}
	if (tty)
		tcsetattr(STDIN_FILENO, TCSADRAIN, &saved);
	if (!cut && !reaped)
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	gate_end_cgroup(g, &cg);
	end_confine(g, &tmp);
	close(master);
	if (record_close(&rec, hex) != 0)
		syslog(LOG_AUTHPRIV | LOG_ERR, "breakglass gate: recording %s incomplete", name);
	close(recfd);
	status = cut ? 128 + SIGHUP : WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	snprintf(reason, sizeof(reason), "recording %s sha256 %s%s%s", name, hex, cut ? ": " : "",
	    cut ? gate_end_reason(g) : "");
	gate_record_end(g, "gate.end", cut ? "cut" : "allow", reason, status);
	gate_capture_after(g, &before);
	snapshot_release(&before);
	return status;
}
