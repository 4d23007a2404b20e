/*
 * feedd: the live orderbook feed (DESIGN.md section 6, docs/feed.md). One process, one
 * libwebsockets 4.1.6 event loop (client websockets, the HTTP probes /healthz and /metrics, the
 * Postgres LISTEN connection adopted as a raw descriptor) and one query thread (jobs.c) that runs
 * every query, so the loop never waits for Postgres. This header holds
 * the types the modules share and each module's entry points.
 *
 * Ownership: a feed_conn lives from the websocket's ESTABLISHED to its CLOSED callback and owns
 * its subscriptions and its send queue. A feed_market is owned by the registry (markets.c) and
 * lives while at least one subscription holds it; subscriptions hold borrowed pointers to it.
 */
#ifndef KBOOK_FEEDD_FEED_H
#define KBOOK_FEEDD_FEED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libwebsockets.h>

#include "book.h"
#include "db.h"
#include "ksub.h"

#define FEED_TICKER_MAX 201

/* A stream position: ts * 4 + kind, so rows of one market sort by (ts, kind). */
enum feed_kind { FEED_K_DELTA = 0, FEED_K_GAP = 1, FEED_K_SNAPSHOT = 2 };
#define FEED_POS(ts, kind) ((ts) * 4 + (kind))
#define FEED_POS_TS(pos) ((pos) / 4)

struct feed_sub;

struct feed_market {
	int64_t id;
	char ticker[FEED_TICKER_MAX];
	int64_t notional;
	int64_t pos;                 /* every row at or before it has been fanned out */
	int64_t last_ts_seen;        /* markets.last_ts when last compared (feed_market_mark_changed) */
	bool dirty;                  /* a NOTIFY named it since its rows were last read */
	bool reading;                /* in the read in flight (markets.c) */
	unsigned pins;               /* jobs in flight that name it: not freed while > 0 */
	struct ksub_holders holders; /* subscriptions holding it (each a feed_sub's k) */
	struct feed_market *hnext;   /* registry hash chain */
	struct feed_market *dnext;   /* dirty list */
};

struct feed_conn;

/* A subscription: lib/ksub's table entry (sid, seq, its markets' holders) and its connection. */
struct feed_sub {
	struct ksub k;
	struct feed_conn *conn;      /* borrowed: the owner */
};

/* The subscription of a market's holder; the i-th market of s (borrowed from the registry). */
static inline struct feed_sub *
feed_sub_of(struct ksub *k)
{
	return KSUB_OWNER(k, struct feed_sub, k);
}

static inline struct feed_market *
feed_sub_market(const struct feed_sub *s, size_t i)
{
	return KSUB_OWNER(s->k.markets[i], struct feed_market, holders);
}

struct feed_msg {
	struct feed_msg *next;
	int64_t queued_at;           /* feed_now() when queued */
	bool replay;                 /* a replay's (counted in feed_replay_bytes) */
	size_t len;
	unsigned char buf[];         /* len bytes of text */
};

/* What the handshake learned about the caller (auth.c). */
struct feed_caller {
	int64_t account_id, key_id;
	char key_hash[65];           /* SHA-256 of the key, hex */
	char plan[16];
	int64_t conns_max;           /* the plan's connections per key, capped by the config */
	int64_t markets_max;         /* the plan's markets per connection, capped by the config */
};

