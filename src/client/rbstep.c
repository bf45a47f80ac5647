/*
 * rbstep.c - running a step: programs by argv with streaming redaction,
 * diffs with pre-image checks.
 *
 * Paths in a diff are relative (diff_path refuses absolute paths and
 * ".."); each is opened beneath the root with openat2(RESOLVE_BENEATH |
 * RESOLVE_NO_SYMLINKS), so a symlink planted in the tree cannot steer a
 * write outside it.
 */
#include "rbstep.h"
#include "fileio.h"
#include "hash.h"
#include "proc.h"
#include "scan.h"
#include "utc.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

int
rbstep_argv(const char *line, argv_list *out, bg_error *e)
{
	static const char *const dirs[] = { "/usr/sbin", "/usr/bin", "/sbin", "/bin", NULL };
	char path[4096];
	int r;

	if ((r = argv_split(line, out, e)) != 0)
		return r;
	if (out->n == 0) {
		argv_release(out);
		return bg_fail(e, BG_ERR_INVALID, "empty command");
	}
	if (out->v[0][0] == '/') {
		if (access(out->v[0], X_OK) != 0) {
			r = bg_fail(e, BG_ERR_NOTFOUND, "cannot run '%.200s': %s", out->v[0],
			    strerror(errno));
			argv_release(out);
		}
		return r;
	}
	if (strchr(out->v[0], '/') != NULL) {
		r = bg_fail(e, BG_ERR_INVALID, "program '%.200s': give an absolute path or a "
		    "plain name", out->v[0]);
		argv_release(out);
		return r;
	}
	for (size_t i = 0; dirs[i]; i++) {
		char *p;

		snprintf(path, sizeof(path), "%s/%s", dirs[i], out->v[0]);
		if (access(path, X_OK) != 0)
			continue;
		if ((p = strdup(path)) == NULL) {
			argv_release(out);
			return BG_ERR_NOMEM;
		}
		free(out->v[0]);
		out->v[0] = p;
		return 0;
	}
	r = bg_fail(e, BG_ERR_NOTFOUND, "program '%.200s' is not in /usr/sbin, /usr/bin, /sbin "
	    "or /bin", out->v[0]);
	argv_release(out);
	return r;
}

int
rbstep_describe(const argv_list *a, buf *out)
{
	const char *base = strrchr(a->v[0], '/');

	base = base ? base + 1 : a->v[0];
	if (strcmp(base, "systemctl") == 0 && a->n == 3 &&
	    (strcmp(a->v[1], "restart") == 0 || strcmp(a->v[1], "reload") == 0 ||
	    strcmp(a->v[1], "start") == 0 || strcmp(a->v[1], "stop") == 0))
		return buf_printf(out, "%s the service '%s'", a->v[1], a->v[2]);
	if (strcmp(base, "service") == 0 && a->n == 3)
		return buf_printf(out, "%s the service '%s'", a->v[2], a->v[1]);
	if (strcmp(base, "curl") == 0)
		return buf_printf(out, "smoke check: fetch a URL with curl, %zu arguments",
		    a->n - 1);
	if (buf_printf(out, "run the program %s", a->v[0]) != 0)
		return BG_ERR_NOMEM;
	if (a->n == 1)
		return buf_puts(out, " with no arguments");
	if (buf_puts(out, " with the arguments") != 0)
		return BG_ERR_NOMEM;
	for (size_t i = 1; i < a->n; i++)
		if (buf_printf(out, " '%s'", a->v[i]) != 0)
			return BG_ERR_NOMEM;
	return 0;
}

typedef struct sinkctx {
	scan_stream ss;
	buf red;
	int show;
	buf *rec;
	rbstep_run *res;
} sinkctx;

static void
drain(sinkctx *c)
{
	if (c->red.len == 0)
		return;
	if (c->show >= 0)
		(void)fileio_write_full(c->show, c->red.data, c->red.len);
	if (c->rec->len + c->red.len <= RBSTEP_MAX_OUTPUT)
		(void)buf_append(c->rec, c->red.data, c->red.len);
	else
		c->res->truncated = 1;
	buf_reset(&c->red);
}

static int
sink(void *ctx, const char *p, size_t n)
{
	sinkctx *c = ctx;
	int r;

	c->res->bytes += n;
	r = scan_stream_write(&c->ss, p, n, &c->red);
	drain(c);
	return r;
}

int
rbstep_command(const argv_list *a, int show, buf *rec, rbstep_run *res, bg_error *e)
{
	sinkctx c;
	double t0;
	int r;

	memset(res, 0, sizeof(*res));
	memset(&c, 0, sizeof(c));
	scan_stream_init(&c.ss);
	buf_init(&c.red, 2 * SCAN_STREAM_HOLD);
	c.show = show;
	c.rec = rec;
	c.res = res;
	t0 = utc_mono();
	r = proc_run_stream(a->v, NULL, 0, sink, &c, &res->status, e);
	res->seconds = utc_mono() - t0;
	if (scan_stream_finish(&c.ss, &c.red) != 0 && r == 0)
		r = bg_fail(e, BG_ERR_NOMEM, "redaction failed");
	drain(&c);
	res->found = c.ss.found;
	scan_stream_release(&c.ss);
	buf_release(&c.red);
	return r;
}

/* Open root/rel beneath root, no symlinks; -1 with errno. */
static int
open_beneath(int rootfd, const char *rel, int flags, mode_t mode)
{
	struct open_how how;

	memset(&how, 0, sizeof(how));
	how.flags = (uint64_t)flags | O_CLOEXEC;
	how.mode = (flags & O_CREAT) ? mode : 0;
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
	return (int)syscall(SYS_openat2, rootfd, rel, &how, sizeof(how));
}

