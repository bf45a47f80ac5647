/*
 * freeze.c - which tickets freeze which systems (see freeze.h), and the
 * state published to hosts.
 *
 * Derived, like the steps: nothing is stored as "frozen"; each answer is
 * computed from the tickets, approvals and grants as of now.
 */
#include "freeze.h"
#include "fileio.h"
#include "project.h"
#include "approval.h"
#include "ticket.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Add every name of a comma list to sys (deduplicated). */
static int
add_system(char *sys, size_t max, const char *name)
{
	size_t n = strlen(name), l = strlen(sys);
	const char *p = sys;

	if (!freezefmt_name_ok(name, 128, 0))
		return 0; /* a name a host could not match is left out, not guessed */
	while (*p) {
		size_t k = strcspn(p, ",");

		if (k == n && memcmp(p, name, n) == 0)
			return 0;
		p += k + (p[k] == ',');
	}
	if (l + n + 2 > max)
		return BG_ERR_TOOLARGE;
	snprintf(sys + l, max - l, "%s%s", l ? "," : "", name);
	return 0;
}

/* The first confirmation signature of ticket tid, or 0. */
static int
first_confirmation(home *h, int64_t tid, int64_t *since, bg_error *e)
{
	sqlite3_stmt *st;
	int r;

	*since = 0;
	if ((r = store_prepare(h->st, "SELECT min(a.recorded) FROM approvals a JOIN statements s "
	    "ON s.id = a.statement WHERE s.ticket = ? AND s.kind = 'confirm'", &st, e)) != 0)
		return r;
	store_bind_int(st, 1, tid);
	if (sqlite3_step(st) == SQLITE_ROW)
		*since = sqlite3_column_int64(st, 0);
	else
		r = store_fail(h->st, e, "cannot read confirmations");
	sqlite3_finalize(st);
	return r;
}

/* Is ticket t an active emergency now?  Fills fe (project, systems, ...). */
static int
active(home *h, const ticket *t, int *is, freezefmt_entry *fe, bg_error *e)
{
	approval_state conf;
	project *p = NULL;
	const char *br;
	int used, r;
	size_t i;

	*is = 0;
	memset(fe, 0, sizeof(*fe));
	if ((r = store_count(h->st, "SELECT count(*) FROM grants WHERE ticket = ? AND "
	    "not_before IS NOT NULL", t->id, &used, e)) != 0 ||
	    (r = approval_check(h, t, "confirm", t->intake_hash, &conf, e)) != 0)
		return r;
	if (conf.statement == 0 && used == 0)
		return 0;
	if ((r = first_confirmation(h, t->id, &fe->since, e)) != 0)
		return r;
	if (fe->since == 0)
		return 0; /* access without a confirmation cannot happen; nothing to date */
	fe->ticket = t->id;
	snprintf(fe->project, sizeof(fe->project), "%s", t->project);
	if ((br = kv_get(&t->fields, "emergency-branch")) != NULL &&
	    freezefmt_name_ok(br, 128, 1))
		snprintf(fe->branch, sizeof(fe->branch), "%s", br);
	else
		snprintf(fe->branch, sizeof(fe->branch), "hotfix/T-%lld", (long long)t->id);
	if ((r = project_load(h, t->project, &p, e)) != 0)
		return r;
	r = add_system(fe->systems, sizeof(fe->systems), kv_get(&t->fields, "system") ?
	    kv_get(&t->fields, "system") : "");
	for (i = 0; r == 0 && i < p->nsystems; i++)
		r = add_system(fe->systems, sizeof(fe->systems), p->systems[i]);
	project_free(p);
	if (r != 0)
		return bg_fail(e, r, "T-%lld: too many systems to publish", (long long)t->id);
	if (fe->systems[0] == '\0')
		return 0;
	*is = 1;
	return 0;
}

int
freeze_query(home *h, const char *proj, const char *system, const char *branch,
    freezefmt *out, freeze_contact **contacts, bg_error *e)
{
	sqlite3_stmt *st;
	freeze_contact *cv = NULL;
	int r, rc;

	memset(out, 0, sizeof(*out));
	if (contacts)
		*contacts = NULL;
	out->published = h->now;
	/* only open tickets with a confirmation signature can be frozen: the
	 * rest are not loaded at all */
	if ((r = store_prepare(h->st, "SELECT DISTINCT t.id FROM tickets t "
	    "JOIN statements s ON s.ticket = t.id AND s.kind = 'confirm' "
	    "JOIN approvals a ON a.statement = s.id "
	    "WHERE t.status = 'open' AND (?1 IS NULL OR t.project = ?1) ORDER BY t.id",
	    &st, e)) != 0)
		return r;
	store_bind_text(st, 1, proj);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		ticket *t = NULL;
		freezefmt_entry fe;
		int is;

		if ((r = ticket_load(h, sqlite3_column_int64(st, 0), &t, e)) != 0)
			goto fail;
		r = active(h, t, &is, &fe, e);
		if (r == 0 && is && (system == NULL || freezefmt_covers(&fe, system)) &&
		    (branch == NULL || strcmp(branch, fe.branch) != 0)) {
			if ((r = freezefmt_add(out, &fe)) != 0)
				r = bg_fail(e, r, "too many active emergencies");
			if (r == 0 && contacts) {
				freeze_contact *nv = realloc(cv, out->n * sizeof(*nv));
				const char *ap = kv_get(&t->fields, "approver-email");

				if (nv == NULL) {
					r = BG_ERR_NOMEM;
				} else {
					cv = nv;
					memset(&cv[out->n - 1], 0, sizeof(*cv));
					cv[out->n - 1].ticket = t->id;
					snprintf(cv[out->n - 1].requester, sizeof(cv->requester), "%s",
					    t->requester);
					snprintf(cv[out->n - 1].approver, sizeof(cv->approver), "%s",
					    ap ? ap : "");
				}
			}
		}
		ticket_free(t);
		if (r != 0)
			goto fail;
	}
	if (rc != SQLITE_DONE) {
		r = store_fail(h->st, e, "cannot list tickets");
		goto fail;
	}
	sqlite3_finalize(st);
	if (contacts) {
		*contacts = cv; /* transferred */
		cv = NULL;
	}
	return 0;
fail:
	sqlite3_finalize(st);
	free(cv);
	freezefmt_release(out);
	return r;
}

int
freeze_publish(home *h, bg_error *e)
{
	freezefmt f;
	buf out, path;
	int r;

	buf_init(&out, 1024 * 1024);
	buf_init(&path, 4096);
	if ((r = freeze_query(h, NULL, NULL, NULL, &f, NULL, e)) != 0)
		goto out;
	if ((r = freezefmt_write(&f, &out)) != 0 || (r = home_path(h, "freeze.state", &path)) != 0)
		goto out;
	if ((r = fileio_write_atomic(path.data, out.data, out.len, 0644, 0, e)) != 0)
		goto out;
	if (h->freeze_publish != NULL &&
	    (r = fileio_write_atomic(h->freeze_publish, out.data, out.len, 0644, 0, e)) != 0)
		goto out;
out:
	freezefmt_release(&f);
	buf_release(&out);
	buf_release(&path);
	return r;
}
