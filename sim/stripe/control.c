/*
 * control: the sim's own routes under /_sim, for tests and demos (loopback only, no key):
 *   GET  /_sim/clock                   the sim clock
 *   POST /_sim/clock?advance=S|to=T    moves it forward (renewals, invoices, payment failures)
 *   POST /_sim/webhook?url=U&secret=S  sets the webhook endpoint and its signing secret
 *   POST /_sim/event?type=T&object=J   emits (and delivers) an arbitrary event about object J
 *   GET  /_sim/deliveries              the delivery queue and every attempt so far
 *   GET  /_sim/fault, POST /_sim/fault?kind=K&path=P&method=M&count=N&ms=D
 *                                      HTTP faults (429, 500, slow, lost) and webhook faults
 *                                      (webhook_duplicate, webhook_delay, webhook_reorder)
 *   DELETE /_sim/fault                 disarms every fault not yet spent (a test's faults end
 *                                      with the test, whatever their count)
 *   POST /_sim/card?customer=C&card=N  gives a customer a test card (4000000000000341 makes
 *                                      its next renewals fail)
 *   GET  /_sim/usage?customer=C&meter=M the meter's total for a customer
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ss.h"

static struct json_object *
ctl_clock_json(void)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "now", json_object_new_int64(ss_now()));
	json_object_object_add(o, "offset", json_object_new_int64(ss_now() - (int64_t)time(NULL)));
	return o;
}

void
ss_ctl_clock(struct hsrv_req *r)
{
	int64_t adv = 0, to = 0;
	int a, t;

	if (strcmp(hsrv_method(r), "GET") == 0) {
		hsrv_reply_json(r, 200, ctl_clock_json());
		return;
	}
	a = ss_param_int(r, "advance", 1, INT64_C(10) * 366 * 86400, &adv);
	if (a < 0)
		return;
	t = ss_param_int(r, "to", 0, INT64_C(1) << 40, &to);
	if (t < 0)
		return;
	if ((a > 0) == (t > 0)) {
		ss_error(r, 400, "invalid_request_error", "parameter_missing", "advance",
		    "Give exactly one of advance (seconds) and to (unix seconds).");
		return;
	}
	if (t > 0) {
		if (to < ss_now()) {
			ss_invalid_param(r, "to", "parameter_invalid_integer",
			    "The sim clock only moves forward.");
			return;
		}
		adv = to - ss_now();
	}
	ss_clock_advance(adv);
	hsrv_reply_json(r, 200, ctl_clock_json());
}

void
ss_ctl_webhook(struct hsrv_req *r)
{
	const char *url = ss_param(r, "url"), *secret = ss_param(r, "secret");
	struct json_object *o = json_object_new_object();

	if (secret != NULL && strncmp(secret, "whsec_", 6) != 0) {
		json_object_put(o);
		ss_invalid_param(r, "secret", "parameter_invalid_string",
		    "A webhook signing secret starts with whsec_.");
		return;
	}
	ss_deliver_configure(url, secret);
	json_object_object_add(o, "url", url != NULL ? json_object_new_string(url) : NULL);
	json_object_object_add(o, "secret_set", json_object_new_boolean(secret != NULL));
	hsrv_reply_json(r, 200, o);
}

void
ss_ctl_event(struct hsrv_req *r)
{
	const char *type = ss_param(r, "type"), *text = ss_param(r, "object");
	struct json_object *obj, *evt;

	if (type == NULL || *type == '\0') {
		ss_missing_param(r, "type");
		return;
	}
	obj = json_tokener_parse(text != NULL ? text : "{}");
	if (obj == NULL || !json_object_is_type(obj, json_type_object)) {
		json_object_put(obj);
		ss_invalid_param(r, "object", "parameter_invalid_string",
		    "object must be a JSON object");
		return;
	}
	evt = ss_event_emit(type, obj, NULL);
	json_object_put(obj);
	ss_reply(r, evt);
}

void
ss_ctl_deliveries(struct hsrv_req *r)
{
	hsrv_reply_json(r, 200, ss_deliver_report());
}

void
ss_ctl_fault(struct hsrv_req *r)
{
	const char *kind = ss_param(r, "kind"), *path = ss_param(r, "path");
	const char *method = ss_param(r, "method");
	int64_t count = 1, ms = 2000;
	struct json_object *o;

	if (strcmp(hsrv_method(r), "DELETE") == 0) {
		ss_fault_clear();
		ss_deliver_fault_clear();
	}
	if (strcmp(hsrv_method(r), "POST") != 0) {
		hsrv_reply_json(r, 200, ss_fault_report());
		return;
	}
	if (kind == NULL) {
		ss_missing_param(r, "kind");
		return;
	}
	if (ss_param_int(r, "count", 1, 1000000, &count) < 0 ||
	    ss_param_int(r, "ms", 0, 600000, &ms) < 0)
		return;
	if (strncmp(kind, "webhook_", 8) == 0) {
		const char *k = kind + 8;

		if (strcmp(k, "duplicate") != 0 && strcmp(k, "delay") != 0 &&
		    strcmp(k, "reorder") != 0) {
			ss_invalid_param(r, "kind", "parameter_invalid_string",
			    "kind is 429, 500, slow, lost, webhook_duplicate, webhook_delay or "
			    "webhook_reorder");
			return;
		}
		ss_deliver_fault(k, (uint32_t)count, ms);
	} else {
		char match[160];

		snprintf(match, sizeof(match), "%s%s%s", method != NULL ? method : "",
		    method != NULL ? " " : "", path != NULL ? path : "/v1/");
		if (ss_fault_arm(kind, match, (uint32_t)count, ms) < 0) {
			ss_invalid_param(r, "kind", "parameter_invalid_string",
			    "kind is 429, 500, slow, lost, webhook_duplicate, webhook_delay or "
			    "webhook_reorder (at most 64 armed faults)");
			return;
		}
	}
	o = json_object_new_object();
	json_object_object_add(o, "kind", json_object_new_string(kind));
	json_object_object_add(o, "count", json_object_new_int64(count));
	hsrv_reply_json(r, 200, o);
}

void
ss_ctl_card(struct hsrv_req *r)
{
	struct json_object *c = ss_store_get(SS_CUSTOMER, ss_param(r, "customer")), *pm;
	const char *card = ss_param(r, "card");
	enum ss_card_outcome o;

	if (c == NULL) {
		ss_no_such(r, "customer", "customer", ss_param(r, "customer") != NULL ?
		    ss_param(r, "customer") : "");
		return;
	}
	if (card == NULL) {
		ss_missing_param(r, "card");
		return;
	}
	pm = ss_attach_card(c, card, &o);
	if (pm == NULL) {
		ss_error(r, 402, "card_error", ss_card_decline_code(o), "card", "%s",
		    ss_card_message(o));
		return;
	}
	ss_reply(r, pm);
}
