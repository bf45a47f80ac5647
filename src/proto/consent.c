/*
 * consent.c - the owner's consent to a write grant: the statement block,
 * the certificate extension, and the host's check (see consent.h).
 */
#include "consent.h"
#include "hash.h"
#include "utc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONSENT_HEADER "breakglass consent v1\n"
#define SIG_BEGIN "-----BEGIN SSH SIGNATURE-----\n"
#define SIG_END "-----END SSH SIGNATURE-----\n"

int
consent_grant_block(int64_t grant, const char *spec_hash, const char *spec, buf *out)
{
	const char *p = spec, *nl;
	int r;

	if ((r = buf_printf(out, "write-grant: G-%lld %s\n", (long long)grant, spec_hash)) != 0)
		return r;
	for (; *p != '\0'; p = nl + 1) {
		if ((nl = strchr(p, '\n')) == NULL)
			return BG_ERR_INVALID; /* the canonical request ends every line */
		if ((r = buf_puts(out, "  ")) != 0 ||
		    (r = buf_append(out, p, (size_t)(nl - p) + 1)) != 0)
			return r;
	}
	return 0;
}

int
consent_format(const char *statement, const char *const *sigs, size_t nsigs, buf *out)
{
	int r;

	if ((r = buf_printf(out, CONSENT_HEADER "statement-bytes: %zu\n", strlen(statement))) != 0 ||
	    (r = buf_puts(out, statement)) != 0)
		return r;
	for (size_t i = 0; i < nsigs; i++) {
		size_t n = strlen(sigs[i]);

		if ((r = buf_append(out, sigs[i], n)) != 0 ||
		    (n > 0 && sigs[i][n - 1] != '\n' && (r = buf_putc(out, '\n')) != 0))
			return r;
	}
	return 0;
}

void
consent_release(consent *c)
{
	for (size_t i = 0; i < c->nsigs; i++)
		sshsig_release(&c->sigs[i]);
	free(c->statement);
	memset(c, 0, sizeof(*c));
}

int
consent_parse(const char *text, size_t len, consent *out, bg_error *e)
{
	const char *p = text, *end = text + len, *q;
	size_t n = 0;
	int r;

	memset(out, 0, sizeof(*out));
	if (len > CONSENT_MAX)
		return bg_fail(e, BG_ERR_TOOLARGE, "consent larger than %u bytes", CONSENT_MAX);
	if (memchr(text, '\0', len) != NULL)
		return bg_fail(e, BG_ERR_INVALID, "consent contains a NUL byte");
	if (len < sizeof(CONSENT_HEADER) - 1 ||
	    memcmp(p, CONSENT_HEADER, sizeof(CONSENT_HEADER) - 1) != 0) {
		if (len > 19 && memcmp(p, "breakglass consent ", 19) == 0)
			return bg_fail(e, BG_ERR_UNSUPPORTED, "consent format '%.*s' is not one this "
			    "host knows (it knows v1)", (int)strcspn(p, "\n") > 40 ? 40 :
			    (int)strcspn(p, "\n"), p);
		return bg_fail(e, BG_ERR_INVALID, "consent does not start with '%.*s'",
		    (int)sizeof(CONSENT_HEADER) - 2, CONSENT_HEADER);
	}
	p += sizeof(CONSENT_HEADER) - 1;
	if ((size_t)(end - p) < 17 || memcmp(p, "statement-bytes: ", 17) != 0)
		return bg_fail(e, BG_ERR_INVALID, "consent: expected 'statement-bytes: N'");
	p += 17;
	if (*p < '1' || *p > '9')
		return bg_fail(e, BG_ERR_INVALID, "consent: malformed statement length");
	for (; p < end && *p >= '0' && *p <= '9'; p++) {
		n = n * 10 + (size_t)(*p - '0');
		if (n > CONSENT_MAX)
			return bg_fail(e, BG_ERR_INVALID, "consent: statement length too large");
	}
	if (p >= end || *p != '\n' || n > (size_t)(end - p - 1))
		return bg_fail(e, BG_ERR_INVALID, "consent: statement length beyond the data");
	p++;
	if ((out->statement = strndup(p, n)) == NULL)
		return BG_ERR_NOMEM;
	if (n == 0 || p[n - 1] != '\n') {
		r = bg_fail(e, BG_ERR_INVALID, "consent: the statement does not end a line");
		goto fail;
	}
	p += n;
	if (p == end) {
		r = bg_fail(e, BG_ERR_INVALID, "consent carries no signature");
		goto fail;
	}
	while (p < end) {
		if ((size_t)(end - p) < sizeof(SIG_BEGIN) - 1 ||
		    memcmp(p, SIG_BEGIN, sizeof(SIG_BEGIN) - 1) != 0) {
			r = bg_fail(e, BG_ERR_INVALID, "consent: expected a signature at byte %zu",
			    (size_t)(p - text) + 1);
			goto fail;
		}
		if ((q = memmem(p, (size_t)(end - p), SIG_END, sizeof(SIG_END) - 1)) == NULL) {
			r = bg_fail(e, BG_ERR_INVALID, "consent: signature not terminated");
			goto fail;
		}
		q += sizeof(SIG_END) - 1;
		if (out->nsigs == CONSENT_MAX_SIGS) {
			r = bg_fail(e, BG_ERR_INVALID, "consent: more than %d signatures",
			    CONSENT_MAX_SIGS);
			goto fail;
		}
		if ((r = sshsig_parse(p, (size_t)(q - p), &out->sigs[out->nsigs], e)) != 0)
			goto fail;
		out->nsigs++;
		p = q;
	}
	return 0;
fail:
	consent_release(out);
	return r;
}

