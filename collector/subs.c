/*
 * subs: the collector's subscriptions on its one connection. Open markets are packed into
 * orderbook_delta subscriptions of at most sub_max markets (use_yes_price false, sent
 * explicitly); new markets join the last subscription with room through update_subscription
 * add_markets. Every seq-bearing message is checked against its sid's counter (one counter per
 * sid, shared by its markets and acks): an old seq is a duplicate and dropped, a jump is a gap
 * for every market of the sid, recovered with get_snapshot. A terminal error (10, 17, 25) kills
 * the sid: its markets get a gap and a new subscription. Error 26 on an add moves the refused
 * markets to a new subscription; on a subscribe it splits the subscription in two (down to
 * SPLIT_MIN markets a half); another refused subscribe is retried after a pause.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "coll.h"
#include "ktime.h"
#include "log.h"

struct coll_sub {
	int64_t sid;        /* -1 until subscribed */
	int64_t last_seq;
	int64_t last_rx;    /* receive time of its last seq-bearing message */
	int *mk;            /* market indices; owned */
	int n, cap;
	int n_sent;         /* markets named in commands sent so far */
	bool full;          /* refused an add (error 26): no more markets here */
	bool dead;          /* terminal error or replaced: ignore its sid */
	int64_t retry_at;   /* refused subscribe: resend at this time (0 = not waiting) */
};

enum cmd_kind { CMD_NONE, CMD_SUBSCRIBE, CMD_ADD, CMD_OTHER };

#define CMD_RING 8192
/* A subscription refused with error 26 is split in two down to this many markets a half. */
#define SPLIT_MIN 25

static struct {
	int64_t id;
	enum cmd_kind kind;
	int sub;
	int first, count;  /* markets mk[first .. first + count) of the sub named by it */
} cmds[CMD_RING];

static struct coll_sub *subs;
static int n_subs, cap_subs, sub_max = 200;
static int64_t next_id = 1;

void
coll_subs_init(int max)
{
	sub_max = max;
}

int
coll_subs_markets(void)
{
	int n = 0;

	for (int i = 0; i < n_subs; i++)
		if (!subs[i].dead && subs[i].sid >= 0)
			n += subs[i].n;
	return n;
}

static int
sub_new(void)
{
	if (n_subs == cap_subs) {
		int cap = cap_subs == 0 ? 16 : cap_subs * 2;
		struct coll_sub *s = realloc(subs, (size_t)cap * sizeof(*s));

		if (s == NULL)
			return -1;
		subs = s;
		cap_subs = cap;
	}
	memset(&subs[n_subs], 0, sizeof(subs[n_subs]));
	subs[n_subs].sid = -1;
	return n_subs++;
}

static int
sub_push(struct coll_sub *s, int idx)
{
	if (s->n == s->cap) {
		int cap = s->cap == 0 ? 64 : s->cap * 2;
		int *mk = realloc(s->mk, (size_t)cap * sizeof(*mk));

		if (mk == NULL)
			return -1;
		s->mk = mk;
		s->cap = cap;
	}
	s->mk[s->n++] = idx;
	return 0;
}

/* A JSON array of the tickers of s->mk[first .. first + count). Caller puts it. */
static struct json_object *
tickers(const struct coll_sub *s, int first, int count)
{
	struct json_object *a = json_object_new_array_ext(count);

	for (int i = first; i < first + count; i++)
		json_object_array_add(a, json_object_new_string(coll_market(s->mk[i])->ticker));
	return a;
}