/* What the key check of a handshake found: "ok" with the caller, or a refusal's code. */
struct feed_verdict {
	const char *code;            /* static: "ok" or a code of auth.c's refusal table */
	struct feed_caller caller;   /* key_hash once the key is well formed; the rest when "ok" */
};
struct feed_conn {
	struct lws *wsi;
	struct feed_conn *prev, *next; /* all connections */
	uint64_t id;
	struct feed_caller caller;
	struct ksub_table subs;      /* its subscriptions; subs.n_markets: their markets */
	struct feed_msg *head, *tail;
	size_t queued;               /* bytes waiting in the send queue */
	size_t granted;              /* bytes the client asked for (snapshots, replays) queued
	                              * beyond KBOOK_FEEDD_SEND_MAX; 0 once the queue is under it */
	bool granting;               /* messages queued now were asked for (feed_send_grant) */
	struct feed_replay *replays; /* pending replays (since), oldest first (replay.c) */
	bool replaying;              /* messages queued now are a replay's */
	int64_t last_rx;             /* kt_now() of the last frame or pong from the client */
	int64_t next_charge;         /* when the next market-period charge is due */
	bool ping_due;
	bool flush_pending;          /* on send.c's list of connections to write */
	struct feed_conn *flush_next;
	int close_code;              /* != 0: close with this code once the queue is sent */
	char close_reason[96];
	unsigned refs;               /* jobs in flight that name it: not freed while > 0 */
	bool closed;                 /* its websocket is gone (freed once refs is 0) */
	bool busy;                   /* a command waits for its queries: later ones wait in cmdq */
	bool charging;               /* the periodic charge is in flight */
	struct feed_cmd *cmdq, **cmdq_tail; /* commands received while busy, oldest first */
	size_t cmdq_n;
};

/* Holds c for a job in flight; feed_conn_unref frees it once closed and no job holds it. */
void feed_conn_ref(struct feed_conn *c);
void feed_conn_unref(struct feed_conn *c);

/* ---- jobs.c: the query thread --------------------------------------------------------------- */
/*
 * A job, embedded first in each module's own job type. run() executes on the query thread with
 * the query connection, or NULL when the database is away (then it must fail at once); it may
 * touch only what the job carries. done() runs on the loop, in submission order, and frees the
 * job.
 */
struct feed_job {
	struct feed_job *next;
	void (*run)(struct feed_job *j, struct db *db);
	void (*done)(struct feed_job *j);
};
/* Opens the query connection's handle and starts the thread. Returns 0 or -1. */
int feed_jobs_start(void);
/* Queues j (ownership passes to the jobs until its done()). */
void feed_jobs_submit(struct feed_job *j);
/* Jobs submitted whose done() has not run yet. */
size_t feed_jobs_backlog(void);
void feed_jobs_stop(void);

/* ---- main.c ---------------------------------------------------------------------------------- */
extern struct lws_context *feed_ctx;
/* The loop's time of this pass, in us (ev_now: no clock read per message queued). */
int64_t feed_now(void);
/* The libev loop (for the watchers of other modules: replay.c's idle watcher). */
struct ev_loop;
struct ev_loop *feed_ev_loop(void);
extern bool feed_stopping;

/* ---- accept.c: the listening socket; a handshake's key is checked before lws gets the socket -- */
/* Listens on listen_on (host:port or /path) and hands connections to vh. Returns 0 or -1. */
int feed_accept_start(struct lws_vhost *vh, const char *listen_on);
/* Takes the verdict held for the connection on fd into *out; false when none is held. */
bool feed_accept_verdict(int fd, struct feed_verdict *out);
void feed_accept_stop(void);

/* ---- server.c: the lws protocol (HTTP probes, handshake, websocket frames) -------------------- */
extern const struct lws_protocols feed_protocols[];
/* Every live connection (head of the list). */
extern struct feed_conn *feed_conns;
extern size_t feed_n_conns;
/* Asks every connection to close with code and reason (graceful shutdown, resync). */
void feed_close_all(int code, const char *reason);

/* ---- auth.c ------------------------------------------------------------------------------------ */
/* Loop: the checks that need no database (key given, well formed) of key (NULL: none). Returns
 * 1 when *v is the verdict, 0 when the query thread must decide (feed_auth_key_run). */
int feed_auth_key_check(const char *key, struct feed_verdict *v);
/* Query thread: charges the connection (1 credit) and reads the plan's limits into *v. */
void feed_auth_key_run(struct db *db, struct feed_verdict *v);
/*
 * Loop, at the upgrade: the verdict v of the connection (NULL when none was reached) is held to
 * what libwebsockets parsed and to the key's open connections. Returns 0 with *out filled, or the
 * HTTP status to refuse with (401, 402, 403, 429, 503) and a JSON error body written into body.
 */
