/*
 * cmd-ticket.c - breakglass ticket template|open|show|list|status|set|
 * comment|close|withdraw.
 */
#include "cmd.h"
#include "fileio.h"
#include "json.h"
#include "kv.h"
#include "ticket.h"
#include "utc.h"
#include "workflow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
	"usage: breakglass ticket template\n"
	"       breakglass ticket open --from FILE|- [--duplicate]\n"
	"       breakglass ticket open --project P --system S --requester EMAIL --broken TEXT\n"
	"                              --started TIME [--FIELD VALUE ...] [--duplicate]\n"
	"       breakglass ticket show T [--json]\n"
	"       breakglass ticket list [--status open|closed|withdrawn|all] [--json]\n"
	"       breakglass ticket status T [--json]\n"
	"       breakglass ticket set T FIELD VALUE\n"
	"       breakglass ticket comment T (--text TEXT | --from FILE|-)\n"
	"       breakglass ticket close T\n"
	"       breakglass ticket withdraw T --reason TEXT\n\n"
	"Fields (see 'ticket template'): project system requester production-url\n"
	"affected-flow broken started changed-before evidence reproduce\n"
	"last-known-good deploy-method repository production-branch staging-url\n"
	"log-access backup-status rollback-method approver-name approver-email\n"
	"window-start window-end timezone.  Times have their zone (2026-11-21T02:10Z,\n"
	"2026-11-21 03:10 +01:00) and are stored in UTC.  Every problem of a form is\n"
	"reported at once, each with its line.  An intake identical to an open\n"
	"ticket's is refused, naming it, unless --duplicate.  Input with secrets\n"
	"(keys, tokens, passwords) is refused.\n";

#define NFIELDS 23

static opt_def defs[NFIELDS + 6];
static char names[NFIELDS][40];

enum { O_FROM = NFIELDS, O_STATUS, O_TEXT, O_REASON, O_DUPLICATE };

static void
build_defs(void)
{
	int i;

	for (i = 0; ticket_schema[i].name && i < NFIELDS; i++) {
		snprintf(names[i], sizeof(names[i]), "--%s", ticket_schema[i].name);
		defs[i].name = names[i];
		defs[i].flags = OPT_ARG;
	}
	defs[O_FROM] = (opt_def){ "--from", OPT_ARG };
	defs[O_STATUS] = (opt_def){ "--status", OPT_ARG };
	defs[O_TEXT] = (opt_def){ "--text", OPT_ARG };
	defs[O_REASON] = (opt_def){ "--reason", OPT_ARG };
	defs[O_DUPLICATE] = (opt_def){ "--duplicate", 0 };
	defs[O_DUPLICATE + 1] = (opt_def){ NULL, 0 };
}

static int
do_open(cmd_args *a)
{
	home *h = NULL;
	kv_doc d;
	buf in;
	bg_error e;
	int64_t id;
	int r, i, any = 0;

	memset(&d, 0, sizeof(d));
	bg_error_clear(&e);
	buf_init(&in, KV_MAX_INPUT + 1);
	for (i = 0; i < NFIELDS; i++)
		any |= a->val[i].set;
	if (cmd_opt(a, O_FROM) != NULL && any)
		return cmd_failf(EXIT_USAGE, "ticket open: use --from or field options, not both");
	/* who opens it is the requester: an intake without the line gets theirs */
	if ((r = cmd_open_home(a, &h)) != 0) {
		buf_release(&in);
		return r;
	}
	if (cmd_opt(a, O_FROM) != NULL) {
		if ((r = fileio_read(cmd_opt(a, O_FROM), KV_MAX_INPUT, &in, &e)) != 0) {
			buf_release(&in);
			home_close(h);
			return cmd_fail(r, &e);
		}
		if (h->actor_user != 0 && !buf_has_nul(&in) && strncmp(buf_cstr(&in), "requester:",
		    10) != 0 && strstr(buf_cstr(&in), "\nrequester:") == NULL &&
		    ((in.len > 0 && in.data[in.len - 1] != '\n' && buf_putc(&in, '\n') != 0) ||
		    buf_printf(&in, "requester: %s\n", h->actor) != 0)) {
			buf_release(&in);
			home_close(h);
			return cmd_failf(EXIT_USAGE, "ticket open: the intake is too large");
		}
		r = ticket_parse(buf_cstr(&in), in.len, &d, &e);
		if (r != 0 && buf_has_nul(&in))
			bg_fail(&e, BG_ERR_INVALID, "input contains a NUL byte");
	} else {
		r = 0;
		for (i = 0; i < NFIELDS && r == 0; i++)
			if (a->val[i].set)
				r = kv_add(&d, ticket_schema, ticket_schema[i].name, a->val[i].v, &e);
		if (r == 0 && h->actor_user != 0 && kv_get(&d, "requester") == NULL)
			r = kv_add(&d, ticket_schema, "requester", h->actor, &e);
		for (i = 0; r == 0 && ticket_schema[i].name; i++)
			if ((ticket_schema[i].flags & KV_REQUIRED) && kv_get(&d, ticket_schema[i].name) == NULL)
				r = bg_fail(&e, BG_ERR_USAGE, "ticket open: --%s is required (or use --from)",
				    ticket_schema[i].name);
		if (r == 0 && (r = ticket_normalise(&d)) == 0)
			r = ticket_validate(&d, &e);
	}
	buf_release(&in);
	if (r != 0) {
		kv_doc_release(&d);
		home_close(h);
		return cmd_fail(r, &e);
	}
	if ((r = ticket_open(h, &d, a->val[O_DUPLICATE].set, &id, &e)) != 0)
		r = cmd_fail(r, &e);
	else if (a->json)
		printf("{\"ticket\":\"T-%lld\"}\n", (long long)id);
	else
		printf("opened T-%lld\n  next: breakglass ticket status T-%lld\n", (long long)id,
		    (long long)id);
	kv_doc_release(&d);
	home_close(h);
	return r;
}

