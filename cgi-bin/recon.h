/*
 * recon: reconstruction of recorded books from Postgres, shared by the orderbook handlers.
 *
 * The book at T is the latest checkpoint at or before T plus the deltas after it up to and
 * including T; the collector writes a checkpoint at least every N deltas, so the cost is bounded
 * whatever the length of the history. Also: looking up a market, the gap covering an instant,
 * and rendering a book as Kalshi-style JSON.
 */
#ifndef KBOOK_RECON_H
#define KBOOK_RECON_H

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "book.h"
#include "db.h"

#define RECON_NONE INT64_MIN /* an absent instant */

/*
 * kb_us(x) (sql/001_baseline.sql) written out, for statements planned at every execution (custom
 * plans of the partitioned tables, the market list's optional filters): Postgres inlines a SQL
 * function anew at every planning, which costs about 15 us a call; the same expression of
 * built-in functions costs nothing to plan, and gives the same exact microseconds.
 */
#define SQL_US(x) "round(date_part('epoch', " x " AT TIME ZONE 'UTC') * 1000000)::bigint"

/*
 * How far a market's record is known to be complete: the later of the collector's
 * recorded-through mark (r, one row) and the market's last recorded instant; for a market
 * recorded to its settlement, the settlement (and it is complete ever after, the second column).
 * Columns of RECON_AT_COLS and recon_market.
 */
#define RECON_THROUGH_COLS \
    SQL_US("CASE WHEN m.final_ts IS NULL THEN greatest(r.through, m.last_ts)" \
    " ELSE greatest(m.final_ts, m.last_ts) END") ", m.final_ts IS NOT NULL"
/*
 * The market named $1 (m), its latest checkpoint at or before the instant $2 (c), the gap
 * covering $2 (g) and its recorded-through instant (r): the select list (columns 0-15) and the
 * FROM clause of the book at T, shared by recon.c's statement and daypart.c's, which adds the
 * deltas. The mark is one more buffer hit in the same statement (recorded_through).
 */
#define RECON_AT_COLS \
    "m.id, m.ticker, m.notional, " SQL_US("m.first_ts") ", " SQL_US("m.last_ts") "," \
    " " SQL_US("c.ts") ", c.source, c.yes_prices, c.yes_sizes, c.no_prices, c.no_sizes," \
    " " SQL_US("g.start_ts") ", " SQL_US("g.end_ts") ", g.reason, " RECON_THROUGH_COLS
/* The latest checkpoint at or before $2 in the table cp (book_checkpoints, or one month's
 * partition of it: daypart.c), and a gap covering $2, or one that began after the checkpoint:
 * the deltas since then do not rebuild the book (a gap is closed by the snapshot checkpoint
 * written at its end) */
#define RECON_AT_FROM(cp) \
    " FROM markets m LEFT JOIN recorded_through r ON true" \
    " LEFT JOIN LATERAL (SELECT * FROM " cp " cp WHERE cp.market_id = m.id" \
    "   AND cp.ts <= $2::timestamptz ORDER BY cp.ts DESC LIMIT 1) c ON true" \
    " LEFT JOIN LATERAL (SELECT * FROM gaps gp WHERE gp.market_id = m.id" \
    "   AND gp.start_ts <= $2::timestamptz" \
    "   AND (gp.end_ts IS NULL OR gp.end_ts > $2::timestamptz OR gp.start_ts >= c.ts)" \
    "   ORDER BY gp.start_ts DESC LIMIT 1) g ON true"

struct recon_market {
	int64_t id;
	char ticker[201];
	int64_t notional;
	int64_t first_ts, last_ts; /* coverage, RECON_NONE when nothing is recorded */
	int64_t through;           /* recorded through (RECON_THROUGH_COLS), RECON_NONE: nothing */
	bool final;                /* recorded to its settlement: complete after through too */
};

/* Is instant at after what m's record is known to hold (not yet recorded)? */
bool recon_not_yet_recorded(const struct recon_market *m, int64_t at);

struct recon_gap {
	bool found;
	int64_t start, end; /* end RECON_NONE while the gap is open */
	char reason[32];
};

struct recon_state {
	struct book *book;        /* owned; caller frees with recon_state_free */
	int64_t checkpoint_ts;    /* RECON_NONE when no checkpoint precedes T */
	char checkpoint_source[16];
	int64_t deltas_applied;
	int64_t last_change;      /* ts of the last change applied (checkpoint or delta) */
	bool inconsistent;        /* a recorded delta drove a level below zero */
};

/* Looks a market up by ticker. Returns 1 found, 0 not found, -1 database error. */
int recon_market(struct db *db, const char *ticker, struct recon_market *out);

struct req;
/*
 * The market named by the request's {ticker}: returns true with *out filled, or answers
 * 404 market_not_found / 503 itself and returns false.
 */
bool recon_req_market(struct req *req, struct recon_market *out);

/* Rebuilds the book of m at instant at into st (allocated here). Returns 0 or -1. */
int recon_book_at(struct db *db, const struct recon_market *m, int64_t at, struct recon_state *st);
void recon_state_free(struct recon_state *st);

/*
 * The book of the market with ticker at instant at, with the market and the gap covering at, in
 * two round trips. Returns 1 found, 0 no such market, -1 database error. st is always safe to free.
 */
int recon_orderbook(struct db *db, const char *ticker, int64_t at, struct recon_market *m,
    struct recon_state *st, struct recon_gap *gap, struct db_call *pre);

/*
 * The first statement recon_orderbook runs for (ticker, at), in call (its instants' text in
 * buf), to be sent ahead with the charge; recon_orderbook then takes its result from call.
 */
void recon_orderbook_call(struct db *db, const char *ticker, int64_t at, struct db_call *call,
    char buf[2][32]);

/* {"yes_dollars":[["0.4500","13.00"],...],"no_dollars":[...]} with the best depth levels (0: all). */
struct json_object *recon_levels_json(const struct book *b, int depth);
/* {"yes_bid":{"price","size"}|null,"yes_ask":...,"no_bid":...,"no_ask":...} */
struct json_object *recon_best_json(const struct book *b);
/* An instant as RFC 3339 JSON string, or JSON null for RECON_NONE. */
struct json_object *recon_time_json(int64_t us);

#endif
