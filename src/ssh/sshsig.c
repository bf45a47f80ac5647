/*
 * sshsig.c - PROTOCOL.sshsig: the blob
 *     "SSHSIG" uint32(1) string(publickey) string(namespace)
 *     string(reserved) string(hash_algorithm) string(signature)
 * signs
 *     "SSHSIG" string(namespace) string(reserved) string(hash_algorithm)
 *     string(H(message))
 *
 * Every signature type OpenSSH makes is verified in process: ed25519 with
 * libsodium; RSA (rsa-sha2-256/512), ECDSA P-256/384/521 and the security
 * key types of PROTOCOL.u2f with OpenSSL's libcrypto.
 */
#include "sigmemo.h"
#include "sshsig.h"
#include "wire.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARMOUR_BEGIN "-----BEGIN SSH SIGNATURE-----"
#define ARMOUR_END "-----END SSH SIGNATURE-----"

void
sshsig_release(sshsig *s)
{
	sshkey_pub_release(&s->key);
	free(s->ns);
	free(s->hashalg);
	free(s->sig);
	free(s->armoured);
	memset(s, 0, sizeof(*s));
}

int
sshsig_parse(const char *text, size_t len, sshsig *out, bg_error *e)
{
	buf raw, body;
	wire w;
	const unsigned char *pk, *res, *sg;
	size_t pkn, resn, sgn, i;
	uint32_t ver;
	const char *p, *end;
	int r;

	memset(out, 0, sizeof(*out));
	if (len > SSHSIG_MAX_ARMOURED)
		return bg_fail(e, BG_ERR_TOOLARGE, "signature larger than %u bytes",
		    SSHSIG_MAX_ARMOURED);
	if (memchr(text, '\0', len) != NULL)
		return bg_fail(e, BG_ERR_INVALID, "signature contains a NUL byte");
	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
		len--;
	if (len < sizeof(ARMOUR_BEGIN) || memcmp(text, ARMOUR_BEGIN "\n",
	    sizeof(ARMOUR_BEGIN)) != 0)
		return bg_fail(e, BG_ERR_INVALID,
		    "line 1: expected '" ARMOUR_BEGIN "'");
	p = text + sizeof(ARMOUR_BEGIN);
	end = text + len;
	if ((size_t)(end - p) < sizeof(ARMOUR_END) - 1 ||
	    memcmp(end - (sizeof(ARMOUR_END) - 1), ARMOUR_END, sizeof(ARMOUR_END) - 1) != 0)
		return bg_fail(e, BG_ERR_INVALID, "last line: expected '" ARMOUR_END "'");
	end -= sizeof(ARMOUR_END) - 1;
	buf_init(&body, SSHSIG_MAX_ARMOURED);
	buf_init(&raw, SSHSIG_MAX_ARMOURED);
	for (i = 0; p + i < end; i++) {
		char c = p[i];

		if (c == '\n')
			continue;
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '=')) {
			r = bg_fail(e, BG_ERR_INVALID,
			    "invalid character in signature body at byte %zu",
			    (size_t)(p - text) + i + 1);
			goto out;
		}
		if ((r = buf_putc(&body, c)) != 0)
			goto out;
	}
	if (sshkey_b64_decode(body.data ? body.data : "", body.len, &raw) != 0) {
		r = bg_fail(e, BG_ERR_INVALID, "signature body is not valid base64");
		goto out;
	}
	wire_init(&w, raw.data, raw.len);
	r = BG_ERR_INVALID;
	if (raw.len < 6 || memcmp(raw.data, "SSHSIG", 6) != 0) {
		bg_fail(e, r, "signature lacks the SSHSIG preamble");
		goto out;
	}
	w.off = 6;
	if (wire_get_u32(&w, &ver) != 0 || ver != 1) {
		bg_fail(e, r, "unsupported SSHSIG version");
		goto out;
	}
	if (wire_get_string(&w, &pk, &pkn) != 0 ||
	    wire_get_cstring(&w, &out->ns) != 0 ||
	    wire_get_string(&w, &res, &resn) != 0 ||
	    wire_get_cstring(&w, &out->hashalg) != 0 ||
	    wire_get_string(&w, &sg, &sgn) != 0 || wire_end(&w) != 0) {
		bg_fail(e, r, "malformed SSHSIG blob");
		goto out;
	}
	if (resn != 0) {
		bg_fail(e, r, "SSHSIG reserved field is not empty");
		goto out;
	}
	if (strcmp(out->hashalg, "sha512") != 0 && strcmp(out->hashalg, "sha256") != 0) {
		bg_fail(e, r, "unsupported SSHSIG hash algorithm");
		goto out;
	}
	if ((r = sshkey_from_blob(pk, pkn, &out->key, e)) != 0)
		goto out;
	if (sgn == 0 || sgn > 4096 || (out->sig = malloc(sgn)) == NULL) {
		r = bg_fail(e, BG_ERR_INVALID, "malformed SSHSIG signature");
		goto out;
	}
	memcpy(out->sig, sg, sgn);
	out->siglen = sgn;
	if ((out->armoured = strndup(text, len)) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	r = 0;
out:
	buf_release(&body);
	buf_release(&raw);
	if (r != 0)
		sshsig_release(out);
	return r;
}

