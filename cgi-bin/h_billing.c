/*
 * h_billing: /v1/account/billing...: the account's plan and this period's credits and overage,
 * a Stripe Checkout page for the project plan, a Stripe billing portal page, and pay-as-you-go
 * on or off (shared/BILLING.md). The plan itself changes only by Stripe's webhook events
 * (h_webhook.c) or the payg switch; Stripe is called with no transaction open (lib/stripe_api).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account.h"
#include "config.h"
#include "log.h"
#include "route.h"
#include "stripe_api.h"
#include "token.h"

#define CUS_MAX 128

static struct db_stmt q_status = DB_STMT("billing_status",
    "SELECT a.plan, a.payg, a.stripe_customer_id IS NOT NULL, a.subscription_status,"
    " " SQL_TS("a.subscription_period_end") ","
    " coalesce(c.allowance, coalesce(a.monthly_credits_override, p.monthly_credits)),"
    " coalesce(c.used, 0), coalesce(c.overage, 0),"
    " " SQL_TS(SQL_PSTART) ", " SQL_TS(SQL_PEND) ","
    " (SELECT overage_usd_per_credit FROM plans WHERE name = 'payg')::float8,"
    " (coalesce(c.overage, 0) * (SELECT overage_usd_per_credit FROM plans WHERE name = 'payg'))"
    "  ::numeric(14, 2)::float8,"
    " (SELECT count(*) FROM billing_outbox o WHERE o.account_id = a.id AND o.sent_at IS NULL"
    "  AND o.failed_at IS NULL)"
    " FROM accounts a JOIN plans p ON p.name = a.plan"
    " LEFT JOIN credit_periods c ON c.account_id = a.id AND c.period_start = " SQL_PSTART
    " WHERE a.id = $1::bigint", 1);

static struct db_stmt q_customer = DB_STMT("billing_customer",
    "SELECT stripe_customer_id, email, plan, subscription_status FROM accounts WHERE id = $1::bigint", 1);

static struct db_stmt q_set_customer = DB_STMT("billing_set_customer",
    "UPDATE accounts SET stripe_customer_id = coalesce(stripe_customer_id, $2)"
    " WHERE id = $1::bigint RETURNING stripe_customer_id", 2);

static struct db_stmt q_payg = DB_STMT("billing_payg",
    "SELECT billing_set_payg($1::bigint, $2::boolean)", 2);

/* The site's base URL without a trailing slash, into out. */
static void
site(char *out, size_t cap)
{
	size_t n = strlen(cfg.public_url);

	while (n > 0 && cfg.public_url[n - 1] == '/')
		n--;
	snprintf(out, cap, "%.*s", (int)n, cfg.public_url);
}

/* The string member name of a Stripe answer, into out; 0, or -1 when missing. */
static int
answer_str(const struct sbuf *resp, const char *name, char *out, size_t cap)
{
	struct json_object *o = resp->p != NULL ? json_tokener_parse(resp->p) : NULL, *v;
	int rc = -1;

	if (o != NULL && json_object_object_get_ex(o, name, &v) &&
	    json_object_is_type(v, json_type_string) && (size_t)json_object_get_string_len(v) < cap) {
		snprintf(out, cap, "%s", json_object_get_string(v));
		rc = 0;
	}
	json_object_put(o);
	return rc;
}

/* Answers 503 billing_unavailable for a failed Stripe call (status, logged without secrets). */
static void
stripe_failed(struct req *req, const char *what, long status)
{
	log_warnx("stripe: %s failed (HTTP %ld)", what, status);
	req_send_error(req, ERR_BILLING_UNAVAILABLE, "Stripe did not answer as expected; retry shortly");
}

/*
 * The account's Stripe customer into cus, made the first time (email and metadata[account_id],
 * Idempotency-Key kbook-customer-<id>, so two clicks at once make one customer). plan and status
 * (may be NULL) receive the account's plan and subscription status. Returns 0, or -1 answered.
 */
