/*
 * sshkey.c - OpenSSH key blobs (PROTOCOL.key, RFC 4253 6.6, RFC 5656,
 * RFC 8709, PROTOCOL.u2f).  The structure of every supported type is
 * checked here; signatures are verified in sshsig.c (libsodium for
 * ed25519, OpenSSL's libcrypto for the rest).  DSA is refused.
 */
#include "sshkey.h"
#include "wire.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define PRIV_MAGIC "openssh-key-v1"

int
sshkey_b64_decode(const char *s, size_t n, buf *out)
{
	size_t binlen;
	const char *end;
	int r;

	buf_reset(out);
	if (n == 0 || n > 64 * 1024)
		return BG_ERR_INVALID;
	if ((r = buf_append(out, "", 0)) != 0)
		return r;
	/* grow to a sure size, then decode in place */
	for (size_t i = 0; i < n / 4 * 3 + 3; i++)
		if ((r = buf_putc(out, 0)) != 0)
			return r;
	if (sodium_base642bin((unsigned char *)out->data, out->len, s, n, "\n",
	    &binlen, &end, sodium_base64_VARIANT_ORIGINAL) != 0 || end != s + n) {
		buf_reset(out);
		return BG_ERR_INVALID;
	}
	out->len = binlen;
	out->data[binlen] = '\0';
	return 0;
}

int
sshkey_armour(const char *label, const void *data, size_t len, buf *out)
{
	buf b64;
	int r;

	buf_init_secret(&b64, 4 * len / 3 + 16);
	if ((r = sshkey_b64_encode(data, len, &b64)) != 0 ||
	    (r = buf_printf(out, "-----BEGIN %s-----\n", label)) != 0)
		goto out;
	for (size_t i = 0; i < b64.len; i += 70) {
		size_t n = b64.len - i < 70 ? b64.len - i : 70;

		if ((r = buf_append(out, b64.data + i, n)) != 0 ||
		    (r = buf_putc(out, '\n')) != 0)
			goto out;
	}
	r = buf_printf(out, "-----END %s-----\n", label);
out:
	buf_release(&b64);
	return r;
}

int
sshkey_b64_encode(const unsigned char *p, size_t n, buf *out)
{
	size_t need = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL);
	size_t start = out->len;
	int r;

	for (size_t i = 0; i < need; i++)
		if ((r = buf_putc(out, 0)) != 0)
			return r;
	sodium_bin2base64(out->data + start, need, p, n, sodium_base64_VARIANT_ORIGINAL);
	out->len = start + need - 1;
	return 0;
}

static int
check_mpint(const unsigned char *p, size_t n)
{
	if (n == 0 || n > 2048)
		return BG_ERR_INVALID;
	if (p[0] & 0x80) /* negative */
		return BG_ERR_INVALID;
	return 0;
}

/* Uncompressed point length for an OpenSSH curve name, 0 if unknown. */
static size_t
ec_point_len(const char *curve)
{
	if (strcmp(curve, "nistp256") == 0)
		return 65;
	if (strcmp(curve, "nistp384") == 0)
		return 97;
	if (strcmp(curve, "nistp521") == 0)
		return 133;
	return 0;
}

/* A security key's application: non-empty printable text, "ssh:" for OpenSSH. */
static int
check_application(wire *w)
{
	const unsigned char *a;
	size_t an;

	if (wire_get_string(w, &a, &an) != 0 || an == 0 || an > 256)
		return BG_ERR_INVALID;
	for (size_t i = 0; i < an; i++)
		if (a[i] < 0x20 || a[i] > 0x7e)
			return BG_ERR_INVALID;
	return 0;
}

