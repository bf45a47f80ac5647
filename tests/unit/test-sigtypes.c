/*
 * test-sigtypes.c - every signature type OpenSSH makes, verified in
 * process: OpenSSH's own test vectors (tests/unit/data/openssh-sshsig,
 * see its ORIGIN), and signatures built here from software keys as
 * PROTOCOL.sshsig and PROTOCOL.u2f describe (security keys, webauthn,
 * rsa-sha2-256, the refused SHA-1 ssh-rsa).
 */
#include "unit.h"
#include "fileio.h"
#include "sshkey.h"
#include "sshsig.h"

#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#define VEC "tests/unit/data/openssh-sshsig/"

static char *
slurp(const char *name)
{
	buf b;
	bg_error e;
	char path[256], *s;

	snprintf(path, sizeof(path), VEC "%s", name);
	buf_init(&b, 64 * 1024);
	assert_int_equal(fileio_read(path, 64 * 1024, &b, &e), 0);
	s = strdup(buf_cstr(&b));
	buf_release(&b);
	assert_non_null(s);
	return s;
}

/* Verify VEC/<name>.sig over VEC/signed-data with VEC/<name>.pub's key. */
static int
check_vector(const char *name, const sshsig_opts *o, int alter, bg_error *e)
{
	char f[64], *pub, *sigtext, *msg, *ns;
	sshkey_pub k;
	sshsig s;
	int r;

	snprintf(f, sizeof(f), "%s.pub", name);
	pub = slurp(f);
	snprintf(f, sizeof(f), "%s.sig", name);
	sigtext = slurp(f);
	msg = slurp("signed-data");
	ns = slurp("namespace");
	assert_int_equal(sshkey_parse_line(pub, &k, NULL, e), 0);
	assert_int_equal(sshsig_parse(sigtext, strlen(sigtext), &s, e), 0);
	assert_true(sshkey_equal(&k, &s.key));
	if (alter)
		msg[0] ^= 1;
	r = sshsig_verify_opts(&s, msg, strlen(msg), ns, o, e);
	sshsig_release(&s);
	sshkey_pub_release(&k);
	free(pub);
	free(sigtext);
	free(msg);
	free(ns);
	return r;
}

static void
openssh_vectors(void **state)
{
	static const char *const names[] = { "ed25519", "ecdsa", "rsa", "ed25519_sk", "ecdsa_sk" };
	const char *const origins[] = { "https://www.mindrot.org" };
	const char *const other[] = { "https://approve.shop.example" };
	sshsig_opts o = { origins, 1 }, wrong = { other, 1 };
	bg_error e;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		print_message("vector %s\n", names[i]);
		assert_int_equal(check_vector(names[i], NULL, 0, &e), 0);
		assert_int_equal(check_vector(names[i], NULL, 1, &e), BG_ERR_SIGNATURE);
	}
	/* webauthn: only for an allowed origin */
	assert_int_equal(check_vector("ecdsa_sk_webauthn", &o, 0, &e), 0);
	assert_int_equal(check_vector("ecdsa_sk_webauthn", &o, 1, &e), BG_ERR_SIGNATURE);
	assert_int_equal(check_vector("ecdsa_sk_webauthn", NULL, 0, &e), BG_ERR_SIGNATURE);
	assert_non_null(strstr(e.msg, "webauthn-origin: https://www.mindrot.org"));
	assert_int_equal(check_vector("ecdsa_sk_webauthn", &wrong, 0, &e), BG_ERR_SIGNATURE);
	assert_non_null(strstr(e.msg, "not allowed"));
}

/* ---- building signatures from software keys ---- */

static void
put_mpint(buf *b, const unsigned char *p, size_t n)
{
	unsigned char tmp[600];
	size_t k = 0;

	while (n > 0 && *p == 0) {
		p++;
		n--;
	}
	assert_true(n + 1 <= sizeof(tmp));
	if (n > 0 && (p[0] & 0x80))
		tmp[k++] = 0;
	memcpy(tmp + k, p, n);
	assert_int_equal(buf_put_string(b, tmp, k + n), 0);
}

/* Armoured SSHSIG of inner signature blob sig by key blob pub. */
static void
armour(const buf *pub, const char *ns, const buf *sig, buf *out)
{
	buf blob;

	buf_init(&blob, 64 * 1024);
	assert_int_equal(buf_append(&blob, "SSHSIG", 6), 0);
	assert_int_equal(buf_put_u32(&blob, 1), 0);
	assert_int_equal(buf_put_string(&blob, pub->data, pub->len), 0);
	assert_int_equal(buf_put_cstring(&blob, ns), 0);
	assert_int_equal(buf_put_cstring(&blob, ""), 0);
	assert_int_equal(buf_put_cstring(&blob, "sha512"), 0);
	assert_int_equal(buf_put_string(&blob, sig->data, sig->len), 0);
	assert_int_equal(sshkey_armour("SSH SIGNATURE", blob.data, blob.len, out), 0);
	buf_release(&blob);
}

