/*
 * libFuzzer target for kalshi-sim's WebSocket command parser (sim/kalshi/cmd.c). The parser is
 * compiled into this target directly (the fuzz rule links only lib/), since it depends on
 * nothing but json-c. Any input must give either 0 with a consistent command or one of the
 * exchange's error codes, never a crash, leak or out-of-bounds read; the invariants below
 * abort otherwise.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* the parser itself, not its header: the fuzz rule links lib/ only */
#include "../../sim/kalshi/cmd.c" /* NOLINT(bugprone-suspicious-include) */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sim_cmd cmd;
	int rc = sim_cmd_parse((const char *)data, size, &cmd);

	if (rc != 0) {
		/* only codes the exchange documents, each with a message and a reason */
		if (strcmp(sim_err_msg(rc), "Error") == 0 || cmd.why == NULL)
			abort();
	} else {
		if (cmd.root == NULL)
			abort();
		switch (cmd.type) {
		case SIM_CMD_SUBSCRIBE:
			if (cmd.channels == 0 || cmd.channels >= (1u << SIM_CH_COUNT))
				abort();
			if ((cmd.channels & (1u << SIM_CH_ORDERBOOK)) && cmd.n_tickers == 0)
				abort();
			break;
		case SIM_CMD_UPDATE:
			if (cmd.n_sids != 1 || cmd.action == SIM_ACT_NONE || cmd.n_tickers == 0)
				abort();
			break;
		case SIM_CMD_UNSUBSCRIBE:
			if (cmd.n_sids == 0)
				abort();
			break;
		case SIM_CMD_LIST:
			break;
		}
		for (size_t i = 0; i < cmd.n_tickers; i++)
			if (cmd.tickers[i] == NULL || strlen(cmd.tickers[i]) > size)
				abort();
	}
	sim_cmd_free(&cmd);
	return 0;
}
