/*
 * gen: kbook-gen, the generator of recorded orderbook history and its replay oracle.
 *
 * kbook-gen writes a realistic universe of markets (series, events, statuses, price grids) and
 * their recorded books (deltas, snapshot and periodic checkpoints, gaps) straight into Postgres
 * with COPY, deterministically from a seed; the Data API's tests and benchmarks run on it. The
 * oracle modes rebuild books by brute force from the stored rows, to check the API and the
 * generator's own checkpoints. The modules:
 *
 *   main.c      flags (one table) and the choice of mode
 *   rng.c       the deterministic random source (xoshiro256**, one stream per market)
 *   when.c      instants: parsing RFC 3339 / unix times, printing them for Postgres and JSON
 *   universe.c  the markets: tickers, events, series, metadata, activity, gap schedule; insert
 *   flow.c      one market's recorded history as a stream of events (deltas, checkpoints, gaps)
 *   copy.c      the COPY FROM STDIN writer (text format, big buffers)
 *   run.c       a generation run: partitions, markets, the time-ordered merge, COPY, coverage
 *   replay.c    the oracle: --replay, --replay-all, --verify, --verify-all; and --delete
 *
 * Times are int64 microseconds since the Unix epoch (UTC), like Postgres timestamptz.
 */
#ifndef KBOOK_GEN_H
#define KBOOK_GEN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "book.h"
#include "db.h"
#include "rng.h"

#define GEN_PREFIX_MAX 32
#define GEN_SERIES_MAX 64
#define GEN_EVENT_MAX  112
#define GEN_TICKER_MAX 136
#define GEN_USEC       INT64_C(1000000)

/* ---- options (main.c) ----------------------------------------------------------------------- */

enum gen_mode {
	GEN_MODE_GENERATE,
	GEN_MODE_REPLAY,     /* --replay TICKER --at T */
	GEN_MODE_REPLAY_ALL, /* --replay-all TICKER --at-list FILE */
	GEN_MODE_VERIFY,     /* --verify TICKER */
	GEN_MODE_VERIFY_ALL, /* --verify-all (every market of --prefix) */
	GEN_MODE_DELETE,     /* --delete (every row of --prefix) */
};

enum gen_order {
	GEN_ORDER_TIME,   /* rows in receive-time order across markets, as a collector writes them */
	GEN_ORDER_MARKET, /* all rows of one market, then the next: fastest to load, unrealistic heap */
};

struct gen_opts {
	enum gen_mode mode;
	int64_t markets;
	int64_t deltas;
	int64_t start;            /* us */
	int64_t span;             /* us */
	int64_t seed;
	int64_t checkpoint_every;
	int64_t checkpoint_minutes; /* 0: only every N deltas */
	int64_t gaps;
	int64_t events;           /* 0: markets / 5, rounded up */
	bool ties;
	bool append;
	enum gen_order order;
	const char *prefix;       /* borrowed from argv */
	const char *ticker;       /* --replay, --replay-all, --verify; borrowed from argv */
	int64_t at;               /* --at, us */
	const char *at_list;      /* --at-list FILE; borrowed from argv */
};

/* ---- rng.c ----------------------------------------------------------------------------------- */

/* Seeds a generator for (seed, stream): distinct streams are independent sequences. */
void gen_rng_seed(struct rng *r, uint64_t seed, uint64_t stream);
/* Uniform in 0..n-1 (n > 0), without modulo bias. */
uint64_t gen_rng_below(struct rng *r, uint64_t n);
/* Uniform in [0, 1). Used for times and activity only, never for a price or a size. */
double gen_rng_unit(struct rng *r);
/* True with probability num/den. */
bool gen_rng_chance(struct rng *r, uint64_t num, uint64_t den);
/* Geometric: the number of failures before the first success of a 1/2^k trial, capped at max. */
uint64_t gen_rng_geom(struct rng *r, unsigned k, uint64_t max);

/* ---- when.c ---------------------------------------------------------------------------------- */

