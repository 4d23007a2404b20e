/*
 * kbook-collector: records every change of every Kalshi market's orderbook into Postgres
 * (DESIGN.md section 4). Start-up: configuration, the signing key, the advisory lock (waiting as
 * a standby while another collector holds it), partition maintenance, the writer thread and
 * the REST resolver's, REST discovery of every market (upserted; open ones subscribed), then the WebSocket loop until
 * SIGTERM or SIGINT, after which everything queued is written before exit.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "coll.h"
#include "config.h"
#include "kauth.h"
#include "log.h"

static volatile int stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int
main(int argc, char **argv)
{
	char err[256];
	struct kauth_key *key = NULL;
	struct coll_ws_conf wc = { 0 };
	struct sigaction sa;
	bool waited = false;
	long n;
	int rc = 1;

	log_init("kbook-collector", LOG_LVL_INFO);
	if (argc > 1) {
		fprintf(stderr, "usage: %s (configured by KBOOK_* environment variables;"
		    " see docs/collector.md)\n", argv[0]);
		return 2;
	}
	if (config_load(CFG_COLLECTOR, err, sizeof(err)) != 0) {
		log_errorx("%s", err);
		return 1;
	}
	if (cfg.kalshi_key_file[0] != '\0' && (key = kauth_load_private(cfg.kalshi_key_file)) == NULL)
		goto out;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	coll_metrics_start((int)cfg.collector_metrics_port);
	if (coll_lock_acquire(cfg.database_url, &stop, &waited) != 0) {
		rc = 0; /* stopped while a standby */
		goto out;
	}
	/* partitions ahead before the first row is written (then hourly, from the maintenance thread) */
	if (coll_partitions_init(cfg.database_url) != 0)
		goto out;
	coll_partitions_tick();
	coll_subs_init((int)cfg.collector_sub_max);
	coll_books_init(cfg.collector_checkpoint_every, cfg.collector_checkpoint_seconds > 0 ?
	    cfg.collector_checkpoint_seconds * 1000000 : cfg.collector_checkpoint_minutes * 60000000);
	coll_writer_set_restart_reason(waited ? COLL_GAP_TAKEOVER : COLL_GAP_RESTART);
	coll_writer_set_commit_interval(cfg.collector_commit_ms);
	if (coll_writer_start(cfg.database_url, (size_t)cfg.collector_queue_max,
	    cfg.collector_spool_file, cfg.collector_spool_after_s) != 0 ||
	    coll_resolve_start(cfg.kalshi_rest_url) != 0)
		goto out;
	while ((n = coll_rest_markets(cfg.kalshi_rest_url, coll_subs_on_rest_market, NULL)) < 0 && !stop) {
		log_warnx("market discovery failed; retrying in 5 s");
		sleep(5);
	}
	log_info("discovered %ld markets", n);
	if (!stop && coll_maint_start(cfg.kalshi_rest_url, cfg.collector_rescan_s, &stop) != 0)
		goto out;
	wc.url = cfg.kalshi_ws_url;
	wc.key_id = cfg.kalshi_key_id;
	wc.key = key;
	wc.silence_s = (int)cfg.collector_silence_s;
	if (!stop && coll_ws_run(&wc, &stop) != 0)
		goto out;
	rc = 0;
out:
	log_info("stopping: writing %zu queued events", coll_writer_depth());
	coll_maint_stop();
	coll_resolve_stop();
	coll_writer_stop();
	coll_metrics_stop();
	coll_lock_release();
	coll_partitions_free();
	coll_subs_free();
	coll_markets_free();
	kauth_key_free(key);
	curl_global_cleanup();
	config_free();
	log_info("stopped");
	return rc;
}
