/*
 * meters: billing meters, meter events and their aggregation, Stripe's usage-based billing
 * since 2025-03-31 (legacy usage records are gone). POST /v1/billing/meter_events takes
 * event_name, payload[<customer key>], payload[<value key>], identifier and timestamp:
 * the identifier is unique for 24 hours (a reuse is 400 resource_already_exists, and the usage
 * is not counted twice), the timestamp must lie within the past 35 days or up to 5 minutes
 * ahead of the sim clock. Stripe validates the payload against the meter asynchronously; the
 * sim does it at once (400), so a client's mistakes show in its tests. The aggregated usage
 * reads back through GET /v1/billing/meters/{id}/event_summaries as on Stripe, and
 * subscriptions bill it at renewal (billing.c).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ss.h"

#define METER_DEDUP_S 86400
#define METER_PAST_S (INT64_C(35) * 86400)
#define METER_FUTURE_S 300

struct meter_event {
	char identifier[101];
	char event_name[101];
	char customer[64];
	double value;
	int64_t timestamp;
	int64_t created;
};

static struct meter_event *mev;
static size_t n_mev, cap_mev;

void
ss_meter_events_free(void)
{
	free(mev);
	mev = NULL;
	n_mev = cap_mev = 0;
}

struct json_object *
ss_meter_by_event(const char *event_name)
{
	struct json_object *all = ss_store_all(SS_METER);

	for (size_t i = 0; i < json_object_array_length(all); i++) {
		struct json_object *m = json_object_array_get_idx(all, i);

		if (strcmp(ss_jstr(m, "event_name"), event_name) == 0 &&
		    strcmp(ss_jstr(m, "status"), "active") == 0)
			return m;
	}
	return NULL;
}

/* The meter's formula: "sum", "count" or "last". */
static const char *
meter_formula(struct json_object *m)
{
	struct json_object *agg = NULL;

	json_object_object_get_ex(m, "default_aggregation", &agg);
	return ss_jstr(agg, "formula") != NULL ? ss_jstr(agg, "formula") : "sum";
}

double
ss_meter_usage(struct json_object *meter, const char *customer, int64_t from, int64_t to)
{
	const char *name = ss_jstr(meter, "event_name"), *formula = meter_formula(meter);
	double sum = 0, last = 0;
	int64_t last_ts = INT64_MIN;
	size_t count = 0;

	for (size_t i = 0; i < n_mev; i++) {
		const struct meter_event *e = &mev[i];

		if (strcmp(e->event_name, name) != 0 || strcmp(e->customer, customer) != 0 ||
		    e->timestamp < from || e->timestamp >= to)
			continue;
		sum += e->value;
		count++;
		if (e->timestamp >= last_ts) {
			last_ts = e->timestamp;
			last = e->value;
		}
	}
	if (strcmp(formula, "count") == 0)
		return (double)count;
	if (strcmp(formula, "last") == 0)
		return last;
	return sum;
}

/* A payload key of the meter's mappings (customer_mapping or value_settings). */
static const char *
meter_key(struct json_object *m, const char *mapping, const char *dflt)
{
	struct json_object *o = NULL;

	if (m != NULL && json_object_object_get_ex(m, mapping, &o) &&
	    ss_jstr(o, "event_payload_key") != NULL)
		return ss_jstr(o, "event_payload_key");
	return dflt;
}

