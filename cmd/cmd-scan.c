/*
 * cmd-scan.c - breakglass scan: find secrets in files, directories or
 * standard input.
 *
 * Directories are walked in name order (symbolic links are not followed,
 * .git is skipped, .breakglassignore files are honoured); files are
 * scanned on a pool of threads, each with its own scan context, and the
 * results are printed in walk order so the output does not depend on the
 * thread count.  A finding is printed with the secret replaced by
 * [REDACTED] unless --show-secrets is given.  A baseline holds, per
 * finding, an HMAC of rule and secret under a random key kept in the file:
 * known secrets are recognised wherever they move, a new secret on a known
 * line is still reported, and the file does not give the secrets away to
 * anyone without a guess to test.
 */
#include "cmd.h"
#include "fileio.h"
#include "hash.h"
#include "ignore.h"
#include "json.h"
#include "scan.h"
#include "text.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static const char usage_text[] =
	"usage: breakglass scan [PATH... | -] [--json | --sarif] [--redact]\n"
	"                       [--baseline FILE] [--write-baseline FILE]\n"
	"                       [--rules FILE] [--engine vectorscan|pcre2] [--jobs N]\n"
	"                       [--show-secrets] [--no-ignore]\n"
	"       breakglass scan --list-rules [--rules FILE] [--json]\n"
	"       breakglass scan --check-rules [--rules FILE]\n\n"
	"Find credentials: private keys, cloud, forge, chat, payment, mail, AI,\n"
	"registry and infrastructure tokens, connection strings and URLs with\n"
	"passwords, secret-looking assignments, .netrc, curl -u, Kubernetes\n"
	"Secrets, password hashes, 2FA recovery codes (--list-rules shows all).\n"
	"Directories are scanned recursively without following symbolic links,\n"
	"skipping .git, binary files and what .breakglassignore files exclude\n"
	"(--no-ignore scans those too).  '-' reads standard input.\n\n"
	"Output: one line per finding, PATH:LINE:COLUMN: RULE: the text around it,\n"
	"with every secret in it shown as [REDACTED]; --json prints JSON lines,\n"
	"--sarif a SARIF 2.1.0 log.  --show-secrets prints the secrets themselves.\n\n"
	"--redact writes the input (standard input or one file) to standard output\n"
	"with every secret replaced by [REDACTED:rule], all else byte for byte.\n\n"
	"A line containing 'breakglass:allow' is not reported.  --write-baseline\n"
	"records the current findings (keyed by a keyed hash of rule and secret,\n"
	"not by line); --baseline FILE then reports only secrets not in it.\n\n"
	"Exit status: 0 no findings, 1 findings, 2 error.\n";

enum { O_SARIF, O_REDACT, O_BASELINE, O_WRITE_BASELINE, O_RULES, O_ENGINE,
	O_JOBS, O_SHOW, O_NOIGNORE, O_LIST, O_CHECK };

static const opt_def defs[] = {
	{ "--sarif", 0 },
	{ "--redact", 0 },
	{ "--baseline", OPT_ARG },
	{ "--write-baseline", OPT_ARG },
	{ "--rules", OPT_ARG },
	{ "--engine", OPT_ARG },
	{ "--jobs", OPT_ARG },
	{ "--show-secrets", 0 },
	{ "--no-ignore", 0 },
	{ "--list-rules", 0 },
	{ "--check-rules", 0 },
	{ NULL, 0 }
};

#define SCAN_ERR 2
#define MODE_TEXT 0
#define MODE_JSON 1
#define MODE_SARIF 2
#define MODE_BASELINE 3
#define STDIN_MAX (1024u * 1024 * 1024)
#define BASELINE_MAX (64u * 1024 * 1024)

typedef struct job {
	char *path;    /* as printed */
	int explicit_; /* named on the command line: symbolic links followed */
	buf out;       /* this file's formatted findings */
	size_t found, pragma, baselined, bytes;
	int binary, failed;
	int done;      /* standard input: scanned before the workers start */
} job;

typedef struct baseline {
	unsigned char key[32];
	unsigned char (*mac)[32]; /* sorted */
	size_t n;
} baseline;

typedef struct scan_run {
	const scan_engine *eng;
	int mode, show, noignore;
	const baseline *base; /* to filter by, or NULL */
	const unsigned char *mac_key; /* baseline key for writing, or NULL */
	job *jobs;
	size_t njobs, capjobs;
	size_t next; /* atomic work index */
	int walk_failed;
} scan_run;

/* ---- walking ---- */

static int
add_job(scan_run *sr, const char *path, int explicit_)
{
	job *j;

	if (sr->njobs == sr->capjobs) {
		size_t cap = sr->capjobs ? sr->capjobs * 2 : 256;
		job *g = realloc(sr->jobs, cap * sizeof(*g));

		if (g == NULL)
			return -1;
		sr->jobs = g;
		sr->capjobs = cap;
	}
	j = &sr->jobs[sr->njobs];
	memset(j, 0, sizeof(*j));
	if ((j->path = strdup(path)) == NULL)
		return -1;
	j->explicit_ = explicit_;
	buf_init(&j->out, 256u * 1024 * 1024);
	sr->njobs++;
	return 0;
}

typedef struct ign_frame {
	ignore_list list;
	size_t base; /* length of the directory path it applies under */
} ign_frame;

#define MAX_DEPTH 256

/* Ignored by the stack of ignore files?  Deeper files decide first. */
static int
ignored(ign_frame *st, int depth, const char *path, int is_dir)
{
	int i;

	for (i = depth - 1; i >= 0; i--) {
		const char *rel = path + st[i].base;
		int v;

		if (st[i].list.n == 0)
			continue;
		while (*rel == '/')
			rel++;
		if ((v = ignore_match(&st[i].list, rel, is_dir)) != 0)
			return v > 0;
	}
	return 0;
}

