/*
 * approval.c - approvers, statements and signatures.
 *
 * Statement text (every line ends in \n; the statement is signed as is):
 *
 *   breakglass approval statement v2
 *   kind: plan
 *   ticket: T-3
 *   project: shop
 *   requester: dev@agency.example
 *   plan: P-2                       \
 *   plan-sha256: ...                 | the binding section, per kind
 *   system: web1                     | (the system names where a runbook may run)
 *   artifact: SHA256 KIND NAME       |
 *   sql-rows: SHA256 N               | (a SQL artifact's expect-rows,
 *   sql-destructive: SHA256 N        |  approved-destructive statements)
 *   write-grant: G-5 SPEC-SHA256     |
 *     kind: ssh                      | (v2: the grant's whole scope,
 *     write: /srv/shop/app           |  src/proto/consent.h)
 *     ...                           /
 *   issued: 2026-11-21T05:30:00Z
 *   valid-until: 2026-11-21T13:30:00Z
 *   nonce: 0f1e...
 *
 *   I approve ...
 */
#include "approval.h"
#include "consent.h"
#include "hash.h"
#include "json.h"
#include "plan.h"
#include "project.h"
#include "scan.h"
#include "signers.h"
#include "sshsig.h"
#include "text.h"
#include "users.h"
#include "utc.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char confirm_words[] =
	"I confirm emergency production hotfix mode for this ticket. I am authorized\n"
	"to approve production changes for this project. I agree that the requester\n"
	"named above receives temporary, least-privilege, recorded access for the\n"
	"problem described in the ticket, only within the window breakglass enforces,\n"
	"and that all access is revoked and reviewed when the work is done. No\n"
	"passwords, keys or tokens are to be shared outside breakglass.\n";

static const char risk_words[] =
	"I accept the risk of changing production for this ticket without a recorded\n"
	"backup and rollback path. I understand that a failed change may not be\n"
	"reversible and I authorize write access regardless, for the reason below.\n";

static const char plan_words[] =
	"I approve the fix plan named above, exactly as hashed, its artifacts exactly\n"
	"as hashed, its rollback path and expected impact, and the write access listed\n"
	"above for implementing it. Nothing else is approved.\n";

static const char waiver_words[] =
	"I waive the smoke test for this ticket, for the reason below, and accept\n"
	"that the fix is closed without a recorded post-change test.\n";

static const char resolved_words[] =
	"I have reviewed the ticket summary. The affected production flow named\n"
	"above works for me after the changes listed above, and the ticket may be\n"
	"closed.\n";

static const char unconfirmed_words[] =
	"I close this ticket without confirming that the affected production flow\n"
	"works, for the reason below, and accept that it is recorded as closed\n"
	"without the owner's confirmation.\n";

int
statement_kind_valid(const char *kind)
{
	return strcmp(kind, "confirm") == 0 || strcmp(kind, "risk") == 0 ||
	    strcmp(kind, "plan") == 0 || strcmp(kind, "smoke-waiver") == 0 ||
	    strcmp(kind, "resolved") == 0 || strcmp(kind, "close-unconfirmed") == 0;
}

void
statement_free(statement *s)
{
	if (s == NULL)
		return;
	free(s->text);
	free(s);
}

/* ---- approvers ---- */

/*
 * Every change to a project's approvers or quorum bumps its roster serial
 * (in the store's meta table), and a roster statement names the serial it
 * was made for: a statement is used once, even when a later change brings
 * the roster and the quorum back to what they were.
 */
static int
roster_serial(home *h, const char *proj, int64_t *n, bg_error *e)
{
	return store_int_text(h->st, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = "
	    "'roster-serial:' || ?1", proj, n, e);
}

static int
roster_bump(home *h, const char *proj, bg_error *e)
{
	sqlite3_stmt *st;
	int64_t n;
	int r;

	if ((r = roster_serial(h, proj, &n, e)) != 0 ||
	    (r = store_prepare(h->st, "INSERT OR REPLACE INTO meta (key, value) VALUES "
	    "('roster-serial:' || ?, ?)", &st, e)) != 0)
		return r;
	store_bind_text(st, 1, proj);
	store_bind_int(st, 2, n + 1);
	if (sqlite3_step(st) != SQLITE_DONE)
		r = store_fail(h->st, e, "cannot count the roster change");
	sqlite3_finalize(st);
	return r;
}

static int
insert_approver(home *h, const char *proj, const signer_entry *se, const char *name,
    const char *line, bg_error *e)
{
	sqlite3_stmt *st = NULL;
	char fp[SSHKEY_FP_LEN];
	buf detail;
	json j;
	int r;

	buf_init(&detail, 2048);
	sshkey_fingerprint(&se->key, fp);
	/* the approver is a user: one user per key, made by an admin */
	{
		int64_t uid;

		if ((r = users_hold_key(h, se->principals, name, &se->key, &uid, e)) != 0)
			goto out;
	}
	if ((r = roster_bump(h, proj, e)) != 0 ||
	    (r = store_prepare(h->st, "INSERT INTO approvers (project, principal, name, "
	    "signer_line, fingerprint, added, added_by) VALUES (?, ?, ?, ?, ?, ?, ?)",
	    &st, e)) != 0)
		goto out;
	store_bind_text(st, 1, proj);
	store_bind_text(st, 2, se->principals);
	store_bind_text(st, 3, name ? name : "");
	store_bind_text(st, 4, line);
	store_bind_text(st, 5, fp);
	store_bind_int(st, 6, h->now);
	store_bind_text(st, 7, h->actor);
	if (sqlite3_step(st) != SQLITE_DONE) {
		if (sqlite3_errcode(h->st->db) == SQLITE_CONSTRAINT)
			r = bg_fail(e, BG_ERR_EXISTS, "approver '%s' with key %s is already "
			    "registered for project '%s'", se->principals, fp, proj);
		else
			r = store_fail(h->st, e, "cannot store approver");
		goto out;
	}
	json_init(&j, &detail);
	json_obj_begin(&j);
	json_kv_str(&j, "project", proj);
	json_kv_str(&j, "principal", se->principals);
	json_kv_str(&j, "fingerprint", fp);
	json_kv_str(&j, "key_type", se->key.type);
	json_obj_end(&j);
	r = home_record_json(h, "approver.add", 0, &j, e);
out:
	sqlite3_finalize(st);
	buf_release(&detail);
	return r;
}

static int
check_signer_entry(const signer_entry *se, bg_error *e)
{
	if (!text_is_email(se->principals))
		return bg_fail(e, BG_ERR_INVALID,
		    "line %zu: principal must be one email address (no patterns), not '%.64s'",
		    se->line, se->principals);
	if (se->cert_authority)
		return bg_fail(e, BG_ERR_UNSUPPORTED,
		    "line %zu: cert-authority approvers are not supported", se->line);
	if (!signers_namespace_allowed(se, APPROVAL_NAMESPACE))
		return bg_fail(e, BG_ERR_INVALID,
		    "line %zu: key is not allowed for namespace '" APPROVAL_NAMESPACE "'",
		    se->line);
	return 0;
}

/* ---- roster statements: changing a project's approvers ---- */

#define ROSTER_HEAD "breakglass roster statement v2\n"

/* the part of a roster statement fixed by the change: head, project,
 * change, the current roster's hash */
