/* test-cert.c - certificates and KRLs: sign, parse, verify, revoke. */
#include "unit.h"
#include "cert.h"
#include "krl.h"

static void
sign_parse_verify(void **state)
{
	sshkey_priv ca, user;
	sshkey_pub upk;
	cert_spec s;
	cert c;
	buf line;
	bg_error e;

	assert_int_equal(sshkey_priv_generate(&ca), 0);
	assert_int_equal(sshkey_priv_generate(&user), 0);
	assert_int_equal(sshkey_from_ed25519(user.pk, &upk), 0);
	memset(&s, 0, sizeof(s));
	s.key = &upk;
	s.serial = 42;
	s.key_id = "breakglass T-1 G-2 x";
	s.principal = "hotfix";
	s.valid_after = 1800000000;
	s.valid_before = 1800003600;
	s.force_command = "/usr/local/bin/breakglass gate";
	s.source_address = "127.0.0.1/32";
	s.scope = "ticket: T-1\ngrant: G-2\n";
	buf_init(&line, 0);
	assert_int_equal(cert_sign(&s, &ca, "c", &line, &e), 0);
	assert_int_equal(cert_parse_line(buf_cstr(&line), &c, &e), 0);
	assert_string_equal(c.type, "ssh-ed25519-cert-v01@openssh.com");
	assert_true(c.serial == 42);
	assert_string_equal(c.principals[0], "hotfix");
	assert_string_equal(c.force_command, "/usr/local/bin/breakglass gate");
	assert_string_equal(c.source_address, "127.0.0.1/32");
	assert_string_equal(c.scope, "ticket: T-1\ngrant: G-2\n");
	assert_false(c.permit_pty);
	assert_true(sshkey_equal(&c.key, &upk));
	assert_int_equal(cert_verify(&c, ca.pk, 1800000001, &e), 0);
	assert_int_equal(cert_verify(&c, ca.pk, 1800003600, &e), BG_ERR_EXPIRED);
	assert_int_equal(cert_verify(&c, ca.pk, 1799999999, &e), BG_ERR_EXPIRED);
	assert_int_equal(cert_verify(&c, user.pk, 1800000001, &e), BG_ERR_SIGNATURE);
	/* one flipped byte in the signed part breaks the signature */
	c.blob[c.signed_len - 40] ^= 1;
	assert_int_equal(cert_verify(&c, ca.pk, 1800000001, &e), BG_ERR_SIGNATURE);
	cert_release(&c);
	buf_release(&line);
	sshkey_pub_release(&upk);
	sshkey_priv_release(&ca);
	sshkey_priv_release(&user);
}

static void
krl_roundtrip(void **state)
{
	sshkey_priv ca;
	sshkey_pub capk;
	uint64_t serials[] = { 9, 3, 3, 7 };
	buf b;
	krl k;
	bg_error e;

	assert_int_equal(sshkey_priv_generate(&ca), 0);
	assert_int_equal(sshkey_from_ed25519(ca.pk, &capk), 0);
	buf_init(&b, 0);
	assert_int_equal(krl_write(ca.pk, serials, 4, 5, 1800000000, &b), 0);
	assert_int_equal(krl_parse(b.data, b.len, &k, &e), 0);
	assert_true(k.version == 5);
	assert_int_equal(krl_cert_revoked(&k, capk.blob, capk.bloblen, 7, NULL), 1);
	assert_int_equal(krl_cert_revoked(&k, capk.blob, capk.bloblen, 3, NULL), 1);
	assert_int_equal(krl_cert_revoked(&k, capk.blob, capk.bloblen, 8, NULL), 0);
	krl_release(&k);
	/* trailing garbage and truncation are refused */
	buf_putc(&b, 1);
	assert_int_not_equal(krl_parse(b.data, b.len, &k, &e), 0);
	assert_int_not_equal(krl_parse(b.data, b.len - 9, &k, &e), 0);
	assert_int_not_equal(krl_parse("SSHKRL\n", 7, &k, &e), 0);
	buf_release(&b);
	sshkey_pub_release(&capk);
	sshkey_priv_release(&ca);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sign_parse_verify),
		cmocka_unit_test(krl_roundtrip),
	};

	return cmocka_run_group_tests_name("cert", tests, unit_setup_sodium, NULL);
}
