/* test-consent.c - the owner's consent: statement blocks, the certificate
 * extension, and the host's check (src/proto/consent.c). */
#include "unit.h"
#include "consent.h"
#include "hash.h"

static const char spec[] =
	"kind: ssh\nsystem: web1\naccount: hotfix\ntier: plan\nwrite: /srv/shop/app\n"
	"sudo: /usr/sbin/service php-fpm reload\nttl: 1h\nreason: apply the fix\n";
static const char art[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

static void
statement(const char *version, const char *ticket, const char *grant_spec, buf *out)
{
	char h[HASH_HEXLEN];

	hash_sha256_hex(grant_spec, strlen(grant_spec), h);
	assert_int_equal(buf_printf(out, "breakglass approval statement %s\nkind: plan\n"
	    "ticket: %s\nproject: shop\nrequester: dev@agency.example\nplan: P-1\n"
	    "plan-sha256: %s\nartifact: %s diff fix.diff\n", version, ticket, art, art), 0);
	assert_int_equal(consent_grant_block(5, h, grant_spec, out), 0);
	assert_int_equal(buf_puts(out, "issued: 2026-11-21T05:30:00Z\n"
	    "valid-until: 2026-11-21T13:30:00Z\nnonce: 00\n\nI approve this plan.\n"), 0);
}

static void
scope_of(const char *grant_spec, buf *out)
{
	assert_int_equal(buf_printf(out, "ticket: T-3\ngrant: G-5\n%sartifact: %s diff\n",
	    grant_spec, art), 0);
}

typedef struct fixture {
	sshkey_priv k[3];
	signers ss;
	buf st, scope;
} fixture;

/* approvers: k[0] owner@, k[1] second@ (k[2] is nobody's) */
static int
setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));
	buf text, line;
	sshkey_pub pub;
	bg_error e;

	if (f == NULL || sodium_init() < 0)
		return -1;
	buf_init(&text, 8192);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(sshkey_priv_generate(&f->k[i]), 0);
		if (i == 2)
			break;
		buf_init(&line, 1024);
		assert_int_equal(sshkey_from_ed25519(f->k[i].pk, &pub), 0);
		assert_int_equal(sshkey_pub_format(&pub, &line), 0);
		assert_int_equal(buf_printf(&text, "%s namespaces=\"breakglass\" %s\n",
		    i == 0 ? "owner@shop.example" : "second@shop.example", buf_cstr(&line)), 0);
		sshkey_pub_release(&pub);
		buf_release(&line);
	}
	assert_int_equal(signers_parse(buf_cstr(&text), text.len, &f->ss, &e), 0);
	buf_release(&text);
	buf_init(&f->st, 64 * 1024);
	buf_init(&f->scope, 64 * 1024);
	statement("v2", "T-3", spec, &f->st);
	scope_of(spec, &f->scope);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	fixture *f = *state;

	for (int i = 0; i < 3; i++)
		sshkey_priv_release(&f->k[i]);
	signers_release(&f->ss);
	buf_release(&f->st);
	buf_release(&f->scope);
	free(f);
	return 0;
}

/* the consent text of statement st signed by keys (indices into f->k) */
static void
make_consent(fixture *f, const buf *st, const int *keys, size_t n, buf *out)
{
	buf sig[3];
	const char *sigs[3];

	for (size_t i = 0; i < n; i++) {
		buf_init(&sig[i], 16384);
		assert_int_equal(sshsig_sign(&f->k[keys[i]], st->data, st->len, "breakglass",
		    &sig[i]), 0);
		sigs[i] = buf_cstr(&sig[i]);
	}
	assert_int_equal(consent_format(buf_cstr(st), sigs, n, out), 0);
	for (size_t i = 0; i < n; i++)
		buf_release(&sig[i]);
}

static int
check(fixture *f, const buf *text, const char *scope, int quorum, bg_error *e)
{
	consent c;
	int r;

	if ((r = consent_parse(buf_cstr(text), text->len, &c, e)) != 0)
		return r;
	/* activated 06:00, inside the statement's validity */
	r = consent_verify(&c, scope, &f->ss, quorum, 1795240800, 1795240800, e);
	consent_release(&c);
	return r;
}

