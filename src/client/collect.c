/*
 * collect.c - the collector (collect.h says what and why).
 *
 * Read-only: files are opened O_RDONLY and read with a cap, programs
 * (dpkg-query, git, php, node, python3) are started by absolute path with
 * execve (proc.h: no shell, a clean environment) and a time limit.  The
 * code tree is walked by the snapshot walker in measuring mode (nothing
 * stored, no symlink followed); each file's content hash is then keyed, so
 * that a file holding a weak secret cannot be guessed from the bundle.
 */
#include "collect.h"
#include "cfgfmt.h"
#include "fileio.h"
#include "hash.h"
#include "proc.h"
#include "scan.h"
#include "snapshot.h"
#include "utc.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

extern char **environ;

#define CFG_FILE_MAX (1024u * 1024)
#define SEEN_MAX (1u << 22)

/* ---- a set of strings, to keep (kind, key) unique ---- */

typedef struct strset {
	char **slot;
	size_t cap, n;
} strset;

static uint64_t
fnv(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ull;
	return h;
}

/* 1 if added, 0 if it was there, negative on error. */
static int
strset_add(strset *s, const char *k)
{
	size_t i;

	if (s->n * 2 >= s->cap) {
		size_t nc = s->cap ? 2 * s->cap : 1024, j;
		char **ns;

		if (nc > SEEN_MAX || (ns = calloc(nc, sizeof(*ns))) == NULL)
			return BG_ERR_NOMEM;
		for (j = 0; j < s->cap; j++) {
			if (s->slot[j] == NULL)
				continue;
			for (i = fnv(s->slot[j]) & (nc - 1); ns[i] != NULL; i = (i + 1) & (nc - 1))
				;
			ns[i] = s->slot[j];
		}
		free(s->slot);
		s->slot = ns;
		s->cap = nc;
	}
	for (i = fnv(k) & (s->cap - 1); s->slot[i] != NULL; i = (i + 1) & (s->cap - 1))
		if (strcmp(s->slot[i], k) == 0)
			return 0;
	if ((s->slot[i] = strdup(k)) == NULL)
		return BG_ERR_NOMEM;
	s->n++;
	return 1;
}

static void
strset_free(strset *s)
{
	size_t i;

	for (i = 0; i < s->cap; i++)
		free(s->slot[i]);
	free(s->slot);
	memset(s, 0, sizeof(*s));
}

/* ---- classification ---- */

static int
all_digits(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	return n > 0;
}

int
collect_value_harmless(const char *v)
{
	static const char *const words[] = {
		"true", "false", "on", "off", "yes", "no", "null", "none", "nil", "enabled",
		"disabled", NULL,
	};
	static const char *const units[] = {
		"k", "m", "g", "t", "kb", "mb", "gb", "tb", "kib", "mib", "gib", "b", "ms", "s",
		"sec", "min", "h", "d", "w", NULL,
	};
	size_t n = strlen(v), i, d;

	if (n == 0)
		return 1;
	for (i = 0; words[i]; i++)
		if (strcasecmp(v, words[i]) == 0)
			return 1;
	if (v[0] == '-' || v[0] == '+') {
		v++;
		n--;
	}
	for (d = 0; d < n && isdigit((unsigned char)v[d]); d++)
		;
	/* at most 9 digits: a long run of digits can be a numeric secret */
	if (d == 0 || d > 9)
		return 0;
	if (d == n)
		return 1;
	if (v[d] == '.') {
		size_t f = d + 1;

		while (f < n && isdigit((unsigned char)v[f]))
			f++;
		if (f == d + 1 || f - d - 1 > 6)
			return 0;
		if (f == n)
			return 1;
		d = f;
	}
	for (i = 0; units[i]; i++)
		if (strcasecmp(v + d, units[i]) == 0)
			return 1;
	return 0;
}

int
collect_key_secret(const char *key)
{
	static const char *const words[] = {
		"pass", "pwd", "secret", "token", "key", "salt", "auth", "credential", "private",
		"cookie", "session_id", "signature", "cert", "dsn", "nonce", "pw", "hash", NULL,
	};
	char low[CFG_MAX_PATH];
	size_t i, n = strlen(key);

	if (n >= sizeof(low))
		return 1;
	for (i = 0; i <= n; i++)
		low[i] = (char)tolower((unsigned char)key[i]);
	for (i = 0; words[i]; i++)
		if (strstr(low, words[i]) != NULL)
			return 1;
	return 0;
}

/* ---- the collector ---- */

typedef struct cx {
	const collect_opts *o;
	buf *out;
	collect_stats *st;
	strset seen;
	buf k, v, tmp;
	const char *file;   /* display name of the file being parsed */
	int kind;           /* BK_CFG or BK_RT */
	int settings;       /* the runtime's own settings */
	const char *prefix; /* BK_RT: "php." */
	char base[4096];    /* root (without a trailing slash; "" for /) */
	char appbase[8192]; /* root + app */
	const char *app;
} cx;

/* Under limits: say what was skipped and why (the item as the profile
 * names it). */
static void
skip(cx *c, const char *what, const char *arg, const char *why)
{
	char item[4200];

	c->st->skipped++;
	if (c->o->lim != NULL && c->o->lim->skipped != NULL) {
		snprintf(item, sizeof(item), "%s %s", what, arg);
		c->o->lim->skipped(c->o->lim->ctx, item, why);
	}
}

