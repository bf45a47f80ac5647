/*
 * cmd-grant.c - breakglass grant request|activate|show|list|revoke, and
 * the top-level revoke and reap commands.
 */
#include "approval.h"
#include "cmd.h"
#include "fileio.h"
#include "grant.h"
#include "json.h"
#include "utc.h"

#include <stdio.h>
#include <string.h>

static const char usage_text[] =
	"usage: breakglass grant request T --kind KIND --system NAME [options] | --from FILE|-\n"
	"       breakglass grant activate G\n"
	"       breakglass grant show G [--json]\n"
	"       breakglass grant list [T] [--json]\n"
	"       breakglass grant revoke G --reason TEXT [--confirm TEXT]\n"
	"       breakglass grant cert G --pubkey KEY.pub [-o FILE]\n"
	"       breakglass grant sudoers G\n\n"
	"Request options (each is also a 'key: value' line for --from):\n"
	"  --kind ssh|db|repo|sftp|cms|cloud|manual   --system NAME   --ttl 2h\n"
	"  --account NAME   --reason TEXT\n"
	"  ssh/sftp: --tier read|plan|shell  --read DIR...  --write DIR...\n"
	"            --command 'ARGV'...  --sudo 'ARGV'...  --sudo-intercept 'ARGV'...\n"
	"            --source-address CIDR,...\n"
	"  db:       --engine E --database D --schema S... --table SCHEMA.TABLE...\n"
	"            --access read-only|read-write\n"
	"            --superuser no\n"
	"  repo:     --branch B --access ... --bypass-protection no\n"
	"  cms/cloud/manual: --role R --resource X --access ... --granted-by WHO\n\n"
	"Requests are checked against the minimum-access policy (policy.rules);\n"
	"a refusal names the rule and a narrower request.  Read-only grants can be\n"
	"activated after the signed confirmation; grants that can write need backup\n"
	"evidence (or a signed risk acceptance) and a signed plan that lists them.\n"
	"Activation starts the grant's window: ttl, capped by policy and by the\n"
	"ticket's window-end.  'grant cert' signs an OpenSSH certificate for an\n"
	"active ssh grant: the account as principal, the grant's window as\n"
	"validity, the gate as forced command and the scope inside it.\n"
	"'grant sudoers' prints the sudoers drop-in for an active grant's privileged\n"
	"commands (installed automatically when the home's config sets sudoers-dir):\n"
	"--sudo commands run NOEXEC (they cannot start a program); a command that must\n"
	"start programs is requested with --sudo-intercept and runs INTERCEPT: sudo\n"
	"checks every program it starts against the grant's privileged commands.\n";

static const char *const fields[] = {
	"kind", "system", "account", "tier", "access", "read", "write", "command", "sudo",
	"sudo-intercept", "source-address", "engine", "database", "schema", "table", "branch",
	"bypass-protection",
	"superuser", "role", "resource", "granted-by", "ttl", "reason", NULL
};

#define NF 23
static opt_def defs[NF + 6];
static char names[NF][32];
enum { O_FROM = NF, O_CONFIRM, O_PUBKEY, O_OUT, O_END };

static int
field_index(const char *name)
{
	int i;

	for (i = 0; fields[i]; i++)
		if (strcmp(fields[i], name) == 0)
			return i;
	return 0;
}

static void
build_defs(void)
{
	int i;

	for (i = 0; fields[i]; i++) {
		snprintf(names[i], sizeof(names[i]), "--%s", fields[i]);
		defs[i].name = names[i];
		defs[i].flags = OPT_ARG;
		if (!strcmp(fields[i], "read") || !strcmp(fields[i], "write") ||
		    !strcmp(fields[i], "command") || !strcmp(fields[i], "sudo") ||
		    !strcmp(fields[i], "sudo-intercept") || !strcmp(fields[i], "schema") ||
		    !strcmp(fields[i], "table"))
			defs[i].flags |= OPT_MULTI;
	}
	defs[O_FROM] = (opt_def){ "--from", OPT_ARG };
	defs[O_CONFIRM] = (opt_def){ "--confirm", OPT_ARG };
	defs[O_PUBKEY] = (opt_def){ "--pubkey", OPT_ARG };
	defs[O_OUT] = (opt_def){ "-o", OPT_ARG };
	defs[O_END] = (opt_def){ NULL, 0 };
}

