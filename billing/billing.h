/*
 * billing: kbook-billing's counters and its /metrics server.
 */
#ifndef KBOOK_BILLING_H
#define KBOOK_BILLING_H

#include <stdatomic.h>
#include <stdint.h>

struct billing_stats {
	atomic_uint_fast64_t posts, sent, already_sent, retries, failed, credits_sent;
	atomic_uint_fast64_t backlog_rows, backlog_credits, nocustomer_rows, nocustomer_credits, db_ok;
};

extern struct billing_stats billing_stats;

/* Serves /metrics and /healthz on 127.0.0.1:port in a thread (port 0: nothing). 0 or -1. */
int billing_metrics_start(int port);
void billing_metrics_stop(void);

#endif
