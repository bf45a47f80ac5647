/*
 * freezefmt.c - the published change-freeze state (see freezefmt.h): one
 * writer, one strict reader, shared by broker and host.
 */
#include "freezefmt.h"
#include "grantscope.h"
#include "text.h"
#include "utc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HEADER "breakglass freeze v1"

int
freezefmt_name_ok(const char *s, size_t max, int allow_slash)
{
	size_t n = strlen(s), i;

	if (n == 0 || n > max)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= 0x20 || c >= 0x7f || c == ',' || (c == '/' && !allow_slash))
			return 0;
	}
	return 1;
}

int
freezefmt_add(freezefmt *f, const freezefmt_entry *e)
{
	freezefmt_entry *nv;

	if (f->n >= FREEZEFMT_MAX)
		return BG_ERR_TOOLARGE;
	if ((nv = realloc(f->v, (f->n + 1) * sizeof(*nv))) == NULL)
		return BG_ERR_NOMEM;
	f->v = nv;
	f->v[f->n++] = *e;
	return 0;
}

void
freezefmt_release(freezefmt *f)
{
	free(f->v);
	memset(f, 0, sizeof(*f));
}

int
freezefmt_write(const freezefmt *f, buf *out)
{
	char t[UTC_STRLEN];
	size_t i;
	int r;

	utc_format(f->published, t);
	if ((r = buf_printf(out, HEADER "\npublished: %s\n", t)) != 0)
		return r;
	for (i = 0; i < f->n; i++) {
		utc_format(f->v[i].since, t);
		if ((r = buf_printf(out, "frozen: T-%lld %s %s %s %s\n", (long long)f->v[i].ticket,
		    f->v[i].project, t, f->v[i].branch, f->v[i].systems)) != 0)
			return r;
	}
	return 0;
}

/* The next space-separated field of *p into out (max bytes); 0 or -1. */
static int
field(const char **p, char *out, size_t max)
{
	const char *s = *p, *sp = strchr(s, ' ');
	size_t n = sp ? (size_t)(sp - s) : strlen(s);

	if (n == 0 || n >= max)
		return -1;
	memcpy(out, s, n);
	out[n] = '\0';
	*p = sp ? sp + 1 : s + n;
	return 0;
}

static int
systems_ok(const char *s)
{
	char one[129];
	const char *p = s;

	while (*p) {
		size_t n = strcspn(p, ",");

		if (n == 0 || n >= sizeof(one))
			return 0;
		memcpy(one, p, n);
		one[n] = '\0';
		if (!freezefmt_name_ok(one, 128, 0))
			return 0;
		p += n;
		if (*p == ',' && *++p == '\0')
			return 0;
	}
	return 1;
}

int
freezefmt_parse(const char *text, size_t len, freezefmt *out, bg_error *e)
{
	size_t off = 0, line = 0, bad;
	int have_pub = 0, r;
	char ln[2048];

	memset(out, 0, sizeof(*out));
	if (len > 1024 * 1024)
		return bg_fail(e, BG_ERR_TOOLARGE, "freeze state larger than 1 MiB");
	if (text_check(text, len, 1, &bad) != 0)
		return bg_fail(e, BG_ERR_INVALID, "freeze state: invalid UTF-8 or control "
		    "character at byte %zu", bad);
	while (off < len) {
		const char *s = text + off, *nl = memchr(s, '\n', len - off), *p;
		size_t n = nl ? (size_t)(nl - s) : len - off;

		off += n + (nl != NULL);
		line++;
		if (nl == NULL) {
			r = bg_fail(e, BG_ERR_INVALID, "freeze state line %zu: no final newline", line);
			goto fail;
		}
		if (n >= sizeof(ln)) {
			r = bg_fail(e, BG_ERR_TOOLARGE, "freeze state line %zu: too long", line);
			goto fail;
		}
		memcpy(ln, s, n);
		ln[n] = '\0';
		if (line == 1) {
			if (strcmp(ln, HEADER) != 0) {
				r = bg_fail(e, BG_ERR_INVALID, "freeze state: '%.40s' is not '" HEADER
				    "' (a version this host does not know?)", ln);
				goto fail;
			}
			continue;
		}
		if (strncmp(ln, "published: ", 11) == 0 && !have_pub) {
			if (utc_parse(ln + 11, &out->published) != 0) {
				r = bg_fail(e, BG_ERR_INVALID, "freeze state line %zu: bad time", line);
				goto fail;
			}
			have_pub = 1;
		} else if (strncmp(ln, "frozen: ", 8) == 0 && have_pub) {
			freezefmt_entry fe;
			char id[24], since[40];

			memset(&fe, 0, sizeof(fe));
			p = ln + 8;
			if (field(&p, id, sizeof(id)) != 0 ||
			    grantscope_parse_id(id, 'T', &fe.ticket) != 0 ||
			    field(&p, fe.project, sizeof(fe.project)) != 0 ||
			    !freezefmt_name_ok(fe.project, 64, 0) ||
			    field(&p, since, sizeof(since)) != 0 || utc_parse(since, &fe.since) != 0 ||
			    field(&p, fe.branch, sizeof(fe.branch)) != 0 ||
			    !freezefmt_name_ok(fe.branch, 128, 1) ||
			    field(&p, fe.systems, sizeof(fe.systems)) != 0 || *p != '\0' ||
			    !systems_ok(fe.systems)) {
				r = bg_fail(e, BG_ERR_INVALID, "freeze state line %zu: expected 'frozen: "
				    "T-N PROJECT SINCE BRANCH SYSTEM,...'", line);
				goto fail;
			}
			if ((r = freezefmt_add(out, &fe)) != 0) {
				r = bg_fail(e, r, "freeze state: too many entries");
				goto fail;
			}
		} else {
			r = bg_fail(e, BG_ERR_INVALID, "freeze state line %zu: unexpected '%.40s'",
			    line, ln);
			goto fail;
		}
	}
	if (line == 0 || !have_pub) {
		r = bg_fail(e, BG_ERR_INVALID, "freeze state: incomplete (no header or no "
		    "published time)");
		goto fail;
	}
	return 0;
fail:
	freezefmt_release(out);
	return r;
}

int
freezefmt_covers(const freezefmt_entry *fe, const char *system)
{
	size_t n = strlen(system);
	const char *p = fe->systems;

	while (*p) {
		size_t k = strcspn(p, ",");

		if (k == n && memcmp(p, system, n) == 0)
			return 1;
		p += k + (p[k] == ',');
	}
	return 0;
}
