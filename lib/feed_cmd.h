/*
 * feed_cmd: parsing and validating one command frame of the kbook live feed (KALSHI.md section 3,
 * plus kbook's `since` cursor) into a struct feed_cmd, with Kalshi's error code when it is invalid.
 * It knows nothing of markets or connections (feedd executes commands), so it is unit-tested and
 * fuzzed alone. Parameters are checked in the order the exchange checks them (the same order as
 * kalshi-sim), so the first error reported is the one Kalshi would report.
 */
#ifndef KBOOK_FEED_CMD_H
#define KBOOK_FEED_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct json_object;

enum feed_cmd_type { FEED_CMD_SUBSCRIBE, FEED_CMD_UPDATE, FEED_CMD_UNSUBSCRIBE, FEED_CMD_LIST };
enum feed_cmd_action { FEED_ACT_NONE, FEED_ACT_ADD, FEED_ACT_DELETE, FEED_ACT_SNAPSHOT };

/* Kalshi's WebSocket error codes (KALSHI.md section 3) that the feed answers with. */
enum feed_err {
	FEED_E_PROCESS = 1, FEED_E_PARAMS = 2, FEED_E_CHANNELS = 3, FEED_E_SIDS = 4,
	FEED_E_UNKNOWN_CMD = 5, FEED_E_UNKNOWN_SID = 7, FEED_E_UNKNOWN_CHANNEL = 8,
	FEED_E_AUTH = 9, FEED_E_CHANNEL = 10, FEED_E_INVALID = 11, FEED_E_ONE_SID = 12,
	FEED_E_ACTION_UNSUPPORTED = 13, FEED_E_TICKER = 14, FEED_E_ACTION = 15,
	FEED_E_MARKET_NOT_FOUND = 16, FEED_E_INTERNAL = 17, FEED_E_OVERFLOW = 25,
	FEED_E_MARKET_LIMIT = 26, FEED_E_TOO_MANY = 27,
};

/* Most tickers or sids one command may carry; more is error 11. */
#define FEED_CMD_MAX_ITEMS 10000

struct feed_cmd {
	struct json_object *root;  /* owned: tickers point into it */
	bool has_id;
	int64_t id;
	enum feed_cmd_type type;
	const char **tickers;      /* owned array of strings borrowed from root */
	size_t n_tickers;
	bool has_tickers;          /* market_ticker or a non-empty market_tickers was given */
	int64_t *sids;             /* owned; 0 stands for an out-of-range sid */
	size_t n_sids;
	enum feed_cmd_action action;
	bool has_since;
	int64_t since;             /* microseconds since the epoch (kbook's `ts` cursor) */
	const char *why;           /* on error: which parameter was wrong (static) */
};

/*
 * Parses len bytes of text. Returns 0 with *cmd filled, or an error code (enum feed_err) with
 * cmd->has_id/id set when the id could be read and cmd->why naming what was wrong. Either way
 * the caller calls feed_cmd_free(cmd) afterwards.
 */
int feed_cmd_parse(const char *text, size_t len, struct feed_cmd *cmd);
void feed_cmd_free(struct feed_cmd *cmd);

/* Kalshi's message for an error code ("Unknown command", ...); static. */
const char *feed_err_msg(int code);

#endif
