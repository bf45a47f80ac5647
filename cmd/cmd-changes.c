/*
 * cmd-changes.c - breakglass changes: what a ticket's grants changed on
 * this host.
 */
#include "cmd.h"
#include "fileio.h"
#include "ticket.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
	"usage: breakglass changes T [--json] [--audit-dir DIR]\n\n"
	"The change sets the gate recorded for ticket T on this host, oldest first:\n"
	"every file created, modified or deleted by a write, with its before and\n"
	"after hashes and modes, and a unified diff for text files (capped, secrets\n"
	"redacted).  DIR defaults to the host-log line of the config (one host), else\n"
	"/var/log/breakglass.\n";

static const opt_def defs[] = {
	{ "--audit-dir", OPT_ARG },
	{ NULL, 0 }
};

static int
cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
cmd_changes(int argc, char **argv)
{
	cmd_args a;
	bg_error e;
	int64_t tid;
	const char *suffix;
	char prefix[64], **names = NULL;
	size_t n = 0, i;
	buf path, out, doc, hl;
	DIR *d;
	struct dirent *de;
	int r, oom = 0;

	if ((r = cmd_parse("changes", argc, argv, defs, &a)) != 0)
		return r;
	if (a.help)
		return cmd_usage(usage_text);
	if (a.npos != 1)
		return cmd_failf(EXIT_USAGE, "changes: name one ticket");
	if ((r = cmd_ticket_id(a.pos[0], &tid)) != 0)
		return r;
	buf_init(&hl, 4096);
	if ((r = cmd_host_log_dir(&a, cmd_opt(&a, 0), &hl)) != 0) {
		buf_release(&hl);
		return r;
	}
	suffix = a.json ? ".json" : ".txt";
	snprintf(prefix, sizeof(prefix), "T-%lld-G-", (long long)tid);
	buf_init(&path, 4096);
	buf_init(&out, 256u * 1024 * 1024);
	buf_init(&doc, 64u * 1024 * 1024);
	buf_printf(&path, "%s/snapshots/changes", hl.data);
	if ((d = opendir(path.data)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			char **v;

			size_t l = strlen(de->d_name), sl = strlen(suffix);

			if (strncmp(de->d_name, prefix, strlen(prefix)) != 0 || l <= sl ||
			    strcmp(de->d_name + l - sl, suffix) != 0)
				continue;
			if ((v = realloc(names, (n + 1) * sizeof(*v))) == NULL ||
			    (names = v, (names[n] = strdup(de->d_name)) == NULL)) {
				oom = 1;
				break;
			}
			n++;
		}
		closedir(d);
	} else if (errno != ENOENT) {
		r = cmd_failf(EXIT_SYSTEM, "changes: cannot read '%s': %s", path.data, strerror(errno));
		buf_release(&path);
		buf_release(&out);
		buf_release(&doc);
		buf_release(&hl);
		return r;
	}
	if (oom) {
		r = cmd_failf(EXIT_SYSTEM, "changes: out of memory");
		goto out;
	}
	if (n > 0)
		qsort(names, n, sizeof(*names), cmp);
	bg_error_clear(&e);
	if (a.json)
		buf_puts(&out, "[");
	for (i = 0, r = 0; i < n && r == 0; i++) {
		buf p2;

		buf_init(&p2, 4096);
		buf_printf(&p2, "%s/%s", path.data, names[i]);
		buf_reset(&doc);
		if ((r = fileio_read(p2.data, doc.max, &doc, &e)) != 0) {
			r = cmd_fail(r, &e);
		} else if (a.json) {
			while (doc.len > 0 && doc.data[doc.len - 1] == '\n')
				doc.data[--doc.len] = '\0';
			buf_printf(&out, "%s%s", i ? ",\n" : "", doc.data);
		} else if (buf_printf(&out, "%s", i ? "\n" : "") != 0 ||
		    buf_append(&out, doc.data, doc.len) != 0) {
			r = cmd_failf(EXIT_SYSTEM, "changes: too much to show; use --json");
		}
		buf_release(&p2);
	}
	if (a.json)
		buf_puts(&out, "]\n");
	else if (n == 0)
		buf_printf(&out, "no changes recorded for T-%lld on this host (in '%s')\n",
		    (long long)tid, path.data);
	if (r == 0)
		r = cmd_write_out(&out);
out:
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	buf_release(&hl);
	buf_release(&path);
	buf_release(&out);
	buf_release(&doc);
	return r;
}