static int
verify_text(const buf *text, const char *msg, const sshsig_opts *o, bg_error *e)
{
	sshsig s;
	int r;

	assert_int_equal(sshsig_parse(buf_cstr(text), text->len, &s, e), 0);
	r = sshsig_verify_opts(&s, msg, strlen(msg), "breakglass", o, e);
	sshsig_release(&s);
	return r;
}

/* PROTOCOL.u2f: SHA256(app) || flags || counter || [ext] || msghash */
static void
sk_tbs(const char *app, unsigned char flags, uint32_t ctr,
    const unsigned char msghash[32], buf *out)
{
	unsigned char h[32];

	crypto_hash_sha256(h, (const unsigned char *)app, strlen(app));
	assert_int_equal(buf_append(out, h, 32), 0);
	assert_int_equal(buf_append(out, &flags, 1), 0);
	assert_int_equal(buf_put_u32(out, ctr), 0);
	assert_int_equal(buf_append(out, msghash, 32), 0);
}

static void
make_sk_ed25519(const char *msg, unsigned char flags, buf *out)
{
	unsigned char pk[32], sk[64], sig[64], mh[32];
	buf pub, sd, tbs, inner;

	crypto_sign_keypair(pk, sk);
	buf_init(&pub, 4096);
	buf_init(&sd, 4096);
	buf_init(&tbs, 4096);
	buf_init(&inner, 4096);
	assert_int_equal(buf_put_cstring(&pub, SSHKEY_SK_ED25519), 0);
	assert_int_equal(buf_put_string(&pub, pk, 32), 0);
	assert_int_equal(buf_put_cstring(&pub, "ssh:"), 0);
	assert_int_equal(sshsig_signed_data("breakglass", "sha512", msg, strlen(msg), &sd), 0);
	crypto_hash_sha256(mh, (unsigned char *)sd.data, sd.len);
	sk_tbs("ssh:", flags, 42, mh, &tbs);
	crypto_sign_detached(sig, NULL, (unsigned char *)tbs.data, tbs.len, sk);
	assert_int_equal(buf_put_cstring(&inner, SSHKEY_SK_ED25519), 0);
	assert_int_equal(buf_put_string(&inner, sig, 64), 0);
	assert_int_equal(buf_append(&inner, &flags, 1), 0);
	assert_int_equal(buf_put_u32(&inner, 42), 0);
	armour(&pub, "breakglass", &inner, out);
	sodium_memzero(sk, sizeof(sk));
	buf_release(&pub);
	buf_release(&sd);
	buf_release(&tbs);
	buf_release(&inner);
}

static void
sk_ed25519_built(void **state)
{
	buf t;
	bg_error e;

	buf_init(&t, 64 * 1024);
	make_sk_ed25519("statement\n", 0x01, &t);
	assert_int_equal(verify_text(&t, "statement\n", NULL, &e), 0);
	assert_int_equal(verify_text(&t, "statemenT\n", NULL, &e), BG_ERR_SIGNATURE);
	buf_reset(&t);
	/* correctly signed, but the key was not touched */
	make_sk_ed25519("statement\n", 0x00, &t);
	assert_int_equal(verify_text(&t, "statement\n", NULL, &e), BG_ERR_SIGNATURE);
	assert_non_null(strstr(e.msg, "user presence"));
	buf_release(&t);
}

/* ECDSA signature over data (SHA-256) as SSH's string(mpint r, mpint s). */
static void
ec_sign(EVP_PKEY *k, const EVP_MD *md, const void *data, size_t len, buf *out)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char der[256], rb[80], sb[80];
	const unsigned char *p = der;
	size_t dn = sizeof(der);
	ECDSA_SIG *es;
	int rn, sn;

	assert_int_equal(EVP_DigestSignInit(ctx, NULL, md, NULL, k), 1);
	assert_int_equal(EVP_DigestSign(ctx, der, &dn, data, len), 1);
	EVP_MD_CTX_free(ctx);
	assert_non_null(es = d2i_ECDSA_SIG(NULL, &p, (long)dn));
	rn = BN_bn2bin(ECDSA_SIG_get0_r(es), rb);
	sn = BN_bn2bin(ECDSA_SIG_get0_s(es), sb);
	put_mpint(out, rb, (size_t)rn);
	put_mpint(out, sb, (size_t)sn);
	ECDSA_SIG_free(es);
}

