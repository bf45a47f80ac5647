/*
 * store.c - SQLite store: open, migrate, small helpers.
 *
 * Migrations are append-only: migrations[i] upgrades user_version i to
 * i+1.  Each runs in its own transaction together with the version bump.
 */
#include "store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const migrations[] = {
	/* 0 -> 1: the first schema */
	"CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);\n"
	"CREATE TABLE projects (\n"
	"  name TEXT PRIMARY KEY,\n"
	"  quorum INTEGER NOT NULL DEFAULT 1 CHECK (quorum BETWEEN 1 AND 9),\n"
	"  systems TEXT NOT NULL DEFAULT '',\n"
	"  created INTEGER NOT NULL);\n"
	"CREATE TABLE approvers (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  project TEXT NOT NULL REFERENCES projects(name),\n"
	"  principal TEXT NOT NULL,\n"
	"  name TEXT NOT NULL DEFAULT '',\n"
	"  signer_line TEXT NOT NULL,\n"
	"  fingerprint TEXT NOT NULL,\n"
	"  added INTEGER NOT NULL,\n"
	"  added_by TEXT NOT NULL,\n"
	"  removed INTEGER,\n"
	"  UNIQUE (project, principal, fingerprint));\n"
	"CREATE TABLE tickets (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  project TEXT NOT NULL REFERENCES projects(name),\n"
	"  requester TEXT NOT NULL,\n"
	"  summary TEXT NOT NULL,\n"
	"  intake TEXT NOT NULL,\n"
	"  intake_hash TEXT NOT NULL,\n"
	"  status TEXT NOT NULL CHECK (status IN ('open','closed','withdrawn')),\n"
	"  created INTEGER NOT NULL,\n"
	"  closed INTEGER,\n"
	"  close_note TEXT);\n"
	"CREATE TABLE comments (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  ticket INTEGER NOT NULL REFERENCES tickets(id),\n"
	"  author TEXT NOT NULL,\n"
	"  time INTEGER NOT NULL,\n"
	"  body TEXT NOT NULL);\n"
	"CREATE TABLE statements (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  ticket INTEGER NOT NULL REFERENCES tickets(id),\n"
	"  kind TEXT NOT NULL CHECK (kind IN ('confirm','risk','plan','smoke-waiver')),\n"
	"  subject INTEGER,\n"
	"  binding TEXT NOT NULL,\n"
	"  text TEXT NOT NULL,\n"
	"  hash TEXT NOT NULL UNIQUE,\n"
	"  issued INTEGER NOT NULL,\n"
	"  valid_until INTEGER NOT NULL);\n"
	"CREATE TABLE approvals (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  statement INTEGER NOT NULL REFERENCES statements(id),\n"
	"  approver INTEGER NOT NULL REFERENCES approvers(id),\n"
	"  signature TEXT NOT NULL,\n"
	"  recorded INTEGER NOT NULL,\n"
	"  UNIQUE (statement, approver));\n"
	"CREATE TABLE evidence (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  ticket INTEGER NOT NULL REFERENCES tickets(id),\n"
	"  kind TEXT NOT NULL CHECK (kind IN ('backup','rollback')),\n"
	"  method TEXT NOT NULL DEFAULT '',\n"
	"  what TEXT NOT NULL,\n"
	"  location TEXT NOT NULL DEFAULT '',\n"
	"  taken INTEGER,\n"
	"  sha256 TEXT,\n"
	"  verified INTEGER NOT NULL DEFAULT 0,\n"
	"  recorded INTEGER NOT NULL,\n"
	"  actor TEXT NOT NULL);\n"
	"CREATE TABLE plans (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  ticket INTEGER NOT NULL REFERENCES tickets(id),\n"
	"  text TEXT NOT NULL,\n"
	"  hash TEXT NOT NULL,\n"
	"  created INTEGER NOT NULL,\n"
	"  actor TEXT NOT NULL,\n"
	"  superseded INTEGER NOT NULL DEFAULT 0);\n"
	"CREATE TABLE artifacts (\n"
	"  plan INTEGER NOT NULL REFERENCES plans(id),\n"
	"  name TEXT NOT NULL,\n"
	"  kind TEXT NOT NULL CHECK (kind IN ('diff','commands','sql','other')),\n"
	"  sha256 TEXT NOT NULL,\n"
	"  size INTEGER NOT NULL,\n"
	"  PRIMARY KEY (plan, name));\n"
	"CREATE TABLE grants (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  ticket INTEGER NOT NULL REFERENCES tickets(id),\n"
	"  kind TEXT NOT NULL,\n"
	"  spec TEXT NOT NULL,\n"
	"  spec_hash TEXT NOT NULL,\n"
	"  writes INTEGER NOT NULL,\n"
	"  ttl INTEGER NOT NULL,\n"
	"  state TEXT NOT NULL CHECK (state IN\n"
	"    ('requested','approved','active','expired','revoked')),\n"
	"  requested INTEGER NOT NULL,\n"
	"  requested_by TEXT NOT NULL,\n"
	"  approved INTEGER,\n"
	"  approved_via INTEGER REFERENCES statements(id),\n"
	"  not_before INTEGER,\n"
	"  not_after INTEGER,\n"
	"  ended INTEGER,\n"
	"  ended_by TEXT,\n"
	"  end_reason TEXT,\n"
	"  revocation_confirmed TEXT);\n"
	"CREATE TABLE smoke (\n"
	"  ticket INTEGER PRIMARY KEY REFERENCES tickets(id),\n"
	"  result TEXT NOT NULL CHECK (result IN ('pass','fail','waived')),\n"
	"  notes TEXT NOT NULL,\n"
	"  recorded INTEGER NOT NULL,\n"
	"  actor TEXT NOT NULL,\n"
	"  waiver INTEGER REFERENCES statements(id));\n"
	"CREATE TABLE cleanup (\n"
	"  ticket INTEGER NOT NULL REFERENCES tickets(id),\n"
	"  item TEXT NOT NULL,\n"
	"  state TEXT NOT NULL CHECK (state IN ('done','na')),\n"
	"  note TEXT NOT NULL,\n"
	"  actor TEXT NOT NULL,\n"
	"  time INTEGER NOT NULL,\n"
	"  PRIMARY KEY (ticket, item));\n"
	"CREATE INDEX grants_ticket ON grants(ticket);\n"
	"CREATE INDEX statements_ticket ON statements(ticket);\n"
	"INSERT INTO meta(key, value) VALUES ('format', 'breakglass-store');\n",
	/* 1 -> 2: certificates issued for grants, and the KRL's version */
	"CREATE TABLE certs (\n"
	"  serial INTEGER PRIMARY KEY CHECK (serial > 0),\n"
	"  grant_id INTEGER NOT NULL REFERENCES grants(id),\n"
	"  fingerprint TEXT NOT NULL,\n"
	"  key_id TEXT NOT NULL,\n"
	"  issued INTEGER NOT NULL,\n"
	"  valid_before INTEGER NOT NULL,\n"
	"  actor TEXT NOT NULL);\n"
	"CREATE INDEX certs_grant ON certs(grant_id);\n"
	"INSERT INTO meta(key, value) VALUES ('krl_version', '0');\n",
	/* 2 -> 3: every smoke result kept (a second one replaced the first) */
	"CREATE TABLE smoke_results (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  ticket INTEGER NOT NULL REFERENCES tickets(id),\n"
	"  result TEXT NOT NULL CHECK (result IN ('pass','fail','waived')),\n"
	"  notes TEXT NOT NULL,\n"
	"  recorded INTEGER NOT NULL,\n"
	"  actor TEXT NOT NULL,\n"
	"  waiver INTEGER REFERENCES statements(id));\n"
	"INSERT INTO smoke_results (ticket, result, notes, recorded, actor, waiver)\n"
	"  SELECT ticket, result, notes, recorded, actor, waiver FROM smoke ORDER BY recorded;\n"
	"DROP TABLE smoke;\n"
	"CREATE INDEX smoke_results_ticket ON smoke_results(ticket);\n",
	/* 3 -> 4: smoke checks that ran (an HTTP request), before or after the fix */
	"ALTER TABLE smoke_results ADD COLUMN kind TEXT NOT NULL DEFAULT 'manual'\n"
	"  CHECK (kind IN ('manual','check'));\n"
	"ALTER TABLE smoke_results ADD COLUMN phase TEXT CHECK (phase IN ('before','after'));\n"
	"ALTER TABLE smoke_results ADD COLUMN url TEXT;\n"
	"ALTER TABLE smoke_results ADD COLUMN expect TEXT;\n"
	"ALTER TABLE smoke_results ADD COLUMN http_status INTEGER;\n"
	"ALTER TABLE smoke_results ADD COLUMN elapsed_ms INTEGER;\n"
	"ALTER TABLE smoke_results ADD COLUMN body_sha256 TEXT;\n"
	"ALTER TABLE smoke_results ADD COLUMN body_size INTEGER;\n",
	/*
	 * 4 -> 5: the owner's statements at close (resolved, close-unconfirmed).
	 * SQLite cannot change a CHECK: the rows are set aside, the table made
	 * again under the new one and the rows put back with their ids.  The
	 * references to it (approvals, grants, smoke_results) are deferred to
	 * the commit, by which time every id they name is back.
	 */
	"PRAGMA defer_foreign_keys = ON;\n"
	"CREATE TEMP TABLE statements_v4 AS SELECT * FROM statements;\n"
	"DROP TABLE statements;\n"
	"CREATE TABLE statements (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  ticket INTEGER NOT NULL REFERENCES tickets(id),\n"
	"  kind TEXT NOT NULL CHECK (kind IN ('confirm','risk','plan','smoke-waiver',\n"
	"    'resolved','close-unconfirmed')),\n"
	"  subject INTEGER,\n"
	"  binding TEXT NOT NULL,\n"
	"  text TEXT NOT NULL,\n"
	"  hash TEXT NOT NULL UNIQUE,\n"
	"  issued INTEGER NOT NULL,\n"
	"  valid_until INTEGER NOT NULL);\n"
	"INSERT INTO statements (id, ticket, kind, subject, binding, text, hash, issued,\n"
	"  valid_until) SELECT id, ticket, kind, subject, binding, text, hash, issued,\n"
	"  valid_until FROM temp.statements_v4 ORDER BY id;\n"
	"DROP TABLE temp.statements_v4;\n"
	"CREATE INDEX statements_ticket ON statements(ticket);\n",
	/*
	 * 5 -> 6: users (a name, an email, SSH keys: one user per key) and
	 * their roles; an approver is a user's role in one project.  Existing
	 * approvers become users, a key under two principals going to the
	 * first (the approval path also refuses any key of a requester).
	 */
	"CREATE TABLE users (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  email TEXT NOT NULL UNIQUE COLLATE NOCASE,\n"
	"  name TEXT NOT NULL DEFAULT '',\n"
	"  added INTEGER NOT NULL,\n"
	"  added_by TEXT NOT NULL,\n"
	"  removed INTEGER);\n"
	"CREATE TABLE user_keys (\n"
	"  fingerprint TEXT PRIMARY KEY,\n"
	"  user INTEGER NOT NULL REFERENCES users(id),\n"
	"  key TEXT NOT NULL,\n"
	"  added INTEGER NOT NULL);\n"
	"CREATE TABLE user_roles (\n"
	"  user INTEGER NOT NULL REFERENCES users(id),\n"
	"  role TEXT NOT NULL CHECK (role IN ('admin','responder','operator')),\n"
	"  PRIMARY KEY (user, role));\n"
	"INSERT INTO users (email, name, added, added_by)\n"
	"  SELECT principal, max(name), min(added), 'migration' FROM approvers\n"
	"  WHERE removed IS NULL GROUP BY lower(principal);\n"
	"INSERT OR IGNORE INTO user_keys (fingerprint, user, key, added)\n"
	"  SELECT a.fingerprint, u.id, substr(a.signer_line, instr(a.signer_line, '\" ') + 2),\n"
	"    a.added FROM approvers a JOIN users u ON lower(u.email) = lower(a.principal)\n"
	"  WHERE a.removed IS NULL ORDER BY a.id;\n"
	"CREATE INDEX user_keys_user ON user_keys(user);\n"
	"ALTER TABLE tickets ADD COLUMN opened_by TEXT;\n",
	/*
	 * 6 -> 7: command checks, run through a gate and read back from the
	 * host log (kind 'command': the argv, the host, the record's seq and
	 * time, the grant, the exit status).  The kind's CHECK changes, so the
	 * table is made again as in 4 -> 5, ids kept.
	 */
	"PRAGMA defer_foreign_keys = ON;\n"
	"CREATE TEMP TABLE smoke_results_v6 AS SELECT * FROM smoke_results;\n"
	"DROP TABLE smoke_results;\n"
	"CREATE TABLE smoke_results (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  ticket INTEGER NOT NULL REFERENCES tickets(id),\n"
	"  result TEXT NOT NULL CHECK (result IN ('pass','fail','waived')),\n"
	"  notes TEXT NOT NULL,\n"
	"  recorded INTEGER NOT NULL,\n"
	"  actor TEXT NOT NULL,\n"
	"  waiver INTEGER REFERENCES statements(id),\n"
	"  kind TEXT NOT NULL DEFAULT 'manual' CHECK (kind IN ('manual','check','command')),\n"
	"  phase TEXT CHECK (phase IN ('before','after')),\n"
	"  url TEXT,\n"
	"  expect TEXT,\n"
	"  http_status INTEGER,\n"
	"  elapsed_ms INTEGER,\n"
	"  body_sha256 TEXT,\n"
	"  body_size INTEGER,\n"
	"  command TEXT,\n"
	"  host TEXT,\n"
	"  log_seq INTEGER,\n"
	"  log_time INTEGER,\n"
	"  grant_id INTEGER,\n"
	"  exit_status INTEGER);\n"
	"INSERT INTO smoke_results (id, ticket, result, notes, recorded, actor, waiver, kind,\n"
	"  phase, url, expect, http_status, elapsed_ms, body_sha256, body_size)\n"
	"  SELECT id, ticket, result, notes, recorded, actor, waiver, kind, phase, url, expect,\n"
	"  http_status, elapsed_ms, body_sha256, body_size FROM temp.smoke_results_v6 ORDER BY id;\n"
	"DROP TABLE temp.smoke_results_v6;\n"
	"CREATE INDEX smoke_results_ticket ON smoke_results(ticket);\n",
};

