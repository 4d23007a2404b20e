/*
 * kalshi-sim: a local Kalshi exchange (REST + WebSocket on one port) for tests, demos and
 * benchmarks, following ../../shared/KALSHI.md. This header holds the state every module shares:
 * the options, the market universe (series, events, markets with their true books), the WebSocket
 * connections with their subscriptions, and the counters. The program is single-threaded: every
 * function runs on the libwebsockets service loop, so nothing here is locked.
 *
 * Ownership: the world (sim_w) owns every market, event, series, book, connection and
 * subscription; pointers into it stay valid until sim_world_free, except connections and
 * subscriptions, which die with their socket or their unsubscribe.
 */
#ifndef KBOOK_SIM_H
#define KBOOK_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "book.h"
#include "rng.h"
#include "hsrv.h"
#include "kcmd.h"
#include "kerr.h"
#include "ksub.h"

#include <libwebsockets.h>
struct kauth_key;
struct json_object;

/* ---- options (main.c parses them; docs/kalshi-sim.md lists them) ---------------------------- */

struct sim_opts {
	int port;
	const char *iface;
	uint64_t seed;
	uint32_t n_markets;        /* markets at start */
	uint32_t markets_per_event;
	uint32_t max_markets;      /* capacity: markets created later stop there */
	int64_t rate;              /* book changes per second (0 = paused) */
	const char *pubkey_path;   /* verify handshakes against it; NULL = --no-auth */
	const char *key_id;        /* when set, KALSHI-ACCESS-KEY must equal it */
	int64_t ts_window_ms;      /* accepted |now - KALSHI-ACCESS-TIMESTAMP| */
	uint32_t sub_market_limit; /* markets per subscription before error 26 */
	size_t send_queue_max;     /* bytes of subscription data queued per connection */
	int64_t rest_tokens;       /* token bucket refill per second (and burst) */
	int64_t rest_cost;         /* tokens per REST request */
	int64_t ping_interval_ms;
	const char *msg_log;       /* append every sent message here, or NULL */
	size_t history;            /* book changes kept for /_sim/book?at= */
	int64_t lifecycle_ms;      /* one lifecycle transition every so often; 0 = never */
	size_t max_frame;          /* largest command accepted */
	int64_t cmd_rate;          /* commands per second per connection before error 27; 0 = any */
	const char *faults;        /* start-up faults, see faults.c */
};

/* ---- market universe ------------------------------------------------------------------------ */

enum sim_mstatus {
	SIM_M_INITIALIZED,
	SIM_M_ACTIVE,
	SIM_M_INACTIVE,   /* paused ("deactivated") */
	SIM_M_CLOSED,
	SIM_M_DETERMINED,
	SIM_M_FINALIZED,  /* settled */
	SIM_M_NSTATUS
};

/* A tick grid: the valid prices strictly between 0 and the notional, ascending. */
struct sim_grid {
	const char *name;      /* price_level_structure */
	size_t n_ranges;
	struct { int64_t start, end, step; } ranges[3];
	int64_t *prices;       /* owned */
	size_t n_prices;
};

struct sim_series {
	char ticker[24];
	char title[64];
	char category[24];
	char frequency[16];
};

struct sim_event {
	char ticker[48];
	uint32_t series;
	uint32_t first_market;  /* markets of an event are contiguous at creation ... */
	uint32_t n_markets;     /* ... and events created later hold only their own */
	char title[96];
	char sub_title[64];
	bool mutually_exclusive;
};

struct sim_sub;

struct sim_market {
	char ticker[64];
	char id[40];              /* UUID text */
	uint32_t idx;
	uint32_t event;
	uint8_t grid;
	uint8_t status;           /* enum sim_mstatus */
	char result[4];           /* "yes", "no" or "" */
	int64_t notional;         /* micro-dollars */
	int64_t fair;             /* index into the grid's prices: yes bids stay below it */
	int64_t created_ts, open_ts, close_ts, exp_ts, settled_ts, updated_us;
	int64_t floor_strike;     /* whole units */
	int64_t cap_strike;       /* whole units, between-strike markets only */
	char kind;                /* 'T' greater-than strike, 'B' between two strikes */
	int64_t last_price;       /* micro-dollars, 0 = no trade yet */
	int64_t volume;           /* hundredths */
	int64_t open_interest;    /* hundredths */
	struct book *book;        /* the true book, owned */
	struct ksub_holders holders; /* subscriptions including this market (each a sim_sub's k) */
	uint32_t active_pos;      /* position in sim_w.active, or UINT32_MAX */
	uint32_t mark;            /* subs.c: deduplicates the tickers of one command */
};

