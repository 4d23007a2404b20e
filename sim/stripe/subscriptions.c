/*
 * subscriptions: the API side of subscriptions and invoices (the billing itself is billing.c).
 * POST /v1/subscriptions (customer, items[i][price], items[i][quantity], metadata,
 * default_payment_method), GET /v1/subscriptions (customer, status, price), GET and POST
 * /v1/subscriptions/{id} (cancel_at_period_end, items[0][price] to change plan, metadata),
 * DELETE /v1/subscriptions/{id} (cancel now), GET /v1/invoices (customer, subscription, status) and GET /v1/invoices/{id}.
 */
#include <stdlib.h>
#include <string.h>

#include "ss.h"

/* Checks items[i][price] / items[i][quantity]: 0, or -1 replied. */
static int
subs_check_items(struct hsrv_req *r, struct json_object *items)
{
	char name[64];

	if (items == NULL || !json_object_is_type(items, json_type_array) ||
	    json_object_array_length(items) == 0) {
		ss_missing_param(r, "items");
		return -1;
	}
	for (size_t i = 0; i < json_object_array_length(items); i++) {
		struct json_object *it = json_object_array_get_idx(items, i), *price;
		const char *pid = ss_jstr(it, "price"), *q = ss_jstr(it, "quantity");
		struct json_object *rec = NULL;

		snprintf(name, sizeof(name), "items[%zu][price]", i);
		if (it == NULL || !json_object_is_type(it, json_type_object) || pid == NULL) {
			ss_missing_param(r, name);
			return -1;
		}
		price = ss_store_get(SS_PRICE, pid);
		if (price == NULL) {
			ss_no_such(r, "price", name, pid);
			return -1;
		}
		json_object_object_get_ex(price, "recurring", &rec);
		if (rec == NULL || json_object_get_type(rec) == json_type_null) {
			ss_invalid_param(r, name, "parameter_invalid_string",
			    "The price specified is set to `type=one_time` but this field only accepts "
			    "prices with `type=recurring`.");
			return -1;
		}
		snprintf(name, sizeof(name), "items[%zu][quantity]", i);
		if (q != NULL && strcmp(ss_jstr(rec, "usage_type"), "metered") == 0) {
			ss_invalid_param(r, name, "parameter_invalid_integer",
			    "Quantity should not be specified where usage_type is `metered`. Remove "
			    "quantity from this item.");
			return -1;
		}
		if (q != NULL && (strtoll(q, NULL, 10) < 1 || strspn(q, "0123456789") != strlen(q))) {
			ss_invalid_param(r, name, "parameter_invalid_integer", "Invalid integer: quantity");
			return -1;
		}
	}
	return 0;
}

void
ss_subscriptions_create(struct hsrv_req *r)
{
	struct json_object *items = NULL, *md = NULL, *cust, *is = NULL, *sub;
	const char *cid = ss_param(r, "customer"), *pm = ss_param(r, "default_payment_method");

	if (cid == NULL) {
		ss_missing_param(r, "customer");
		return;
	}
	cust = ss_store_get(SS_CUSTOMER, cid);
	if (cust == NULL || json_object_object_get(cust, "deleted") != NULL) {
		ss_no_such(r, "customer", "customer", cid);
		return;
	}
	json_object_object_get_ex(ss_params(r), "items", &items);
	if (subs_check_items(r, items) < 0)
		return;
	if (pm != NULL) {
		struct json_object *pmo = ss_store_get(SS_PAYMENT_METHOD, pm);

		if (pmo == NULL || strcmp(ss_jstr(pmo, "customer"), cid) != 0) {
			ss_no_such(r, "PaymentMethod", "default_payment_method", pm);
			return;
		}
	}
	json_object_object_get_ex(cust, "invoice_settings", &is);
	if (ss_jstr(is, "default_payment_method") == NULL) {
		ss_error(r, 400, "invalid_request_error", "resource_missing", NULL,
		    "This customer has no attached payment source or default payment method. Please "
		    "consider adding a default payment method. For more information, visit "
		    "https://stripe.com/docs/billing/subscriptions/payment-methods-setting#payment-method-priority.");
		return;
	}
	json_object_object_get_ex(ss_params(r), "metadata", &md);
	sub = ss_subscription_start(cust, items, md, NULL);
	ss_reply(r, sub);
}

