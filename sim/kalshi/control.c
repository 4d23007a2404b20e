/*
 * control: the sim's own endpoints under /_sim, for tests and benchmarks. They expose the ground
 * truth (the true book of a market at any retained instant, every counter) and steer the sim
 * (flow rate and immediate steps, lifecycle transitions, faults). Parameters travel in the query
 * string, also on POST; none of these routes is rate-limited or authenticated, and they are meant
 * for loopback only.
 */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "fixed.h"
#include "sim.h"

static const char *const ctl_type_names[SIM_MT_COUNT] = {
	[SIM_MT_SUBSCRIBED] = "subscribed",
	[SIM_MT_OK] = "ok",
	[SIM_MT_UNSUBSCRIBED] = "unsubscribed",
	[SIM_MT_ERROR] = "error",
	[SIM_MT_SNAPSHOT] = "orderbook_snapshot",
	[SIM_MT_DELTA] = "orderbook_delta",
	[SIM_MT_LIFECYCLE] = "market_lifecycle_v2",
	[SIM_MT_EVENT_LIFECYCLE] = "event_lifecycle",
	[SIM_MT_PING] = "ping",
	[SIM_MT_FAULT] = "fault",
};

static const struct {
	const char *name;
	enum sim_mstatus status;
} ctl_statuses[] = {
	{ "active", SIM_M_ACTIVE }, { "inactive", SIM_M_INACTIVE }, { "closed", SIM_M_CLOSED },
	{ "determined", SIM_M_DETERMINED }, { "finalized", SIM_M_FINALIZED },
};

/* A decimal integer argument (optionally negative): 1 when present and valid, 0 absent, -1 bad. */
static int
ctl_int(struct hsrv_req *r, const char *name, int64_t *out)
{
	const char *v = hsrv_arg(r, name);
	char *end;
	long long x;

	if (v == NULL || *v == '\0')
		return 0;
	x = strtoll(v, &end, 10);
	if (*end != '\0')
		return -1;
	*out = x;
	return 1;
}

static struct json_object *
ctl_levels(const struct book *b, enum book_side side)
{
	struct json_object *arr = json_object_new_array();
	size_t n = book_levels(b, side);
	struct book_level *lv = n > 0 ? malloc(n * sizeof(*lv)) : NULL;

	if (lv == NULL)
		return arr;
	n = book_copy_levels(b, side, lv, n);
	for (size_t i = 0; i < n; i++) {
		struct json_object *pair = json_object_new_array();
		char p[FX_BUFSZ], s[FX_BUFSZ];

		fx_format_price(lv[i].price, p);
		fx_format_size(lv[i].size, s);
		json_object_array_add(pair, json_object_new_string(p));
		json_object_array_add(pair, json_object_new_string(s));
		json_object_array_add(arr, pair);
	}
	free(lv);
	return arr;
}

void
sim_ctl_book(struct hsrv_req *r)
{
	const char *t = hsrv_arg(r, "ticker");
	struct sim_market *m;
	int64_t now = sim_now_us(), at = now;
	struct book *b = NULL;
	struct json_object *o;
	bool gone = false;

	if (t == NULL || *t == '\0') {
		sim_req_error(r, 400, "invalid_parameters", "ticker required");
		return;
	}
	m = sim_market_find(t, strlen(t));
	if (m == NULL) {
		sim_req_error(r, 404, "market_not_found", "market not found");
		return;
	}
	if (ctl_int(r, "at", &at) < 0) {
		sim_req_error(r, 400, "invalid_parameters", "at must be microseconds since the epoch");
		return;
	}
	b = sim_truth_book_at(m, at, &gone);
	if (b == NULL) {
		if (gone)
			sim_req_error(r, 410, "history_gone", "that instant is older than the history kept");
		else
			sim_req_error(r, 500, "internal_error", "cannot rebuild the book");
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "ticker", json_object_new_string(m->ticker));
	json_object_object_add(o, "market_id", json_object_new_string(m->id));
	json_object_object_add(o, "at", json_object_new_int64(at));
	json_object_object_add(o, "now", json_object_new_int64(now));
	json_object_object_add(o, "status", json_object_new_string(sim_mstatus_name(m->status)));
	json_object_object_add(o, "yes_dollars_fp", ctl_levels(b, BOOK_YES));
	json_object_object_add(o, "no_dollars_fp", ctl_levels(b, BOOK_NO));
	book_free(b);
	hsrv_reply_json(r, 200, o);
}