int
sshsig_signed_data(const char *ns, const char *hashalg, const void *msg, size_t len,
    buf *out)
{
	unsigned char h[crypto_hash_sha512_BYTES];
	size_t hn;
	int r;

	if (strcmp(hashalg, "sha512") == 0) {
		crypto_hash_sha512(h, msg, len);
		hn = crypto_hash_sha512_BYTES;
	} else if (strcmp(hashalg, "sha256") == 0) {
		crypto_hash_sha256(h, msg, len);
		hn = crypto_hash_sha256_BYTES;
	} else {
		return BG_ERR_INVALID;
	}
	if ((r = buf_append(out, "SSHSIG", 6)) != 0 ||
	    (r = buf_put_cstring(out, ns)) != 0 ||
	    (r = buf_put_cstring(out, "")) != 0 ||
	    (r = buf_put_cstring(out, hashalg)) != 0 ||
	    (r = buf_put_string(out, h, hn)) != 0)
		return r;
	return 0;
}

/*
 * An SSH mpint that is a positive integer in minimal form, at most max
 * bytes once its sign byte is dropped.
 */
static int
get_posint(wire *w, const unsigned char **p, size_t *n, size_t max)
{
	if (wire_get_string(w, p, n) != 0 || *n == 0 || ((*p)[0] & 0x80) != 0)
		return BG_ERR_INVALID;
	if ((*p)[0] == 0) {
		if (*n == 1 || ((*p)[1] & 0x80) == 0) /* zero, or not minimal */
			return BG_ERR_INVALID;
		(*p)++;
		(*n)--;
	}
	return *n <= max ? 0 : BG_ERR_INVALID;
}

/* Verify one libcrypto signature (sig in the key's native encoding). */
static int
evp_verify(EVP_PKEY *pk, const EVP_MD *md, const unsigned char *sig, size_t sign,
    const void *data, size_t len)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok;

	if (ctx == NULL)
		return BG_ERR_NOMEM;
	ok = EVP_DigestVerifyInit(ctx, NULL, md, NULL, pk) == 1 &&
	    EVP_DigestVerify(ctx, sig, sign, data, len) == 1;
	EVP_MD_CTX_free(ctx);
	ERR_clear_error();
	return ok ? 0 : BG_ERR_SIGNATURE;
}

static int
pkey_from_params(const char *alg, OSSL_PARAM *params, EVP_PKEY **out)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, alg, NULL);
	int ok;

	*out = NULL;
	ok = ctx != NULL && EVP_PKEY_fromdata_init(ctx) == 1 &&
	    EVP_PKEY_fromdata(ctx, out, EVP_PKEY_PUBLIC_KEY, params) == 1;
	EVP_PKEY_CTX_free(ctx);
	ERR_clear_error();
	if (!ok) {
		EVP_PKEY_free(*out);
		*out = NULL;
		return BG_ERR_INVALID;
	}
	return 0;
}

static int
ec_pkey(const char *group, const unsigned char *q, size_t qn, EVP_PKEY **out)
{
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)group, 0),
		OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)q, qn),
		OSSL_PARAM_construct_end()
	};

	return pkey_from_params("EC", params, out);
}

/*
 * An SSH ECDSA signature body, string(mpint r, mpint s), checked against
 * data hashed with md.
 */
