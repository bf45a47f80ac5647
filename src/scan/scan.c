/*
 * scan.c - the secret scanner: a fast candidate stage and an exact
 * confirmation stage, with the same answer whichever engine runs.
 *
 * Semantics.  A rule matches within one line: its pattern is run by PCRE2
 * on the bytes of a line (subject ends at the '\n', so '$' and '\b' see
 * the end of the line), global iteration from the line's start.  Each match
 * yields the secret (a capture group), which must then pass the rule's
 * checks: allow list, placeholders (${X}, <your-key>, changeme, xxxx,
 * EXAMPLE ...), entropy, checksum, base64 content, the generic "looks like
 * code" filter.  A rule with a trigger is only tried on the lines that
 * start within its window after a line where the trigger matches.  Private
 * key rules then extend the finding over the whole key block.
 *
 * Candidates.  Confirming every rule on every line would be slow, so a
 * candidate stage picks the lines worth confirming.  With Hyperscan, all
 * patterns (or triggers) run in one pass and a line is a candidate for a
 * rule when some match of that rule ends in it: every line with a
 * line-confined PCRE2 match has a Hyperscan match ending inside it (the
 * same regex, and Hyperscan reports all matches).  Without Hyperscan, each
 * rule runs over the whole buffer with PCRE2; after a match starting in
 * line k the search restarts at line k+1, so every line holding a
 * line-confined match is reached (the leftmost match from an earlier
 * position starts no later than it).  Either way the candidate set
 * contains every line that can yield a finding, and the confirmation stage
 * - identical code - decides.  tests/unit/test-scan-rules.c checks it.
 *
 * Findings are sorted by offset (longest first, then rule order); one
 * inside another is dropped, one that overlaps the previous is clipped so
 * that redaction still covers every byte of every secret.
 */
#include "scan.h"
#include "text.h"

#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#ifdef BG_HAVE_HS
#include <hs.h>
#else
#undef BG_HAVE_HS_COMPILE /* no compiler without the library */
#endif

#define HS_CHUNK (1u << 30) /* Hyperscan takes an unsigned int length */
#define BLOCK_REACH (64 * 1024)

typedef struct compiled {
	pcre2_code *code; /* set once, under the engine lock */
	int state;        /* 0 not yet, 1 ok, -1 failed */
} compiled;

struct scan_engine {
	rule_set rules;   /* see engine_rules */
	size_t nrules;
	int rules_state;  /* 1 parsed, 0 left for later, -1 unreadable */
	const char *text, *name; /* the rules file, to parse later */
	size_t len;
	int kind;
	compiled *pat;  /* per rule */
	compiled *trig; /* per rule (only those with a trigger) */
	pthread_mutex_t lock;
#ifdef BG_HAVE_HS
	hs_database_t *db;
	hs_scratch_t *proto;
#endif
};

typedef struct cand {
	unsigned id; /* rule, or nrules + rule for its trigger */
	size_t ls, le;
	size_t st; /* no match of the rule on the line starts before st */
} cand;

typedef struct last_cand {
	size_t le; /* end of the id's last candidate line, or SIZE_MAX */
	size_t ci; /* its index in c->c */
} last_cand;

struct scan_ctx {
	const scan_engine *eng;
	pcre2_match_data *md;
	cand *c;
	size_t nc, capc;
	last_cand *last;  /* per id: its last candidate line */
	size_t *done_upto; /* per rule: trigger windows scanned up to here */
	scan_hit *h;
	size_t nh, caph;
	const char *s;
	size_t n;
	int oom;
#ifdef BG_HAVE_HS
	hs_scratch_t *scratch;
	size_t base; /* offset of the chunk being scanned */
#endif
};

int
scan_have_hyperscan(void)
{
#ifdef BG_HAVE_HS
	return 1;
#else
	return 0;
#endif
}

/* The per-rule compiled-pattern slots (filled at first use); 0 or -1. */
static int
alloc_slots(scan_engine *eng)
{
	eng->pat = calloc(eng->nrules, sizeof(*eng->pat));
	eng->trig = calloc(eng->nrules, sizeof(*eng->trig));
	return eng->pat != NULL && eng->trig != NULL ? 0 : -1;
}

/*
 * The rules.  With the built-in database they are parsed only when the
 * first candidate needs confirming: vectorscan needs none of them, and
 * most text (a gate request, a ticket field) has no candidate at all.
 * NULL when they cannot be parsed (callers fail closed).
 */
static const rule_set *
engine_rules(const scan_engine *ceng)
{
	scan_engine *eng = (scan_engine *)ceng; /* the lock and the cache only */
	int st = __atomic_load_n(&eng->rules_state, __ATOMIC_ACQUIRE);

	if (st != 0)
		return st > 0 ? &eng->rules : NULL;
	pthread_mutex_lock(&eng->lock);
	if (eng->rules_state == 0) {
		int ok = rules_parse(eng->text, eng->len, eng->name, &eng->rules, NULL) == 0 &&
		    eng->rules.n == eng->nrules && alloc_slots(eng) == 0;

		if (!ok) {
			rules_release(&eng->rules);
			free(eng->pat);
			free(eng->trig);
			eng->pat = eng->trig = NULL;
		}
		__atomic_store_n(&eng->rules_state, ok ? 1 : -1, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&eng->lock);
	return eng->rules_state > 0 ? &eng->rules : NULL;
}

const rule_set *
scan_engine_rules(const scan_engine *eng)
{
	static const rule_set none = { NULL, 0 };
	const rule_set *rs = engine_rules(eng);

	return rs != NULL ? rs : &none;
}

const char *
scan_engine_name(const scan_engine *eng)
{
	return eng->kind == SCAN_ENGINE_HYPERSCAN ? "vectorscan" : "pcre2";
}

/* ---- PCRE2 patterns, compiled once at first use ---- */

static pcre2_code *
compile_one(const char *pattern, char *err, size_t errn)
{
	int ec;
	PCRE2_SIZE eo;
	pcre2_code *code = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
	    PCRE2_MULTILINE, &ec, &eo, NULL);

	if (code == NULL) {
		PCRE2_UCHAR m[120];

		pcre2_get_error_message(ec, m, sizeof(m));
		snprintf(err, errn, "offset %zu: %s", (size_t)eo, (const char *)m);
		return NULL;
	}
	(void)pcre2_jit_compile(code, PCRE2_JIT_COMPLETE); /* interpreter if no JIT */
	return code;
}

static pcre2_code *
get_code(const scan_engine *ceng, compiled *slot, const char *pattern)
{
	scan_engine *eng = (scan_engine *)ceng; /* the lock and the cache only */
	int st = __atomic_load_n(&slot->state, __ATOMIC_ACQUIRE);
	char err[160];

	if (st != 0)
		return st > 0 ? slot->code : NULL;
	pthread_mutex_lock(&eng->lock);
	if (slot->state == 0) {
		slot->code = compile_one(pattern, err, sizeof(err));
		__atomic_store_n(&slot->state, slot->code != NULL ? 1 : -1, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&eng->lock);
	return slot->state > 0 ? slot->code : NULL;
}

/* ---- checks on the secret part ---- */

/* H = log2(n) - (1/n) sum c log2 c, over the byte counts c. */
double
scan_entropy(const char *s, size_t n)
{
	unsigned cnt[256] = { 0 };
	double sum = 0;
	size_t i;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++)
		cnt[(unsigned char)s[i]]++;
	for (i = 0; i < 256; i++)
		if (cnt[i] > 1)
			sum += cnt[i] * log2((double)cnt[i]);
	return log2((double)n) - sum / (double)n;
}

