/*
 * rbresult.c - result bundles: writer, strict parser, signature check.
 *
 * The chain makes a dropped, reordered or edited record visible even to a
 * reader that does not check the signature; the signature binds the whole
 * bundle to one operator key.  Truncation loses the signature and "end".
 */
#include "rbresult.h"
#include "bundle.h"
#include "hash.h"
#include "json.h"
#include "signers.h"
#include "sshsig.h"
#include "text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
rbresult_release(rbresult *r)
{
	free(r->text);
	free(r->sig);
	memset(r, 0, sizeof(*r));
}

void
rbresult_writer_release(rbresult_writer *w)
{
	buf_release(&w->out);
}

int
rbresult_begin(rbresult_writer *w, int64_t ticket, const char *runbook_sha,
    const char *system, const char *op)
{
	int r;

	memset(w, 0, sizeof(*w));
	buf_init(&w->out, RBRESULT_MAX_INPUT);
	if (!hash_is_hex64(runbook_sha) || !text_is_ident(system, 127) ||
	    text_check(op, strlen(op), 0, NULL) != 0 || strlen(op) > 255 || *op == '\0' ||
	    strchr(op, ' ') != NULL)
		return BG_ERR_USAGE;
	if ((r = buf_printf(&w->out, "breakglass runbook result v1\nticket: T-%lld\nrunbook: %s\n"
	    "system: %s\noperator: %s\n", (long long)ticket, runbook_sha, system, op)) != 0)
		return r;
	hash_sha256_hex(w->out.data, w->out.len, w->prev);
	return 0;
}

static int
type_valid(const char *t)
{
	return strcmp(t, "run") == 0 || strcmp(t, "step") == 0 || strcmp(t, "attach") == 0 ||
	    strcmp(t, "end") == 0;
}

static int
status_valid(const char *s)
{
	return strcmp(s, "ok") == 0 || strcmp(s, "failed") == 0 || strcmp(s, "reported") == 0 ||
	    strcmp(s, "skipped") == 0 || strcmp(s, "-") == 0;
}

int
rbresult_add(rbresult_writer *w, const char *type, int step, const char *status,
    const char *body, size_t len)
{
	size_t start = w->out.len;
	int r;

	if (!type_valid(type) || !status_valid(status) || step < 0 || step > 999 ||
	    len > RBRESULT_MAX_BODY || w->seq >= RBRESULT_MAX_RECS)
		return BG_ERR_USAGE;
	if ((r = buf_printf(&w->out, "record: %d %s %s %d %s %zu\n", w->seq + 1, w->prev, type,
	    step, status, len)) != 0 || (r = buf_append(&w->out, body, len)) != 0 ||
	    (r = buf_putc(&w->out, '\n')) != 0) {
		w->out.len = start;
		w->out.data[start] = '\0';
		return r;
	}
	w->seq++;
	hash_sha256_hex(w->out.data + start, w->out.len - start, w->prev);
	return 0;
}

int
rbresult_seal(rbresult_writer *w, const char *sig, size_t len)
{
	int r;

	if ((r = buf_printf(&w->out, "signature: %zu\n", len)) != 0 ||
	    (r = buf_append(&w->out, sig, len)) != 0)
		return r;
	return buf_puts(&w->out, "\nend\n");
}

/* One line at *at into l (without the newline). */
static int
line_at(const char *s, size_t n, size_t *at, char *l, size_t max)
{
	const char *nl;
	size_t len;

	if (*at >= n || (nl = memchr(s + *at, '\n', n - *at)) == NULL)
		return -1;
	len = (size_t)(nl - (s + *at));
	if (len >= max || memchr(s + *at, '\0', len) != NULL)
		return -1;
	memcpy(l, s + *at, len);
	l[len] = '\0';
	*at += len + 1;
	return 0;
}