void
ss_meter_events_create(struct hsrv_req *r)
{
	const char *name = ss_param(r, "event_name"), *ident = ss_param(r, "identifier");
	const char *ckey, *vkey, *cust, *val;
	struct json_object *payload = NULL, *meter, *o, *pcopy = NULL;
	struct meter_event e;
	char param[160], gen[64];
	int64_t ts = ss_now(), now = ss_now();
	char *end;
	int has_ts;

	memset(&e, 0, sizeof(e));
	if (name == NULL) {
		ss_missing_param(r, "event_name");
		return;
	}
	if (strlen(name) > 100) {
		ss_invalid_param(r, "event_name", "parameter_invalid_string",
		    "event_name must be at most 100 characters.");
		return;
	}
	if (!json_object_object_get_ex(ss_params(r), "payload", &payload) ||
	    !json_object_is_type(payload, json_type_object)) {
		ss_missing_param(r, "payload");
		return;
	}
	meter = ss_meter_by_event(name);
	ckey = meter_key(meter, "customer_mapping", "stripe_customer_id");
	vkey = meter_key(meter, "value_settings", "value");
	cust = ss_jstr(payload, ckey);
	val = ss_jstr(payload, vkey);
	if (cust == NULL) {
		snprintf(param, sizeof(param), "payload[%s]", ckey);
		ss_missing_param(r, param);
		return;
	}
	if (val == NULL) {
		snprintf(param, sizeof(param), "payload[%s]", vkey);
		ss_missing_param(r, param);
		return;
	}
	e.value = strtod(val, &end);
	if (*val == '\0' || *end != '\0' || !isfinite(e.value)) {
		snprintf(param, sizeof(param), "payload[%s]", vkey);
		ss_invalid_param(r, param, "parameter_invalid_string",
		    "The meter event value must be a number.");
		return;
	}
	if (ss_store_get(SS_CUSTOMER, cust) == NULL) {
		snprintf(param, sizeof(param), "payload[%s]", ckey);
		ss_no_such(r, "customer", param, cust);
		return;
	}
	has_ts = ss_param_int(r, "timestamp", 0, INT64_C(1) << 40, &ts);
	if (has_ts < 0)
		return;
	if (ts < now - METER_PAST_S || ts > now + METER_FUTURE_S) {
		ss_error(r, 400, "invalid_request_error", "timestamp_outside_window", "timestamp",
		    "Timestamp must be within the past 35 calendar days or up to 5 minutes in the "
		    "future.");
		return;
	}
	if (ident == NULL) {
		ss_new_id("", gen);
		ident = gen;
	}
	if (*ident == '\0' || strlen(ident) > 100) {
		ss_invalid_param(r, "identifier", "parameter_invalid_string",
		    "identifier must be 1 to 100 characters.");
		return;
	}
	for (size_t i = 0; i < n_mev; i++)
		if (strcmp(mev[i].identifier, ident) == 0 && mev[i].created > now - METER_DEDUP_S) {
			ss_error(r, 400, "invalid_request_error", "resource_already_exists",
			    "identifier", "An event already exists with identifier %s.", ident);
			return;
		}
	if (n_mev == cap_mev) {
		size_t cap = cap_mev == 0 ? 256 : cap_mev * 2;
		struct meter_event *p = realloc(mev, cap * sizeof(*p));

		if (p == NULL) {
			ss_error(r, 500, "api_error", NULL, NULL, "out of memory");
			return;
		}
		mev = p;
		cap_mev = cap;
	}
	snprintf(e.identifier, sizeof(e.identifier), "%s", ident);
	snprintf(e.event_name, sizeof(e.event_name), "%s", name);
	snprintf(e.customer, sizeof(e.customer), "%s", cust);
	e.timestamp = ts;
	e.created = now;
	mev[n_mev++] = e;
	o = json_object_new_object();
	json_object_object_add(o, "object", json_object_new_string("billing.meter_event"));
	json_object_object_add(o, "created", json_object_new_int64(now));
	json_object_object_add(o, "event_name", json_object_new_string(name));
	json_object_object_add(o, "identifier", json_object_new_string(ident));
	json_object_object_add(o, "livemode", json_object_new_boolean(0));
	if (json_object_deep_copy(payload, &pcopy, NULL) != 0)
		pcopy = json_object_new_object();
	json_object_object_add(o, "payload", pcopy);
	json_object_object_add(o, "timestamp", json_object_new_int64(ts));
	hsrv_reply_json(r, 200, o);
}

