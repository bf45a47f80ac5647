/*
 * rules.c - parser for the secret-scanner rules file.
 *
 * Format: "[id]" headers, then "key = value" lines (exactly one space each
 * side of '='), '#' comments and blank lines between.  Singular keys may
 * appear once per rule; example, not and allow may repeat.  The value is
 * taken verbatim for patterns; example/not/allow undo \n, \t and \\ and
 * refuse any other escape.  Every limit is checked and every refusal names
 * the line.
 */
#include "rules.h"
#include "text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *
dup_n(const char *s, size_t n)
{
	char *p = malloc(n + 1);

	if (p != NULL) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

static void
texts_free(rule_text *t, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(t[i].s);
	free(t);
}

static void
rule_release(rule *r)
{
	free(r->id);
	free(r->provider);
	free(r->title);
	free(r->pattern);
	free(r->b64_contains);
	free(r->trigger);
	free(r->candidate);
	free(r->anchor);
	texts_free(r->allow, r->nallow);
	texts_free(r->examples, r->nexamples);
	texts_free(r->nots, r->nnots);
	memset(r, 0, sizeof(*r));
}

void
rules_release(rule_set *rs)
{
	size_t i;

	if (rs == NULL)
		return;
	for (i = 0; i < rs->n; i++)
		rule_release(&rs->r[i]);
	free(rs->r);
	rs->r = NULL;
	rs->n = 0;
}

long
rules_find(const rule_set *rs, const char *id)
{
	size_t i;

	for (i = 0; i < rs->n; i++)
		if (strcmp(rs->r[i].id, id) == 0)
			return (long)i;
	return -1;
}

static int
valid_id(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > 64 || s[0] == '-' || s[n - 1] == '-')
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return 0;
	return 1;
}

/* Undo \n, \t, \\ in v[0..n).  -1 on any other escape. */
static int
unescape(const char *v, size_t n, rule_text *out)
{
	char *p = malloc(n + 1);
	size_t i, o = 0;

	if (p == NULL)
		return -2;
	for (i = 0; i < n; i++) {
		if (v[i] != '\\') {
			p[o++] = v[i];
			continue;
		}
		if (i + 1 == n) {
			free(p);
			return -1;
		}
		switch (v[++i]) {
		case 'n': p[o++] = '\n'; break;
		case 't': p[o++] = '\t'; break;
		case '\\': p[o++] = '\\'; break;
		default: free(p); return -1;
		}
	}
	p[o] = '\0';
	out->s = p;
	out->len = o;
	return 0;
}

static int
push_text(rule_text **arr, size_t *n, const char *v, size_t vn, size_t line, bg_error *e)
{
	rule_text t, *grown;
	int r = unescape(v, vn, &t);

	if (r == -2)
		return bg_fail(e, BG_ERR_NOMEM, "out of memory");
	if (r != 0)
		return bg_fail(e, BG_ERR_INVALID,
		    "line %zu: unknown escape (only \\n, \\t and \\\\ are allowed)", line);
	if (*n >= 64) {
		free(t.s);
		return bg_fail(e, BG_ERR_TOOLARGE, "line %zu: more than 64 values for one key", line);
	}
	grown = realloc(*arr, (*n + 1) * sizeof(**arr));
	if (grown == NULL) {
		free(t.s);
		return bg_fail(e, BG_ERR_NOMEM, "out of memory");
	}
	*arr = grown;
	(*arr)[(*n)++] = t;
	return 0;
}

/* Parse "d" or "d.d" between 0 and 8.  -1 when malformed. */
static double
parse_entropy(const char *v, size_t n)
{
	if (n == 1 && v[0] >= '0' && v[0] <= '8')
		return v[0] - '0';
	if (n == 3 && v[0] >= '0' && v[0] <= '7' && v[1] == '.' && v[2] >= '0' && v[2] <= '9')
		return (v[0] - '0') + (v[2] - '0') / 10.0;
	return -1;
}

static long
parse_small(const char *v, size_t n, long max)
{
	long x = 0;
	size_t i;

	if (n == 0 || n > 6 || (n > 1 && v[0] == '0'))
		return -1;
	for (i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		x = x * 10 + (v[i] - '0');
	}
	return x > max ? -1 : x;
}

static int
set_once(char **slot, const char *v, size_t n, const char *key, size_t line, bg_error *e)
{
	if (*slot != NULL)
		return bg_fail(e, BG_ERR_INVALID, "line %zu: '%s' given twice", line, key);
	if ((*slot = dup_n(v, n)) == NULL)
		return bg_fail(e, BG_ERR_NOMEM, "out of memory");
	return 0;
}