/* 1 if the program may be started (always, without limits); else says
 * it was skipped */
static int
may_run(cx *c, const char *what, const char *prog)
{
	if (c->o->lim == NULL || c->o->lim->may_run == NULL)
		return 1;
	if (c->o->lim->may_run(c->o->lim->ctx, prog))
		return 1;
	skip(c, what, prog, "not a program the grant allows");
	return 0;
}

static const char *const item_names[] = {
	"config", "settings", "log", "tree", "git", "deploylog", "packages", "runtime",
	"service", "allow",
};

/*
 * Under limits: 1 if the directories a profile path (after @app is
 * expanded) names before its first glob character lie in what may be
 * read; else the item is skipped and said.
 */
static int
path_allowed(cx *c, const profile_item *it, const char *path)
{
	char dir[4200];
	size_t n = strcspn(path, "*?[");

	if (c->o->lim == NULL || c->o->lim->may_read == NULL)
		return 1;
	if (n >= sizeof(dir))
		n = sizeof(dir) - 1;
	memcpy(dir, path, n);
	dir[n] = '\0';
	if (path[n] != '\0') { /* a glob: the directory it is in */
		char *sl = strrchr(dir, '/');

		if (sl != NULL)
			*sl = '\0';
	}
	if (dir[0] != '\0' && c->o->lim->may_read(c->o->lim->ctx, dir))
		return 1;
	skip(c, item_names[it->kind], it->arg, "not in the grant");
	return 0;
}

static int
rec(cx *c, int kind, const char *key, const char *value)
{
	int r;

	c->st->records++;
	if ((r = bundle_add(c->out, kind, key, value)) != 0)
		return r;
	return 0;
}

/* A unique key for kind: key, or key#2, key#3... */
static int
unique(cx *c, int kind, const char *key, buf *out)
{
	unsigned n = 1;
	int r;

	for (;;) {
		buf_reset(out);
		if ((r = buf_printf(out, "%s %s", bundle_kind_name(kind), key)) != 0 ||
		    (n > 1 && (r = buf_printf(out, "#%u", n)) != 0))
			return r;
		if ((r = strset_add(&c->seen, out->data)) < 0)
			return r;
		if (r == 1) {
			/* drop the kind prefix */
			size_t kl = strlen(bundle_kind_name(kind)) + 1;

			memmove(out->data, out->data + kl, out->len - kl + 1);
			out->len -= kl;
			return 0;
		}
		if (++n > 1000)
			return BG_ERR_TOOLARGE;
	}
}

/*
 * A runtime's own setting is shown when it reads like one: short, of the
 * characters settings are made of (paths, lists, flags, E_ALL & ~E_NOTICE),
 * no URL with parameters or credentials, and no long run of letters mixed
 * with digits (a random token).
 */
static int
setting_like(const char *v)
{
	size_t n = strlen(v), i, run = 0;
	int digit = 0, alpha = 0;

	if (n > 128 || strchr(v, '@') || strchr(v, '?') || strchr(v, '=') || strstr(v, "://"))
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)v[i];

		if (!(isalnum(ch) || strchr(" _./,:-&~|();+*", ch)))
			return 0;
		if (isalnum(ch)) {
			run++;
			digit |= isdigit(ch) != 0;
			alpha |= isalpha(ch) != 0;
			if (run >= 16 && digit && alpha)
				return 0;
		} else {
			run = 0;
			digit = alpha = 0;
		}
	}
	return 1;
}

/*
 * A value shown or hashed.  name is the key's own part (a configuration
 * key's path inside its file: a file called auth.php does not make every
 * key in it secret); runtime: a runtime's own setting.
 */
static int
value_rec(cx *c, int kind, const char *key, const char *name, const char *value, int runtime,
    int whole)
{
	char h[BUNDLE_HASHLEN + 1];
	int show = 0, r;

	if (!whole && !collect_key_secret(name))
		show = (runtime && setting_like(value)) || collect_value_harmless(value) ||
		    profile_allows(c->o->prof, key);
	if (show) {
		scan_result sr;

		scan_text(value, strlen(value), &sr);
		show = sr.n == 0;
	}
	if ((r = unique(c, kind, key, &c->k)) != 0)
		return r;
	buf_reset(&c->v);
	if (show) {
		c->st->shown++;
		if ((r = buf_putc(&c->v, '=')) != 0 || (r = buf_puts(&c->v, value)) != 0)
			return r;
	} else {
		c->st->hashed++;
		bundle_key_hash(c->o->key, value, strlen(value), h);
		if ((r = buf_puts(&c->v, h)) != 0)
			return r;
	}
	return rec(c, kind, c->k.data, c->v.data);
}

static int
cfg_found(void *ctx, const char *path, const char *value, size_t line, int flags)
{
	cx *c = ctx;
	buf key;
	int r;

	buf_init(&key, CFG_MAX_PATH + 4096);
	if (c->kind == BK_RT)
		r = buf_printf(&key, "%s%s", c->prefix, path);
	else
		r = buf_printf(&key, "%s:%s", c->file, path);
	if (r == 0)
		r = value_rec(c, c->kind, key.data, path, value,
		    !(flags & CFG_WHOLE) && (c->settings || (flags & CFG_RUNTIME)),
		    (flags & CFG_WHOLE) != 0);
	buf_release(&key);
	return r;
}