/* The value of the line "key: value" (the first one), NUL-terminated into v. */
static int
line_value(const char *text, const char *key, char *v, size_t vn)
{
	size_t kl = strlen(key);
	const char *p = text;

	for (; *p != '\0'; p = strchr(p, '\n') + 1) {
		size_t ll = strcspn(p, "\n");

		if (ll > kl + 1 && memcmp(p, key, kl) == 0 && p[kl] == ':' && p[kl + 1] == ' ') {
			if (ll - kl - 2 >= vn)
				return -1;
			memcpy(v, p + kl + 2, ll - kl - 2);
			v[ll - kl - 2] = '\0';
			return 0;
		}
		if (p[ll] == '\0')
			break;
	}
	return -1;
}

/* The version line: 0, or a refusal naming both versions. */
static int
check_version(const char *st, bg_error *e)
{
	size_t hl = sizeof(CONSENT_STATEMENT_HEADER) - 1, ll = strcspn(st, "\n");
	char want[64];

	snprintf(want, sizeof(want), CONSENT_STATEMENT_HEADER "%d", CONSENT_STATEMENT_VERSION);
	if (ll == strlen(want) && memcmp(st, want, ll) == 0)
		return 0;
	if (ll > hl && memcmp(st, CONSENT_STATEMENT_HEADER, hl) == 0)
		return bg_fail(e, BG_ERR_UNSUPPORTED, "approval statement version 'v%.*s' is not "
		    "one this host knows (it knows v%d)", (int)(ll - hl > 16 ? 16 : ll - hl),
		    st + hl, CONSENT_STATEMENT_VERSION);
	return bg_fail(e, BG_ERR_PERM, "the consent is not a breakglass approval statement");
}

/*
 * The scope's request lines (all but ticket:, grant:, artifact:) must be,
 * line for line, the statement's block for the grant; its hash the one
 * on the write-grant line.
 */
static int
check_block(const char *st, const char *scope, const char *grant, bg_error *e)
{
	buf want, got;
	const char *p, *line;
	char head[64], hash[HASH_HEXLEN];
	size_t hl;
	int r;

	buf_init(&want, CONSENT_MAX);
	buf_init(&got, CONSENT_MAX);
	for (p = scope; *p != '\0';) {
		size_t ll = strcspn(p, "\n");

		if (strncmp(p, "ticket: ", 8) != 0 && strncmp(p, "grant: ", 7) != 0 &&
		    strncmp(p, "artifact: ", 10) != 0 &&
		    ((r = buf_append(&want, p, ll)) != 0 || (r = buf_putc(&want, '\n')) != 0))
			goto out;
		p += ll;
		if (*p == '\n')
			p++;
	}
	hl = (size_t)snprintf(head, sizeof(head), "write-grant: %s ", grant);
	for (line = st; line != NULL && *line != '\0'; ) {
		if (strncmp(line, head, hl) == 0)
			break;
		line = strchr(line, '\n');
		line = line ? line + 1 : NULL;
	}
	if (line == NULL || *line == '\0') {
		r = bg_fail(e, BG_ERR_PERM, "the signed statement does not list grant %s", grant);
		goto out;
	}
	if (strlen(line) < hl + 65 || line[hl + 64] != '\n') {
		r = bg_fail(e, BG_ERR_PERM, "malformed write-grant line for %s", grant);
		goto out;
	}
	hash_sha256_hex(want.data ? want.data : "", want.len, hash);
	for (p = line + hl + 65; strncmp(p, "  ", 2) == 0;) {
		size_t ll = strcspn(p + 2, "\n");

		if ((r = buf_append(&got, p + 2, ll)) != 0 || (r = buf_putc(&got, '\n')) != 0)
			goto out;
		p += 2 + ll;
		if (*p == '\n')
			p++;
	}
	if (got.len != want.len || (want.len > 0 && memcmp(got.data, want.data, want.len) != 0) ||
	    memcmp(line + hl, hash, 64) != 0) {
		r = bg_fail(e, BG_ERR_PERM, "the certificate's scope of grant %s is not the scope "
		    "the approvers signed", grant);
		goto out;
	}
	r = 0;
out:
	buf_release(&want);
	buf_release(&got);
	return r;
}

