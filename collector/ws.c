/*
 * ws: the collector's one WebSocket to Kalshi (libwebsockets 4.1.6 client, the shape of
 * minimal-examples/ws-client/minimal-ws-client). The upgrade is signed in
 * CLIENT_APPEND_HANDSHAKE_HEADER (KALSHI.md section 2: key id, millisecond timestamp, RSA-PSS
 * signature of timestamp + GET + path). Commands wait in a FIFO and leave one lws_write per
 * CLIENT_WRITEABLE callback with LWS_PRE headroom. Frames are reassembled and handed to subs.c
 * with their receive time. libwebsockets answers the exchange's pings; its idle policy pings
 * after silence/2 s without a valid frame and hangs up after silence s. A lost connection is
 * remade with exponential backoff and jitter; a one-second timer drives retries and stats.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>

#include "coll.h"
#include "kauth.h"
#include "ktime.h"
#include "log.h"

#define RX_MAX ((size_t)16 * 1024 * 1024)

struct out_msg {
	struct out_msg *next;
	size_t len;
	unsigned char buf[]; /* LWS_PRE + len */
};

static const struct coll_ws_conf *conf;
static struct lws_context *ctx;
static struct lws *wsi;
static bool connected, stopping, ping_due;
static struct out_msg *out_head, *out_tail;
static char *rx;
static size_t rx_len, rx_cap;
static int64_t rx_ts, last_rx, connected_at;
static int failures;
static lws_sorted_usec_list_t sul_connect, sul_tick;
static lws_retry_bo_t idle_policy;
static char url_buf[512];
static const char *url_prot, *url_host, *url_path;
static int url_port;
static char path_buf[512];

bool
coll_ws_connected(void)
{
	return connected;
}

static void
out_clear(void)
{
	while (out_head != NULL) {
		struct out_msg *m = out_head;

		out_head = m->next;
		free(m);
	}
	out_tail = NULL;
}

bool
coll_ws_send(const char *text)
{
	size_t len = strlen(text);
	struct out_msg *m;

	if (!connected || (m = malloc(sizeof(*m) + LWS_PRE + len)) == NULL)
		return false;
	m->next = NULL;
	m->len = len;
	memcpy(m->buf + LWS_PRE, text, len);
	if (out_tail != NULL)
		out_tail->next = m;
	else
		out_head = m;
	out_tail = m;
	lws_callback_on_writable(wsi);
	return true;
}

static void connect_now(lws_sorted_usec_list_t *sul);

/* Schedules the next connection attempt: 250 ms doubling to 30 s, plus up to 30 % jitter. */
static void
schedule_reconnect(void)
{
	int64_t ms = 250;
	uint32_t r;

	for (int i = 1; i < failures && ms < 30000; i++)
		ms *= 2;
	if (ms > 30000)
		ms = 30000;
	lws_get_random(ctx, &r, sizeof(r));
	ms += (int64_t)(r % (uint32_t)(ms * 3 / 10 + 1));
	log_info("reconnecting in %lld ms", (long long)ms);
	lws_sul_schedule(ctx, 0, &sul_connect, connect_now, ms * LWS_US_PER_MS);
}

static void
connect_now(lws_sorted_usec_list_t *sul)
{
	struct lws_client_connect_info ci;

	(void)sul;
	memset(&ci, 0, sizeof(ci));
	ci.context = ctx;
	ci.address = url_host;
	ci.port = url_port;
	ci.path = path_buf;
	ci.host = url_host;
	ci.origin = NULL; /* Kalshi: no Origin header */
	ci.protocol = NULL;
	ci.local_protocol_name = "kalshi";
	ci.ssl_connection = strcmp(url_prot, "wss") == 0 ? LCCSCF_USE_SSL : 0;
	ci.retry_and_idle_policy = &idle_policy;
	ci.pwsi = &wsi;
	failures++;
	if (lws_client_connect_via_info(&ci) == NULL) {
		log_warnx("cannot start a connection to %s", conf->url);
		wsi = NULL;
		schedule_reconnect();
	}
}

static void
tick(lws_sorted_usec_list_t *sul)
{
	int64_t now = kt_now();

	coll_subs_tick(now);
	/* an idle connection: ping, so that the pong (a frame) moves the recorded-through mark of
	 * its quiet markets at least once a second */
	if (connected && wsi != NULL && now - last_rx >= 1000000) {
		ping_due = true;
		lws_callback_on_writable(wsi);
	}
	__atomic_store_n(&coll_stats.subscribed, (uint64_t)coll_subs_markets(), __ATOMIC_RELAXED);
	__atomic_store_n(&coll_stats.connected, (uint64_t)connected, __ATOMIC_RELAXED);
	lws_sul_schedule(ctx, 0, sul, tick, LWS_US_PER_SEC);
}

/* Adds the three KALSHI-ACCESS-* headers; returns -1 when signing fails. */
static int
sign_headers(struct lws *w, unsigned char **p, unsigned char *end)
{
	char ts[24], sig[KAUTH_SIG_B64_MAX];
	int n;

	if (conf->key == NULL)
		return 0;
	snprintf(ts, sizeof(ts), "%lld", (long long)(kt_now() / 1000));
	if ((n = kauth_sign(conf->key, ts, "GET", path_buf, sig, sizeof(sig))) < 0) {
		log_errorx("cannot sign the handshake");
		return -1;
	}
	if (lws_add_http_header_by_name(w, (const unsigned char *)"KALSHI-ACCESS-KEY:",
	        (const unsigned char *)conf->key_id, (int)strlen(conf->key_id), p, end) ||
	    lws_add_http_header_by_name(w, (const unsigned char *)"KALSHI-ACCESS-TIMESTAMP:",
	        (const unsigned char *)ts, (int)strlen(ts), p, end) ||
	    lws_add_http_header_by_name(w, (const unsigned char *)"KALSHI-ACCESS-SIGNATURE:",
	        (const unsigned char *)sig, n, p, end))
		return -1;
	return 0;
}