static int
dec(const char *s, long max, long *v)
{
	char *end;

	if (*s < '0' || *s > '9' || (s[0] == '0' && s[1] != '\0'))
		return -1;
	*v = 0;
	for (end = (char *)s; *end >= '0' && *end <= '9'; end++) {
		if (*v > (max - (*end - '0')) / 10)
			return -1;
		*v = *v * 10 + (*end - '0');
	}
	return *end == '\0' ? 0 : -1;
}

int
rbresult_parse(const char *text, size_t len, rbresult *out, bg_error *e)
{
	char l[1024], prev[65], canon[1024];
	size_t at = 0, start;
	long v;
	int r = BG_ERR_INVALID, rec = 0;

	memset(out, 0, sizeof(*out));
	if (len > RBRESULT_MAX_INPUT)
		return bg_fail(e, BG_ERR_TOOLARGE, "result bundle over %u bytes", RBRESULT_MAX_INPUT);
	if ((out->text = malloc(len + 1)) == NULL)
		return BG_ERR_NOMEM;
	memcpy(out->text, text, len);
	out->text[len] = '\0';
	out->len = len;
	text = out->text;
	if (line_at(text, len, &at, l, sizeof(l)) != 0 ||
	    strcmp(l, "breakglass runbook result v1") != 0) {
		bg_fail(e, r, "line 1: not a breakglass runbook result v1");
		goto fail;
	}
	if (line_at(text, len, &at, l, sizeof(l)) != 0 || strncmp(l, "ticket: T-", 10) != 0 ||
	    dec(l + 10, INT32_MAX, &v) != 0 || v == 0) {
		bg_fail(e, r, "line 2: expected 'ticket: T-N'");
		goto fail;
	}
	out->ticket = v;
	if (line_at(text, len, &at, l, sizeof(l)) != 0 || strncmp(l, "runbook: ", 9) != 0 ||
	    !hash_is_hex64(l + 9)) {
		bg_fail(e, r, "line 3: expected 'runbook: SHA256'");
		goto fail;
	}
	snprintf(out->runbook, sizeof(out->runbook), "%.64s", l + 9);
	if (line_at(text, len, &at, l, sizeof(l)) != 0 || strncmp(l, "system: ", 8) != 0 ||
	    !text_is_ident(l + 8, 127)) {
		bg_fail(e, r, "line 4: expected 'system: NAME'");
		goto fail;
	}
	snprintf(out->system, sizeof(out->system), "%.127s", l + 8);
	if (line_at(text, len, &at, l, sizeof(l)) != 0 || strncmp(l, "operator: ", 10) != 0 ||
	    l[10] == '\0' || strlen(l + 10) > 255 || strchr(l + 10, ' ') != NULL ||
	    text_check(l + 10, strlen(l + 10), 0, NULL) != 0) {
		bg_fail(e, r, "line 5: expected 'operator: NAME'");
		goto fail;
	}
	snprintf(out->operator_, sizeof(out->operator_), "%.255s", l + 10);
	hash_sha256_hex(text, at, prev);
	for (;;) {
		rbresult_rec *x;
		char seq[8], pv[72], type[16], step[8], status[16], blen[16], extra;

		start = at;
		if (line_at(text, len, &at, l, sizeof(l)) != 0) {
			bg_fail(e, r, "record %d: the bundle ends early (truncated)", rec + 1);
			goto fail;
		}
		if (strncmp(l, "signature: ", 11) == 0)
			break;
		if (out->n == RBRESULT_MAX_RECS) {
			bg_fail(e, r, "more than %d records", RBRESULT_MAX_RECS);
			goto fail;
		}
		x = &out->rec[out->n];
		if (sscanf(l, "record: %7s %71s %15s %7s %15s %15s %c", seq, pv, type, step, status,
		    blen, &extra) != 6 || dec(seq, RBRESULT_MAX_RECS, &v) != 0 ||
		    v != (long)out->n + 1) {
			bg_fail(e, r, "record %zu: malformed or out of sequence", out->n + 1);
			goto fail;
		}
		x->seq = (int)v;
		snprintf(canon, sizeof(canon), "record: %s %s %s %s %s %s", seq, pv, type, step,
		    status, blen);
		if (strcmp(canon, l) != 0 || !type_valid(type) || !status_valid(status) ||
		    dec(step, 999, &v) != 0) {
			bg_fail(e, r, "record %d: malformed", x->seq);
			goto fail;
		}
		x->step = (int)v;
		if (strcmp(pv, prev) != 0) {
			r = bg_fail(e, BG_ERR_TAMPER, "record %d does not follow record %d (the chain "
			    "is broken: a record was changed, dropped or reordered)", x->seq,
			    x->seq - 1);
			goto fail;
		}
		if (dec(blen, RBRESULT_MAX_BODY, &v) != 0 || (size_t)v >= len - at ||
		    text[at + (size_t)v] != '\n') {
			bg_fail(e, r, "record %d: its body is cut short (truncated)", x->seq);
			goto fail;
		}
		snprintf(x->type, sizeof(x->type), "%.7s", type);
		snprintf(x->status, sizeof(x->status), "%.9s", status);
		x->body = text + at;
		x->len = (size_t)v;
		at += (size_t)v + 1;
		hash_sha256_hex(text + start, at - start, prev);
		out->n++;
		rec = (int)out->n;
	}
	out->signed_len = start;
	if (out->n < 2 || strcmp(out->rec[0].type, "run") != 0 ||
	    strcmp(out->rec[out->n - 1].type, "end") != 0) {
		bg_fail(e, r, "the records do not start with 'run' and end with 'end' (truncated?)");
		goto fail;
	}
	for (size_t i = 1; i + 1 < out->n; i++)
		if (strcmp(out->rec[i].type, "run") == 0 || strcmp(out->rec[i].type, "end") == 0) {
			bg_fail(e, r, "record %zu: a second '%s'", i + 1, out->rec[i].type);
			goto fail;
		}
	if (dec(l + 11, SSHSIG_MAX_ARMOURED, &v) != 0 || (size_t)v >= len - at ||
	    text[at + (size_t)v] != '\n') {
		bg_fail(e, r, "the signature is cut short (truncated)");
		goto fail;
	}
	if ((out->sig = malloc((size_t)v + 1)) == NULL) {
		r = BG_ERR_NOMEM;
		goto fail;
	}
	memcpy(out->sig, text + at, (size_t)v);
	out->sig[v] = '\0';
	out->siglen = (size_t)v;
	at += (size_t)v + 1;
	if (len - at != 4 || memcmp(text + at, "end\n", 4) != 0) {
		bg_fail(e, r, "expected 'end' after the signature, and nothing after it");
		goto fail;
	}
	return 0;
fail:
	rbresult_release(out);
	return r;
}