/* Every "artifact: SHA KIND" of the scope is an "artifact: SHA KIND NAME" signed. */
static int
check_artifacts(const char *st, const char *scope, bg_error *e)
{
	const char *p;

	for (p = scope; (p = strstr(p, "artifact: ")) != NULL; p++) {
		char want[160];
		size_t ll = strcspn(p, "\n");

		if (p != scope && p[-1] != '\n')
			continue;
		if (ll + 3 > sizeof(want))
			return bg_fail(e, BG_ERR_PERM, "malformed artifact in the scope");
		want[0] = '\n';
		memcpy(want + 1, p, ll);
		want[ll + 1] = ' ';
		want[ll + 2] = '\0';
		if (strstr(st, want) == NULL)
			return bg_fail(e, BG_ERR_PERM, "the certificate's artifact '%.*s' is not one "
			    "the approvers signed", (int)(ll > 100 ? 100 : ll), p);
	}
	return 0;
}

/* The allowed signer for sig's key, or NULL. */
static const signer_entry *
find_signer(const signers *ss, const sshsig *sig, int64_t now)
{
	for (size_t i = 0; i < ss->n; i++) {
		const signer_entry *s = &ss->v[i];

		if (s->cert_authority || !sshkey_equal(&s->key, &sig->key) ||
		    !signers_namespace_allowed(s, CONSENT_NAMESPACE) ||
		    (s->valid_after != 0 && now < s->valid_after) ||
		    (s->valid_before != 0 && now >= s->valid_before))
			continue;
		return s;
	}
	return NULL;
}

int
consent_verify(const consent *c, const char *scope, const signers *approvers,
    int quorum, int64_t valid_after, int64_t now, bg_error *e)
{
	const signer_entry *who[CONSENT_MAX_SIGS];
	char v[128], ticket[64], grant[64];
	size_t i, j, nwho = 0;
	int64_t until;
	bg_error tmp;
	int r;

	if (quorum < 1)
		return bg_fail(e, BG_ERR_PERM, "the host's write quorum is not set");
	if ((r = check_version(c->statement, e)) != 0)
		return r;
	if (line_value(c->statement, "kind", v, sizeof(v)) != 0 || strcmp(v, "plan") != 0)
		return bg_fail(e, BG_ERR_PERM, "the signed statement is not a plan approval");
	if (line_value(scope, "ticket", ticket, sizeof(ticket)) != 0 ||
	    line_value(scope, "grant", grant, sizeof(grant)) != 0)
		return bg_fail(e, BG_ERR_PERM, "the certificate scope names no ticket or grant");
	if (line_value(c->statement, "ticket", v, sizeof(v)) != 0 || strcmp(v, ticket) != 0)
		return bg_fail(e, BG_ERR_PERM, "the signed statement is for ticket '%.32s', not %s",
		    v, ticket);
	if ((r = check_block(c->statement, scope, grant, e)) != 0 ||
	    (r = check_artifacts(c->statement, scope, e)) != 0)
		return r;
	if (line_value(c->statement, "valid-until", v, sizeof(v)) != 0 ||
	    utc_parse(v, &until) != 0)
		return bg_fail(e, BG_ERR_PERM, "the signed statement has no valid-until");
	if (valid_after > until)
		return bg_fail(e, BG_ERR_PERM, "the grant was activated after the signed statement "
		    "expired (%s)", v);
	for (i = 0; i < c->nsigs; i++) {
		const signer_entry *s = find_signer(approvers, &c->sigs[i], now);

		if (s == NULL)
			continue; /* not one of this host's approvers: does not count */
		if (sshsig_verify(&c->sigs[i], c->statement, strlen(c->statement),
		    CONSENT_NAMESPACE, &tmp) != 0)
			return bg_fail(e, BG_ERR_SIGNATURE, "a signature by %.100s does not verify "
			    "over the statement: %s", s->principals, tmp.msg);
		for (j = 0; j < nwho; j++)
			if (strcmp(who[j]->principals, s->principals) == 0)
				break;
		if (j == nwho)
			who[nwho++] = s;
	}
	if ((int)nwho < quorum)
		return bg_fail(e, BG_ERR_PERM, "the owner's consent: %zu of %d required approver "
		    "signatures from this host's approvers", nwho, quorum);
	return 0;
}

void
consent_sql_marks(const char *statement, const char *sha, int64_t *rows,
    uint64_t *destructive)
{
	const char *p;

	*rows = -1;
	*destructive = 0;
	if (strlen(sha) != 64)
		return;
	for (p = statement; p != NULL && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		int isrows = strncmp(p, "sql-rows: ", 10) == 0;
		const char *v = p + (isrows ? 10 : 17);
		char *end;
		long long n;

		if (!isrows && strncmp(p, "sql-destructive: ", 17) != 0)
			continue;
		if (strncmp(v, sha, 64) != 0 || v[64] != ' ' || v[65] < '0' || v[65] > '9')
			continue;
		n = strtoll(v + 65, &end, 10);
		if (*end != '\n' && *end != '\0')
			continue;
		if (isrows)
			*rows = n;
		else if (n >= 1 && n <= 64)
			*destructive |= (uint64_t)1 << (n - 1);
	}
}
