/*
 * dbtool.c - drives src/db against a real server for the integration
 * tests and the bench, in the shape the host supervisor will: the role's
 * password lives in this process only.
 *
 *   dbtool harden CONNINFO DB
 *   dbtool session CONNINFO DB GRANT TABLES read|write   (lines on stdin)
 *   dbtool repair CONNINFO DB
 *   dbtool patch CONNINFO DB GRANT TABLES FILE EXPECTED-ROWS TAG
 *   dbtool rollback|cleanup CONNINFO DB TAG
 *   dbtool dbapply CONNINFO DB FILE EXPECTED-ROWS TAG   (as a client's runbook does)
 *   dbtool maria-dbapply SOCKET DB FILE EXPECTED-ROWS TAG   (the same on MariaDB)
 *   dbtool maria-drop SOCKET DB TAG   (dbapply_drop of its images)
 *   dbtool maria-rollback SOCKET DB TAG   (dbapply_rollback)
 *   dbtool maria-session SOCKET DB GRANT TABLES read|write  (lines as session)
 *   dbtool maria-repair SOCKET
 *   dbtool maria-bench SOCKET DB  (a MariaDB before-image against the bare UPDATE)
 *   dbtool bench CONNINFO DB N
 *
 * session lines: SQL (run as the role, one statement per line; "ok N" or
 * "error SQLSTATE: message", rows as "row: a|b"), "&SQL" (sent on a
 * second connection and left running), "\connect DB" (log in as the role
 * to another database), "\revoke" (revoke; then what happened to the
 * running query), "\hold" (wait for EOF without revoking: the supervisor
 * "crashes" when the test kills us).
 */
#include "dbapply.h"
#include "err.h"
#include "mariapatch.h"
#include "mariarole.h"
#include "pgpatch.h"
#include "pgrole.h"
#include "fileio.h"
#include "buf.h"
#include "utc.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *conninfo;

static int
die(const char *what, const bg_error *e)
{
	fprintf(stderr, "dbtool: %s: %s\n", what, e->msg);
	return 1;
}

static void
show(PGresult *res)
{
	ExecStatusType st = PQresultStatus(res);

	if (st == PGRES_TUPLES_OK) {
		printf("ok %d\n", PQntuples(res));
		for (int i = 0; i < PQntuples(res) && i < 20; i++) {
			printf("row: ");
			for (int j = 0; j < PQnfields(res); j++)
				printf("%s%s", j ? "|" : "", PQgetvalue(res, i, j));
			printf("\n");
		}
	} else if (st == PGRES_COMMAND_OK) {
		printf("ok %s\n", PQcmdTuples(res)[0] ? PQcmdTuples(res) : "0");
	} else {
		const char *m = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
		const char *s = PQresultErrorField(res, PG_DIAG_SQLSTATE);

		printf("error %s: %s\n", s ? s : "-", m ? m : "?");
	}
}