int
rbresult_verify(const rbresult *res, const char *stext, size_t slen, int64_t now,
    char principal[256], char fingerprint[64], bg_error *e)
{
	signers ss;
	sshsig sig;
	const signer_entry *who = NULL;
	bg_error tmp;
	size_t k;
	int r;

	principal[0] = '\0';
	fingerprint[0] = '\0';
	if ((r = sshsig_parse(res->sig, res->siglen, &sig, e)) != 0)
		return r == BG_ERR_INVALID ? BG_ERR_SIGNATURE : r;
	sshkey_fingerprint(&sig.key, fingerprint);
	if ((r = signers_parse(stext, slen, &ss, e)) != 0) {
		sshsig_release(&sig);
		return r;
	}
	for (k = 0; k < ss.n && who == NULL; k++)
		if (!ss.v[k].cert_authority && sshkey_equal(&ss.v[k].key, &sig.key) &&
		    (ss.v[k].valid_after == 0 || now >= ss.v[k].valid_after) &&
		    (ss.v[k].valid_before == 0 || now < ss.v[k].valid_before))
			who = &ss.v[k];
	if (who == NULL) {
		r = bg_fail(e, BG_ERR_PERM, "the bundle is signed by key %s, which the project "
		    "does not know", fingerprint);
		goto out;
	}
	if (strcmp(sig.ns, RBRESULT_NAMESPACE) != 0) {
		r = bg_fail(e, BG_ERR_SIGNATURE, "the bundle is signed in namespace '%.64s', not '"
		    RBRESULT_NAMESPACE "'", sig.ns);
		goto out;
	}
	/* every OpenSSH signature type, verified in process */
	r = sshsig_verify(&sig, res->text, res->signed_len, RBRESULT_NAMESPACE, &tmp);
	if (r != 0 && r != BG_ERR_SIGNATURE) {
		r = bg_fail(e, r, "%s", tmp.msg);
		goto out;
	}
	if (r != 0) {
		r = bg_fail(e, BG_ERR_SIGNATURE, "the bundle's signature does not verify (altered "
		    "after it was signed)");
		goto out;
	}
	snprintf(principal, 256, "%s", who->principals);
out:
	sshsig_release(&sig);
	signers_release(&ss);
	return r;
}

