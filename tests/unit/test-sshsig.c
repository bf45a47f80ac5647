/* test-sshsig.c - SSHSIG parsing and verification, keys, allowed_signers. */
#include "unit.h"
#include "signers.h"
#include "sshkey.h"
#include "sshsig.h"

/* made with: ssh-keygen -Y sign -n breakglass -f k msg (OpenSSH 9.2) */
static const char fixture_pub[] =
	"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGNmyKluFQ6sLQMSbIdHm6fj803NifxmYFvV4TWd1lea fixture";
static const char fixture_msg[] = "breakglass test statement\n";
static const char fixture_sig[] =
	"-----BEGIN SSH SIGNATURE-----\n"
	"U1NIU0lHAAAAAQAAADMAAAALc3NoLWVkMjU1MTkAAAAgY2bIqW4VDqwtAxJsh0ebp+PzTc\n"
	"2J/GZgW9XhNZ3WV5oAAAAKYnJlYWtnbGFzcwAAAAAAAAAGc2hhNTEyAAAAUwAAAAtzc2gt\n"
	"ZWQyNTUxOQAAAEDwIW127pqnYcVVM0vhtHhLfOE6cFPcSBE+xcAc9Fr7qBlBs+3FtdykkC\n"
	"7EMEIDVP/8bmG8Yo9GT1fx1XEWovEK\n"
	"-----END SSH SIGNATURE-----\n";

static void
openssh_signature_verifies(void **state)
{
	sshsig s;
	sshkey_pub k;
	bg_error e;
	char *comment;

	assert_int_equal(sshsig_parse(fixture_sig, strlen(fixture_sig), &s, &e), 0);
	assert_string_equal(s.ns, "breakglass");
	assert_string_equal(s.hashalg, "sha512");
	assert_int_equal(sshkey_parse_line(fixture_pub, &k, &comment, &e), 0);
	assert_string_equal(comment, "fixture");
	assert_true(sshkey_equal(&k, &s.key));
	assert_int_equal(sshsig_verify(&s, fixture_msg, strlen(fixture_msg), "breakglass", &e), 0);
	/* altered message, wrong namespace */
	assert_int_equal(sshsig_verify(&s, "breakglass test statemenT\n", 26, "breakglass", &e),
	    BG_ERR_SIGNATURE);
	assert_int_equal(sshsig_verify(&s, fixture_msg, strlen(fixture_msg), "git", &e),
	    BG_ERR_SIGNATURE);
	free(comment);
	sshkey_pub_release(&k);
	sshsig_release(&s);
}

static void
sign_verify_roundtrip(void **state)
{
	sshkey_priv k;
	buf out, priv;
	sshsig s;
	bg_error e;
	sshkey_priv k2;

	assert_int_equal(sshkey_priv_generate(&k), 0);
	buf_init(&out, 0);
	assert_int_equal(sshsig_sign(&k, "hello", 5, "breakglass", &out), 0);
	assert_int_equal(sshsig_parse(buf_cstr(&out), out.len, &s, &e), 0);
	assert_int_equal(sshsig_verify(&s, "hello", 5, "breakglass", &e), 0);
	sshsig_release(&s);
	/* private key format round-trip */
	buf_init(&priv, 0);
	assert_int_equal(sshkey_priv_format(&k, "c", &priv), 0);
	assert_int_equal(sshkey_priv_parse(buf_cstr(&priv), priv.len, &k2, &e), 0);
	assert_memory_equal(k.sk, k2.sk, 64);
	sshkey_priv_release(&k2);
	buf_release(&priv);
	buf_release(&out);
	sshkey_priv_release(&k);
}

static void
malformed_signatures_refused(void **state)
{
	sshsig s;
	bg_error e;
	char bad[1024];

	assert_int_equal(sshsig_parse("", 0, &s, &e), BG_ERR_INVALID);
	assert_int_equal(sshsig_parse("-----BEGIN SSH SIGNATURE-----\n", 30, &s, &e),
	    BG_ERR_INVALID);
	snprintf(bad, sizeof(bad), "%s", fixture_sig);
	bad[40] = '!';
	assert_int_equal(sshsig_parse(bad, strlen(bad), &s, &e), BG_ERR_INVALID);
	snprintf(bad, sizeof(bad), "%s", fixture_sig);
	bad[31] = 'V'; /* 'U1NI' -> 'V1NI': preamble broken */
	assert_int_equal(sshsig_parse(bad, strlen(bad), &s, &e), BG_ERR_INVALID);
}

static void
allowed_signers(void **state)
{
	signers ss;
	bg_error e;
	char text[2048];
	const char *b64 = strchr(fixture_pub, ' ') + 1;

	snprintf(text, sizeof(text),
	    "# approvers\n"
	    "owner@shop.example namespaces=\"breakglass\",valid-after=\"20260101Z\" ssh-ed25519 %.68s Olga\n"
	    "\"a@x.example,b@x.example\" ssh-ed25519 %.68s\n", b64, b64);
	assert_int_equal(signers_parse(text, strlen(text), &ss, &e), 0);
	assert_int_equal(ss.n, 2);
	assert_string_equal(ss.v[0].principals, "owner@shop.example");
	assert_string_equal(ss.v[0].namespaces, "breakglass");
	assert_true(ss.v[0].valid_after > 0);
	assert_true(signers_namespace_allowed(&ss.v[0], "breakglass"));
	assert_false(signers_namespace_allowed(&ss.v[0], "git"));
	assert_true(signers_principal_matches(&ss.v[1], "b@x.example"));
	assert_false(signers_principal_matches(&ss.v[1], "c@x.example"));
	signers_release(&ss);

	snprintf(text, sizeof(text), "a@x bogus=\"1\" ssh-ed25519 %.68s\n", b64);
	assert_int_equal(signers_parse(text, strlen(text), &ss, &e), BG_ERR_INVALID);
	assert_non_null(strstr(e.msg, "line 1"));
	snprintf(text, sizeof(text), "a@x valid-after=\"20260101\" ssh-ed25519 %.68s\n", b64);
	assert_int_equal(signers_parse(text, strlen(text), &ss, &e), BG_ERR_INVALID);
	assert_non_null(strstr(e.msg, "UTC"));
	snprintf(text, sizeof(text), "a@x cert-authority,cert-authority ssh-ed25519 %.68s\n", b64);
	assert_int_equal(signers_parse(text, strlen(text), &ss, &e), BG_ERR_INVALID);
	assert_int_equal(signers_parse("a@x ssh-ed25519 AAAA\n", 21, &ss, &e), BG_ERR_INVALID);
	assert_int_equal(signers_parse("\"a@x ssh-ed25519 AAAA\n", 22, &ss, &e), BG_ERR_INVALID);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(openssh_signature_verifies),
		cmocka_unit_test(sign_verify_roundtrip),
		cmocka_unit_test(malformed_signatures_refused),
		cmocka_unit_test(allowed_signers),
	};

	return cmocka_run_group_tests_name("sshsig", tests, unit_setup_sodium, NULL);
}
