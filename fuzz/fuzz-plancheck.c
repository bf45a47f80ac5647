/* fuzz-plancheck.c - a plan's named smoke check line ("check: NAME URL
 * [expect=S] [contains=T] [timeout=S]" or "check: NAME command='ARGV'
 * [exit=S] [host=H]") and cleanup's --path-map
 * HOSTDIR=REPODIR: what parses must be usable and must stay inside the
 * repository. */
#include "plan.h"
#include "repocheck.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
escapes(const char *p)
{
	/* a component "..", "." or "" anywhere, or an absolute path */
	const char *q;

	if (*p == '/')
		return 1;
	for (;;) {
		size_t l;

		q = strchr(p, '/');
		l = q ? (size_t)(q - p) : strlen(p);
		if (l == 0 || (l == 1 && p[0] == '.') || (l == 2 && p[0] == '.' && p[1] == '.'))
			return 1;
		if (q == NULL)
			return 0;
		p = q + 1;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;
	plan_check pc;
	repocheck rc;
	bg_error e;

	if (size > 8192 || (s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (strlen(s) != size || plan_check_parse(s, &pc, &e) != 0) {
		/* refused */
	} else if (pc.is_command) {
		/* a command check: a usable argv that the host's record can equal */
		argv_list again = { NULL, 0 };
		buf j;

		if (pc.name[0] == '\0' || pc.c.url != NULL || pc.cmd.name != pc.name ||
		    pc.cmd.av.n == 0 || pc.cmd.av.n > SMOKECMD_MAX_ARGS ||
		    smokecmd_validate(&pc.cmd, &e) != 0 || pc.cmd.expect_exit < 0 ||
		    pc.cmd.expect_exit > 255 || (pc.cmd.av.v[0][0] != '/' &&
		    strcmp(pc.cmd.av.v[0], "grep") != 0 && strcmp(pc.cmd.av.v[0], "cat") != 0 &&
		    strcmp(pc.cmd.av.v[0], "ls") != 0 && strcmp(pc.cmd.av.v[0], "stat") != 0 &&
		    strcmp(pc.cmd.av.v[0], "sha256") != 0))
			abort();
		buf_init(&j, 1u << 20);
		if (argv_join(&pc.cmd.av, &j) != 0 || j.len > SMOKECMD_MAX_JOINED ||
		    argv_split(buf_cstr(&j), &again, &e) != 0 ||
		    !argv_equal(&again, &pc.cmd.av))
			abort();
		argv_release(&again);
		buf_release(&j);
		plan_check_release(&pc);
	} else {
		if (pc.name[0] == '\0' || pc.c.url == NULL || pc.c.name != pc.name ||
		    smokecheck_validate(&pc.c, &e) != 0 || pc.c.timeout_s < 1 || pc.c.timeout_s > 300 ||
		    (pc.c.expect != 0 && (pc.c.expect < 100 || pc.c.expect > 599)))
			abort();
		plan_check_release(&pc);
	}
	memset(&rc, 0, sizeof(rc));
	if (strlen(s) == size && repocheck_add_map(&rc, s, &e) == 0) {
		if (rc.nmap != 1 || rc.map_host[0][0] != '/' ||
		    (rc.map_repo[0][0] != '\0' && escapes(rc.map_repo[0])))
			abort();
	}
	free(s);
	return 0;
}
