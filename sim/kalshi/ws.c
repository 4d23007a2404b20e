/*
 * ws: the WebSocket side of the sim at /trade-api/ws/v2. The upgrade is refused with HTTP 401
 * unless it is signed (auth.c), and with 404 on any other path. Each connection has a bounded
 * FIFO of outgoing frames: everything is queued, and LWS_CALLBACK_SERVER_WRITEABLE writes what is
 * queued in one write (up to WS_WRITE_BYTES), asking for another call while frames remain.
 * Subscription
 * data that would push the queue past --send-queue-bytes is refused, which subs.c turns into the
 * terminal error 25. A 1 s timer sends the Ping frame with body "heartbeat" every
 * --ping-interval-ms. Command frames are reassembled from fragments up to --max-frame bytes.
 *
 * The protocol callback lives here; HTTP reasons are passed on to http.c.
 */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "sim.h"
#include "wsout.h"

static lws_sorted_usec_list_t ws_heartbeat_sul;

#define WS_PATH "/trade-api/ws/v2"

struct sim_conn *
sim_conn_find(uint64_t id)
{
	for (struct sim_conn *c = sim_w.conns; c != NULL; c = c->next)
		if (c->id == id)
			return c;
	return NULL;
}

static struct sim_qmsg *
ws_qmsg_new(const char *data, size_t len, enum sim_qkind kind, enum sim_mtype type)
{
	struct sim_qmsg *q = malloc(sizeof(*q) + len);

	if (q == NULL)
		return NULL;
	q->next = NULL;
	q->len = len;
	q->kind = (uint8_t)kind;
	q->type = (uint8_t)type;
	q->counted = false;
	if (len > 0)
		memcpy(q->buf, data, len);
	return q;
}

static void
ws_push(struct sim_conn *c, struct sim_qmsg *q)
{
	bool was_empty = c->qhead == NULL;

	if (c->qtail != NULL)
		c->qtail->next = q;
	else
		c->qhead = q;
	c->qtail = q;
	c->qbytes += q->len;
	c->qcount++;
	if (was_empty)
		lws_callback_on_writable(c->wsi);
}

int
sim_ws_queue(struct sim_conn *c, const char *text, size_t len, enum sim_mtype type, bool counted)
{
	struct sim_qmsg *q;

	if (counted && c->qbytes + len > sim_w.opt.send_queue_max)
		return -1;
	q = ws_qmsg_new(text, len, SIM_Q_TEXT, type);
	if (q == NULL) {
		log_warnx("conn %llu: out of memory queueing a message", (unsigned long long)c->id);
		return -1;
	}
	q->counted = counted;
	ws_push(c, q);
	return 0;
}

void
sim_ws_queue_ping(struct sim_conn *c)
{
	struct sim_qmsg *q = ws_qmsg_new("heartbeat", 9, SIM_Q_PING, SIM_MT_PING);

	if (q != NULL)
		ws_push(c, q);
}

void
sim_ws_freeze(struct sim_conn *c, bool frozen)
{
	c->f_frozen = frozen;
	lws_rx_flow_control(c->wsi, frozen ? 0 : 1);
	if (!frozen)
		lws_callback_on_writable(c->wsi);
}

void
sim_ws_close_soon(struct sim_conn *c)
{
	c->f_close = true;
	lws_callback_on_writable(c->wsi);
}

static void
ws_log_sent(const struct sim_conn *c, const struct sim_qmsg *q, int64_t now)
{
	if (sim_w.msg_log == NULL || q->kind != SIM_Q_TEXT)
		return;
	fprintf(sim_w.msg_log, "%lld %llu ", (long long)now, (unsigned long long)c->id);
	fwrite(q->buf, 1, q->len, sim_w.msg_log);
	fputc('\n', sim_w.msg_log);
}

/*
 * Bytes framed into one write at most. libwebsockets' examples write one frame per WRITEABLE
 * callback; at 100 000+ frames a second that is a send() and a pass of the event loop per frame,
 * which made the sim, not its reader, the limit of the collector's benchmark (and most of a core
 * at 10 000 changes/s under the feed's). So the callback frames everything queued, up to this,
 * into one write (lib/wsout); a part the kernel does not take is kept by lws, which calls
 * WRITEABLE again only once it is out.
 */
