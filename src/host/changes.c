/*
 * changes.c - change sets between snapshots.
 */
#include "changes.h"
#include "fileio.h"
#include "json.h"
#include "proc.h"
#include "scan.h"
#include "text.h"
#include "utc.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int
cmp(const snap_entry *a, const snap_entry *b)
{
	if (a->root != b->root)
		return a->root < b->root ? -1 : 1;
	return strcmp(a->path, b->path);
}

static int
push(changeset *cs, size_t *cap, char kind, unsigned what, const snap_entry *b,
    const snap_entry *a)
{
	if (cs->n == *cap) {
		size_t nc = *cap ? *cap * 2 : 64;
		change *v;

		if ((v = realloc(cs->c, nc * sizeof(*v))) == NULL)
			return BG_ERR_NOMEM;
		cs->c = v;
		*cap = nc;
	}
	cs->c[cs->n].kind = kind;
	cs->c[cs->n].what = what;
	cs->c[cs->n].before = b;
	cs->c[cs->n].after = a;
	cs->n++;
	if (kind == 'A')
		cs->added++;
	else if (kind == 'D')
		cs->deleted++;
	else
		cs->modified++;
	return 0;
}

int
changes_compute(const snapshot *b, const snapshot *a, changeset *cs, bg_error *e)
{
	size_t i = 0, j = 0, cap = 0;
	int r = 0;

	memset(cs, 0, sizeof(*cs));
	if (b->nroots != a->nroots)
		return bg_fail(e, BG_ERR_INVALID, "the snapshots are of different directories");
	for (size_t k = 0; k < b->nroots; k++)
		if (strcmp(b->roots[k], a->roots[k]) != 0)
			return bg_fail(e, BG_ERR_INVALID, "the snapshots are of different directories");
	while (r == 0 && (i < b->n || j < a->n)) {
		int c = i >= b->n ? 1 : j >= a->n ? -1 : cmp(&b->e[i], &a->e[j]);

		if (c < 0) {
			r = push(cs, &cap, 'D', 0, &b->e[i++], NULL);
		} else if (c > 0) {
			r = push(cs, &cap, 'A', 0, NULL, &a->e[j++]);
		} else {
			const snap_entry *x = &b->e[i++], *y = &a->e[j++];
			unsigned w = 0;

			if (x->type != y->type)
				w |= CH_TYPE;
			else if (x->type == 'f' && strcmp(x->hash, y->hash) != 0)
				w |= CH_CONTENT;
			else if (x->type == 'l' && strcmp(x->target ? x->target : "",
			    y->target ? y->target : "") != 0)
				w |= CH_TARGET;
			if (x->type != 'l' && x->mode != y->mode)
				w |= CH_MODE;
			if (x->uid != y->uid || x->gid != y->gid)
				w |= CH_OWNER;
			if (x->type == 'f' && y->type == 'f' && (x->nlink > 1) != (y->nlink > 1))
				w |= CH_LINKS;
			if (w != 0)
				r = push(cs, &cap, 'M', w, x, y);
		}
	}
	if (r != 0)
		changes_release(cs);
	return r;
}

void
changes_release(changeset *cs)
{
	free(cs->c);
	memset(cs, 0, sizeof(*cs));
}

static const char *
type_name(char t)
{
	return t == 'f' ? "file" : t == 'd' ? "directory" : t == 'l' ? "symlink" : "other";
}

/*
 * A unified diff of two stored objects (either may be absent) into red,
 * capped at cap bytes and redacted.  Returns 1 with a diff, 0 without
 * (identical, too large, or trouble); *binary is set when either side is
 * not text (UTF-8 without NULs or terminal controls).
 */
