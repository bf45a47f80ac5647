/*
 * cmd-audit.c - breakglass audit verify|export.
 */
#include "cmd.h"
#include "fileio.h"
#include "sshkey.h"
#include "ticket.h"

#include <stdio.h>
#include <string.h>

static const char usage_text[] =
	"usage: breakglass audit verify [--json] [--dir HOSTLOGDIR]\n"
	"       breakglass audit export [--ticket T] [--json] [--dir HOSTLOGDIR]\n\n"
	"Without --dir: the broker's log in the home.  With --dir: a host's gate log\n"
	"(checked against the public half of DIR/host.key).\n\n"
	"verify re-derives every record's hash, the chain, every signed checkpoint\n"
	"and the signed head; it exits 1 and names the first bad record when a\n"
	"record was modified, deleted, reordered or the log truncated.  export\n"
	"prints the verified records as a JSON array.\n";

static const opt_def defs[] = {
	{ "--ticket", OPT_ARG },
	{ "--dir", OPT_ARG },
	{ NULL, 0 }
};

/* A host log: the key file's public half is the verification key. */
static int
open_host_log(const char *dir, audit_log *log, bg_error *e)
{
	sshkey_priv k;
	int r;

	if ((r = audit_host_key(dir, &k, e)) == 0) {
		r = audit_open(log, dir, NULL, k.pk, e);
		sshkey_priv_release(&k);
	}
	return r;
}

int
cmd_audit(int argc, char **argv)
{
	cmd_args a;
	home *h = NULL;
	audit_log hostlog, *log;
	bg_error e;
	int r;

	if ((r = cmd_parse("audit", argc, argv, defs, &a)) != 0)
		return r;
	if (a.help)
		return cmd_usage(usage_text);
	if (a.npos != 1 || (strcmp(a.pos[0], "verify") && strcmp(a.pos[0], "export")))
		return cmd_failf(EXIT_USAGE, "audit: expected verify or export");
	bg_error_clear(&e);
	if (cmd_opt(&a, 1) != NULL) {
		if ((r = open_host_log(cmd_opt(&a, 1), &hostlog, &e)) != 0)
			return cmd_fail(r == BG_ERR_NOTFOUND ? BG_ERR_CORRUPT : r, &e);
		log = &hostlog;
	} else {
		if ((r = cmd_open_home(&a, &h)) != 0)
			return r;
		log = &h->log;
	}
	if (strcmp(a.pos[0], "verify") == 0) {
		audit_report rep;

		r = audit_verify(log, &rep, &e);
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
			if (log == &hostlog)
				audit_close(&hostlog);
			return r;
		}
		buf_init(&out, 1024u * 1024 * 1024);
		if ((r = audit_export(log, tid, &out, &e)) != 0)
			r = cmd_fail(r, &e);
		else
			r = cmd_write_out(&out);
		buf_release(&out);
	}
	if (log == &hostlog)
		audit_close(&hostlog);
	home_close(h);
	return r;
}