static void
load_ignore(const char *dir, ign_frame *f)
{
	buf path, text;
	bg_error e;

	f->list.p = NULL;
	f->list.n = 0;
	f->base = strlen(dir);
	buf_init(&path, 8192);
	buf_init(&text, 1024 * 1024);
	if (fileio_join(&path, dir, ".breakglassignore") == 0 &&
	    access(buf_cstr(&path), F_OK) == 0) {
		if (fileio_read(buf_cstr(&path), text.max, &text, &e) != 0 ||
		    ignore_parse(text.data ? text.data : "", text.len, &f->list, &e) != 0)
			fprintf(stderr, "breakglass: scan: '%s': %s (ignored)\n", buf_cstr(&path), e.msg);
	}
	buf_release(&path);
	buf_release(&text);
}

static int
walk(scan_run *sr, const char *dir, ign_frame *st, int depth)
{
	struct dirent **ents = NULL;
	int n, i, r = 0;

	if (depth >= MAX_DEPTH) {
		fprintf(stderr, "breakglass: scan: '%s': nested more than %d deep (skipped)\n", dir,
		    MAX_DEPTH);
		sr->walk_failed = 1;
		return 0;
	}
	if (!sr->noignore)
		load_ignore(dir, &st[depth]);
	else
		memset(&st[depth], 0, sizeof(st[depth]));
	if ((n = scandir(dir, &ents, NULL, alphasort)) < 0) {
		fprintf(stderr, "breakglass: scan: '%s': %s\n", dir, strerror(errno));
		sr->walk_failed = 1;
		ignore_release(&st[depth].list);
		return 0;
	}
	for (i = 0; i < n; i++) {
		const char *name = ents[i]->d_name;
		unsigned char type = ents[i]->d_type;
		struct stat sb;
		buf p;

		if (r != 0 || strcmp(name, ".") == 0 || strcmp(name, "..") == 0 ||
		    strcmp(name, ".git") == 0)
			continue;
		buf_init(&p, 65536);
		if (fileio_join(&p, dir, name) != 0) {
			fprintf(stderr, "breakglass: scan: '%s/%s': path too long\n", dir, name);
			sr->walk_failed = 1;
		} else if (type == DT_UNKNOWN && lstat(buf_cstr(&p), &sb) != 0) {
			fprintf(stderr, "breakglass: scan: '%s': %s\n", buf_cstr(&p), strerror(errno));
			sr->walk_failed = 1;
		} else if (type == DT_DIR || (type == DT_UNKNOWN && S_ISDIR(sb.st_mode))) {
			/* the type the directory listed (lstat when it did not say);
			 * a file is checked again with fstat once it is open */
			if (sr->noignore || !ignored(st, depth + 1, buf_cstr(&p), 1))
				r = walk(sr, buf_cstr(&p), st, depth + 1);
		} else if (type == DT_REG || (type == DT_UNKNOWN && S_ISREG(sb.st_mode))) {
			if ((sr->noignore || !ignored(st, depth + 1, buf_cstr(&p), 0)) &&
			    add_job(sr, buf_cstr(&p), 0) != 0)
				r = -1;
		}
		/* symbolic links, devices, sockets, fifos: not followed, not read */
		buf_release(&p);
	}
	for (i = 0; i < n; i++)
		free(ents[i]);
	free(ents);
	ignore_release(&st[depth].list);
	return r;
}

/* ---- formatting one finding ---- */

static void
mac_of(const unsigned char key[32], const char *rule_id, const char *s, size_t n,
    unsigned char out[32])
{
	crypto_auth_hmacsha256_state st;

	crypto_auth_hmacsha256_init(&st, key, 32);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)rule_id, strlen(rule_id) + 1);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)s, n);
	crypto_auth_hmacsha256_final(&st, out);
	sodium_memzero(&st, sizeof(st));
}

static int
mac_cmp(const void *a, const void *b)
{
	return memcmp(a, b, 32);
}

/*
 * What to print for finding hs[k]: its line from up to 40 bytes before the
 * secret to up to 40 after, control characters as '?', and every secret
 * in that stretch - this finding's and any other on the line, reported,
 * allowed or in the baseline - shown as [REDACTED] (or itself, with
 * --show-secrets).  hs is sorted by offset and its ranges do not overlap.
 */
static void
context(buf *out, const char *s, size_t n, const scan_hit *hs, size_t nh, size_t k, int show)
{
	const scan_hit *h = &hs[k];
	size_t a = h->off, b = h->off + h->len, i, o = k;

	while (a > 0 && s[a - 1] != '\n' && h->off - a < 40)
		a--;
	/* the first secret that ends after a (it may begin before it) */
	while (o > 0 && hs[o - 1].off + hs[o - 1].len > a)
		o--;
	if (a > 0 && s[a - 1] != '\n')
		buf_puts(out, "...");
	for (i = a; i < b + 40 && i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		while (o < nh && hs[o].off + hs[o].len <= i)
			o++;
		if (!show && o < nh && hs[o].off <= i) {
			buf_puts(out, "[REDACTED]");
			i = hs[o].off + hs[o].len - 1;
			continue;
		}
		if (c == '\n' && i >= b)
			return;
		buf_putc(out, c < 0x20 || c == 0x7f ? '?' : (char)c);
		if (i >= h->off && i - h->off > 200 && i < b) {
			buf_puts(out, "...");
			i = b - 1;
		}
	}
	if (i < n && s[i] != '\n')
		buf_puts(out, "...");
}