static int
session(const char *db, int64_t grant, const char *tables, int write)
{
	PGconn *admin = NULL, *c = NULL, *bg = NULL;
	dbgrant g;
	pgrole role;
	bg_error e;
	char line[4096];
	double t0;

	memset(&g, 0, sizeof(g));
	g.grant = grant;
	snprintf(g.database, sizeof(g.database), "%s", db);
	g.write = write;
	g.until = utc_now() + 3600;
	g.conn_limit = 3;
	if (pgrole_grant_tables(&g, tables, &e) != 0)
		return die("tables", &e);
	if (write)
		for (size_t i = 0; i < g.ntables; i++)
			g.privs[i] |= PGROLE_UPDATE | PGROLE_INSERT | PGROLE_DELETE;
	if (pgrole_admin_connect(conninfo, db, &admin, &e) != 0)
		return die("admin", &e);
	t0 = utc_mono();
	if (pgrole_create(admin, &g, &role, &e) != 0)
		return die("create", &e);
	printf("role %s created ms=%.1f\n", role.name, (utc_mono() - t0) * 1000);
	if (pgrole_connect(conninfo, &g, &role, &c, &e) != 0)
		return die("connect", &e);
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin) != NULL) {
		size_t n = strlen(line);

		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (n == 0 || line[0] == '#')
			continue;
		if (line[0] == '&') {
			if (bg == NULL && pgrole_connect(conninfo, &g, &role, &bg, &e) != 0)
				return die("connect", &e);
			printf("%s\n", PQsendQuery(bg, line + 1) ? "sent" : "send failed");
		} else if (strncmp(line, "\\connect ", 9) == 0) {
			dbgrant o = g;
			PGconn *x = NULL;

			snprintf(o.database, sizeof(o.database), "%.63s", line + 9);
			if (pgrole_connect(conninfo, &o, &role, &x, &e) == 0)
				printf("ok connected to %s\n", line + 9);
			else
				printf("error connect: %s\n", e.msg);
			PQfinish(x);
		} else if (strcmp(line, "\\hold") == 0) {
			printf("holding\n");
			fflush(stdout);
			while (fgets(line, sizeof(line), stdin) != NULL)
				;
			return 0;
		} else if (strcmp(line, "\\revoke") == 0) {
			int term, kept;

			t0 = utc_mono();
			if (pgrole_revoke(admin, role.name, 5000, &term, &kept, &e) != 0)
				return die("revoke", &e);
			printf("revoked terminated=%d kept=%d ms=%.1f\n", term, kept,
			    (utc_mono() - t0) * 1000);
			if (bg != NULL) {
				PGresult *res;

				while ((res = PQgetResult(bg)) != NULL) {
					printf("running query: ");
					show(res);
					PQclear(res);
				}
				printf("running connection: %s\n",
				    PQstatus(bg) == CONNECTION_OK ? "alive" : "gone");
			}
		} else {
			PGresult *res = PQexec(c, line);

			show(res);
			PQclear(res);
		}
		fflush(stdout);
	}
	PQfinish(bg);
	PQfinish(c);
	PQfinish(admin);
	pgrole_release(&role);
	return 0;
}

/* a write grant made for the patch, the patch applied, the role revoked */
static int
patch(const char *db, int64_t grant, const char *tables, const char *file, int64_t expect,
    const char *tag)
{
	const char *granted[PGROLE_MAX_TABLES];
	PGconn *admin = NULL, *c = NULL;
	pgpatch_result res;
	sqlcheck chk;
	dbgrant g;
	pgrole role;
	bg_error e;
	buf sql;
	int r, term, kept;

	memset(&g, 0, sizeof(g));
	g.grant = grant;
	snprintf(g.database, sizeof(g.database), "%s", db);
	g.write = 1;
	g.until = utc_now() + 3600;
	buf_init(&sql, SQLCHECK_MAX_INPUT);
	if (fileio_read(file, SQLCHECK_MAX_INPUT, &sql, &e) != 0)
		return die("read", &e);
	if (pgrole_grant_tables(&g, tables, &e) != 0)
		return die("tables", &e);
	for (size_t i = 0; i < g.ntables; i++)
		granted[i] = g.tables[i];
	if (sqlcheck_pg(sql.data, sql.len, NULL, granted, g.ntables, &chk, &e) != 0)
		return die("sql", &e);
	if (pgrole_grant_for_patch(&g, &chk, &e) != 0)
		return die("grant", &e);
	if (pgrole_admin_connect(conninfo, db, &admin, &e) != 0)
		return die("admin", &e);
	if (pgrole_create(admin, &g, &role, &e) != 0)
		return die("create", &e);
	if (pgrole_connect(conninfo, &g, &role, &c, &e) != 0)
		return die("connect", &e);
	r = pgpatch_apply(admin, c, role.name, sql.data, sql.len, &chk, expect, tag, &res, &e);
	for (size_t i = 0; i < res.n; i++)
		printf("statement %zu: %s on %s rows=%lld columns=%s before_sha256=%s\n", i + 1,
		    sqlcheck_kind_name(res.v[i].kind), res.v[i].table, (long long)res.v[i].rows,
		    res.v[i].columns[0] ? res.v[i].columns : "-",
		    res.v[i].before_sha256[0] ? res.v[i].before_sha256 : "-");
	PQfinish(c);
	if (pgrole_revoke(admin, role.name, 5000, &term, &kept, &e) != 0 && r == 0)
		return die("revoke", &e);
	pgrole_release(&role);
	PQfinish(admin);
	sqlcheck_release(&chk);
	buf_release(&sql);
	if (r != 0)
		return die("apply", &e);
	printf("applied rows=%lld\n", (long long)res.rows);
	return 0;
}