/* ---- connections and subscriptions ---------------------------------------------------------- */

struct sim_conn;

/* A subscription: lib/ksub's table entry (sid, seq, its markets' holders), and the sim's part. */
struct sim_sub {
	struct ksub k;
	struct sim_conn *conn;    /* borrowed */
	enum kcmd_channel channel;
	bool use_yes_price;
};

/* The subscription of a market's holder; the i-th market of s. */
static inline struct sim_sub *
sim_sub_of(struct ksub *k)
{
	return KSUB_OWNER(k, struct sim_sub, k);
}

static inline struct sim_market *
sim_sub_market(const struct sim_sub *s, size_t i)
{
	return KSUB_OWNER(s->k.markets[i], struct sim_market, holders);
}

/* One queued outgoing frame, LWS_PRE bytes of headroom before data. */
enum sim_qkind { SIM_Q_TEXT, SIM_Q_PING, SIM_Q_CLOSE };

struct sim_qmsg {
	struct sim_qmsg *next;
	size_t len;
	uint8_t kind;             /* enum sim_qkind */
	uint8_t type;             /* enum sim_mtype, for the stats */
	bool counted;             /* counts against send_queue_max */
	unsigned char buf[];      /* len bytes */
};

struct sim_conn {
	struct sim_conn *next, *prev;
	struct lws *wsi;
	uint64_t id;
	struct ksub_table subs;   /* its subscriptions, oldest first */
	struct sim_qmsg *qhead, *qtail;
	size_t qbytes;            /* counted bytes queued */
	size_t qcount;
	char *rx;                 /* a command being reassembled, owned */
	size_t rx_len;
	bool rx_too_big;
	int64_t last_ping_us;
	int64_t cmd_tokens;       /* command bucket, in millionths of a command */
	int64_t cmd_tokens_t;     /* last refill, us */
	/* faults armed on this connection (faults.c) */
	uint32_t f_drop;          /* skip the next N seq-bearing messages (seq still advances) */
	uint32_t f_dup;           /* send the next N seq-bearing messages twice */
	uint32_t f_reorder;       /* swap the next N pairs of seq-bearing messages */
	uint32_t f_sid;           /* the drop/dup/reorder faults apply to this sid only (0 = any) */
	char *held;               /* reorder: a message held back until the next one is sent, owned */
	size_t held_len;
	uint8_t held_type;
	bool f_numbers;           /* prices and sizes as JSON numbers */
	bool f_no_pings;
	bool f_refuse_adds;       /* subscribe/add_markets answer error 26 */
	bool f_mute_snapshots;    /* get_snapshot is answered with nothing */
	bool f_close;             /* close the socket at the next writeable */
	bool f_frozen;            /* neither read (so no pongs) nor write: a hung exchange */
};

/* ---- the world ------------------------------------------------------------------------------ */

struct sim_stats {
	uint64_t sent_total;
	uint64_t sent_by_type[16];  /* indexed by enum sim_mtype */
	uint64_t sent_bytes;
	uint64_t changes;
	uint64_t rest_requests, rest_429, rest_signed_ok, rest_signed_bad;
	uint64_t rest_held;          /* answers held back by the rest_slow fault */
	uint64_t ws_accepted, ws_refused;
	uint64_t overflows;
	uint64_t lifecycle_events;
};

enum sim_mtype {
	SIM_MT_SUBSCRIBED, SIM_MT_OK, SIM_MT_UNSUBSCRIBED, SIM_MT_ERROR, SIM_MT_SNAPSHOT,
	SIM_MT_DELTA, SIM_MT_LIFECYCLE, SIM_MT_EVENT_LIFECYCLE, SIM_MT_PING, SIM_MT_FAULT,
	SIM_MT_COUNT
};

struct sim_world {
	struct sim_opts opt;
	struct lws_context *ctx;
	struct kauth_key *pubkey;   /* owned; NULL when auth is off */
	struct sim_grid grids[4];
	size_t n_grids;
	struct sim_series *series;
	uint32_t n_series;
	struct sim_event *events;
	uint32_t n_events, cap_events;
	struct sim_market *markets;
	uint32_t n_markets;
	uint32_t *active;           /* indexes of active markets (the flow picks among them) */
	uint32_t n_active;
	uint32_t *hash;             /* ticker -> index + 1, open addressing */
	uint32_t hash_cap;
	struct sim_conn *conns;
	uint64_t next_conn_id;
	struct sim_stats st;
	uint32_t f_rest_fail;       /* fault: the next N GET /markets/{ticker} answer 503 */
	uint32_t f_rest_slow;       /* fault: the next N GET /markets/{ticker} answer late, */
	int64_t f_rest_slow_ms;     /* by this much */
	FILE *msg_log;
	int64_t start_us;
};

