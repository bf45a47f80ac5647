/*
 * signers.c - strict allowed_signers parser.
 */
#include "signers.h"
#include "text.h"
#include "utc.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
entry_release(signer_entry *s)
{
	free(s->principals);
	free(s->namespaces);
	free(s->comment);
	sshkey_pub_release(&s->key);
	memset(s, 0, sizeof(*s));
}

void
signers_release(signers *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		entry_release(&s->v[i]);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

/* YYYYMMDD[HHMM[SS]]Z */
static int
parse_time(const char *v, int64_t *t)
{
	char iso[32];
	size_t n = strlen(v);

	if (n < 2 || v[n - 1] != 'Z')
		return -1;
	n--;
	for (size_t i = 0; i < n; i++)
		if (v[i] < '0' || v[i] > '9')
			return -1;
	if (n == 8)
		snprintf(iso, sizeof(iso), "%.4s-%.2s-%.2sT00:00:00Z", v, v + 4, v + 6);
	else if (n == 12)
		snprintf(iso, sizeof(iso), "%.4s-%.2s-%.2sT%.2s:%.2s:00Z", v, v + 4,
		    v + 6, v + 8, v + 10);
	else if (n == 14)
		snprintf(iso, sizeof(iso), "%.4s-%.2s-%.2sT%.2s:%.2s:%.2sZ", v, v + 4,
		    v + 6, v + 8, v + 10, v + 12);
	else
		return -1;
	return utc_parse(iso, t) == 0 ? 0 : -1;
}

/* Read one token; quoted tokens may hold spaces.  Returns length consumed. */
static int
token(const char *p, char **out, size_t *used)
{
	size_t i = 0, n = 0;
	char *t;
	int q = 0;

	*out = NULL;
	if ((t = malloc(strlen(p) + 1)) == NULL)
		return BG_ERR_NOMEM;
	for (;; i++) {
		char c = p[i];

		if (c == '\0') {
			if (q) {
				free(t);
				return BG_ERR_INVALID;
			}
			break;
		}
		if (c == '"') {
			q = !q;
			t[n++] = c;
			continue;
		}
		if (!q && (c == ' ' || c == '\t'))
			break;
		t[n++] = c;
	}
	t[n] = '\0';
	*out = t;
	*used = i;
	return 0;
}

static char *
unquote(const char *s)
{
	size_t n = strlen(s);

	if (n >= 2 && s[0] == '"' && s[n - 1] == '"' && memchr(s + 1, '"', n - 2) == NULL)
		return strndup(s + 1, n - 2);
	if (strchr(s, '"') != NULL)
		return NULL;
	return strdup(s);
}

static int
parse_options(const char *opts, signer_entry *s, size_t line, bg_error *e)
{
	const char *p = opts;
	int seen_ca = 0, seen_ns = 0, seen_va = 0, seen_vb = 0;

	while (*p) {
		const char *start = p, *eq;
		char name[32], *val = NULL;
		size_t nlen;
		int q = 0;

		while (*p && (q || *p != ',')) {
			if (*p == '"')
				q = !q;
			p++;
		}
		eq = memchr(start, '=', (size_t)(p - start));
		nlen = (size_t)((eq ? eq : p) - start);
		if (nlen == 0 || nlen >= sizeof(name))
			return bg_fail(e, BG_ERR_INVALID, "line %zu: malformed option", line);
		memcpy(name, start, nlen);
		name[nlen] = '\0';
		if (eq != NULL) {
			size_t vlen = (size_t)(p - eq - 1);

			if (vlen < 2 || eq[1] != '"' || eq[vlen] != '"' ||
			    memchr(eq + 2, '"', vlen - 2) != NULL)
				return bg_fail(e, BG_ERR_INVALID,
				    "line %zu: option '%s' needs a quoted value", line, name);
			if ((val = strndup(eq + 2, vlen - 2)) == NULL)
				return BG_ERR_NOMEM;
		}
		if (strcmp(name, "cert-authority") == 0 && val == NULL && !seen_ca++) {
			s->cert_authority = 1;
		} else if (strcmp(name, "namespaces") == 0 && val != NULL && !seen_ns++) {
			s->namespaces = val;
			val = NULL;
		} else if ((strcmp(name, "valid-after") == 0 && val != NULL && !seen_va++) ||
		    (strcmp(name, "valid-before") == 0 && val != NULL && !seen_vb++)) {
			int64_t t;

			if (parse_time(val, &t) != 0) {
				free(val);
				return bg_fail(e, BG_ERR_INVALID,
				    "line %zu: option '%s' must be YYYYMMDD[HHMM[SS]]Z (UTC)",
				    line, name);
			}
			if (name[6] == 'a')
				s->valid_after = t;
			else
				s->valid_before = t;
		} else {
			free(val);
			return bg_fail(e, BG_ERR_INVALID,
			    "line %zu: unknown, malformed or repeated option '%s'", line, name);
		}
		free(val);
		if (*p == ',') {
			p++;
			if (*p == '\0')
				return bg_fail(e, BG_ERR_INVALID,
				    "line %zu: trailing comma in options", line);
		}
	}
	if (s->valid_after && s->valid_before && s->valid_after >= s->valid_before)
		return bg_fail(e, BG_ERR_INVALID,
		    "line %zu: valid-after is not before valid-before", line);
	return 0;
}

static int
is_keytype(const char *t)
{
	return strcmp(t, "ssh-ed25519") == 0 || strcmp(t, "ssh-rsa") == 0 ||
	    strncmp(t, "ecdsa-sha2-nistp", 16) == 0 ||
	    strncmp(t, "sk-", 3) == 0 || strncmp(t, "ssh-dss", 7) == 0;
}

static int
parse_line(char *ln, size_t line, signer_entry *s, bg_error *e)
{
	char *tok = NULL, *opts = NULL, *type = NULL;
	const char *p = ln;
	size_t used;
	int r;

	memset(s, 0, sizeof(*s));
	s->line = line;
	if ((r = token(p, &tok, &used)) != 0)
		return bg_fail(e, BG_ERR_INVALID, "line %zu: unterminated quote", line);
	p += used;
	if ((s->principals = unquote(tok)) == NULL || s->principals[0] == '\0') {
		free(tok);
		return bg_fail(e, BG_ERR_INVALID, "line %zu: malformed principals", line);
	}
	free(tok);
	while (*p == ' ' || *p == '\t')
		p++;
	if ((r = token(p, &tok, &used)) != 0)
		return bg_fail(e, BG_ERR_INVALID, "line %zu: unterminated quote", line);
	if (!is_keytype(tok)) {
		opts = tok;
		p += used;
		while (*p == ' ' || *p == '\t')
			p++;
		if ((r = parse_options(opts, s, line, e)) != 0) {
			free(opts);
			return r;
		}
		free(opts);
		if ((r = token(p, &tok, &used)) != 0)
			return bg_fail(e, BG_ERR_INVALID, "line %zu: unterminated quote", line);
	}
	type = tok;
	if (!is_keytype(type)) {
		r = bg_fail(e, BG_ERR_INVALID, "line %zu, column %zu: expected a key type",
		    line, (size_t)(p - ln) + 1);
		free(type);
		return r;
	}
	free(type);
	r = sshkey_parse_line(p, &s->key, &s->comment, e);
	if (r != 0) {
		char tmp[sizeof(e->msg)];

		snprintf(tmp, sizeof(tmp), "line %zu: %.400s", line, e ? e->msg : "bad key");
		return bg_fail(e, r, "%s", tmp);
	}
	return 0;
}

int
signers_parse(const char *text, size_t len, signers *out, bg_error *e)
{
	size_t off = 0, line = 0, bad, cap = 0;
	char *ln = NULL;
	int r = 0;

	memset(out, 0, sizeof(*out));
	if (len > SIGNERS_MAX_INPUT)
		return bg_fail(e, BG_ERR_TOOLARGE, "allowed_signers larger than %u bytes",
		    SIGNERS_MAX_INPUT);
	if (text_check(text, len, 1, &bad) != 0) {
		size_t l, c;

		text_position(text, bad, &l, &c);
		return bg_fail(e, BG_ERR_INVALID,
		    "line %zu, column %zu: invalid UTF-8 or control character", l, c);
	}
	while (off < len) {
		const char *s = text + off, *nl = memchr(s, '\n', len - off);
		size_t n = nl ? (size_t)(nl - s) : len - off;
		signer_entry ent;
		char *t;

		off += n + (nl != NULL);
		line++;
		if (n > SIGNERS_MAX_LINE) {
			r = bg_fail(e, BG_ERR_TOOLARGE, "line %zu: longer than %u bytes",
			    line, SIGNERS_MAX_LINE);
			goto fail;
		}
		free(ln);
		if ((ln = strndup(s, n)) == NULL) {
			r = BG_ERR_NOMEM;
			goto fail;
		}
		t = text_trim(ln);
		if (*t == '\0' || *t == '#')
			continue;
		if ((r = parse_line(t, line, &ent, e)) != 0) {
			entry_release(&ent);
			goto fail;
		}
		if (out->n == cap) {
			signer_entry *v;

			cap = cap ? cap * 2 : 8;
			if (cap > 4096 || (v = realloc(out->v, cap * sizeof(*v))) == NULL) {
				entry_release(&ent);
				r = bg_fail(e, BG_ERR_TOOLARGE, "too many signers");
				goto fail;
			}
			out->v = v;
		}
		out->v[out->n++] = ent;
	}
	free(ln);
	return 0;
fail:
	free(ln);
	signers_release(out);
	return r;
}

int
signers_principal_matches(const signer_entry *s, const char *principal)
{
	char *copy = strdup(s->principals), *save = NULL, *p;
	int neg = 0, pos = 0;

	if (copy == NULL)
		return 0;
	for (p = copy; p != NULL; p = save) {
		save = strchr(p, ',');
		if (save != NULL)
			*save++ = '\0';
		if (*p == '!') {
			if (fnmatch(p + 1, principal, 0) == 0)
				neg = 1;
		} else if (fnmatch(p, principal, 0) == 0)
			pos = 1;
	}
	free(copy);
	return pos && !neg;
}

int
signers_namespace_allowed(const signer_entry *s, const char *ns)
{
	char *copy, *save, *p;
	int ok = 0;

	if (s->namespaces == NULL)
		return 1;
	if ((copy = strdup(s->namespaces)) == NULL)
		return 0;
	for (p = copy; p != NULL; p = save) {
		save = strchr(p, ',');
		if (save != NULL)
			*save++ = '\0';
		if (fnmatch(p, ns, 0) == 0)
			ok = 1;
	}
	free(copy);
	return ok;
}
