/*
 * lifecycle: markets that live. A timer (every --lifecycle-ms) makes one transition: a new
 * market is created (with a new event), an initialized market opens, an active one pauses or
 * closes, a paused one resumes, a closed one is determined, a determined one settles. Each
 * transition changes what REST shows and is announced on market_lifecycle_v2 (KALSHI.md section 5),
 * a created event also with an event_lifecycle message; combo markets (KXMVE series) on
 * multivariate_market_lifecycle instead. POST /_sim/lifecycle forces a transition.
 */
#include <string.h>

#include <json-c/json.h>

#include "fixed.h"
#include "log.h"
#include "sim.h"

static struct rng life_rng;
static lws_sorted_usec_list_t life_sul;

/* Allowed transitions: from -> bit set of targets. */
static const unsigned life_allowed[SIM_M_NSTATUS] = {
	[SIM_M_INITIALIZED] = 1u << SIM_M_ACTIVE,
	[SIM_M_ACTIVE] = 1u << SIM_M_INACTIVE | 1u << SIM_M_CLOSED,
	[SIM_M_INACTIVE] = 1u << SIM_M_ACTIVE | 1u << SIM_M_CLOSED,
	[SIM_M_CLOSED] = 1u << SIM_M_DETERMINED,
	[SIM_M_DETERMINED] = 1u << SIM_M_FINALIZED,
	[SIM_M_FINALIZED] = 0,
};

/* Combo markets (KXMVE...) are announced on their own channel, with the same payload. */
static void
life_send(const struct sim_market *m, const char *type, struct json_object *msg)
{
	const char *text = json_object_to_json_string_ext(msg, JSON_C_TO_STRING_PLAIN);
	enum kcmd_channel ch = strncmp(m->ticker, "KXMVE", 5) == 0 ? KCMD_CH_MVE_LIFECYCLE :
	    KCMD_CH_LIFECYCLE;

	sim_subs_lifecycle(ch, type, text, strlen(text));
	sim_w.st.lifecycle_events++;
	json_object_put(msg);
}

static struct json_object *
life_msg(const struct sim_market *m, const char *event_type)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "market_ticker", json_object_new_string(m->ticker));
	json_object_object_add(o, "event_type", json_object_new_string(event_type));
	return o;
}

static void
life_announce_created(const struct sim_market *m)
{
	const struct sim_event *e = &sim_w.events[m->event];
	struct json_object *o, *md, *ev;
	struct json_object *mj = sim_rest_market_json(m), *v;

	ev = json_object_new_object();
	json_object_object_add(ev, "event_ticker", json_object_new_string(e->ticker));
	json_object_object_add(ev, "title", json_object_new_string(e->title));
	json_object_object_add(ev, "sub_title", json_object_new_string(e->sub_title));
	json_object_object_add(ev, "collateral_return_type", json_object_new_string(""));
	json_object_object_add(ev, "series_ticker",
	    json_object_new_string(sim_w.series[e->series].ticker));
	life_send(m, "event_lifecycle", ev);

	o = life_msg(m, "created");
	json_object_object_add(o, "open_ts", json_object_new_int64(m->open_ts));
	json_object_object_add(o, "close_ts", json_object_new_int64(m->close_ts));
	md = json_object_new_object();
	json_object_object_add(md, "name", json_object_new_string(e->title));
	json_object_object_get_ex(mj, "title", &v);
	json_object_object_add(md, "title", json_object_get(v));
	json_object_object_get_ex(mj, "yes_sub_title", &v);
	json_object_object_add(md, "yes_sub_title", json_object_get(v));
	json_object_object_get_ex(mj, "no_sub_title", &v);
	json_object_object_add(md, "no_sub_title", json_object_get(v));
	json_object_object_get_ex(mj, "rules_primary", &v);
	json_object_object_add(md, "rules_primary", json_object_get(v));
	json_object_object_add(md, "rules_secondary", json_object_new_string(""));
	json_object_object_add(md, "can_close_early", json_object_new_boolean(1));
	json_object_object_add(md, "event_ticker", json_object_new_string(e->ticker));
	json_object_object_add(md, "expected_expiration_ts", json_object_new_int64(m->exp_ts));
	json_object_object_add(md, "strike_type",
	    json_object_new_string(m->kind == 'B' ? "between" : "greater"));
	json_object_object_add(md, "floor_strike", json_object_new_int64(m->floor_strike));
	if (m->kind == 'B')
		json_object_object_add(md, "cap_strike", json_object_new_int64(m->cap_strike));
	json_object_object_add(o, "additional_metadata", md);
	json_object_put(mj);
	life_send(m, "market_lifecycle_v2", o);
}

