/*
 * testhook.h - test hooks, compiled into test builds only.
 *
 * A test build (make check, make unit, make integration: build/test, built
 * with -DBG_TEST_HOOKS) honours BREAKGLASS_TESTING=1 and, with it, the
 * BREAKGLASS_NOW clock and the BREAKGLASS_TEST_* pauses.  The binary that
 * `make` builds and `make install` installs has none of them: every hook
 * reads as unset, and main refuses to run with one in its environment.
 */
#ifndef BG_TESTHOOK_H
#define BG_TESTHOOK_H

/* 1 in a test build. */
int testhook_compiled(void);
/*
 * The value of the test variable name, or NULL: always NULL in a release
 * build, and in a test build unless BREAKGLASS_TESTING=1.
 */
const char *testhook_env(const char *name);
/*
 * The first test variable (BREAKGLASS_TESTING, BREAKGLASS_NOW,
 * BREAKGLASS_TEST_*) set in the environment, or NULL.
 */
const char *testhook_env_named(void);

#endif