int feed_auth_confirm(struct lws *wsi, const struct feed_verdict *v, struct feed_caller *out,
    char *body, size_t cap);
/* Gives the handshake's credit back (on the query thread, later). */
void feed_auth_refund_later(const struct feed_caller *c);
/* What a charge of an open connection found. */
enum feed_charge_rc {
	FEED_CH_OK,
	FEED_CH_CREDITS,  /* the account's credits are spent */
	FEED_CH_KEY_CAP,  /* the key reached its own monthly credit cap */
	FEED_CH_RATE,     /* the plan's per-minute rate refused the call (nothing charged) */
	FEED_CH_REVOKED,  /* the key was revoked (or deleted) since the handshake */
	FEED_CH_DISABLED, /* the account was disabled since the handshake */
	FEED_CH_DOWN,     /* the database is away */
};
/* Query thread: charges credits for the connection's markets (FEED_CH_DOWN when db is NULL). */
enum feed_charge_rc feed_auth_charge(struct db *db, const struct feed_caller *c, int64_t credits);
/* The close reason (and error detail) of a connection cut off for why (REVOKED or DISABLED). */
const char *feed_auth_cut_reason(enum feed_charge_rc why);
/*
 * Cuts c off because its key was revoked or its account disabled (why): Kalshi's error 9
 * (Authentication required) with the reason in detail, then a close 1008 with the same reason.
 */
void feed_auth_cut(struct feed_conn *c, enum feed_charge_rc why);
/* A NOTIFY kbook_keys payload: "key <id>" or "account <id>" (sql/001_baseline.sql) cuts off
 * every connection opened with that key or account; "plan <account id>" (sql/016_plan_events.sql)
 * reads the account's limits again and closes its connections over them. */
void feed_auth_event(const char *payload);
/* Asks Postgres, in one query on the query thread, whether the key of any open connection was
 * revoked or its account disabled, and cuts those off, then reads every open account's limits
 * again: run when LISTEN (re)starts, for events sent while nobody listened. */
void feed_auth_recheck(void);
/* Connections open per key (for the per-key limit). */
size_t feed_auth_key_conns(int64_t key_id);

/* ---- send.c: per-connection send queue ------------------------------------------------------- */
/*
 * Queues a copy of the len bytes at text for c, to be written by the next feed_send_flush. When
 * the queue would pass KBOOK_FEEDD_SEND_MAX the client is too slow: the queue is dropped, error 25
 * is queued alone, and the connection closes after it. Returns 0, or -1 when c is closing.
 */
int feed_send(struct feed_conn *c, const char *text, size_t len);
/*
 * Between feed_send_grant(c, true) and (c, false), the messages queued are ones the client asked
 * for (a subscribe's snapshots, a replay): they raise c's bound by their size instead of counting
 * against it, so that a subscribe to 2 000 markets (4 MB of snapshots at once) does not drop the
 * client; the raise ends once the queue is back under KBOOK_FEEDD_SEND_MAX.
 */
void feed_send_grant(struct feed_conn *c, bool on);
/* feed_send of one message made of a (alen bytes) followed by b (blen bytes). */
int feed_send2(struct feed_conn *c, const char *a, size_t alen, const char *b, size_t blen);
/*
 * Writes what was queued since the last call, for every connection, straight away (one send()
 * each); a connection that is closing or whose earlier write lws still holds in part waits for
 * its WRITEABLE callback instead. Run by the event loop before each wait (main.c).
 */
void feed_send_flush(void);
/* Writes the head of c's queue (one lws_write); returns -1 to close the connection. */
int feed_send_writeable(struct feed_conn *c);
/* Marks c to close with code and reason after its queue; asks for WRITEABLE. */
void feed_send_close(struct feed_conn *c, int code, const char *reason);
void feed_send_free(struct feed_conn *c);