static int
ecdsa_verify(EVP_PKEY *pk, const EVP_MD *md, size_t order_len,
    const unsigned char *body, size_t bodyn, const void *data, size_t len)
{
	const unsigned char *rp, *sp;
	size_t rn, sn;
	ECDSA_SIG *es = NULL;
	BIGNUM *br = NULL, *bs = NULL;
	unsigned char *der = NULL;
	int dern, r;
	wire w;

	wire_init(&w, body, bodyn);
	if (get_posint(&w, &rp, &rn, order_len) != 0 ||
	    get_posint(&w, &sp, &sn, order_len) != 0 || wire_end(&w) != 0)
		return BG_ERR_SIGNATURE;
	r = BG_ERR_NOMEM;
	if ((es = ECDSA_SIG_new()) == NULL ||
	    (br = BN_bin2bn(rp, (int)rn, NULL)) == NULL ||
	    (bs = BN_bin2bn(sp, (int)sn, NULL)) == NULL)
		goto out;
	if (ECDSA_SIG_set0(es, br, bs) != 1)
		goto out;
	br = bs = NULL;
	if ((dern = i2d_ECDSA_SIG(es, &der)) <= 0)
		goto out;
	r = evp_verify(pk, md, der, (size_t)dern, data, len);
out:
	BN_free(br);
	BN_free(bs);
	ECDSA_SIG_free(es);
	OPENSSL_free(der);
	ERR_clear_error();
	return r;
}

static int
verify_ed25519(const unsigned char pk[32], const unsigned char *sig, size_t sign,
    const void *data, size_t len)
{
	if (sign != crypto_sign_BYTES)
		return BG_ERR_SIGNATURE;
	return sigmemo_verify(sig, data, len, pk) == 0 ? 0 : BG_ERR_SIGNATURE;
}

static int
verify_rsa(const sshsig *s, const char *sigalg, const unsigned char *sig, size_t sign,
    const void *data, size_t len, bg_error *e)
{
	const unsigned char *ep, *np;
	size_t en, nn;
	const EVP_MD *md;
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	BIGNUM *bn = NULL, *be = NULL;
	EVP_PKEY *pk = NULL;
	unsigned char *padded = NULL;
	wire w;
	int r;

	if (strcmp(sigalg, "rsa-sha2-512") == 0)
		md = EVP_sha512();
	else if (strcmp(sigalg, "rsa-sha2-256") == 0)
		md = EVP_sha256();
	else
		return bg_fail(e, BG_ERR_SIGNATURE, "RSA signature algorithm '%.40s' refused "
		    "(SHA-1 'ssh-rsa' signatures are not accepted; OpenSSH signs with "
		    "rsa-sha2-512)", sigalg);
	wire_init(&w, s->key.blob, s->key.bloblen);
	if (wire_expect_cstring(&w, "ssh-rsa") != 0 ||
	    get_posint(&w, &ep, &en, 8) != 0 || get_posint(&w, &np, &nn, 2048) != 0 ||
	    wire_end(&w) != 0)
		return bg_fail(e, BG_ERR_INVALID, "malformed RSA key");
	/* OpenSSH accepts a signature shorter than the modulus: pad it */
	if (sign == 0 || sign > nn)
		return bg_fail(e, BG_ERR_SIGNATURE, "malformed RSA signature");
	r = BG_ERR_NOMEM;
	if ((padded = calloc(1, nn)) == NULL)
		goto out;
	memcpy(padded + (nn - sign), sig, sign);
	if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
	    (bn = BN_bin2bn(np, (int)nn, NULL)) == NULL ||
	    (be = BN_bin2bn(ep, (int)en, NULL)) == NULL ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) != 1 ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be) != 1 ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL)
		goto out;
	if ((r = pkey_from_params("RSA", params, &pk)) != 0) {
		r = bg_fail(e, BG_ERR_INVALID, "RSA key not usable");
		goto out;
	}
	r = evp_verify(pk, md, padded, nn, data, len);
out:
	EVP_PKEY_free(pk);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn);
	BN_free(be);
	free(padded);
	ERR_clear_error();
	return r;
}

