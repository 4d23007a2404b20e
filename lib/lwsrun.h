/*
 * lwsrun: what the programs that serve HTTP and WebSocket on one port with libwebsockets 4.1.6
 * do alike (kalshi-sim, stripe-sim): libwebsockets' own log lines as lib/log's JSON lines, the
 * listening context, and the service loop, which ends at SIGTERM or SIGINT (lib/service).
 */
#ifndef KBOOK_LWSRUN_H
#define KBOOK_LWSRUN_H

#include <libwebsockets.h>

/*
 * Sends libwebsockets' errors and warnings to lib/log ("lws: ...", errors at error level), except
 * lines containing one of ignore (NULL-terminated, borrowed for the program's life; NULL: none).
 * Also kbook-feedd's.
 */
void lwsrun_log(const char *const *ignore);

/*
 * A context named name serving protocols (borrowed for the context's life) on iface:port, IPv4
 * only; max_http_header_data 0 keeps libwebsockets' default (1024 bytes). Returns NULL after
 * logging "cannot listen on iface:port". The caller destroys it (lws_context_destroy).
 */
struct lws_context *lwsrun_listen(const char *name, const char *iface, int port,
    const struct lws_protocols *protocols, unsigned short max_http_header_data);

/*
 * Serves ctx until a stop signal (service_signals must have been called) or a service error.
 * Returns 0 at a stop, -1 after a service error.
 */
int lwsrun_loop(struct lws_context *ctx);

#endif
