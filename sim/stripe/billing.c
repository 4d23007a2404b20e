/*
 * billing: subscriptions, invoices and payments. A subscription bills monthly (calendar months
 * from its anchor): licensed prices in advance for the coming period, metered prices in arrears
 * from the meter's aggregated usage of the period that ended (meters.c). Each bill is an
 * invoice (invoice.created, invoice.finalized) paid at once from the customer's default card
 * (invoice.paid + invoice.payment_succeeded) or failed (invoice.payment_failed, the
 * subscription past_due), following Stripe's test cards (cards.c). The period of a
 * subscription lives on its items (items.data[].current_period_start/end, API 2025+); an
 * invoice names its subscription at parent.subscription_details.subscription.
 *
 * Simplifications (docs/stripe-sim.md): no prorations (a plan change starts a new period at
 * once and bills the new price in full), no automatic payment retries, usd only.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ss.h"

/* pm id -> card number, never shown through the API */
static struct json_object *bill_cards;

/* ---- payment methods ------------------------------------------------------------------------ */

struct json_object *
ss_attach_card(struct json_object *customer, const char *number, enum ss_card_outcome *outcome)
{
	struct json_object *pm, *card, *bd, *is = NULL, *prev;
	const char *brand;
	char last4[5];

	*outcome = ss_card_check(number, &brand, last4);
	if (*outcome != SS_CARD_OK && *outcome != SS_CARD_FAILS_LATER)
		return NULL;
	pm = ss_obj_new("pm_", "payment_method", true);
	bd = json_object_new_object();
	json_object_object_add(bd, "email", json_object_get(json_object_object_get(customer, "email")));
	json_object_object_add(bd, "name", json_object_get(json_object_object_get(customer, "name")));
	json_object_object_add(pm, "billing_details", bd);
	card = json_object_new_object();
	json_object_object_add(card, "brand", json_object_new_string(brand));
	json_object_object_add(card, "country", json_object_new_string("US"));
	json_object_object_add(card, "exp_month", json_object_new_int(12));
	json_object_object_add(card, "exp_year", json_object_new_int(2034));
	json_object_object_add(card, "funding", json_object_new_string("credit"));
	json_object_object_add(card, "last4", json_object_new_string(last4));
	json_object_object_add(pm, "card", card);
	json_object_object_add(pm, "customer", json_object_new_string(ss_jstr(customer, "id")));
	json_object_object_add(pm, "type", json_object_new_string("card"));
	ss_store_put(SS_PAYMENT_METHOD, pm);
	if (bill_cards == NULL)
		bill_cards = json_object_new_object();
	json_object_object_add(bill_cards, ss_jstr(pm, "id"), json_object_new_string(number));
	ss_event_emit("payment_method.attached", pm, NULL);
	json_object_object_get_ex(customer, "invoice_settings", &is);
	prev = json_object_new_object();
	{
		struct json_object *old_is = NULL;

		if (json_object_deep_copy(is, &old_is, NULL) == 0)
			json_object_object_add(prev, "invoice_settings", old_is);
	}
	json_object_object_add(is, "default_payment_method",
	    json_object_new_string(ss_jstr(pm, "id")));
	ss_event_emit("customer.updated", customer, prev);
	return pm;
}

/* Charges the customer's default card: the outcome (SS_CARD_INVALID when it has none). */
static enum ss_card_outcome
bill_charge(struct json_object *customer)
{
	struct json_object *is = NULL, *num = NULL;
	const char *pm, *brand;
	char last4[5];
	enum ss_card_outcome o;

	json_object_object_get_ex(customer, "invoice_settings", &is);
	pm = ss_jstr(is, "default_payment_method");
	if (pm == NULL || bill_cards == NULL || !json_object_object_get_ex(bill_cards, pm, &num))
		return SS_CARD_INVALID;
	o = ss_card_check(json_object_get_string(num), &brand, last4);
	return o == SS_CARD_FAILS_LATER ? SS_CARD_DECLINED : o;
}

/* ---- invoices ------------------------------------------------------------------------------- */

static struct json_object *
bill_price_of(struct json_object *item)
{
	struct json_object *p = NULL;

	json_object_object_get_ex(item, "price", &p);
	return p;
}

static bool
bill_is_metered(struct json_object *price)
{
	struct json_object *rec = NULL;
	const char *u;

	json_object_object_get_ex(price, "recurring", &rec);
	u = ss_jstr(rec, "usage_type");
	return u != NULL && strcmp(u, "metered") == 0;
}