static void
mshow(MYSQL *m, int rc)
{
	MYSQL_RES *res;

	if (rc != 0) {
		printf("error %u: %s\n", mysql_errno(m), mysql_error(m));
		return;
	}
	if ((res = mysql_store_result(m)) != NULL) {
		MYSQL_ROW row;
		unsigned nf = mysql_num_fields(res);

		printf("ok %llu\n", (unsigned long long)mysql_num_rows(res));
		while ((row = mysql_fetch_row(res)) != NULL) {
			printf("row: ");
			for (unsigned j = 0; j < nf; j++)
				printf("%s%s", j ? "|" : "", row[j] ? row[j] : "NULL");
			printf("\n");
		}
		mysql_free_result(res);
	} else if (mysql_field_count(m) == 0) {
		printf("ok %llu\n", (unsigned long long)mysql_affected_rows(m));
	} else {
		printf("error %u: %s\n", mysql_errno(m), mysql_error(m));
	}
}

static int
maria_session(const char *sock, const char *db, int64_t grant, const char *tables, int write)
{
	MYSQL *admin = NULL, *c = NULL, *bg = NULL;
	dbgrant g;
	pgrole role;
	bg_error e;
	char line[4096];
	double t0;

	memset(&g, 0, sizeof(g));
	g.grant = grant;
	snprintf(g.database, sizeof(g.database), "%s", db);
	g.write = write;
	g.until = utc_now() + 3600;
	g.conn_limit = 3;
	if (pgrole_grant_tables(&g, tables, &e) != 0)
		return die("tables", &e);
	if (mariarole_admin_connect(sock, &admin, &e) != 0)
		return die("admin", &e);
	t0 = utc_mono();
	if (mariarole_create(admin, &g, &role, &e) != 0)
		return die("create", &e);
	printf("role %s created ms=%.1f\n", role.name, (utc_mono() - t0) * 1000);
	if (mariarole_connect(sock, &g, &role, &c, &e) != 0)
		return die("connect", &e);
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin) != NULL) {
		size_t n = strlen(line);

		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (n == 0 || line[0] == '#')
			continue;
		if (line[0] == '&') {
			if (bg == NULL && mariarole_connect(sock, &g, &role, &bg, &e) != 0)
				return die("connect", &e);
			printf("%s\n", mysql_send_query(bg, line + 1, (unsigned long)(n - 1)) == 0 ?
			    "sent" : "send failed");
		} else if (strncmp(line, "\\connect ", 9) == 0) {
			dbgrant o = g;
			MYSQL *x = NULL;

			snprintf(o.database, sizeof(o.database), "%.63s", line + 9);
			if (mariarole_connect(sock, &o, &role, &x, &e) == 0)
				printf("ok connected to %s\n", line + 9);
			else
				printf("error connect: %s\n", e.msg);
			if (x != NULL)
				mysql_close(x);
		} else if (strcmp(line, "\\hold") == 0) {
			printf("holding\n");
			fflush(stdout);
			while (fgets(line, sizeof(line), stdin) != NULL)
				;
			return 0;
		} else if (strcmp(line, "\\revoke") == 0) {
			int term;

			t0 = utc_mono();
			if (mariarole_revoke(admin, role.name, 5000, &term, &e) != 0)
				return die("revoke", &e);
			printf("revoked terminated=%d ms=%.1f\n", term, (utc_mono() - t0) * 1000);
			if (bg != NULL) {
				printf("running query: ");
				mshow(bg, mysql_read_query_result(bg));
			}
		} else {
			mshow(c, mysql_real_query(c, line, (unsigned long)n));
		}
		fflush(stdout);
	}
	if (bg != NULL)
		mysql_close(bg);
	mysql_close(c);
	mysql_close(admin);
	pgrole_release(&role);
	return 0;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* role creation and revocation-with-a-running-query, N times */
