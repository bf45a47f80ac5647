/*
 * gate-sql.c - a db grant on its host: `ssh ACCOUNT@HOST sql`.
 *
 * The database is reached only through the supervisor.  gate.conf names
 * the target (db-postgres: a libpq conninfo for the local server's unix
 * socket, without a password; db-postgres-as: the OS user the supervisor
 * connects as, mapped by peer authentication to a role that can create
 * roles).  For a session of grant N the serving process:
 *
 *   1. connects as that admin, to the grant's database, and takes the
 *      advisory lock (GATE_SQL_LOCK, N): one open session per grant, a
 *      second one refused at once; the lock is what tells a live grant
 *      role from a leftover (it goes with the connection, whoever kills
 *      the process);
 *   2. hardens the database (pgrole_harden: no CONNECT/TEMP/large objects
 *      from PUBLIC), removes a leftover bg_gN, and makes role bg_gN from
 *      the certificate's scope: SELECT on the scope's tables only, its
 *      random password held in this process alone (pgrole.h);
 *   3. reads statements from standard input - a line console, not psql:
 *      a statement ends with ';' at the end of a line; lines starting
 *      with '\' are no commands (only \q ends the session), so psql's
 *      \!, \o |, \copy ... program, \g |, \setenv do not exist here;
 *   4. checks each with sqlcheck (the PostgreSQL parser): only SELECT on
 *      the grant's tables runs; everything else is refused and recorded;
 *   5. runs it on the role's connection in single-row mode, streaming
 *      rows back (control bytes shown as '?'), and records it in the host
 *      log, redacted by the scanner, with its row count and duration;
 *   6. every GATE_TICK_MS, also while a statement runs, asks whether the
 *      grant has ended (expiry, the KRL, the gate gone): then the role is
 *      revoked - NOLOGIN, privileges gone, every backend terminated,
 *      dropped - and the session ends.  At the end of a session the role
 *      is revoked the same way.
 *
 * MariaDB (db-mariadb: the server's unix socket; engine mariadb or mysql)
 * goes the same way with mariarole: root by unix_socket as the admin,
 * GET_LOCK('breakglass_gN', 0) as the lock, sqlcheck_mariadb as the
 * check, mysql_send_query and the socket polled for the reply, and
 * mariapatch for apply (its before-images in the server's `breakglass`
 * database).
 *
 * A crash leaves a role whose password died with the process: hostd
 * runs gate_sql_repair at its start and every GATE_SQL_REPAIR_S, which
 * revokes every bg_gN no session holds the lock of.
 */
#include "gate.h"
#include "gate-int.h"
#include "argv.h"
#include "consent.h"
#include "fileio.h"
#include "grantscope.h"
#include "hash.h"
#include "kv.h"
#include "mariapatch.h"
#include "mariarole.h"
#include "pgpatch.h"
#include "pgrole.h"
#include "pqload.h"
#include "scan.h"
#include "sqlcheck.h"
#include "testhook.h"
#include "utc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

/* the advisory lock class of grant sessions ("bg" and 1) */
#define GATE_SQL_LOCK 0x62670001
/*
 * ... and of the repair's turn at a grant ("bg" and 2): the repair holds
 * (GATE_SQL_TURN, N) around its try of (GATE_SQL_LOCK, N); a session
 * takes the turn, waiting at most GATE_SQL_TURN_WAIT_MS for a repair to
 * finish, then tries the grant's lock once - held, it is another
 * session's, refused at once - and gives the turn back.
 */
#define GATE_SQL_TURN 0x62670002
#define GATE_SQL_TURN_WAIT_MS 3000
#define GATE_SQL_MAX_LINE (64u * 1024)
/* what the host log keeps of a statement (redacted) */
#define GATE_SQL_RECORD 2048

typedef struct sqlsess {
	gate *g;
	int maria;              /* MariaDB (madmin, mconn) instead of PostgreSQL */
	PGconn *admin, *conn;
	MYSQL *madmin, *mconn;
	dbgrant dg;
	pgrole role;
	int have_role;
	const char *granted[PGROLE_MAX_TABLES];
	char inbuf[GATE_SQL_MAX_LINE];
	size_t inlen;
	int eof;
	int interactive;
	int cut;
	int int_end;            /* Ctrl-C at the prompt ended the session */
	int cancels;            /* Ctrl-Cs during the running statement */
	int failed;             /* a statement was refused or failed */
	unsigned long nstmts;
} sqlsess;

/* Connect as the supervisor's admin: root, or the OS user db-postgres-as
 * names (peer authentication sees the effective uid). */
static int
admin_connect(gate *g, const char *conninfo, const char *as, const char *db, PGconn **out,
    bg_error *e)
{
	struct passwd *pw = NULL;
	int r;

	if (as != NULL && (pw = getpwnam(as)) == NULL)
		return bg_fail(e, BG_ERR_INVALID, "gate config: db-postgres-as: no OS user '%.64s'",
		    as);
	if (g != NULL)
		gate_priv_up(g);
	if (pw != NULL && setresuid((uid_t)-1, pw->pw_uid, (uid_t)-1) != 0)
		_exit(1);
	r = pgrole_admin_connect(conninfo, db, out, e);
	if (pw != NULL && setresuid((uid_t)-1, 0, (uid_t)-1) != 0)
		_exit(1);
	if (g != NULL)
		gate_priv_down(g);
	return r;
}

