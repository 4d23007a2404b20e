/*
 * metrics: the collector's /metrics (Prometheus text format 0.0.4) and /healthz on 127.0.0.1,
 * served by lib/mserv's thread, so that neither the socket thread nor the writer ever waits on a
 * scraper. The figures are the relaxed atomic counters of
 * struct coll_stats (defined here), which the other threads update.
 */
#include <stdio.h>
#include <string.h>

#include "coll.h"
#include "ktime.h"
#include "log.h"
#include "mserv.h"

struct coll_stats coll_stats;

#define LOAD(f) ((unsigned long long)__atomic_load_n(&coll_stats.f, __ATOMIC_RELAXED))

static const struct {
	const char *name, *type, *help;
	size_t off;
} counters[] = {
	{ "kbook_collector_messages_total", "counter", "WebSocket text messages received",
	  offsetof(struct coll_stats, messages) },
	{ "kbook_collector_deltas_total", "counter", "orderbook deltas received",
	  offsetof(struct coll_stats, deltas) },
	{ "kbook_collector_snapshots_total", "counter", "orderbook snapshots received",
	  offsetof(struct coll_stats, snapshots) },
	{ "kbook_collector_gaps_total", "counter", "gaps opened (one per market)",
	  offsetof(struct coll_stats, gaps) },
	{ "kbook_collector_duplicates_total", "counter", "seq-bearing messages dropped as duplicates",
	  offsetof(struct coll_stats, duplicates) },
	{ "kbook_collector_malformed_total", "counter", "messages that did not parse",
	  offsetof(struct coll_stats, malformed) },
	{ "kbook_collector_overflows_total", "counter", "deltas refused by a full writer queue",
	  offsetof(struct coll_stats, overflows) },
	{ "kbook_collector_reconnects_total", "counter", "connections lost after being established",
	  offsetof(struct coll_stats, reconnects) },
	{ "kbook_collector_rows_written_total", "counter", "book_deltas rows committed",
	  offsetof(struct coll_stats, rows_written) },
	{ "kbook_collector_commits_total", "counter", "writer transactions committed",
	  offsetof(struct coll_stats, commits) },
	{ "kbook_collector_commit_seconds_sum", "counter", "time spent writing committed batches",
	  offsetof(struct coll_stats, commit_us_total) },
	{ "kbook_collector_commit_seconds_max", "gauge", "longest batch write since start",
	  offsetof(struct coll_stats, commit_us_max) },
	{ "kbook_collector_markets_subscribed", "gauge", "markets in live orderbook subscriptions",
	  offsetof(struct coll_stats, subscribed) },
	{ "kbook_collector_connected", "gauge", "1 while the exchange connection is up",
	  offsetof(struct coll_stats, connected) },
	{ "kbook_collector_spooling", "gauge", "1 while Postgres is unreachable and events go to the spool file",
	  offsetof(struct coll_stats, spooling) },
	{ "kbook_collector_default_partitions_with_rows", "gauge",
	  "default partitions holding rows (written while their partition was missing), at the last hourly check",
	  offsetof(struct coll_stats, default_partitions) },
};

const uint64_t coll_commit_bucket_us[COLL_COMMIT_BUCKETS - 1] = {
	1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000, 2500000, 5000000,
};

void
coll_stats_commit(uint64_t us, uint64_t rows)
{
	size_t b = 0;

	__atomic_add_fetch(&coll_stats.rows_written, rows, __ATOMIC_RELAXED);
	__atomic_add_fetch(&coll_stats.commits, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&coll_stats.last_commit_us, (uint64_t)kt_now(), __ATOMIC_RELAXED);
	while (b < COLL_COMMIT_BUCKETS - 1 && us > coll_commit_bucket_us[b])
		b++;
	__atomic_add_fetch(&coll_stats.commit_hist[b], 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&coll_stats.commit_us_total, us, __ATOMIC_RELAXED);
	if (us > __atomic_load_n(&coll_stats.commit_us_max, __ATOMIC_RELAXED))
		__atomic_store_n(&coll_stats.commit_us_max, us, __ATOMIC_RELAXED);
}

