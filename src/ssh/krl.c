/*
 * krl.c - KRL writer and reader.
 *
 *   uint64 KRL_MAGIC ("SSHKRL\n\0")  uint32 format version (1)
 *   uint64 krl_version  uint64 generated_date  uint64 flags
 *   string reserved  string comment
 *   then sections: byte type, string data
 */
#include "krl.h"
#include "wire.h"

#include <stdlib.h>
#include <string.h>

#define KRL_MAGIC_BYTES "SSHKRL\n\0"
#define SEC_CERTIFICATES 1
#define SEC_EXPLICIT_KEY 2
#define SEC_FP_SHA1 3
#define SEC_SIGNATURE 4
#define SEC_FP_SHA256 5
#define SEC_EXTENSION 255
#define CERT_SERIAL_LIST 0x20
#define CERT_SERIAL_RANGE 0x21
#define CERT_SERIAL_BITMAP 0x22
#define CERT_KEY_ID 0x23
#define CERT_EXTENSION 0x39

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int
krl_write(const unsigned char ca_pk[32], const uint64_t *serials, size_t n,
    uint64_t version, int64_t now, buf *out)
{
	buf sec, list, cakey;
	uint64_t *s = NULL;
	size_t i;
	int r;

	buf_init(&sec, KRL_MAX_SIZE);
	buf_init(&list, KRL_MAX_SIZE);
	buf_init(&cakey, 256);
	if ((r = buf_append(out, KRL_MAGIC_BYTES, 8)) != 0 ||
	    (r = buf_put_u32(out, 1)) != 0 ||
	    (r = buf_put_u64(out, version)) != 0 ||
	    (r = buf_put_u64(out, (uint64_t)now)) != 0 ||
	    (r = buf_put_u64(out, 0)) != 0 ||
	    (r = buf_put_string(out, "", 0)) != 0 ||
	    (r = buf_put_cstring(out, "breakglass")) != 0)
		goto out;
	if (n > 0) {
		if ((s = malloc(n * sizeof(*s))) == NULL) {
			r = BG_ERR_NOMEM;
			goto out;
		}
		memcpy(s, serials, n * sizeof(*s));
		qsort(s, n, sizeof(*s), cmp_u64);
		for (i = 0; i < n; i++)
			if ((i == 0 || s[i] != s[i - 1]) && (r = buf_put_u64(&list, s[i])) != 0)
				goto out;
		if ((r = buf_put_cstring(&cakey, "ssh-ed25519")) != 0 ||
		    (r = buf_put_string(&cakey, ca_pk, 32)) != 0 ||
		    (r = buf_put_string(&sec, cakey.data, cakey.len)) != 0 ||
		    (r = buf_put_string(&sec, "", 0)) != 0 ||
		    (r = buf_putc(&sec, CERT_SERIAL_LIST)) != 0 ||
		    (r = buf_put_string(&sec, list.data, list.len)) != 0 ||
		    (r = buf_putc(out, SEC_CERTIFICATES)) != 0 ||
		    (r = buf_put_string(out, sec.data, sec.len)) != 0)
			goto out;
	}
out:
	free(s);
	buf_release(&sec);
	buf_release(&list);
	buf_release(&cakey);
	return r;
}

void
krl_release(krl *k)
{
	size_t i, j;

	for (i = 0; i < k->ncas; i++) {
		free(k->cas[i].ca_blob);
		free(k->cas[i].ranges);
		for (j = 0; j < k->cas[i].nkey_ids; j++)
			free(k->cas[i].key_ids[j]);
		free(k->cas[i].key_ids);
	}
	free(k->cas);
	memset(k, 0, sizeof(*k));
}

static int
add_range(krl_ca *c, uint64_t lo, uint64_t hi)
{
	krl_range *v;

	if (c->nranges >= 1u << 20)
		return BG_ERR_TOOLARGE;
	if ((v = realloc(c->ranges, (c->nranges + 1) * sizeof(*v))) == NULL)
		return BG_ERR_NOMEM;
	c->ranges = v;
	v[c->nranges].lo = lo;
	v[c->nranges].hi = hi;
	c->nranges++;
	return 0;
}