/* Bits for keys seen once per rule (the char* ones track themselves). */
enum { SEEN_SECRET = 1, SEEN_ENTROPY = 2, SEEN_CHECKSUM = 4, SEEN_BLOCK = 8,
	SEEN_WINDOW = 16, SEEN_FILTER = 32, SEEN_EXTEND = 64 };

/* A class body ("A-Za-z0-9_.-") as a bit set; a '-' first or last is
 * itself.  -1 when empty or not printable ASCII. */
static int
parse_class(const char *v, size_t n, unsigned char set[32])
{
	size_t i;

	memset(set, 0, 32);
	if (n == 0)
		return -1;
	for (i = 0; i < n; i++) {
		unsigned char a = (unsigned char)v[i], b = a, c;

		if (a <= ' ' || a > '~')
			return -1;
		if (i + 2 < n && v[i + 1] == '-') {
			b = (unsigned char)v[i + 2];
			if (b <= ' ' || b > '~' || b < a)
				return -1;
			i += 2;
		}
		for (c = a; c <= b; c++)
			set[c >> 3] |= (unsigned char)(1u << (c & 7));
	}
	return 0;
}

/*
 * 1 when position k of pattern p lies between two top-level atoms: outside
 * any class, group or escape, not in front of a quantifier, and p has no
 * top-level alternation.  \Q...\E and POSIX classes are not followed:
 * refused.
 */
static int
top_level_cut(const char *p, size_t k)
{
	size_t i = 0, depth = 0, w;
	int cls = 0;

	if (p[k] == '\0' || strchr("*+?{", p[k]) != NULL)
		return 0;
	for (; p[i] != '\0'; i += w) {
		w = 1;
		if (i == k && (cls || depth != 0))
			return 0; /* the cut is inside a class or a group */
		if (p[i] == '\\') {
			if (p[i + 1] == '\0' || p[i + 1] == 'Q')
				return 0;
			w = 2;
		} else if (cls) {
			if (p[i] == '[' && p[i + 1] == ':')
				return 0;
			if (p[i] == ']')
				cls = 0;
		} else if (p[i] == '[') {
			cls = 1;
			w += p[i + w] == '^';
			w += p[i + w] == ']'; /* a leading ']' is a member */
		} else if (p[i] == '(') {
			depth++;
		} else if (p[i] == ')') {
			if (depth == 0)
				return 0;
			depth--;
		} else if (p[i] == '|' && depth == 0) {
			return 0;
		}
		if (i < k && i + w > k)
			return 0; /* the cut splits an escape or a class opening */
	}
	return 1;
}

/*
 * A candidate is the pattern's beginning, cut between two top-level parts:
 * every match of the pattern then starts with a match of the candidate,
 * at the same byte and on the same line, which is all the candidate stage
 * needs.  (An end of the pattern would serve as well in principle; but
 * vectorscan 5.4.9 misses "@[^ ]"-like ends after 63 bytes, see
 * test-scan's engines_agree_at_every_offset.)
 */
static int
candidate_ok(const char *p, const char *c)
{
	size_t cn = strlen(c);

	return cn > 0 && cn < strlen(p) && strncmp(p, c, cn) == 0 && top_level_cut(p, cn);
}

/*
 * An anchor is plain text (no regex metacharacter) that the pattern holds
 * at its top level, unquantified: every match contains it, on the match's
 * line, so a line where the anchor ends is a candidate.
 */
static int
anchor_ok(const char *p, const char *a)
{
	size_t an = strlen(a), k;

	if (an == 0 || strpbrk(a, "\\^$.|?*+()[]{}") != NULL)
		return 0;
	for (k = 0; p[k] != '\0'; k++)
		if (strncmp(p + k, a, an) == 0 && top_level_cut(p, k) &&
		    (p[k + an] == '\0' || strchr("*+?{", p[k + an]) == NULL))
			return 1;
	return 0;
}