/* Buffer size for both formats below, with the NUL. */
#define GEN_TIME_BUFSZ 40

/*
 * Parses an instant: RFC 3339 ("2025-01-02T03:04:05Z", "...05.123456+01:00", up to 6 fraction
 * digits, 'T' or ' ' between date and time) or an unsigned integer counted as unix seconds below
 * 10^11, milliseconds below 10^14 and microseconds otherwise. Returns 0, or -1 on anything else.
 */
int gen_time_parse(const char *s, int64_t *us);
/* "2025-01-02 03:04:05.123456+00": the text Postgres reads in COPY and parameters. */
size_t gen_time_pg(int64_t us, char buf[GEN_TIME_BUFSZ]);
/* "2025-01-02T03:04:05.123456Z": RFC 3339 for JSON output. */
size_t gen_time_rfc3339(int64_t us, char buf[GEN_TIME_BUFSZ]);
/* "25JAN02": Kalshi's date token in event tickers. */
void gen_time_kalshi_date(int64_t us, char buf[16]);

/* ---- universe.c ------------------------------------------------------------------------------ */

/* Kalshi's price_level_structure values and their grids (strictly between 0 and notional). */
enum gen_grid_kind { GEN_GRID_CENT, GEN_GRID_DECI, GEN_GRID_TAPERED, GEN_GRID_KINDS };

struct gen_grid {
	const char *structure;   /* price_level_structure */
	const char *ranges_json; /* price_ranges */
	int64_t *price;          /* ascending micro-dollars */
	int n;
};

/* The grid of a kind, built on first use; borrowed for the life of the process. */
const struct gen_grid *gen_grid_get(enum gen_grid_kind kind);

struct gen_gap {
	int64_t before;   /* the gap comes right before this delta index (>= 1) */
	int64_t lead;     /* us between the previous delta and the gap's start */
	int64_t dur;      /* us from start to end (the fresh snapshot) */
};

struct gen_market {
	char ticker[GEN_TICKER_MAX];
	char event[GEN_EVENT_MAX];
	char series[GEN_SERIES_MAX];
	int32_t id;            /* markets.id, after gen_universe_insert */
	int64_t index;         /* position in the universe (stream number of its rng) */
	int64_t event_index;   /* global event number (with --append offsets) */
	int status;            /* index into gen_statuses */
	enum gen_grid_kind grid;
	int64_t count;         /* deltas to generate */
	bool recorded;         /* has a recording (at least the first snapshot) */
	int64_t rec_start;     /* first snapshot */
	int64_t rec_end;       /* no delta after this */
	int64_t open_time, close_time;
	struct gen_gap *gaps;  /* sorted by before; owned by the universe */
	size_t ngaps;
	int64_t first_ts, last_ts; /* coverage, filled in by the run */
};

struct gen_universe {
	struct gen_market *m;
	size_t n;
	int64_t tie_grid;      /* --ties: cluster starts are multiples of this many us */
	int64_t total_gaps;
};

/* Kalshi's market statuses, in the order gen_market.status indexes them. */
extern const char *const gen_statuses[];

/*
 * Existing rows of the prefix, so that --append continues the numbering of markets, events and
 * series and no ticker collides.
 */
struct gen_offsets {
	int64_t markets, events, series;
};

/*
 * Plans the universe from the options (pure computation: same options and offsets, same plan).
 * Returns 0, or -1 with a message in err (exit status 2: the options cannot be satisfied).
 * Free with gen_universe_free.
 */
int gen_universe_plan(const struct gen_opts *o, const struct gen_offsets *off,
    struct gen_universe *u, char *err, size_t errlen);
void gen_universe_free(struct gen_universe *u);

/* Inserts the markets (one statement, RETURNING id) and fills gen_market.id. 0 or -1 (logged). */
int gen_universe_insert(struct db *db, struct gen_universe *u);

/* Sets markets.first_ts/last_ts from the filled-in coverage. 0 or -1 (logged). */
int gen_universe_coverage(struct db *db, const struct gen_universe *u);

/* ---- flow.c ---------------------------------------------------------------------------------- */