/* One value of a query with one row and column into out; 0 or BG_ERR_STORE. */
static int
query_one(PGconn *c, const char *sql, char *out, size_t n, bg_error *e)
{
	PGresult *res = PQexec(c, sql);
	int r = 0;

	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
		r = bg_fail(e, BG_ERR_STORE, "postgres: %s", res ? PQresultErrorMessage(res) :
		    PQerrorMessage(c));
	else
		snprintf(out, n, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return r;
}

/* The same on MariaDB (NULL is ""); 0 or BG_ERR_STORE (mysql_error says). */
static int
maria_one(MYSQL *m, const char *sql, char *out, size_t n)
{
	MYSQL_RES *res;
	MYSQL_ROW row;

	if (mysql_real_query(m, sql, (unsigned long)strlen(sql)) != 0 ||
	    (res = mysql_store_result(m)) == NULL)
		return BG_ERR_STORE;
	row = mysql_fetch_row(res);
	snprintf(out, n, "%s", row != NULL && row[0] != NULL ? row[0] : "");
	mysql_free_result(res);
	return 0;
}

/* Text for a person: control bytes become '?'. */
static int
put_safe(buf *b, const char *s)
{
	int r = 0;

	for (; *s && r == 0; s++)
		r = buf_putc(b, ((unsigned char)*s < 0x20 || *s == 0x7f) ? '?' : *s);
	return r;
}

/* The statement as the host log keeps it: redacted, controls safe, cut short. */
static void
redact_stmt(const char *s, size_t n, char *out, size_t outn)
{
	buf b;

	buf_init(&b, 4 * GATE_SQL_RECORD);
	if (n > GATE_SQL_RECORD)
		n = GATE_SQL_RECORD;
	if (scan_redact(s, n, &b, NULL) != 0)
		snprintf(out, outn, "[unrecordable]");
	else
		gate_safe_name(buf_cstr(&b), out, outn);
	buf_release(&b);
}

static void
record_stmt(sqlsess *s, const char *sql, size_t n, const char *decision, const char *reason,
    int64_t rows, double ms, const char *sqlstate)
{
	char text[GATE_SQL_RECORD + 64], nrows[32], dur[32];
	const char *extra[] = { "sql", text, "rows", nrows, "ms", dur, "sqlstate",
		sqlstate ? sqlstate : "", NULL };

	redact_stmt(sql, n, text, sizeof(text));
	snprintf(nrows, sizeof(nrows), "%lld", (long long)rows);
	snprintf(dur, sizeof(dur), "%.1f", ms);
	if (sqlstate == NULL)
		extra[6] = NULL;
	gate_record_with(s->g, "gate.sql", decision, reason, -1, extra);
}

/* Revoke the role (the cut, or the end of the session); 0 or BG_ERR_*. */
static int
drop_role(sqlsess *s, int *terminated, bg_error *e)
{
	int kept = 0, r;

	*terminated = 0;
	if (!s->have_role)
		return 0;
	r = s->maria ? mariarole_revoke(s->madmin, s->role.name, 5000, terminated, e) :
	    pgrole_revoke(s->admin, s->role.name, 5000, terminated, &kept, e);
	if (r == 0)
		s->have_role = 0;
	return r;
}

/* The grant ended: revoke, say so, record it. */
static void
cut(sqlsess *s)
{
	gate *g = s->g;
	bg_error e;
	char why[300];
	int term = 0, r;
	double t0 = utc_mono();

	s->cut = 1;
	bg_error_clear(&e);
	r = drop_role(s, &term, &e);
	if (r == 0)
		snprintf(why, sizeof(why), "%s: role %s revoked, %d backend(s) ended in %.0f ms",
		    gate_end_reason(g), s->role.name, term, (utc_mono() - t0) * 1000);
	else
		snprintf(why, sizeof(why), "%s: revoking role %s failed (%.200s); hostd's repair "
		    "removes it", gate_end_reason(g), s->role.name, e.msg);
	fprintf(stderr, "%sbreakglass: grant G-%lld %s: the database session ends (%s)\n",
	    s->interactive ? "\r\n" : "", (long long)g->grant, gate_end_word(g), why);
	gate_record(g, "gate.end", "cut", why, 1);
}

/*
 * Wait for fd to be readable while checking the grant every tick, and at
 * once when the gate sends a byte (Ctrl-C): 1 readable, 0 the grant ended
 * (cut done), 2 Ctrl-C on the responder's terminal (counted off).
 */
static int
wait_fd(sqlsess *s, int fd)
{
	for (;;) {
		struct pollfd pf[2] = { { .fd = fd, .events = POLLIN },
			{ .fd = s->g->env->client, .events = POLLIN } };
		int n = poll(pf, s->g->env->client >= 0 ? 2 : 1, GATE_TICK_MS);

		if (gate_grant_ended(s->g)) {
			cut(s);
			return 0;
		}
		if (s->g->interrupts > 0) {
			s->g->interrupts--;
			return 2;
		}
		if (n > 0 && (pf[0].revents & (POLLIN | POLLHUP | POLLERR)))
			return 1;
		if (n < 0 && errno != EINTR)
			return 1;
	}
}

/* Ctrl-C at the prompt (or a second one while a statement runs): the
 * session ends as with \q */
static void
interrupt_end(sqlsess *s)
{
	static const char m[] = "\r\nbreakglass: Ctrl-C: the database session ends\r\n";

	s->int_end = 1;
	(void)fileio_write_full(STDERR_FILENO, m, sizeof(m) - 1);
}

/* Ctrl-C while a statement runs: ask the server to cancel it (PostgreSQL's
 * cancel request; MariaDB's KILL QUERY from the supervisor's connection);
 * the statement ends with the server's error and the session goes on */
static void
interrupt_stmt(sqlsess *s)
{
	static const char m[] = "\r\nbreakglass: Ctrl-C: cancelling the statement (Ctrl-C "
	    "again or Ctrl-D at the prompt ends the session)\r\n";
	char err[256];

	(void)fileio_write_full(STDERR_FILENO, m, sizeof(m) - 1);
	if (s->maria) {
		char q[64];

		snprintf(q, sizeof(q), "KILL QUERY %lu", mysql_thread_id(s->mconn));
		if (mysql_real_query(s->madmin, q, (unsigned long)strlen(q)) != 0)
			syslog(LOG_WARNING, "breakglass: G-%lld: KILL QUERY failed: %s",
			    (long long)s->g->grant, mysql_error(s->madmin));
	} else {
		PGcancel *cn = PQgetCancel(s->conn);

		if (cn == NULL || !PQcancel(cn, err, (int)sizeof(err)))
			syslog(LOG_WARNING, "breakglass: G-%lld: cancel request failed",
			    (long long)s->g->grant);
		PQfreeCancel(cn);
	}
}

/*
 * The next line of standard input into line (without its newline): 1, or
 * 0 at the end of input, -1 when the grant ended or a line is too long.
 */
static int
next_line(sqlsess *s, char *line, size_t n)
{
	for (;;) {
		char *nl = memchr(s->inbuf, '\n', s->inlen);
		ssize_t got;

		if (nl != NULL || (s->eof && s->inlen > 0)) {
			size_t l = nl ? (size_t)(nl - s->inbuf) : s->inlen;

			if (l >= n)
				return -1;
			memcpy(line, s->inbuf, l);
			line[l] = '\0';
			if (l > 0 && line[l - 1] == '\r')
				line[l - 1] = '\0';
			l = nl ? l + 1 : l;
			memmove(s->inbuf, s->inbuf + l, s->inlen - l);
			s->inlen -= l;
			return 1;
		}
		if (s->eof)
			return 0;
		if (s->inlen == sizeof(s->inbuf)) {
			fprintf(stderr, "breakglass: refused: a line longer than %u bytes\n",
			    GATE_SQL_MAX_LINE);
			return -1;
		}
		/* the statements answered so far are in the host log before
		 * the next input is waited for (their records are batched) */
		gate_record_flush(s->g);
		switch (wait_fd(s, STDIN_FILENO)) {
		case 0:
			return -1;
		case 2:
			interrupt_end(s);
			return 0;
		}
		got = read(STDIN_FILENO, s->inbuf + s->inlen, sizeof(s->inbuf) - s->inlen);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			s->eof = 1;
		else
			s->inlen += (size_t)got;
	}
}

/* Write b to standard output and empty it; 0 or BG_ERR_IO. */
static int
flush_out(sqlsess *s, buf *b)
{
	int r = b->len ? gate_write(s->g, STDOUT_FILENO, b->data, b->len) : 0;

	buf_reset(b);
	return r;
}

/*
 * Run one checked statement on the role's connection, streaming its rows.
 * 0 when it ran, 1 when the server refused it, -1 when the session ends
 * (cut, or the connection or the output is gone).
 */
static int
run_stmt(sqlsess *s, const char *sql, size_t n)
{
	char *text = strndup(sql, n);
	char state[8] = "";
	double t0 = utc_mono();
	int64_t rows = 0;
	int header = 0, ret = 0, cmd_ok = 0;
	char err[512] = "";
	PGresult *res;
	buf out;

	if (text == NULL)
		return -1;
	s->cancels = 0;
	buf_init(&out, 1024u * 1024 * 1024);
	/* the extended protocol: one statement per message, whatever the text
	 * holds (the simple protocol would run a second one) */
	if (!PQsendQueryParams(s->conn, text, 0, NULL, NULL, NULL, NULL, 0) ||
	    !PQsetSingleRowMode(s->conn)) {
		snprintf(err, sizeof(err), "%s", PQerrorMessage(s->conn));
		ret = -1;
		goto done;
	}
	for (;;) {
		while (PQisBusy(s->conn)) {
			int w = wait_fd(s, PQsocket(s->conn));

			if (w == 0 || (w == 2 && s->cancels > 0)) {
				if (w == 2)
					interrupt_end(s);
				ret = -1;
				goto done;
			}
			if (w == 2) {
				s->cancels++;
				interrupt_stmt(s);
				continue;
			}
			if (!PQconsumeInput(s->conn)) {
				snprintf(err, sizeof(err), "%s", PQerrorMessage(s->conn));
				ret = -1;
				goto done;
			}
		}
		if ((res = PQgetResult(s->conn)) == NULL)
			break;
		switch (PQresultStatus(res)) {
		case PGRES_SINGLE_TUPLE:
		case PGRES_TUPLES_OK:
			if (!header) {
				for (int j = 0; j < PQnfields(res); j++) {
					(void)buf_puts(&out, j ? "|" : "");
					(void)put_safe(&out, PQfname(res, j));
				}
				(void)buf_putc(&out, '\n');
				header = 1;
			}
			for (int i = 0; i < PQntuples(res); i++, rows++) {
				for (int j = 0; j < PQnfields(res); j++) {
					(void)buf_puts(&out, j ? "|" : "");
					(void)put_safe(&out, PQgetvalue(res, i, j));
				}
				(void)buf_putc(&out, '\n');
			}
			if (out.len >= 64 * 1024 && flush_out(s, &out) != 0)
				ret = -1;
			break;
		case PGRES_COMMAND_OK:
			cmd_ok = 1;
			break;
		default: {
			const char *m = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
			const char *st = PQresultErrorField(res, PG_DIAG_SQLSTATE);

			snprintf(state, sizeof(state), "%s", st ? st : "XX000");
			snprintf(err, sizeof(err), "%s", m ? m : PQresultErrorMessage(res));
			ret = ret ? ret : 1;
			break;
		}
		}
		PQclear(res);
	}
	if (PQstatus(s->conn) != CONNECTION_OK && ret == 0)
		ret = -1;
done:
	if (ret == 0) {
		if (header)
			(void)buf_printf(&out, "(%lld row%s)\n", (long long)rows, rows == 1 ? "" : "s");
		else if (cmd_ok)
			(void)buf_puts(&out, "(done)\n");
	}
	if (flush_out(s, &out) != 0 && ret == 0)
		ret = -1;
	if (err[0]) {
		size_t l = strlen(err);
		buf m;

		while (l > 0 && (err[l - 1] == '\n' || err[l - 1] == ' '))
			err[--l] = '\0';
		buf_init(&m, 4096);
		(void)buf_printf(&m, "ERROR: %s%s", state, state[0] ? ": " : "");
		(void)put_safe(&m, err);
		(void)buf_putc(&m, '\n');
		(void)fileio_write_full(STDERR_FILENO, m.data, m.len);
		buf_release(&m);
	}
	if (!s->cut)
		record_stmt(s, sql, n, ret == 0 ? "allow" : "error", err[0] ? err : NULL, rows,
		    (utc_mono() - t0) * 1000, state[0] ? state : NULL);
	buf_release(&out);
	free(text);
	return ret;
}

/*
 * run_stmt on MariaDB: the statement sent alone (no multi-statement
 * flag: one statement per query), the reply waited for with the grant
 * checked every tick, then the rows streamed (mysql_use_result).
 */
static int
run_stmt_maria(sqlsess *s, const char *sql, size_t n)
{
	double t0 = utc_mono();
	int64_t rows = 0;
	int ret = 0, header = 0;
	char err[512] = "", state[16] = "";
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	buf out;

	s->cancels = 0;
	buf_init(&out, 1024u * 1024 * 1024);
	if (mysql_send_query(s->mconn, sql, (unsigned long)n) != 0) {
		snprintf(err, sizeof(err), "%s", mysql_error(s->mconn));
		ret = -1;
		goto done;
	}
	for (;;) {
		int w = wait_fd(s, (int)mysql_get_socket(s->mconn));

		if (w == 1)
			break;
		if (w == 0 || s->cancels > 0) {
			if (w == 2)
				interrupt_end(s);
			ret = -1;
			goto done;
		}
		s->cancels++;
		interrupt_stmt(s);
	}
	if (mysql_read_query_result(s->mconn) != 0) {
		snprintf(state, sizeof(state), "%u", mysql_errno(s->mconn));
		snprintf(err, sizeof(err), "%s", mysql_error(s->mconn));
		ret = mysql_errno(s->mconn) >= 2000 ? -1 : 1;  /* client errors: the link is gone */
		goto done;
	}
	if ((res = mysql_use_result(s->mconn)) != NULL) {
		unsigned nf = mysql_num_fields(res);

		for (unsigned j = 0; j < nf; j++) {
			MYSQL_FIELD *f = mysql_fetch_field_direct(res, j);

			(void)buf_puts(&out, j ? "|" : "");
			(void)put_safe(&out, f && f->name ? f->name : "?");
		}
		(void)buf_putc(&out, '\n');
		header = 1;
		while ((row = mysql_fetch_row(res)) != NULL) {
			for (unsigned j = 0; j < nf; j++) {
				(void)buf_puts(&out, j ? "|" : "");
				(void)put_safe(&out, row[j] ? row[j] : "");
			}
			(void)buf_putc(&out, '\n');
			rows++;
			if (out.len >= 64 * 1024 && flush_out(s, &out) != 0) {
				ret = -1;
				break;
			}
		}
		if (mysql_errno(s->mconn) != 0) {
			snprintf(state, sizeof(state), "%u", mysql_errno(s->mconn));
			snprintf(err, sizeof(err), "%s", mysql_error(s->mconn));
			ret = ret ? ret : 1;
		}
		mysql_free_result(res);
	} else if (mysql_field_count(s->mconn) != 0) {
		snprintf(state, sizeof(state), "%u", mysql_errno(s->mconn));
		snprintf(err, sizeof(err), "%s", mysql_error(s->mconn));
		ret = 1;
	}
done:
	if (ret == 0)
		(void)buf_printf(&out, header ? "(%lld row%s)\n" : "(done)\n", (long long)rows,
		    rows == 1 ? "" : "s");
	if (flush_out(s, &out) != 0 && ret == 0)
		ret = -1;
	if (err[0] && !s->cut) {
		buf m;

		buf_init(&m, 4096);
		(void)buf_printf(&m, "ERROR: %s%s", state, state[0] ? ": " : "");
		(void)put_safe(&m, err);
		(void)buf_putc(&m, '\n');
		(void)fileio_write_full(STDERR_FILENO, m.data, m.len);
		buf_release(&m);
	}
	if (!s->cut)
		record_stmt(s, sql, n, ret == 0 ? "allow" : "error", err[0] ? err : NULL, rows,
		    (utc_mono() - t0) * 1000, state[0] ? state : NULL);
	buf_release(&out);
	return ret;
}

/* The statements of one input (ending with ';'): checked, then run. 0, or
 * -1 when the session ends. */
static int
run_input(sqlsess *s, const char *sql, size_t n)
{
	sqlcheck c;
	bg_error e;
	size_t i;
	int r;

	s->nstmts++;
	bg_error_clear(&e);
	r = s->maria ? sqlcheck_mariadb(sql, n, s->dg.database, s->granted, s->dg.ntables, &c, &e) :
	    sqlcheck_pg(sql, n, "public", s->granted, s->dg.ntables, &c, &e);
	if (r != 0) {
		fprintf(stderr, "breakglass: refused: %s\n", e.msg);
		record_stmt(s, sql, n, "refuse", e.msg, 0, 0, NULL);
		s->failed = 1;
		return 0;
	}
	for (i = 0; i < c.n; i++) {
		const sqlcheck_stmt *st = &c.v[i];
		char why[512];

		if (st->kind == SQLCHECK_SELECT && !st->refused && !st->destructive)
			continue;
		snprintf(why, sizeof(why), "statement %zu (%s): a db grant's sql session runs only "
		    "SELECT on the grant's tables (%s%s); %s%s", i + 1,
		    sqlcheck_kind_name(st->kind), s->dg.tables[0], s->dg.ntables > 1 ? ", ..." : "",
		    st->why[0] ? st->why : "changes go through an approved plan ('apply')", "");
		fprintf(stderr, "breakglass: refused: %s\n", why);
		record_stmt(s, sql, n, "refuse", why, 0, 0, NULL);
		s->failed = 1;
		sqlcheck_release(&c);
		return 0;
	}
	for (i = 0; i < c.n; i++) {
		r = s->maria ? run_stmt_maria(s, sql + c.v[i].off, c.v[i].len) :
		    run_stmt(s, sql + c.v[i].off, c.v[i].len);
		if (r < 0) {
			sqlcheck_release(&c);
			return -1;
		}
		if (r > 0) {
			s->failed = 1;
			break;
		}
	}
	sqlcheck_release(&c);
	return 0;
}

/* Read and run statements until the end of input, \q or the cut. */
static int
console(sqlsess *s)
{
	char line[GATE_SQL_MAX_LINE];
	buf stmt;
	int r = 0;

	buf_init(&stmt, SQLCHECK_MAX_INPUT);
	for (;;) {
		size_t l;

		if (s->interactive) {
			char p[96];

			snprintf(p, sizeof(p), "%.63s%s ", s->dg.database, stmt.len ? "->" : "=>");
			(void)fileio_write_full(STDOUT_FILENO, p, strlen(p));
		}
		if ((r = next_line(s, line, sizeof(line))) <= 0)
			break;
		l = strspn(line, " \t");
		if (stmt.len == 0 && line[l] == '\0')
			continue;
		if (stmt.len == 0 && line[l] == '\\') {
			if (strcmp(line + l, "\\q") == 0) {
				r = 0;
				break;
			}
			fprintf(stderr, "breakglass: refused: '%.16s': this console runs SQL only, it "
			    "has no backslash commands (\\q ends it)\n", line + l);
			record_stmt(s, line, strlen(line), "refuse", "backslash command", 0, 0, NULL);
			s->failed = 1;
			continue;
		}
		if (buf_puts(&stmt, line) != 0 || buf_putc(&stmt, '\n') != 0) {
			fprintf(stderr, "breakglass: refused: a statement longer than %u bytes\n",
			    SQLCHECK_MAX_INPUT);
			s->failed = 1;
			buf_reset(&stmt);
			continue;
		}
		/* a statement ends with ';' at the end of a line */
		l = strlen(line);
		while (l > 0 && (line[l - 1] == ' ' || line[l - 1] == '\t'))
			l--;
		if (l == 0 || line[l - 1] != ';')
			continue;
		r = run_input(s, stmt.data, stmt.len);
		buf_reset(&stmt);
		if (r < 0)
			break;
	}
	if (r == 0 && !s->cut && !s->int_end && stmt.len > 0 && strspn(buf_cstr(&stmt), " \t\n") < stmt.len)
		r = run_input(s, stmt.data, stmt.len);
	buf_release(&stmt);
	return s->cut ? -1 : r;
}

/*
 * The common start of a db request: the grant's tables from the scope,
 * the admin connection, the grant's lock (one session at a time), the
 * database hardened and a leftover role of the grant removed.  0, or the
 * request's status after a refusal.
 */
static int
session_open(gate *g, sqlsess *s)
{
	bg_error e;
	buf tables;
	const char *engine = kv_get(&g->scope_doc, "engine"), *db = kv_get(&g->scope_doc, "database");
	char v[16], u[16], q[128], name[32];
	size_t i;
	int r, term, kept, waited;

	s->maria = engine != NULL && (strcmp(engine, "mariadb") == 0 || strcmp(engine, "mysql") == 0);
	if (engine != NULL && strcmp(engine, "postgresql") != 0 && !s->maria)
		return gate_refuse(g, "grant G-%lld is for engine '%.32s': this host serves "
		    "PostgreSQL and MariaDB grants only", (long long)g->grant, engine);
	if (!s->maria && g->db_pg == NULL)
		return gate_refuse(g, "this host has no PostgreSQL target: as root, run breakglass "
		    "host setup ... --db-postgres 'host=/run/postgresql port=5432 user=postgres'");
	if (s->maria && g->db_maria == NULL)
		return gate_refuse(g, "this host has no MariaDB target: as root, run breakglass "
		    "host setup ... --db-mariadb /run/mysqld/mysqld.sock");
	if (db == NULL)
		return gate_refuse(g, "grant G-%lld names no database", (long long)g->grant);
	s->g = g;
	s->interactive = isatty(STDIN_FILENO);
	bg_error_clear(&e);
	s->dg.grant = g->grant;
	s->dg.until = (int64_t)g->c.valid_before;
	snprintf(s->dg.database, sizeof(s->dg.database), "%.63s", db);
	buf_init(&tables, 64 * 1024);
	for (i = 0; i < g->scope_doc.n; i++)
		if (strcmp(g->scope_doc.items[i].key, "table") == 0)
			(void)buf_printf(&tables, "%s%s", tables.len ? "," : "",
			    g->scope_doc.items[i].value);
	r = pgrole_grant_tables(&s->dg, buf_cstr(&tables), &e);
	buf_release(&tables);
	if (r != 0)
		return gate_refuse(g, "grant G-%lld: %s", (long long)g->grant, e.msg);
	for (i = 0; i < s->dg.ntables; i++) {
		/* MariaDB: the grant's database holds the tables ("public." is the
		 * unqualified form) */
		if (s->maria && strncmp(s->dg.tables[i], "public.", 7) == 0) {
			char t[SQLCHECK_NAME];

			snprintf(t, sizeof(t), "%s.%s", s->dg.database, s->dg.tables[i] + 7);
			memcpy(s->dg.tables[i], t, sizeof(t));
		}
		s->granted[i] = s->dg.tables[i];
	}
	snprintf(name, sizeof(name), "bg_g%lld", (long long)g->grant);
	if (s->maria) {
		gate_priv_up(g);   /* root by unix_socket */
		r = mariarole_admin_connect(g->db_maria, &s->madmin, &e);
		gate_priv_down(g);
		if (r != 0)
			return gate_refuse(g, "the database target is not usable: %s", e.msg);
		/* the turn (a repair of the grant may hold it a moment), then the
		 * grant's lock at once (GATE_SQL_TURN) */
		snprintf(q, sizeof(q), "SELECT GET_LOCK('breakglass_turn_g%lld', %d)",
		    (long long)g->grant, GATE_SQL_TURN_WAIT_MS / 1000);
		if ((r = maria_one(s->madmin, q, v, sizeof(v))) != 0)
			return gate_refuse(g, "the database target is not usable: %s",
			    mysql_error(s->madmin));
		if (strcmp(v, "1") != 0)
			return gate_refuse(g, "grant G-%lld: this host's repair of a leftover "
			    "account is still running: try again in a moment", (long long)g->grant);
		snprintf(q, sizeof(q), "SELECT GET_LOCK('breakglass_g%lld', 0)", (long long)g->grant);
		r = maria_one(s->madmin, q, v, sizeof(v));
		snprintf(q, sizeof(q), "SELECT RELEASE_LOCK('breakglass_turn_g%lld')",
		    (long long)g->grant);
		if (r != 0 || maria_one(s->madmin, q, u, sizeof(u)) != 0)
			return gate_refuse(g, "the database target is not usable: %s",
			    mysql_error(s->madmin));
		if (strcmp(v, "1") != 0)
			return gate_refuse(g, "grant G-%lld already has an open database session on "
			    "this host: end it first (one session per grant)", (long long)g->grant);
		if ((r = mariarole_revoke(s->madmin, name, 5000, &term, &e)) != 0)
			return gate_refuse(g, "cannot prepare the database: %s", e.msg);
		return 0;
	}
	if ((r = admin_connect(g, g->db_pg, g->db_pg_as, s->dg.database, &s->admin, &e)) != 0)
		return gate_refuse(g, "the database target is not usable: %s", e.msg);
	/* hostd's repair holds the grant's turn while it revokes a leftover
	 * role: wait that out (GATE_SQL_TURN_WAIT_MS); then the grant's lock
	 * held is a second session, refused at once */
	snprintf(q, sizeof(q), "SELECT pg_try_advisory_lock(%d, %lld)", GATE_SQL_TURN,
	    (long long)g->grant);
	for (waited = 0;; waited += 20) {
		if ((r = query_one(s->admin, q, v, sizeof(v), &e)) != 0)
			return gate_refuse(g, "the database target is not usable: %s", e.msg);
		if (strcmp(v, "t") == 0 || waited >= GATE_SQL_TURN_WAIT_MS)
			break;
		usleep(20000);
	}
	if (strcmp(v, "t") != 0)
		return gate_refuse(g, "grant G-%lld: this host's repair of a leftover role is "
		    "still running: try again in a moment", (long long)g->grant);
	snprintf(q, sizeof(q), "SELECT pg_try_advisory_lock(%d, %lld)", GATE_SQL_LOCK,
	    (long long)g->grant);
	r = query_one(s->admin, q, v, sizeof(v), &e);
	snprintf(q, sizeof(q), "SELECT pg_advisory_unlock(%d, %lld)", GATE_SQL_TURN,
	    (long long)g->grant);
	if (r != 0 || (r = query_one(s->admin, q, u, sizeof(u), &e)) != 0)
		return gate_refuse(g, "the database target is not usable: %s", e.msg);
	if (strcmp(v, "t") != 0)
		return gate_refuse(g, "grant G-%lld already has an open database session on this "
		    "host: end it first (one session per grant)", (long long)g->grant);
	/* a role of this grant that no session holds is a leftover */
	if ((r = pgrole_harden(s->admin, &e)) != 0 ||
	    (r = pgrole_revoke(s->admin, name, 5000, &term, &kept, &e)) != 0)
		return gate_refuse(g, "cannot prepare the database: %s", e.msg);
	return 0;
}

/* Make the role for s->dg and connect as it.  0, or a refusal's status. */
static int
session_role(gate *g, sqlsess *s)
{
	bg_error e;
	int r;

	bg_error_clear(&e);
	if ((r = s->maria ? mariarole_create(s->madmin, &s->dg, &s->role, &e) :
	    pgrole_create(s->admin, &s->dg, &s->role, &e)) != 0)
		return gate_refuse(g, "cannot make the grant's database role: %s", e.msg);
	s->have_role = 1;
	gate_priv_up(g);
	r = s->maria ? mariarole_connect(g->db_maria, &s->dg, &s->role, &s->mconn, &e) :
	    pgrole_connect(g->db_pg, &s->dg, &s->role, &s->conn, &e);
	gate_priv_down(g);
	if (r != 0)
		return gate_refuse(g, "cannot connect as the grant's role: %s", e.msg);
	return 0;
}

static void
session_close(sqlsess *s)
{
	bg_error e;
	int term;

	PQfinish(s->conn);
	s->conn = NULL;
	if (s->mconn != NULL)
		mysql_close(s->mconn);
	s->mconn = NULL;
	if (s->have_role && (s->admin != NULL || s->madmin != NULL))
		(void)drop_role(s, &term, &e);
	PQfinish(s->admin);   /* the lock goes with it */
	s->admin = NULL;
	if (s->madmin != NULL)
		mysql_close(s->madmin);
	s->madmin = NULL;
	pgrole_release(&s->role);
}

static int
verb_sql(gate *g)
{
	sqlsess *s;
	bg_error e;
	char why[300];
	int r, status = 1, term;
	double t0 = utc_mono();

	if (g->av.n != 1)
		return gate_refuse(g, "sql takes no arguments: statements come on standard input");
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return gate_refuse(g, "out of memory");
	bg_error_clear(&e);
	g->want_int = 1;   /* Ctrl-C cancels a statement, or ends at the prompt */
	if ((status = session_open(g, s)) != 0 || (status = session_role(g, s)) != 0)
		goto out;
	snprintf(why, sizeof(why), "role %s on database %.63s made in %.0f ms (SELECT on %zu "
	    "table%s)", s->role.name, s->dg.database, (utc_mono() - t0) * 1000, s->dg.ntables,
	    s->dg.ntables == 1 ? "" : "s");
	gate_record(g, "gate.start", "allow", why, -1);
	gate_record_defer(g);
	if (s->interactive)
		fprintf(stderr, "breakglass: grant G-%lld, database %s: SELECT on %s%s; a statement "
		    "ends with ';' at the end of a line; \\q ends\n", (long long)g->grant,
		    s->dg.database, s->dg.tables[0], s->dg.ntables > 1 ? ", ..." : "");
	r = console(s);
	if (s->cut) {
		status = 1;
		goto out;
	}
	PQfinish(s->conn);
	s->conn = NULL;
	if (s->mconn != NULL)
		mysql_close(s->mconn);
	s->mconn = NULL;
	status = s->failed || (r != 0 && !s->int_end) ? 1 : 0;
	if (drop_role(s, &term, &e) != 0)
		snprintf(why, sizeof(why), "%lu input(s); revoking role %s failed (%.200s): hostd's "
		    "repair removes it", s->nstmts, s->role.name, e.msg);
	else
		snprintf(why, sizeof(why), "%lu input(s); role %s revoked", s->nstmts,
		    s->role.name);
	gate_record(g, "gate.end", "allow", why, status);
out:
	session_close(s);
	explicit_bzero(s, sizeof(*s));
	free(s);
	return status;
}

/*
 * What the signed plan statement says of SQL artifact sha (consent.h).
 * The consent was verified by gate.c before any request ran.
 */
static void
signed_sql_marks(gate *g, const char *sha, int64_t *rows, uint64_t *destructive)
{
	consent cs;
	bg_error e;

	*rows = -1;
	*destructive = 0;
	if (g->c.consent == NULL || consent_parse(g->c.consent, strlen(g->c.consent), &cs, &e) != 0)
		return;
	consent_sql_marks(cs.statement, sha, rows, destructive);
	consent_release(&cs);
}

/*
 * apply < PATCH.sql: an approved SQL artifact of the grant's plan (found
 * by its SHA-256 among the certificate's artifacts), applied with its
 * before-image (pgpatch) through a role with just the privileges it
 * needs; the row count must be what the signed plan states.
 */
static int
verb_apply(gate *g)
{
	sqlsess *s = NULL;
	sqlcheck c;
	pgpatch_result res;
	bg_error e;
	buf in;
	char sha[HASH_HEXLEN], tag[48], why[600], nrows[32];
	int64_t rows;
	uint64_t marks;
	size_t i;
	int r, status = 1, found = 0, checked = 0;

	memset(&c, 0, sizeof(c));
	memset(&res, 0, sizeof(res));
	bg_error_clear(&e);
	if (g->av.n != 1)
		return gate_refuse(g, "apply takes no arguments under a db grant: the SQL patch comes "
		    "on standard input");
	buf_init(&in, GRANTSCOPE_MAX_ARTIFACT);
	if (fileio_read_fd(STDIN_FILENO, GRANTSCOPE_MAX_ARTIFACT, &in, &e) != 0) {
		buf_release(&in);
		return gate_refuse(g, "apply: cannot read the patch: %s", e.msg);
	}
	hash_sha256_hex(in.data ? in.data : "", in.len, sha);
	for (i = 0; i < g->scope_doc.n; i++)
		if (strcmp(g->scope_doc.items[i].key, "artifact") == 0 &&
		    strncmp(g->scope_doc.items[i].value, sha, 64) == 0 &&
		    strcmp(g->scope_doc.items[i].value + 64, " sql") == 0)
			found = 1;
	if (!found) {
		status = gate_refuse(g, "apply: the input (SHA-256 %.16s...) is no SQL artifact of "
		    "grant G-%lld's approved plan", sha, (long long)g->grant);
		goto out;
	}
	signed_sql_marks(g, sha, &rows, &marks);
	if (rows < 0) {
		status = gate_refuse(g, "apply: the approved plan states no row count for this "
		    "patch (the plan needs 'expect-rows: NAME N')");
		goto out;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		status = gate_refuse(g, "out of memory");
		goto out;
	}
	if ((status = session_open(g, s)) != 0)
		goto out;
	status = 1;
	if ((r = s->maria ? sqlcheck_mariadb(in.data, in.len, s->dg.database, s->granted,
	    s->dg.ntables, &c, &e) : sqlcheck_pg(in.data, in.len, "public", s->granted,
	    s->dg.ntables, &c, &e)) != 0) {
		status = gate_refuse(g, "apply: %s", e.msg);
		goto out;
	}
	checked = 1;
	for (i = 0; i < c.n; i++) {
		const sqlcheck_stmt *st = &c.v[i];

		if (st->refused || (st->destructive && (i >= 64 || !(marks & ((uint64_t)1 << i))))) {
			status = gate_refuse(g, "apply: statement %zu (%s) is %s: %s%s", i + 1,
			    sqlcheck_kind_name(st->kind), st->refused ? "refused" : "destructive",
			    st->why, st->refused ? "" : ", and the signed plan does not approve it "
			    "(approved-destructive)");
			goto out;
		}
	}
	s->dg.write = 1;
	for (i = 0; i < s->dg.ntables; i++)
		s->dg.privs[i] = 0;   /* only what the patch needs */
	if ((r = pgrole_grant_for_patch(&s->dg, &c, &e)) != 0) {
		status = gate_refuse(g, "apply: %s", e.msg);
		goto out;
	}
	for (i = 0; i < s->dg.ntables; i++)
		s->dg.privs[i] |= PGROLE_SELECT;
	if ((status = session_role(g, s)) != 0)
		goto out;
	snprintf(tag, sizeof(tag), "g%lld_%.12s", (long long)g->grant, sha);
	r = s->maria ? mariapatch_apply(s->madmin, s->mconn, s->role.name, in.data, in.len, &c,
	    rows, tag, &res, &e) : pgpatch_apply(s->admin, s->conn, s->role.name, in.data, in.len,
	    &c, rows, tag, &res, &e);
	for (i = 0; i < res.n; i++)
		gate_printf(g, "statement %zu: %s on %s rows=%lld columns=%s before_sha256=%s\n",
		    i + 1, sqlcheck_kind_name(res.v[i].kind), res.v[i].table,
		    (long long)res.v[i].rows, res.v[i].columns[0] ? res.v[i].columns : "-",
		    res.v[i].before_sha256[0] ? res.v[i].before_sha256 : "-");
	snprintf(nrows, sizeof(nrows), "%lld", (long long)res.rows);
	if (r != 0) {
		char msg[sizeof(e.msg)];

		snprintf(msg, sizeof(msg), "%s", e.msg);
		status = gate_refuse(g, "apply: %s%s", msg, r == BG_ERR_STATE ? " (rolled back: "
		    "nothing changed)" : "");
		goto out;
	}
	gate_printf(g, "applied rows=%lld (the plan states %lld); before-image %s (%s %s%s): "
	    "undo with 'breakglass rollback T-%lld --sql %s --database %s' on this host\n",
	    (long long)res.rows, (long long)rows, tag, s->maria ? "database" : "schema",
	    s->maria ? MARIAPATCH_DB : PGPATCH_SCHEMA, s->maria ? " of the MariaDB server" :
	    " of the database", (long long)g->ticket, tag, s->dg.database);
	{
		const char *extra[] = { "sql_sha256", sha, "before_image", tag, "database",
			s->dg.database, "rows", nrows, NULL };

		snprintf(why, sizeof(why), "SQL patch applied: %s rows, before-image %s", nrows, tag);
		gate_record_with(g, "gate.sql.apply", "allow", why, 0, extra);
	}
	status = 0;
out:
	if (checked)
		sqlcheck_release(&c);
	if (s != NULL) {
		session_close(s);
		explicit_bzero(s, sizeof(*s));
		free(s);
	}
	buf_release(&in);
	return status;
}

int
gate_db_request(gate *g)
{
	bg_error e;
	const char *v;

	if (g->env->original_command == NULL)
		return gate_refuse(g, "grant G-%lld is a db grant: ask for 'sql' (ssh %s@HOST sql)",
		    (long long)g->grant, g->env->user);
	if (strlen(g->env->original_command) > 8192)
		return gate_refuse(g, "request longer than 8192 bytes");
	bg_error_clear(&e);
	if (argv_split(g->env->original_command, &g->av, &e) != 0 || g->av.n == 0) {
		snprintf(g->request, sizeof(g->request), "(unparseable)");
		return gate_refuse(g, "cannot parse the request: %s", g->av.n ? e.msg : "empty");
	}
	gate_describe_request(g);
	v = g->av.v[0];
	if (strcmp(v, "sql") == 0)
		return verb_sql(g);
	if (strcmp(v, "help") == 0 && g->av.n == 1) {
		const char *a = kv_get(&g->scope_doc, "access");

		gate_printf(g, "grant G-%lld: database %s, tables:", (long long)g->grant,
		    kv_get(&g->scope_doc, "database") ? kv_get(&g->scope_doc, "database") : "?");
		for (size_t i = 0; i < g->scope_doc.n; i++)
			if (strcmp(g->scope_doc.items[i].key, "table") == 0)
				gate_printf(g, " %s", g->scope_doc.items[i].value);
		gate_printf(g, "\n  sql            SELECT statements on standard input, each ending "
		    "with ';' at a line end (Ctrl-C cancels one; \\q, Ctrl-D ends)\n  collect < KEY  a "
		    "diagnostics bundle with the database's schema, migrations and row counts\n%s",
		    a != NULL && strcmp(a, "read-write") == 0 ? "  apply < PATCH  an approved SQL "
		    "artifact of the plan, with its before-image\n" : "");
		gate_record(g, "gate.verb", "allow", NULL, 0);
		return 0;
	}
	if (strcmp(v, "apply") == 0) {
		const char *a = kv_get(&g->scope_doc, "access");

		if (a == NULL || strcmp(a, "read-write") != 0)
			return gate_refuse(g, "grant G-%lld is read-only: apply needs a read-write db "
			    "grant with an approved plan", (long long)g->grant);
		return verb_apply(g);
	}
	return gate_refuse(g, "'%.64s': a db grant (G-%lld) allows 'sql' (statements on standard "
	    "input) and, read-write, 'apply' (an approved SQL patch on standard input)", v,
	    (long long)g->grant);
}

/*
 * The repair's pause (test builds only): BREAKGLASS_TEST_REPAIR_PAUSE=F
 * makes it create F.listed once it has listed the grant roles, then wait
 * (up to 30 s) until F is gone - so a test can start a session of the
 * same grant in between, deterministically.  With both engines the
 * MariaDB half pauses first.
 */
static char repair_pause_file[2048];

void
gate_sql_hooks_read(void)
{
	const char *f = testhook_env("BREAKGLASS_TEST_REPAIR_PAUSE");

	if (f != NULL && strlen(f) < sizeof(repair_pause_file))
		memcpy(repair_pause_file, f, strlen(f) + 1);
}

static void
repair_pause(void)
{
	const char *f = repair_pause_file[0] ? repair_pause_file : NULL;
	char listed[4096];
	int fd, i;

	if (f == NULL || snprintf(listed, sizeof(listed), "%s.listed", f) >= (int)sizeof(listed))
		return;
	if ((fd = open(listed, O_WRONLY | O_CREAT | O_CLOEXEC, 0600)) >= 0)
		close(fd);
	for (i = 0; i < 3000 && access(f, F_OK) == 0; i++)
		usleep(10000);
}

/* ... and F.done when the repair has finished (test builds only) */
static void
repair_pause_done(void)
{
	const char *f = repair_pause_file[0] ? repair_pause_file : NULL;
	char done[4096];
	int fd;

	if (f != NULL && snprintf(done, sizeof(done), "%s.done", f) < (int)sizeof(done) &&
	    (fd = open(done, O_WRONLY | O_CREAT | O_CLOEXEC, 0600)) >= 0)
		close(fd);
}

/*
 * The MariaDB half of the repair: each bg_gN account is revoked only
 * while the repair itself holds GET_LOCK('breakglass_gN') - a session
 * holds it from before it makes its account until after it revoked it,
 * so a session's account is never taken, even one made while the
 * repair runs (GET_LOCK is server-wide) - taken inside the grant's turn,
 * 'breakglass_turn_gN' (GATE_SQL_TURN).
 */
static int
repair_maria(const char *sock, int *removed, bg_error *e)
{
	static const char q[] = "SELECT user FROM mysql.user WHERE host = 'localhost' AND "
	    "user RLIKE '^bg_g[1-9][0-9]{0,9}$' ORDER BY user";
	MYSQL *admin = NULL;
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	int r, term;

	*removed = 0;
	if ((r = mariarole_admin_connect(sock, &admin, e)) != 0)
		return r;
	if (mysql_real_query(admin, q, (unsigned long)strlen(q)) != 0 ||
	    (res = mysql_store_result(admin)) == NULL) {
		r = bg_fail(e, BG_ERR_STORE, "mariadb: account list: %s", mysql_error(admin));
		mysql_close(admin);
		return r;
	}
	repair_pause();
	while (r == 0 && (row = mysql_fetch_row(res)) != NULL) {
		char lk[96], v[8] = "";
		long long n = strtoll(row[0] + 4, NULL, 10);

		/* the grant's turn, then its lock (GATE_SQL_TURN) */
		snprintf(lk, sizeof(lk), "SELECT GET_LOCK('breakglass_turn_g%lld', 0)", n);
		if (maria_one(admin, lk, v, sizeof(v)) != 0) {
			r = bg_fail(e, BG_ERR_STORE, "mariadb: lock: %s", mysql_error(admin));
			break;
		}
		if (strcmp(v, "1") != 0)
			continue;                  /* a session starting */
		snprintf(lk, sizeof(lk), "SELECT GET_LOCK('breakglass_g%lld', 0)", n);
		if (maria_one(admin, lk, v, sizeof(v)) != 0) {
			r = bg_fail(e, BG_ERR_STORE, "mariadb: lock: %s", mysql_error(admin));
			break;
		}
		if (strcmp(v, "1") == 0) {
			if ((r = mariarole_revoke(admin, row[0], 5000, &term, e)) == 0)
				(*removed)++;
			snprintf(lk, sizeof(lk), "SELECT RELEASE_LOCK('breakglass_g%lld')", n);
			(void)maria_one(admin, lk, v, sizeof(v));
		}                                  /* else a live session's */
		snprintf(lk, sizeof(lk), "SELECT RELEASE_LOCK('breakglass_turn_g%lld')", n);
		(void)maria_one(admin, lk, v, sizeof(v));
	}
	mysql_free_result(res);
	mysql_close(admin);
	return r;
}

/*
 * hostd's repair (gate.h): revoke every grant role no session holds.
 *
 * PostgreSQL's advisory locks belong to a database, and a session takes
 * its grant's lock (GATE_SQL_LOCK, N) in the grant's database.  Each role
 * names that database in its comment (pgrole_create writes it in the
 * transaction that makes the role; older roles: the database holding
 * their privileges, else postgres); the repair connects there and
 * revokes bg_gN only while it holds (GATE_SQL_LOCK, N) itself - so a
 * session starting while the repair runs keeps its new role - and holds
 * the grant's turn (GATE_SQL_TURN, N) around that: a session waits for
 * the turn, so it is not refused for the repair's moment with the lock.
 */
int
gate_sql_repair(const char *config, int *removed, bg_error *e)
{
	kv_doc d;
	buf text;
	PGconn *admin = NULL, *other = NULL;
	PGresult *res = NULL;
	const char *conninfo, *as;
	char otherdb[128] = "";
	int r, i;

	*removed = 0;
	memset(&d, 0, sizeof(d));
	buf_init(&text, 64 * 1024);
	if ((r = fileio_read(config, 64 * 1024, &text, e)) != 0 ||
	    (r = kv_parse(text.data ? text.data : "", text.len, gate_config_schema, &d, e)) != 0)
		goto out;
	if (kv_get(&d, "db-mariadb") != NULL &&
	    (r = repair_maria(kv_get(&d, "db-mariadb"), removed, e)) != 0)
		goto out;
	if ((conninfo = kv_get(&d, "db-postgres")) == NULL)
		goto out;
	as = kv_get(&d, "db-postgres-as");
	if ((r = admin_connect(NULL, conninfo, as, "postgres", &admin, e)) != 0)
		goto out;
	res = PQexec(admin, "SELECT r.rolname, coalesce(substring(shobj_description(r.oid, "
	    "'pg_authid') from '^breakglass grant G-[0-9]+ on (.*) until [^ ]+$'), (SELECT "
	    "min(d.datname) FROM pg_shdepend s JOIN pg_database d ON d.oid = s.dbid WHERE "
	    "s.refobjid = r.oid AND d.datallowconn), 'postgres') FROM pg_roles r WHERE "
	    "r.rolname ~ '^bg_g[1-9][0-9]{0,9}$' ORDER BY 2, 1");
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		r = bg_fail(e, BG_ERR_STORE, "postgres: role list: %s", PQerrorMessage(admin));
		goto out;
	}
	repair_pause();
	for (i = 0; i < PQntuples(res) && r == 0; i++) {
		const char *name = PQgetvalue(res, i, 0), *db = PQgetvalue(res, i, 1);
		long long n = strtoll(name + 4, NULL, 10);
		PGconn *c = admin;
		char q[160], v[8];
		int term, kept;

		if (strcmp(db, "postgres") != 0) {
			if (strcmp(db, otherdb) != 0) {
				bg_error oe;

				PQfinish(other);
				other = NULL;
				snprintf(otherdb, sizeof(otherdb), "%.127s", db);
				/* a database no one can connect to has no session */
				if (admin_connect(NULL, conninfo, as, db, &other, &oe) != 0)
					other = NULL;
			}
			if (other != NULL)
				c = other;
		}
		/* the grant's turn, then its lock (GATE_SQL_TURN) */
		snprintf(q, sizeof(q), "SELECT pg_try_advisory_lock(%d, %lld)", GATE_SQL_TURN, n);
		if ((r = query_one(c, q, v, sizeof(v), e)) != 0)
			break;
		if (strcmp(v, "t") != 0)
			continue;                  /* a session starting */
		snprintf(q, sizeof(q), "SELECT pg_try_advisory_lock(%d, %lld)", GATE_SQL_LOCK, n);
		if ((r = query_one(c, q, v, sizeof(v), e)) == 0 && strcmp(v, "t") == 0) {
			if ((r = pgrole_revoke(c, name, 5000, &term, &kept, e)) == 0)
				(*removed)++;
			snprintf(q, sizeof(q), "SELECT pg_advisory_unlock(%d, %lld)", GATE_SQL_LOCK,
			    n);
			if (query_one(c, q, v, sizeof(v), NULL) != 0 && r == 0)
				r = bg_fail(e, BG_ERR_STORE, "postgres: unlock of grant G-%lld", n);
		}                                  /* else a live session's */
		snprintf(q, sizeof(q), "SELECT pg_advisory_unlock(%d, %lld)", GATE_SQL_TURN, n);
		if (query_one(c, q, v, sizeof(v), NULL) != 0 && r == 0)
			r = bg_fail(e, BG_ERR_STORE, "postgres: unlock of grant G-%lld", n);
	}
out:
	PQclear(res);
	PQfinish(other);
	PQfinish(admin);
	kv_doc_release(&d);
	buf_release(&text);
	repair_pause_done();
	return r;
}

