/*
 * cmd-approver.c - breakglass approver add|import|remove|quorum|list.
 */
#include "approval.h"
#include "cmd.h"
#include "fileio.h"
#include "json.h"
#include "utc.h"

#include <stdio.h>
#include <string.h>

static const char usage_text[] =
	"usage: breakglass approver add --project P --principal EMAIL --key KEY.pub [--name NAME]\n"
	"                  [--statement [-o FILE] | --roster FILE --signature SIG...]\n"
	"       breakglass approver import --project P ALLOWED_SIGNERS_FILE\n"
	"       breakglass approver remove --project P --principal EMAIL\n"
	"                  [--statement [-o FILE] | --roster FILE --signature SIG...]\n"
	"       breakglass approver quorum N --project P\n"
	"                  [--statement [-o FILE] | --roster FILE --signature SIG...]\n"
	"       breakglass approver list --project P [--allowed-signers] [--json]\n\n"
	"Approvers own production and sign approvals with their SSH key\n"
	"(ssh-keygen -Y sign -n breakglass).  They are kept in OpenSSH\n"
	"allowed_signers form; --allowed-signers prints that file.  An approver\n"
	"is a user (breakglass user): a key belongs to one user only.\n\n"
	"Only an admin changes approvers.  Once a project has approvers, a change\n"
	"needs their consent: --statement prints the roster statement for the\n"
	"change, the project's quorum of approvers sign it, and the same command\n"
	"with --roster FILE --signature SIG (one per signer) makes it.  The same\n"
	"goes for the quorum (how many approver signatures the project needs):\n"
	"lowering it is the approvers' decision, not an admin's.  A project's last\n"
	"approver is never removed (add the new one first), nor one that would\n"
	"leave fewer approvers than the quorum.  import is for a project's first\n"
	"approvers.\n";

static const opt_def defs[] = {
	{ "--project", OPT_ARG },
	{ "--principal", OPT_ARG },
	{ "--key", OPT_ARG },
	{ "--name", OPT_ARG },
	{ "--allowed-signers", 0 },
	{ "--statement", 0 },
	{ "-o", OPT_ARG },
	{ "--roster", OPT_ARG },
	{ "--signature", OPT_ARG | OPT_MULTI },
	{ NULL, 0 }
};

enum { O_STATEMENT = 5, O_OUT, O_ROSTER, O_SIG };

/*
 * The roster part of add and remove: --statement prints (or writes) the
 * statement and returns 1; --roster/--signature are read into ro (texts
 * in bufs[]).  0 to go on, else an exit code.
 */
static int
roster_args(cmd_args *a, home *h, const char *proj, const char *op, const char *principal,
    const char *keyline, buf *stmt, buf sigs[OPT_MAXVALS], const char *sigp[OPT_MAXVALS],
    approver_roster *ro, int *printed)
{
	bg_error e;
	buf change;
	int r = 0, i;

	*printed = 0;
	bg_error_clear(&e);
	if (a->val[O_STATEMENT].set) {
		if (a->val[O_ROSTER].set || a->val[O_SIG].set)
			return cmd_failf(EXIT_USAGE, "approver %s: --statement prints the statement "
			    "to sign; --roster and --signature come after", op);
		buf_init(&change, 16384);
		if ((r = approver_change_text(op, principal, keyline, &change, &e)) != 0 ||
		    (r = approver_roster_statement(h, proj, change.data, stmt, &e)) != 0)
			r = cmd_fail(r, &e);
		else if (cmd_opt(a, O_OUT) != NULL) {
			if ((r = fileio_write_atomic(cmd_opt(a, O_OUT), stmt->data, stmt->len, 0644, 0,
			    &e)) != 0)
				r = cmd_fail(r, &e);
			else
				printf("roster statement written to %s: each approver signs it with\n"
				    "  ssh-keygen -Y sign -n breakglass -f KEY %s\n", cmd_opt(a, O_OUT),
				    cmd_opt(a, O_OUT));
		} else
			r = cmd_write_out(stmt);
		buf_release(&change);
		*printed = 1;
		return r;
	}
	if (!a->val[O_ROSTER].set) {
		if (a->val[O_SIG].set)
			return cmd_failf(EXIT_USAGE, "approver %s: --signature goes with --roster FILE",
			    op);
		return 0;
	}
	if (!a->val[O_SIG].set)
		return cmd_failf(EXIT_USAGE, "approver %s: --roster needs the approvers' "
		    "--signature files", op);
	if ((r = fileio_read(cmd_opt(a, O_ROSTER), 64 * 1024, stmt, &e)) != 0)
		return cmd_fail(r, &e);
	if (buf_has_nul(stmt))
		return cmd_failf(EXIT_USAGE, "approver %s: '%s' is not a roster statement", op,
		    cmd_opt(a, O_ROSTER));
	for (i = 0; i < a->val[O_SIG].n; i++) {
		if ((r = fileio_read(a->val[O_SIG].all[i], 64 * 1024, &sigs[i], &e)) != 0)
			return cmd_fail(r, &e);
		if (buf_has_nul(&sigs[i]))
			return cmd_failf(EXIT_USAGE, "approver %s: '%s' is not a signature", op,
			    a->val[O_SIG].all[i]);
		sigp[i] = buf_cstr(&sigs[i]);
	}
	ro->statement = buf_cstr(stmt);
	ro->sigs = sigp;
	ro->nsigs = (size_t)a->val[O_SIG].n;
	return 0;
}