/* Expand a profile path (glob) under the root: each match's real path and
 * display name (the profile's spelling: /etc/..., @app/...) to fn. */
static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

typedef int (*each_fn)(cx *c, const char *real, const char *disp, const profile_item *it);

static int
each_path(cx *c, const profile_item *it, each_fn fn)
{
	const char *base, *rest, *prefix;
	glob_t g;
	buf pat, disp;
	size_t i, bl;
	int r = 0, gr;

	if (strncmp(it->arg, "@app", 4) == 0) {
		if (c->app == NULL) {
			c->st->skipped++;
			return 0;
		}
		base = c->appbase;
		rest = it->arg + 4;
		prefix = "@app";
	} else {
		base = c->base;
		rest = it->arg;
		prefix = "";
	}
	buf_init(&pat, 8192);
	buf_init(&disp, 8192);
	if ((r = buf_printf(&pat, "%s%s", base, rest)) != 0)
		goto out;
	if (!path_allowed(c, it, pat.data))
		goto out;
	memset(&g, 0, sizeof(g));
	gr = glob(pat.data, GLOB_NOSORT | GLOB_NOESCAPE, NULL, &g);
	if (gr == GLOB_NOMATCH || gr != 0) {
		c->st->skipped++;
		if (gr == 0)
			globfree(&g);
		goto out;
	}
	if (g.gl_pathc > 1)
		qsort(g.gl_pathv, g.gl_pathc, sizeof(char *), cmp_str);
	bl = strlen(base);
	for (i = 0; i < g.gl_pathc && r == 0; i++) {
		const char *m = g.gl_pathv[i];

		if (strncmp(m, base, bl) != 0)
			continue;
		buf_reset(&disp);
		if ((r = buf_printf(&disp, "%s%s", prefix, m + bl)) != 0)
			break;
		r = fn(c, m, disp.data, it);
	}
	globfree(&g);
out:
	buf_release(&pat);
	buf_release(&disp);
	return r;
}

/* Read a regular file (following links: a copy of a host may have them),
 * at most max bytes from off (-1: the last max bytes, from a line start). */
static int
read_file(cx *c, const char *path, size_t max, int tail, buf *out)
{
	struct stat st;
	int fd, r = 0;
	off_t from = 0;

	buf_reset(out);
	if (c->o->lim != NULL)
		fd = c->o->lim->open ? c->o->lim->open(c->o->lim->ctx, path) : -1;
	else
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return BG_ERR_IO;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return BG_ERR_INVALID;
	}
	if ((size_t)st.st_size > max) {
		if (!tail) {
			close(fd);
			return BG_ERR_TOOLARGE;
		}
		from = st.st_size - (off_t)max;
	}
	if ((r = buf_reserve(out, max + 1)) == 0) {
		ssize_t n;

		while (out->len < max && (n = pread(fd, out->data + out->len, max - out->len,
		    from + (off_t)out->len)) != 0) {
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				r = BG_ERR_IO;
				break;
			}
			out->len += (size_t)n;
		}
		out->data[out->len] = '\0';
	}
	close(fd);
	if (r == 0 && from > 0) { /* start at a line */
		char *nl = memchr(out->data, '\n', out->len);
		size_t skip = nl ? (size_t)(nl - out->data) + 1 : out->len;

		memmove(out->data, out->data + skip, out->len - skip + 1);
		out->len -= skip;
	}
	return r;
}

static int
file_rec(cx *c, const char *disp, const buf *content)
{
	char h[BUNDLE_HASHLEN + 1];
	int r;

	bundle_key_hash(c->o->key, content->data, content->len, h);
	if ((r = unique(c, BK_FILE, disp, &c->k)) != 0)
		return r;
	c->st->files++;
	return rec(c, BK_FILE, c->k.data, h);
}

static int
do_config(cx *c, const char *real, const char *disp, const profile_item *it)
{
	buf b;
	bg_error pe;
	int r, fmt = it->format >= 0 ? it->format : cfg_format_for(real);

	buf_init(&b, CFG_FILE_MAX + 1);
	if (read_file(c, real, CFG_FILE_MAX, 0, &b) != 0) {
		c->st->skipped++;
		buf_release(&b);
		return 0;
	}
	if ((r = file_rec(c, disp, &b)) != 0)
		goto out;
	c->file = disp;
	c->kind = BK_CFG;
	c->settings = it->kind == PD_SETTINGS;
	if ((r = cfg_parse(fmt, b.data, b.len, cfg_found, c, &pe)) == BG_ERR_INVALID) {
		/* not the format it claims (or binary): the whole file, hashed */
		buf key;

		buf_init(&key, 8192);
		if ((r = buf_printf(&key, "%s:#file", disp)) == 0)
			r = value_rec(c, BK_CFG, key.data, "#file", b.data, 0, 1);
		buf_release(&key);
	}
out:
	buf_release(&b);
	return r;
}

/* Free text through the scanner into out. */
static int
redact(cx *c, const char *s, size_t n, buf *out)
{
	size_t found = 0;
	int r;

	buf_reset(out);
	r = scan_redact(s, n, out, &found);
	c->st->redacted += found;
	return r;
}