static void
format_hit(const scan_run *sr, job *j, const char *s, size_t n, const scan_hit *hs, size_t nh,
    size_t k, size_t line, size_t col, size_t eline, size_t ecol, const unsigned char *mac)
{
	const scan_hit *h = &hs[k];
	const rule *ru = &scan_engine_rules(sr->eng)->r[h->rule];
	buf ctx;
	json jw;
	char hex[65];

	buf_init(&ctx, 4096);
	context(&ctx, s, n, hs, nh, k, sr->show);
	if (sr->mode == MODE_TEXT) {
		buf_printf(&j->out, "%s:%zu:%zu: %s: %s\n", j->path, line, col, ru->id, buf_cstr(&ctx));
	} else if (sr->mode == MODE_BASELINE) {
		hash_hex(mac, 32, hex);
		buf_printf(&j->out, "%s %s\n", ru->id, hex);
	} else {
		if (sr->mode == MODE_SARIF && j->out.len > 0)
			buf_puts(&j->out, ",\n");
		json_init(&jw, &j->out);
		json_obj_begin(&jw);
		if (sr->mode == MODE_JSON) {
			json_kv_str(&jw, "path", j->path);
			json_kv_int(&jw, "line", (int64_t)line);
			json_kv_int(&jw, "column", (int64_t)col);
			json_kv_int(&jw, "end_line", (int64_t)eline);
			json_kv_int(&jw, "end_column", (int64_t)ecol);
			json_kv_str(&jw, "rule", ru->id);
			json_kv_str(&jw, "provider", ru->provider);
			json_kv_str(&jw, "title", ru->title);
			json_key(&jw, "match");
			json_strn(&jw, ctx.data ? ctx.data : "", ctx.len);
			if (sr->show) {
				json_key(&jw, "secret");
				json_strn(&jw, s + h->off, h->len);
			}
		} else {
			json_kv_str(&jw, "ruleId", ru->id);
			json_kv_int(&jw, "ruleIndex", (int64_t)h->rule);
			json_kv_str(&jw, "level", "error");
			json_key(&jw, "message");
			json_obj_begin(&jw);
			json_key(&jw, "text");
			{
				buf m;

				buf_init(&m, 8192);
				buf_printf(&m, "%s: %s", ru->title, buf_cstr(&ctx));
				json_strn(&jw, m.data, m.len);
				buf_release(&m);
			}
			json_obj_end(&jw);
			json_key(&jw, "locations");
			json_arr_begin(&jw);
			json_obj_begin(&jw);
			json_key(&jw, "physicalLocation");
			json_obj_begin(&jw);
			json_key(&jw, "artifactLocation");
			json_obj_begin(&jw);
			json_kv_str(&jw, "uri", j->path);
			json_obj_end(&jw);
			json_key(&jw, "region");
			json_obj_begin(&jw);
			json_kv_int(&jw, "startLine", (int64_t)line);
			json_kv_int(&jw, "startColumn", (int64_t)col);
			json_kv_int(&jw, "endLine", (int64_t)eline);
			json_kv_int(&jw, "endColumn", (int64_t)ecol);
			json_obj_end(&jw);
			json_obj_end(&jw);
			json_obj_end(&jw);
			json_arr_end(&jw);
		}
		json_obj_end(&jw);
		if (sr->mode == MODE_JSON)
			buf_putc(&j->out, '\n');
	}
	buf_release(&ctx);
}

/*
 * Newlines in s[0..n), sixteen bytes at a time (GCC/Clang vector types:
 * SSE2 on x86-64, NEON on arm64): each compare gives -1 per newline byte,
 * summed per byte lane for at most 255 blocks, then across the lanes.
 */
typedef unsigned char v16u8 __attribute__((vector_size(16)));

static size_t
count_newlines(const char *s, size_t n)
{
	const v16u8 nl = { '\n', '\n', '\n', '\n', '\n', '\n', '\n', '\n',
		'\n', '\n', '\n', '\n', '\n', '\n', '\n', '\n' };
	size_t i = 0, c = 0;

	/* four independent byte counters, each added to at most 255 times */
	while (n - i >= 64) {
		v16u8 a0 = { 0 }, a1 = { 0 }, a2 = { 0 }, a3 = { 0 };
		size_t k, stop = n - i >= 255 * 64 ? i + 255 * 64 : i + (n - i) / 64 * 64;

		for (; i < stop; i += 64) {
			v16u8 x0, x1, x2, x3;

			memcpy(&x0, s + i, 16);
			memcpy(&x1, s + i + 16, 16);
			memcpy(&x2, s + i + 32, 16);
			memcpy(&x3, s + i + 48, 16);
			a0 -= (v16u8)(x0 == nl); /* 0xff is -1: one more */
			a1 -= (v16u8)(x1 == nl);
			a2 -= (v16u8)(x2 == nl);
			a3 -= (v16u8)(x3 == nl);
		}
		for (k = 0; k < 16; k++)
			c += (size_t)a0[k] + a1[k] + a2[k] + a3[k];
	}
	for (; i < n; i++)
		c += s[i] == '\n';
	return c;
}

/* Advance (line, line start, at) to offset off. */
static void
advance(const char *s, size_t off, size_t *at, size_t *line, size_t *ls)
{
	const char *nl;

	if (off <= *at)
		return;
	*line += count_newlines(s + *at, off - *at);
	nl = memrchr(s + *at, '\n', off - *at);
	if (nl != NULL)
		*ls = (size_t)(nl + 1 - s);
	*at = off;
}

static int
line_has_pragma(const char *s, size_t n, size_t ls)
{
	const char *nl = memchr(s + ls, '\n', n - ls);
	size_t le = nl != NULL ? (size_t)(nl - s) : n;

	return memmem(s + ls, le - ls, "breakglass:allow", 16) != NULL;
}