static int
bench(const char *db, int n)
{
	double *mk = calloc((size_t)n, sizeof(double)), *rv = calloc((size_t)n, sizeof(double));
	PGconn *admin = NULL;
	bg_error e;

	if (mk == NULL || rv == NULL || pgrole_admin_connect(conninfo, db, &admin, &e) != 0)
		return die("admin", &e);
	for (int i = 0; i < n; i++) {
		dbgrant g;
		pgrole role;
		PGconn *c = NULL;
		int term, kept;
		double t0;

		memset(&g, 0, sizeof(g));
		g.grant = 900000 + i;
		snprintf(g.database, sizeof(g.database), "%s", db);
		g.until = utc_now() + 3600;
		if (pgrole_grant_tables(&g, "orders", &e) != 0)
			return die("tables", &e);
		t0 = utc_mono();
		if (pgrole_create(admin, &g, &role, &e) != 0)
			return die("create", &e);
		mk[i] = (utc_mono() - t0) * 1000;
		if (pgrole_connect(conninfo, &g, &role, &c, &e) != 0)
			return die("connect", &e);
		PQsendQuery(c, "SELECT pg_sleep(600)");
		t0 = utc_mono();
		if (pgrole_revoke(admin, role.name, 5000, &term, &kept, &e) != 0 || term != 1)
			return die("revoke", &e);
		rv[i] = (utc_mono() - t0) * 1000;
		PQfinish(c);
		pgrole_release(&role);
	}
	/* the before-image of a 10,000-row UPDATE against the bare UPDATE,
	 * alternating: medians, and the median of each round's ratio */
	{
		enum { ROUNDS = 11 };
		double bare[ROUNDS], img[ROUNDS], txn[ROUNDS], rt[ROUNDS], ra[ROUNDS];
		const char *patch = "UPDATE bench_rows SET v = v + 1 WHERE id <= 10000";
		const char *granted[1] = { "public.bench_rows" };
		sqlcheck chk;

		if (pgrole_run(admin, "DROP TABLE IF EXISTS bench_rows; CREATE TABLE bench_rows "
		    "(id int PRIMARY KEY, v int, pad text); INSERT INTO bench_rows SELECT g, g, "
		    "repeat('x', 100) FROM generate_series(1, 20000) g; ANALYZE bench_rows",
		    "bench table", &e) != 0 ||
		    sqlcheck_pg(patch, strlen(patch), NULL, granted, 1, &chk, &e) != 0)
			return die("bench table", &e);
		for (int i = 0; i < ROUNDS; i++) {
			dbgrant g;
			pgrole role;
			PGconn *c = NULL;
			pgpatch_result res;
			char tag[32];
			int term, kept;
			double t0;

			t0 = utc_mono();
			if (pgrole_run(admin, "BEGIN", "b", &e) != 0 ||
			    pgrole_run(admin, patch, "bare", &e) != 0 ||
			    pgrole_run(admin, "COMMIT", "c", &e) != 0)
				return die("bare", &e);
			bare[i] = (utc_mono() - t0) * 1000;
			memset(&g, 0, sizeof(g));
			g.grant = 990000 + i;
			g.write = 1;
			snprintf(g.database, sizeof(g.database), "%s", db);
			g.until = utc_now() + 3600;
			if (pgrole_grant_tables(&g, "bench_rows", &e) != 0 ||
			    pgrole_grant_for_patch(&g, &chk, &e) != 0 ||
			    pgrole_create(admin, &g, &role, &e) != 0 ||
			    pgrole_connect(conninfo, &g, &role, &c, &e) != 0)
				return die("role", &e);
			snprintf(tag, sizeof(tag), "bench_%d", i);
			t0 = utc_mono();
			if (pgpatch_apply(admin, c, role.name, patch, strlen(patch), &chk, 10000, tag,
			    &res, &e) != 0)
				return die("apply", &e);
			img[i] = (utc_mono() - t0) * 1000;
			txn[i] = res.txn_ms;
			rt[i] = txn[i] / bare[i];
			ra[i] = img[i] / bare[i];
			PQfinish(c);
			if (pgrole_revoke(admin, role.name, 5000, &term, &kept, &e) != 0 ||
			    pgpatch_cleanup(admin, tag, &e) != 0)
				return die("cleanup", &e);
			pgrole_release(&role);
		}
		qsort(bare, ROUNDS, sizeof(double), cmp_double);
		qsort(img, ROUNDS, sizeof(double), cmp_double);
		qsort(txn, ROUNDS, sizeof(double), cmp_double);
		qsort(rt, ROUNDS, sizeof(double), cmp_double);
		qsort(ra, ROUNDS, sizeof(double), cmp_double);
		printf("10,000-row UPDATE: bare %.1f ms; the patch transaction (before-image "
		    "FOR UPDATE, UPDATE, its xid) %.1f ms: %.2fx (limit 2x); the whole apply "
		    "(image tables, grants, report digest and columns) %.1f ms: %.2fx "
		    "(medians of %d; medians of each round's ratio: %.2fx, %.2fx)\n",
		    bare[ROUNDS / 2], txn[ROUNDS / 2], txn[ROUNDS / 2] / bare[ROUNDS / 2],
		    img[ROUNDS / 2], img[ROUNDS / 2] / bare[ROUNDS / 2], ROUNDS, rt[ROUNDS / 2],
		    ra[ROUNDS / 2]);
		sqlcheck_release(&chk);
	}
	qsort(mk, (size_t)n, sizeof(double), cmp_double);
	qsort(rv, (size_t)n, sizeof(double), cmp_double);
	printf("role creation: median %.1f ms, p99 %.1f ms (limit 100 ms) over %d\n",
	    mk[n / 2], mk[(n * 99) / 100 < n ? (n * 99) / 100 : n - 1], n);
	printf("revocation to no backend: median %.1f ms, p99 %.1f ms (limit 1000 ms)\n",
	    rv[n / 2], rv[(n * 99) / 100 < n ? (n * 99) / 100 : n - 1]);
	PQfinish(admin);
	free(mk);
	free(rv);
	return 0;
}