/* One invoice line for item of sub: amount cents for quantity over [start, end). */
static struct json_object *
bill_line(struct json_object *sub, struct json_object *item, const char *invoice_id,
    int64_t amount, int64_t quantity, int64_t start, int64_t end)
{
	struct json_object *price = bill_price_of(item), *l = ss_obj_new("il_", "line_item", true);
	struct json_object *o = json_object_new_object(), *d = json_object_new_object();
	char desc[256];

	json_object_object_del(l, "created");
	json_object_object_add(l, "amount", json_object_new_int64(amount));
	json_object_object_add(l, "currency", json_object_new_string("usd"));
	snprintf(desc, sizeof(desc), "%lld x %s", (long long)quantity,
	    ss_jstr(price, "nickname") != NULL ? ss_jstr(price, "nickname") : ss_jstr(price, "id"));
	json_object_object_add(l, "description", json_object_new_string(desc));
	json_object_object_add(l, "invoice", json_object_new_string(invoice_id));
	json_object_object_add(d, "proration", json_object_new_boolean(0));
	json_object_object_add(d, "subscription", json_object_new_string(ss_jstr(sub, "id")));
	json_object_object_add(d, "subscription_item", json_object_new_string(ss_jstr(item, "id")));
	json_object_object_add(o, "subscription_item_details", d);
	json_object_object_add(o, "type", json_object_new_string("subscription_item_details"));
	json_object_object_add(l, "parent", o);
	o = json_object_new_object();
	json_object_object_add(o, "end", json_object_new_int64(end));
	json_object_object_add(o, "start", json_object_new_int64(start));
	json_object_object_add(l, "period", o);
	o = json_object_new_object();
	d = json_object_new_object();
	json_object_object_add(d, "price", json_object_new_string(ss_jstr(price, "id")));
	json_object_object_add(d, "product", json_object_new_string(ss_jstr(price, "product")));
	json_object_object_add(o, "price_details", d);
	json_object_object_add(o, "type", json_object_new_string("price_details"));
	json_object_object_add(o, "unit_amount_decimal",
	    json_object_new_string(ss_jstr(price, "unit_amount_decimal")));
	json_object_object_add(l, "pricing", o);
	json_object_object_add(l, "quantity", json_object_new_int64(quantity));
	return l;
}

/*
 * The lines of a bill for sub: licensed items over [lic_start, lic_end) when with_licensed,
 * metered items' usage over [use_start, use_end) when with_metered. Caller owns the array.
 */
static struct json_object *
bill_lines(struct json_object *sub, const char *invoice_id, bool with_licensed, int64_t lic_start,
    int64_t lic_end, bool with_metered, int64_t use_start, int64_t use_end)
{
	struct json_object *items = NULL, *data = NULL, *lines = json_object_new_array();
	const char *cust = ss_jstr(sub, "customer");

	json_object_object_get_ex(sub, "items", &items);
	json_object_object_get_ex(items, "data", &data);
	for (size_t i = 0; i < json_object_array_length(data); i++) {
		struct json_object *it = json_object_array_get_idx(data, i), *price = bill_price_of(it);
		double unit = strtod(ss_jstr(price, "unit_amount_decimal"), NULL);

		if (bill_is_metered(price)) {
			struct json_object *rec = NULL, *meter;
			double usage;

			if (!with_metered)
				continue;
			json_object_object_get_ex(price, "recurring", &rec);
			meter = ss_store_get(SS_METER, ss_jstr(rec, "meter"));
			usage = meter != NULL ? ss_meter_usage(meter, cust, use_start, use_end) : 0;
			json_object_array_add(lines, bill_line(sub, it, invoice_id,
			    (int64_t)llround(usage * unit), (int64_t)llround(usage), use_start, use_end));
		} else if (with_licensed) {
			int64_t q = ss_jint(it, "quantity");

			json_object_array_add(lines, bill_line(sub, it, invoice_id,
			    (int64_t)llround(unit * (double)q), q, lic_start, lic_end));
		}
	}
	return lines;
}

/*
 * Creates, finalizes and pays (or fails to pay) an invoice of sub for reason over [start, end)
 * with lines built by bill_lines. Emits the invoice events. Returns true when paid.
 */
