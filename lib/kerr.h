/*
 * kerr: Kalshi's websocket error codes and their messages (KALSHI.md section 3), one enum and one
 * table for every program that speaks the protocol as a server (kalshi-sim, kbook-feedd) and for
 * the command grammar that returns them (lib/kcmd).
 */
#ifndef KBOOK_KERR_H
#define KBOOK_KERR_H

enum kerr_code {
	KERR_PROCESS = 1, KERR_PARAMS = 2, KERR_CHANNELS = 3, KERR_SIDS = 4, KERR_UNKNOWN_CMD = 5,
	KERR_ALREADY = 6, KERR_UNKNOWN_SID = 7, KERR_UNKNOWN_CHANNEL = 8, KERR_AUTH = 9,
	KERR_CHANNEL = 10, KERR_INVALID = 11, KERR_ONE_SID = 12, KERR_ACTION_UNSUPPORTED = 13,
	KERR_TICKER = 14, KERR_ACTION = 15, KERR_MARKET_NOT_FOUND = 16, KERR_INTERNAL = 17,
	KERR_TIMEOUT = 18, KERR_OVERFLOW = 25, KERR_MARKET_LIMIT = 26, KERR_TOO_MANY = 27,
};

/* Kalshi's message for code (1..27), or "Error" for a code it does not define. Static string. */
const char *kerr_msg(int code);

#endif
