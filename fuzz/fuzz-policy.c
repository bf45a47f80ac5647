/* fuzz-policy.c - the policy rules parser, then an evaluation; and the
 * same bytes as a launcher list. */
#include "grant.h"
#include "policy.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char req[] = "kind: ssh\nsystem: web1\naccount: hotfix\nread: /srv/app\n"
	    "command: /usr/bin/systemctl restart php-fpm\nttl: 2h\nreason: fuzz\n";
	static const char *const systems[] = { "web1" };
	policy p;
	policy_verdict v;
	policy_ctx ctx = { "ssh", 1, systems, 1 };
	kv_doc d;
	bg_error e;

	memset(&p, 0, sizeof(p));
	if (policy_parse(&p, (const char *)data, size, "fuzz", &e) == 0 &&
	    kv_parse(req, strlen(req), grantscope_request_schema, &d, &e) == 0) {
		(void)policy_check_request(&p, &d, &ctx, &v, &e);
		kv_doc_release(&d);
	}
	policy_release(&p);
	{
		policy_launchers l;

		if (policy_launchers_parse(&l, (const char *)data, size, "fuzz", &e) == 0) {
			(void)policy_launcher_find(&l, "python3.11");
			policy_launchers_release(&l);
		}
	}
	return 0;
}