static int
text_diff(const char *store, const snap_entry *b, const snap_entry *a, const char *path,
    size_t cap, buf *red, int *binary, int *truncated)
{
	buf ob, na, lb, la, out;
	bg_error e;
	int st, r = 0;

	*binary = *truncated = 0;
	if ((b && b->size > 1024 * 1024) || (a && a->size > 1024 * 1024))
		return 0;
	buf_init(&ob, 4096);
	buf_init(&na, 4096);
	buf_init(&lb, 4096);
	buf_init(&la, 4096);
	buf_init(&out, cap + 4096);
	if (b != NULL)
		snapshot_object_path(store, b->hash, &ob);
	else
		buf_puts(&ob, "/dev/null");
	if (a != NULL)
		snapshot_object_path(store, a->hash, &na);
	else
		buf_puts(&na, "/dev/null");
	/* the labels are the diff's headers: escaped as in manifests, so a name
	 * holding a newline or an escape cannot forge a header or a line */
	buf_puts(&lb, "a/");
	snapshot_escape(path, &lb);
	buf_puts(&la, "b/");
	snapshot_escape(path, &la);
	for (int side = 0; side < 2; side++) {
		const char *p = side ? na.data : ob.data;
		buf content;
		int bin;

		if (strcmp(p, "/dev/null") == 0)
			continue;
		buf_init(&content, 1024 * 1024 + 1);
		bin = fileio_read(p, content.max, &content, &e) != 0 ||
		    text_check(content.data ? content.data : "", content.len, 1, NULL) != 0;
		buf_release(&content);
		if (bin) {
			*binary = 1;
			goto out;
		}
	}
	{
		char *const argv[] = { "/usr/bin/diff", "-u", "--label", lb.data, "--label", la.data,
			ob.data, na.data, NULL };

		if (proc_run(argv, NULL, 0, &out, &st, &e) != 0 || st != 1)
			goto out; /* 0: identical; 2: trouble */
	}
	if (scan_redact(out.data, out.len > cap ? cap : out.len, red, NULL) != 0)
		goto out;
	*truncated = out.len >= cap;
	r = 1;
out:
	buf_release(&ob);
	buf_release(&na);
	buf_release(&lb);
	buf_release(&la);
	buf_release(&out);
	return r;
}

/* Whether a change carries content worth a diff. */
static int
has_content(const change *c)
{
	const snap_entry *x = c->before ? c->before : c->after;

	return ((c->kind == 'A' || c->kind == 'D') && x->type == 'f') ||
	    (c->kind == 'M' && (c->what & CH_CONTENT));
}

static const snap_entry *
file_side(const snap_entry *s)
{
	return s && s->type == 'f' ? s : NULL;
}

/* Text output that remembers whether any append failed (cap reached). */
typedef struct tout {
	buf *b;
	int bad;
} tout;

