/*
 * kerr: Kalshi's websocket error messages, by code, exactly as Kalshi words them.
 */
#include <stddef.h>

#include "kerr.h"

static const char *const kerr_msgs[] = {
	[KERR_PROCESS] = "Unable to process message",
	[KERR_PARAMS] = "Params required",
	[KERR_CHANNELS] = "Channels required",
	[KERR_SIDS] = "Sids required",
	[KERR_UNKNOWN_CMD] = "Unknown command",
	[KERR_ALREADY] = "Already subscribed",
	[KERR_UNKNOWN_SID] = "Unknown subscription ID",
	[KERR_UNKNOWN_CHANNEL] = "Unknown channel name",
	[KERR_AUTH] = "Authentication required",
	[KERR_CHANNEL] = "Channel error",
	[KERR_INVALID] = "Invalid parameter",
	[KERR_ONE_SID] = "Exactly one subscription ID is required",
	[KERR_ACTION_UNSUPPORTED] = "Unsupported action",
	[KERR_TICKER] = "Market Ticker required",
	[KERR_ACTION] = "Action required",
	[KERR_MARKET_NOT_FOUND] = "Market not found",
	[KERR_INTERNAL] = "Internal error",
	[KERR_TIMEOUT] = "Command timeout",
	[KERR_OVERFLOW] = "Subscription buffer overflow",
	[KERR_MARKET_LIMIT] = "Subscription market limit exceeded",
	[KERR_TOO_MANY] = "Too many requests",
};

const char *
kerr_msg(int code)
{
	for (size_t i = 1; i < sizeof(kerr_msgs) / sizeof(kerr_msgs[0]); i++)
		if ((size_t)code == i && kerr_msgs[i] != NULL)
			return kerr_msgs[i];
	return "Error";
}
