/*
 * send: each connection's bounded send queue. Messages are copied in, and the connection goes on
 * a list that feed_send_flush writes out before the event loop next waits: as many messages as
 * fit FEED_WRITE_BYTES framed into one write (lib/wsout), the due ping first. Writing there, not
 * from SERVER_WRITEABLE, spares the two epoll_ctl() calls and the loop pass of asking for
 * POLLOUT and clearing it again at every batch (a sixth of feedd's CPU at 60 000 messages/s);
 * WRITEABLE still writes what lws could not hand to the kernel at once, the rest of a queue
 * longer than FEED_WRITE_BYTES, pings and the close frame. A client whose queue passes
 * KBOOK_FEEDD_SEND_MAX bytes (plus what it asked for at once: a subscribe's snapshots, a replay;
 * feed_send_grant) while its oldest message has waited 2 s, or passes four times the bound,
 * cannot keep up: its queue is dropped, Kalshi's terminal error 25 is queued alone, and the
 * connection is closed (1008, with the reason) right after it, so one slow reader never holds
 * memory or time that the others need.
 */
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "feed.h"
#include "log.h"
#include "wsout.h"

/*
 * Over KBOOK_FEEDD_SEND_MAX, a client is too slow once the oldest message queued for it has waited
 * FEED_SEND_LAG_US, or at once when the queue would pass FEED_SEND_CAP times the bound. One pass
 * of the loop can queue more than the bound to a client that reads as fast as it can (the rows
 * committed while the loop was busy with a subscribe's queries, or re-read after a Postgres
 * reconnect: the benchmark's all-markets subscriber got 5.6 MB in one pass): it is judged by how
 * long it leaves them unread, not by that.
 */
#define FEED_SEND_LAG_US INT64_C(2000000)
#define FEED_SEND_CAP 4

static const char feed_overflow_msg[] =
    "{\"type\":\"error\",\"msg\":{\"code\":25,\"msg\":\"Subscription buffer overflow\"}}";

/* Connections with messages queued since the last feed_send_flush. */
static struct feed_conn *feed_flush_list;

static void
feed_send_mark(struct feed_conn *c)
{
	if (c->flush_pending)
		return;
	c->flush_pending = true;
	c->flush_next = feed_flush_list;
	feed_flush_list = c;
}

static void
feed_send_unmark(struct feed_conn *c)
{
	if (!c->flush_pending)
		return;
	for (struct feed_conn **pp = &feed_flush_list; *pp != NULL; pp = &(*pp)->flush_next) {
		if (*pp == c) {
			*pp = c->flush_next;
			break;
		}
	}
	c->flush_pending = false;
}

/* Queues the message made of a (alen bytes) then b (blen bytes). */
static int
feed_send_queue(struct feed_conn *c, const char *a, size_t alen, const char *b, size_t blen)
{
	struct feed_msg *m = malloc(sizeof(*m) + alen + blen);

	if (m == NULL)
		return -1;
	m->next = NULL;
	m->queued_at = feed_now();
	m->replay = c->replaying;
	m->len = alen + blen;
	if (m->replay)
		feed_replay_bytes += m->len;
	memcpy(m->buf, a, alen);
	if (blen > 0)
		memcpy(m->buf + alen, b, blen);
	if (c->tail != NULL)
		c->tail->next = m;
	else
		c->head = m;
	c->tail = m;
	c->queued += m->len;
	feed_send_mark(c);
	return 0;
}

void
feed_send_flush(void)
{
	struct feed_conn *c;

	while ((c = feed_flush_list) != NULL) {
		feed_flush_list = c->flush_next;
		c->flush_pending = false;
		/* closing, or lws still holds part of an earlier write: wait for WRITEABLE */
		if (c->close_code != 0 || lws_partial_buffered(c->wsi))
			lws_callback_on_writable(c->wsi);
		else if (feed_send_writeable(c) != 0)
			feed_send_close(c, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION, "write failed");
	}
}

/* Frees m, a message taken off c's queue. */
static void
feed_send_drop(struct feed_msg *m)
{
	if (m->replay) {
		bool was_over = feed_replay_bytes >= (size_t)cfg.feedd_replay_mem;

		feed_replay_bytes -= m->len;
		/* replays waiting for the process's ceiling may go on */
		if (was_over && feed_replay_bytes < (size_t)cfg.feedd_replay_mem)
			feed_replay_wake();
	}
	free(m);
}

void
feed_send_free(struct feed_conn *c)
{
	struct feed_msg *m, *next;

	feed_send_unmark(c);
	for (m = c->head; m != NULL; m = next) {
		next = m->next;
		feed_send_drop(m);
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
feed_send2(struct feed_conn *c, const char *a, size_t alen, const char *b, size_t blen)
{
	size_t len = alen + blen, max = (size_t)cfg.feedd_send_max + c->granted;

	if (c->close_code != 0)
		return -1;
	if (c->granting)
		c->granted += len;
	else if (c->queued + len > max && (c->queued + len > FEED_SEND_CAP * max ||
	    (c->head != NULL && feed_now() - c->head->queued_at >= FEED_SEND_LAG_US))) {
		log_warnx("conn %llu: %zu bytes queued: dropped as too slow", (unsigned long long)c->id,
		    c->queued);
		feed_stats.slow_drops++;
		feed_send_free(c);
		(void)feed_send_queue(c, feed_overflow_msg, sizeof(feed_overflow_msg) - 1, NULL, 0);
		feed_send_close(c, LWS_CLOSE_STATUS_POLICY_VIOLATION,
		    "send buffer overflow: the client read too slowly");
		return -1;
	}
	if (feed_send_queue(c, a, alen, b, blen) != 0) {
		feed_send_close(c, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION, "out of memory");
		return -1;
	}
	return 0;
}

void
feed_send_grant(struct feed_conn *c, bool on)
{
	c->granting = on;
}

int
feed_send(struct feed_conn *c, const char *text, size_t len)
{
	return feed_send2(c, text, len, NULL, 0);
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
		feed_send_drop(m);
	}
	if (c->queued <= (size_t)cfg.feedd_send_max)
		c->granted = 0;
	if (c->replays != NULL)
		feed_replay_wake(); /* the pump reads its next chunk if the queue is low enough */
	if (wsout_write(&out, c->wsi) != 0)
		return -1;
	/* a replay waits for lws to have handed all of it to the kernel: be called back then */
	if (c->head != NULL || c->close_code != 0 ||
	    (c->replays != NULL && lws_partial_buffered(c->wsi)))
		lws_callback_on_writable(c->wsi);
	return 0;
}