/* ---- markets.c: the registry of subscribed markets ------------------------------------------- */
struct feed_market *feed_market_find(int64_t id);
/*
 * The registry entry of market id, created with pos set to end (the market's current end of
 * stream, feed_stream_ends) when it is not tracked yet. Returns NULL when out of memory.
 */
struct feed_market *feed_market_get(int64_t id, const char *ticker, int64_t notional, int64_t end);
/* Frees m when no subscription holds it (after the last ksub_remove, or a feed_market_get that
 * was not added to a subscription). */
void feed_market_release(struct feed_market *m);
/* Drops a job's pin on m (m->pins++ when it was submitted), then feed_market_release. */
void feed_market_unpin(struct feed_market *m);
/* Copies into dst what the query thread reads of m (id, ticker, notional, pos). */
void feed_market_copy(struct feed_market *dst, const struct feed_market *m);
void feed_market_mark_dirty(int64_t id);
/* Marks every tracked market dirty (after a Postgres reconnect). */
void feed_market_mark_all(void);
/*
 * After a NOTIFY that names no market: marks dirty the tracked markets whose markets.last_ts (the
 * recorder's coverage, updated in the transaction of its rows) moved since it was last compared,
 * in one query; every tracked market when the query fails.
 */
void feed_market_mark_changed(void);
/* Starts reading the new rows of the dirty markets on the query thread (one read in flight); they
 * are fanned out when it is back. Returns 0, or -1 when out of memory. */
int feed_market_flush(void);
size_t feed_market_count(void);

/* ---- stream.c: rows of a market's stream, rendered as Kalshi messages --------------------- */
struct feed_row {
	enum feed_kind kind;
	int64_t pos;
	/* delta */
	enum book_side side;
	int64_t price, delta, exchange_ts; /* exchange_ts -1 when unknown */
	/* gap */
	int64_t gap_end;                   /* -1 while open */
	char reason[32];
	/* snapshot */
	struct book *book;                 /* owned by the row set */
};

struct feed_rows {
	struct feed_row *rows;
	size_t n;
};

/* The query connection (auth, subscribe, reads): used on the query thread only (jobs.c). */
extern struct db *feed_db;

/*
 * Reads the stream rows of market m with from < pos <= to, at most limit, in order, into out
 * (caller frees with feed_rows_free). Returns 0 or -1.
 */
int feed_stream_read(const struct feed_market *m, int64_t from, int64_t to, long limit,
    struct feed_rows *out);
/* How many rows feed_stream_read would read (at most limit) into *count. Returns 0 or -1. */
int feed_stream_count(const struct feed_market *m, int64_t from, int64_t to, long limit, long *count);
/*
 * Reads, in one query, the rows after the position of each of the n markets ms (at most limit
 * each) into outs[0..n-1] (caller frees each with feed_rows_free). Returns 0 or -1 (nothing kept).
 */
int feed_stream_read_many(struct feed_market *const *ms, size_t n, long limit,
    struct feed_rows *outs);
void feed_rows_free(struct feed_rows *r);
/* The current end of stream of each of the n markets ids (0 when nothing is recorded) into ends,
 * in one query. Returns 0 or -1. */
int feed_stream_ends(const int64_t *ids, size_t n, int64_t *ends);
/* A market's book at its position, and the gap covering it if any (gap_start -1 when none). */
struct feed_base {
	struct book *book;
	int64_t gap_start, gap_end;
	char reason[32];
};
/*
 * The books of the n markets ms, each at its position (checkpoint plus deltas), in one query,
 * into out[0..n-1] (caller frees each book). Returns 0 or -1 (nothing kept).
 */
int feed_stream_books(struct feed_market *const *ms, size_t n, struct feed_base *out);
/*
 * A message is rendered in two parts: the body, the same for every subscription that gets the row
 * (from the row's "ts" on), rendered once, and each subscription's head (type, sid, seq).
 */