#define NMIGRATIONS (sizeof(migrations) / sizeof(migrations[0]))

int
store_fail(store *s, bg_error *e, const char *what)
{
	return bg_fail(e, BG_ERR_STORE, "%s: %s", what,
	    s && s->db ? sqlite3_errmsg(s->db) : "no database");
}

int
store_exec(store *s, const char *sql, bg_error *e)
{
	if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return store_fail(s, e, "store");
	return 0;
}

static int
user_version(store *s, int *v, bg_error *e)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK) {
		rc = sqlite3_errcode(s->db);
		if (rc == SQLITE_NOTADB || rc == SQLITE_CORRUPT)
			return bg_fail(e, BG_ERR_CORRUPT, "store is not a database or is corrupt");
		return store_fail(s, e, "cannot read store");
	}
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_finalize(st);
		if (rc == SQLITE_NOTADB || rc == SQLITE_CORRUPT)
			return bg_fail(e, BG_ERR_CORRUPT, "store is not a database or is corrupt");
		return store_fail(s, e, "cannot read store");
	}
	*v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return 0;
}

static int
migrate(store *s, int from, bg_error *e)
{
	char sql[64];
	int v, r;

	for (v = from; v < (int)NMIGRATIONS; v++) {
		if ((r = store_begin(s, e)) != 0)
			return r;
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v + 1);
		if ((r = store_exec(s, migrations[v], e)) != 0 ||
		    (r = store_exec(s, sql, e)) != 0) {
			store_rollback(s);
			return r;
		}
		if ((r = store_commit(s, e)) != 0)
			return r;
	}
	return 0;
}

