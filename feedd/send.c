/*
 * send: each connection's bounded send queue. Messages are copied in with LWS_PRE headroom and
 * written in bursts from SERVER_WRITEABLE (feed_send_writeable). A client whose queue would pass KBOOK_FEEDD_SEND_MAX
 * bytes cannot keep up: its queue is dropped, Kalshi's terminal error 25 is queued alone, and the
 * connection is closed (1008, with the reason) right after it, so one slow reader never holds
 * memory or time that the others need.
 */
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "feed.h"
#include "log.h"

static const char feed_overflow_msg[] =
    "{\"type\":\"error\",\"msg\":{\"code\":25,\"msg\":\"Subscription buffer overflow\"}}";

static int
feed_send_queue(struct feed_conn *c, const char *text, size_t len)
{
	struct feed_msg *m = malloc(sizeof(*m) + LWS_PRE + len);

	if (m == NULL)
		return -1;
	m->next = NULL;
	m->len = len;
	memcpy(m->buf + LWS_PRE, text, len);
	if (c->tail != NULL)
		c->tail->next = m;
	else
		c->head = m;
	c->tail = m;
	c->queued += len;
	lws_callback_on_writable(c->wsi);
	return 0;
}

void
feed_send_free(struct feed_conn *c)
{
	struct feed_msg *m, *next;

	for (m = c->head; m != NULL; m = next) {
		next = m->next;
		free(m);
	}
	c->head = c->tail = NULL;
	c->queued = 0;
}

void
feed_send_close(struct feed_conn *c, int code, const char *reason)
{
	if (c->close_code != 0)
		return;
	c->close_code = code;
	snprintf(c->close_reason, sizeof(c->close_reason), "%s", reason);
	lws_callback_on_writable(c->wsi);
}

int
feed_send(struct feed_conn *c, const char *text, size_t len)
{
	if (c->close_code != 0)
		return -1;
	if (c->queued + len > (size_t)cfg.feedd_send_max) {
		log_warnx("conn %llu: %zu bytes queued: dropped as too slow", (unsigned long long)c->id,
		    c->queued);
		feed_stats.slow_drops++;
		feed_send_free(c);
		(void)feed_send_queue(c, feed_overflow_msg, sizeof(feed_overflow_msg) - 1);
		feed_send_close(c, LWS_CLOSE_STATUS_POLICY_VIOLATION,
		    "send buffer overflow: the client read too slowly");
		return -1;
	}
	if (feed_send_queue(c, text, len) != 0) {
		feed_send_close(c, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION, "out of memory");
		return -1;
	}
	return 0;
}

/*
 * Up to FEED_WRITE_BURST queued messages per WRITEABLE callback, while the socket takes them
 * (lws_send_pipe_choked): with one message per callback, a loop iteration busy with a Postgres
 * read sent one message per client, and under the benchmark's 60 000 messages/s the queues grew
 * without bound. A write the kernel takes only partly is kept by lws and makes the pipe choked, so
 * the loop stops there and the rest goes out at the next WRITEABLE.
 */
#define FEED_WRITE_BURST 64

int
feed_send_writeable(struct feed_conn *c)
{
	struct feed_msg *m;

	for (int k = 0; k < FEED_WRITE_BURST; k++) {
		if ((m = c->head) == NULL) {
			if (c->close_code == 0)
				return 0;
			lws_close_reason(c->wsi, (enum lws_close_status)c->close_code,
			    (unsigned char *)c->close_reason, strlen(c->close_reason));
			return -1;
		}
		if (k > 0 && lws_send_pipe_choked(c->wsi))
			break;
		if (lws_write(c->wsi, m->buf + LWS_PRE, m->len, LWS_WRITE_TEXT) < (int)m->len)
			return -1;
		feed_stats.msgs_sent++;
		feed_stats.bytes_sent += m->len;
		c->head = m->next;
		if (c->head == NULL)
			c->tail = NULL;
		c->queued -= m->len;
		free(m);
	}
	if (c->head != NULL || c->close_code != 0)
		lws_callback_on_writable(c->wsi);
	return 0;
}