static int
ensure_customer(struct req *req, char cus[CUS_MAX], char *plan, char *status)
{
	char acc[24], idem[64];
	const char *params[2] = { acc, NULL };
	struct sbuf form = { 0 }, resp = { 0 };
	PGresult *res;
	long st;
	int rc = -1;

	snprintf(acc, sizeof(acc), "%lld", (long long)req->session.account_id);
	if ((res = db_exec(req->db, &q_customer, params)) == NULL || PQntuples(res) != 1) {
		PQclear(res);
		req_send_error(req, ERR_SERVICE_UNAVAILABLE, "cannot read the account now; retry shortly");
		return -1;
	}
	snprintf(cus, CUS_MAX, "%s", PQgetvalue(res, 0, 0));
	if (plan != NULL)
		snprintf(plan, 16, "%s", PQgetvalue(res, 0, 2));
	if (status != NULL)
		snprintf(status, 32, "%s", PQgetvalue(res, 0, 3));
	if (cus[0] != '\0') {
		PQclear(res);
		return 0;
	}
	if (!stripe_api_enabled()) {
		PQclear(res);
		req_send_error(req, ERR_BILLING_UNAVAILABLE, "billing is not configured on this server");
		return -1;
	}
	stripe_form_add(&form, "email", PQgetvalue(res, 0, 1));
	stripe_form_add(&form, "metadata[account_id]", acc);
	PQclear(res);
	snprintf(idem, sizeof(idem), "kbook-customer-%s", acc);
	if (stripe_post("/v1/customers", &form, idem, 3, &st, &resp) != 0 ||
	    answer_str(&resp, "id", cus, CUS_MAX) != 0) {
		stripe_failed(req, "customer", st);
		goto out;
	}
	params[1] = cus;
	if ((res = db_exec(req->db, &q_set_customer, params)) == NULL || PQntuples(res) != 1) {
		PQclear(res);
		req_send_error(req, ERR_SERVICE_UNAVAILABLE, "cannot update the account now; retry shortly");
		goto out;
	}
	snprintf(cus, CUS_MAX, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	rc = 0;
out:
	sbuf_free(&form);
	sbuf_free(&resp);
	return rc;
}

/* Sends the billing status of the session's account (status 200). */
static void
send_status(struct req *req)
{
	char acc[24];
	const char *params[] = { acc };
	struct json_object *root, *period;
	PGresult *res;
	int64_t allowance, used;

	snprintf(acc, sizeof(acc), "%lld", (long long)req->session.account_id);
	if ((res = db_exec(req->db, &q_status, params)) == NULL || PQntuples(res) != 1) {
		PQclear(res);
		req_send_error(req, ERR_SERVICE_UNAVAILABLE, "cannot read the billing now; retry shortly");
		return;
	}
	allowance = atoll(PQgetvalue(res, 0, 5));
	used = atoll(PQgetvalue(res, 0, 6));
	root = json_object_new_object();
	json_object_object_add(root, "plan", json_object_new_string(PQgetvalue(res, 0, 0)));
	json_object_object_add(root, "payg", json_object_new_boolean(PQgetvalue(res, 0, 1)[0] == 't'));
	json_object_object_add(root, "billing_account", json_object_new_boolean(PQgetvalue(res, 0, 2)[0] == 't'));
	json_object_object_add(root, "subscription_status", PQgetisnull(res, 0, 3) ? NULL :
	    json_object_new_string(PQgetvalue(res, 0, 3)));
	json_object_object_add(root, "subscription_renews_at", PQgetisnull(res, 0, 4) ? NULL :
	    json_object_new_string(PQgetvalue(res, 0, 4)));
	period = json_object_new_object();
	json_object_object_add(period, "start", json_object_new_string(PQgetvalue(res, 0, 8)));
	json_object_object_add(period, "end", json_object_new_string(PQgetvalue(res, 0, 9)));
	json_object_object_add(period, "allowance", json_object_new_int64(allowance));
	json_object_object_add(period, "used", json_object_new_int64(used));
	json_object_object_add(period, "remaining", json_object_new_int64(allowance - used));
	json_object_object_add(period, "overage", json_object_new_int64(atoll(PQgetvalue(res, 0, 7))));
	json_object_object_add(period, "overage_usd", json_object_new_double_s(atof(PQgetvalue(res, 0, 11)),
	    PQgetvalue(res, 0, 11)));
	json_object_object_add(period, "overage_unsent_events", json_object_new_int64(atoll(PQgetvalue(res, 0, 12))));
	json_object_object_add(root, "period", period);
	json_object_object_add(root, "overage_usd_per_credit", json_object_new_double_s(
	    atof(PQgetvalue(res, 0, 10)), PQgetvalue(res, 0, 10)));
	PQclear(res);
	req_send_json(req, 200, root);
}

void
h_billing_get(struct req *req)
{
	send_status(req);
}

/* Answers {"url"} of a Stripe session made by POST path with form (a fresh Idempotency-Key). */
static void
send_session(struct req *req, const char *path, const struct sbuf *form)
{
	char idem[TOKEN_MAX], url[2048];
	struct sbuf resp = { 0 };
	struct json_object *root;
	long st;

	if (token_new("kbook_idem_", idem) != 0) {
		req_send_error(req, ERR_INTERNAL, "out of memory");
		return;
	}
	if (stripe_post(path, form, idem, 3, &st, &resp) != 0 ||
	    answer_str(&resp, "url", url, sizeof(url)) != 0) {
		stripe_failed(req, path, st);
		sbuf_free(&resp);
		return;
	}
	sbuf_free(&resp);
	root = json_object_new_object();
	json_object_object_add(root, "url", json_object_new_string(url));
	req_send_json(req, 200, root);
}

void
h_billing_checkout(struct req *req)
{
	char cus[CUS_MAX], plan[16], status[32], acc[24], base[512], url[600];
	struct sbuf form = { 0 };

	if (ensure_customer(req, cus, plan, status) != 0)
		return;
	if (strcmp(plan, "project") == 0) {
		req_send_error(req, ERR_ALREADY_SUBSCRIBED,
		    "the account already has the project plan; change it in the billing portal");
		return;
	}
	snprintf(acc, sizeof(acc), "%lld", (long long)req->session.account_id);
	site(base, sizeof(base));
	stripe_form_add(&form, "mode", "subscription");
	stripe_form_add(&form, "customer", cus);
	stripe_form_add(&form, "client_reference_id", acc);
	stripe_form_add(&form, "line_items[0][price]", cfg.stripe_price_project);
	stripe_form_add(&form, "line_items[0][quantity]", "1");
	stripe_form_add(&form, "subscription_data[metadata][account_id]", acc);
	snprintf(url, sizeof(url), "%s/billing?checkout={CHECKOUT_SESSION_ID}", base);
	stripe_form_add(&form, "success_url", url);
	snprintf(url, sizeof(url), "%s/billing?checkout=cancelled", base);
	stripe_form_add(&form, "cancel_url", url);
	send_session(req, "/v1/checkout/sessions", &form);
	sbuf_free(&form);
}

void
h_billing_portal(struct req *req)
{
	char acc[24], base[512], url[600];
	const char *params[] = { acc };
	struct sbuf form = { 0 };
	PGresult *res;

	snprintf(acc, sizeof(acc), "%lld", (long long)req->session.account_id);
	if ((res = db_exec(req->db, &q_customer, params)) == NULL || PQntuples(res) != 1) {
		PQclear(res);
		req_send_error(req, ERR_SERVICE_UNAVAILABLE, "cannot read the account now; retry shortly");
		return;
	}
	if (PQgetisnull(res, 0, 0)) {
		PQclear(res);
		req_send_error(req, ERR_NO_BILLING_ACCOUNT,
		    "the account has no billing account yet: upgrade or turn pay-as-you-go on first");
		return;
	}
	if (!stripe_api_enabled()) {
		PQclear(res);
		req_send_error(req, ERR_BILLING_UNAVAILABLE, "billing is not configured on this server");
		return;
	}
	site(base, sizeof(base));
	snprintf(url, sizeof(url), "%s/billing", base);
	stripe_form_add(&form, "customer", PQgetvalue(res, 0, 0));
	stripe_form_add(&form, "return_url", url);
	PQclear(res);
	send_session(req, "/v1/billing_portal/sessions", &form);
	sbuf_free(&form);
}

void
h_billing_payg(struct req *req)
{
	static const char *const names[] = { "enabled", NULL };
	struct json_object *o, *v;
	char acc[24], cus[CUS_MAX];
	const char *params[] = { acc, NULL };
	PGresult *res;
	bool on;

	if ((o = body_object(req, names)) == NULL)
		return;
	if (!json_object_object_get_ex(o, "enabled", &v) || v == NULL) {
		json_object_put(o);
		req_send_error(req, ERR_MISSING_PARAMETER, "the body needs the member enabled");
		return;
	}
	if (!json_object_is_type(v, json_type_boolean)) {
		json_object_put(o);
		req_send_error(req, ERR_INVALID_PARAMETER, "enabled must be true or false");
		return;
	}
	on = json_object_get_boolean(v);
	json_object_put(o);
	/* overage is metered to the account's Stripe customer: it must exist before any is served */
	if (on && ensure_customer(req, cus, NULL, NULL) != 0)
		return;
	snprintf(acc, sizeof(acc), "%lld", (long long)req->session.account_id);
	params[1] = on ? "true" : "false";
	if ((res = db_exec(req->db, &q_payg, params)) == NULL) {
		req_send_error(req, ERR_SERVICE_UNAVAILABLE, "cannot update the account now; retry shortly");
		return;
	}
	PQclear(res);
	send_status(req);
}
