/*
 * notify.c - webhooks for statements awaiting signatures (notify.h).
 * libcurl is dlopen'ed on first use: linking it would cost every run of
 * the CLI and the gate the loading of libcurl and its dependencies.
 */
#include "notify.h"
#include "json.h"
#include "utc.h"

#include <curl/curl.h>
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

typedef CURL *(*easy_init_fn)(void);
typedef CURLcode (*easy_setopt_fn)(CURL *, CURLoption, ...);
typedef CURLcode (*easy_perform_fn)(CURL *);
typedef CURLcode (*easy_getinfo_fn)(CURL *, CURLINFO, ...);
typedef void (*easy_cleanup_fn)(CURL *);
typedef const char *(*easy_strerror_fn)(CURLcode);
typedef struct curl_slist *(*slist_append_fn)(struct curl_slist *, const char *);
typedef void (*slist_free_fn)(struct curl_slist *);

static struct {
	void *lib;
	easy_init_fn init;
	easy_setopt_fn setopt;
	easy_perform_fn perform;
	easy_getinfo_fn getinfo;
	easy_cleanup_fn cleanup;
	easy_strerror_fn strerror;
	slist_append_fn append;
	slist_free_fn slist_free;
} cu;

static int
load_curl(bg_error *e)
{
	if (cu.lib != NULL)
		return 0;
	if ((cu.lib = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL)) == NULL)
		return bg_fail(e, BG_ERR_UNSUPPORTED, "notify: cannot load libcurl (libcurl4): %s",
		    dlerror());
	cu.init = (easy_init_fn)dlsym(cu.lib, "curl_easy_init");
	cu.setopt = (easy_setopt_fn)dlsym(cu.lib, "curl_easy_setopt");
	cu.perform = (easy_perform_fn)dlsym(cu.lib, "curl_easy_perform");
	cu.getinfo = (easy_getinfo_fn)dlsym(cu.lib, "curl_easy_getinfo");
	cu.cleanup = (easy_cleanup_fn)dlsym(cu.lib, "curl_easy_cleanup");
	cu.strerror = (easy_strerror_fn)dlsym(cu.lib, "curl_easy_strerror");
	cu.append = (slist_append_fn)dlsym(cu.lib, "curl_slist_append");
	cu.slist_free = (slist_free_fn)dlsym(cu.lib, "curl_slist_free_all");
	if (!cu.init || !cu.setopt || !cu.perform || !cu.getinfo || !cu.cleanup ||
	    !cu.strerror || !cu.append || !cu.slist_free) {
		dlclose(cu.lib);
		memset(&cu, 0, sizeof(cu));
		return bg_fail(e, BG_ERR_UNSUPPORTED, "notify: libcurl lacks a needed function");
	}
	return 0;
}

/* The value of the statement's line "key: value" (at most n-1 bytes). */
static void
stmt_line(const char *text, const char *key, char *v, size_t n)
{
	size_t kl = strlen(key);
	const char *p = text;

	v[0] = '\0';
	while (p != NULL && *p != '\0') {
		size_t ll = strcspn(p, "\n");

		if (ll > kl + 2 && memcmp(p, key, kl) == 0 && p[kl] == ':' && p[kl + 1] == ' ') {
			snprintf(v, n, "%.*s", (int)(ll - kl - 2), p + kl + 2);
			return;
		}
		p = p[ll] == '\n' ? p + ll + 1 : NULL;
	}
}