static bool
bill_invoice(struct json_object *sub, const char *reason, bool with_licensed, int64_t lic_start,
    int64_t lic_end, bool with_metered, int64_t use_start, int64_t use_end,
    struct json_object **out)
{
	struct json_object *customer = ss_store_get(SS_CUSTOMER, ss_jstr(sub, "customer"));
	struct json_object *inv = ss_obj_new("in_", "invoice", true), *lines, *o, *d, *st, *md;
	const char *id = ss_jstr(inv, "id");
	int64_t total = 0, now = ss_now(), seq;
	enum ss_card_outcome paid = SS_CARD_OK;
	char number[48], url[320];

	lines = bill_lines(sub, id, with_licensed, lic_start, lic_end, with_metered, use_start,
	    use_end);
	for (size_t i = 0; i < json_object_array_length(lines); i++)
		total += ss_jint(json_object_array_get_idx(lines, i), "amount");
	seq = ss_jint(customer, "next_invoice_sequence");
	snprintf(number, sizeof(number), "%s-%04lld", ss_jstr(customer, "invoice_prefix"),
	    (long long)seq);
	json_object_object_add(customer, "next_invoice_sequence", json_object_new_int64(seq + 1));
	json_object_object_add(inv, "account_country", json_object_new_string("US"));
	json_object_object_add(inv, "account_name", json_object_new_string("stripe-sim"));
	json_object_object_add(inv, "amount_due", json_object_new_int64(total));
	json_object_object_add(inv, "amount_overpaid", json_object_new_int(0));
	json_object_object_add(inv, "amount_paid", json_object_new_int(0));
	json_object_object_add(inv, "amount_remaining", json_object_new_int64(total));
	json_object_object_add(inv, "attempt_count", json_object_new_int(0));
	json_object_object_add(inv, "attempted", json_object_new_boolean(0));
	json_object_object_add(inv, "auto_advance", json_object_new_boolean(1));
	json_object_object_add(inv, "billing_reason", json_object_new_string(reason));
	json_object_object_add(inv, "collection_method",
	    json_object_new_string("charge_automatically"));
	json_object_object_add(inv, "currency", json_object_new_string("usd"));
	json_object_object_add(inv, "customer", json_object_new_string(ss_jstr(sub, "customer")));
	json_object_object_add(inv, "customer_email",
	    json_object_get(json_object_object_get(customer, "email")));
	json_object_object_add(inv, "hosted_invoice_url", NULL);
	json_object_object_add(inv, "invoice_pdf", NULL);
	o = json_object_new_object();
	json_object_object_add(o, "object", json_object_new_string("list"));
	json_object_object_add(o, "data", lines);
	json_object_object_add(o, "has_more", json_object_new_boolean(0));
	json_object_object_add(o, "total_count",
	    json_object_new_int64((int64_t)json_object_array_length(lines)));
	snprintf(url, sizeof(url), "/v1/invoices/%s/lines", id);
	json_object_object_add(o, "url", json_object_new_string(url));
	json_object_object_add(inv, "lines", o);
	json_object_object_add(inv, "next_payment_attempt", NULL);
	json_object_object_add(inv, "number", json_object_new_string(number));
	o = json_object_new_object();
	d = json_object_new_object();
	md = NULL;
	if (json_object_deep_copy(json_object_object_get(sub, "metadata"), &md, NULL) != 0)
		md = json_object_new_object();
	json_object_object_add(d, "metadata", md);
	json_object_object_add(d, "subscription", json_object_new_string(ss_jstr(sub, "id")));
	json_object_object_add(o, "quote_details", NULL);
	json_object_object_add(o, "subscription_details", d);
	json_object_object_add(o, "type", json_object_new_string("subscription_details"));
	json_object_object_add(inv, "parent", o);
	json_object_object_add(inv, "period_end", json_object_new_int64(use_end));
	json_object_object_add(inv, "period_start", json_object_new_int64(use_start));
	json_object_object_add(inv, "status", json_object_new_string("draft"));
	st = json_object_new_object();
	json_object_object_add(st, "finalized_at", NULL);
	json_object_object_add(st, "marked_uncollectible_at", NULL);
	json_object_object_add(st, "paid_at", NULL);
	json_object_object_add(st, "voided_at", NULL);
	json_object_object_add(inv, "status_transitions", st);
	json_object_object_add(inv, "subtotal", json_object_new_int64(total));
	json_object_object_add(inv, "total", json_object_new_int64(total));
	ss_store_put(SS_INVOICE, inv);
	json_object_object_add(sub, "latest_invoice", json_object_new_string(id));
	ss_event_emit("invoice.created", inv, NULL);
	json_object_object_add(inv, "status", json_object_new_string("open"));
	json_object_object_add(st, "finalized_at", json_object_new_int64(now));
	json_object_object_add(inv, "effective_at", json_object_new_int64(now));
	ss_event_emit("invoice.finalized", inv, NULL);
	if (total > 0) {
		paid = bill_charge(customer);
		json_object_object_add(inv, "attempt_count", json_object_new_int(1));
		json_object_object_add(inv, "attempted", json_object_new_boolean(1));
	}
	if (out != NULL)
		*out = inv;
	if (paid != SS_CARD_OK) {
		ss_event_emit("invoice.payment_failed", inv, NULL);
		return false;
	}
	json_object_object_add(inv, "status", json_object_new_string("paid"));
	json_object_object_add(inv, "amount_paid", json_object_new_int64(total));
	json_object_object_add(inv, "amount_remaining", json_object_new_int(0));
	json_object_object_add(st, "paid_at", json_object_new_int64(now));
	ss_event_emit("invoice.paid", inv, NULL);
	ss_event_emit("invoice.payment_succeeded", inv, NULL);
	return true;
}

