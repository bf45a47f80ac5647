/*
 * runbook.c - the runbook file: writer, strict parser, verification
 * against the client's own allowed signers.
 *
 * The approvers signed the plan statement, and the statement names the
 * plan text's SHA-256 and each artifact's SHA-256, kind and name in order.
 * So a changed byte in a step, steps swapped, dropped or added, another
 * system or a later expiry all show as a mismatch with the signed text,
 * and are refused before anything runs.
 */
#include "runbook.h"
#include "consent.h"
#include "hash.h"
#include "kv.h"
#include "plan.h"
#include "signers.h"
#include "sshsig.h"
#include "text.h"
#include "utc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void
runbook_release(runbook *rb)
{
	size_t i;

	free(rb->text);
	free((char *)rb->stmt);
	for (i = 0; i < rb->nsigs; i++)
		free(rb->sigs[i]);
	free(rb->plan_text);
	memset(rb, 0, sizeof(*rb));
}

typedef struct rd {
	const char *s;
	size_t n, at, line;
	bg_error *e;
} rd;

/* The next line (without its newline) into l; 0 or BG_ERR_INVALID. */
static int
rd_line(rd *r, char *l, size_t max)
{
	const char *nl;
	size_t len;

	r->line++;
	if (r->at >= r->n || (nl = memchr(r->s + r->at, '\n', r->n - r->at)) == NULL)
		return bg_fail(r->e, BG_ERR_INVALID, "line %zu: unexpected end of runbook", r->line);
	len = (size_t)(nl - (r->s + r->at));
	if (len >= max || memchr(r->s + r->at, '\0', len) != NULL)
		return bg_fail(r->e, BG_ERR_INVALID, "line %zu: line too long or holds a NUL",
		    r->line);
	memcpy(l, r->s + r->at, len);
	l[len] = '\0';
	r->at += len + 1;
	return 0;
}

/* A positive decimal without sign or leading zero, at most max. */
static int
num(const char *s, int64_t max, int64_t *out)
{
	int64_t v = 0;

	if (*s < '1' || *s > '9')
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > (max - (*s - '0')) / 10)
			return -1;
		v = v * 10 + (*s - '0');
	}
	*out = v;
	return 0;
}

/* "KEY: VALUE" with the exact key; *v points into l. */
static int
rd_field(rd *r, char *l, size_t max, const char *key, char **v)
{
	int rc;
	size_t k = strlen(key);

	if ((rc = rd_line(r, l, max)) != 0)
		return rc;
	if (strncmp(l, key, k) != 0 || l[k] != ':' || l[k + 1] != ' ' || l[k + 2] == '\0')
		return bg_fail(r->e, BG_ERR_INVALID, "line %zu: expected '%s: ...'", r->line, key);
	*v = l + k + 2;
	return 0;
}

/* LEN bytes and a newline; *p points into the text. */
static int
rd_blob(rd *r, int64_t len, const char **p)
{
	if ((uint64_t)len > r->n - r->at || r->n - r->at - (size_t)len < 1 ||
	    r->s[r->at + (size_t)len] != '\n')
		return bg_fail(r->e, BG_ERR_INVALID, "line %zu: a block of %lld bytes does not end "
		    "in a newline where it should (truncated?)", r->line, (long long)len);
	*p = r->s + r->at;
	for (size_t i = 0; i < (size_t)len; i++)
		if (r->s[r->at + i] == '\n')
			r->line++;
	r->at += (size_t)len + 1;
	r->line++;
	return 0;
}

static char *
dup_n(const char *p, size_t n)
{
	char *s = malloc(n + 1);

	if (s != NULL) {
		memcpy(s, p, n);
		s[n] = '\0';
	}
	return s;
}