int
store_open(const char *path, int create, store **out, bg_error *e)
{
	store *s;
	struct stat stt;
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, v = 0, r;
	char *fmt = NULL;

	*out = NULL;
	if (create) {
		if (lstat(path, &stt) == 0)
			return bg_fail(e, BG_ERR_EXISTS, "store '%s' already exists", path);
		flags |= SQLITE_OPEN_CREATE;
	} else if (lstat(path, &stt) != 0) {
		return bg_fail(e, BG_ERR_NOTFOUND, "store '%s' is missing", path);
	} else if (!S_ISREG(stt.st_mode)) {
		return bg_fail(e, BG_ERR_CORRUPT, "store '%s' is not a regular file", path);
	} else if (access(path, R_OK | W_OK) != 0) {
		return bg_fail(e, BG_ERR_PERM, "store '%s' is not readable and writable: %s",
		    path, strerror(errno));
	}
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return BG_ERR_NOMEM;
	if (sqlite3_open_v2(path, &s->db, flags, NULL) != SQLITE_OK) {
		r = store_fail(s, e, "cannot open store");
		goto fail;
	}
	sqlite3_busy_timeout(s->db, 5000);
	sqlite3_extended_result_codes(s->db, 0);
	if ((r = user_version(s, &v, e)) != 0)
		goto fail;
	if (store_exec(s, "PRAGMA journal_mode=WAL", NULL) != 0 ||
	    store_exec(s, "PRAGMA foreign_keys=ON", NULL) != 0 ||
	    store_exec(s, "PRAGMA synchronous=FULL", NULL) != 0 ||
	    store_exec(s, "PRAGMA trusted_schema=OFF", NULL) != 0) {
		r = bg_fail(e, BG_ERR_CORRUPT, "cannot configure store '%s': %s", path,
		    sqlite3_errmsg(s->db));
		goto fail;
	}
	if (!create && v == 0) {
		r = bg_fail(e, BG_ERR_CORRUPT, "'%s' is not a breakglass store", path);
		goto fail;
	}
	if (v > (int)NMIGRATIONS) {
		r = bg_fail(e, BG_ERR_CORRUPT,
		    "store schema version %d is newer than this breakglass (%d)", v,
		    (int)NMIGRATIONS);
		goto fail;
	}
	if ((r = migrate(s, v, e)) != 0)
		goto fail;
	if ((r = store_meta_get(s, "format", &fmt, e)) != 0 || fmt == NULL ||
	    strcmp(fmt, "breakglass-store") != 0) {
		r = bg_fail(e, BG_ERR_CORRUPT, "'%s' is not a breakglass store", path);
		goto fail;
	}
	free(fmt);
	*out = s;
	return 0;
fail:
	free(fmt);
	store_close(s);
	return r;
}

