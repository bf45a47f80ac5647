/*
 * cmd-collect.c - breakglass collect: a secret-safe diagnostics bundle of
 * this host (read-only), for people who may not log in to it.
 */
#include "cmd.h"
#include "bundle.h"
#include "collect.h"
#include "dbfacts.h"
#include "fileio.h"
#include "gate.h"
#include "json.h"
#include "profile.h"
#include "utc.h"

#include <stdio.h>
#include <string.h>

static const char usage_text[] =
	"usage: breakglass collect [--profile NAME|FILE] [--key FILE] [--root DIR] [--app DIR]\n"
	"                          [--db-postgres CONNINFO | --db-mariadb SOCKET] [--db NAME]\n"
	"                          [--json] -o BUNDLE\n"
	"       breakglass collect --list-profiles | --show-profile NAME\n\n"
	"Gather, read-only, what diagnosing this host needs into BUNDLE (written 0600,\n"
	"refusing to overwrite): package versions, runtime settings, configuration keys,\n"
	"environment variable names, services, listening ports, disk and memory, the code\n"
	"tree's file hashes, git HEAD and recent deploys, recently changed files, log\n"
	"tails.  What is gathered is the profile (built-in: web-php, wordpress, node,\n"
	"base; or a profile file of your own, named by a path with a '/').\n\n"
	"No secret value enters the bundle: a configuration or environment value is\n"
	"replaced by a keyed hash (HMAC-SHA-256 with the per-incident key in --key FILE,\n"
	"created 0600 when missing; keep it, never send it) unless it is harmless (a\n"
	"boolean, number, size or duration, a runtime's own setting, an allowlisted key).\n"
	"Log tails go through the secret scanner, and so does the finished bundle.\n"
	"Bundles made with the same key compare with 'breakglass envdiff'; without\n"
	"--key, values are withheld and the bundle cannot be compared.\n\n"
	"  --root DIR   read the host's files below DIR (a copy of a host), default /\n"
	"  --app DIR    the code tree (default: the profile's 'app')\n"
	"  --db-postgres CONNINFO   add a local PostgreSQL database's facts: its schema\n"
	"               (tables, columns and types, indexes, constraints; quoted literals\n"
	"               such as string defaults hashed), the applied migrations (the tables\n"
	"               rules/migrations.rules names) and per-table row counts (exact, or\n"
	"               ~N: the planner's estimate for big tables) - never a row's contents.\n"
	"               Peer authentication over the unix socket only (a conninfo with a\n"
	"               password is refused), e.g. 'host=/run/postgresql dbname=shop'\n"
	"  --db-mariadb SOCKET      the same from a local MariaDB or MySQL server over its\n"
	"               unix socket, as your OS user by unix_socket authentication\n"
	"  --db NAME    the database (default: the conninfo's dbname; needed with\n"
	"               --db-mariadb)\n\n"
	"Through the gate: ssh ACCOUNT@HOST collect [--profile NAME] [--app DIR] < KEYFILE\n"
	"(built-in profiles only, within the grant; see breakglass(1)).\n";

static const opt_def defs[] = {
	{ "--profile", OPT_ARG },
	{ "--key", OPT_ARG },
	{ "--root", OPT_ARG },
	{ "--app", OPT_ARG },
	{ "-o", OPT_ARG },
	{ "--list-profiles", 0 },
	{ "--show-profile", OPT_ARG },
	{ "--db-postgres", OPT_ARG },
	{ "--db", OPT_ARG },
	{ "--db-mariadb", OPT_ARG },
	{ NULL, 0 }
};

int
cmd_collect_known(const char *name)
{
	size_t i;

	for (i = 0; i < profile_builtin_count(); i++)
		if (strcmp(profile_builtin_name(i), name) == 0)
			return 1;
	return 0;
}

