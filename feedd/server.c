/*
 * server: the one libwebsockets protocol of kbook-feedd. It answers the HTTP probes (/healthz,
 * /metrics), authenticates the websocket handshake before the upgrade (a refused handshake gets
 * its HTTP status and a JSON body, written the way lws_return_http_status writes its own: one
 * write of headers and body, since the transaction ends in the same callback), and runs each
 * websocket: frames in, the send queue out (only from SERVER_WRITEABLE, send.c), a heartbeat
 * ping every KBOOK_FEEDD_PING_S and the periodic credit charge on the connection's timer. The Postgres descriptor adopted by pgsource.c is served here too.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "feed.h"
#include "ktime.h"
#include "log.h"

#define FEED_RX_MAX 65536 /* largest command frame */

struct feed_conn *feed_conns;
size_t feed_n_conns;

/* Per-session data: a connection (websocket) or a probe answer (HTTP). */
struct feed_pss {
	struct feed_conn *conn;
	char *body;          /* HTTP answer body, sent in HTTP_WRITEABLE */
	size_t body_len;
	char *rx;            /* a command frame being reassembled */
	size_t rx_len;
};

/* The caller authenticated by CONFIRM_UPGRADE, handed to ESTABLISHED of the same wsi. */
static struct {
	struct lws *wsi;
	struct feed_caller caller;
} feed_pending;

static uint64_t feed_next_id;

void
feed_close_all(int code, const char *reason)
{
	for (struct feed_conn *c = feed_conns; c != NULL; c = c->next)
		feed_send_close(c, code, reason);
}

/* Writes status, JSON content type, length, extra header and body in one write. */
static int
feed_http_answer(struct lws *wsi, unsigned status, const char *type, const char *body,
    size_t len, const char *retry_after)
{
	unsigned char buf[LWS_PRE + 4096], *start = buf + LWS_PRE, *p = start, *end = buf + sizeof(buf);
	char clen[24];
	int n;

	snprintf(clen, sizeof(clen), "%zu", len);
	if (lws_add_http_header_status(wsi, status, &p, end) ||
	    lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE,
	    (const unsigned char *)type, (int)strlen(type), &p, end) ||
	    lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH,
	    (const unsigned char *)clen, (int)strlen(clen), &p, end) ||
	    (retry_after != NULL && lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_RETRY_AFTER,
	    (const unsigned char *)retry_after, (int)strlen(retry_after), &p, end)) ||
	    lws_finalize_http_header(wsi, &p, end))
		return -1;
	if ((size_t)(end - p) < len)
		return -1;
	memcpy(p, body, len);
	p += len;
	n = (int)(p - start);
	return lws_write(wsi, start, (size_t)n, LWS_WRITE_HTTP) == n ? 0 : -1;
}

/*
 * Adds the request id nginx gave the handshake (X-Request-Id: 32 hex digits) to a refusal's JSON
 * envelope, as the API's errors carry theirs. A missing or malformed header adds nothing.
 */
static void
feed_body_request_id(struct lws *wsi, char *body, size_t cap)
{
	char id[40];
	size_t n = strlen(body);
	int len = lws_hdr_custom_length(wsi, "x-request-id:", 13);

	if (len <= 0 || len >= (int)sizeof(id) || lws_hdr_custom_copy(wsi, id, sizeof(id),
	    "x-request-id:", 13) != len || strspn(id, "0123456789abcdef") != (size_t)len)
		return;
	if (n < 2 || strcmp(body + n - 2, "}\n") != 0 || n + (size_t)len + 18 >= cap)
		return;
	snprintf(body + n - 2, cap - (n - 2), ",\"request_id\":\"%s\"}\n", id);
}