static int
show(home *h, int64_t id, int as_json, buf *out)
{
	ticket *t = NULL;
	bg_error e;
	sqlite3_stmt *st;
	char b1[UTC_STRLEN], b2[UTC_STRLEN];
	size_t i;
	int r;

	bg_error_clear(&e);
	if ((r = ticket_load(h, id, &t, &e)) != 0)
		return cmd_fail(r, &e);
	utc_format(t->created, b1);
	if (t->closed)
		utc_format(t->closed, b2);
	if ((r = store_prepare(h->st, "SELECT author, time, body FROM comments WHERE ticket = ? "
	    "ORDER BY id", &st, &e)) != 0) {
		ticket_free(t);
		return cmd_fail(r, &e);
	}
	store_bind_int(st, 1, id);
	if (as_json) {
		json j;
		char idstr[32];

		json_init(&j, out);
		json_obj_begin(&j);

		snprintf(idstr, sizeof(idstr), "T-%lld", (long long)t->id);
		json_kv_str(&j, "id", idstr);
		json_kv_str(&j, "project", t->project);
		json_kv_str(&j, "requester", t->requester);
		json_kv_str(&j, "summary", t->summary);
		json_kv_str(&j, "status", t->status);
		json_kv_str(&j, "created", b1);
		json_kv_str(&j, "closed", t->closed ? b2 : NULL);
		json_kv_str(&j, "intake_sha256", t->intake_hash);
		json_key(&j, "fields");
		json_obj_begin(&j);
		for (i = 0; i < t->fields.n; i++)
			json_kv_str(&j, t->fields.items[i].key, t->fields.items[i].value);
		json_obj_end(&j);
		json_key(&j, "comments");
		json_arr_begin(&j);
		while (sqlite3_step(st) == SQLITE_ROW) {
			json_obj_begin(&j);
			json_kv_str(&j, "author", store_col_text(st, 0));
			json_kv_time(&j, "time", sqlite3_column_int64(st, 1));
			json_kv_str(&j, "body", store_col_text(st, 2));
			json_obj_end(&j);
		}
		json_arr_end(&j);
		json_obj_end(&j);
		buf_putc(out, '\n');
	} else {
		buf_printf(out, "T-%lld  %s  [%s]\n  project:   %s\n  requester: %s\n  opened:    %s\n",
		    (long long)t->id, t->summary, t->status, t->project, t->requester, b1);
		if (t->closed)
			buf_printf(out, "  ended:     %s%s%s\n", b2, t->close_note ? " - " : "",
			    t->close_note ? t->close_note : "");
		buf_printf(out, "  intake:    sha256 %s\n\n", t->intake_hash);
		buf_puts(out, t->intake);
		while (sqlite3_step(st) == SQLITE_ROW) {
			char b3[UTC_STRLEN];

			utc_format(sqlite3_column_int64(st, 1), b3);
			buf_printf(out, "\n-- comment by %s at %s\n%s\n", store_col_text(st, 0), b3,
			    store_col_text(st, 2));
		}
	}
	sqlite3_finalize(st);
	ticket_free(t);
	return 0;
}

