/*
 * auth: API-key authentication, the plan's rate limit and credit charging for AUTH_KEY routes,
 * with one statement in the common case (lib/charge.c, whose conditional upsert never overdraws).
 * Sets the X-Credits-* and X-RateLimit-* headers, answers 401/403/429 (with Retry-After) itself,
 * and refunds a charged call that failed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "apikey.h"
#include "charge.h"
#include "ktime.h"
#include "log.h"
#include "route.h"

/* The key of the request: X-API-Key, else "Authorization: Bearer <key>"; NULL when absent. */
static const char *
request_key(const struct req *req)
{
	const char *k = req_env(req, "HTTP_X_API_KEY"), *a;

	if (k != NULL && *k != '\0')
		return k;
	a = req_env(req, "HTTP_AUTHORIZATION");
	if (a != NULL && strncasecmp(a, "Bearer ", 7) == 0) {
		a += 7;
		while (*a == ' ')
			a++;
		return *a != '\0' ? a : NULL;
	}
	return NULL;
}

static void
header_i64(struct req *req, const char *name, int64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%lld", (long long)v);
	req_add_header(req, name, buf);
}

static int64_t
seconds_until(int64_t us, int64_t now)
{
	return us > now ? (us - now + 999999) / 1000000 : 0;
}

/* The ledger's state in req->caller, for the X-Credits-* and X-RateLimit-* headers. */
static void
caller_set(struct req *req, const struct charge *ch, int64_t now)
{
	req->caller.known = true;
	req->caller.account_id = ch->account_id;
	req->caller.key_id = ch->key_id;
	req->caller.allowance = ch->allowance;
	req->caller.used = ch->used;
	req->caller.overage = ch->overage;
	req->caller.rate_limit = ch->rate_limit;
	req->caller.rate_remaining = ch->rate_remaining;
	req->caller.rate_reset_s = seconds_until(ch->rate_reset_us, now);
}

bool
auth_wants_estimate(const struct req *req)
{
	const char *v = req_env(req, "HTTP_X_CREDITS_ESTIMATE");

	return v != NULL && (strcmp(v, "true") == 0 || strcmp(v, "1") == 0);
}

/* Authenticates the key of the request into hex; answers 401 and returns -1 when it cannot. */
static int
key_hex(struct req *req, char hex[2 + 2 * APIKEY_HASH_LEN + 1])
{
	const char *key = request_key(req);

	if (key == NULL) {
		req_send_error(req, ERR_MISSING_API_KEY,
		    "this route needs an API key in the X-API-Key header (or Authorization: Bearer)");
		return -1;
	}
	if (!apikey_well_formed(key)) {
		req_send_error(req, ERR_INVALID_API_KEY, "the API key is not valid");
		return -1;
	}
	apikey_hash_hex(key, hex);
	return 0;
}

void
auth_estimate(struct req *req)
{
	const struct route *rt = req->route;
	char hex[2 + 2 * APIKEY_HASH_LEN + 1];
	struct json_object *o;
	struct charge ch;
	enum api_err err;
	int64_t over;

	if (key_hex(req, hex) != 0)
		return;
	if (charge_estimate(req->db, hex + 2, rt->cost, &ch) != 0) {
		req_send_error(req, ERR_SERVICE_UNAVAILABLE, "cannot check the API key now; retry shortly");
		return;
	}
	err = strcmp(ch.code, "ok") == 0 ? ERR__COUNT : api_err_from_code(ch.code);
	if (err == ERR_INVALID_API_KEY || err == ERR_REVOKED_API_KEY || err == ERR_ACCOUNT_DISABLED ||
	    err == ERR_EMAIL_UNCONFIRMED) {
		req_send_error(req, err, "%s", err == ERR_REVOKED_API_KEY ? "the API key was revoked" :
		    err == ERR_ACCOUNT_DISABLED ? "the account is disabled" :
		    err == ERR_EMAIL_UNCONFIRMED ? "the account's email is not confirmed yet" :
		    "the API key is not valid");
		return;
	}
	/* the credits past the allowance this call would add (a payg plan serves them as overage) */
	over = ch.used + rt->cost > ch.allowance ? ch.used + rt->cost - ch.allowance : 0;
	if (over > rt->cost)
		over = rt->cost;
	o = json_object_new_object();
	json_object_object_add(o, "estimate", json_object_new_boolean(1));
	json_object_object_add(o, "route", json_object_new_string(rt->pattern));
	json_object_object_add(o, "cost", json_object_new_int64(rt->cost));
	json_object_object_add(o, "plan", json_object_new_string(ch.plan));
	json_object_object_add(o, "would_be", json_object_new_string(err == ERR__COUNT ? "served" : ch.code));
	json_object_object_add(o, "allowance", json_object_new_int64(ch.allowance));
	json_object_object_add(o, "used", json_object_new_int64(ch.used));
	json_object_object_add(o, "remaining", json_object_new_int64(ch.allowance - ch.used));
	json_object_object_add(o, "remaining_after", json_object_new_int64(err == ERR__COUNT ?
	    ch.allowance - ch.used - (rt->cost - over) : ch.allowance - ch.used));
	json_object_object_add(o, "overage_credits", json_object_new_int64(err == ERR__COUNT ? over : 0));
	json_object_object_add(o, "overage_after", json_object_new_int64(ch.overage + (err == ERR__COUNT ? over : 0)));
	json_object_object_add(o, "rate_remaining", json_object_new_int64(ch.rate_remaining));
	req_send_json(req, 200, o);
}