int
cmd_collect_gate(const gate_collect_io *io, bg_error *e)
{
	profile prof;
	bundle_key key;
	collect_opts o;
	collect_stats st;
	collect_limits lim;
	buf out;
	int r;

	if (strchr(io->profile, '/') != NULL || !cmd_collect_known(io->profile))
		return bg_fail(e, BG_ERR_POLICY, "'%s' is not a built-in profile", io->profile);
	if ((r = profile_load(io->profile, &prof, e)) != 0)
		return r;
	bundle_key_from(&key, io->key);
	memset(&lim, 0, sizeof(lim));
	lim.ctx = io->ctx;
	lim.may_read = io->may_read;
	lim.open = io->open;
	lim.tree = io->tree;
	lim.may_run = io->may_run;
	lim.skipped = io->skipped;
	memset(&o, 0, sizeof(o));
	o.root = "/";
	o.app = io->app;
	o.prof = &prof;
	o.key = &key;
	o.now = utc_now();
	o.lim = &lim;
	o.db = io->db;
	buf_init(&out, BUNDLE_MAX);
	r = collect_run(&o, &out, &st, e);
	bundle_key_wipe(&key);
	if (r == 0 && fileio_write_full(io->out, out.data, out.len) != 0)
		r = bg_fail(e, BG_ERR_IO, "cannot write the bundle");
	buf_release(&out);
	profile_release(&prof);
	return r;
}