#define WS_WRITE_BYTES 65536

/* Writes from the head of c's queue. Returns -1 to close the connection. */
static int
ws_writeable(struct sim_conn *c)
{
	static struct wsout out;
	struct sim_qmsg *q;
	int64_t now = sim_now_us();

	if (c->f_close)
		return -1;
	if (c->f_frozen)
		return 0;
	while ((q = c->qhead) != NULL && out.len < WS_WRITE_BYTES) {
		if (wsout_frame(&out, q->kind == SIM_Q_PING ? WSOUT_PING : WSOUT_TEXT, q->buf,
		    q->len) != 0) {
			log_warnx("conn %llu: out of memory writing", (unsigned long long)c->id);
			out.len = 0;
			return -1;
		}
		c->qhead = q->next;
		if (c->qhead == NULL)
			c->qtail = NULL;
		c->qbytes -= q->len;
		c->qcount--;
		/* pings are frames, not messages: only their own counter moves */
		if (q->kind == SIM_Q_TEXT) {
			sim_w.st.sent_total++;
			sim_w.st.sent_bytes += q->len;
		}
		if (q->type < SIM_MT_COUNT)
			sim_w.st.sent_by_type[q->type]++;
		ws_log_sent(c, q, now);
		free(q);
	}
	if (wsout_write(&out, c->wsi) != 0) {
		log_warnx("conn %llu: write failed", (unsigned long long)c->id);
		return -1;
	}
	if (c->qhead != NULL)
		lws_callback_on_writable(c->wsi);
	return 0;
}

static void
ws_conn_free(struct sim_conn *c)
{
	struct sim_qmsg *q, *next;

	sim_subs_drop_all(c);
	for (q = c->qhead; q != NULL; q = next) {
		next = q->next;
		free(q);
	}
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		sim_w.conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	free(c->held);
	free(c->rx);
	free(c);
}

static struct sim_conn *
ws_conn_new(struct lws *wsi)
{
	struct sim_conn *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->wsi = wsi;
	c->id = ++sim_w.next_conn_id;
	c->last_ping_us = sim_now_us();
	c->next = sim_w.conns;
	if (sim_w.conns != NULL)
		sim_w.conns->prev = c;
	sim_w.conns = c;
	sim_fault_on_connect(c);
	return c;
}

/*
 * Takes one command from c's bucket (--cmd-rate per second, burst one second's worth); false
 * when it is empty: the exchange answers error 27 then.
 */
static bool
ws_charge_command(struct sim_conn *c)
{
	int64_t now = sim_now_us(), cap = sim_w.opt.cmd_rate * 1000000;

	if (sim_w.opt.cmd_rate <= 0)
		return true;
	if (c->cmd_tokens_t == 0)
		c->cmd_tokens = cap;
	else
		c->cmd_tokens += (now - c->cmd_tokens_t) * sim_w.opt.cmd_rate;
	if (c->cmd_tokens > cap)
		c->cmd_tokens = cap;
	c->cmd_tokens_t = now;
	if (c->cmd_tokens < 1000000)
		return false;
	c->cmd_tokens -= 1000000;
	return true;
}

/* Accumulates a fragment of a command; handles the command when the message is complete. */
static void
ws_receive(struct lws *wsi, struct sim_conn *c, const char *in, size_t len)
{
	bool done = lws_is_final_fragment(wsi) && lws_remaining_packet_payload(wsi) == 0;

	if (!c->rx_too_big) {
		if (c->rx_len + len > sim_w.opt.max_frame) {
			c->rx_too_big = true;
			free(c->rx);
			c->rx = NULL;
			c->rx_len = 0;
		} else if (len > 0) {
			char *p = realloc(c->rx, c->rx_len + len + 1);

			if (p == NULL) {
				c->rx_too_big = true;
			} else {
				c->rx = p;
				memcpy(c->rx + c->rx_len, in, len);
				c->rx_len += len;
				c->rx[c->rx_len] = '\0';
			}
		}
	}
	if (!done)
		return;
	if (!ws_charge_command(c)) {
		sim_subs_refuse(c, c->rx != NULL ? c->rx : "", c->rx_len, KERR_TOO_MANY);
	} else if (c->rx_too_big || lws_frame_is_binary(wsi)) {
		static const char err[] =
		    "{\"type\":\"error\",\"msg\":{\"code\":1,\"msg\":\"Unable to process message\"}}";

		sim_ws_queue(c, err, sizeof(err) - 1, SIM_MT_ERROR, false);
	} else {
		sim_subs_command(c, c->rx != NULL ? c->rx : "", c->rx_len);
	}
	free(c->rx);
	c->rx = NULL;
	c->rx_len = 0;
	c->rx_too_big = false;
}

