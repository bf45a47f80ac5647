/*
 * err.c - error strings and the detail buffer.
 */
#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *
bg_strerror(int r)
{
	switch (r) {
	case BG_OK: return "success";
	case BG_ERR_NOMEM: return "out of memory";
	case BG_ERR_USAGE: return "usage error";
	case BG_ERR_INVALID: return "invalid input";
	case BG_ERR_NOTFOUND: return "not found";
	case BG_ERR_EXISTS: return "already exists";
	case BG_ERR_IO: return "input/output error";
	case BG_ERR_STORE: return "store error";
	case BG_ERR_CORRUPT: return "corrupt data";
	case BG_ERR_POLICY: return "refused by policy";
	case BG_ERR_GATE: return "workflow gate closed";
	case BG_ERR_EXPIRED: return "expired or not yet valid";
	case BG_ERR_SIGNATURE: return "bad signature";
	case BG_ERR_SECRET: return "secret detected";
	case BG_ERR_CLOCK: return "clock cannot be trusted";
	case BG_ERR_STATE: return "wrong state";
	case BG_ERR_TOOLARGE: return "too large";
	case BG_ERR_TAMPER: return "tampering detected";
	case BG_ERR_PERM: return "not permitted";
	case BG_ERR_UNSUPPORTED: return "unsupported";
	case BG_ERR_EXEC: return "helper program failed";
	}
	return "unknown error";
}

int
bg_fail(bg_error *e, int r, const char *fmt, ...)
{
	char tmp[sizeof(e->msg)];
	va_list ap;

	if (e == NULL)
		return r;
	/* through a copy: callers wrap the message they had
	 * (bg_fail(e, r, "file %s: %s", path, e->msg)) */
	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	memcpy(e->msg, tmp, sizeof(tmp));
	return r;
}

int
bg_fail_add(bg_error *e, int r, const char *fmt, ...)
{
	va_list ap;
	size_t l;

	if (e == NULL)
		return r;
	l = strlen(e->msg);
	if (l + 2 >= sizeof(e->msg))
		return r;
	if (l > 0)
		e->msg[l++] = '\n';
	va_start(ap, fmt);
	vsnprintf(e->msg + l, sizeof(e->msg) - l, fmt, ap);
	va_end(ap);
	return r;
}

void
bg_error_clear(bg_error *e)
{
	if (e != NULL)
		e->msg[0] = '\0';
}