static int
do_log(cx *c, const char *real, const char *disp, const profile_item *it)
{
	buf b, red, key;
	const char *s, *end;
	size_t line = 0;
	int r;

	buf_init(&b, PROFILE_MAX_LOG + 1);
	buf_init(&red, 4 * PROFILE_MAX_LOG);
	buf_init(&key, 8192);
	if (read_file(c, real, it->bytes ? it->bytes : 65536, 1, &b) != 0) {
		c->st->skipped++;
		r = 0;
		goto out;
	}
	if ((r = file_rec(c, disp, &b)) != 0 || (r = redact(c, b.data, b.len, &red)) != 0)
		goto out;
	for (s = red.data, end = red.data + red.len; s < end && r == 0;) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t n = nl ? (size_t)(nl - s) : (size_t)(end - s);

		line++;
		buf_reset(&key);
		buf_reset(&c->v);
		if ((r = buf_printf(&key, "%s:%zu", disp, line)) == 0 &&
		    (r = buf_append(&c->v, s, n)) == 0) {
			if (it->kind == PD_DEPLOYLOG) {
				if ((r = unique(c, BK_DEPLOY, c->v.data, &c->k)) == 0)
					r = rec(c, BK_DEPLOY, c->k.data, "log");
			} else if ((r = unique(c, BK_LOG, key.data, &c->k)) == 0) {
				r = rec(c, BK_LOG, c->k.data, c->v.data);
			}
		}
		s += n + (nl != NULL);
	}
out:
	buf_release(&b);
	buf_release(&red);
	buf_release(&key);
	return r;
}

static int
do_tree(cx *c, const char *real, const char *disp, const profile_item *it)
{
	const char *roots[1] = { real };
	snapshot s;
	snap_stats ss;
	bg_error se;
	buf key;
	char h[BUNDLE_HASHLEN + 1], t[UTC_STRLEN];
	size_t i;
	int r = 0;
	struct stat st;

	memset(&s, 0, sizeof(s));
	if (c->o->lim != NULL) {
		/* within limits: walked by whoever opens files for us */
		if (c->o->lim->tree == NULL || c->o->lim->tree(c->o->lim->ctx, real, &s) != 0) {
			snapshot_release(&s);
			c->st->skipped++;
			return 0;
		}
	} else if (stat(real, &st) != 0 || !S_ISDIR(st.st_mode) ||
	    snapshot_take(NULL, roots, 1, NULL, 0, 0, c->o->now, NULL, NULL, &s, &ss, &se) != 0) {
		c->st->skipped++;
		return 0;
	}
	buf_init(&key, 16384);
	for (i = 0; i < s.n && r == 0; i++) {
		const snap_entry *en = &s.e[i];

		if (en->path[0] == '\0' || strcmp(en->path, ".git") == 0 ||
		    strncmp(en->path, ".git/", 5) == 0 || (en->type != 'f' && en->type != 'l'))
			continue;
		buf_reset(&key);
		if ((r = buf_printf(&key, "%s/%s", disp, en->path)) != 0)
			break;
		if (en->type == 'f') {
			bundle_key_hash(c->o->key, en->hash, strlen(en->hash), h);
		} else {
			buf_reset(&c->tmp);
			if ((r = buf_printf(&c->tmp, "symlink:%s", en->target ? en->target : "")) != 0)
				break;
			bundle_key_hash(c->o->key, c->tmp.data, c->tmp.len, h);
		}
		c->st->tree++;
		if ((r = unique(c, BK_TREE, key.data, &c->k)) != 0 ||
		    (r = rec(c, BK_TREE, c->k.data, h)) != 0)
			break;
		if (en->mtime_ns / 1000000000 >= c->o->now - c->o->prof->recent &&
		    en->mtime_ns / 1000000000 <= c->o->now + 300) {
			utc_format(en->mtime_ns / 1000000000, t);
			if ((r = unique(c, BK_RECENT, key.data, &c->k)) == 0)
				r = rec(c, BK_RECENT, c->k.data, t);
		}
	}
	buf_release(&key);
	snapshot_release(&s);
	return r;
}

static int
run(cx *c, char *const argv[], buf *out)
{
	bg_error pe;
	int status;

	buf_reset(out);
	if (access(argv[0], X_OK) != 0)
		return 1;
	if (proc_run_timeout(argv, NULL, 0, out, &status, c->o->timeout_ms ? c->o->timeout_ms :
	    10000, &pe) != 0) {
		c->st->skipped++;
		return 1;
	}
	return status;
}