extern struct sim_world sim_w;

/* ---- rng.c: bounded draws over lib/rng (splitmix64 seeding xoshiro256**) -------------------- */

/* Uniform in [0, n); n > 0. */
uint64_t sim_rng_below(struct rng *r, uint64_t n);
/* Uniform in [lo, hi]. */
int64_t sim_rng_range(struct rng *r, int64_t lo, int64_t hi);

/* ---- time.c --------------------------------------------------------------------------------- */

int64_t sim_now_us(void);
/* Writes "YYYY-MM-DDTHH:MM:SSZ" for unix seconds t; buf holds 32 bytes. */
void sim_fmt_time(int64_t t, char buf[32]);

/* ---- markets.c ------------------------------------------------------------------------------ */

/* Builds the universe from sim_w.opt (seed, counts). Returns 0, or -1 when out of memory. */
int sim_markets_init(void);
void sim_world_free(void);
/* The market with this ticker (len bytes), or NULL. Borrowed. */
struct sim_market *sim_market_find(const char *ticker, size_t len);
struct sim_event *sim_event_find(const char *ticker);
struct sim_series *sim_series_find(const char *ticker);
const char *sim_mstatus_name(enum sim_mstatus s);
/* Moves a market to status s, keeping the active list in step; updates updated_us. */
void sim_market_set_status(struct sim_market *m, enum sim_mstatus s);
/*
 * Creates a new market (and a new event for it) in status initialized, as lifecycle does.
 * Returns it, or NULL when max_markets is reached or memory is short.
 */
struct sim_market *sim_market_create(struct rng *r);

/* ---- truth.c: book-change history for the ground truth -------------------------------------- */

int sim_truth_init(size_t cap);
void sim_truth_free(void);
void sim_truth_record(int64_t t_us, uint32_t market, enum book_side side, int64_t price,
    int64_t delta);
/*
 * The true book of market m at instant at_us (every change with t <= at_us applied). Returns a
 * new book (caller frees), or NULL with *gone set when at_us is older than the retained history.
 */
struct book *sim_truth_book_at(const struct sim_market *m, int64_t at_us, bool *gone);

/* ---- flow.c: order flow --------------------------------------------------------------------- */

/* Fills every book with its initial levels (recorded at start_us). */
void sim_flow_seed_books(void);
/* Applies n changes now; returns how many were applied (0 when no market is active). */
uint64_t sim_flow_step(uint64_t n);
/* Starts the periodic flow timer at the configured rate. */
int sim_flow_start(void);
/* The flow clock's events (LWS_CALLBACK_RAW_*_FILE); 0 for another descriptor. */
int sim_flow_clock(const struct lws *wsi, enum lws_callback_reasons reason);
void sim_flow_set_rate(int64_t rate);
int64_t sim_flow_rate(void);
/* Fair-price index walks and flow choices come from this stream. */
struct rng *sim_flow_rng(void);

/* ---- lifecycle.c ---------------------------------------------------------------------------- */

void sim_lifecycle_start(void);
/*
 * Performs one transition of market m (created markets are announced by sim_lifecycle_created).
 * to is the new status; returns 0, or -1 when the transition is not allowed from m's status.
 */
int sim_lifecycle_apply(struct sim_market *m, enum sim_mstatus to);
/* Performs one random transition now (what the timer does). */
void sim_lifecycle_random(void);
/* Creates a new market now and announces it; NULL at --max-markets. Borrowed. */
struct sim_market *sim_lifecycle_create(void);

/* ---- ws.c ----------------------------------------------------------------------------------- */

/*
 * Queues text (len bytes, copied) on c. counted messages are subscription data and count against
 * send_queue_max; returns -1 when that would overflow (nothing queued). type feeds the stats.
 */
int sim_ws_queue(struct sim_conn *c, const char *text, size_t len, enum sim_mtype type,
    bool counted);
void sim_ws_queue_ping(struct sim_conn *c);
void sim_ws_close_soon(struct sim_conn *c);
/*
 * Freezes c (stops reading it, so its pings go unanswered, and stops writing to it, so its queue
 * grows toward error 25) or thaws it.
 */
