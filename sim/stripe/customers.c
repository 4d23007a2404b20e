/*
 * customers: POST/GET /v1/customers, POST /v1/customers/{id}, DELETE /v1/customers/{id}, and
 * GET /v1/payment_methods/{id}. A customer gets a card from the hosted checkout page, the
 * portal, /_sim/card, or Stripe's test payment-method tokens (pm_card_visa, ...) as
 * payment_method at creation.
 */
#include <string.h>

#include "ss.h"

static const char *const cust_fields[] = { "email", "name", "description", "phone" };

/* Stripe's test PaymentMethod tokens and the card each stands for. */
static const struct {
	const char *token, *number;
} cust_tokens[] = {
	{ "pm_card_visa", "4242424242424242" },
	{ "pm_card_mastercard", "5555555555554444" },
	{ "pm_card_chargeCustomerFail", "4000000000000341" },
	{ "pm_card_visa_chargeDeclined", "4000000000000002" },
	{ "pm_card_chargeDeclined", "4000000000000002" },
};

/* Sets the simple string fields from the parameters; previous gets the old values. */
static void
cust_apply(struct hsrv_req *r, struct json_object *c, struct json_object *previous)
{
	for (size_t i = 0; i < sizeof(cust_fields) / sizeof(cust_fields[0]); i++) {
		const char *v = ss_param(r, cust_fields[i]);
		struct json_object *old = NULL;

		if (v == NULL)
			continue;
		if (previous != NULL && json_object_object_get_ex(c, cust_fields[i], &old))
			json_object_object_add(previous, cust_fields[i], json_object_get(old));
		json_object_object_add(c, cust_fields[i], *v != '\0' ? json_object_new_string(v) : NULL);
	}
}

/* Attaches the payment_method parameter (a test token) to c. 0, or -1 replied. */
static int
cust_payment_method(struct hsrv_req *r, struct json_object *c)
{
	const char *pm = ss_param(r, "payment_method");
	enum ss_card_outcome outcome;

	if (pm == NULL)
		return 0;
	for (size_t i = 0; i < sizeof(cust_tokens) / sizeof(cust_tokens[0]); i++) {
		if (strcmp(pm, cust_tokens[i].token) != 0)
			continue;
		if (ss_attach_card(c, cust_tokens[i].number, &outcome) != NULL)
			return 0;
		ss_error(r, 402, "card_error", "card_declined", NULL, "%s", ss_card_message(outcome));
		return -1;
	}
	ss_no_such(r, "PaymentMethod", "payment_method", pm);
	return -1;
}

/* A new customer object with every field Stripe shows, not stored yet. Caller owns it. */
static struct json_object *
cust_object(void)
{
	struct json_object *c = ss_obj_new("cus_", "customer", true), *is = json_object_new_object();
	char prefix[16];

	json_object_object_add(c, "address", NULL);
	json_object_object_add(c, "balance", json_object_new_int(0));
	json_object_object_add(c, "currency", NULL);
	json_object_object_add(c, "default_source", NULL);
	json_object_object_add(c, "delinquent", json_object_new_boolean(0));
	json_object_object_add(c, "description", NULL);
	json_object_object_add(c, "discount", NULL);
	json_object_object_add(c, "email", NULL);
	snprintf(prefix, sizeof(prefix), "%.8s", ss_jstr(c, "id") + 4);
	json_object_object_add(c, "invoice_prefix", json_object_new_string(prefix));
	json_object_object_add(is, "custom_fields", NULL);
	json_object_object_add(is, "default_payment_method", NULL);
	json_object_object_add(is, "footer", NULL);
	json_object_object_add(is, "rendering_options", NULL);
	json_object_object_add(c, "invoice_settings", is);
	json_object_object_add(c, "name", NULL);
	json_object_object_add(c, "next_invoice_sequence", json_object_new_int(1));
	json_object_object_add(c, "phone", NULL);
	json_object_object_add(c, "preferred_locales", json_object_new_array());
	json_object_object_add(c, "shipping", NULL);
	json_object_object_add(c, "tax_exempt", json_object_new_string("none"));
	json_object_object_add(c, "test_clock", NULL);
	return c;
}