static int
roster_prefix(home *h, const char *proj, const char *change, buf *out, bg_error *e)
{
	buf cur;
	char hex[HASH_HEXLEN];
	project *p = NULL;
	int64_t serial;
	int r, quorum;

	/* the current quorum and the roster's serial are part of what is
	 * signed: a statement is for one state of the roster, used once */
	if ((r = project_load(h, proj, &p, e)) != 0)
		return r;
	if ((r = roster_serial(h, proj, &serial, e)) != 0) {
		project_free(p);
		return r;
	}
	quorum = p->quorum;
	project_free(p);
	buf_init(&cur, 1024 * 1024);
	if ((r = approver_export(h, proj, &cur, e)) == 0) {
		hash_sha256_hex(cur.data ? cur.data : "", cur.len, hex);
		r = buf_printf(out, ROSTER_HEAD "project: %s\nchange: %s\nroster-sha256: %s\n"
		    "quorum: %d\nroster-serial: %lld\n", proj, change, hex, quorum,
		    (long long)serial);
	}
	buf_release(&cur);
	return r;
}

static int
roster_active(home *h, const char *proj, int *n, bg_error *e)
{
	int64_t v;
	int r;

	r = store_int_text(h->st, "SELECT count(*) FROM approvers WHERE project = ?1 AND "
	    "removed IS NULL", proj, &v, e);
	*n = (int)v;
	return r;
}

int
approver_roster_statement(home *h, const char *proj, const char *change, buf *out,
    bg_error *e)
{
	char issued[UTC_STRLEN], until[UTC_STRLEN];
	project *p = NULL;
	int r;

	buf_reset(out);
	if ((r = project_load(h, proj, &p, e)) != 0)
		return r;
	project_free(p);
	utc_format(h->now, issued);
	utc_format(h->now + h->approval_ttl, until);
	if ((r = roster_prefix(h, proj, change, out, e)) != 0)
		return r;
	return buf_printf(out, "issued: %s\nvalid-until: %s\n\nI approve this change to who "
	    "may approve production changes for the project above.\n", issued, until);
}

/*
 * Inside a state change, before it is made: a project with approvers
 * changes them only with a roster statement for exactly this change over
 * the current roster, unexpired, signed by the project's quorum of its
 * current approvers.
 */
static int
roster_check(home *h, const project *p, const char *change, const approver_roster *ro,
    bg_error *e)
{
	buf want;
	sqlite3_stmt *st = NULL;
	char principals[9][256];
	int n, have = 0, r;
	size_t i, k;
	const char *rest, *nl;
	int64_t issued, until;
	char t[64];

	if ((r = users_require(h, USERS_ROLE_ADMIN, "change a project's approvers", e)) != 0 ||
	    (r = roster_active(h, p->name, &n, e)) != 0)
		return r;
	if (n == 0)
		return 0;
	if (ro == NULL || ro->statement == NULL)
		return bg_fail(e, BG_ERR_PERM, "project '%s' has approvers: changing them needs a "
		    "roster statement signed by %d of them (breakglass approver ... --statement -o "
		    "FILE; they sign it; then the same command with --roster FILE --signature "
		    "SIG...)", p->name, p->quorum);
	buf_init(&want, 1024 * 1024);
	if ((r = roster_prefix(h, p->name, change, &want, e)) != 0)
		goto out;
	if (strlen(ro->statement) < want.len || memcmp(ro->statement, want.data, want.len) != 0) {
		r = bg_fail(e, BG_ERR_SIGNATURE, "the roster statement is not for this change to "
		    "the current approvers of '%s' (they changed since, or the command differs); "
		    "issue a new one with --statement", p->name);
		goto out;
	}
	rest = ro->statement + want.len;
	/* issued: T
valid-until: T

<the fixed words> */
	if (strncmp(rest, "issued: ", 8) != 0 || (nl = strchr(rest, '\n')) == NULL ||
	    (size_t)(nl - rest - 8) >= sizeof(t)) {
		r = bg_fail(e, BG_ERR_INVALID, "roster statement: no issued line");
		goto out;
	}
	snprintf(t, sizeof(t), "%.*s", (int)(nl - rest - 8), rest + 8);
	if (utc_parse(t, &issued) != 0) {
		r = bg_fail(e, BG_ERR_INVALID, "roster statement: bad issued time");
		goto out;
	}
	rest = nl + 1;
	if (strncmp(rest, "valid-until: ", 13) != 0 || (nl = strchr(rest, '\n')) == NULL ||
	    (size_t)(nl - rest - 13) >= sizeof(t)) {
		r = bg_fail(e, BG_ERR_INVALID, "roster statement: no valid-until line");
		goto out;
	}
	snprintf(t, sizeof(t), "%.*s", (int)(nl - rest - 13), rest + 13);
	if (utc_parse(t, &until) != 0) {
		r = bg_fail(e, BG_ERR_INVALID, "roster statement: bad valid-until time");
		goto out;
	}
	if (strcmp(nl + 1, "\nI approve this change to who may approve production changes for "
	    "the project above.\n") != 0) {
		r = bg_fail(e, BG_ERR_INVALID, "roster statement: unexpected text after "
		    "valid-until");
		goto out;
	}
	if (until <= h->now || issued > h->now + h->clock_skew) {
		r = bg_fail(e, BG_ERR_EXPIRED, "the roster statement is not valid now (valid "
		    "until %.32s, UTC); issue a new one with --statement", t);
		goto out;
	}
	if ((r = store_prepare(h->st, "SELECT principal FROM approvers WHERE project = ? AND "
	    "fingerprint = ? AND removed IS NULL", &st, e)) != 0)
		goto out;
	for (i = 0; i < ro->nsigs; i++) {
		sshsig sig;
		char fp[SSHKEY_FP_LEN];
		sshsig_opts vo;

		vo.webauthn_origins = (const char *const *)h->webauthn_origins;
		vo.n_origins = h->n_webauthn_origins;
		if ((r = sshsig_parse(ro->sigs[i], strlen(ro->sigs[i]), &sig, e)) != 0)
			goto out;
		sshkey_fingerprint(&sig.key, fp);
		r = sshsig_verify_opts(&sig, ro->statement, strlen(ro->statement),
		    APPROVAL_NAMESPACE, &vo, e);
		sshsig_release(&sig);
		if (r != 0) {
			r = bg_fail(e, BG_ERR_SIGNATURE, "roster signature %zu (key %s) does not "
			    "verify over the roster statement", i + 1, fp);
			goto out;
		}
		sqlite3_reset(st);
		store_bind_text(st, 1, p->name);
		store_bind_text(st, 2, fp);
		if (sqlite3_step(st) != SQLITE_ROW) {
			r = bg_fail(e, BG_ERR_PERM, "roster signature %zu: key %s is not a current "
			    "approver of '%s'", i + 1, fp, p->name);
			goto out;
		}
		for (k = 0; k < (size_t)have; k++)
			if (strcasecmp(principals[k], store_col_text(st, 0)) == 0)
				break;
		if (k == (size_t)have && have < 9)
			snprintf(principals[have++], 256, "%s", store_col_text(st, 0));
	}
	if (have < p->quorum)
		r = bg_fail(e, BG_ERR_PERM, "the roster statement has %d of the %d approver "
		    "signatures project '%s' needs", have, p->quorum, p->name);
out:
	sqlite3_finalize(st);
	buf_release(&want);
	return r;
}

