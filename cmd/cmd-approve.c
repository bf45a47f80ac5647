/*
 * cmd-approve.c - breakglass approve: print a statement to sign, or
 * record a signature over one.
 */
#include "approval.h"
#include "cmd.h"
#include "notify.h"
#include "fileio.h"
#include "json.h"
#include "sshsig.h"
#include "utc.h"

#include <stdio.h>
#include <string.h>

static const char usage_text[] =
	"usage: breakglass approve T --statement --for KIND [--reason TEXT] [-o FILE]\n"
	"       breakglass approve T --signature FILE|-\n\n"
	"--statement prints the canonical statement for the approver to sign, exactly:\n"
	"    breakglass approve T-1 --statement --for confirm -o confirm.txt\n"
	"    ssh-keygen -Y sign -n breakglass -f ~/.ssh/id_ed25519 confirm.txt\n"
	"    breakglass approve T-1 --signature confirm.txt.sig\n"
	"KIND is what the approvers sign:\n"
	"  confirm            emergency mode for the ticket (step 1)\n"
	"  risk               write access without backup evidence (--reason)\n"
	"  plan               the fix plan, its artifacts and write grants\n"
	"  smoke-waiver       closing without a smoke test (--reason)\n"
	"  resolved           the owner: the affected flow works after the fix;\n"
	"                     needed to close the ticket\n"
	"  close-unconfirmed  closing without the owner's confirmation (--reason)\n"
	"The requester can never approve their own ticket.  A statement stays\n"
	"valid for approval-ttl (config, default 8h).\n";

static const opt_def defs[] = {
	{ "--statement", 0 },
	{ "--for", OPT_ARG },
	{ "--reason", OPT_ARG },
	{ "-o", OPT_ARG },
	{ "--signature", OPT_ARG },
	{ NULL, 0 }
};

int
cmd_approve(int argc, char **argv)
{
	cmd_args a;
	home *h = NULL;
	bg_error e;
	int64_t tid;
	int r;

	if ((r = cmd_parse("approve", argc, argv, defs, &a)) != 0)
		return r;
	if (a.help)
		return cmd_usage(usage_text);
	if (a.npos != 1)
		return cmd_failf(EXIT_USAGE, "approve: name one ticket");
	if ((r = cmd_ticket_id(a.pos[0], &tid)) != 0)
		return r;
	if (a.val[0].set == (cmd_opt(&a, 4) != NULL))
		return cmd_failf(EXIT_USAGE, "approve: give either --statement or --signature");
	bg_error_clear(&e);
	if (a.val[0].set) {
		statement *s = NULL;

		if (cmd_opt(&a, 1) == NULL)
			return cmd_failf(EXIT_USAGE, "approve --statement: say what for with --for "
			    "confirm|risk|plan|smoke-waiver|resolved|close-unconfirmed");
		if ((r = cmd_open_home(&a, &h)) != 0)
			return r;
		if ((r = statement_issue(h, tid, cmd_opt(&a, 1), cmd_opt(&a, 2), &s, &e)) != 0) {
			home_close(h);
			return cmd_fail(r, &e);
		}
		/* a new statement awaits signatures: tell the approvers (a hook that
		 * fails is reported; the statement stands) */
		if (s->fresh && notify_statement(h, s, &e) != 0)
			fprintf(stderr, "breakglass: warning: %s\n", e.msg);
		if (cmd_opt(&a, 3) != NULL) {
			r = fileio_write_atomic(cmd_opt(&a, 3), s->text, strlen(s->text), 0644, 0, &e);
			if (r != 0)
				r = cmd_fail(r, &e);
			else
				fprintf(stderr, "statement %lld (sha256 %s) written to '%s'; sign it with:\n"
				    "  ssh-keygen -Y sign -n breakglass -f KEY %s\n", (long long)s->id,
				    s->hash, cmd_opt(&a, 3), cmd_opt(&a, 3));
		} else if (a.json) {
			buf out;
			json j;

			buf_init(&out, 128 * 1024);
			json_init(&j, &out);
			json_obj_begin(&j);
			json_kv_int(&j, "statement", s->id);
			json_kv_str(&j, "kind", s->kind);
			json_kv_str(&j, "sha256", s->hash);
			json_kv_time(&j, "valid_until", s->valid_until);
			json_kv_str(&j, "text", s->text);
			json_obj_end(&j);
			buf_putc(&out, '\n');
			r = cmd_write_out(&out);
			buf_release(&out);
		} else {
			fputs(s->text, stdout);
			r = fflush(stdout) == 0 ? 0 : EXIT_SYSTEM;
		}
		statement_free(s);
	} else {
		approval_result res;
		buf sig;

		buf_init(&sig, SSHSIG_MAX_ARMOURED + 1);
		if ((r = fileio_read(cmd_opt(&a, 4), SSHSIG_MAX_ARMOURED, &sig, &e)) != 0) {
			buf_release(&sig);
			return cmd_fail(r, &e);
		}
		if ((r = cmd_open_home(&a, &h)) != 0) {
			buf_release(&sig);
			return r;
		}
		if ((r = approval_record(h, tid, buf_cstr(&sig), sig.len, &res, &e)) != 0) {
			r = cmd_fail(r, &e);
		} else if (a.json) {
			printf("{\"ticket\":\"T-%lld\",\"kind\":\"%s\",\"statement\":%lld,"
			    "\"principal\":\"%s\",\"signatures\":%d,\"quorum\":%d}\n", (long long)tid,
			    res.kind, (long long)res.statement, res.principal, res.signatures, res.quorum);
		} else {
			printf("T-%lld: %s approval by %s recorded (%d of %d signatures)\n",
			    (long long)tid, res.kind, res.principal, res.signatures, res.quorum);
		}
		if (r == 0 && strcmp(res.kind, "confirm") == 0)
			r = cmd_freeze_publish(h); /* a confirmed emergency freezes its systems */
		buf_release(&sig);
	}
	home_close(h);
	return r;
}
