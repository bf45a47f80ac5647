/*
 * gate-write.c - the gate's write verbs: put, patch and apply, and the
 * change capture around every write.
 *
 * Writes need tier plan or shell and land only in the grant's writable
 * directories; in the plan tier the content must be an approved artifact
 * of the plan, byte for byte (its SHA-256 is in the certificate).  A file
 * is replaced through an O_EXCL temporary beside it, fsync'd and renamed
 * relative to the pinned parent, so no path is resolved twice.
 *
 * Before a write (and before any command runs) the writable directories
 * are snapshotted; a write without a complete snapshot is refused.  After
 * it, a second snapshot and the change set between the two are stored in
 * the host log's directory and named in a gate.changes record, which is
 * what `breakglass changes` and `rollback` read.
 *
 * apply takes an approved artifact: a diff goes through patch, a command
 * list runs one line at a time, each line checked as a request of its
 * own, stopping at the first failure.
 */
#include "gate-int.h"
#include "argv.h"
#include "changes.h"
#include "diff.h"
#include "fileio.h"
#include "grantscope.h"
#include "hash.h"
#include "utc.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#define GATE_MAX_PUT (256u * 1024 * 1024)

/* Split an absolute path into a malloc'd parent and a pointer to its name. */
static char *
split_path(const char *path, const char **name)
{
	char *dir, *slash;

	if (strcmp(path, "/") == 0 || (dir = strdup(path)) == NULL)
		return NULL;
	slash = strrchr(dir, '/');
	*slash = '\0';
	*name = path + (slash - dir) + 1;
	if (**name == '\0' || strcmp(*name, ".") == 0 || strcmp(*name, "..") == 0) {
		free(dir);
		return NULL;
	}
	return dir;
}

/*
 * Replace (or create, or with data NULL delete) the regular file at path
 * inside a writable directory of the grant.  The parent is opened
 * confined and pinned; new content goes to an O_EXCL temporary beside the
 * target, is fsync'd and renamed over the name relative to the same
 * descriptor, so no path is resolved twice.  Symlinks and directories are
 * never replaced; setuid/setgid bits are never kept.  It runs with the
 * supervisor's rights (the file verbs do): the new content keeps the
 * owner, group and mode of the file it replaces, and a new file takes the
 * owner and group of its directory - a www-data docroot stays www-data's.
 * oldhex/newhex get the SHA-256 of the old and new content ("-" when
 * absent).
 */
static int
replace_file(gate *g, const char *path, const void *data, size_t len, char oldhex[65],
    char newhex[65], char *err, size_t errlen)
{
	const char *name;
	char *dir = split_path(path, &name), tmpname[64];
	unsigned char rnd[8];
	struct stat st, ds;
	mode_t mode = 0644;
	uid_t keep_uid;
	gid_t keep_gid;
	bg_error e;
	int dfd = -1, tfd = -1, ofd, r = -1;

	memcpy(oldhex, "-", 2);
	memcpy(newhex, "-", 2);
	if (dir == NULL) {
		snprintf(err, errlen, "'%.200s' is not a file path", path);
		return -1;
	}
	if ((dfd = scope_open(&g->sc, dir[0] ? dir : "/", O_RDONLY | O_DIRECTORY, 1, &e)) < 0) {
		snprintf(err, errlen, "%.500s", e.msg);
		goto out;
	}
	if (fstat(dfd, &ds) != 0) {
		snprintf(err, errlen, "cannot read '%.200s': %s", dir, strerror(errno));
		goto out;
	}
	/* a new file: the directory's owner and group */
	keep_uid = ds.st_uid;
	keep_gid = ds.st_gid;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (!S_ISREG(st.st_mode)) {
			snprintf(err, errlen, "'%.200s' is a %s, not a regular file", path,
			    gate_type_of(st.st_mode));
			goto out;
		}
		mode = st.st_mode & 07777 & ~(mode_t)06000; /* never keep setuid/setgid */
		keep_uid = st.st_uid;
		keep_gid = st.st_gid;
		/* non-blocking: a FIFO swapped in meanwhile does not hold us */
		if ((ofd = scope_openat(dfd, name, O_RDONLY | O_NONBLOCK, &e)) >= 0) {
			struct stat os;

			if (fstat(ofd, &os) == 0 && S_ISREG(os.st_mode))
				hash_fd_sha256(ofd, oldhex);
			close(ofd);
		}
	} else if (data == NULL) {
		snprintf(err, errlen, "'%.200s' does not exist", path);
		goto out;
	}
	if (data == NULL) {
		if (unlinkat(dfd, name, 0) != 0) {
			snprintf(err, errlen, "cannot delete '%.200s': %s", path, strerror(errno));
			goto out;
		}
		(void)fsync(dfd);
		r = 0;
		goto out;
	}
	randombytes_buf(rnd, sizeof(rnd));
	snprintf(tmpname, sizeof(tmpname), ".breakglass-new-%02x%02x%02x%02x%02x%02x%02x%02x",
	    rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);
	if ((tfd = scope_openat(dfd, tmpname, O_RDWR | O_CREAT | O_EXCL, &e)) < 0) {
		snprintf(err, errlen, "cannot write in '%.200s': %.250s", dir, e.msg);
		goto out;
	}
	/* the replaced file's owner and group (then the mode: chown clears
	 * setuid/setgid, and they are never kept anyway) */
	if (fchown(tfd, keep_uid, keep_gid) != 0) {
		snprintf(err, errlen, "cannot replace '%.200s': %s", path, strerror(errno));
		unlinkat(dfd, tmpname, 0);
		goto out;
	}
	if (fileio_write_full(tfd, data, len) != 0 || fchmod(tfd, mode) != 0 || fsync(tfd) != 0 ||
	    hash_fd_sha256(tfd, newhex) != 0 || renameat(dfd, tmpname, dfd, name) != 0) {
		snprintf(err, errlen, "cannot replace '%.200s': %s", path, strerror(errno));
		unlinkat(dfd, tmpname, 0);
		goto out;
	}
	(void)fsync(dfd);
	r = 0;