/* "add PRINCIPAL KEY" for the statement */
static int
add_change(const char *principal, const char *pubkey_line, buf *out, bg_error *e)
{
	sshkey_pub k;
	char *comment = NULL;
	int r;

	if ((r = sshkey_parse_line(pubkey_line, &k, &comment, e)) != 0)
		return r;
	free(comment);
	if ((r = buf_printf(out, "add %s ", principal)) == 0)
		r = sshkey_pub_format(&k, out);
	sshkey_pub_release(&k);
	return r;
}

int
approver_change_text(const char *op, const char *principal, const char *pubkey_line,
    buf *out, bg_error *e)
{
	buf_reset(out);
	if (strcmp(op, "quorum") == 0) {
		if (principal == NULL || principal[0] < '1' || principal[0] > '9' ||
		    principal[1] != '\0')
			return bg_fail(e, BG_ERR_INVALID, "the quorum is 1 to 9, not '%.16s'",
			    principal ? principal : "");
		return buf_printf(out, "quorum %s", principal);
	}
	if (!text_is_email(principal))
		return bg_fail(e, BG_ERR_INVALID, "principal must be an email address, not '%.64s'",
		    principal);
	if (strcmp(op, "add") == 0)
		return add_change(principal, pubkey_line, out, e);
	return buf_printf(out, "remove %s", principal);
}

int
approver_add(home *h, const char *proj, const char *principal, const char *name,
    const char *pubkey_line, const approver_roster *ro, bg_error *e)
{
	buf change;
	project *p = NULL;
	sshkey_pub k;
	buf line;
	signers ss;
	char *comment = NULL;
	size_t bad;
	int r;

	memset(&ss, 0, sizeof(ss));
	buf_init(&line, 16384);
	buf_init(&change, 16384);
	if ((r = approver_change_text("add", principal, pubkey_line, &change, e)) != 0) {
		buf_release(&change);
		return r;
	}
	if (!text_is_email(principal))
		return bg_fail(e, BG_ERR_INVALID, "principal must be an email address, not '%.64s'",
		    principal);
	if (name && (strlen(name) > 128 || text_check(name, strlen(name), 0, &bad) != 0))
		return bg_fail(e, BG_ERR_INVALID, "invalid approver name");
	if ((r = sshkey_parse_line(pubkey_line, &k, &comment, e)) != 0)
		return r;
	free(comment);
	if ((r = buf_printf(&line, "%s namespaces=\"" APPROVAL_NAMESPACE "\" ", principal)) != 0 ||
	    (r = sshkey_pub_format(&k, &line)) != 0)
		goto out;
	sshkey_pub_release(&k);
	/* round-trip through the allowed_signers parser: one format, one truth */
	if ((r = signers_parse(line.data, line.len, &ss, e)) != 0)
		goto out;
	if ((r = home_begin(h, e)) != 0)
		goto out;
	if ((r = users_require(h, USERS_ROLE_ADMIN, "add approvers", e)) != 0 ||
	    (r = project_load(h, proj, &p, e)) != 0 ||
	    (r = roster_check(h, p, change.data, ro, e)) != 0 ||
	    (r = insert_approver(h, proj, &ss.v[0], name, line.data, e)) != 0 ||
	    (r = users_write_authorized_keys(h, e)) != 0 ||
	    (r = home_commit(h, e)) != 0) {
		home_abort(h);
		goto out;
	}
out:
	buf_release(&change);
	sshkey_pub_release(&k);
	project_free(p);
	signers_release(&ss);
	buf_release(&line);
	return r;
}

int
approver_import(home *h, const char *proj, const char *text, size_t len,
    int *added, bg_error *e)
{
	project *p = NULL;
	signers ss;
	buf line;
	size_t i;
	int r;

	*added = 0;
	buf_init(&line, 16384);
	if ((r = signers_parse(text, len, &ss, e)) != 0)
		return r;
	for (i = 0; i < ss.n; i++)
		if ((r = check_signer_entry(&ss.v[i], e)) != 0)
			goto out;
	if (ss.n == 0) {
		r = bg_fail(e, BG_ERR_INVALID, "no signers in the file");
		goto out;
	}
	if ((r = home_begin(h, e)) != 0)
		goto out;
	if ((r = users_require(h, USERS_ROLE_ADMIN, "import approvers", e)) != 0 ||
	    (r = project_load(h, proj, &p, e)) != 0)
		goto abort;
	{
		int n;

		if ((r = roster_active(h, proj, &n, e)) != 0)
			goto abort;
		if (n > 0) {
			r = bg_fail(e, BG_ERR_PERM, "project '%s' has approvers: import is for a "
			    "project's first approvers; add more one at a time with a roster "
			    "statement (breakglass approver add ... --statement)", proj);
			goto abort;
		}
	}
	for (i = 0; i < ss.n; i++) {
		const signer_entry *se = &ss.v[i];

		buf_reset(&line);
		if ((r = buf_printf(&line, "%s namespaces=\"" APPROVAL_NAMESPACE "\"", se->principals)) != 0)
			goto abort;
		if (se->valid_after || se->valid_before) {
			char t[UTC_STRLEN];

			if (se->valid_after) {
				utc_format(se->valid_after, t);
				buf_printf(&line, ",valid-after=\"%.4s%.2s%.2s%.2s%.2s%.2sZ\"", t,
				    t + 5, t + 8, t + 11, t + 14, t + 17);
			}
			if (se->valid_before) {
				utc_format(se->valid_before, t);
				buf_printf(&line, ",valid-before=\"%.4s%.2s%.2s%.2s%.2s%.2sZ\"", t,
				    t + 5, t + 8, t + 11, t + 14, t + 17);
			}
		}
		if ((r = buf_putc(&line, ' ')) != 0 || (r = sshkey_pub_format(&se->key, &line)) != 0 ||
		    (r = insert_approver(h, proj, se, se->comment, line.data, e)) != 0)
			goto abort;
		(*added)++;
	}
	if ((r = users_write_authorized_keys(h, e)) != 0 || (r = home_commit(h, e)) != 0)
		goto abort;
	goto out;
abort:
	*added = 0;
	home_abort(h);
out:
	project_free(p);
	signers_release(&ss);
	buf_release(&line);
	return r;
}

int
approver_remove(home *h, const char *proj, const char *principal,
    const approver_roster *ro, bg_error *e)
{
	sqlite3_stmt *st = NULL;
	project *p = NULL;
	buf detail, change;
	json j;
	int r, n;

	buf_init(&detail, 1024);
	buf_init(&change, 1024);
	if ((r = approver_change_text("remove", principal, NULL, &change, e)) != 0)
		goto out;
	if ((r = home_begin(h, e)) != 0)
		goto out;
	if ((r = users_require(h, USERS_ROLE_ADMIN, "remove approvers", e)) != 0 ||
	    (r = project_load(h, proj, &p, e)) != 0 ||
	    (r = roster_check(h, p, change.data, ro, e)) != 0 ||
	    (r = roster_active(h, proj, &n, e)) != 0)
		goto abort;
	if (n == 1) {
		r = bg_fail(e, BG_ERR_STATE, "'%s' is project '%s''s last approver: with none, "
		    "an admin alone could name anyone; add the new approver first (signed by "
		    "this one), then remove", principal, proj);
		goto abort;
	}
	if (n - 1 < p->quorum) {
		r = bg_fail(e, BG_ERR_STATE, "project '%s' needs %d approver signatures: with %d "
		    "approver(s) left nobody could approve; lower the quorum first (breakglass "
		    "approver quorum N --project %s --statement)", proj, p->quorum, n - 1, proj);
		goto abort;
	}
	if ((r = roster_bump(h, proj, e)) != 0 ||
	    (r = store_prepare(h->st, "UPDATE approvers SET removed = ? WHERE project = ? "
	    "AND principal = ? AND removed IS NULL", &st, e)) != 0)
		goto abort;
	store_bind_int(st, 1, h->now);
	store_bind_text(st, 2, proj);
	store_bind_text(st, 3, principal);
	if (sqlite3_step(st) != SQLITE_DONE) {
		r = store_fail(h->st, e, "cannot remove approver");
		goto abort;
	}
	if (sqlite3_changes(h->st->db) == 0) {
		r = bg_fail(e, BG_ERR_NOTFOUND, "no approver '%s' in project '%s'", principal,
		    proj);
		goto abort;
	}
	json_init(&j, &detail);
	json_obj_begin(&j);
	json_kv_str(&j, "project", proj);
	json_kv_str(&j, "principal", principal);
	json_obj_end(&j);
	if ((r = home_commit_json(h, "approver.remove", 0, &j, e)) != 0)
		goto abort;
	goto out;
abort:
	home_abort(h);
out:
	sqlite3_finalize(st);
	project_free(p);
	buf_release(&detail);
	buf_release(&change);
	return r;
}