int
sshkey_from_blob(const unsigned char *p, size_t n, sshkey_pub *out, bg_error *e)
{
	wire w;
	const unsigned char *t, *a, *b;
	size_t tn, an, bn;

	memset(out, 0, sizeof(*out));
	wire_init(&w, p, n);
	if (wire_get_string(&w, &t, &tn) != 0 || tn == 0 || tn >= sizeof(out->type) ||
	    memchr(t, '\0', tn) != NULL)
		return bg_fail(e, BG_ERR_INVALID, "malformed public key");
	memcpy(out->type, t, tn);
	out->type[tn] = '\0';
	if (strcmp(out->type, "ssh-ed25519") == 0) {
		if (wire_get_string(&w, &a, &an) != 0 || an != 32 || wire_end(&w) != 0)
			return bg_fail(e, BG_ERR_INVALID, "malformed ed25519 key");
		memcpy(out->ed25519, a, 32);
		out->is_ed25519 = 1;
	} else if (strcmp(out->type, "ssh-rsa") == 0) {
		if (wire_get_string(&w, &a, &an) != 0 || check_mpint(a, an) != 0 ||
		    wire_get_string(&w, &b, &bn) != 0 || check_mpint(b, bn) != 0 ||
		    wire_end(&w) != 0)
			return bg_fail(e, BG_ERR_INVALID, "malformed RSA key");
		if (bn < 256) /* < 2048 bits (allowing a leading zero byte) */
			return bg_fail(e, BG_ERR_UNSUPPORTED, "RSA key shorter than 2048 bits");
	} else if (strncmp(out->type, "ecdsa-sha2-nistp", 16) == 0) {
		const char *curve = out->type + 11;

		if (strcmp(curve, "nistp256") && strcmp(curve, "nistp384") &&
		    strcmp(curve, "nistp521"))
			return bg_fail(e, BG_ERR_UNSUPPORTED, "unsupported key type '%s'", out->type);
		if (wire_expect_cstring(&w, curve) != 0 ||
		    wire_get_string(&w, &a, &an) != 0 || an != ec_point_len(curve) ||
		    a[0] != 0x04 || wire_end(&w) != 0)
			return bg_fail(e, BG_ERR_INVALID, "malformed ECDSA key");
	} else if (strcmp(out->type, SSHKEY_SK_ED25519) == 0) {
		if (wire_get_string(&w, &a, &an) != 0 || an != 32 ||
		    check_application(&w) != 0 || wire_end(&w) != 0)
			return bg_fail(e, BG_ERR_INVALID, "malformed sk-ed25519 key");
		memcpy(out->ed25519, a, 32); /* is_ed25519 stays 0: not a plain key */
	} else if (strcmp(out->type, SSHKEY_SK_ECDSA) == 0) {
		if (wire_expect_cstring(&w, "nistp256") != 0 ||
		    wire_get_string(&w, &a, &an) != 0 || an != 65 || a[0] != 0x04 ||
		    check_application(&w) != 0 || wire_end(&w) != 0)
			return bg_fail(e, BG_ERR_INVALID, "malformed sk-ecdsa key");
	} else if (strcmp(out->type, "ssh-dss") == 0) {
		return bg_fail(e, BG_ERR_POLICY, "DSA keys (ssh-dss) are refused: "
		    "OpenSSH dropped them; use ed25519, ECDSA or a security key");
	} else {
		return bg_fail(e, BG_ERR_UNSUPPORTED, "unsupported key type '%.40s'", out->type);
	}
	if ((out->blob = malloc(n)) == NULL)
		return BG_ERR_NOMEM;
	memcpy(out->blob, p, n);
	out->bloblen = n;
	return 0;
}

int
sshkey_parse_pub(const char *type, const char *b64, sshkey_pub *out, bg_error *e)
{
	buf raw;
	int r;

	memset(out, 0, sizeof(*out));
	buf_init(&raw, 64 * 1024);
	if (sshkey_b64_decode(b64, strlen(b64), &raw) != 0) {
		buf_release(&raw);
		return bg_fail(e, BG_ERR_INVALID, "public key is not valid base64");
	}
	r = sshkey_from_blob((unsigned char *)raw.data, raw.len, out, e);
	buf_release(&raw);
	if (r != 0)
		return r;
	if (strcmp(out->type, type) != 0) {
		sshkey_pub_release(out);
		return bg_fail(e, BG_ERR_INVALID, "key type '%.40s' does not match its blob", type);
	}
	return 0;
}

