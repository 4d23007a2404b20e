/*
 * kerr: the messages of Kalshi's websocket error codes (KALSHI.md section 3), one table for every
 * program that speaks the protocol as a server (kalshi-sim, kbook-feedd).
 */
#ifndef KBOOK_KERR_H
#define KBOOK_KERR_H

/* Kalshi's message for code (1..27), or "Error" for a code it does not define. Static string. */
const char *kerr_msg(int code);

#endif
