/*
 * checkout: Checkout Sessions and their hosted page. POST /v1/checkout/sessions (mode
 * subscription or payment, line_items[i][price]/[quantity], success_url with an optional
 * {CHECKOUT_SESSION_ID}, cancel_url, customer or customer_email, client_reference_id,
 * metadata, subscription_data[metadata]) answers a session whose url opens the sim's page
 * /c/pay/{id}. The page is a plain form (ids as on Stripe's page: email, cardNumber,
 * cardExpiry, cardCvc, billingName); POSTing it with a test card completes the session:
 * 4242 4242 4242 4242 pays, creates the customer (if none), the subscription and its paid
 * invoice, emits checkout.session.completed and redirects (303) to success_url with the
 * session id filled in; 4000 0000 0000 0002 is declined (402, the page again, the session
 * stays open). GET/list/expire as on Stripe; an open session past expires_at (24 h on the sim
 * clock) expires when next touched.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ss.h"

#define CO_TTL_S 86400

/* session id -> its line items [{"price","quantity"}], which Stripe keeps off the session */
static struct json_object *co_items;

static bool
co_url_ok(const char *u)
{
	return u != NULL && (strncmp(u, "http://", 7) == 0 || strncmp(u, "https://", 8) == 0) &&
	    strlen(u) < 5000 && strpbrk(u, " \t\r\n\"<>") == NULL;
}

/* Validates line_items for mode; sets *total (cents). 0, or -1 replied. */
static int
co_check_items(struct hsrv_req *r, struct json_object *items, const char *mode, int64_t *total)
{
	bool any_recurring = false;
	char name[64];

	*total = 0;
	if (items == NULL || !json_object_is_type(items, json_type_array) ||
	    json_object_array_length(items) == 0) {
		ss_missing_param(r, "line_items");
		return -1;
	}
	for (size_t i = 0; i < json_object_array_length(items); i++) {
		struct json_object *it = json_object_array_get_idx(items, i), *price, *rec = NULL;
		const char *pid = ss_jstr(it, "price"), *q = ss_jstr(it, "quantity");
		bool metered;

		snprintf(name, sizeof(name), "line_items[%zu][price]", i);
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
		metered = rec != NULL && ss_jstr(rec, "usage_type") != NULL &&
		    strcmp(ss_jstr(rec, "usage_type"), "metered") == 0;
		if (rec != NULL && json_object_get_type(rec) != json_type_null)
			any_recurring = true;
		if (rec != NULL && json_object_get_type(rec) != json_type_null &&
		    strcmp(mode, "payment") == 0) {
			ss_invalid_param(r, name, "parameter_invalid_string",
			    "You specified `payment` mode but passed a recurring price. Either switch to "
			    "`subscription` mode or use only one-time prices.");
			return -1;
		}
		snprintf(name, sizeof(name), "line_items[%zu][quantity]", i);
		if (metered && q != NULL) {
			ss_invalid_param(r, name, "parameter_invalid_integer",
			    "Quantity should not be specified where usage_type is `metered`. Remove "
			    "quantity from `line_items[0]`.");
			return -1;
		}
		if (!metered && q == NULL) {
			ss_missing_param(r, name);
			return -1;
		}
		if (q != NULL && (strspn(q, "0123456789") != strlen(q) || strtoll(q, NULL, 10) < 1 ||
		    strlen(q) > 6)) {
			ss_invalid_param(r, name, "parameter_invalid_integer", "Invalid integer: quantity");
			return -1;
		}
		if (!metered)
			*total += ss_jint(price, "unit_amount") * strtoll(q, NULL, 10);
	}
	if (strcmp(mode, "subscription") == 0 && !any_recurring) {
		ss_invalid_param(r, "line_items", "parameter_invalid_string",
		    "You must provide at least one recurring price in `subscription` mode when using "
		    "prices.");
		return -1;
	}
	return 0;
}