int
approver_export(home *h, const char *proj, buf *out, bg_error *e)
{
	sqlite3_stmt *st;
	int r, rc;

	if ((r = store_prepare(h->st, "SELECT signer_line, name FROM approvers WHERE "
	    "project = ? AND removed IS NULL ORDER BY id", &st, e)) != 0)
		return r;
	store_bind_text(st, 1, proj);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = store_col_text(st, 1);

		if ((r = buf_printf(out, "%s%s%s\n", store_col_text(st, 0), *name ? " " : "",
		    name)) != 0)
			break;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = store_fail(h->st, e, "cannot list approvers");
	sqlite3_finalize(st);
	return r;
}

/* ---- statements ---- */

int
approval_resolved_binding(home *h, const ticket *t, buf *out, char binding[65], bg_error *e)
{
	sqlite3_stmt *st = NULL;
	plan *p = NULL;
	size_t start = out->len;
	const char *flow = kv_get(&t->fields, "affected-flow");
	int r, rc, n = 0;

	if ((r = buf_printf(out, "intake-sha256: %s\naffected-flow: %s\n", t->intake_hash,
	    flow ? flow : "none")) != 0)
		return r;
	r = plan_current(h, t->id, &p, e);
	if (r == 0) {
		r = buf_printf(out, "plan: P-%lld %s\n", (long long)p->id, p->hash);
		plan_free(p);
	} else if (r == BG_ERR_NOTFOUND)
		r = buf_puts(out, "plan: none\n");
	if (r != 0)
		return r;
	/* the write access that was used: a later one makes the confirmation stale */
	if ((r = store_prepare(h->st, "SELECT id, spec_hash FROM grants WHERE ticket = ? AND "
	    "writes = 1 AND not_before IS NOT NULL ORDER BY id", &st, e)) != 0)
		return r;
	store_bind_int(st, 1, t->id);
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		r = buf_printf(out, "write-grant-used: G-%lld %s\n",
		    (long long)sqlite3_column_int64(st, 0), store_col_text(st, 1));
		n++;
	}
	sqlite3_finalize(st);
	if (r == 0 && n == 0)
		r = buf_puts(out, "write-grant-used: none\n");
	if (r != 0)
		return r;
	/* the smoke result that counts, as the owner saw it when signing */
	if ((r = store_prepare(h->st, "SELECT id, result, kind, coalesce(url, ''), "
	    "coalesce(http_status, 0), coalesce(command, ''), coalesce(host, ''), "
	    "coalesce(exit_status, 0), coalesce(log_seq, 0) FROM smoke_results WHERE ticket = ? AND "
	    "(phase IS NULL OR phase = 'after') ORDER BY id DESC LIMIT 1", &st, e)) != 0)
		return r;
	store_bind_int(st, 1, t->id);
	if (sqlite3_step(st) == SQLITE_ROW) {
		if (strcmp(store_col_text(st, 2), "check") == 0)
			r = buf_printf(out, "smoke: %lld %s (check GET %s, status %lld)\n",
			    (long long)sqlite3_column_int64(st, 0), store_col_text(st, 1),
			    store_col_text(st, 3), (long long)sqlite3_column_int64(st, 4));
		else if (strcmp(store_col_text(st, 2), "command") == 0)
			r = buf_printf(out, "smoke: %lld %s (command %s through the gate on %s, "
			    "exit %lld, host log record %lld)\n", (long long)sqlite3_column_int64(st, 0),
			    store_col_text(st, 1), store_col_text(st, 5),
			    store_col_text(st, 6)[0] ? store_col_text(st, 6) : "the host",
			    (long long)sqlite3_column_int64(st, 7), (long long)sqlite3_column_int64(st, 8));
		else
			r = buf_printf(out, "smoke: %lld %s (%s)\n",
			    (long long)sqlite3_column_int64(st, 0), store_col_text(st, 1),
			    strcmp(store_col_text(st, 1), "waived") == 0 ? "waived by signature" :
			    "checked by hand");
	} else
		r = buf_puts(out, "smoke: none\n");
	sqlite3_finalize(st);
	if (r == 0)
		hash_sha256_hex(out->data + start, out->len - start, binding);
	return r;
}

/* Binding section for kind; *binding gets the hash the statement binds. */
static int
binding_text(home *h, const ticket *t, const char *kind, const char *reason, buf *out,
    char binding[65], bg_error *e)
{
	int r;

	if (strcmp(kind, "plan") == 0) {
		plan *p = NULL;
		sqlite3_stmt *st;
		size_t i;
		int rc, n = 0;

		if ((r = plan_current(h, t->id, &p, e)) != 0)
			return r == BG_ERR_NOTFOUND ? bg_fail(e, BG_ERR_GATE,
			    "ticket 'T-%lld' has no fix plan (breakglass plan T-%lld --from FILE)",
			    (long long)t->id, (long long)t->id) : r;
		r = buf_printf(out, "plan: P-%lld\nplan-sha256: %s\nsystem: %s\n", (long long)p->id,
		    p->hash, kv_get(&t->fields, "system"));
		for (i = 0; r == 0 && i < p->nart; i++)
			r = buf_printf(out, "artifact: %s %s %s\n", p->art[i].sha256,
			    p->art[i].kind, p->art[i].name);
		/* a SQL patch's approved row count and destructive statements, by
		 * the artifact's hash: the host reads them from what was signed */
		for (i = 0; r == 0 && i < p->fields.n; i++) {
			const char *k = p->fields.items[i].key, *v = p->fields.items[i].value;
			int rows = strcmp(k, "expect-rows") == 0;
			const char *sep = rows ? strrchr(v, ' ') : strrchr(v, ':');

			if ((!rows && strcmp(k, "approved-destructive") != 0) || sep == NULL)
				continue;
			for (size_t a = 0; r == 0 && a < p->nart; a++)
				if (strcmp(p->art[a].kind, "sql") == 0 &&
				    strlen(p->art[a].name) == (size_t)(sep - v) &&
				    strncmp(p->art[a].name, v, (size_t)(sep - v)) == 0)
					r = buf_printf(out, "%s: %s %s\n", rows ? "sql-rows" :
					    "sql-destructive", p->art[a].sha256, sep + 1);
		}
		memcpy(binding, p->hash, 65);
		plan_free(p);
		if (r != 0)
			return r;
		if ((r = store_prepare(h->st, "SELECT id, spec_hash, spec FROM grants WHERE "
		    "ticket = ? AND writes = 1 AND state IN ('requested', 'approved') ORDER BY id",
		    &st, e)) != 0)
			return r;
		store_bind_int(st, 1, t->id);
		/* each write grant with its whole scope: what the approver signs is
		 * what will run, and what the host compares the certificate with */
		while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
			r = consent_grant_block(sqlite3_column_int64(st, 0), store_col_text(st, 1),
			    store_col_text(st, 2), out);
			n++;
		}
		sqlite3_finalize(st);
		if (r == 0 && n == 0)
			r = buf_puts(out, "write-grant: none\n");
		return r;
	}
	if (strcmp(kind, "resolved") == 0)
		return approval_resolved_binding(h, t, out, binding, e);
	memcpy(binding, t->intake_hash, 65);
	if ((r = buf_printf(out, "intake-sha256: %s\n", t->intake_hash)) != 0)
		return r;
	if (strcmp(kind, "confirm") == 0) {
		const char *v = kv_get(&t->fields, "window-end");

		r = buf_printf(out, "system: %s\nwindow-end: %s\n", kv_get(&t->fields, "system"),
		    v ? v : "none");
	} else {
		r = buf_printf(out, "reason: %s\n", reason);
	}
	return r;
}