/* Refuses or accepts an upgrade: 0 to accept, 1 when a refusal has been written. */
static int
ws_confirm_upgrade(struct lws *wsi, const char *proto)
{
	char uri[256];
	const char *why = "";
	int n = lws_hdr_copy(wsi, uri, sizeof(uri), WSI_TOKEN_GET_URI);

	if (proto == NULL || strcmp(proto, "websocket") != 0 || n <= 0 || strcmp(uri, WS_PATH) != 0) {
		sim_w.st.ws_refused++;
		return hsrv_write_simple(wsi, 404,
		    "{\"error\":{\"code\":\"not_found\",\"message\":\"not found\"}}") < 0 ? -1 : 1;
	}
	if (sim_auth_check(wsi, "GET", WS_PATH, &why) != SIM_AUTH_OK) {
		log_info("websocket upgrade refused: %s", why);
		sim_w.st.ws_refused++;
		return hsrv_write_simple(wsi, 401,
		    "{\"error\":{\"code\":\"unauthorized\",\"message\":\"authentication failed\"}}") < 0 ?
		    -1 : 1;
	}
	return 0;
}

int
sim_ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	struct sim_pss *pss = user;

	/* the upgrade is confirmed before any session data exists */
	if (reason == LWS_CALLBACK_HTTP_CONFIRM_UPGRADE)
		return ws_confirm_upgrade(wsi, in);
	if (reason == LWS_CALLBACK_RAW_RX_FILE || reason == LWS_CALLBACK_RAW_CLOSE_FILE)
		return sim_flow_clock(wsi, reason);
	if (pss == NULL)
		return sim_http_callback(wsi, reason, user, in, len);
	switch (reason) {
	case LWS_CALLBACK_ESTABLISHED:
		pss->conn = ws_conn_new(wsi);
		if (pss->conn == NULL) {
			log_warnx("out of memory accepting a websocket");
			return -1;
		}
		sim_w.st.ws_accepted++;
		log_info("websocket %llu connected", (unsigned long long)pss->conn->id);
		return 0;
	case LWS_CALLBACK_RECEIVE:
		if (pss->conn != NULL)
			ws_receive(wsi, pss->conn, in, len);
		return 0;
	case LWS_CALLBACK_SERVER_WRITEABLE:
		return pss->conn != NULL ? ws_writeable(pss->conn) : 0;
	case LWS_CALLBACK_RECEIVE_PONG:
		return 0;
	case LWS_CALLBACK_CLOSED:
		if (pss->conn != NULL) {
			log_info("websocket %llu closed", (unsigned long long)pss->conn->id);
			ws_conn_free(pss->conn);
			pss->conn = NULL;
		}
		return 0;
	default:
		return sim_http_callback(wsi, reason, user, in, len);
	}
}

static void
ws_heartbeat(lws_sorted_usec_list_t *sul)
{
	int64_t now = sim_now_us();

	for (struct sim_conn *c = sim_w.conns; c != NULL; c = c->next) {
		if (c->f_no_pings || c->f_frozen)
			continue;
		if (now - c->last_ping_us >= sim_w.opt.ping_interval_ms * 1000) {
			c->last_ping_us = now;
			sim_ws_queue_ping(c);
		}
	}
	if (sim_w.msg_log != NULL)
		fflush(sim_w.msg_log);
	lws_sul_schedule(sim_w.ctx, 0, sul, ws_heartbeat,
	    sim_w.opt.ping_interval_ms < 1000 ? sim_w.opt.ping_interval_ms * 1000 : 1000000);
}

void
sim_ws_heartbeat_start(void)
{
	lws_sul_schedule(sim_w.ctx, 0, &ws_heartbeat_sul, ws_heartbeat, 1000000);
}
