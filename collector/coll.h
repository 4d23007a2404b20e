/*
 * coll: the collector's shared declarations (DESIGN.md section 4).
 *
 * Two main threads. The socket thread (main, libwebsockets) owns the market registry, the books,
 * the subscriptions and the gap state: it never touches the database. The writer thread owns the
 * database connection and turns queued events into COPY batches (writer.h lists its files); it
 * never calls the network but Postgres. Everything crosses between them as struct coll_ev through
 * the bounded queue of queue.c. Slow work has threads of its own: maint.c (the lock watchdog,
 * partitions, REST re-scans), resolve.c (REST objects of markets first seen on the socket) and
 * metrics.c (the /metrics server); the socket thread takes their results on its one-second tick.
 */
#ifndef KBOOK_COLL_H
#define KBOOK_COLL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "book.h"
#include "collrule.h"
#include "kmsg.h"

/* ---- markets.c: the registry (socket thread only) ---- */

struct coll_market {
	char *ticker;            /* owned */
	struct book *book;       /* NULL until the first snapshot; owned */
	int sub;                 /* index in the subscription table, -1 when not subscribed */
	bool want;               /* open: should be subscribed */
	struct coll_gap gap;     /* its open gap, if any (lib/collrule) */
	int64_t last_ts;         /* last ts given to a row of this market (strictly increasing) */
	int64_t cp_ts;           /* ts of its latest checkpoint */
	int64_t since_cp;        /* deltas since that checkpoint */
	int64_t snap_asked;      /* when the timer last asked a fresh snapshot for its open gap */
	int snap_tries;          /* how many times it did, for this gap */
	char status[16];         /* last status seen (REST or lifecycle) */
	char result[16];         /* last result the lifecycle channel said ("" none) */
};

/* Returns the index of ticker, or -1. */
int coll_market_find(const char *ticker);
/* Returns the index of ticker, adding it when new (*added set); -1 when out of memory. */
int coll_market_add(const char *ticker, bool *added);
/* Borrowed until the next coll_market_add. */
struct coll_market *coll_market(int idx);
int coll_market_count(void);
void coll_markets_free(void);

/* ---- queue.c and writer.c: the bounded queue and the database writer thread ---- */

enum coll_ev_kind {
	COLL_EV_MARKET,      /* data: a REST market object as JSON text: upsert (flag: COLL_MARKET_*) */
	COLL_EV_FETCH,       /* data: a ticker first seen on the socket: its row, with the ticker only
	                      * (resolve.c fetches its REST object, which follows as a COLL_EV_MARKET) */
	COLL_EV_STATUS,      /* data: {"status":..,"result":..} JSON text */
	COLL_EV_DELTA,       /* ts, a = exchange ts in ms (-1 none), side, price, delta */
	COLL_EV_CHECKPOINT,  /* ts, data: struct coll_levels, source */
	COLL_EV_GAP_OPEN,    /* ts = start, reason, data: detail text */
	COLL_EV_GAP_CLOSE,   /* ts = end, flag: enum coll_gap_div, c: enum coll_gap_end */
	COLL_EV_MARK,        /* ts = recorded through (market -1): added by the writer to a batch */
};

/* COLL_EV_MARKET's flag: where the object comes from. */
enum {
	COLL_MARKET_SCAN = 0,    /* REST discovery or a re-scan: may settle it or end its restart gap */
	COLL_MARKET_FETCHED = 1, /* the fetch of a market first seen on the socket: its columns only */
};

struct coll_levels {
	size_t n_yes, n_no;
	struct book_level lv[]; /* yes levels then no levels, ascending */
};

struct coll_ev {
	uint8_t kind;
	uint8_t side;       /* DELTA */
	uint8_t flag;       /* CHECKPOINT: 1 = snapshot, 0 = periodic; GAP_OPEN: reason; GAP_CLOSE:
	                     * divergence; MARKET: COLL_MARKET_* */
	int32_t market;     /* registry index */
	int64_t ts;
	int64_t a, b, c;    /* DELTA: exchange ts ms, price, delta */
	void *data;         /* owned by the event */
};

/* Starts group commits at most every ms milliseconds (0: as soon as the last one ended). */
void coll_writer_set_commit_interval(int64_t ms);
/*
 * Starts the writer thread on conninfo with a queue of queue_max data events (control events
 * may use a reserve beyond it), spooling to spool_path after spool_after_s seconds of failed
 * writes. The writer does no network I/O but Postgres's. Returns 0 or -1.
 */
int coll_writer_start(const char *conninfo, size_t queue_max, const char *spool_path,
    int64_t spool_after_s);
/* The gap reason for markets recorded by an earlier run: restart, or takeover (from a standby). */
void coll_writer_set_restart_reason(enum coll_gap_reason r);
/*
 * Queues a copy of ev and takes ownership of ev->data. Data events (deltas, periodic
 * checkpoints) fail when the queue holds queue_max events; control events only when the reserve
 * is full too. On failure returns false and ev->data still belongs to the caller.
 */