out:
	if (tfd >= 0)
		close(tfd);
	if (dfd >= 0)
		close(dfd);
	free(dir);
	return r;
}

static int
snap_store(gate *g, buf *p)
{
	buf_reset(p);
	return buf_printf(p, "%s/snapshots", g->audit_dir);
}

static size_t
writable_roots(gate *g, const char **roots)
{
	size_t i, n = 0;

	for (i = 0; i < g->sc.n; i++)
		if (g->sc.r[i].writable)
			roots[n++] = g->sc.r[i].path;
	return n;
}

/*
 * Snapshot the grant's writable directories before a write (incremental
 * from the grant's last snapshot).  A write without a complete snapshot
 * is refused: returns 1 after refusing, 0 when before is ready (or when
 * the grant has no writable directories: before->id is then empty).
 */
int
gate_capture_before(gate *g, snapshot *before)
{
	const char *roots[SCOPE_MAX_ROOTS];
	size_t n = writable_roots(g, roots), nids = 0;
	snapshot prev;
	snap_stats st;
	char **ids = NULL;
	buf sdir;
	bg_error e;
	snap_tty pr;
	int r, have_prev = 0, tty;

	memset(before, 0, sizeof(*before));
	if (n == 0)
		return 0;
	buf_init(&sdir, 4096);
	snap_store(g, &sdir);
	gate_priv_up(g);
	if (snapshot_list(sdir.data, g->grant, &ids, &nids, &e) == 0 && nids > 0 &&
	    snapshot_load(sdir.data, ids[nids - 1], &prev, &e) == 0)
		have_prev = 1;
	/* a large tree takes a while: the user's terminal (if any) says how long */
	tty = snapshot_tty_begin(&pr, STDERR_FILENO, roots, n);
	r = snapshot_take(sdir.data, roots, n, have_prev ? &prev : NULL, g->ticket, g->grant,
	    utc_now(), tty ? snapshot_tty_show : NULL, &pr, before, &st, &e);
	if (tty)
		snapshot_tty_end(&pr);
	gate_priv_down(g);
	snapshot_list_free(ids, nids);
	if (have_prev)
		snapshot_release(&prev);
	buf_release(&sdir);
	if (r != 0)
		return gate_refuse(g, "snapshot before the write failed (%s): nothing was changed", e.msg);
	return 0;
}

