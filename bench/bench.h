/* bench.h - what the bench programs share: timing samples, sorted. */
#ifndef BG_BENCH_H
#define BG_BENCH_H

#include "utc.h"

#include <stdlib.h>

static int
bench_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Sort n samples in place (for medians and percentiles). */
static inline void
bench_sort(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), bench_cmp);
}

#endif
