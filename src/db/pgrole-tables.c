/*
 * pgrole-tables.c - a db grant's table list, parsed (part of module
 * pgrole; see pgrole.h).
 *
 * In a file of its own so that the broker, which validates grant requests
 * with it, links none of libpq: every object in this file is free of the
 * client library, and with --as-needed the breakglass binary - the gate
 * on every request included - does not load libpq and its two dozen
 * dependencies until something really connects.
 */
#include "pgrole.h"

#include <stdio.h>
#include <string.h>

static int
ident_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > 63 || (s[0] >= '0' && s[0] <= '9'))
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return 0;
	return 1;
}

int
pgrole_grant_tables(dbgrant *g, const char *list, bg_error *e)
{
	const char *p = list;

	g->ntables = 0;
	while (*p != '\0') {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		const char *dot = memchr(p, '.', n);
		char name[SQLCHECK_NAME];
		size_t i;

		if (dot != NULL ? !ident_ok(p, (size_t)(dot - p)) ||
		    !ident_ok(dot + 1, n - (size_t)(dot - p) - 1) : !ident_ok(p, n))
			return bg_fail(e, BG_ERR_INVALID, "db grant: table '%.*s' is not "
			    "schema.table in lower-case letters, digits and '_'", (int)n, p);
		snprintf(name, sizeof(name), "%s%.*s", dot ? "" : "public.", (int)n, p);
		for (i = 0; i < g->ntables; i++)
			if (strcmp(g->tables[i], name) == 0)
				return bg_fail(e, BG_ERR_INVALID, "db grant: table '%s' twice", name);
		if (g->ntables == PGROLE_MAX_TABLES)
			return bg_fail(e, BG_ERR_INVALID, "db grant: more than %d tables",
			    PGROLE_MAX_TABLES);
		memcpy(g->tables[g->ntables], name, strlen(name) + 1);
		g->privs[g->ntables++] = PGROLE_SELECT;
		if (end == NULL)
			break;
		p = end + 1;
		if (*p == '\0')
			return bg_fail(e, BG_ERR_INVALID, "db grant: empty table name");
	}
	if (g->ntables == 0)
		return bg_fail(e, BG_ERR_INVALID, "db grant: no table");
	return 0;
}
