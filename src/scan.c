/*
 * scan.c - a small, conservative secret detector.
 *
 * Each rule is a hand-written matcher over the raw bytes: fixed prefixes
 * with a character class and length (cloud and SaaS tokens), armour lines
 * (private keys), the userinfo part of URLs, and assignments to keys whose
 * names say "secret".  Placeholders (${VAR}, <your-key>, xxxx, changeme)
 * and documentation examples are not reported.  The full scanner replaces
 * this module behind the same interface.
 */
#include "scan.h"
#include "text.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

const char *const scan_rule_names[] = {
	"private-key", "aws-access-key", "github-token", "gitlab-token",
	"slack-token", "slack-webhook", "stripe-key", "google-api-key", "jwt",
	"url-password", "password-assignment", NULL
};

static void
add(scan_result *res, const char *rule, size_t off, size_t len)
{
	if (res->n > 0) {
		scan_finding *p = &res->f[res->n - 1];

		/* overlapping findings (a JWT inside "token=...") count once */
		if (off < p->off + p->len && p->off < off + len)
			return;
	}
	if (res->n == SCAN_MAX_FINDINGS) {
		res->truncated = 1;
		return;
	}
	res->f[res->n].rule = rule;
	res->f[res->n].off = off;
	res->f[res->n].len = len;
	res->n++;
}

static int
is_word(unsigned char c)
{
	return isalnum(c) || c == '_';
}

/* Count bytes from s[i] matching class cls: 'A' upper+digit, 'a' alnum,
 * 'b' base64url, 'h' alnum+'-', '_' alnum+'_'. */
static size_t
span(const char *s, size_t n, size_t i, char cls)
{
	size_t j = i;

	for (; j < n; j++) {
		unsigned char c = (unsigned char)s[j];
		int ok;

		switch (cls) {
		case 'A': ok = isupper(c) || isdigit(c); break;
		case 'a': ok = isalnum(c); break;
		case 'b': ok = isalnum(c) || c == '-' || c == '_'; break;
		case 'h': ok = isalnum(c) || c == '-'; break;
		default: ok = isalnum(c) || c == '_'; break;
		}
		if (!ok)
			break;
	}
	return j - i;
}

static int
placeholder(const char *v, size_t n)
{
	static const char *const words[] = {
		"changeme", "change-me", "change_me", "password", "passwd", "secret",
		"example", "redacted", "placeholder", "none", "null", "empty", "dummy",
		"your-password", "your_password", "yourpassword", "your-key",
		"your_key", "your-token", "your_token", "xxx", "todo", "tbd",
		"hidden", "masked", "notset", "not-set", "undefined", NULL
	};
	size_t i, same = 1;

	if (n == 0)
		return 1;
	if (strchr("$<{%[*", v[0]) != NULL)
		return 1;
	for (i = 1; i < n; i++)
		if (tolower((unsigned char)v[i]) != tolower((unsigned char)v[0]))
			same = 0;
	if (same)
		return 1;
	for (i = 0; words[i] != NULL; i++)
		if (strlen(words[i]) == n && strncasecmp(words[i], v, n) == 0)
			return 1;
	/* REDACTED markers and documentation keys */
	if (n >= 7 && (strncasecmp(v + n - 7, "EXAMPLE", 7) == 0))
		return 1;
	return 0;
}

/* Character classes used: a crude entropy test for assigned values. */
static int
classes(const char *v, size_t n)
{
	int lo = 0, up = 0, di = 0, sy = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];

		if (islower(c)) lo = 1;
		else if (isupper(c)) up = 1;
		else if (isdigit(c)) di = 1;
		else sy = 1;
	}
	return lo + up + di + sy;
}

static int
prefix_at(const char *s, size_t n, size_t i, const char *p)
{
	size_t l = strlen(p);

	return n - i >= l && memcmp(s + i, p, l) == 0;
}

static void
match_private_key(const char *s, size_t n, size_t i, scan_result *res)
{
	size_t j, lim;

	if (prefix_at(s, n, i, "-----BEGIN ")) {
		lim = i + 80 < n ? i + 80 : n;
		for (j = i + 11; j < lim && s[j] != '\n'; j++) {
			if (prefix_at(s, lim, j, "PRIVATE KEY-----") ||
			    prefix_at(s, lim, j, "PRIVATE KEY BLOCK-----")) {
				add(res, "private-key", i, j + 16 - i);
				return;
			}
		}
	} else if (prefix_at(s, n, i, "PuTTY-User-Key-File-")) {
		add(res, "private-key", i, 20);
	} else if (prefix_at(s, n, i, "AGE-SECRET-KEY-1") && span(s, n, i + 16, 'A') >= 50) {
		add(res, "private-key", i, 16 + span(s, n, i + 16, 'A'));
	}
}