/* Sends {"id","cmd","params"} (params taken) and remembers what it was for. */
static int64_t
send_cmd(const char *cmd, struct json_object *params, enum cmd_kind kind, int sub, int first,
    int count)
{
	struct json_object *o = json_object_new_object();
	int64_t id = next_id++;
	bool ok;

	json_object_object_add(o, "id", json_object_new_int64(id));
	json_object_object_add(o, "cmd", json_object_new_string(cmd));
	json_object_object_add(o, "params", params);
	ok = coll_ws_send(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	if (!ok)
		return -1;
	cmds[id % CMD_RING].id = id;
	cmds[id % CMD_RING].kind = kind;
	cmds[id % CMD_RING].sub = sub;
	cmds[id % CMD_RING].first = first;
	cmds[id % CMD_RING].count = count;
	return id;
}

/* Subscribes every market of sub si in one command. */
static void
subscribe(int si)
{
	struct coll_sub *s = &subs[si];
	struct json_object *p = json_object_new_object(), *ch = json_object_new_array_ext(1);

	json_object_array_add(ch, json_object_new_string("orderbook_delta"));
	json_object_object_add(p, "channels", ch);
	json_object_object_add(p, "market_tickers", tickers(s, 0, s->n));
	json_object_object_add(p, "use_yes_price", json_object_new_boolean(0));
	s->retry_at = 0;
	if (send_cmd("subscribe", p, CMD_SUBSCRIBE, si, 0, s->n) >= 0)
		s->n_sent = s->n;
}

/* Sends update_subscription on sub si with the markets mk[first .. first + count). */
static void
update(int si, const char *action, int first, int count, enum cmd_kind kind)
{
	struct coll_sub *s = &subs[si];
	struct json_object *p = json_object_new_object(), *sids = json_object_new_array_ext(1);

	if (s->sid < 0 || s->dead || count <= 0) {
		json_object_put(p);
		json_object_put(sids);
		return;
	}
	json_object_array_add(sids, json_object_new_int64(s->sid));
	json_object_object_add(p, "sids", sids);
	json_object_object_add(p, "market_tickers", tickers(s, first, count));
	json_object_object_add(p, "action", json_object_new_string(action));
	send_cmd("update_subscription", p, kind, si, first, count);
}

/* Places market idx in a subscription with room (a new one when none), sending what is needed. */
static void
place(int idx)
{
	int si = -1;

	for (int i = n_subs - 1; i >= 0 && si < 0; i--)
		if (!subs[i].dead && !subs[i].full && subs[i].n < sub_max)
			si = i;
	if (si < 0 && (si = sub_new()) < 0) {
		log_errorx("out of memory subscribing %s", coll_market(idx)->ticker);
		return;
	}
	if (sub_push(&subs[si], idx) != 0)
		return;
	coll_market(idx)->sub = si;
	if (!coll_ws_connected())
		return;
	if (subs[si].sid >= 0) {
		update(si, "add_markets", subs[si].n - 1, 1, CMD_ADD);
		subs[si].n_sent = subs[si].n;
	} else if (subs[si].n == 1) {
		subscribe(si);
	}
	/* else: a subscribe is in flight; the rest is added when it is answered */
}

void
coll_subs_want(int idx)
{
	struct coll_market *mk = coll_market(idx);

	mk->want = true;
	if (mk->sub < 0)
		place(idx);
}

void
coll_subs_unwant(int idx)
{
	struct coll_market *mk = coll_market(idx);
	struct coll_sub *s;

	mk->want = false;
	/* no snapshot will be asked for it any more: an open gap ends here */
	coll_gap_finish(idx, kt_now());
	if (mk->sub < 0)
		return;
	s = &subs[mk->sub];
	for (int i = 0; i < s->n; i++) {
		if (s->mk[i] != idx)
			continue;
		/* move it last, name it in delete_markets, then forget it */
		s->mk[i] = s->mk[s->n - 1];
		s->mk[s->n - 1] = idx;
		update(mk->sub, "delete_markets", s->n - 1, 1, CMD_OTHER);
		s->n--;
		if (s->n_sent > s->n)
			s->n_sent = s->n;
		break;
	}
	mk->sub = -1;
}

void
coll_subs_resync(int idx)
{
	struct coll_market *mk = coll_market(idx);
	struct coll_sub *s;

	if (mk->sub < 0)
		return;
	s = &subs[mk->sub];
	for (int i = 0; i < s->n; i++)
		if (s->mk[i] == idx)
			update(mk->sub, "get_snapshot", i, 1, CMD_OTHER);
}

/* Replaces sub si (dead or refused) by a new subscription holding mk[first ..). */
static void
move_markets(int si, int first)
{
	int ni;

	if (first >= subs[si].n || (ni = sub_new()) < 0)
		return; /* nothing left to move (an earlier refusal moved them) */
	for (int i = first; i < subs[si].n; i++) {
		if (sub_push(&subs[ni], subs[si].mk[i]) != 0)
			break;
		coll_market(subs[si].mk[i])->sub = ni;
	}
	subs[si].n = first;
	if (subs[si].n_sent > first)
		subs[si].n_sent = first;
	if (subs[ni].n > 0 && coll_ws_connected())
		subscribe(ni);
}

void
coll_subs_on_connect(void)
{
	static const char *const channels[] = { "market_lifecycle_v2", "multivariate_market_lifecycle" };

	/* one command per channel: an exchange that lacks one refuses only that one (error 8) */
	for (size_t i = 0; i < sizeof(channels) / sizeof(channels[0]); i++) {
		struct json_object *p = json_object_new_object(), *ch = json_object_new_array_ext(1);

		json_object_array_add(ch, json_object_new_string(channels[i]));
		json_object_object_add(p, "channels", ch);
		send_cmd("subscribe", p, CMD_OTHER, -1, 0, 0);
	}
	for (int i = 0; i < n_subs; i++)
		if (!subs[i].dead && subs[i].n > 0)
			subscribe(i);
}

void
coll_subs_on_disconnect(int64_t last_rx)
{
	int n = coll_market_count();
	int *keep = malloc(((size_t)n + 1) * sizeof(*keep));
	int nk = 0;

	for (int i = 0; i < n; i++) {
		struct coll_market *mk = coll_market(i);

		/* only subscribed markets lose data; a market already dropped (settled) does not */
		if (mk->sub >= 0)
			coll_gap_open(i, COLL_GAP_DISCONNECT, last_rx + 1, "connection lost");
		if (mk->want && keep != NULL)
			keep[nk++] = i;
		mk->sub = -1;
	}
	for (int i = 0; i < n_subs; i++)
		free(subs[i].mk);
	n_subs = 0;
	memset(cmds, 0, sizeof(cmds));
	/* re-pack the open markets; they are subscribed when the connection is back */
	for (int i = 0; i < nk; i++)
		place(keep[i]);
	free(keep);
}

static int
sub_by_sid(int64_t sid)
{
	for (int i = n_subs - 1; i >= 0; i--)
		if (subs[i].sid == sid)
			return i;
	return -1;
}

/* Checks seq of a message of sub si. Returns false when it is a duplicate to drop. */
static bool
check_seq(int si, int64_t seq, int64_t now)
{
	struct coll_sub *s = &subs[si];
	int64_t prev = s->last_seq;
	enum kmsg_seq r = kmsg_seq_check(&s->last_seq, seq);

	if (r == KMSG_SEQ_DUP) {
		__atomic_add_fetch(&coll_stats.duplicates, 1, __ATOMIC_RELAXED);
		return false;
	}
	if (r == KMSG_SEQ_GAP) {
		char detail[96];

		snprintf(detail, sizeof(detail), "sid %lld: seq %lld after %lld", (long long)s->sid,
		    (long long)seq, (long long)prev);
		log_warnx("seq gap: %s", detail);
		for (int i = 0; i < s->n; i++)
			coll_gap_open(s->mk[i], COLL_GAP_SEQ, s->last_rx + 1, detail);
		update(si, "get_snapshot", 0, s->n, CMD_OTHER);
	}
	s->last_rx = now;
	return true;
}

static void
on_subscribed(const struct kmsg *m)
{
	int si;

	if (strcmp(m->channel, "orderbook_delta") != 0)
		return; /* a lifecycle channel: its messages carry no seq */
	if (m->id < 0 || cmds[m->id % CMD_RING].id != m->id || cmds[m->id % CMD_RING].kind != CMD_SUBSCRIBE)
		return;
	si = cmds[m->id % CMD_RING].sub;
	subs[si].sid = m->sid;
	subs[si].last_seq = 0;
	if (subs[si].n > subs[si].n_sent) {
		int first = subs[si].n_sent;

		update(si, "add_markets", first, subs[si].n - first, CMD_ADD);
		subs[si].n_sent = subs[si].n;
	}
}

static void
on_error(const struct kmsg *m, int64_t now)
{
	int si;

	if (m->code == 10 || m->code == 17 || m->code == 25) {
		char detail[64];

		if (m->sid < 0 || (si = sub_by_sid(m->sid)) < 0 || subs[si].dead)
			return;
		snprintf(detail, sizeof(detail), "error %lld on sid %lld", (long long)m->code,
		    (long long)m->sid);
		log_warnx("terminal %s: resubscribing %d markets", detail, subs[si].n);
		for (int i = 0; i < subs[si].n; i++)
			coll_gap_open(subs[si].mk[i], COLL_GAP_TERMINAL, subs[si].last_rx + 1, detail);
		subs[si].dead = true;
		move_markets(si, 0);
		return;
	}
	if (m->id < 0 || cmds[m->id % CMD_RING].id != m->id) {
		log_warnx("error %lld from the exchange", (long long)m->code);
		return;
	}
	si = cmds[m->id % CMD_RING].sub;
	if (m->code == 26 && cmds[m->id % CMD_RING].kind == CMD_ADD) {
		log_warnx("error 26: sid %lld is full at %d markets; opening another subscription",
		    (long long)subs[si].sid, cmds[m->id % CMD_RING].first);
		subs[si].full = true;
		move_markets(si, cmds[m->id % CMD_RING].first);
	} else if (m->code == 26 && cmds[m->id % CMD_RING].kind == CMD_SUBSCRIBE &&
	    subs[si].n >= 2 * SPLIT_MIN) {
		/* more markets than the exchange takes in one subscription: halve it */
		log_warnx("error 26 for a subscription of %d markets: splitting it in two", subs[si].n);
		subs[si].full = true;
		move_markets(si, subs[si].n / 2);
		subscribe(si);
	} else if (cmds[m->id % CMD_RING].kind == CMD_SUBSCRIBE) {
		log_warnx("subscribe refused (error %lld); retrying in 2 s", (long long)m->code);
		subs[si].retry_at = now + 2000000;
	} else {
		log_warnx("command %lld refused: error %lld", (long long)m->id, (long long)m->code);
	}
}

static void
on_lifecycle(const struct kmsg *m)
{
	/* ts: when the collector learned it (a settlement's instant for markets.final_ts) */
	struct coll_ev ev = { .kind = COLL_EV_STATUS, .ts = kt_now() };
	struct json_object *o, *v;
	const char *status = NULL;
	bool added;
	int idx;

	if ((idx = coll_market_add(m->ticker, &added)) < 0)
		return;
	if (added) {
		/* its row now, with the ticker only; its REST object follows (resolve.c). This event
		 * precedes every other of the market in the queue, and the writer upserts a batch's
		 * markets before it writes its rows, so the market's deltas always have an id: none is
		 * held back waiting for REST, so none can be lost or reordered there. */
		ev.kind = COLL_EV_FETCH;
		ev.market = idx;
		if ((ev.data = strdup(m->ticker)) == NULL || !coll_writer_push(&ev, true))
			free(ev.data);
		coll_resolve_ask(m->ticker);
		ev.kind = COLL_EV_STATUS;
	}
	if (strcmp(m->event_type, "created") == 0) {
		status = "initialized";
		coll_subs_want(idx);
	} else if (strcmp(m->event_type, "activated") == 0) {
		status = "active";
		coll_subs_want(idx);
	} else if (strcmp(m->event_type, "deactivated") == 0) {
		status = "inactive";
	} else if (strcmp(m->event_type, "determined") == 0) {
		status = "determined";
	} else if (strcmp(m->event_type, "settled") == 0) {
		status = "finalized";
		coll_subs_unwant(idx);
	}
	if (status == NULL)
		return;
	snprintf(coll_market(idx)->status, sizeof(coll_market(idx)->status), "%s", status);
	o = json_object_new_object();
	json_object_object_add(o, "status", json_object_new_string(status));
	if (json_object_object_get_ex(m->payload, "result", &v) && json_object_is_type(v, json_type_string)) {
		json_object_object_add(o, "result", json_object_get(v));
		snprintf(coll_market(idx)->result, sizeof(coll_market(idx)->result), "%s",
		    json_object_get_string(v));
	}
	ev.market = idx;
	ev.data = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	if (ev.data == NULL || !coll_writer_push(&ev, true))
		free(ev.data);
}

void
coll_subs_on_message(const char *buf, size_t len, int64_t now)
{
	struct kmsg m;
	enum kmsg_err err;
	int si, idx;

	__atomic_add_fetch(&coll_stats.messages, 1, __ATOMIC_RELAXED);
	if ((err = kmsg_parse(buf, len, &m)) != KMSG_OKAY) {
		__atomic_add_fetch(&coll_stats.malformed, 1, __ATOMIC_RELAXED);
		log_warnx("malformed message (%s): %.120s", kmsg_strerror(err), buf);
		return;
	}
	switch (m.type) {
	case KMSG_SNAPSHOT:
	case KMSG_DELTA:
		if ((si = sub_by_sid(m.sid)) < 0 || subs[si].dead || !check_seq(si, m.seq, now))
			break;
		if ((idx = coll_market_find(m.ticker)) < 0 || coll_market(idx)->sub != si)
			break; /* not (or no longer) ours on this sid */
		if (m.type == KMSG_SNAPSHOT)
			coll_book_snapshot(idx, &m, now);
		else
			coll_book_delta(idx, &m, now);
		break;
	case KMSG_OK:
	case KMSG_UNSUBSCRIBED:
		if (m.sid >= 0 && m.seq >= 0 && (si = sub_by_sid(m.sid)) >= 0 && !subs[si].dead)
			check_seq(si, m.seq, now);
		break;
	case KMSG_SUBSCRIBED:
		on_subscribed(&m);
		break;
	case KMSG_ERROR:
		on_error(&m, now);
		break;
	case KMSG_LIFECYCLE:
		on_lifecycle(&m);
		break;
	case KMSG_OTHER:
		break;
	}
	kmsg_free(&m);
}

void
coll_subs_on_rest_market(struct json_object *o, void *arg)
{
	struct json_object *t, *st;
	struct coll_ev ev = { .kind = COLL_EV_MARKET, .ts = kt_now() };
	struct coll_market *mk;
	const char *status;
	bool added;
	int idx;

	(void)arg;
	if (!json_object_object_get_ex(o, "ticker", &t) || !json_object_is_type(t, json_type_string) ||
	    json_object_get_string_len(t) == 0 || json_object_get_string_len(t) >= KMSG_TICKER_MAX)
		return;
	if ((idx = coll_market_add(json_object_get_string(t), &added)) < 0)
		return;
	mk = coll_market(idx);
	status = json_object_object_get_ex(o, "status", &st) && json_object_is_type(st, json_type_string) ?
	    json_object_get_string(st) : "";
	if (!added && strcmp(mk->status, status) == 0)
		return; /* a re-scan: nothing new */
	snprintf(mk->status, sizeof(mk->status), "%s", status);
	ev.market = idx;
	if ((ev.data = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN))) == NULL ||
	    !coll_writer_push(&ev, true)) {
		free(ev.data);
		return;
	}
	if (strcmp(status, "active") == 0 || strcmp(status, "inactive") == 0)
		coll_subs_want(idx);
	else if (strcmp(status, "finalized") == 0 && mk->want)
		coll_subs_unwant(idx);
}