static int
load_statement(sqlite3_stmt *st, statement **out)
{
	statement *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return BG_ERR_NOMEM;
	s->id = sqlite3_column_int64(st, 0);
	s->ticket = sqlite3_column_int64(st, 1);
	snprintf(s->kind, sizeof(s->kind), "%s", store_col_text(st, 2));
	snprintf(s->binding, sizeof(s->binding), "%s", store_col_text(st, 3));
	s->text = store_col_dup(st, 4);
	snprintf(s->hash, sizeof(s->hash), "%s", store_col_text(st, 5));
	s->issued = sqlite3_column_int64(st, 6);
	s->valid_until = sqlite3_column_int64(st, 7);
	if (s->text == NULL) {
		free(s);
		return BG_ERR_NOMEM;
	}
	*out = s;
	return 0;
}

#define STMT_COLS "id, ticket, kind, binding, text, hash, issued, valid_until"

int
statement_issue(home *h, int64_t tid, const char *kind, const char *reason,
    statement **out, bg_error *e)
{
	ticket *t = NULL;
	statement *s = NULL;
	sqlite3_stmt *st = NULL;
	buf body, text, detail;
	json j;
	char binding[65], issued[UTC_STRLEN], until[UTC_STRLEN], nonce[33];
	unsigned char rnd[16];
	int r, rc;

	*out = NULL;
	buf_init(&body, 64 * 1024);
	buf_init(&text, 64 * 1024);
	buf_init(&detail, 2048);
	if (!statement_kind_valid(kind))
		return bg_fail(e, BG_ERR_USAGE,
		    "unknown statement kind '%.32s' (confirm, risk, plan, smoke-waiver, resolved, "
		    "close-unconfirmed)", kind);
	if (strcmp(kind, "risk") == 0 || strcmp(kind, "smoke-waiver") == 0 ||
	    strcmp(kind, "close-unconfirmed") == 0) {
		if (reason == NULL || *reason == '\0')
			return bg_fail(e, BG_ERR_USAGE, "a %s statement needs --reason", kind);
		if ((r = scan_input("reason", reason, 1000, 0, e)) != 0)
			return r;
	}
	if ((r = home_begin(h, e)) != 0)
		goto out;
	if ((r = ticket_load(h, tid, &t, e)) != 0 || (r = ticket_require_open(t, e)) != 0)
		goto abort;
	if (strcmp(kind, "confirm") == 0) {
		for (int i = 0; ticket_confirm_fields[i]; i++) {
			if (kv_get(&t->fields, ticket_confirm_fields[i]) == NULL) {
				r = bg_fail(e, BG_ERR_GATE, "ticket 'T-%lld' lacks intake field '%s' "
				    "needed for the confirmation (breakglass ticket set T-%lld %s ...)",
				    (long long)tid, ticket_confirm_fields[i], (long long)tid,
				    ticket_confirm_fields[i]);
				goto abort;
			}
		}
	}
	if ((r = binding_text(h, t, kind, reason, &body, binding, e)) != 0)
		goto abort;
	/* re-use the newest valid statement with the same binding text */
	if ((r = store_prepare(h->st, "SELECT " STMT_COLS " FROM statements WHERE ticket = ? "
	    "AND kind = ? AND valid_until > ? ORDER BY id DESC", &st, e)) != 0)
		goto abort;
	store_bind_int(st, 1, tid);
	store_bind_text(st, 2, kind);
	store_bind_int(st, 3, h->now + 60);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		statement *old = NULL;

		if ((r = load_statement(st, &old)) != 0)
			goto abort;
		if (strstr(old->text, body.data) != NULL && strcmp(old->binding, binding) == 0) {
			s = old;
			break;
		}
		statement_free(old);
	}
	sqlite3_finalize(st);
	st = NULL;
	if (s != NULL) {
		home_abort(h);
		*out = s;
		s = NULL;
		r = 0;
		goto out;
	}
	randombytes_buf(rnd, sizeof(rnd));
	hash_hex(rnd, sizeof(rnd), nonce);
	utc_format(h->now, issued);
	utc_format(h->now + h->approval_ttl, until);
	if ((r = buf_printf(&text, CONSENT_STATEMENT_HEADER "%d\nkind: %s\nticket: T-%lld\n"
	    "project: %s\nrequester: %s\n%sissued: %s\nvalid-until: %s\nnonce: %s\n\n%s",
	    CONSENT_STATEMENT_VERSION, kind, (long long)tid, t->project, t->requester, body.data, issued, until, nonce,
	    strcmp(kind, "confirm") == 0 ? confirm_words : strcmp(kind, "risk") == 0 ?
	    risk_words : strcmp(kind, "plan") == 0 ? plan_words :
	    strcmp(kind, "resolved") == 0 ? resolved_words :
	    strcmp(kind, "close-unconfirmed") == 0 ? unconfirmed_words : waiver_words)) != 0)
		goto abort;
	if ((s = calloc(1, sizeof(*s))) == NULL || (s->text = strdup(text.data)) == NULL) {
		r = BG_ERR_NOMEM;
		goto abort;
	}
	hash_sha256_hex(text.data, text.len, s->hash);
	memcpy(s->binding, binding, 65);
	snprintf(s->kind, sizeof(s->kind), "%s", kind);
	s->ticket = tid;
	s->issued = h->now;
	s->valid_until = h->now + h->approval_ttl;
	s->fresh = 1;
	if ((r = store_prepare(h->st, "INSERT INTO statements (ticket, kind, binding, text, "
	    "hash, issued, valid_until) VALUES (?, ?, ?, ?, ?, ?, ?)", &st, e)) != 0)
		goto abort;
	store_bind_int(st, 1, tid);
	store_bind_text(st, 2, kind);
	store_bind_text(st, 3, binding);
	store_bind_text(st, 4, s->text);
	store_bind_text(st, 5, s->hash);
	store_bind_int(st, 6, s->issued);
	store_bind_int(st, 7, s->valid_until);
	if (sqlite3_step(st) != SQLITE_DONE) {
		r = store_fail(h->st, e, "cannot store statement");
		goto abort;
	}
	s->id = sqlite3_last_insert_rowid(h->st->db);
	json_init(&j, &detail);
	json_obj_begin(&j);
	json_kv_str(&j, "kind", kind);
	json_kv_int(&j, "statement", s->id);
	json_kv_str(&j, "sha256", s->hash);
	json_kv_str(&j, "binds", binding);
	json_kv_time(&j, "valid_until", s->valid_until);
	json_obj_end(&j);
	if ((r = home_commit_json(h, "statement.issue", tid, &j, e)) != 0)
		goto abort;
	*out = s;
	s = NULL;
	goto out;
