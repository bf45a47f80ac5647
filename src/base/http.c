/*
 * http.c - libcurl, loaded on first use (see http.h).
 *
 * The symbols are resolved once from libcurl.so.4 (the soname of
 * libcurl 7 and 8); the constants come from the build's curl.h, which
 * the loaded library's ABI keeps.  Nothing here runs unless a request is
 * made.
 */
#include "http.h"

#include <curl/curl.h>
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static struct {
	int tried, ok;
	CURLcode (*global_init)(long);
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode (*easy_perform)(CURL *);
	CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
	void (*easy_cleanup)(CURL *);
	const char *(*easy_strerror)(CURLcode);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void (*slist_free_all)(struct curl_slist *);
} cu;

static int
load(void)
{
	void *h;

	if (cu.tried)
		return cu.ok;
	cu.tried = 1;
	if ((h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL)) == NULL)
		return 0;
	*(void **)&cu.global_init = dlsym(h, "curl_global_init");
	*(void **)&cu.easy_init = dlsym(h, "curl_easy_init");
	*(void **)&cu.easy_setopt = dlsym(h, "curl_easy_setopt");
	*(void **)&cu.easy_perform = dlsym(h, "curl_easy_perform");
	*(void **)&cu.easy_getinfo = dlsym(h, "curl_easy_getinfo");
	*(void **)&cu.easy_cleanup = dlsym(h, "curl_easy_cleanup");
	*(void **)&cu.easy_strerror = dlsym(h, "curl_easy_strerror");
	*(void **)&cu.slist_append = dlsym(h, "curl_slist_append");
	*(void **)&cu.slist_free_all = dlsym(h, "curl_slist_free_all");
	if (cu.global_init == NULL || cu.easy_init == NULL || cu.easy_setopt == NULL ||
	    cu.easy_perform == NULL || cu.easy_getinfo == NULL || cu.easy_cleanup == NULL ||
	    cu.easy_strerror == NULL || cu.slist_append == NULL || cu.slist_free_all == NULL ||
	    cu.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return 0;
	cu.ok = 1;
	return 1;
}

typedef struct sink {
	const http_req *req;
	int stopped;
} sink;

static size_t
on_data(char *p, size_t sz, size_t nm, void *ctx)
{
	sink *s = ctx;
	size_t n = sz * nm;

	if (n == 0 || s->req->on_body == NULL)
		return n;
	if (s->req->on_body(p, n, s->req->ctx) != n) {
		s->stopped = 1;
		return 0;
	}
	return n;
}

int
http_request(const http_req *req, http_resp *resp, bg_error *e)
{
	struct curl_slist *hdr = NULL;
	struct timespec t0, t1;
	CURL *c;
	CURLcode rc;
	sink s = { req, 0 };
	int post;

	memset(resp, 0, sizeof(*resp));
	if (req->url == NULL || req->method == NULL || req->timeout_s < 1 || req->timeout_s > 300)
		return bg_fail(e, BG_ERR_INVALID, "an HTTP request needs a URL, a method and a "
		    "timeout of 1 to 300 s");
	post = strcmp(req->method, "POST") == 0;
	if (!post && strcmp(req->method, "GET") != 0)
		return bg_fail(e, BG_ERR_INVALID, "HTTP method '%.16s' is not GET or POST",
		    req->method);
	if (!load())
		return bg_fail(e, BG_ERR_EXEC, "cannot load libcurl (libcurl.so.4): install "
		    "libcurl4 for smoke checks and notifications");
	if ((c = cu.easy_init()) == NULL)
		return bg_fail(e, BG_ERR_EXEC, "cannot start libcurl");
	cu.easy_setopt(c, CURLOPT_URL, req->url);
	cu.easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	cu.easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	cu.easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	cu.easy_setopt(c, CURLOPT_TIMEOUT, (long)req->timeout_s);
	cu.easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)(req->timeout_s < 10 ? req->timeout_s : 10));
	cu.easy_setopt(c, CURLOPT_USERAGENT, req->user_agent ? req->user_agent : "breakglass/1");
	cu.easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	cu.easy_setopt(c, CURLOPT_WRITEDATA, &s);
	cu.easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	cu.easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	if (post) {
		char ct[160];

		snprintf(ct, sizeof(ct), "Content-Type: %s",
		    req->content_type ? req->content_type : "application/octet-stream");
		if ((hdr = cu.slist_append(NULL, ct)) == NULL) {
			cu.easy_cleanup(c);
			return bg_fail(e, BG_ERR_NOMEM, "out of memory");
		}
		cu.easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
		cu.easy_setopt(c, CURLOPT_POST, 1L);
		cu.easy_setopt(c, CURLOPT_POSTFIELDS, req->body ? req->body : "");
		cu.easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = cu.easy_perform(c);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	resp->elapsed_ms = (int64_t)(t1.tv_sec - t0.tv_sec) * 1000 +
	    (t1.tv_nsec - t0.tv_nsec) / 1000000;
	if (rc == CURLE_OK || rc == CURLE_WRITE_ERROR)
		cu.easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
	resp->complete = rc == CURLE_OK;
	resp->stopped = s.stopped;
	if (rc != CURLE_OK)
		snprintf(resp->error, sizeof(resp->error), "%s", cu.easy_strerror(rc));
	cu.easy_cleanup(c);
	if (hdr != NULL)
		cu.slist_free_all(hdr);
	return 0;
}
