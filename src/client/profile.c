/*
 * profile.c - collection profiles (profile.h has the format).
 *
 * A profile is data: it names files, programs' names and patterns, never
 * a command line.  `collect` decides how each is read or run.
 */
#include "profile.h"
#include "buf.h"
#include "cfgfmt.h"
#include "fileio.h"
#include "text.h"
#include "utc.h"

#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

/* build/gen/profiles-builtin.c, from profiles/ (the Makefile) */
extern const char *const profiles_builtin_names[];
extern const char *const profiles_builtin_texts[];
extern const size_t profiles_builtin_lens[];
extern const size_t profiles_builtin_n;

size_t
profile_builtin_count(void)
{
	return profiles_builtin_n;
}

const char *
profile_builtin_name(size_t i)
{
	return i < profiles_builtin_n ? profiles_builtin_names[i] : NULL;
}

const char *
profile_builtin_text(size_t i, size_t *len)
{
	if (i >= profiles_builtin_n)
		return NULL;
	*len = profiles_builtin_lens[i];
	return profiles_builtin_texts[i];
}

void
profile_release(profile *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->n; i++)
		free(p->it[i].arg);
	free(p->it);
	memset(p, 0, sizeof(*p));
}

static int
add_item(profile *p, int kind, const char *arg, size_t n, int format, size_t bytes)
{
	profile_item *it;

	if (p->n == PROFILE_MAX_ITEMS)
		return BG_ERR_TOOLARGE;
	if (p->n == p->cap) {
		size_t nc = p->cap ? 2 * p->cap : 32;

		if ((it = realloc(p->it, nc * sizeof(*it))) == NULL)
			return BG_ERR_NOMEM;
		p->it = it;
		p->cap = nc;
	}
	it = &p->it[p->n];
	if ((it->arg = strndup(arg, n)) == NULL)
		return BG_ERR_NOMEM;
	it->kind = kind;
	it->format = format;
	it->bytes = bytes;
	p->n++;
	return 0;
}

/* A path argument: absolute or @app/..., no "..", no "//", printable. */
static int
path_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n >= 1024)
		return 0;
	if (!(s[0] == '/' || (n >= 4 && memcmp(s, "@app", 4) == 0 && (n == 4 || s[4] == '/'))))
		return 0;
	for (i = 0; i < n; i++) {
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return 0;
		if (s[i] == '/' && i + 1 < n && s[i + 1] == '/')
			return 0;
		if (s[i] == '.' && i + 1 < n && s[i + 1] == '.' && (i == 0 || s[i - 1] == '/') &&
		    (i + 2 == n || s[i + 2] == '/'))
			return 0;
	}
	return 1;
}

static int
word_ok(const char *s, size_t n, int slash)
{
	size_t i;

	if (n == 0 || n > 128)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f || (s[i] == '/' && !slash))
			return 0;
	return 1;
}

static const struct {
	const char *name;
	int kind;       /* PD_* or -1..-N for the flags and singles */
	int args;       /* 0 none, 1 one path, 2 path [arg], 3 words..., 4 text */
} dirs[] = {
	{ "config", PD_CONFIG, 2 }, { "settings", PD_SETTINGS, 2 }, { "log", PD_LOG, 2 },
	{ "tree", PD_TREE, 1 }, { "git", PD_GIT, 1 }, { "deploylog", PD_DEPLOYLOG, 1 },
	{ "packages", PD_PACKAGES, 3 }, { "runtime", PD_RUNTIME, 3 },
	{ "service", PD_SERVICE, 3 }, { "allow", PD_ALLOW, 3 },
	{ "ports", -1, 0 }, { "system", -2, 0 }, { "environment", -3, 0 },
	{ "describe", -4, 4 }, { "include", -5, 3 }, { "app", -6, 1 }, { "recent", -7, 3 },
	{ "profile", -8, 3 },
};