abort:
	home_abort(h);
out:
	sqlite3_finalize(st);
	statement_free(s);
	ticket_free(t);
	buf_release(&body);
	buf_release(&text);
	buf_release(&detail);
	return r;
}

/* ---- signatures ---- */

typedef struct cand {
	int64_t id;
	char principal[256];
	char name[129];
	char fp[64];
	char *line;
} cand;

int
approval_record(home *h, int64_t tid, const char *sigtext, size_t len,
    approval_result *res, bg_error *e)
{
	sshsig sig;
	ticket *t = NULL;
	project *p = NULL;
	sqlite3_stmt *st = NULL;
	cand c[16];
	size_t nc = 0, i;
	statement *match = NULL;
	buf detail;
	json j;
	char fp[SSHKEY_FP_LEN];
	int r, rc, expired_match = 0;
	int64_t approver_id = 0;
	const cand *who = NULL;
	bg_error tmp;
	sshsig_opts vopts;

	vopts.webauthn_origins = (const char *const *)h->webauthn_origins;
	vopts.n_origins = h->n_webauthn_origins;
	memset(res, 0, sizeof(*res));
	memset(c, 0, sizeof(c));
	buf_init(&detail, 4096);
	if ((r = sshsig_parse(sigtext, len, &sig, e)) != 0)
		return r;
	sshkey_fingerprint(&sig.key, fp);
	if (strcmp(sig.ns, APPROVAL_NAMESPACE) != 0) {
		r = bg_fail(e, BG_ERR_SIGNATURE, "signature is for namespace '%.64s', not '"
		    APPROVAL_NAMESPACE "' (sign with: ssh-keygen -Y sign -n " APPROVAL_NAMESPACE
		    " -f KEY FILE)", sig.ns);
		sshsig_release(&sig);
		return r;
	}
	if ((r = home_begin(h, e)) != 0)
		goto out;
	if ((r = ticket_load(h, tid, &t, e)) != 0 || (r = ticket_require_open(t, e)) != 0 ||
	    (r = project_load(h, t->project, &p, e)) != 0)
		goto abort;
	/* registered approvers of this project holding the signing key */
	if ((r = store_prepare(h->st, "SELECT id, principal, name, fingerprint, signer_line "
	    "FROM approvers WHERE project = ? AND fingerprint = ? AND removed IS NULL",
	    &st, e)) != 0)
		goto abort;
	store_bind_text(st, 1, t->project);
	store_bind_text(st, 2, fp);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && nc < 16) {
		c[nc].id = sqlite3_column_int64(st, 0);
		snprintf(c[nc].principal, sizeof(c[nc].principal), "%s", store_col_text(st, 1));
		snprintf(c[nc].name, sizeof(c[nc].name), "%s", store_col_text(st, 2));
		snprintf(c[nc].fp, sizeof(c[nc].fp), "%s", store_col_text(st, 3));
		if ((c[nc].line = store_col_dup(st, 4)) == NULL) {
			r = BG_ERR_NOMEM;
			goto abort;
		}
		nc++;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (nc == 0) {
		r = bg_fail(e, BG_ERR_PERM, "signing key %s is not a registered approver of "
		    "project '%s'", fp, t->project);
		goto abort;
	}
	/* the statement it signs: newest first */
	if ((r = store_prepare(h->st, "SELECT " STMT_COLS " FROM statements WHERE ticket = ? "
	    "ORDER BY id DESC", &st, e)) != 0)
		goto abort;
	store_bind_int(st, 1, tid);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		statement *s = NULL;
		int v;

		if ((r = load_statement(st, &s)) != 0)
			goto abort;
		v = sshsig_verify_opts(&sig, s->text, strlen(s->text), APPROVAL_NAMESPACE,
		    &vopts, &tmp);
		if (v != 0 && v != BG_ERR_SIGNATURE) {
			r = bg_fail(e, v, "%s", tmp.msg);
			statement_free(s);
			goto abort;
		}
		if (v == 0) {
			match = s;
			break;
		}
		statement_free(s);
	}
	sqlite3_finalize(st);
	st = NULL;
	if (match == NULL) {
		r = bg_fail(e, BG_ERR_SIGNATURE, "signature by %s does not match any statement "
		    "of ticket 'T-%lld' (was the statement altered?)", fp, (long long)tid);
		goto abort;
	}
	if (match->valid_until <= h->now) {
		char u[UTC_STRLEN];

		utc_format(match->valid_until, u);
		r = bg_fail(e, BG_ERR_EXPIRED, "statement %lld of ticket 'T-%lld' expired at %s; "
		    "issue a new one with 'breakglass approve T-%lld --statement --for %s'",
		    (long long)match->id, (long long)tid, u, (long long)tid, match->kind);
		expired_match = 1;
		goto abort;
	}
	for (i = 0; i < nc; i++) {
		if (strcasecmp(c[i].principal, t->requester) == 0) {
			r = bg_fail(e, BG_ERR_PERM, "'%s' requested this access and cannot approve "
			    "it; another registered approver must sign", c[i].principal);
			goto abort;
		}
	}
	/* pick the registered identity, refuse the requester: any key of theirs,
	 * under whatever principal it is registered */
	{
		int mine = 0;

		if ((r = users_key_is_requesters(h, t->requester, fp, &mine, e)) != 0)
			goto abort;
		if (mine) {
			r = bg_fail(e, BG_ERR_PERM, "key %s is the requester %s's: it never counts "
			    "as an approval of their own ticket; another approver must sign", fp,
			    t->requester);
			goto abort;
		}
	}
	for (i = 0; i < nc && who == NULL; i++) {
		signers ss;

		if (signers_parse(c[i].line, strlen(c[i].line), &ss, NULL) != 0)
			continue;
		if (ss.n == 1 && signers_namespace_allowed(&ss.v[0], APPROVAL_NAMESPACE) &&
		    (ss.v[0].valid_after == 0 || h->now >= ss.v[0].valid_after) &&
		    (ss.v[0].valid_before == 0 || h->now < ss.v[0].valid_before))
			who = &c[i];
		signers_release(&ss);
	}
	if (who == NULL) {
		r = bg_fail(e, BG_ERR_EXPIRED, "approver key %s is outside its validity window",
		    fp);
		goto abort;
	}
	approver_id = who->id;
	if ((r = store_prepare(h->st, "INSERT INTO approvals (statement, approver, signature, "
	    "recorded) VALUES (?, ?, ?, ?)", &st, e)) != 0)
		goto abort;
	store_bind_int(st, 1, match->id);
	store_bind_int(st, 2, approver_id);
	store_bind_text(st, 3, sig.armoured);
	store_bind_int(st, 4, h->now);
	if (sqlite3_step(st) != SQLITE_DONE) {
		if (sqlite3_errcode(h->st->db) == SQLITE_CONSTRAINT)
			r = bg_fail(e, BG_ERR_EXISTS, "%s already signed this %s statement",
			    who->principal, match->kind);
		else
			r = store_fail(h->st, e, "cannot store approval");
		goto abort;
	}
	sqlite3_finalize(st);
	st = NULL;
	/* count distinct signers of this statement */
	if ((r = store_prepare(h->st, "SELECT count(DISTINCT lower(a.principal)) FROM approvals "
	    "p JOIN approvers a ON a.id = p.approver WHERE p.statement = ? AND a.removed IS NULL",
	    &st, e)) != 0)
		goto abort;
	store_bind_int(st, 1, match->id);
	if (sqlite3_step(st) == SQLITE_ROW)
		res->signatures = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	st = NULL;
	res->quorum = p->quorum;
	res->statement = match->id;
	snprintf(res->kind, sizeof(res->kind), "%s", match->kind);
	snprintf(res->principal, sizeof(res->principal), "%s", who->principal);
	snprintf(res->fingerprint, sizeof(res->fingerprint), "%s", fp);
	json_init(&j, &detail);
	json_obj_begin(&j);
	json_kv_str(&j, "kind", match->kind);
	json_kv_int(&j, "statement", match->id);
	json_kv_str(&j, "statement_sha256", match->hash);
	json_kv_str(&j, "principal", who->principal);
	json_kv_str(&j, "fingerprint", fp);
	json_kv_int(&j, "signatures", res->signatures);
	json_kv_int(&j, "quorum", res->quorum);
	json_obj_end(&j);
	if ((r = home_commit_json(h, "approval.record", tid, &j, e)) != 0)
		goto abort;
	goto out;