/* ---- subscriptions -------------------------------------------------------------------------- */

static struct json_object *
bill_items(struct json_object *sub)
{
	struct json_object *items = NULL, *data = NULL;

	json_object_object_get_ex(sub, "items", &items);
	json_object_object_get_ex(items, "data", &data);
	return data;
}

struct json_object *
ss_subscription_price(struct json_object *sub)
{
	struct json_object *data = bill_items(sub);

	return json_object_array_length(data) > 0 ?
	    bill_price_of(json_object_array_get_idx(data, 0)) : NULL;
}

/* A subscription item for price (a copy of the price object) over [start, end). */
static struct json_object *
bill_item(struct json_object *sub, struct json_object *price, int64_t quantity, int64_t start,
    int64_t end)
{
	struct json_object *it = ss_obj_new("si_", "subscription_item", true), *pc = NULL;

	json_object_object_del(it, "livemode");
	json_object_object_add(it, "current_period_end", json_object_new_int64(end));
	json_object_object_add(it, "current_period_start", json_object_new_int64(start));
	if (json_object_deep_copy(price, &pc, NULL) != 0)
		pc = json_object_new_object();
	json_object_object_add(it, "price", pc);
	if (!bill_is_metered(price))
		json_object_object_add(it, "quantity", json_object_new_int64(quantity));
	json_object_object_add(it, "subscription", json_object_new_string(ss_jstr(sub, "id")));
	return it;
}

/* Sets every item's period. */
static void
bill_set_period(struct json_object *sub, int64_t start, int64_t end)
{
	struct json_object *data = bill_items(sub);

	for (size_t i = 0; i < json_object_array_length(data); i++) {
		struct json_object *it = json_object_array_get_idx(data, i);

		json_object_object_add(it, "current_period_start", json_object_new_int64(start));
		json_object_object_add(it, "current_period_end", json_object_new_int64(end));
	}
}

/* A copy of sub's items list, for previous_attributes. Caller owns it. */
static struct json_object *
bill_items_copy(struct json_object *sub)
{
	struct json_object *items = NULL, *copy = NULL;

	json_object_object_get_ex(sub, "items", &items);
	if (json_object_deep_copy(items, &copy, NULL) != 0)
		return NULL;
	return copy;
}

static void
bill_set_status(struct json_object *sub, const char *status, struct json_object *prev)
{
	const char *old = ss_jstr(sub, "status");

	if (old != NULL && strcmp(old, status) == 0)
		return;
	if (prev != NULL)
		json_object_object_add(prev, "status", old != NULL ? json_object_new_string(old) : NULL);
	json_object_object_add(sub, "status", json_object_new_string(status));
}

struct json_object *
ss_subscription_start(struct json_object *customer, struct json_object *items,
    struct json_object *metadata, struct json_object **invoice_out)
{
	struct json_object *sub = ss_obj_new("sub_", "subscription", true), *list, *data, *o, *inv;
	int64_t now = ss_now(), end = ss_add_months(now, 1);
	char url[128];
	bool paid;

