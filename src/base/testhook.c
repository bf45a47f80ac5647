/* testhook.c - test hooks, compiled into test builds only (testhook.h). */
#include "testhook.h"

#include <stdlib.h>
#include <string.h>

extern char **environ;

int
testhook_compiled(void)
{
#ifdef BG_TEST_HOOKS
	return 1;
#else
	return 0;
#endif
}

const char *
testhook_env(const char *name)
{
#ifdef BG_TEST_HOOKS
	const char *t = getenv("BREAKGLASS_TESTING");

	if (t != NULL && strcmp(t, "1") == 0)
		return getenv(name);
#else
	(void)name;
#endif
	return NULL;
}

const char *
testhook_env_named(void)
{
	static const char *const fixed[] = { "BREAKGLASS_TESTING", "BREAKGLASS_NOW",
		"BREAKGLASS_ACTOR" };
	static char name[64];

	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		if (getenv(fixed[i]) != NULL)
			return fixed[i];
	for (char **v = environ; v != NULL && *v != NULL; v++)
		if (strncmp(*v, "BREAKGLASS_TEST_", 16) == 0) {
			size_t n = strcspn(*v, "=");

			if (n >= sizeof(name))
				n = sizeof(name) - 1;
			memcpy(name, *v, n);
			name[n] = '\0';
			return name;
		}
	return NULL;
}