void
store_close(store *s)
{
	if (s == NULL)
		return;
	if (s->in_txn)
		store_rollback(s);
	sqlite3_close(s->db);
	free(s);
}

int
store_begin(store *s, bg_error *e)
{
	if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return store_fail(s, e, "cannot start transaction");
	s->in_txn = 1;
	return 0;
}

int
store_commit(store *s, bg_error *e)
{
	if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		int r = store_fail(s, e, "cannot commit");

		store_rollback(s);
		return r;
	}
	s->in_txn = 0;
	return 0;
}

void
store_rollback(store *s)
{
	if (s->in_txn)
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	s->in_txn = 0;
}

int
store_prepare(store *s, const char *sql, sqlite3_stmt **st, bg_error *e)
{
	*st = NULL;
	if (sqlite3_prepare_v2(s->db, sql, -1, st, NULL) != SQLITE_OK)
		return store_fail(s, e, "cannot prepare query");
	return 0;
}

int
store_bind_text(sqlite3_stmt *st, int i, const char *v)
{
	if (v == NULL)
		return sqlite3_bind_null(st, i) == SQLITE_OK ? 0 : BG_ERR_STORE;
	return sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT) == SQLITE_OK ?
	    0 : BG_ERR_STORE;
}

int
store_bind_int(sqlite3_stmt *st, int i, int64_t v)
{
	return sqlite3_bind_int64(st, i, v) == SQLITE_OK ? 0 : BG_ERR_STORE;
}

