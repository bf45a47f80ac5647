/* test-scan.c - the small secret detector: what it must find and what it
 * must leave alone. */
#include "unit.h"
#include "scan.h"

static const char *
first_rule(const char *s)
{
	static scan_result r;

	scan_text(s, strlen(s), &r);
	return r.n ? r.f[0].rule : NULL;
}

static void
finds(void **state)
{
	static const struct { const char *text, *rule; } cases[] = {
		{ "-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn...", "private-key" },
		{ "x -----BEGIN RSA PRIVATE KEY-----", "private-key" },
		{ "-----BEGIN PGP PRIVATE KEY BLOCK-----", "private-key" },
		{ "PuTTY-User-Key-File-3: ssh-ed25519", "private-key" },
		{ "key AKIAZ3MN7XQ2PLRT4WEB here", "aws-access-key" },
		{ "ghp_0123456789abcdefghijABCDEFGHIJ012345", "github-token" },
		{ "glpat-abcdefghij0123456789", "gitlab-token" },
		{ "xoxb-1234567890-abcdefghij", "slack-token" },
		{ "https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXXXXXXXXXX", "slack-webhook" },
		{ "sk_live_4eC39HqLyjWDarjtT1zdp7dc", "stripe-key" },
		{ "AIzaSyA1234567890abcdefghijklmnopqrstuv", "google-api-key" },
		{ "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U", "jwt" },
		{ "DATABASE_URL=postgres://app:Tr0ub4dor@db1:5432/shop", "url-password" },
		{ "mysql://root:hunter22@localhost/x", "url-password" },
		{ "DB_PASSWORD=Sup3rS3cret!", "password-assignment" },
		{ "\"apiKey\": \"a8f5f167f44f4964e6c998dee827110c\"", "password-assignment" },
		{ "client_secret: 'x9Fq2LmZ77pQ'", "password-assignment" },
		{ NULL, NULL }
	};

	for (int i = 0; cases[i].text; i++) {
		const char *r = first_rule(cases[i].text);

		if (r == NULL || strcmp(r, cases[i].rule) != 0)
			fail_msg("case %d '%s': got %s, want %s", i, cases[i].text,
			    r ? r : "nothing", cases[i].rule);
	}
}

static void
leaves_alone(void **state)
{
	static const char *const clean[] = {
		"the password reset form is broken",
		"Token: expired",
		"password=changeme",
		"PASSWORD=${DB_PASSWORD}",
		"api_key: <your-key>",
		"secret = xxxxxxxx",
		"AKIAIOSFODNN7EXAMPLE",
		"https://shop.example/checkout?id=123",
		"postgres://db1:5432/shop",
		"user@example.com wrote: fine",
		"sha256 3b38eb6a4e046ecee9cc4f025d2da0d12223a04aea7ee86731b523825a815f7f",
		"uuid 123e4567-e89b-12d3-a456-426614174000",
		"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGNmyKluFQ6sLQMSbIdHm6fj803NifxmYFvV4TWd1lea",
		"const int kApiTaggedSize = kApiInt32Size;",
		"-----BEGIN PUBLIC KEY-----",
		NULL
	};

	for (int i = 0; clean[i]; i++) {
		const char *r = first_rule(clean[i]);

		if (r != NULL)
			fail_msg("false positive %s on '%s'", r, clean[i]);
	}
}

static void
refusal_names_position_not_value(void **state)
{
	bg_error e;
	const char *s = "line one\nDB_PASSWORD=Sup3rS3cret!\n";

	assert_int_equal(scan_refuse("comment", s, strlen(s), &e), BG_ERR_SECRET);
	assert_non_null(strstr(e.msg, "password-assignment at line 2, column 13"));
	assert_null(strstr(e.msg, "Sup3r"));
	assert_int_equal(scan_refuse("comment", "clean", 5, &e), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(finds),
		cmocka_unit_test(leaves_alone),
		cmocka_unit_test(refusal_names_position_not_value),
	};

	return cmocka_run_group_tests_name("scan", tests, NULL, NULL);
}
