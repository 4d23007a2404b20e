/*
 * libFuzzer target for the feed's command parser (lib/feed_cmd.c). Any input must give either 0
 * with a consistent command or one of Kalshi's error codes with a reason, never a crash, leak or
 * out-of-bounds read; the invariants below abort otherwise.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "feed_cmd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct feed_cmd cmd;
	int rc = feed_cmd_parse((const char *)data, size, &cmd);

	if (rc != 0) {
		if (strcmp(feed_err_msg(rc), "Error") == 0 || cmd.why == NULL)
			abort();
	} else {
		if (cmd.root == NULL)
			abort();
		if ((cmd.type == FEED_CMD_SUBSCRIBE || cmd.type == FEED_CMD_UPDATE) &&
		    (cmd.n_tickers == 0 || cmd.tickers == NULL))
			abort();
		if (cmd.type == FEED_CMD_UPDATE && (cmd.n_sids != 1 || cmd.action == FEED_ACT_NONE))
			abort();
		if (cmd.type == FEED_CMD_UNSUBSCRIBE && cmd.n_sids == 0)
			abort();
		for (size_t i = 0; i < cmd.n_tickers; i++)
			if (cmd.tickers[i] == NULL)
				abort();
		if (cmd.has_since && cmd.since < 0)
			abort();
	}
	feed_cmd_free(&cmd);
	return 0;
}
