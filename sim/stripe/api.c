/*
 * api: what every Stripe API request goes through before and after its handler, the way
 * Stripe's API behaves: a Request-Id on every reply; the secret key (Bearer or Basic) checked;
 * Stripe-Version validated and echoed; faults applied (faults.c); the Idempotency-Key of a POST
 * replayed (the first answer, with Idempotent-Replayed: true), refused when reused with other
 * parameters or another endpoint (400 idempotency_error) or while its first request is still
 * being answered (409); parameters parsed from the urlencoded body (POST) or the query string
 * (lib/form) and unknown top-level parameters refused; errors in Stripe's shape.
 *
 * Requests are handled one at a time on the loop, so the request being handled is one static
 * struct (api_call), valid from admit to after.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "form.h"
#include "log.h"
#include "ss.h"

#define API_IDEM_TTL_S 86400

static struct {
	struct json_object *params;   /* owned */
	char request_id[64];
	char idem_key[256];
	bool executed;                /* admit let the handler run */
	bool replayed;
	enum ss_fault_kind fault;
	int64_t delay_ms;
} api_call;

/* Idempotency records: key -> {"method","path","body","status","ctype","reply","req","at","ready"} */
static struct json_object *api_idem;

static int64_t
api_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct json_object *
ss_params(struct hsrv_req *r)
{
	(void)r;
	return api_call.params;
}

const char *
ss_param(struct hsrv_req *r, const char *name)
{
	return ss_jstr(ss_params(r), name);
}

const char *
ss_request_id(void)
{
	return api_call.request_id;
}

const char *
ss_request_idem_key(void)
{
	return api_call.idem_key;
}

void
ss_error(struct hsrv_req *r, int status, const char *type, const char *code, const char *param,
    const char *fmt, ...)
{
	struct json_object *o = json_object_new_object(), *e = json_object_new_object();
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (code != NULL) {
		char url[160];

		json_object_object_add(e, "code", json_object_new_string(code));
		snprintf(url, sizeof(url), "https://stripe.com/docs/error-codes/%s", code);
		for (char *p = url; *p != '\0'; p++)
			if (*p == '_')
				*p = '-';
		json_object_object_add(e, "doc_url", json_object_new_string(url));
	}
	json_object_object_add(e, "message", json_object_new_string(msg));
	if (param != NULL)
		json_object_object_add(e, "param", json_object_new_string(param));
	json_object_object_add(e, "request_log_url", json_object_new_string(""));
	json_object_object_add(e, "type", json_object_new_string(type));
	json_object_object_add(o, "error", e);
	hsrv_reply_json(r, status, o);
}

void
ss_missing_param(struct hsrv_req *r, const char *name)
{
	ss_error(r, 400, "invalid_request_error", "parameter_missing", name,
	    "Missing required param: %s.", name);
}

void
ss_invalid_param(struct hsrv_req *r, const char *name, const char *code, const char *msg)
{
	ss_error(r, 400, "invalid_request_error", code, name, "%s", msg);
}

void
ss_no_such(struct hsrv_req *r, const char *what, const char *param, const char *id)
{
	ss_error(r, 404, "invalid_request_error", "resource_missing", param, "No such %s: '%s'",
	    what, id);
}

void
ss_reply(struct hsrv_req *r, struct json_object *o)
{
	struct json_object *copy = NULL;

	if (json_object_deep_copy(o, &copy, NULL) != 0)
		copy = NULL;
	hsrv_reply_json(r, 200, copy);
}

int
ss_param_int(struct hsrv_req *r, const char *name, int64_t min, int64_t max, int64_t *out)
{
	const char *v = ss_param(r, name);
	char *end;
	long long x;

	if (v == NULL)
		return 0;
	x = strtoll(v, &end, 10);
	if (*v == '\0' || *end != '\0') {
		ss_error(r, 400, "invalid_request_error", "parameter_invalid_integer", name,
		    "Invalid integer: %s", v);
		return -1;
	}
	if (x < min || x > max) {
		ss_error(r, 400, "invalid_request_error", "parameter_invalid_integer", name,
		    "This value must be between %lld and %lld.", (long long)min, (long long)max);
		return -1;
	}
	*out = x;
	return 1;
}

int
ss_param_bool(struct hsrv_req *r, const char *name, bool *out)
{
	const char *v = ss_param(r, name);

	if (v == NULL)
		return 0;
	if (strcmp(v, "true") == 0 || strcmp(v, "false") == 0) {
		*out = v[0] == 't';
		return 1;
	}
	ss_error(r, 400, "invalid_request_error", "parameter_invalid_boolean", name,
	    "Invalid boolean: %s", v);
	return -1;
}

