/*
 * bundle.c - the bundle format and the per-incident key.
 *
 * The reader is strict because a bundle travels: it is made on one host,
 * copied, and read on another.  Every field has one spelling (canonical
 * escapes), so two equal bundles are equal bytes and a reader never has to
 * guess.  The key is 32 random bytes; only its id (an HMAC of a fixed
 * string, which says nothing about the key) goes into the bundle, so that
 * envdiff can refuse to compare bundles made with different keys.
 */
#include "bundle.h"
#include "fileio.h"
#include "hash.h"
#include "snapshot.h"
#include "utc.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const kinds[BK_NKINDS] = {
	"pkg", "rt", "cfg", "env", "file", "svc", "port", "sys", "tree", "recent", "git",
	"deploy", "log", "db", "dbmig", "dbrows",
};

const char *
bundle_kind_name(int kind)
{
	return kind >= 0 && kind < BK_NKINDS ? kinds[kind] : "?";
}

/* 1 if s[0..n) are lowercase hex digits. */
static int
lowhex(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

void
bundle_key_from(bundle_key *k, const unsigned char raw[BUNDLE_KEYBYTES])
{
	static const char label[] = "breakglass collect key-id v1";
	unsigned char mac[crypto_auth_hmacsha256_BYTES];

	memcpy(k->k, raw, BUNDLE_KEYBYTES);
	crypto_auth_hmacsha256(mac, (const unsigned char *)label, sizeof(label) - 1, k->k);
	hash_hex(mac, 16, k->id);
	sodium_memzero(mac, sizeof(mac));
}

void
bundle_key_wipe(bundle_key *k)
{
	if (k != NULL)
		sodium_memzero(k, sizeof(*k));
}

int
bundle_key_load(const char *path, int create, bundle_key *k, int *created, bg_error *e)
{
	unsigned char raw[BUNDLE_KEYBYTES];
	char hex[2 * BUNDLE_KEYBYTES + 2];
	struct stat st;
	buf b;
	int fd = -1, r = 0;

	memset(k, 0, sizeof(*k));
	if (created != NULL)
		*created = 0;
	buf_init_secret(&b, 256);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0) {
		if (errno != ENOENT || !create) {
			r = bg_fail(e, errno == ENOENT ? BG_ERR_NOTFOUND : BG_ERR_IO,
			    "key file '%s': %s", path, strerror(errno));
			goto out;
		}
		randombytes_buf(raw, sizeof(raw));
		hash_hex(raw, sizeof(raw), hex);
		hex[2 * BUNDLE_KEYBYTES] = '\n';
		if ((r = fileio_write_atomic(path, hex, 2 * BUNDLE_KEYBYTES + 1, 0600, 1, e)) != 0)
			goto out;
		bundle_key_from(k, raw);
		if (created != NULL)
			*created = 1;
		goto out;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		r = bg_fail(e, BG_ERR_INVALID, "key file '%s' is not a regular file", path);
		goto out;
	}
	if ((st.st_mode & 077) != 0) {
		r = bg_fail(e, BG_ERR_PERM, "key file '%s' is readable by others (mode %03o)", path,
		    (unsigned)(st.st_mode & 0777));
		goto out;
	}
	if ((r = fileio_read_fd(fd, 256, &b, e)) != 0)
		goto out;
	if (!(b.len == 2 * BUNDLE_KEYBYTES || (b.len == 2 * BUNDLE_KEYBYTES + 1 &&
	    b.data[b.len - 1] == '\n'))) {
		r = bg_fail(e, BG_ERR_INVALID, "key file '%s': want 64 hex digits", path);
		goto out;
	}
	if (!lowhex(b.data, 2 * BUNDLE_KEYBYTES) || sodium_hex2bin(raw, sizeof(raw), b.data,
	    2 * BUNDLE_KEYBYTES, NULL, NULL, NULL) != 0) {
		r = bg_fail(e, BG_ERR_INVALID, "key file '%s': want 64 hex digits", path);
		goto out;
	}
	bundle_key_from(k, raw);
out:
	if (fd >= 0)
		close(fd);
	sodium_memzero(raw, sizeof(raw));
	sodium_memzero(hex, sizeof(hex));
	buf_release(&b);
	return r;
}

