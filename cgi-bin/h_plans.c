/*
 * h_plans: GET /v1/plans: the plans table (sql/001_baseline.sql), for the pricing page and
 * scripts; public.
 */
#include <stdlib.h>

#include "account.h"
#include "route.h"

static struct db_stmt q_plans = DB_STMT("plans_list",
    "SELECT name, monthly_credits, rate_per_min, overage, price_usd_month::float8,"
    " overage_usd_per_credit::float8 FROM plans ORDER BY price_usd_month, monthly_credits, name", 0);

void
h_plans(struct req *req)
{
	struct json_object *root, *arr;
	PGresult *res;

	if ((res = db_exec(req->db, &q_plans, NULL)) == NULL) {
		req_send_error(req, ERR_SERVICE_UNAVAILABLE, "cannot read the plans now; retry shortly");
		return;
	}
	root = json_object_new_object();
	arr = json_object_new_array();
	for (int i = 0; i < PQntuples(res); i++) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "name", json_object_new_string(PQgetvalue(res, i, 0)));
		json_object_object_add(o, "monthly_credits", json_object_new_int64(atoll(PQgetvalue(res, i, 1))));
		json_object_object_add(o, "rate_per_min", json_object_new_int64(atoll(PQgetvalue(res, i, 2))));
		json_object_object_add(o, "overage", json_object_new_boolean(PQgetvalue(res, i, 3)[0] == 't'));
		json_object_object_add(o, "price_usd_month",
		    json_object_new_double_s(atof(PQgetvalue(res, i, 4)), PQgetvalue(res, i, 4)));
		json_object_object_add(o, "overage_usd_per_credit", PQgetisnull(res, i, 5) ? NULL :
		    json_object_new_double_s(atof(PQgetvalue(res, i, 5)), PQgetvalue(res, i, 5)));
		json_object_array_add(arr, o);
	}
	PQclear(res);
	json_object_object_add(root, "plans", arr);
	req_send_json(req, 200, root);
}