static void
sk_ecdsa_pub(EVP_PKEY *k, buf *pub)
{
	unsigned char q[65];
	size_t qn;

	assert_int_equal(EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_PUB_KEY, q,
	    sizeof(q), &qn), 1);
	assert_int_equal(qn, 65);
	assert_int_equal(buf_put_cstring(pub, SSHKEY_SK_ECDSA), 0);
	assert_int_equal(buf_put_cstring(pub, "nistp256"), 0);
	assert_int_equal(buf_put_string(pub, q, qn), 0);
	assert_int_equal(buf_put_cstring(pub, "ssh:"), 0);
}

/*
 * An sk-ecdsa signature over msg; with origin, the webauthn form whose
 * clientData challenge is base64url(challenge_msg's signed data).
 */
static void
make_sk_ecdsa(EVP_PKEY *k, const char *msg, const char *origin, const char *challenge_msg,
    buf *out)
{
	buf pub, sd, csd, tbs, sig, inner, cd;
	unsigned char mh[32];
	unsigned char flags = 0x01;

	buf_init(&pub, 4096);
	buf_init(&sd, 4096);
	buf_init(&csd, 4096);
	buf_init(&tbs, 4096);
	buf_init(&sig, 4096);
	buf_init(&inner, 4096);
	buf_init(&cd, 4096);
	sk_ecdsa_pub(k, &pub);
	assert_int_equal(sshsig_signed_data("breakglass", "sha512", msg, strlen(msg), &sd), 0);
	if (origin != NULL) {
		char b64[1024];

		assert_int_equal(sshsig_signed_data("breakglass", "sha512", challenge_msg,
		    strlen(challenge_msg), &csd), 0);
		sodium_bin2base64(b64, sizeof(b64), (unsigned char *)csd.data, csd.len,
		    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
		assert_int_equal(buf_printf(&cd, "{\"type\":\"webauthn.get\",\"challenge\":\"%s\","
		    "\"origin\":\"%s\",\"crossOrigin\":false}", b64, origin), 0);
		crypto_hash_sha256(mh, (unsigned char *)cd.data, cd.len);
	} else {
		crypto_hash_sha256(mh, (unsigned char *)sd.data, sd.len);
	}
	sk_tbs("ssh:", flags, 9, mh, &tbs);
	ec_sign(k, EVP_sha256(), tbs.data, tbs.len, &sig);
	assert_int_equal(buf_put_cstring(&inner, origin != NULL ?
	    "webauthn-sk-ecdsa-sha2-nistp256@openssh.com" : SSHKEY_SK_ECDSA), 0);
	assert_int_equal(buf_put_string(&inner, sig.data, sig.len), 0);
	assert_int_equal(buf_append(&inner, &flags, 1), 0);
	assert_int_equal(buf_put_u32(&inner, 9), 0);
	if (origin != NULL) {
		assert_int_equal(buf_put_cstring(&inner, origin), 0);
		assert_int_equal(buf_put_string(&inner, cd.data, cd.len), 0);
		assert_int_equal(buf_put_string(&inner, "", 0), 0);
	}
	armour(&pub, "breakglass", &inner, out);
	buf_release(&pub);
	buf_release(&sd);
	buf_release(&csd);
	buf_release(&tbs);
	buf_release(&sig);
	buf_release(&inner);
	buf_release(&cd);
}

static void
sk_ecdsa_built(void **state)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	const char *const origins[] = { "https://approve.shop.example" };
	sshsig_opts o = { origins, 1 };
	buf t;
	bg_error e;

	assert_non_null(k);
	buf_init(&t, 64 * 1024);
	make_sk_ecdsa(k, "statement\n", NULL, NULL, &t);
	assert_int_equal(verify_text(&t, "statement\n", NULL, &e), 0);
	assert_int_equal(verify_text(&t, "other\n", NULL, &e), BG_ERR_SIGNATURE);
	buf_reset(&t);
	make_sk_ecdsa(k, "statement\n", "https://approve.shop.example", "statement\n", &t);
	assert_int_equal(verify_text(&t, "statement\n", &o, &e), 0);
	assert_int_equal(verify_text(&t, "statement\n", NULL, &e), BG_ERR_SIGNATURE);
	assert_int_equal(verify_text(&t, "other\n", &o, &e), BG_ERR_SIGNATURE);
	buf_reset(&t);
	/* the authenticator signed a clientData whose challenge is another statement */
	make_sk_ecdsa(k, "statement\n", "https://approve.shop.example", "other\n", &t);
	assert_int_equal(verify_text(&t, "statement\n", &o, &e), BG_ERR_SIGNATURE);
	assert_non_null(strstr(e.msg, "challenge"));
	buf_reset(&t);
	/* an origin the config does not list */
	make_sk_ecdsa(k, "statement\n", "https://evil.example", "statement\n", &t);
	assert_int_equal(verify_text(&t, "statement\n", &o, &e), BG_ERR_SIGNATURE);
	assert_non_null(strstr(e.msg, "evil.example"));
	buf_release(&t);
	EVP_PKEY_free(k);
}