/* The path of f under root (new path, or old for a deletion), strip 1 when
 * both sides carry git's a/ and b/ prefixes. */
static char *
target_of(const diff_file *f)
{
	const char *p = f->new_path ? f->new_path : f->old_path;
	int strip = (strncmp(p, "a/", 2) == 0 || strncmp(p, "b/", 2) == 0) ? 1 : 0;

	return diff_path(p, strip);
}

/* Check (and with out != NULL, compute the new content of) one file. */
static int
check_one(int rootfd, const diff *d, const diff_file *f, const char *rel, buf *cur, buf *out,
    mode_t *mode, int *exists, bg_error *e)
{
	struct stat st;
	char blob[41];
	int fd, r;

	*exists = 0;
	*mode = 0644;
	fd = open_beneath(rootfd, rel, O_RDONLY | O_NOFOLLOW, 0);
	if (fd < 0 && errno != ENOENT)
		return bg_fail(e, BG_ERR_STATE, "'%s': cannot open beneath the root: %s", rel,
		    strerror(errno));
	if (f->old_path == NULL) {
		if (fd >= 0) {
			close(fd);
			return bg_fail(e, BG_ERR_STATE, "'%s' should not exist yet (the diff creates "
			    "it), but it does", rel);
		}
		return out ? diff_apply(d, f, "", 0, out, e) : 0;
	}
	if (fd < 0)
		return bg_fail(e, BG_ERR_STATE, "'%s' does not exist; the plan was made against a "
		    "version of it", rel);
	*exists = 1;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return bg_fail(e, BG_ERR_STATE, "'%s' is not a regular file", rel);
	}
	*mode = st.st_mode & 07777;
	buf_reset(cur);
	r = fileio_read_fd(fd, DIFF_MAX_INPUT, cur, e);
	close(fd);
	if (r != 0)
		return r;
	if (strlen(f->old_index) < 7)
		return bg_fail(e, BG_ERR_STATE, "'%s': the diff names no pre-image hash of at least "
		    "7 digits (make it with git diff, which writes 'index' lines)", rel);
	if ((r = hash_git_blob_hex(cur->data ? cur->data : "", cur->len, blob)) != 0)
		return bg_fail(e, r, "cannot hash '%s'", rel);
	if (strncmp(blob, f->old_index, strlen(f->old_index)) != 0)
		return bg_fail(e, BG_ERR_STATE, "'%s' has changed since the plan was made (its git "
		    "blob id is %.12s, the plan was made against %s): refusing", rel, blob,
		    f->old_index);
	if (out == NULL) {
		buf scratch;

		buf_init(&scratch, DIFF_MAX_INPUT);
		r = diff_apply(d, f, cur->data ? cur->data : "", cur->len, &scratch, e);
		buf_release(&scratch);
		return r;
	}
	return diff_apply(d, f, cur->data ? cur->data : "", cur->len, out, e);
}

static int
each_file(const char *root, const diff *d, buf *report, int apply, bg_error *e)
{
	buf cur, out;
	int rootfd, r = 0;

	rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return bg_fail(e, BG_ERR_IO, "cannot open root '%s': %s", root, strerror(errno));
	buf_init(&cur, DIFF_MAX_INPUT);
	buf_init(&out, DIFF_MAX_INPUT);
	for (size_t i = 0; i < d->nf && r == 0; i++) {
		const diff_file *f = &d->f[i];
		char *rel = target_of(f);
		mode_t mode;
		int exists, fd;

		if (rel == NULL) {
			r = bg_fail(e, BG_ERR_INVALID, "file %zu of the diff: not a plain relative "
			    "path", i + 1);
			break;
		}
		buf_reset(&out);
		r = check_one(rootfd, d, f, rel, &cur, apply ? &out : NULL, &mode, &exists, e);
		if (r == 0 && apply && f->new_path == NULL) {
			if (unlinkat(rootfd, rel, 0) != 0)
				r = bg_fail(e, BG_ERR_IO, "cannot delete '%s': %s", rel, strerror(errno));
			else
				r = buf_printf(report, "deleted %s\n", rel);
		} else if (r == 0 && apply) {
			char tmp[4200];

			snprintf(tmp, sizeof(tmp), "%s.bg-tmp", rel);
			fd = open_beneath(rootfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode);
			if (fd < 0) {
				r = bg_fail(e, BG_ERR_IO, "cannot write '%s': %s", tmp, strerror(errno));
			} else {
				if (fchmod(fd, mode) != 0 ||
				    fileio_write_full(fd, out.data ? out.data : "", out.len) != 0 ||
				    fsync(fd) != 0)
					r = bg_fail(e, BG_ERR_IO, "cannot write '%s'", tmp);
				close(fd);
				if (r == 0 && renameat(rootfd, tmp, rootfd, rel) != 0)
					r = bg_fail(e, BG_ERR_IO, "cannot rename into '%s': %s", rel,
					    strerror(errno));
				if (r != 0)
					(void)unlinkat(rootfd, tmp, 0);
				else
					r = buf_printf(report, "%s %s\n", exists ? "changed" : "created",
					    rel);
			}
		}
		free(rel);
	}
	if (r == 0 && apply)
		(void)fsync(rootfd);
	close(rootfd);
	buf_release(&cur);
	buf_release(&out);
	return r;
}

int
rbstep_diff_check(const char *root, const diff *d, bg_error *e)
{
	return each_file(root, d, NULL, 0, e);
}

int
rbstep_diff_apply(const char *root, const diff *d, buf *report, bg_error *e)
{
	int r;

	if ((r = each_file(root, d, NULL, 0, e)) != 0)
		return r;
	return each_file(root, d, report, 1, e);
}
