/*
 * kalshi-sim: start-up. Parses the command-line flags (one table: docs/kalshi-sim.md lists them
 * all), loads the public key, builds the seeded universe and its books, opens the one port that
 * serves REST, the control endpoints and the WebSocket, and runs the libwebsockets loop until
 * SIGINT or SIGTERM.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cliflag.h"
#include "kauth.h"
#include "log.h"
#include "lwsrun.h"
#include "service.h"
#include "sim.h"

enum {
	OPT_PORT = 256, OPT_IFACE, OPT_SEED, OPT_MARKETS, OPT_PER_EVENT, OPT_MAX_MARKETS, OPT_RATE,
	OPT_PUBKEY, OPT_KEY_ID, OPT_NO_AUTH, OPT_TS_WINDOW, OPT_SUB_LIMIT, OPT_SENDQ, OPT_REST_TOKENS,
	OPT_REST_COST, OPT_PING, OPT_MSG_LOG, OPT_HISTORY, OPT_LIFECYCLE, OPT_MAX_FRAME, OPT_CMD_RATE,
	OPT_FAULT,
	OPT_LOG_LEVEL, OPT_HELP,
};

/* Numeric flags: where the value goes and its bounds. */
static const struct cliflag_num sim_num_flags[] = {
	{ OPT_PORT, "port", 1, 65535, &sim_w.opt.port, sizeof(int) },
	{ OPT_SEED, "seed", 0, INT64_MAX, &sim_w.opt.seed, sizeof(uint64_t) },
	{ OPT_MARKETS, "markets", 1, 1000000, &sim_w.opt.n_markets, sizeof(uint32_t) },
	{ OPT_PER_EVENT, "markets-per-event", 1, 1000, &sim_w.opt.markets_per_event, sizeof(uint32_t) },
	{ OPT_MAX_MARKETS, "max-markets", 1, 2000000, &sim_w.opt.max_markets, sizeof(uint32_t) },
	{ OPT_RATE, "rate", 0, 100000000, &sim_w.opt.rate, sizeof(int64_t) },
	{ OPT_TS_WINDOW, "ts-window-ms", 0, INT64_C(86400000), &sim_w.opt.ts_window_ms, sizeof(int64_t) },
	{ OPT_SUB_LIMIT, "sub-market-limit", 1, 1000000, &sim_w.opt.sub_market_limit, sizeof(uint32_t) },
	{ OPT_SENDQ, "send-queue-bytes", 4096, INT64_C(1) << 40, &sim_w.opt.send_queue_max,
	    sizeof(size_t) },
	{ OPT_REST_TOKENS, "rest-tokens", 0, 100000000, &sim_w.opt.rest_tokens, sizeof(int64_t) },
	{ OPT_REST_COST, "rest-cost", 0, 1000000, &sim_w.opt.rest_cost, sizeof(int64_t) },
	{ OPT_PING, "ping-interval-ms", 10, INT64_C(3600000), &sim_w.opt.ping_interval_ms,
	    sizeof(int64_t) },
	{ OPT_HISTORY, "history", 1, INT64_C(1) << 32, &sim_w.opt.history, sizeof(size_t) },
	{ OPT_LIFECYCLE, "lifecycle-ms", 0, INT64_C(86400000), &sim_w.opt.lifecycle_ms, sizeof(int64_t) },
	{ OPT_MAX_FRAME, "max-frame", 64, INT64_C(1) << 30, &sim_w.opt.max_frame, sizeof(size_t) },
	{ OPT_CMD_RATE, "cmd-rate", 0, 100000000, &sim_w.opt.cmd_rate, sizeof(int64_t) },
};

