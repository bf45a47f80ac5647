/*
 * users.c - users, their keys and roles; the identity a command acts
 * under; the service account's authorized_keys.
 */
#include "users.h"
#include "fileio.h"
#include "json.h"
#include "text.h"
#include "utc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct {
	const char *name;
	unsigned bit;
} roles[] = {
	{ "admin", USERS_ROLE_ADMIN },
	{ "responder", USERS_ROLE_RESPONDER },
	{ "operator", USERS_ROLE_OPERATOR },
};

#define NROLES (sizeof(roles) / sizeof(roles[0]))

int
users_role_parse(const char *s, unsigned *bit)
{
	for (size_t i = 0; i < NROLES; i++)
		if (strcmp(s, roles[i].name) == 0) {
			*bit = roles[i].bit;
			return 0;
		}
	return BG_ERR_INVALID;
}

void
users_act_local(home *h)
{
	h->actor_key[0] = '\0';
	h->actor_user = 0;
	h->actor_roles = USERS_ROLE_ADMIN;
}

/*
 * The one row (id, email) sql returns with param bound to ?1: *uid 0 and
 * email empty when it returns none; a failed step is an error naming what.
 */
static int
user_row(home *h, const char *sql, const char *param, const char *what, int64_t *uid,
    char email[256], bg_error *e)
{
	sqlite3_stmt *st;
	int r, rc;

	*uid = 0;
	email[0] = '\0';
	if ((r = store_prepare(h->st, sql, &st, e)) != 0)
		return r;
	store_bind_text(st, 1, param);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*uid = sqlite3_column_int64(st, 0);
		snprintf(email, 256, "%s", store_col_text(st, 1));
	} else if (rc != SQLITE_DONE)
		r = store_fail(h->st, e, what);
	sqlite3_finalize(st);
	return r;
}

/* a user by email (or name), not removed: id and email */
static int
find_user(home *h, const char *who, int by_name, int64_t *uid, char email[256], bg_error *e)
{
	return user_row(h, by_name ? "SELECT id, email FROM users WHERE removed IS NULL AND "
	    "(email = ?1 OR name = ?1) ORDER BY id LIMIT 1" : "SELECT id, email FROM users "
	    "WHERE removed IS NULL AND email = ?1", who, "cannot look up users", uid, email, e);
}

int
users_exists(home *h, const char *who)
{
	int64_t uid;
	char email[256];

	return find_user(h, who, 1, &uid, email, NULL) == 0 && uid != 0;
}

static int
load_roles(home *h, int64_t uid, unsigned *bits, bg_error *e)
{
	sqlite3_stmt *st;
	unsigned b;
	int r, rc;

	*bits = 0;
	if ((r = store_prepare(h->st, "SELECT role FROM user_roles WHERE user = ?", &st, e)) != 0)
		return r;
	store_bind_int(st, 1, uid);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (users_role_parse(store_col_text(st, 0), &b) == 0)
			*bits |= b;
	if (rc != SQLITE_DONE)
		r = store_fail(h->st, e, "cannot read roles");
	sqlite3_finalize(st);
	return r;
}