/*
 * The REST object of a market first seen on the socket, fetched by resolve.c: queued as an
 * upsert of its columns, behind every event queued before it. Its status (and result) become
 * the ones the lifecycle channel said last, when it said one: the object was fetched some time
 * ago (seconds, when Kalshi is slow) and may be older, e.g. "initialized" for a market activated
 * meanwhile.
 */
static void
on_fetched(struct json_object *o, void *arg)
{
	struct coll_ev ev = { .kind = COLL_EV_MARKET, .flag = COLL_MARKET_FETCHED, .ts = kt_now() };
	struct json_object *t;
	struct coll_market *mk;
	int idx;

	(void)arg;
	if (!json_object_object_get_ex(o, "ticker", &t) || !json_object_is_type(t, json_type_string) ||
	    (idx = coll_market_find(json_object_get_string(t))) < 0)
		return;
	mk = coll_market(idx);
	if (mk->status[0] != '\0')
		json_object_object_add(o, "status", json_object_new_string(mk->status));
	if (mk->result[0] != '\0')
		json_object_object_add(o, "result", json_object_new_string(mk->result));
	ev.market = idx;
	if ((ev.data = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN))) == NULL ||
	    !coll_writer_push(&ev, true)) {
		free(ev.data);
		log_errorx("the writer's queue refused the REST metadata of %s: left to the re-scan",
		    mk->ticker);
	}
}