static int
verify_ecdsa(const sshsig *s, const char *sigalg, const unsigned char *sig, size_t sign,
    const void *data, size_t len, bg_error *e)
{
	static const struct {
		const char *curve, *group;
		size_t order_len;
		const EVP_MD *(*md)(void);
	} curves[] = {
		{ "nistp256", "P-256", 32, EVP_sha256 },
		{ "nistp384", "P-384", 48, EVP_sha384 },
		{ "nistp521", "P-521", 66, EVP_sha512 },
	};
	const unsigned char *q;
	size_t qn, i;
	EVP_PKEY *pk = NULL;
	wire w;
	int r;

	if (strcmp(sigalg, s->key.type) != 0)
		return bg_fail(e, BG_ERR_SIGNATURE, "signature type '%.60s' does not match "
		    "key type '%s'", sigalg, s->key.type);
	for (i = 0; i < sizeof(curves) / sizeof(curves[0]); i++)
		if (strcmp(s->key.type + 11, curves[i].curve) == 0)
			break;
	wire_init(&w, s->key.blob, s->key.bloblen);
	if (i == sizeof(curves) / sizeof(curves[0]) ||
	    wire_expect_cstring(&w, s->key.type) != 0 ||
	    wire_expect_cstring(&w, curves[i].curve) != 0 ||
	    wire_get_string(&w, &q, &qn) != 0 || wire_end(&w) != 0 ||
	    ec_pkey(curves[i].group, q, qn, &pk) != 0)
		return bg_fail(e, BG_ERR_INVALID, "ECDSA key not usable (not a point of %s)",
		    curves[i < 3 ? i : 0].group);
	r = ecdsa_verify(pk, curves[i].md(), curves[i].order_len, sig, sign, data, len);
	EVP_PKEY_free(pk);
	return r;
}

/* A JSON string's text needs no escaping to sit between quotes as is. */
static int
json_plain(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] < 0x20 || p[i] > 0x7e || p[i] == '"' || p[i] == '\\')
			return 0;
	return 1;
}

/*
 * The webauthn form (PROTOCOL.u2f): the authenticator signed
 * clientDataJSON, which must begin with
 *   {"type":"webauthn.get","challenge":"<base64url(data)>","origin":"<origin>"
 * and the origin must be one the caller allows.  *cdhash receives
 * SHA-256(clientDataJSON).
 */