static int
mq(MYSQL *m, const char *sql, bg_error *e)
{
	MYSQL_RES *res;

	if (mysql_real_query(m, sql, strlen(sql)) != 0)
		return bg_fail(e, BG_ERR_STORE, "mariadb: %s", mysql_error(m));
	if ((res = mysql_store_result(m)) != NULL)
		mysql_free_result(res);
	return 0;
}

/* the MariaDB before-image of a 10,000-row UPDATE against the bare UPDATE,
 * alternating: medians of 21, and the median of the 21 rounds' ratios
 * (each round's pair runs back to back, so a slow spell of the shared
 * machine weighs on both sides of a ratio) */
static int
maria_bench(const char *sock, const char *db)
{
	enum { ROUNDS = 21 };   /* MariaDB's timings scatter more under load */
	double bare[ROUNDS], img[ROUNDS], txn[ROUNDS], rt[ROUNDS], ra[ROUNDS];
	const char *patch = "UPDATE bench_rows SET v = v + 1 WHERE id <= 10000";
	char granted_s[SQLCHECK_NAME], q[512];
	const char *granted[1] = { granted_s };
	MYSQL *admin = NULL;
	sqlcheck chk;
	bg_error e;

	snprintf(granted_s, sizeof(granted_s), "%s.bench_rows", db);
	if (mariarole_admin_connect(sock, &admin, &e) != 0)
		return die("admin", &e);
	snprintf(q, sizeof(q), "USE `%s`", db);
	if (mq(admin, q, &e) != 0 ||
	    mq(admin, "DROP TABLE IF EXISTS bench_rows", &e) != 0 ||
	    mq(admin, "CREATE TABLE bench_rows (id int PRIMARY KEY, v int, pad varchar(100)) "
	    "ENGINE=InnoDB", &e) != 0 ||
	    mq(admin, "INSERT INTO bench_rows SELECT seq, seq, REPEAT('x', 100) FROM "
	    "seq_1_to_20000", &e) != 0 ||
	    mq(admin, "ANALYZE TABLE bench_rows", &e) != 0 ||
	    sqlcheck_mariadb(patch, strlen(patch), db, granted, 1, &chk, &e) != 0)
		return die("bench table", &e);
	for (int i = 0; i < ROUNDS; i++) {
		dbgrant g;
		pgrole role;
		MYSQL *c = NULL;
		pgpatch_result res;
		char tag[32];
		int term;
		double t0;

		t0 = utc_mono();
		if (mq(admin, "START TRANSACTION", &e) != 0 || mq(admin, patch, &e) != 0 ||
		    mq(admin, "COMMIT", &e) != 0)
			return die("bare", &e);
		bare[i] = (utc_mono() - t0) * 1000;
		memset(&g, 0, sizeof(g));
		g.grant = 990000 + i;
		g.write = 1;
		snprintf(g.database, sizeof(g.database), "%s", db);
		g.until = utc_now() + 3600;
		if (pgrole_grant_tables(&g, granted_s, &e) != 0 ||
		    pgrole_grant_for_patch(&g, &chk, &e) != 0)
			return die("grant", &e);
		g.privs[0] |= PGROLE_SELECT;
		if (mariarole_create(admin, &g, &role, &e) != 0 ||
		    mariarole_connect(sock, &g, &role, &c, &e) != 0)
			return die("account", &e);
		snprintf(tag, sizeof(tag), "bench_%d", i);
		t0 = utc_mono();
		if (mariapatch_apply(admin, c, role.name, patch, strlen(patch), &chk, 10000, tag,
		    &res, &e) != 0)
			return die("apply", &e);
		img[i] = (utc_mono() - t0) * 1000;
		txn[i] = res.txn_ms;
		rt[i] = txn[i] / bare[i];
		ra[i] = img[i] / bare[i];
		mysql_close(c);
		if (mariarole_revoke(admin, role.name, 5000, &term, &e) != 0 ||
		    mariapatch_cleanup(admin, tag, &e) != 0)
			return die("cleanup", &e);
		pgrole_release(&role);
	}
	qsort(bare, ROUNDS, sizeof(double), cmp_double);
	qsort(img, ROUNDS, sizeof(double), cmp_double);
	qsort(txn, ROUNDS, sizeof(double), cmp_double);
	qsort(rt, ROUNDS, sizeof(double), cmp_double);
	qsort(ra, ROUNDS, sizeof(double), cmp_double);
	printf("MariaDB 10,000-row UPDATE: bare %.1f ms; the patch transaction (before-image "
	    "FOR UPDATE, UPDATE, after-digest) %.1f ms: %.2fx (limit 2x); the whole apply "
	    "(image tables, grants, report digest and columns) %.1f ms: %.2fx (medians of %d; "
	    "medians of each round's ratio: %.2fx, %.2fx)\n",
	    bare[ROUNDS / 2], txn[ROUNDS / 2], txn[ROUNDS / 2] / bare[ROUNDS / 2],
	    img[ROUNDS / 2], img[ROUNDS / 2] / bare[ROUNDS / 2], ROUNDS, rt[ROUNDS / 2],
	    ra[ROUNDS / 2]);
	sqlcheck_release(&chk);
	mysql_close(admin);
	return 0;
}