/* After a write: snapshot again, store the change set, name it in the log. */
void
gate_capture_after(gate *g, snapshot *before)
{
	const char *roots[SCOPE_MAX_ROOTS];
	size_t n = writable_roots(g, roots);
	snapshot after;
	snap_stats st;
	changeset cs;
	buf sdir, doc, path;
	bg_error e;
	char hex[65], txthex[65], reason[700];
	int computed;

	if (before->id[0] == '\0')
		return;
	buf_init(&sdir, 4096);
	buf_init(&doc, 64u * 1024 * 1024);
	buf_init(&path, 4096);
	snap_store(g, &sdir);
	gate_priv_up(g);
	if (snapshot_take(sdir.data, roots, n, before, g->ticket, g->grant, utc_now(), NULL, NULL,
	    &after, &st, &e) != 0) {
		gate_priv_down(g);
		snprintf(reason, sizeof(reason), "snapshot after the write failed: %.200s", e.msg);
		gate_record(g, "gate.changes", "error", reason, -1);
		goto out;
	}
	memcpy(hex, "-", 2);
	memcpy(txthex, "-", 2);
	computed = changes_compute(before, &after, &cs, &e) == 0;
	if (computed && cs.added + cs.modified + cs.deleted == 0) {
		/* a refused write (or one that changed nothing): no change set */
		gate_priv_down(g);
		changes_release(&cs);
		snprintf(reason, sizeof(reason), "no change set: nothing changed (snapshots %s, %s)",
		    before->id, after.id);
		gate_record(g, "gate.changes", "none", reason, -1);
		snapshot_release(&after);
		goto out;
	}
	if (computed) {
		buf_printf(&path, "%s/changes", sdir.data);
		mkdir(path.data, 02750);
		if (changes_text(sdir.data, before, &after, &cs, 64 * 1024, &doc, &e) == 0) {
			hash_sha256_hex(doc.data ? doc.data : "", doc.len, txthex);
			buf_reset(&path);
			buf_printf(&path, "%s/changes/%s.txt", sdir.data, after.id);
			if (fileio_write_atomic(path.data, doc.data, doc.len, 0640, 1, &e) != 0)
				syslog(LOG_AUTHPRIV | LOG_ERR, "breakglass gate: cannot store change set");
		}
		buf_reset(&doc);
		if (changes_json(sdir.data, before, &after, &cs, 64 * 1024, &doc, &e) == 0) {
			buf_reset(&path);
			buf_printf(&path, "%s/changes/%s.json", sdir.data, after.id);
			if (fileio_write_atomic(path.data, doc.data, doc.len, 0640, 1, &e) != 0)
				syslog(LOG_AUTHPRIV | LOG_ERR, "breakglass gate: cannot store change set");
		}
		hash_sha256_hex(doc.data ? doc.data : "", doc.len, hex);
		snprintf(reason, sizeof(reason), "changes %s sha256 %s text-sha256 %s: %zu created, "
		    "%zu modified, %zu deleted (before %s)", after.id, hex, txthex, cs.added,
		    cs.modified, cs.deleted, before->id);
		changes_release(&cs);
	} else
		snprintf(reason, sizeof(reason), "changes not computed: %.200s", e.msg);
	gate_priv_down(g);
	{
		const char *extra[] = { "change_set", after.id, "sha256", hex, "text_sha256", txthex,
			NULL };

		gate_record_with(g, "gate.changes", "allow", reason, -1, extra);
	}
	snapshot_release(&after);
out:
	buf_release(&sdir);
	buf_release(&doc);
	buf_release(&path);
}

/*
 * The kind of the approved artifact with SHA-256 hex ("diff", "commands",
 * ...; "" from a certificate that names hashes only), or NULL when the
 * plan approval did not cover it.  Scope lines are "SHA256 [KIND]".
 */
static const char *
approved_kind(gate *g, const char *hex)
{
	size_t i;

	for (i = 0; i < g->scope_doc.n; i++) {
		const char *v = g->scope_doc.items[i].value;

		if (strcmp(g->scope_doc.items[i].key, "artifact") == 0 && strncmp(v, hex, 64) == 0 &&
		    (v[64] == '\0' || v[64] == ' '))
			return v[64] == ' ' ? v + 65 : "";
	}
	return NULL;
}

/* In the plan tier, written content must be an approved artifact. */
static int
approved_content(gate *g, const char *verb, const void *data, size_t len)
{
	const char *tier = kv_get(&g->scope_doc, "tier");
	char hex[65];

	if (tier == NULL || strcmp(tier, "plan") != 0)
		return 0;
	hash_sha256_hex(data, len, hex);
	if (approved_kind(g, hex) != NULL)
		return 0;
	return gate_refuse(g, "%s: the content (sha256 %s) is not an approved artifact of the plan; "
	    "the plan tier applies only approved artifacts, byte for byte", verb, hex);
}