int
runbook_parse(const char *text, size_t len, runbook *rb, bg_error *e)
{
	rd r = { NULL, len, 0, 0, e };
	char l[1024], *v;
	const char *p;
	int64_t n;
	size_t bad;
	int rc;

	memset(rb, 0, sizeof(*rb));
	if (len > RUNBOOK_MAX_INPUT)
		return bg_fail(e, BG_ERR_TOOLARGE, "runbook over %u bytes", RUNBOOK_MAX_INPUT);
	if ((rb->text = dup_n(text, len)) == NULL)
		return BG_ERR_NOMEM;
	rb->len = len;
	r.s = rb->text;
	hash_sha256_hex(text, len, rb->sha256);
	if ((rc = rd_line(&r, l, sizeof(l))) != 0)
		goto fail;
	if (strcmp(l, "breakglass runbook v1") != 0) {
		rc = bg_fail(e, BG_ERR_INVALID, "line 1: not a breakglass runbook v1");
		goto fail;
	}
	if ((rc = rd_field(&r, l, sizeof(l), "ticket", &v)) != 0)
		goto fail;
	if (strncmp(v, "T-", 2) != 0 || num(v + 2, INT32_MAX, &rb->ticket) != 0) {
		rc = bg_fail(e, BG_ERR_INVALID, "line %zu: bad ticket", r.line);
		goto fail;
	}
	if ((rc = rd_field(&r, l, sizeof(l), "plan", &v)) != 0)
		goto fail;
	if (strncmp(v, "P-", 2) != 0 || num(v + 2, INT32_MAX, &rb->plan) != 0) {
		rc = bg_fail(e, BG_ERR_INVALID, "line %zu: bad plan", r.line);
		goto fail;
	}
	if ((rc = rd_field(&r, l, sizeof(l), "system", &v)) != 0)
		goto fail;
	if (!text_is_ident(v, sizeof(rb->system) - 1)) {
		rc = bg_fail(e, BG_ERR_INVALID, "line %zu: bad system name", r.line);
		goto fail;
	}
	snprintf(rb->system, sizeof(rb->system), "%s", v);
	if ((rc = rd_field(&r, l, sizeof(l), "expires", &v)) != 0)
		goto fail;
	if (utc_parse(v, &rb->expires) != 0) {
		rc = bg_fail(e, BG_ERR_INVALID, "line %zu: bad expiry (UTC, ...Z)", r.line);
		goto fail;
	}
	if ((rc = rd_field(&r, l, sizeof(l), "statement", &v)) != 0)
		goto fail;
	if (num(v, 64 * 1024, &n) != 0 || (rc = rd_blob(&r, n, &p)) != 0) {
		rc = rc ? rc : bg_fail(e, BG_ERR_INVALID, "line %zu: bad statement length", r.line);
		goto fail;
	}
	if (text_check(p, (size_t)n, 1, &bad) != 0) {
		rc = bg_fail(e, BG_ERR_INVALID, "statement: byte %zu is not text", bad);
		goto fail;
	}
	if ((rb->stmt = dup_n(p, (size_t)n)) == NULL) {
		rc = BG_ERR_NOMEM;
		goto fail;
	}
	for (;;) {
		if ((rc = rd_line(&r, l, sizeof(l))) != 0)
			goto fail;
		if (strncmp(l, "signature: ", 11) != 0)
			break;
		if (rb->nsigs == RUNBOOK_MAX_SIGS) {
			rc = bg_fail(e, BG_ERR_INVALID, "line %zu: more than %d signatures", r.line,
			    RUNBOOK_MAX_SIGS);
			goto fail;
		}
		if (num(l + 11, SSHSIG_MAX_ARMOURED, &n) != 0 || (rc = rd_blob(&r, n, &p)) != 0) {
			rc = rc ? rc : bg_fail(e, BG_ERR_INVALID, "line %zu: bad signature length",
			    r.line);
			goto fail;
		}
		if ((rb->sigs[rb->nsigs] = dup_n(p, (size_t)n)) == NULL) {
			rc = BG_ERR_NOMEM;
			goto fail;
		}
		rb->sig_len[rb->nsigs++] = (size_t)n;
	}
	if (rb->nsigs == 0) {
		rc = bg_fail(e, BG_ERR_INVALID, "line %zu: no signature", r.line);
		goto fail;
	}
	if (strncmp(l, "plan-text: ", 11) != 0 || num(l + 11, 256 * 1024, &n) != 0) {
		rc = bg_fail(e, BG_ERR_INVALID, "line %zu: expected 'plan-text: LEN'", r.line);
		goto fail;
	}
	if ((rc = rd_blob(&r, n, &p)) != 0)
		goto fail;
	if (text_check(p, (size_t)n, 1, &bad) != 0) {
		rc = bg_fail(e, BG_ERR_INVALID, "plan text: byte %zu is not text", bad);
		goto fail;
	}
	if ((rb->plan_text = dup_n(p, (size_t)n)) == NULL) {
		rc = BG_ERR_NOMEM;
		goto fail;
	}
	for (;;) {
		runbook_step *s;
		char kind[16], sha[65], name[256], lenbuf[16], numbuf[8], extra;
		int64_t sn;

		if ((rc = rd_line(&r, l, sizeof(l))) != 0)
			goto fail;
		if (strcmp(l, "end") == 0)
			break;
		if (rb->nsteps == RUNBOOK_MAX_STEPS) {
			rc = bg_fail(e, BG_ERR_INVALID, "line %zu: more than %d steps", r.line,
			    RUNBOOK_MAX_STEPS);
			goto fail;
		}
		s = &rb->step[rb->nsteps];
		if (sscanf(l, "step: %7s %15s %64s %15s %255s %c", numbuf, kind, sha, lenbuf, name,
		    &extra) != 5 || num(numbuf, RUNBOOK_MAX_STEPS, &sn) != 0 ||
		    sn != (int64_t)rb->nsteps + 1 || !hash_is_hex64(sha) ||
		    num(lenbuf, RUNBOOK_MAX_BLOB, &n) != 0 || !text_is_ident(name, 200) ||
		    (strcmp(kind, "diff") != 0 && strcmp(kind, "commands") != 0 &&
		    strcmp(kind, "sql") != 0 && strcmp(kind, "other") != 0)) {
			rc = bg_fail(e, BG_ERR_INVALID, "line %zu: expected 'step: %zu KIND SHA256 LEN "
			    "NAME'", r.line, rb->nsteps + 1);
			goto fail;
		}
		{	/* exactly one space between fields */
			char canon[1024];

			snprintf(canon, sizeof(canon), "step: %s %s %s %s %s", numbuf, kind, sha,
			    lenbuf, name);
			if (strcmp(canon, l) != 0) {
				rc = bg_fail(e, BG_ERR_INVALID, "line %zu: extra spaces", r.line);
				goto fail;
			}
		}
		if ((rc = rd_blob(&r, n, &p)) != 0)
			goto fail;
		s->n = (int)sn;
		snprintf(s->kind, sizeof(s->kind), "%s", kind);
		snprintf(s->sha256, sizeof(s->sha256), "%s", sha);
		snprintf(s->name, sizeof(s->name), "%s", name);
		s->data = p;
		s->len = (size_t)n;
		rb->nsteps++;
	}
	if (r.at != r.n) {
		rc = bg_fail(e, BG_ERR_INVALID, "line %zu: data after 'end'", r.line + 1);
		goto fail;
	}
	return 0;
fail:
	runbook_release(rb);
	return rc;
}