static int
set_key(rule *ru, unsigned *seen, const char *k, size_t kn, const char *v, size_t vn,
    size_t line, bg_error *e)
{
#define KEY(s) (kn == sizeof(s) - 1 && memcmp(k, s, kn) == 0)
#define ONCE(bit) do { \
		if (*seen & (bit)) \
			return bg_fail(e, BG_ERR_INVALID, "line %zu: '%.*s' given twice", line, \
			    (int)kn, k); \
		*seen |= (bit); \
	} while (0)
	long x;
	double d;

	if (KEY("provider"))
		return set_once(&ru->provider, v, vn, "provider", line, e);
	if (KEY("title"))
		return set_once(&ru->title, v, vn, "title", line, e);
	if (KEY("pattern"))
		return set_once(&ru->pattern, v, vn, "pattern", line, e);
	if (KEY("trigger"))
		return set_once(&ru->trigger, v, vn, "trigger", line, e);
	if (KEY("candidate"))
		return set_once(&ru->candidate, v, vn, "candidate", line, e);
	if (KEY("anchor"))
		return set_once(&ru->anchor, v, vn, "anchor", line, e);
	if (KEY("b64-contains"))
		return set_once(&ru->b64_contains, v, vn, "b64-contains", line, e);
	if (KEY("example"))
		return push_text(&ru->examples, &ru->nexamples, v, vn, line, e);
	if (KEY("not"))
		return push_text(&ru->nots, &ru->nnots, v, vn, line, e);
	if (KEY("allow"))
		return push_text(&ru->allow, &ru->nallow, v, vn, line, e);
	if (KEY("secret")) {
		ONCE(SEEN_SECRET);
		if ((x = parse_small(v, vn, 9)) < 0)
			return bg_fail(e, BG_ERR_INVALID, "line %zu: secret must be a group number 0-9", line);
		ru->secret = (unsigned)x;
		return 0;
	}
	if (KEY("entropy")) {
		ONCE(SEEN_ENTROPY);
		if ((d = parse_entropy(v, vn)) < 0)
			return bg_fail(e, BG_ERR_INVALID,
			    "line %zu: entropy must be bits per byte, 0 to 8 (e.g. 3.5)", line);
		ru->entropy = d;
		return 0;
	}
	if (KEY("window")) {
		ONCE(SEEN_WINDOW);
		if ((x = parse_small(v, vn, 65536)) < 1)
			return bg_fail(e, BG_ERR_INVALID, "line %zu: window must be 1-65536 bytes", line);
		ru->window = (size_t)x;
		return 0;
	}
	if (KEY("checksum")) {
		ONCE(SEEN_CHECKSUM);
		if (vn == 12 && memcmp(v, "crc32-base62", 12) == 0)
			ru->checksum = RULE_CK_CRC32_BASE62;
		else
			return bg_fail(e, BG_ERR_INVALID, "line %zu: unknown checksum (known: crc32-base62)", line);
		return 0;
	}
	if (KEY("block")) {
		ONCE(SEEN_BLOCK);
		if (vn == 3 && memcmp(v, "pem", 3) == 0)
			ru->block = RULE_BLOCK_PEM;
		else if (vn == 5 && memcmp(v, "putty", 5) == 0)
			ru->block = RULE_BLOCK_PUTTY;
		else
			return bg_fail(e, BG_ERR_INVALID, "line %zu: unknown block (known: pem, putty)", line);
		return 0;
	}
	if (KEY("extend-left")) {
		ONCE(SEEN_EXTEND);
		if (parse_class(v, vn, ru->extend_left) != 0)
			return bg_fail(e, BG_ERR_INVALID,
			    "line %zu: extend-left is characters and ranges (a-z) of printable ASCII", line);
		return 0;
	}
	if (KEY("filter")) {
		ONCE(SEEN_FILTER);
		if (vn == 7 && memcmp(v, "generic", 7) == 0)
			ru->filter = RULE_FILTER_GENERIC;
		else
			return bg_fail(e, BG_ERR_INVALID, "line %zu: unknown filter (known: generic)", line);
		return 0;
	}
	return bg_fail(e, BG_ERR_INVALID, "line %zu: unknown key '%.*s'", line,
	    (int)(kn > 40 ? 40 : kn), k);
#undef KEY
#undef ONCE
}

static int
finish_rule(const rule *ru, const char *name, bg_error *e)
{
	const char *missing = ru->pattern == NULL ? "pattern" : ru->title == NULL ? "title" :
	    ru->provider == NULL ? "provider" : ru->nexamples == 0 ? "example" :
	    ru->nnots == 0 ? "not" : NULL;

	if (missing != NULL)
		return bg_fail(e, BG_ERR_INVALID, "%s: line %zu: rule '%s' has no %s", name,
		    ru->line, ru->id, missing);
	if ((ru->candidate != NULL) + (ru->anchor != NULL) + (ru->trigger != NULL) > 1)
		return bg_fail(e, BG_ERR_INVALID,
		    "%s: line %zu: rule '%s': trigger, candidate and anchor exclude each other",
		    name, ru->line, ru->id);
	if (ru->anchor != NULL && !anchor_ok(ru->pattern, ru->anchor))
		return bg_fail(e, BG_ERR_INVALID,
		    "%s: line %zu: rule '%s': the anchor must be plain text the pattern holds at its top level",
		    name, ru->line, ru->id);
	if (ru->candidate != NULL && !candidate_ok(ru->pattern, ru->candidate))
		return bg_fail(e, BG_ERR_INVALID,
		    "%s: line %zu: rule '%s': the candidate must be the pattern's beginning, cut between two top-level parts",
		    name, ru->line, ru->id);
	if (ru->window != 4096 && ru->trigger == NULL)
		return bg_fail(e, BG_ERR_INVALID, "%s: line %zu: rule '%s' has a window but no trigger",
		    name, ru->line, ru->id);
	return 0;
}