int
auth_charge(struct req *req)
{
	const struct route *rt = req->route;
	char hex[2 + 2 * APIKEY_HASH_LEN + 1];
	struct charge ch;
	struct db_call *rider = NULL;
	enum api_err err;
	int64_t now = kt_now();

	if (key_hex(req, hex) != 0)
		return -1;
	if (rt->prefetch != NULL && rt->prefetch(req) == 0)
		rider = &req->prefetch.call;
	if (charge_key_with(req->db, hex + 2, rt->cost, rt->pattern, rider, &ch) != 0) {
		req_send_error(req, ERR_SERVICE_UNAVAILABLE, "cannot check the API key now; retry shortly");
		return -1;
	}
	err = strcmp(ch.code, "ok") == 0 ? ERR__COUNT : api_err_from_code(ch.code);
	if (err == ERR_INVALID_API_KEY || err == ERR_REVOKED_API_KEY || err == ERR_ACCOUNT_DISABLED ||
	    err == ERR_EMAIL_UNCONFIRMED) {
		req_send_error(req, err, err == ERR_REVOKED_API_KEY ? "the API key was revoked" :
		    err == ERR_ACCOUNT_DISABLED ? "the account is disabled" :
		    err == ERR_EMAIL_UNCONFIRMED ?
		    "the account's email is not confirmed yet: follow the link of the confirmation mail" :
		    "the API key is not valid");
		return -1;
	}
	caller_set(req, &ch, now);
	if (err == ERR_RATE_LIMITED) {
		header_i64(req, "Retry-After", seconds_until(ch.rate_reset_us, now));
		req_send_error(req, err, "more than %lld requests this minute for this plan",
		    (long long)ch.rate_limit);
		return -1;
	}
	if (err == ERR_CREDITS_EXHAUSTED) {
		header_i64(req, "Retry-After", seconds_until(ch.period_end_us, now));
		req_send_error(req, err, "this call costs %d credits and %lld of %lld are left this month",
		    rt->cost, (long long)(ch.allowance - ch.used), (long long)ch.allowance);
		return -1;
	}
	if (err == ERR_KEY_CAP_REACHED) {
		header_i64(req, "Retry-After", seconds_until(ch.period_end_us, now));
		req_send_error(req, err, "this key reached its monthly credit cap; it can be raised on the dashboard");
		return -1;
	}
	if (err != ERR__COUNT) {
		log_errorx("charge returned unknown code %s", ch.code);
		req_send_error(req, ERR_INTERNAL, "internal error");
		return -1;
	}
	req->caller.cost = rt->cost;
	return 0;
}

void
auth_refund(struct req *req)
{
	struct charge ch = {
		.account_id = req->caller.account_id, .key_id = req->caller.key_id,
		.used = req->caller.used, .overage = req->caller.overage,
	};

	if (req->caller.cost == 0 ||
	    charge_refund(req->db, &ch, req->caller.cost, req->route->pattern) != 0)
		return;
	req->caller.used = ch.used;
	req->caller.overage = ch.overage;
	req->caller.cost = 0;
}
