/*
 * subs: executing WebSocket commands and producing every subscription message. A subscription
 * (sid) belongs to one connection and one channel; orderbook subscriptions hold a set of markets
 * and one seq counter shared by all of them. Snapshots, deltas, and the acks of
 * update_subscription and unsubscribe each take the next seq (KALSHI.md section 4); subscribed,
 * list and error replies carry none, nor do lifecycle messages.
 *
 * Subscription data counts against the connection's bounded send queue; when it would overflow
 * the subscription dies with the terminal error 25, as the exchange treats slow readers. Command
 * replies are always queued. Faults armed on the connection (faults.c) are applied here, where
 * the messages are built: a dropped message still consumes its seq, which is what a client sees
 * as a gap; a reordered message is held back and sent right after the next one of its sid.
 */
#include <stdlib.h>
#include <string.h>

#include "sbuf.h"
#include "fixed.h"
#include "log.h"
#include "sim.h"

static struct sbuf subs_out;
static uint32_t subs_epoch;   /* see subs_resolve */

/* ---- membership (lib/ksub) ------------------------------------------------------------------ */

static bool
subs_has_market(const struct sim_sub *s, const struct sim_market *m)
{
	return ksub_holds(&s->k, &m->holders);
}

static int
subs_add_market(struct sim_sub *s, struct sim_market *m)
{
	return ksub_add(&s->conn->subs, &s->k, &m->holders);
}

static void
subs_remove_market(struct sim_sub *s, const struct sim_market *m)
{
	size_t i = ksub_index(&s->k, &m->holders);

	if (i < s->k.n_markets)
		(void)ksub_remove(&s->conn->subs, &s->k, i);
}

static struct sim_sub *
subs_find(struct sim_conn *c, uint32_t sid)
{
	struct ksub *k = ksub_find(&c->subs, sid);

	return k != NULL ? sim_sub_of(k) : NULL;
}

static struct sim_sub *
subs_new(struct sim_conn *c, enum kcmd_channel ch, bool use_yes_price)
{
	struct sim_sub *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->conn = c;
	s->channel = ch;
	s->use_yes_price = use_yes_price;
	ksub_open(&c->subs, &s->k);
	return s;
}

static void
subs_free(struct sim_conn *c, struct sim_sub *s)
{
	ksub_close(&c->subs, &s->k, NULL);
	free(s);
}

void
sim_subs_drop_all(struct sim_conn *c)
{
	while (c->subs.head != NULL)
		subs_free(c, sim_sub_of(c->subs.head));
}

/* ---- message building ----------------------------------------------------------------------- */

static void
subs_id(struct sbuf *b, const struct kcmd *cmd)
{
	if (cmd != NULL && cmd->has_id)
		sbuf_printf(b, "\"id\":%lld,", (long long)cmd->id);
}

/* Appends a price or size value, as a string or (fault) as a JSON number. */
static void
subs_fx(struct sbuf *b, const struct sim_conn *c, bool price, int64_t v)
{
	char t[FX_BUFSZ];
	size_t n = price ? fx_format_price(v, t) : fx_format_size(v, t);

	if (c->f_numbers) {
		sbuf_add(b, t, n);
		return;
	}
	sbuf_add(b, "\"", 1);
	sbuf_add(b, t, n);
	sbuf_add(b, "\"", 1);
}

static void
subs_error(struct sim_conn *c, const struct kcmd *cmd, int code, const char *ticker)
{
	struct sbuf *b = &subs_out;

	sbuf_reset(b);
	sbuf_str(b, "{");
	subs_id(b, cmd);
	sbuf_printf(b, "\"type\":\"error\",\"msg\":{\"code\":%d,\"msg\":\"%s\"", code,
	    kerr_msg(code));
	if (ticker != NULL) {
		sbuf_str(b, ",\"market_ticker\":");
		sbuf_json_str(b, ticker);
	}
	sbuf_str(b, "}}");
	if (!b->failed)
		sim_ws_queue(c, b->p, b->len, SIM_MT_ERROR, false);
}

/*
 * Queues the seq-bearing message in subs_out for s, applying the drop, reorder and duplicate
 * faults. Returns -1 when the subscription died of an overflow (s is freed then).
 */