int
ss_apply_metadata(struct hsrv_req *r, struct json_object *o)
{
	struct json_object *md = NULL, *dst = NULL;

	if (!json_object_object_get_ex(ss_params(r), "metadata", &md))
		return 0;
	if (json_object_is_type(md, json_type_string) && json_object_get_string_len(md) == 0) {
		json_object_object_add(o, "metadata", json_object_new_object());
		return 0;
	}
	if (!json_object_is_type(md, json_type_object)) {
		ss_invalid_param(r, "metadata", "parameter_invalid_empty",
		    "Invalid object: metadata must be a hash");
		return -1;
	}
	if (!json_object_object_get_ex(o, "metadata", &dst)) {
		dst = json_object_new_object();
		json_object_object_add(o, "metadata", dst);
	}
	json_object_object_foreach(md, k, v) {
		if (!json_object_is_type(v, json_type_string)) {
			ss_invalid_param(r, "metadata", "parameter_invalid_string",
			    "Invalid value: metadata values must be strings");
			return -1;
		}
		if (json_object_get_string_len(v) == 0)
			json_object_object_del(dst, k);
		else
			json_object_object_add(dst, k, json_object_get(v));
	}
	return 0;
}

/* Position of the object with id in items, or -1. */
static long
api_index_of(struct json_object *items, const char *id)
{
	size_t n = json_object_array_length(items);

	for (size_t i = 0; i < n; i++) {
		const char *x = ss_jstr(json_object_array_get_idx(items, i), "id");

		if (x != NULL && strcmp(x, id) == 0)
			return (long)i;
	}
	return -1;
}

void
ss_reply_list(struct hsrv_req *r, struct json_object *items, const char *url)
{
	const char *after = ss_param(r, "starting_after"), *before = ss_param(r, "ending_before");
	long n = (long)json_object_array_length(items), hi = n - 1, lo = 0, from, to;
	struct json_object *o, *data = json_object_new_array();
	int64_t limit = 10;
	bool more;

	if (ss_param_int(r, "limit", 1, 100, &limit) < 0) {
		json_object_put(data);
		return;
	}
	if (after != NULL && before != NULL) {
		json_object_put(data);
		ss_error(r, 400, "invalid_request_error", NULL, "ending_before",
		    "You may only specify one of these parameters: ending_before, starting_after.");
		return;
	}
	if (after != NULL || before != NULL) {
		long at = api_index_of(items, after != NULL ? after : before);

		if (at < 0) {
			json_object_put(data);
			ss_no_such(r, "object", after != NULL ? "starting_after" : "ending_before",
			    after != NULL ? after : before);
			return;
		}
		if (after != NULL)
			hi = at - 1;
		else
			lo = at + 1;
	}
	/* newest first: indexes hi down to lo; ending_before takes the limit closest to it */
	if (before != NULL) {
		to = lo;
		from = lo + limit - 1 < hi ? lo + limit - 1 : hi;
		more = from < hi;
	} else {
		from = hi;
		to = hi - limit + 1 > lo ? hi - limit + 1 : lo;
		more = to > lo;
	}
	for (long i = from; i >= to; i--)
		json_object_array_add(data, json_object_get(json_object_array_get_idx(items, (size_t)i)));
	o = json_object_new_object();
	json_object_object_add(o, "object", json_object_new_string("list"));
	json_object_object_add(o, "data", data);
	json_object_object_add(o, "has_more", json_object_new_boolean(more));
	json_object_object_add(o, "url", json_object_new_string(url));
	ss_reply(r, o);
	json_object_put(o);
}

const char *
ss_jpath(struct json_object *o, const char *path)
{
	char seg[64];

	while (o != NULL && *path != '\0') {
		size_t n = strcspn(path, ".");

		if (n >= sizeof(seg))
			return NULL;
		memcpy(seg, path, n);
		seg[n] = '\0';
		if (json_object_is_type(o, json_type_array))
			o = json_object_array_get_idx(o, (size_t)strtoul(seg, NULL, 10));
		else if (!json_object_object_get_ex(o, seg, &o))
			return NULL;
		path += n + (path[n] == '.' ? 1 : 0);
	}
	return o != NULL && json_object_is_type(o, json_type_string) ? json_object_get_string(o) :
	    NULL;
}

