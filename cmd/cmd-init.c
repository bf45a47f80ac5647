/*
 * cmd-init.c - breakglass init: create a home.
 */
#include "cmd.h"
#include "json.h"
#include "policy.h"

#include <stdio.h>

static const char usage_text[] =
	"usage: breakglass init [--home DIR] [--json]\n\n"
	"Create a breakglass home: the SQLite store, the broker signing key and the\n"
	"SSH CA key (0600), the config file, the default policy and the audit log.\n"
	"Refuses to overwrite an existing home.  DIR defaults to $BREAKGLASS_HOME,\n"
	"/var/lib/breakglass as root, ~/.local/share/breakglass otherwise.\n";

int
cmd_init(int argc, char **argv)
{
	cmd_args a;
	buf dir, out;
	bg_error e;
	int r;

	if ((r = cmd_parse("init", argc, argv, NULL, &a)) != 0)
		return r;
	if (a.help)
		return cmd_usage(usage_text);
	if (a.npos > 0)
		return cmd_failf(EXIT_USAGE, "init: unexpected argument '%s'", a.pos[0]);
	buf_init(&dir, 4096);
	buf_init(&out, 8192);
	if ((a.home ? buf_puts(&dir, a.home) : home_default_dir(&dir)) != 0) {
		buf_release(&dir);
		return cmd_failf(EXIT_USAGE, "init: cannot determine the home directory (use --home)");
	}
	bg_error_clear(&e);
	if ((r = home_init(dir.data, policy_default_rules, &e)) != 0) {
		buf_release(&dir);
		return cmd_fail(r, &e);
	}
	if (a.json) {
		json j;

		json_init(&j, &out);
		json_obj_begin(&j);
		json_kv_str(&j, "home", dir.data);
		buf_printf(&out, ",\"ca_pub\":\"%s/ca.pub\",\"broker_pub\":\"%s/broker.pub\"}\n",
		    dir.data, dir.data);
	} else {
		buf_printf(&out, "created breakglass home '%s'\n"
		    "  SSH CA public key: %s/ca.pub\n"
		    "  next: breakglass project add NAME --systems HOST,... --home %s\n",
		    dir.data, dir.data, dir.data);
	}
	r = cmd_write_out(&out);
	buf_release(&dir);
	buf_release(&out);
	return r;
}
