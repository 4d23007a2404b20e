/*
 * cmd: parsing and validating one WebSocket command frame (KALSHI.md section 3) into a
 * struct sim_cmd, with the exchange's error code when it is invalid. It knows nothing of markets
 * or connections (subs.c executes commands), so it can be fuzzed alone.
 */
#ifndef KBOOK_SIM_CMD_H
#define KBOOK_SIM_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct json_object;

enum sim_channel { SIM_CH_ORDERBOOK, SIM_CH_LIFECYCLE, SIM_CH_MVE_LIFECYCLE, SIM_CH_COUNT };

enum sim_cmd_type { SIM_CMD_SUBSCRIBE, SIM_CMD_UPDATE, SIM_CMD_UNSUBSCRIBE, SIM_CMD_LIST };
enum sim_cmd_action { SIM_ACT_NONE, SIM_ACT_ADD, SIM_ACT_DELETE, SIM_ACT_SNAPSHOT };

/* The exchange's WebSocket error codes that the parser or the executor return. */
enum sim_err {
	SIM_E_PROCESS = 1, SIM_E_PARAMS = 2, SIM_E_CHANNELS = 3, SIM_E_SIDS = 4, SIM_E_UNKNOWN_CMD = 5,
	SIM_E_UNKNOWN_SID = 7, SIM_E_UNKNOWN_CHANNEL = 8, SIM_E_CHANNEL = 10, SIM_E_INVALID = 11,
	SIM_E_ONE_SID = 12, SIM_E_ACTION_UNSUPPORTED = 13, SIM_E_TICKER = 14, SIM_E_ACTION = 15,
	SIM_E_MARKET_NOT_FOUND = 16, SIM_E_INTERNAL = 17, SIM_E_OVERFLOW = 25, SIM_E_MARKET_LIMIT = 26,
	SIM_E_TOO_MANY = 27,
};

/* Most tickers or sids one command may carry; more is error 11. */
#define SIM_CMD_MAX_ITEMS 20000

struct sim_cmd {
	struct json_object *root;  /* owned: tickers point into it */
	bool has_id;
	int64_t id;
	enum sim_cmd_type type;
	unsigned channels;         /* bit (1 << enum sim_channel) per channel named */
	const char **tickers;      /* owned array of borrowed strings */
	size_t n_tickers;
	bool has_tickers;          /* market_ticker or market_tickers was given */
	uint32_t *sids;            /* owned; 0 stands for an out-of-range sid */
	size_t n_sids;
	enum sim_cmd_action action;
	bool use_yes_price;
	const char *why;           /* on error: which parameter was wrong (static) */
};

/*
 * Parses len bytes of text. Returns 0 with *cmd filled, or an error code (enum sim_err) with
 * cmd->has_id/id set when the id could be read and cmd->why saying what was wrong. Either way
 * the caller calls sim_cmd_free(cmd) afterwards.
 */
int sim_cmd_parse(const char *text, size_t len, struct sim_cmd *cmd);
void sim_cmd_free(struct sim_cmd *cmd);
/* The exchange's message for an error code ("Unknown command", ...). */
const char *sim_err_msg(int code);
/* The wire name of a channel ("orderbook_delta", "market_lifecycle_v2", ...). */
const char *sim_channel_name(enum sim_channel ch);

#endif
