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

/*
 * Matches path against pattern segment by segment. On a match stores the {name} captures in
 * req (owned by req) and returns 1; returns 0 otherwise, -1 when out of memory.
 */
static int
route_match(const char *pattern, const char *path, struct req *req)
{
	const char *p = pattern, *s = path;
	char *caps[REQ_MAX_CAPTURES];
	size_t ncaps = 0;

	while (*p != '\0' && *s != '\0') {
		if (*p == '{') {
			const char *pend = strchr(p, '}');
			size_t n = strcspn(s, "/");

			if (pend == NULL || n == 0 || ncaps == REQ_MAX_CAPTURES)
				goto nomatch;
			if ((caps[ncaps++] = strndup(s, n)) == NULL)
				goto nomatch;
			p = pend + 1;
			s += n;
		} else if (*p == *s) {
			p++;
			s++;
		} else {
			goto nomatch;
		}
	}
	if (*p != '\0' || *s != '\0')
		goto nomatch;
	if (req != NULL) {
		for (size_t i = 0; i < ncaps; i++)
			req->captures[i] = caps[i];
		req->ncaptures = ncaps;
	} else {
		for (size_t i = 0; i < ncaps; i++)
			free(caps[i]);
	}
	return 1;
nomatch:
	for (size_t i = 0; i < ncaps; i++)
		free(caps[i]);
	return 0;
}

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

		if (!route_match(rt->pattern, req->path, NULL))
			continue;
		path_known = true;
		if (strcmp(rt->method, method) == 0) {
			found = rt;
			break;
		}
		if (strstr(allow, rt->method) == NULL) {
			size_t n = strlen(allow);

			snprintf(allow + n, sizeof(allow) - n, "%s%s%s", n > 0 ? ", " : "", rt->method,
			    strcmp(rt->method, "GET") == 0 ? ", HEAD" : "");
		}
	}
	if (found == NULL && !path_known) {
		req_send_error(req, ERR_NOT_FOUND, "no such path: %.200s", req->path);
		return;
	}
	if (found == NULL) {
		req_add_header(req, "Allow", allow);
		req_send_error(req, ERR_METHOD_NOT_ALLOWED, "method %.16s not allowed; allowed: %s",
		    req->method, allow);
		return;
	}
	if (route_match(found->pattern, req->path, req) != 1) {
		req_send_error(req, ERR_INTERNAL, "out of memory");
		return;
	}
	req->route = found;
	if (route_check_params(found, req) != 0)
		return;
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