static void
grant_json(json *j, const grant *g, int64_t now)
{
	char id[32], t[32];

	snprintf(id, sizeof(id), "G-%lld", (long long)g->id);
	snprintf(t, sizeof(t), "T-%lld", (long long)g->ticket);
	json_obj_begin(j);
	json_kv_str(j, "id", id);
	json_kv_str(j, "ticket", t);
	json_kv_str(j, "kind", g->kind);
	json_kv_str(j, "state", grant_state_now(g, now));
	json_kv_bool(j, "writes", g->writes);
	json_kv_int(j, "ttl_seconds", g->ttl);
	json_kv_str(j, "spec_sha256", g->spec_hash);
	json_key(j, "spec");
	json_obj_begin(j);
	for (size_t i = 0; i < g->fields.n; i++) {
		/* repeated keys become arrays */
		const char *k = g->fields.items[i].key;
		size_t n = 0, m;

		for (m = 0; m < g->fields.n; m++)
			if (strcmp(g->fields.items[m].key, k) == 0)
				n++;
		for (m = 0; m < i; m++)
			if (strcmp(g->fields.items[m].key, k) == 0)
				break;
		if (m < i)
			continue;
		json_key(j, k);
		if (n == 1 && strcmp(k, "read") && strcmp(k, "write") && strcmp(k, "command") &&
		    strcmp(k, "sudo") && strcmp(k, "sudo-intercept") && strcmp(k, "schema") &&
		    strcmp(k, "table")) {
			json_str(j, g->fields.items[i].value);
			continue;
		}
		json_arr_begin(j);
		for (m = i; m < g->fields.n; m++)
			if (strcmp(g->fields.items[m].key, k) == 0)
				json_str(j, g->fields.items[m].value);
		json_arr_end(j);
	}
	json_obj_end(j);
	json_kv_time(j, "requested", g->requested);
	json_kv_str(j, "requested_by", g->requested_by);
	json_kv_time(j, "approved", g->approved);
	json_kv_time(j, "not_before", g->not_before);
	json_kv_time(j, "not_after", g->not_after);
	json_kv_time(j, "ended", g->ended);
	json_kv_str(j, "ended_by", g->ended_by);
	json_kv_str(j, "end_reason", g->end_reason);
	json_kv_str(j, "revocation_confirmed", g->revocation_confirmed);
	json_obj_end(j);
}

static void
grant_text(buf *out, const grant *g, int64_t now, int full)
{
	char b1[UTC_STRLEN], b2[UTC_STRLEN];
	const char *sys = kv_get(&g->fields, "system");

	if (g->not_before) {
		utc_format(g->not_before, b1);
		utc_format(g->not_after, b2);
	}
	buf_printf(out, "G-%-4lld T-%-4lld %-7s %-10s %-9s %s%s%s%s\n", (long long)g->id,
	    (long long)g->ticket, g->kind, grant_state_now(g, now),
	    g->writes ? "write" : "read-only", sys ? sys : "", g->not_before ? "  " : "",
	    g->not_before ? b1 : "", g->not_before ? " .. " : "");
	if (g->not_before)
		buf_printf(out, "%*s%s\n", 48, "", b2);
	if (full) {
		buf_printf(out, "\n%s", g->spec);
		if (g->end_reason)
			buf_printf(out, "ended: %s\n", g->end_reason);
		if (g->revocation_confirmed)
			buf_printf(out, "removal confirmed: %s\n", g->revocation_confirmed);
	}
}

