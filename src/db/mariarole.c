/*
 * mariarole.c - grant accounts on MariaDB.
 *
 * Account and database names are ours or validated plain identifiers
 * (pgrole_grant_tables); they are still quoted (`...` with ` doubled,
 * '...' through mysql_real_escape_string) rather than pasted.
 */
#include "mariarole.h"
#include "buf.h"
#include "myload.h"
#include "utc.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int
mfail(MYSQL *m, bg_error *e, int r, const char *what)
{
	return bg_fail(e, r, "mariadb: %s: %s", what, mysql_error(m));
}

static int
mrun(MYSQL *m, const char *sql, const char *what, bg_error *e)
{
	MYSQL_RES *res;

	if (mysql_real_query(m, sql, strlen(sql)) != 0)
		return mfail(m, e, BG_ERR_STORE, what);
	if ((res = mysql_store_result(m)) != NULL)
		mysql_free_result(res);
	return 0;
}

int
mariarole_put_ident(buf *b, const char *s)
{
	int r = buf_putc(b, '`');

	for (; r == 0 && *s != '\0'; s++)
		r = *s == '`' ? buf_puts(b, "``") : buf_putc(b, *s);
	return r ? r : buf_putc(b, '`');
}

int
mariarole_put_literal(MYSQL *m, buf *b, const char *s)
{
	size_t n = strlen(s);
	char *q = malloc(2 * n + 1);
	int r;

	if (q == NULL)
		return BG_ERR_NOMEM;
	mysql_real_escape_string(m, q, s, (unsigned long)n);
	r = buf_printf(b, "'%s'", q);
	sodium_memzero(q, 2 * n + 1);
	free(q);
	return r;
}

/* 'name'@'localhost' */
static int
put_account(MYSQL *m, buf *b, const char *name)
{
	int r = mariarole_put_literal(m, b, name);

	return r ? r : buf_puts(b, "@'localhost'");
}

int
mariarole_admin_connect(const char *sock, MYSQL **out, bg_error *e)
{
	MYSQL *m;

	*out = NULL;
	if (myload_ready(e) != 0)
		return BG_ERR_UNSUPPORTED;
	m = mysql_init(NULL);
	if (m == NULL)
		return BG_ERR_NOMEM;
	if (mysql_real_connect(m, NULL, "root", NULL, NULL, 0, sock, 0) == NULL) {
		int r = mfail(m, e, BG_ERR_IO, "admin connection");

		mysql_close(m);
		return r;
	}
	*out = m;
	return 0;
}