static int
do_git(cx *c, const char *real, const char *disp, const profile_item *it)
{
	buf out, dot, red;
	char *argv[] = { "/usr/bin/git", "-c", "safe.directory=*", "-C", (char *)real, "log",
		"-n", "20", "--format=%H%x09%ct%x09%s", NULL };
	const char *s, *end;
	int r = 0, first = 1;
	struct stat st;

	(void)it;
	if (!may_run(c, "git", argv[0]))
		return 0;
	buf_init(&out, 1024 * 1024);
	buf_init(&dot, 8192);
	buf_init(&red, 4 * 1024 * 1024);
	if (buf_printf(&dot, "%s/.git", real) != 0 || stat(dot.data, &st) != 0 ||
	    run(c, argv, &out) != 0) {
		c->st->skipped++;
		goto out;
	}
	for (s = out.data, end = out.data + out.len; s < end && r == 0;) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t n = nl ? (size_t)(nl - s) : (size_t)(end - s);
		const char *t1 = memchr(s, '\t', n), *t2;
		int64_t when;
		char ts[UTC_STRLEN], sha[41];

		if (t1 == NULL || t1 - s != 40 || (t2 = memchr(t1 + 1, '\t',
		    n - 41)) == NULL || !all_digits(t1 + 1, (size_t)(t2 - t1 - 1)) ||
		    t2 - t1 - 1 > 12) {
			s += n + (nl != NULL);
			continue;
		}
		memcpy(sha, s, 40);
		sha[40] = '\0';
		when = strtoll(t1 + 1, NULL, 10);
		utc_format(when, ts);
		if (first) {
			buf_reset(&dot);
			if ((r = buf_printf(&dot, "%s:HEAD", disp)) != 0 ||
			    (r = unique(c, BK_GIT, dot.data, &c->k)) != 0 ||
			    (r = rec(c, BK_GIT, c->k.data, sha)) != 0)
				break;
			first = 0;
		}
		if ((r = redact(c, t2 + 1, (size_t)(s + n - t2 - 1), &red)) != 0)
			break;
		buf_reset(&c->v);
		if ((r = buf_printf(&c->v, "%s %s", ts, red.data)) != 0 ||
		    (r = unique(c, BK_DEPLOY, sha, &c->k)) != 0 ||
		    (r = rec(c, BK_DEPLOY, c->k.data, c->v.data)) != 0)
			break;
		s += n + (nl != NULL);
	}
out:
	buf_release(&out);
	buf_release(&dot);
	buf_release(&red);
	return r;
}

static int
do_packages(cx *c)
{
	char *argv[80];
	char admin[4200];
	buf out;
	const char *s, *end;
	size_t i, n = 0;
	int r = 0;
	struct stat st;

	argv[n++] = "/usr/bin/dpkg-query";
	if (c->base[0] != '\0') {
		snprintf(admin, sizeof(admin), "%s/var/lib/dpkg/status", c->base);
		if (stat(admin, &st) == 0) {
			snprintf(admin, sizeof(admin), "--admindir=%s/var/lib/dpkg", c->base);
			argv[n++] = admin;
		}
	}
	argv[n++] = "-W";
	argv[n++] = "-f=${Package}\\t${Version}\\t${db:Status-Abbrev}\\n";
	for (i = 0; i < c->o->prof->n && n < 78; i++)
		if (c->o->prof->it[i].kind == PD_PACKAGES)
			argv[n++] = c->o->prof->it[i].arg;
	argv[n] = NULL;
	if (n == 4 || (n == 3 && argv[1] != admin))
		return 0;
	if (!may_run(c, "packages", argv[0]))
		return 0;
	buf_init(&out, 8 * 1024 * 1024);
	(void)run(c, argv, &out); /* 1 when a pattern matches nothing */
	for (s = out.data, end = out.data + out.len; s < end && r == 0;) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t ln = nl ? (size_t)(nl - s) : (size_t)(end - s);
		const char *t1 = memchr(s, '\t', ln), *t2 = t1 ? memchr(t1 + 1, '\t',
		    ln - (size_t)(t1 - s) - 1) : NULL;

		if (t1 != NULL && t2 != NULL && s + ln - t2 - 1 >= 2 && t2[1] == 'i' &&
		    t2[2] == 'i' && t1 > s && t2 > t1 + 1) {
			buf_reset(&c->tmp);
			buf_reset(&c->v);
			if ((r = buf_append(&c->tmp, s, (size_t)(t1 - s))) == 0 &&
			    (r = buf_append(&c->v, t1 + 1, (size_t)(t2 - t1 - 1))) == 0 &&
			    (r = unique(c, BK_PKG, c->tmp.data, &c->k)) == 0)
				r = rec(c, BK_PKG, c->k.data, c->v.data);
		}
		s += ln + (nl != NULL);
	}
	buf_release(&out);
	return r;
}

static int
first_line(buf *b)
{
	char *nl = memchr(b->data, '\n', b->len);

	if (nl != NULL) {
		*nl = '\0';
		b->len = (size_t)(nl - b->data);
	}
	return b->len > 0;
}

static int
do_runtime(cx *c, const char *name)
{
	buf out;
	int r = 0;

	buf_init(&out, 4 * 1024 * 1024);
	c->kind = BK_RT;
	c->settings = 0;
	if (strcmp(name, "php") == 0) {
		char *v[] = { "/usr/bin/php", "-v", NULL }, *i[] = { "/usr/bin/php", "-i", NULL };

		if (!may_run(c, "runtime", v[0]))
			goto out;
		if (run(c, v, &out) == 0 && first_line(&out))
			r = value_rec(c, BK_RT, "php.version", "php.version", out.data, 1, 0);
		if (r == 0 && run(c, i, &out) == 0) {
			bg_error pe;

			c->prefix = "php.";
			r = cfg_parse(CFG_PHPINFO, out.data, out.len, cfg_found, c, &pe);
			if (r == BG_ERR_INVALID)
				r = 0;
		}
	} else if (strcmp(name, "node") == 0) {
		char *v[] = { "/usr/bin/node", "-p", "JSON.stringify(process.versions)", NULL };

		if (may_run(c, "runtime", v[0]) && run(c, v, &out) == 0 && first_line(&out)) {
			bg_error pe;

			c->prefix = "node.";
			c->settings = 1;
			r = cfg_parse(CFG_JSON, out.data, out.len, cfg_found, c, &pe);
			if (r == BG_ERR_INVALID)
				r = 0;
		}
	} else if (strcmp(name, "python") == 0) {
		char *v[] = { "/usr/bin/python3", "--version", NULL };

		if (may_run(c, "runtime", v[0]) && run(c, v, &out) == 0 && first_line(&out))
			r = value_rec(c, BK_RT, "python.version", "python.version", out.data, 1,
			    0);
	}
out:
	buf_release(&out);
	return r;
}

