/*
 * utc.c - UTC instants and durations.  No local time zone is ever consulted:
 * conversion uses the civil-from-days algorithm on plain integers.
 */
#include "utc.h"
#include "testhook.h"
#include "err.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void
civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	*y = (int64_t)yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y += *m <= 2;
}

int64_t
utc_now(void)
{
	const char *t = testhook_env("BREAKGLASS_NOW"); /* NULL in a release build */
	struct timespec ts;
	int64_t v;

	if (t != NULL && utc_parse(t, &v) == 0)
		return v;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec;
}

void
utc_format(int64_t t, char out[UTC_STRLEN])
{
	int64_t days = t / 86400, rem = t % 86400, y;
	unsigned m, d;

	if (rem < 0) {
		rem += 86400;
		days--;
	}
	civil_from_days(days, &y, &m, &d);
	if (y < 0 || y > 9999) {
		snprintf(out, UTC_STRLEN, "out-of-range");
		return;
	}
	{
		char tmp[64];

		snprintf(tmp, sizeof(tmp), "%04d-%02u-%02uT%02d:%02d:%02dZ", (int)y, m % 100,
		    d % 100, (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60));
		memcpy(out, tmp, UTC_STRLEN - 1);
		out[UTC_STRLEN - 1] = '\0';
	}
}

static int
digits(const char **s, int n, int *v)
{
	int i, x = 0;

	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*s)[i]))
			return -1;
		x = x * 10 + ((*s)[i] - '0');
	}
	*s += n;
	*v = x;
	return 0;
}

/*
 * "YYYY-MM-DD[T ]HH:MM[:SS]" at *s, fields in range: the instant as if it
 * were UTC into *t, *s moved past it.
 */
static int
parse_civil(const char **sp, int64_t *t)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	const char *s = *sp;
	int y, mo, d, h, mi, se = 0, leap;

	if (digits(&s, 4, &y) || *s++ != '-' || digits(&s, 2, &mo) ||
	    *s++ != '-' || digits(&s, 2, &d))
		return BG_ERR_INVALID;
	if (*s != 'T' && *s != ' ')
		return BG_ERR_INVALID;
	s++;
	if (digits(&s, 2, &h) || *s++ != ':' || digits(&s, 2, &mi))
		return BG_ERR_INVALID;
	if (*s == ':') {
		s++;
		if (digits(&s, 2, &se))
			return BG_ERR_INVALID;
	}
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
	    h > 23 || mi > 59 || se > 59)
		return BG_ERR_INVALID;
	leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (mo == 2 && d == 29 && !leap)
		return BG_ERR_INVALID;
	*t = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 +
	    h * 3600 + mi * 60 + se;
	*sp = s;
	return 0;
}

int
utc_parse_human(const char *s, int64_t *t)
{
	int64_t v;
	int oh, om, sign;

	if (parse_civil(&s, &v) != 0)
		return BG_ERR_INVALID;
	if (*s == ' ')
		s++;
	if (strcmp(s, "Z") == 0 || strcmp(s, "UTC") == 0) {
		*t = v;
		return 0;
	}
	if (*s != '+' && *s != '-')
		return BG_ERR_INVALID;
	sign = *s++ == '+' ? 1 : -1;
	if (digits(&s, 2, &oh))
		return BG_ERR_INVALID;
	if (*s == ':')
		s++;
	if (digits(&s, 2, &om) || *s != '\0' || oh > 14 || om > 59)
		return BG_ERR_INVALID;
	v -= sign * (oh * 3600 + om * 60);
	if (v < 0)
		return BG_ERR_INVALID;
	*t = v;
	return 0;
}

int
utc_parse(const char *s, int64_t *t)
{
	int64_t v;

	if (parse_civil(&s, &v) != 0 || (strcmp(s, "Z") != 0 && strcmp(s, "+00:00") != 0))
		return BG_ERR_INVALID;
	*t = v;
	return 0;
}

int
utc_parse_duration(const char *s, int64_t *secs)
{
	int64_t total = 0, v;
	int seen = 0, last = 5;
	const char *units = "dhms";
	const int64_t mult[] = { 86400, 3600, 60, 1 };

	if (*s == '\0')
		return BG_ERR_INVALID;
	while (*s != '\0') {
		const char *u;
		int idx;

		if (!isdigit((unsigned char)*s))
			return BG_ERR_INVALID;
		for (v = 0; isdigit((unsigned char)*s); s++) {
			v = v * 10 + (*s - '0');
			if (v > 1000000)
				return BG_ERR_INVALID;
		}
		if (*s == '\0' || (u = strchr(units, *s)) == NULL)
			return BG_ERR_INVALID;
		idx = (int)(u - units);
		if (seen && idx <= last) /* units must descend: 1h30m, not 30m1h */
			return BG_ERR_INVALID;
		last = idx;
		seen = 1;
		total += v * mult[idx];
		s++;
	}
	if (total <= 0 || total > 366LL * 86400)
		return BG_ERR_INVALID;
	*secs = total;
	return 0;
}

void
utc_format_duration(int64_t secs, char *out, size_t outlen)
{
	int64_t d = secs / 86400, h = secs / 3600 % 24, m = secs / 60 % 60, s = secs % 60;
	size_t off = 0;

	out[0] = '\0';
	if (d && off < outlen)
		off += (size_t)snprintf(out + off, outlen - off, "%lldd", (long long)d);
	if (h && off < outlen)
		off += (size_t)snprintf(out + off, outlen - off, "%lldh", (long long)h);
	if (m && off < outlen)
		off += (size_t)snprintf(out + off, outlen - off, "%lldm", (long long)m);
	if ((s || secs == 0) && off < outlen)
		snprintf(out + off, outlen - off, "%llds", (long long)s);
}

double
utc_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
