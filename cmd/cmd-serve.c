/*
 * cmd-serve.c - remote use over ssh, both ends.
 *
 * breakglass serve --as EMAIL --key FP: the forced command sshd runs for a
 * user's key (broker setup writes the lines).  It reads one framed request
 * (src/proto/remote.h) on standard input, writes its files into a fresh
 * private directory, runs the command as that user in a child, and
 * answers with the command's output, output files and exit status.
 *
 * breakglass --broker ssh://ACCOUNT@HOST[:PORT] COMMAND ...: the client.
 * It runs ssh (an argv, never a shell), sends the command with the files
 * its options name, and writes back what comes.
 */
#include "cmd.h"
#include "fileio.h"
#include "remote.h"
#include "text.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

const char *cmd_serve_user, *cmd_serve_key;

/* the commands a remote user may run: the broker's, none of a host's */
static const char *const remote_commands[] = {
	"project", "approver", "user", "ticket", "approve", "evidence", "plan", "grant",
	"revoke", "reap", "smoke", "cleanup", "report", "audit", "help", "version", NULL
};

int
cmd_remote_allowed(const char *name)
{
	for (size_t i = 0; remote_commands[i]; i++)
		if (strcmp(remote_commands[i], name) == 0)
			return 1;
	return 0;
}

/* options whose value is a file read on the client / written back to it */
static const char *const in_opts[] = {
	"--from", "--key", "--signature", "--diff", "--commands", "--sql", "--artifact",
	"--pubkey", "--file", "--roster", NULL
};

static int
listed(const char *const *l, const char *s)
{
	for (; *l; l++)
		if (strcmp(*l, s) == 0)
			return 1;
	return 0;
}

static int
read_all_fd(int fd, buf *out)
{
	char tmp[65536];
	ssize_t n;

	for (;;) {
		n = read(fd, tmp, sizeof(tmp));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return BG_ERR_IO;
		if (n == 0)
			return 0;
		if (buf_append(out, tmp, (size_t)n) != 0)
			return BG_ERR_TOOLARGE;
	}
}

/* ---- the server ---- */

static const char serve_usage[] =
	"usage: breakglass serve --as EMAIL --key FINGERPRINT [--home DIR]\n\n"
	"The forced command of the broker's service account: 'breakglass broker\n"
	"setup' writes one authorized_keys line per user key running it.  It reads\n"
	"one framed request on standard input (a command and its files, sent by\n"
	"'breakglass --broker ssh://...'), runs it as that user, and answers.\n"
	"Not for interactive use.\n";

static void
respond(int status, const char *err, const buf *out, const buf *errb, remote_file *files,
    size_t nfiles)
{
	buf r;
	unsigned char st = (unsigned char)status;

	buf_init(&r, REMOTE_MAX_MSG);
	buf_puts(&r, REMOTE_MAGIC_RES);
	if (out && out->len)
		remote_put(&r, 'O', out->data, out->len);
	if (errb && errb->len)
		remote_put(&r, 'E', errb->data, errb->len);
	if (err)
		remote_put(&r, 'E', err, strlen(err));
	for (size_t i = 0; i < nfiles; i++)
		remote_put_file(&r, 'F', files[i].arg, NULL, files[i].data, files[i].len);
	remote_put(&r, 'X', &st, 1);
	remote_put(&r, 'Z', NULL, 0);
	cmd_write_out(&r);
	buf_release(&r);
}