/*
 * The admin connection for config's target and database db (rollback,
 * cleanup): PostgreSQL when the config names it (*pg), else MariaDB (*my).
 * *both: the config names both targets.
 */
static int
config_admin(const char *config, const char *db, int want_maria, PGconn **pg, MYSQL **my,
    int *both, bg_error *e)
{
	kv_doc d;
	buf text;
	int r;

	*pg = NULL;
	*my = NULL;
	*both = 0;
	memset(&d, 0, sizeof(d));
	buf_init(&text, 64 * 1024);
	if ((r = fileio_read(config, 64 * 1024, &text, e)) == 0 &&
	    (r = kv_parse(text.data ? text.data : "", text.len, gate_config_schema, &d, e)) == 0) {
		const char *pgc = kv_get(&d, "db-postgres"), *sock = kv_get(&d, "db-mariadb");

		*both = pgc != NULL && sock != NULL;
		if (pgc == NULL && sock == NULL)
			r = bg_fail(e, BG_ERR_NOTFOUND, "%s names no database target (db-postgres, "
			    "db-mariadb)", config);
		else if (pgc != NULL && !want_maria)
			r = admin_connect(NULL, pgc, kv_get(&d, "db-postgres-as"), db, pg, e);
		else if (sock != NULL)
			r = mariarole_admin_connect(sock, my, e);
		else
			r = bg_fail(e, BG_ERR_NOTFOUND, "%s names no MariaDB target", config);
	}
	kv_doc_release(&d);
	buf_release(&text);
	return r;
}

