/*
 * notify.c - webhooks and mail for statements awaiting signatures
 * (notify.h): webhooks posted through http.c (libcurl, loaded when a hook
 * is called), mail handed to the local /usr/sbin/sendmail (an argv, the
 * message on its standard input).
 */
#include "notify.h"
#include "http.h"
#include "json.h"
#include "proc.h"
#include "utc.h"

#include <stdio.h>
#include <string.h>

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
message(const statement *s, buf *text)
{
	char tkt[32], project[128], requester[256], until[UTC_STRLEN];

	stmt_line(s->text, "ticket", tkt, sizeof(tkt));
	stmt_line(s->text, "project", project, sizeof(project));
	stmt_line(s->text, "requester", requester, sizeof(requester));
	utc_format(s->valid_until, until);
	return buf_printf(text, "breakglass: %s of %s (project %s, requested by %s) awaits "
	    "your signature until %s. Statement sha256 %s: get it with 'breakglass approve "
	    "%s --statement --for %s', check that hash, sign with 'ssh-keygen -Y sign -n "
	    "breakglass'.", strcmp(s->kind, "confirm") == 0 ? "the emergency confirmation" :
	    strcmp(s->kind, "plan") == 0 ? "the fix plan" : strcmp(s->kind, "risk") == 0 ?
	    "a risk acceptance" : "a smoke-test waiver", tkt, project, requester, until,
	    s->hash, tkt, s->kind);
}

/* a mail through the local sendmail: headers of fixed words and checked
 * fields only (no line break can come from the statement) */
static int
mail(const char *addr, const statement *s, bg_error *e)
{
	char tkt[32];
	char *argv[] = { "/usr/sbin/sendmail", "-i", "--", (char *)addr, NULL };
	buf msg, out;
	int r, st = 0;

	stmt_line(s->text, "ticket", tkt, sizeof(tkt));
	buf_init(&msg, 16384);
	buf_init(&out, 4096);
	if ((r = buf_printf(&msg, "To: %s\nSubject: breakglass: %s %s statement awaits your "
	    "signature\nAuto-Submitted: auto-generated\nMIME-Version: 1.0\nContent-Type: "
	    "text/plain; charset=utf-8\n\n", addr, tkt, s->kind)) != 0 ||
	    (r = message(s, &msg)) != 0 || (r = buf_putc(&msg, '\n')) != 0)
		goto out;
	if ((r = proc_run_timeout(argv, msg.data, msg.len, &out, &st, 30000, e)) != 0)
		r = bg_fail(e, r, "notify: mail to %.200s: cannot run /usr/sbin/sendmail (install an "
		    "MTA, e.g. exim4-daemon-light): %.200s", addr, e ? e->msg : "");
	else if (st != 0)
		r = bg_fail(e, BG_ERR_IO, "notify: mail to %.200s: sendmail exited %d: %.200s", addr,
		    st, buf_cstr(&out));
out:
	buf_release(&msg);
	buf_release(&out);
	return r;
}

static int
payload(const statement *s, buf *out)
{
	char tkt[32], project[128], requester[256];
	buf text;
	json j;
	int r;

	stmt_line(s->text, "ticket", tkt, sizeof(tkt));
	stmt_line(s->text, "project", project, sizeof(project));
	stmt_line(s->text, "requester", requester, sizeof(requester));
	buf_init(&text, 4096);
	if ((r = message(s, &text)) != 0) {
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
	http_req req;
	http_resp resp;
	int r;

	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.url = url;
	req.content_type = "application/json";
	req.body = body->data;
	req.body_len = body->len;
	req.timeout_s = 10;
	req.user_agent = "breakglass-notify/1";
	if ((r = http_request(&req, &resp, e)) != 0)
		return r;
	if (!resp.complete)
		return bg_fail(e, BG_ERR_IO, "notify: webhook %.200s: %s", url, resp.error);
	if (resp.status < 200 || resp.status > 299)
		return bg_fail(e, BG_ERR_IO, "notify: webhook %.200s answered HTTP %ld", url,
		    resp.status);
	return 0;
}

int
notify_statement(const home *h, const statement *s, bg_error *e)
{
	buf body;
	bg_error tmp;
	int r = 0, first = 0;

	if (h->n_notify == 0)
		return 0;
	buf_init(&body, 16384);
	if ((r = payload(s, &body)) != 0) {
		buf_release(&body);
		return r;
	}
	/* every hook gets its message, whichever fails */
	for (size_t i = 0; i < h->n_notify; i++) {
		int v = strncmp(h->notify[i], "mailto:", 7) == 0 ?
		    mail(h->notify[i] + 7, s, &tmp) : post(h->notify[i], &body, &tmp);

		if (v != 0 && first == 0) {
			first = v;
			bg_fail(e, v, "%s", tmp.msg);
		}
	}
	buf_release(&body);
	return first;
}