void
bundle_key_hash(const bundle_key *k, const void *p, size_t n, char out[BUNDLE_HASHLEN + 1])
{
	unsigned char mac[crypto_auth_hmacsha256_BYTES];

	if (k == NULL) {
		memcpy(out, "-", 2);
		return;
	}
	crypto_auth_hmacsha256(mac, (const unsigned char *)p, n, k->k);
	out[0] = 'h';
	out[1] = ':';
	hash_hex(mac, 16, out + 2);
}

/* ---- writing ---- */

int
bundle_escape(const char *s, buf *out)
{
	if (s[0] == '\0')
		return buf_putc(out, '%');
	return snapshot_escape(s, out); /* the manifest's escaping, the same bytes */
}

static int
line3(buf *out, const char *a, const char *b, const char *c)
{
	int r;

	if ((r = bundle_escape(a, out)) != 0 || (r = buf_putc(out, ' ')) != 0 ||
	    (r = bundle_escape(b, out)) != 0 || (r = buf_putc(out, ' ')) != 0 ||
	    (r = bundle_escape(c, out)) != 0)
		return r;
	return buf_putc(out, '\n');
}

int
bundle_begin(buf *out, int64_t created, const char *profile, const bundle_key *k)
{
	char t[UTC_STRLEN];
	int r;

	utc_format(created, t);
	if ((r = buf_puts(out, BUNDLE_MAGIC "\n")) != 0 || (r = line3(out, "created", t, "-")) != 0 ||
	    (r = line3(out, "profile", profile, "-")) != 0)
		return r;
	return line3(out, "key-id", k != NULL ? k->id : "none", "-");
}

int
bundle_add(buf *out, int kind, const char *key, const char *value)
{
	if (kind < 0 || kind >= BK_NKINDS)
		return BG_ERR_USAGE;
	return line3(out, kinds[kind], key, value);
}

int
bundle_finish(buf *out)
{
	char h[HASH_HEXLEN];

	hash_sha256_hex(out->data, out->len, h);
	return line3(out, "end", "-", h);
}

/* ---- reading ---- */

/* A field: unescaped, and only in its canonical spelling (what
 * bundle_escape writes), so a bundle has one spelling. */
static int
unescape(const char *s, size_t n, buf *out, buf *check)
{
	buf_reset(out);
	buf_reset(check);
	if (n == 1 && s[0] == '%') { /* the empty string: still a C string */
		if (buf_reserve(out, 1) != 0)
			return BG_ERR_NOMEM;
		out->data[0] = '\0';
		return 0;
	}
	if (n == 0 || snapshot_unescape(s, n, out) != 0 || buf_has_nul(out) || out->len == 0 ||
	    bundle_escape(out->data, check) != 0 || check->len != n || memcmp(check->data, s, n) != 0)
		return BG_ERR_INVALID;
	return 0;
}

int
bundle_value_ok(const char *v)
{
	if (strcmp(v, "-") == 0)
		return 1;
	if (v[0] == '=')
		return 1;
	if (strncmp(v, "h:", 2) != 0 || strlen(v) != BUNDLE_HASHLEN)
		return 0;
	return lowhex(v + 2, BUNDLE_HASHLEN - 2);
}

static int
is_hex32(const char *s)
{
	return strlen(s) == 32 && lowhex(s, 32);
}

static int
rec_cmp(const void *a, const void *b)
{
	const bundle_rec *x = a, *y = b;

	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return strcmp(x->key, y->key);
}

