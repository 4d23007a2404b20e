/*
 * send: each connection's bounded send queue. Messages are copied in and written from
 * SERVER_WRITEABLE (feed_send_writeable), as many as fit FEED_WRITE_BYTES framed into one write
 * (lib/wsout), the due ping first. A client whose queue would pass KBOOK_FEEDD_SEND_MAX
 * bytes cannot keep up: its queue is dropped, Kalshi's terminal error 25 is queued alone, and the
 * connection is closed (1008, with the reason) right after it, so one slow reader never holds
 * memory or time that the others need.
 */
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "feed.h"
#include "log.h"
#include "wsout.h"

static const char feed_overflow_msg[] =
    "{\"type\":\"error\",\"msg\":{\"code\":25,\"msg\":\"Subscription buffer overflow\"}}";

static int
feed_send_queue(struct feed_conn *c, const char *text, size_t len)
{
	struct feed_msg *m = malloc(sizeof(*m) + len);

	if (m == NULL)
		return -1;
	m->next = NULL;
	m->len = len;
	memcpy(m->buf, text, len);
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
 * Bytes framed into one write at most. One message per WRITEABLE callback (libwebsockets'
 * examples) is a send() and a pass of the event loop per message: under the benchmark's 60 000
 * messages/s the queues grew without bound. Everything queued, up to this, goes out in one
 * send(); a part the kernel does not take is kept by lws, which calls WRITEABLE again only once
 * it is out.
 */
#define FEED_WRITE_BYTES 65536

int
feed_send_writeable(struct feed_conn *c)
{
	static struct wsout out;
	struct feed_msg *m;

	if (c->head == NULL && !c->ping_due && c->close_code != 0) {
		/* the queue went out in earlier calls: now the close frame */
		lws_close_reason(c->wsi, (enum lws_close_status)c->close_code,
		    (unsigned char *)c->close_reason, strlen(c->close_reason));
		return -1;
	}
	if (c->ping_due) {
		c->ping_due = false;
		if (wsout_frame(&out, WSOUT_PING, "heartbeat", 9) != 0)
			return -1;
	}
	while ((m = c->head) != NULL && out.len < FEED_WRITE_BYTES) {
		if (wsout_frame(&out, WSOUT_TEXT, m->buf, m->len) != 0) {
			out.len = 0;
			return -1;
		}
		feed_stats.msgs_sent++;
		feed_stats.bytes_sent += m->len;
		c->head = m->next;
		if (c->head == NULL)
			c->tail = NULL;
		c->queued -= m->len;
		free(m);
	}
	if (wsout_write(&out, c->wsi) != 0)
		return -1;
	if (c->head != NULL || c->close_code != 0)
		lws_callback_on_writable(c->wsi);
	return 0;
}