/* Appends the commit-latency histogram (Prometheus histogram, cumulative buckets). */
static size_t
render_histogram(char *buf, size_t cap)
{
	uint64_t cum = 0;
	size_t len = 0;
	int n = snprintf(buf, cap, "# HELP kbook_collector_commit_latency_seconds writer batch write and commit time\n"
	    "# TYPE kbook_collector_commit_latency_seconds histogram\n");

	if (n < 0 || (size_t)n >= cap)
		return 0;
	len = (size_t)n;
	for (size_t b = 0; b < COLL_COMMIT_BUCKETS && len < cap; b++) {
		cum += __atomic_load_n(&coll_stats.commit_hist[b], __ATOMIC_RELAXED);
		if (b < COLL_COMMIT_BUCKETS - 1)
			n = snprintf(buf + len, cap - len,
			    "kbook_collector_commit_latency_seconds_bucket{le=\"%llu.%06llu\"} %llu\n",
			    (unsigned long long)(coll_commit_bucket_us[b] / 1000000),
			    (unsigned long long)(coll_commit_bucket_us[b] % 1000000), (unsigned long long)cum);
		else
			n = snprintf(buf + len, cap - len,
			    "kbook_collector_commit_latency_seconds_bucket{le=\"+Inf\"} %llu\n"
			    "kbook_collector_commit_latency_seconds_count %llu\n",
			    (unsigned long long)cum, (unsigned long long)cum);
		if (n < 0)
			break;
		len += (size_t)n;
	}
	return len < cap ? len : cap - 1;
}

/* Appends the metrics text to buf; returns its length. */
static size_t
render_metrics(char *buf, size_t cap)
{
	size_t len = 0;

	for (size_t i = 0; i < sizeof(counters) / sizeof(counters[0]) && len < cap; i++) {
		uint64_t v = __atomic_load_n((const uint64_t *)(const void *)((const char *)&coll_stats +
		    counters[i].off), __ATOMIC_RELAXED);
		int n;

		if (strstr(counters[i].name, "seconds") != NULL)
			n = snprintf(buf + len, cap - len, "# HELP %s %s\n# TYPE %s %s\n%s %llu.%06llu\n",
			    counters[i].name, counters[i].help, counters[i].name, counters[i].type,
			    counters[i].name, (unsigned long long)(v / 1000000), (unsigned long long)(v % 1000000));
		else
			n = snprintf(buf + len, cap - len, "# HELP %s %s\n# TYPE %s %s\n%s %llu\n",
			    counters[i].name, counters[i].help, counters[i].name, counters[i].type,
			    counters[i].name, (unsigned long long)v);
		if (n < 0)
			break;
		len += (size_t)n;
	}
	if (len < cap)
		len += render_histogram(buf + len, cap - len);
	if (len < cap)
		len += (size_t)snprintf(buf + len, cap - len,
		    "# HELP kbook_collector_queue_depth events waiting for the writer\n"
		    "# TYPE kbook_collector_queue_depth gauge\nkbook_collector_queue_depth %zu\n",
		    coll_writer_depth());
	return len < cap ? len : cap - 1;
}

/*
 * Healthy: connected to the exchange, not spooling, and the writer keeps up (its queue is empty
 * or it committed within the last 10 s). Writes the reason into buf; returns true when healthy.
 */
static bool
healthy(char *buf, size_t cap)
{
	int64_t last = (int64_t)LOAD(last_commit_us);

	if (!LOAD(connected)) {
		snprintf(buf, cap, "not connected to the exchange\n");
		return false;
	}
	if (LOAD(spooling)) {
		snprintf(buf, cap, "Postgres is unreachable: spooling to disk\n");
		return false;
	}
	if (coll_writer_depth() > 0 && kt_now() - last > 10000000) {
		snprintf(buf, cap, "the writer has not committed for %lld s\n",
		    (long long)((kt_now() - last) / 1000000));
		return false;
	}
	snprintf(buf, cap, "ok\n");
	return true;
}

static const struct mserv_ops coll_mserv = { render_metrics, healthy };

int
coll_metrics_start(int port)
{
	return mserv_start(port, &coll_mserv);
}

void
coll_metrics_stop(void)
{
	mserv_stop();
}