static int
do_services(cx *c)
{
	DIR *d;
	struct dirent *de;
	char comm[64][20];
	size_t nc = 0, i, k;
	int r = 0;

	if ((d = opendir("/proc")) != NULL) {
		while ((de = readdir(d)) != NULL && nc < 4096) {
			char p[300], b[32];
			int fd;
			ssize_t n;

			if (!all_digits(de->d_name, strlen(de->d_name)))
				continue;
			snprintf(p, sizeof(p), "/proc/%s/comm", de->d_name);
			if ((fd = open(p, O_RDONLY | O_CLOEXEC)) < 0)
				continue;
			n = read(fd, b, sizeof(b) - 1);
			close(fd);
			if (n <= 0)
				continue;
			b[n] = '\0';
			b[strcspn(b, "\n")] = '\0';
			for (i = 0; i < c->o->prof->n; i++) {
				const profile_item *it = &c->o->prof->it[i];
				size_t l = strlen(it->arg) > 15 ? 15 : strlen(it->arg);

				if (it->kind != PD_SERVICE || strncmp(b, it->arg, l) != 0)
					continue;
				for (k = 0; k < nc; k++)
					if (strcmp(comm[k], it->arg) == 0)
						break;
				if (k == nc && nc < 64)
					snprintf(comm[nc++], sizeof(comm[0]), "%s", it->arg);
			}
		}
		closedir(d);
	}
	for (i = 0; i < c->o->prof->n && r == 0; i++) {
		const profile_item *it = &c->o->prof->it[i];

		if (it->kind != PD_SERVICE)
			continue;
		for (k = 0; k < nc; k++)
			if (strncmp(comm[k], it->arg, sizeof(comm[0]) - 1) == 0)
				break;
		if ((r = unique(c, BK_SVC, it->arg, &c->k)) == 0)
			r = rec(c, BK_SVC, c->k.data, k < nc ? "running" : "stopped");
	}
	return r;
}

static int
do_ports(cx *c)
{
	static const char *const files[] = { "/proc/net/tcp", "/proc/net/tcp6" };
	unsigned ports[1024];
	size_t np = 0, i, k;
	int r = 0;

	for (i = 0; i < 2; i++) {
		buf b;
		const char *s, *end;

		buf_init(&b, 16 * 1024 * 1024);
		if (fileio_read(files[i], b.max, &b, NULL) != 0) {
			buf_release(&b);
			continue;
		}
		for (s = b.data, end = b.data + b.len; s < end;) {
			const char *nl = memchr(s, '\n', (size_t)(end - s));
			size_t n = nl ? (size_t)(nl - s) : (size_t)(end - s);
			char line[512], local[80], rem[80], state[8];
			unsigned port;

			if (n < sizeof(line)) {
				char *colon;

				memcpy(line, s, n);
				line[n] = '\0';
				if (sscanf(line, " %*s %79s %79s %7s", local, rem, state) == 3 &&
				    strcmp(state, "0A") == 0 && (colon = strrchr(local, ':')) != NULL &&
				    sscanf(colon + 1, "%x", &port) == 1) {
					for (k = 0; k < np && ports[k] != port; k++)
						;
					if (k == np && np < 1024)
						ports[np++] = port;
				}
			}
			s += n + (nl != NULL);
		}
		buf_release(&b);
	}
	for (i = 0; i < np && r == 0; i++) {
		char key[32];

		snprintf(key, sizeof(key), "tcp:%u", ports[i]);
		if ((r = unique(c, BK_PORT, key, &c->k)) == 0)
			r = rec(c, BK_PORT, c->k.data, "listen");
	}
	return r;
}

static int
do_system(cx *c)
{
	buf b;
	struct statvfs vs;
	char v[64];
	const char *paths[2] = { c->base[0] ? c->base : "/", c->app ? c->appbase : NULL };
	const char *names[2] = { "disk./", "disk.@app" };
	int r = 0, i;

	buf_init(&b, 1024 * 1024);
	if (fileio_read("/proc/meminfo", b.max, &b, NULL) == 0) {
		unsigned long long kb;
		const char *p;

		if ((p = strstr(b.data, "MemTotal:")) != NULL && sscanf(p + 9, "%llu", &kb) == 1) {
			snprintf(v, sizeof(v), "%llu MiB", kb / 1024);
			r = rec(c, BK_SYS, "mem.total", v);
		}
		if (r == 0 && (p = strstr(b.data, "MemAvailable:")) != NULL &&
		    sscanf(p + 13, "%llu", &kb) == 1) {
			snprintf(v, sizeof(v), "%llu MiB", kb / 1024);
			r = rec(c, BK_SYS, "mem.available", v);
		}
	}
	buf_release(&b);
	for (i = 0; i < 2 && r == 0; i++) {
		char key[64];

		if (paths[i] == NULL || statvfs(paths[i], &vs) != 0)
			continue;
		snprintf(key, sizeof(key), "%s.size", names[i]);
		snprintf(v, sizeof(v), "%llu MiB", (unsigned long long)vs.f_blocks * vs.f_frsize >> 20);
		if ((r = rec(c, BK_SYS, key, v)) != 0)
			break;
		snprintf(key, sizeof(key), "%s.free", names[i]);
		snprintf(v, sizeof(v), "%llu MiB", (unsigned long long)vs.f_bavail * vs.f_frsize >> 20);
		r = rec(c, BK_SYS, key, v);
	}
	return r;
}