	json_object_object_add(sub, "application", NULL);
	json_object_object_add(sub, "billing_cycle_anchor", json_object_new_int64(now));
	json_object_object_add(sub, "cancel_at", NULL);
	json_object_object_add(sub, "cancel_at_period_end", json_object_new_boolean(0));
	json_object_object_add(sub, "canceled_at", NULL);
	o = json_object_new_object();
	json_object_object_add(o, "comment", NULL);
	json_object_object_add(o, "feedback", NULL);
	json_object_object_add(o, "reason", NULL);
	json_object_object_add(sub, "cancellation_details", o);
	json_object_object_add(sub, "collection_method", json_object_new_string("charge_automatically"));
	json_object_object_add(sub, "currency", json_object_new_string("usd"));
	json_object_object_add(sub, "customer", json_object_new_string(ss_jstr(customer, "id")));
	json_object_object_add(sub, "default_payment_method", NULL);
	json_object_object_add(sub, "description", NULL);
	json_object_object_add(sub, "ended_at", NULL);
	list = json_object_new_object();
	data = json_object_new_array();
	for (size_t i = 0; i < json_object_array_length(items); i++) {
		struct json_object *li = json_object_array_get_idx(items, i);
		struct json_object *price = ss_store_get(SS_PRICE, ss_jstr(li, "price"));
		const char *q = ss_jstr(li, "quantity");

		if (price != NULL)
			json_object_array_add(data, bill_item(sub, price, q != NULL ? strtoll(q, NULL, 10) :
			    1, now, end));
	}
	json_object_object_add(list, "object", json_object_new_string("list"));
	json_object_object_add(list, "data", data);
	json_object_object_add(list, "has_more", json_object_new_boolean(0));
	json_object_object_add(list, "total_count",
	    json_object_new_int64((int64_t)json_object_array_length(data)));
	snprintf(url, sizeof(url), "/v1/subscription_items?subscription=%s", ss_jstr(sub, "id"));
	json_object_object_add(list, "url", json_object_new_string(url));
	json_object_object_add(sub, "items", list);
	json_object_object_add(sub, "latest_invoice", NULL);
	if (metadata != NULL && json_object_is_type(metadata, json_type_object)) {
		struct json_object *md = NULL;

		if (json_object_deep_copy(metadata, &md, NULL) == 0)
			json_object_object_add(sub, "metadata", md);
	}
	json_object_object_add(sub, "start_date", json_object_new_int64(now));
	json_object_object_add(sub, "status", json_object_new_string("incomplete"));
	json_object_object_add(sub, "trial_end", NULL);
	json_object_object_add(sub, "trial_start", NULL);
	ss_store_put(SS_SUBSCRIPTION, sub);
	ss_event_emit("customer.subscription.created", sub, NULL);
	paid = bill_invoice(sub, "subscription_create", true, now, end, false, now, now, &inv);
	if (invoice_out != NULL)
		*invoice_out = inv;
	if (paid) {
		struct json_object *prev = json_object_new_object();

		bill_set_status(sub, "active", prev);
		ss_event_emit("customer.subscription.updated", sub, prev);
	}
	return sub;
}

/* Ends sub now (or at its period end when renewing), emitting customer.subscription.deleted. */
static void
bill_end(struct json_object *sub, int64_t at)
{
	struct json_object *cd = NULL;

	json_object_object_add(sub, "status", json_object_new_string("canceled"));
	json_object_object_add(sub, "ended_at", json_object_new_int64(at));
	if (json_object_get_type(json_object_object_get(sub, "canceled_at")) == json_type_null)
		json_object_object_add(sub, "canceled_at", json_object_new_int64(at));
	json_object_object_get_ex(sub, "cancellation_details", &cd);
	if (cd != NULL)
		json_object_object_add(cd, "reason", json_object_new_string("cancellation_requested"));
	ss_event_emit("customer.subscription.deleted", sub, NULL);
}

/* Renews sub once: its period [start, end) has ended. */
static void
bill_renew(struct json_object *sub, int64_t start, int64_t end)
{
	struct json_object *prev, *data = bill_items(sub);
	int64_t next = ss_add_months(end, 1);
	bool metered = false, paid;

	for (size_t i = 0; i < json_object_array_length(data); i++)
		if (bill_is_metered(bill_price_of(json_object_array_get_idx(data, i))))
			metered = true;
	if (json_object_get_boolean(json_object_object_get(sub, "cancel_at_period_end"))) {
		/* the last period's metered usage is still billed */
		if (metered)
			bill_invoice(sub, "subscription_cycle", false, end, end, true, start, end, NULL);
		bill_end(sub, end);
		return;
	}
	prev = json_object_new_object();
	json_object_object_add(prev, "items", bill_items_copy(sub));
	json_object_object_add(prev, "latest_invoice",
	    json_object_get(json_object_object_get(sub, "latest_invoice")));
	bill_set_period(sub, end, next);
	ss_event_emit("customer.subscription.updated", sub, prev);
	paid = bill_invoice(sub, "subscription_cycle", true, end, next, metered, start, end, NULL);
	prev = json_object_new_object();
	bill_set_status(sub, paid ? "active" : "past_due", prev);
	if (json_object_object_length(prev) > 0)
		ss_event_emit("customer.subscription.updated", sub, prev);
	else
		json_object_put(prev);
}