int
users_act_as(home *h, const char *who, const char *fp, bg_error *e)
{
	sqlite3_stmt *st;
	int64_t uid;
	char email[256], key[SSHKEY_FP_LEN] = "";
	int r, rc;

	if ((r = find_user(h, who, fp == NULL, &uid, email, e)) != 0)
		return r;
	if (uid == 0)
		return bg_fail(e, BG_ERR_PERM, "no user '%.64s' on this broker (the service "
		    "account's authorized_keys is stale: an admin runs 'breakglass broker setup')",
		    who);
	if ((r = store_prepare(h->st, fp ? "SELECT fingerprint FROM user_keys WHERE user = ?1 "
	    "AND fingerprint = ?2" : "SELECT fingerprint FROM user_keys WHERE user = ?1 ORDER BY "
	    "added LIMIT 1", &st, e)) != 0)
		return r;
	store_bind_int(st, 1, uid);
	if (fp)
		store_bind_text(st, 2, fp);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		snprintf(key, sizeof(key), "%s", store_col_text(st, 0));
	else if (rc != SQLITE_DONE)
		r = store_fail(h->st, e, "cannot read keys");
	sqlite3_finalize(st);
	if (r != 0)
		return r;
	if (fp != NULL && key[0] == '\0')
		return bg_fail(e, BG_ERR_PERM, "key %.64s is not %s's (the service account's "
		    "authorized_keys is stale: an admin runs 'breakglass broker setup')", fp, email);
	if (strlen(email) >= sizeof(h->actor))
		return bg_fail(e, BG_ERR_INVALID, "user email too long");
	snprintf(h->actor, sizeof(h->actor), "%s", email);
	snprintf(h->actor_key, sizeof(h->actor_key), "%s", key[0] ? key : "none");
	h->actor_user = uid;
	return load_roles(h, uid, &h->actor_roles, e);
}

int
users_require(home *h, unsigned need, const char *what, bg_error *e)
{
	const char *names = (need & USERS_ROLE_OPERATOR) ? "an operator" :
	    (need & USERS_ROLE_RESPONDER) ? "a responder" : "an admin";

	if ((h->actor_roles & USERS_ROLE_ADMIN) || (h->actor_roles & need))
		return 0;
	return bg_fail(e, BG_ERR_PERM, "only %s%s may %s; '%s' is not one (an admin grants "
	    "roles with 'breakglass user role add')", names, (need & ~USERS_ROLE_ADMIN) ?
	    " or an admin" : "", what, h->actor);
}

static int
record_user(home *h, const char *event, const char *email, const char *fp,
    const char *extra_key, const char *extra_val, bg_error *e)
{
	buf d;
	json j;
	int r;

	buf_init(&d, 4096);
	json_init(&j, &d);
	json_obj_begin(&j);
	json_kv_str(&j, "user", email);
	if (fp)
		json_kv_str(&j, "fingerprint", fp);
	if (extra_key)
		json_kv_str(&j, extra_key, extra_val);
	json_obj_end(&j);
	r = home_record_json(h, event, 0, &j, e);
	buf_release(&d);
	return r;
}

static int
make_user(home *h, const char *email, const char *name, int64_t *uid, bg_error *e)
{
	sqlite3_stmt *st;
	size_t bad;
	int r;

	if (!text_is_email(email) || strlen(email) >= sizeof(h->actor) ||
	    strpbrk(email, "\"\\ ") != NULL)
		return bg_fail(e, BG_ERR_INVALID, "a user is named by an email address, not "
		    "'%.64s'", email);
	if (name && (strlen(name) > 128 || text_check(name, strlen(name), 0, &bad) != 0))
		return bg_fail(e, BG_ERR_INVALID, "invalid user name");
	if ((r = store_prepare(h->st, "INSERT INTO users (email, name, added, added_by) VALUES "
	    "(?, ?, ?, ?)", &st, e)) != 0)
		return r;
	store_bind_text(st, 1, email);
	store_bind_text(st, 2, name ? name : "");
	store_bind_int(st, 3, h->now);
	store_bind_text(st, 4, h->actor);
	if (sqlite3_step(st) != SQLITE_DONE) {
		if (sqlite3_errcode(h->st->db) == SQLITE_CONSTRAINT)
			r = bg_fail(e, BG_ERR_EXISTS, "user '%s' already exists (removed users keep "
			    "their email)", email);
		else
			r = store_fail(h->st, e, "cannot store user");
	}
	sqlite3_finalize(st);
	if (r == 0) {
		*uid = sqlite3_last_insert_rowid(h->st->db);
		r = record_user(h, "user.add", email, NULL, "name", name ? name : "", e);
	}
	return r;
}