static int
is_ident_start(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static int
is_ident(unsigned char c)
{
	return is_ident_start(c) || (c >= '0' && c <= '9');
}

/* Values that stand for a secret rather than being one. */
static int
placeholder(const char *v, size_t n)
{
#define W(w) { w, sizeof(w) - 1 }
	static const struct { const char *s; size_t n; } whole[] = {
		W("password"), W("passwd"), W("secret"), W("token"), W("none"), W("null"),
		W("nil"), W("empty"), W("todo"), W("tbd"), W("hidden"), W("masked"), W("notset"),
		W("not-set"), W("undefined"), W("test"), W("testing"), W("admin"), W("pass"),
		W("123456"), W("12345678"), W("123456789"), W("letmein"), W("qwerty"),
		W("default"), W("required"), W("optional"), W("string")
	};
#undef W
	static const char *const parts[] = {
		"example", "xxxx", "changeme", "change_me", "change-me", "placeholder",
		"redacted", "your_", "your-", "yourpass", "yourtoken", "yourkey", "dummy",
		"sample", "...", "****", "<", "${", "{{", "%(", "$(", "123456789", "abcdefgh",
		NULL
	};
	unsigned cnt[256] = { 0 };
	char low[256];
	size_t i, max = 0, ln = n < sizeof(low) ? n : sizeof(low);

	if (n == 0)
		return 1;
	if (v[0] == '$') {
		/* $VAR, ${VAR}, $(cmd) stand for a value; $2b$..., $6$..., $y$...
		 * are password hashes */
		for (i = 1; i < n && is_ident((unsigned char)v[i]); i++)
			;
		if (i == 1 || i == n || v[i] != '$')
			return 1;
	} else if (v[0] != '\0' && strchr("<{%[*#@", v[0]) != NULL)
		return 1;
	for (i = 0; i < sizeof(whole) / sizeof(whole[0]); i++)
		if (whole[i].n == n && strncasecmp(whole[i].s, v, n) == 0)
			return 1;
	/* one pass: counts, and a lower-case copy of the first 256 bytes */
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];

		if (++cnt[c] > max)
			max = cnt[c];
		if (i < ln)
			low[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
	}
	for (i = 0; parts[i] != NULL; i++) {
		unsigned char f = (unsigned char)parts[i][0];

		/* only look for a part whose first byte occurs at all */
		if ((cnt[f] != 0 || (f >= 'a' && f <= 'z' && cnt[f - 32] != 0)) &&
		    memmem(low, ln, parts[i], strlen(parts[i])) != NULL)
			return 1;
	}
	return n >= 4 && max * 2 >= n; /* "aaaaaaa1", "00000000" */
}

static int
is_uuid(const char *v, size_t n)
{
	size_t i;

	if (n != 36)
		return 0;
	for (i = 0; i < n; i++) {
		int dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? v[i] != '-' : (v[i] == '\0' || !strchr("0123456789abcdefABCDEF", v[i])))
			return 0;
	}
	return 1;
}

/* The "generic" filter: values that are code, references, paths or ids.
 * One pass over the value collects what each test needs. */
static int
looks_like_code(const char *v, size_t n)
{
	static const char *const ext[] = { ".pem", ".key", ".crt", ".json", ".txt", ".yaml",
		".yml", ".env", ".p12", ".pfx", ".jks", NULL };
	size_t i, upper = 0, digits = 0, dots = 0, last_dot = SIZE_MAX;
	int ident = 1, upper_snake = 1, all_digits = 1, seg_start = 1, underscore = 0;
	int lower_words = 1, sep = 0;

	if (n == 0)
		return 1;
	if (v[0] == '/' || v[0] == '~' || (n > 1 && v[0] == '.' && v[1] == '/'))
		return 1; /* a path */
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];
		int is_upper = c >= 'A' && c <= 'Z', is_digit = c >= '0' && c <= '9';

		switch (c) {
		case '(': case ')': case '[': case ']': case '{': case '}':
			return 1; /* a call, an index, a template */
		case ':':
			if (i + 2 < n && v[i + 1] == '/' && v[i + 2] == '/')
				return 1; /* a URL */
			break;
		case '-':
			if (i + 1 < n && v[i + 1] == '>')
				return 1; /* ptr->field */
			break;
		default:
			break;
		}
		if (!is_digit)
			all_digits = 0;
		if (!(is_upper || is_digit || c == '_'))
			upper_snake = 0;
		underscore |= c == '_';
		upper += (size_t)is_upper;
		digits += (size_t)is_digit;
		if (lower_words) {
			if (c == '-' || c == '_' || c == '.')
				sep = 1;
			else if (c < 'a' || c > 'z')
				lower_words = 0;
		}
		if (c == '.') {
			if (seg_start)
				ident = 0;
			dots++;
			last_dot = i;
			seg_start = 1;
			continue;
		}
		if (seg_start ? !is_ident_start(c) : !is_ident(c))
			ident = 0;
		seg_start = 0;
	}
	if (seg_start)
		ident = 0; /* ends with '.' */
	if (is_uuid(v, n))
		return 1;
	if (last_dot != SIZE_MAX && n - last_dot <= 5 && last_dot > 0)
		for (i = 0; ext[i] != NULL; i++)
			if (strlen(ext[i]) == n - last_dot &&
			    strncasecmp(v + last_dot, ext[i], n - last_dot) == 0)
				return 1; /* a file name */
	if (all_digits)
		return 1;
	if (lower_words && sep)
		return 1; /* quoted-string, token_type: words */
	if (upper_snake && underscore)
		return 1; /* MY_TOKEN_VAR: a reference */
	if (ident && dots > 0)
		return 1; /* self.token, process.env.KEY */
	if (ident && (upper + digits) * 10 < n * 4)
		return 1; /* kApiInt32Size, getPassword: words, not randomness */
	return 0;
}

static const char B62[] =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

static uint32_t
crc32_ieee(const char *s, size_t n)
{
	uint32_t c = 0xffffffffu;
	size_t i;
	int k;

	for (i = 0; i < n; i++) {
		c ^= (unsigned char)s[i];
		for (k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
	}
	return ~c;
}

/* GitHub/npm tokens: prefix_ + body, last 6 of body = base62(crc32(rest)). */
static int
checksum_ok(const char *v, size_t n)
{
	const char *us = memchr(v, '_', n);
	const char *body;
	size_t bn, i;
	uint64_t x = 0;

	if (us == NULL)
		return 0;
	body = us + 1;
	bn = n - (size_t)(body - v);
	if (bn < 7)
		return 0;
	for (i = bn - 6; i < bn; i++) {
		const char *p = memchr(B62, body[i], 62);

		if (p == NULL)
			return 0;
		x = x * 62 + (uint64_t)(p - B62);
	}
	return x == crc32_ieee(body, bn - 6);
}

static int
b64_contains(const char *v, size_t n, const char *needle)
{
	unsigned char out[BLOCK_REACH];
	size_t o = 0, i, l = strlen(needle);
	uint32_t acc = 0;
	int bits = 0;

	for (i = 0; i < n && o < sizeof(out); i++) {
		const char *p;
		int d;

		if (v[i] == '=')
			break;
		if (v[i] == '-' || v[i] == '_')
			d = v[i] == '-' ? 62 : 63;
		else if ((p = strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
		    v[i])) != NULL && v[i] != '\0')
			d = (int)(p - "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/");
		else
			return 0;
		acc = (acc << 6) | (uint32_t)d;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
		}
	}
	for (i = 0; i + l <= o; i++)
		if (memcmp(out + i, needle, l) == 0)
			return 1;
	return 0;
}

static int
key_line(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > 200)
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '+' || c == '/' || c == '=' || c == ':' || c == ' ' || c == ',' || c == '-' ||
		    c == '\r'))
			return 0;
	}
	return 1;
}

static const char *
find_lit(const char *s, size_t n, const char *lit)
{
	return memmem(s, n, lit, strlen(lit));
}

