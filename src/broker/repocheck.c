/*
 * repocheck.c - the hotfix found in the repository (see repocheck.h).
 *
 * The change sets name absolute host paths; the last change set touching
 * a path says what production has there now (a file with its BLAKE2b-256,
 * a symlink with its target, a directory, or nothing).  --path-map
 * HOSTDIR=REPODIR says where a host directory lives in the repository.
 */
#include "repocheck.h"
#include "fileio.h"
#include "hash.h"
#include "json.h"
#include "proc.h"
#include "report.h"
#include "text.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* What production has at a path, as of the newest change set naming it. */
typedef struct prod {
	char *path;      /* absolute, on the host */
	char type;       /* 'f' file, 'l' symlink, 'd' directory, 'o' other, 'x' deleted */
	char hash[65];   /* 'f': BLAKE2b-256, hex */
	char *target;    /* 'l' */
	size_t host;     /* which host log */
} prod;

typedef struct prods {
	prod *v;
	size_t n;
} prods;

static void
prods_free(prods *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->v[i].path);
		free(p->v[i].target);
	}
	free(p->v);
}

/* A path component list with no "", ".", ".." and no control characters. */
static int
clean_rel(const char *s)
{
	size_t bad;
	const char *p = s, *q;

	if (*s == '\0' || *s == '/' || text_check(s, strlen(s), 0, &bad) != 0)
		return 0;
	for (;;) {
		size_t l;

		q = strchr(p, '/');
		l = q ? (size_t)(q - p) : strlen(p);
		if (l == 0 || (l == 1 && p[0] == '.') || (l == 2 && p[0] == '.' && p[1] == '.'))
			return 0;
		if (q == NULL)
			return 1;
		p = q + 1;
	}
}

int
repocheck_add_map(repocheck *c, char *arg, bg_error *e)
{
	char *eq = strchr(arg, '='), *host = arg, *rp;
	size_t l;

	if (c->nmap == REPOCHECK_MAX_MAPS)
		return bg_fail(e, BG_ERR_USAGE, "at most %d --path-map options", REPOCHECK_MAX_MAPS);
	if (eq == NULL)
		return bg_fail(e, BG_ERR_USAGE, "--path-map is HOSTDIR=REPODIR (e.g. "
		    "/srv/shop/current=. or /srv/shop/current/app=app), not '%.200s'", arg);
	*eq = '\0';
	rp = eq + 1;
	l = strlen(host);
	while (l > 1 && host[l - 1] == '/')
		host[--l] = '\0';
	if (host[0] != '/' || (l > 1 && !clean_rel(host + 1)))
		return bg_fail(e, BG_ERR_USAGE, "--path-map: the host directory must be an absolute "
		    "path without '.', '..' or '//', not '%.200s'", host);
	l = strlen(rp);
	while (l > 0 && rp[l - 1] == '/')
		rp[--l] = '\0';
	if (strcmp(rp, ".") == 0)
		rp[0] = '\0';
	if (rp[0] != '\0' && !clean_rel(rp))
		return bg_fail(e, BG_ERR_USAGE, "--path-map: the repository directory must be '.' "
		    "or a relative path inside the repository (no '..'), not '%.200s'", rp);
	c->map_host[c->nmap] = host;
	c->map_repo[c->nmap] = rp;
	c->nmap++;
	return 0;
}

/* ---- git, run safely ---- */

static const char *const git_env[] = {
	"GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null", "HOME=/nonexistent",
	"GIT_TERMINAL_PROMPT=0", "GIT_LITERAL_PATHSPECS=1", "GIT_NO_REPLACE_OBJECTS=1",
	"GIT_OPTIONAL_LOCKS=0", "GIT_PAGER=cat", "PAGER=cat", "GIT_ATTR_NOSYSTEM=1", NULL
};

/* git -C repo ARGS... with the repository's own configuration disarmed:
 * out gets stdout; 0 with *status set, or BG_ERR_EXEC. */
