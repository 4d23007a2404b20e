/*
 * route: the one route table of kbook-api and the dispatcher that serves it.
 *
 * Each row says method, path pattern ({name} matches one non-empty segment), handler, auth kind,
 * credit cost and the declared query parameters with their types. Before any handler runs the
 * dispatcher answers 404 and 405 (with Allow), rejects undeclared, repeated, missing and malformed
 * parameters, authenticates the API key, applies the plan's rate limit and charges the credits;
 * a call that then fails (4xx/5xx) is refunded. An AUTH_SESSION route is authenticated by its
 * session (with the CSRF checks of a state-changing request); any other state-changing request
 * must come from the site's own origin (cgi-bin/session.c).
 */
#ifndef KBOOK_ROUTE_H
#define KBOOK_ROUTE_H

#include <stdio.h>

#include "api.h"

enum route_auth {
	AUTH_NONE, /* public */
	AUTH_KEY,  /* X-API-Key or Authorization: Bearer; charged */
	AUTH_SESSION, /* the session cookie (plus CSRF token) or Authorization: Bearer kb_sess_... */
};

enum param_type {
	PT_STRING, /* min..max bytes */
	PT_INT,    /* decimal integer in min..max */
	PT_TIME,   /* RFC 3339 or unix s/ms/us (lib/ktime), not in the future */
	PT_BOOL,   /* true|false|1|0 */
	PT_ENUM,   /* one of choices */
	PT_CURSOR, /* an opaque cursor this API handed out */
	PT_LIST,   /* comma-separated non-empty items, at most max of them */
};

struct param_spec {
	const char *name;
	enum param_type type;
	int64_t min, max;
	const char *const *choices; /* PT_ENUM, NULL-terminated */
	bool required;
	const char *help;           /* one line, for the docs */
};

struct route {
	const char *method;
	const char *pattern;
	void (*handler)(struct req *req);
	enum route_auth auth;
	int cost;                        /* credits charged per call */
	const struct param_spec *params; /* terminated by a row with name NULL */
	const char *summary;
	/* optional: fills req->prefetch with the handler's first statement, which then goes to
	 * Postgres together with the charge (one round trip); returns 0, or -1 for none */
	int (*prefetch)(struct req *req);
};

extern const struct route routes[];
extern const size_t routes_count;

/* Routes req to its handler, or answers the dispatcher's own errors. */
void route_dispatch(struct req *req);

/* Validates req's query against rt->params into req->args; answers and returns -1 on error. */
int route_check_params(const struct route *rt, struct req *req);

/* Authenticates and charges an AUTH_KEY call; answers and returns -1 when refused. */
int auth_charge(struct req *req);
/* Gives back what auth_charge took, for a call that failed afterwards. */
void auth_refund(struct req *req);

/* Prints the route and error tables as JSON (kbook-api --routes). */
void routes_dump(FILE *out);

/* Cursors: "<tag><value>" in base 36, opaque to clients. Returns 0 or -1. */
int cursor_decode(const char *s, int64_t *out);
void cursor_encode(int64_t v, char buf[24]);

/* The handlers, one file per resource (h_<resource>.c). */
void h_health(struct req *req);
void h_markets_list(struct req *req);
void h_market(struct req *req);
void h_coverage(struct req *req);
void h_deltas(struct req *req);
void h_orderbook(struct req *req);
int h_orderbook_prefetch(struct req *req);
void h_orderbooks(struct req *req);
void h_event_orderbook(struct req *req);
void h_samples(struct req *req);
void h_plans(struct req *req);
void h_session_login(struct req *req);
void h_session_get(struct req *req);
void h_session_delete(struct req *req);
void h_session_others(struct req *req);
void h_account_signup(struct req *req);
void h_account_confirm(struct req *req);
void h_account_resend(struct req *req);
void h_account_password(struct req *req);
void h_account_forgot(struct req *req);
void h_account_reset(struct req *req);
void h_account_delete(struct req *req);
void h_usage(struct req *req);
void h_keys_list(struct req *req);
void h_keys_create(struct req *req);
void h_keys_patch(struct req *req);
void h_keys_revoke(struct req *req);

#endif
