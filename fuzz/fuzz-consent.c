/* fuzz-consent.c - the consent a write certificate carries: the container
 * parser, and the host's check against a fixed scope and approver. */
#include "consent.h"

#include <sodium.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* the approver of the seeds (tests/unit/test-consent.c makes such consents) */
static const char approvers[] =
	"owner@shop.example namespaces=\"breakglass\" ssh-ed25519 "
	"AAAAC3NzaC1lZDI1NTE5AAAAIGNmyKluFQ6sLQMSbIdHm6fj803NifxmYFvV4TWd1lea\n";
static const char scope[] =
	"ticket: T-3\ngrant: G-5\nkind: ssh\nsystem: web1\naccount: hotfix\ntier: plan\n"
	"write: /srv/shop/app\nttl: 1h\nreason: fix\n";

/* the marks of a SQL artifact with this SHA-256 */
static const char sha[] = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static signers ss;
	static int ready;
	consent c;
	bg_error e;

	if (!ready) {
		if (sodium_init() < 0 || signers_parse(approvers, strlen(approvers), &ss, &e) != 0)
			return 0;
		ready = 1;
	}
	if (consent_parse((const char *)data, size, &c, &e) == 0) {
		int64_t rows;
		uint64_t d;

		(void)consent_verify(&c, scope, &ss, 1, 1795240800, 1795240800, &e);
		consent_sql_marks(c.statement, sha, &rows, &d);
		consent_release(&c);
	}
	return 0;
}