int
cmd_collect(int argc, char **argv)
{
	cmd_args a;
	bg_error e;
	profile prof;
	bundle_key key;
	collect_opts o;
	collect_stats st;
	buf out;
	dbfacts db;
	size_t i;
	int r, have_key = 0, created = 0, wrc = 0;
	double t0;

	if ((r = cmd_parse("collect", argc, argv, defs, &a)) != 0)
		return r;
	if (a.help)
		return cmd_usage(usage_text);
	if (a.npos != 0)
		return cmd_failf(EXIT_USAGE, "collect: unexpected argument '%s'", a.pos[0]);
	bg_error_clear(&e);
	if (a.val[5].set) {
		for (i = 0; i < profile_builtin_count(); i++) {
			size_t len;
			const char *t = profile_builtin_text(i, &len);

			if ((r = profile_parse(t, len, &prof, &e)) != 0)
				return cmd_fail(r, &e);
			if (a.json)
				printf("{\"profile\":\"%s\",\"describe\":", prof.name);
			else
				printf("%-10s %s\n", prof.name, prof.describe);
			if (a.json) {
				buf d;

				buf_init(&d, 4096);
				json_escape(&d, prof.describe, strlen(prof.describe));
				printf("%s}\n", buf_cstr(&d));
				buf_release(&d);
			}
			profile_release(&prof);
		}
		return 0;
	}
	if (cmd_opt(&a, 6) != NULL) {
		for (i = 0; i < profile_builtin_count(); i++) {
			size_t len;
			const char *t = profile_builtin_text(i, &len);

			if (strcmp(profile_builtin_name(i), cmd_opt(&a, 6)) == 0) {
				fwrite(t, 1, len, stdout);
				return 0;
			}
		}
		return cmd_failf(EXIT_USAGE, "collect: no built-in profile '%s'", cmd_opt(&a, 6));
	}
	if (cmd_opt(&a, 4) == NULL)
		return cmd_failf(EXIT_USAGE, "collect: name the bundle to write with -o BUNDLE");
	if ((r = profile_load(cmd_opt(&a, 0) ? cmd_opt(&a, 0) : "base", &prof, &e)) != 0)
		return cmd_fail(r, &e);
	if (cmd_opt(&a, 1) != NULL) {
		if ((r = bundle_key_load(cmd_opt(&a, 1), 1, &key, &created, &e)) != 0) {
			profile_release(&prof);
			return cmd_fail(r, &e);
		}
		have_key = 1;
	}
	memset(&o, 0, sizeof(o));
	o.root = cmd_opt(&a, 2) ? cmd_opt(&a, 2) : "/";
	o.app = cmd_opt(&a, 3);
	o.prof = &prof;
	o.key = have_key ? &key : NULL;
	o.now = utc_now();
	memset(&db, 0, sizeof(db));
	if ((cmd_opt(&a, 8) != NULL && cmd_opt(&a, 7) == NULL && cmd_opt(&a, 9) == NULL) ||
	    (cmd_opt(&a, 7) != NULL && cmd_opt(&a, 9) != NULL) ||
	    (cmd_opt(&a, 9) != NULL && cmd_opt(&a, 8) == NULL)) {
		bundle_key_wipe(&key);
		profile_release(&prof);
		return cmd_failf(EXIT_USAGE, "collect: name one database server: --db-postgres "
		    "CONNINFO [--db NAME] or --db-mariadb SOCKET --db NAME");
	}
	t0 = utc_mono();
	if (cmd_opt(&a, 7) != NULL || cmd_opt(&a, 9) != NULL) {
		if ((r = cmd_opt(&a, 7) != NULL ? dbfacts_postgres(cmd_opt(&a, 7), cmd_opt(&a, 8), &db,
		    &e) : dbfacts_mariadb(cmd_opt(&a, 9), NULL, cmd_opt(&a, 8), &db, &e)) != 0) {
			bundle_key_wipe(&key);
			profile_release(&prof);
			return cmd_fail(r, &e);
		}
		o.db = &db;
	}
	buf_init(&out, BUNDLE_MAX);
	r = collect_run(&o, &out, &st, &e);
	if (r == 0)
		r = fileio_write_atomic(cmd_opt(&a, 4), out.data, out.len, 0600, 1, &e);
	if (r == 0 && a.json) {
		buf d;
		json j;

		buf_init(&d, 4096);
		json_init(&j, &d);
		json_obj_begin(&j);
		json_kv_str(&j, "bundle", cmd_opt(&a, 4));
		json_kv_str(&j, "profile", prof.name);
		json_kv_str(&j, "key_id", have_key ? key.id : NULL);
		json_kv_bool(&j, "key_created", created);
		json_kv_int(&j, "records", (int64_t)st.records);
		json_kv_int(&j, "files", (int64_t)st.files);
		json_kv_int(&j, "tree", (int64_t)st.tree);
		json_kv_int(&j, "shown", (int64_t)st.shown);
		json_kv_int(&j, "hashed", (int64_t)st.hashed);
		json_kv_int(&j, "redacted", (int64_t)st.redacted);
		json_kv_int(&j, "rescanned", (int64_t)st.rescanned);
		json_kv_int(&j, "skipped", (int64_t)st.skipped);
		json_kv_int(&j, "milliseconds", (int64_t)((utc_mono() - t0) * 1000));
		json_obj_end(&j);
		buf_putc(&d, '\n');
		if (json_error(&j) != 0)
			r = json_error(&j);
		else
			wrc = cmd_write_out(&d);
		buf_release(&d);
	}
	bundle_key_wipe(&key);
	profile_release(&prof);
	buf_release(&out);
	dbfacts_release(&db);
	if (r != 0)
		return cmd_fail(r, &e);
	if (wrc != 0)
		return wrc;
	if (!a.json) {
		if (created)
			fprintf(stderr, "breakglass: created the per-incident key '%s': keep it, "
			    "never send it; collect the other environment with the same key\n",
			    cmd_opt(&a, 1));
		printf("%s: %llu records (%llu files read, %llu code files hashed; %llu values "
		    "shown, %llu hashed; %llu scanner findings redacted); %.2f s\n", cmd_opt(&a, 4),
		    (unsigned long long)st.records, (unsigned long long)st.files,
		    (unsigned long long)st.tree, (unsigned long long)st.shown,
		    (unsigned long long)st.hashed, (unsigned long long)st.redacted,
		    utc_mono() - t0);
		if (!have_key)
			fprintf(stderr, "breakglass: no --key: values are withheld and this bundle "
			    "cannot be compared with envdiff\n");
	}
	return 0;
}
