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
#include "cursor.h"

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
	 * Postgres together with the charge (one round trip); returns 0, or -1 for none. Declared by
	 * /orderbook alone: measured in A/B, one round trip less won 12 of 15 paired runs at 1
	 * connection (914 against 805 req/s in the quietest run), 9 of 15 at 16, where the CPU is
	 * the limit (docs/benchmarks.md) */
	int (*prefetch)(struct req *req);
};

extern const struct route routes[];
extern const size_t routes_count;

/* Routes req to its handler, or answers the dispatcher's own errors. */
void route_dispatch(struct req *req);

/* Validates req's query against rt->params into req->args; answers and returns -1 on error. */
int route_check_params(const struct route *rt, struct req *req);

/* Checks that req's path captures (the {name} segments) are valid UTF-8; answers a 400 naming
 * the segment and returns -1 when one is not. */
int route_check_captures(const struct route *rt, struct req *req);

/* Authenticates and charges an AUTH_KEY call; answers and returns -1 when refused. */
int auth_charge(struct req *req);
/* The request asks for its price only (header X-Credits-Estimate: true or 1). */
bool auth_wants_estimate(const struct req *req);
/*
 * Answers the price of the call instead of making it (Databento's get_cost): after the key's
 * checks, 200 with the cost, what would remain and the overage it would add, without charging,
 * counting against the rate limit or running the handler.
 */
void auth_estimate(struct req *req);
/* Gives back what auth_charge took, for a call that failed afterwards. */
void auth_refund(struct req *req);

/* Prints the route and error tables as JSON (kbook-api --routes). */
void routes_dump(FILE *out);

/* A page cursor of req's route and path segments for position v (cursor.h; params.c). */
void cursor_encode(const struct req *req, int64_t v, char buf[CURSOR_BUFSZ]);

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
void h_billing_get(struct req *req);
void h_billing_checkout(struct req *req);
void h_billing_portal(struct req *req);
void h_billing_payg(struct req *req);
void h_stripe_webhook(struct req *req);

#endif