static int
parse_line(profile *p, const char *s, size_t n, size_t line, unsigned *seen, bg_error *e)
{
	const char *sp = memchr(s, ' ', n), *a;
	size_t dn = sp ? (size_t)(sp - s) : n, an, i;
	int d = -1, r;

	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		if (strlen(dirs[i].name) == dn && memcmp(s, dirs[i].name, dn) == 0)
			d = (int)i;
	if (d < 0)
		return bg_fail(e, BG_ERR_INVALID, "line %zu: unknown directive '%.*s'", line,
		    (int)(dn > 40 ? 40 : dn), s);
	a = sp ? sp + 1 : s + n;
	an = sp ? n - dn - 1 : 0;
	if ((dirs[d].args == 0) != (an == 0) || (an > 0 && (a[0] == ' ' || a[an - 1] == ' ')))
		return bg_fail(e, BG_ERR_INVALID, "line %zu: '%s' %s", line, dirs[d].name,
		    dirs[d].args == 0 ? "takes no argument" : "needs an argument (one space apart)");
	if (dirs[d].kind < 0) {
		unsigned bit = 1u << (unsigned)(-dirs[d].kind);

		if (*seen & bit)
			return bg_fail(e, BG_ERR_INVALID, "line %zu: duplicate '%s'", line,
			    dirs[d].name);
		*seen |= bit;
	}
	if (dirs[d].kind == -8 && line != 1)
		return bg_fail(e, BG_ERR_INVALID, "line %zu: 'profile' must come first", line);
	switch (dirs[d].kind) {
	case -1: p->flags |= PROFILE_PORTS; return 0;
	case -2: p->flags |= PROFILE_SYSTEM; return 0;
	case -3: p->flags |= PROFILE_ENVIRONMENT; return 0;
	case -4:
		if (an >= sizeof(p->describe) || text_check(a, an, 0, NULL) != 0)
			return bg_fail(e, BG_ERR_INVALID, "line %zu: bad description", line);
		memcpy(p->describe, a, an);
		p->describe[an] = '\0';
		return 0;
	case -5:
		if (!word_ok(a, an, 0) || memchr(a, ' ', an) != NULL)
			return bg_fail(e, BG_ERR_INVALID, "line %zu: bad include", line);
		/* kept as an item of kind -1 for profile_load */
		return add_item(p, -1, a, an, -1, 0) ? bg_fail(e, BG_ERR_TOOLARGE,
		    "line %zu: too many items", line) : 0;
	case -6:
		if (!path_ok(a, an) || a[0] != '/')
			return bg_fail(e, BG_ERR_INVALID, "line %zu: 'app' wants an absolute path", line);
		memcpy(p->app, a, an);
		p->app[an] = '\0';
		return 0;
	case -7: {
		char t[32];

		if (an >= sizeof(t))
			return bg_fail(e, BG_ERR_INVALID, "line %zu: bad duration", line);
		memcpy(t, a, an);
		t[an] = '\0';
		if (utc_parse_duration(t, &p->recent) != 0)
			return bg_fail(e, BG_ERR_INVALID, "line %zu: bad duration", line);
		return 0;
	}
	case -8: {
		if (an >= sizeof(p->name))
			return bg_fail(e, BG_ERR_INVALID, "line %zu: bad profile name", line);
		memcpy(p->name, a, an);
		p->name[an] = '\0';
		if (!text_is_ident(p->name, sizeof(p->name) - 1)) {
			p->name[0] = '\0';
			return bg_fail(e, BG_ERR_INVALID, "line %zu: bad profile name", line);
		}
		return 0;
	}
	default:
		break;
	}
	if (dirs[d].args == 3) { /* words */
		const char *w = a, *end = a + an;

		while (w < end) {
			const char *q = memchr(w, ' ', (size_t)(end - w));
			size_t wn = q ? (size_t)(q - w) : (size_t)(end - w);

			if (!word_ok(w, wn, dirs[d].kind == PD_ALLOW))
				return bg_fail(e, BG_ERR_INVALID, "line %zu: bad argument to '%s'", line,
				    dirs[d].name);
			if (dirs[d].kind == PD_RUNTIME && !((wn == 3 && memcmp(w, "php", 3) == 0) ||
			    (wn == 4 && memcmp(w, "node", 4) == 0) ||
			    (wn == 6 && memcmp(w, "python", 6) == 0)))
				return bg_fail(e, BG_ERR_INVALID, "line %zu: unknown runtime '%.*s' "
				    "(php, node, python)", line, (int)(wn > 40 ? 40 : wn), w);
			if ((r = add_item(p, dirs[d].kind, w, wn, -1, 0)) != 0)
				return bg_fail(e, r, "line %zu: too many items", line);
			w += wn + (q != NULL);
			if (q != NULL && w == end)
				return bg_fail(e, BG_ERR_INVALID, "line %zu: trailing space", line);
		}
		return 0;
	}
	{
		const char *sp2 = memchr(a, ' ', an);
		size_t pn = sp2 ? (size_t)(sp2 - a) : an;
		int format = -1;
		size_t bytes = dirs[d].kind == PD_LOG ? 65536 : 0;

		if (!path_ok(a, pn))
			return bg_fail(e, BG_ERR_INVALID, "line %zu: '%s' wants an absolute path or "
			    "@app/...", line, dirs[d].name);
		if (sp2 != NULL) {
			char w[32];
			size_t wn = an - pn - 1;

			if (dirs[d].args != 2 || wn == 0 || wn >= sizeof(w) || memchr(sp2 + 1, ' ', wn))
				return bg_fail(e, BG_ERR_INVALID, "line %zu: too many arguments", line);
			memcpy(w, sp2 + 1, wn);
			w[wn] = '\0';
			if (dirs[d].kind == PD_LOG) {
				char *endp;
				unsigned long long v;

				if (w[0] < '1' || w[0] > '9')
					return bg_fail(e, BG_ERR_INVALID, "line %zu: bad byte count", line);
				v = strtoull(w, &endp, 10);
				if (*endp != '\0' || v > PROFILE_MAX_LOG)
					return bg_fail(e, BG_ERR_INVALID, "line %zu: byte count over %u",
					    line, PROFILE_MAX_LOG);
				bytes = (size_t)v;
			} else if ((format = cfg_format_named(w)) < 0 || format == CFG_PHPINFO) {
				return bg_fail(e, BG_ERR_INVALID, "line %zu: unknown format '%s'", line, w);
			}
		}
		for (i = 0; i < p->n; i++)
			if (p->it[i].kind == dirs[d].kind && strlen(p->it[i].arg) == pn &&
			    strncmp(p->it[i].arg, a, pn) == 0)
				return bg_fail(e, BG_ERR_INVALID, "line %zu: duplicate '%s %.*s'", line,
				    dirs[d].name, (int)pn, a);
		if ((r = add_item(p, dirs[d].kind, a, pn, format, bytes)) != 0)
			return bg_fail(e, r, "line %zu: too many items", line);
	}
	return 0;
}