int
cmd_approver(int argc, char **argv)
{
	cmd_args a;
	home *h = NULL;
	buf in, out, stmt, sigs[OPT_MAXVALS];
	const char *sigp[OPT_MAXVALS];
	approver_roster ro = { NULL, NULL, 0 };
	bg_error e;
	const char *sub, *proj;
	int r, i, printed = 0;

	if ((r = cmd_parse("approver", argc, argv, defs, &a)) != 0)
		return r;
	if (a.help)
		return cmd_usage(usage_text);
	if (a.npos < 1)
		return cmd_failf(EXIT_USAGE, "approver: expected add, import, remove, quorum or list");
	sub = a.pos[0];
	if (strcmp(sub, "add") && strcmp(sub, "import") && strcmp(sub, "remove") &&
	    strcmp(sub, "quorum") && strcmp(sub, "list")) {
		static const char *const subs[] = { "add", "import", "remove", "quorum", "list",
			NULL };

		return cmd_unknown_sub("approver", sub, subs);
	}
	proj = cmd_opt(&a, 0);
	if (proj == NULL)
		return cmd_failf(EXIT_USAGE, "approver %s: --project is required", sub);
	buf_init(&in, 1024 * 1024);
	buf_init(&out, 1024 * 1024);
	buf_init(&stmt, 64 * 1024);
	for (i = 0; i < OPT_MAXVALS; i++)
		buf_init(&sigs[i], 64 * 1024);
	bg_error_clear(&e);
	if ((a.val[O_STATEMENT].set || a.val[O_ROSTER].set || a.val[O_SIG].set ||
	    a.val[O_OUT].set) && strcmp(sub, "add") != 0 && strcmp(sub, "remove") != 0 &&
	    strcmp(sub, "quorum") != 0) {
		r = cmd_failf(EXIT_USAGE, "approver %s: --statement, -o, --roster and --signature "
		    "are for add, remove and quorum", sub);
		goto out;
	}
	if (strcmp(sub, "add") == 0) {
		if (cmd_opt(&a, 1) == NULL || cmd_opt(&a, 2) == NULL || a.npos != 1) {
			r = cmd_failf(EXIT_USAGE, "approver add: --principal and --key are required");
			goto out;
		}
		if ((r = fileio_read(cmd_opt(&a, 2), 64 * 1024, &in, &e)) != 0) {
			r = cmd_fail(r, &e);
			goto out;
		}
		if (buf_has_nul(&in)) {
			r = cmd_failf(EXIT_USAGE, "approver add: '%s' is not a public key file",
			    cmd_opt(&a, 2));
			goto out;
		}
		if ((r = cmd_open_home(&a, &h)) != 0)
			goto out;
		if ((r = roster_args(&a, h, proj, "add", cmd_opt(&a, 1), buf_cstr(&in), &stmt, sigs,
		    sigp, &ro, &printed)) != 0 || printed)
			goto out;
		if ((r = approver_add(h, proj, cmd_opt(&a, 1), cmd_opt(&a, 3), buf_cstr(&in),
		    ro.statement ? &ro : NULL, &e)) != 0) {
			r = cmd_fail(r, &e);
			goto out;
		}
		if (a.json)
			r = cmd_json_done("project", proj, "approver", cmd_opt(&a, 1), "state",
			    "registered", NULL);
		else
			buf_printf(&out, "approver '%s' registered for project '%s'\n", cmd_opt(&a, 1),
			    proj);
	} else if (strcmp(sub, "import") == 0) {
		int added;

		if (a.npos != 2) {
			r = cmd_failf(EXIT_USAGE, "approver import: name one allowed_signers file");
			goto out;
		}
		if ((r = fileio_read(a.pos[1], 1024 * 1024, &in, &e)) != 0) {
			r = cmd_fail(r, &e);
			goto out;
		}
		if ((r = cmd_open_home(&a, &h)) != 0)
			goto out;
		if ((r = approver_import(h, proj, buf_cstr(&in), in.len, &added, &e)) != 0) {
			char msg[sizeof(e.msg)];

			snprintf(msg, sizeof(msg), "%.200s: %.300s", a.pos[1], e.msg);
			memcpy(e.msg, msg, sizeof(msg));
			r = cmd_fail(r, &e);
			goto out;
		}
		if (a.json) {
			char n[16];

			snprintf(n, sizeof(n), "%d", added);
			r = cmd_json_done("project", proj, "registered", n, NULL);
		} else
			buf_printf(&out, "%d approver(s) registered for project '%s'\n", added, proj);
	} else if (strcmp(sub, "remove") == 0) {
		if (cmd_opt(&a, 1) == NULL) {
			r = cmd_failf(EXIT_USAGE, "approver remove: --principal is required");
			goto out;
		}
		if ((r = cmd_open_home(&a, &h)) != 0)
			goto out;
		if ((r = roster_args(&a, h, proj, "remove", cmd_opt(&a, 1), NULL, &stmt, sigs,
		    sigp, &ro, &printed)) != 0 || printed)
			goto out;
		if ((r = approver_remove(h, proj, cmd_opt(&a, 1), ro.statement ? &ro : NULL,
		    &e)) != 0) {
			r = cmd_fail(r, &e);
			goto out;
		}
		if (a.json)
			r = cmd_json_done("project", proj, "approver", cmd_opt(&a, 1), "state", "removed",
			    NULL);
		else
			buf_printf(&out, "approver '%s' removed from project '%s'\n", cmd_opt(&a, 1),
			    proj);
	} else if (strcmp(sub, "quorum") == 0) {
		const char *n = a.npos == 2 ? a.pos[1] : "";

		if (a.npos != 2 || n[0] < '1' || n[0] > '9' || n[1] != '\0') {
			r = cmd_failf(EXIT_USAGE, "approver quorum: give the number of approver "
			    "signatures the project needs, 1 to 9");
			goto out;
		}
		if ((r = cmd_open_home(&a, &h)) != 0)
			goto out;
		if ((r = roster_args(&a, h, proj, "quorum", n, NULL, &stmt, sigs, sigp, &ro,
		    &printed)) != 0 || printed)
			goto out;
		if ((r = approver_set_quorum(h, proj, n[0] - '0', ro.statement ? &ro : NULL,
		    &e)) != 0) {
			r = cmd_fail(r, &e);
			goto out;
		}
		if (a.json)
			r = cmd_json_done("project", proj, "quorum", n, NULL);
		else
			buf_printf(&out, "project '%s' now needs %s approver signature(s)\n", proj, n);
	} else if (strcmp(sub, "list") == 0) {
		if ((r = cmd_open_home(&a, &h)) != 0)
			goto out;
		if (a.val[4].set) {
			if ((r = approver_export(h, proj, &out, &e)) != 0)
				r = cmd_fail(r, &e);
		} else {
			sqlite3_stmt *st;
			json j;

			if ((r = store_prepare(h->st, "SELECT principal, name, fingerprint, added, "
			    "added_by FROM approvers WHERE project = ? AND removed IS NULL ORDER BY id",
			    &st, &e)) != 0) {
				r = cmd_fail(r, &e);
				goto out;
			}
			store_bind_text(st, 1, proj);
			json_init(&j, &out);
			if (a.json)
				json_arr_begin(&j);
			while (sqlite3_step(st) == SQLITE_ROW) {
				char t[UTC_STRLEN];

				utc_format(sqlite3_column_int64(st, 3), t);
				if (a.json) {
					json_obj_begin(&j);
					json_kv_str(&j, "principal", store_col_text(st, 0));
					json_kv_str(&j, "name", store_col_text(st, 1));
					json_kv_str(&j, "fingerprint", store_col_text(st, 2));
					json_kv_str(&j, "added", t);
					json_kv_str(&j, "added_by", store_col_text(st, 4));
					json_obj_end(&j);
				} else
					buf_printf(&out, "%-32s %s  %s  added %s by %s\n",
					    store_col_text(st, 0), store_col_text(st, 2),
					    store_col_text(st, 1), t, store_col_text(st, 4));
			}
			sqlite3_finalize(st);
			if (a.json) {
				json_arr_end(&j);
				buf_putc(&out, '\n');
			}
		}
	} else {
		r = cmd_failf(EXIT_USAGE, "approver: unknown subcommand '%s'", sub);
		goto out;
	}
	if (r == 0)
		r = cmd_write_out(&out);
out:
	home_close(h);
	buf_release(&in);
	buf_release(&out);
	buf_release(&stmt);
	for (i = 0; i < OPT_MAXVALS; i++)
		buf_release(&sigs[i]);
	return r;
}