int
sshkey_parse_line(const char *line, sshkey_pub *out, char **comment, bg_error *e)
{
	const char *p = line, *t, *b;
	char type[64], *b64 = NULL;
	size_t tn, bn;
	int r;

	memset(out, 0, sizeof(*out));
	if (comment != NULL)
		*comment = NULL;
	while (*p == ' ' || *p == '\t')
		p++;
	t = p;
	while (*p && *p != ' ' && *p != '\t')
		p++;
	tn = (size_t)(p - t);
	if (tn == 0 || tn >= sizeof(type))
		return bg_fail(e, BG_ERR_INVALID, "expected 'key-type base64-key'");
	memcpy(type, t, tn);
	type[tn] = '\0';
	while (*p == ' ' || *p == '\t')
		p++;
	b = p;
	while (*p && *p != ' ' && *p != '\t' && *p != '\n')
		p++;
	bn = (size_t)(p - b);
	if (bn == 0)
		return bg_fail(e, BG_ERR_INVALID, "expected a base64 key after '%s'", type);
	if ((b64 = strndup(b, bn)) == NULL)
		return BG_ERR_NOMEM;
	r = sshkey_parse_pub(type, b64, out, e);
	free(b64);
	if (r != 0)
		return r;
	while (*p == ' ' || *p == '\t')
		p++;
	if (comment != NULL && *p != '\0' && *p != '\n') {
		size_t cn = strcspn(p, "\n");

		if ((*comment = strndup(p, cn)) == NULL) {
			sshkey_pub_release(out);
			return BG_ERR_NOMEM;
		}
	}
	return 0;
}

void
sshkey_pub_release(sshkey_pub *k)
{
	free(k->blob);
	memset(k, 0, sizeof(*k));
}

void
sshkey_fingerprint(const sshkey_pub *k, char out[SSHKEY_FP_LEN])
{
	unsigned char h[crypto_hash_sha256_BYTES];
	char b64[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_ORIGINAL_NO_PADDING)];

	crypto_hash_sha256(h, k->blob, k->bloblen);
	sodium_bin2base64(b64, sizeof(b64), h, sizeof(h),
	    sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
	memcpy(out, "SHA256:", 7);
	memcpy(out + 7, b64, strlen(b64) + 1);
}

int
sshkey_pub_format(const sshkey_pub *k, buf *out)
{
	int r;

	if ((r = buf_printf(out, "%s ", k->type)) != 0)
		return r;
	return sshkey_b64_encode(k->blob, k->bloblen, out);
}

int
sshkey_equal(const sshkey_pub *a, const sshkey_pub *b)
{
	return a->bloblen == b->bloblen && a->bloblen > 0 &&
	    memcmp(a->blob, b->blob, a->bloblen) == 0;
}

int
sshkey_from_ed25519(const unsigned char pk[32], sshkey_pub *out)
{
	buf b;
	int r;

	memset(out, 0, sizeof(*out));
	buf_init(&b, 1024);
	if ((r = buf_put_cstring(&b, "ssh-ed25519")) != 0 ||
	    (r = buf_put_string(&b, pk, 32)) != 0) {
		buf_release(&b);
		return r;
	}
	r = sshkey_from_blob((unsigned char *)b.data, b.len, out, NULL);
	buf_release(&b);
	return r;
}

int
sshkey_priv_generate(sshkey_priv *k)
{
	memset(k, 0, sizeof(*k));
	if ((k->sk = sodium_malloc(crypto_sign_SECRETKEYBYTES)) == NULL)
		return BG_ERR_NOMEM;
	crypto_sign_keypair(k->pk, k->sk);
	return 0;
}

void
sshkey_priv_release(sshkey_priv *k)
{
	if (k->sk != NULL)
		sodium_free(k->sk); /* sodium_free wipes before freeing */
	memset(k, 0, sizeof(*k));
}

int
sshkey_priv_format(const sshkey_priv *k, const char *comment, buf *out)
{
	buf pub, priv, all;
	uint32_t check;
	int r;

	buf_init(&pub, 1024);
	buf_init_secret(&priv, 4096);
	buf_init_secret(&all, 8192);
	randombytes_buf(&check, sizeof(check));
	if ((r = buf_put_cstring(&pub, "ssh-ed25519")) != 0 ||
	    (r = buf_put_string(&pub, k->pk, 32)) != 0 ||
	    (r = buf_put_u32(&priv, check)) != 0 ||
	    (r = buf_put_u32(&priv, check)) != 0 ||
	    (r = buf_put_cstring(&priv, "ssh-ed25519")) != 0 ||
	    (r = buf_put_string(&priv, k->pk, 32)) != 0 ||
	    (r = buf_put_string(&priv, k->sk, 64)) != 0 ||
	    (r = buf_put_cstring(&priv, comment)) != 0)
		goto out;
	for (unsigned char pad = 1; priv.len % 8 != 0; pad++)
		if ((r = buf_putc(&priv, (char)pad)) != 0)
			goto out;
	if ((r = buf_append(&all, PRIV_MAGIC, sizeof(PRIV_MAGIC))) != 0 ||
	    (r = buf_put_cstring(&all, "none")) != 0 ||
	    (r = buf_put_cstring(&all, "none")) != 0 ||
	    (r = buf_put_cstring(&all, "")) != 0 ||
	    (r = buf_put_u32(&all, 1)) != 0 ||
	    (r = buf_put_string(&all, pub.data, pub.len)) != 0 ||
	    (r = buf_put_string(&all, priv.data, priv.len)) != 0)
		goto out;
	r = sshkey_armour("OPENSSH PRIVATE KEY", all.data, all.len, out);
out:
	buf_release(&pub);
	buf_release(&priv);
	buf_release(&all);
	return r;
}

