/*
 * kerr: Kalshi's websocket error messages, by code, exactly as Kalshi words them.
 */
#include <stddef.h>

#include "kerr.h"

static const char *const kerr_msgs[] = {
	[1] = "Unable to process message",
	[2] = "Params required",
	[3] = "Channels required",
	[4] = "Sids required",
	[5] = "Unknown command",
	[6] = "Already subscribed",
	[7] = "Unknown subscription ID",
	[8] = "Unknown channel name",
	[9] = "Authentication required",
	[10] = "Channel error",
	[11] = "Invalid parameter",
	[12] = "Exactly one subscription ID is required",
	[13] = "Unsupported action",
	[14] = "Market Ticker required",
	[15] = "Action required",
	[16] = "Market not found",
	[17] = "Internal error",
	[18] = "Command timeout",
	[25] = "Subscription buffer overflow",
	[26] = "Subscription market limit exceeded",
	[27] = "Too many requests",
};

const char *
kerr_msg(int code)
{
	for (size_t i = 1; i < sizeof(kerr_msgs) / sizeof(kerr_msgs[0]); i++)
		if ((size_t)code == i && kerr_msgs[i] != NULL)
			return kerr_msgs[i];
	return "Error";
}
