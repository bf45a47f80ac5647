/*
 * envdiff.c - compare two bundles (envdiff.h).
 *
 * Both bundles' records are sorted by (kind, key) when read, so the
 * comparison is one merge walk.  Nothing here ever sees a secret: the
 * bundles hold keyed hashes where a value was not known to be harmless.
 */
#include "envdiff.h"
#include "json.h"
#include "text.h"

#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

static const char *const sections[ENVDIFF_NSECTIONS] = {
	"packages", "runtime", "config", "environment", "code", "deploys", "services", "ports",
	"database",
};

const char *
envdiff_section_name(int s)
{
	return s >= 0 && s < ENVDIFF_NSECTIONS ? sections[s] : "?";
}

int
envdiff_section_of(int kind)
{
	switch (kind) {
	case BK_PKG: return 0;
	case BK_RT: return 1;
	case BK_CFG: return 2;
	case BK_ENV: return 3;
	case BK_TREE: return 4;
	case BK_GIT:
	case BK_DEPLOY: return 5;
	case BK_SVC: return 6;
	case BK_PORT: return 7;
	case BK_DB:
	case BK_DBMIG: return 8;
	default: return -1;
	}
}

void
envdiff_ignore_release(envdiff_ignore *ig)
{
	size_t i;

	if (ig == NULL)
		return;
	for (i = 0; i < ig->n; i++)
		free(ig->r[i].pattern);
	free(ig->r);
	memset(ig, 0, sizeof(*ig));
}

int
envdiff_ignore_parse(const char *text, size_t len, envdiff_ignore *out, bg_error *e)
{
	const char *s = text, *end = text + len;
	size_t line = 0, bad, i;
	int r = 0;

	memset(out, 0, sizeof(*out));
	if (len > ENVDIFF_IGNORE_MAX)
		return bg_fail(e, BG_ERR_TOOLARGE, "ignore file over %u bytes", ENVDIFF_IGNORE_MAX);
	if (text_check(text, len, 1, &bad) != 0) {
		size_t l, c;

		text_position(text, bad, &l, &c);
		return bg_fail(e, BG_ERR_INVALID, "line %zu: not UTF-8 text", l);
	}
	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s)), *sp;
		size_t n = nl ? (size_t)(nl - s) : (size_t)(end - s), sn;
		int sec = -2;
		envdiff_rule *nr;

		line++;
		if (n == 0 || s[0] == '#') {
			s += n + (nl != NULL);
			continue;
		}
		if ((sp = memchr(s, ' ', n)) == NULL || sp + 1 == s + n || sp[1] == ' ' ||
		    s[n - 1] == ' ' || s[n - 1] == '\t') {
			r = bg_fail(e, BG_ERR_INVALID, "line %zu: want 'SECTION PATTERN'", line);
			goto out;
		}
		sn = (size_t)(sp - s);
		if (sn == 1 && s[0] == '*')
			sec = -1;
		for (i = 0; i < ENVDIFF_NSECTIONS; i++)
			if (strlen(sections[i]) == sn && strncmp(s, sections[i], sn) == 0)
				sec = (int)i;
		if (sec == -2) {
			r = bg_fail(e, BG_ERR_INVALID, "line %zu: unknown section '%.*s'", line,
			    (int)(sn > 40 ? 40 : sn), s);
			goto out;
		}
		for (i = 0; i < out->n; i++)
			if (out->r[i].section == sec && strlen(out->r[i].pattern) == n - sn - 1 &&
			    strncmp(out->r[i].pattern, sp + 1, n - sn - 1) == 0) {
				r = bg_fail(e, BG_ERR_INVALID, "line %zu: duplicate rule", line);
				goto out;
			}
		if (out->n >= 4096 || (nr = realloc(out->r, (out->n + 1) * sizeof(*nr))) == NULL) {
			r = bg_fail(e, out->n >= 4096 ? BG_ERR_TOOLARGE : BG_ERR_NOMEM,
			    "line %zu: too many rules", line);
			goto out;
		}
		out->r = nr;
		if ((nr[out->n].pattern = strndup(sp + 1, n - sn - 1)) == NULL) {
			r = bg_fail(e, BG_ERR_NOMEM, "out of memory");
			goto out;
		}
		nr[out->n++].section = sec;
		s += n + (nl != NULL);
	}