/* ---- reading what check and collect steps recorded ---------------------- */

void
rbresult_found_release(rbresult_found *f)
{
	for (size_t i = 0; i < f->nv; i++)
		json_val_free(f->v[i]);
	f->nv = 0;
}

/* A whole number member, or -1. */
static int64_t
jnum(const json_val *o, const char *key, int64_t max)
{
	const json_val *v = json_get(o, key);
	int64_t n = 0;
	const char *p;

	if (v == NULL || v->type != JSON_NUM || v->s == NULL || v->s[0] == '\0')
		return -1;
	for (p = v->s; *p; p++) {
		if (*p < '0' || *p > '9' || n > (max - (*p - '0')) / 10)
			return -1;
		n = n * 10 + (*p - '0');
	}
	return n;
}

static int
found_read(const rbresult *res, rbresult_found *f, bg_error *e)
{
	size_t i;
	int r;

	memset(f, 0, sizeof(*f));
	for (i = 0; i < res->n; i++) {
		const rbresult_rec *x = &res->rec[i];
		json_val *v;
		const char *s;
		int is_step = strcmp(x->type, "step") == 0;

		if (!is_step && strcmp(x->type, "attach") != 0)
			continue;
		if (memmem(x->body, x->len, is_step ? "\"check\":" : "\"collect\":",
		    is_step ? 8 : 10) == NULL &&
		    (!is_step || memmem(x->body, x->len, "\"sql\":", 6) == NULL))
			continue;
		if ((r = json_parse(x->body, x->len, &v, e)) != 0)
			return bg_fail(e, BG_ERR_INVALID, "record %d: not JSON: %.200s", x->seq, e->msg);
		f->v[f->nv++] = v;
		if (is_step && (s = json_get_str(v, "check")) != NULL) {
			smokecheck *c = &f->chk[f->nchk].c;
			const char *ph = json_get_str(v, "phase"), *res_ = json_get_str(v, "result");
			const char *sha = json_get_str(v, "body_sha256");
			int64_t st, ms, size;

			if (json_get(v, "error") != NULL)
				continue; /* it could not run: no result to record */
			st = jnum(v, "status", 999);
			ms = jnum(v, "elapsed_ms", INT32_MAX);
			size = jnum(v, "body_size", INT64_MAX / 2);
			if (ph == NULL || (strcmp(ph, "before") != 0 && strcmp(ph, "after") != 0) ||
			    res_ == NULL || (strcmp(res_, "pass") != 0 && strcmp(res_, "fail") != 0) ||
			    json_get_str(v, "url") == NULL || json_get_str(v, "expect") == NULL ||
			    sha == NULL || !hash_is_hex64(sha) || st < 0 || ms < 0 || size < 0 ||
			    strlen(s) > 32 || (strcmp(ph, "before") == 0 ? strcmp(x->status, "-") != 0 :
			    (strcmp(res_, "pass") == 0) != (strcmp(x->status, "ok") == 0)))
				return bg_fail(e, BG_ERR_INVALID, "record %d: step %d's check result is "
				    "incomplete or inconsistent", x->seq, x->step);
			memset(c, 0, sizeof(*c));
			c->name = s;
			c->url = json_get_str(v, "url");
			c->status = (long)st;
			c->elapsed_ms = ms;
			c->body_size = (uint64_t)size;
			snprintf(c->body_sha256, sizeof(c->body_sha256), "%s", sha);
			c->pass = strcmp(res_, "pass") == 0;
			if (!c->pass && json_get_str(v, "why") != NULL)
				snprintf(c->why, sizeof(c->why), "%s", json_get_str(v, "why"));
			f->chk[f->nchk].step = x->step;
			f->chk[f->nchk].phase = ph;
			f->chk[f->nchk].expect = json_get_str(v, "expect");
			f->nchk++;
		} else if (is_step && (s = json_get_str(v, "sql")) != NULL) {
			const char *eng = json_get_str(v, "engine"), *db = json_get_str(v, "database");
			const char *img = json_get_str(v, "before_image"), *err = json_get_str(v, "error");
			const char *kind = json_get_str(v, "kind");
			int64_t rows = jnum(v, "rows", INT64_MAX / 2), want = jnum(v, "expect_rows",
			    INT64_MAX / 2), ms = jnum(v, "duration_ms", INT32_MAX);
			int ok = strcmp(x->status, "ok") == 0;

			if (eng == NULL || db == NULL || kind == NULL || strcmp(kind, "client-run") != 0 ||
			    rows < 0 || want < 0 || ms < 0 || strlen(s) > 255 ||
			    (ok ? img == NULL || err != NULL || rows != want ||
			    strspn(img, "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(img) :
			    img != NULL || err == NULL || strcmp(x->status, "failed") != 0))
				return bg_fail(e, BG_ERR_INVALID, "record %d: step %d's SQL result is "
				    "incomplete or inconsistent", x->seq, x->step);
			f->sql[f->nsql].step = x->step;
			f->sql[f->nsql].name = s;
			f->sql[f->nsql].engine = eng;
			f->sql[f->nsql].database = db;
			f->sql[f->nsql].image = img;
			f->sql[f->nsql].error = err;
			f->sql[f->nsql].rows = rows;
			f->sql[f->nsql].expect = want;
			f->sql[f->nsql].duration_ms = ms;
			f->sql[f->nsql].ok = ok;
			f->nsql++;
		} else if (!is_step && (s = json_get_str(v, "collect")) != NULL) {
			const char *content = json_get_str(v, "content"), *sha = json_get_str(v, "sha256");
			char got[65];
			bundle b;

			if (content == NULL || sha == NULL || !text_is_ident(s, 63)) {
				return bg_fail(e, BG_ERR_INVALID, "record %d: the diagnostics of step %d "
				    "are incomplete", x->seq, x->step);
			}
			hash_sha256_hex(content, strlen(content), got);
			if (strcmp(got, sha) != 0)
				return bg_fail(e, BG_ERR_TAMPER, "record %d: the diagnostics bundle of "
				    "step %d does not have the SHA-256 the run recorded", x->seq, x->step);
			if ((r = bundle_parse(content, strlen(content), &b, e)) != 0)
				return bg_fail(e, r, "record %d: the diagnostics bundle of step %d: %.200s",
				    x->seq, x->step, e->msg);
			bundle_release(&b);
			f->col[f->ncol].step = x->step;
			f->col[f->ncol].profile = s;
			f->col[f->ncol].content = content;
			f->col[f->ncol].size = strlen(content);
			memcpy(f->col[f->ncol].sha, got, sizeof(got));
			f->ncol++;
		}
	}
	return 0;
}

int
rbresult_found_read(const rbresult *res, rbresult_found *f, bg_error *e)
{
	int r = found_read(res, f, e);

	if (r != 0)
		rbresult_found_release(f);
	return r;
}