int
runbook_format(int64_t ticket, int64_t plan_id, const char *system, int64_t expires,
    const char *stmt, const char *const *sigs, size_t nsigs, const char *plan_text,
    const runbook_part *steps, size_t nsteps, buf *out, bg_error *e)
{
	char u[UTC_STRLEN];
	size_t i;
	int r;

	if (nsigs == 0 || nsigs > RUNBOOK_MAX_SIGS || nsteps > RUNBOOK_MAX_STEPS)
		return bg_fail(e, BG_ERR_USAGE, "%zu signatures and %zu steps: out of range", nsigs,
		    nsteps);
	utc_format(expires, u);
	if ((r = buf_printf(out, "breakglass runbook v1\nticket: T-%lld\nplan: P-%lld\n"
	    "system: %s\nexpires: %s\nstatement: %zu\n%s\n", (long long)ticket, (long long)plan_id,
	    system, u, strlen(stmt), stmt)) != 0)
		return r;
	for (i = 0; i < nsigs; i++)
		if ((r = buf_printf(out, "signature: %zu\n%s\n", strlen(sigs[i]), sigs[i])) != 0)
			return r;
	if ((r = buf_printf(out, "plan-text: %zu\n%s\n", strlen(plan_text), plan_text)) != 0)
		return r;
	for (i = 0; i < nsteps; i++)
		if ((r = buf_printf(out, "step: %zu %s %s %zu %s\n", i + 1, steps[i].kind,
		    steps[i].sha256, steps[i].len, steps[i].name)) != 0 ||
		    (r = buf_append(out, steps[i].data, steps[i].len)) != 0 ||
		    (r = buf_putc(out, '\n')) != 0)
			return r;
	return buf_puts(out, "end\n");
}