out:
	if (r != 0)
		envdiff_ignore_release(out);
	return r;
}

int
envdiff_ignored(const envdiff_ignore *ig, int section, const char *key)
{
	size_t i;

	if (ig == NULL)
		return 0;
	for (i = 0; i < ig->n; i++)
		if ((ig->r[i].section == -1 || ig->r[i].section == section) &&
		    fnmatch(ig->r[i].pattern, key, 0) == 0)
			return 1;
	return 0;
}

void
envdiff_result_release(envdiff_result *r)
{
	if (r == NULL)
		return;
	free(r->it);
	memset(r, 0, sizeof(*r));
}

static int
add(envdiff_result *out, const envdiff_ignore *ig, int sec, int change, const char *key,
    const char *a, const char *b)
{
	if (envdiff_ignored(ig, sec, key)) {
		out->ignored++;
		return 0;
	}
	if (out->n == out->cap) {
		size_t nc = out->cap ? 2 * out->cap : 64;
		envdiff_item *ni = realloc(out->it, nc * sizeof(*ni));

		if (ni == NULL)
			return BG_ERR_NOMEM;
		out->it = ni;
		out->cap = nc;
	}
	out->it[out->n].section = sec;
	out->it[out->n].change = change;
	out->it[out->n].key = key;
	out->it[out->n].a = a;
	out->it[out->n].b = b;
	out->n++;
	return 0;
}

static int
item_cmp(const void *x, const void *y)
{
	const envdiff_item *a = x, *b = y;

	if (a->section != b->section)
		return a->section < b->section ? -1 : 1;
	return strcmp(a->key, b->key);
}

int
envdiff_run(const bundle *a, const bundle *b, const envdiff_ignore *ig, envdiff_result *out,
    bg_error *e)
{
	size_t i = 0, j = 0;
	int r = 0;

	memset(out, 0, sizeof(*out));
	if (a->key_id[0] == '\0' || b->key_id[0] == '\0')
		return bg_fail(e, BG_ERR_POLICY, "a bundle made without a per-incident key "
		    "(collect --key) cannot be compared: its values are withheld");
	if (strcmp(a->key_id, b->key_id) != 0)
		return bg_fail(e, BG_ERR_POLICY, "the bundles were made with different keys "
		    "('%s' and '%s'): their hashes cannot be compared; collect both with the "
		    "same --key", a->key_id, b->key_id);
	while ((i < a->n || j < b->n) && r == 0) {
		const bundle_rec *x = i < a->n ? &a->r[i] : NULL, *y = j < b->n ? &b->r[j] : NULL;
		int c;

		if (x == NULL)
			c = 1;
		else if (y == NULL)
			c = -1;
		else if (x->kind != y->kind)
			c = x->kind < y->kind ? -1 : 1;
		else
			c = strcmp(x->key, y->key);
		if (c < 0) {
			if (envdiff_section_of(x->kind) >= 0)
				r = add(out, ig, envdiff_section_of(x->kind), ENVDIFF_REMOVED, x->key,
				    x->value, NULL);
			i++;
		} else if (c > 0) {
			if (envdiff_section_of(y->kind) >= 0)
				r = add(out, ig, envdiff_section_of(y->kind), ENVDIFF_ADDED, y->key, NULL,
				    y->value);
			j++;
		} else {
			if (envdiff_section_of(x->kind) >= 0 && strcmp(x->value, y->value) != 0)
				r = add(out, ig, envdiff_section_of(x->kind), ENVDIFF_CHANGED, x->key,
				    x->value, y->value);
			i++;
			j++;
		}
	}
	if (r != 0) {
		envdiff_result_release(out);
		return bg_fail(e, r, "out of memory");
	}
	if (out->n > 1)
		qsort(out->it, out->n, sizeof(*out->it), item_cmp);
	return 0;
}

