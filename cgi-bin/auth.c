/*
 * auth: API-key authentication, the plan's rate limit and credit charging for AUTH_KEY routes,
 * in one round trip to Postgres (the api_charge function of sql/003_accounts.sql, whose
 * conditional UPDATE never overdraws). Sets the X-Credits-* and X-RateLimit-* headers, answers
 * 401/403/429 (with Retry-After) itself, and refunds a charged call that failed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "apikey.h"
#include "ktime.h"
#include "log.h"
#include "route.h"

static struct db_stmt q_charge = DB_STMT("auth_charge",
    "SELECT code, account_id, key_id, allowance, used, overage, kb_us(period_end),"
    " rate_limit, rate_remaining, kb_us(rate_reset)"
    " FROM api_charge(decode($1, 'hex'), $2::int, $3)", 3);
static struct db_stmt q_refund = DB_STMT("auth_refund",
    "SELECT api_refund($1::bigint, $2::bigint, $3::int, $4)", 4);

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

int
auth_charge(struct req *req)
{
	const struct route *rt = req->route;
	const char *key = request_key(req);
	char hex[2 + 2 * APIKEY_HASH_LEN + 1], cost[16];
	const char *params[3];
	PGresult *res = NULL;
	enum api_err err;
	int64_t period_end, rate_reset, now = kt_now();
	int rc = -1;

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
	snprintf(cost, sizeof(cost), "%d", rt->cost);
	params[0] = hex + 2;
	params[1] = cost;
	params[2] = rt->pattern;
	if ((res = db_exec(req->db, &q_charge, params)) == NULL || PQntuples(res) != 1) {
		req_send_error(req, ERR_SERVICE_UNAVAILABLE, "cannot check the API key now; retry shortly");
		goto out;
	}
	err = strcmp(PQgetvalue(res, 0, 0), "ok") == 0 ? ERR__COUNT : api_err_from_code(PQgetvalue(res, 0, 0));
	if (err == ERR_INVALID_API_KEY || err == ERR_REVOKED_API_KEY || err == ERR_ACCOUNT_DISABLED) {
		req_send_error(req, err, err == ERR_REVOKED_API_KEY ? "the API key was revoked" :
		    err == ERR_ACCOUNT_DISABLED ? "the account is disabled" : "the API key is not valid");
		goto out;
	}
	period_end = atoll(PQgetvalue(res, 0, 6));
	rate_reset = atoll(PQgetvalue(res, 0, 9));
	req->caller.known = true;
	req->caller.account_id = atoll(PQgetvalue(res, 0, 1));
	req->caller.key_id = atoll(PQgetvalue(res, 0, 2));
	req->caller.allowance = atoll(PQgetvalue(res, 0, 3));
	req->caller.used = atoll(PQgetvalue(res, 0, 4));
	req->caller.overage = atoll(PQgetvalue(res, 0, 5));
	req->caller.rate_limit = atoll(PQgetvalue(res, 0, 7));
	req->caller.rate_remaining = atoll(PQgetvalue(res, 0, 8));
	req->caller.rate_reset_s = seconds_until(rate_reset, now);
	if (err == ERR_RATE_LIMITED) {
		header_i64(req, "Retry-After", seconds_until(rate_reset, now));
		req_send_error(req, err, "more than %s requests this minute for this plan",
		    PQgetvalue(res, 0, 7));
		goto out;
	}
	if (err == ERR_CREDITS_EXHAUSTED) {
		header_i64(req, "Retry-After", seconds_until(period_end, now));
		req_send_error(req, err, "this call costs %d credits and %lld of %lld are left this month",
		    rt->cost, (long long)(req->caller.allowance - req->caller.used),
		    (long long)req->caller.allowance);
		goto out;
	}
	if (err != ERR__COUNT) {
		log_errorx("api_charge returned unknown code %s", PQgetvalue(res, 0, 0));
		req_send_error(req, ERR_INTERNAL, "internal error");
		goto out;
	}
	req->caller.cost = rt->cost;
	rc = 0;
out:
	PQclear(res);
	return rc;
}

void
auth_refund(struct req *req)
{
	char acc[24], key[24], cost[16];
	const char *params[] = { acc, key, cost, req->route->pattern };
	PGresult *res;

	if (req->caller.cost == 0)
		return;
	snprintf(acc, sizeof(acc), "%lld", (long long)req->caller.account_id);
	snprintf(key, sizeof(key), "%lld", (long long)req->caller.key_id);
	snprintf(cost, sizeof(cost), "%d", req->caller.cost);
	if ((res = db_exec(req->db, &q_refund, params)) == NULL) {
		log_warnx("refund of %s credits to account %s failed", cost, acc);
		return;
	}
	PQclear(res);
	/* mirror api_refund: overage first, then the allowance */
	if (req->caller.overage >= req->caller.cost) {
		req->caller.overage -= req->caller.cost;
	} else {
		req->caller.used -= req->caller.cost - req->caller.overage;
		req->caller.overage = 0;
	}
	req->caller.cost = 0;
}
