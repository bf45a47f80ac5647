/*
 * project.c - project registry.
 */
#include "project.h"
#include "buf.h"
#include "json.h"
#include "text.h"
#include "users.h"

#include <stdlib.h>
#include <string.h>

/* Validate and normalise a comma-separated systems list into out. */
static int
systems_norm(const char *in, buf *out, bg_error *e)
{
	char *copy = strdup(in), *p, *save = NULL;
	int r = 0, n = 0;

	if (copy == NULL)
		return BG_ERR_NOMEM;
	for (p = strtok_r(copy, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
		p = text_trim(p);
		if (!text_is_ident(p, 128)) {
			r = bg_fail(e, BG_ERR_INVALID, "invalid system name '%.64s'", p);
			break;
		}
		if (++n > 64) {
			r = bg_fail(e, BG_ERR_TOOLARGE, "more than 64 systems");
			break;
		}
		if ((r = buf_printf(out, "%s%s", out->len ? "," : "", p)) != 0)
			break;
	}
	free(copy);
	return r;
}

/*
 * Once a project has approvers its quorum is theirs to change (a roster
 * statement, approval.c): an admin alone lowering it to 1 would let one
 * approver do what the owner asked two for.
 */
static int
quorum_unsigned(home *h, const char *name, int quorum, bg_error *e)
{
	sqlite3_stmt *st;
	int r = 0;

	if ((r = store_prepare(h->st, "SELECT quorum, (SELECT count(*) FROM approvers a WHERE "
	    "a.project = p.name AND a.removed IS NULL) FROM projects p WHERE name = ?", &st,
	    e)) != 0)
		return r;
	store_bind_text(st, 1, name);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 1) > 0 &&
	    sqlite3_column_int(st, 0) != quorum)
		r = bg_fail(e, BG_ERR_PERM, "project '%s' has approvers: its quorum changes only "
		    "with their consent (breakglass approver quorum %d --project %s --statement "
		    "-o FILE; %d of them sign it; then the same command with --roster FILE "
		    "--signature SIG...)", name, quorum, name, sqlite3_column_int(st, 0));
	sqlite3_finalize(st);
	return r;
}

static int
save(home *h, const char *sql, const char *event, const char *name, int quorum,
    const char *systems, bg_error *e)
{
	sqlite3_stmt *st = NULL;
	buf sys, detail;
	json j;
	int r;

	buf_init(&sys, 16384);
	buf_init(&detail, 16384);
	if (!text_is_ident(name, 64))
		return bg_fail(e, BG_ERR_INVALID, "invalid project name '%.64s'", name);
	if (quorum < 0 || quorum > 9)
		return bg_fail(e, BG_ERR_INVALID, "quorum must be between 1 and 9");
	if (systems != NULL && (r = systems_norm(systems, &sys, e)) != 0)
		goto out;
	if ((r = home_begin(h, e)) != 0)
		goto out;
	if ((r = users_require(h, USERS_ROLE_ADMIN, "add or change projects", e)) != 0 ||
	    (quorum > 0 && strcmp(event, "project.update") == 0 &&
	    (r = quorum_unsigned(h, name, quorum, e)) != 0) ||
	    (r = store_prepare(h->st, sql, &st, e)) != 0)
		goto abort;
	store_bind_text(st, 1, name);
	store_bind_int(st, 2, quorum);
	store_bind_text(st, 3, systems ? sys.data ? sys.data : "" : NULL);
	store_bind_int(st, 4, h->now);
	if (sqlite3_step(st) != SQLITE_DONE) {
		if (sqlite3_errcode(h->st->db) == SQLITE_CONSTRAINT)
			r = bg_fail(e, BG_ERR_EXISTS, "project '%s' already exists", name);
		else
			r = store_fail(h->st, e, "cannot store project");
		goto abort;
	}
	if (sqlite3_changes(h->st->db) == 0) {
		r = bg_fail(e, BG_ERR_NOTFOUND, "no project '%s'", name);
		goto abort;
	}
	json_init(&j, &detail);
	json_obj_begin(&j);
	json_kv_str(&j, "project", name);
	if (quorum)
		json_kv_int(&j, "quorum", quorum);
	if (systems)
		json_kv_str(&j, "systems", buf_cstr(&sys));
	json_obj_end(&j);
	if ((r = home_commit_json(h, event, 0, &j, e)) != 0)
		goto abort;
	goto out;
abort:
	home_abort(h);
out:
	sqlite3_finalize(st);
	buf_release(&sys);
	buf_release(&detail);
	return r;
}

int
project_add(home *h, const char *name, int quorum, const char *systems, bg_error *e)
{
	return save(h, "INSERT INTO projects (name, quorum, systems, created) "
	    "VALUES (?1, max(?2, 1), coalesce(?3, ''), ?4)", "project.add", name,
	    quorum ? quorum : 1, systems ? systems : "", e);
}

int
project_set(home *h, const char *name, int quorum, const char *systems, bg_error *e)
{
	return save(h, "UPDATE projects SET quorum = CASE WHEN ?2 > 0 THEN ?2 ELSE quorum END, "
	    "systems = coalesce(?3, systems) WHERE name = ?1 AND ?4 IS NOT NULL",
	    "project.update", name, quorum, systems, e);
}

void
project_free(project *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->nsystems; i++)
		free(p->systems[i]);
	free(p->systems);
	free(p->name);
	free(p);
}

int
project_load(home *h, const char *name, project **out, bg_error *e)
{
	sqlite3_stmt *st;
	project *p;
	char *sys, *s, *save = NULL;
	int r, rc;

	*out = NULL;
	if ((r = store_prepare(h->st, "SELECT quorum, systems, created FROM projects "
	    "WHERE name = ?", &st, e)) != 0)
		return r;
	store_bind_text(st, 1, name);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_finalize(st);
		if (rc == SQLITE_DONE)
			return bg_fail(e, BG_ERR_NOTFOUND, "no project '%s'", name);
		return store_fail(h->st, e, "cannot read project");
	}
	if ((p = calloc(1, sizeof(*p))) == NULL || (p->name = strdup(name)) == NULL ||
	    (sys = store_col_dup(st, 1)) == NULL) {
		project_free(p);
		sqlite3_finalize(st);
		return BG_ERR_NOMEM;
	}
	p->quorum = sqlite3_column_int(st, 0);
	p->created = sqlite3_column_int64(st, 2);
	sqlite3_finalize(st);
	for (s = strtok_r(sys, ",", &save); s; s = strtok_r(NULL, ",", &save)) {
		char **v = realloc(p->systems, (p->nsystems + 1) * sizeof(*v));

		if (v == NULL || (v[p->nsystems] = strdup(s)) == NULL) {
			if (v)
				p->systems = v;
			free(sys);
			project_free(p);
			return BG_ERR_NOMEM;
		}
		p->systems = v;
		p->nsystems++;
	}
	free(sys);
	*out = p;
	return 0;
}