static const struct option sim_long_opts[] = {
	{ "port", required_argument, NULL, OPT_PORT },
	{ "iface", required_argument, NULL, OPT_IFACE },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "markets", required_argument, NULL, OPT_MARKETS },
	{ "markets-per-event", required_argument, NULL, OPT_PER_EVENT },
	{ "max-markets", required_argument, NULL, OPT_MAX_MARKETS },
	{ "rate", required_argument, NULL, OPT_RATE },
	{ "pubkey", required_argument, NULL, OPT_PUBKEY },
	{ "key-id", required_argument, NULL, OPT_KEY_ID },
	{ "no-auth", no_argument, NULL, OPT_NO_AUTH },
	{ "ts-window-ms", required_argument, NULL, OPT_TS_WINDOW },
	{ "sub-market-limit", required_argument, NULL, OPT_SUB_LIMIT },
	{ "send-queue-bytes", required_argument, NULL, OPT_SENDQ },
	{ "rest-tokens", required_argument, NULL, OPT_REST_TOKENS },
	{ "rest-cost", required_argument, NULL, OPT_REST_COST },
	{ "ping-interval-ms", required_argument, NULL, OPT_PING },
	{ "msg-log", required_argument, NULL, OPT_MSG_LOG },
	{ "history", required_argument, NULL, OPT_HISTORY },
	{ "lifecycle-ms", required_argument, NULL, OPT_LIFECYCLE },
	{ "max-frame", required_argument, NULL, OPT_MAX_FRAME },
	{ "cmd-rate", required_argument, NULL, OPT_CMD_RATE },
	{ "fault", required_argument, NULL, OPT_FAULT },
	{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

static void
sim_usage(FILE *f)
{
	fprintf(f,
	    "usage: kalshi-sim [--port N] [--iface ADDR] (--pubkey FILE [--key-id ID] | --no-auth)\n"
	    "                  [--seed N] [--markets N] [--markets-per-event N] [--max-markets N]\n"
	    "                  [--rate N] [--ts-window-ms N] [--sub-market-limit N]\n"
	    "                  [--send-queue-bytes N] [--rest-tokens N] [--rest-cost N]\n"
	    "                  [--ping-interval-ms N] [--msg-log FILE] [--history N]\n"
	    "                  [--lifecycle-ms N] [--max-frame N] [--cmd-rate N] [--fault LIST]\n"
	    "                  [--log-level L]\n"
	    "See docs/kalshi-sim.md.\n");
}

static int
sim_set_num(int opt, const char *arg)
{
	return cliflag_set("kalshi-sim", sim_num_flags, sizeof(sim_num_flags) / sizeof(sim_num_flags[0]),
	    opt, arg) == 0 ? 0 : -1;
}

/* Parses argv into sim_w.opt. Returns 0, 1 when --help was asked, -1 on a bad flag. */
static int
sim_parse_flags(int argc, char **argv, bool *no_auth)
{
	struct sim_opts *o = &sim_w.opt;
	bool max_set = false;
	const char *why;
	int c;

	o->port = 9420;
	o->iface = "127.0.0.1";
	o->seed = 1;
	o->n_markets = 500;
	o->markets_per_event = 10;
	o->rate = 100;
	o->ts_window_ms = 30000;
	o->sub_market_limit = 256;
	o->send_queue_max = 8u << 20;
	o->rest_tokens = 200;
	o->rest_cost = 10;
	o->ping_interval_ms = 10000;
	o->history = 1000000;
	o->max_frame = 65536;
	o->cmd_rate = 10000;
	while ((c = getopt_long(argc, argv, "", sim_long_opts, NULL)) != -1) {
		switch (c) {
		case OPT_IFACE:
			o->iface = optarg;
			break;
		case OPT_PUBKEY:
			o->pubkey_path = optarg;
			break;
		case OPT_KEY_ID:
			o->key_id = optarg;
			break;
		case OPT_NO_AUTH:
			*no_auth = true;
			break;
		case OPT_MSG_LOG:
			o->msg_log = optarg;
			break;
		case OPT_FAULT:
			if (sim_fault_check_spec(optarg, &why) < 0) {
				fprintf(stderr, "kalshi-sim: --fault %s: %s\n", optarg, why);
				return -1;
			}
			o->faults = optarg;
			break;
		case OPT_LOG_LEVEL:
			if (cliflag_log_level("kalshi-sim", optarg) < 0)
				return -1;
			break;
		case OPT_HELP:
			return 1;
		case OPT_MAX_MARKETS:
			max_set = true;
			if (sim_set_num(c, optarg) < 0)
				return -1;
			break;
		case '?':
			return -1;
		default:
			if (sim_set_num(c, optarg) < 0)
				return -1;
			break;
		}
	}
	if (cliflag_no_operands("kalshi-sim", argc, argv, optind) < 0)
		return -1;
	if ((o->pubkey_path == NULL) == !*no_auth) {
		fprintf(stderr, "kalshi-sim: give exactly one of --pubkey FILE and --no-auth\n");
		return -1;
	}
	if (!max_set)
		o->max_markets = o->n_markets + 1000;
	if (o->max_markets < o->n_markets) {
		fprintf(stderr, "kalshi-sim: --max-markets is below --markets\n");
		return -1;
	}
	return 0;
}

static const struct lws_protocols sim_protocols[] = {
	{ "kalshi", sim_ws_callback, sizeof(struct sim_pss),
	    65536, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 },
};

int
main(int argc, char **argv)
{
	bool no_auth = false;
	int rc, ret = 1;

	log_init("kalshi-sim", LOG_LVL_INFO);
	rc = sim_parse_flags(argc, argv, &no_auth);
	if (rc != 0) {
		sim_usage(rc > 0 ? stdout : stderr);
		return rc > 0 ? 0 : 2;
	}
	lwsrun_log(NULL);
	if (sim_w.opt.pubkey_path != NULL) {
		sim_w.pubkey = kauth_load_public(sim_w.opt.pubkey_path);
		if (sim_w.pubkey == NULL) {
			log_errorx("cannot load the public key %s", sim_w.opt.pubkey_path);
			goto out;
		}
	}
	if (sim_w.opt.msg_log != NULL) {
		sim_w.msg_log = fopen(sim_w.opt.msg_log, "a");
		if (sim_w.msg_log == NULL) {
			log_error("cannot open the message log %s", sim_w.opt.msg_log);
			goto out;
		}
	}
	sim_w.start_us = sim_now_us();
	if (sim_truth_init(sim_w.opt.history) < 0 || sim_markets_init() < 0)
		goto out;
	sim_flow_seed_books();

	service_signals(NULL);
	sim_w.ctx = lwsrun_listen("kalshi-sim", sim_w.opt.iface, sim_w.opt.port, sim_protocols, 0);
	if (sim_w.ctx == NULL)
		goto out;
	if (sim_flow_start() != 0)
		goto out;
	sim_lifecycle_start();
	sim_ws_heartbeat_start();
	log_info("listening on %s:%d: %u markets (%u active), seed %llu, rate %lld/s, auth %s",
	    sim_w.opt.iface, sim_w.opt.port, sim_w.n_markets, sim_w.n_active,
	    (unsigned long long)sim_w.opt.seed, (long long)sim_w.opt.rate,
	    sim_w.pubkey != NULL ? "on" : "off");
	(void)lwsrun_loop(sim_w.ctx);
	log_info("stopping: %llu messages sent, %llu book changes",
	    (unsigned long long)sim_w.st.sent_total, (unsigned long long)sim_w.st.changes);
	ret = 0;
out:
	if (sim_w.ctx != NULL)
		lws_context_destroy(sim_w.ctx);
	sim_world_free();
	sim_truth_free();
	kauth_key_free(sim_w.pubkey);
	if (sim_w.msg_log != NULL)
		fclose(sim_w.msg_log);
	return ret;
}
