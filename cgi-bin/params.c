/*
 * params: validation of query parameters against a route's declaration (kcgi style: every
 * parameter checked from a key table before the handler runs); cursors are cursor.c's.
 * An undeclared, repeated, missing, empty or malformed parameter is answered with a 400 envelope
 * naming it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cursor.h"
#include "ktime.h"
#include "route.h"

/* Strict decimal integer: optional '-', 1..19 digits, no spaces or '+'. */
static int
parse_int(const char *s, int64_t *out)
{
	char *end;
	long long v;

	if (*s == '\0' || (*s != '-' && (*s < '0' || *s > '9')) || strlen(s) > 20)
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*out = v;
	return 0;
}

/* Checks one value against its spec; fills arg or answers and returns -1. */
static int
check_value(const struct param_spec *ps, const char *v, struct req_arg *arg, struct req *req)
{
	size_t len = strlen(v);

	arg->set = true;
	arg->s = v;
	if (len == 0) {
		req_send_error(req, ERR_INVALID_PARAMETER, "parameter '%s' is empty", ps->name);
		return -1;
	}
	switch (ps->type) {
	case PT_STRING:
		if ((int64_t)len < ps->min || (int64_t)len > ps->max)
			goto bad;
		return 0;
	case PT_INT:
		if (parse_int(v, &arg->i) != 0 || arg->i < ps->min || arg->i > ps->max) {
			req_send_error(req, ERR_INVALID_PARAMETER,
			    "parameter '%s' must be an integer from %lld to %lld", ps->name,
			    (long long)ps->min, (long long)ps->max);
			return -1;
		}
		return 0;
	case PT_TIME:
		if (kt_parse(v, &arg->i) != 0) {
			req_send_error(req, ERR_INVALID_PARAMETER,
			    "parameter '%s' must be an RFC 3339 time or unix seconds, milliseconds or "
			    "microseconds", ps->name);
			return -1;
		}
		if (arg->i > kt_now()) {
			req_send_error(req, ERR_INVALID_PARAMETER, "parameter '%s' is in the future", ps->name);
			return -1;
		}
		return 0;
	case PT_BOOL:
		if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0)
			arg->i = 1;
		else if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0)
			arg->i = 0;
		else
			goto bad;
		return 0;
	case PT_ENUM:
		for (int64_t i = 0; ps->choices[i] != NULL; i++) {
			if (strcmp(ps->choices[i], v) == 0) {
				arg->i = i;
				return 0;
			}
		}
		goto bad;
	case PT_CURSOR:
		if (cursor_decode(v, &arg->i) != 0)
			goto bad;
		return 0;
	case PT_LIST: {
		int64_t items = 1;

		if (v[0] == ',' || v[len - 1] == ',' || strstr(v, ",,") != NULL)
			goto bad;
		for (const char *p = v; *p != '\0'; p++)
			items += *p == ',';
		if (items > ps->max || (int64_t)len > ps->max * 200) {
			req_send_error(req, ERR_INVALID_PARAMETER, "parameter '%s' takes at most %lld items",
			    ps->name, (long long)ps->max);
			return -1;
		}
		arg->i = items;
		return 0;
	}
	}
bad:
	req_send_error(req, ERR_INVALID_PARAMETER, "parameter '%s' has an invalid value", ps->name);
	return -1;
}

int
route_check_params(const struct route *rt, struct req *req)
{
	for (size_t i = 0; i < req->nparams; i++) {
		const char *name = req->params[i].name;
		const struct param_spec *ps = NULL;
		size_t idx = 0;

		for (const struct param_spec *p = rt->params; p != NULL && p->name != NULL; p++, idx++) {
			if (strcmp(p->name, name) == 0) {
				ps = p;
				break;
			}
		}
		if (ps == NULL) {
			req_send_error(req, ERR_UNKNOWN_PARAMETER, "unknown parameter '%.64s'", name);
			return -1;
		}
		if (req->args[idx].set) {
			req_send_error(req, ERR_REPEATED_PARAMETER, "parameter '%s' is given twice", ps->name);
			return -1;
		}
		if (check_value(ps, req->params[i].value, &req->args[idx], req) != 0)
			return -1;
	}
	for (size_t idx = 0; rt->params != NULL && rt->params[idx].name != NULL; idx++) {
		if (rt->params[idx].required && !req->args[idx].set) {
			req_send_error(req, ERR_MISSING_PARAMETER, "parameter '%s' is required",
			    rt->params[idx].name);
			return -1;
		}
	}
	return 0;
}

const struct req_arg *
req_arg(const struct req *req, const char *name)
{
	static const struct req_arg unset = { false, 0, NULL };
	const struct param_spec *ps = req->route != NULL ? req->route->params : NULL;

	for (size_t i = 0; ps != NULL && ps[i].name != NULL; i++)
		if (strcmp(ps[i].name, name) == 0)
			return &req->args[i];
	return &unset;
}

bool
req_wants_csv(const struct req *req)
{
	const struct req_arg *f = req_arg(req, "format");
	const char *accept;

	if (f->set)
		return strcmp(f->s, "csv") == 0;
	accept = req_env(req, "HTTP_ACCEPT");
	return accept != NULL && strstr(accept, "text/csv") != NULL;
}
