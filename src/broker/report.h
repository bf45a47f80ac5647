/*
 * report.h - the incident report, generated from the records.
 */
#ifndef BG_REPORT_H
#define BG_REPORT_H

#include "buf.h"
#include "err.h"
#include "home.h"

/* Render ticket's report as Markdown (json=0) or JSON (json=1). */
int report_render(home *h, int64_t ticket, int json, buf *out, bg_error *e);

#endif
