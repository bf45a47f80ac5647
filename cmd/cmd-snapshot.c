/*
 * cmd-snapshot.c - breakglass snapshot: snapshot directories on a host now
 * (the gate does this by itself before every write).
 */
#include "cmd.h"
#include "grant.h"
#include "json.h"
#include "snapshot.h"
#include "ticket.h"
#include "utc.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>
#include <unistd.h>

static const char usage_text[] =
	"usage: breakglass snapshot T --grant G [--audit-dir DIR] [--quiet] [--json] DIR...\n"
	"       breakglass snapshot --list T [--audit-dir DIR] [--json]\n\n"
	"Take a snapshot of the directories (absolute paths) into the host's\n"
	"snapshot store, filed under ticket T and grant G, incremental from the\n"
	"grant's last snapshot.  The gate snapshots a grant's writable directories\n"
	"before and after every write by itself; this is for work done by other\n"
	"means (a client-executed step, a manual change) that should be just as\n"
	"reversible.  On a terminal, a snapshot that takes more than a second shows\n"
	"a progress bar (files and bytes done, rate, time left); --quiet hides it.\n"
	"--audit-dir defaults to the host-log line of the config (one host), else\n"
	"/var/log/breakglass.\n";

static const opt_def defs[] = {
	{ "--grant", OPT_ARG },
	{ "--audit-dir", OPT_ARG },
	{ "--quiet", 0 },
	{ "--list", 0 },
	{ NULL, 0 }
};

int
cmd_snapshot(int argc, char **argv)
{
	cmd_args a;
	bg_error e;
	int64_t tid, gid;
	const char *dir, *roots[SNAP_MAX_ROOTS];
	buf sdir, hl;
	snapshot prev, out;
	snap_stats st;
	char **ids = NULL;
	size_t nids = 0, i;
	snap_tty pr;
	int r, have_prev = 0, tty;

	if ((r = cmd_parse("snapshot", argc, argv, defs, &a)) != 0)
		return r;
	if (a.help)
		return cmd_usage(usage_text);
	buf_init(&hl, 4096);
	if ((r = cmd_host_log_dir(&a, cmd_opt(&a, 1), &hl)) != 0) {
		buf_release(&hl);
		return r;
	}
	dir = hl.data;
	buf_init(&sdir, 4096);
	buf_printf(&sdir, "%s/snapshots", dir);
	bg_error_clear(&e);
	if (a.val[3].set) {
		char prefix[64];

		buf o;
		json j;
		size_t shown = 0;

		if (a.npos != 1 || (r = cmd_ticket_id(a.pos[0], &tid)) != 0) {
			buf_release(&sdir);
			buf_release(&hl);
			return r ? r : cmd_failf(EXIT_USAGE, "snapshot --list: name one ticket");
		}
		snprintf(prefix, sizeof(prefix), "T-%lld-G-", (long long)tid);
		if ((r = snapshot_list(sdir.data, 0, &ids, &nids, &e)) != 0) {
			buf_release(&sdir);
			buf_release(&hl);
			return cmd_fail(r, &e);
		}
		buf_init(&o, 16u * 1024 * 1024);
		json_init(&j, &o);
		if (a.json)
			json_arr_begin(&j);
		for (i = 0; i < nids; i++) {
			if (strncmp(ids[i], prefix, strlen(prefix)) != 0)
				continue;
			if (a.json)
				json_str(&j, ids[i]);
			else
				buf_printf(&o, "%s\n", ids[i]);
			shown++;
		}
		if (a.json) {
			json_arr_end(&j);
			buf_putc(&o, '\n');
		} else if (shown == 0) {
			buf_printf(&o, "no snapshots of T-%lld on this host (in '%s')\n", (long long)tid,
			    sdir.data);
		}
		r = (a.json && json_error(&j) != 0) ? cmd_failf(EXIT_SYSTEM, "snapshot --list: "
		    "too many to show") : cmd_write_out(&o);
		snapshot_list_free(ids, nids);
		buf_release(&o);
		buf_release(&sdir);
		buf_release(&hl);
		return r;
	}
	if (a.npos < 2)
		r = cmd_failf(EXIT_USAGE, "snapshot: name a ticket and at least one directory");
	else if ((r = cmd_ticket_id(a.pos[0], &tid)) != 0)
		;
	else if (cmd_opt(&a, 0) == NULL)
		r = cmd_failf(EXIT_USAGE, "snapshot: --grant G is required");
	else
		r = cmd_grant_id(cmd_opt(&a, 0), &gid);
	for (i = 1; r == 0 && i < (size_t)a.npos; i++) {
		if (a.pos[i][0] != '/')
			r = cmd_failf(EXIT_USAGE, "snapshot: '%s' must be an absolute path", a.pos[i]);
		roots[i - 1] = a.pos[i];
	}
	if (r != 0) {
		buf_release(&sdir);
		buf_release(&hl);
		return r;
	}
	if (snapshot_list(sdir.data, gid, &ids, &nids, &e) == 0 && nids > 0 &&
	    snapshot_load(sdir.data, ids[nids - 1], &prev, &e) == 0)
		have_prev = 1;
	tty = !a.val[2].set && snapshot_tty_begin(&pr, STDERR_FILENO, roots, (size_t)a.npos - 1);
	r = snapshot_take(sdir.data, roots, (size_t)a.npos - 1, have_prev ? &prev : NULL, tid, gid,
	    utc_now(), tty ? snapshot_tty_show : NULL, &pr, &out, &st, &e);
	if (tty)
		snapshot_tty_end(&pr);
	if (have_prev)
		snapshot_release(&prev);
	snapshot_list_free(ids, nids);
	if (r != 0) {
		r = cmd_fail_at(r, &e, "snapshot store", sdir.data);
		buf_release(&sdir);
		buf_release(&hl);
		return r;
	}
	buf_release(&sdir);
	{
		buf d;
		json j;

		buf_init(&d, 64 * 1024);
		json_init(&j, &d);
		json_obj_begin(&j);
		json_kv_str(&j, "snapshot", out.id);
		json_kv_int(&j, "grant", gid);
		json_key(&j, "roots");
		json_arr_begin(&j);
		for (i = 0; i < out.nroots; i++)
			json_str(&j, out.roots[i]);
		json_arr_end(&j);
		json_kv_int(&j, "files", (int64_t)st.files);
		json_kv_int(&j, "bytes", (int64_t)st.bytes);
		json_obj_end(&j);
		if (json_error(&j) == 0)
			cmd_host_record(dir, "snapshot", tid, d.data);
		buf_release(&d);
	}
	if (a.json)
		printf("{\"snapshot\":\"%s\",\"files\":%llu,\"bytes\":%llu,\"copied\":%llu,"
		    "\"unchanged\":%llu,\"cloned\":%llu}\n", out.id, (unsigned long long)st.files,
		    (unsigned long long)st.bytes, (unsigned long long)st.copied,
		    (unsigned long long)st.reused, (unsigned long long)st.cloned);
	else
		printf("%s: %llu files, %llu directories, %llu links, %llu bytes (%llu copied, %llu "
		    "unchanged, %llu cloned)\n", out.id, (unsigned long long)st.files,
		    (unsigned long long)st.dirs, (unsigned long long)st.links,
		    (unsigned long long)st.bytes, (unsigned long long)st.copied,
		    (unsigned long long)st.reused, (unsigned long long)st.cloned);
	snapshot_release(&out);
	buf_release(&hl);
	return 0;
}
