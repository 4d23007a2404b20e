/*
 * metrics: kbook-billing's /metrics (Prometheus text) and /healthz on 127.0.0.1, served by
 * lib/mserv's thread (the sender's loop never waits on it).
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "billing.h"
#include "log.h"
#include "mserv.h"

static size_t
render(char *buf, size_t cap)
{
	return (size_t)snprintf(buf, cap,
	    "# HELP kbook_billing_posts_total meter event POSTs made to Stripe\n"
	    "# TYPE kbook_billing_posts_total counter\nkbook_billing_posts_total %lu\n"
	    "# HELP kbook_billing_sent_total outbox rows Stripe has (including already_sent)\n"
	    "# TYPE kbook_billing_sent_total counter\nkbook_billing_sent_total %lu\n"
	    "# HELP kbook_billing_already_sent_total rows Stripe already had (a resend after a crash or a lost answer)\n"
	    "# TYPE kbook_billing_already_sent_total counter\nkbook_billing_already_sent_total %lu\n"
	    "# HELP kbook_billing_credits_sent_total overage credits Stripe has\n"
	    "# TYPE kbook_billing_credits_sent_total counter\nkbook_billing_credits_sent_total %lu\n"
	    "# HELP kbook_billing_retries_total attempts answered 409, 429, 5xx or not at all\n"
	    "# TYPE kbook_billing_retries_total counter\nkbook_billing_retries_total %lu\n"
	    "# HELP kbook_billing_failed_total rows Stripe refused as invalid (not retried)\n"
	    "# TYPE kbook_billing_failed_total counter\nkbook_billing_failed_total %lu\n"
	    "# HELP kbook_billing_backlog_rows outbox rows not yet sent\n"
	    "# TYPE kbook_billing_backlog_rows gauge\nkbook_billing_backlog_rows %lu\n"
	    "# HELP kbook_billing_backlog_credits overage credits not yet sent\n"
	    "# TYPE kbook_billing_backlog_credits gauge\nkbook_billing_backlog_credits %lu\n"
	    "# HELP kbook_billing_waiting_customer_rows backlog rows of accounts with no Stripe customer (not sendable until one is linked)\n"
	    "# TYPE kbook_billing_waiting_customer_rows gauge\nkbook_billing_waiting_customer_rows %lu\n"
	    "# HELP kbook_billing_waiting_customer_credits their overage credits\n"
	    "# TYPE kbook_billing_waiting_customer_credits gauge\nkbook_billing_waiting_customer_credits %lu\n",
	    (unsigned long)atomic_load(&billing_stats.posts), (unsigned long)atomic_load(&billing_stats.sent),
	    (unsigned long)atomic_load(&billing_stats.already_sent),
	    (unsigned long)atomic_load(&billing_stats.credits_sent),
	    (unsigned long)atomic_load(&billing_stats.retries), (unsigned long)atomic_load(&billing_stats.failed),
	    (unsigned long)atomic_load(&billing_stats.backlog_rows),
	    (unsigned long)atomic_load(&billing_stats.backlog_credits),
	    (unsigned long)atomic_load(&billing_stats.nocustomer_rows),
	    (unsigned long)atomic_load(&billing_stats.nocustomer_credits));
}

static bool
healthy(char *buf, size_t cap)
{
	bool ok = atomic_load(&billing_stats.db_ok) != 0;

	snprintf(buf, cap, ok ? "ok\n" : "the database does not answer\n");
	return ok;
}

static const struct mserv_ops billing_mserv = { render, healthy };

int
billing_metrics_start(int port)
{
	return mserv_start(port, &billing_mserv);
}

void
billing_metrics_stop(void)
{
	mserv_stop();
}
