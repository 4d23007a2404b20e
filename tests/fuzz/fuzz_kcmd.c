/*
 * libFuzzer target for Kalshi's command grammar (lib/kcmd.c), in both of its dialects: every
 * input is parsed as kalshi-sim (the exchange's) and as kbook-feedd (the feed's) would. Each must
 * give either 0 with a command consistent with its dialect, or one of Kalshi's error codes with a
 * reason, never a crash, leak or out-of-bounds read; the invariants below abort otherwise. The
 * corpus holds the seeds of both former parsers' fuzzers (exchange_*, feed_*).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kcmd.h"
#include "kerr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_kcmd_one(const struct kcmd_dialect *d, const uint8_t *data, size_t size)
{
	struct kcmd cmd;
	int rc = kcmd_parse(d, (const char *)data, size, &cmd);

	if (rc != 0) {
		/* only codes the exchange documents, each with a message and a reason */
		if (strcmp(kerr_msg(rc), "Error") == 0 || cmd.why == NULL)
			abort();
		kcmd_free(&cmd);
		return;
	}
	if (cmd.root == NULL)
		abort();
	switch (cmd.type) {
	case KCMD_SUBSCRIBE:
		/* at least one channel, all served by the dialect */
		if (cmd.channels == 0 || (cmd.channels & ~d->channels) != 0)
			abort();
		if ((cmd.channels & d->ticker_channels) && cmd.n_tickers == 0)
			abort();
		break;
	case KCMD_UPDATE:
		if (cmd.n_sids != 1 || cmd.action == KCMD_ACT_NONE || cmd.n_tickers == 0)
			abort();
		break;
	case KCMD_UNSUBSCRIBE:
		if (cmd.n_sids == 0)
			abort();
		break;
	case KCMD_LIST:
		break;
	}
	if (cmd.n_tickers > d->max_items || cmd.n_sids > d->max_items)
		abort();
	for (size_t i = 0; i < cmd.n_tickers; i++)
		if (cmd.tickers[i] == NULL || strlen(cmd.tickers[i]) > size)
			abort();
	for (size_t i = 0; i < cmd.n_sids; i++)
		if (cmd.sids[i] < 0 || cmd.sids[i] > d->sid_max)
			abort();
	if ((cmd.has_since && (!(d->opts & KCMD_OPT_SINCE) || cmd.since < 0)) ||
	    (cmd.use_yes_price && !(d->opts & KCMD_OPT_YES_PRICE)))
		abort();
	kcmd_free(&cmd);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_kcmd_one(&kcmd_exchange, data, size);
	fuzz_kcmd_one(&kcmd_feed, data, size);
	return 0;
}