static void
scan_buffer(const scan_run *sr, scan_ctx *c, job *j, const char *s, size_t n)
{
	const scan_hit *h;
	size_t nh, i, at = 0, line = 1, ls = 0;
	bg_error e;

	j->bytes = n;
	if (scan_ctx_run(c, s, n, &h, &nh, &e) != 0) {
		fprintf(stderr, "breakglass: scan: '%s': %s\n", j->path, e.msg);
		j->failed = 1;
		return;
	}
	for (i = 0; i < nh; i++) {
		const char *id = scan_engine_rules(sr->eng)->r[h[i].rule].id;
		size_t l0, c0, eat, el, els;
		unsigned char mac[32];

		advance(s, h[i].off, &at, &line, &ls);
		l0 = line;
		c0 = h[i].off - ls + 1;
		eat = at;
		el = line;
		els = ls;
		advance(s, h[i].off + h[i].len, &eat, &el, &els);
		if (line_has_pragma(s, n, ls)) {
			j->pragma++;
			continue;
		}
		if (sr->base != NULL) {
			mac_of(sr->base->key, id, s + h[i].off, h[i].len, mac);
			if (sr->base->n > 0 &&
			    bsearch(mac, sr->base->mac, sr->base->n, 32, mac_cmp) != NULL) {
				j->baselined++;
				continue;
			}
		}
		if (sr->mac_key != NULL)
			mac_of(sr->mac_key, id, s + h[i].off, h[i].len, mac);
		j->found++;
		format_hit(sr, j, s, n, h, nh, i, l0, c0, el, h[i].off + h[i].len - els + 1, mac);
	}
}

#define READ_MAX (16u * 1024 * 1024)

/*
 * Larger files are mapped.  Reading a page of a mapping beyond the end of
 * a file that was truncated meanwhile raises SIGBUS in the thread that
 * reads.  While a mapped file is scanned, the handler maps zero pages over
 * the rest of the mapping and notes it; the scan then runs to its end on
 * zeros (no state is left half-way), and scan_file reports the file as an
 * error (exit 2) with its findings dropped.  Any other SIGBUS keeps its
 * default action.
 */
static _Thread_local struct {
	char *map;
	size_t len;
	volatile sig_atomic_t shrank;
} bus;