int
sshkey_priv_parse(const char *text, size_t len, sshkey_priv *k, bg_error *e)
{
	static const char begin[] = "-----BEGIN OPENSSH PRIVATE KEY-----\n";
	static const char end[] = "-----END OPENSSH PRIVATE KEY-----";
	buf raw;
	wire w, pw;
	const unsigned char *pub, *priv, *p, *s;
	size_t pubn, privn, pn, sn, bodylen;
	uint32_t nkeys, c1, c2;
	const char *body, *endp;
	int r = BG_ERR_CORRUPT;

	memset(k, 0, sizeof(*k));
	buf_init_secret(&raw, 64 * 1024);
	if (len < sizeof(begin) || memcmp(text, begin, sizeof(begin) - 1) != 0)
		return bg_fail(e, BG_ERR_CORRUPT, "not an OpenSSH private key");
	body = text + sizeof(begin) - 1;
	endp = strstr(body, end);
	if (endp == NULL)
		return bg_fail(e, BG_ERR_CORRUPT, "private key armour not terminated");
	bodylen = (size_t)(endp - body);
	while (bodylen > 0 && body[bodylen - 1] == '\n')
		bodylen--;
	if (sshkey_b64_decode(body, bodylen, &raw) != 0)
		goto bad;
	wire_init(&w, raw.data, raw.len);
	if (raw.len < sizeof(PRIV_MAGIC) || memcmp(raw.data, PRIV_MAGIC, sizeof(PRIV_MAGIC)) != 0)
		goto bad;
	w.off = sizeof(PRIV_MAGIC);
	if (wire_expect_cstring(&w, "none") != 0) {
		r = bg_fail(e, BG_ERR_UNSUPPORTED, "encrypted private keys are not supported");
		goto out;
	}
	if (wire_expect_cstring(&w, "none") != 0 || wire_expect_cstring(&w, "") != 0 ||
	    wire_get_u32(&w, &nkeys) != 0 || nkeys != 1 ||
	    wire_get_string(&w, &pub, &pubn) != 0 ||
	    wire_get_string(&w, &priv, &privn) != 0 || wire_end(&w) != 0 ||
	    privn % 8 != 0)
		goto bad;
	wire_init(&pw, priv, privn);
	if (wire_get_u32(&pw, &c1) != 0 || wire_get_u32(&pw, &c2) != 0 || c1 != c2 ||
	    wire_expect_cstring(&pw, "ssh-ed25519") != 0 ||
	    wire_get_string(&pw, &p, &pn) != 0 || pn != 32 ||
	    wire_get_string(&pw, &s, &sn) != 0 || sn != 64 ||
	    wire_get_string(&pw, &p, &pn) != 0) /* comment */
		goto bad;
	for (unsigned char pad = 1; pw.off < pw.len; pad++)
		if (pw.p[pw.off++] != pad)
			goto bad;
	if ((k->sk = sodium_malloc(64)) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	memcpy(k->sk, s, 64);
	memcpy(k->pk, s + 32, 32);
	/* the public half must match the secret's seed */
	{
		unsigned char pk2[32];

		crypto_sign_ed25519_sk_to_pk(pk2, k->sk);
		if (sodium_memcmp(pk2, k->pk, 32) != 0 || pubn != 51 ||
		    memcmp(pub + 19, k->pk, 32) != 0) {
			sshkey_priv_release(k);
			goto bad;
		}
	}
	r = 0;
	goto out;
bad:
	r = bg_fail(e, BG_ERR_CORRUPT, "malformed OpenSSH ed25519 private key");
out:
	buf_release(&raw);
	return r;
}