static int
subs_emit(struct sim_sub *s, enum sim_mtype type, bool counted)
{
	struct sim_conn *c = s->conn;
	bool mine = c->f_sid == 0 || c->f_sid == s->k.sid;

	if (subs_out.failed)
		return 0;
	if (c->f_drop > 0 && mine) {
		c->f_drop--;
		return 0;
	}
	if (c->f_reorder > 0 && mine && c->held == NULL) {
		c->held = malloc(subs_out.len);
		if (c->held != NULL) {
			memcpy(c->held, subs_out.p, subs_out.len);
			c->held_len = subs_out.len;
			c->held_type = (uint8_t)type;
			return 0;
		}
	}
	if (sim_ws_queue(c, subs_out.p, subs_out.len, type, counted) < 0) {
		sim_subs_kill(c, (uint32_t)s->k.sid, KERR_OVERFLOW);
		sim_w.st.overflows++;
		return -1;
	}
	if (c->f_dup > 0 && mine) {
		c->f_dup--;
		sim_ws_queue(c, subs_out.p, subs_out.len, type, false);
	}
	if (c->held != NULL && mine) {
		sim_ws_queue(c, c->held, c->held_len, (enum sim_mtype)c->held_type, false);
		free(c->held);
		c->held = NULL;
		c->f_reorder--;
	}
	return 0;
}

static void
subs_levels(struct sbuf *b, const struct sim_conn *c, const struct sim_market *m,
    enum book_side side, bool yes_price, const char *key, bool *first)
{
	size_t n = book_levels(m->book, side);
	struct book_level *lv;

	if (n == 0)
		return;
	lv = malloc(n * sizeof(*lv));
	if (lv == NULL) {
		b->failed = true;
		return;
	}
	n = book_copy_levels(m->book, side, lv, n);
	sbuf_printf(b, "%s\"%s\":[", *first ? "" : ",", key);
	*first = false;
	for (size_t i = 0; i < n; i++) {
		/* with use_yes_price, NO levels show as YES prices: reverse to stay ascending */
		const struct book_level *l = yes_price && side == BOOK_NO ? &lv[n - 1 - i] : &lv[i];
		int64_t p = yes_price && side == BOOK_NO ? m->notional - l->price : l->price;

		sbuf_str(b, i == 0 ? "[" : ",[");
		subs_fx(b, c, true, p);
		sbuf_str(b, ",");
		subs_fx(b, c, false, l->size);
		sbuf_str(b, "]");
	}
	sbuf_str(b, "]");
	free(lv);
}

/* Sends an orderbook_snapshot of m on s. Returns -1 when s died of an overflow. */
static int
subs_snapshot(struct sim_sub *s, const struct sim_market *m)
{
	struct sbuf *b = &subs_out;
	bool first = false;

	sbuf_reset(b);
	sbuf_printf(b, "{\"type\":\"orderbook_snapshot\",\"sid\":%lld,\"seq\":%llu,\"msg\":{"
	    "\"market_ticker\":\"%s\",\"market_id\":\"%s\"", (long long)s->k.sid,
	    (unsigned long long)++s->k.seq,
	    m->ticker, m->id);
	subs_levels(b, s->conn, m, BOOK_YES, s->use_yes_price, "yes_dollars_fp", &first);
	subs_levels(b, s->conn, m, BOOK_NO, s->use_yes_price, "no_dollars_fp", &first);
	sbuf_str(b, "}}");
	return subs_emit(s, SIM_MT_SNAPSHOT, true);
}

void
sim_subs_delta(struct sim_market *m, enum book_side side, int64_t price, int64_t delta,
    int64_t t_us)
{
	char ts[32];

	if (m->holders.n == 0)
		return;
	sim_fmt_time(t_us / 1000000, ts);
	/* backwards: a subscription killed here is swapped with the last, already served one */
	for (size_t i = m->holders.n; i > 0; i--) {
		struct sim_sub *s = sim_sub_of(m->holders.subs[i - 1]);
		struct sbuf *b = &subs_out;
		int64_t p = s->use_yes_price && side == BOOK_NO ? m->notional - price : price;

		sbuf_reset(b);
		sbuf_printf(b, "{\"type\":\"orderbook_delta\",\"sid\":%lld,\"seq\":%llu,\"msg\":{"
		    "\"market_ticker\":\"%s\",\"market_id\":\"%s\",\"price_dollars\":",
		    (long long)s->k.sid, (unsigned long long)++s->k.seq, m->ticker, m->id);
		subs_fx(b, s->conn, true, p);
		sbuf_str(b, ",\"delta_fp\":");
		subs_fx(b, s->conn, false, delta);
		sbuf_printf(b, ",\"side\":\"%s\",\"ts\":\"%s\",\"ts_ms\":%lld}}",
		    side == BOOK_YES ? "yes" : "no", ts, (long long)(t_us / 1000));
		subs_emit(s, SIM_MT_DELTA, true);
	}
}