int
sim_lifecycle_apply(struct sim_market *m, enum sim_mstatus to)
{
	int64_t now = sim_now_us() / 1000000;
	enum sim_mstatus from = (enum sim_mstatus)m->status;
	struct json_object *o;
	char b[FX_BUFSZ];

	if (to >= SIM_M_NSTATUS || !(life_allowed[from] & (1u << to)))
		return -1;
	sim_market_set_status(m, to);
	switch (to) {
	case SIM_M_ACTIVE:
		o = life_msg(m, "activated");
		if (from == SIM_M_INACTIVE)
			json_object_object_add(o, "is_deactivated", json_object_new_boolean(0));
		else
			m->open_ts = now;
		life_send(m, "market_lifecycle_v2", o);
		break;
	case SIM_M_INACTIVE:
		o = life_msg(m, "deactivated");
		json_object_object_add(o, "is_deactivated", json_object_new_boolean(1));
		life_send(m, "market_lifecycle_v2", o);
		break;
	case SIM_M_CLOSED:
		m->close_ts = now;
		m->exp_ts = now;
		o = life_msg(m, "close_date_updated");
		json_object_object_add(o, "close_ts", json_object_new_int64(now));
		life_send(m, "market_lifecycle_v2", o);
		break;
	case SIM_M_DETERMINED:
		snprintf(m->result, sizeof(m->result), "%s", sim_rng_below(&life_rng, 2) ? "yes" : "no");
		fx_format_price(strcmp(m->result, "yes") == 0 ? m->notional : 0, b);
		o = life_msg(m, "determined");
		json_object_object_add(o, "result", json_object_new_string(m->result));
		json_object_object_add(o, "settlement_value", json_object_new_string(b));
		json_object_object_add(o, "determination_ts", json_object_new_int64(now));
		life_send(m, "market_lifecycle_v2", o);
		break;
	case SIM_M_FINALIZED:
		m->settled_ts = now;
		o = life_msg(m, "settled");
		json_object_object_add(o, "settled_ts", json_object_new_int64(now));
		life_send(m, "market_lifecycle_v2", o);
		break;
	default:
		break;
	}
	log_debug("lifecycle: %s %s -> %s", m->ticker, sim_mstatus_name(from), sim_mstatus_name(to));
	return 0;
}

/* Creates a market now and announces it. Returns it, or NULL at capacity. */
static struct sim_market *
life_create(void)
{
	struct sim_market *m = sim_market_create(&life_rng);

	if (m != NULL)
		life_announce_created(m);
	return m;
}

void
sim_lifecycle_random(void)
{
	if (sim_rng_below(&life_rng, 8) == 0 && life_create() != NULL)
		return;
	for (int tries = 0; tries < 16 && sim_w.n_markets > 0; tries++) {
		struct sim_market *m = &sim_w.markets[sim_rng_below(&life_rng, sim_w.n_markets)];
		enum sim_mstatus to;

		switch (m->status) {
		case SIM_M_INITIALIZED:
		case SIM_M_INACTIVE:
			to = SIM_M_ACTIVE;
			break;
		case SIM_M_ACTIVE:
			to = sim_rng_below(&life_rng, 2) ? SIM_M_INACTIVE : SIM_M_CLOSED;
			break;
		case SIM_M_CLOSED:
			to = SIM_M_DETERMINED;
			break;
		case SIM_M_DETERMINED:
			to = SIM_M_FINALIZED;
			break;
		default:
			continue;
		}
		sim_lifecycle_apply(m, to);
		return;
	}
}

struct sim_market *
sim_lifecycle_create(void)
{
	return life_create();
}

static void
life_tick(lws_sorted_usec_list_t *sul)
{
	sim_lifecycle_random();
	lws_sul_schedule(sim_w.ctx, 0, sul, life_tick, sim_w.opt.lifecycle_ms * 1000);
}

void
sim_lifecycle_start(void)
{
	rng_seed(&life_rng, sim_w.opt.seed ^ UINT64_C(0x11fec7c1e));
	if (sim_w.opt.lifecycle_ms > 0)
		lws_sul_schedule(sim_w.ctx, 0, &life_sul, life_tick, sim_w.opt.lifecycle_ms * 1000);
}
