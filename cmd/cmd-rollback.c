/*
 * cmd-rollback.c - breakglass rollback: put back what a ticket's grants
 * changed on this host.
 */
#include "audit.h"
#include "cmd.h"
#include "fileio.h"
#include "gate.h"
#include "grant.h"
#include "json.h"
#include "rollback.h"
#include "snapshot.h"
#include "sshkey.h"
#include "ticket.h"
#include "utc.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage_text[] =
	"usage: breakglass rollback T [--grant G | --snapshot S] [--path P] [--dry-run]\n"
	"                             [--audit-dir DIR] [--json]\n\n"
	"Run on the host, as root.  Puts the grant's writable directories back\n"
	"exactly as the snapshot has them: the bytes, modes, owners and times of\n"
	"files, symlinks as links, directories; what the hotfix created is removed.\n"
	"Default target: the snapshot taken before the grant's first write (--grant\n"
	"G; needed when several grants of T changed files).  --snapshot S rolls\n"
	"back to any snapshot, --path P limits it to one file or directory.\n"
	"The current state is snapshotted first, so a rollback can be undone; a\n"
	"rollback that was interrupted (even by kill -9) is finished by running the\n"
	"same command again.  --dry-run lists what would change and writes nothing,\n"
	"not even a snapshot (so it works on a full disk).  --json prints the\n"
	"actions and counts as one JSON object.  DIR defaults to the host-log line\n"
	"of the config (one host), else /var/log/breakglass.\n\n"
	"usage: breakglass rollback T --sql TAG --database DB [--drop-image]\n"
	"                             [--config FILE]\n\n"
	"A SQL patch applied through the gate ('ssh ACCOUNT@HOST apply < fix.sql'\n"
	"under a db grant) kept the rows it touched in before-image TAG (it prints\n"
	"the TAG and DB).  --sql restores those rows in one transaction, as the\n"
	"host's database target in FILE (default " GATE_DEFAULT_CONFIG ") connects\n"
	"(PostgreSQL or MariaDB; with both, the one holding TAG); it refuses,\n"
	"restoring nothing, when a row was changed by others since.\n"
	"--drop-image drops the before-image instead (the cleanup item once the\n"
	"fix holds: it holds customer data).\n";

static const opt_def defs[] = {
	{ "--grant", OPT_ARG },
	{ "--snapshot", OPT_ARG },
	{ "--path", OPT_ARG },
	{ "--dry-run", 0 },
	{ "--audit-dir", OPT_ARG },
	{ "--sql", OPT_ARG },
	{ "--database", OPT_ARG },
	{ "--drop-image", 0 },
	{ "--config", OPT_ARG },
	{ NULL, 0 }
};

static int
read_journal(const char *path, char *target, char *pre, bg_error *e)
{
	buf j;
	int r;

	buf_init(&j, 4096);
	r = fileio_read(path, 4096, &j, e);
	if (r == 0 && sscanf(buf_cstr(&j), "target: %127s\npre: %127s\n", target, pre) != 2)
		r = bg_fail(e, BG_ERR_CORRUPT, "rollback journal '%s' is malformed", path);
	buf_release(&j);
	return r;
}

/*
 * The outcome as JSON: the report's lines ("ACTION   WHAT") as actions,
 * the counts, and for a real rollback the undo snapshot.
 */