/* Periodic checkpoints queued by one tick at most (a burst of due books is spread over ticks). */
#define TICK_CHECKPOINTS 5000
#define TICK_RESYNCS 20            /* get_snapshot commands a second, at most, from the timer */
#define RESYNC_FIRST_US 10000000LL /* an open gap's snapshot is asked again after 10 s, */
#define RESYNC_MAX_US 300000000LL  /* doubling up to 5 minutes */

void
coll_subs_tick(int64_t now)
{
	int queued = 0;

	coll_maint_take(coll_subs_on_rest_market, NULL);
	coll_resolve_take(on_fetched, NULL);
	for (int i = 0; i < n_subs; i++)
		if (subs[i].retry_at != 0 && now >= subs[i].retry_at && !subs[i].dead &&
		    coll_ws_connected())
			subscribe(i);
	/* the aligned checkpoints of quiet books: each known up to its sid's last message */
	for (int i = 0; i < n_subs && queued < TICK_CHECKPOINTS && coll_ws_connected(); i++)
		for (int j = 0; !subs[i].dead && subs[i].sid >= 0 && j < subs[i].n; j++)
			if (coll_book_tick(subs[i].mk[j], subs[i].last_rx))
				queued++;
	/* an open gap whose fresh snapshot never came (lost, or the exchange did not answer): ask
	 * again, after 10 s, then doubling up to 5 minutes */
	queued = 0;
	for (int i = 0; i < n_subs && queued < TICK_RESYNCS && coll_ws_connected(); i++)
		for (int j = 0; !subs[i].dead && subs[i].sid >= 0 && j < subs[i].n; j++) {
			struct coll_market *mk = coll_market(subs[i].mk[j]);
			int64_t since = mk->snap_asked > mk->gap.start ? mk->snap_asked : mk->gap.start;
			int64_t wait = RESYNC_FIRST_US << (mk->snap_tries < 5 ? mk->snap_tries : 5);

			if (!mk->gap.open || mk->book == NULL || now - since < (wait < RESYNC_MAX_US ? wait : RESYNC_MAX_US))
				continue;
			update(i, "get_snapshot", j, 1, CMD_OTHER);
			mk->snap_asked = now;
			mk->snap_tries++;
			if (++queued == TICK_RESYNCS)
				break;
		}
}

void
coll_subs_free(void)
{
	for (int i = 0; i < n_subs; i++)
		free(subs[i].mk);
	free(subs);
	subs = NULL;
	n_subs = cap_subs = 0;
}
