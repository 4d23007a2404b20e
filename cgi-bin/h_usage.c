/*
 * h_usage: GET /v1/account/usage: the session's account this credit period (allowance, used,
 * remaining, overage, and a forecast at the current rate) and its credits per day for the last
 * `days` days, in total, per key and per route (usage rows are per key, route and UTC day).
 *
 * The forecast's rate is the credits of the last 7 days (today included, never before the
 * period's start) over the time they span: forecast_used adds that rate until the period's end;
 * forecast_exhausted_at is when the allowance runs out at that rate (null when it lasts the
 * period; now when it is already spent).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "account.h"
#include "ktime.h"
#include "route.h"

#define TODAY "(now() AT TIME ZONE 'UTC')::date"
/* $1 account, $2 days: the window, oldest first */
#define WINDOW "generate_series(" TODAY " - ($2::int - 1), " TODAY ", interval '1 day')"
#define ACCOUNT_KEYS "(SELECT id FROM api_keys WHERE account_id = $1::bigint)"
#define RECENT_START "greatest(" SQL_PSTART ", date_trunc('day', now() AT TIME ZONE 'UTC')" \
	" AT TIME ZONE 'UTC' - interval '6 days')"

static struct db_stmt q_period = DB_STMT("usage_period",
    "SELECT a.plan, " SQL_TS(SQL_PSTART) ", " SQL_TS(SQL_PEND) ","
    " coalesce(c.allowance, coalesce(a.monthly_credits_override, p.monthly_credits)),"
    " coalesce(c.used, 0), coalesce(c.overage, 0), kb_us(now()),"
    " kb_us(" SQL_PEND "), kb_us(" RECENT_START "),"
    " (SELECT coalesce(sum(u.credits), 0) FROM usage u WHERE u.key_id IN " ACCOUNT_KEYS
    "   AND u.day >= (" RECENT_START " AT TIME ZONE 'UTC')::date)"
    " FROM accounts a JOIN plans p ON p.name = a.plan"
    " LEFT JOIN credit_periods c ON c.account_id = a.id AND c.period_start = " SQL_PSTART
    " WHERE a.id = $1::bigint", 1);

static struct db_stmt q_days = DB_STMT("usage_days",
    "SELECT to_char(d, 'YYYY-MM-DD'), coalesce(sum(u.credits), 0), coalesce(sum(u.calls), 0)"
    " FROM " WINDOW " d LEFT JOIN usage u ON u.day = d::date AND u.key_id IN " ACCOUNT_KEYS
    " GROUP BY d ORDER BY d", 2);

/* the keys not revoked, and the revoked ones with usage in the window */
static struct db_stmt q_by_key = DB_STMT("usage_by_key",
    "SELECT k.id, k.name, k.prefix, array_to_json(array_agg(coalesce(x.credits, 0) ORDER BY d))"
    " FROM api_keys k CROSS JOIN " WINDOW " d"
    " LEFT JOIN (SELECT key_id, day, sum(credits) AS credits FROM usage"
    "  WHERE key_id IN " ACCOUNT_KEYS " AND day > " TODAY " - $2::int GROUP BY key_id, day) x"
    "  ON x.key_id = k.id AND x.day = d::date"
    " WHERE k.account_id = $1::bigint AND (k.revoked_at IS NULL OR EXISTS (SELECT 1 FROM usage u"
    "  WHERE u.key_id = k.id AND u.day > " TODAY " - $2::int))"
    " GROUP BY k.id ORDER BY k.id", 2);

static struct db_stmt q_by_route = DB_STMT("usage_by_route",
    "SELECT r.route, array_to_json(array_agg(coalesce(x.credits, 0) ORDER BY d))"
    " FROM (SELECT DISTINCT route FROM usage WHERE key_id IN " ACCOUNT_KEYS
    "  AND day > " TODAY " - $2::int) r CROSS JOIN " WINDOW " d"
    " LEFT JOIN (SELECT route, day, sum(credits) AS credits FROM usage"
    "  WHERE key_id IN " ACCOUNT_KEYS " AND day > " TODAY " - $2::int GROUP BY route, day) x"
    "  ON x.route = r.route AND x.day = d::date"
    " GROUP BY r.route ORDER BY r.route", 2);

static int64_t
i64(const PGresult *res, int row, int col)
{
	return strtoll(PQgetvalue(res, row, col), NULL, 10);
}