/* The probes: headers now, the body in HTTP_WRITEABLE. */
static int
feed_http(struct lws *wsi, struct feed_pss *pss, const char *path)
{
	unsigned char buf[LWS_PRE + 1024], *start = buf + LWS_PRE, *p = start, *end = buf + sizeof(buf);
	const char *type = "application/json";
	unsigned status = HTTP_STATUS_OK;

	if (strcmp(path, "/healthz") == 0) {
		bool up = feed_pg_up();

		status = up ? HTTP_STATUS_OK : HTTP_STATUS_SERVICE_UNAVAILABLE;
		if (asprintf(&pss->body, "{\"status\":\"%s\",\"postgres\":\"%s\",\"connections\":%zu}\n",
		    up ? "ok" : "degraded", up ? "up" : "down", feed_n_conns) < 0)
			pss->body = NULL;
		pss->body_len = pss->body != NULL ? strlen(pss->body) : 0;
	} else if (strcmp(path, "/metrics") == 0) {
		type = "text/plain; version=0.0.4";
		pss->body = feed_metrics_text(&pss->body_len);
	} else {
		char b[256];

		status = HTTP_STATUS_NOT_FOUND;
		snprintf(b, sizeof(b), "{\"error\":{\"code\":\"not_found\",\"message\":\"no such path; "
		    "the feed is a websocket at /v1/feed\",\"status\":404}}\n");
		feed_body_request_id(wsi, b, sizeof(b));
		pss->body = strdup(b);
		pss->body_len = pss->body != NULL ? strlen(pss->body) : 0;
	}
	if (pss->body == NULL)
		return -1;
	if (lws_add_http_common_headers(wsi, status, type, pss->body_len, &p, end) ||
	    lws_finalize_write_http_header(wsi, start, &p, end))
		return -1;
	lws_callback_on_writable(wsi);
	return 0;
}

static int
feed_http_writeable(struct lws *wsi, struct feed_pss *pss)
{
	unsigned char *buf;
	int rc = -1;

	if (pss->body == NULL)
		return -1;
	if ((buf = malloc(LWS_PRE + pss->body_len)) == NULL)
		goto out;
	memcpy(buf + LWS_PRE, pss->body, pss->body_len);
	rc = lws_write(wsi, buf + LWS_PRE, pss->body_len, LWS_WRITE_HTTP_FINAL) == (int)pss->body_len ?
	    0 : -1;
out:
	free(buf);
	free(pss->body);
	pss->body = NULL;
	/* completing the transaction may free pss: it is not touched afterwards */
	if (rc == 0 && lws_http_transaction_completed(wsi))
		rc = -1;
	return rc;
}

/*
 * Before the upgrade: the path must be the feed's, and the key valid with credits left: checked
 * on the query thread before the socket was handed to lws (accept.c), whose verdict is taken
 * here. Returns 0 to let the upgrade proceed, 1 after answering a refusal (lws completes the
 * transaction).
 */
static int
feed_confirm_upgrade(struct lws *wsi)
{
	char path[128], body[512], retry[16];
	struct feed_verdict v;
	bool has_verdict;
	int status;

	feed_pending.wsi = NULL;
	if (lws_hdr_copy(wsi, path, sizeof(path), WSI_TOKEN_GET_URI) <= 0 ||
	    (strcmp(path, "/v1/feed") != 0 && strcmp(path, "/trade-api/ws/v2") != 0)) {
		snprintf(body, sizeof(body), "{\"error\":{\"code\":\"not_found\",\"message\":"
		    "\"the feed is at /v1/feed\",\"status\":404}}\n");
		feed_body_request_id(wsi, body, sizeof(body));
		return feed_http_answer(wsi, 404, "application/json", body, strlen(body), NULL) ? -1 : 1;
	}
	has_verdict = feed_accept_verdict(lws_get_socket_fd(wsi), &v);
	status = feed_auth_confirm(wsi, has_verdict ? &v : NULL, &feed_pending.caller, body,
	    sizeof(body));
	if (status == 0) {
		feed_pending.wsi = wsi;
		return 0;
	}
	feed_body_request_id(wsi, body, sizeof(body));
	snprintf(retry, sizeof(retry), "%d", status == 503 ? 5 : 60);
	return feed_http_answer(wsi, (unsigned)status, "application/json", body, strlen(body),
	    status == 429 || status == 503 ? retry : NULL) ? -1 : 1;
}

/*
 * Arms wsi's timer for the whole second nearest to KBOOK_FEEDD_PING_S from now. libwebsockets 4.1
 * polls with timeout 0 while its next timer is under 1 ms away, so a thousand connections' timers
 * spread over the ping period kept the loop spinning a tenth of the time; on whole seconds they
 * fire together. (Rounding up instead made every period a second longer, since the timer fires
 * just after a whole second.)
 */