int
profile_parse(const char *text, size_t len, profile *out, bg_error *e)
{
	const char *s = text, *end = text + len;
	size_t line = 0;
	unsigned seen = 0;
	int r = 0;

	memset(out, 0, sizeof(*out));
	out->recent = 7 * 86400;
	if (len > PROFILE_MAX_INPUT)
		return bg_fail(e, BG_ERR_TOOLARGE, "profile over %u bytes", PROFILE_MAX_INPUT);
	if (text_check(text, len, 1, NULL) != 0)
		return bg_fail(e, BG_ERR_INVALID, "profile is not valid UTF-8 text");
	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t n = nl ? (size_t)(nl - s) : (size_t)(end - s);

		line++;
		if (n > 0 && s[0] != '#') {
			if (s[0] == ' ' || s[0] == '\t' || s[n - 1] == ' ' || s[n - 1] == '\t' ||
			    memchr(s, '\t', n) != NULL) {
				r = bg_fail(e, BG_ERR_INVALID, "line %zu: stray whitespace", line);
				goto out;
			}
			if (line != 1 && out->name[0] == '\0') {
				r = bg_fail(e, BG_ERR_INVALID, "line 1: a profile starts with 'profile NAME'");
				goto out;
			}
			if ((r = parse_line(out, s, n, line, &seen, e)) != 0)
				goto out;
		} else if (line == 1) {
			r = bg_fail(e, BG_ERR_INVALID, "line 1: a profile starts with 'profile NAME'");
			goto out;
		}
		s += n + (nl != NULL);
	}
	if (out->name[0] == '\0')
		r = bg_fail(e, BG_ERR_INVALID, "line 1: a profile starts with 'profile NAME'");