const char *
store_col_text(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t ? (const char *)t : "";
}

char *
store_col_dup(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	if (t == NULL)
		return NULL;
	return strdup((const char *)t);
}

int
store_count(store *s, const char *sql, int64_t param, int *n, bg_error *e)
{
	sqlite3_stmt *st;
	int r;

	*n = 0;
	if ((r = store_prepare(s, sql, &st, e)) != 0)
		return r;
	store_bind_int(st, 1, param);
	if (sqlite3_step(st) == SQLITE_ROW)
		*n = sqlite3_column_int(st, 0);
	else
		r = store_fail(s, e, "cannot count");
	sqlite3_finalize(st);
	return r;
}

int
store_int_text(store *s, const char *sql, const char *param, int64_t *n, bg_error *e)
{
	sqlite3_stmt *st;
	int r, rc;

	*n = 0;
	if ((r = store_prepare(s, sql, &st, e)) != 0)
		return r;
	store_bind_text(st, 1, param);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		*n = sqlite3_column_int64(st, 0);
	else if (rc != SQLITE_DONE)
		r = store_fail(s, e, "cannot query the store");
	sqlite3_finalize(st);
	return r;
}

int
store_meta_get(store *s, const char *key, char **val, bg_error *e)
{
	sqlite3_stmt *st;
	int r, rc;

	*val = NULL;
	if ((r = store_prepare(s, "SELECT value FROM meta WHERE key = ?", &st, e)) != 0)
		return r;
	store_bind_text(st, 1, key);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		if ((*val = store_col_dup(st, 0)) == NULL)
			r = BG_ERR_NOMEM;
	} else if (rc != SQLITE_DONE)
		r = store_fail(s, e, "cannot read metadata");
	sqlite3_finalize(st);
	return r;
}

