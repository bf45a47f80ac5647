/*
 * pqload.h - libpq loaded on first use (see pqload.c): the database
 * layer calls libpq's functions by their names; the binary links none.
 */
#ifndef BG_PQLOAD_H
#define BG_PQLOAD_H

#include "err.h"

#include <libpq-fe.h>

/* Load libpq.so.5 (once).  0, or BG_ERR_UNSUPPORTED saying what to
 * install.  Every connection is made after it. */
int pqload_ready(bg_error *e);

#endif