/* the command's captures and outputs (inputs are removed by name) */
static void
rm_outputs(const char *dir)
{
	char p[PATH_MAX];

	for (size_t i = 0; i < REMOTE_MAX_FILES; i++) {
		snprintf(p, sizeof(p), "%s/out%zu", dir, i);
		unlink(p);
	}
	snprintf(p, sizeof(p), "%s/stdout", dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/stderr", dir);
	unlink(p);
}

static int
is_file_arg(const remote_msg *m, uint32_t arg, int output)
{
	size_t i;

	if (output) {
		for (i = 0; i < m->nouts; i++)
			if (m->outs[i] == arg)
				return 1;
	} else {
		for (i = 0; i < m->nfiles; i++)
			if (m->files[i].arg == arg)
				return 1;
	}
	return 0;
}

/*
 * The request's arguments, checked as the client built them: nothing that
 * picks the home or the identity, and every option that names a file has
 * its file in the request (the command never opens a path of the broker's
 * own that a client named).  0, or 1 with msg set.
 */
static int
remote_args_check(const remote_msg *m, char *msg, size_t n)
{
	size_t i;
	int done = 0;

	if (m->argc > 1 && strcmp(m->argv[0], "approver") == 0 &&
	    strcmp(m->argv[1], "import") == 0) {
		snprintf(msg, n, "breakglass: approver import reads a file on the broker: run it "
		    "there, or add approvers one at a time with 'approver add'\n");
		return 1;
	}
	for (i = 1; i < m->argc; i++) {
		const char *a = m->argv[i], *eq;
		char opt[64];

		if (done || a[0] != '-')
			continue;
		if (strcmp(a, "--") == 0) {
			done = 1;
			continue;
		}
		eq = strchr(a, '=');
		snprintf(opt, sizeof(opt), "%.*s", (int)(eq ? (size_t)(eq - a) : strlen(a)), a);
		if (strcmp(opt, "--home") == 0 || strcmp(opt, "--as") == 0 ||
		    strcmp(opt, "--broker") == 0 || strcmp(opt, "--dir") == 0 ||
		    strcmp(opt, "--audit-dir") == 0) {
			snprintf(msg, n, "breakglass: %s is not for remote use: the broker has one "
			    "home, you are the key you logged in with, and it reads no directory "
			    "you name\n", opt);
			return 1;
		}
		if (!listed(in_opts, opt) && strcmp(opt, "-o") != 0)
			continue;
		if (eq != NULL || i + 1 >= m->argc || !is_file_arg(m, (uint32_t)(i + 1),
		    strcmp(opt, "-o") == 0)) {
			snprintf(msg, n, "breakglass: %s names a file that is not in the request "
			    "(use 'breakglass --broker ssh://...', which sends it)\n", opt);
			return 1;
		}
		i++;
	}
	/* and no file record for an argument that is no option's value */
	for (i = 0; i < m->nfiles; i++) {
		const char *o = m->argv[m->files[i].arg - 1 < m->argc ? m->files[i].arg - 1 : 0];

		if (m->files[i].arg == 0 || !listed(in_opts, o)) {
			snprintf(msg, n, "breakglass: a file in the request is no option's value\n");
			return 1;
		}
	}
	for (i = 0; i < m->nouts; i++)
		if (m->outs[i] == 0 || strcmp(m->argv[m->outs[i] - 1], "-o") != 0) {
			snprintf(msg, n, "breakglass: an output in the request is no -o's value\n");
			return 1;
		}
	return 0;
}

int
cmd_serve(int argc, char **argv)
{
	static const opt_def defs[] = { { "--key", OPT_ARG }, { NULL, 0 } };
	cmd_args a;
	remote_msg m;
	buf req, outb, errb, fb[REMOTE_MAX_FILES];
	remote_file outs[REMOTE_MAX_FILES];
	size_t nouts = 0, i;
	char dir[] = "/tmp/bg-serve.XXXXXX", path[PATH_MAX], msg[600];
	char *args[REMOTE_MAX_ARGS + 4], *paths[REMOTE_MAX_FILES * 2];
	size_t npaths = 0;
	bg_error e;
	pid_t pid;
	int r, status = 0, k;

	if ((r = cmd_parse("serve", argc, argv, defs, &a)) != 0)
		return r;
	if (a.help)
		return cmd_usage(serve_usage);
	if (a.actor == NULL || cmd_opt(&a, 0) == NULL || a.npos != 0)
		return cmd_failf(EXIT_USAGE, "serve: --as EMAIL and --key FINGERPRINT are required "
		    "(it is the forced command 'breakglass broker setup' writes)");
	bg_error_clear(&e);
	buf_init(&req, REMOTE_MAX_MSG);
	buf_init(&outb, REMOTE_MAX_FILE);
	buf_init(&errb, REMOTE_MAX_FILE);
	for (i = 0; i < REMOTE_MAX_FILES; i++)
		buf_init(&fb[i], REMOTE_MAX_FILE);
	memset(&m, 0, sizeof(m));
	if (read_all_fd(0, &req) != 0) {
		respond(EXIT_USAGE, "breakglass: the request is too large or unreadable\n", NULL,
		    NULL, NULL, 0);
		r = EXIT_USAGE;
		goto out;
	}
	if (remote_parse(req.data ? req.data : "", req.len, 0, &m, &e) != 0) {
		snprintf(msg, sizeof(msg), "breakglass: %.400s (use 'breakglass --broker ssh://...' "
		    "of the same version)\n", e.msg);
		respond(EXIT_USAGE, msg, NULL, NULL, NULL, 0);
		r = EXIT_USAGE;
		goto out;
	}
	if (!cmd_remote_allowed(m.argv[0])) {
		snprintf(msg, sizeof(msg), "breakglass: '%.64s' does not run through the broker "
		    "(run it on the host it is for)\n", m.argv[0]);
		respond(EXIT_USAGE, msg, NULL, NULL, NULL, 0);
		r = EXIT_USAGE;
		goto out;
	}
	if ((k = remote_args_check(&m, msg, sizeof(msg))) != 0) {
		respond(EXIT_USAGE, msg, NULL, NULL, NULL, 0);
		r = EXIT_USAGE;
		goto out;
	}
	if (mkdtemp(dir) == NULL) {
		respond(EXIT_SYSTEM, "breakglass: the broker cannot make a temporary directory\n",
		    NULL, NULL, NULL, 0);
		r = EXIT_SYSTEM;
		goto out;
	}
	/* the argv the command sees: its name, the home, the arguments */
	k = 0;
	args[k++] = m.argv[0];
	if (a.home != NULL) {
		args[k++] = "--home";
		args[k++] = (char *)a.home;
	}
	for (i = 1; i < m.argc; i++)
		args[k++] = m.argv[i];
	args[k] = NULL;
	for (i = 0; i < m.nfiles; i++) {
		const remote_file *f = &m.files[i];

		snprintf(path, sizeof(path), "%s/in%zu", dir, i);
		if (f->arg == 0 || mkdir(path, 0700) != 0 || (paths[npaths++] = strdup(path)) == NULL)
			goto fail;
		snprintf(path, sizeof(path), "%s/in%zu/%s", dir, i, f->name);
		if (fileio_write_atomic(path, f->data, f->len, 0600, 1, &e) != 0 ||
		    (paths[npaths++] = strdup(path)) == NULL)
			goto fail;
		args[(a.home ? 2 : 0) + f->arg] = paths[npaths - 1];
	}
	for (i = 0; i < m.nouts; i++) {
		if (m.outs[i] == 0)
			goto fail;
		snprintf(path, sizeof(path), "%s/out%zu", dir, i);
		if ((paths[npaths++] = strdup(path)) == NULL)
			goto fail;
		args[(a.home ? 2 : 0) + m.outs[i]] = paths[npaths - 1];
	}
	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) < 0)
		goto fail;
	if (pid == 0) {
		int fo, fe, fi;

		snprintf(path, sizeof(path), "%s/stdout", dir);
		fo = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600);
		snprintf(path, sizeof(path), "%s/stderr", dir);
		fe = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600);
		fi = open("/dev/null", O_RDONLY);
		if (fo < 0 || fe < 0 || fi < 0 || dup2(fi, 0) < 0 || dup2(fo, 1) < 0 ||
		    dup2(fe, 2) < 0)
			_exit(EXIT_SYSTEM);
		close(fo);
		close(fe);
		close(fi);
		cmd_serve_user = a.actor;
		cmd_serve_key = cmd_opt(&a, 0);
		r = cmd_run(k, args);
		fflush(stdout);
		fflush(stderr);
		_exit(r);
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	r = WIFEXITED(status) ? WEXITSTATUS(status) : EXIT_SYSTEM;
	snprintf(path, sizeof(path), "%s/stdout", dir);
	fileio_read(path, REMOTE_MAX_FILE, &outb, NULL);
	snprintf(path, sizeof(path), "%s/stderr", dir);
	fileio_read(path, REMOTE_MAX_FILE, &errb, NULL);
	for (i = 0; i < m.nouts; i++) {
		snprintf(path, sizeof(path), "%s/out%zu", dir, i);
		if (fileio_read(path, REMOTE_MAX_FILE, &fb[nouts], NULL) == 0) {
			outs[nouts].arg = m.outs[i];
			outs[nouts].data = (const unsigned char *)fb[nouts].data;
			outs[nouts].len = fb[nouts].len;
			nouts++;
		}
	}
	respond(r, NULL, &outb, &errb, outs, nouts);
	goto clean;