abort:
	(void)expired_match;
	home_abort(h);
out:
	sqlite3_finalize(st);
	for (i = 0; i < nc; i++)
		free(c[i].line);
	statement_free(match);
	ticket_free(t);
	project_free(p);
	sshsig_release(&sig);
	buf_release(&detail);
	return r;
}

int
approval_check(home *h, const ticket *t, const char *kind, const char *binding,
    approval_state *out, bg_error *e)
{
	project *p = NULL;
	sqlite3_stmt *st = NULL, *sg = NULL;
	const char *named = kv_get(&t->fields, "approver-email");
	int r, rc, newest = 1;

	memset(out, 0, sizeof(*out));
	if ((r = project_load(h, t->project, &p, e)) != 0)
		return r;
	out->quorum = p->quorum;
	project_free(p);
	snprintf(out->why, sizeof(out->why), "no %s statement signed yet", kind);
	if ((r = store_prepare(h->st, "SELECT id, binding, valid_until FROM statements "
	    "WHERE ticket = ? AND kind = ? ORDER BY id DESC", &st, e)) != 0)
		return r;
	if ((r = store_prepare(h->st, "SELECT count(DISTINCT lower(a.principal)), "
	    "sum(lower(a.principal) = lower(?2)), sum(lower(a.principal) = lower(?3) OR "
	    "a.fingerprint IN (SELECT k.fingerprint FROM user_keys k JOIN users u ON u.id = "
	    "k.user WHERE u.email = ?3)) "
	    "FROM approvals p JOIN approvers a ON a.id = p.approver "
	    "WHERE p.statement = ?1 AND a.removed IS NULL", &sg, e)) != 0) {
		sqlite3_finalize(st);
		return r;
	}
	store_bind_int(st, 1, t->id);
	store_bind_text(st, 2, kind);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(st, 0), until = sqlite3_column_int64(st, 2);
		int current = binding == NULL || strcmp(store_col_text(st, 1), binding) == 0;
		int n = 0, has_named = 0, has_requester = 0;
		char u[UTC_STRLEN];

		sqlite3_reset(sg);
		store_bind_int(sg, 1, id);
		store_bind_text(sg, 2, named ? named : "");
		store_bind_text(sg, 3, t->requester);
		if (sqlite3_step(sg) == SQLITE_ROW) {
			n = sqlite3_column_int(sg, 0);
			has_named = sqlite3_column_int(sg, 1) > 0;
			has_requester = sqlite3_column_int(sg, 2) > 0;
		}
		utc_format(until, u);
		if (newest) {
			out->signatures = n;
			out->valid_until = until;
		}
		if (!current) {
			if (newest)
				snprintf(out->why, sizeof(out->why), "the signed %s statement is for "
				    "an older version of the %s; issue and sign a new one", kind,
				    strcmp(kind, "plan") == 0 ? "plan" : strcmp(kind, "resolved") == 0 ?
				    "work (write access or a smoke result came after it)" : "intake");
		} else if (until <= h->now) {
			if (newest)
				snprintf(out->why, sizeof(out->why), "the %s statement expired at %s; "
				    "issue and sign a new one", kind, u);
		} else if (has_requester) {
			if (newest)
				snprintf(out->why, sizeof(out->why), "the requester signed the %s "
				    "statement; that signature does not count", kind);
		} else if (n < out->quorum) {
			if (newest)
				snprintf(out->why, sizeof(out->why), "%d of %d required approver "
				    "signatures on the %s statement", n, out->quorum, kind);
		} else if ((strcmp(kind, "confirm") == 0 || strcmp(kind, "resolved") == 0) &&
		    named && !has_named) {
			if (newest)
				snprintf(out->why, sizeof(out->why), "the %s statement must be signed "
				    "by the ticket's approver '%s'", kind, named);
		} else {
			out->statement = id;
			out->signatures = n;
			out->valid_until = until;
			out->why[0] = '\0';
			break;
		}
		newest = 0;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		r = store_fail(h->st, e, "cannot read statements");
	sqlite3_finalize(st);
	sqlite3_finalize(sg);
	return r;
}

int64_t
approval_newest(home *h, int64_t tid, const char *kind, bg_error *e)
{
	sqlite3_stmt *st;
	int64_t id = 0;

	if (store_prepare(h->st, "SELECT max(id) FROM statements WHERE ticket = ? AND kind = ?",
	    &st, e) != 0)
		return 0;
	store_bind_int(st, 1, tid);
	store_bind_text(st, 2, kind);
	if (sqlite3_step(st) == SQLITE_ROW)
		id = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return id;
}

int
approval_covers_grant(home *h, int64_t stmt, int64_t gid, const char *spec_hash,
    bg_error *e)
{
	sqlite3_stmt *st;
	char line[128];
	int r, ok = 0;

	if ((r = store_prepare(h->st, "SELECT text FROM statements WHERE id = ?", &st, e)) != 0)
		return 0;
	store_bind_int(st, 1, stmt);
	snprintf(line, sizeof(line), "\nwrite-grant: G-%lld %s\n", (long long)gid, spec_hash);
	if (sqlite3_step(st) == SQLITE_ROW && strstr(store_col_text(st, 0), line) != NULL)
		ok = 1;
	sqlite3_finalize(st);
	return ok;
}