int
mariarole_create(MYSQL *admin, const dbgrant *g, pgrole *out, bg_error *e)
{
	static const char alnum[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	size_t i, k;
	int r;
	buf b;

	memset(out, 0, sizeof(*out));
	if (g->grant <= 0 || g->ntables == 0 || g->database[0] == '\0')
		return bg_fail(e, BG_ERR_USAGE, "db grant: incomplete");
	if (g->until <= utc_now())
		return bg_fail(e, BG_ERR_EXPIRED, "db grant G-%lld expired", (long long)g->grant);
	for (i = 0; i < g->ntables; i++) {
		/* a MariaDB table is DATABASE.TABLE; "public." is the unqualified form */
		size_t dl = strlen(g->database);

		if (strncmp(g->tables[i], "public.", 7) != 0 &&
		    !(strncmp(g->tables[i], g->database, dl) == 0 && g->tables[i][dl] == '.'))
			return bg_fail(e, BG_ERR_INVALID, "mariadb: table '%s' is not in database "
			    "'%s'", g->tables[i], g->database);
	}
	/*
	 * MariaDB 10.11 has PUBLIC: what is granted to it every account has,
	 * the grant's too, beyond the tables the grant names.  Taking it away
	 * would break whoever relies on it, so the grant is refused instead.
	 */
	{
		static const char q[] = "SELECT CONCAT_WS(', ', (SELECT GROUP_CONCAT(CONCAT(Db, "
		    "'.*')) FROM mysql.db WHERE User = 'PUBLIC'), (SELECT GROUP_CONCAT(CONCAT(Db, "
		    "'.', Table_name)) FROM mysql.tables_priv WHERE User = 'PUBLIC'), (SELECT "
		    "GROUP_CONCAT(CONCAT(Db, '.', Table_name, '(', Column_name, ')')) FROM "
		    "mysql.columns_priv WHERE User = 'PUBLIC'), (SELECT GROUP_CONCAT(CONCAT(Db, '.', "
		    "Routine_name, '()')) FROM mysql.procs_priv WHERE User = 'PUBLIC'))";
		MYSQL_RES *res;
		MYSQL_ROW row;
		char pub[256] = "";

		if (mysql_real_query(admin, q, sizeof(q) - 1) != 0 ||
		    (res = mysql_store_result(admin)) == NULL)
			return mfail(admin, e, BG_ERR_STORE, "PUBLIC privileges");
		if ((row = mysql_fetch_row(res)) != NULL && row[0] != NULL)
			snprintf(pub, sizeof(pub), "%s", row[0]);
		mysql_free_result(res);
		if (pub[0] != '\0')
			return bg_fail(e, BG_ERR_POLICY, "mariadb: the server grants privileges to PUBLIC "
			    "(%s): every account has them, a grant's account too, so it could reach "
			    "more than the grant names; revoke them (REVOKE ... FROM PUBLIC) and grant "
			    "them to the accounts that need them", pub);
	}
	if (g->role[0] != '\0')   /* a client's runbook apply names its own account */
		snprintf(out->name, sizeof(out->name), "%s", g->role);
	else
		snprintf(out->name, sizeof(out->name), "bg_g%lld", (long long)g->grant);
	for (i = 0; i < 40; i++)
		out->password[i] = alnum[randombytes_uniform(sizeof(alnum) - 1)];
	buf_init_secret(&b, 64u * 1024);
	r = buf_puts(&b, "CREATE USER ");
	r = r ? r : put_account(admin, &b, out->name);
	r = r ? r : buf_puts(&b, " IDENTIFIED BY ");
	r = r ? r : mariarole_put_literal(admin, &b, out->password);
	r = r ? r : buf_printf(&b, " WITH MAX_USER_CONNECTIONS %d MAX_STATEMENT_TIME %d",
	    g->conn_limit > 0 ? g->conn_limit : 2,
	    (g->statement_timeout_ms > 0 ? g->statement_timeout_ms : 30000) / 1000);
	if (r != 0)
		goto out;
	if (mysql_real_query(admin, b.data, b.len) != 0) {
		r = mysql_errno(admin) == 1396 ?
		    bg_fail(e, BG_ERR_EXISTS, "mariadb: account '%s' exists", out->name) :
		    mfail(admin, e, BG_ERR_STORE, "create user");
		goto out;
	}
	for (i = 0; i < g->ntables && r == 0; i++) {
		static const char *const pn[] = { "SELECT", "INSERT", "UPDATE", "DELETE" };
		const char *dot = strchr(g->tables[i], '.');
		int first = 1;

		buf_reset(&b);
		r = buf_puts(&b, "GRANT ");
		for (k = 0; r == 0 && k < 4; k++)
			if (g->privs[i] & (1 << k)) {
				r = buf_printf(&b, "%s%s", first ? "" : ", ", pn[k]);
				first = 0;
			}
		/* MariaDB has no schemas: the grant's database holds the tables */
		r = r ? r : buf_puts(&b, " ON ");
		r = r ? r : mariarole_put_ident(&b, g->database);
		r = r ? r : buf_putc(&b, '.');
		r = r ? r : mariarole_put_ident(&b, dot + 1);
		r = r ? r : buf_puts(&b, " TO ");
		r = r ? r : put_account(admin, &b, out->name);
		if (r == 0)
			r = mrun(admin, b.data, "grant", e);
	}
	if (r != 0) {
		int term;

		(void)mariarole_revoke(admin, out->name, 2000, &term, NULL);
	}
out:
	if (r != 0)
		pgrole_release(out);
	buf_release(&b);
	return r;
}

int
mariarole_connect(const char *sock, const dbgrant *g, const pgrole *role, MYSQL **out,
    bg_error *e)
{
	MYSQL *m;

	*out = NULL;
	if (myload_ready(e) != 0)
		return BG_ERR_UNSUPPORTED;
	if ((m = mysql_init(NULL)) == NULL)
		return BG_ERR_NOMEM;
	if (mysql_real_connect(m, NULL, role->name, role->password, g->database, 0, sock,
	    0) == NULL) {
		int r = mfail(m, e, BG_ERR_IO, "account connection");

		mysql_close(m);
		return r;
	}
	*out = m;
	return 0;
}

static int
count_conns(MYSQL *admin, const char *lit_name)
{
	char q[256];
	MYSQL_RES *res;
	MYSQL_ROW row;
	int n = -1;

	snprintf(q, sizeof(q), "SELECT count(*) FROM information_schema.processlist WHERE "
	    "user = %s", lit_name);
	if (mysql_real_query(admin, q, strlen(q)) != 0 ||
	    (res = mysql_store_result(admin)) == NULL)
		return -1;
	if ((row = mysql_fetch_row(res)) != NULL && row[0] != NULL)
		n = (int)strtol(row[0], NULL, 10);
	mysql_free_result(res);
	return n;
}

int
mariarole_revoke(MYSQL *admin, const char *name, int wait_ms, int *terminated,
    bg_error *e)
{
	buf b, lit;
	int r = 0, n, waited;

	*terminated = 0;
	buf_init(&b, 4096);
	buf_init(&lit, 256);
	if ((r = mariarole_put_literal(admin, &lit, name)) != 0)
		goto out;
	{
		/* no such account: nothing to do (revocation is idempotent) */
		MYSQL_RES *res;
		MYSQL_ROW row;
		int exists = -1;

		buf_reset(&b);
		r = buf_printf(&b, "SELECT count(*) FROM mysql.user WHERE user = %s AND host = "
		    "'localhost'", lit.data);
		if (r != 0)
			goto out;
		if (mysql_real_query(admin, b.data, b.len) == 0 &&
		    (res = mysql_store_result(admin)) != NULL) {
			if ((row = mysql_fetch_row(res)) != NULL && row[0] != NULL)
				exists = strcmp(row[0], "0") != 0;
			mysql_free_result(res);
		}
		if (exists < 0) {
			r = mfail(admin, e, BG_ERR_STORE, "account lookup");
			goto out;
		}
		if (!exists)
			goto out;
	}
	buf_reset(&b);
	r = buf_puts(&b, "ALTER USER ");
	r = r ? r : put_account(admin, &b, name);
	r = r ? r : buf_puts(&b, " ACCOUNT LOCK");
	if (r != 0 || (r = mrun(admin, b.data, "lock", e)) != 0)
		goto out;
	buf_reset(&b);
	r = buf_puts(&b, "REVOKE ALL PRIVILEGES, GRANT OPTION FROM ");
	r = r ? r : put_account(admin, &b, name);
	if (r != 0 || (r = mrun(admin, b.data, "revoke", e)) != 0)
		goto out;
	for (waited = 0;; waited += 10) {
		if ((n = count_conns(admin, lit.data)) == 0)
			break;
		if (n < 0) {
			r = mfail(admin, e, BG_ERR_STORE, "processlist");
			goto out;
		}
		if (waited == 0)
			*terminated = n;
		if (waited >= wait_ms) {
			r = bg_fail(e, BG_ERR_STATE, "mariadb: %d connection(s) of '%s' still alive "
			    "after %d ms", n, name, wait_ms);
			goto out;
		}
		buf_reset(&b);
		r = buf_puts(&b, "KILL HARD USER ");
		r = r ? r : put_account(admin, &b, name);
		if (r != 0 || (r = mrun(admin, b.data, "kill", e)) != 0)
			goto out;
		nanosleep(&(struct timespec){ 0, 10 * 1000 * 1000 }, NULL);
	}
	buf_reset(&b);
	r = buf_puts(&b, "DROP USER ");
	r = r ? r : put_account(admin, &b, name);
	if (r == 0)
		r = mrun(admin, b.data, "drop user", e);
out:
	buf_release(&b);
	buf_release(&lit);
	return r;
}

int
mariarole_repair(MYSQL *admin, const int64_t *live, size_t nlive, int *removed,
    bg_error *e)
{
	static const char q[] = "SELECT user FROM mysql.user WHERE host = 'localhost' AND "
	    "user RLIKE '^bg_g[1-9][0-9]{0,9}$' ORDER BY user";
	MYSQL_RES *res;
	MYSQL_ROW row;
	int r = 0, term;
	size_t k;

	*removed = 0;
	if (mysql_real_query(admin, q, sizeof(q) - 1) != 0 ||
	    (res = mysql_store_result(admin)) == NULL)
		return mfail(admin, e, BG_ERR_STORE, "account list");
	while (r == 0 && (row = mysql_fetch_row(res)) != NULL) {
		int64_t g = strtoll(row[0] + 4, NULL, 10);

		for (k = 0; k < nlive; k++)
			if (live[k] == g)
				break;
		if (k < nlive)
			continue;
		if ((r = mariarole_revoke(admin, row[0], 5000, &term, e)) == 0)
			(*removed)++;
	}
	mysql_free_result(res);
	return r;
}