static void
on_closed(const char *why)
{
	if (stopping) {
		connected = false;
		wsi = NULL;
		return;
	}
	if (connected) {
		int64_t up = kt_now() - connected_at;

		log_warnx("connection lost (%s) after %lld s", why, (long long)(up / 1000000));
		__atomic_add_fetch(&coll_stats.reconnects, 1, __ATOMIC_RELAXED);
		if (up > 10000000)
			failures = 0;
		connected = false;
		ping_due = false;
		coll_subs_on_disconnect(last_rx);
	} else {
		log_warnx("connection failed: %s", why);
	}
	wsi = NULL;
	out_clear();
	rx_len = 0;
	schedule_reconnect();
}

static int
callback(struct lws *w, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	struct out_msg *m;

	(void)user;
	switch (reason) {
	case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER: {
		unsigned char **p = in;

		return sign_headers(w, p, *p + len);
	}
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		log_info("connected to %s", conf->url);
		connected = true;
		connected_at = last_rx = kt_now();
		coll_subs_on_connect();
		break;
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		on_closed(in != NULL ? (const char *)in : "connection error");
		break;
	case LWS_CALLBACK_CLIENT_CLOSED:
		on_closed("closed");
		break;
	case LWS_CALLBACK_CLIENT_RECEIVE:
		if (rx_len == 0)
			rx_ts = kt_now();
		last_rx = kt_now();
		if (lws_frame_is_binary(w)) {
			if (lws_is_final_fragment(w))
				rx_len = 0;
			break;
		}
		if (rx_len + len > RX_MAX) {
			log_errorx("a message over %zu bytes; dropping the connection", RX_MAX);
			return -1;
		}
		if (rx_len + len + 1 > rx_cap) {
			size_t cap = rx_cap == 0 ? 65536 : rx_cap;
			char *p;

			while (cap < rx_len + len + 1)
				cap *= 2;
			if ((p = realloc(rx, cap)) == NULL)
				return -1;
			rx = p;
			rx_cap = cap;
		}
		memcpy(rx + rx_len, in, len);
		rx_len += len;
		if (lws_is_final_fragment(w) && lws_remaining_packet_payload(w) == 0) {
			rx[rx_len] = '\0';
			coll_subs_on_message(rx, rx_len, rx_ts);
			rx_len = 0;
		}
		/* every frame received up to last_rx is handled and its events queued */
		if (rx_len == 0)
			coll_writer_mark(last_rx);
		break;
	case LWS_CALLBACK_CLIENT_RECEIVE_PONG:
		last_rx = kt_now();
		if (rx_len == 0) /* not between the fragments of a message */
			coll_writer_mark(last_rx);
		break;
	case LWS_CALLBACK_CLIENT_WRITEABLE:
		if (ping_due) {
			unsigned char ping[LWS_PRE + 1];

			ping_due = false;
			if (lws_write(w, ping + LWS_PRE, 0, LWS_WRITE_PING) < 0)
				return -1;
			if (out_head != NULL)
				lws_callback_on_writable(w);
			break;
		}
		if ((m = out_head) == NULL)
			break;
		out_head = m->next;
		if (out_head == NULL)
			out_tail = NULL;
		if (lws_write(w, m->buf + LWS_PRE, m->len, LWS_WRITE_TEXT) < (int)m->len) {
			free(m);
			return -1;
		}
		free(m);
		if (out_head != NULL)
			lws_callback_on_writable(w);
		break;
	default:
		break;
	}
	return 0;
}

static const struct lws_protocols protocols[] = {
	{ "kalshi", callback, 0, 65536, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 },
};

int
coll_ws_run(const struct coll_ws_conf *c, const volatile int *stop)
{
	struct lws_context_creation_info info;
	int rc = -1;

	conf = c;
	snprintf(url_buf, sizeof(url_buf), "%s", c->url);
	if (lws_parse_uri(url_buf, &url_prot, &url_host, &url_port, &url_path) != 0 ||
	    (strcmp(url_prot, "ws") != 0 && strcmp(url_prot, "wss") != 0)) {
		log_errorx("KBOOK_KALSHI_WS_URL is not a ws:// or wss:// URL: %s", c->url);
		return -1;
	}
	snprintf(path_buf, sizeof(path_buf), "/%s", url_path);
	idle_policy.secs_since_valid_ping = (uint16_t)(c->silence_s / 2 > 0 ? c->silence_s / 2 : 1);
	idle_policy.secs_since_valid_hangup = (uint16_t)c->silence_s;
	lws_set_log_level(LLL_ERR, NULL);
	memset(&info, 0, sizeof(info));
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = protocols;
	info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
	if ((ctx = lws_create_context(&info)) == NULL) {
		log_errorx("cannot create the libwebsockets context");
		return -1;
	}
	lws_sul_schedule(ctx, 0, &sul_tick, tick, LWS_US_PER_SEC);
	connect_now(&sul_connect);
	while (!*stop)
		if (lws_service(ctx, 0) < 0)
			goto out;
	rc = 0;
out:
	stopping = true;
	lws_context_destroy(ctx);
	connected = false;
	ctx = NULL;
	out_clear();
	free(rx);
	rx = NULL;
	rx_cap = rx_len = 0;
	return rc;
}