/* Extend a key-block finding that starts at off and whose header ends at end. */
static size_t
block_end(const char *s, size_t n, size_t end, int kind)
{
	size_t lim = n - end > BLOCK_REACH ? end + BLOCK_REACH : n, p, lines = 0;
	const char *q;

	if (kind == RULE_BLOCK_PEM && (q = find_lit(s + end, lim - end, "-----END ")) != NULL) {
		const char *t = find_lit(q + 9, (size_t)(s + lim - q - 9) > 200 ? 200 :
		    (size_t)(s + lim - q - 9), "-----");

		if (t != NULL)
			return (size_t)(t + 5 - s);
	}
	if (kind == RULE_BLOCK_PUTTY && (q = find_lit(s + end, lim - end, "Private-MAC: ")) != NULL) {
		const char *nl = memchr(q, '\n', (size_t)(s + lim - q));

		return nl != NULL ? (size_t)(nl - s) : lim;
	}
	/* no end marker: take the key-looking lines that follow */
	p = end;
	if (p < n && s[p] != '\n') {
		const char *nl = memchr(s + p, '\n', lim - p);

		p = nl != NULL ? (size_t)(nl - s) : lim;
	}
	while (p < lim && s[p] == '\n' && lines < 400) {
		const char *nl = memchr(s + p + 1, '\n', lim - p - 1);
		size_t le = nl != NULL ? (size_t)(nl - s) : lim;

		if (!key_line(s + p + 1, le - p - 1))
			break;
		p = le;
		lines++;
	}
	return p;
}

/* A key block holds key material: at least 16 base64 characters. */
static int
block_has_body(const char *s, size_t n)
{
	const char *end = memmem(s, n, "-----END", 8);
	size_t i, k = 0;

	if (end != NULL)
		n = (size_t)(end - s);
	for (i = 0; i < n && k < 16; i++) {
		char c = s[i];

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '+' || c == '/')
			k++;
	}
	return k >= 16;
}

/* ---- confirmation ---- */

static int
add_hit(scan_ctx *c, unsigned ri, size_t off, size_t len, size_t moff, size_t mlen)
{
	if (c->nh == c->caph) {
		size_t cap = c->caph ? c->caph * 2 : 64;
		scan_hit *h = realloc(c->h, cap * sizeof(*h));

		if (h == NULL) {
			c->oom = 1;
			return -1;
		}
		c->h = h;
		c->caph = cap;
	}
	c->h[c->nh].rule = ri;
	c->h[c->nh].off = off;
	c->h[c->nh].len = len;
	c->h[c->nh].moff = moff;
	c->h[c->nh].mlen = mlen;
	c->nh++;
	return 0;
}

static int
secret_ok(const rule *ru, const char *v, size_t n)
{
	size_t i;

	for (i = 0; i < ru->nallow; i++)
		if (ru->allow[i].len == n && memcmp(ru->allow[i].s, v, n) == 0)
			return 0;
	/* cheapest first: most candidates of the generic rules are code */
	if (ru->filter == RULE_FILTER_GENERIC && looks_like_code(v, n))
		return 0;
	if (ru->checksum == RULE_CK_CRC32_BASE62 && !checksum_ok(v, n))
		return 0;
	if (placeholder(v, n))
		return 0;
	if (ru->entropy > 0 && scan_entropy(v, n) < ru->entropy)
		return 0;
	if (ru->b64_contains != NULL && !b64_contains(v, n, ru->b64_contains))
		return 0;
	return 1;
}

static int
in_set(const unsigned char set[32], unsigned char ch)
{
	return set[ch >> 3] >> (ch & 7) & 1;
}

/*
 * Run rule ri over line [ls, le); add each confirmed secret.  No match
 * starts before st (>= ls): the search starts there, but a match still
 * extends left (extend-left) as far as the search would have begun.
 */
static void
confirm(scan_ctx *c, unsigned ri, size_t ls, size_t le, size_t st)
{
	const rule *ru = &c->eng->rules.r[ri];
	pcre2_code *code = get_code(c->eng, &c->eng->pat[ri], ru->pattern);
	size_t pos = ls, from = st > ls ? st : ls;

	if (le > ls && c->s[le - 1] == '\r')
		le--; /* CRLF: the line ends before the CR */
	if (code == NULL) {
		/* cannot evaluate: fail closed, the whole line is the finding */
		if (le > ls)
			add_hit(c, ri, ls, le - ls, ls, le - ls);
		return;
	}
	while (pos <= le) {
		int rc = from <= le ? pcre2_match(code, (PCRE2_SPTR)c->s, le, from, 0, c->md, NULL) :
		    PCRE2_ERROR_NOMATCH;
		PCRE2_SIZE *ov;
		size_t a, b, sa, sb, next;

		if (rc == PCRE2_ERROR_NOMATCH)
			return;
		if (rc < 0) {
			/* match or depth limit: fail closed on the rest of the line */
			if (le > pos)
				add_hit(c, ri, pos, le - pos, pos, le - pos);
			return;
		}
		ov = pcre2_get_ovector_pointer(c->md);
		a = ov[0];
		b = ov[1];
		next = b > a ? b : b + 1;
		/* the rest of a key name the pattern starts inside, for display */
		while (a > pos && in_set(ru->extend_left, (unsigned char)c->s[a - 1]))
			a--;
		if ((unsigned)rc > ru->secret && ov[2 * ru->secret] != PCRE2_UNSET) {
			sa = ov[2 * ru->secret];
			sb = ov[2 * ru->secret + 1];
			if (sb > sa && secret_ok(ru, c->s + sa, sb - sa)) {
				if (ru->block != RULE_BLOCK_NONE) {
					size_t hdr = sb;

					sb = block_end(c->s, c->n, sb, ru->block);
					if (!block_has_body(c->s + hdr, sb - hdr)) {
						/* a marker in code or prose, not a key */
						pos = from = next;
						continue;
					}
				}
				if (add_hit(c, ri, sa, sb - sa, a, (sb > b ? sb : b) - a) != 0)
					return;
			}
		}
		pos = from = next;
	}
}

/* The trigger of rule ri matched somewhere on [ls, le)? */
static int
trigger_on(scan_ctx *c, unsigned ri, size_t ls, size_t le)
{
	const rule *ru = &c->eng->rules.r[ri];
	pcre2_code *code = get_code(c->eng, &c->eng->trig[ri], ru->trigger);
	int rc;

	if (code == NULL)
		return 1; /* fail closed: try the rule */
	rc = pcre2_match(code, (PCRE2_SPTR)c->s, le, ls, 0, c->md, NULL);
	return rc >= 0 || rc != PCRE2_ERROR_NOMATCH;
}

static size_t
line_end(const char *s, size_t n, size_t p)
{
	const char *nl = memchr(s + p, '\n', n - p);

	return nl != NULL ? (size_t)(nl - s) : n;
}

/* Line containing p, where a '\n' belongs to the line it ends. */
static void
line_of(const char *s, size_t n, size_t p, size_t *ls, size_t *le)
{
	const char *nl = p > 0 ? memrchr(s, '\n', p) : NULL;

	*ls = nl != NULL ? (size_t)(nl - s) + 1 : 0;
	*le = p < n && s[p] == '\n' ? p : line_end(s, n, p);
}

static void
process(scan_ctx *c, const cand *k)
{
	const rule_set *rs = &c->eng->rules;
	unsigned ri;
	size_t p, lim;

	if (k->id < rs->n) {
		confirm(c, k->id, k->ls, k->le, k->st);
		return;
	}
	ri = k->id - (unsigned)rs->n;
	if (!trigger_on(c, ri, k->ls, k->le))
		return;
	lim = c->n - k->ls > rs->r[ri].window ? k->ls + rs->r[ri].window : c->n;
	p = k->ls > c->done_upto[ri] ? k->ls : c->done_upto[ri];
	if (p >= lim)
		return;
	/* the window: the lines that start before lim */
	for (;;) {
		size_t le = line_end(c->s, c->n, p);

		confirm(c, ri, p, le, p);
		p = le + 1;
		if (le >= c->n || p >= lim)
			break;
	}
	c->done_upto[ri] = p;
}

static int
add_cand(scan_ctx *c, unsigned id, size_t ls, size_t le, size_t st)
{
	if (c->nc == c->capc) {
		size_t cap = c->capc ? c->capc * 2 : 256;
		cand *k = realloc(c->c, cap * sizeof(*k));

		if (k == NULL) {
			c->oom = 1;
			return -1;
		}
		c->c = k;
		c->capc = cap;
	}
	c->c[c->nc].id = id;
	c->c[c->nc].ls = ls;
	c->c[c->nc].le = le;
	c->c[c->nc].st = st;
	c->nc++;
	return 0;
}

