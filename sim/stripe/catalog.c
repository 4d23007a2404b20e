/*
 * catalog: products and prices. At start the sim holds kbook's own catalog with fixed ids, so
 * a configuration can name them (docs/stripe-sim.md): the project plan ($30.00 a month,
 * licensed, lookup_key kbook_project) and the payg overage ($0.008 a credit, metered by the
 * kbook_credits meter, lookup_key kbook_payg). Routes: POST/GET /v1/products, POST/GET
 * /v1/prices (lookup_keys[], active, type, product filters).
 */
#include <stdlib.h>
#include <string.h>

#include "ss.h"

/* kbook's catalog: one row per plan price */
static const struct {
	const char *product_id, *product_name, *price_id, *lookup_key;
	int64_t unit_amount;          /* cents, or -1 for a decimal amount */
	const char *unit_amount_decimal;
	const char *meter_id;         /* metered when set */
} catalog[] = {
	{ "prod_kbook_project", "kbook Project", "price_kbook_project", "kbook_project", 3000, "3000",
	    NULL },
	{ "prod_kbook_payg", "kbook Pay as you go", "price_kbook_payg", "kbook_payg", -1, "0.8",
	    "mtr_kbook_credits" },
};

static struct json_object *
catalog_product(const char *id, const char *name)
{
	struct json_object *p = ss_obj_new("prod_", "product", true);

	if (id != NULL)
		json_object_object_add(p, "id", json_object_new_string(id));
	json_object_object_add(p, "active", json_object_new_boolean(1));
	json_object_object_add(p, "default_price", NULL);
	json_object_object_add(p, "description", NULL);
	json_object_object_add(p, "name", json_object_new_string(name));
	json_object_object_add(p, "type", json_object_new_string("service"));
	json_object_object_add(p, "updated", json_object_new_int64(ss_now()));
	return ss_store_put(SS_PRODUCT, p);
}

/* A recurring object {"interval","interval_count","meter","trial_period_days","usage_type"}. */
static struct json_object *
catalog_recurring(const char *interval, int64_t count, const char *meter)
{
	struct json_object *rec = json_object_new_object();

	json_object_object_add(rec, "interval", json_object_new_string(interval));
	json_object_object_add(rec, "interval_count", json_object_new_int64(count));
	json_object_object_add(rec, "meter", meter != NULL ? json_object_new_string(meter) : NULL);
	json_object_object_add(rec, "trial_period_days", NULL);
	json_object_object_add(rec, "usage_type",
	    json_object_new_string(meter != NULL ? "metered" : "licensed"));
	return rec;
}

static struct json_object *
catalog_price(const char *id, const char *product, int64_t unit_amount, const char *decimal,
    struct json_object *recurring, const char *lookup_key, const char *nickname)
{
	struct json_object *p = ss_obj_new("price_", "price", true);

	if (id != NULL)
		json_object_object_add(p, "id", json_object_new_string(id));
	json_object_object_add(p, "active", json_object_new_boolean(1));
	json_object_object_add(p, "billing_scheme", json_object_new_string("per_unit"));
	json_object_object_add(p, "currency", json_object_new_string("usd"));
	json_object_object_add(p, "custom_unit_amount", NULL);
	json_object_object_add(p, "lookup_key",
	    lookup_key != NULL ? json_object_new_string(lookup_key) : NULL);
	json_object_object_add(p, "nickname", nickname != NULL ? json_object_new_string(nickname) : NULL);
	json_object_object_add(p, "product", json_object_new_string(product));
	json_object_object_add(p, "recurring", recurring);
	json_object_object_add(p, "tax_behavior", json_object_new_string("unspecified"));
	json_object_object_add(p, "tiers_mode", NULL);
	json_object_object_add(p, "transform_quantity", NULL);
	json_object_object_add(p, "type", json_object_new_string(recurring != NULL ? "recurring" :
	    "one_time"));
	json_object_object_add(p, "unit_amount",
	    unit_amount >= 0 ? json_object_new_int64(unit_amount) : NULL);
	json_object_object_add(p, "unit_amount_decimal", json_object_new_string(decimal));
	return ss_store_put(SS_PRICE, p);
}