static int
do_environment(cx *c)
{
	char **ep;
	int r = 0;
	buf name;

	if (c->o->lim != NULL) {
		skip(c, "environment", "(names)", "the gate's own environment is not the "
		    "application's");
		return 0;
	}
	buf_init(&name, 4096);
	for (ep = environ; ep && *ep && r == 0; ep++) {
		const char *eq = strchr(*ep, '=');

		if (eq == NULL || eq == *ep)
			continue;
		buf_reset(&name);
		if ((r = buf_append(&name, *ep, (size_t)(eq - *ep))) == 0)
			r = value_rec(c, BK_ENV, name.data, name.data, eq + 1, 0, 0);
	}
	buf_release(&name);
	return r;
}

/* A quoted literal of a database default or definition: its keyed hash */
static int
db_literal(void *ctx, const char *lit, size_t n, buf *out)
{
	cx *c = ctx;
	char h[BUNDLE_HASHLEN + 1];

	c->st->hashed++;
	bundle_key_hash(c->o->key, lit, n, h);
	return buf_puts(out, h);
}

/*
 * A database's facts: the schema as PostgreSQL prints it, every quoted
 * literal (a default, a CHECK, a partial index's condition) replaced by
 * its keyed hash - names and types stay readable, values do not; the
 * applied migrations; row counts (never a row).
 */
static int
do_db(cx *c)
{
	const dbfacts *d = c->o->db;
	size_t i;
	int r = 0;

	for (i = 0; i < d->n && r == 0; i++) {
		const dbfact *f = &d->f[i];
		int kind = f->kind == DBFACT_SCHEMA ? BK_DB : f->kind == DBFACT_MIGRATION ?
		    BK_DBMIG : BK_DBROWS;

		buf_reset(&c->v);
		if (kind == BK_DB) {
			if ((r = buf_putc(&c->v, '=')) != 0)
				break;
			if (f->flags & DBFACT_SQL)
				r = dbfacts_sql_literals(f->value, db_literal, c, &c->v);
			else
				r = buf_puts(&c->v, f->value);
		} else {
			r = buf_puts(&c->v, f->value);
		}
		if (r == 0 && (r = unique(c, kind, f->key, &c->k)) == 0)
			r = rec(c, kind, c->k.data, c->v.data);
	}
	return r;
}

/* A hit that lies inside one of our own hex tokens ("h:" + 32 hex, a key
 * id, the SHA-1 of a commit) is not a secret: those are hashes. */
static int
in_hash_token(const char *s, size_t ls, size_t off, size_t len)
{
	size_t a = off, b = off + len;

	while (a > ls && isxdigit((unsigned char)s[a - 1]))
		a--;
	while (isxdigit((unsigned char)s[b]))
		b++;
	if (b - a < 32)
		return 0;
	for (size_t i = off; i < off + len; i++)
		if (!isxdigit((unsigned char)s[i]))
			return 0;
	return a == ls || s[a - 1] == ' ' || s[a - 1] == ':';
}

/*
 * The final scan over the finished records: a line with a finding the
 * first pass did not remove gets its key and value replaced by keyed
 * hashes (svc, port, recent records: dropped).
 */