static int
print_json(const buf *report, const rollback_stats *rs, int dry, const char *target_id,
    const char *pre_id, int resuming)
{
	buf o;
	json j;
	const char *p = buf_cstr(report), *end = p + report->len;
	int r;

	buf_init(&o, 128u * 1024 * 1024);
	json_init(&j, &o);
	json_obj_begin(&j);
	json_kv_bool(&j, "dry_run", dry);
	json_kv_str(&j, "target", target_id);
	if (!dry)
		json_kv_str(&j, "undo_snapshot", pre_id);
	if (resuming)
		json_kv_bool(&j, "resumed", 1);
	json_kv_int(&j, "restore", (int64_t)rs->restored);
	json_kv_int(&j, "create", (int64_t)rs->created);
	json_kv_int(&j, "delete", (int64_t)rs->deleted);
	json_kv_int(&j, "adjust", (int64_t)rs->meta);
	json_key(&j, "actions");
	json_arr_begin(&j);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *sp, *w;
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char verb[16];

		if ((sp = memchr(p, ' ', n)) != NULL && (size_t)(sp - p) < sizeof(verb)) {
			buf what;

			memcpy(verb, p, (size_t)(sp - p));
			verb[sp - p] = '\0';
			for (w = sp; w < p + n && *w == ' '; w++)
				;
			buf_init(&what, 8192);
			buf_append(&what, w, (size_t)(p + n - w));
			json_obj_begin(&j);
			json_kv_str(&j, "action", verb);
			json_kv_str(&j, "what", buf_cstr(&what));
			json_obj_end(&j);
			buf_release(&what);
		}
		p += n + (nl != NULL);
	}
	json_arr_end(&j);
	json_obj_end(&j);
	buf_putc(&o, '\n');
	r = json_error(&j) != 0 ? cmd_failf(EXIT_SYSTEM, "rollback: too much to show as JSON") :
	    cmd_write_out(&o);
	buf_release(&o);
	return r;
}

