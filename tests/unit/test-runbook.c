/* test-runbook.c - streaming redaction at every split offset, the runbook
 * and result bundle formats, and runbook verification. */
#include "unit.h"
#include "hash.h"
#include "rbresult.h"
#include "runbook.h"
#include "scan.h"
#include "sshkey.h"
#include "sshsig.h"
#include "utc.h"

static const char token_text[] =
	"deploying\nnow GITHUB_TOKEN=ghs_y5oiFIMVgoVbslS11fEz7v1Mw04G4r3s691P done\nnext\n";
static const char pem_text[] =
	"key follows\n-----BEGIN OPENSSH PRIVATE KEY-----\n"
	"b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQI5aSA6SMyGoW9rteZI1jglexA0So40\n"
	"-----END OPENSSH PRIVATE KEY-----\nafter\n";

/* Feed text in pieces cut at a and b; the output must hold no part of the
 * secret, a redaction, and everything around it. */
static void
split_at(const char *text, size_t a, size_t b, const char *secret_part, const char *kept)
{
	scan_stream s;
	buf out;
	size_t n = strlen(text);

	buf_init(&out, 0);
	scan_stream_init(&s);
	assert_int_equal(scan_stream_write(&s, text, a, &out), 0);
	assert_int_equal(scan_stream_write(&s, text + a, b - a, &out), 0);
	assert_int_equal(scan_stream_write(&s, text + b, n - b, &out), 0);
	assert_int_equal(scan_stream_finish(&s, &out), 0);
	if (strstr(buf_cstr(&out), secret_part) != NULL || strstr(buf_cstr(&out), "[REDACTED:") ==
	    NULL || strstr(buf_cstr(&out), kept) == NULL)
		fail_msg("split at %zu/%zu: %s", a, b, buf_cstr(&out));
	assert_true(s.found >= 1);
	scan_stream_release(&s);
	buf_release(&out);
}

static void
stream_token_every_offset(void **state)
{
	size_t n = strlen(token_text);

	for (size_t a = 0; a <= n; a++)
		split_at(token_text, a, a, "y5oiFIMV", "next\n");
}

static void
stream_pem_every_offset(void **state)
{
	size_t n = strlen(pem_text);

	for (size_t a = 0; a <= n; a += 1)
		for (size_t b = a; b <= n; b += 7)
			split_at(pem_text, a, b, "b3BlbnNzaC1rZXkt", "after\n");
}

static void
stream_passes_clean_text(void **state)
{
	scan_stream s;
	buf out;
	const char *t = "one\ntwo\nthree without newline";

	buf_init(&out, 0);
	scan_stream_init(&s);
	assert_int_equal(scan_stream_write(&s, t, strlen(t), &out), 0);
	assert_string_equal(buf_cstr(&out), "one\ntwo\n"); /* held to the line end */
	assert_int_equal(scan_stream_finish(&s, &out), 0);
	assert_string_equal(buf_cstr(&out), t);
	scan_stream_release(&s);
	buf_release(&out);
}

/* ---- runbook ---- */

static sshkey_priv k1, k2;
static char signers_text[2048];

static int
setup(void **state)
{
	buf b1, b2;
	sshkey_pub p1, p2;

	if (sodium_init() < 0 || sshkey_priv_generate(&k1) != 0 || sshkey_priv_generate(&k2) != 0)
		return -1;
	sshkey_from_ed25519(k1.pk, &p1);
	sshkey_from_ed25519(k2.pk, &p2);
	buf_init(&b1, 0);
	buf_init(&b2, 0);
	sshkey_pub_format(&p1, &b1);
	sshkey_pub_format(&p2, &b2);
	snprintf(signers_text, sizeof(signers_text), "one@x.example %s\ntwo@x.example %s\n",
	    buf_cstr(&b1), buf_cstr(&b2));
	buf_release(&b1);
	buf_release(&b2);
	sshkey_pub_release(&p1);
	sshkey_pub_release(&p2);
	return 0;
}

