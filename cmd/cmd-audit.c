/*
 * cmd-audit.c - breakglass audit verify|export.
 */
#include "cmd.h"
#include "ticket.h"

#include <stdio.h>
#include <string.h>

static const char usage_text[] =
	"usage: breakglass audit verify [--json]\n"
	"       breakglass audit export [--ticket T] [--json]\n\n"
	"verify re-derives every record's hash, the chain, every signed checkpoint\n"
	"and the signed head; it exits 1 and names the first bad record when a\n"
	"record was modified, deleted, reordered or the log truncated.  export\n"
	"prints the verified records as a JSON array.\n";

static const opt_def defs[] = {
	{ "--ticket", OPT_ARG },
	{ NULL, 0 }
};

int
cmd_audit(int argc, char **argv)
{
	cmd_args a;
	home *h = NULL;
	bg_error e;
	int r;

	if ((r = cmd_parse("audit", argc, argv, defs, &a)) != 0)
		return r;
	if (a.help)
		return cmd_usage(usage_text);
	if (a.npos != 1 || (strcmp(a.pos[0], "verify") && strcmp(a.pos[0], "export")))
		return cmd_failf(EXIT_USAGE, "audit: expected verify or export");
	if ((r = cmd_open_home(&a, &h)) != 0)
		return r;
	bg_error_clear(&e);
	if (strcmp(a.pos[0], "verify") == 0) {
		audit_report rep;

		r = audit_verify(&h->log, &rep, &e);
		if (a.json)
			printf("{\"ok\":%s,\"records\":%llu,\"checkpoints\":%llu,\"first_bad\":%llu}\n",
			    r == 0 ? "true" : "false", (unsigned long long)rep.records,
			    (unsigned long long)rep.checkpoints, (unsigned long long)rep.bad_seq);
		if (r != 0)
			r = cmd_fail(r, &e);
		else if (!a.json)
			printf("audit log intact: %llu records, %llu signed checkpoints, head signed\n",
			    (unsigned long long)rep.records, (unsigned long long)rep.checkpoints);
	} else {
		buf out;
		int64_t tid = 0;

		if (cmd_opt(&a, 0) && (r = cmd_ticket_id(cmd_opt(&a, 0), &tid)) != 0) {
			home_close(h);
			return r;
		}
		buf_init(&out, 1024u * 1024 * 1024);
		if ((r = audit_export(&h->log, tid, &out, &e)) != 0)
			r = cmd_fail(r, &e);
		else
			r = cmd_write_out(&out);
		buf_release(&out);
	}
	home_close(h);
	return r;
}
