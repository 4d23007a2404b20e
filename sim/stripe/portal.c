/*
 * portal: billing portal sessions and their page. POST /v1/billing_portal/sessions (customer,
 * return_url) answers a bps_ session whose url opens /p/session/{id}: the customer's
 * subscriptions with their plan, status and period end, and forms to cancel at the period end
 * (as Stripe's portal does by default), to undo that, to switch to another recurring price,
 * and to replace the card. Each form POSTs back to the page, which acts through billing.c
 * (emitting the same events as the API) and redirects (303) to the page again.
 */
#include <stdio.h>
#include <string.h>

#include "ss.h"

void
ss_portal_create(struct hsrv_req *r)
{
	const char *cust = ss_param(r, "customer"), *ret = ss_param(r, "return_url");
	struct json_object *s, *c;
	char url[512];

	if (cust == NULL) {
		ss_missing_param(r, "customer");
		return;
	}
	c = ss_store_get(SS_CUSTOMER, cust);
	if (c == NULL || json_object_object_get(c, "deleted") != NULL) {
		ss_no_such(r, "customer", "customer", cust);
		return;
	}
	if (ret != NULL && strncmp(ret, "http://", 7) != 0 && strncmp(ret, "https://", 8) != 0) {
		ss_invalid_param(r, "return_url", "url_invalid", "Not a valid URL");
		return;
	}
	s = ss_obj_new("bps_", "billing_portal.session", false);
	json_object_object_add(s, "configuration", json_object_new_string("bpc_stripe_sim"));
	json_object_object_add(s, "customer", json_object_new_string(cust));
	json_object_object_add(s, "flow", NULL);
	json_object_object_add(s, "locale", NULL);
	json_object_object_add(s, "on_behalf_of", NULL);
	json_object_object_add(s, "return_url", ret != NULL ? json_object_new_string(ret) : NULL);
	snprintf(url, sizeof(url), "%s/p/session/%s", ss_base_url, ss_jstr(s, "id"));
	json_object_object_add(s, "url", json_object_new_string(url));
	ss_store_put(SS_PORTAL, s);
	ss_reply(r, s);
}

static struct json_object *
portal_find(struct hsrv_req *r)
{
	struct json_object *s = ss_store_get(SS_PORTAL, hsrv_seg(r, 0));

	if (s == NULL)
		hsrv_reply(r, 404, "text/plain", "No such portal session\n", 23);
	return s;
}

/* A form of one button posting action (and sub, price) back to the page. */
static void
portal_form(struct sbuf *b, const char *sid, const char *action, const char *sub,
    const char *price, const char *label)
{
	sbuf_str(b, "<form method=\"post\" action=\"/p/session/");
	sbuf_html_str(b, sid);
	sbuf_str(b, "\"><input type=\"hidden\" name=\"action\" value=\"");
	sbuf_html_str(b, action);
	sbuf_str(b, "\"><input type=\"hidden\" name=\"subscription\" value=\"");
	sbuf_html_str(b, sub);
	sbuf_str(b, "\">");
	if (price != NULL) {
		sbuf_str(b, "<input type=\"hidden\" name=\"price\" value=\"");
		sbuf_html_str(b, price);
		sbuf_str(b, "\">");
	}
	sbuf_printf(b, "<button type=\"submit\" id=\"%s-", action);
	sbuf_html_str(b, price != NULL ? price : sub);
	sbuf_str(b, "\">");
	sbuf_html_str(b, label);
	sbuf_str(b, "</button></form>");
}