static int
request(cmd_args *a, int64_t tid)
{
	home *h = NULL;
	kv_doc d;
	buf in;
	bg_error e;
	policy_verdict v;
	int64_t gid;
	int r = 0, i, k, any = 0;

	memset(&d, 0, sizeof(d));
	bg_error_clear(&e);
	buf_init(&in, 64 * 1024 + 1);
	for (i = 0; i < NF; i++)
		any |= a->val[i].set;
	if (cmd_opt(a, O_FROM) != NULL) {
		if (any)
			return cmd_failf(EXIT_USAGE, "grant request: use --from or options, not both");
		if ((r = fileio_read(cmd_opt(a, O_FROM), 64 * 1024, &in, &e)) == 0)
			r = kv_parse(buf_cstr(&in), in.len, grantscope_request_schema, &d, &e);
	} else {
		for (i = 0; i < NF && r == 0; i++)
			for (k = 0; k < a->val[i].n && r == 0; k++)
				r = kv_add(&d, grantscope_request_schema, fields[i], a->val[i].all[k], &e);
		if (r == 0 && kv_get(&d, "ttl") == NULL)
			r = kv_add(&d, grantscope_request_schema, "ttl", GRANT_DEFAULT_TTL, &e);
		if (r == 0 && (kv_get(&d, "kind") == NULL || kv_get(&d, "system") == NULL))
			r = bg_fail(&e, BG_ERR_USAGE, "grant request: --kind and --system are required");
	}
	buf_release(&in);
	if (r != 0) {
		kv_doc_release(&d);
		return cmd_fail(r, &e);
	}
	if ((r = cmd_open_home(a, &h)) != 0) {
		kv_doc_release(&d);
		return r;
	}
	r = grant_request(h, tid, &d, &gid, &v, &e);
	if (r == BG_ERR_POLICY) {
		for (size_t n = 0; n < v.n; n++)
			fprintf(stderr, "breakglass: refused by %s\n", v.v[n].text);
		r = EXIT_REFUSED;
	} else if (r != 0) {
		r = cmd_fail(r, &e);
	} else {
		grant *g = NULL;

		if (grant_load(h, gid, &g, &e) == 0) {
			if (a->json) {
				buf out;
				json j;

				buf_init(&out, 64 * 1024);
				json_init(&j, &out);
				grant_json(&j, g, h->now);
				buf_putc(&out, '\n');
				r = cmd_write_out(&out);
				buf_release(&out);
			} else {
				printf("G-%lld requested for T-%lld (%s, %s): passed policy\n",
				    (long long)gid, (long long)tid, g->kind,
				    g->writes ? "can write" : "read-only");
				if (strcmp(g->state, "approved") == 0)
					printf("  approved by the signatures on record; activate with: "
					    "breakglass grant activate G-%lld\n", (long long)gid);
				else if (g->writes) {
					int64_t ps = approval_newest(h, tid, "plan", &e);

					if (ps != 0 && !approval_covers_grant(h, ps, gid, g->spec_hash, &e))
						/* said now, not at activation after every
						 * approver signed a statement without it */
						printf("  plan statement %lld was issued before G-%lld "
						    "existed and does not list it: issue the plan "
						    "statement again (breakglass approve T-%lld "
						    "--statement --for plan) and have it signed again - "
						    "G-%lld cannot be activated until a signed plan "
						    "statement lists it\n", (long long)ps, (long long)gid,
						    (long long)tid, (long long)gid);
					else
						printf("  needs backup evidence and a signed plan listing "
						    "it before activation\n");
				}
				else
					printf("  needs the signed confirmation before activation\n");
			}
			grant_free(g);
		}
	}
	kv_doc_release(&d);
	home_close(h);
	return r;
}

static int
revoke(cmd_args *a, const char *gs)
{
	home *h = NULL;
	bg_error e;
	int64_t gid;
	int r;

	if ((r = cmd_grant_id(gs, &gid)) != 0 || (r = cmd_open_home(a, &h)) != 0)
		return r;
	bg_error_clear(&e);
	if ((r = grant_revoke(h, gid, cmd_opt(a, field_index("reason")), cmd_opt(a, O_CONFIRM), &e)) != 0)
		r = cmd_fail(r, &e);
	else if (a->json) {
		char g[32];

		snprintf(g, sizeof(g), "G-%lld", (long long)gid);
		r = cmd_json_done("grant", g, "state", "revoked", NULL);
	} else
		printf("G-%lld revoked\n", (long long)gid);
	home_close(h);
	return r;
}