static int
write_tier(gate *g, const char *verb)
{
	const char *tier = kv_get(&g->scope_doc, "tier");

	if (tier == NULL || (strcmp(tier, "plan") != 0 && strcmp(tier, "shell") != 0))
		return gate_refuse(g, "%s needs tier plan or shell; grant G-%lld is tier %s", verb,
		    (long long)g->grant, tier ? tier : "read");
	return 0;
}

static int
read_stdin(gate *g, buf *in, size_t max, const char *verb)
{
	bg_error e;

	if (fileio_read_fd(STDIN_FILENO, max, in, &e) != 0)
		return gate_refuse(g, "%s: %s", verb, e.msg);
	return 0;
}

/*
 * Refuse early, before reading any content, when FILE's directory is not
 * a writable directory of the grant.  replace_file checks again when it
 * opens the directory; this only gives the clearer reason first.
 */
static int
writable_parent(gate *g, const char *verb, const char *path)
{
	const char *name;
	char *dir = split_path(path, &name);
	bg_error e;
	int fd;

	if (dir == NULL)
		return gate_refuse(g, "%s: '%.200s' is not a file path", verb, path);
	fd = scope_open(&g->sc, dir[0] ? dir : "/", O_PATH | O_DIRECTORY, 1, &e);
	free(dir);
	if (fd < 0)
		return gate_refuse(g, "%s: %s", verb, e.msg);
	close(fd);
	return 0;
}

/* put FILE: stdin replaces (or creates) FILE atomically. */
int
gate_verb_put(gate *g)
{
	char oldhex[65], newhex[65], err[512], reason[300];
	snapshot before;
	buf in;
	int r;

	if ((r = write_tier(g, "put")) != 0)
		return r;
	if (g->av.n != 2 || gate_need_path(g, "put", g->av.v[1]))
		return g->av.n != 2 ? gate_refuse(g, "usage: put FILE < CONTENT") : 1;
	if ((r = writable_parent(g, "put", g->av.v[1])) != 0)
		return r;
	buf_init(&in, GATE_MAX_PUT);
	if ((r = read_stdin(g, &in, GATE_MAX_PUT, "put")) != 0 ||
	    (r = approved_content(g, "put", in.data ? in.data : "", in.len)) != 0 ||
	    (r = gate_capture_before(g, &before)) != 0) {
		buf_release(&in);
		return r;
	}
	if (replace_file(g, g->av.v[1], in.data ? in.data : "", in.len, oldhex, newhex, err,
	    sizeof(err)) != 0) {
		buf_release(&in);
		r = gate_refuse(g, "put: %s", err);
		gate_capture_after(g, &before);
		snapshot_release(&before);
		return r;
	}
	snprintf(reason, sizeof(reason), "%s %s -> %s (%zu bytes)", strcmp(oldhex, "-") ?
	    "replaced" : "created", oldhex, newhex, in.len);
	gate_record(g, "gate.write", "allow", reason, 0);
	gate_printf(g, "%s %s (%zu bytes, sha256 %s)\n", strcmp(oldhex, "-") ? "replaced" : "created",
	    g->av.v[1], in.len, newhex);
	gate_capture_after(g, &before);
	snapshot_release(&before);
	buf_release(&in);
	return 0;
}

/*
 * The strip level as patch(1) works it out: the smallest N from 1 on
 * under which every file the diff modifies or deletes exists below dir
 * (a diff made one directory up names a/includes/x.php for the directory
 * includes).  1 when the diff only creates files, 0 when no level finds
 * them all.  Every path must be plain after -p1 already, so a stripped
 * ".." never makes a path acceptable.
 */
/* The first path the diff modifies or deletes (for messages). */
static const char *
first_old(const diff *d)
{
	size_t i;

	for (i = 0; i < d->nf; i++)
		if (d->f[i].old_path != NULL)
			return d->f[i].old_path;
	return "";
}

static int
strip_level(gate *g, const char *dir, const diff *d)
{
	int p;

	for (p = 1; p <= 16; p++) {
		size_t i, found = 0, need = 0;

		for (i = 0; i < d->nf; i++) {
			char *rel;
			buf full;
			bg_error e;
			int fd;

			if (d->f[i].old_path == NULL)
				continue;
			need++;
			if ((rel = diff_path(d->f[i].old_path, p)) == NULL)
				return 0;
			buf_init(&full, 8192);
			buf_printf(&full, "%s/%s", strcmp(dir, "/") ? dir : "", rel);
			free(rel);
			if ((fd = scope_open(&g->sc, full.data, O_PATH, 1, &e)) >= 0) {
				close(fd);
				found++;
			}
			buf_release(&full);
		}
		if (need == 0)
			return 1;
		if (found == need)
			return p;
	}
	return 0;
}