/* The value of "key: " in the statement's header, copied into v. */
static int
stmt_get(const char *stmt, const char *key, char *v, size_t max)
{
	size_t k = strlen(key);
	const char *p = stmt, *nl;

	for (; (nl = strchr(p, '\n')) != NULL && nl != p; p = nl + 1) {
		if (strncmp(p, key, k) == 0 && p[k] == ':' && p[k + 1] == ' ') {
			size_t n = (size_t)(nl - p) - k - 2;

			if (n >= max)
				return -1;
			memcpy(v, p + k + 2, n);
			v[n] = '\0';
			return 0;
		}
	}
	return -1;
}

int
runbook_verify(const runbook *rb, const runbook_trust *tr, int64_t now, bg_error *e)
{
	char v[512], want[512], u[UTC_STRLEN], requester[256];
	char principals[RUNBOOK_MAX_SIGS][256];
	const char *p, *nl;
	size_t i, k, nart = 0, nprin = 0;
	signers ss;
	int64_t until;
	int r;

	memset(&ss, 0, sizeof(ss));
	/* the statement: a plan statement, its binding consistent with the file */
	{
		/* the statement version the broker issues (consent.h), named on refusal */
		char head[64];
		size_t hl = (size_t)snprintf(head, sizeof(head), CONSENT_STATEMENT_HEADER "%d\n",
		    CONSENT_STATEMENT_VERSION);

		if (strncmp(rb->stmt, CONSENT_STATEMENT_HEADER, sizeof(CONSENT_STATEMENT_HEADER) - 1)
		    == 0 && strncmp(rb->stmt, head, hl) != 0)
			return bg_fail(e, BG_ERR_TAMPER, "approval statement version 'v%.*s' is not "
			    "one this breakglass knows (it knows v%d)",
			    (int)strcspn(rb->stmt + sizeof(CONSENT_STATEMENT_HEADER) - 1, "\n") > 16 ?
			    16 : (int)strcspn(rb->stmt + sizeof(CONSENT_STATEMENT_HEADER) - 1, "\n"),
			    rb->stmt + sizeof(CONSENT_STATEMENT_HEADER) - 1, CONSENT_STATEMENT_VERSION);
		if (strncmp(rb->stmt, head, hl) != 0 || strncmp(rb->stmt + hl, "kind: plan\n", 11) != 0)
			return bg_fail(e, BG_ERR_TAMPER, "the statement is not a plan approval "
			    "statement");
	}
	snprintf(want, sizeof(want), "T-%lld", (long long)rb->ticket);
	if (stmt_get(rb->stmt, "ticket", v, sizeof(v)) != 0 || strcmp(v, want) != 0)
		return bg_fail(e, BG_ERR_TAMPER, "the runbook says ticket %s, the signed statement "
		    "does not", want);
	snprintf(want, sizeof(want), "P-%lld", (long long)rb->plan);
	if (stmt_get(rb->stmt, "plan", v, sizeof(v)) != 0 || strcmp(v, want) != 0)
		return bg_fail(e, BG_ERR_TAMPER, "the runbook says plan %s, the signed statement "
		    "does not", want);
	if (stmt_get(rb->stmt, "system", v, sizeof(v)) != 0 || strcmp(v, rb->system) != 0)
		return bg_fail(e, BG_ERR_TAMPER, "the runbook says system '%s', the signed "
		    "statement does not", rb->system);
	if (strcmp(v, tr->system) != 0)
		return bg_fail(e, BG_ERR_PERM, "this runbook is for system '%s'; this host is '%s'",
		    v, tr->system);
	if (stmt_get(rb->stmt, "valid-until", v, sizeof(v)) != 0 || utc_parse(v, &until) != 0 ||
	    until != rb->expires)
		return bg_fail(e, BG_ERR_TAMPER, "the runbook's expiry is not the signed one");
	if (now >= until) {
		utc_format(until, u);
		return bg_fail(e, BG_ERR_EXPIRED, "runbook for T-%lld expired at %s",
		    (long long)rb->ticket, u);
	}
	if (stmt_get(rb->stmt, "requester", requester, sizeof(requester)) != 0)
		return bg_fail(e, BG_ERR_TAMPER, "the statement names no requester");
	hash_sha256_hex(rb->plan_text, strlen(rb->plan_text), want);
	if (stmt_get(rb->stmt, "plan-sha256", v, sizeof(v)) != 0 || strcmp(v, want) != 0)
		return bg_fail(e, BG_ERR_TAMPER, "the plan text is not the one approved");
	/* the steps: the signed artifact list, in order, each byte for byte */
	for (p = rb->stmt; (nl = strchr(p, '\n')) != NULL && nl != p; p = nl + 1) {
		const runbook_step *s;

		if (strncmp(p, "artifact: ", 10) != 0)
			continue;
		if (nart == rb->nsteps)
			return bg_fail(e, BG_ERR_TAMPER, "the approved plan has more steps than the "
			    "runbook (%zu): one was dropped", rb->nsteps);
		s = &rb->step[nart++];
		snprintf(want, sizeof(want), "artifact: %s %s %s\n", s->sha256, s->kind, s->name);
		if (strncmp(p, want, strlen(want)) != 0 || (size_t)(nl + 1 - p) != strlen(want))
			return bg_fail(e, BG_ERR_TAMPER, "step %d ('%s') is not step %zu of the "
			    "approved plan: steps were changed or reordered", s->n, s->name, nart);
		hash_sha256_hex(s->data, s->len, v);
		if (strcmp(v, s->sha256) != 0)
			return bg_fail(e, BG_ERR_TAMPER, "step %d ('%s') was altered: its content "
			    "does not have the approved SHA-256", s->n, s->name);
	}
	if (nart != rb->nsteps)
		return bg_fail(e, BG_ERR_TAMPER, "the runbook has %zu steps, the approved plan %zu",
		    rb->nsteps, nart);
	/* the signatures: the client's signers, quorum distinct principals */
	if ((r = signers_parse(tr->signers_text, tr->signers_len, &ss, e)) != 0)
		return r;
	for (i = 0; i < rb->nsigs; i++) {
		sshsig sig;
		const signer_entry *who = NULL;
		bg_error tmp;

		if (sshsig_parse(rb->sigs[i], rb->sig_len[i], &sig, &tmp) != 0) {
			r = bg_fail(e, BG_ERR_SIGNATURE, "signature %zu: %s", i + 1, tmp.msg);
			goto out;
		}
		for (k = 0; k < ss.n && who == NULL; k++)
			if (!ss.v[k].cert_authority && sshkey_equal(&ss.v[k].key, &sig.key) &&
			    signers_namespace_allowed(&ss.v[k], RUNBOOK_NAMESPACE) &&
			    (ss.v[k].valid_after == 0 || now >= ss.v[k].valid_after) &&
			    (ss.v[k].valid_before == 0 || now < ss.v[k].valid_before))
				who = &ss.v[k];
		if (who == NULL || strcmp(sig.ns, RUNBOOK_NAMESPACE) != 0) {
			sshsig_release(&sig);
			continue; /* not one of ours: it counts for nothing */
		}
		/* every OpenSSH signature type, verified in process */
		r = sshsig_verify(&sig, rb->stmt, strlen(rb->stmt), RUNBOOK_NAMESPACE, &tmp);
		sshsig_release(&sig);
		if (r != 0 && r != BG_ERR_SIGNATURE) {
			r = bg_fail(e, r, "signature %zu: %s", i + 1, tmp.msg);
			goto out;
		}
		if (r != 0) {
			r = bg_fail(e, BG_ERR_SIGNATURE, "signature %zu does not verify over the "
			    "statement (altered statement or signature)", i + 1);
			goto out;
		}
		if (signers_principal_matches(who, requester))
			continue; /* the requester cannot approve their own plan */
		for (k = 0; k < nprin; k++)
			if (strcasecmp(principals[k], who->principals) == 0)
				break;
		if (k == nprin)
			snprintf(principals[nprin++], sizeof(principals[0]), "%s", who->principals);
	}
	if ((int)nprin < tr->quorum) {
		r = bg_fail(e, BG_ERR_SIGNATURE, "%zu of %d required approvers known to this host "
		    "signed the plan", nprin, tr->quorum);
		goto out;
	}
	r = 0;
out:
	signers_release(&ss);
	return r;
}

int
runbook_plan_doc(const runbook *rb, kv_doc *d, bg_error *e)
{
	/* the plan's own schema: every field it may hold (checks, collects ...) */
	return kv_parse(rb->plan_text, strlen(rb->plan_text), plan_schema, d, e);
}

char *
runbook_plan_field(const runbook *rb, const char *key)
{
	kv_doc d;
	const char *v;
	char *out = NULL;

	if (runbook_plan_doc(rb, &d, NULL) != 0)
		return NULL;
	if ((v = kv_get(&d, key)) != NULL)
		out = strdup(v);
	kv_doc_release(&d);
	return out;
}