struct json_object *
ss_customer_new(const char *email, const char *name)
{
	struct json_object *c = cust_object();

	json_object_object_add(c, "email", email != NULL ? json_object_new_string(email) : NULL);
	json_object_object_add(c, "name", name != NULL ? json_object_new_string(name) : NULL);
	ss_store_put(SS_CUSTOMER, c);
	ss_event_emit("customer.created", c, NULL);
	return c;
}

void
ss_customers_create(struct hsrv_req *r)
{
	struct json_object *c = cust_object();

	cust_apply(r, c, NULL);
	if (ss_apply_metadata(r, c) < 0) {
		json_object_put(c);
		return;
	}
	ss_store_put(SS_CUSTOMER, c);
	ss_event_emit("customer.created", c, NULL);
	if (cust_payment_method(r, c) < 0)
		return;
	ss_reply(r, c);
}

/* The customer of the path, or NULL after replying 404 (a deleted one is answered as such). */
static struct json_object *
cust_find(struct hsrv_req *r, bool allow_deleted)
{
	struct json_object *c = ss_store_get(SS_CUSTOMER, hsrv_seg(r, 0)), *d = NULL;

	if (c == NULL) {
		ss_no_such(r, "customer", "id", hsrv_seg(r, 0));
		return NULL;
	}
	if (json_object_object_get_ex(c, "deleted", &d) && !allow_deleted) {
		ss_no_such(r, "customer", "id", hsrv_seg(r, 0));
		return NULL;
	}
	return c;
}

void
ss_customers_get(struct hsrv_req *r)
{
	struct json_object *c = cust_find(r, true);

	if (c != NULL)
		ss_reply(r, c);
}

void
ss_customers_update(struct hsrv_req *r)
{
	struct json_object *c = cust_find(r, false), *prev;

	if (c == NULL)
		return;
	prev = json_object_new_object();
	cust_apply(r, c, prev);
	if (ss_apply_metadata(r, c) < 0 || cust_payment_method(r, c) < 0) {
		json_object_put(prev);
		return;
	}
	ss_event_emit("customer.updated", c, prev);
	ss_reply(r, c);
}

void
ss_customers_delete(struct hsrv_req *r)
{
	struct json_object *c = cust_find(r, false), *gone;

	if (c == NULL)
		return;
	ss_event_emit("customer.deleted", c, NULL);
	/* what Stripe answers for a deleted customer from now on */
	gone = json_object_new_object();
	json_object_object_add(gone, "id", json_object_new_string(ss_jstr(c, "id")));
	json_object_object_add(gone, "object", json_object_new_string("customer"));
	json_object_object_add(gone, "deleted", json_object_new_boolean(1));
	{
		/* the keys first: deleting while iterating would break json-c's walk */
		struct json_object *keys = json_object_new_array();

		json_object_object_foreach(c, k, v) {
			(void)v;
			if (strcmp(k, "id") != 0 && strcmp(k, "object") != 0)
				json_object_array_add(keys, json_object_new_string(k));
		}
		for (size_t i = 0; i < json_object_array_length(keys); i++)
			json_object_object_del(c, json_object_get_string(
			    json_object_array_get_idx(keys, i)));
		json_object_put(keys);
	}
	json_object_object_add(c, "deleted", json_object_new_boolean(1));
	hsrv_reply_json(r, 200, gone);
}

static bool
cust_not_deleted(struct hsrv_req *r, struct json_object *c)
{
	(void)r;
	return json_object_object_get(c, "deleted") == NULL;
}

void
ss_customers_list(struct hsrv_req *r)
{
	static const struct ss_filter f[] = { { "email", "email" } };

	ss_reply_filtered(r, SS_CUSTOMER, f, 1, cust_not_deleted, "/v1/customers");
}

void
ss_payment_methods_get(struct hsrv_req *r)
{
	struct json_object *pm = ss_store_get(SS_PAYMENT_METHOD, hsrv_seg(r, 0));

	if (pm == NULL)
		ss_no_such(r, "PaymentMethod", "id", hsrv_seg(r, 0));
	else
		ss_reply(r, pm);
}
