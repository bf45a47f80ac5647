/*
 * http.h - one HTTP request with libcurl, loaded only when used.
 *
 * breakglass is one binary, and the gate runs it for every request on a
 * host: linking libcurl (and through it GnuTLS, Kerberos, LDAP, p11-kit
 * and more, 28 libraries with their initialisers) cost every command
 * ~7 ms of start-up.  So libcurl is dlopen'd by the first request that
 * needs it (a smoke check, a notification) and never by anything else.
 * A host without libcurl fails that request with a clear error.
 *
 * Requests are plain: no redirects followed, no cookies, TLS verified,
 * a timeout, http and https only.
 */
#ifndef BG_HTTP_H
#define BG_HTTP_H

#include "err.h"

#include <stddef.h>
#include <stdint.h>

typedef struct http_req {
	const char *method;        /* "GET" or "POST" */
	const char *url;
	const char *content_type;  /* POST: the body's type */
	const void *body;          /* POST: the body */
	size_t body_len;
	int timeout_s;             /* whole request, 1..300 */
	const char *user_agent;
	/* the response body, as it arrives; return 0 to stop (an error) */
	size_t (*on_body)(const char *p, size_t n, void *ctx);
	void *ctx;
} http_req;

typedef struct http_resp {
	long status;               /* 0 when no response */
	int64_t elapsed_ms;
	int complete;              /* the transfer finished (no error) */
	int stopped;               /* on_body asked to stop */
	char error[256];           /* libcurl's reason when not complete */
} http_resp;

/*
 * Make the request.  0 when it was attempted (resp says what came back,
 * including connection failures), BG_ERR_EXEC when libcurl cannot be
 * loaded or started, BG_ERR_INVALID for an unusable request.
 */
int http_request(const http_req *req, http_resp *resp, bg_error *e);

#endif