static const char plan_text[] = "summary: fix\nrollback: undo\n";
static const char step1[] = "--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n";
static const char step2[] = "/bin/true\n";

/* A runbook for system sys signed by nsig of the keys, with the steps in
 * order (swap: the file lists them the other way round). */
static void
make(buf *out, const char *sys, int nsig, int swap, int64_t until)
{
	char h0[65], h1[65], h2[65], u[32], stmt[2048];
	buf s1, s2;
	const char *sigs[2];
	runbook_part p[2];
	bg_error e;

	hash_sha256_hex(plan_text, strlen(plan_text), h0);
	hash_sha256_hex(step1, strlen(step1), h1);
	hash_sha256_hex(step2, strlen(step2), h2);
	utc_format(until, u);
	snprintf(stmt, sizeof(stmt), "breakglass approval statement v2\nkind: plan\nticket: T-1\n"
	    "project: shop\nrequester: dev@agency.example\nplan: P-1\nplan-sha256: %s\n"
	    "system: web1\nartifact: %s diff fix.diff\nartifact: %s commands run.cmds\n"
	    "write-grant: none\nissued: 2026-01-01T00:00:00Z\nvalid-until: %s\nnonce: 00\n\n"
	    "I approve.\n", h0, h1, h2, u);
	buf_init(&s1, 0);
	buf_init(&s2, 0);
	assert_int_equal(sshsig_sign(&k1, stmt, strlen(stmt), RUNBOOK_NAMESPACE, &s1), 0);
	assert_int_equal(sshsig_sign(&k2, stmt, strlen(stmt), RUNBOOK_NAMESPACE, &s2), 0);
	sigs[0] = buf_cstr(&s1);
	sigs[1] = buf_cstr(&s2);
	p[swap ? 1 : 0] = (runbook_part){ "diff", h1, "fix.diff", step1, strlen(step1) };
	p[swap ? 0 : 1] = (runbook_part){ "commands", h2, "run.cmds", step2, strlen(step2) };
	assert_int_equal(runbook_format(1, 1, sys, until, stmt, sigs, (size_t)nsig, plan_text, p,
	    2, out, &e), 0);
	buf_release(&s1);
	buf_release(&s2);
}

static int
verify(const buf *t, int quorum, const char *sys, int64_t now, bg_error *e)
{
	runbook rb;
	runbook_trust tr = { signers_text, strlen(signers_text), quorum, sys };
	int r;

	if ((r = runbook_parse(t->data, t->len, &rb, e)) != 0)
		return r;
	r = runbook_verify(&rb, &tr, now, e);
	runbook_release(&rb);
	return r;
}

static void
runbook_checks(void **state)
{
	int64_t until = 1900000000, now = until - 100;
	buf t;
	bg_error e;
	char *pos;

	buf_init(&t, 0);
	make(&t, "web1", 2, 0, until);
	assert_int_equal(verify(&t, 2, "web1", now, &e), 0);
	assert_int_equal(verify(&t, 3, "web1", now, &e), BG_ERR_SIGNATURE);
	assert_int_equal(verify(&t, 2, "db1", now, &e), BG_ERR_PERM);
	assert_int_equal(verify(&t, 2, "web1", until, &e), BG_ERR_EXPIRED);
	/* a changed byte in a step */
	pos = strstr(strstr(t.data, "\nstep: 1 diff "), "\n+b\n") + 1; /* not in a signature */
	*pos = '-';
	assert_int_equal(verify(&t, 2, "web1", now, &e), BG_ERR_TAMPER);
	*pos = '+';
	/* trailing data, truncation */
	buf_puts(&t, "x");
	assert_int_equal(verify(&t, 2, "web1", now, &e), BG_ERR_INVALID);
	t.len -= 1;
	for (size_t cut = 0; cut < t.len; cut += 13) {
		buf c;

		buf_init(&c, 0);
		buf_append(&c, t.data, cut);
		assert_int_not_equal(verify(&c, 1, "web1", now, &e), 0);
		buf_release(&c);
	}
	buf_reset(&t);
	make(&t, "web1", 2, 1, until);
	assert_int_equal(verify(&t, 2, "web1", now, &e), BG_ERR_TAMPER);
	assert_non_null(strstr(e.msg, "reordered"));
	buf_reset(&t);
	make(&t, "web1", 1, 0, until);
	assert_int_equal(verify(&t, 2, "web1", now, &e), BG_ERR_SIGNATURE);
	assert_int_equal(verify(&t, 1, "web1", now, &e), 0);
	/* the header says another system than the signed statement */
	buf_reset(&t);
	make(&t, "db1", 2, 0, until);
	assert_int_equal(verify(&t, 2, "db1", now, &e), BG_ERR_TAMPER);
	buf_release(&t);
}