void
ss_catalog_init(void)
{
	struct json_object *m = ss_obj_new("mtr_", "billing.meter", false), *o;

	json_object_object_add(m, "id", json_object_new_string("mtr_kbook_credits"));
	o = json_object_new_object();
	json_object_object_add(o, "event_payload_key", json_object_new_string("stripe_customer_id"));
	json_object_object_add(o, "type", json_object_new_string("by_id"));
	json_object_object_add(m, "customer_mapping", o);
	o = json_object_new_object();
	json_object_object_add(o, "formula", json_object_new_string("sum"));
	json_object_object_add(m, "default_aggregation", o);
	json_object_object_add(m, "display_name", json_object_new_string("kbook credits"));
	json_object_object_add(m, "event_name", json_object_new_string("kbook_credits"));
	json_object_object_add(m, "event_time_window", NULL);
	json_object_object_add(m, "status", json_object_new_string("active"));
	o = json_object_new_object();
	json_object_object_add(o, "deactivated_at", NULL);
	json_object_object_add(m, "status_transitions", o);
	json_object_object_add(m, "updated", json_object_new_int64(ss_now()));
	o = json_object_new_object();
	json_object_object_add(o, "event_payload_key", json_object_new_string("value"));
	json_object_object_add(m, "value_settings", o);
	ss_store_put(SS_METER, m);
	for (size_t i = 0; i < sizeof(catalog) / sizeof(catalog[0]); i++) {
		catalog_product(catalog[i].product_id, catalog[i].product_name);
		catalog_price(catalog[i].price_id, catalog[i].product_id, catalog[i].unit_amount,
		    catalog[i].unit_amount_decimal, catalog_recurring("month", 1, catalog[i].meter_id),
		    catalog[i].lookup_key, catalog[i].product_name);
	}
}

void
ss_products_create(struct hsrv_req *r)
{
	const char *name = ss_param(r, "name"), *id = ss_param(r, "id");
	struct json_object *p;

	if (name == NULL || *name == '\0') {
		ss_missing_param(r, "name");
		return;
	}
	if (id != NULL && ss_store_get(SS_PRODUCT, id) != NULL) {
		ss_error(r, 400, "invalid_request_error", "resource_already_exists", "id",
		    "Product already exists.");
		return;
	}
	p = catalog_product(id, name);
	if (ss_param(r, "description") != NULL)
		json_object_object_add(p, "description",
		    json_object_new_string(ss_param(r, "description")));
	if (ss_apply_metadata(r, p) < 0)
		return;
	ss_event_emit("product.created", p, NULL);
	ss_reply(r, p);
}

void
ss_products_get(struct hsrv_req *r)
{
	struct json_object *p = ss_store_get(SS_PRODUCT, hsrv_seg(r, 0));

	if (p == NULL)
		ss_no_such(r, "product", "id", hsrv_seg(r, 0));
	else
		ss_reply(r, p);
}

void
ss_products_list(struct hsrv_req *r)
{
	ss_reply_list(r, ss_store_all(SS_PRODUCT), "/v1/products");
}

/* Checks a decimal amount: digits with at most 12 decimals. */
static bool
catalog_decimal_ok(const char *s)
{
	const char *dot = strchr(s, '.');
	size_t n = strlen(s);

	if (n == 0 || n > 30 || s[0] == '.' || s[n - 1] == '.')
		return false;
	for (const char *p = s; *p != '\0'; p++)
		if ((*p < '0' || *p > '9') && p != dot)
			return false;
	return dot == NULL || strlen(dot + 1) <= 12;
}

