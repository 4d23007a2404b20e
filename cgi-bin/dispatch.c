/*
 * dispatch: matches a request against the route table, answers 404/405 itself, checks the query
 * parameters against the route's declaration, then calls the handler (cgit process_request style:
 * every check central, handlers only do their job).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account.h"
#include "log.h"
#include "route.h"
#include "route_match.h"
#include "utf8.h"

void
route_dispatch(struct req *req)
{
	const struct route *found = NULL;
	char allow[128] = "";
	bool path_known = false;
	const char *method = req->method;

	if (strcmp(method, "HEAD") == 0) {
		method = "GET";
		req->head_only = true;
	}
	for (size_t i = 0; i < routes_count; i++) {
		const struct route *rt = &routes[i];

		if (route_match(rt->pattern, req->path, NULL, REQ_MAX_CAPTURES, NULL) != 1)
			continue;
		path_known = true;
		/* HEAD only where nothing is charged: a HEAD of a data route would run (and bill) the
		 * GET's query to send none of its answer, so it is refused (405) instead */
		if (strcmp(rt->method, method) == 0 && (!req->head_only || rt->auth == AUTH_NONE)) {
			found = rt;
			break;
		}
		if (strstr(allow, rt->method) == NULL) {
			size_t n = strlen(allow);

			snprintf(allow + n, sizeof(allow) - n, "%s%s%s", n > 0 ? ", " : "", rt->method,
			    strcmp(rt->method, "GET") == 0 && rt->auth == AUTH_NONE ? ", HEAD" : "");
		}
	}
	if (found == NULL && !path_known) {
		if (utf8_valid(req->path))
			req_send_error(req, ERR_NOT_FOUND, "no such path: %.200s", req->path);
		else
			req_send_error(req, ERR_NOT_FOUND, "no such path (and it is not valid UTF-8)");
		return;
	}
	if (found == NULL) {
		req_add_header(req, "Allow", allow);
		req_send_error(req, ERR_METHOD_NOT_ALLOWED, "method %.16s not allowed; allowed: %s",
		    req->method, allow);
		return;
	}
	if (route_match(found->pattern, req->path, req->captures, REQ_MAX_CAPTURES,
	    &req->ncaptures) != 1) {
		req_send_error(req, ERR_INTERNAL, "out of memory");
		return;
	}
	req->route = found;
	if (route_check_captures(found, req) != 0 || route_check_params(found, req) != 0)
		return;
	if (found->auth == AUTH_KEY && auth_wants_estimate(req)) {
		auth_estimate(req);
		return;
	}
	if (found->auth == AUTH_KEY) {
		if (auth_charge(req) != 0)
			return;
		req->refund = auth_refund;
	} else if (found->auth == AUTH_SESSION) {
		if (session_auth(req) != 0)
			return;
	} else if (strcmp(method, "GET") != 0 && session_origin_ok(req) != 0) {
		return;
	}
	found->handler(req);
	if (!req->sent) {
		log_errorx("handler for %s %s sent no response", found->method, found->pattern);
		req_send_error(req, ERR_INTERNAL, "internal error");
	}
}
