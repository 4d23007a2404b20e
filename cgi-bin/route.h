/*
 * route: the one route table of kbook-api and the dispatcher that serves it.
 *
 * Each row says method, path pattern ({name} matches one non-empty segment), handler, auth kind,
 * credit cost and the declared query parameters. The dispatcher answers 404 and 405 (with Allow),
 * rejects undeclared and repeated parameters, and only then runs the handler.
 */
#ifndef KBOOK_ROUTE_H
#define KBOOK_ROUTE_H

#include "api.h"

enum route_auth {
	AUTH_NONE,    /* public */
};

struct route {
	const char *method;
	const char *pattern;
	void (*handler)(struct req *req);
	enum route_auth auth;
	int cost;                   /* credits charged per call */
	const char *const *params;  /* declared query parameters, NULL-terminated (NULL: none) */
	const char *summary;        /* one line, for the route listing */
};

extern const struct route routes[];
extern const size_t routes_count;

/* Routes req to its handler, or answers the dispatcher's own errors. */
void route_dispatch(struct req *req);

/* The handlers, one file each (h_<resource>.c). */
void h_health(struct req *req);

#endif