static void
result_chain(void **state)
{
	rbresult_writer w;
	rbresult r;
	bg_error e;
	char sha[65], principal[256], fp[64];
	buf sig, copy;

	memset(sha, 'a', 64);
	sha[64] = '\0';
	assert_int_equal(rbresult_begin(&w, 7, sha, "web1", "ops@c.example"), 0);
	assert_int_equal(rbresult_add(&w, "run", 0, "-", "{}", 2), 0);
	assert_int_equal(rbresult_add(&w, "step", 1, "ok", "{\"exit\":0}", 10), 0);
	assert_int_equal(rbresult_add(&w, "step", 2, "failed", "{\"exit\":1}", 10), 0);
	assert_int_equal(rbresult_add(&w, "end", 0, "failed", "{}", 2), 0);
	buf_init(&sig, 0);
	assert_int_equal(sshsig_sign(&k1, w.out.data, w.out.len, RBRESULT_NAMESPACE, &sig), 0);
	assert_int_equal(rbresult_seal(&w, sig.data, sig.len), 0);
	assert_int_equal(rbresult_parse(w.out.data, w.out.len, &r, &e), 0);
	assert_int_equal(r.n, 4);
	assert_int_equal(r.ticket, 7);
	assert_string_equal(r.rec[2].status, "failed");
	assert_int_equal(rbresult_verify(&r, signers_text, strlen(signers_text), 0, principal, fp,
	    &e), 0);
	assert_string_equal(principal, "one@x.example");
	/* a key the signers do not list */
	assert_int_equal(rbresult_verify(&r, strchr(signers_text, '\n') + 1,
	    strlen(strchr(signers_text, '\n') + 1), 0, principal, fp, &e), BG_ERR_PERM);
	rbresult_release(&r);
	/* an edited record breaks the chain; an edit in the last breaks the signature */
	buf_init(&copy, 0);
	buf_append(&copy, w.out.data, w.out.len);
	*strstr(copy.data, "{\"exit\":0}") = '[';
	assert_int_equal(rbresult_parse(copy.data, copy.len, &r, &e), BG_ERR_TAMPER);
	buf_reset(&copy);
	buf_append(&copy, w.out.data, w.out.len);
	*strstr(copy.data, "end 0 failed") = 'E';
	assert_int_not_equal(rbresult_parse(copy.data, copy.len, &r, &e), 0);
	/* every truncation is refused */
	for (size_t cut = 0; cut < w.out.len; cut++)
		assert_int_not_equal(rbresult_parse(w.out.data, cut, &r, &e), 0);
	buf_release(&copy);
	buf_release(&sig);
	rbresult_writer_release(&w);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(stream_token_every_offset),
		cmocka_unit_test(stream_pem_every_offset),
		cmocka_unit_test(stream_passes_clean_text),
		cmocka_unit_test(runbook_checks),
		cmocka_unit_test(result_chain),
	};

	return cmocka_run_group_tests_name("runbook", tests, setup, NULL);
}