bool coll_writer_push(struct coll_ev *ev, bool control);
/* Events queued now. */
size_t coll_writer_depth(void);
/*
 * The socket thread has queued the events of every frame received up to ts (no message is half
 * read): the next batch the writer takes with everything queued commits recorded_through = ts.
 */
void coll_writer_mark(int64_t ts);
/* Writes everything queued, stops the thread and frees the queue. */
void coll_writer_stop(void);
void coll_ev_free(struct coll_ev *ev);

/* ---- lock.c: the advisory lock that elects the one active collector ---- */

/*
 * Takes the lock on a connection of its own, waiting (as a standby) while another collector
 * holds it; *waited tells whether it had to. Returns 0 once held, -1 when *stop was set first.
 */
int coll_lock_acquire(const char *conninfo, const volatile int *stop, bool *waited);
/*
 * Makes sure the lock is still ours (taking it again on a new session when the old one died).
 * Returns 0 when it is, or when Postgres cannot be reached; -1 when another collector holds it.
 */
int coll_lock_check(void);
/* Ends the lock's session. */
void coll_lock_release(void);

/* ---- maint.c: a background thread: the lock watchdog, partition maintenance, REST re-scan ---- */

/*
 * Starts the thread: every 2 s it checks the lock (setting *stop when it is lost to another
 * collector) and runs the partition maintenance when due (coll_partitions_tick); every rescan_s seconds (0: never) it pages REST /markets from rest_base (borrowed)
 * and leaves the markets for the socket thread to take with coll_maint_take.
 */
int coll_maint_start(const char *rest_base, int64_t rescan_s, volatile int *stop);
void coll_maint_stop(void);
/* Calls fn for every market of the last finished re-scan (once), on the calling thread. */
/*
 * Takes the JSON array *slot (guarded by lock) that a thread left for the socket thread, and calls
 * fn on each of its objects outside the lock (the hand-off of coll_maint_take and
 * coll_resolve_take).
 */
void coll_take_each(pthread_mutex_t *lock, struct json_object **slot,
    void (*fn)(struct json_object *market, void *arg), void *arg);
void coll_maint_take(void (*fn)(struct json_object *market, void *arg), void *arg);

/* ---- partitions.c: pg_partman's maintenance and the default-partition check ---- */

/* Opens (lazily) a connection of its own to conninfo (copied). Returns 0 or -1. */
int coll_partitions_init(const char *conninfo);
/*
 * Runs the maintenance when it is due (the first call at once, then hourly; a minute later when
 * Postgres could not be reached) and warns about rows in a default partition. One thread at a
 * time: main's call at start, then the maintenance thread's every 2 s.
 */
void coll_partitions_tick(void);
void coll_partitions_free(void);

/* ---- spool.c: the append-only file of events Postgres could not take (writer thread) ---- */

struct coll_spooled {
	struct coll_ev ev;              /* data owned */
	char ticker[KMSG_TICKER_MAX];
};

/* Remembers path (copied) and opens the file if it exists; it is created on the first append. */
int coll_spool_open(const char *path);
void coll_spool_close(void);
bool coll_spool_pending(void);
/*
 * Appends ev[0 .. n) (not taking their data) with each market's ticker from ticker_of, and
 * fdatasyncs. Returns 0, or -1 (logged) when the file cannot be written.
 */
int coll_spool_append(const struct coll_ev *ev, size_t n, const char *(*ticker_of)(int32_t));
/* Reads every whole record into *out (caller frees each ev.data, then *out). Returns 0 or -1. */
int coll_spool_read(struct coll_spooled **out, size_t *n);
int coll_spool_truncate(void);

/* ---- rest.c: Kalshi REST over libcurl (any thread) ---- */

/*
 * GETs base + path (path starts with '/'), retrying 429 answers a few times. Returns the parsed
 * JSON object (caller puts it), or NULL (logged).
 */
struct json_object *coll_rest_get(const char *base, const char *path);
/*
 * Pages GET /markets from base and calls fn for every market object (borrowed during the call).
 * Returns the number of markets seen, or -1 when a page failed.
 */
long coll_rest_markets(const char *base, void (*fn)(struct json_object *market, void *arg), void *arg);

/* ---- resolve.c: REST objects of markets first seen on the socket (a thread of its own) ---- */

/* Starts the thread fetching from rest_base (borrowed for its lifetime; "" = never). Returns 0 or -1. */
int coll_resolve_start(const char *rest_base);
void coll_resolve_stop(void);
/*
 * Asks for ticker's REST object (ticker copied; socket thread). A failed fetch is tried again
 * after 1 s, doubling to 60 s, 12 times, then left to the re-scan.
 */
