/*
 * main: kbook-feedd start-up, the event loop and graceful shutdown. Reads the configuration
 * (KBOOK_FEEDD_* and the database settings), starts the query thread (jobs.c), creates the
 * libwebsockets context on KBOOK_FEEDD_LISTEN (host:port or a unix socket path), and runs the
 * loop until SIGTERM or SIGINT; then every client gets a close frame (1001) and the loop runs
 * until they are gone or a few seconds have passed. A one-second housekeeping timer reconnects
 * Postgres and retries reads that failed.
 *
 * The loop is libev's (epoll) through lws's event-lib support, not lws's own poll(), which scans
 * every descriptor at each wake-up: with a thousand clients that was a sixth of feedd's CPU. A
 * prepare watcher, run before each wait, writes what the last pass queued (send.c).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ev.h>

#include "config.h"
#include "feed.h"
#include "ktime.h"
#include "log.h"
#include "lwsrun.h"

struct lws_context *feed_ctx;
bool feed_stopping;

static volatile sig_atomic_t feed_signalled;
static lws_sorted_usec_list_t feed_tick_sul;
static int64_t feed_stop_deadline;
static bool feed_done;
static struct ev_loop *feed_loop;
static ev_prepare feed_flush_w;

#define FEED_STOP_GRACE_US INT64_C(3000000)

int64_t
feed_now(void)
{
	return (int64_t)(ev_now(feed_loop) * 1e6);
}

struct ev_loop *
feed_ev_loop(void)
{
	return feed_loop;
}

/* Before each wait of the loop: writes the messages queued during this pass. */
static void
feed_on_prepare(struct ev_loop *loop, ev_prepare *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	feed_send_flush();
}

static void
feed_on_signal(int sig)
{
	(void)sig;
	/* only a flag: the one-second tick starts the shutdown (lws calls are not signal-safe) */
	feed_signalled = 1;
}

/*
 * lws's own log lines go into ours (lib/lwsrun), but for one: lws serves the head accept.c read inside lws_adopt_socket_vhost_readbuf, and says so at error
 * level when that request ends the connection: every refused handshake does.
 */
static const char *const feed_lws_ignore[] = { "adopt_socket_readbuf: calling service", NULL };

static void
feed_tick(lws_sorted_usec_list_t *sul)
{
	(void)sul;
	if (feed_signalled && !feed_stopping) {
		feed_stopping = true;
		feed_stop_deadline = kt_now() + FEED_STOP_GRACE_US;
		log_info("shutting down: closing %zu connections", feed_n_conns);
		feed_close_all(LWS_CLOSE_STATUS_GOINGAWAY, "server shutting down");
	}
	if (feed_stopping) {
		if (feed_n_conns == 0 || kt_now() > feed_stop_deadline)
			feed_done = true;
	} else {
		if (!feed_pg_up())
			feed_pg_start(NULL);
		else
			(void)feed_market_flush();
		feed_replay_pump(); /* replays whose last read failed */
	}
	if (feed_done) {
		ev_break(feed_loop, EVBREAK_ALL);
		return;
	}
	lws_sul_schedule(feed_ctx, 0, &feed_tick_sul, feed_tick,
	    feed_stopping ? 100 * LWS_US_PER_MS : LWS_US_PER_SEC);
}

int
main(int argc, char **argv)
{
	struct lws_context_creation_info info;
	void *foreign[1];
	char err[256];
	int rc = 1;

	log_init("kbook-feedd", LOG_LVL_INFO);
	if (argc > 1) {
		fprintf(stderr, "usage: %s (configured by KBOOK_* environment variables)\n", argv[0]);
		return 2;
	}
	if (config_load(CFG_FEEDD, err, sizeof(err)) != 0)
		log_fatal("%s", err);
	memset(&info, 0, sizeof(info));
	/* the listening socket is accept.c's: lws gets each connection once its head is read */
	info.port = CONTEXT_PORT_NO_LISTEN_SERVER;
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, feed_on_signal);
	signal(SIGINT, feed_on_signal);
	lwsrun_log(feed_lws_ignore);
	info.protocols = feed_protocols;
	info.vhost_name = "kbook-feed";
	info.options |= LWS_SERVER_OPTION_VALIDATE_UTF8;
	info.max_http_header_data = 4096;
	if ((feed_loop = ev_loop_new(EVFLAG_AUTO)) == NULL)
		log_fatal("cannot create the event loop");
	if (feed_jobs_start() != 0)
		log_fatal("cannot start the query thread");
	foreign[0] = feed_loop;
	info.foreign_loops = foreign;
	info.options |= LWS_SERVER_OPTION_LIBEV;
	if ((feed_ctx = lws_create_context(&info)) == NULL) {
		log_errorx("cannot listen on %s", cfg.feedd_listen);
		goto out;
	}
	log_info("listening on %s", cfg.feedd_listen);
	ev_prepare_init(&feed_flush_w, feed_on_prepare);
	ev_prepare_start(feed_loop, &feed_flush_w);
	/* a signal is seen by the one-second tick, which then runs every 100 ms until the end */
	lws_sul_schedule(feed_ctx, 0, &feed_tick_sul, feed_tick, LWS_US_PER_SEC);
	ev_run(feed_loop, 0);
	rc = 0;
	log_info("stopped");
out:
	feed_accept_stop();
	feed_pg_stop();
	if (feed_ctx != NULL)
		lws_context_destroy(feed_ctx);
	/* after the connections are gone: the jobs' done() find them closed */
	feed_jobs_stop();
	if (feed_loop != NULL)
		ev_loop_destroy(feed_loop);
	config_free();
	return rc;
}