void
ss_reply_filtered(struct hsrv_req *r, enum ss_kind k, const struct ss_filter *filters,
    size_t n_filters, bool (*keep)(struct hsrv_req *r, struct json_object *o), const char *url)
{
	struct json_object *all = ss_store_all(k), *sel = json_object_new_array();

	for (size_t i = 0; i < json_object_array_length(all); i++) {
		struct json_object *o = json_object_array_get_idx(all, i);
		bool ok = keep == NULL || keep(r, o);

		for (size_t f = 0; f < n_filters && ok; f++) {
			const char *want = ss_param(r, filters[f].param);
			const char *have = ss_jpath(o, filters[f].path);

			if (want != NULL && (have == NULL || strcmp(want, have) != 0))
				ok = false;
		}
		if (ok)
			json_object_array_add(sel, json_object_get(o));
	}
	ss_reply_list(r, sel, url);
	json_object_put(sel);
}

/* Checks "Authorization: Bearer sk_test_..." (or Basic with the key as user). */
static bool
api_auth(struct hsrv_req *r)
{
	char hdr[512], key[400];
	const char *k = NULL;
	size_t klen;

	if (hsrv_token(r, WSI_TOKEN_HTTP_AUTHORIZATION, hdr, sizeof(hdr)) <= 0) {
		ss_error(r, 401, "invalid_request_error", NULL, NULL,
		    "You did not provide an API key. You need to provide your API key in the "
		    "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer "
		    "YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, "
		    "or we can help at https://support.stripe.com/.");
		return false;
	}
	if (strncmp(hdr, "Bearer ", 7) == 0) {
		k = hdr + 7;
	} else if (strncmp(hdr, "Basic ", 6) == 0) {
		size_t bin_len = 0;

		if (sodium_base642bin((unsigned char *)key, sizeof(key) - 1, hdr + 6, strlen(hdr + 6),
		    NULL, &bin_len, NULL, sodium_base64_VARIANT_ORIGINAL) == 0) {
			char *colon;

			key[bin_len] = '\0';
			colon = strchr(key, ':');
			if (colon != NULL)
				*colon = '\0';
			k = key;
		}
	}
	if (k == NULL) {
		ss_error(r, 401, "invalid_request_error", NULL, NULL,
		    "Invalid API Key provided: the Authorization header is malformed");
		return false;
	}
	klen = strlen(k);
	if (strncmp(k, "sk_test_", 8) != 0 ||
	    (ss_opt.api_key != NULL && strcmp(k, ss_opt.api_key) != 0)) {
		ss_error(r, 401, "invalid_request_error", NULL, NULL,
		    "Invalid API Key provided: %.8s****%s", k, klen > 12 ? k + klen - 4 : "");
		return false;
	}
	return true;
}