/* the owner of key fp: *uid 0 when no one holds it */
static int
key_owner(home *h, const char *fp, int64_t *uid, char email[256], bg_error *e)
{
	return user_row(h, "SELECT u.id, u.email FROM user_keys k JOIN users u ON u.id = "
	    "k.user WHERE k.fingerprint = ?1", fp, "cannot look up keys", uid, email, e);
}

static int
give_key(home *h, int64_t uid, const char *email, const sshkey_pub *k, bg_error *e)
{
	sqlite3_stmt *st;
	char fp[SSHKEY_FP_LEN], owner[256];
	int64_t held;
	buf line;
	int r;

	sshkey_fingerprint(k, fp);
	if ((r = key_owner(h, fp, &held, owner, e)) != 0)
		return r;
	if (held == uid)
		return 0;
	if (held != 0)
		return bg_fail(e, BG_ERR_EXISTS, "key %s is %s's: a key belongs to one user only",
		    fp, owner);
	buf_init(&line, 16384);
	if ((r = sshkey_pub_format(k, &line)) != 0 ||
	    (r = store_prepare(h->st, "INSERT INTO user_keys (fingerprint, user, key, added) "
	    "VALUES (?, ?, ?, ?)", &st, e)) != 0) {
		buf_release(&line);
		return r;
	}
	store_bind_text(st, 1, fp);
	store_bind_int(st, 2, uid);
	store_bind_text(st, 3, line.data);
	store_bind_int(st, 4, h->now);
	if (sqlite3_step(st) != SQLITE_DONE)
		r = store_fail(h->st, e, "cannot store key");
	sqlite3_finalize(st);
	buf_release(&line);
	if (r == 0)
		r = record_user(h, "user.key.add", email, fp, "key_type", k->type, e);
	return r;
}

int
users_hold_key(home *h, const char *email, const char *name, const sshkey_pub *k,
    int64_t *uid, bg_error *e)
{
	char found[256];
	int r;

	if ((r = users_require(h, USERS_ROLE_ADMIN, "register users and their keys", e)) != 0 ||
	    (r = find_user(h, email, 0, uid, found, e)) != 0)
		return r;
	if (*uid == 0 && (r = make_user(h, email, name, uid, e)) != 0)
		return r;
	return give_key(h, *uid, email, k, e);
}

int
users_key_is_requesters(home *h, const char *requester, const char *fp, int *yes,
    bg_error *e)
{
	int64_t uid;
	char owner[256];
	int r;

	*yes = 0;
	if ((r = key_owner(h, fp, &uid, owner, e)) != 0)
		return r;
	*yes = uid != 0 && strcasecmp(owner, requester) == 0;
	return 0;
}

static int
parse_key(const char *line, sshkey_pub *k, bg_error *e)
{
	char *comment = NULL;
	int r;

	if ((r = sshkey_parse_line(line, k, &comment, e)) != 0)
		return r;
	free(comment);
	return 0;
}

int
users_add(home *h, const char *email, const char *name, const char *const *keys,
    size_t nkeys, unsigned bits, bg_error *e)
{
	sshkey_pub k[USERS_MAX_KEYS];
	size_t i, nk = 0;
	int64_t uid = 0;
	int r = 0;

	if (nkeys == 0 || nkeys > USERS_MAX_KEYS)
		return bg_fail(e, BG_ERR_USAGE, "a user needs 1 to %d SSH keys", USERS_MAX_KEYS);
	for (i = 0; i < nkeys && r == 0; i++)
		if ((r = parse_key(keys[i], &k[i], e)) == 0)
			nk++;
	if (r != 0)
		goto out;
	if ((r = home_begin(h, e)) != 0)
		goto out;
	if ((r = users_require(h, USERS_ROLE_ADMIN, "add users", e)) != 0 ||
	    (r = make_user(h, email, name, &uid, e)) != 0)
		goto abort;
	for (i = 0; i < nk; i++)
		if ((r = give_key(h, uid, email, &k[i], e)) != 0)
			goto abort;
	for (i = 0; i < NROLES; i++) {
		sqlite3_stmt *st;

		if (!(bits & roles[i].bit))
			continue;
		if ((r = store_prepare(h->st, "INSERT INTO user_roles (user, role) VALUES (?, ?)",
		    &st, e)) != 0)
			goto abort;
		store_bind_int(st, 1, uid);
		store_bind_text(st, 2, roles[i].name);
		if (sqlite3_step(st) != SQLITE_DONE)
			r = store_fail(h->st, e, "cannot store role");
		sqlite3_finalize(st);
		if (r != 0 || (r = record_user(h, "user.role.add", email, NULL, "role",
		    roles[i].name, e)) != 0)
			goto abort;
	}
	if ((r = users_write_authorized_keys(h, e)) != 0 || (r = home_commit(h, e)) != 0)
		goto abort;
	goto out;
abort:
	home_abort(h);
out:
	for (i = 0; i < nk; i++)
		sshkey_pub_release(&k[i]);
	return r;
}