/* A value for people: "=TEXT" is TEXT; a hash says so; "-" is withheld. */
static const char *
shown(const char *v, int *hashed)
{
	*hashed = 0;
	if (v == NULL)
		return NULL;
	if (v[0] == '=')
		return v[1] ? v + 1 : "(empty)";
	if (strncmp(v, "h:", 2) == 0 && strlen(v) == BUNDLE_HASHLEN) {
		*hashed = 1;
		return "(hashed)";
	}
	return v;
}

/* Sections whose values are worth showing next to a key only one side has. */
static int
is_hashed_kind(int sec)
{
	return sec == 1 || sec == 2 || sec == 3 || sec == 5;
}

int
envdiff_format_text(const envdiff_result *res, const char *an, const char *bn, buf *out)
{
	size_t i;
	int sec = -1, r = 0;

	for (i = 0; i < res->n && r == 0; i++) {
		const envdiff_item *it = &res->it[i];
		int ha, hb;
		const char *a = shown(it->a, &ha), *b = shown(it->b, &hb);

		if (it->section != sec) {
			sec = it->section;
			if ((r = buf_printf(out, "%s%s:\n", i ? "\n" : "", sections[sec])) != 0)
				break;
		}
		if (it->change == ENVDIFF_REMOVED)
			r = buf_printf(out, "  - %s  (only in %s%s%s)\n", it->key, an,
			    is_hashed_kind(sec) || sec == 0 ? ": " : "",
			    is_hashed_kind(sec) || sec == 0 ? a : "");
		else if (it->change == ENVDIFF_ADDED)
			r = buf_printf(out, "  + %s  (only in %s%s%s)\n", it->key, bn,
			    is_hashed_kind(sec) || sec == 0 ? ": " : "",
			    is_hashed_kind(sec) || sec == 0 ? b : "");
		else if (sec == 4)
			r = buf_printf(out, "  ~ %s  content differs\n", it->key);
		else if (ha && hb)
			r = buf_printf(out, "  ~ %s  values differ (keyed hashes)\n", it->key);
		else
			r = buf_printf(out, "  ~ %s  %s: %s | %s: %s\n", it->key, an, a, bn, b);
	}
	if (r == 0)
		r = buf_printf(out, "%s%zu difference%s", res->n ? "\n" : "", res->n,
		    res->n == 1 ? "" : "s");
	if (r == 0 && res->ignored > 0)
		r = buf_printf(out, " (%zu ignored)", res->ignored);
	if (r == 0)
		r = buf_putc(out, '\n');
	return r;
}

int
envdiff_format_json(const envdiff_result *res, const bundle *a, buf *out)
{
	json j;
	size_t i;

	json_init(&j, out);
	json_obj_begin(&j);
	json_kv_str(&j, "key_id", a->key_id);
	json_kv_int(&j, "differences", (int64_t)res->n);
	json_kv_int(&j, "ignored", (int64_t)res->ignored);
	json_key(&j, "items");
	json_arr_begin(&j);
	for (i = 0; i < res->n; i++) {
		const envdiff_item *it = &res->it[i];
		int ha, hb;
		const char *va = shown(it->a, &ha), *vb = shown(it->b, &hb);

		if (it->a != NULL && it->a[0] == '=')
			va = it->a + 1; /* JSON has its own empty string */
		if (it->b != NULL && it->b[0] == '=')
			vb = it->b + 1;
		json_obj_begin(&j);
		json_kv_str(&j, "section", sections[it->section]);
		json_kv_str(&j, "change", it->change == ENVDIFF_ADDED ? "added" :
		    it->change == ENVDIFF_REMOVED ? "removed" : "changed");
		json_kv_str(&j, "key", it->key);
		json_key(&j, "production");
		if (it->a == NULL)
			json_null(&j);
		else
			json_str(&j, ha ? NULL : va);
		json_key(&j, "qa");
		if (it->b == NULL)
			json_null(&j);
		else
			json_str(&j, hb ? NULL : vb);
		json_kv_bool(&j, "hashed", ha || hb);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_obj_end(&j);
	buf_putc(out, '\n');
	return json_error(&j);
}