int
store_meta_set(store *s, const char *key, const char *val, bg_error *e)
{
	sqlite3_stmt *st;
	int r;

	if ((r = store_prepare(s, "INSERT INTO meta(key, value) VALUES (?, ?) "
	    "ON CONFLICT(key) DO UPDATE SET value = excluded.value", &st, e)) != 0)
		return r;
	store_bind_text(st, 1, key);
	store_bind_text(st, 2, val);
	if (sqlite3_step(st) != SQLITE_DONE)
		r = store_fail(s, e, "cannot write metadata");
	sqlite3_finalize(st);
	return r;
}

int
store_clock_check(store *s, int64_t now, int64_t skew, bg_error *e)
{
	char *v = NULL, buf[32], *end;
	long long last;
	int r;

	if ((r = store_meta_get(s, "last_seen", &v, e)) != 0)
		return r;
	if (v != NULL) {
		errno = 0;
		last = strtoll(v, &end, 10);
		if (errno != 0 || *end != '\0') {
			free(v);
			return bg_fail(e, BG_ERR_CORRUPT, "store clock record is corrupt");
		}
		free(v);
		if (now + skew < last)
			return bg_fail(e, BG_ERR_CLOCK,
			    "the clock is %lld s behind the last recorded event: refusing",
			    (long long)(last - now));
		if (now <= last)
			return 0;
	}
	snprintf(buf, sizeof(buf), "%lld", (long long)now);
	return store_meta_set(s, "last_seen", buf, e);
}