/*
 * patch DIR: a unified diff on stdin (paths relative to DIR after the
 * strip level patch would find, -p1 usually) applied exactly, all or
 * nothing: every file's new content is computed before the first one is
 * written.
 */
static int
patch_apply(gate *g, const char *dir, buf *in)
{
	buf *outs = NULL;
	char **paths = NULL;
	snapshot before;
	int captured = 0;
	diff d;
	bg_error e;
	size_t i, nf = 0;
	int r = 1, strip;

	memset(&d, 0, sizeof(d));
	memset(&before, 0, sizeof(before));
	if (diff_parse(buf_cstr(in), in->len, &d, &e) != 0) {
		r = gate_refuse(g, "patch: %s", e.msg);
		goto out;
	}
	nf = d.nf;
	if ((outs = calloc(nf, sizeof(*outs))) == NULL || (paths = calloc(nf, sizeof(*paths))) == NULL) {
		r = gate_refuse(g, "patch: out of memory");
		goto out;
	}
	for (i = 0; i < nf; i++) {
		char *rel = diff_path(d.f[i].new_path ? d.f[i].new_path : d.f[i].old_path, 1);

		if (rel == NULL) {
			r = gate_refuse(g, "patch: file %zu: paths must be plain and relative", i + 1);
			goto out;
		}
		free(rel);
	}
	if ((strip = strip_level(g, dir, &d)) == 0) {
		r = gate_refuse(g, "patch: the files the diff changes (the first: '%.200s') are not all "
		    "under '%.200s' at any strip level (-p1 to -p16); name the directory the diff was "
		    "made in (patch DIR, apply DIR); nothing was changed", first_old(&d), dir);
		goto out;
	}
	if (strip != 1)
		fprintf(stderr, "breakglass: patch: the diff's paths are relative to a directory above "
		    "'%.200s': applied with -p%d, as patch would\n", dir, strip);
	for (i = 0; i < nf; i++) {
		const diff_file *f = &d.f[i];
		char *rel = diff_path(f->new_path ? f->new_path : f->old_path, strip);
		char *orel = f->old_path && f->new_path ? diff_path(f->old_path, strip) : NULL;
		buf old, full;
		struct stat st;
		int fd;

		buf_init(&outs[i], 256u * 1024 * 1024);
		if (rel == NULL || (f->old_path && f->new_path && (orel == NULL || strcmp(rel, orel)))) {
			free(rel);
			free(orel);
			r = gate_refuse(g, "patch: file %zu: paths must be plain, relative and equal on both "
			    "sides (no renames)", i + 1);
			goto out;
		}
		free(orel);
		buf_init(&full, 8192);
		buf_printf(&full, "%s/%s", strcmp(dir, "/") ? dir : "", rel);
		free(rel);
		paths[i] = buf_detach(&full, NULL);
		buf_init(&old, 256u * 1024 * 1024);
		fd = gate_open_regular(g, paths[i], 1, &st, &e);
		if (fd >= 0) {
			if (fileio_read_fd(fd, old.max, &old, &e) != 0) {
				close(fd);
				buf_release(&old);
				r = gate_refuse(g, "patch: cannot read '%.200s'", paths[i]);
				goto out;
			}
			close(fd);
		} else if (f->old_path != NULL) {
			buf_release(&old);
			r = gate_refuse(g, "patch: %s", e.msg);
			goto out;
		}
		if (diff_apply(&d, f, old.data ? old.data : "", old.len, &outs[i], &e) != 0) {
			buf_release(&old);
			r = gate_refuse(g, "patch: '%.200s': %s; nothing was changed", paths[i], e.msg);
			goto out;
		}
		buf_release(&old);
	}
	if ((r = gate_capture_before(g, &before)) != 0)
		goto out;
	captured = 1;
	for (i = 0; i < nf; i++) {
		char oldhex[65], newhex[65], err[512], reason[700];
		int del = d.f[i].new_path == NULL;

		if (replace_file(g, paths[i], del ? NULL : outs[i].data ? outs[i].data : "",
		    outs[i].len, oldhex, newhex, err, sizeof(err)) != 0) {
			r = gate_refuse(g, "patch: %s (%zu of %zu files were written)", err, i, nf);
			goto out;
		}
		snprintf(reason, sizeof(reason), "patched %.400s %s -> %s", paths[i], oldhex, newhex);
		gate_record(g, "gate.write", "allow", reason, 0);
		gate_printf(g, "%s %s (sha256 %s)\n", del ? "deleted" : strcmp(oldhex, "-") ? "patched" :
		    "created", paths[i], del ? oldhex : newhex);
	}
	r = 0;
out:
	if (captured)
		gate_capture_after(g, &before);
	snapshot_release(&before);
	for (i = 0; i < nf; i++) {
		if (outs)
			buf_release(&outs[i]);
		if (paths)
			free(paths[i]);
	}
	free(outs);
	free(paths);
	diff_release(&d);
	return r;
}