void
ss_prices_create(struct hsrv_req *r)
{
	struct json_object *params = ss_params(r), *rec = NULL, *pd = NULL, *recurring = NULL, *p;
	const char *currency = ss_param(r, "currency"), *product = ss_param(r, "product");
	const char *decimal = ss_param(r, "unit_amount_decimal"), *lookup = ss_param(r, "lookup_key");
	const char *interval = NULL, *usage = NULL, *meter = NULL;
	char amount_text[32];
	int64_t amount = -1;

	if (currency == NULL) {
		ss_missing_param(r, "currency");
		return;
	}
	if (strcmp(currency, "usd") != 0) {
		ss_invalid_param(r, "currency", "parameter_invalid_string",
		    "stripe-sim prices are in usd only.");
		return;
	}
	if (ss_param_int(r, "unit_amount", 0, INT64_C(99999999), &amount) < 0)
		return;
	if ((amount < 0) == (decimal == NULL)) {
		ss_error(r, 400, "invalid_request_error", "parameter_missing", "unit_amount",
		    "You must pass exactly one of unit_amount and unit_amount_decimal.");
		return;
	}
	if (decimal != NULL && !catalog_decimal_ok(decimal)) {
		ss_invalid_param(r, "unit_amount_decimal", "parameter_invalid_string",
		    "Invalid decimal: unit_amount_decimal");
		return;
	}
	if (json_object_object_get_ex(params, "product_data", &pd)) {
		const char *name = ss_jstr(pd, "name");

		if (product != NULL) {
			ss_error(r, 400, "invalid_request_error", NULL, "product_data",
			    "You may only specify one of these parameters: product, product_data.");
			return;
		}
		if (name == NULL) {
			ss_missing_param(r, "product_data[name]");
			return;
		}
		product = ss_jstr(catalog_product(NULL, name), "id");
	} else if (product == NULL) {
		ss_missing_param(r, "product");
		return;
	} else if (ss_store_get(SS_PRODUCT, product) == NULL) {
		ss_no_such(r, "product", "product", product);
		return;
	}
	if (json_object_object_get_ex(params, "recurring", &rec)) {
		int64_t count = 1;

		interval = ss_jstr(rec, "interval");
		usage = ss_jstr(rec, "usage_type");
		meter = ss_jstr(rec, "meter");
		if (ss_jstr(rec, "interval_count") != NULL)
			count = strtoll(ss_jstr(rec, "interval_count"), NULL, 10);
		if (interval == NULL) {
			ss_missing_param(r, "recurring[interval]");
			return;
		}
		if (strcmp(interval, "month") != 0 || count != 1) {
			ss_invalid_param(r, "recurring[interval]", "parameter_invalid_string",
			    "stripe-sim bills monthly subscriptions only (interval month, count 1).");
			return;
		}
		if (usage != NULL && strcmp(usage, "metered") != 0 && strcmp(usage, "licensed") != 0) {
			ss_invalid_param(r, "recurring[usage_type]", "parameter_invalid_string",
			    "Invalid recurring[usage_type]: must be one of licensed or metered");
			return;
		}
		if (usage != NULL && strcmp(usage, "metered") == 0) {
			if (meter == NULL) {
				ss_missing_param(r, "recurring[meter]");
				return;
			}
			if (ss_store_get(SS_METER, meter) == NULL) {
				ss_no_such(r, "billing.meter", "recurring[meter]", meter);
				return;
			}
		} else {
			meter = NULL;
		}
		recurring = catalog_recurring(interval, count, meter);
	}
	if (lookup != NULL) {
		struct json_object *all = ss_store_all(SS_PRICE);

		for (size_t i = 0; i < json_object_array_length(all); i++) {
			const char *lk = ss_jstr(json_object_array_get_idx(all, i), "lookup_key");

			if (lk != NULL && strcmp(lk, lookup) == 0 &&
			    ss_param(r, "transfer_lookup_key") == NULL) {
				json_object_put(recurring);
				ss_error(r, 400, "invalid_request_error", "lookup_key_already_exists",
				    "lookup_key", "A price (`%s`) already uses that lookup key.",
				    ss_jstr(json_object_array_get_idx(all, i), "id"));
				return;
			}
		}
	}
	if (decimal == NULL) {
		snprintf(amount_text, sizeof(amount_text), "%lld", (long long)amount);
		decimal = amount_text;
	}
	p = catalog_price(NULL, product, amount, decimal, recurring, lookup, ss_param(r, "nickname"));
	if (ss_apply_metadata(r, p) < 0)
		return;
	ss_event_emit("price.created", p, NULL);
	ss_reply(r, p);
}

void
ss_prices_get(struct hsrv_req *r)
{
	struct json_object *p = ss_store_get(SS_PRICE, hsrv_seg(r, 0));

	if (p == NULL)
		ss_no_such(r, "price", "id", hsrv_seg(r, 0));
	else
		ss_reply(r, p);
}

/* active=false lists none (every price here is active); lookup_keys[]: any of them */
static bool
catalog_price_keep(struct hsrv_req *r, struct json_object *p)
{
	struct json_object *keys = NULL;
	const char *lk = ss_jstr(p, "lookup_key"), *active = ss_param(r, "active");

	if (active != NULL && strcmp(active, "false") == 0)
		return false;
	if (!json_object_object_get_ex(ss_params(r), "lookup_keys", &keys))
		return true;
	if (lk == NULL || !json_object_is_type(keys, json_type_array))
		return false;
	for (size_t j = 0; j < json_object_array_length(keys); j++)
		if (strcmp(lk, json_object_get_string(json_object_array_get_idx(keys, j))) == 0)
			return true;
	return false;
}

void
ss_prices_list(struct hsrv_req *r)
{
	static const struct ss_filter f[] = { { "product", "product" }, { "type", "type" } };

	ss_reply_filtered(r, SS_PRICE, f, sizeof(f) / sizeof(f[0]), catalog_price_keep, "/v1/prices");
}
