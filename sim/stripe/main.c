/*
 * stripe-sim: start-up. Parses the command-line flags (docs/stripe-sim.md lists them), builds
 * kbook's catalog (catalog.c), starts the webhook delivery thread, opens the one port that
 * serves Stripe's API, the hosted pages and the control routes, and runs the libwebsockets loop
 * until SIGINT or SIGTERM.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <sodium.h>

#include "cliflag.h"
#include "log.h"
#include "lwsrun.h"
#include "service.h"
#include "ss.h"

struct ss_opts ss_opt;
char ss_base_url[256];

static lws_sorted_usec_list_t ss_housekeeping_sul;
static struct lws_context *ss_ctx;

enum {
	OPT_PORT = 256, OPT_IFACE, OPT_API_KEY, OPT_API_VERSION, OPT_PUBLIC_URL, OPT_WEBHOOK_URL,
	OPT_WEBHOOK_SECRET, OPT_RETRY_MS, OPT_RETRY_MAX_MS, OPT_ATTEMPTS, OPT_TIMEOUT_MS, OPT_FAULT,
	OPT_LOG_LEVEL, OPT_HELP,
};

static const struct option ss_long_opts[] = {
	{ "port", required_argument, NULL, OPT_PORT },
	{ "iface", required_argument, NULL, OPT_IFACE },
	{ "api-key", required_argument, NULL, OPT_API_KEY },
	{ "api-version", required_argument, NULL, OPT_API_VERSION },
	{ "public-url", required_argument, NULL, OPT_PUBLIC_URL },
	{ "webhook-url", required_argument, NULL, OPT_WEBHOOK_URL },
	{ "webhook-secret", required_argument, NULL, OPT_WEBHOOK_SECRET },
	{ "retry-ms", required_argument, NULL, OPT_RETRY_MS },
	{ "retry-max-ms", required_argument, NULL, OPT_RETRY_MAX_MS },
	{ "webhook-attempts", required_argument, NULL, OPT_ATTEMPTS },
	{ "webhook-timeout-ms", required_argument, NULL, OPT_TIMEOUT_MS },
	{ "fault", required_argument, NULL, OPT_FAULT },
	{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

/* Numeric flags: where the value goes and its bounds. */
static const struct cliflag_num ss_num_flags[] = {
	{ OPT_PORT, "port", 1, 65535, &ss_opt.port, sizeof(int) },
	{ OPT_RETRY_MS, "retry-ms", 1, INT64_C(86400000), &ss_opt.retry_ms, sizeof(int64_t) },
	{ OPT_RETRY_MAX_MS, "retry-max-ms", 1, INT64_C(86400000), &ss_opt.retry_max_ms, sizeof(int64_t) },
	{ OPT_ATTEMPTS, "webhook-attempts", 1, 1000, &ss_opt.webhook_attempts, sizeof(int) },
	{ OPT_TIMEOUT_MS, "webhook-timeout-ms", 10, 600000, &ss_opt.webhook_timeout_ms, sizeof(int64_t) },
};

static void
ss_usage(FILE *f)
{
	fprintf(f,
	    "usage: stripe-sim [--port N] [--iface ADDR] [--api-key sk_test_...] [--api-version V]\n"
	    "                  [--public-url URL] [--webhook-url URL] [--webhook-secret whsec_...]\n"
	    "                  [--retry-ms N] [--retry-max-ms N] [--webhook-attempts N]\n"
	    "                  [--webhook-timeout-ms N] [--fault LIST] [--log-level L]\n"
	    "See docs/stripe-sim.md.\n");
}