static void
block_lists_the_whole_scope(void **state)
{
	fixture *f = *state;

	assert_non_null(strstr(buf_cstr(&f->st), "\nwrite-grant: G-5 "));
	assert_non_null(strstr(buf_cstr(&f->st), "\n  sudo: /usr/sbin/service php-fpm reload\n"));
	assert_non_null(strstr(buf_cstr(&f->st), "\n  write: /srv/shop/app\n"));
}

static void
quorum_of_host_approvers(void **state)
{
	fixture *f = *state;
	int owner[] = { 0 }, both[] = { 0, 1 }, twice[] = { 0, 0 }, stranger[] = { 2 };
	buf t;
	bg_error e;

	buf_init(&t, CONSENT_MAX);
	make_consent(f, &f->st, owner, 1, &t);
	assert_int_equal(check(f, &t, buf_cstr(&f->scope), 1, &e), 0);
	assert_int_equal(check(f, &t, buf_cstr(&f->scope), 2, &e), BG_ERR_PERM);
	assert_non_null(strstr(e.msg, "1 of 2"));
	buf_reset(&t);
	make_consent(f, &f->st, both, 2, &t);
	assert_int_equal(check(f, &t, buf_cstr(&f->scope), 2, &e), 0);
	buf_reset(&t);
	/* one approver twice is one approver */
	make_consent(f, &f->st, twice, 2, &t);
	assert_int_equal(check(f, &t, buf_cstr(&f->scope), 2, &e), BG_ERR_PERM);
	buf_reset(&t);
	/* a key the host does not list counts for nothing */
	make_consent(f, &f->st, stranger, 1, &t);
	assert_int_equal(check(f, &t, buf_cstr(&f->scope), 1, &e), BG_ERR_PERM);
	assert_non_null(strstr(e.msg, "0 of 1"));
	buf_release(&t);
}

static void
scope_must_be_exactly_signed(void **state)
{
	fixture *f = *state;
	int owner[] = { 0 };
	buf t, wide, other;
	bg_error e;
	char *s;

	buf_init(&t, CONSENT_MAX);
	buf_init(&wide, 8192);
	buf_init(&other, 8192);
	make_consent(f, &f->st, owner, 1, &t);
	/* an extra sudo line, a broader directory, a dropped line, another grant */
	scope_of("kind: ssh\nsystem: web1\naccount: hotfix\ntier: plan\nwrite: /srv/shop/app\n"
	    "sudo: /usr/sbin/service php-fpm reload\nsudo: /bin/sh\nttl: 1h\nreason: apply the fix\n",
	    &wide);
	assert_int_equal(check(f, &t, buf_cstr(&wide), 1, &e), BG_ERR_PERM);
	assert_non_null(strstr(e.msg, "not the scope the approvers signed"));
	buf_reset(&wide);
	scope_of("kind: ssh\nsystem: web1\naccount: hotfix\ntier: plan\nwrite: /srv\n"
	    "sudo: /usr/sbin/service php-fpm reload\nttl: 1h\nreason: apply the fix\n", &wide);
	assert_int_equal(check(f, &t, buf_cstr(&wide), 1, &e), BG_ERR_PERM);
	buf_reset(&wide);
	scope_of("kind: ssh\nsystem: web1\naccount: hotfix\ntier: plan\nwrite: /srv/shop/app\n"
	    "ttl: 1h\nreason: apply the fix\n", &wide);
	assert_int_equal(check(f, &t, buf_cstr(&wide), 1, &e), BG_ERR_PERM);
	s = strdup(buf_cstr(&f->scope));
	s[21] = '6'; /* grant: G-6 */
	assert_int_equal(check(f, &t, s, 1, &e), BG_ERR_PERM);
	assert_non_null(strstr(e.msg, "does not list grant G-6"));
	free(s);
	/* another ticket */
	s = strdup(buf_cstr(&f->scope));
	s[10] = '4'; /* ticket: T-4 */
	assert_int_equal(check(f, &t, s, 1, &e), BG_ERR_PERM);
	free(s);
	/* an artifact nobody signed */
	buf_printf(&other, "%sartifact: %064d diff\n", buf_cstr(&f->scope), 7);
	assert_int_equal(check(f, &t, buf_cstr(&other), 1, &e), BG_ERR_PERM);
	assert_non_null(strstr(e.msg, "artifact"));
	buf_release(&t);
	buf_release(&wide);
	buf_release(&other);
}