void
ss_meters_create(struct hsrv_req *r)
{
	struct json_object *params = ss_params(r), *agg = NULL, *m, *o, *cm = NULL, *vs = NULL;
	const char *name = ss_param(r, "event_name"), *display = ss_param(r, "display_name");
	const char *formula;

	if (display == NULL) {
		ss_missing_param(r, "display_name");
		return;
	}
	if (name == NULL) {
		ss_missing_param(r, "event_name");
		return;
	}
	if (!json_object_object_get_ex(params, "default_aggregation", &agg) ||
	    (formula = ss_jstr(agg, "formula")) == NULL) {
		ss_missing_param(r, "default_aggregation[formula]");
		return;
	}
	if (strcmp(formula, "sum") != 0 && strcmp(formula, "count") != 0 &&
	    strcmp(formula, "last") != 0) {
		ss_invalid_param(r, "default_aggregation[formula]", "parameter_invalid_string",
		    "Invalid default_aggregation[formula]: must be one of count, last, or sum");
		return;
	}
	if (ss_meter_by_event(name) != NULL) {
		ss_error(r, 400, "invalid_request_error", "resource_already_exists", "event_name",
		    "An active meter with event_name %s already exists.", name);
		return;
	}
	json_object_object_get_ex(params, "customer_mapping", &cm);
	json_object_object_get_ex(params, "value_settings", &vs);
	m = ss_obj_new("mtr_", "billing.meter", false);
	o = json_object_new_object();
	json_object_object_add(o, "event_payload_key", json_object_new_string(
	    ss_jstr(cm, "event_payload_key") != NULL ? ss_jstr(cm, "event_payload_key") :
	    "stripe_customer_id"));
	json_object_object_add(o, "type", json_object_new_string("by_id"));
	json_object_object_add(m, "customer_mapping", o);
	o = json_object_new_object();
	json_object_object_add(o, "formula", json_object_new_string(formula));
	json_object_object_add(m, "default_aggregation", o);
	json_object_object_add(m, "display_name", json_object_new_string(display));
	json_object_object_add(m, "event_name", json_object_new_string(name));
	json_object_object_add(m, "event_time_window", NULL);
	json_object_object_add(m, "status", json_object_new_string("active"));
	o = json_object_new_object();
	json_object_object_add(o, "deactivated_at", NULL);
	json_object_object_add(m, "status_transitions", o);
	json_object_object_add(m, "updated", json_object_new_int64(ss_now()));
	o = json_object_new_object();
	json_object_object_add(o, "event_payload_key", json_object_new_string(
	    ss_jstr(vs, "event_payload_key") != NULL ? ss_jstr(vs, "event_payload_key") : "value"));
	json_object_object_add(m, "value_settings", o);
	ss_store_put(SS_METER, m);
	ss_reply(r, m);
}

void
ss_meters_get(struct hsrv_req *r)
{
	struct json_object *m = ss_store_get(SS_METER, hsrv_seg(r, 0));

	if (m == NULL)
		ss_no_such(r, "billing.meter", "id", hsrv_seg(r, 0));
	else
		ss_reply(r, m);
}

void
ss_meters_list(struct hsrv_req *r)
{
	ss_reply_list(r, ss_store_all(SS_METER), "/v1/billing/meters");
}

