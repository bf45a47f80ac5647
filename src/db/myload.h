/*
 * myload.h - libmariadb loaded on first use (see myload.c).
 */
#ifndef BG_MYLOAD_H
#define BG_MYLOAD_H

#include "err.h"

#include <mysql.h>

/* Load libmariadb.so.3 (once).  0, or BG_ERR_UNSUPPORTED saying what to
 * install.  Every connection is made after it. */
int myload_ready(bg_error *e);

#endif