/* Stripe-Version: a date, optionally ".name" (2025-08-27.basil). */
static bool
api_version_ok(const char *v)
{
	int y, m, d, n = 0;

	if (sscanf(v, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 || n != 10 || m < 1 || m > 12 ||
	    d < 1 || d > 31 || y < 2011)
		return false;
	if (v[10] == '\0')
		return true;
	if (v[10] != '.' || v[11] == '\0')
		return false;
	for (const char *p = v + 11; *p != '\0'; p++)
		if (*p < 'a' || *p > 'z')
			return false;
	return true;
}

/* True when name is a word of the space-separated list. */
static bool
api_listed(const char *list, const char *name)
{
	size_t n = strlen(name);

	if (list == NULL)
		return false;
	for (const char *p = list; *p != '\0';) {
		size_t w = strcspn(p, " ");

		if (w == n && strncmp(p, name, n) == 0)
			return true;
		p += w;
		while (*p == ' ')
			p++;
	}
	return false;
}

/* Parses the body (POST) or query string into api_call.params. false when replied 400. */
static bool
api_parse(struct hsrv_req *r)
{
	const char *why = NULL;
	char *why_param = NULL;

	if (strcmp(hsrv_method(r), "POST") == 0) {
		size_t len;
		const char *body = hsrv_body(r, &len);

		api_call.params = form_parse(body, len, &why, &why_param);
	} else {
		api_call.params = json_object_new_object();
	}
	/* the query string too (also on POST), added after the body's values */
	if (api_call.params != NULL) {
		for (int i = 0; i < hsrv_n_args(r); i++) {
			const char *name, *value;

			hsrv_arg_at(r, i, &name, &value);
			if (*name != '\0' && form_set(api_call.params, name, strlen(name), value,
			    strlen(value), &why) < 0) {
				free(why_param);
				why_param = strdup(name);
				break;
			}
		}
	}
	if (why == NULL) {
		free(why_param);
		return true;
	}
	ss_error(r, 400, "invalid_request_error", NULL, why_param, "Invalid request: %s", why);
	free(why_param);
	return false;
}

/* Replays or refuses a reused Idempotency-Key. true when the request should run. */
static bool
api_idem_check(struct hsrv_req *r)
{
	struct json_object *rec = NULL;
	size_t len;
	const char *body = hsrv_body(r, &len), *ctype, *reply;

	if (strlen(api_call.idem_key) > 255) {
		ss_error(r, 400, "invalid_request_error", NULL, "Idempotency-Key",
		    "Idempotency-Key must be at most 255 characters long.");
		return false;
	}
	if (api_idem == NULL || !json_object_object_get_ex(api_idem, api_call.idem_key, &rec))
		return true;
	if (strcmp(ss_jstr(rec, "path"), hsrv_path(r)) != 0 ||
	    strcmp(ss_jstr(rec, "method"), hsrv_method(r)) != 0) {
		ss_error(r, 400, "idempotency_error", NULL, NULL,
		    "Keys for idempotent requests can only be used for the same endpoint they were "
		    "first used for ('%s' vs '%s'). Try using a key other than '%s' if you meant to "
		    "execute a different request.", ss_jstr(rec, "path"), hsrv_path(r),
		    api_call.idem_key);
		return false;
	}
	if (strlen(ss_jstr(rec, "body")) != len || memcmp(ss_jstr(rec, "body"), body, len) != 0) {
		ss_error(r, 400, "idempotency_error", NULL, NULL,
		    "Keys for idempotent requests can only be used with the same parameters they were "
		    "first used with. Try using a key other than '%s' if you meant to execute a "
		    "different request.", api_call.idem_key);
		return false;
	}
	if (ss_jint(rec, "ready") > api_wall_ms()) {
		ss_error(r, 409, "idempotency_error", NULL, NULL,
		    "There is currently another in-progress request using this Idempotent Key "
		    "(that probably means you submitted twice, and the other request is still going "
		    "through): %s. Please try again later.", api_call.idem_key);
		return false;
	}
	reply = ss_jstr(rec, "reply");
	ctype = ss_jstr(rec, "ctype");
	hsrv_reply(r, (int)ss_jint(rec, "status"), ctype, reply, strlen(reply));
	hsrv_add_header(r, "Idempotent-Replayed", "true");
	hsrv_add_header(r, "Original-Request", ss_jstr(rec, "req"));
	api_call.replayed = true;
	return false;
}

bool
ss_api_admit(struct hsrv_req *r, const struct hsrv_route *rt)
{
	const struct ss_route_ext *ext = rt->ext;
	char ver[64], rid[64];

	memset(&api_call, 0, sizeof(api_call));
	ss_new_id("req_", rid);
	snprintf(api_call.request_id, sizeof(api_call.request_id), "%.18s", rid);
	hsrv_add_header(r, "Request-Id", api_call.request_id);
	if (ext->auth == SS_AUTH_NONE)
		goto params;
	if (hsrv_header(r, "stripe-version:", ver, sizeof(ver)) > 0) {
		if (!api_version_ok(ver)) {
			hsrv_add_header(r, "Stripe-Version", ss_opt.api_version);
			ss_error(r, 400, "invalid_request_error", NULL, NULL,
			    "Invalid Stripe API version: %s", ver);
			return false;
		}
	} else {
		snprintf(ver, sizeof(ver), "%s", ss_opt.api_version);
	}
	hsrv_add_header(r, "Stripe-Version", ver);
	if (!api_auth(r))
		return false;
	api_call.fault = ss_fault_take(hsrv_method(r), hsrv_path(r), &api_call.delay_ms);
	if (api_call.fault == SS_FAULT_429) {
		ss_error(r, 429, "invalid_request_error", "rate_limit", NULL,
		    "Request rate limit exceeded. Learn more about rate limits here "
		    "https://stripe.com/docs/rate-limits.");
		return false;
	}
	if (api_call.fault == SS_FAULT_500) {
		hsrv_add_header(r, "Stripe-Should-Retry", "true");
		ss_error(r, 500, "api_error", NULL, NULL,
		    "An unknown error occurred (stripe-sim fault: nothing was done).");
		return false;
	}
	if (strcmp(hsrv_method(r), "POST") == 0 &&
	    hsrv_header(r, "idempotency-key:", api_call.idem_key, sizeof(api_call.idem_key)) > 0) {
		hsrv_add_header(r, "Idempotency-Key", api_call.idem_key);
		if (!api_idem_check(r))
			return false;
	} else {
		api_call.idem_key[0] = '\0';
	}
params:
	if (!api_parse(r))
		return false;
	json_object_object_foreach(api_call.params, k, v) {
		(void)v;
		if (strcmp(k, "expand") != 0 && !api_listed(ext->params, k)) {
			ss_error(r, 400, "invalid_request_error", "parameter_unknown", k,
			    "Received unknown parameter: %s", k);
			return false;
		}
	}
	api_call.executed = true;
	return true;
}

/* Saves the answer under the idempotency key when Stripe would (the request ran). */
static void
api_idem_save(struct hsrv_req *r)
{
	struct json_object *rec;
	const char *reply, *ctype, *body;
	size_t len, blen;
	int status = hsrv_status(r);

	/* validation errors (400, 404) are not saved: the client may fix and retry the key */
	if (status >= 400 && status < 500 && status != 402)
		return;
	if (api_idem == NULL)
		api_idem = json_object_new_object();
	reply = hsrv_reply_body(r, &len, &ctype);
	body = hsrv_body(r, &blen);
	rec = json_object_new_object();
	json_object_object_add(rec, "method", json_object_new_string(hsrv_method(r)));
	json_object_object_add(rec, "path", json_object_new_string(hsrv_path(r)));
	json_object_object_add(rec, "body", json_object_new_string_len(body, (int)blen));
	json_object_object_add(rec, "status", json_object_new_int(status));
	json_object_object_add(rec, "ctype", json_object_new_string(ctype));
	json_object_object_add(rec, "reply", json_object_new_string_len(reply, (int)len));
	json_object_object_add(rec, "req", json_object_new_string(api_call.request_id));
	json_object_object_add(rec, "at", json_object_new_int64(api_wall_ms()));
	json_object_object_add(rec, "ready", json_object_new_int64(api_wall_ms() +
	    (api_call.fault == SS_FAULT_SLOW ? api_call.delay_ms : 0)));
	json_object_object_add(api_idem, api_call.idem_key, rec);
}

void
ss_api_after(struct hsrv_req *r, const struct hsrv_route *rt)
{
	(void)rt;
	if (api_call.executed && api_call.idem_key[0] != '\0' && !api_call.replayed)
		api_idem_save(r);
	if (api_call.executed && api_call.fault == SS_FAULT_LOST) {
		/* the work is done and saved; only this answer is lost */
		hsrv_add_header(r, "Stripe-Should-Retry", "true");
		ss_error(r, 500, "api_error", NULL, NULL,
		    "An unknown error occurred (stripe-sim fault: the request was carried out).");
	}
	if (api_call.fault == SS_FAULT_SLOW && api_call.delay_ms > 0)
		hsrv_delay(r, api_call.delay_ms);
	json_object_put(api_call.params);
	api_call.params = NULL;
}

void
ss_api_error(struct hsrv_req *r, int status)
{
	switch (status) {
	case 404:
	case 405:
		/* Stripe answers an unknown method on a known path as an unknown URL */
		ss_error(r, 404, "invalid_request_error", NULL, NULL,
		    "Unrecognized request URL (%s: %s). Please see https://stripe.com/docs or we can "
		    "help at https://support.stripe.com/.", hsrv_method(r), hsrv_path(r));
		break;
	case 413:
		ss_error(r, 413, "invalid_request_error", NULL, NULL, "Request body too large.");
		break;
	default:
		ss_error(r, 500, "api_error", NULL, NULL, "An unknown error occurred.");
		break;
	}
}

void
ss_idem_expire(void)
{
	int64_t cut = api_wall_ms() - (int64_t)API_IDEM_TTL_S * 1000;
	struct json_object *keep;

	if (api_idem == NULL)
		return;
	keep = json_object_new_object();
	json_object_object_foreach(api_idem, k, v)
		if (ss_jint(v, "at") >= cut)
			json_object_object_add(keep, k, json_object_get(v));
	json_object_put(api_idem);
	api_idem = keep;
}

void
ss_idem_free(void)
{
	json_object_put(api_idem);
	api_idem = NULL;
	json_object_put(api_call.params);
	api_call.params = NULL;
}