static void
feed_timer_arm(struct lws *wsi)
{
	int64_t now = kt_now(), at = now + cfg.feedd_ping_s * 1000000 - 500000;

	at += 1000000 - at % 1000000;
	lws_set_timer_usecs(wsi, at - now);
}

static int
feed_established(struct lws *wsi, struct feed_pss *pss)
{
	struct feed_conn *c;

	if (feed_pending.wsi != wsi || feed_stopping)
		return -1;
	feed_pending.wsi = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return -1;
	c->wsi = wsi;
	c->cmdq_tail = &c->cmdq;
	c->id = ++feed_next_id;
	c->caller = feed_pending.caller;
	c->last_rx = kt_now();
	c->next_charge = c->last_rx + cfg.feedd_charge_s * 1000000;
	c->next = feed_conns;
	if (feed_conns != NULL)
		feed_conns->prev = c;
	feed_conns = c;
	feed_n_conns++;
	feed_stats.conns_total++;
	pss->conn = c;
	feed_timer_arm(wsi);
	log_info("conn %llu: open for account %lld key %lld", (unsigned long long)c->id,
	    (long long)c->caller.account_id, (long long)c->caller.key_id);
	return 0;
}

void
feed_conn_ref(struct feed_conn *c)
{
	c->refs++;
}

void
feed_conn_unref(struct feed_conn *c)
{
	if (--c->refs == 0 && c->closed)
		free(c);
}

static void
feed_closed(struct feed_pss *pss)
{
	struct feed_conn *c = pss->conn;

	free(pss->rx);
	pss->rx = NULL;
	if (c == NULL)
		return;
	pss->conn = NULL;
	c->closed = true;
	c->wsi = NULL;
	log_info("conn %llu: closed%s%s", (unsigned long long)c->id,
	    c->close_reason[0] != '\0' ? ": " : "", c->close_reason);
	feed_subs_free(c);
	feed_send_free(c);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		feed_conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	feed_n_conns--;
	c->prev = c->next = NULL;
	if (c->refs == 0)
		free(c);
}

/* A frame (or fragment) from the client; commands run once the message is whole. */
static int
feed_receive(struct lws *wsi, struct feed_pss *pss, const void *in, size_t len)
{
	struct feed_conn *c = pss->conn;
	char *n;

	if (c == NULL)
		return -1;
	c->last_rx = kt_now();
	if (lws_frame_is_binary(wsi)) {
		feed_send_close(c, LWS_CLOSE_STATUS_UNACCEPTABLE_OPCODE, "text frames only");
		return 0;
	}
	if (pss->rx_len + len > FEED_RX_MAX) {
		feed_send_close(c, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, "command larger than 64 KiB");
		return 0;
	}
	if ((n = realloc(pss->rx, pss->rx_len + len + 1)) == NULL)
		return -1;
	pss->rx = n;
	memcpy(pss->rx + pss->rx_len, in, len);
	pss->rx_len += len;
	if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi) > 0)
		return 0;
	if (c->close_code == 0)
		feed_subs_command(c, pss->rx, pss->rx_len);
	pss->rx_len = 0;
	return 0;
}

/* The periodic charge of a connection's markets, on the query thread. */
struct feed_charge_job {
	struct feed_job j;
	struct feed_conn *c;         /* held */
	struct feed_caller caller;
	int64_t credits, at;
	enum feed_charge_rc rc;
};

static void
feed_charge_run(struct feed_job *j, struct db *db)
{
	struct feed_charge_job *cj = (struct feed_charge_job *)j;

	cj->rc = feed_auth_charge(db, &cj->caller, cj->credits);
}

