/*
 * myload.c - libmariadb, loaded on first use (the same reason and the
 * same shape as pqload.c): the functions the database layer calls are
 * defined here under their own names and resolved once from
 * libmariadb.so.3 when the first MariaDB connection is made.
 */
#include "myload.h"

#include <dlfcn.h>
#include <stddef.h>

/* ret, name, (params), (args), what it returns unloaded */
#define MY_FUNCS(X) \
	X(MYSQL *, mysql_init, (MYSQL *m), (m), NULL) \
	X(MYSQL *, mysql_real_connect, (MYSQL *m, const char *h, const char *u, const char *p, \
	    const char *d, unsigned int port, const char *s, unsigned long f), \
	    (m, h, u, p, d, port, s, f), NULL) \
	X(unsigned int, mysql_errno, (MYSQL *m), (m), 2006) \
	X(const char *, mysql_error, (MYSQL *m), (m), "libmariadb is not loaded") \
	X(int, mysql_real_query, (MYSQL *m, const char *q, unsigned long n), (m, q, n), 1) \
	X(int, mysql_send_query, (MYSQL *m, const char *q, unsigned long n), (m, q, n), 1) \
	X(my_bool, mysql_read_query_result, (MYSQL *m), (m), 1) \
	X(MYSQL_RES *, mysql_store_result, (MYSQL *m), (m), NULL) \
	X(MYSQL_RES *, mysql_use_result, (MYSQL *m), (m), NULL) \
	X(MYSQL_ROW, mysql_fetch_row, (MYSQL_RES *r), (r), NULL) \
	X(unsigned long *, mysql_fetch_lengths, (MYSQL_RES *r), (r), NULL) \
	X(unsigned int, mysql_num_fields, (MYSQL_RES *r), (r), 0) \
	X(my_ulonglong, mysql_num_rows, (MYSQL_RES *r), (r), 0) \
	X(MYSQL_FIELD *, mysql_fetch_field_direct, (MYSQL_RES *r, unsigned int i), (r, i), NULL) \
	X(unsigned int, mysql_field_count, (MYSQL *m), (m), 0) \
	X(my_ulonglong, mysql_affected_rows, (MYSQL *m), (m), 0) \
	X(unsigned long, mysql_real_escape_string, (MYSQL *m, char *to, const char *from, \
	    unsigned long n), (m, to, from, n), 0) \
	X(my_socket, mysql_get_socket, (MYSQL *m), (m), -1) \
	X(unsigned int, mysql_warning_count, (MYSQL *m), (m), 1) \
	X(const char *, mysql_info, (MYSQL *m), (m), NULL) \
	X(unsigned long, mysql_thread_id, (MYSQL *m), (m), 0)

#define MY_VOID_FUNCS(X) \
	X(mysql_close, (MYSQL *m), (m)) \
	X(mysql_free_result, (MYSQL_RES *r), (r))

static struct {
	int tried, ok;
#define MY_PTR(ret, name, params, args, fail) ret (STDCALL *name) params;
#define MY_VPTR(name, params, args) void (STDCALL *name) params;
	MY_FUNCS(MY_PTR)
	MY_VOID_FUNCS(MY_VPTR)
} my;

int
myload_ready(bg_error *e)
{
	void *h;

	if (!my.tried) {
		my.tried = 1;
		if ((h = dlopen("libmariadb.so.3", RTLD_NOW | RTLD_LOCAL)) != NULL) {
			my.ok = 1;
#define MY_SYM(ret, name, params, args, fail) \
			if ((*(void **)&my.name = dlsym(h, #name)) == NULL) my.ok = 0;
#define MY_VSYM(name, params, args) \
			if ((*(void **)&my.name = dlsym(h, #name)) == NULL) my.ok = 0;
			MY_FUNCS(MY_SYM)
			MY_VOID_FUNCS(MY_VSYM)
		}
	}
	if (!my.ok)
		return bg_fail(e, BG_ERR_UNSUPPORTED, "mariadb: libmariadb.so.3 cannot be loaded "
		    "(install the libmariadb3 package)");
	return 0;
}

#define MY_DEF(ret, name, params, args, fail) \
	ret STDCALL name params { return my.ok ? my.name args : fail; }
#define MY_VDEF(name, params, args) \
	void STDCALL name params { if (my.ok) my.name args; }
MY_FUNCS(MY_DEF)
MY_VOID_FUNCS(MY_VDEF)