int
main(int argc, char **argv)
{
	PGconn *admin = NULL;
	bg_error e;

	if (argc < 3) {
		fprintf(stderr, "usage: dbtool harden|session|repair|bench CONNINFO DB ...\n");
		return 2;
	}
	conninfo = argv[2];
	if (strcmp(argv[1], "session") == 0 && argc == 7)
		return session(argv[3], strtoll(argv[4], NULL, 10), argv[5],
		    strcmp(argv[6], "write") == 0);
	if (strcmp(argv[1], "maria-session") == 0 && argc == 7)
		return maria_session(argv[2], argv[3], strtoll(argv[4], NULL, 10), argv[5],
		    strcmp(argv[6], "write") == 0);
	if (strcmp(argv[1], "maria-bench") == 0 && argc == 4)
		return maria_bench(argv[2], argv[3]);
	if (strcmp(argv[1], "maria-repair") == 0) {
		MYSQL *m = NULL;
		int removed;

		if (mariarole_admin_connect(argv[2], &m, &e) != 0 ||
		    mariarole_repair(m, NULL, 0, &removed, &e) != 0)
			return die("repair", &e);
		printf("removed %d\n", removed);
		mysql_close(m);
		return 0;
	}
	if (strcmp(argv[1], "patch") == 0 && argc == 9)
		return patch(argv[3], strtoll(argv[4], NULL, 10), argv[5], argv[6],
		    strtoll(argv[7], NULL, 10), argv[8]);
	if (strcmp(argv[1], "maria-drop") == 0 && argc == 5) {
		dbapply_target t = { DBAPPLY_MARIADB, argv[2], argv[3] };

		if (dbapply_drop(&t, argv[4], &e) != 0)
			return die("maria-drop", &e);
		printf("cleaned %s\n", argv[4]);
		return 0;
	}
	if (strcmp(argv[1], "maria-rollback") == 0 && argc == 5) {
		dbapply_target t = { DBAPPLY_MARIADB, argv[2], argv[3] };
		int64_t restored, changed;

		if (dbapply_rollback(&t, argv[4], &restored, &changed, &e) != 0) {
			printf("changed=%lld\n", (long long)changed);
			return die("maria-rollback", &e);
		}
		printf("restored rows=%lld\n", (long long)restored);
		return 0;
	}
	if ((strcmp(argv[1], "dbapply") == 0 || strcmp(argv[1], "maria-dbapply") == 0) &&
	    argc == 7) {
		dbapply_target t = { argv[1][0] == 'm' ? DBAPPLY_MARIADB : DBAPPLY_POSTGRES,
			conninfo, argv[3] };
		dbapply_result res;
		sqlcheck chk;
		buf sql;
		int r;

		buf_init(&sql, SQLCHECK_MAX_INPUT);
		if (fileio_read(argv[4], SQLCHECK_MAX_INPUT, &sql, &e) != 0 ||
		    dbapply_check(&t, buf_cstr(&sql), sql.len, 0, &chk, &e) != 0)
			return die("dbapply", &e);
		r = dbapply_patch(&t, buf_cstr(&sql), sql.len, &chk, strtoll(argv[5], NULL, 10),
		    argv[6], "bg_rbtool", &res, &e);
		sqlcheck_release(&chk);
		buf_release(&sql);
		if (r != 0)
			return die("dbapply", &e);
		printf("applied rows=%lld\n", (long long)res.rows);
		return 0;
	}
	if (strcmp(argv[1], "bench") == 0 && argc == 5)
		return bench(argv[3], atoi(argv[4]));
	if (pgrole_admin_connect(conninfo, argv[3], &admin, &e) != 0)
		return die("admin", &e);
	if (strcmp(argv[1], "harden") == 0) {
		if (pgrole_harden(admin, &e) != 0)
			return die("harden", &e);
		printf("hardened %s\n", argv[3]);
	} else if (strcmp(argv[1], "rollback") == 0 && argc == 5) {
		int64_t restored, changed;

		if (pgpatch_rollback(admin, argv[4], &restored, &changed, &e) != 0) {
			printf("changed=%lld\n", (long long)changed);
			return die("rollback", &e);
		}
		printf("restored rows=%lld\n", (long long)restored);
	} else if (strcmp(argv[1], "cleanup") == 0 && argc == 5) {
		if (pgpatch_cleanup(admin, argv[4], &e) != 0)
			return die("cleanup", &e);
		printf("cleaned %s\n", argv[4]);
	} else if (strcmp(argv[1], "repair") == 0) {
		int removed;

		if (pgrole_repair(admin, NULL, 0, &removed, &e) != 0)
			return die("repair", &e);
		printf("removed %d\n", removed);
	} else {
		return 2;
	}
	PQfinish(admin);
	return 0;
}