fail:
	respond(EXIT_SYSTEM, "breakglass: the broker could not take the request's files\n",
	    NULL, NULL, NULL, 0);
	r = EXIT_SYSTEM;
clean:
	/* inputs (a file inside each inN directory), outputs, captures, the dir */
	for (i = npaths; i-- > 0;) {
		if (unlink(paths[i]) != 0)
			rmdir(paths[i]);
		free(paths[i]);
	}
	rm_outputs(dir);
	rmdir(dir);
out:
	remote_release(&m);
	buf_release(&req);
	buf_release(&outb);
	buf_release(&errb);
	for (i = 0; i < REMOTE_MAX_FILES; i++)
		buf_release(&fb[i]);
	return r;
}

/* ---- the client ---- */

/* ssh://ACCOUNT@HOST[:PORT]: nothing ssh could read as an option */
static int
parse_url(const char *url, char user[64], char host[256], char port[8])
{
	const char *p, *at, *colon;
	size_t n;

	if (strncmp(url, "ssh://", 6) != 0)
		return -1;
	p = url + 6;
	if ((at = strchr(p, '@')) == NULL || at == p || (size_t)(at - p) >= 64)
		return -1;
	memcpy(user, p, (size_t)(at - p));
	user[at - p] = '\0';
	if (!text_is_ident(user, 63) || user[0] == '-')
		return -1;
	p = at + 1;
	colon = strrchr(p, ':');
	n = colon ? (size_t)(colon - p) : strlen(p);
	if (n == 0 || n >= 256 || p[0] == '-')
		return -1;
	memcpy(host, p, n);
	host[n] = '\0';
	for (size_t i = 0; i < n; i++)
		if (!((host[i] >= 'a' && host[i] <= 'z') || (host[i] >= 'A' && host[i] <= 'Z') ||
		    (host[i] >= '0' && host[i] <= '9') || host[i] == '.' || host[i] == '-'))
			return -1;
	snprintf(port, 8, "22");
	if (colon) {
		char *end;
		long v = strtol(colon + 1, &end, 10);

		if (colon[1] == '\0' || *end != '\0' || v < 1 || v > 65535)
			return -1;
		snprintf(port, 8, "%ld", v);
	}
	return 0;
}