static struct json_object *
ctl_conn_json(const struct sim_conn *c)
{
	struct json_object *o = json_object_new_object(), *subs = json_object_new_array();

	json_object_object_add(o, "id", json_object_new_int64((int64_t)c->id));
	json_object_object_add(o, "queued", json_object_new_int64((int64_t)c->qcount));
	json_object_object_add(o, "queued_bytes", json_object_new_int64((int64_t)c->qbytes));
	for (struct ksub *k = c->subs.head; k != NULL; k = k->next) {
		const struct sim_sub *s = sim_sub_of(k);
		struct json_object *so = json_object_new_object();

		json_object_object_add(so, "sid", json_object_new_int64(k->sid));
		json_object_object_add(so, "channel", json_object_new_string(kcmd_channel_name(s->channel)));
		json_object_object_add(so, "seq", json_object_new_int64((int64_t)k->seq));
		json_object_object_add(so, "markets", json_object_new_int64((int64_t)k->n_markets));
		json_object_array_add(subs, so);
	}
	json_object_object_add(o, "subscriptions", subs);
	return o;
}

void
sim_ctl_stats(struct hsrv_req *r)
{
	struct json_object *o = json_object_new_object(), *types = json_object_new_object(),
	    *conns = json_object_new_array(), *rest = json_object_new_object(),
	    *ws = json_object_new_object();
	const struct sim_stats *st = &sim_w.st;

	json_object_object_add(o, "now_us", json_object_new_int64(sim_now_us()));
	json_object_object_add(o, "start_us", json_object_new_int64(sim_w.start_us));
	json_object_object_add(o, "seed", json_object_new_int64((int64_t)sim_w.opt.seed));
	json_object_object_add(o, "messages_sent", json_object_new_int64((int64_t)st->sent_total));
	json_object_object_add(o, "bytes_sent", json_object_new_int64((int64_t)st->sent_bytes));
	for (int i = 0; i < SIM_MT_COUNT; i++)
		json_object_object_add(types, ctl_type_names[i],
		    json_object_new_int64((int64_t)st->sent_by_type[i]));
	json_object_object_add(o, "sent_by_type", types);
	json_object_object_add(o, "changes", json_object_new_int64((int64_t)st->changes));
	json_object_object_add(o, "rate", json_object_new_int64(sim_flow_rate()));
	json_object_object_add(o, "markets", json_object_new_int64(sim_w.n_markets));
	json_object_object_add(o, "active_markets", json_object_new_int64(sim_w.n_active));
	json_object_object_add(o, "events", json_object_new_int64(sim_w.n_events));
	json_object_object_add(o, "overflows", json_object_new_int64((int64_t)st->overflows));
	json_object_object_add(o, "lifecycle_events",
	    json_object_new_int64((int64_t)st->lifecycle_events));
	json_object_object_add(rest, "requests", json_object_new_int64((int64_t)st->rest_requests));
	json_object_object_add(rest, "limited", json_object_new_int64((int64_t)st->rest_429));
	json_object_object_add(rest, "held", json_object_new_int64((int64_t)st->rest_held));
	json_object_object_add(rest, "signed_ok", json_object_new_int64((int64_t)st->rest_signed_ok));
	json_object_object_add(rest, "signed_bad", json_object_new_int64((int64_t)st->rest_signed_bad));
	json_object_object_add(o, "rest", rest);
	json_object_object_add(ws, "accepted", json_object_new_int64((int64_t)st->ws_accepted));
	json_object_object_add(ws, "refused", json_object_new_int64((int64_t)st->ws_refused));
	json_object_object_add(o, "ws", ws);
	for (const struct sim_conn *c = sim_w.conns; c != NULL; c = c->next)
		json_object_array_add(conns, ctl_conn_json(c));
	json_object_object_add(o, "connections", conns);
	hsrv_reply_json(r, 200, o);
}