static void tput(tout *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
tput(tout *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (buf_vprintf(t->b, fmt, ap) != 0)
		t->bad = 1;
	va_end(ap);
}

/* A path or link target, with control bytes escaped as in manifests. */
static void
tname(tout *t, const char *s)
{
	if (snapshot_escape(s, t->b) != 0)
		t->bad = 1;
}

static void
what_list(tout *t, unsigned what)
{
	static const struct { unsigned bit; const char *name; } names[] = {
		{ CH_TYPE, "type" }, { CH_CONTENT, "content" }, { CH_TARGET, "target" },
		{ CH_MODE, "mode" }, { CH_OWNER, "owner" }, { CH_LINKS, "hard-links" },
	};
	size_t i;
	int first = 1;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (what & names[i].bit) {
			tput(t, "%s%s", first ? "" : ", ", names[i].name);
			first = 0;
		}
}

static void
entry_text(tout *t, const snap_entry *s)
{
	tput(t, "%s %04o uid %lld gid %lld", type_name(s->type), (unsigned)s->mode,
	    (long long)s->uid, (long long)s->gid);
	if (s->type == 'f')
		tput(t, ", %lld bytes", (long long)s->size);
	if (s->type == 'l') {
		tput(t, " -> ");
		tname(t, s->target);
	}
}

int
changes_text(const char *store, const snapshot *b, const snapshot *a, const changeset *cs,
    size_t diff_cap, buf *out, bg_error *e)
{
	tout t = { out, 0 };
	char when[UTC_STRLEN];
	size_t i;

	utc_format(a->created, when);
	tput(&t, "change set %s\n  grant G-%lld at %s (before: %s)\n"
	    "  %zu created, %zu modified, %zu deleted\n", a->id, (long long)a->grant, when, b->id,
	    cs->added, cs->modified, cs->deleted);
	for (i = 0; i < cs->n; i++) {
		const change *c = &cs->c[i];
		const snap_entry *x = c->before ? c->before : c->after;
		buf path, diff;
		int binary = 0, trunc = 0;

		buf_init(&path, 8192);
		buf_init(&diff, 2 * diff_cap + 8192);
		buf_printf(&path, "%s%s%s", a->roots[x->root], x->path[0] ? "/" : "", x->path);
		tput(&t, "\n  %s ", c->kind == 'A' ? "created " : c->kind == 'D' ? "deleted " :
		    "modified");
		tname(&t, path.data);
		if (c->kind == 'M') {
			tput(&t, " (");
			what_list(&t, c->what);
			tput(&t, ")\n    before: ");
			entry_text(&t, c->before);
			tput(&t, "\n    after:  ");
			entry_text(&t, c->after);
		} else {
			tput(&t, "\n    ");
			entry_text(&t, x);
		}
		tput(&t, "\n");
		if (has_content(c) && text_diff(store, file_side(c->before), file_side(c->after),
		    path.data[0] == '/' ? path.data + 1 : path.data, diff_cap, &diff, &binary, &trunc)) {
			const char *p = diff.data, *nl;

			for (; p != NULL && *p != '\0'; p = nl ? nl + 1 : NULL) {
				nl = strchr(p, '\n');
				tput(&t, "    %.*s\n", (int)(nl ? (size_t)(nl - p) : strlen(p)), p);
			}
			if (trunc)
				tput(&t, "    (diff truncated)\n");
		} else if (binary)
			tput(&t, "    (binary: sizes and hashes only)\n");
		buf_release(&path);
		buf_release(&diff);
	}
	if (t.bad)
		return bg_fail(e, BG_ERR_TOOLARGE, "change set too large to describe");
	return 0;
}

int
changes_json(const char *store, const snapshot *b, const snapshot *a, const changeset *cs,
    size_t diff_cap, buf *out, bg_error *e)
{
	json j;
	size_t i;
	char mode[16];

	json_init(&j, out);
	json_obj_begin(&j);
	json_kv_str(&j, "before", b->id);
	json_kv_str(&j, "after", a->id);
	json_kv_time(&j, "time", a->created);
	json_kv_int(&j, "ticket", a->ticket);
	json_kv_int(&j, "grant", a->grant);
	json_kv_int(&j, "added", (int64_t)cs->added);
	json_kv_int(&j, "deleted", (int64_t)cs->deleted);
	json_kv_int(&j, "modified", (int64_t)cs->modified);
	json_key(&j, "files");
	json_arr_begin(&j);
	for (i = 0; i < cs->n; i++) {
		const change *c = &cs->c[i];
		const snap_entry *x = c->before ? c->before : c->after;
		buf path;

		buf_init(&path, 8192);
		buf_printf(&path, "%s%s%s", a->roots[x->root], x->path[0] ? "/" : "", x->path);
		json_obj_begin(&j);
		json_kv_str(&j, "path", path.data);
		json_kv_str(&j, "change", c->kind == 'A' ? "created" : c->kind == 'D' ? "deleted" :
		    "modified");
		if (c->kind == 'M') {
			json_key(&j, "what");
			json_arr_begin(&j);
			if (c->what & CH_TYPE) json_str(&j, "type");
			if (c->what & CH_CONTENT) json_str(&j, "content");
			if (c->what & CH_TARGET) json_str(&j, "target");
			if (c->what & CH_MODE) json_str(&j, "mode");
			if (c->what & CH_OWNER) json_str(&j, "owner");
			if (c->what & CH_LINKS) json_str(&j, "hard-links");
			json_arr_end(&j);
		}
		for (int side = 0; side < 2; side++) {
			const snap_entry *s = side ? c->after : c->before;

			if (s == NULL)
				continue;
			json_key(&j, side ? "after" : "before");
			json_obj_begin(&j);
			json_kv_str(&j, "type", type_name(s->type));
			snprintf(mode, sizeof(mode), "%04o", (unsigned)s->mode);
			json_kv_str(&j, "mode", mode);
			json_kv_int(&j, "uid", s->uid);
			json_kv_int(&j, "gid", s->gid);
			if (s->type == 'f') {
				json_kv_int(&j, "size", s->size);
				json_kv_str(&j, "blake2b", s->hash);
			}
			if (s->type == 'l')
				json_kv_str(&j, "target", s->target);
			json_obj_end(&j);
		}
		if (has_content(c)) {
			buf diff;
			int binary, trunc;

			buf_init(&diff, 2 * diff_cap + 8192);
			if (text_diff(store, file_side(c->before), file_side(c->after),
			    path.data[0] == '/' ? path.data + 1 : path.data, diff_cap, &diff, &binary,
			    &trunc)) {
				json_kv_str(&j, "diff", buf_cstr(&diff));
				if (trunc)
					json_kv_bool(&j, "diff_truncated", 1);
			} else if (binary)
				json_kv_bool(&j, "binary", 1);
			buf_release(&diff);
		}
		json_obj_end(&j);
		buf_release(&path);
	}
	json_arr_end(&j);
	json_obj_end(&j);
	if (json_error(&j) != 0)
		return bg_fail(e, json_error(&j), "change set too large to describe");
	return buf_putc(out, '\n');
}
