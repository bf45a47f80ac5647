/*
 * freezefmt.h - the change freeze as the broker publishes it to hosts.
 *
 * While an emergency ticket is active, nothing unrelated may be deployed
 * or upgraded on its project's systems.  The broker computes who is
 * frozen (src/broker/freeze.c) and writes this text wherever the home's
 * config says (freeze-publish), the way it publishes the KRL; a host's
 * guard (the apt hook, `breakglass freeze check`) reads it with no broker
 * connection:
 *
 *   breakglass freeze v1
 *   published: 2026-12-02T03:10:00Z
 *   frozen: T-3 shop 2026-12-02T02:40:00Z hotfix/T-3 web1,db1
 *
 * One "frozen:" line per active emergency: ticket, project, since (UTC),
 * the ticket's own emergency branch, and the systems it freezes.  The
 * parser is strict: an unknown version, an unknown line, a malformed
 * field is an error (and a guard that cannot read the state refuses).
 */
#ifndef BG_FREEZEFMT_H
#define BG_FREEZEFMT_H

#include "buf.h"
#include "err.h"

#include <stdint.h>

#define FREEZEFMT_MAX 256 /* frozen tickets in one state */

typedef struct freezefmt_entry {
	int64_t ticket;
	char project[65];
	int64_t since;
	char branch[129];
	char systems[1024]; /* comma-separated */
} freezefmt_entry;

typedef struct freezefmt {
	int64_t published;
	freezefmt_entry *v;
	size_t n;
} freezefmt;

/* Append e to f (copies).  0, BG_ERR_TOOLARGE or BG_ERR_NOMEM. */
int freezefmt_add(freezefmt *f, const freezefmt_entry *e);
void freezefmt_release(freezefmt *f);

/* The published text of f. */
int freezefmt_write(const freezefmt *f, buf *out);

/* Parse published text strictly; e names the line on error. */
int freezefmt_parse(const char *text, size_t len, freezefmt *out, bg_error *e);

/* 1 if entry e freezes the named host: one of its systems. */
int freezefmt_covers(const freezefmt_entry *e, const char *system);

/* 1 if s is a usable name: project, system or branch (printable, no
 * spaces or commas, at most max bytes). */
int freezefmt_name_ok(const char *s, size_t max, int allow_slash);

#endif