static int
parse_extension(const unsigned char *p, size_t n)
{
	wire w;
	const unsigned char *name, *body;
	size_t nn, bn;
	unsigned char crit;

	wire_init(&w, p, n);
	if (wire_get_string(&w, &name, &nn) != 0 || wire_get_bytes(&w, &crit, 1) != 0 ||
	    wire_get_string(&w, &body, &bn) != 0 || wire_end(&w) != 0)
		return BG_ERR_INVALID;
	/* we understand no extension: critical ones make the KRL unusable */
	return crit ? BG_ERR_UNSUPPORTED : 0;
}

static int
parse_cert_section(const unsigned char *p, size_t n, krl *k, bg_error *e)
{
	wire w, sw;
	const unsigned char *ca, *res, *d;
	size_t can, resn, dn;
	krl_ca *c, *v;
	unsigned char t;
	int r;

	wire_init(&w, p, n);
	if (wire_get_string(&w, &ca, &can) != 0 || wire_get_string(&w, &res, &resn) != 0)
		return bg_fail(e, BG_ERR_INVALID, "malformed KRL certificate section");
	if (k->ncas >= 1024 || (v = realloc(k->cas, (k->ncas + 1) * sizeof(*v))) == NULL)
		return bg_fail(e, BG_ERR_TOOLARGE, "too many KRL sections");
	k->cas = v;
	c = &k->cas[k->ncas++];
	memset(c, 0, sizeof(*c));
	if (can > 0) {
		sshkey_pub tmp;

		if (sshkey_from_blob(ca, can, &tmp, NULL) != 0)
			return bg_fail(e, BG_ERR_INVALID, "KRL names an invalid CA key");
		sshkey_pub_release(&tmp);
		if ((c->ca_blob = malloc(can)) == NULL)
			return BG_ERR_NOMEM;
		memcpy(c->ca_blob, ca, can);
		c->ca_len = can;
	}
	while (w.off < w.len) {
		if (wire_get_bytes(&w, &t, 1) != 0 || wire_get_string(&w, &d, &dn) != 0)
			return bg_fail(e, BG_ERR_INVALID, "malformed KRL certificate subsection");
		wire_init(&sw, d, dn);
		switch (t) {
		case CERT_SERIAL_LIST:
			if (dn % 8 != 0)
				return bg_fail(e, BG_ERR_INVALID, "malformed KRL serial list");
			while (sw.off < sw.len) {
				uint64_t s;

				wire_get_u64(&sw, &s);
				if ((r = add_range(c, s, s)) != 0)
					return bg_fail(e, r, "KRL too large");
			}
			break;
		case CERT_SERIAL_RANGE: {
			uint64_t lo, hi;

			if (wire_get_u64(&sw, &lo) != 0 || wire_get_u64(&sw, &hi) != 0 ||
			    wire_end(&sw) != 0 || lo > hi)
				return bg_fail(e, BG_ERR_INVALID, "malformed KRL serial range");
			if ((r = add_range(c, lo, hi)) != 0)
				return bg_fail(e, r, "KRL too large");
			break;
		}
		case CERT_SERIAL_BITMAP: {
			uint64_t off;
			const unsigned char *bm;
			size_t bmn, i;

			if (wire_get_u64(&sw, &off) != 0 || wire_get_string(&sw, &bm, &bmn) != 0 ||
			    wire_end(&sw) != 0 || bmn > 1u << 20)
				return bg_fail(e, BG_ERR_INVALID, "malformed KRL serial bitmap");
			/* mpint, big endian: bit 0 is the last byte's lowest bit */
			for (i = 0; i < bmn * 8; i++) {
				if (bm[bmn - 1 - i / 8] & (1u << (i % 8))) {
					if (off + i < off)
						return bg_fail(e, BG_ERR_INVALID, "KRL bitmap overflows");
					if ((r = add_range(c, off + i, off + i)) != 0)
						return bg_fail(e, r, "KRL too large");
				}
			}
			break;
		}
		case CERT_KEY_ID:
			while (sw.off < sw.len) {
				char **ids;

				if (c->nkey_ids >= 1u << 16 ||
				    (ids = realloc(c->key_ids, (c->nkey_ids + 1) * sizeof(*ids))) == NULL)
					return bg_fail(e, BG_ERR_TOOLARGE, "KRL too large");
				c->key_ids = ids;
				if (wire_get_cstring(&sw, &c->key_ids[c->nkey_ids]) != 0)
					return bg_fail(e, BG_ERR_INVALID, "malformed KRL key id");
				c->nkey_ids++;
			}
			break;
		case CERT_EXTENSION:
			if ((r = parse_extension(d, dn)) != 0)
				return bg_fail(e, r, "KRL has an unusable certificate extension");
			break;
		default:
			return bg_fail(e, BG_ERR_INVALID, "unknown KRL certificate subsection %u", t);
		}
	}
	return 0;
}