void
ss_checkout_create(struct hsrv_req *r)
{
	struct json_object *params = ss_params(r), *items = NULL, *s, *copy = NULL, *sd = NULL;
	const char *mode = ss_param(r, "mode"), *success = ss_param(r, "success_url");
	const char *cancel = ss_param(r, "cancel_url"), *cust = ss_param(r, "customer");
	const char *email = ss_param(r, "customer_email"), *ref = ss_param(r, "client_reference_id");
	int64_t total = 0;
	char url[512], id[64];

	if (mode == NULL) {
		ss_missing_param(r, "mode");
		return;
	}
	if (strcmp(mode, "subscription") != 0 && strcmp(mode, "payment") != 0) {
		ss_invalid_param(r, "mode", "parameter_invalid_string",
		    "stripe-sim supports mode subscription and payment.");
		return;
	}
	if (success == NULL) {
		ss_missing_param(r, "success_url");
		return;
	}
	if (!co_url_ok(success) || (cancel != NULL && !co_url_ok(cancel))) {
		ss_invalid_param(r, co_url_ok(success) ? "cancel_url" : "success_url", "url_invalid",
		    "Not a valid URL");
		return;
	}
	if (cust != NULL && email != NULL) {
		ss_error(r, 400, "invalid_request_error", NULL, "customer_email",
		    "You may only specify one of these parameters: customer, customer_email.");
		return;
	}
	if (cust != NULL && (ss_store_get(SS_CUSTOMER, cust) == NULL ||
	    json_object_object_get(ss_store_get(SS_CUSTOMER, cust), "deleted") != NULL)) {
		ss_no_such(r, "customer", "customer", cust);
		return;
	}
	if (ref != NULL && strlen(ref) > 200) {
		ss_invalid_param(r, "client_reference_id", "parameter_invalid_string",
		    "client_reference_id must be at most 200 characters.");
		return;
	}
	json_object_object_get_ex(params, "line_items", &items);
	if (co_check_items(r, items, mode, &total) < 0)
		return;
	s = ss_obj_new("cs_test_", "checkout.session", true);
	snprintf(id, sizeof(id), "%s", ss_jstr(s, "id"));
	json_object_object_add(s, "after_expiration", NULL);
	json_object_object_add(s, "allow_promotion_codes", NULL);
	json_object_object_add(s, "amount_subtotal", json_object_new_int64(total));
	json_object_object_add(s, "amount_total", json_object_new_int64(total));
	json_object_object_add(s, "billing_address_collection", NULL);
	json_object_object_add(s, "cancel_url", cancel != NULL ? json_object_new_string(cancel) : NULL);
	json_object_object_add(s, "client_reference_id",
	    ref != NULL ? json_object_new_string(ref) : NULL);
	json_object_object_add(s, "currency", json_object_new_string("usd"));
	json_object_object_add(s, "customer", cust != NULL ? json_object_new_string(cust) : NULL);
	json_object_object_add(s, "customer_creation", cust != NULL || strcmp(mode,
	    "subscription") != 0 ? NULL : json_object_new_string("always"));
	json_object_object_add(s, "customer_details", NULL);
	json_object_object_add(s, "customer_email", email != NULL ? json_object_new_string(email) :
	    NULL);
	json_object_object_add(s, "expires_at", json_object_new_int64(ss_now() + CO_TTL_S));
	json_object_object_add(s, "invoice", NULL);
	json_object_object_add(s, "locale", NULL);
	json_object_object_add(s, "mode", json_object_new_string(mode));
	json_object_object_add(s, "payment_intent", NULL);
	json_object_object_add(s, "payment_method_types", json_object_new_array());
	json_object_array_add(json_object_object_get(s, "payment_method_types"),
	    json_object_new_string("card"));
	json_object_object_add(s, "payment_status", json_object_new_string("unpaid"));
	json_object_object_add(s, "status", json_object_new_string("open"));
	json_object_object_add(s, "submit_type", NULL);
	json_object_object_add(s, "subscription", NULL);
	json_object_object_add(s, "success_url", json_object_new_string(success));
	json_object_object_add(s, "ui_mode", json_object_new_string("hosted"));
	snprintf(url, sizeof(url), "%s/c/pay/%s", ss_base_url, id);
	json_object_object_add(s, "url", json_object_new_string(url));
	if (ss_apply_metadata(r, s) < 0) {
		json_object_put(s);
		return;
	}
	if (co_items == NULL)
		co_items = json_object_new_object();
	if (json_object_deep_copy(items, &copy, NULL) == 0)
		json_object_object_add(co_items, id, copy);
	/* subscription_data[metadata] goes on the subscription; kept beside the items */
	if (json_object_object_get_ex(params, "subscription_data", &sd)) {
		struct json_object *md = NULL, *mdc = NULL;

		if (json_object_object_get_ex(sd, "metadata", &md) &&
		    json_object_deep_copy(md, &mdc, NULL) == 0) {
			char key[80];

			snprintf(key, sizeof(key), "%s.metadata", id);
			json_object_object_add(co_items, key, mdc);
		}
	}
	ss_store_put(SS_CHECKOUT, s);
	ss_reply(r, s);
}