static struct json_object *
subs_find(struct hsrv_req *r)
{
	struct json_object *s = ss_store_get(SS_SUBSCRIPTION, hsrv_seg(r, 0));

	if (s == NULL)
		ss_no_such(r, "subscription", "id", hsrv_seg(r, 0));
	return s;
}

void
ss_subscriptions_get(struct hsrv_req *r)
{
	struct json_object *s = subs_find(r);

	if (s != NULL)
		ss_reply(r, s);
}

/* status: the given one, "all", or (absent) every status but canceled, as Stripe lists */
static bool
subs_status(struct hsrv_req *r, struct json_object *s)
{
	const char *want = ss_param(r, "status"), *st = ss_jstr(s, "status");

	if (want == NULL)
		return strcmp(st, "canceled") != 0;
	return strcmp(want, "all") == 0 || strcmp(want, st) == 0;
}

void
ss_subscriptions_list(struct hsrv_req *r)
{
	static const struct ss_filter f[] = {
		{ "customer", "customer" }, { "price", "items.data.0.price.id" },
	};

	ss_reply_filtered(r, SS_SUBSCRIPTION, f, sizeof(f) / sizeof(f[0]), subs_status,
	    "/v1/subscriptions");
}

void
ss_subscriptions_update(struct hsrv_req *r)
{
	struct json_object *s = subs_find(r), *items = NULL, *prev;
	bool cape = false;
	int has_cape;

	if (s == NULL)
		return;
	if (strcmp(ss_jstr(s, "status"), "canceled") == 0) {
		ss_error(r, 400, "invalid_request_error", NULL, NULL,
		    "A canceled subscription can only update its cancellation_details and metadata.");
		return;
	}
	has_cape = ss_param_bool(r, "cancel_at_period_end", &cape);
	if (has_cape < 0)
		return;
	if (json_object_object_get_ex(ss_params(r), "items", &items)) {
		if (subs_check_items(r, items) < 0)
			return;
		if (json_object_array_length(items) != 1) {
			ss_invalid_param(r, "items", "parameter_invalid_integer",
			    "stripe-sim subscriptions hold one item: pass items[0][price].");
			return;
		}
	}
	prev = json_object_new_object();
	json_object_object_add(prev, "metadata",
	    json_object_get(json_object_object_get(s, "metadata")));
	if (ss_apply_metadata(r, s) < 0) {
		json_object_put(prev);
		return;
	}
	if (json_object_object_get(ss_params(r), "metadata") != NULL)
		ss_event_emit("customer.subscription.updated", s, prev);
	else
		json_object_put(prev);
	if (items != NULL)
		ss_subscription_switch(s, ss_store_get(SS_PRICE,
		    ss_jstr(json_object_array_get_idx(items, 0), "price")));
	if (has_cape > 0)
		ss_subscription_set_cancel(s, cape);
	ss_reply(r, s);
}

void
ss_subscriptions_cancel(struct hsrv_req *r)
{
	struct json_object *s = subs_find(r);

	if (s == NULL)
		return;
	if (strcmp(ss_jstr(s, "status"), "canceled") == 0) {
		ss_error(r, 400, "invalid_request_error", "resource_missing", "id",
		    "No such subscription: '%s'", ss_jstr(s, "id"));
		return;
	}
	ss_subscription_cancel_now(s);
	ss_reply(r, s);
}

void
ss_invoices_get(struct hsrv_req *r)
{
	struct json_object *i = ss_store_get(SS_INVOICE, hsrv_seg(r, 0));

	if (i == NULL)
		ss_no_such(r, "invoice", "id", hsrv_seg(r, 0));
	else
		ss_reply(r, i);
}

void
ss_invoices_list(struct hsrv_req *r)
{
	static const struct ss_filter f[] = {
		{ "customer", "customer" },
		{ "subscription", "parent.subscription_details.subscription" },
		{ "status", "status" },
	};

	ss_reply_filtered(r, SS_INVOICE, f, sizeof(f) / sizeof(f[0]), NULL, "/v1/invoices");
}