static int
git(const repocheck *c, const char *const *args, buf *out, int *status, buf *err, bg_error *e)
{
	const char *argv[32] = {
		REPOCHECK_GIT, "--no-pager", "-c", "core.fsmonitor=false", "-c",
		"core.hooksPath=/dev/null", "-c", "protocol.allow=never", "-c",
		"core.sshCommand=/bin/false", "-c", "core.alternateRefsCommand=/bin/false",
		"-C", c->repo
	};
	size_t n = 14;

	for (; *args != NULL && n < 31; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	buf_reset(out);
	if (err)
		buf_reset(err);
	return proc_run_env((char *const *)argv, git_env, out, err, status, e);
}

/* The first line of err, for a message. */
static const char *
first_line(buf *err)
{
	char *p;

	if (err->data == NULL || err->len == 0)
		return "(no message)";
	buf_cstr(err);
	if ((p = strchr(err->data, '\n')) != NULL)
		*p = '\0';
	return err->data;
}

/* ---- what production has ---- */

static prod *
prod_slot(prods *p, size_t host, const char *path)
{
	prod *v;

	for (size_t i = 0; i < p->n; i++)
		if (p->v[i].host == host && strcmp(p->v[i].path, path) == 0)
			return &p->v[i];
	if (p->n == REPOCHECK_MAX_FILES || (v = realloc(p->v, (p->n + 1) * sizeof(*v))) == NULL)
		return NULL;
	p->v = v;
	v = &p->v[p->n];
	memset(v, 0, sizeof(*v));
	if ((v->path = strdup(path)) == NULL)
		return NULL;
	v->host = host;
	p->n++;
	return v;
}

/* Apply one change set (JSON, changes_json's format) to p. */
static int
apply_change_set(prods *p, size_t host, const char *id, const char *text, size_t len,
    bg_error *e)
{
	json_val *doc = NULL;
	const json_val *files;
	int r = 0;

	if ((r = json_parse(text, len, &doc, e)) != 0)
		return bg_fail(e, r, "change set %s: %s", id, e->msg);
	files = json_get(doc, "files");
	if (files == NULL || files->type != JSON_ARR) {
		json_val_free(doc);
		return bg_fail(e, BG_ERR_CORRUPT, "change set %s has no file list", id);
	}
	for (size_t i = 0; i < files->n && r == 0; i++) {
		const json_val *f = &files->v[i], *after = json_get(f, "after");
		const char *path = json_get_str(f, "path"), *change = json_get_str(f, "change");
		const char *type = after ? json_get_str(after, "type") : NULL;
		prod *d;

		if (path == NULL || change == NULL || path[0] != '/') {
			r = bg_fail(e, BG_ERR_CORRUPT, "change set %s: file %zu has no absolute path",
			    id, i + 1);
			break;
		}
		if ((d = prod_slot(p, host, path)) == NULL) {
			r = bg_fail(e, BG_ERR_TOOLARGE, "more than %d paths in the change sets",
			    REPOCHECK_MAX_FILES);
			break;
		}
		free(d->target);
		d->target = NULL;
		d->hash[0] = '\0';
		if (strcmp(change, "deleted") == 0) {
			d->type = 'x';
		} else if (type == NULL) {
			r = bg_fail(e, BG_ERR_CORRUPT, "change set %s: '%s' has no after state", id,
			    change);
		} else if (strcmp(type, "file") == 0) {
			const char *hx = json_get_str(after, "blake2b");

			if (hx == NULL || !hash_is_hex64(hx)) {
				r = bg_fail(e, BG_ERR_CORRUPT, "change set %s: a file without its hash", id);
				break;
			}
			d->type = 'f';
			memcpy(d->hash, hx, 65);
		} else if (strcmp(type, "symlink") == 0) {
			const char *tg = json_get_str(after, "target");

			d->type = 'l';
			if (tg == NULL || (d->target = strdup(tg)) == NULL)
				r = bg_fail(e, BG_ERR_CORRUPT, "change set %s: a symlink without target", id);
		} else
			d->type = strcmp(type, "directory") == 0 ? 'd' : 'o';
	}
	json_val_free(doc);
	return r;
}

/* Every change set of tid in the host log at dir, applied in order. */
static int
load_host(prods *p, size_t host, const char *dir, int64_t tid, size_t *ncs, bg_error *e)
{
	report_cs *cs = NULL;
	size_t n = 0, i;
	buf path, text;
	char hex[65];
	int r;

	if ((r = report_change_sets(dir, tid, &cs, &n, e)) != 0)
		return bg_fail(e, r, "host log '%s': %s", dir, e->msg);
	buf_init(&path, 4096);
	buf_init(&text, 64u * 1024 * 1024);
	for (i = 0; i < n && r == 0; i++) {
		buf_reset(&path);
		buf_reset(&text);
		if (cs[i].sha256[0] == '\0') {
			r = bg_fail(e, BG_ERR_CORRUPT, "change set %s: its record carries no hash; "
			    "it cannot be trusted", cs[i].id);
			break;
		}
		if ((r = buf_printf(&path, "%s/snapshots/changes/%s.json", dir, cs[i].id)) != 0 ||
		    (r = fileio_read(path.data, text.max, &text, e)) != 0)
			break;
		hash_sha256_hex(text.data ? text.data : "", text.len, hex);
		if (strcmp(hex, cs[i].sha256) != 0) {
			r = bg_fail(e, BG_ERR_CORRUPT, "change set %s does not match the host log "
			    "(SHA-256 %s, the log says %s)", cs[i].id, hex, cs[i].sha256);
			break;
		}
		r = apply_change_set(p, host, cs[i].id, text.data ? text.data : "", text.len, e);
	}
	*ncs += n;
	free(cs);
	buf_release(&path);
	buf_release(&text);
	return r;
}

/* ---- the comparison ---- */

static int
differs(repocheck *c, const char *host, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int
differs(repocheck *c, const char *host, const char *path, const char *fmt, ...)
{
	va_list ap;
	int r;

	c->differ++;
	if (host)
		buf_printf(&c->diffs, "  [%s] ", host);
	else
		buf_puts(&c->diffs, "  ");
	/* a path from a change set is untrusted bytes: escaped for the terminal */
	for (const unsigned char *q = (const unsigned char *)path; *q; q++)
		if (*q < 0x21 || *q > 0x7e || *q == '%')
			buf_printf(&c->diffs, "%%%02X", *q);
		else
			buf_putc(&c->diffs, (char)*q);
	buf_puts(&c->diffs, ": ");
	va_start(ap, fmt);
	r = buf_vprintf(&c->diffs, fmt, ap);
	va_end(ap);
	return r != 0 ? r : buf_putc(&c->diffs, '\n');
}

/* Where host path lives in the repository (longest --path-map prefix); 0. */
static int
map_path(const repocheck *c, const char *path, buf *out)
{
	size_t best = 0, bl = 0;
	int found = 0;

	for (size_t i = 0; i < c->nmap; i++) {
		size_t l = strlen(c->map_host[i]);

		if (strcmp(c->map_host[i], "/") == 0)
			l = 0;
		if (strncmp(path, c->map_host[i], l) != 0 || path[l] != '/')
			continue;
		if (!found || l >= bl) {
			best = i;
			bl = l;
			found = 1;
		}
	}
	if (!found)
		return -1;
	buf_reset(out);
	if (c->map_repo[best][0] != '\0')
		buf_printf(out, "%s/", c->map_repo[best]);
	buf_puts(out, path + (strcmp(c->map_host[best], "/") == 0 ? 0 : bl) + 1);
	return clean_rel(buf_cstr(out)) ? 0 : -2;
}

/* ls-tree of one path: its mode, object id and size (-1: not a blob), or
 * mode "" when absent. */
static int
tree_entry(repocheck *c, const char *rpath, char mode[8], char oid[65], long long *size,
    buf *out, buf *err, bg_error *e)
{
	const char *args[] = { "ls-tree", "-z", "-l", "--full-tree", c->commit, "--", rpath,
		NULL };
	char type[16], sz[32];
	int st, r;

	mode[0] = oid[0] = '\0';
	*size = -1;
	if ((r = git(c, args, out, &st, err, e)) != 0)
		return r;
	if (st != 0)
		return bg_fail(e, BG_ERR_EXEC, "git ls-tree failed for '%s': %s", rpath,
		    first_line(err));
	if (out->len == 0)
		return 0;
	/* MODE SP TYPE SP OID SP* SIZE TAB PATH NUL (SIZE "-" for a tree) */
	buf_cstr(out);
	if (sscanf(out->data, "%7[0-7] %15[a-z] %64[0-9a-f] %31[0-9-]\t", mode, type, oid,
	    sz) != 4 || (strlen(oid) != 40 && strlen(oid) != 64))
		return bg_fail(e, BG_ERR_EXEC, "git ls-tree printed something unexpected for '%s'",
		    rpath);
	if (strcmp(type, "blob") == 0) {
		char *end;

		*size = strtoll(sz, &end, 10);
		if (sz[0] < '0' || sz[0] > '9' || *end != '\0')
			return bg_fail(e, BG_ERR_EXEC, "git ls-tree printed no size for '%s'", rpath);
	}
	return 0;
}

static int
compare_one(repocheck *c, const prod *d, const char *hostname, buf *rp, buf *out, buf *err,
    bg_error *e)
{
	char mode[8], oid[65];
	long long size;
	int r, st;

	if (d->type == 'd')
		return 0;  /* git keeps no directories: their files are checked */
	c->checked++;
	if (d->type == 'o')
		return differs(c, hostname, d->path, "%s", "not a file, symlink or directory on "
		    "the host: cannot be in a repository");
	if ((r = map_path(c, d->path, rp)) == -1)
		return differs(c, hostname, d->path, "%s", "not under any --path-map HOSTDIR");
	if (r == -2)
		return differs(c, hostname, d->path, "%s", "its repository path would have '.', "
		    "'..', '//' or control characters: not looked up");
	if ((r = tree_entry(c, buf_cstr(rp), mode, oid, &size, out, err, e)) != 0)
		return r;
	if (d->type == 'x')
		return mode[0] ? differs(c, hostname, d->path, "deleted on the host, still in the "
		    "repository as %s", buf_cstr(rp)) : 0;
	if (mode[0] == '\0')
		return differs(c, hostname, d->path, "missing from the branch (looked for %s)",
		    buf_cstr(rp));
	if (strcmp(mode, "040000") == 0 || strcmp(mode, "160000") == 0)
		return differs(c, hostname, d->path, "%s", strcmp(mode, "040000") == 0 ?
		    "a directory in the repository" : "a submodule in the repository");
	if ((d->type == 'l') != (strcmp(mode, "120000") == 0))
		return differs(c, hostname, d->path, "%s", d->type == 'l' ? "a symlink on the "
		    "host, a file in the repository" : "a file on the host, a symlink in the "
		    "repository");
	{
		const char *args[] = { "cat-file", "blob", oid, NULL };
		unsigned char h[32];
		char hex[65];

		if (size < 0 || (unsigned long long)size >= out->max)
			return differs(c, hostname, d->path, "larger in the repository than this "
			    "check reads (%s)", buf_cstr(rp));
		if ((r = git(c, args, out, &st, err, e)) != 0)
			return r;
		if (st != 0 || out->len != (size_t)size)
			return bg_fail(e, BG_ERR_EXEC, "git cat-file failed for '%s': %s",
			    buf_cstr(rp), st != 0 ? first_line(err) : "not the size ls-tree said");
		if (d->type == 'l')
			return out->len == strlen(d->target) &&
			    memcmp(out->data, d->target, out->len) == 0 ? 0 :
			    differs(c, hostname, d->path, "the symlink points elsewhere in the "
			    "repository (%s)", buf_cstr(rp));
		crypto_generichash(h, sizeof(h), (const unsigned char *)(out->data ? out->data : ""),
		    out->len, NULL, 0);
		sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
		if (strcmp(hex, d->hash) != 0)
			return differs(c, hostname, d->path, "content differs from production (%s "
			    "on the branch)", buf_cstr(rp));
	}
	return 0;
}

int
repocheck_run(home *h, int64_t tid, repocheck *c, bg_error *e)
{
	prods p = { NULL, 0 };
	buf out, err, rp;
	size_t nhosts, i, ncs = 0;
	struct stat sb;
	char spec[600];
	int r = 0, st;

	c->commit[0] = '\0';
	c->checked = c->differ = 0;
	if (c->repo == NULL || c->branch == NULL)
		return bg_fail(e, BG_ERR_USAGE, "name the repository and the branch (--repo PATH "
		    "--branch NAME)");
	if (stat(c->repo, &sb) != 0 || !S_ISDIR(sb.st_mode))
		return bg_fail(e, BG_ERR_USAGE, "--repo '%.200s' is not a directory", c->repo);
	{
		size_t bad, l = strlen(c->branch);

		if (l == 0 || l > 255 || c->branch[0] == '-' ||
		    text_check(c->branch, l, 0, &bad) != 0 || strchr(c->branch, ' ') != NULL)
			return bg_fail(e, BG_ERR_USAGE, "--branch '%.100s' is not a branch name",
			    c->branch);
	}
	if (c->nmap == 0)
		return bg_fail(e, BG_ERR_USAGE, "say where the host's files are in the repository: "
		    "--path-map HOSTDIR=REPODIR (e.g. --path-map /srv/shop/current=.)");
	if (access(REPOCHECK_GIT, X_OK) != 0)
		return bg_fail(e, BG_ERR_EXEC, "git is not installed at " REPOCHECK_GIT
		    " (apt-get install git)");
	nhosts = c->audit_dir ? 1 : h->nhost_logs;
	if (nhosts == 0)
		return bg_fail(e, BG_ERR_USAGE, "no host log to read the change sets from: name each "
		    "host's log directory with 'host-log: [NAME] DIR' in the config, or give "
		    "--audit-dir DIR");
	for (i = 0; i < nhosts && r == 0; i++)
		r = load_host(&p, i, c->audit_dir ? c->audit_dir : h->host_logs[i].dir, tid, &ncs, e);
	if (r != 0)
		goto out_early;
	if (ncs == 0) {
		r = bg_fail(e, BG_ERR_GATE, "no change set of T-%lld in the host log%s: nothing "
		    "to look for in the repository (if the hotfix changed no file, mark the item "
		    "--na --reason TEXT)", (long long)tid, nhosts > 1 ? "s" : "");
		goto out_early;
	}
	buf_init(&out, 64u * 1024 * 1024);
	buf_init(&err, 8192);
	buf_init(&rp, 8192);
	{
		/* a partial clone fetches missing objects from its remote: not here */
		const char *cfg[] = { "config", "--local", "--get", "extensions.partialclone", NULL };

		if ((r = git(c, cfg, &out, &st, &err, e)) != 0)
			goto out;
		if (st == 0) {
			r = bg_fail(e, BG_ERR_UNSUPPORTED, "'%.200s' is a partial clone (objects are "
			    "fetched on demand): check in a full clone", c->repo);
			goto out;
		}
	}
	snprintf(spec, sizeof(spec), "%s^{commit}", c->branch);
	{
		const char *args[] = { "rev-parse", "--verify", "--quiet", "--end-of-options", spec,
			NULL };

		if ((r = git(c, args, &out, &st, &err, e)) != 0)
			goto out;
		if (st != 0) {
			r = bg_fail(e, BG_ERR_NOTFOUND, "no branch or commit '%.100s' in '%.200s'%s%s",
			    c->branch, c->repo, err.len ? ": " : "", err.len ? first_line(&err) : "");
			goto out;
		}
		buf_cstr(&out);
		if (out.len < 41 || out.len > 65 || out.data[out.len - 1] != '\n' ||
		    strspn(out.data, "0123456789abcdef") != out.len - 1) {
			r = bg_fail(e, BG_ERR_EXEC, "git rev-parse printed something unexpected");
			goto out;
		}
		memcpy(c->commit, out.data, out.len - 1);
		c->commit[out.len - 1] = '\0';
	}
	for (i = 0; i < p.n && r == 0; i++)
		r = compare_one(c, &p.v[i], c->audit_dir || h->host_logs[p.v[i].host].name == NULL ?
		    NULL : h->host_logs[p.v[i].host].name, &rp, &out, &err, e);
out:
	buf_release(&out);
	buf_release(&err);
	buf_release(&rp);
out_early:
	prods_free(&p);
	return r;
}