void
sim_subs_lifecycle(enum kcmd_channel ch, const char *type, const char *msg_json, size_t len)
{
	enum sim_mtype mt = strcmp(type, "event_lifecycle") == 0 ? SIM_MT_EVENT_LIFECYCLE :
	    SIM_MT_LIFECYCLE;

	for (struct sim_conn *c = sim_w.conns; c != NULL; c = c->next) {
		struct ksub *k = c->subs.head, *next;

		for (; k != NULL; k = next) {
			struct sbuf *b = &subs_out;
			struct sim_sub *s = sim_sub_of(k);

			next = k->next;
			if (s->channel != ch)
				continue;
			sbuf_reset(b);
			sbuf_printf(b, "{\"type\":\"%s\",\"sid\":%lld,\"msg\":", type,
			    (long long)k->sid);
			sbuf_add(b, msg_json, len);
			sbuf_str(b, "}");
			subs_emit(s, mt, true);
		}
	}
}

int
sim_subs_kill(struct sim_conn *c, uint32_t sid, int code)
{
	struct sim_sub *s = subs_find(c, sid);
	struct sbuf *b = &subs_out;

	if (s == NULL)
		return -1;
	sbuf_reset(b);
	sbuf_printf(b, "{\"type\":\"error\",\"sid\":%u,\"msg\":{\"code\":%d,\"msg\":\"%s\"}}",
	    sid, code, kerr_msg(code));
	if (!b->failed)
		sim_ws_queue(c, b->p, b->len, SIM_MT_ERROR, false);
	subs_free(c, s);
	return 0;
}

void
sim_subs_overflow(struct sim_conn *c)
{
	struct ksub *k = c->subs.head, *next;

	for (; k != NULL; k = next) {
		struct sim_sub *s = sim_sub_of(k);

		next = k->next;
		if (s->channel == KCMD_CH_ORDERBOOK)
			sim_subs_kill(c, (uint32_t)s->k.sid, KERR_OVERFLOW);
	}
}

/* ---- commands ------------------------------------------------------------------------------- */

/*
 * Resolves the command's tickers to markets (deduplicated, in order). On an unknown ticker sends
 * error 16 and returns -1; out receives a malloc'd array (caller frees).
 */
static int
subs_resolve(struct sim_conn *c, const struct kcmd *cmd, struct sim_market ***out, size_t *n_out)
{
	struct sim_market **ms = calloc(cmd->n_tickers + 1, sizeof(struct sim_market *));
	size_t n = 0;

	*out = NULL;
	*n_out = 0;
	if (ms == NULL) {
		subs_error(c, cmd, KERR_INTERNAL, NULL);
		return -1;
	}
	/* a market is taken once: its mark holds the epoch of the last command that took it */
	if (subs_epoch == UINT32_MAX) {
		for (uint32_t i = 0; i < sim_w.n_markets; i++)
			sim_w.markets[i].mark = 0;
		subs_epoch = 0;
	}
	subs_epoch++;
	for (size_t i = 0; i < cmd->n_tickers; i++) {
		struct sim_market *m = sim_market_find(cmd->tickers[i], strlen(cmd->tickers[i]));

		if (m == NULL) {
			subs_error(c, cmd, KERR_MARKET_NOT_FOUND, cmd->tickers[i]);
			free(ms);
			return -1;
		}
		if (m->mark != subs_epoch) {
			m->mark = subs_epoch;
			ms[n++] = m;
		}
	}
	*out = ms;
	*n_out = n;
	return 0;
}

