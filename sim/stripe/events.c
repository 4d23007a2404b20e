/*
 * events: Stripe's Event objects. Every change the sim makes to an object emits one (a snapshot
 * of the object, with previous_attributes for updates), kept for GET /v1/events and handed to
 * the webhook delivery thread. Routes: GET /v1/events (type, types[], created filters as Stripe)
 * and GET /v1/events/{id}.
 */
#include <string.h>

#include "log.h"
#include "ss.h"

struct json_object *
ss_event_emit(const char *type, struct json_object *obj, struct json_object *previous)
{
	struct json_object *evt = ss_obj_new("evt_", "event", false), *data = json_object_new_object();
	struct json_object *req = json_object_new_object(), *snap = NULL;
	const char *text;

	if (json_object_deep_copy(obj, &snap, NULL) != 0)
		snap = json_object_new_object();
	json_object_object_add(evt, "api_version", json_object_new_string(ss_opt.api_version));
	json_object_object_add(data, "object", snap);
	if (previous != NULL)
		json_object_object_add(data, "previous_attributes", previous);
	json_object_object_add(evt, "data", data);
	json_object_object_add(evt, "pending_webhooks",
	    json_object_new_int(ss_deliver_has_endpoint() ? 1 : 0));
	json_object_object_add(req, "id", ss_request_id()[0] != '\0' ?
	    json_object_new_string(ss_request_id()) : NULL);
	json_object_object_add(req, "idempotency_key", ss_request_idem_key()[0] != '\0' ?
	    json_object_new_string(ss_request_idem_key()) : NULL);
	json_object_object_add(evt, "request", req);
	json_object_object_add(evt, "type", json_object_new_string(type));
	ss_store_put(SS_EVENT, evt);
	text = json_object_to_json_string_ext(evt, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	log_info("event %s %s", ss_jstr(evt, "id"), type);
	ss_deliver_enqueue(ss_jstr(evt, "id"), text, strlen(text));
	return evt;
}

void
ss_events_get(struct hsrv_req *r)
{
	struct json_object *e = ss_store_get(SS_EVENT, hsrv_seg(r, 0));

	if (e == NULL) {
		ss_no_such(r, "event", "id", hsrv_seg(r, 0));
		return;
	}
	ss_reply(r, e);
}

/* types[]: any of them */
static bool
events_types(struct hsrv_req *r, struct json_object *e)
{
	struct json_object *types = NULL;
	const char *t = ss_jstr(e, "type");

	if (!json_object_object_get_ex(ss_params(r), "types", &types) ||
	    !json_object_is_type(types, json_type_array))
		return true;
	for (size_t j = 0; j < json_object_array_length(types); j++)
		if (strcmp(json_object_get_string(json_object_array_get_idx(types, j)), t) == 0)
			return true;
	return false;
}

void
ss_events_list(struct hsrv_req *r)
{
	static const struct ss_filter f[] = { { "type", "type" } };

	ss_reply_filtered(r, SS_EVENT, f, 1, events_types, "/v1/events");
}