/* ---- candidate stage: Hyperscan ---- */

#ifdef BG_HAVE_HS
static int
on_match(unsigned int id, unsigned long long from, unsigned long long to, unsigned int flags,
    void *ctx)
{
	scan_ctx *c = ctx;
	size_t end = c->base + (size_t)to, start, ls, le;

	(void)flags;
	if (end == 0)
		return 0;
	/* with HS_FLAG_SOM_LEFTMOST (rules with a candidate) from is where
	 * the leftmost match ending here starts; otherwise 0.  Anything
	 * else (HS_OFFSET_PAST_HORIZON, not expected in block mode) means
	 * "unknown": the line start */
	start = from <= to ? c->base + (size_t)from : 0;
	if (c->last[id].le != SIZE_MAX && end - 1 <= c->last[id].le) {
		/* this line is already a candidate */
		cand *k = &c->c[c->last[id].ci];

		if (start < k->st)
			k->st = start > k->ls ? start : k->ls;
		return 0;
	}
	line_of(c->s, c->n, end - 1, &ls, &le);
	c->last[id].le = le;
	c->last[id].ci = c->nc;
	return add_cand(c, id, ls, le, start > ls ? start : ls) != 0; /* nonzero stops the scan */
}

static int
candidates_hs(scan_ctx *c, bg_error *e)
{
	size_t at = 0;

	while (at < c->n) {
		size_t len = c->n - at;
		hs_error_t he;

		if (len > HS_CHUNK) {
			/* cut after a newline so no line spans two chunks */
			const char *nl = memrchr(c->s + at, '\n', HS_CHUNK);

			len = nl != NULL ? (size_t)(nl - (c->s + at)) + 1 : HS_CHUNK;
		}
		c->base = at;
		he = hs_scan(c->eng->db, c->s + at, (unsigned)len, 0, c->scratch, on_match, c);
		if (c->oom)
			return bg_fail(e, BG_ERR_NOMEM, "out of memory");
		if (he != HS_SUCCESS)
			return bg_fail(e, BG_ERR_IO, "vectorscan: scan failed (%d)", (int)he);
		at += len;
	}
	return 0;
}
#endif

/* ---- candidate stage: PCRE2 ---- */

static int
candidates_pcre2(scan_ctx *c, unsigned id, const char *pattern, compiled *slot)
{
	pcre2_code *code = get_code(c->eng, slot, pattern);
	size_t pos = 0, ls, le;

	if (code == NULL) {
		/* every line is a candidate; confirm() fails closed on each */
		while (pos < c->n || (pos == 0 && c->n == 0)) {
			le = line_end(c->s, c->n, pos);
			if (add_cand(c, id, pos, le, pos) != 0)
				return -1;
			pos = le + 1;
			if (le >= c->n)
				break;
		}
		return 0;
	}
	while (pos <= c->n) {
		int rc = pcre2_match(code, (PCRE2_SPTR)c->s, c->n, pos, 0, c->md, NULL);
		size_t a;

		if (rc == PCRE2_ERROR_NOMATCH)
			break;
		if (rc < 0) {
			/* limit hit: this line is a candidate, go on after it */
			a = pos;
		} else {
			a = pcre2_get_ovector_pointer(c->md)[0];
		}
		line_of(c->s, c->n, a, &ls, &le);
		if (add_cand(c, id, ls, le, ls) != 0)
			return -1;
		if (le >= c->n)
			break;
		pos = le + 1;
	}
	return 0;
}

static int
cand_cmp(const void *x, const void *y)
{
	const cand *a = x, *b = y;

	if (a->ls != b->ls)
		return a->ls < b->ls ? -1 : 1;
	return a->id < b->id ? -1 : a->id > b->id;
}

/*
 * Vectorscan reports in the order matches end, so its candidates come
 * sorted by line, out of order only among the rules of one line: an
 * insertion sort finishes in about one pass.  The PCRE2 stage lists them
 * rule by rule; past a budget of moves the rest is left to qsort.
 */
static void
sort_cands(cand *c, size_t n)
{
	size_t i, j, moves = 0;

	for (i = 1; i < n; i++) {
		cand x = c[i];

		for (j = i; j > 0 && cand_cmp(&x, &c[j - 1]) < 0; j--) {
			c[j] = c[j - 1];
			if (++moves > 4 * n) {
				c[j - 1] = x;
				qsort(c, n, sizeof(*c), cand_cmp);
				return;
			}
		}
		c[j] = x;
	}
}

static int
hit_cmp(const void *x, const void *y)
{
	const scan_hit *a = x, *b = y;

	if (a->off != b->off)
		return a->off < b->off ? -1 : 1;
	if (a->len != b->len)
		return a->len > b->len ? -1 : 1;
	return a->rule < b->rule ? -1 : a->rule > b->rule;
}

int
scan_ctx_run(scan_ctx *c, const char *s, size_t n, const scan_hit **hits, size_t *nhits,
    bg_error *e)
{
	const rule_set *rs = &c->eng->rules; /* read only once parsed, below */
	size_t i, k, end = 0, nr = c->eng->nrules;
	int r = 0;

	*hits = NULL;
	*nhits = 0;
	c->s = s;
	c->n = n;
	c->nc = c->nh = 0;
	c->oom = 0;
	for (i = 0; i < 2 * nr; i++)
		c->last[i].le = SIZE_MAX;
	memset(c->done_upto, 0, nr * sizeof(*c->done_upto));
	if (n == 0)
		return 0;
#ifdef BG_HAVE_HS
	if (c->eng->kind == SCAN_ENGINE_HYPERSCAN) {
		if ((r = candidates_hs(c, e)) != 0)
			return r;
	} else
#endif
	{
		for (i = 0; i < rs->n; i++) {
			const rule *ru = &rs->r[i];

			if (ru->trigger != NULL)
				r = candidates_pcre2(c, (unsigned)(rs->n + i), ru->trigger, &c->eng->trig[i]);
			else
				r = candidates_pcre2(c, (unsigned)i, ru->pattern, &c->eng->pat[i]);
			if (r != 0)
				return bg_fail(e, BG_ERR_NOMEM, "out of memory");
		}
	}
	if (c->nc > 0 && engine_rules(c->eng) == NULL)
		return bg_fail(e, BG_ERR_INVALID, "the secret scanner's rules cannot be read");
	/* one processing order for both engines: by line (trigger windows
	 * depend on it), then rule */
	sort_cands(c->c, c->nc);
	for (i = 0; i < c->nc && !c->oom; i++)
		process(c, &c->c[i]);
	if (c->oom)
		return bg_fail(e, BG_ERR_NOMEM, "out of memory");
	if (c->nh > 1)
		qsort(c->h, c->nh, sizeof(*c->h), hit_cmp);
	/* overlapping findings become one: the union of their ranges, named
	 * by the most specific rule (the first in the rules file) */
	for (i = 0, k = 0; i < c->nh; i++) {
		scan_hit h = c->h[i];

		if (k > 0 && h.off < end) {
			scan_hit *p = &c->h[k - 1];

			if (h.rule < p->rule) {
				p->rule = h.rule;
				p->moff = h.moff;
				p->mlen = h.mlen;
			}
			if (h.off + h.len > end)
				end = h.off + h.len;
			p->len = end - p->off;
			continue;
		}
		c->h[k++] = h;
		end = h.off + h.len;
	}
	c->nh = k;
	*hits = c->h;
	*nhits = c->nh;
	return 0;
}

/* ---- engines and contexts ---- */