static int
by_id(const void *a, const void *b)
{
	const rule *x = *(const rule *const *)a, *y = *(const rule *const *)b;
	int c = strcmp(x->id, y->id);

	return c != 0 ? c : x->line < y->line ? -1 : x->line > y->line;
}

/* Every id once: sorted, so that a large file costs n log n compares. */
static int
check_unique(const rule_set *rs, const char *name, bg_error *e)
{
	const rule **v = malloc(rs->n * sizeof(*v));
	size_t i;
	int r = 0;

	if (v == NULL)
		return bg_fail(e, BG_ERR_NOMEM, "out of memory");
	for (i = 0; i < rs->n; i++)
		v[i] = &rs->r[i];
	qsort(v, rs->n, sizeof(*v), by_id);
	for (i = 1; i < rs->n && r == 0; i++)
		if (strcmp(v[i - 1]->id, v[i]->id) == 0)
			r = bg_fail(e, BG_ERR_INVALID, "%s: line %zu: rule '%s' defined twice", name,
			    v[i]->line, v[i]->id);
	free(v);
	return r;
}

int
rules_parse(const char *text, size_t len, const char *name, rule_set *rs, bg_error *e)
{
	rule_set out = { NULL, 0 };
	rule *cur = NULL;
	unsigned seen = 0;
	size_t pos = 0, line = 0, bad;
	int r = 0;

	rs->r = NULL;
	rs->n = 0;
	if (text_check(text, len, 1, &bad) != 0) {
		size_t l, c;

		text_position(text, bad, &l, &c);
		return bg_fail(e, BG_ERR_INVALID, "%s: line %zu, column %zu: invalid UTF-8 or control character",
		    name, l, c);
	}
	while (pos < len && r == 0) {
		const char *s = text + pos, *nl = memchr(s, '\n', len - pos), *eq;
		size_t n = nl != NULL ? (size_t)(nl - s) : len - pos;

		pos += n + (nl != NULL);
		line++;
		if (n > RULES_LINE_MAX) {
			r = bg_fail(e, BG_ERR_TOOLARGE, "%s: line %zu: longer than %d bytes", name, line,
			    RULES_LINE_MAX);
			break;
		}
		if (n == 0 || s[0] == '#')
			continue;
		if (s[0] == '[') {
			rule *grown;

			if (cur != NULL && (r = finish_rule(cur, name, e)) != 0)
				break;
			if (n < 3 || s[n - 1] != ']' || !valid_id(s + 1, n - 2)) {
				r = bg_fail(e, BG_ERR_INVALID,
				    "%s: line %zu: a rule header is [id] with id of a-z, 0-9 and '-'", name, line);
				break;
			}
			if (out.n == RULES_MAX) {
				r = bg_fail(e, BG_ERR_TOOLARGE, "%s: line %zu: more than %d rules", name, line,
				    RULES_MAX);
				break;
			}
			if ((grown = realloc(out.r, (out.n + 1) * sizeof(*out.r))) == NULL) {
				r = bg_fail(e, BG_ERR_NOMEM, "out of memory");
				break;
			}
			out.r = grown;
			cur = &out.r[out.n++];
			memset(cur, 0, sizeof(*cur));
			cur->window = 4096;
			cur->line = line;
			seen = 0;
			if ((cur->id = dup_n(s + 1, n - 2)) == NULL) {
				r = bg_fail(e, BG_ERR_NOMEM, "out of memory");
				break;
			}
			continue;
		}
		eq = memchr(s, '=', n);
		if (cur == NULL || eq == NULL || eq == s || eq[-1] != ' ' || eq + 1 >= s + n ||
		    eq[1] != ' ' || eq + 2 >= s + n || eq[-2] == ' ' || eq[2] == ' ') {
			r = bg_fail(e, BG_ERR_INVALID, "%s: line %zu: expected 'key = value'%s", name, line,
			    cur == NULL ? " inside a [rule]" : "");
			break;
		}
		if ((r = set_key(cur, &seen, s, (size_t)(eq - 1 - s), eq + 2,
		    (size_t)(s + n - eq - 2), line, e)) != 0) {
			char m[sizeof(e->msg)];

			if (e != NULL) {
				snprintf(m, sizeof(m), "%.100s: %.400s", name, e->msg);
				bg_fail(e, r, "%s", m);
			}
			break;
		}
	}
	if (r == 0 && cur != NULL)
		r = finish_rule(cur, name, e);
	if (r == 0 && out.n == 0)
		r = bg_fail(e, BG_ERR_INVALID, "%s: no rules", name);
	if (r == 0)
		r = check_unique(&out, name, e);
	if (r != 0) {
		rules_release(&out);
		return r;
	}
	*rs = out;
	return 0;
}