static const char *
base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

int
cmd_remote(const char *url, int argc, char **argv)
{
	char user[64], host[256], port[8];
	char *sshv[16];
	const char *cfg = getenv("BREAKGLASS_SSH_CONFIG");
	buf req, res, fdata;
	remote_msg m;
	bg_error e;
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, status = 0, r = 0, k = 0, i, done = 0;
	const char *outpaths[REMOTE_MAX_FILES];
	uint32_t outargs[REMOTE_MAX_FILES];
	size_t nouts = 0, nfiles = 0, j;
	pid_t pid;

	if (parse_url(url, user, host, port) != 0)
		return cmd_failf(EXIT_USAGE, "--broker: '%.128s' is not ssh://ACCOUNT@HOST[:PORT]",
		    url);
	if (argc > REMOTE_MAX_ARGS)
		return cmd_failf(EXIT_USAGE, "too many arguments for remote use");
	bg_error_clear(&e);
	buf_init(&req, REMOTE_MAX_MSG);
	buf_init(&res, REMOTE_MAX_MSG + 1);
	buf_init(&fdata, REMOTE_MAX_FILE);
	memset(&m, 0, sizeof(m));
	buf_puts(&req, REMOTE_MAGIC_REQ);
	for (i = 0; i < argc; i++)
		if ((r = remote_put(&req, 'A', argv[i], strlen(argv[i]))) != 0)
			goto nomem;
	/* the files the options name travel with the command */
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			done = 1;
		if (done || i + 1 >= argc)
			continue;
		if (listed(in_opts, argv[i])) {
			const char *name = base_name(argv[i + 1]);

			if (nfiles == REMOTE_MAX_FILES) {
				r = cmd_failf(EXIT_USAGE, "too many files for remote use");
				goto out;
			}
			if (!remote_name_ok(name)) {
				r = cmd_failf(EXIT_USAGE, "'%.128s': for remote use a file's name is "
				    "letters, digits and ._+- (not starting with '.')", argv[i + 1]);
				goto out;
			}
			buf_reset(&fdata);
			if ((r = fileio_read(argv[i + 1], REMOTE_MAX_FILE, &fdata, &e)) != 0) {
				r = cmd_fail(r, &e);
				goto out;
			}
			if ((r = remote_put_file(&req, 'I', (uint32_t)(i + 1), name,
			    fdata.data ? fdata.data : "", fdata.len)) != 0)
				goto nomem;
			nfiles++;
			i++;
		} else if (strcmp(argv[i], "-o") == 0) {
			if (nouts == REMOTE_MAX_FILES) {
				r = cmd_failf(EXIT_USAGE, "too many files for remote use");
				goto out;
			}
			outpaths[nouts] = argv[i + 1];
			outargs[nouts++] = (uint32_t)(i + 1);
			if ((r = remote_put_file(&req, 'O', (uint32_t)(i + 1), NULL, NULL, 0)) != 0)
				goto nomem;
			i++;
		} else if (strchr(argv[i], '=') != NULL && strncmp(argv[i], "--", 2) == 0) {
			char opt[64];
			size_t n = (size_t)(strchr(argv[i], '=') - argv[i]);

			snprintf(opt, sizeof(opt), "%.*s", (int)n, argv[i]);
			if (listed(in_opts, opt)) {
				r = cmd_failf(EXIT_USAGE, "for remote use write '%s FILE', not '%s=FILE'",
				    opt, opt);
				goto out;
			}
		}
	}
	if ((r = remote_put(&req, 'Z', NULL, 0)) != 0)
		goto nomem;
	sshv[k++] = "/usr/bin/ssh";
	sshv[k++] = "-T";
	sshv[k++] = "-o";
	sshv[k++] = "BatchMode=yes";
	if (cfg != NULL && *cfg != '\0') {
		sshv[k++] = "-F";
		sshv[k++] = (char *)cfg;
	}
	sshv[k++] = "-p";
	sshv[k++] = port;
	sshv[k++] = "-l";
	sshv[k++] = user;
	sshv[k++] = "--";
	sshv[k++] = host;
	sshv[k++] = "breakglass";
	sshv[k] = NULL;
	if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0) {
		r = cmd_failf(EXIT_SYSTEM, "cannot make a pipe: %s", strerror(errno));
		goto out;
	}
	fflush(stdout);
	if ((pid = fork()) < 0) {
		r = cmd_failf(EXIT_SYSTEM, "cannot fork: %s", strerror(errno));
		goto out;
	}
	if (pid == 0) {
		if (dup2(in[0], 0) < 0 || dup2(out[1], 1) < 0)
			_exit(127);
		execv(sshv[0], sshv);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	in[0] = out[1] = -1;
	if (fileio_write_full(in[1], req.data, req.len) != 0) {
		/* ssh went away: its message and status tell why */
	}
	close(in[1]);
	in[1] = -1;
	read_all_fd(out[0], &res);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (remote_parse(res.data ? res.data : "", res.len, 1, &m, &e) != 0) {
		if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
			r = cmd_failf(EXIT_SYSTEM, "cannot run /usr/bin/ssh (install openssh-client)");
		else if (res.len == 0)
			r = cmd_failf(EXIT_SYSTEM, "the broker at %.128s did not answer (ssh exited "
			    "%d; its message is above): is your key registered there ('breakglass "
			    "user add' by an admin, then 'breakglass broker setup')?", url,
			    WIFEXITED(status) ? WEXITSTATUS(status) : 255);
		else
			r = cmd_failf(EXIT_SYSTEM, "the broker at %.128s answered badly: %s", url,
			    e.msg);
		goto out;
	}
	for (j = 0; j < m.nfiles; j++) {
		size_t o;

		for (o = 0; o < nouts; o++)
			if (outargs[o] == m.files[j].arg)
				break;
		if (o == nouts) {
			r = cmd_failf(EXIT_SYSTEM, "the broker sent back a file that was not asked for");
			goto out;
		}
		if (fileio_write_atomic(outpaths[o], m.files[j].data, m.files[j].len, 0644, 0,
		    &e) != 0) {
			r = cmd_fail(BG_ERR_IO, &e);
			goto out;
		}
	}
	if (m.outb.len)
		fwrite(m.outb.data, 1, m.outb.len, stdout);
	fflush(stdout);
	if (m.errb.len)
		fwrite(m.errb.data, 1, m.errb.len, stderr);
	r = m.status;
	goto out;
nomem:
	r = cmd_failf(EXIT_USAGE, "the command and its files are too large for remote use");
out:
	for (i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (out[i] >= 0)
			close(out[i]);
	}
	remote_release(&m);
	buf_release(&req);
	buf_release(&res);
	buf_release(&fdata);
	return r;
}