#ifdef BG_HAVE_HS_COMPILE
/*
 * Hyperscan reports every end of every match: a pattern ending in
 * [^ ]{7,255} reports up to 249 ends per secret, each a call back.  For
 * the candidate stage a pattern can lose what it may end with beyond its
 * minimum - X{m,n} becomes X{m}, X+ becomes X, X* X? \b $ go - because a
 * line-confined match of the whole pattern has a prefix that matches the
 * trimmed one and ends in the same line.  Trimming descends into a final
 * group without alternatives.  The candidate set stays a superset, so the
 * findings do not change; only the number of call-backs (and the state
 * Hyperscan keeps) does.
 */
static size_t
atom_end(const char *p, size_t i, size_t n)
{
	if (p[i] == '\\')
		return i + 2 <= n ? i + 2 : n;
	if (p[i] == '[') {
		size_t j = i + 1;

		if (j < n && p[j] == '^')
			j++;
		if (j < n && p[j] == ']')
			j++;
		for (; j < n && p[j] != ']'; j++)
			if (p[j] == '\\')
				j++;
		return j < n ? j + 1 : n;
	}
	if (p[i] == '(') {
		int depth = 0;
		size_t j;

		for (j = i; j < n; j++) {
			if (p[j] == '\\') {
				j++;
				continue;
			}
			if (p[j] == '[') {
				j = atom_end(p, j, n) - 1;
				continue;
			}
			if (p[j] == '(')
				depth++;
			else if (p[j] == ')' && --depth == 0)
				return j + 1;
		}
		return n;
	}
	return i + 1;
}

/* Write "{m,}" at out; returns its length (at most 4 for m <= 8). */
static int
put_min_repeat(char *out, unsigned long m)
{
	out[0] = '{';
	out[1] = (char)('0' + m);
	out[2] = ',';
	out[3] = '}';
	return 4;
}

/* Trim p[lo..hi) in place (see above); returns the new hi. */
static size_t
trim_tail(char *p, size_t lo, size_t hi)
{
	for (;;) {
		size_t i = lo, last = hi, qs = hi, j;
		int alt = 0;

		/* the last atom and its quantifier, at this level */
		while (i < hi) {
			size_t e = atom_end(p, i, hi);

			if (p[i] == '|')
				alt = 1;
			last = i;
			qs = e;
			i = e;
			if (i < hi && (p[i] == '*' || p[i] == '+' || p[i] == '?' || p[i] == '{')) {
				if (p[i] == '{') {
					const char *c = memchr(p + i, '}', hi - i);

					i = c != NULL ? (size_t)(c - p) + 1 : hi;
				} else {
					i++;
				}
				if (i < hi && (p[i] == '?' || p[i] == '+'))
					i++; /* lazy or possessive */
			}
		}
		if (alt || last == hi)
			return hi;
		if (qs == hi) {
			/* no quantifier: a zero-width end goes, a group is entered */
			if ((p[last] == '\\' && last + 1 < hi && p[last + 1] == 'b') || p[last] == '$') {
				hi = last;
				continue;
			}
			if (p[last] == '(' && p[hi - 1] == ')') {
				size_t in = last + 1;

				if (in < hi && p[in] == '?') {
					/* (?:...) (?i:...): skip to the ':' ; other (?...) stay */
					while (in < hi && p[in] != ':' && p[in] != ')')
						in++;
					if (in >= hi || p[in] != ':')
						return hi;
					in++;
				}
				for (j = in; j < hi - 1; j = atom_end(p, j, hi - 1))
					if (p[j] == '|')
						return hi;
				{
					size_t ni = trim_tail(p, in, hi - 1);

					if (ni == hi - 1)
						return hi;
					p[ni] = ')';
					memmove(p + ni + 1, p + hi, strlen(p + hi) + 1);
					return ni + 1;
				}
			}
			return hi;
		}
		if (p[qs] == '*' || p[qs] == '?' || (p[qs] == '{' && p[qs + 1] == '0')) {
			/* optional: drop atom and quantifier */
			memmove(p + last, p + hi, strlen(p + hi) + 1);
			hi = last;
			continue;
		}
		if (p[qs] == '+') {
			memmove(p + qs, p + hi, strlen(p + hi) + 1);
			return qs;
		}
		if (p[qs] == '{') {
			/* {m,n} / {m,} -> {m} */
			const char *comma = memchr(p + qs, ',', hi - qs);

			if (comma != NULL) {
				size_t c = (size_t)(comma - p);

				p[c] = '}';
				memmove(p + c + 1, p + hi, strlen(p + hi) + 1);
				return c + 1;
			}
			return hi;
		}
		return hi;
	}
}

char *bg_test_hs_trimmed(const char *pattern);

/* exposed for a test tool; not part of the interface */
/*
 * The same holds at the start: a pattern may lose what it may begin with
 * beyond its minimum (a suffix of the match ends where the match ends):
 * X* X? X{0,n} \b ^ go, X{m,n} becomes X{m}, X+ becomes X.  Only atoms at
 * the top level, after a leading (?i).
 */
static void
trim_head(char *p)
{
	size_t lo = strncmp(p, "(?i)", 4) == 0 ? 4 : 0, n, e, q;

	for (;;) {
		n = strlen(p);
		if (lo >= n)
			return;
		if (p[lo] == '^' || (p[lo] == '\\' && p[lo + 1] == 'b')) {
			size_t w = p[lo] == '^' ? 1 : 2;

			memmove(p + lo, p + lo + w, n - lo - w + 1);
			continue;
		}
		if (p[lo] == '(' || p[lo] == '|' || p[lo] == ')')
			return;
		e = atom_end(p, lo, n);
		if (e >= n)
			return;
		q = e;
		if (p[e] == '{') {
			const char *c = memchr(p + e, '}', n - e);

			if (c == NULL)
				return;
			q = (size_t)(c - p) + 1;
		} else if (p[e] == '*' || p[e] == '+' || p[e] == '?') {
			q = e + 1;
		} else {
			return;
		}
		if (q < n && (p[q] == '?' || p[q] == '+'))
			return; /* lazy/possessive: leave it */
		if (p[e] == '*' || p[e] == '?' || (p[e] == '{' && p[e + 1] == '0')) {
			memmove(p + lo, p + q, n - q + 1);
			continue;
		}
		if (p[e] == '+') {
			memmove(p + e, p + q, n - q + 1);
			return;
		}
		{
			/* {m,n} / {m,} -> {m} */
			const char *comma = memchr(p + e, ',', q - e);

			if (comma != NULL) {
				size_t c = (size_t)(comma - p);

				memmove(p + c, p + q - 1, n - (q - 1) + 1);
			}
			return;
		}
	}
}

/*
 * Large counted repeats cost Hyperscan counters; X{m,n} matches a subset
 * of what X{k,} matches for any k <= m, and unbounded repeats are cheap.
 * So every {m,n} with a range wider than 8 becomes {min(m,8),}, and an
 * exact X{m} with m >= 10 becomes X{8,} (never longer).  Writes
 * the relaxed pattern to out (at least as large as p).
 */
static void
relax_repeats(const char *p, char *out)
{
	size_t i = 0, o = 0, n = strlen(p);

	while (i < n) {
		if (p[i] == '\\' && i + 1 < n) {
			out[o++] = p[i++];
			out[o++] = p[i++];
			continue;
		}
		if (p[i] == '[') {
			size_t e = atom_end(p, i, n);

			memcpy(out + o, p + i, e - i);
			o += e - i;
			i = e;
			continue;
		}
		if (p[i] == '{') {
			const char *close = memchr(p + i, '}', n - i);
			unsigned long m = 0, x = 0;
			int hasmax = 0, ok = close != NULL;
			size_t j = i + 1;

			for (; ok && j < (size_t)(close - p) && p[j] >= '0' && p[j] <= '9'; j++)
				m = m * 10 + (unsigned long)(p[j] - '0');
			if (ok && j < (size_t)(close - p) && p[j] == ',') {
				for (j++; j < (size_t)(close - p) && p[j] >= '0' && p[j] <= '9'; j++) {
					x = x * 10 + (unsigned long)(p[j] - '0');
					hasmax = 1;
				}
				if (j == (size_t)(close - p) && (!hasmax || x > m + 8 || m > 8)) {
					o += (size_t)put_min_repeat(out + o, m > 8 ? 8 : m);
					i = (size_t)(close - p) + 1;
					continue;
				}
			} else if (ok && j == (size_t)(close - p) && m >= 10) {
				/* X{m} -> X{8,}: no longer than "{10}" */
				o += (size_t)put_min_repeat(out + o, 8);
				i = (size_t)(close - p) + 1;
				continue;
			}
		}
		out[o++] = p[i++];
	}
	out[o] = '\0';
}

