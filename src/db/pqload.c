/*
 * pqload.c - libpq, loaded on first use.
 *
 * The breakglass binary starts for every gate request; linking libpq
 * (and with it libssl, GSSAPI, LDAP, ...) would cost every command a few
 * milliseconds of start-up.  The functions the database layer calls are
 * defined here under libpq's own names and resolved once from
 * libpq.so.5 (the soname of every libpq since 8.x) when the first
 * connection is made, like libcurl in src/base/http.c.  Types and
 * constants come from the build's libpq-fe.h, whose ABI the soname keeps.
 *
 * pqload_ready() loads it and says why not; until it succeeds, the
 * connection functions fail (NULL connection, CONNECTION_BAD) and the
 * others do nothing, so a caller that skipped it fails closed.
 */
#include "pqload.h"

#include <dlfcn.h>
#include <stddef.h>

/* ret, name, (params), (args) */
#define PQ_FUNCS(X) \
	X(PGconn *, PQconnectdbParams, (const char *const *k, const char *const *v, int x), (k, v, x), NULL) \
	X(PQconninfoOption *, PQconninfoParse, (const char *c, char **m), (c, m), NULL) \
	X(char *, PQdb, (const PGconn *c), (c), NULL) \
	X(char *, PQuser, (const PGconn *c), (c), NULL) \
	X(ConnStatusType, PQstatus, (const PGconn *c), (c), CONNECTION_BAD) \
	X(char *, PQerrorMessage, (const PGconn *c), (c), NULL) \
	X(int, PQsocket, (const PGconn *c), (c), -1) \
	X(int, PQbackendPID, (const PGconn *c), (c), 0) \
	X(PQnoticeProcessor, PQsetNoticeProcessor, (PGconn *c, PQnoticeProcessor p, void *a), (c, p, a), NULL) \
	X(PGresult *, PQexec, (PGconn *c, const char *q), (c, q), NULL) \
	X(PGresult *, PQexecParams, (PGconn *c, const char *q, int n, const Oid *t, \
	    const char *const *v, const int *l, const int *f, int rf), (c, q, n, t, v, l, f, rf), NULL) \
	X(int, PQsendQuery, (PGconn *c, const char *q), (c, q), 0) \
	X(int, PQsendQueryParams, (PGconn *c, const char *q, int n, const Oid *t, \
	    const char *const *v, const int *l, const int *f, int rf), (c, q, n, t, v, l, f, rf), 0) \
	X(int, PQsetSingleRowMode, (PGconn *c), (c), 0) \
	X(PGresult *, PQgetResult, (PGconn *c), (c), NULL) \
	X(int, PQisBusy, (PGconn *c), (c), 0) \
	X(int, PQconsumeInput, (PGconn *c), (c), 0) \
	X(ExecStatusType, PQresultStatus, (const PGresult *r), (r), PGRES_FATAL_ERROR) \
	X(char *, PQresultErrorMessage, (const PGresult *r), (r), NULL) \
	X(char *, PQresultErrorField, (const PGresult *r, int f), (r, f), NULL) \
	X(int, PQntuples, (const PGresult *r), (r), 0) \
	X(int, PQnfields, (const PGresult *r), (r), 0) \
	X(char *, PQfname, (const PGresult *r, int f), (r, f), NULL) \
	X(char *, PQcmdTuples, (PGresult *r), (r), NULL) \
	X(char *, PQgetvalue, (const PGresult *r, int t, int f), (r, t, f), NULL) \
	X(int, PQgetisnull, (const PGresult *r, int t, int f), (r, t, f), 1) \
	X(char *, PQescapeLiteral, (PGconn *c, const char *s, size_t n), (c, s, n), NULL) \
	X(char *, PQescapeIdentifier, (PGconn *c, const char *s, size_t n), (c, s, n), NULL) \
	X(char *, PQencryptPasswordConn, (PGconn *c, const char *p, const char *u, const char *a), \
	    (c, p, u, a), NULL) \
	X(PGcancel *, PQgetCancel, (PGconn *c), (c), NULL) \
	X(int, PQcancel, (PGcancel *k, char *b, int n), (k, b, n), 0)

#define PQ_VOID_FUNCS(X) \
	X(PQfinish, (PGconn *c), (c)) \
	X(PQconninfoFree, (PQconninfoOption *o), (o)) \
	X(PQclear, (PGresult *r), (r)) \
	X(PQfreemem, (void *p), (p)) \
	X(PQfreeCancel, (PGcancel *k), (k))

static struct {
	int tried, ok;
#define PQ_PTR(ret, name, params, args, fail) ret (*name) params;
#define PQ_VPTR(name, params, args) void (*name) params;
	PQ_FUNCS(PQ_PTR)
	PQ_VOID_FUNCS(PQ_VPTR)
} pq;

int
pqload_ready(bg_error *e)
{
	void *h;

	if (!pq.tried) {
		pq.tried = 1;
		if ((h = dlopen("libpq.so.5", RTLD_NOW | RTLD_LOCAL)) != NULL) {
			pq.ok = 1;
#define PQ_SYM(ret, name, params, args, fail) \
			if ((*(void **)&pq.name = dlsym(h, #name)) == NULL) pq.ok = 0;
#define PQ_VSYM(name, params, args) \
			if ((*(void **)&pq.name = dlsym(h, #name)) == NULL) pq.ok = 0;
			PQ_FUNCS(PQ_SYM)
			PQ_VOID_FUNCS(PQ_VSYM)
		}
	}
	if (!pq.ok)
		return bg_fail(e, BG_ERR_UNSUPPORTED, "postgres: libpq.so.5 cannot be loaded (install "
		    "the libpq5 package)");
	return 0;
}

#define PQ_DEF(ret, name, params, args, fail) \
	ret name params { return pq.ok ? pq.name args : fail; }
#define PQ_VDEF(name, params, args) \
	void name params { if (pq.ok) pq.name args; }
PQ_FUNCS(PQ_DEF)
PQ_VOID_FUNCS(PQ_VDEF)