/* Parses argv into ss_opt. Returns 0, 1 when --help was asked, -1 on a bad flag. */
static int
ss_parse_flags(int argc, char **argv)
{
	struct ss_opts *o = &ss_opt;
	const char *why;
	int c;

	o->port = 12111;
	o->iface = "127.0.0.1";
	o->api_version = "2025-08-27.basil";
	o->webhook_secret = "whsec_stripe_sim";
	o->retry_ms = 500;
	o->retry_max_ms = 60000;
	o->webhook_attempts = 8;
	o->webhook_timeout_ms = 5000;
	while ((c = getopt_long(argc, argv, "", ss_long_opts, NULL)) != -1) {
		switch (c) {
		case OPT_IFACE:
			o->iface = optarg;
			break;
		case OPT_API_KEY:
			if (strncmp(optarg, "sk_test_", 8) != 0) {
				fprintf(stderr, "stripe-sim: --api-key must start with sk_test_\n");
				return -1;
			}
			o->api_key = optarg;
			break;
		case OPT_API_VERSION:
			o->api_version = optarg;
			break;
		case OPT_PUBLIC_URL:
			o->public_url = optarg;
			break;
		case OPT_WEBHOOK_URL:
			o->webhook_url = optarg;
			break;
		case OPT_WEBHOOK_SECRET:
			if (strncmp(optarg, "whsec_", 6) != 0) {
				fprintf(stderr, "stripe-sim: --webhook-secret must start with whsec_\n");
				return -1;
			}
			o->webhook_secret = optarg;
			break;
		case OPT_FAULT:
			if (ss_fault_startup(optarg, &why) < 0) {
				fprintf(stderr, "stripe-sim: --fault %s: %s\n", optarg, why);
				return -1;
			}
			o->faults = optarg;
			break;
		case OPT_LOG_LEVEL:
			if (cliflag_log_level("stripe-sim", optarg) < 0)
				return -1;
			break;
		case OPT_HELP:
			return 1;
		case '?':
			return -1;
		default:
			if (cliflag_set("stripe-sim", ss_num_flags,
			    sizeof(ss_num_flags) / sizeof(ss_num_flags[0]), c, optarg) != 0)
				return -1;
			break;
		}
	}
	if (cliflag_no_operands("stripe-sim", argc, argv, optind) < 0)
		return -1;
	if (o->public_url != NULL)
		snprintf(ss_base_url, sizeof(ss_base_url), "%s", o->public_url);
	else
		snprintf(ss_base_url, sizeof(ss_base_url), "http://%s:%d", o->iface, o->port);
	while (ss_base_url[0] != '\0' && ss_base_url[strlen(ss_base_url) - 1] == '/')
		ss_base_url[strlen(ss_base_url) - 1] = '\0';
	return 0;
}

/* Once a minute: forget idempotency keys older than a day. */
static void
ss_housekeeping(lws_sorted_usec_list_t *sul)
{
	ss_idem_expire();
	lws_sul_schedule(ss_ctx, 0, sul, ss_housekeeping, 60 * LWS_US_PER_SEC);
}

struct ss_pss {
	struct hsrv_sess http;
};

static const struct lws_protocols ss_protocols[] = {
	{ "http", ss_http_callback, sizeof(struct ss_pss), 65536, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 },
};

int
main(int argc, char **argv)
{
	int rc, ret = 1;

	log_init("stripe-sim", LOG_LVL_INFO);
	rc = ss_parse_flags(argc, argv);
	if (rc != 0) {
		ss_usage(rc > 0 ? stdout : stderr);
		return rc > 0 ? 0 : 2;
	}
	if (sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		log_errorx("cannot initialise libsodium or libcurl");
		return 1;
	}
	lwsrun_log(NULL);
	service_signals(NULL);
	ss_catalog_init();

	/* Stripe's client sends a long X-Stripe-Client-User-Agent header: 16 KiB of headers */
	if ((ss_ctx = lwsrun_listen("stripe-sim", ss_opt.iface, ss_opt.port, ss_protocols, 16384)) == NULL)
		goto out;
	if (ss_deliver_start() < 0) {
		log_errorx("cannot start the webhook delivery thread");
		goto out;
	}
	lws_sul_schedule(ss_ctx, 0, &ss_housekeeping_sul, ss_housekeeping, 60 * LWS_US_PER_SEC);
	log_info("listening on %s:%d (pages at %s), api version %s, webhooks to %s", ss_opt.iface,
	    ss_opt.port, ss_base_url, ss_opt.api_version,
	    ss_opt.webhook_url != NULL ? ss_opt.webhook_url : "nowhere");
	(void)lwsrun_loop(ss_ctx);
	log_info("stopping");
	ret = 0;
out:
	if (ss_ctx != NULL)
		lws_context_destroy(ss_ctx);
	ss_deliver_stop();
	ss_idem_free();
	ss_checkout_free();
	ss_meter_events_free();
	ss_billing_free();
	ss_store_free();
	curl_global_cleanup();
	return ret;
}