static int
status(home *h, int64_t id, int as_json, buf *out)
{
	ticket *t = NULL;
	steps_status s;
	bg_error e;
	int r, i;

	bg_error_clear(&e);
	if ((r = ticket_load(h, id, &t, &e)) != 0 || (r = steps_status_now(h, t, &s, &e)) != 0) {
		ticket_free(t);
		return cmd_fail(r, &e);
	}
	if (as_json) {
		json j;
		char idstr[32];

		snprintf(idstr, sizeof(idstr), "T-%lld", (long long)id);
		json_init(&j, out);
		json_obj_begin(&j);
		json_kv_str(&j, "ticket", idstr);
		json_kv_str(&j, "status", t->status);
		json_kv_int(&j, "current_step", s.current);
		json_kv_str(&j, "current", s.current <= STEPS_N ? s.step[s.current - 1].name :
		    "ready to close");
		json_key(&j, "steps");
		json_arr_begin(&j);
		for (i = 0; i < STEPS_N; i++) {
			json_obj_begin(&j);
			json_kv_int(&j, "step", i + 1);
			json_kv_str(&j, "name", s.step[i].name);
			json_kv_bool(&j, "done", s.step[i].done);
			json_kv_str(&j, "missing", s.step[i].done ? NULL : s.step[i].missing);
			json_obj_end(&j);
		}
		json_arr_end(&j);
		json_kv_bool(&j, "write_access_possible", s.g.backup_ok);
		json_kv_int(&j, "grants_open", s.grants_open);
		json_obj_end(&j);
		buf_putc(out, '\n');
	} else {
		buf_printf(out, "T-%lld  %s  [%s]\n", (long long)id, t->summary, t->status);
		if (strcmp(t->status, "open") == 0) {
			if (s.current <= STEPS_N)
				buf_printf(out, "current step: %d %s\n", s.current,
				    s.step[s.current - 1].name);
			else
				buf_printf(out, "ready to close: breakglass ticket close T-%lld\n",
				    (long long)id);
		}
		for (i = 0; i < STEPS_N; i++) {
			buf_printf(out, "  %2d [%c] %s\n", i + 1, s.step[i].done ? 'x' : ' ',
			    s.step[i].name);
			if (!s.step[i].done && strcmp(t->status, "open") == 0)
				buf_printf(out, "         missing: %s\n", s.step[i].missing);
		}
		if (!s.g.backup_ok && strcmp(t->status, "open") == 0)
			buf_puts(out, "only read-only (diagnostic) grants can be activated until backup "
			    "and rollback evidence exist\n");
	}
	ticket_free(t);
	return 0;
}

static int
list(home *h, const char *which, int as_json, buf *out)
{
	sqlite3_stmt *st;
	bg_error e;
	json j;
	int r;

	bg_error_clear(&e);
	if (which == NULL)
		which = "open";
	if (strcmp(which, "open") && strcmp(which, "closed") && strcmp(which, "withdrawn") &&
	    strcmp(which, "all"))
		return cmd_failf(EXIT_USAGE, "ticket list: --status is open, closed, withdrawn or all");
	if ((r = store_prepare(h->st, "SELECT id, project, status, created, summary FROM tickets "
	    "WHERE ?1 = 'all' OR status = ?1 ORDER BY id", &st, &e)) != 0)
		return cmd_fail(r, &e);
	store_bind_text(st, 1, which);
	json_init(&j, out);
	if (as_json)
		json_arr_begin(&j);
	while (sqlite3_step(st) == SQLITE_ROW) {
		char b[UTC_STRLEN], id[32];

		utc_format(sqlite3_column_int64(st, 3), b);
		snprintf(id, sizeof(id), "T-%lld", (long long)sqlite3_column_int64(st, 0));
		if (as_json) {
			json_obj_begin(&j);
			json_kv_str(&j, "id", id);
			json_kv_str(&j, "project", store_col_text(st, 1));
			json_kv_str(&j, "status", store_col_text(st, 2));
			json_kv_str(&j, "created", b);
			json_kv_str(&j, "summary", store_col_text(st, 4));
			json_obj_end(&j);
		} else
			buf_printf(out, "%-7s %-9s %-16s %s  %s\n", id, store_col_text(st, 2),
			    store_col_text(st, 1), b, store_col_text(st, 4));
	}
	sqlite3_finalize(st);
	if (as_json) {
		json_arr_end(&j);
		buf_putc(out, '\n');
	}
	return 0;
}