static void
make_rsa(EVP_PKEY *k, const char *sigalg, const EVP_MD *md, const char *msg, buf *out)
{
	BIGNUM *n = NULL, *ex = NULL;
	unsigned char nb[600], eb[16], sig[600];
	size_t sn = sizeof(sig);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	buf pub, sd, inner;
	int nn, en;

	buf_init(&pub, 4096);
	buf_init(&sd, 4096);
	buf_init(&inner, 4096);
	assert_int_equal(EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_N, &n), 1);
	assert_int_equal(EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_E, &ex), 1);
	nn = BN_bn2bin(n, nb);
	en = BN_bn2bin(ex, eb);
	assert_int_equal(buf_put_cstring(&pub, "ssh-rsa"), 0);
	put_mpint(&pub, eb, (size_t)en);
	put_mpint(&pub, nb, (size_t)nn);
	assert_int_equal(sshsig_signed_data("breakglass", "sha512", msg, strlen(msg), &sd), 0);
	assert_int_equal(EVP_DigestSignInit(ctx, NULL, md, NULL, k), 1);
	assert_int_equal(EVP_DigestSign(ctx, sig, &sn, (unsigned char *)sd.data, sd.len), 1);
	EVP_MD_CTX_free(ctx);
	assert_int_equal(buf_put_cstring(&inner, sigalg), 0);
	assert_int_equal(buf_put_string(&inner, sig, sn), 0);
	armour(&pub, "breakglass", &inner, out);
	BN_free(n);
	BN_free(ex);
	buf_release(&pub);
	buf_release(&sd);
	buf_release(&inner);
}

static void
rsa_algorithms(void **state)
{
	EVP_PKEY *k = EVP_RSA_gen(2048);
	buf t;
	bg_error e;

	assert_non_null(k);
	buf_init(&t, 64 * 1024);
	make_rsa(k, "rsa-sha2-256", EVP_sha256(), "statement\n", &t);
	assert_int_equal(verify_text(&t, "statement\n", NULL, &e), 0);
	assert_int_equal(verify_text(&t, "statemenT\n", NULL, &e), BG_ERR_SIGNATURE);
	buf_reset(&t);
	/* the right bytes, but signed with SHA-1: refused as OpenSSH does */
	make_rsa(k, "ssh-rsa", EVP_sha1(), "statement\n", &t);
	assert_int_equal(verify_text(&t, "statement\n", NULL, &e), BG_ERR_SIGNATURE);
	assert_non_null(strstr(e.msg, "SHA-1"));
	buf_reset(&t);
	/* a sha256 signature claiming to be sha512 */
	make_rsa(k, "rsa-sha2-512", EVP_sha256(), "statement\n", &t);
	assert_int_equal(verify_text(&t, "statement\n", NULL, &e), BG_ERR_SIGNATURE);
	buf_release(&t);
	EVP_PKEY_free(k);
}

static void
dsa_refused(void **state)
{
	unsigned char one[1] = { 1 };
	sshkey_pub k;
	bg_error e;
	buf b;

	buf_init(&b, 4096);
	assert_int_equal(buf_put_cstring(&b, "ssh-dss"), 0);
	for (int i = 0; i < 4; i++)
		put_mpint(&b, one, 1);
	assert_int_equal(sshkey_from_blob((unsigned char *)b.data, b.len, &k, &e),
	    BG_ERR_POLICY);
	assert_non_null(strstr(e.msg, "DSA"));
	buf_release(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(openssh_vectors),
		cmocka_unit_test(sk_ed25519_built),
		cmocka_unit_test(sk_ecdsa_built),
		cmocka_unit_test(rsa_algorithms),
		cmocka_unit_test(dsa_refused),
	};

	return cmocka_run_group_tests_name("sigtypes", tests, unit_setup_sodium, NULL);
}