static void
subs_cmd_subscribe(struct sim_conn *c, const struct kcmd *cmd)
{
	struct sim_market **ms = NULL;
	struct sim_sub *book_sub = NULL;
	size_t n = 0;

	if (cmd->channels & (1u << KCMD_CH_ORDERBOOK)) {
		if (c->f_refuse_adds) {
			subs_error(c, cmd, KERR_MARKET_LIMIT, NULL);
			goto out;
		}
		if (subs_resolve(c, cmd, &ms, &n) < 0)
			goto out;
		if (n > sim_w.opt.sub_market_limit) {
			subs_error(c, cmd, KERR_MARKET_LIMIT, NULL);
			goto out;
		}
	}
	/* every subscribed reply first, then the snapshots */
	for (int ch = 0; ch < KCMD_CH_COUNT; ch++) {
		struct sim_sub *s;
		struct sbuf *b = &subs_out;

		if (!(cmd->channels & (1u << ch)))
			continue;
		s = subs_new(c, (enum kcmd_channel)ch, cmd->use_yes_price);
		if (s == NULL) {
			subs_error(c, cmd, KERR_INTERNAL, NULL);
			goto out;
		}
		sbuf_reset(b);
		sbuf_str(b, "{");
		subs_id(b, cmd);
		sbuf_printf(b, "\"type\":\"subscribed\",\"msg\":{\"channel\":\"%s\","
		    "\"sid\":%lld}}", kcmd_channel_name((enum kcmd_channel)ch), (long long)s->k.sid);
		sim_ws_queue(c, b->p, b->len, SIM_MT_SUBSCRIBED, false);
		if (ch == KCMD_CH_ORDERBOOK)
			book_sub = s;
	}
	if (book_sub == NULL)
		goto out;
	for (size_t i = 0; i < n; i++) {
		if (subs_add_market(book_sub, ms[i]) < 0) {
			sim_subs_kill(c, (uint32_t)book_sub->k.sid, KERR_INTERNAL);
			goto out;
		}
	}
	for (size_t i = 0; i < n; i++)
		if (subs_snapshot(book_sub, ms[i]) < 0)
			goto out;
out:
	free(ms);
}

/* The ok of update_subscription: the full market set after the change, with the next seq. */
static void
subs_update_ok(struct sim_sub *s, const struct kcmd *cmd)
{
	struct sbuf *b = &subs_out;

	sbuf_reset(b);
	sbuf_str(b, "{");
	subs_id(b, cmd);
	sbuf_printf(b, "\"sid\":%lld,\"seq\":%llu,\"type\":\"ok\",\"msg\":{\"market_tickers\":[",
	    (long long)s->k.sid, (unsigned long long)++s->k.seq);
	for (size_t i = 0; i < s->k.n_markets; i++)
		sbuf_printf(b, "%s\"%s\"", i == 0 ? "" : ",", sim_sub_market(s, i)->ticker);
	sbuf_str(b, "]}}");
	subs_emit(s, SIM_MT_OK, false);
}

