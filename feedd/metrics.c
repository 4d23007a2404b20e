/*
 * metrics: kbook-feedd's counters and gauges in the Prometheus text format, served at /metrics.
 * The counters live in one struct that every module increments; one table names each of them.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "feed.h"

struct feed_metrics feed_stats;

#define M(f) offsetof(struct feed_metrics, f)

static const struct {
	const char *name;
	const char *help;
	size_t off;
} feed_counters[] = {
	{ "kbook_feed_connections_total", "websocket connections accepted", M(conns_total) },
	{ "kbook_feed_refused_auth_total", "handshakes refused: missing, unknown or revoked key", M(refused_auth) },
	{ "kbook_feed_refused_credits_total", "handshakes refused: credits or rate exhausted", M(refused_credits) },
	{ "kbook_feed_refused_limit_total", "handshakes refused: too many connections for the key", M(refused_limit) },
	{ "kbook_feed_refused_unavailable_total", "handshakes refused: database unavailable", M(refused_unavailable) },
	{ "kbook_feed_messages_sent_total", "websocket messages written", M(msgs_sent) },
	{ "kbook_feed_bytes_sent_total", "websocket payload bytes written", M(bytes_sent) },
	{ "kbook_feed_commands_total", "commands received", M(commands) },
	{ "kbook_feed_command_errors_total", "commands answered with an error", M(command_errors) },
	{ "kbook_feed_slow_drops_total", "clients dropped for a full send buffer", M(slow_drops) },
	{ "kbook_feed_dead_drops_total", "clients dropped for not answering pings", M(dead_drops) },
	{ "kbook_feed_notifies_total", "NOTIFY kbook_deltas received", M(notifies) },
	{ "kbook_feed_rows_read_total", "stream rows read from Postgres for live fan-out", M(rows_read) },
	{ "kbook_feed_pg_reconnects_total", "LISTEN connections (re)established", M(pg_reconnects) },
	{ "kbook_feed_charges_failed_total", "periodic credit charges that could not be made", M(charges_failed) },
	{ "kbook_feed_replay_chunks_total", "chunks of since replays read from Postgres", M(replay_chunks) },
	{ "kbook_feed_auth_cutoffs_total", "connections cut off because their key was revoked or account disabled", M(auth_cutoffs) },
	{ "kbook_feed_limit_cutoffs_total", "connections closed because a plan change put them over its limits", M(limit_cutoffs) },
};

char *
feed_metrics_text(size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	if (f == NULL)
		return NULL;
	for (size_t i = 0; i < sizeof(feed_counters) / sizeof(feed_counters[0]); i++)
		fprintf(f, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", feed_counters[i].name,
		    feed_counters[i].help, feed_counters[i].name, feed_counters[i].name,
		    (unsigned long long)*(const uint64_t *)(const void *)
		    ((const char *)&feed_stats + feed_counters[i].off));
	fprintf(f, "# HELP kbook_feed_connections open websocket connections\n"
	    "# TYPE kbook_feed_connections gauge\nkbook_feed_connections %zu\n", feed_n_conns);
	fprintf(f, "# HELP kbook_feed_markets markets with at least one subscriber\n"
	    "# TYPE kbook_feed_markets gauge\nkbook_feed_markets %zu\n", feed_market_count());
	fprintf(f, "# HELP kbook_feed_replay_bytes bytes of since replays queued (KBOOK_FEEDD_REPLAY_MEM bounds it)\n"
	    "# TYPE kbook_feed_replay_bytes gauge\nkbook_feed_replay_bytes %zu\n", feed_replay_bytes);
	fprintf(f, "# HELP kbook_feed_postgres_up 1 while the LISTEN connection is up\n"
	    "# TYPE kbook_feed_postgres_up gauge\nkbook_feed_postgres_up %d\n", feed_pg_up() ? 1 : 0);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}