static void
on_sigbus(int sig, siginfo_t *si, void *uc)
{
	char *a = si->si_addr;
	long pg = sysconf(_SC_PAGESIZE);

	(void)uc;
	if (bus.map != NULL && pg > 0 && a >= bus.map && a < bus.map + bus.len) {
		char *from = bus.map + ((size_t)(a - bus.map) & ~((size_t)pg - 1));

		if (mmap(from, (size_t)(bus.map + bus.len - from), PROT_READ,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != MAP_FAILED) {
			bus.shrank = 1;
			return; /* the read is retried and sees zeros */
		}
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

/*
 * A worker's read buffer, page-aligned: the kernel copies page-cache
 * pages into it a good deal faster than into a malloc'd buffer that
 * starts 16 bytes into a page.
 */
typedef struct rdbuf {
	char *p;
	size_t cap;
} rdbuf;

/* what was read may hold secrets: wiped before it is given back */
static void
rdbuf_free(rdbuf *rb)
{
	if (rb->p != NULL)
		sodium_memzero(rb->p, rb->cap);
	free(rb->p);
	rb->p = NULL;
	rb->cap = 0;
}

/* 0, or -1 when no buffer of n bytes can be had */
static int
rdbuf_reserve(rdbuf *rb, size_t n)
{
	void *p;
	size_t cap;

	if (n <= rb->cap)
		return 0;
	cap = (n + 65535) & ~(size_t)65535;
	if (posix_memalign(&p, 4096, cap) != 0)
		return -1;
	rdbuf_free(rb);
	rb->p = p;
	rb->cap = cap;
	return 0;
}

static void
scan_file(const scan_run *sr, scan_ctx *c, rdbuf *rd, job *j)
{
	int fd = open(j->path, O_RDONLY | O_CLOEXEC | O_NOCTTY | (j->explicit_ ? 0 : O_NOFOLLOW));
	struct stat sb;
	void *map = NULL;

	if (fd < 0 || fstat(fd, &sb) != 0) {
		fprintf(stderr, "breakglass: scan: '%s': %s\n", j->path, strerror(errno));
		j->failed = 1;
		goto out;
	}
	if (!S_ISREG(sb.st_mode)) {
		fprintf(stderr, "breakglass: scan: '%s': not a regular file\n", j->path);
		j->failed = 1;
		goto out;
	}
	if (sb.st_size == 0)
		goto out;
	if (rd != NULL && sb.st_size <= READ_MAX) {
		/* small files: one read into a reused buffer beats page faults */
		size_t want = (size_t)sb.st_size, got = 0;
		ssize_t k;

		if (rdbuf_reserve(rd, want) != 0) {
			fprintf(stderr, "breakglass: scan: '%s': out of memory\n", j->path);
			j->failed = 1;
			goto out;
		}
		while (got < want && ((k = read(fd, rd->p + got, want - got)) > 0 ||
		    (k < 0 && errno == EINTR)))
			got += k > 0 ? (size_t)k : 0;
		if (got < want && k < 0) {
			fprintf(stderr, "breakglass: scan: '%s': %s\n", j->path, strerror(errno));
			j->failed = 1;
			goto out;
		}
		/* a file that shrank meanwhile: what is there */
		if (memchr(rd->p, '\0', got < 8192 ? got : 8192) != NULL)
			j->binary = 1;
		else
			scan_buffer(sr, c, j, rd->p, got);
		goto out;
	}
	map = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED) {
		map = NULL;
		fprintf(stderr, "breakglass: scan: '%s': %s\n", j->path, strerror(errno));
		j->failed = 1;
		goto out;
	}
	(void)madvise(map, (size_t)sb.st_size, MADV_SEQUENTIAL);
	bus.shrank = 0;
	bus.len = (size_t)sb.st_size;
	bus.map = map;
	if (memchr(map, '\0', sb.st_size < 8192 ? (size_t)sb.st_size : 8192) != NULL)
		j->binary = 1;
	else
		scan_buffer(sr, c, j, map, (size_t)sb.st_size);
	bus.map = NULL;
	if (bus.shrank) {
		/* the file shrank under the mapping: an error, not a crash */
		buf_reset(&j->out);
		j->found = j->pragma = j->baselined = 0;
		j->binary = 0;
		j->failed = 1;
		fprintf(stderr, "breakglass: scan: '%s': the file shrank while it was being scanned\n",
		    j->path);
	}
out:
	if (map != NULL)
		munmap(map, (size_t)sb.st_size);
	if (fd >= 0)
		close(fd);
}

static void *
worker(void *arg)
{
	scan_run *sr = arg;
	scan_ctx *c = scan_ctx_new(sr->eng);
	size_t i;
	rdbuf rd;

	rd.p = NULL;
	rd.cap = 0;
	while ((i = __atomic_fetch_add(&sr->next, 1, __ATOMIC_RELAXED)) < sr->njobs) {
		if (sr->jobs[i].done)
			continue;
		if (c == NULL) {
			fprintf(stderr, "breakglass: scan: '%s': out of memory\n", sr->jobs[i].path);
			sr->jobs[i].failed = 1;
			continue;
		}
		scan_file(sr, c, &rd, &sr->jobs[i]);
	}
	rdbuf_free(&rd);
	scan_ctx_free(c);
	return NULL;
}

static void
scan_stdin(const scan_run *sr, job *j)
{
	scan_ctx *c = scan_ctx_new(sr->eng);
	buf in;
	bg_error e;

	buf_init(&in, STDIN_MAX);
	if (c == NULL || fileio_read_fd(0, in.max, &in, &e) != 0) {
		fprintf(stderr, "breakglass: scan: standard input: %s\n",
		    c == NULL ? "out of memory" : e.msg);
		j->failed = 1;
	} else {
		scan_buffer(sr, c, j, in.data ? in.data : "", in.len);
	}
	j->done = 1;
	scan_ctx_free(c);
	buf_release(&in);
}

/* ---- baselines ---- */

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static int
unhex32(const char *s, size_t n, unsigned char out[32])
{
	size_t i;

	if (n != 64)
		return -1;
	for (i = 0; i < 32; i++) {
		int a = hexval(s[2 * i]), b = hexval(s[2 * i + 1]);

		if (a < 0 || b < 0)
			return -1;
		out[i] = (unsigned char)(a << 4 | b);
	}
	return 0;
}

static const char BASELINE_HEAD[] = "# breakglass scan baseline v1\n";

static int
baseline_load(const char *path, const rule_set *rs, baseline *bl, bg_error *e)
{
	buf t;
	size_t pos, line = 1;
	int r, have_key = 0;

	memset(bl, 0, sizeof(*bl));
	buf_init(&t, BASELINE_MAX);
	if ((r = fileio_read(path, t.max, &t, e)) != 0)
		goto out;
	if (t.len < sizeof(BASELINE_HEAD) - 1 ||
	    memcmp(t.data, BASELINE_HEAD, sizeof(BASELINE_HEAD) - 1) != 0) {
		r = bg_fail(e, BG_ERR_INVALID, "'%s': not a breakglass scan baseline", path);
		goto out;
	}
	pos = sizeof(BASELINE_HEAD) - 1;
	while (pos < t.len) {
		const char *s = t.data + pos, *nl = memchr(s, '\n', t.len - pos), *sp;
		size_t n = nl != NULL ? (size_t)(nl - s) : t.len - pos;

		pos += n + 1;
		line++;
		if (nl == NULL) {
			r = bg_fail(e, BG_ERR_INVALID, "'%s': line %zu: no final newline", path, line);
			goto out;
		}
		if (n == 0 || s[0] == '#')
			continue;
		sp = memchr(s, ' ', n);
		if (!have_key) {
			if (sp == NULL || (size_t)(sp - s) != 3 || memcmp(s, "key", 3) != 0 ||
			    unhex32(sp + 1, n - 4, bl->key) != 0) {
				r = bg_fail(e, BG_ERR_INVALID, "'%s': line %zu: expected 'key HEX64'", path, line);
				goto out;
			}
			have_key = 1;
			continue;
		}
		{
			char id[80];
			unsigned char (*g)[32];

			if (sp == NULL || sp == s || (size_t)(sp - s) >= sizeof(id)) {
				r = bg_fail(e, BG_ERR_INVALID, "'%s': line %zu: expected 'RULE HEX64'", path, line);
				goto out;
			}
			memcpy(id, s, (size_t)(sp - s));
			id[sp - s] = '\0';
			if (rules_find(rs, id) < 0) {
				r = bg_fail(e, BG_ERR_INVALID, "'%s': line %zu: unknown rule '%s'", path, line, id);
				goto out;
			}
			if ((g = realloc(bl->mac, (bl->n + 1) * 32)) == NULL) {
				r = bg_fail(e, BG_ERR_NOMEM, "out of memory");
				goto out;
			}
			bl->mac = g;
			if (unhex32(sp + 1, (size_t)(s + n - sp - 1), bl->mac[bl->n]) != 0) {
				r = bg_fail(e, BG_ERR_INVALID, "'%s': line %zu: expected 'RULE HEX64'", path, line);
				goto out;
			}
			bl->n++;
		}
	}
	if (!have_key)
		r = bg_fail(e, BG_ERR_INVALID, "'%s': no key line", path);
	if (bl->n > 1)
		qsort(bl->mac, bl->n, 32, mac_cmp);
out:
	buf_release(&t);
	if (r != 0) {
		free(bl->mac);
		memset(bl, 0, sizeof(*bl));
	}
	return r;
}

static int
line_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Write the findings' MACs (one "rule hex" line each, sorted, unique). */
static int
baseline_write(const char *path, const scan_run *sr, const unsigned char key[32], bg_error *e)
{
	buf all, outb;
	char **lines = NULL, hex[65];
	size_t n = 0, i;
	int r = 0;

	buf_init(&all, 512u * 1024 * 1024);
	buf_init(&outb, 512u * 1024 * 1024);
	for (i = 0; i < sr->njobs && r == 0; i++)
		r = buf_append(&all, sr->jobs[i].out.data ? sr->jobs[i].out.data : "",
		    sr->jobs[i].out.len);
	if (r == 0 && all.len > 0) {
		char *p = all.data, *end = all.data + all.len;

		lines = calloc(all.len / 65 + 1, sizeof(*lines));
		if (lines == NULL)
			r = BG_ERR_NOMEM;
		while (r == 0 && p < end) {
			char *nl = memchr(p, '\n', (size_t)(end - p));

			*nl = '\0';
			lines[n++] = p;
			p = nl + 1;
		}
		if (n > 1)
			qsort(lines, n, sizeof(*lines), line_cmp);
	}
	hash_hex(key, 32, hex);
	if (r == 0)
		r = buf_printf(&outb, "%skey %s\n", BASELINE_HEAD, hex);
	for (i = 0; i < n && r == 0; i++)
		if (i == 0 || strcmp(lines[i], lines[i - 1]) != 0)
			r = buf_printf(&outb, "%s\n", lines[i]);
	if (r != 0)
		r = bg_fail(e, BG_ERR_NOMEM, "out of memory");
	else
		r = fileio_write_atomic(path, outb.data, outb.len, 0644, 0, e);
	free(lines);
	buf_release(&all);
	buf_release(&outb);
	return r;
}

/* ---- rule listing and checking ---- */

static int
list_rules(const scan_engine *eng, int as_json)
{
	const rule_set *rs = scan_engine_rules(eng);
	buf b;
	json j;
	size_t i;
	int r;

	buf_init(&b, 4u * 1024 * 1024);
	json_init(&j, &b);
	if (as_json)
		json_arr_begin(&j);
	for (i = 0; i < rs->n; i++) {
		if (!as_json) {
			buf_printf(&b, "%-30s %-16s %s\n", rs->r[i].id, rs->r[i].provider, rs->r[i].title);
			continue;
		}
		json_obj_begin(&j);
		json_kv_str(&j, "id", rs->r[i].id);
		json_kv_str(&j, "provider", rs->r[i].provider);
		json_kv_str(&j, "title", rs->r[i].title);
		json_obj_end(&j);
	}
	if (as_json) {
		json_arr_end(&j);
		buf_putc(&b, '\n');
	}
	r = cmd_write_out(&b);
	buf_release(&b);
	return r;
}

static void
print_failure(void *arg, const rule *ru, int positive, size_t index, const char *found_by)
{
	(void)arg;
	if (positive)
		printf("%s: example %zu is not found\n", ru->id, index);
	else
		printf("%s: counter-example %zu is found by %s\n", ru->id, index, found_by);
}

static int
check_rules(const scan_engine *eng)
{
	const rule_set *rs = scan_engine_rules(eng);
	size_t i, total = 0;
	bg_error e;
	long bad = scan_engine_check(eng, print_failure, NULL, &e);

	if (bad < 0)
		return cmd_failf(SCAN_ERR, "scan: %s", e.msg);
	for (i = 0; i < rs->n; i++)
		total += rs->r[i].nexamples + rs->r[i].nnots;
	printf("%zu rules, %zu examples checked with %s: %ld failed\n", rs->n, total,
	    scan_engine_name(eng), bad);
	return bad ? 1 : 0;
}

/* ---- the command ---- */

static int
redact_one(const scan_engine *eng, const char *path)
{
	buf in, out;
	scan_ctx *c = scan_ctx_new(eng);
	const scan_hit *h;
	size_t nh = 0;
	bg_error e;
	int r;

	buf_init(&in, STDIN_MAX);
	buf_init(&out, STDIN_MAX + STDIN_MAX / 2);
	if (c == NULL) {
		r = cmd_failf(SCAN_ERR, "scan: out of memory");
		goto out;
	}
	if ((r = strcmp(path, "-") == 0 ? fileio_read_fd(0, in.max, &in, &e) :
	    fileio_read(path, in.max, &in, &e)) != 0) {
		fprintf(stderr, "breakglass: scan: %s\n", e.msg);
		r = SCAN_ERR;
		goto out;
	}
	if (scan_ctx_run(c, in.data ? in.data : "", in.len, &h, &nh, &e) != 0) {
		fprintf(stderr, "breakglass: scan: %s\n", e.msg);
		r = SCAN_ERR;
		goto out;
	}
	if (scan_redact_hits(eng, in.data ? in.data : "", in.len, h, nh, &out) != 0) {
		r = cmd_failf(SCAN_ERR, "scan: out of memory");
		goto out;
	}
	if (fileio_write_full(STDOUT_FILENO, out.data ? out.data : "", out.len) != 0) {
		r = cmd_failf(SCAN_ERR, "scan: cannot write the output: %s", strerror(errno));
		goto out;
	}
	r = nh > 0 ? 1 : 0;
	if (nh > 0)
		fprintf(stderr, "breakglass: scan: %zu secret%s redacted\n", nh, nh == 1 ? "" : "s");
out:
	scan_ctx_free(c);
	buf_release(&in);
	buf_release(&out);
	return r;
}

static void
print_sarif(const scan_run *sr)
{
	const rule_set *rs = scan_engine_rules(sr->eng);
	buf b;
	json j;
	size_t i, first = 1;

	buf_init(&b, 1024u * 1024 * 1024);
	json_init(&j, &b);
	json_obj_begin(&j);
	json_kv_str(&j, "$schema", "https://json.schemastore.org/sarif-2.1.0.json");
	json_kv_str(&j, "version", "2.1.0");
	json_key(&j, "runs");
	json_arr_begin(&j);
	json_obj_begin(&j);
	json_key(&j, "tool");
	json_obj_begin(&j);
	json_key(&j, "driver");
	json_obj_begin(&j);
	json_kv_str(&j, "name", "breakglass");
	json_kv_str(&j, "version", BREAKGLASS_VERSION);
	json_key(&j, "rules");
	json_arr_begin(&j);
	for (i = 0; i < rs->n; i++) {
		json_obj_begin(&j);
		json_kv_str(&j, "id", rs->r[i].id);
		json_key(&j, "shortDescription");
		json_obj_begin(&j);
		json_kv_str(&j, "text", rs->r[i].title);
		json_obj_end(&j);
		json_key(&j, "properties");
		json_obj_begin(&j);
		json_kv_str(&j, "provider", rs->r[i].provider);
		json_obj_end(&j);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_obj_end(&j);
	json_obj_end(&j);
	json_key(&j, "results");
	json_arr_begin(&j);
	buf_putc(&b, '\n');
	for (i = 0; i < sr->njobs; i++) {
		if (sr->jobs[i].out.len == 0)
			continue;
		if (!first)
			buf_puts(&b, ",\n");
		buf_append(&b, sr->jobs[i].out.data, sr->jobs[i].out.len);
		first = 0;
	}
	buf_putc(&b, '\n');
	/* the writer's state thinks the array is empty; close it by hand */
	buf_puts(&b, "]}]}\n");
	(void)cmd_write_out(&b);
	buf_release(&b);
}

static long
online_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > 64 ? 64 : n;
}

int
cmd_scan(int argc, char **argv)
{
	cmd_args a;
	scan_run sr;
	scan_engine *own = NULL;
	baseline bl;
	unsigned char wkey[32];
	ign_frame *st = NULL;
	pthread_t th[64];
	long jobs = online_cpus(), t, started = 0;
	size_t i, found = 0, pragma = 0, baselined = 0, binary = 0, files = 0, bytes = 0;
	int failed = 0, r = 0, kind = SCAN_ENGINE_AUTO;
	bg_error e;

	if ((r = cmd_parse("scan", argc, argv, defs, &a)) != 0)
		return r;
	if (a.help)
		return cmd_usage(usage_text);
	memset(&sr, 0, sizeof(sr));
	memset(&bl, 0, sizeof(bl));
	sr.mode = a.json ? MODE_JSON : a.val[O_SARIF].set ? MODE_SARIF : MODE_TEXT;
	sr.show = a.val[O_SHOW].set;
	sr.noignore = a.val[O_NOIGNORE].set;
	if (a.json && a.val[O_SARIF].set)
		return cmd_failf(SCAN_ERR, "scan: --json and --sarif exclude each other");
	if (cmd_opt(&a, O_JOBS) != NULL) {
		char *end;

		jobs = strtol(cmd_opt(&a, O_JOBS), &end, 10);
		if (*end != '\0' || jobs < 1 || jobs > 64)
			return cmd_failf(SCAN_ERR, "scan: --jobs takes a number from 1 to 64");
	}
	if (cmd_opt(&a, O_ENGINE) != NULL) {
		if (strcmp(cmd_opt(&a, O_ENGINE), "pcre2") == 0)
			kind = SCAN_ENGINE_PCRE2;
		else if (strcmp(cmd_opt(&a, O_ENGINE), "vectorscan") == 0)
			kind = SCAN_ENGINE_HYPERSCAN;
		else
			return cmd_failf(SCAN_ERR, "scan: --engine is vectorscan or pcre2");
	}
	bg_error_clear(&e);
	if (cmd_opt(&a, O_RULES) != NULL || kind != SCAN_ENGINE_AUTO) {
		buf text;
		const char *rp = cmd_opt(&a, O_RULES);

		buf_init(&text, 16u * 1024 * 1024);
		if (rp != NULL && fileio_read(rp, text.max, &text, &e) != 0) {
			buf_release(&text);
			return cmd_failf(SCAN_ERR, "scan: %s", e.msg);
		}
		r = rp != NULL ? scan_engine_new(text.data ? text.data : "", text.len, rp, kind, 1, &own, &e) :
		    scan_engine_new_builtin(kind, 0, &own, &e);
		buf_release(&text);
		if (r != 0)
			return cmd_failf(SCAN_ERR, "scan: %s", e.msg);
		sr.eng = own;
	} else if ((sr.eng = scan_builtin(&e)) == NULL) {
		return cmd_failf(SCAN_ERR, "scan: %s", e.msg);
	}
	if (a.val[O_LIST].set) {
		r = list_rules(sr.eng, a.json) != 0 ? SCAN_ERR : 0;
		goto out;
	}
	if (a.val[O_CHECK].set) {
		r = check_rules(sr.eng);
		goto out;
	}
	if (a.npos == 0) {
		r = cmd_failf(SCAN_ERR, "scan: name files or directories to scan, or '-' for standard input");
		goto out;
	}
	if (a.val[O_REDACT].set) {
		if (a.npos != 1 || a.json || a.val[O_SARIF].set || cmd_opt(&a, O_WRITE_BASELINE)) {
			r = cmd_failf(SCAN_ERR, "scan: --redact takes one file or '-', and no other output");
			goto out;
		}
		r = redact_one(sr.eng, a.pos[0]);
		goto out;
	}
	if (cmd_opt(&a, O_BASELINE) != NULL) {
		if (baseline_load(cmd_opt(&a, O_BASELINE), scan_engine_rules(sr.eng), &bl, &e) != 0) {
			r = cmd_failf(SCAN_ERR, "scan: %s", e.msg);
			goto out;
		}
		sr.base = &bl;
	}
	if (cmd_opt(&a, O_WRITE_BASELINE) != NULL) {
		if (sr.mode != MODE_TEXT) {
			r = cmd_failf(SCAN_ERR, "scan: --write-baseline prints no findings; drop --json/--sarif");
			goto out;
		}
		/* keep the key of the baseline being extended, if any */
		if (sr.base != NULL)
			memcpy(wkey, bl.key, 32);
		else
			randombytes_buf(wkey, sizeof(wkey));
		sr.mac_key = wkey;
		sr.mode = MODE_BASELINE;
	}
	if ((st = calloc(MAX_DEPTH + 1, sizeof(*st))) == NULL) {
		r = cmd_failf(SCAN_ERR, "scan: out of memory");
		goto out;
	}
	/* in argument order; standard input is read and scanned right away */
	for (i = 0; i < (size_t)a.npos; i++) {
		const char *p = a.pos[i];
		struct stat sb;

		if (strcmp(p, "-") == 0) {
			if (add_job(&sr, "-", 1) != 0) {
				r = cmd_failf(SCAN_ERR, "scan: out of memory");
				goto out;
			}
			scan_stdin(&sr, &sr.jobs[sr.njobs - 1]);
		} else if (stat(p, &sb) != 0) {
			fprintf(stderr, "breakglass: scan: '%s': %s\n", p, strerror(errno));
			sr.walk_failed = 1;
		} else if (S_ISDIR(sb.st_mode)) {
			if (walk(&sr, p, st, 0) != 0) {
				r = cmd_failf(SCAN_ERR, "scan: out of memory");
				goto out;
			}
		} else if (add_job(&sr, p, 1) != 0) {
			r = cmd_failf(SCAN_ERR, "scan: out of memory");
			goto out;
		}
	}
	if (jobs > (long)sr.njobs)
		jobs = sr.njobs > 0 ? (long)sr.njobs : 1;
	{
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_sigaction = on_sigbus;
		sa.sa_flags = SA_SIGINFO;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGBUS, &sa, NULL);
	}
	if (jobs == 1) {
		worker(&sr);
	} else {
		for (t = 0; t < jobs; t++) {
			if (pthread_create(&th[t], NULL, worker, &sr) != 0)
				break;
			started++;
		}
		if (started == 0)
			worker(&sr);
		for (t = 0; t < started; t++)
			pthread_join(th[t], NULL);
	}
	for (i = 0; i < sr.njobs; i++) {
		job *j = &sr.jobs[i];

		found += j->found;
		pragma += j->pragma;
		baselined += j->baselined;
		bytes += j->bytes;
		binary += (size_t)j->binary;
		files += !j->binary && !j->failed;
		failed |= j->failed;
		if (sr.mode == MODE_TEXT || sr.mode == MODE_JSON)
			(void)cmd_write_out(&j->out);
	}
	if (sr.mode == MODE_SARIF)
		print_sarif(&sr);
	if (sr.mode == MODE_BASELINE) {
		if (baseline_write(cmd_opt(&a, O_WRITE_BASELINE), &sr, wkey, &e) != 0) {
			r = cmd_failf(SCAN_ERR, "scan: %s", e.msg);
			goto out;
		}
		fprintf(stderr, "breakglass: scan: baseline '%s' written with %zu finding%s\n",
		    cmd_opt(&a, O_WRITE_BASELINE), found, found == 1 ? "" : "s");
		r = failed || sr.walk_failed ? SCAN_ERR : 0;
		goto out;
	}
	if (sr.mode == MODE_TEXT) {
		fprintf(stderr, "breakglass: scan: %zu finding%s; %zu file%s, %.1f MiB scanned",
		    found, found == 1 ? "" : "s", files, files == 1 ? "" : "s",
		    (double)bytes / (1024.0 * 1024.0));
		if (binary)
			fprintf(stderr, "; %zu binary file%s skipped", binary, binary == 1 ? "" : "s");
		if (pragma)
			fprintf(stderr, "; %zu allowed by breakglass:allow", pragma);
		if (baselined)
			fprintf(stderr, "; %zu in the baseline", baselined);
		fprintf(stderr, " (%s)\n", scan_engine_name(sr.eng));
	}
	r = failed || sr.walk_failed ? SCAN_ERR : found > 0 ? 1 : 0;
out:
	for (i = 0; i < sr.njobs; i++) {
		free(sr.jobs[i].path);
		buf_release(&sr.jobs[i].out);
	}
	free(sr.jobs);
	free(st);
	free(bl.mac);
	sodium_memzero(wkey, sizeof(wkey));
	scan_engine_free(own);
	return r;
}