int
cmd_grant(int argc, char **argv)
{
	cmd_args a;
	home *h = NULL;
	bg_error e;
	buf out;
	const char *sub;
	int64_t id;
	int r;

	build_defs();
	if ((r = cmd_parse("grant", argc, argv, defs, &a)) != 0)
		return r;
	if (a.help)
		return cmd_usage(usage_text);
	if (a.npos < 1)
		return cmd_failf(EXIT_USAGE, "grant: expected request, activate, show, list or revoke");
	sub = a.pos[0];
	bg_error_clear(&e);
	if (strcmp(sub, "request") == 0) {
		if (a.npos != 2)
			return cmd_failf(EXIT_USAGE, "grant request: name one ticket");
		if ((r = cmd_ticket_id(a.pos[1], &id)) != 0)
			return r;
		return request(&a, id);
	}
	if (strcmp(sub, "cert") == 0) {
		buf key, cert;
		uint64_t serial;

		if (a.npos != 2)
			return cmd_failf(EXIT_USAGE, "grant cert: name one grant");
		if (cmd_opt(&a, O_PUBKEY) == NULL)
			return cmd_failf(EXIT_USAGE, "grant cert: --pubkey KEY.pub is required");
		if ((r = cmd_grant_id(a.pos[1], &id)) != 0)
			return r;
		buf_init(&key, 64 * 1024);
		buf_init(&cert, 64 * 1024);
		if ((r = fileio_read(cmd_opt(&a, O_PUBKEY), 64 * 1024, &key, &e)) != 0 ||
		    buf_has_nul(&key)) {
			buf_release(&key);
			return r ? cmd_fail(r, &e) : cmd_failf(EXIT_USAGE, "grant cert: not a public key");
		}
		if ((r = cmd_open_home(&a, &h)) != 0) {
			buf_release(&key);
			return r;
		}
		if ((r = grant_cert(h, id, buf_cstr(&key), &cert, &serial, &e)) != 0)
			r = cmd_fail(r, &e);
		else if (a.json) {
			char g[32], sn[32];

			snprintf(g, sizeof(g), "G-%lld", (long long)id);
			snprintf(sn, sizeof(sn), "%llu", (unsigned long long)serial);
			if (cmd_opt(&a, O_OUT) != NULL && (r = fileio_write_atomic(cmd_opt(&a, O_OUT),
			    cert.data, cert.len, 0644, 0, &e)) != 0)
				r = cmd_fail(r, &e);
			else
				r = cmd_json_done("grant", g, "serial", sn, "certificate", buf_cstr(&cert),
				    "written_to", cmd_opt(&a, O_OUT), NULL);
		} else if (cmd_opt(&a, O_OUT) != NULL) {
			if ((r = fileio_write_atomic(cmd_opt(&a, O_OUT), cert.data, cert.len, 0644, 0,
			    &e)) != 0)
				r = cmd_fail(r, &e);
			else
				fprintf(stderr, "certificate serial %llu for G-%lld written to '%s'\n",
				    (unsigned long long)serial, (long long)id, cmd_opt(&a, O_OUT));
		} else
			r = cmd_write_out(&cert);
		buf_release(&key);
		buf_release(&cert);
		home_close(h);
		return r;
	}
	if (strcmp(sub, "sudoers") == 0) {
		grant *g = NULL;
		sshkey_priv ca;

		memset(&ca, 0, sizeof(ca));
		if (a.npos != 2)
			return cmd_failf(EXIT_USAGE, "grant sudoers: name one grant");
		if ((r = cmd_grant_id(a.pos[1], &id)) != 0 || (r = cmd_open_home(&a, &h)) != 0)
			return r;
		buf_init(&out, 64 * 1024);
		if ((r = grant_load(h, id, &g, &e)) != 0) {
			r = cmd_fail(r, &e);
		} else if (strcmp(grant_state_now(g, h->now), "active") != 0) {
			r = cmd_failf(EXIT_REFUSED, "grant 'G-%lld' is %s: only active grants have a "
			    "sudoers drop-in", (long long)id, grant_state_now(g, h->now));
		} else if ((r = home_load_ca(h, &ca, &e)) != 0) {
			r = cmd_fail(r, &e);
		} else if ((r = grant_sudoers_text(g, kv_get(&g->fields, "account"), ca.pk, &out)) != 0) {
			r = r == BG_ERR_NOTFOUND ? cmd_failf(EXIT_USAGE, "grant 'G-%lld' has no "
			    "privileged commands", (long long)id) : cmd_fail(r, NULL);
		} else if (a.json) {
			char gn[32];

			snprintf(gn, sizeof(gn), "G-%lld", (long long)id);
			r = cmd_json_done("grant", gn, "sudoers", buf_cstr(&out), NULL);
		} else
			r = cmd_write_out(&out);
		buf_release(&out);
		sshkey_priv_release(&ca);
		grant_free(g);
		home_close(h);
		return r;
	}
	if (strcmp(sub, "revoke") == 0) {
		if (a.npos != 2)
			return cmd_failf(EXIT_USAGE, "grant revoke: name one grant");
		return revoke(&a, a.pos[1]);
	}
	if (strcmp(sub, "activate") == 0 || strcmp(sub, "show") == 0) {
		grant *g = NULL;

		if (a.npos != 2)
			return cmd_failf(EXIT_USAGE, "grant %s: name one grant", sub);
		if ((r = cmd_grant_id(a.pos[1], &id)) != 0 || (r = cmd_open_home(&a, &h)) != 0)
			return r;
		if (strcmp(sub, "activate") == 0 && (r = grant_activate(h, id, &e)) != 0) {
			home_close(h);
			return cmd_fail(r, &e);
		}
		/* access granted keeps the freeze even if the confirmation lapses */
		if (strcmp(sub, "activate") == 0 && (r = cmd_freeze_publish(h)) != 0) {
			home_close(h);
			return r;
		}
		if ((r = grant_load(h, id, &g, &e)) != 0) {
			home_close(h);
			return cmd_fail(r, &e);
		}
		buf_init(&out, 256 * 1024);
		if (a.json) {
			json j;

			json_init(&j, &out);
			grant_json(&j, g, h->now);
			buf_putc(&out, '\n');
		} else if (strcmp(sub, "activate") == 0) {
			char b[UTC_STRLEN];

			utc_format(g->not_after, b);
			buf_printf(&out, "G-%lld active until %s\n", (long long)id, b);
		} else
			grant_text(&out, g, h->now, 1);
		r = cmd_write_out(&out);
		buf_release(&out);
		grant_free(g);
		home_close(h);
		return r;
	}
	if (strcmp(sub, "list") == 0) {
		sqlite3_stmt *st;
		json j;
		int64_t tid = 0;

		if (a.npos > 2)
			return cmd_failf(EXIT_USAGE, "grant list: at most one ticket");
		if (a.npos == 2 && (r = cmd_ticket_id(a.pos[1], &tid)) != 0)
			return r;
		if ((r = cmd_open_home(&a, &h)) != 0)
			return r;
		if ((r = store_prepare(h->st, "SELECT id FROM grants WHERE ?1 = 0 OR ticket = ?1 "
		    "ORDER BY id", &st, &e)) != 0) {
			home_close(h);
			return cmd_fail(r, &e);
		}
		store_bind_int(st, 1, tid);
		buf_init(&out, 16u * 1024 * 1024);
		json_init(&j, &out);
		if (a.json)
			json_arr_begin(&j);
		while (r == 0 && sqlite3_step(st) == SQLITE_ROW) {
			grant *g = NULL;

			if ((r = grant_load(h, sqlite3_column_int64(st, 0), &g, &e)) != 0) {
				r = cmd_fail(r, &e);
				break;
			}
			if (a.json)
				grant_json(&j, g, h->now);
			else
				grant_text(&out, g, h->now, 0);
			grant_free(g);
		}
		sqlite3_finalize(st);
		if (a.json) {
			json_arr_end(&j);
			buf_putc(&out, '\n');
		}
		if (r == 0)
			r = cmd_write_out(&out);
		buf_release(&out);
		home_close(h);
		return r;
	}
	{
		static const char *const subs[] = { "request", "activate", "show", "list", "revoke",
			"cert", "sudoers", NULL };

		return cmd_unknown_sub("grant", sub, subs);
	}
}