int
gate_verb_patch(gate *g)
{
	buf in;
	int r;

	if ((r = write_tier(g, "patch")) != 0)
		return r;
	if (g->av.n != 2 || gate_need_path(g, "patch", g->av.v[1]))
		return g->av.n != 2 ? gate_refuse(g, "usage: patch DIR < UNIFIED-DIFF") : 1;
	buf_init(&in, DIFF_MAX_INPUT);
	if ((r = read_stdin(g, &in, DIFF_MAX_INPUT, "patch")) == 0 &&
	    (r = approved_content(g, "patch", in.data ? in.data : "", in.len)) == 0)
		r = patch_apply(g, g->av.v[1], &in);
	buf_release(&in);
	return r;
}

/* One step of a command list, already split into g->av. */
static int
run_step(gate *g, size_t k, size_t n)
{
	const gate_verb *v;
	size_t i;

	if (gate_describe_request(g) != 0)
		return 1;
	fprintf(stderr, "breakglass: apply: step %zu of %zu: %s\n", k, n, g->request);
	/* a list can outlast its grant: each step is checked like a login */
	if (gate_grant_ended(g))
		return gate_refuse(g, "grant G-%lld %s: step %zu and those after it were not run",
		    (long long)g->grant, gate_end_word(g), k);
	if (strchr(g->av.v[0], '/') != NULL) {
		int kind_of = gate_allowed_command(g);

		if (kind_of == 0)
			return gate_refuse(g, "'%.200s' is not an allowed command of grant G-%lld",
			    g->request, (long long)g->grant);
		return gate_run_command(g, kind_of - 1);
	}
	if ((v = gate_find_verb(g->av.v[0])) == NULL || !v->step)
		return gate_refuse(g, "'%.64s' cannot be a step of a command list (steps are allowed "
		    "commands and the verbs that read no input)", g->av.v[0]);
	for (i = 1; strcmp(v->name, "tail") == 0 && i < g->av.n; i++)
		if (strcmp(g->av.v[i], "-f") == 0)
			return gate_refuse(g, "tail -f cannot be a step of a command list: it would not end");
	return gate_run_verb(g, v);
}

/*
 * A command list: one request per line (blank lines and lines starting
 * with '#' skipped), each split like an ssh request and checked like one
 * (allowed commands by exact argv, verbs by their own rules), run in
 * order with standard input from /dev/null; the first failure stops it.
 */
static int
apply_commands(gate *g, const char *text, size_t len)
{
	argv_list saved = g->av;
	char saved_req[sizeof(g->request)];
	size_t pos, n = 0, k = 0;
	int status = 0, pass;

	memcpy(saved_req, g->request, sizeof(saved_req));
	g->stdin_null = 1;
	for (pass = 0; pass < 2 && status == 0; pass++) {
		for (pos = 0; pos < len && status == 0;) {
			const char *s = text + pos, *nl = memchr(s, '\n', len - pos);
			size_t ln = nl != NULL ? (size_t)(nl - s) : len - pos, lead;
			char *line;
			bg_error e;

			pos += ln + (nl != NULL);
			lead = 0;
			while (lead < ln && (s[lead] == ' ' || s[lead] == '\t'))
				lead++;
			if (lead == ln || s[lead] == '#')
				continue;
			if (pass == 0) {
				n++;
				if (ln > 8192 || memchr(s, '\0', ln) != NULL)
					status = gate_refuse(g, "apply: step %zu: longer than 8192 bytes or not text", n);
				continue;
			}
			k++;
			if ((line = strndup(s, ln)) == NULL) {
				status = gate_refuse(g, "apply: out of memory");
				break;
			}
			if (argv_split(line, &g->av, &e) != 0 || g->av.n == 0) {
				status = gate_refuse(g, "apply: step %zu: cannot parse it: %s", k,
				    g->av.n == 0 ? "empty" : e.msg);
			} else {
				status = run_step(g, k, n);
				if (status != 0 && k < n)
					fprintf(stderr, "breakglass: apply: step %zu failed (exit %d); the "
					    "%zu after it were not run\n", k, status, n - k);
			}
			argv_release(&g->av);
			free(line);
		}
		if (pass == 0 && n == 0 && status == 0)
			status = gate_refuse(g, "apply: the command list has no commands");
	}
	g->stdin_null = 0;
	g->av = saved;
	memcpy(g->request, saved_req, sizeof(saved_req));
	return status;
}