enum gen_ev_kind {
	GEN_EV_SNAPSHOT, /* checkpoint 'snapshot': the book as the flow holds it */
	GEN_EV_DELTA,
	GEN_EV_PERIODIC, /* checkpoint 'periodic' */
	GEN_EV_GAP,
	GEN_EV_END,
};

struct gen_event {
	enum gen_ev_kind kind;
	int64_t ts;          /* for a gap: its start */
	int64_t exchange_ts; /* delta */
	enum book_side side; /* delta */
	int64_t price;       /* delta */
	int64_t delta;       /* delta */
	int64_t end;         /* gap */
	int reason;          /* gap: index into gen_gap_reasons */
	bool diverged;       /* gap */
};

/* The schema's gaps.reason values, with a plausible detail line each. */
extern const char *const gen_gap_reasons[];
extern const char *const gen_gap_details[];
#define GEN_GAP_REASONS 7

struct gen_flow; /* opaque */

/*
 * Starts the recorded history of market m (borrowed until gen_flow_free); the first event is
 * ready in gen_flow_event. Returns NULL when out of memory.
 */
struct gen_flow *gen_flow_new(const struct gen_market *m, const struct gen_opts *o,
    int64_t tie_grid);
void gen_flow_free(struct gen_flow *f);
/* The current event, borrowed until gen_flow_advance. GEN_EV_END when the history is over. */
const struct gen_event *gen_flow_event(const struct gen_flow *f);
/* The book after the current event (borrowed until gen_flow_advance). */
const struct book *gen_flow_book(const struct gen_flow *f);
/* Moves to the next event. Returns 0, or -1 when out of memory. */
int gen_flow_advance(struct gen_flow *f);

/* ---- copy.c ---------------------------------------------------------------------------------- */

struct gen_copy {
	struct db *db;
	FILE *spool;     /* spool mode: rows go to this file instead of a COPY */
	char *buf;
	size_t len, cap;
	int64_t rows;
	bool active;
};

/* Starts "COPY ... FROM STDIN" (sql) on db. Returns 0 or -1 (logged). */
int gen_copy_begin(struct gen_copy *c, struct db *db, const char *sql);
/* Starts spool mode: the same rows, written to f (borrowed) for a later gen_copy_file. */
int gen_copy_spool(struct gen_copy *c, FILE *f);
/* Ends the row being built; flushes when the buffer is full. Returns 0 or -1 (logged). */
int gen_copy_row_end(struct gen_copy *c);
/* Finishes the COPY and checks its result. Returns 0 or -1 (logged). */
int gen_copy_end(struct gen_copy *c);
/* Abandons a COPY in progress (on error paths) and frees the buffer; safe to call twice. */
void gen_copy_abort(struct gen_copy *c);
/* Copies the whole content of f (text COPY rows) into a COPY that has begun. 0 or -1. */
int gen_copy_file(struct gen_copy *c, FILE *f);

/*
 * Appenders for text COPY fields: each writes into buf at *len (the caller made room for
 * GEN_FIELD_MAX bytes) and is used both for the live COPY and the checkpoint spool.
 */
#define GEN_FIELD_MAX 64
char *gen_copy_room(struct gen_copy *c, size_t need);
size_t gen_fmt_i64(char *out, int64_t v);

/* ---- run.c ----------------------------------------------------------------------------------- */

/* A generation run. Returns the exit status: 0, 1 (database or runtime error), 2 (refused). */
int gen_run(const struct gen_opts *o, struct db *db);

/* ---- replay.c -------------------------------------------------------------------------------- */

/* The oracle modes and --delete. Return the exit status: 0, or 1 on any error or mismatch. */
int gen_replay(const struct gen_opts *o, struct db *db);
int gen_replay_all(const struct gen_opts *o, struct db *db);
int gen_verify(const struct gen_opts *o, struct db *db);
int gen_verify_all(const struct gen_opts *o, struct db *db);
int gen_delete(const struct gen_opts *o, struct db *db);

#endif