int
cmd_ticket(int argc, char **argv)
{
	cmd_args a;
	home *h = NULL;
	buf out;
	bg_error e;
	const char *sub;
	int64_t id = 0;
	char tname[32];
	int r;

	build_defs();
	if ((r = cmd_parse("ticket", argc, argv, defs, &a)) != 0)
		return r;
	if (a.help)
		return cmd_usage(usage_text);
	if (a.npos < 1)
		return cmd_failf(EXIT_USAGE, "ticket: expected template, open, show, list, status, "
		    "set, comment, close or withdraw");
	sub = a.pos[0];
	buf_init(&out, 16u * 1024 * 1024);
	bg_error_clear(&e);
	if (strcmp(sub, "template") == 0) {
		if (a.json) {
			r = cmd_no_json("ticket template", "it prints the form to fill in");
			goto out;
		}
		ticket_template(&out);
		r = cmd_write_out(&out);
		goto out;
	}
	if (strcmp(sub, "open") == 0) {
		r = a.npos == 1 ? do_open(&a) : cmd_failf(EXIT_USAGE, "ticket open: unexpected "
		    "argument '%s'", a.pos[1]);
		goto out;
	}
	if (strcmp(sub, "list") == 0) {
		if ((r = cmd_open_home(&a, &h)) == 0 &&
		    (r = list(h, cmd_opt(&a, O_STATUS), a.json, &out)) == 0)
			r = cmd_write_out(&out);
		goto out;
	}
	if (strcmp(sub, "show") && strcmp(sub, "status") && strcmp(sub, "set") &&
	    strcmp(sub, "comment") && strcmp(sub, "close") && strcmp(sub, "withdraw")) {
		static const char *const subs[] = { "template", "open", "show", "list", "status",
			"set", "comment", "close", "withdraw", NULL };

		r = cmd_unknown_sub("ticket", sub, subs);
		goto out;
	}
	if ((r = cmd_ticket_id(a.npos > 1 ? a.pos[1] : NULL, &id)) != 0)
		goto out;
	snprintf(tname, sizeof(tname), "T-%lld", (long long)id);
	if ((strcmp(sub, "set") == 0) != (a.npos == 4) ||
	    (strcmp(sub, "set") != 0 && a.npos != 2)) {
		r = cmd_failf(EXIT_USAGE, "ticket %s: wrong number of arguments (see --help)", sub);
		goto out;
	}
	if ((r = cmd_open_home(&a, &h)) != 0)
		goto out;
	if (strcmp(sub, "show") == 0) {
		if ((r = show(h, id, a.json, &out)) == 0)
			r = cmd_write_out(&out);
	} else if (strcmp(sub, "status") == 0) {
		if ((r = status(h, id, a.json, &out)) == 0)
			r = cmd_write_out(&out);
	} else if (strcmp(sub, "set") == 0) {
		if ((r = ticket_set(h, id, a.pos[2], a.pos[3], &e)) != 0)
			r = cmd_fail(r, &e);
		else if (a.json)
			r = cmd_json_done("ticket", tname, "updated", a.pos[2], NULL);
		else
			printf("T-%lld: %s updated\n", (long long)id, a.pos[2]);
	} else if (strcmp(sub, "comment") == 0) {
		buf in;

		buf_init(&in, 16385);
		if ((cmd_opt(&a, O_TEXT) == NULL) == (cmd_opt(&a, O_FROM) == NULL))
			r = cmd_failf(EXIT_USAGE, "ticket comment: give --text or --from");
		else if (cmd_opt(&a, O_TEXT) != NULL)
			r = buf_puts(&in, cmd_opt(&a, O_TEXT));
		else if ((r = fileio_read(cmd_opt(&a, O_FROM), 16384, &in, &e)) != 0)
			r = cmd_fail(r, &e);
		if (r == 0 && buf_has_nul(&in))
			r = cmd_failf(EXIT_USAGE, "ticket comment: input contains a NUL byte");
		if (r == 0 && (r = ticket_comment(h, id, buf_cstr(&in), &e)) != 0)
			r = cmd_fail(r, &e);
		else if (r == 0 && a.json)
			r = cmd_json_done("ticket", tname, "comment", "added", NULL);
		else if (r == 0)
			printf("T-%lld: comment added\n", (long long)id);
		buf_release(&in);
	} else if (strcmp(sub, "close") == 0) {
		if ((r = workflow_close(h, id, &e)) != 0)
			r = cmd_fail(r, &e);
		else {
			buf rp;

			buf_init(&rp, 4096);
			buf_printf(&rp, "%s/reports/T-%lld.md", h->dir, (long long)id);
			if (a.json)
				cmd_json_done("ticket", tname, "status", "closed", "report", buf_cstr(&rp),
				    NULL);
			else
				printf("T-%lld closed; report: %s\n", (long long)id, buf_cstr(&rp));
			buf_release(&rp);
			r = cmd_freeze_publish(h); /* the freeze ends with the emergency */
		}
	} else {
		if ((r = workflow_withdraw(h, id, cmd_opt(&a, O_REASON), &e)) != 0)
			r = cmd_fail(r, &e);
		else {
			if (a.json)
				cmd_json_done("ticket", tname, "status", "withdrawn", NULL);
			else
				printf("T-%lld withdrawn\n", (long long)id);
			r = cmd_freeze_publish(h);
		}
	}
out:
	home_close(h);
	buf_release(&out);
	return r;
}