static const char revoke_usage[] =
	"usage: breakglass revoke G --reason TEXT [--confirm TEXT]\n\n"
	"Revoke a grant now.  Grants given by hand outside breakglass (kind manual)\n"
	"need --confirm saying who removed what, where.\n";

int
cmd_revoke(int argc, char **argv)
{
	cmd_args a;
	int r;

	build_defs();
	if ((r = cmd_parse("revoke", argc, argv, defs, &a)) != 0)
		return r;
	if (a.help)
		return cmd_usage(revoke_usage);
	if (a.npos != 1)
		return cmd_failf(EXIT_USAGE, "revoke: name one grant");
	return revoke(&a, a.pos[0]);
}

static const char reap_usage[] =
	"usage: breakglass reap [--json]\n\n"
	"Expire every active grant whose window has ended.  Run it every minute\n"
	"(contrib/breakglass-reap.timer); every command also treats a grant past\n"
	"its end as expired.  It also makes the KRL again (and writes the\n"
	"krl-publish copy), so hosts with krl-max-age can tell it is current.\n";

int
cmd_reap(int argc, char **argv)
{
	cmd_args a;
	home *h = NULL;
	bg_error e;
	int r, n;

	if ((r = cmd_parse("reap", argc, argv, NULL, &a)) != 0)
		return r;
	if (a.help)
		return cmd_usage(reap_usage);
	if (a.npos != 0)
		return cmd_failf(EXIT_USAGE, "reap: takes no arguments");
	if ((r = cmd_open_home(&a, &h)) != 0)
		return r;
	bg_error_clear(&e);
	/* and the KRL made again: hosts with krl-max-age see it is current */
	if ((r = grant_reap(h, &n, &e)) != 0 || (r = home_write_krl(h, &e)) != 0)
		r = cmd_fail(r, &e);
	else if (a.json)
		printf("{\"expired\":%d}\n", n);
	else
		printf("%d grant(s) expired\n", n);
	home_close(h);
	return r;
}