static void
match_tokens(const char *s, size_t n, size_t i, scan_result *res)
{
	static const char *const aws[] = {
		"AKIA", "ASIA", "AGPA", "AIDA", "AROA", "ANPA", "ANVA", "AIPA", NULL
	};
	size_t k, l;

	if (i > 0 && is_word((unsigned char)s[i - 1]))
		return;
	for (k = 0; aws[k] != NULL; k++) {
		if (prefix_at(s, n, i, aws[k]) && span(s, n, i + 4, 'A') == 16 &&
		    (i + 20 >= n || !is_word((unsigned char)s[i + 20])) &&
		    !placeholder(s + i, 20)) {
			add(res, "aws-access-key", i, 20);
			return;
		}
	}
	if (n - i > 4 && s[i] == 'g' && s[i + 1] == 'h' && strchr("pousr", s[i + 2]) &&
	    s[i + 3] == '_' && span(s, n, i + 4, 'a') == 36) {
		add(res, "github-token", i, 40);
		return;
	}
	if (prefix_at(s, n, i, "github_pat_") && (l = span(s, n, i + 11, '_')) >= 70) {
		add(res, "github-token", i, 11 + l);
		return;
	}
	if (prefix_at(s, n, i, "glpat-") && (l = span(s, n, i + 6, 'b')) >= 20) {
		add(res, "gitlab-token", i, 6 + l);
		return;
	}
	if (prefix_at(s, n, i, "xox") && n - i > 5 && strchr("baprs", s[i + 3]) &&
	    s[i + 4] == '-' && (l = span(s, n, i + 5, 'h')) >= 10) {
		add(res, "slack-token", i, 5 + l);
		return;
	}
	if ((prefix_at(s, n, i, "sk_live_") || prefix_at(s, n, i, "rk_live_")) &&
	    (l = span(s, n, i + 8, 'a')) >= 16) {
		add(res, "stripe-key", i, 8 + l);
		return;
	}
	if (prefix_at(s, n, i, "AIza") && span(s, n, i + 4, 'b') == 35) {
		add(res, "google-api-key", i, 39);
		return;
	}
	if (prefix_at(s, n, i, "eyJ")) {
		size_t a = span(s, n, i, 'b'), b, c;

		if (a >= 10 && i + a < n && s[i + a] == '.' &&
		    prefix_at(s, n, i + a + 1, "eyJ") &&
		    (b = span(s, n, i + a + 1, 'b')) >= 10 && i + a + 1 + b < n &&
		    s[i + a + 1 + b] == '.' &&
		    (c = span(s, n, i + a + 2 + b, 'b')) >= 16)
			add(res, "jwt", i, a + b + c + 2);
	}
}

static void
match_url(const char *s, size_t n, size_t i, scan_result *res)
{
	size_t j, colon = 0, at = 0;

	/* i points at "://" */
	if (prefix_at(s, n, i, "://hooks.slack.com/services/")) {
		size_t l = i + 28;

		while (l < n && (isalnum((unsigned char)s[l]) || s[l] == '/'))
			l++;
		if (l - (i + 28) >= 20)
			add(res, "slack-webhook", i + 3, l - i - 3);
		return;
	}
	for (j = i + 3; j < n && j < i + 3 + 512; j++) {
		char c = s[j];

		if (c == '/' || c == ' ' || c == '\n' || c == '\t' || c == '"' ||
		    c == '\'' || c == '?' || c == '#')
			break;
		if (c == ':' && colon == 0)
			colon = j;
		if (c == '@')
			at = j; /* last @ before the host */
	}
	if (colon != 0 && at > colon + 1 && !placeholder(s + colon + 1, at - colon - 1))
		add(res, "url-password", colon + 1, at - colon - 1);
}

static int
secret_key_name(const char *s, size_t start, size_t end)
{
	static const char *const names[] = {
		"password", "passwd", "pwd", "pass", "secret", "token", "apikey",
		"api_key", "api-key", "access_key", "secret_key", "private_key",
		"client_secret", "auth", "credentials", NULL
	};
	size_t k, l, len = end - start;

	for (k = 0; names[k] != NULL; k++) {
		l = strlen(names[k]);
		if (len >= l && strncasecmp(s + end - l, names[k], l) == 0 &&
		    (len == l || strchr("_-.", s[end - l - 1]) != NULL ||
		    (islower((unsigned char)s[end - l - 1]) && isupper((unsigned char)s[end - l]))))
			return 1;
	}
	return 0;
}

