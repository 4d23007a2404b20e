/*
 * mserv: a daemon's /metrics (Prometheus text format 0.0.4) and /healthz on 127.0.0.1, served by
 * a thread of its own with blocking sockets, one short request per connection (2 s timeouts), so
 * that the daemon's own threads never wait on a scraper. The daemon supplies what is served:
 * the metrics text and its health, through the two callbacks, which run on the server's thread
 * and so read the daemon's figures through atomics. Used by kbook-collector and kbook-billing.
 */
#ifndef KBOOK_MSERV_H
#define KBOOK_MSERV_H

#include <stdbool.h>
#include <stddef.h>

struct mserv_ops {
	/* Writes the metrics into buf (at most cap bytes, NUL-terminated); returns the length
	 * snprintf would have written (cut at cap - 1). */
	size_t (*render)(char *buf, size_t cap);
	/* Writes "ok\n" or the reason it is not into buf; returns true when healthy. */
	bool (*healthy)(char *buf, size_t cap);
};

/*
 * Listens on 127.0.0.1:port and serves ops (borrowed until mserv_stop) from a thread. Port 0:
 * nothing is served and 0 is returned. Returns -1 (logged) when it cannot listen.
 */
int mserv_start(int port, const struct mserv_ops *ops);
/* Stops the server and joins its thread; nothing when none runs. */
void mserv_stop(void);

#endif