/* Expires s if its time has come (on the sim clock). */
static void
co_maybe_expire(struct json_object *s)
{
	if (strcmp(ss_jstr(s, "status"), "open") != 0 || ss_jint(s, "expires_at") > ss_now())
		return;
	json_object_object_add(s, "status", json_object_new_string("expired"));
	ss_event_emit("checkout.session.expired", s, NULL);
}

static struct json_object *
co_find(struct hsrv_req *r, bool api)
{
	struct json_object *s = ss_store_get(SS_CHECKOUT, hsrv_seg(r, 0));

	if (s == NULL) {
		if (api)
			ss_no_such(r, "checkout.session", "session", hsrv_seg(r, 0));
		else
			hsrv_reply(r, 404, "text/plain", "No such Checkout Session\n", 26);
		return NULL;
	}
	co_maybe_expire(s);
	return s;
}

void
ss_checkout_get(struct hsrv_req *r)
{
	struct json_object *s = co_find(r, true);

	if (s != NULL)
		ss_reply(r, s);
}

void
ss_checkout_list(struct hsrv_req *r)
{
	static const struct ss_filter f[] = {
		{ "customer", "customer" }, { "subscription", "subscription" }, { "status", "status" },
		{ "payment_intent", "payment_intent" },
	};

	ss_checkout_sweep();
	ss_reply_filtered(r, SS_CHECKOUT, f, sizeof(f) / sizeof(f[0]), NULL, "/v1/checkout/sessions");
}

void
ss_checkout_expire(struct hsrv_req *r)
{
	struct json_object *s = co_find(r, true);

	if (s == NULL)
		return;
	if (strcmp(ss_jstr(s, "status"), "open") != 0) {
		ss_error(r, 400, "invalid_request_error", NULL, NULL,
		    "Only Checkout Sessions with a status in [\"open\"] can be expired.");
		return;
	}
	json_object_object_add(s, "status", json_object_new_string("expired"));
	ss_event_emit("checkout.session.expired", s, NULL);
	ss_reply(r, s);
}