int
approval_grant_pending(home *h, const ticket *t, int64_t gid, const char *spec_hash,
    char *why, size_t len, bg_error *e)
{
	sqlite3_stmt *st = NULL, *sg = NULL;
	project *p = NULL;
	char line[128], u[UTC_STRLEN];
	int64_t found = 0;
	int r, n = 0, quorum;

	why[0] = '\0';
	if ((r = project_load(h, t->project, &p, e)) != 0)
		return 0;
	quorum = p->quorum;
	project_free(p);
	snprintf(line, sizeof(line), "\nwrite-grant: G-%lld %s\n", (long long)gid, spec_hash);
	if ((r = store_prepare(h->st, "SELECT id, text, valid_until FROM statements "
	    "WHERE ticket = ? AND kind = 'plan' ORDER BY id DESC", &st, e)) != 0)
		return 0;
	store_bind_int(st, 1, t->id);
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (strstr(store_col_text(st, 1), line) == NULL)
			continue;
		found = sqlite3_column_int64(st, 0);
		utc_format(sqlite3_column_int64(st, 2), u);
		if (sqlite3_column_int64(st, 2) <= h->now) {
			snprintf(why, len, "plan statement %lld lists G-%lld but expired at %s",
			    (long long)found, (long long)gid, u);
			break;
		}
		if (store_prepare(h->st, "SELECT count(DISTINCT lower(a.principal)) FROM approvals p "
		    "JOIN approvers a ON a.id = p.approver WHERE p.statement = ? AND "
		    "a.removed IS NULL AND lower(a.principal) <> lower(?)", &sg, e) != 0) {
			found = 0;
			break;
		}
		store_bind_int(sg, 1, found);
		store_bind_text(sg, 2, t->requester);
		if (sqlite3_step(sg) == SQLITE_ROW)
			n = sqlite3_column_int(sg, 0);
		if (n < quorum)
			snprintf(why, len, "plan statement %lld lists G-%lld but has %d of %d "
			    "signatures", (long long)found, (long long)gid, n, quorum);
		else
			snprintf(why, len, "plan statement %lld lists G-%lld but is for an older "
			    "version of the plan", (long long)found, (long long)gid);
		break;
	}
	sqlite3_finalize(st);
	sqlite3_finalize(sg);
	return found != 0;
}

int
approval_signers(home *h, int64_t stmt, approval_signer_fn fn, void *ctx, bg_error *e)
{
	sqlite3_stmt *st;
	int r, rc;

	if ((r = store_prepare(h->st, "SELECT a.principal, a.name, a.fingerprint, p.recorded "
	    "FROM approvals p JOIN approvers a ON a.id = p.approver WHERE p.statement = ? "
	    "ORDER BY p.id", &st, e)) != 0)
		return r;
	store_bind_int(st, 1, stmt);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((r = fn(ctx, store_col_text(st, 0), store_col_text(st, 1),
		    store_col_text(st, 2), sqlite3_column_int64(st, 3))) != 0)
			break;
	}
	sqlite3_finalize(st);
	return r;
}

int
approval_statement_load(home *h, int64_t stmt, statement **out, buf *sigs, size_t *nsigs,
    bg_error *e)
{
	sqlite3_stmt *st;
	statement *s = NULL;
	int r, rc;

	*out = NULL;
	*nsigs = 0;
	if ((r = store_prepare(h->st, "SELECT " STMT_COLS " FROM statements WHERE id = ?", &st,
	    e)) != 0)
		return r;
	store_bind_int(st, 1, stmt);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		r = load_statement(st, &s);
	else
		r = rc == SQLITE_DONE ? bg_fail(e, BG_ERR_NOTFOUND, "no statement %lld",
		    (long long)stmt) : store_fail(h->st, e, "cannot read statement");
	sqlite3_finalize(st);
	if (r != 0)
		return r;
	if ((r = store_prepare(h->st, "SELECT p.signature FROM approvals p JOIN approvers a ON "
	    "a.id = p.approver WHERE p.statement = ? AND a.removed IS NULL ORDER BY p.id", &st,
	    e)) != 0) {
		statement_free(s);
		return r;
	}
	store_bind_int(st, 1, stmt);
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		r = buf_append(sigs, store_col_text(st, 0), strlen(store_col_text(st, 0)) + 1);
		(*nsigs)++;
	}
	sqlite3_finalize(st);
	if (r != 0) {
		statement_free(s);
		*nsigs = 0;
		return r;
	}
	*out = s;
	return 0;
}

int
approval_consent(home *h, int64_t stmt, buf *out, bg_error *e)
{
	statement *s = NULL;
	const char *sigs[CONSENT_MAX_SIGS];
	buf all;
	size_t n = 0, i, off;
	int r;

	buf_init(&all, 1024u * 1024);
	if ((r = approval_statement_load(h, stmt, &s, &all, &n, e)) != 0)
		goto out;
	if (strcmp(s->kind, "plan") != 0) {
		r = bg_fail(e, BG_ERR_GATE, "statement %lld is not a plan approval", (long long)stmt);
		goto out;
	}
	if (n > CONSENT_MAX_SIGS)
		n = CONSENT_MAX_SIGS;
	/* the signatures come NUL-separated, in the order they were recorded */
	for (i = 0, off = 0; i < n; i++) {
		sigs[i] = all.data + off;
		off += strlen(sigs[i]) + 1;
	}
	r = consent_format(s->text, sigs, n, out);
out:
	statement_free(s);
	buf_release(&all);
	return r;
}

int
approver_set_quorum(home *h, const char *proj, int quorum, const approver_roster *ro,
    bg_error *e)
{
	sqlite3_stmt *st = NULL;
	project *p = NULL;
	buf detail, change;
	char q[4];
	json j;
	int r, n;

	buf_init(&detail, 1024);
	buf_init(&change, 1024);
	snprintf(q, sizeof(q), "%d", quorum);
	if ((r = approver_change_text("quorum", q, NULL, &change, e)) != 0)
		goto out;
	if ((r = home_begin(h, e)) != 0)
		goto out;
	if ((r = users_require(h, USERS_ROLE_ADMIN, "change a project's quorum", e)) != 0 ||
	    (r = project_load(h, proj, &p, e)) != 0)
		goto abort;
	if (p->quorum == quorum) {
		r = bg_fail(e, BG_ERR_STATE, "project '%s' already needs %d approver signature(s)",
		    proj, quorum);
		goto abort;
	}
	if ((r = roster_check(h, p, change.data, ro, e)) != 0 ||
	    (r = roster_active(h, proj, &n, e)) != 0)
		goto abort;
	if (n > 0 && quorum > n) {
		r = bg_fail(e, BG_ERR_STATE, "project '%s' has %d approver(s): a quorum of %d could "
		    "never be met; add approvers first", proj, n, quorum);
		goto abort;
	}
	if ((r = roster_bump(h, proj, e)) != 0 ||
	    (r = store_prepare(h->st, "UPDATE projects SET quorum = ? WHERE name = ?", &st,
	    e)) != 0)
		goto abort;
	store_bind_int(st, 1, quorum);
	store_bind_text(st, 2, proj);
	if (sqlite3_step(st) != SQLITE_DONE) {
		r = store_fail(h->st, e, "cannot change the quorum");
		goto abort;
	}
	json_init(&j, &detail);
	json_obj_begin(&j);
	json_kv_str(&j, "project", proj);
	json_kv_int(&j, "quorum", quorum);
	json_kv_int(&j, "was", p->quorum);
	json_kv_bool(&j, "roster_signed", n > 0);
	json_obj_end(&j);
	if ((r = home_commit_json(h, "project.quorum", 0, &j, e)) != 0)
		goto abort;
	goto out;
abort:
	home_abort(h);
out:
	sqlite3_finalize(st);
	project_free(p);
	buf_release(&detail);
	buf_release(&change);
	return r;
}
