/*
 * cmd-user.c - breakglass user add|key|role|remove|list.
 */
#include "cmd.h"
#include "fileio.h"
#include "users.h"

#include <stdio.h>
#include <string.h>

static const char usage_text[] =
	"usage: breakglass user add EMAIL --key KEY.pub [--key ...] [--name NAME] [--role ROLE ...]\n"
	"       breakglass user key add EMAIL --key KEY.pub\n"
	"       breakglass user role add|remove EMAIL ROLE\n"
	"       breakglass user remove EMAIL\n"
	"       breakglass user list [--json]\n\n"
	"Users of the broker: an email (what intake's requester and approver-email\n"
	"lines name), a name, SSH keys (a key belongs to one user only; DSA keys are\n"
	"refused) and roles: admin (adds projects, users and approvers), responder\n"
	"(opens tickets, requests grants, submits plans), operator (runs client-\n"
	"executed runbooks).  Approver is a role per project: breakglass approver.\n"
	"Only an admin changes users; root and the broker's service account are\n"
	"admins on the broker host.  When remote use is set up (breakglass broker\n"
	"setup), every change rewrites the service account's authorized_keys.\n";

static const opt_def defs[] = {
	{ "--key", OPT_ARG | OPT_MULTI },
	{ "--name", OPT_ARG },
	{ "--role", OPT_ARG | OPT_MULTI },
	{ NULL, 0 }
};

static int
read_keys(const cmd_args *a, buf keys[OPT_MAXVALS], const char *kp[OPT_MAXVALS])
{
	bg_error e;
	int i, r;

	bg_error_clear(&e);
	for (i = 0; i < a->val[0].n; i++) {
		if ((r = fileio_read(a->val[0].all[i], 64 * 1024, &keys[i], &e)) != 0)
			return cmd_fail(r, &e);
		if (buf_has_nul(&keys[i]))
			return cmd_failf(EXIT_USAGE, "user: '%s' is not a public key file",
			    a->val[0].all[i]);
		kp[i] = buf_cstr(&keys[i]);
	}
	return 0;
}

int
cmd_user(int argc, char **argv)
{
	cmd_args a;
	home *h = NULL;
	buf keys[OPT_MAXVALS], out;
	const char *kp[OPT_MAXVALS], *sub;
	bg_error e;
	unsigned roles = 0, bit;
	int r, i;

	if ((r = cmd_parse("user", argc, argv, defs, &a)) != 0)
		return r;
	if (a.help)
		return cmd_usage(usage_text);
	if (a.npos < 1)
		return cmd_failf(EXIT_USAGE, "user: expected add, key, role, remove or list");
	sub = a.pos[0];
	if (strcmp(sub, "add") && strcmp(sub, "key") && strcmp(sub, "role") &&
	    strcmp(sub, "remove") && strcmp(sub, "list")) {
		static const char *const subs[] = { "add", "key", "role", "remove", "list", NULL };

		return cmd_unknown_sub("user", sub, subs);
	}
	for (i = 0; i < a.val[2].n; i++) {
		if (users_role_parse(a.val[2].all[i], &bit) != 0)
			return cmd_failf(EXIT_USAGE, "user: unknown role '%.32s' (admin, responder or "
			    "operator; approvers are added with 'breakglass approver add')",
			    a.val[2].all[i]);
		roles |= bit;
	}
	for (i = 0; i < OPT_MAXVALS; i++)
		buf_init(&keys[i], 64 * 1024);
	buf_init(&out, 1024 * 1024);
	bg_error_clear(&e);
	if (strcmp(sub, "add") == 0) {
		if (a.npos != 2 || a.val[0].n == 0) {
			r = cmd_failf(EXIT_USAGE, "user add: name the user's EMAIL and give --key");
			goto out;
		}
		if ((r = read_keys(&a, keys, kp)) != 0 || (r = cmd_open_home(&a, &h)) != 0)
			goto out;
		if ((r = users_add(h, a.pos[1], cmd_opt(&a, 1), kp, (size_t)a.val[0].n, roles,
		    &e)) != 0)
			r = cmd_fail(r, &e);
		else
			buf_printf(&out, "user '%s' added\n", a.pos[1]);
	} else if (strcmp(sub, "key") == 0) {
		if (a.npos != 3 || strcmp(a.pos[1], "add") != 0 || a.val[0].n != 1) {
			r = cmd_failf(EXIT_USAGE, "user key: expected 'user key add EMAIL --key "
			    "KEY.pub'");
			goto out;
		}
		if ((r = read_keys(&a, keys, kp)) != 0 || (r = cmd_open_home(&a, &h)) != 0)
			goto out;
		if ((r = users_key_add(h, a.pos[2], kp[0], &e)) != 0)
			r = cmd_fail(r, &e);
		else
			buf_printf(&out, "key added to '%s'\n", a.pos[2]);
	} else if (strcmp(sub, "role") == 0) {
		if (a.npos != 4 || (strcmp(a.pos[1], "add") && strcmp(a.pos[1], "remove"))) {
			r = cmd_failf(EXIT_USAGE, "user role: expected 'user role add|remove EMAIL "
			    "ROLE'");
			goto out;
		}
		if (users_role_parse(a.pos[3], &bit) != 0) {
			r = cmd_failf(EXIT_USAGE, "user role: unknown role '%.32s' (admin, responder "
			    "or operator)", a.pos[3]);
			goto out;
		}
		if ((r = cmd_open_home(&a, &h)) != 0)
			goto out;
		if ((r = users_role_set(h, a.pos[2], bit, a.pos[1][0] == 'a', &e)) != 0)
			r = cmd_fail(r, &e);
		else
			buf_printf(&out, "role '%s' %s '%s'\n", a.pos[3],
			    a.pos[1][0] == 'a' ? "given to" : "taken from", a.pos[2]);
	} else if (strcmp(sub, "remove") == 0) {
		if (a.npos != 2) {
			r = cmd_failf(EXIT_USAGE, "user remove: name the user's EMAIL");
			goto out;
		}
		if ((r = cmd_open_home(&a, &h)) != 0)
			goto out;
		if ((r = users_remove(h, a.pos[1], &e)) != 0)
			r = cmd_fail(r, &e);
		else
			buf_printf(&out, "user '%s' removed (their keys and approvals are gone)\n",
			    a.pos[1]);
	} else {
		if ((r = cmd_open_home(&a, &h)) != 0)
			goto out;
		if ((r = users_list(h, a.json, &out, &e)) != 0)
			r = cmd_fail(r, &e);
	}
	if (r == 0)
		r = cmd_write_out(&out);
out:
	home_close(h);
	for (i = 0; i < OPT_MAXVALS; i++)
		buf_release(&keys[i]);
	buf_release(&out);
	return r;
}