static void
portal_page(struct hsrv_req *r, struct json_object *s, int status, const char *error)
{
	struct json_object *subs = ss_store_all(SS_SUBSCRIPTION), *prices = ss_store_all(SS_PRICE);
	const char *cust = ss_jstr(s, "customer"), *sid = ss_jstr(s, "id"), *ret;
	struct json_object *c = ss_store_get(SS_CUSTOMER, cust);
	struct sbuf b = { 0 };
	int shown = 0;

	ss_page_begin(&b, "Billing");
	sbuf_str(&b, "<p>Signed in as <span id=\"customer-email\">");
	sbuf_html_str(&b, ss_jstr(c, "email") != NULL ? ss_jstr(c, "email") : cust);
	sbuf_str(&b, "</span></p>");
	if (error != NULL) {
		sbuf_str(&b, "<p class=\"error\" id=\"error\" role=\"alert\">");
		sbuf_html_str(&b, error);
		sbuf_str(&b, "</p>");
	}
	for (size_t i = 0; i < json_object_array_length(subs); i++) {
		struct json_object *sub = json_object_array_get_idx(subs, i), *p, *it;
		const char *st = ss_jstr(sub, "status"), *subid = ss_jstr(sub, "id");

		if (strcmp(ss_jstr(sub, "customer"), cust) != 0 || strcmp(st, "canceled") == 0)
			continue;
		shown++;
		p = ss_subscription_price(sub);
		it = json_object_array_get_idx(json_object_object_get(json_object_object_get(sub,
		    "items"), "data"), 0);
		sbuf_str(&b, "<section class=\"subscription\" id=\"");
		sbuf_html_str(&b, subid);
		sbuf_str(&b, "\"><h2>");
		sbuf_html_str(&b, p != NULL && ss_jstr(p, "nickname") != NULL ? ss_jstr(p, "nickname") :
		    "Subscription");
		sbuf_str(&b, "</h2><p>Status: <span class=\"status\">");
		sbuf_html_str(&b, st);
		sbuf_str(&b, "</span></p><p>");
		if (json_object_get_boolean(json_object_object_get(sub, "cancel_at_period_end"))) {
			sbuf_str(&b, "Cancels on ");
			ss_page_date(&b, ss_jint(it, "current_period_end"));
			sbuf_str(&b, "</p>");
			portal_form(&b, sid, "renew", subid, NULL, "Renew plan");
		} else {
			sbuf_str(&b, "Renews on ");
			ss_page_date(&b, ss_jint(it, "current_period_end"));
			sbuf_str(&b, "</p>");
			portal_form(&b, sid, "cancel", subid, NULL, "Cancel plan");
		}
		for (size_t j = 0; j < json_object_array_length(prices); j++) {
			struct json_object *q = json_object_array_get_idx(prices, j), *rec = NULL;
			char label[160];

			json_object_object_get_ex(q, "recurring", &rec);
			if (rec == NULL || json_object_get_type(rec) == json_type_null ||
			    (p != NULL && strcmp(ss_jstr(q, "id"), ss_jstr(p, "id")) == 0))
				continue;
			snprintf(label, sizeof(label), "Switch to %s", ss_jstr(q, "nickname") != NULL ?
			    ss_jstr(q, "nickname") : ss_jstr(q, "id"));
			portal_form(&b, sid, "switch", subid, ss_jstr(q, "id"), label);
		}
		sbuf_str(&b, "</section>");
	}
	if (shown == 0)
		sbuf_str(&b, "<p id=\"no-subscriptions\">No active subscriptions.</p>");
	sbuf_str(&b, "<h2>Payment method</h2><form method=\"post\" action=\"/p/session/");
	sbuf_html_str(&b, sid);
	sbuf_str(&b, "\"><input type=\"hidden\" name=\"action\" value=\"card\"><label>Card number "
	    "<input id=\"cardNumber\" name=\"cardNumber\"></label><button id=\"update-card\" "
	    "type=\"submit\">Update card</button></form>");
	ret = ss_jstr(s, "return_url");
	if (ret != NULL) {
		sbuf_str(&b, "<p><a id=\"return\" href=\"");
		sbuf_html_str(&b, ret);
		sbuf_str(&b, "\">Return</a></p>");
	}
	ss_page_reply(r, status, &b);
}

void
ss_portal_page(struct hsrv_req *r)
{
	struct json_object *s = portal_find(r);

	if (s != NULL)
		portal_page(r, s, 200, NULL);
}

void
ss_portal_action(struct hsrv_req *r)
{
	struct json_object *s = portal_find(r), *sub;
	const char *action = ss_param(r, "action"), *subid = ss_param(r, "subscription");
	char self[256];

	if (s == NULL)
		return;
	if (action == NULL) {
		portal_page(r, s, 400, "No action.");
		return;
	}
	if (strcmp(action, "card") == 0) {
		enum ss_card_outcome o;
		const char *num = ss_param(r, "cardNumber");

		if (num == NULL || ss_attach_card(ss_store_get(SS_CUSTOMER, ss_jstr(s, "customer")),
		    num, &o) == NULL) {
			portal_page(r, s, 402, num == NULL ? "Your card number is incomplete." :
			    ss_card_message(o));
			return;
		}
		goto done;
	}
	sub = ss_store_get(SS_SUBSCRIPTION, subid);
	if (sub == NULL || strcmp(ss_jstr(sub, "customer"), ss_jstr(s, "customer")) != 0 ||
	    strcmp(ss_jstr(sub, "status"), "canceled") == 0) {
		portal_page(r, s, 404, "No such subscription.");
		return;
	}
	if (strcmp(action, "cancel") == 0) {
		ss_subscription_set_cancel(sub, true);
	} else if (strcmp(action, "renew") == 0) {
		ss_subscription_set_cancel(sub, false);
	} else if (strcmp(action, "switch") == 0) {
		if (ss_subscription_switch(sub, ss_store_get(SS_PRICE, ss_param(r, "price"))) < 0) {
			portal_page(r, s, 400, "No such price.");
			return;
		}
	} else {
		portal_page(r, s, 400, "Unknown action.");
		return;
	}
done:
	snprintf(self, sizeof(self), "/p/session/%s", ss_jstr(s, "id"));
	ss_redirect(r, self);
}