static void
feed_charge_done(struct feed_job *j)
{
	struct feed_charge_job *cj = (struct feed_charge_job *)j;
	struct feed_conn *c = cj->c;

	c->charging = false;
	if (c->closed || c->close_code != 0)
		goto out;
	switch (cj->rc) {
	case FEED_CH_OK:
		c->next_charge = cj->at + cfg.feedd_charge_s * 1000000;
		break;
	case FEED_CH_CREDITS:
		feed_send_close(c, LWS_CLOSE_STATUS_POLICY_VIOLATION, "credits exhausted");
		break;
	case FEED_CH_KEY_CAP:
		feed_send_close(c, LWS_CLOSE_STATUS_POLICY_VIOLATION, "key credit cap reached");
		break;
	case FEED_CH_REVOKED:
	case FEED_CH_DISABLED:
		feed_auth_cut(c, cj->rc);
		break;
	case FEED_CH_DOWN:
		/* the database is away: the client keeps its feed, the charge is lost (counted) */
		feed_stats.charges_failed++;
		break;
	case FEED_CH_RATE: /* try again at the next ping */
		break;
	}
out:
	feed_conn_unref(c);
	free(cj);
}

static void
feed_charge_start(struct feed_conn *c, int64_t now)
{
	struct feed_charge_job *cj = calloc(1, sizeof(*cj));

	if (cj == NULL)
		return;
	cj->c = c;
	cj->caller = c->caller;
	cj->credits = (int64_t)c->subs.n_markets;
	cj->at = now;
	cj->j.run = feed_charge_run;
	cj->j.done = feed_charge_done;
	feed_conn_ref(c);
	c->charging = true;
	feed_jobs_submit(&cj->j);
}

/* The connection's timer: heartbeat, dead-client check, periodic charge. */
static int
feed_timer(struct lws *wsi, struct feed_pss *pss)
{
	struct feed_conn *c = pss->conn;
	int64_t now = kt_now();

	if (c == NULL)
		return -1;
	if (now - c->last_rx > 3 * cfg.feedd_ping_s * 1000000) {
		feed_stats.dead_drops++;
		snprintf(c->close_reason, sizeof(c->close_reason), "no pong for %" PRId64 "s",
		    3 * cfg.feedd_ping_s);
		return -1;
	}
	if (now >= c->next_charge && c->subs.n_markets > 0 && c->close_code == 0 && !c->charging)
		feed_charge_start(c, now);
	c->ping_due = true;
	lws_callback_on_writable(wsi);
	feed_timer_arm(wsi);
	return 0;
}

static int
feed_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	struct feed_pss *pss = user;

	switch (reason) {
	case LWS_CALLBACK_PROTOCOL_INIT:
		if (feed_accept_start(lws_get_vhost(wsi), cfg.feedd_listen) != 0)
			return -1;
		feed_pg_start(lws_get_vhost(wsi));
		return 0;
	case LWS_CALLBACK_HTTP:
		return feed_http(wsi, pss, in != NULL ? (const char *)in : "");
	case LWS_CALLBACK_HTTP_WRITEABLE:
		return feed_http_writeable(wsi, pss);
	case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
		if (in == NULL || strcmp(in, "websocket") != 0)
			return -1;
		return feed_confirm_upgrade(wsi);
	case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
	case LWS_CALLBACK_CLOSED_HTTP:
		if (pss != NULL) {
			free(pss->body);
			pss->body = NULL;
		}
		return 0;
	case LWS_CALLBACK_ESTABLISHED:
		return feed_established(wsi, pss);
	case LWS_CALLBACK_RECEIVE:
		return feed_receive(wsi, pss, in, len);
	case LWS_CALLBACK_RECEIVE_PONG:
		if (pss->conn != NULL)
			pss->conn->last_rx = kt_now();
		return 0;
	case LWS_CALLBACK_SERVER_WRITEABLE:
		return pss->conn != NULL ? feed_send_writeable(pss->conn) : -1;
	case LWS_CALLBACK_TIMER:
		return feed_timer(wsi, pss);
	case LWS_CALLBACK_CLOSED:
		feed_closed(pss);
		return 0;
	case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
		/* woken by a flush that left pages to read (markets.c) or by a signal */
		(void)feed_market_flush();
		return 0;
	case LWS_CALLBACK_RAW_ADOPT_FILE:
	case LWS_CALLBACK_RAW_RX_FILE:
	case LWS_CALLBACK_RAW_CLOSE_FILE:
	case LWS_CALLBACK_RAW_WRITEABLE_FILE:
		return feed_pg_callback(wsi, reason);
	default:
		return 0;
	}
}

const struct lws_protocols feed_protocols[] = {
	{ "kbook-feed", feed_callback, sizeof(struct feed_pss), 4096, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 },
};