static int
payload(const statement *s, buf *out)
{
	char tkt[32], project[128], requester[256], until[UTC_STRLEN];
	buf text;
	json j;
	int r;

	stmt_line(s->text, "ticket", tkt, sizeof(tkt));
	stmt_line(s->text, "project", project, sizeof(project));
	stmt_line(s->text, "requester", requester, sizeof(requester));
	utc_format(s->valid_until, until);
	buf_init(&text, 4096);
	if ((r = buf_printf(&text, "breakglass: %s of %s (project %s, requested by %s) awaits "
	    "your signature until %s. Statement sha256 %s: get it with 'breakglass approve "
	    "%s --statement --for %s', check that hash, sign with 'ssh-keygen -Y sign -n "
	    "breakglass'.", strcmp(s->kind, "confirm") == 0 ? "the emergency confirmation" :
	    strcmp(s->kind, "plan") == 0 ? "the fix plan" : strcmp(s->kind, "risk") == 0 ?
	    "a risk acceptance" : "a smoke-test waiver", tkt, project, requester, until,
	    s->hash, tkt, s->kind)) != 0) {
		buf_release(&text);
		return r;
	}
	json_init(&j, out);
	json_obj_begin(&j);
	json_kv_str(&j, "text", text.data);
	json_key(&j, "breakglass");
	json_obj_begin(&j);
	json_kv_str(&j, "event", "statement.awaits-signature");
	json_kv_str(&j, "ticket", tkt);
	json_kv_str(&j, "project", project);
	json_kv_str(&j, "kind", s->kind);
	json_kv_str(&j, "requester", requester);
	json_kv_str(&j, "statement_sha256", s->hash);
	json_kv_time(&j, "valid_until", s->valid_until);
	json_obj_end(&j);
	json_obj_end(&j);
	buf_release(&text);
	return json_error(&j);
}

static int
post(const char *url, const buf *body, bg_error *e)
{
	struct curl_slist *hdr = NULL;
	CURL *c;
	CURLcode cc;
	long code = 0;
	int r = 0;

	if ((c = cu.init()) == NULL)
		return bg_fail(e, BG_ERR_NOMEM, "notify: curl_easy_init failed");
	hdr = cu.append(NULL, "Content-Type: application/json");
	if (hdr == NULL ||
	    cu.setopt(c, CURLOPT_URL, url) != CURLE_OK ||
	    cu.setopt(c, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
	    cu.setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "https") != CURLE_OK ||
	    cu.setopt(c, CURLOPT_HTTPHEADER, hdr) != CURLE_OK ||
	    cu.setopt(c, CURLOPT_POSTFIELDS, body->data) != CURLE_OK ||
	    cu.setopt(c, CURLOPT_POSTFIELDSIZE, (long)body->len) != CURLE_OK ||
	    cu.setopt(c, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    cu.setopt(c, CURLOPT_CONNECTTIMEOUT, 5L) != CURLE_OK ||
	    cu.setopt(c, CURLOPT_TIMEOUT, 10L) != CURLE_OK) {
		r = bg_fail(e, BG_ERR_UNSUPPORTED, "notify: libcurl refused an option");
		goto out;
	}
	if ((cc = cu.perform(c)) != CURLE_OK) {
		r = bg_fail(e, BG_ERR_IO, "notify: webhook %.200s: %s", url, cu.strerror(cc));
		goto out;
	}
	cu.getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	if (code < 200 || code > 299)
		r = bg_fail(e, BG_ERR_IO, "notify: webhook %.200s answered HTTP %ld", url, code);
out:
	cu.slist_free(hdr);
	cu.cleanup(c);
	return r;
}

int
notify_statement(const home *h, const statement *s, bg_error *e)
{
	buf body;
	bg_error tmp;
	int r = 0, first = 0;

	if (h->n_notify == 0)
		return 0;
	if ((r = load_curl(e)) != 0)
		return r;
	buf_init(&body, 16384);
	if ((r = payload(s, &body)) != 0) {
		buf_release(&body);
		return r;
	}
	/* every hook gets its message, whichever fails */
	for (size_t i = 0; i < h->n_notify; i++) {
		int v = post(h->notify[i], &body, &tmp);

		if (v != 0 && first == 0) {
			first = v;
			bg_fail(e, v, "%s", tmp.msg);
		}
	}
	buf_release(&body);
	return first;
}