/* The page: the items, the form, and error (NULL when none). */
static void
co_page(struct hsrv_req *r, struct json_object *s, int status, const char *error)
{
	struct json_object *items = NULL;
	const char *st = ss_jstr(s, "status"), *cancel = ss_jstr(s, "cancel_url");
	const char *email = ss_jstr(s, "customer_email");
	struct sbuf b = { 0 };

	ss_page_begin(&b, "Checkout");
	if (strcmp(st, "open") != 0) {
		sbuf_str(&b, strcmp(st, "complete") == 0 ?
		    "<p id=\"status\">This Checkout Session is complete. Thank you.</p>" :
		    "<p id=\"status\">This Checkout Session is no longer active.</p>");
		ss_page_reply(r, strcmp(st, "complete") == 0 ? 200 : 410, &b);
		return;
	}
	if (co_items != NULL)
		json_object_object_get_ex(co_items, ss_jstr(s, "id"), &items);
	sbuf_str(&b, "<ul id=\"items\">");
	for (size_t i = 0; i < json_object_array_length(items); i++) {
		struct json_object *it = json_object_array_get_idx(items, i);
		struct json_object *p = ss_store_get(SS_PRICE, ss_jstr(it, "price")), *rec = NULL;

		if (p == NULL)
			continue;
		json_object_object_get_ex(p, "recurring", &rec);
		sbuf_str(&b, "<li>");
		sbuf_html_str(&b, ss_jstr(p, "nickname") != NULL ? ss_jstr(p, "nickname") :
		    ss_jstr(p, "id"));
		sbuf_str(&b, ": ");
		ss_page_money(&b, ss_jstr(p, "unit_amount_decimal"), ss_jint(p, "unit_amount"));
		if (ss_jstr(rec, "usage_type") != NULL &&
		    strcmp(ss_jstr(rec, "usage_type"), "metered") == 0)
			sbuf_str(&b, " per unit, billed monthly for usage");
		else if (rec != NULL && json_object_get_type(rec) != json_type_null)
			sbuf_str(&b, " per month");
		sbuf_str(&b, "</li>");
	}
	sbuf_str(&b, "</ul><p>Total due today: <span id=\"total\">");
	ss_page_money(&b, NULL, ss_jint(s, "amount_total"));
	sbuf_str(&b, "</span></p>");
	if (error != NULL) {
		sbuf_str(&b, "<p class=\"error\" id=\"error\" role=\"alert\">");
		sbuf_html_str(&b, error);
		sbuf_str(&b, "</p>");
	}
	sbuf_str(&b, "<form method=\"post\" action=\"/c/pay/");
	sbuf_html_str(&b, ss_jstr(s, "id"));
	sbuf_str(&b, "\"><label>Email <input id=\"email\" name=\"email\" type=\"email\" value=\"");
	sbuf_html_str(&b, email != NULL ? email : "");
	sbuf_str(&b, "\"></label><label>Card number <input id=\"cardNumber\" name=\"cardNumber\" "
	    "inputmode=\"numeric\" autocomplete=\"cc-number\" placeholder=\"1234 1234 1234 1234\">"
	    "</label><label>Expiration <input id=\"cardExpiry\" name=\"cardExpiry\" "
	    "placeholder=\"MM / YY\"></label><label>CVC <input id=\"cardCvc\" name=\"cardCvc\" "
	    "placeholder=\"CVC\"></label><label>Cardholder name <input id=\"billingName\" "
	    "name=\"billingName\"></label><button id=\"submit\" type=\"submit\">");
	sbuf_str(&b, strcmp(ss_jstr(s, "mode"), "subscription") == 0 ? "Subscribe" : "Pay");
	sbuf_str(&b, "</button></form>");
	if (cancel != NULL) {
		sbuf_str(&b, "<p><a id=\"cancel\" href=\"");
		sbuf_html_str(&b, cancel);
		sbuf_str(&b, "\">Cancel and go back</a></p>");
	}
	ss_page_reply(r, status, &b);
}

void
ss_checkout_page(struct hsrv_req *r)
{
	struct json_object *s = co_find(r, false);

	if (s != NULL)
		co_page(r, s, 200, NULL);
}

/* "MM / YY", "MM/YY" or "MM/YYYY", not in the past of the sim clock. */
static bool
co_expiry_ok(const char *e)
{
	int m = 0, y = 0, n = 0;
	char clean[16];
	size_t k = 0;
	time_t now = (time_t)ss_now();
	struct tm tm;

	for (; *e != '\0' && k + 1 < sizeof(clean); e++)
		if (*e != ' ')
			clean[k++] = *e;
	clean[k] = '\0';
	if (sscanf(clean, "%2d/%4d%n", &m, &y, &n) != 2 || clean[n] != '\0' || m < 1 || m > 12)
		return false;
	if (y < 100)
		y += 2000;
	gmtime_r(&now, &tm);
	return y > tm.tm_year + 1900 || (y == tm.tm_year + 1900 && m >= tm.tm_mon + 1);
}

/* success_url with every {CHECKOUT_SESSION_ID} replaced by id. */
static void
co_success_url(const char *tmpl, const char *id, struct sbuf *b)
{
	static const char mark[] = "{CHECKOUT_SESSION_ID}";
	const char *p = tmpl, *q;

	while ((q = strstr(p, mark)) != NULL) {
		sbuf_add(b, p, (size_t)(q - p));
		sbuf_str(b, id);
		p = q + sizeof(mark) - 1;
	}
	sbuf_str(b, p);
}