/* rollback or drop through one target; BG_ERR_NOTFOUND: no image there */
static int
rollback_on(const char *config, const char *db, const char *tag, int drop, int want_maria,
    int64_t *restored, int64_t *changed, int *both, bg_error *e)
{
	PGconn *pg = NULL;
	MYSQL *my = NULL;
	int r;

	if ((r = config_admin(config, db, want_maria, &pg, &my, both, e)) != 0)
		return r;
	if (pg != NULL)
		r = drop ? pgpatch_cleanup(pg, tag, e) :
		    pgpatch_rollback(pg, tag, restored, changed, e);
	else
		r = drop ? mariapatch_cleanup(my, tag, e) :
		    mariapatch_rollback(my, db, tag, restored, changed, e);
	PQfinish(pg);
	if (my != NULL)
		mysql_close(my);
	return r;
}

int
gate_sql_rollback(const char *config, const char *db, const char *tag, int drop,
    int64_t *restored, int64_t *changed, bg_error *e)
{
	int r, both = 0;

	*restored = *changed = 0;
	r = rollback_on(config, db, tag, drop, 0, restored, changed, &both, e);
	/* a host with both servers: the image is on the one that has it (a
	 * database PostgreSQL does not have is BG_ERR_IO there) */
	if (both && (r == BG_ERR_NOTFOUND || r == BG_ERR_IO || drop)) {
		int r2 = rollback_on(config, db, tag, drop, 1, restored, changed, &both, e);

		r = drop && r != 0 && r != BG_ERR_IO ? r : r2;
	}
	return r;
}
