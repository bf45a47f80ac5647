/*
 * gate-read.c - the gate's read verbs: ls, cat, tail, grep, stat, sha256,
 * find-changed and help.
 *
 * Every path is opened through scope_open, relative to a pinned
 * descriptor of one of the grant's directories with RESOLVE_BENEATH, so
 * no name (symlink, "..", a directory swapped meanwhile) leads outside
 * the grant.  Names are printed with control bytes replaced; output is
 * counted for the host log.  `tail -f` follows until the grant ends.
 */
#include "gate-int.h"
#include "hash.h"
#include "utc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <regex.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int
gate_open_regular(gate *g, const char *path, int need_write, struct stat *st, bg_error *e)
{
	char self[64];
	int pfd, fd;

	gate_priv_up(g);
	if ((pfd = scope_open(&g->sc, path, O_PATH, need_write, e)) < 0) {
		gate_priv_down(g);
		return pfd;
	}
	if (fstat(pfd, st) != 0 || !S_ISREG(st->st_mode)) {
		close(pfd);
		gate_priv_down(g);
		return bg_fail(e, BG_ERR_INVALID, "'%.200s' is not a regular file", path);
	}
	if (st->st_nlink > 1 && st->st_uid != g->env->uid) {
		close(pfd);
		gate_priv_down(g);
		return bg_fail(e, BG_ERR_PERM, "'%.200s' has %lu hard links and is not the account's: "
		    "a link may lead to a file outside the grant's directories, so it is not read "
		    "on the grant's behalf", path, (unsigned long)st->st_nlink);
	}
	/* the inode just checked, not the name again */
	snprintf(self, sizeof(self), "/proc/self/fd/%d", pfd);
	fd = open(self, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	close(pfd);
	gate_priv_down(g);
	if (fd < 0)
		return bg_fail(e, BG_ERR_IO, "cannot open '%.200s': %s", path, strerror(errno));
	return fd;
}

int
gate_open_file(gate *g, const char *path, struct stat *st)
{
	bg_error e;
	int fd = gate_open_regular(g, path, 0, st, &e);

	if (fd < 0)
		return -gate_refuse(g, "%s", e.msg) - 1;
	return fd;
}

int
gate_verb_cat(gate *g)
{
	struct stat st;
	char b[65536];
	ssize_t n;
	int fd;

	if (g->av.n != 2 || gate_need_path(g, "cat", g->av.v[1]))
		return g->av.n != 2 ? gate_refuse(g, "usage: cat FILE") : 1;
	if ((fd = gate_open_file(g, g->av.v[1], &st)) < 0)
		return 1;
	while ((n = read(fd, b, sizeof(b))) > 0)
		if (gate_write(g, STDOUT_FILENO, b, (size_t)n) != 0)
			break;
	close(fd);
	return n < 0 ? 1 : 0;
}

int
gate_verb_sha256(gate *g)
{
	struct stat st;
	char hex[65];
	int fd, r;

	if (g->av.n != 2 || gate_need_path(g, "sha256", g->av.v[1]))
		return g->av.n != 2 ? gate_refuse(g, "usage: sha256 FILE") : 1;
	if ((fd = gate_open_file(g, g->av.v[1], &st)) < 0)
		return 1;
	r = hash_fd_sha256(fd, hex);
	close(fd);
	if (r != 0)
		return 1;
	return gate_printf(g, "%s  %s\n", hex, g->av.v[1]) ? 1 : 0;
}

int
gate_verb_stat(gate *g)
{
	struct stat st;
	bg_error e;
	char m[UTC_STRLEN], c[UTC_STRLEN];
	int fd;

	if (g->av.n != 2 || gate_need_path(g, "stat", g->av.v[1]))
		return g->av.n != 2 ? gate_refuse(g, "usage: stat PATH") : 1;
	if ((fd = scope_open(&g->sc, g->av.v[1], O_PATH | O_NOFOLLOW, 0, &e)) < 0)
		return gate_refuse(g, "%s", e.msg);
	if (fstat(fd, &st) != 0) {
		close(fd);
		return 1;
	}
	close(fd);
	utc_format(st.st_mtim.tv_sec, m);
	utc_format(st.st_ctim.tv_sec, c);
	return gate_printf(g, "path: %s\ntype: %s\nmode: %04o\nuid: %u\ngid: %u\nsize: %lld\n"
	    "links: %lu\ninode: %llu\nmodified: %s\nchanged: %s\n", g->av.v[1],
	    gate_type_of(st.st_mode), (unsigned)(st.st_mode & 07777), (unsigned)st.st_uid,
	    (unsigned)st.st_gid, (long long)st.st_size, (unsigned long)st.st_nlink,
	    (unsigned long long)st.st_ino, m, c) ? 1 : 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
list_dir(gate *g, int dfd, const char *shown)
{
	DIR *d;
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, i;
	int r = 0;

	if ((d = fdopendir(dfd)) == NULL) {
		close(dfd);
		return gate_refuse(g, "cannot list '%.200s'", shown);
	}
	while ((de = readdir(d)) != NULL) {
		char **nv;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (n >= 100000 || (nv = realloc(names, (n + 1) * sizeof(*nv))) == NULL)
			break;
		names = nv;
		if ((names[n] = strdup(de->d_name)) == NULL)
			break;
		n++;
	}
	if (n > 1)
		qsort(names, n, sizeof(*names), cmp_str);
	for (i = 0; i < n && r == 0; i++) {
		struct stat st;
		char safe[512], t[UTC_STRLEN];

		gate_safe_name(names[i], safe, sizeof(safe));
		if (fstatat(dirfd(d), names[i], &st, AT_SYMLINK_NOFOLLOW) != 0)
			continue;
		utc_format(st.st_mtim.tv_sec, t);
		r = gate_printf(g, "%-6s %04o %12lld %s %s\n", gate_type_of(st.st_mode),
		    (unsigned)(st.st_mode & 07777), (long long)st.st_size, t, safe);
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
	return r ? 1 : 0;
}

int
gate_verb_ls(gate *g)
{
	bg_error e;
	size_t i;
	int fd;

	if (g->av.n == 1) {
		for (i = 0; i < g->sc.n; i++)
			gate_printf(g, "%s %s%s\n", g->sc.r[i].writable ? "rw" : "ro", g->sc.r[i].path,
			    g->sc.r[i].fd < 0 ? " (missing)" : "");
		return 0;
	}
	if (g->av.n != 2 || gate_need_path(g, "ls", g->av.v[1]))
		return g->av.n != 2 ? gate_refuse(g, "usage: ls [DIR]") : 1;
	if ((fd = scope_open(&g->sc, g->av.v[1], O_RDONLY | O_DIRECTORY, 0, &e)) < 0)
		return gate_refuse(g, "%s", e.msg);
	return list_dir(g, fd, g->av.v[1]);
}

/* Write fd's bytes [start, size) to stdout; return size. */
static off_t
print_from(gate *g, int fd, off_t start, off_t size)
{
	char b[8192];

	for (off_t o = start; o < size;) {
		ssize_t got = pread(fd, b, sizeof(b), o);

		if (got <= 0)
			break;
		if (gate_write(g, STDOUT_FILENO, b, (size_t)got) != 0)
			break;
		o += got;
	}
	return size;
}

/* Print the last n lines of fd (a regular file), return the offset reached. */
static off_t
last_lines(gate *g, int fd, long n, off_t size)
{
	char b[8192];
	off_t pos = size, start = 0;
	long seen = 0;

	if (n == 0)
		return size; /* tail(1): -n 0 prints nothing */
	while (pos > 0 && seen <= n) {
		size_t chunk = pos > (off_t)sizeof(b) ? sizeof(b) : (size_t)pos;
		ssize_t got;

		pos -= (off_t)chunk;
		if ((got = pread(fd, b, chunk, pos)) <= 0)
			break;
		for (ssize_t i = got - 1; i >= 0; i--) {
			if (b[i] == '\n' && (pos + i != size - 1) && ++seen == n) {
				start = pos + i + 1;
				goto found;
			}
		}
	}
found:
	return print_from(g, fd, start, size);
}

/* Print fd from the start of line `from` (1-based; tail -n +N). */
static off_t
lines_from(gate *g, int fd, long from, off_t size)
{
	char b[8192];
	off_t pos = 0;
	long line = 1;

	while (line < from && pos < size) {
		ssize_t got = pread(fd, b, sizeof(b), pos);

		if (got <= 0)
			return size;
		for (ssize_t i = 0; i < got; i++) {
			if (b[i] == '\n' && ++line == from) {
				pos += i + 1;
				goto found;
			}
		}
		pos += got;
	}
found:
	return print_from(g, fd, pos, size);
}

/*
 * tail's -n value as tail(1) reads it: N (the last N lines, 0 for none) or
 * +N (from line N on; +0 is +1).  Returns 0, or -1 for anything else.
 */
static int
tail_count(const char *s, long *n, int *from_start)
{
	char *end;

	*from_start = 0;
	if (*s == '+') {
		*from_start = 1;
		s++;
	}
	if (*s < '0' || *s > '9')
		return -1;
	*n = strtol(s, &end, 10);
	if (*end != '\0' || *n < 0 || *n > 100000)
		return -1;
	return 0;
}

int
gate_verb_tail(gate *g)
{
	long n = 10;
	int follow = 0, from_start = 0, seen_n = 0, fd;
	size_t i;
	const char *path = NULL;
	struct stat st;
	off_t off;

	for (i = 1; i < g->av.n; i++) {
		const char *a = g->av.v[i];

		if (strcmp(a, "-f") == 0 && !follow) {
			follow = 1;
		} else if (strncmp(a, "-n", 2) == 0 && !seen_n && (a[2] != '\0' || i + 1 < g->av.n)) {
			const char *v = a[2] != '\0' ? a + 2 : g->av.v[++i];

			if (tail_count(v, &n, &from_start) != 0)
				return gate_refuse(g, "tail: -n takes N (the last N lines, 0 to 100000) "
				    "or +N (from line N on), e.g. -n 50, -n50, -n +1");
			seen_n = 1;
		} else if (a[0] == '-') {
			return gate_refuse(g, "tail: unknown option '%.64s' (allowed: -n N, -n +N, -f)", a);
		} else if (path == NULL) {
			path = a;
		} else {
			return gate_refuse(g, "usage: tail [-n N | -n +N] [-f] FILE");
		}
	}
	if (gate_need_path(g, "tail", path))
		return 1;
	if ((fd = gate_open_file(g, path, &st)) < 0)
		return 1;
	off = from_start ? lines_from(g, fd, n, st.st_size) : last_lines(g, fd, n, st.st_size);
	while (follow) {
		char b[65536];
		ssize_t got;

		if (gate_grant_ended(g)) {
			fprintf(stderr, "breakglass: grant G-%lld %s: stopping\n", (long long)g->grant,
			    gate_end_word(g));
			close(fd);
			gate_record(g, "gate.end", "cut", gate_end_reason(g), 1);
			return 1;
		}
		if (fstat(fd, &st) == 0 && st.st_size < off)
			off = 0; /* truncated: start again */
		while ((got = pread(fd, b, sizeof(b), off)) > 0) {
			if (gate_write(g, STDOUT_FILENO, b, (size_t)got) != 0) {
				follow = 0;
				break;
			}
			off += got;
		}
		poll(NULL, 0, GATE_TICK_MS);
	}
	close(fd);
	return 0;
}

int
gate_verb_grep(gate *g)
{
	int fixed = 0, icase = 0, numbers = 0, fd, rc;
	const char *pattern = NULL, *path = NULL;
	regex_t re;
	struct stat st;
	size_t i;
	FILE *f;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	long lineno = 0, matches = 0;

	for (i = 1; i < g->av.n; i++) {
		const char *a = g->av.v[i];

		if (pattern == NULL && strcmp(a, "-F") == 0)
			fixed = 1;
		else if (pattern == NULL && strcmp(a, "-i") == 0)
			icase = 1;
		else if (pattern == NULL && strcmp(a, "-n") == 0)
			numbers = 1;
		else if (pattern == NULL && strcmp(a, "--") == 0 && i + 1 < g->av.n)
			pattern = g->av.v[++i];
		else if (pattern == NULL && a[0] == '-')
			return gate_refuse(g, "grep: unknown option '%.64s' (allowed: -F, -i, -n)", a);
		else if (pattern == NULL)
			pattern = a;
		else if (path == NULL)
			path = a;
		else
			return gate_refuse(g, "usage: grep [-F] [-i] [-n] PATTERN FILE");
	}
	if (pattern == NULL || strlen(pattern) > 1024)
		return gate_refuse(g, "grep: a pattern of at most 1024 bytes is needed");
	if (gate_need_path(g, "grep", path))
		return 1;
	if (!fixed && regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB | (icase ? REG_ICASE : 0)) != 0)
		return gate_refuse(g, "grep: invalid regular expression");
	if ((fd = gate_open_file(g, path, &st)) < 0) {
		if (!fixed)
			regfree(&re);
		return 1;
	}
	if ((f = fdopen(fd, "r")) == NULL) {
		close(fd);
		if (!fixed)
			regfree(&re);
		return 1;
	}
	while ((len = getline(&line, &cap, f)) > 0) {
		int hit;

		lineno++;
		if (fixed)
			hit = (icase ? strcasestr(line, pattern) : strstr(line, pattern)) != NULL;
		else
			hit = regexec(&re, line, 0, NULL, 0) == 0;
		if (!hit)
			continue;
		matches++;
		if (numbers)
			gate_printf(g, "%ld:", lineno);
		gate_write(g, STDOUT_FILENO, line, (size_t)len);
		if (line[len - 1] != '\n')
			gate_write(g, STDOUT_FILENO, "\n", 1);
	}
	free(line);
	fclose(f);
	if (!fixed)
		regfree(&re);
	rc = matches > 0 ? 0 : 1; /* grep's own convention: 1 = no match */
	return rc;
}

static int
walk_changed(gate *g, int dfd, const char *shown, int64_t since, int depth, long *budget)
{
	DIR *d;
	struct dirent *de;

	if (depth > 32 || (d = fdopendir(dfd)) == NULL) {
		close(dfd);
		return 0;
	}
	while ((de = readdir(d)) != NULL && *budget > 0) {
		struct stat st;
		char path[4096], safe[4096];

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		(*budget)--;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", strcmp(shown, "/") ? shown : "", de->d_name);
		if (st.st_mtim.tv_sec >= since || st.st_ctim.tv_sec >= since) {
			char t[UTC_STRLEN];

			gate_safe_name(path, safe, sizeof(safe));
			utc_format(st.st_mtim.tv_sec > st.st_ctim.tv_sec ? st.st_mtim.tv_sec :
			    st.st_ctim.tv_sec, t);
			gate_printf(g, "%s %-6s %s\n", t, gate_type_of(st.st_mode), safe);
		}
		if (S_ISDIR(st.st_mode)) {
			bg_error e;
			int cfd = scope_openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY, &e);

			if (cfd >= 0)
				walk_changed(g, cfd, path, since, depth + 1, budget);
		}
	}
	closedir(d);
	return 0;
}

int
gate_verb_find_changed(gate *g)
{
	int64_t since;
	bg_error e;
	long budget = 200000;
	size_t i;
	int fd;

	if (g->av.n < 3 || strcmp(g->av.v[1], "--since") != 0 || g->av.n > 4)
		return gate_refuse(g, "usage: find-changed --since TIME [DIR]");
	if (utc_parse(g->av.v[2], &since) != 0)
		return gate_refuse(g, "find-changed: TIME is UTC, like 2026-11-21T02:00Z");
	if (g->av.n == 4) {
		if (gate_need_path(g, "find-changed", g->av.v[3]))
			return 1;
		if ((fd = scope_open(&g->sc, g->av.v[3], O_RDONLY | O_DIRECTORY, 0, &e)) < 0)
			return gate_refuse(g, "%s", e.msg);
		return walk_changed(g, fd, g->av.v[3], since, 0, &budget);
	}
	for (i = 0; i < g->sc.n; i++) {
		if ((fd = scope_open(&g->sc, g->sc.r[i].path, O_RDONLY | O_DIRECTORY, 0, &e)) >= 0)
			walk_changed(g, fd, g->sc.r[i].path, since, 0, &budget);
	}
	return 0;
}

int
gate_verb_help(gate *g)
{
	size_t i;

	if (g->av.n != 1)
		return gate_refuse(g, "usage: help");
	gate_printf(g, "breakglass grant G-%lld (ticket T-%lld), valid until ", (long long)g->grant,
	    (long long)g->ticket);
	{
		char t[UTC_STRLEN];

		utc_format((int64_t)g->c.valid_before, t);
		gate_printf(g, "%s\n\nbuilt-in commands:\n%s", t, gate_verbs_help);
	}
	gate_printf(g, "\ndirectories:\n");
	for (i = 0; i < g->sc.n; i++)
		gate_printf(g, "  %s %s\n", g->sc.r[i].writable ? "rw" : "ro", g->sc.r[i].path);
	gate_printf(g, "\nallowed commands (exactly as written):\n");
	for (i = 0; i < g->scope_doc.n; i++)
		if (strcmp(g->scope_doc.items[i].key, "command") == 0)
			gate_printf(g, "  %s\n", g->scope_doc.items[i].value);
		else if (strcmp(g->scope_doc.items[i].key, "sudo") == 0)
			gate_printf(g, "  %s   (as root, through sudo; starts no program)\n",
			    g->scope_doc.items[i].value);
		else if (strcmp(g->scope_doc.items[i].key, "sudo-intercept") == 0)
			gate_printf(g, "  %s   (as root, through sudo; each program it starts is "
			    "checked by sudo)\n", g->scope_doc.items[i].value);
	if (g->landlock_abi > 0) {
		char d[32];

		gate_printf(g, "\nkernel confinement: %s (writes only in the rw directories and "
		    "a private tmp; reads only there, in the ro directories and the system's; "
		    "runs only the allowed programs%s)\n", confine_describe(g->landlock_abi, d,
		    sizeof(d)), kv_get(&g->scope_doc, "tier") != NULL &&
		    strcmp(kv_get(&g->scope_doc, "tier"), "shell") == 0 ? " and the system's" : "");
	} else
		gate_printf(g, "\nkernel confinement: %s\n", g->landlock_optional ? GATE_UNCONFINED :
		    "none: this kernel offers no Landlock, so this host runs no command and no shell");
	return 0;
}