/* 1 when p[i..e) is "." or "[^\n]" (anything but a newline). */
static int
any_char(const char *p, size_t i, size_t e)
{
	return (e - i == 1 && p[i] == '.') || (e - i == 5 && memcmp(p + i, "[^\\n]", 5) == 0);
}

/* Number of plain literal characters (letters, digits, punctuation that is
 * not a metacharacter, or an escaped one) starting at p[i]. */
static size_t
literal_run(const char *p, size_t i, size_t n)
{
	size_t k = 0;

	while (i < n) {
		size_t w = p[i] == '\\' ? 2 : 1;

		if (w == 2 && (i + 1 >= n || !ispunct((unsigned char)p[i + 1])))
			break; /* \d \s \b ...: a class or an assertion */
		if (w == 1 && strchr("[](){}|*+?.^$", p[i]) != NULL)
			break;
		if (i + w < n && strchr("*+?{", p[i + w]) != NULL)
			break; /* quantified: not a fixed character */
		i += w;
		k++;
	}
	return k;
}

/*
 * Where the quantifier after an atom ending at e stops: e when there is
 * none, past a lazy or possessive mark when there is one; SIZE_MAX when a
 * '{' is not closed.  *unbounded: X* X+ X{m,}.
 */
static size_t
quant_end(const char *p, size_t e, size_t hi, int *unbounded)
{
	size_t q = e;

	*unbounded = 0;
	if (e < hi && (p[e] == '*' || p[e] == '+')) {
		q = e + 1;
		*unbounded = 1;
	} else if (e < hi && p[e] == '?') {
		q = e + 1;
	} else if (e < hi && p[e] == '{') {
		const char *c = memchr(p + e, '}', hi - e);

		if (c == NULL)
			return SIZE_MAX;
		q = (size_t)(c - p) + 1;
		*unbounded = c[-1] == ',';
	}
	if (q > e && q < hi && (p[q] == '?' || p[q] == '+'))
		q++; /* lazy or possessive */
	return q;
}

/*
 * The candidate stage needs only the line where a match ends, and every
 * match of "A B" contains a match of "B" that ends at the same byte (any
 * assertion in B sees the same text around it).  So a head that costs
 * Hyperscan live state on every byte can go:
 *   - everything up to and including the last top-level .* / [^\n]+ (as
 *     in key=[^\n]*;password=...): what follows it is the selective part;
 *   - leading character classes and non-capturing groups when at least
 *     three literal characters follow them ([a-z][a-z0-9+.-]{1,20}://...
 *     and (?:postgres|mysql|...)://... start at "://").
 * Only when the top level has no alternation and something is left.
 */
static void
cut_head(char *p)
{
	size_t lo = strncmp(p, "(?i)", 4) == 0 ? 4 : 0, n = strlen(p), hi = n, i, cut, keep = lo;
	int prev_literal = 0, unbounded;

	/* a capturing group around the whole pattern means nothing to
	 * vectorscan: look inside it (and drop it if a head is cut) */
	if (p[lo] == '(' && p[lo + 1] != '?' && atom_end(p, lo, n) == n) {
		lo++;
		hi--;
	}
	cut = lo;
	for (i = lo; i < hi; i = atom_end(p, i, hi))
		if (p[i] == '|')
			return;
	for (i = lo; i < hi;) {
		size_t e = atom_end(p, i, hi), q = quant_end(p, e, hi, &unbounded);

		if (q == SIZE_MAX)
			return;
		if (unbounded && q < hi && any_char(p, i, e))
			cut = q;
		i = q;
	}
	if (cut == lo) {
		/* leading classes and groups, then a literal */
		for (i = lo; i < hi && (p[i] == '[' || strncmp(p + i, "(?:", 3) == 0);)
			if ((i = quant_end(p, atom_end(p, i, hi), hi, &unbounded)) == SIZE_MAX)
				return;
		if (i > lo && literal_run(p, i, hi) >= 3)
			cut = i;
	}
	/* anything, then a run of sixteen literal characters that starts
	 * after a class, a group or a repeat (https://[a-z0-9-]+\.webhook\.
	 * office\.com/... starts at \.webhook): so long a literal is rare
	 * however common what comes before it (shorter ones are not:
	 * jdbc:...;password= must not become password=) */
	for (i = lo; cut == lo && i < hi;) {
		size_t e = atom_end(p, i, hi), q = quant_end(p, e, hi, &unbounded);

		if (q == SIZE_MAX)
			return;
		if (i > lo && !prev_literal && literal_run(p, i, hi) >= 16) {
			cut = i;
			break;
		}
		prev_literal = q == e && literal_run(p, i, hi) > 0;
		i = q;
	}
	if (cut > lo && cut < hi) {
		memmove(p + keep, p + cut, hi - cut);
		p[keep + hi - cut] = '\0';
	}
}

char *
bg_test_hs_trimmed(const char *pattern)
{
	char *p = malloc(strlen(pattern) + 1);

	if (p != NULL) {
		relax_repeats(pattern, p);
		p[trim_tail(p, 0, strlen(p))] = '\0';
		trim_head(p);
		cut_head(p);
	}
	return p;
}

