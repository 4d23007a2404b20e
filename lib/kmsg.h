/*
 * kmsg: parsing of the messages Kalshi's WebSocket sends (KALSHI.md sections 3-5).
 *
 * One call turns one text frame into a struct kmsg: its type, the envelope fields (id, sid, seq),
 * and the payload the collector needs: the levels of an orderbook_snapshot, the side, price and
 * signed size of an orderbook_delta, the code of an error, the channel of a subscribed reply, the
 * event type of a lifecycle message. Prices and sizes go through lib/fixed from strings or from
 * JSON numbers (by the number's original text, never through a double). A snapshot side that is
 * absent is empty. Anything malformed is refused with an error code and nothing half-filled is
 * left to free.
 */
#ifndef KBOOK_KMSG_H
#define KBOOK_KMSG_H

#include <stddef.h>
#include <stdint.h>

#include "book.h"

struct json_object;

#define KMSG_TICKER_MAX 201 /* markets.ticker is at most 200 characters */

enum kmsg_type {
	KMSG_SNAPSHOT,        /* orderbook_snapshot */
	KMSG_DELTA,           /* orderbook_delta */
	KMSG_SUBSCRIBED,      /* subscribed: channel and sid */
	KMSG_OK,              /* ok: an update_subscription ack (seq-bearing) or a list reply */
	KMSG_UNSUBSCRIBED,
	KMSG_ERROR,           /* error: code, and sid for terminal errors */
	KMSG_LIFECYCLE,       /* market_lifecycle_v2 (and multivariate_market_lifecycle) */
	KMSG_OTHER,           /* a well-formed message of a type the collector does not use */
};

enum kmsg_err {
	KMSG_OKAY = 0,
	KMSG_EJSON,   /* not JSON, or not an object */
	KMSG_ETYPE,   /* "type" missing or not a string */
	KMSG_EFIELD,  /* a required field missing or of the wrong JSON type */
	KMSG_EPRICE,  /* a price that lib/fixed refuses */
	KMSG_ESIZE,   /* a size that lib/fixed refuses (or a zero size in a snapshot) */
	KMSG_ENOMEM,
};

struct kmsg {
	enum kmsg_type type;
	int64_t id, sid, seq;             /* -1 when absent */
	char ticker[KMSG_TICKER_MAX];     /* snapshot, delta, lifecycle, error 16 ("" otherwise) */
	/* snapshot: levels ascending as sent; owned by the message */
	struct book_level *yes, *no;
	size_t n_yes, n_no;
	/* delta */
	enum book_side side;
	int64_t price, delta;             /* micro-dollars, signed hundredths */
	int64_t ts_ms;                    /* exchange time, -1 when absent */
	/* error */
	int64_t code;
	/* subscribed */
	char channel[48];
	/* lifecycle: event_type ("created", "settled", ...) */
	char event_type[48];
	/* lifecycle: the message's "msg" object, borrowed until kmsg_free */
	struct json_object *payload;
	struct json_object *root;         /* private */
};

/*
 * Parses len bytes of one text frame into *out (which need not be initialised). On success
 * returns KMSG_OKAY and the caller must kmsg_free(out); on failure returns the error and *out
 * owns nothing (kmsg_free on it is harmless).
 */
enum kmsg_err kmsg_parse(const char *buf, size_t len, struct kmsg *out);
/*
 * The same through json-c only. kmsg_parse takes a faster path for plain orderbook_delta frames
 * and falls back to this for everything else; tests compare the two.
 */
enum kmsg_err kmsg_parse_json(const char *buf, size_t len, struct kmsg *out);

/* Frees what a parsed message owns; *m may then be reused. */
void kmsg_free(struct kmsg *m);

const char *kmsg_strerror(enum kmsg_err err);

/*
 * Sequence check of one subscription (KALSHI.md section 4: one counter per sid, shared by its
 * markets' snapshots and deltas and by its acks). *last is the sid's last seq (0 for a new sid).
 * KMSG_SEQ_NEXT: seq follows; KMSG_SEQ_GAP: messages were lost before it (every market of the sid
 * is suspect); both advance *last to seq. KMSG_SEQ_DUP: seq is not new (a duplicate or a
 * straggler): drop the message; *last is unchanged.
 */
enum kmsg_seq { KMSG_SEQ_NEXT, KMSG_SEQ_GAP, KMSG_SEQ_DUP };
enum kmsg_seq kmsg_seq_check(int64_t *last, int64_t seq);

#endif