void
ss_billing_run(void)
{
	struct json_object *all = ss_store_all(SS_SUBSCRIPTION);
	int64_t now = ss_now();

	for (size_t i = 0; i < json_object_array_length(all); i++) {
		struct json_object *sub = json_object_array_get_idx(all, i);

		for (int guard = 0; guard < 1200; guard++) {
			const char *st = ss_jstr(sub, "status");
			struct json_object *it, *data;
			int64_t start, end;

			if (strcmp(st, "active") != 0 && strcmp(st, "past_due") != 0)
				break;
			data = bill_items(sub);
			if (json_object_array_length(data) == 0)
				break;
			it = json_object_array_get_idx(data, 0);
			start = ss_jint(it, "current_period_start");
			end = ss_jint(it, "current_period_end");
			if (end > now)
				break;
			bill_renew(sub, start, end);
		}
	}
}

void
ss_subscription_cancel_now(struct json_object *sub)
{
	bill_end(sub, ss_now());
}

void
ss_subscription_set_cancel(struct json_object *sub, bool at_period_end)
{
	struct json_object *prev = json_object_new_object(), *data = bill_items(sub);
	int64_t end = json_object_array_length(data) > 0 ?
	    ss_jint(json_object_array_get_idx(data, 0), "current_period_end") : ss_now();

	json_object_object_add(prev, "cancel_at_period_end",
	    json_object_get(json_object_object_get(sub, "cancel_at_period_end")));
	json_object_object_add(prev, "cancel_at", json_object_get(json_object_object_get(sub,
	    "cancel_at")));
	json_object_object_add(prev, "canceled_at", json_object_get(json_object_object_get(sub,
	    "canceled_at")));
	json_object_object_add(sub, "cancel_at_period_end", json_object_new_boolean(at_period_end));
	json_object_object_add(sub, "cancel_at", at_period_end ? json_object_new_int64(end) : NULL);
	json_object_object_add(sub, "canceled_at",
	    at_period_end ? json_object_new_int64(ss_now()) : NULL);
	ss_event_emit("customer.subscription.updated", sub, prev);
}

int
ss_subscription_switch(struct json_object *sub, struct json_object *price)
{
	struct json_object *data = bill_items(sub), *prev, *old, *it;
	int64_t now = ss_now(), end = ss_add_months(now, 1), start;
	bool old_metered;

	if (price == NULL || json_object_array_length(data) == 0)
		return -1;
	old = json_object_array_get_idx(data, 0);
	start = ss_jint(old, "current_period_start");
	old_metered = bill_is_metered(bill_price_of(old));
	/* the usage so far of a metered price is billed with the new price's first period */
	if (old_metered)
		bill_invoice(sub, "subscription_update", false, now, now, true, start, now, NULL);
	prev = json_object_new_object();
	json_object_object_add(prev, "items", bill_items_copy(sub));
	it = bill_item(sub, price, 1, now, end);
	json_object_array_put_idx(data, 0, it);
	while (json_object_array_length(data) > 1)
		json_object_array_del_idx(data, 1, 1);
	json_object_object_add(sub, "billing_cycle_anchor", json_object_new_int64(now));
	ss_event_emit("customer.subscription.updated", sub, prev);
	if (!bill_is_metered(price)) {
		bool paid = bill_invoice(sub, "subscription_update", true, now, end, false, now, now, NULL);
		prev = json_object_new_object();
		bill_set_status(sub, paid ? "active" : "past_due", prev);
		if (json_object_object_length(prev) > 0)
			ss_event_emit("customer.subscription.updated", sub, prev);
		else
			json_object_put(prev);
	}
	return 0;
}

void
ss_billing_free(void)
{
	json_object_put(bill_cards);
	bill_cards = NULL;
}
