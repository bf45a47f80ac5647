/*
 * project.h - projects: who may approve (quorum) and which systems belong
 * to them (requests for other systems are refused by policy).
 */
#ifndef BG_PROJECT_H
#define BG_PROJECT_H

#include "err.h"
#include "home.h"

typedef struct project {
	char *name;
	int quorum;
	char **systems;
	size_t nsystems;
	int64_t created;
} project;

/* Register a project.  systems: comma-separated names (may be NULL). */
int project_add(home *h, const char *name, int quorum, const char *systems, bg_error *e);
/* Change quorum (0: keep) and/or systems (NULL: keep). */
int project_set(home *h, const char *name, int quorum, const char *systems, bg_error *e);
int project_load(home *h, const char *name, project **out, bg_error *e);
void project_free(project *p);

#endif
