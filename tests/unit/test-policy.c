/* test-policy.c - the rules parser and the evaluator with the defaults. */
#include "unit.h"
#include "grant.h"
#include "policy.h"

static const char *const systems[] = { "web1", "db1" };

static int
check(const policy *p, const char *req, policy_verdict *v)
{
	kv_doc d;
	bg_error e;
	policy_ctx ctx = { NULL, 1, systems, 2 };
	int writes, r;
	int64_t ttl;

	assert_int_equal(kv_parse(req, strlen(req), grantscope_request_schema, &d, &e), 0);
	assert_int_equal(grant_validate(&d, &writes, &ttl, &e), 0);
	ctx.kind = kv_get(&d, "kind");
	ctx.writes = writes;
	r = policy_check_request(p, &d, &ctx, v, &e);
	kv_doc_release(&d);
	return r;
}

static int
refused_by(const policy_verdict *v, const char *rule)
{
	for (size_t i = 0; i < v->n; i++)
		if (strcmp(v->v[i].rule, rule) == 0)
			return 1;
	return 0;
}

static void
defaults(void **state)
{
	policy p;
	policy_verdict v;
	bg_error e;

	memset(&p, 0, sizeof(p));
	assert_int_equal(policy_parse(&p, policy_default_rules, strlen(policy_default_rules),
	    "defaults", &e), 0);
	assert_int_equal(check(&p, "kind: ssh\nsystem: web1\naccount: hotfix\nread: /var/log/nginx\n"
	    "ttl: 2h\nreason: logs\n", &v), 0);
	assert_int_equal(check(&p, "kind: ssh\nsystem: web1\naccount: root\nread: /srv/app\n"
	    "ttl: 2h\nreason: x\n", &v), BG_ERR_POLICY);
	assert_true(refused_by(&v, "no-privileged-account"));
	assert_non_null(strstr(v.v[0].text, "narrower"));
	assert_int_equal(check(&p, "kind: ssh\nsystem: web1\naccount: hotfix\nsudo: ALL\n"
	    "ttl: 2h\nreason: x\n", &v), BG_ERR_POLICY);
	assert_true(refused_by(&v, "exact-privileged-commands"));
	assert_int_equal(check(&p, "kind: ssh\nsystem: web1\naccount: hotfix\nsudo: /bin/bash\n"
	    "ttl: 2h\nreason: x\n", &v), BG_ERR_POLICY);
	assert_true(refused_by(&v, "no-launchers-privileged"));
	assert_int_equal(check(&p, "kind: ssh\nsystem: web1\naccount: hotfix\ncommand: /usr/bin/python3.11 -c x\n"
	    "ttl: 2h\nreason: x\n", &v), BG_ERR_POLICY);
	assert_true(refused_by(&v, "no-launchers"));
	assert_int_equal(check(&p, "kind: ssh\nsystem: web1\naccount: hotfix\n"
	    "sudo: /usr/bin/timeout 600 /bin/sh\nttl: 2h\nreason: x\n", &v), BG_ERR_POLICY);
	assert_true(refused_by(&v, "no-launchers-privileged"));
	assert_int_equal(check(&p, "kind: ssh\nsystem: web1\naccount: hotfix\n"
	    "sudo: /usr/bin/chmod 0644 /srv/app/x\nttl: 2h\nreason: x\n", &v), BG_ERR_POLICY);
	assert_true(refused_by(&v, "no-unrestricted-sudo"));
	assert_int_equal(check(&p, "kind: ssh\nsystem: web1\naccount: hotfix\ncommand: /bin/echo a;id\n"
	    "ttl: 2h\nreason: x\n", &v), BG_ERR_POLICY);
	assert_true(refused_by(&v, "no-shell-metachar"));
	assert_int_equal(check(&p, "kind: ssh\nsystem: web1\naccount: hotfix\ncommand: systemctl status\n"
	    "ttl: 2h\nreason: x\n", &v), BG_ERR_POLICY);
	assert_true(refused_by(&v, "absolute-commands"));
	assert_int_equal(check(&p, "kind: ssh\nsystem: web1\naccount: hotfix\nread: /srv/../etc\n"
	    "ttl: 2h\nreason: x\n", &v), BG_ERR_POLICY);
	assert_true(refused_by(&v, "absolute-paths"));
	assert_int_equal(check(&p, "kind: ssh\nsystem: web1\naccount: hotfix\nread: /etc\n"
	    "ttl: 2h\nreason: x\n", &v), BG_ERR_POLICY);
	assert_true(refused_by(&v, "no-sensitive-read") || refused_by(&v, "no-broad-read"));
	assert_int_equal(check(&p, "kind: ssh\nsystem: web1\naccount: hotfix\nread: /srv/app\n"
	    "ttl: 5h\nreason: x\n", &v), BG_ERR_POLICY);
	assert_true(refused_by(&v, "ttl-cap"));
	assert_non_null(strstr(v.v[0].text, "--ttl 4h"));
	assert_int_equal(check(&p, "kind: db\nsystem: db1\naccount: hotfix\ndatabase: shop\n"
	    "superuser: yes\nttl: 1h\nreason: x\n", &v), BG_ERR_POLICY);
	assert_true(refused_by(&v, "no-db-superuser"));
	assert_int_equal(check(&p, "kind: cloud\nsystem: web1\nrole: roles/owner\nttl: 1h\n"
	    "reason: x\n", &v), BG_ERR_POLICY);
	assert_true(refused_by(&v, "no-owner-role"));
	assert_int_equal(check(&p, "kind: repo\nsystem: web1\nbypass-protection: yes\nttl: 1h\n"
	    "reason: x\n", &v), BG_ERR_POLICY);
	assert_true(refused_by(&v, "keep-branch-protection"));
	assert_int_equal(check(&p, "kind: ssh\nsystem: mail1\naccount: hotfix\nread: /srv/app\n"
	    "ttl: 1h\nreason: x\n", &v), BG_ERR_POLICY);
	assert_true(refused_by(&v, "related-systems-only"));
	policy_release(&p);
}