struct feed_body {
	const char *type; /* orderbook_snapshot, orderbook_delta or gap */
	char *text;       /* malloc'd: ,"ts":...,"msg":{...}} */
	size_t len;
};
/* Renders the body of a row, or (row NULL) of the snapshot of book at pos. Returns 0 or -1 (out
 * of memory). The caller frees out->text. */
int feed_stream_body(const struct feed_market *m, const struct feed_row *row, const struct book *book,
    int64_t pos, struct feed_body *out);
/* Writes the head of s's next message (taking its next seq) into buf; returns its length, 0 when
 * cap is too small. */
size_t feed_stream_head(struct feed_sub *s, const struct feed_body *body, char *buf, size_t cap);
#define FEED_HEAD_MAX 96

/* ---- subs.c: commands and subscriptions ------------------------------------------------------ */
/* Executes one command frame from c. */
void feed_subs_command(struct feed_conn *c, const char *text, size_t len);
/* Frees every subscription of c. */
void feed_subs_free(struct feed_conn *c);
/* Sends a row of m to every subscription holding m (but those replaying m). */
void feed_subs_fanout(struct feed_market *m, const struct feed_row *row);
/* Sends one message of s: a row, or (row NULL) the snapshot book at pos. */
void feed_subs_emit(struct feed_sub *s, const struct feed_market *m, const struct feed_row *row,
    const struct book *book, int64_t pos);

/* ---- replay.c: a subscribe's since, streamed in chunks paced by the client ------------------- */
struct feed_replay;
/* Replay bytes queued over every connection (bounded by KBOOK_FEEDD_REPLAY_MEM plus a chunk). */
extern size_t feed_replay_bytes;
/* Replays market m on s from position from (exclusive) up to its live position, then live.
 * Returns 0, or -1 when out of memory. */
int feed_replay_start(struct feed_sub *s, struct feed_market *m, int64_t from);
/*
 * Holds m's live rows back from s from position from on, for a snapshot being read at from
 * (get_snapshot of a market s already streams). feed_replay_release then replays from there:
 * after the snapshot was sent (snapshot_sent, which supersedes m's other replays on s), or,
 * without it, unless an older replay of m on s reads those rows anyway. Returns NULL when out of
 * memory. The replay is s's (freed with it).
 */
struct feed_replay *feed_replay_hold(struct feed_sub *s, struct feed_market *m, int64_t from);
void feed_replay_release(struct feed_replay *r, bool snapshot_sent);
/* True while a replay of m is pending on s (its live rows are held back from s). */
bool feed_replay_holds(const struct feed_sub *s, const struct feed_market *m);
/* Drops the pending replays of s (of market m; every market when m is NULL). */
void feed_replay_cancel(const struct feed_sub *s, const struct feed_market *m);
/* Starts reading chunks (an idle watcher, one chunk a call) if a replay's client is ready for
 * one: the one-second tick's backstop, after a read failed. */
void feed_replay_pump(void);
/* Starts the idle watcher that reads replay chunks while a client is ready for one. */
void feed_replay_wake(void);

/* ---- pgsource.c: LISTEN kbook_deltas and kbook_keys, adopted into the loop -------------------- */
int feed_pg_start(struct lws_vhost *vh);
/* Handles the adopted descriptor's callbacks (called by the protocol callback). */
int feed_pg_callback(const struct lws *wsi, enum lws_callback_reasons reason);
bool feed_pg_up(void);
void feed_pg_stop(void);

/* ---- metrics.c ------------------------------------------------------------------------------- */
struct feed_metrics {
	uint64_t conns_total, refused_auth, refused_credits, refused_limit, refused_unavailable;
	uint64_t msgs_sent, bytes_sent, commands, command_errors, slow_drops, dead_drops;
	uint64_t notifies, rows_read, pg_reconnects, charges_failed, auth_cutoffs, replay_chunks;
	uint64_t limit_cutoffs;
};
extern struct feed_metrics feed_stats;
/* The Prometheus text of every metric into a malloc'd string (caller frees); NULL on ENOMEM. */
char *feed_metrics_text(size_t *len);

#endif
