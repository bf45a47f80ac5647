/*
 * report.h - the incident report, generated from the records.
 */
#ifndef BG_REPORT_H
#define BG_REPORT_H

#include "buf.h"
#include "err.h"
#include "home.h"

#include <stdint.h>

/* Render ticket's report as Markdown (json=0) or JSON (json=1). */
int report_render(home *h, int64_t ticket, int json, buf *out, bg_error *e);

/* A change set a host's gate recorded (a gate.changes record). */
#define REPORT_CS_MAX 4096
typedef struct report_cs {
	char id[128];            /* T-N-G-N-...: its files under snapshots/changes/ */
	char sha256[65];         /* of ID.json ("" when the record has none) */
	char text_sha256[65];    /* of ID.txt */
	int64_t grant;
} report_cs;

/*
 * The change sets of ticket tid in the host log at dir, oldest first, after
 * the log verified with the host's key.  *out is the caller's (free).
 */
int report_change_sets(const char *dir, int64_t tid, report_cs **out, size_t *n, bg_error *e);

#endif