void
ss_checkout_pay(struct hsrv_req *r)
{
	struct json_object *s = co_find(r, false), *cust, *items = NULL, *md = NULL, *inv = NULL;
	struct json_object *details;
	const char *number = ss_param(r, "cardNumber"), *email = ss_param(r, "email");
	const char *name = ss_param(r, "billingName"), *cvc = ss_param(r, "cardCvc");
	const char *expiry = ss_param(r, "cardExpiry"), *brand;
	enum ss_card_outcome outcome;
	struct sbuf url = { 0 };
	char last4[5];

	if (s == NULL)
		return;
	if (strcmp(ss_jstr(s, "status"), "open") != 0) {
		co_page(r, s, 200, NULL);
		return;
	}
	if (email == NULL || *email == '\0')
		email = ss_jstr(s, "customer_email");
	if (ss_jstr(s, "customer") == NULL && (email == NULL || strchr(email, '@') == NULL)) {
		co_page(r, s, 400, "Your email is incomplete.");
		return;
	}
	if (number == NULL || *number == '\0') {
		co_page(r, s, 400, "Your card number is incomplete.");
		return;
	}
	if (expiry == NULL || !co_expiry_ok(expiry)) {
		co_page(r, s, 400, "Your card's expiration date is incomplete or in the past.");
		return;
	}
	if (cvc == NULL || strlen(cvc) < 3 || strlen(cvc) > 4 || strspn(cvc, "0123456789") !=
	    strlen(cvc)) {
		co_page(r, s, 400, "Your card's security code is incomplete.");
		return;
	}
	outcome = ss_card_check(number, &brand, last4);
	if (outcome != SS_CARD_OK) {
		/* Checkout charges at once, so a card that fails later fails here */
		co_page(r, s, outcome == SS_CARD_INVALID ? 400 : 402, ss_card_message(outcome));
		return;
	}
	cust = ss_store_get(SS_CUSTOMER, ss_jstr(s, "customer"));
	if (cust == NULL) {
		cust = ss_customer_new(email, name);
		json_object_object_add(s, "customer", json_object_new_string(ss_jstr(cust, "id")));
	}
	ss_attach_card(cust, number, &outcome);
	details = json_object_new_object();
	json_object_object_add(details, "email", json_object_get(json_object_object_get(cust,
	    "email")));
	json_object_object_add(details, "name", name != NULL && *name != '\0' ?
	    json_object_new_string(name) : NULL);
	json_object_object_add(s, "customer_details", details);
	if (strcmp(ss_jstr(s, "mode"), "subscription") == 0) {
		struct json_object *sub;
		char key[80];

		json_object_object_get_ex(co_items, ss_jstr(s, "id"), &items);
		snprintf(key, sizeof(key), "%s.metadata", ss_jstr(s, "id"));
		json_object_object_get_ex(co_items, key, &md);
		sub = ss_subscription_start(cust, items, md, &inv);
		json_object_object_add(s, "subscription", json_object_new_string(ss_jstr(sub, "id")));
		if (inv != NULL)
			json_object_object_add(s, "invoice", json_object_new_string(ss_jstr(inv, "id")));
	} else {
		char pi[64];

		ss_new_id("pi_", pi);
		json_object_object_add(s, "payment_intent", json_object_new_string(pi));
	}
	json_object_object_add(s, "status", json_object_new_string("complete"));
	json_object_object_add(s, "payment_status", json_object_new_string("paid"));
	ss_event_emit("checkout.session.completed", s, NULL);
	co_success_url(ss_jstr(s, "success_url"), ss_jstr(s, "id"), &url);
	ss_redirect(r, url.p != NULL ? url.p : "/");
	sbuf_free(&url);
}

void
ss_checkout_sweep(void)
{
	struct json_object *all = ss_store_all(SS_CHECKOUT);

	for (size_t i = 0; i < json_object_array_length(all); i++)
		co_maybe_expire(json_object_array_get_idx(all, i));
}

void
ss_checkout_free(void)
{
	json_object_put(co_items);
	co_items = NULL;
}