/* --sql TAG --database DB: a SQL patch's rows back from its before-image */
static int
sql_rollback(cmd_args *a, int64_t tid)
{
	const char *tag = cmd_opt(a, 5), *db = cmd_opt(a, 6);
	const char *config = cmd_opt(a, 8) ? cmd_opt(a, 8) : GATE_DEFAULT_CONFIG;
	int64_t restored = 0, changed = 0;
	bg_error e;
	int r, drop = a->val[7].set;

	if (tag == NULL || db == NULL)
		return cmd_failf(EXIT_USAGE, "rollback: --sql TAG needs --database DB (both as "
		    "'apply' printed them)");
	if (strspn(tag, "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(tag) || tag[0] != 'g' ||
	    strlen(tag) > 40)
		return cmd_failf(EXIT_USAGE, "rollback: --sql '%.64s' is no before-image tag "
		    "(gN_HASH, as 'apply' printed it)", tag);
	if (geteuid() != 0)
		return cmd_failf(EXIT_REFUSED, "rollback --sql runs on the host, as root");
	bg_error_clear(&e);
	if ((r = gate_sql_rollback(config, db, tag, drop, &restored, &changed, &e)) != 0) {
		if (changed > 0)
			fprintf(stderr, "breakglass: %lld row(s) were changed by others since the "
			    "patch: nothing restored\n", (long long)changed);
		return cmd_fail(r, &e);
	}
	if (drop)
		printf("T-%lld: before-image %s dropped from database %s\n", (long long)tid, tag, db);
	else
		printf("T-%lld: restored %lld row(s) from before-image %s in database %s\n",
		    (long long)tid, (long long)restored, tag, db);
	return 0;
}

int
cmd_rollback(int argc, char **argv)
{
	cmd_args a;
	bg_error e;
	int64_t tid, gid = 0;
	const char *dir;
	buf sdir, jpath, report, detail, hl;
	snapshot target, pre, current;
	snap_stats st;
	rollback_stats rs;
	char target_id[SNAP_ID_MAX] = "", pre_id[SNAP_ID_MAX] = "", prefix[64], **ids = NULL;
	size_t nids = 0;
	int r, resuming = 0, dry, lockfd = -1;

	if ((r = cmd_parse("rollback", argc, argv, defs, &a)) != 0)
		return r;
	if (a.help)
		return cmd_usage(usage_text);
	if (a.npos != 1)
		return cmd_failf(EXIT_USAGE, "rollback: name one ticket");
	if ((r = cmd_ticket_id(a.pos[0], &tid)) != 0)
		return r;
	if (cmd_opt(&a, 5) != NULL || cmd_opt(&a, 6) != NULL || a.val[7].set || cmd_opt(&a, 8))
		return sql_rollback(&a, tid);
	if (cmd_opt(&a, 0) && cmd_opt(&a, 1))
		return cmd_failf(EXIT_USAGE, "rollback: give --grant or --snapshot, not both");
	if (cmd_opt(&a, 0) && (r = cmd_grant_id(cmd_opt(&a, 0), &gid)) != 0)
		return r;
	if (cmd_opt(&a, 2) && cmd_opt(&a, 2)[0] != '/')
		return cmd_failf(EXIT_USAGE, "rollback: --path must be absolute");
	dry = a.val[3].set;
	buf_init(&hl, 4096);
	if ((r = cmd_host_log_dir(&a, cmd_opt(&a, 4), &hl)) != 0) {
		buf_release(&hl);
		return r;
	}
	dir = hl.data;
	memset(&target, 0, sizeof(target));
	memset(&pre, 0, sizeof(pre));
	memset(&current, 0, sizeof(current));
	buf_init(&sdir, 4096);
	buf_init(&jpath, 4096);
	buf_init(&report, 64u * 1024 * 1024);
	buf_init(&detail, 8192);
	bg_error_clear(&e);
	buf_printf(&sdir, "%s/snapshots", dir);
	buf_printf(&jpath, "%s/rollback.journal", sdir.data);
	snprintf(prefix, sizeof(prefix), "T-%lld-G-", (long long)tid);
	/* one rollback at a time on a host */
	{
		buf lp;
		struct stat sb;
		int serr = stat(dir, &sb) != 0 ? errno : 0;

		buf_init(&lp, 4096);
		buf_printf(&lp, "%s/rollback.lock", sdir.data);

		if (serr != 0 || !S_ISDIR(sb.st_mode)) {
			const char *why = serr ? strerror(serr) : "not a directory";

			r = cmd_failf(EXIT_SYSTEM, "no host log at '%s' (%s): give the gate's "
			    "audit-dir with --audit-dir DIR, or a host-log line in the config", dir, why);
			buf_release(&lp);
			goto out;
		}
		mkdir(sdir.data, 0750);
		lockfd = open(lp.data, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (lockfd < 0)
			r = cmd_failf(EXIT_SYSTEM, "cannot lock the snapshot store: '%s': %s", lp.data,
			    strerror(errno));
		else if (flock(lockfd, LOCK_EX | LOCK_NB) != 0)
			r = cmd_failf(EXIT_REFUSED, "another rollback is running on this host (it holds "
			    "'%s')", lp.data);
		buf_release(&lp);
		if (r != 0)
			goto out;
	}
	if (access(jpath.data, F_OK) == 0) {
		if ((r = read_journal(jpath.data, target_id, pre_id, &e)) != 0) {
			r = cmd_fail_at(r, &e, "snapshot store", sdir.data);
			goto out;
		}
		if (strncmp(target_id, prefix, strlen(prefix)) != 0 ||
		    (cmd_opt(&a, 1) && strcmp(cmd_opt(&a, 1), target_id) != 0)) {
			r = cmd_failf(EXIT_REFUSED, "an interrupted rollback to '%s' must be finished "
			    "first: run 'breakglass rollback' for its ticket again", target_id);
			goto out;
		}
		resuming = 1;
		fprintf(stderr, "breakglass: finishing the interrupted rollback to %s\n", target_id);
	} else if (cmd_opt(&a, 1)) {
		snprintf(target_id, sizeof(target_id), "%s", cmd_opt(&a, 1));
		if (strncmp(target_id, prefix, strlen(prefix)) != 0) {
			r = cmd_failf(EXIT_USAGE, "snapshot '%s' is not one of T-%lld's", target_id,
			    (long long)tid);
			goto out;
		}
	} else {
		/* the snapshot before the grant's first write */
		if ((r = snapshot_list(sdir.data, gid, &ids, &nids, &e)) != 0) {
			r = cmd_fail_at(r, &e, "snapshot store", sdir.data);
			goto out;
		}
		for (size_t i = 0; i < nids; i++) {
			if (strncmp(ids[i], prefix, strlen(prefix)) != 0)
				continue;
			if (target_id[0] == '\0')
				snprintf(target_id, sizeof(target_id), "%s", ids[i]);
			else if (gid == 0 && strncmp(ids[i], target_id,
			    (size_t)(strchr(target_id + strlen(prefix), '-') - target_id)) != 0) {
				r = cmd_failf(EXIT_USAGE, "several grants of T-%lld changed files on this "
				    "host: name one with --grant", (long long)tid);
				goto out;
			}
		}
		if (target_id[0] == '\0') {
			r = cmd_failf(EXIT_USAGE, "no snapshots of T-%lld%s on this host (in '%s')",
			    (long long)tid, gid ? " for that grant" : "", sdir.data);
			goto out;
		}
	}
	if ((r = snapshot_load(sdir.data, target_id, &target, &e)) != 0) {
		r = cmd_fail_at(r, &e, "snapshot store", sdir.data);
		goto out;
	}
	/* the current state, kept: this is what undoes the rollback */
	snapshot_list_free(ids, nids);
	ids = NULL;
	nids = 0;
	/*
	 * Incremental from the target itself: what is unchanged since the
	 * target costs a stat, and what changed is exactly what is about to
	 * be replaced, so it must be kept anyway.  (No second manifest of the
	 * whole tree to read.)  A dry run stores nothing, so it works on a full
	 * disk too.
	 */
	if ((r = snapshot_take(dry ? NULL : sdir.data, (const char *const *)target.roots,
	    target.nroots, &target, target.ticket, target.grant, utc_now(), NULL, NULL, &current,
	    &st, &e)) != 0) {
		r = cmd_fail_at(r, &e, "snapshot store", sdir.data);
		goto out;
	}
	if (!resuming) {
		snprintf(pre_id, sizeof(pre_id), "%s", current.id);
		if (!dry) {
			buf j;

			buf_init(&j, 1024);
			buf_printf(&j, "target: %s\npre: %s\n", target_id, pre_id);
			r = fileio_write_atomic(jpath.data, j.data, j.len, 0600, 1, &e);
			buf_release(&j);
			if (r != 0) {
				r = cmd_fail_at(r, &e, "snapshot store", sdir.data);
				goto out;
			}
		}
	}
	if ((r = rollback_apply(sdir.data, &current, &target, cmd_opt(&a, 2), dry, &report, &rs,
	    &e)) != 0) {
		cmd_write_out(&report);
		r = cmd_fail_at(r, &e, "snapshot store", sdir.data);
		goto out;
	}
	if (a.json && dry) {
		r = print_json(&report, &rs, 1, target_id, pre_id, resuming);
		goto out;
	}
	if (!a.json)
		cmd_write_out(&report);
	if (dry) {
		printf("dry run: %llu to restore, %llu to create, %llu to delete, %llu to adjust; "
		    "nothing was changed\n", (unsigned long long)rs.restored,
		    (unsigned long long)rs.created, (unsigned long long)rs.deleted,
		    (unsigned long long)rs.meta);
		r = 0;
		goto out;
	}
	unlink(jpath.data);
	fileio_sync_dir(jpath.data);
	buf_printf(&detail, "{\"target\":\"%s\",\"pre\":\"%s\",\"restored\":%llu,\"created\":%llu,"
	    "\"deleted\":%llu,\"meta\":%llu,\"linked\":%llu%s}", target_id, pre_id,
	    (unsigned long long)rs.restored, (unsigned long long)rs.created,
	    (unsigned long long)rs.deleted, (unsigned long long)rs.meta,
	    (unsigned long long)rs.linked, resuming ? ",\"resumed\":true" : "");
	cmd_host_record(dir, "rollback", tid, detail.data);
	if (a.json) {
		r = print_json(&report, &rs, 0, target_id, pre_id, resuming);
		goto out;
	}
	printf("rolled back to %s: %llu restored, %llu recreated, %llu removed, %llu adjusted\n"
	    "  undo with: breakglass rollback T-%lld --snapshot %s\n", target_id,
	    (unsigned long long)rs.restored, (unsigned long long)rs.created,
	    (unsigned long long)rs.deleted, (unsigned long long)rs.meta, (long long)tid, pre_id);
	r = 0;
out:
	if (lockfd >= 0)
		close(lockfd);
	snapshot_list_free(ids, nids);
	snapshot_release(&target);
	snapshot_release(&pre);
	snapshot_release(&current);
	buf_release(&sdir);
	buf_release(&jpath);
	buf_release(&report);
	buf_release(&detail);
	buf_release(&hl);
	return r;
}