static struct json_object *
period_json(const PGresult *res)
{
	struct json_object *o = json_object_new_object();
	int64_t allowance = i64(res, 0, 3), used = i64(res, 0, 4), overage = i64(res, 0, 5);
	int64_t now = i64(res, 0, 6), end = i64(res, 0, 7), rstart = i64(res, 0, 8);
	int64_t recent = i64(res, 0, 9), remaining = allowance - used;
	double span = (double)(now - rstart), rate = span > 0 ? (double)recent / span : 0;
	char ts[KT_BUFSZ];

	json_object_object_add(o, "start", json_object_new_string(PQgetvalue(res, 0, 1)));
	json_object_object_add(o, "end", json_object_new_string(PQgetvalue(res, 0, 2)));
	json_object_object_add(o, "allowance", json_object_new_int64(allowance));
	json_object_object_add(o, "used", json_object_new_int64(used));
	json_object_object_add(o, "remaining", json_object_new_int64(remaining));
	json_object_object_add(o, "overage", json_object_new_int64(overage));
	json_object_object_add(o, "forecast_used",
	    json_object_new_int64(used + overage + (int64_t)llround(rate * (double)(end - now))));
	if (remaining <= 0) {
		kt_format(now, ts);
		json_object_object_add(o, "forecast_exhausted_at", json_object_new_string(ts));
	} else if (rate > 0 && (double)(end - now) > (double)remaining / rate) {
		kt_format(now + (int64_t)((double)remaining / rate), ts);
		json_object_object_add(o, "forecast_exhausted_at", json_object_new_string(ts));
	} else {
		json_object_object_add(o, "forecast_exhausted_at", NULL);
	}
	return o;
}

void
h_usage(struct req *req)
{
	const struct req_arg *d = req_arg(req, "days");
	char acc[24], days[16];
	const char *p1[] = { acc }, *p2[] = { acc, days };
	PGresult *rp = NULL, *rd = NULL, *rk = NULL, *rr = NULL;
	struct json_object *root, *arr;

	snprintf(acc, sizeof(acc), "%lld", (long long)req->session.account_id);
	snprintf(days, sizeof(days), "%lld", (long long)(d->set ? d->i : 30));
	if ((rp = db_exec(req->db, &q_period, p1)) == NULL || PQntuples(rp) != 1 ||
	    (rd = db_exec(req->db, &q_days, p2)) == NULL || (rk = db_exec(req->db, &q_by_key, p2)) == NULL ||
	    (rr = db_exec(req->db, &q_by_route, p2)) == NULL) {
		req_send_error(req, ERR_SERVICE_UNAVAILABLE, "cannot read the usage now; retry shortly");
		goto out;
	}
	root = json_object_new_object();
	json_object_object_add(root, "plan", json_object_new_string(PQgetvalue(rp, 0, 0)));
	json_object_object_add(root, "period", period_json(rp));
	arr = json_object_new_array();
	for (int i = 0; i < PQntuples(rd); i++) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "day", json_object_new_string(PQgetvalue(rd, i, 0)));
		json_object_object_add(o, "credits", json_object_new_int64(i64(rd, i, 1)));
		json_object_object_add(o, "calls", json_object_new_int64(i64(rd, i, 2)));
		json_object_array_add(arr, o);
	}
	json_object_object_add(root, "days", arr);
	arr = json_object_new_array();
	for (int i = 0; i < PQntuples(rk); i++) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "key_id", json_object_new_int64(i64(rk, i, 0)));
		json_object_object_add(o, "name", json_object_new_string(PQgetvalue(rk, i, 1)));
		json_object_object_add(o, "prefix", json_object_new_string(PQgetvalue(rk, i, 2)));
		json_object_object_add(o, "days", json_tokener_parse(PQgetvalue(rk, i, 3)));
		json_object_array_add(arr, o);
	}
	json_object_object_add(root, "by_key", arr);
	arr = json_object_new_array();
	for (int i = 0; i < PQntuples(rr); i++) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "route", json_object_new_string(PQgetvalue(rr, i, 0)));
		json_object_object_add(o, "days", json_tokener_parse(PQgetvalue(rr, i, 1)));
		json_object_array_add(arr, o);
	}
	json_object_object_add(root, "by_route", arr);
	req_send_json(req, 200, root);
out:
	PQclear(rp);
	PQclear(rd);
	PQclear(rk);
	PQclear(rr);
}
