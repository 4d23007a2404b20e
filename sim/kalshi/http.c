/*
 * http: the HTTP side of the sim, one route table for Kalshi's REST API (/trade-api/v2) and the
 * sim's own control endpoints (/_sim). The dispatcher finds the route (404, 405), charges the
 * REST token bucket (429 {"error":"too many requests"}), checks signed requests (401 when a
 * signature is present but wrong, or absent on a route that needs one), parses the query string,
 * runs the handler and writes its JSON reply: headers from LWS_CALLBACK_HTTP, then the body in
 * chunks, one lws_write per LWS_CALLBACK_HTTP_WRITEABLE.
 *
 * The reply body is owned by the request (struct sim_http_resp in the session data) and freed
 * when the transaction completes or the connection closes.
 */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "log.h"
#include "sim.h"

#define HTTP_CHUNK 65536
#define HTTP_MAX_ARGS 32

enum http_auth { AUTH_NONE, AUTH_OPTIONAL, AUTH_REQUIRED };

static const struct sim_route {
	const char *method;
	const char *pattern;   /* '*' matches one path segment */
	void (*handler)(struct sim_req *);
	enum http_auth auth;
	bool charged;          /* REST routes spend rest_cost tokens */
} http_routes[] = {
	{ "GET", "/trade-api/v2/markets", sim_rest_markets, AUTH_OPTIONAL, true },
	{ "GET", "/trade-api/v2/markets/*", sim_rest_market, AUTH_OPTIONAL, true },
	{ "GET", "/trade-api/v2/markets/*/orderbook", sim_rest_orderbook, AUTH_OPTIONAL, true },
	{ "GET", "/trade-api/v2/events", sim_rest_events, AUTH_OPTIONAL, true },
	{ "GET", "/trade-api/v2/events/*", sim_rest_event, AUTH_OPTIONAL, true },
	{ "GET", "/trade-api/v2/series/*", sim_rest_series, AUTH_OPTIONAL, true },
	{ "GET", "/trade-api/v2/portfolio/balance", sim_rest_balance, AUTH_REQUIRED, true },
	{ "GET", "/_sim/book", sim_ctl_book, AUTH_NONE, false },
	{ "GET", "/_sim/stats", sim_ctl_stats, AUTH_NONE, false },
	{ "POST", "/_sim/flow", sim_ctl_flow, AUTH_NONE, false },
	{ "POST", "/_sim/fault", sim_ctl_fault, AUTH_NONE, false },
	{ "POST", "/_sim/lifecycle", sim_ctl_lifecycle, AUTH_NONE, false },
};

struct sim_http_resp {
	char *body;
	size_t len, off;
};

struct sim_req {
	struct lws *wsi;
	const char *method;
	char path[512];
	char segs[2][128];           /* the segments '*' matched */
	int n_segs;
	char argbuf[4096];
	const char *arg_names[HTTP_MAX_ARGS], *arg_vals[HTTP_MAX_ARGS];
	int n_args;
	bool is_signed;
	int status;
	struct json_object *body;    /* owned */
};

static int64_t http_tokens;      /* micro-tokens */
static int64_t http_tokens_t;    /* last refill */

const char *
sim_req_arg(struct sim_req *r, const char *name)
{
	for (int i = 0; i < r->n_args; i++)
		if (strcmp(r->arg_names[i], name) == 0)
			return r->arg_vals[i];
	return NULL;
}

const char *
sim_req_param(struct sim_req *r, int i)
{
	return i >= 0 && i < r->n_segs ? r->segs[i] : "";
}

bool
sim_req_signed(struct sim_req *r)
{
	return r->is_signed;
}

void
sim_req_reply(struct sim_req *r, int status, struct json_object *body)
{
	json_object_put(r->body);
	r->status = status;
	r->body = body;
}

void
sim_req_error(struct sim_req *r, int status, const char *code, const char *message)
{
	struct json_object *o = json_object_new_object(), *e = json_object_new_object();

	json_object_object_add(e, "code", json_object_new_string(code));
	json_object_object_add(e, "message", json_object_new_string(message));
	json_object_object_add(o, "error", e);
	sim_req_reply(r, status, o);
}