static int
rescan(cx *c, size_t body, buf *out)
{
	const scan_engine *eng;
	scan_ctx *sc = NULL;
	const scan_hit *h;
	size_t nh, hi = 0, ls = 0, n = out->len - body;
	const char *s = out->data + body;
	buf nb;
	int r = 0;
	bg_error se;

	if ((eng = scan_builtin(&se)) == NULL || (sc = scan_ctx_new(eng)) == NULL)
		return BG_ERR_EXEC; /* fail closed: no bundle without the final scan */
	if ((r = scan_ctx_run(sc, s, n, &h, &nh, &se)) != 0) {
		scan_ctx_free(sc);
		return r;
	}
	if (nh == 0) {
		scan_ctx_free(sc);
		return 0;
	}
	buf_init(&nb, out->max);
	if ((r = buf_append(&nb, out->data, body)) != 0)
		goto done;
	while (ls < n && r == 0) {
		const char *nl = memchr(s + ls, '\n', n - ls);
		size_t le = nl ? (size_t)(nl - s) : n, next = le + (nl != NULL);
		int bad = 0;

		for (; hi < nh && h[hi].off < le; hi++)
			if (!in_hash_token(s, ls, h[hi].off, h[hi].len))
				bad = 1;
		if (!bad) {
			r = buf_append(&nb, s + ls, next - ls);
		} else {
			const char *sp1 = memchr(s + ls, ' ', le - ls), *sp2;
			char hk[BUNDLE_HASHLEN + 1], hv[BUNDLE_HASHLEN + 1];

			c->st->rescanned++;
			sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(s + le - sp1 - 1)) : NULL;
			if (sp1 != NULL && sp2 != NULL && strncmp(s + ls, "svc ", 4) != 0 &&
			    strncmp(s + ls, "port ", 5) != 0 && strncmp(s + ls, "recent ", 7) != 0 &&
			    strncmp(s + ls, "dbmig ", 6) != 0 && strncmp(s + ls, "dbrows ", 7) != 0) {
				bundle_key_hash(c->o->key, sp1 + 1, (size_t)(sp2 - sp1 - 1), hk);
				bundle_key_hash(c->o->key, s + ls, le - ls, hv);
				if (c->o->key == NULL)
					snprintf(hk, sizeof(hk), "withheld-%zu", ls);
				if ((r = buf_append(&nb, s + ls, (size_t)(sp1 - s - ls + 1))) == 0)
					r = buf_printf(&nb, "%s %s\n", hk, hv);
			}
		}
		ls = next;
	}
	if (r == 0) {
		buf t = *out;

		*out = nb;
		nb = t;
	}
done:
	buf_release(&nb);
	scan_ctx_free(sc);
	return r;
}

int
collect_run(const collect_opts *o, buf *out, collect_stats *st, bg_error *e)
{
	cx c;
	size_t i, body;
	const char *app = o->app ? o->app : (o->prof->app[0] ? o->prof->app : NULL);
	int r;
	bundle check;

	memset(st, 0, sizeof(*st));
	memset(&c, 0, sizeof(c));
	c.o = o;
	c.out = out;
	c.st = st;
	c.prefix = "";
	buf_init(&c.k, 1024 * 1024);
	buf_init(&c.v, 8 * 1024 * 1024);
	buf_init(&c.tmp, 1024 * 1024);
	if (o->root[0] != '/' || (app != NULL && app[0] != '/') || strlen(o->root) >= 4000 ||
	    (app != NULL && strlen(app) >= 4000)) {
		r = bg_fail(e, BG_ERR_USAGE, "root and app must be absolute paths");
		goto out;
	}
	if (o->lim != NULL && strcmp(o->root, "/") != 0) {
		r = bg_fail(e, BG_ERR_USAGE, "a collect within limits reads the host itself (root /)");
		goto out;
	}
	snprintf(c.base, sizeof(c.base), "%s", strcmp(o->root, "/") == 0 ? "" : o->root);
	while (strlen(c.base) > 0 && c.base[strlen(c.base) - 1] == '/')
		c.base[strlen(c.base) - 1] = '\0';
	if (app != NULL) {
		snprintf(c.appbase, sizeof(c.appbase), "%s%s", c.base, app);
		while (strlen(c.appbase) > 1 && c.appbase[strlen(c.appbase) - 1] == '/')
			c.appbase[strlen(c.appbase) - 1] = '\0';
		c.app = app;
	}
	if ((r = bundle_begin(out, o->now, o->prof->name, o->key)) != 0)
		goto nomem;
	body = out->len;
	if ((r = do_packages(&c)) != 0)
		goto nomem;
	for (i = 0; i < o->prof->n; i++) {
		const profile_item *it = &o->prof->it[i];

		switch (it->kind) {
		case PD_CONFIG:
		case PD_SETTINGS:
			r = each_path(&c, it, do_config);
			break;
		case PD_LOG:
		case PD_DEPLOYLOG:
			r = each_path(&c, it, do_log);
			break;
		case PD_TREE:
			r = each_path(&c, it, do_tree);
			break;
		case PD_GIT:
			r = each_path(&c, it, do_git);
			break;
		case PD_RUNTIME:
			r = do_runtime(&c, it->arg);
			break;
		default:
			r = 0;
		}
		if (r != 0)
			goto nomem;
	}
	if ((r = do_services(&c)) != 0 ||
	    ((o->prof->flags & PROFILE_PORTS) && (r = do_ports(&c)) != 0) ||
	    ((o->prof->flags & PROFILE_SYSTEM) && (r = do_system(&c)) != 0) ||
	    ((o->prof->flags & PROFILE_ENVIRONMENT) && (r = do_environment(&c)) != 0) ||
	    (o->db != NULL && (r = do_db(&c)) != 0))
		goto nomem;
	if ((r = rescan(&c, body, out)) != 0) {
		r = bg_fail(e, r, "the final secret scan could not run: no bundle written");
		goto out;
	}
	if ((r = bundle_finish(out)) != 0)
		goto nomem;
	/* what we wrote must read back */
	if ((r = bundle_parse(out->data, out->len, &check, e)) != 0) {
		bg_error e2 = *e;

		r = bg_fail(e, BG_ERR_CORRUPT, "collect made a bundle it cannot read: %s", e2.msg);
		goto out;
	}
	bundle_release(&check);
	goto out;
nomem:
	r = bg_fail(e, r, "collect: %s", bg_strerror(r));
out:
	buf_release(&c.k);
	buf_release(&c.v);
	buf_release(&c.tmp);
	strset_free(&c.seen);
	return r;
}