static size_t
match_assignment(const char *s, size_t n, size_t i, scan_result *res)
{
	size_t ks = i, ke, j, vs, ve;
	char q = 0;

	/* i starts an identifier */
	for (ke = ks; ke < n && (is_word((unsigned char)s[ke]) || s[ke] == '-' || s[ke] == '.'); ke++)
		;
	if (ke == ks || !secret_key_name(s, ks, ke))
		return ke;
	j = ke;
	if (j < n && (s[j] == '"' || s[j] == '\''))
		j++;
	while (j < n && s[j] == ' ')
		j++;
	if (j >= n || (s[j] != '=' && s[j] != ':'))
		return ke;
	j++;
	while (j < n && s[j] == ' ')
		j++;
	if (j < n && (s[j] == '"' || s[j] == '\''))
		q = s[j++];
	vs = j;
	for (ve = vs; ve < n; ve++) {
		char c = s[ve];

		if (q ? c == q || c == '\n' : (c == ' ' || c == '\n' || c == '\t' ||
		    c == ',' || c == ';' || c == '"' || c == '\'' || c == '&'))
			break;
	}
	if (ve - vs >= 6 && ve - vs <= 512 && !placeholder(s + vs, ve - vs) &&
	    classes(s + vs, ve - vs) >= 2)
		add(res, "password-assignment", vs, ve - vs);
	return ve > ke ? ve : ke;
}

void
scan_text(const char *s, size_t n, scan_result *res)
{
	size_t i = 0;

	memset(res, 0, sizeof(*res));
	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		size_t before = res->n;

		if (c == '-' || c == 'P' || c == 'A')
			match_private_key(s, n, i, res);
		if (res->n == before && isalpha(c))
			match_tokens(s, n, i, res);
		if (res->n == before && c == ':' && prefix_at(s, n, i, "://"))
			match_url(s, n, i, res);
		if (res->n > before) {
			scan_finding *f = &res->f[res->n - 1];

			i = f->off + f->len > i ? f->off + f->len : i + 1;
			continue;
		}
		if (isalpha(c) && (i == 0 || !is_word((unsigned char)s[i - 1]))) {
			size_t next = match_assignment(s, n, i, res);

			if (res->n > before) {
				i = next;
				continue;
			}
		}
		i++;
	}
}

int
scan_redact(const char *s, size_t n, buf *out, size_t *found)
{
	scan_result res;
	size_t i, at = 0;
	int r = 0;

	scan_text(s, n, &res);
	if (found != NULL)
		*found = res.n;
	for (i = 0; i < res.n && r == 0; i++) {
		r = buf_append(out, s + at, res.f[i].off - at);
		if (r == 0)
			r = buf_printf(out, "[REDACTED:%s]", res.f[i].rule);
		at = res.f[i].off + res.f[i].len;
	}
	if (r == 0 && res.truncated) {
		/* more findings than we track: keep nothing after the last one */
		return buf_puts(out, "[REDACTED:more]");
	}
	if (r == 0)
		r = buf_append(out, s + at, n - at);
	return r;
}

int
scan_input(const char *what, const char *s, size_t max, int multiline, bg_error *e)
{
	size_t n = strlen(s), bad, line, col;

	if (n > max)
		return bg_fail(e, BG_ERR_TOOLARGE, "%s is longer than %zu bytes", what, max);
	if (text_check(s, n, multiline, &bad) != 0) {
		text_position(s, bad, &line, &col);
		return bg_fail(e, BG_ERR_INVALID, "%s: line %zu, column %zu: %s", what, line, col,
		    multiline ? "invalid UTF-8 or control character" :
		    "must be one line of valid UTF-8 text");
	}
	return scan_refuse(what, s, n, e);
}

int
scan_refuse(const char *what, const char *s, size_t n, bg_error *e)
{
	scan_result res;
	char msg[sizeof(e->msg)];
	size_t i, off = 0, line, col;
	int w;

	scan_text(s, n, &res);
	if (res.n == 0)
		return 0;
	w = snprintf(msg, sizeof(msg), "%s contains %s: ", what,
	    res.n == 1 ? "a secret" : "secrets");
	off = w > 0 ? (size_t)w : 0;
	for (i = 0; i < res.n && off < sizeof(msg); i++) {
		text_position(s, res.f[i].off, &line, &col);
		w = snprintf(msg + off, sizeof(msg) - off, "%s%s at line %zu, column %zu",
		    i ? "; " : "", res.f[i].rule, line, col);
		if (w < 0)
			break;
		off += (size_t)w;
	}
	if (res.truncated && off < sizeof(msg))
		snprintf(msg + off, sizeof(msg) - off, "; and more");
	return bg_fail(e, BG_ERR_SECRET, "%s", msg);
}