void
bundle_release(bundle *b)
{
	size_t i;

	if (b == NULL)
		return;
	for (i = 0; i < b->n; i++) {
		free(b->r[i].key);
		free(b->r[i].value);
	}
	free(b->r);
	memset(b, 0, sizeof(*b));
}

/* Split a line into exactly three fields, unescaped into f[0..2]. */
static int
fields3(const char *s, size_t n, buf f[3], buf *check)
{
	const char *p = s, *end = s + n;
	int i;

	for (i = 0; i < 3; i++) {
		const char *q = i < 2 ? memchr(p, ' ', (size_t)(end - p)) : end;

		if (q == NULL || (i == 2 && memchr(p, ' ', (size_t)(end - p)) != NULL))
			return BG_ERR_INVALID;
		if (unescape(p, (size_t)(q - p), &f[i], check) != 0)
			return BG_ERR_INVALID;
		p = q + 1;
	}
	return 0;
}

static int
value_valid(int kind, const char *v)
{
	switch (kind) {
	case BK_RT:
	case BK_CFG:
	case BK_ENV:
		return bundle_value_ok(v);
	case BK_FILE:
	case BK_TREE:
		return bundle_value_ok(v) && v[0] != '=';
	case BK_SVC:
		return strcmp(v, "running") == 0 || strcmp(v, "stopped") == 0;
	case BK_PORT:
		return strcmp(v, "listen") == 0;
	case BK_DB:
		return bundle_value_ok(v);
	case BK_DBMIG:
		return strcmp(v, "applied") == 0;
	case BK_DBROWS: {
		size_t i = v[0] == '~', n = strlen(v);

		if (n == i || n - i > 19)
			return 0;
		for (; i < n; i++)
			if (v[i] < '0' || v[i] > '9')
				return 0;
		return 1;
	}
	case BK_RECENT: {
		int64_t t;

		return utc_parse(v, &t) == 0;
	}
	default:
		return 1;
	}
}