static int
webauthn_check(const void *data, size_t len, const unsigned char *origin, size_t on,
    const unsigned char *cd, size_t cdn, const sshsig_opts *o,
    unsigned char cdhash[32], bg_error *e)
{
	static const char p0[] = "{\"type\":\"webauthn.get\",\"challenge\":\"";
	static const char p1[] = "\",\"origin\":\"";
	buf want;
	size_t i, b64n;
	int ok = 0, r;

	if (on == 0 || !json_plain(origin, on))
		return bg_fail(e, BG_ERR_SIGNATURE, "webauthn signature: malformed origin");
	for (i = 0; o != NULL && i < o->n_origins; i++)
		if (strlen(o->webauthn_origins[i]) == on &&
		    memcmp(o->webauthn_origins[i], origin, on) == 0)
			ok = 1;
	if (!ok)
		return bg_fail(e, BG_ERR_SIGNATURE, "webauthn signature from origin '%.*s', "
		    "which is not allowed (add 'webauthn-origin: %.*s' to the config to "
		    "accept it)", (int)(on < 200 ? on : 200), (const char *)origin,
		    (int)(on < 200 ? on : 200), (const char *)origin);
	b64n = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	buf_init(&want, 64 * 1024);
	if ((r = buf_append(&want, p0, sizeof(p0) - 1)) != 0)
		goto out;
	for (i = 0; i < b64n; i++)
		if ((r = buf_putc(&want, 0)) != 0)
			goto out;
	sodium_bin2base64(want.data + sizeof(p0) - 1, b64n, data, len,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	want.len = sizeof(p0) - 1 + b64n - 1;
	if ((r = buf_append(&want, p1, sizeof(p1) - 1)) != 0 ||
	    (r = buf_append(&want, origin, on)) != 0 ||
	    (r = buf_putc(&want, '"')) != 0)
		goto out;
	if (cdn < want.len || memcmp(cd, want.data, want.len) != 0) {
		r = bg_fail(e, BG_ERR_SIGNATURE, "webauthn clientData does not carry this "
		    "statement as its challenge");
		goto out;
	}
	crypto_hash_sha256(cdhash, cd, cdn);
	r = 0;
out:
	buf_release(&want);
	return r;
}

/*
 * Security keys (PROTOCOL.u2f): the authenticator signs
 *   SHA-256(application) || flags || uint32 counter || [extensions] || SHA-256(data)
 * (the webauthn form has SHA-256(clientDataJSON) last).  User presence
 * (flag 0x01) is required; ssh-keygen leaves that to allowed_signers options.
 */
static int
verify_sk(const sshsig *s, const char *sigalg, const unsigned char *sigbody, size_t sigbodyn,
    wire *rest, const void *data, size_t len, const sshsig_opts *o, bg_error *e)
{
	const unsigned char *q = NULL, *app, *origin = NULL, *cd = NULL, *ext = NULL;
	size_t qn = 0, appn, on = 0, cdn = 0, extn = 0;
	unsigned char flags, ctr[4], apphash[32], msghash[32];
	int is_ed = strcmp(s->key.type, SSHKEY_SK_ED25519) == 0;
	int webauthn = 0, r;
	EVP_PKEY *pk = NULL;
	buf tbs;
	wire w;

	if (is_ed) {
		if (strcmp(sigalg, SSHKEY_SK_ED25519) != 0)
			return bg_fail(e, BG_ERR_SIGNATURE, "signature type '%.60s' does not "
			    "match key type '%s'", sigalg, s->key.type);
	} else if (strcmp(sigalg, "webauthn-sk-ecdsa-sha2-nistp256@openssh.com") == 0) {
		webauthn = 1;
	} else if (strcmp(sigalg, SSHKEY_SK_ECDSA) != 0) {
		return bg_fail(e, BG_ERR_SIGNATURE, "signature type '%.60s' does not match "
		    "key type '%s'", sigalg, s->key.type);
	}
	if (wire_get_bytes(rest, &flags, 1) != 0 || wire_get_bytes(rest, ctr, 4) != 0 ||
	    (webauthn && (wire_get_string(rest, &origin, &on) != 0 ||
	    wire_get_string(rest, &cd, &cdn) != 0 ||
	    wire_get_string(rest, &ext, &extn) != 0)) || wire_end(rest) != 0)
		return bg_fail(e, BG_ERR_SIGNATURE, "malformed %s signature", sigalg);
	if ((flags & 0x01) == 0)
		return bg_fail(e, BG_ERR_SIGNATURE, "security key signature made without user "
		    "presence (the key was not touched)");
	wire_init(&w, s->key.blob, s->key.bloblen);
	if (wire_expect_cstring(&w, s->key.type) != 0 ||
	    (!is_ed && wire_expect_cstring(&w, "nistp256") != 0) ||
	    wire_get_string(&w, &q, &qn) != 0 || wire_get_string(&w, &app, &appn) != 0 ||
	    wire_end(&w) != 0)
		return bg_fail(e, BG_ERR_INVALID, "malformed %s key", s->key.type);
	if (webauthn) {
		/* extension data present exactly when the ED flag says so; no AD */
		if ((flags & 0x40) != 0 || ((flags & 0x80) != 0) != (extn != 0))
			return bg_fail(e, BG_ERR_SIGNATURE, "webauthn signature flags "
			    "inconsistent");
		if ((r = webauthn_check(data, len, origin, on, cd, cdn, o, msghash, e)) != 0)
			return r;
	} else {
		crypto_hash_sha256(msghash, data, len);
	}
	crypto_hash_sha256(apphash, app, appn);
	buf_init(&tbs, 64 * 1024);
	if ((r = buf_append(&tbs, apphash, 32)) != 0 ||
	    (r = buf_append(&tbs, &flags, 1)) != 0 ||
	    (r = buf_append(&tbs, ctr, 4)) != 0 ||
	    (extn > 0 && (r = buf_append(&tbs, ext, extn)) != 0) ||
	    (r = buf_append(&tbs, msghash, 32)) != 0)
		goto out;
	if (is_ed) {
		r = verify_ed25519(s->key.ed25519, sigbody, sigbodyn, tbs.data, tbs.len);
	} else {
		if (ec_pkey("P-256", q, qn, &pk) != 0) {
			r = bg_fail(e, BG_ERR_INVALID, "sk-ecdsa key not usable");
			goto out;
		}
		r = ecdsa_verify(pk, EVP_sha256(), 32, sigbody, sigbodyn, tbs.data, tbs.len);
	}
out:
	EVP_PKEY_free(pk);
	buf_release(&tbs);
	return r;
}

int
sshsig_verify_opts(const sshsig *s, const void *msg, size_t len, const char *ns,
    const sshsig_opts *o, bg_error *e)
{
	buf sd;
	wire w;
	const unsigned char *sig;
	size_t sign;
	char *sigalg = NULL;
	bg_error tmp;
	int r;

	if (strcmp(s->ns, ns) != 0)
		return bg_fail(e, BG_ERR_SIGNATURE,
		    "signature is for namespace '%.64s', not '%s'", s->ns, ns);
	wire_init(&w, s->sig, s->siglen);
	if (wire_get_cstring(&w, &sigalg) != 0 || wire_get_string(&w, &sig, &sign) != 0) {
		free(sigalg);
		return bg_fail(e, BG_ERR_SIGNATURE, "malformed %s signature", s->key.type);
	}
	memset(&tmp, 0, sizeof(tmp));
	buf_init(&sd, 4096);
	if ((r = sshsig_signed_data(s->ns, s->hashalg, msg, len, &sd)) != 0)
		goto out;
	if (strncmp(s->key.type, "sk-", 3) == 0) {
		r = verify_sk(s, sigalg, sig, sign, &w, sd.data, sd.len, o, &tmp);
		goto out;
	}
	if (wire_end(&w) != 0) {
		r = bg_fail(&tmp, BG_ERR_SIGNATURE, "malformed %s signature", s->key.type);
		goto out;
	}
	if (s->key.is_ed25519) {
		if (strcmp(sigalg, "ssh-ed25519") != 0 || sign != crypto_sign_BYTES)
			r = bg_fail(&tmp, BG_ERR_SIGNATURE, "malformed ed25519 signature");
		else
			r = verify_ed25519(s->key.ed25519, sig, sign, sd.data, sd.len);
	} else if (strcmp(s->key.type, "ssh-rsa") == 0) {
		r = verify_rsa(s, sigalg, sig, sign, sd.data, sd.len, &tmp);
	} else if (strncmp(s->key.type, "ecdsa-sha2-", 11) == 0) {
		r = verify_ecdsa(s, sigalg, sig, sign, sd.data, sd.len, &tmp);
	} else {
		r = bg_fail(&tmp, BG_ERR_UNSUPPORTED, "cannot verify %s signatures",
		    s->key.type);
	}
out:
	free(sigalg);
	buf_release(&sd);
	if (r == BG_ERR_SIGNATURE && tmp.msg[0] == '\0')
		bg_fail(&tmp, r, "signature does not match the statement");
	if (r != 0)
		return bg_fail(e, r, "%s", tmp.msg);
	return 0;
}

int
sshsig_verify(const sshsig *s, const void *msg, size_t len, const char *ns,
    bg_error *e)
{
	return sshsig_verify_opts(s, msg, len, ns, NULL, e);
}

int
sshsig_sign(const sshkey_priv *k, const void *msg, size_t len, const char *ns,
    buf *out)
{
	buf sd, blob, inner, pub;
	unsigned char sig[64];
	int r;

	buf_init(&sd, 4096);
	buf_init(&blob, 4096);
	buf_init(&inner, 256);
	buf_init(&pub, 256);
	if ((r = sshsig_signed_data(ns, "sha512", msg, len, &sd)) != 0)
		goto out;
	crypto_sign_detached(sig, NULL, (unsigned char *)sd.data, sd.len, k->sk);
	if ((r = buf_put_cstring(&pub, "ssh-ed25519")) != 0 ||
	    (r = buf_put_string(&pub, k->pk, 32)) != 0 ||
	    (r = buf_put_cstring(&inner, "ssh-ed25519")) != 0 ||
	    (r = buf_put_string(&inner, sig, 64)) != 0 ||
	    (r = buf_append(&blob, "SSHSIG", 6)) != 0 ||
	    (r = buf_put_u32(&blob, 1)) != 0 ||
	    (r = buf_put_string(&blob, pub.data, pub.len)) != 0 ||
	    (r = buf_put_cstring(&blob, ns)) != 0 ||
	    (r = buf_put_cstring(&blob, "")) != 0 ||
	    (r = buf_put_cstring(&blob, "sha512")) != 0 ||
	    (r = buf_put_string(&blob, inner.data, inner.len)) != 0)
		goto out;
	r = sshkey_armour("SSH SIGNATURE", blob.data, blob.len, out);
out:
	buf_release(&sd);
	buf_release(&blob);
	buf_release(&inner);
	buf_release(&pub);
	return r;
}