void sim_ws_freeze(struct sim_conn *c, bool frozen);
/* The one protocol callback: WebSocket reasons here, HTTP ones passed to sim_http_callback. */
int sim_ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
    size_t len);
void sim_ws_heartbeat_start(void);
struct sim_conn *sim_conn_find(uint64_t id);

/* ---- subs.c: commands and subscription messages --------------------------------------------- */

/* Handles one complete command frame from c. */
void sim_subs_command(struct sim_conn *c, const char *text, size_t len);
/* Answers the command frame with error code without running it (its id is echoed if it has one). */
void sim_subs_refuse(struct sim_conn *c, const char *text, size_t len, int code);
/* Sends the delta for one change of market m to every subscription holding it. */
void sim_subs_delta(struct sim_market *m, enum book_side side, int64_t price, int64_t delta,
    int64_t t_us);
/*
 * Announces a lifecycle message of the given type (msg_json is the msg object's text) to every
 * subscription of channel ch (market_lifecycle_v2, or multivariate_market_lifecycle for combos).
 */
void sim_subs_lifecycle(enum kcmd_channel ch, const char *type, const char *msg_json, size_t len);
/* Frees every subscription of c and unlinks them from their markets. */
void sim_subs_drop_all(struct sim_conn *c);
/* Kills sub sid of c with a terminal error (code 25 or 10), as the exchange does. */
int sim_subs_kill(struct sim_conn *c, uint32_t sid, int code);
/* Sends a terminal error 25 on every orderbook subscription of c (a slow reader). */
void sim_subs_overflow(struct sim_conn *c);

/* ---- auth.c --------------------------------------------------------------------------------- */

enum sim_auth { SIM_AUTH_OK, SIM_AUTH_ABSENT, SIM_AUTH_BAD };
/*
 * Checks the KALSHI-ACCESS-* headers of the request on wsi against the configured public key,
 * key id and timestamp window, for the signed string ts + method + path. *why says what failed.
 * With auth off (no --pubkey) every request is SIM_AUTH_OK.
 */
enum sim_auth sim_auth_check(struct lws *wsi, const char *method, const char *path,
    const char **why);

/* ---- per-session data of the one protocol --------------------------------------------------- */

struct sim_pss {
	struct hsrv_sess http;        /* owned by lib/hsrv: the request being answered */
	struct sim_conn *conn;        /* owned by ws.c: set once the WebSocket is established */
};

/* ---- http.c, rest.c, control.c -------------------------------------------------------------- */

/* The HTTP reasons of the protocol callback (lib/hsrv with the sim's route table). */
int sim_http_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
    size_t len);
/* Sets a Kalshi error reply {"error":{"code","message"}}. */
void sim_req_error(struct hsrv_req *r, int status, const char *code, const char *message);

void sim_rest_markets(struct hsrv_req *r);
void sim_rest_market(struct hsrv_req *r);
void sim_rest_orderbook(struct hsrv_req *r);
void sim_rest_events(struct hsrv_req *r);
void sim_rest_event(struct hsrv_req *r);
void sim_rest_series(struct hsrv_req *r);
void sim_rest_balance(struct hsrv_req *r);
/* A market as Kalshi's REST API shows it. Caller owns the result. */
struct json_object *sim_rest_market_json(const struct sim_market *m);

void sim_ctl_book(struct hsrv_req *r);
void sim_ctl_stats(struct hsrv_req *r);
void sim_ctl_flow(struct hsrv_req *r);
void sim_ctl_fault(struct hsrv_req *r);
void sim_ctl_lifecycle(struct hsrv_req *r);

/* ---- faults.c ------------------------------------------------------------------------------- */

/*
 * Applies a fault to one connection (or every connection when conn_id is 0). kind names it (see
 * docs/kalshi-sim.md); sid selects a subscription where the fault needs one (0 = every one).
 * ms is rest_slow's delay. Returns the number of connections affected, or -1 when kind is
 * unknown (*why says so).
 */
int sim_fault_apply(const char *kind, uint64_t conn_id, uint32_t sid, uint32_t count, int64_t ms,
    const char **why);
/* Arms the start-up faults (--fault) on a new connection. */
void sim_fault_on_connect(struct sim_conn *c);
/* Checks the --fault list at start-up: 0, or -1 with *why. */
int sim_fault_check_spec(const char *spec, const char **why);

#endif