int
krl_parse(const void *p, size_t n, krl *k, bg_error *e)
{
	wire w;
	uint32_t fmt;
	uint64_t flags;
	const unsigned char *res, *com, *d;
	size_t resn, comn, dn;
	unsigned char t;
	int r;

	memset(k, 0, sizeof(*k));
	if (n > KRL_MAX_SIZE)
		return bg_fail(e, BG_ERR_TOOLARGE, "KRL larger than %u bytes", KRL_MAX_SIZE);
	if (n < 8 || memcmp(p, KRL_MAGIC_BYTES, 8) != 0)
		return bg_fail(e, BG_ERR_INVALID, "not an OpenSSH KRL");
	wire_init(&w, p, n);
	w.off = 8;
	if (wire_get_u32(&w, &fmt) != 0 || fmt != 1 || wire_get_u64(&w, &k->version) != 0 ||
	    wire_get_u64(&w, &k->generated) != 0 || wire_get_u64(&w, &flags) != 0 ||
	    wire_get_string(&w, &res, &resn) != 0 || wire_get_string(&w, &com, &comn) != 0)
		return bg_fail(e, BG_ERR_INVALID, "malformed KRL header");
	while (w.off < w.len) {
		if (wire_get_bytes(&w, &t, 1) != 0) {
			r = bg_fail(e, BG_ERR_INVALID, "malformed KRL section");
			goto fail;
		}
		if (t == SEC_SIGNATURE) {
			r = bg_fail(e, BG_ERR_UNSUPPORTED, "signed KRLs are not supported");
			goto fail;
		}
		if (wire_get_string(&w, &d, &dn) != 0) {
			r = bg_fail(e, BG_ERR_INVALID, "malformed KRL section");
			goto fail;
		}
		switch (t) {
		case SEC_CERTIFICATES:
			if ((r = parse_cert_section(d, dn, k, e)) != 0)
				goto fail;
			break;
		case SEC_EXPLICIT_KEY:
		case SEC_FP_SHA1:
		case SEC_FP_SHA256: {
			wire sw;
			const unsigned char *x;
			size_t xn;

			wire_init(&sw, d, dn);
			while (sw.off < sw.len) {
				if (wire_get_string(&sw, &x, &xn) != 0) {
					r = bg_fail(e, BG_ERR_INVALID, "malformed KRL key section");
					goto fail;
				}
				k->nkeys++;
			}
			break;
		}
		case SEC_EXTENSION:
			if ((r = parse_extension(d, dn)) != 0) {
				r = bg_fail(e, r, "KRL has an unusable extension");
				goto fail;
			}
			break;
		default:
			r = bg_fail(e, BG_ERR_INVALID, "unknown KRL section type %u", t);
			goto fail;
		}
	}
	return 0;
fail:
	krl_release(k);
	return r;
}

int
krl_cert_revoked(const krl *k, const unsigned char *ca, size_t calen, uint64_t serial,
    const char *key_id)
{
	size_t i, j;

	for (i = 0; i < k->ncas; i++) {
		const krl_ca *c = &k->cas[i];

		if (c->ca_blob != NULL && (c->ca_len != calen || memcmp(c->ca_blob, ca, calen) != 0))
			continue;
		for (j = 0; j < c->nranges; j++)
			if (serial >= c->ranges[j].lo && serial <= c->ranges[j].hi)
				return 1;
		for (j = 0; key_id && j < c->nkey_ids; j++)
			if (strcmp(c->key_ids[j], key_id) == 0)
				return 1;
	}
	return 0;
}
