/* unit.h - shared includes for the cmocka unit tests. */
#ifndef BG_UNIT_H
#define BG_UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline int
unit_setup_sodium(void **state)
{
	(void)state;
	return sodium_init() < 0 ? -1 : 0;
}

#endif