out:
	if (r != 0)
		profile_release(out);
	return r;
}

static int
load_builtin(const char *name, profile *out, bg_error *e)
{
	size_t i, len;
	const char *t;

	for (i = 0; i < profiles_builtin_n; i++)
		if (strcmp(profiles_builtin_names[i], name) == 0) {
			t = profile_builtin_text(i, &len);
			return profile_parse(t, len, out, e);
		}
	return bg_fail(e, BG_ERR_NOTFOUND, "no built-in profile '%s'", name);
}

/* Replace include items of p by the included profiles' items, in place. */
static int
resolve(profile *p, int depth, bg_error *e)
{
	profile merged, inc;
	size_t i, k;
	int r = 0;

	memset(&merged, 0, sizeof(merged));
	for (i = 0; i < p->n && r == 0; i++) {
		if (p->it[i].kind != -1) {
			r = add_item(&merged, p->it[i].kind, p->it[i].arg, strlen(p->it[i].arg),
			    p->it[i].format, p->it[i].bytes);
			continue;
		}
		if (depth >= 4) {
			r = bg_fail(e, BG_ERR_INVALID, "profile '%s': includes nested too deep", p->name);
			break;
		}
		if ((r = load_builtin(p->it[i].arg, &inc, e)) != 0)
			break;
		if ((r = resolve(&inc, depth + 1, e)) == 0) {
			for (k = 0; k < inc.n && r == 0; k++)
				r = add_item(&merged, inc.it[k].kind, inc.it[k].arg,
				    strlen(inc.it[k].arg), inc.it[k].format, inc.it[k].bytes);
			p->flags |= inc.flags;
			if (p->app[0] == '\0')
				memcpy(p->app, inc.app, sizeof(p->app));
		}
		profile_release(&inc);
	}
	if (r != 0) {
		profile_release(&merged);
		return r;
	}
	for (i = 0; i < p->n; i++)
		free(p->it[i].arg);
	free(p->it);
	p->it = merged.it;
	p->n = merged.n;
	p->cap = merged.cap;
	return 0;
}

int
profile_load(const char *spec, profile *out, bg_error *e)
{
	int r;

	memset(out, 0, sizeof(*out));
	if (strchr(spec, '/') != NULL) {
		buf b;

		buf_init(&b, PROFILE_MAX_INPUT);
		if ((r = fileio_read(spec, PROFILE_MAX_INPUT, &b, e)) == 0 &&
		    (r = profile_parse(b.data, b.len, out, e)) != 0 && e != NULL) {
			bg_error e2 = *e;

			bg_fail(e, r, "profile '%s': %s", spec, e2.msg);
		}
		buf_release(&b);
	} else {
		r = load_builtin(spec, out, e);
	}
	if (r == 0 && (r = resolve(out, 0, e)) != 0)
		profile_release(out);
	return r;
}

int
profile_allows(const profile *p, const char *key)
{
	const char *last = key, *q;
	size_t i;

	for (q = key; *q; q++)
		if (*q == ':' || *q == '.')
			last = q + 1;
	for (i = 0; i < p->n; i++) {
		if (p->it[i].kind != PD_ALLOW)
			continue;
		const char *pat = p->it[i].arg, *inner = strrchr(key, ':');

		if (fnmatch(pat, strchr(pat, ':') ? key : strchr(pat, '.') ? (inner ? inner + 1 :
		    key) : last, 0) == 0)
			return 1;
	}
	return 0;
}