/* GET /v1/billing/meters/{id}/event_summaries: customer, start_time, end_time, value_grouping_window */
void
ss_meter_summaries(struct hsrv_req *r)
{
	struct json_object *m = ss_store_get(SS_METER, hsrv_seg(r, 0)), *items;
	const char *cust = ss_param(r, "customer"), *win = ss_param(r, "value_grouping_window");
	int64_t start = 0, end = 0, step;
	char url[160];

	if (m == NULL) {
		ss_no_such(r, "billing.meter", "id", hsrv_seg(r, 0));
		return;
	}
	if (cust == NULL) {
		ss_missing_param(r, "customer");
		return;
	}
	if (ss_param_int(r, "start_time", 0, INT64_C(1) << 40, &start) <= 0) {
		if (!hsrv_replied(r))
			ss_missing_param(r, "start_time");
		return;
	}
	if (ss_param_int(r, "end_time", 0, INT64_C(1) << 40, &end) <= 0) {
		if (!hsrv_replied(r))
			ss_missing_param(r, "end_time");
		return;
	}
	if (start % 60 != 0 || end % 60 != 0) {
		ss_invalid_param(r, start % 60 != 0 ? "start_time" : "end_time",
		    "parameter_invalid_integer", "Timestamps must be aligned with minute boundaries.");
		return;
	}
	if (end <= start) {
		ss_invalid_param(r, "end_time", "parameter_invalid_integer",
		    "end_time must be after start_time.");
		return;
	}
	step = end - start;
	if (win != NULL) {
		if (strcmp(win, "hour") != 0 && strcmp(win, "day") != 0) {
			ss_invalid_param(r, "value_grouping_window", "parameter_invalid_string",
			    "Invalid value_grouping_window: must be one of day or hour");
			return;
		}
		step = strcmp(win, "hour") == 0 ? 3600 : 86400;
		if ((end - start) / step > 1000) {
			ss_invalid_param(r, "end_time", "parameter_invalid_integer",
			    "Too many windows in the range.");
			return;
		}
	}
	items = json_object_new_array();
	for (int64_t t = start; t < end; t += step) {
		struct json_object *s = json_object_new_object();
		int64_t t_end = t + step < end ? t + step : end;
		char id[64];

		snprintf(id, sizeof(id), "mtrusg_%s_%lld", ss_jstr(m, "id") + 4, (long long)t);
		json_object_object_add(s, "id", json_object_new_string(id));
		json_object_object_add(s, "object",
		    json_object_new_string("billing.meter_event_summary"));
		json_object_object_add(s, "aggregated_value",
		    json_object_new_double(ss_meter_usage(m, cust, t, t_end)));
		json_object_object_add(s, "end_time", json_object_new_int64(t_end));
		json_object_object_add(s, "livemode", json_object_new_boolean(0));
		json_object_object_add(s, "meter", json_object_new_string(ss_jstr(m, "id")));
		json_object_object_add(s, "start_time", json_object_new_int64(t));
		/* the list shows newest first; summaries read oldest first, so insert at the front */
		json_object_array_add(items, s);
	}
	snprintf(url, sizeof(url), "/v1/billing/meters/%s/event_summaries", ss_jstr(m, "id"));
	ss_reply_list(r, items, url);
	json_object_put(items);
}

void
ss_ctl_usage(struct hsrv_req *r)
{
	const char *cust = hsrv_arg(r, "customer"), *mid = hsrv_arg(r, "meter");
	struct json_object *m = ss_store_get(SS_METER, mid != NULL ? mid : "mtr_kbook_credits"), *o;
	size_t events = 0;

	if (m == NULL || cust == NULL) {
		ss_error(r, 400, "invalid_request_error", NULL, "customer",
		    "customer required; meter must exist");
		return;
	}
	for (size_t i = 0; i < n_mev; i++)
		if (strcmp(mev[i].customer, cust) == 0 &&
		    strcmp(mev[i].event_name, ss_jstr(m, "event_name")) == 0)
			events++;
	o = json_object_new_object();
	json_object_object_add(o, "meter", json_object_new_string(ss_jstr(m, "id")));
	json_object_object_add(o, "customer", json_object_new_string(cust));
	json_object_object_add(o, "events", json_object_new_int64((int64_t)events));
	json_object_object_add(o, "total",
	    json_object_new_double(ss_meter_usage(m, cust, 0, INT64_MAX)));
	hsrv_reply_json(r, 200, o);
}