static void
override_and_parse_errors(void **state)
{
	policy p;
	policy_verdict v;
	bg_error e;
	static const char over[] =
	    "rule ttl-cap\n  check max-ttl\n  limit 1h\n  reason project caps at one hour\n";

	memset(&p, 0, sizeof(p));
	assert_int_equal(policy_parse(&p, policy_default_rules, strlen(policy_default_rules),
	    "defaults", &e), 0);
	assert_int_equal(policy_parse(&p, over, strlen(over), "shop.rules", &e), 0);
	assert_int_equal(check(&p, "kind: ssh\nsystem: web1\naccount: hotfix\nread: /srv/app\n"
	    "ttl: 2h\nreason: x\n", &v), BG_ERR_POLICY);
	assert_non_null(strstr(v.v[0].text, "one hour"));
	policy_release(&p);

	static const struct { const char *text, *want; } bad[] = {
		{ "rule x\n  check nope\n  reason r\n", "unknown check" },
		{ "rule x\n  check max-ttl\n  reason r\n", "limit" },
		{ "rule x\n  check deny-values account\n  reason r\n", "values" },
		{ "rule x\n  check max-ttl\n  limit 1h\n  limit 2h\n  reason r\n", "duplicate" },
		{ "rule x\n  colour red\n", "unknown setting" },
		{ "  check max-ttl\n", "outside a rule" },
		{ "rule x\n  check max-ttl\n  limit 1h\n", "no reason" },
		{ "rule x\n  applies ssh toaster\n", "unknown kind" },
		{ "rules x\n", "expected 'rule NAME'" },
		/* found by libFuzzer: a rule without a check before another rule */
		{ "rule a\n  reason r\nrule b\n  check max-ttl\n  limit 1h\n  reason r\n",
		  "rule 'a' has no check" },
		{ NULL, NULL }
	};
	for (int i = 0; bad[i].text; i++) {
		memset(&p, 0, sizeof(p));
		assert_int_not_equal(policy_parse(&p, bad[i].text, strlen(bad[i].text), "t", &e), 0);
		if (strstr(e.msg, bad[i].want) == NULL)
			fail_msg("case %d: '%s' lacks '%s'", i, e.msg, bad[i].want);
		policy_release(&p);
	}
}

/* The built-in launcher list parses; the parser is strict. */
static void
launchers(void **state)
{
	policy_launchers l;
	const struct policy_launcher *p;
	bg_error e;
	static const struct { const char *text, *want; } bad[] = {
		{ "  timeout\n", "before any category" },
		{ "category launcher\n  timeout\n", "needs a name and a reason" },
		{ "category a runs things\n  timeout nice timeout\n", "listed twice" },
		{ "category a runs things\ncategory a again\n", "given twice" },
		{ "category a runs things\n  /bin/sh\n", "not a program name" },
		{ "category a runs things\n  -x\n", "not a program name" },
		{ "launcher timeout\n", "expected 'category" },
		{ "category a runs things\n", "lists no programs" },
		{ NULL, NULL }
	};

	assert_int_equal(policy_launchers_parse(&l, policy_launchers_builtin,
	    policy_launchers_builtin_len, "built-in", &e), 0);
	assert_non_null(p = policy_launcher_find(&l, "timeout"));
	assert_string_equal(l.cat[p->cat].name, "launcher");
	assert_non_null(p = policy_launcher_find(&l, "python3.11"));
	assert_string_equal(l.cat[p->cat].name, "interpreter");
	assert_non_null(policy_launcher_find(&l, "perl5.36"));
	assert_null(policy_launcher_find(&l, "systemctl"));
	assert_null(policy_launcher_find(&l, "tail"));
	assert_null(policy_launcher_find(&l, ""));
	policy_launchers_release(&l);
	for (int i = 0; bad[i].text; i++) {
		assert_int_not_equal(policy_launchers_parse(&l, bad[i].text, strlen(bad[i].text),
		    "t", &e), 0);
		if (strstr(e.msg, bad[i].want) == NULL)
			fail_msg("case %d: '%s' lacks '%s'", i, e.msg, bad[i].want);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(defaults),
		cmocka_unit_test(override_and_parse_errors),
		cmocka_unit_test(launchers),
	};

	return cmocka_run_group_tests_name("policy", tests, NULL, NULL);
}