static int
build_hs(scan_engine *eng, bg_error *e)
{
	const rule_set *rs = &eng->rules;
	const char **pats = calloc(rs->n, sizeof(*pats));
	unsigned *flags = calloc(rs->n, sizeof(*flags)), *ids = calloc(rs->n, sizeof(*ids));
	hs_compile_error_t *ce = NULL;
	size_t i;
	int r = 0;

	if (pats == NULL || flags == NULL || ids == NULL) {
		r = bg_fail(e, BG_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < rs->n; i++) {
		const rule *ru = &rs->r[i];

		if (ru->anchor != NULL) {
			/* plain text (checked): case-blind is a superset */
			size_t an = strlen(ru->anchor);

			if ((pats[i] = malloc(an + 5)) != NULL) {
				memcpy((char *)pats[i], "(?i)", 4);
				memcpy((char *)pats[i] + 4, ru->anchor, an + 1);
			}
		} else {
			pats[i] = bg_test_hs_trimmed(ru->trigger != NULL ? ru->trigger :
			    ru->candidate != NULL ? ru->candidate : ru->pattern);
		}
		if (pats[i] == NULL) {
			r = bg_fail(e, BG_ERR_NOMEM, "out of memory");
			goto out;
		}
		ids[i] = (unsigned)(ru->trigger != NULL ? rs->n + i : i);
		/* a candidate (typically a keyword list) also reports where
		 * it starts, so that confirming starts there; the others
		 * report 0, which confirm() reads as the line start */
		flags[i] = HS_FLAG_MULTILINE | (ru->candidate != NULL ? HS_FLAG_SOM_LEFTMOST : 0);
	}
	/* a pattern Hyperscan refuses is tried without its start of match,
	 * then untrimmed (a trimmed pattern may match empty) */
	while (hs_compile_multi(pats, flags, ids, (unsigned)rs->n, HS_MODE_BLOCK, NULL, &eng->db,
	    &ce) != HS_SUCCESS && ce != NULL && ce->expression >= 0 &&
	    (size_t)ce->expression < rs->n) {
		size_t k = (size_t)ce->expression;
		const rule *ru = &rs->r[k];
		const char *orig = ru->trigger != NULL ? ru->trigger : ru->pattern;

		if (flags[k] & HS_FLAG_SOM_LEFTMOST) {
			flags[k] &= ~(unsigned)HS_FLAG_SOM_LEFTMOST;
			hs_free_compile_error(ce);
			ce = NULL;
			continue;
		}
		if (strcmp(pats[k], orig) == 0)
			break;
		free((char *)pats[k]);
		hs_free_compile_error(ce);
		ce = NULL;
		if ((pats[k] = strdup(orig)) == NULL) {
			r = bg_fail(e, BG_ERR_NOMEM, "out of memory");
			goto out;
		}
	}
	if (eng->db == NULL) {
		if (ce != NULL && ce->expression >= 0 && (size_t)ce->expression < rs->n)
			r = bg_fail(e, BG_ERR_INVALID, "rule '%s' (line %zu): vectorscan: %s",
			    rs->r[ce->expression].id, rs->r[ce->expression].line, ce->message);
		else
			r = bg_fail(e, BG_ERR_INVALID, "vectorscan: %s",
			    ce != NULL ? ce->message : "compile failed");
		hs_free_compile_error(ce);
		eng->db = NULL;
		goto out;
	}
	if (hs_alloc_scratch(eng->db, &eng->proto) != HS_SUCCESS)
		r = bg_fail(e, BG_ERR_NOMEM, "vectorscan: cannot allocate scratch space");
out:
	if (pats != NULL)
		for (i = 0; i < rs->n; i++)
			free((char *)pats[i]);
	free(pats);
	free(flags);
	free(ids);
	return r;
}
#endif

#ifdef BG_HAVE_HS
/* Load a serialized database; 1 when it is usable on this CPU. */
static int
load_hs(scan_engine *eng, const unsigned char *db, size_t dblen)
{
	hs_database_t *d = NULL;
	hs_scratch_t *sc = NULL;
	int ok;

	if (hs_deserialize_database((const char *)db, dblen, &d) != HS_SUCCESS)
		return 0;
	ok = hs_alloc_scratch(d, &sc) == HS_SUCCESS &&
	    hs_scan(d, "x", 1, 0, sc, NULL, NULL) == HS_SUCCESS;
	if (!ok) {
		hs_free_scratch(sc);
		hs_free_database(d);
		return 0;
	}
	eng->db = d;
	eng->proto = sc;
	return 1;
}
#endif

void
scan_engine_free(scan_engine *eng)
{
	size_t i;

	if (eng == NULL)
		return;
	for (i = 0; i < eng->rules.n; i++) {
		if (eng->pat != NULL)
			pcre2_code_free(eng->pat[i].code);
		if (eng->trig != NULL)
			pcre2_code_free(eng->trig[i].code);
	}
#ifdef BG_HAVE_HS
	hs_free_scratch(eng->proto);
	hs_free_database(eng->db);
#endif
	free(eng->pat);
	free(eng->trig);
	rules_release(&eng->rules);
	pthread_mutex_destroy(&eng->lock);
	free(eng);
}

/*
 * db/dblen: a serialized Hyperscan database compiled from exactly these
 * rules (the built-in one, made at build time: compiling takes ~0.2 s,
 * loading well under a millisecond).  Used when it loads and runs on this
 * CPU; otherwise the rules are compiled here.
 */
static int
engine_new(const char *text, size_t len, const char *name, int kind, int eager,
    const unsigned char *db, size_t dblen, size_t nrules, scan_engine **out, bg_error *e)
{
	scan_engine *eng;
	size_t i;
	int r;

	*out = NULL;
	if (kind == SCAN_ENGINE_AUTO)
		kind = scan_have_hyperscan() ? SCAN_ENGINE_HYPERSCAN : SCAN_ENGINE_PCRE2;
	if (kind == SCAN_ENGINE_HYPERSCAN && !scan_have_hyperscan())
		return bg_fail(e, BG_ERR_UNSUPPORTED, "this breakglass was built without vectorscan");
	if ((eng = calloc(1, sizeof(*eng))) == NULL)
		return bg_fail(e, BG_ERR_NOMEM, "out of memory");
	pthread_mutex_init(&eng->lock, NULL);
	eng->kind = kind;
	eng->text = text;
	eng->len = len;
	eng->name = name;
#ifdef BG_HAVE_HS
	if (kind == SCAN_ENGINE_HYPERSCAN && !eager && nrules > 0 && dblen > 0 &&
	    load_hs(eng, db, dblen)) {
		/* the built-in database: the rules wait for a candidate */
		eng->nrules = nrules;
		*out = eng;
		return 0;
	}
#endif
	if ((r = rules_parse(text, len, name, &eng->rules, e)) != 0)
		goto fail;
	eng->nrules = eng->rules.n;
	eng->rules_state = 1;
	if (alloc_slots(eng) != 0) {
		r = bg_fail(e, BG_ERR_NOMEM, "out of memory");
		goto fail;
	}
	if (eager) {
		for (i = 0; i < eng->rules.n; i++) {
			const rule *ru = &eng->rules.r[i];
			char err[160];

			if ((eng->pat[i].code = compile_one(ru->pattern, err, sizeof(err))) == NULL) {
				r = bg_fail(e, BG_ERR_INVALID, "%s: rule '%s' (line %zu): pattern: %s", name,
				    ru->id, ru->line, err);
				goto fail;
			}
			eng->pat[i].state = 1;
			if (ru->trigger == NULL)
				continue;
			if ((eng->trig[i].code = compile_one(ru->trigger, err, sizeof(err))) == NULL) {
				r = bg_fail(e, BG_ERR_INVALID, "%s: rule '%s' (line %zu): trigger: %s", name,
				    ru->id, ru->line, err);
				goto fail;
			}
			eng->trig[i].state = 1;
		}
	}
#ifdef BG_HAVE_HS
	if (kind == SCAN_ENGINE_HYPERSCAN && eng->db == NULL && !(dblen > 0 && load_hs(eng, db, dblen))) {
#ifdef BG_HAVE_HS_COMPILE
		if ((r = build_hs(eng, e)) != 0)
			goto fail;
#else
		if (dblen == 0) {
			r = bg_fail(e, BG_ERR_UNSUPPORTED, "vectorscan runs the built-in rules only "
			    "(compiled at build time); other rules run on the pcre2 engine");
			goto fail;
		}
		/* the built-in database does not run on this CPU: same
		 * findings, slower */
		eng->kind = SCAN_ENGINE_PCRE2;
#endif
	}
#else
	(void)db;
	(void)dblen;
#endif
	*out = eng;
	return 0;
fail:
	scan_engine_free(eng);
	return r;
}

int
scan_engine_new(const char *text, size_t len, const char *name, int kind, int eager,
    scan_engine **out, bg_error *e)
{
#ifndef BG_HAVE_HS_COMPILE
	if (kind == SCAN_ENGINE_AUTO)
		kind = SCAN_ENGINE_PCRE2; /* no compiler linked in: see engine_new */
#endif
	return engine_new(text, len, name, kind, eager, NULL, 0, 0, out, e);
}

int
scan_engine_new_builtin(int kind, int eager, scan_engine **out, bg_error *e)
{
	return engine_new(rules_builtin_text, rules_builtin_len, "built-in rules", kind, eager,
	    scan_builtin_hsdb, scan_builtin_hsdb_len, scan_builtin_hsdb_nrules, out, e);
}

int
scan_engine_serialize(const scan_engine *eng, char **out, size_t *len, bg_error *e)
{
	*out = NULL;
	*len = 0;
#ifdef BG_HAVE_HS_COMPILE
	if (eng->kind == SCAN_ENGINE_HYPERSCAN) {
		if (hs_serialize_database(eng->db, out, len) != HS_SUCCESS)
			return bg_fail(e, BG_ERR_NOMEM, "vectorscan: cannot serialize the database");
		return 0;
	}
#endif
	return bg_fail(e, BG_ERR_UNSUPPORTED, "only a vectorscan engine can be serialized");
}

scan_ctx *
scan_ctx_new(const scan_engine *eng)
{
	scan_ctx *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->eng = eng;
	c->md = pcre2_match_data_create(16, NULL);
	c->last = calloc(2 * eng->nrules, sizeof(*c->last));
	c->done_upto = calloc(eng->nrules, sizeof(*c->done_upto));
	if (c->md == NULL || c->last == NULL || c->done_upto == NULL)
		goto fail;
#ifdef BG_HAVE_HS
	if (eng->kind == SCAN_ENGINE_HYPERSCAN && hs_clone_scratch(eng->proto, &c->scratch) != HS_SUCCESS)
		goto fail;
#endif
	return c;
fail:
	scan_ctx_free(c);
	return NULL;
}

void
scan_ctx_free(scan_ctx *c)
{
	if (c == NULL)
		return;
	pcre2_match_data_free(c->md);
#ifdef BG_HAVE_HS
	hs_free_scratch(c->scratch);
#endif
	free(c->last);
	free(c->done_upto);
	free(c->c);
	free(c->h);
	free(c);
}

long
scan_engine_check(const scan_engine *eng, scan_check_report report, void *arg, bg_error *e)
{
	const rule_set *rs = engine_rules(eng);
	scan_ctx *c = rs != NULL ? scan_ctx_new(eng) : NULL;
	size_t i, j, k, nh;
	const scan_hit *h;
	long bad = 0;

	if (rs == NULL)
		return bg_fail(e, BG_ERR_INVALID, "the secret scanner's rules cannot be read");
	if (c == NULL)
		return bg_fail(e, BG_ERR_NOMEM, "out of memory");
	for (i = 0; i < rs->n; i++) {
		const rule *ru = &rs->r[i];

		for (j = 0; j < ru->nexamples + ru->nnots; j++) {
			int pos = j < ru->nexamples;
			const rule_text *t = pos ? &ru->examples[j] : &ru->nots[j - ru->nexamples];
			int found = 0, r;

			if ((r = scan_ctx_run(c, t->s, t->len, &h, &nh, e)) != 0) {
				scan_ctx_free(c);
				return r;
			}
			for (k = 0; k < nh; k++)
				found |= h[k].rule == i;
			if (pos && !found) {
				report(arg, ru, 1, j + 1, NULL);
				bad++;
			} else if (!pos && nh > 0) {
				report(arg, ru, 0, j - ru->nexamples + 1, rs->r[h[0].rule].id);
				bad++;
			}
		}
	}
	scan_ctx_free(c);
	return bad;
}

/* ---- the built-in rules and the interface other modules use ---- */

static scan_engine *builtin;
static scan_ctx *builtin_ctx;
static int builtin_failed;

const scan_engine *
scan_builtin(bg_error *e)
{
	const char *want = getenv("BREAKGLASS_SCAN_ENGINE");
	int kind = SCAN_ENGINE_AUTO;

	if (builtin != NULL || builtin_failed) {
		if (builtin == NULL)
			bg_fail(e, BG_ERR_INVALID, "the secret scanner could not be built");
		return builtin;
	}
	if (want != NULL && strcmp(want, "pcre2") == 0)
		kind = SCAN_ENGINE_PCRE2;
	else if (want != NULL && strcmp(want, "vectorscan") == 0)
		kind = SCAN_ENGINE_HYPERSCAN;
	if (scan_engine_new_builtin(kind, 0, &builtin, e) != 0) {
		builtin_failed = 1;
		return NULL;
	}
	return builtin;
}

/* Hits of the built-in rules on s, or -1 (fail closed). */
static int
builtin_run(const char *s, size_t n, const scan_hit **hits, size_t *nhits)
{
	const scan_engine *eng = scan_builtin(NULL);

	if (eng == NULL)
		return -1;
	if (builtin_ctx == NULL && (builtin_ctx = scan_ctx_new(eng)) == NULL)
		return -1;
	return scan_ctx_run(builtin_ctx, s, n, hits, nhits, NULL) == 0 ? 0 : -1;
}

static const char *
rule_id(unsigned i)
{
	return builtin->rules.r[i].id;
}

void
scan_text(const char *s, size_t n, scan_result *res)
{
	const scan_hit *h;
	size_t nh, i;

	memset(res, 0, sizeof(*res));
	if (builtin_run(s, n, &h, &nh) != 0) {
		res->f[0].rule = "scanner-unavailable";
		res->f[0].off = 0;
		res->f[0].len = n;
		res->n = 1;
		return;
	}
	for (i = 0; i < nh; i++) {
		if (res->n == SCAN_MAX_FINDINGS) {
			res->truncated = 1;
			break;
		}
		res->f[res->n].rule = rule_id(h[i].rule);
		res->f[res->n].off = h[i].off;
		res->f[res->n].len = h[i].len;
		res->n++;
	}
}

int
scan_redact_hits(const scan_engine *eng, const char *s, size_t n, const scan_hit *h, size_t nh,
    buf *out)
{
	size_t i, at = 0;
	int r = 0;

	for (i = 0; i < nh && r == 0; i++) {
		r = buf_append(out, s + at, h[i].off - at);
		if (r == 0)
			r = buf_printf(out, "[REDACTED:%s]", eng->rules.r[h[i].rule].id);
		at = h[i].off + h[i].len;
	}
	if (r == 0)
		r = buf_append(out, s + at, n - at);
	return r;
}

int
scan_redact(const char *s, size_t n, buf *out, size_t *found)
{
	const scan_hit *h;
	size_t nh;

	if (found != NULL)
		*found = 0;
	if (builtin_run(s, n, &h, &nh) != 0) {
		if (found != NULL)
			*found = 1;
		return n > 0 ? buf_puts(out, "[REDACTED:scanner-unavailable]") : 0;
	}
	if (found != NULL)
		*found = nh;
	return scan_redact_hits(builtin, s, n, h, nh, out);
}

void
scan_stream_init(scan_stream *s)
{
	buf_init(&s->pending, SCAN_STREAM_HOLD + 128 * 1024);
	s->found = 0;
}

void
scan_stream_release(scan_stream *s)
{
	buf_release(&s->pending);
}

/* Redact and drop the first cut bytes held back. */
static int
stream_emit(scan_stream *s, size_t cut, buf *out)
{
	size_t found = 0;
	int r;

	if (cut == 0)
		return 0;
	r = scan_redact(s->pending.data, cut, out, &found);
	s->found += found;
	memmove(s->pending.data, s->pending.data + cut, s->pending.len - cut);
	s->pending.len -= cut;
	s->pending.data[s->pending.len] = '\0';
	return r;
}

/* Where held-back text can be cut now (0: hold everything). */
static size_t
stream_cut(const scan_stream *s)
{
	const char *d = s->pending.data, *b, *q;
	size_t n = s->pending.len, cut = 0, i;

	for (i = n; i > 0; i--)
		if (d[i - 1] == '\n') {
			cut = i;
			break;
		}
	/* an open key block (BEGIN without END after it) is held from its line */
	b = NULL;
	for (q = d; (q = memmem(q, (size_t)(d + n - q), "-----BEGIN ", 11)) != NULL; q += 11)
		b = q;
	if (b != NULL && memmem(b, (size_t)(d + n - b), "-----END ", 9) == NULL) {
		while (b > d && b[-1] != '\n')
			b--;
		if ((size_t)(b - d) < cut)
			cut = (size_t)(b - d);
	}
	if (n < SCAN_STREAM_HOLD || cut > 0)
		return cut;
	/* held too much (a very long line or key block): cut at a blank */
	for (i = n - SCAN_STREAM_TAIL; i > 0; i--)
		if (d[i - 1] == ' ' || d[i - 1] == '\t')
			return i;
	return n - SCAN_STREAM_TAIL;
}

int
scan_stream_write(scan_stream *s, const void *p, size_t n, buf *out)
{
	int r;

	while (n > 0) {
		size_t take = n > 64 * 1024 ? 64 * 1024 : n;

		if ((r = buf_append(&s->pending, p, take)) != 0 ||
		    (r = stream_emit(s, stream_cut(s), out)) != 0)
			return r;
		p = (const char *)p + take;
		n -= take;
	}
	return 0;
}

int
scan_stream_finish(scan_stream *s, buf *out)
{
	return stream_emit(s, s->pending.len, out);
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
