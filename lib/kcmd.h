/*
 * kcmd: Kalshi's WebSocket command grammar (KALSHI.md section 3), one parser for every program
 * that speaks the protocol as a server. A frame is parsed and validated into a struct kcmd, or
 * refused with the exchange's error code (enum kerr_code, lib/kerr.h), the first that applies in
 * the order the exchange checks parameters. What differs between kalshi-sim (the exchange's own
 * dialect: three channels, use_yes_price) and kbook-feedd (one channel, kbook's `since` cursor)
 * is data, a struct kcmd_dialect, not code. The parser knows nothing of markets or connections
 * (the programs execute commands), so it is unit-tested and fuzzed alone.
 */
#ifndef KBOOK_KCMD_H
#define KBOOK_KCMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct json_object;

/* Every channel name the grammar knows; a dialect serves a subset of them. */
enum kcmd_channel { KCMD_CH_ORDERBOOK, KCMD_CH_LIFECYCLE, KCMD_CH_MVE_LIFECYCLE, KCMD_CH_COUNT };

enum kcmd_type { KCMD_SUBSCRIBE, KCMD_UPDATE, KCMD_UNSUBSCRIBE, KCMD_LIST };
enum kcmd_action { KCMD_ACT_NONE, KCMD_ACT_ADD, KCMD_ACT_DELETE, KCMD_ACT_SNAPSHOT };

/* Optional parameters of subscribe a dialect reads (other members are ignored, as Kalshi does). */
enum { KCMD_OPT_SINCE = 1, KCMD_OPT_YES_PRICE = 2 };

struct kcmd_dialect {
	const char *name;          /* for logs and tests */
	unsigned channels;         /* bit (1 << enum kcmd_channel) per channel served; others: 8 */
	unsigned ticker_channels;  /* channels whose subscribe needs market tickers; without: 14 */
	unsigned opts;             /* KCMD_OPT_* read by subscribe */
	size_t max_items;          /* most tickers or sids one command may carry; more: 11 */
	int64_t sid_max;           /* larger sids read as 0, which no subscription has */
};

/* kalshi-sim: the exchange's channels and limits. */
extern const struct kcmd_dialect kcmd_exchange;
/* kbook-feedd: orderbook_delta only, plus `since`. */
extern const struct kcmd_dialect kcmd_feed;

struct kcmd {
	struct json_object *root;  /* owned: tickers point into it */
	bool has_id;
	int64_t id;
	enum kcmd_type type;
	unsigned channels;         /* bit (1 << enum kcmd_channel) per channel named */
	const char **tickers;      /* owned array of strings borrowed from root */
	size_t n_tickers;
	bool has_tickers;          /* market_ticker or a non-empty market_tickers was given */
	int64_t *sids;             /* owned; 0 stands for an out-of-range sid */
	size_t n_sids;
	enum kcmd_action action;
	bool use_yes_price;        /* KCMD_OPT_YES_PRICE */
	bool has_since;            /* KCMD_OPT_SINCE */
	int64_t since;             /* microseconds since the epoch (kbook's `ts` cursor) */
	const char *why;           /* on error: which parameter was wrong (static) */
};

/*
 * Parses len bytes of text in dialect d. Returns 0 with *cmd filled, or an error code
 * (enum kerr_code) with cmd->has_id/id set when the id could be read and cmd->why naming what was
 * wrong. Either way the caller calls kcmd_free(cmd) afterwards.
 */
int kcmd_parse(const struct kcmd_dialect *d, const char *text, size_t len, struct kcmd *cmd);
void kcmd_free(struct kcmd *cmd);

/* The wire name of a channel ("orderbook_delta", "market_lifecycle_v2", ...); static. */
const char *kcmd_channel_name(enum kcmd_channel ch);

#endif
