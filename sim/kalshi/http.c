/*
 * http: the HTTP side of the sim, one route table for Kalshi's REST API (/trade-api/v2) and the
 * sim's own control endpoints (/_sim), served by lib/hsrv. The admit hook charges the REST token
 * bucket (429 {"error":"too many requests"}) and checks signed requests (401 when a signature is
 * present but wrong, or absent on a route that needs one); errors take Kalshi's shape
 * {"error":{"code","message"}}.
 */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "log.h"
#include "sim.h"

enum http_auth { AUTH_NONE, AUTH_OPTIONAL, AUTH_REQUIRED };

/* The sim's own columns of a route. */
struct http_policy {
	enum http_auth auth;
	bool charged;          /* REST routes spend rest_cost tokens */
};

static const struct http_policy pol_open = { AUTH_OPTIONAL, true };
static const struct http_policy pol_signed = { AUTH_REQUIRED, true };
static const struct http_policy pol_ctl = { AUTH_NONE, false };

static const struct hsrv_route http_routes[] = {
	{ "GET", "/trade-api/v2/markets", sim_rest_markets, &pol_open },
	{ "GET", "/trade-api/v2/markets/*", sim_rest_market, &pol_open },
	{ "GET", "/trade-api/v2/markets/*/orderbook", sim_rest_orderbook, &pol_open },
	{ "GET", "/trade-api/v2/events", sim_rest_events, &pol_open },
	{ "GET", "/trade-api/v2/events/*", sim_rest_event, &pol_open },
	{ "GET", "/trade-api/v2/series/*", sim_rest_series, &pol_open },
	{ "GET", "/trade-api/v2/portfolio/balance", sim_rest_balance, &pol_signed },
	{ "GET", "/_sim/book", sim_ctl_book, &pol_ctl },
	{ "GET", "/_sim/stats", sim_ctl_stats, &pol_ctl },
	{ "POST", "/_sim/flow", sim_ctl_flow, &pol_ctl },
	{ "POST", "/_sim/fault", sim_ctl_fault, &pol_ctl },
	{ "POST", "/_sim/lifecycle", sim_ctl_lifecycle, &pol_ctl },
};

static int64_t http_tokens;      /* micro-tokens */
static int64_t http_tokens_t;    /* last refill */

void
sim_req_error(struct hsrv_req *r, int status, const char *code, const char *message)
{
	struct json_object *o = json_object_new_object(), *e = json_object_new_object();

	json_object_object_add(e, "code", json_object_new_string(code));
	json_object_object_add(e, "message", json_object_new_string(message));
	json_object_object_add(o, "error", e);
	hsrv_reply_json(r, status, o);
}

static void
http_error(struct hsrv_req *r, int status)
{
	switch (status) {
	case 404:
		sim_req_error(r, 404, "not_found", "not found");
		break;
	case 405:
		sim_req_error(r, 405, "method_not_allowed", "method not allowed");
		break;
	case 413:
		sim_req_error(r, 413, "too_large", "request body too large");
		break;
	default:
		sim_req_error(r, 500, "internal_error", "internal error");
		break;
	}
}

/* Takes rest_cost tokens from the bucket; false when there are not enough. */
static bool
http_charge(void)
{
	int64_t now = sim_now_us(), cap;

	if (sim_w.opt.rest_tokens <= 0)
		return true;
	cap = sim_w.opt.rest_tokens * 1000000;
	if (http_tokens_t == 0)
		http_tokens = cap;
	else
		http_tokens += (now - http_tokens_t) * sim_w.opt.rest_tokens;
	if (http_tokens > cap)
		http_tokens = cap;
	http_tokens_t = now;
	if (http_tokens < sim_w.opt.rest_cost * 1000000)
		return false;
	http_tokens -= sim_w.opt.rest_cost * 1000000;
	return true;
}

static bool
http_admit(struct hsrv_req *r, const struct hsrv_route *rt)
{
	const struct http_policy *pol = rt->ext;
	const char *why;

	if (pol->charged) {
		sim_w.st.rest_requests++;
		if (!http_charge()) {
			struct json_object *o = json_object_new_object();

			sim_w.st.rest_429++;
			json_object_object_add(o, "error", json_object_new_string("too many requests"));
			hsrv_reply_json(r, 429, o);
			return false;
		}
	}
	if (pol->auth == AUTH_NONE)
		return true;
	switch (sim_auth_check(hsrv_wsi(r), hsrv_method(r), hsrv_path(r), &why)) {
	case SIM_AUTH_OK:
		if (sim_w.pubkey != NULL)
			sim_w.st.rest_signed_ok++;
		return true;
	case SIM_AUTH_ABSENT:
		if (pol->auth == AUTH_REQUIRED) {
			sim_req_error(r, 401, "unauthorized", "authentication required");
			return false;
		}
		return true;
	case SIM_AUTH_BAD:
		break;
	}
	sim_w.st.rest_signed_bad++;
	log_info("REST %s %s refused: %s", hsrv_method(r), hsrv_path(r), why);
	sim_req_error(r, 401, "unauthorized", "authentication failed");
	return false;
}

static const struct hsrv_conf http_conf = {
	.routes = http_routes,
	.n_routes = sizeof(http_routes) / sizeof(http_routes[0]),
	.admit = http_admit,
	.error = http_error,
	/* the sim reads no request body; Kalshi's own limit on its small POSTs */
	.max_body = 65536,
};

int
sim_http_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
    size_t len)
{
	struct sim_pss *pss = user;

	return hsrv_callback(&http_conf, pss != NULL ? &pss->http : NULL, wsi, reason, user, in, len);
}