/* A diff with no kind in the certificate (issued before kinds were). */
static int
looks_like_diff(const char *s, size_t n)
{
	return (n >= 4 && (memcmp(s, "--- ", 4) == 0 || memcmp(s, "diff", 4) == 0)) ||
	    (memmem(s, n, "\n--- ", 5) != NULL && memmem(s, n, "\n+++ ", 5) != NULL);
}

/*
 * apply [DIR] < ARTIFACT: the bytes must be an artifact the plan approval
 * signed (its SHA-256 is in the certificate, with its kind).  A diff is
 * applied like patch; a command list step by step; SQL and other kinds
 * are refused here (the gate has no database connection).
 */
int
gate_verb_apply(gate *g)
{
	const char *kind, *roots[SCOPE_MAX_ROOTS];
	char hex[65], reason[160];
	buf in;
	int r;

	if (g->av.n > 2)
		return gate_refuse(g, "usage: apply [DIR] < ARTIFACT");
	buf_init(&in, GRANTSCOPE_MAX_ARTIFACT);
	if ((r = read_stdin(g, &in, GRANTSCOPE_MAX_ARTIFACT, "apply")) != 0)
		goto out;
	hash_sha256_hex(in.data ? in.data : "", in.len, hex);
	if ((kind = approved_kind(g, hex)) == NULL) {
		r = gate_refuse(g, "apply: the content (sha256 %s) is not an approved artifact of the plan "
		    "of T-%lld; only approved artifacts are applied, byte for byte", hex,
		    (long long)g->ticket);
		goto out;
	}
	if (*kind == '\0' && looks_like_diff(in.data ? in.data : "", in.len))
		kind = "diff";
	snprintf(reason, sizeof(reason), "artifact sha256 %s (%s)", hex, *kind ? kind : "kind unknown");
	if (strcmp(kind, "diff") == 0) {
		const char *dir = g->av.n == 2 ? g->av.v[1] : NULL;

		if ((r = write_tier(g, "apply")) != 0)
			goto out;
		if (dir == NULL) {
			if (writable_roots(g, roots) != 1) {
				r = gate_refuse(g, "apply: name the directory the diff applies under "
				    "(apply DIR): grant G-%lld has %zu writable directories",
				    (long long)g->grant, writable_roots(g, roots));
				goto out;
			}
			dir = roots[0];
		}
		if ((r = gate_need_path(g, "apply", dir)) != 0)
			goto out;
		gate_record(g, "gate.apply", "allow", reason, -1);
		gate_priv_up(g); /* as patch: the grant's files whatever their owner */
		r = patch_apply(g, dir, &in);
		gate_priv_down(g);
	} else if (strcmp(kind, "commands") == 0) {
		if (g->av.n != 1) {
			r = gate_refuse(g, "apply: a command list takes no directory");
			goto out;
		}
		gate_record(g, "gate.apply", "allow", reason, -1);
		r = apply_commands(g, in.data ? in.data : "", in.len);
	} else if (*kind == '\0') {
		r = gate_refuse(g, "apply: this certificate names the artifact without its kind; get a "
		    "new one (breakglass grant cert)");
		goto out;
	} else {
		r = gate_refuse(g, "apply: %s artifacts are not applied by the gate (it has no database "
		    "or other connection); the owner runs them and records the output", kind);
		goto out;
	}
	gate_record(g, "gate.apply", "allow", reason, r); /* the end, with the status */
out:
	buf_release(&in);
	return r;
}