int
bundle_parse(const char *text, size_t len, bundle *out, bg_error *e)
{
	static const char *const head[] = { "created", "profile", "key-id" };
	buf f[3], check;
	const char *p = text, *end = text + len;
	size_t line = 0, i;
	int r = 0, done = 0;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < 3; i++)
		buf_init(&f[i], 1024 * 1024);
	buf_init(&check, 4 * 1024 * 1024);
	if (len > BUNDLE_MAX) {
		r = bg_fail(e, BG_ERR_TOOLARGE, "bundle over %u bytes", BUNDLE_MAX);
		goto out;
	}
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n;
		int k;

		line++;
		if (nl == NULL) {
			r = bg_fail(e, BG_ERR_INVALID, "line %zu: no newline at the end", line);
			goto out;
		}
		n = (size_t)(nl - p);
		if (done) {
			r = bg_fail(e, BG_ERR_INVALID, "line %zu: text after the end line", line);
			goto out;
		}
		if (line == 1) {
			if (n != strlen(BUNDLE_MAGIC) || memcmp(p, BUNDLE_MAGIC, n) != 0) {
				r = bg_fail(e, BG_ERR_INVALID, "line 1: not a breakglass bundle");
				goto out;
			}
			p = nl + 1;
			continue;
		}
		if (fields3(p, n, f, &check) != 0) {
			r = bg_fail(e, BG_ERR_INVALID, "line %zu: want three escaped fields", line);
			goto out;
		}
		if (line <= 4) {
			if (strcmp(f[0].data, head[line - 2]) != 0 || strcmp(f[2].data, "-") != 0) {
				r = bg_fail(e, BG_ERR_INVALID, "line %zu: want '%s'", line, head[line - 2]);
				goto out;
			}
			if (line == 2 && utc_parse(f[1].data, &out->created) != 0)
				r = bg_fail(e, BG_ERR_INVALID, "line 2: bad time");
			else if (line == 3 && (f[1].len == 0 || f[1].len >= sizeof(out->profile)))
				r = bg_fail(e, BG_ERR_INVALID, "line 3: bad profile name");
			else if (line == 3)
				memcpy(out->profile, f[1].data, f[1].len + 1);
			else if (line == 4 && strcmp(f[1].data, "none") != 0 && !is_hex32(f[1].data))
				r = bg_fail(e, BG_ERR_INVALID, "line 4: bad key id");
			else if (line == 4 && strcmp(f[1].data, "none") != 0)
				memcpy(out->key_id, f[1].data, BUNDLE_IDHEX);
			if (r != 0)
				goto out;
			p = nl + 1;
			continue;
		}
		if (strcmp(f[0].data, "end") == 0) {
			char h[HASH_HEXLEN];

			hash_sha256_hex(text, (size_t)(p - text), h);
			if (strcmp(f[1].data, "-") != 0 || strcmp(f[2].data, h) != 0) {
				r = bg_fail(e, BG_ERR_INVALID, "line %zu: the bundle's hash does not "
				    "match its content", line);
				goto out;
			}
			done = 1;
			p = nl + 1;
			continue;
		}
		for (k = 0; k < BK_NKINDS; k++)
			if (strcmp(f[0].data, kinds[k]) == 0)
				break;
		if (k == BK_NKINDS) {
			r = bg_fail(e, BG_ERR_INVALID, "line %zu: unknown record kind", line);
			goto out;
		}
		if (f[1].len == 0 || !value_valid(k, f[2].data)) {
			r = bg_fail(e, BG_ERR_INVALID, "line %zu: bad %s record", line, kinds[k]);
			goto out;
		}
		if (out->n == out->cap) {
			size_t nc = out->cap ? 2 * out->cap : 256;
			bundle_rec *nr = realloc(out->r, nc * sizeof(*nr));

			if (nr == NULL) {
				r = bg_fail(e, BG_ERR_NOMEM, "out of memory");
				goto out;
			}
			out->r = nr;
			out->cap = nc;
		}
		out->r[out->n].kind = k;
		out->r[out->n].line = line;
		out->r[out->n].key = buf_detach(&f[1], NULL);
		out->r[out->n].value = buf_detach(&f[2], NULL);
		if (out->r[out->n].key == NULL || out->r[out->n].value == NULL) {
			free(out->r[out->n].key);
			free(out->r[out->n].value);
			r = bg_fail(e, BG_ERR_NOMEM, "out of memory");
			goto out;
		}
		out->n++;
		p = nl + 1;
	}
	if (!done) {
		r = bg_fail(e, BG_ERR_INVALID, "line %zu: the bundle has no end line (truncated?)",
		    line);
		goto out;
	}
	if (out->n > 1)
		qsort(out->r, out->n, sizeof(*out->r), rec_cmp);
	for (i = 1; i < out->n; i++) {
		if (rec_cmp(&out->r[i - 1], &out->r[i]) == 0) {
			size_t l = out->r[i - 1].line > out->r[i].line ? out->r[i - 1].line :
			    out->r[i].line;

			r = bg_fail(e, BG_ERR_INVALID, "line %zu: duplicate %s record", l,
			    kinds[out->r[i].kind]);
			goto out;
		}
	}
out:
	for (i = 0; i < 3; i++)
		buf_release(&f[i]);
	buf_release(&check);
	if (r != 0)
		bundle_release(out);
	return r;
}

int
bundle_load(const char *path, bundle *out, bg_error *e)
{
	buf b;
	int r;

	memset(out, 0, sizeof(*out));
	buf_init(&b, BUNDLE_MAX);
	if ((r = fileio_read(path, BUNDLE_MAX, &b, e)) == 0 &&
	    (r = bundle_parse(b.data, b.len, out, e)) != 0 && e != NULL) {
		bg_error e2;

		memcpy(&e2, e, sizeof(e2));
		bg_fail(e, r, "bundle '%s': %s", path, e2.msg);
	}
	buf_release(&b);
	return r;
}