static void
subs_cmd_update(struct sim_conn *c, const struct kcmd *cmd)
{
	struct sim_sub *s = subs_find(c, cmd->sids[0]);
	struct sim_market **ms = NULL;
	size_t n = 0, first_new, fresh = 0;

	if (s == NULL) {
		subs_error(c, cmd, KERR_UNKNOWN_SID, NULL);
		goto out;
	}
	if (s->channel != KCMD_CH_ORDERBOOK) {
		subs_error(c, cmd, KERR_ACTION_UNSUPPORTED, NULL);
		goto out;
	}
	if (cmd->action == KCMD_ACT_ADD && c->f_refuse_adds) {
		subs_error(c, cmd, KERR_MARKET_LIMIT, NULL);
		goto out;
	}
	if (subs_resolve(c, cmd, &ms, &n) < 0)
		goto out;
	switch (cmd->action) {
	case KCMD_ACT_ADD:
		for (size_t i = 0; i < n; i++)
			if (!subs_has_market(s, ms[i]))
				fresh++;
		if (s->k.n_markets + fresh > sim_w.opt.sub_market_limit) {
			subs_error(c, cmd, KERR_MARKET_LIMIT, NULL);
			goto out;
		}
		first_new = s->k.n_markets;
		for (size_t i = 0; i < n; i++) {
			if (subs_has_market(s, ms[i]))
				continue;
			if (subs_add_market(s, ms[i]) < 0) {
				sim_subs_kill(c, (uint32_t)s->k.sid, KERR_INTERNAL);
				goto out;
			}
		}
		subs_update_ok(s, cmd);
		for (size_t i = first_new; i < s->k.n_markets; i++)
			if (subs_snapshot(s, sim_sub_market(s, i)) < 0)
				goto out;
		break;
	case KCMD_ACT_DELETE:
		for (size_t i = 0; i < n; i++)
			if (subs_has_market(s, ms[i]))
				subs_remove_market(s, ms[i]);
		subs_update_ok(s, cmd);
		break;
	case KCMD_ACT_SNAPSHOT:
		if (c->f_mute_snapshots)
			break; /* the mute_snapshots fault: an exchange that never answers */
		for (size_t i = 0; i < n; i++) {
			if (!subs_has_market(s, ms[i])) {
				subs_error(c, cmd, KERR_INVALID, ms[i]->ticker);
				goto out;
			}
		}
		for (size_t i = 0; i < n; i++)
			if (subs_snapshot(s, ms[i]) < 0)
				goto out;
		break;
	case KCMD_ACT_NONE:
		subs_error(c, cmd, KERR_ACTION, NULL);
		break;
	}
out:
	free(ms);
}

static void
subs_cmd_unsubscribe(struct sim_conn *c, const struct kcmd *cmd)
{
	for (size_t i = 0; i < cmd->n_sids; i++) {
		struct sim_sub *s = subs_find(c, cmd->sids[i]);
		struct sbuf *b = &subs_out;

		if (s == NULL) {
			subs_error(c, cmd, KERR_UNKNOWN_SID, NULL);
			continue;
		}
		sbuf_reset(b);
		sbuf_str(b, "{");
		subs_id(b, cmd);
		sbuf_printf(b, "\"sid\":%lld,\"seq\":%llu,\"type\":\"unsubscribed\"}",
		    (long long)s->k.sid, (unsigned long long)++s->k.seq);
		subs_emit(s, SIM_MT_UNSUBSCRIBED, false);
		subs_free(c, s);
	}
}

static void
subs_cmd_list(struct sim_conn *c, const struct kcmd *cmd)
{
	struct sbuf *b = &subs_out;
	bool first = true;

	sbuf_reset(b);
	sbuf_str(b, "{");
	subs_id(b, cmd);
	sbuf_str(b, "\"type\":\"ok\",\"msg\":[");
	for (struct ksub *k = c->subs.head; k != NULL; k = k->next) {
		sbuf_printf(b, "%s{\"channel\":\"%s\",\"sid\":%lld}", first ? "" : ",",
		    kcmd_channel_name(sim_sub_of(k)->channel), (long long)k->sid);
		first = false;
	}
	sbuf_str(b, "]}");
	if (!b->failed)
		sim_ws_queue(c, b->p, b->len, SIM_MT_OK, false);
}

void
sim_subs_refuse(struct sim_conn *c, const char *text, size_t len, int code)
{
	struct kcmd cmd;

	(void)kcmd_parse(&kcmd_exchange, text, len, &cmd);
	subs_error(c, &cmd, code, NULL);
	kcmd_free(&cmd);
}

void
sim_subs_command(struct sim_conn *c, const char *text, size_t len)
{
	struct kcmd cmd;
	int rc = kcmd_parse(&kcmd_exchange, text, len, &cmd);

	if (rc != 0) {
		log_debug("conn %llu: command refused with %d (%s)", (unsigned long long)c->id, rc,
		    cmd.why != NULL ? cmd.why : "");
		subs_error(c, &cmd, rc, NULL);
		goto out;
	}
	switch (cmd.type) {
	case KCMD_SUBSCRIBE:
		subs_cmd_subscribe(c, &cmd);
		break;
	case KCMD_UPDATE:
		subs_cmd_update(c, &cmd);
		break;
	case KCMD_UNSUBSCRIBE:
		subs_cmd_unsubscribe(c, &cmd);
		break;
	case KCMD_LIST:
		subs_cmd_list(c, &cmd);
		break;
	}
out:
	kcmd_free(&cmd);
}