int
users_key_add(home *h, const char *email, const char *keyline, bg_error *e)
{
	sshkey_pub k;
	char found[256];
	int64_t uid;
	int r;

	if ((r = parse_key(keyline, &k, e)) != 0)
		return r;
	if ((r = home_begin(h, e)) != 0)
		goto out;
	if ((r = users_require(h, USERS_ROLE_ADMIN, "add keys", e)) != 0 ||
	    (r = find_user(h, email, 0, &uid, found, e)) != 0)
		goto abort;
	if (uid == 0) {
		r = bg_fail(e, BG_ERR_NOTFOUND, "no user '%.64s'", email);
		goto abort;
	}
	if ((r = give_key(h, uid, found, &k, e)) != 0 ||
	    (r = users_write_authorized_keys(h, e)) != 0 || (r = home_commit(h, e)) != 0)
		goto abort;
	goto out;
abort:
	home_abort(h);
out:
	sshkey_pub_release(&k);
	return r;
}

int
users_role_set(home *h, const char *email, unsigned role, int on, bg_error *e)
{
	sqlite3_stmt *st = NULL;
	char found[256];
	const char *name = NULL;
	int64_t uid;
	int r;

	for (size_t i = 0; i < NROLES; i++)
		if (roles[i].bit == role)
			name = roles[i].name;
	if (name == NULL)
		return bg_fail(e, BG_ERR_INVALID, "unknown role");
	if ((r = home_begin(h, e)) != 0)
		return r;
	if ((r = users_require(h, USERS_ROLE_ADMIN, "change roles", e)) != 0 ||
	    (r = find_user(h, email, 0, &uid, found, e)) != 0)
		goto abort;
	if (uid == 0) {
		r = bg_fail(e, BG_ERR_NOTFOUND, "no user '%.64s'", email);
		goto abort;
	}
	if ((r = store_prepare(h->st, on ? "INSERT OR IGNORE INTO user_roles (user, role) "
	    "VALUES (?, ?)" : "DELETE FROM user_roles WHERE user = ? AND role = ?", &st, e)) != 0)
		goto abort;
	store_bind_int(st, 1, uid);
	store_bind_text(st, 2, name);
	if (sqlite3_step(st) != SQLITE_DONE) {
		r = store_fail(h->st, e, "cannot change role");
		goto abort;
	}
	if ((r = record_user(h, on ? "user.role.add" : "user.role.remove", found, NULL, "role",
	    name, e)) != 0 || (r = home_commit(h, e)) != 0)
		goto abort;
	goto out;
abort:
	home_abort(h);
out:
	sqlite3_finalize(st);
	return r;
}