void coll_resolve_ask(const char *ticker);
/*
 * Calls fn for every market object fetched since the last call, on the calling thread (the
 * socket thread's tick); the object is fn's to change during the call, freed after it.
 */
void coll_resolve_take(void (*fn)(struct json_object *market, void *arg), void *arg);

/* ---- ws.c: the WebSocket connection (socket thread) ---- */

struct coll_ws_conf {
	const char *url;         /* borrowed */
	const char *key_id;      /* borrowed; "" = unsigned */
	struct kauth_key *key;   /* borrowed; NULL = unsigned */
	int silence_s;
};
/* Runs the connection until *stop is set (by a signal handler). Returns 0, or -1 on a bad setup. */
int coll_ws_run(const struct coll_ws_conf *conf, const volatile int *stop);
/* Queues one command text (copied) for the connection; false when not connected. */
bool coll_ws_send(const char *text);
bool coll_ws_connected(void);

/* ---- subs.c: subscriptions and seq (socket thread) ---- */

void coll_subs_init(int sub_max);
void coll_subs_on_connect(void);
/* The connection is gone; last_rx is the receive time of the last frame (us). */
void coll_subs_on_disconnect(int64_t last_rx);
void coll_subs_on_message(const char *buf, size_t len, int64_t now);
/* A market becomes open (subscribe it) or is finished (drop it). */
void coll_subs_want(int idx);
void coll_subs_unwant(int idx);
/* Asks a fresh snapshot of one market (get_snapshot on its sid). */
void coll_subs_resync(int idx);
/*
 * One REST market object (borrowed): registered, upserted when new or when its status changed,
 * subscribed when active or paused, dropped when finalized. Used by discovery and re-scans.
 */
void coll_subs_on_rest_market(struct json_object *market, void *arg);
/*
 * Called every second: takes a finished REST re-scan, retries refused subscriptions, and queues
 * the periodic checkpoints of quiet books that are due (coll_book_tick).
 */
void coll_subs_tick(int64_t now);
int coll_subs_markets(void);
void coll_subs_free(void);

/* ---- books.c: books, rows and checkpoints (socket thread) ---- */

void coll_books_init(int64_t checkpoint_every, int64_t checkpoint_us);
void coll_book_snapshot(int idx, const struct kmsg *m, int64_t now);
void coll_book_delta(int idx, const struct kmsg *m, int64_t now);
/*
 * The timer (every second): writes market idx's aligned periodic checkpoint when a multiple of
 * the period lies after its last row and at or before known_at (the receive time of its
 * subscription's last message). Returns true when one was queued.
 */
bool coll_book_tick(int idx, int64_t known_at);
/* The next ts of market idx at receive time now: now, or one past its last ts. */
int64_t coll_next_ts(struct coll_market *mk, int64_t now);

/* ---- gaps.c (socket thread) ---- */

/*
 * Records that market idx's book is unknown from start on (reason, detail copied) unless a gap
 * is already open or nothing was recorded yet. Returns true when a gap was opened.
 */
bool coll_gap_open(int idx, enum coll_gap_reason reason, int64_t start, const char *detail);
/*
 * Closes the open gap of idx at ts, the instant of the fresh snapshot's checkpoint; had_book and
 * held_equal tell whether a book was held and equalled the fresh one (diverged).
 */
void coll_gap_close(int idx, int64_t ts, bool had_book, bool held_equal);
/*
 * Market idx finished (settled) at now with a gap still open: no snapshot will come, so the gap
 * closes at now, closed_by 'market_closed', divergence unknown.
 */
void coll_gap_finish(int idx, int64_t now);

/* ---- metrics.c: counters shared by the threads (relaxed atomics), /metrics and /healthz ---- */

/* Upper bounds (microseconds) of the commit-latency histogram's buckets; the last is +Inf. */
#define COLL_COMMIT_BUCKETS 13
extern const uint64_t coll_commit_bucket_us[COLL_COMMIT_BUCKETS - 1];

struct coll_stats {
	uint64_t messages, deltas, snapshots, gaps, duplicates, malformed, overflows, reconnects;
	uint64_t rows_written, commits, commit_us_total, commit_us_max, last_commit_us;
	uint64_t commit_hist[COLL_COMMIT_BUCKETS]; /* commits per latency bucket (not cumulative) */
	uint64_t subscribed, connected; /* gauges the socket thread publishes */
	uint64_t spooling;              /* gauge: 1 while the writer spools to disk */
	uint64_t default_partitions;    /* gauge: default partitions holding rows (partitions.c) */
};
extern struct coll_stats coll_stats;

/* Counts one committed batch of rows deltas that took us microseconds (writer thread). */
void coll_stats_commit(uint64_t us, uint64_t rows);

/* Serves /metrics and /healthz on 127.0.0.1:port from a thread (port 0: not at all). */
int coll_metrics_start(int port);
void coll_metrics_stop(void);

#endif