static void
versions_and_tampering(void **state)
{
	fixture *f = *state;
	int owner[] = { 0 };
	buf st3, t;
	bg_error e;
	consent c;
	char *p;

	buf_init(&st3, 64 * 1024);
	buf_init(&t, CONSENT_MAX);
	statement("v3", "T-3", spec, &st3);
	make_consent(f, &st3, owner, 1, &t);
	assert_int_equal(check(f, &t, buf_cstr(&f->scope), 1, &e), BG_ERR_UNSUPPORTED);
	assert_non_null(strstr(e.msg, "'v3'"));
	assert_non_null(strstr(e.msg, "knows v2"));
	buf_reset(&t);
	/* the statement altered after signing */
	make_consent(f, &f->st, owner, 1, &t);
	p = strstr(t.data, "write: /srv/shop/app");
	p[8] = 'S';
	assert_int_equal(check(f, &t, buf_cstr(&f->scope), 1, &e), BG_ERR_PERM);
	/* strict container */
	assert_int_equal(consent_parse("", 0, &c, &e), BG_ERR_INVALID);
	assert_int_equal(consent_parse("breakglass consent v2\n", 22, &c, &e), BG_ERR_UNSUPPORTED);
	assert_int_equal(consent_parse("breakglass consent v1\nstatement-bytes: 999\nx\n", 44, &c,
	    &e), BG_ERR_INVALID);
	buf_reset(&t);
	assert_int_equal(consent_format(buf_cstr(&f->st), NULL, 0, &t), 0);
	assert_int_equal(consent_parse(buf_cstr(&t), t.len, &c, &e), BG_ERR_INVALID);
	assert_non_null(strstr(e.msg, "no signature"));
	buf_release(&st3);
	buf_release(&t);
}

static void
statement_expired_before_activation(void **state)
{
	fixture *f = *state;
	int owner[] = { 0 };
	buf t;
	bg_error e;
	consent c;

	buf_init(&t, CONSENT_MAX);
	make_consent(f, &f->st, owner, 1, &t);
	assert_int_equal(consent_parse(buf_cstr(&t), t.len, &c, &e), 0);
	/* activated at 14:00, after valid-until 13:30 */
	assert_int_equal(consent_verify(&c, buf_cstr(&f->scope), &f->ss, 1, 1795269600,
	    1795269600, &e), BG_ERR_PERM);
	assert_non_null(strstr(e.msg, "expired"));
	consent_release(&c);
	buf_release(&t);
}

static void
sql_marks_by_hash(void **state)
{
	static const char a[] = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
	static const char b[] = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
	buf t;
	int64_t rows;
	uint64_t d;

	(void)state;
	buf_init(&t, 4096);
	assert_int_equal(buf_printf(&t, "plan: P-1\nsql-rows: %s 3\nsql-destructive: %s 2\n"
	    "sql-destructive: %s 65\nsql-rows: %s 7\nsql-destructive: %s 1x\n"
	    "xsql-rows: %s 9\nsql-rows: %s 5", a, a, a, b, a, a, a), 0);
	consent_sql_marks(buf_cstr(&t), a, &rows, &d);
	assert_int_equal(rows, 5);                  /* the last line counts, unterminated */
	assert_int_equal(d, (uint64_t)1 << 1);      /* 65 is out of range, "1x" no number */
	consent_sql_marks(buf_cstr(&t), b, &rows, &d);
	assert_int_equal(rows, 7);
	assert_int_equal(d, 0);
	consent_sql_marks(buf_cstr(&t), "cc", &rows, &d);
	assert_int_equal(rows, -1);
	assert_int_equal(d, 0);
	consent_sql_marks("sql-rows: aaaa 3\n", "aaaa", &rows, &d);
	assert_int_equal(rows, -1);                 /* not a SHA-256 */
	buf_release(&t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(block_lists_the_whole_scope),
		cmocka_unit_test(quorum_of_host_approvers),
		cmocka_unit_test(scope_must_be_exactly_signed),
		cmocka_unit_test(versions_and_tampering),
		cmocka_unit_test(statement_expired_before_activation),
		cmocka_unit_test(sql_marks_by_hash),
	};

	return cmocka_run_group_tests_name("consent", tests, setup, teardown);
}