int
users_remove(home *h, const char *email, bg_error *e)
{
	sqlite3_stmt *st = NULL;
	char found[256];
	int64_t uid;
	int r;

	if ((r = home_begin(h, e)) != 0)
		return r;
	if ((r = users_require(h, USERS_ROLE_ADMIN, "remove users", e)) != 0 ||
	    (r = find_user(h, email, 0, &uid, found, e)) != 0)
		goto abort;
	if (uid == 0) {
		r = bg_fail(e, BG_ERR_NOTFOUND, "no user '%.64s'", email);
		goto abort;
	}
	/* the keys stay the user's (a key never passes to someone else) */
	if ((r = store_prepare(h->st, "UPDATE users SET removed = ? WHERE id = ?", &st, e)) != 0)
		goto abort;
	store_bind_int(st, 1, h->now);
	store_bind_int(st, 2, uid);
	if (sqlite3_step(st) != SQLITE_DONE) {
		r = store_fail(h->st, e, "cannot remove user");
		goto abort;
	}
	sqlite3_finalize(st);
	st = NULL;
	if ((r = store_prepare(h->st, "UPDATE approvers SET removed = ?1 WHERE removed IS NULL "
	    "AND fingerprint IN (SELECT fingerprint FROM user_keys WHERE user = ?2)", &st,
	    e)) != 0)
		goto abort;
	store_bind_int(st, 1, h->now);
	store_bind_int(st, 2, uid);
	if (sqlite3_step(st) != SQLITE_DONE) {
		r = store_fail(h->st, e, "cannot remove the user's approver keys");
		goto abort;
	}
	if ((r = record_user(h, "user.remove", found, NULL, NULL, NULL, e)) != 0 ||
	    (r = users_write_authorized_keys(h, e)) != 0 || (r = home_commit(h, e)) != 0)
		goto abort;
	goto out;
abort:
	home_abort(h);
out:
	sqlite3_finalize(st);
	return r;
}

int
users_role_signers(home *h, unsigned role, buf *out, bg_error *e)
{
	sqlite3_stmt *st;
	const char *name = NULL;
	int r, rc;

	for (size_t i = 0; i < NROLES; i++)
		if (roles[i].bit == role)
			name = roles[i].name;
	if (name == NULL)
		return bg_fail(e, BG_ERR_INVALID, "unknown role");
	if ((r = store_prepare(h->st, "SELECT u.email, k.key FROM user_keys k JOIN users u ON "
	    "u.id = k.user JOIN user_roles o ON o.user = u.id WHERE o.role = ? AND u.removed IS "
	    "NULL ORDER BY u.email, k.added", &st, e)) != 0)
		return r;
	store_bind_text(st, 1, name);
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW)
		r = buf_printf(out, "%s %s\n", store_col_text(st, 0), store_col_text(st, 1));
	if (r == 0 && rc != SQLITE_DONE)
		r = store_fail(h->st, e, "cannot list keys");
	sqlite3_finalize(st);
	return r;
}

int
users_list(home *h, int as_json, buf *out, bg_error *e)
{
	sqlite3_stmt *st;
	json j;
	int r, rc;

	if ((r = store_prepare(h->st, "SELECT u.email, u.name, (SELECT group_concat(role, ',') "
	    "FROM (SELECT role FROM user_roles WHERE user = u.id ORDER BY role)), (SELECT "
	    "group_concat(fingerprint, ',') FROM (SELECT fingerprint FROM user_keys WHERE user = "
	    "u.id ORDER BY added, fingerprint)), (SELECT group_concat(project, ',') FROM (SELECT "
	    "DISTINCT a.project FROM approvers a JOIN user_keys k ON k.fingerprint = "
	    "a.fingerprint WHERE k.user = u.id AND a.removed IS NULL ORDER BY a.project)) "
	    "FROM users u WHERE u.removed IS NULL ORDER BY u.email", &st, e)) != 0)
		return r;
	json_init(&j, out);
	if (as_json)
		json_arr_begin(&j);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (as_json) {
			json_obj_begin(&j);
			json_kv_str(&j, "email", store_col_text(st, 0));
			json_kv_str(&j, "name", store_col_text(st, 1));
			json_kv_str(&j, "roles", store_col_text(st, 2));
			json_kv_str(&j, "keys", store_col_text(st, 3));
			json_kv_str(&j, "approver_of", store_col_text(st, 4));
			json_obj_end(&j);
		} else
			buf_printf(out, "%-32s roles: %s%s%s  keys: %s  %s\n", store_col_text(st, 0),
			    *store_col_text(st, 2) ? store_col_text(st, 2) : "-",
			    *store_col_text(st, 4) ? "; approver of " : "", store_col_text(st, 4),
			    store_col_text(st, 3), store_col_text(st, 1));
	}
	if (rc != SQLITE_DONE)
		r = store_fail(h->st, e, "cannot list users");
	sqlite3_finalize(st);
	if (as_json) {
		json_arr_end(&j);
		buf_putc(out, '\n');
	}
	return r != 0 ? r : json_error(&j);
}