void
sim_ctl_flow(struct hsrv_req *r)
{
	int64_t rate = 0, steps = 0;
	int has_rate = ctl_int(r, "rate", &rate), has_steps = ctl_int(r, "steps", &steps);
	struct json_object *o;
	uint64_t done = 0;

	if (has_rate < 0 || has_steps < 0 || rate < 0 || steps < 0 || steps > 10000000) {
		sim_req_error(r, 400, "invalid_parameters", "rate and steps are non-negative integers");
		return;
	}
	if (has_rate > 0)
		sim_flow_set_rate(rate);
	if (has_steps > 0)
		done = sim_flow_step((uint64_t)steps);
	o = json_object_new_object();
	json_object_object_add(o, "rate", json_object_new_int64(sim_flow_rate()));
	json_object_object_add(o, "steps", json_object_new_int64((int64_t)done));
	json_object_object_add(o, "changes", json_object_new_int64((int64_t)sim_w.st.changes));
	json_object_object_add(o, "now_us", json_object_new_int64(sim_now_us()));
	hsrv_reply_json(r, 200, o);
}

void
sim_ctl_fault(struct hsrv_req *r)
{
	const char *type = hsrv_arg(r, "type"), *why = "";
	int64_t conn = 0, sid = 0, count = 1, ms = 10000;
	struct json_object *o;
	int n;

	if (type == NULL || ctl_int(r, "conn", &conn) < 0 || ctl_int(r, "sid", &sid) < 0 ||
	    ctl_int(r, "count", &count) < 0 || ctl_int(r, "ms", &ms) < 0 || conn < 0 || sid < 0 ||
	    sid > UINT32_MAX || count < 1 || count > 1000000 || ms < 0 || ms > 600000) {
		sim_req_error(r, 400, "invalid_parameters", "type required; conn, sid, count, ms integers");
		return;
	}
	n = sim_fault_apply(type, (uint64_t)conn, (uint32_t)sid, (uint32_t)count, ms, &why);
	if (n < 0) {
		sim_req_error(r, 400, "invalid_parameters", why);
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "type", json_object_new_string(type));
	json_object_object_add(o, "connections", json_object_new_int(n));
	hsrv_reply_json(r, 200, o);
}

void
sim_ctl_lifecycle(struct hsrv_req *r)
{
	const char *t = hsrv_arg(r, "ticker"), *to = hsrv_arg(r, "to");
	const char *create = hsrv_arg(r, "create");
	struct sim_market *m = NULL;
	struct json_object *o;

	if (create != NULL && strcmp(create, "1") == 0) {
		m = sim_lifecycle_create();
		if (m == NULL) {
			sim_req_error(r, 409, "capacity", "--max-markets reached");
			return;
		}
	} else {
		int k = -1;

		if (t == NULL || to == NULL) {
			sim_req_error(r, 400, "invalid_parameters", "ticker and to required (or create=1)");
			return;
		}
		m = sim_market_find(t, strlen(t));
		if (m == NULL) {
			sim_req_error(r, 404, "market_not_found", "market not found");
			return;
		}
		for (size_t i = 0; i < sizeof(ctl_statuses) / sizeof(ctl_statuses[0]); i++)
			if (strcmp(to, ctl_statuses[i].name) == 0)
				k = (int)i;
		if (k < 0 || sim_lifecycle_apply(m, ctl_statuses[k].status) < 0) {
			sim_req_error(r, 409, "invalid_transition", "transition not allowed");
			return;
		}
	}
	o = json_object_new_object();
	json_object_object_add(o, "ticker", json_object_new_string(m->ticker));
	json_object_object_add(o, "status", json_object_new_string(sim_mstatus_name(m->status)));
	hsrv_reply_json(r, 200, o);
}