/* Splits the query string into name/value pairs (lws has URL-decoded each fragment). */
static void
http_parse_args(struct sim_req *r)
{
	size_t used = 0;

	for (int i = 0; r->n_args < HTTP_MAX_ARGS; i++) {
		char *frag = r->argbuf + used, *eq;
		int n = lws_hdr_copy_fragment(r->wsi, frag, (int)(sizeof(r->argbuf) - used),
		    WSI_TOKEN_HTTP_URI_ARGS, i);

		if (n < 0)
			break;
		used += (size_t)n + 1;
		eq = strchr(frag, '=');
		if (eq != NULL)
			*eq++ = '\0';
		r->arg_names[r->n_args] = frag;
		r->arg_vals[r->n_args] = eq != NULL ? eq : "";
		r->n_args++;
		if (used >= sizeof(r->argbuf))
			break;
	}
}

/* Matches path against pattern, storing '*' segments in r. */
static bool
http_match(struct sim_req *r, const char *pattern, const char *path)
{
	r->n_segs = 0;
	while (*pattern != '\0' && *path != '\0') {
		if (*pattern == '*') {
			size_t n = strcspn(path, "/");

			if (n == 0 || n >= sizeof(r->segs[0]) || r->n_segs == 2)
				return false;
			memcpy(r->segs[r->n_segs], path, n);
			r->segs[r->n_segs++][n] = '\0';
			path += n;
			pattern++;
			continue;
		}
		if (*pattern != *path)
			return false;
		pattern++;
		path++;
	}
	return *pattern == '\0' && *path == '\0';
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

static void
http_dispatch(struct sim_req *r)
{
	const struct sim_route *rt = NULL;
	bool path_known = false;
	const char *why;

	for (size_t i = 0; i < sizeof(http_routes) / sizeof(http_routes[0]); i++) {
		if (!http_match(r, http_routes[i].pattern, r->path))
			continue;
		path_known = true;
		if (strcmp(http_routes[i].method, r->method) == 0) {
			rt = &http_routes[i];
			break;
		}
	}
	if (rt == NULL) {
		if (path_known)
			sim_req_error(r, 405, "method_not_allowed", "method not allowed");
		else
			sim_req_error(r, 404, "not_found", "not found");
		return;
	}
	/* the matched route's segments again (a later pattern may have overwritten them) */
	http_match(r, rt->pattern, r->path);
	if (rt->charged) {
		sim_w.st.rest_requests++;
		if (!http_charge()) {
			struct json_object *o = json_object_new_object();

			sim_w.st.rest_429++;
			json_object_object_add(o, "error", json_object_new_string("too many requests"));
			sim_req_reply(r, 429, o);
			return;
		}
	}
	if (rt->auth != AUTH_NONE) {
		char signed_path[600];

		snprintf(signed_path, sizeof(signed_path), "%s", r->path);
		switch (sim_auth_check(r->wsi, r->method, signed_path, &why)) {
		case SIM_AUTH_OK:
			r->is_signed = sim_w.pubkey != NULL;
			if (r->is_signed)
				sim_w.st.rest_signed_ok++;
			break;
		case SIM_AUTH_ABSENT:
			if (rt->auth == AUTH_REQUIRED) {
				sim_req_error(r, 401, "unauthorized", "authentication required");
				return;
			}
			break;
		case SIM_AUTH_BAD:
			sim_w.st.rest_signed_bad++;
			log_info("REST %s %s refused: %s", r->method, r->path, why);
			sim_req_error(r, 401, "unauthorized", "authentication failed");
			return;
		}
	}
	http_parse_args(r);
	rt->handler(r);
	if (r->body == NULL)
		sim_req_error(r, 500, "internal_error", "internal error");
}

/*
 * The status line is written by hand: on a refused upgrade lws would answer "HTTP/1.0", which
 * strict WebSocket clients (python-websockets) reject as "not a valid HTTP response".
 */
int
sim_http_write_simple(struct lws *wsi, int status, const char *body)
{
	unsigned char buf[LWS_PRE + 2048], *start = buf + LWS_PRE;
	const char *reason = status == 401 ? "Unauthorized" : status == 404 ? "Not Found" : "Error";
	int n;

	n = snprintf((char *)start, sizeof(buf) - LWS_PRE,
	    "HTTP/1.1 %d %s\r\ncontent-type: application/json\r\ncontent-length: %zu\r\n"
	    "connection: close\r\n\r\n%s", status, reason, strlen(body), body);
	if (n < 0 || (size_t)n >= sizeof(buf) - LWS_PRE)
		return -1;
	if (lws_write(wsi, start, (size_t)n, LWS_WRITE_HTTP_HEADERS) < n)
		return -1;
	return 0;
}

static void
http_resp_free(struct sim_pss *pss)
{
	if (pss->resp == NULL)
		return;
	free(pss->resp->body);
	free(pss->resp);
	pss->resp = NULL;
}

/* Runs the request and writes the reply's headers. Returns -1 to close the connection. */
static int
http_begin(struct lws *wsi, struct sim_pss *pss)
{
	unsigned char hbuf[LWS_PRE + 1024], *start = hbuf + LWS_PRE, *p = start,
	    *end = hbuf + sizeof(hbuf) - 1;
	struct sim_req *r = NULL;
	const char *text;
	int ret = -1;

	http_resp_free(pss);
	r = calloc(1, sizeof(*r));
	pss->resp = calloc(1, sizeof(*pss->resp));
	if (r == NULL || pss->resp == NULL)
		goto out;
	r->wsi = wsi;
	if (lws_hdr_copy(wsi, r->path, sizeof(r->path), WSI_TOKEN_GET_URI) > 0)
		r->method = "GET";
	else if (lws_hdr_copy(wsi, r->path, sizeof(r->path), WSI_TOKEN_POST_URI) > 0)
		r->method = "POST";
	if (r->method == NULL)
		sim_req_error(r, 405, "method_not_allowed", "method not allowed");
	else
		http_dispatch(r);
	text = json_object_to_json_string_ext(r->body, JSON_C_TO_STRING_PLAIN);
	pss->resp->len = strlen(text);
	pss->resp->body = strdup(text);
	if (pss->resp->body == NULL)
		goto out;
	if (lws_add_http_common_headers(wsi, (unsigned int)r->status, "application/json",
	    pss->resp->len, &p, end))
		goto out;
	if (lws_finalize_write_http_header(wsi, start, &p, end))
		goto out;
	lws_callback_on_writable(wsi);
	ret = 0;
out:
	if (r != NULL)
		json_object_put(r->body);
	free(r);
	return ret;
}

/* Writes the next chunk of the body. Returns -1 to close the connection. */
static int
http_continue(struct lws *wsi, struct sim_pss *pss)
{
	struct sim_http_resp *resp = pss->resp;
	size_t n;
	bool last;
	unsigned char *chunk;

	if (resp == NULL)
		return 0;
	n = resp->len - resp->off;
	if (n > HTTP_CHUNK)
		n = HTTP_CHUNK;
	last = resp->off + n == resp->len;
	chunk = malloc(LWS_PRE + n);
	if (chunk == NULL)
		return -1;
	memcpy(chunk + LWS_PRE, resp->body + resp->off, n);
	if (lws_write(wsi, chunk + LWS_PRE, n, last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) < (int)n) {
		free(chunk);
		return -1;
	}
	free(chunk);
	resp->off += n;
	if (!last) {
		lws_callback_on_writable(wsi);
		return 0;
	}
	http_resp_free(pss);
	return lws_http_transaction_completed(wsi) ? -1 : 0;
}

int
sim_http_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
    size_t len)
{
	struct sim_pss *pss = user;

	if (pss == NULL)
		return lws_callback_http_dummy(wsi, reason, user, in, len);
	switch (reason) {
	case LWS_CALLBACK_HTTP:
		/* a POST that announces a body is answered once the body (ignored) has arrived */
		if (lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI) > 0 &&
		    lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0)
			return 0;
		return http_begin(wsi, pss) < 0 ? -1 : 0;
	case LWS_CALLBACK_HTTP_BODY:
		return 0;
	case LWS_CALLBACK_HTTP_BODY_COMPLETION:
		return http_begin(wsi, pss) < 0 ? -1 : 0;
	case LWS_CALLBACK_HTTP_WRITEABLE:
		return http_continue(wsi, pss);
	case LWS_CALLBACK_CLOSED_HTTP:
		http_resp_free(pss);
		return 0;
	default:
		return lws_callback_http_dummy(wsi, reason, user, in, len);
	}
}