/* what may appear inside the forced command's double quotes, unescaped */
static int
plain_word(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || strchr("@._+/:=-", *s) != NULL))
			return 0;
	return 1;
}

int
users_setup_remote(home *h, const char *authorized_keys, const char *command,
    bg_error *e)
{
	int r;

	if (authorized_keys[0] != '/' || command[0] != '/' || !plain_word(command) ||
	    !plain_word(h->dir))
		return bg_fail(e, BG_ERR_INVALID, "broker setup: the authorized_keys path and the "
		    "command must be absolute, and the command and the home plain paths "
		    "(letters, digits, @._+/:=-)");
	if ((r = home_begin(h, e)) != 0)
		return r;
	if ((r = users_require(h, USERS_ROLE_ADMIN, "set up remote use", e)) != 0 ||
	    (r = store_meta_set(h->st, "authorized_keys", authorized_keys, e)) != 0 ||
	    (r = store_meta_set(h->st, "serve_command", command, e)) != 0 ||
	    (r = record_user(h, "broker.setup", h->actor, NULL, "authorized_keys",
	    authorized_keys, e)) != 0 ||
	    (r = users_write_authorized_keys(h, e)) != 0 || (r = home_commit(h, e)) != 0)
		home_abort(h);
	return r;
}

int
users_write_authorized_keys(home *h, bg_error *e)
{
	sqlite3_stmt *st = NULL;
	char *path = NULL, *cmd = NULL;
	buf out;
	int r, rc;

	buf_init(&out, 16 * 1024 * 1024);
	if ((r = store_meta_get(h->st, "authorized_keys", &path, e)) != 0 || path == NULL ||
	    (r = store_meta_get(h->st, "serve_command", &cmd, e)) != 0 || cmd == NULL)
		goto out;
	if ((r = buf_printf(&out, "# written by breakglass (broker setup; users change it): "
	    "edits are lost\n")) != 0 ||
	    (r = store_prepare(h->st, "SELECT u.email, k.fingerprint, k.key FROM user_keys k "
	    "JOIN users u ON u.id = k.user WHERE u.removed IS NULL ORDER BY u.email, k.added, "
	    "k.fingerprint", &st, e)) != 0)
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *email = store_col_text(st, 0), *fp = store_col_text(st, 1),
		    *key = store_col_text(st, 2);

		/* nothing that could end the quotes or the line */
		if (!plain_word(email) || !plain_word(fp) || strpbrk(key, "\"\n\r") != NULL) {
			r = bg_fail(e, BG_ERR_CORRUPT, "user '%.64s' cannot be written to "
			    "authorized_keys", email);
			goto out;
		}
		if ((r = buf_printf(&out, "restrict,command=\"%s --home %s serve --as %s --key %s\" "
		    "%s %s\n", cmd, h->dir, email, fp, key, email)) != 0)
			goto out;
	}
	if (rc != SQLITE_DONE) {
		r = store_fail(h->st, e, "cannot list keys");
		goto out;
	}
	r = fileio_write_atomic(path, out.data, out.len, 0600, 0, e);
out:
	sqlite3_finalize(st);
	free(path);
	free(cmd);
	buf_release(&out);
	return r;
}
