/*
 * fuzz-hostproc.c - what hostd reads from /proc: a stat line, an
 * environment block (its request and certificate path come from one), and
 * mountinfo + cgroup (where the sessions' cgroups go).  The first byte
 * picks the parser.
 */
#include "cgroup.h"
#include "hostd.h"
#include "login.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;
	size_t n;

	if (size < 1)
		return 0;
	n = size - 1;
	if ((s = malloc(n + 1)) == NULL)
		return 0;
	memcpy(s, data + 1, n);
	s[n] = '\0';
	switch (data[0] % 3) {
	case 0: {
		int ppid = 0;
		unsigned long long start = 0;

		if (login_parse_stat(s, &ppid, &start) == 0 && ppid <= 0)
			__builtin_trap();
		break;
	}
	case 1: {
		static const char *const names[] = { "SSH_ORIGINAL_COMMAND", "SSH_USER_AUTH", "TERM" };

		for (size_t i = 0; i < 3; i++) {
			int dup = 0;
			const char *v = hostd_env_get(s, n, names[i], &dup);

			/* a value lies inside the block and ends at a NUL inside it */
			if (v != NULL && (v < s || v >= s + n || strnlen(v, (size_t)(s + n - v)) ==
			    (size_t)(s + n - v)))
				__builtin_trap();
		}
		break;
	}
	default: {
		/* mountinfo NUL cgroup */
		size_t m = strnlen(s, n);
		char *mi = strndup(s, m), *cg = strdup(m < n ? s + m + 1 : "");
		buf out;
		bg_error e;

		buf_init(&out, 8192);
		if (mi != NULL && cg != NULL && cgroup_parse(mi, cg, &out, &e) == 0 &&
		    (out.len == 0 || out.data[0] != '/' || strstr(out.data, "/../") != NULL))
			__builtin_trap();
		buf_release(&out);
		free(mi);
		free(cg);
		break;
	}
	}
	free(s);
	return 0;
}
