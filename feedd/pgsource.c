/*
 * pgsource: the Postgres LISTEN connection that tells feedd about new rows. The collector commits
 * rows of book_deltas / book_checkpoints / gaps and, in the same transaction, runs
 * NOTIFY kbook_deltas, '<market_id>[,<market_id>...]' (docs/feed.md). This connection LISTENs on
 * that channel; its socket (a dup, so lws may close its copy) is adopted into the lws loop as a raw
 * descriptor (minimal-examples/raw/minimal-raw-file), so notifications are read without blocking
 * or polling; it is made on the query thread (jobs.c), whose connect may wait, then handed
 * to the loop, which only reads it. It also LISTENs on kbook_keys (sql/001_baseline.sql): a key revoked or an account
 * disabled cuts off its connections at once (auth.c). Each notification marks its markets dirty and the rows after each market's position
 * are read on the query connection (markets.c). When the connection drops, the housekeeping tick
 * reconnects; after a reconnect every tracked market is re-read from its position, so nothing
 * committed meanwhile is lost and clients need no resynchronisation.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "feed.h"
#include "log.h"

static struct db *feed_pg;
static struct lws_vhost *feed_pg_vh;
static struct lws *feed_pg_wsi;
static bool feed_pg_ok;

bool
feed_pg_up(void)
{
	return feed_pg_ok;
}

/* The LISTEN connection being made on the query thread (its connect blocks). */
struct feed_pg_job {
	struct feed_job j;
	struct db *db;               /* feed_pg, or a new handle */
	int rc;
};
static bool feed_pg_connecting;

static void
feed_pg_run(struct feed_job *j, struct db *db)
{
	struct feed_pg_job *pj = (struct feed_pg_job *)j;
	PGresult *res;

	(void)db; /* the query connection's state says nothing of this one: always try */
	pj->rc = -1;
	if (pj->db == NULL &&
	    (pj->db = db_new(cfg.database_url, (int)cfg.db_connect_timeout, 0)) == NULL)
		return;
	db_set_label(pj->db, "LISTEN");
	if (db_ensure(pj->db) != 0)
		return;
	if ((res = db_exec_sql(pj->db, "LISTEN kbook_keys", 0, NULL)) == NULL)
		return;
	PQclear(res);
	if ((res = db_exec_sql(pj->db, "LISTEN kbook_deltas", 0, NULL)) == NULL)
		return;
	PQclear(res);
	pj->rc = 0;
}

/* The connection is made: its socket (a dup) is adopted into the loop as a raw descriptor. */
static void
feed_pg_done(struct feed_job *j)
{
	struct feed_pg_job *pj = (struct feed_pg_job *)j;
	lws_sock_file_fd_type u;
	int fd;

	feed_pg_connecting = false;
	feed_pg = pj->db; /* kept after a failure too: lib/db counts an outage's attempts on it */
	free(pj);
	if (feed_stopping) {
		db_close(feed_pg);
		feed_pg = NULL;
		return;
	}
	if (feed_pg == NULL || feed_pg_vh == NULL)
		return;
	if (db_conn(feed_pg) == NULL || PQstatus(db_conn(feed_pg)) != CONNECTION_OK)
		return;
	if ((fd = dup(PQsocket(db_conn(feed_pg)))) < 0) {
		log_error("dup of the LISTEN socket");
		return;
	}
	u.filefd = (lws_filefd_type)(long long)fd;
	if ((feed_pg_wsi = lws_adopt_descriptor_vhost(feed_pg_vh, LWS_ADOPT_RAW_FILE_DESC, u,
	    "kbook-feed", NULL)) == NULL) {
		log_errorx("cannot adopt the LISTEN socket into the event loop");
		close(fd);
		db_close(feed_pg);
		feed_pg = NULL;
		return;
	}
	feed_pg_ok = true;
	feed_stats.pg_reconnects++;
	log_info("listening for NOTIFY kbook_deltas and kbook_keys");
	/* keys revoked or accounts disabled while nobody listened */
	feed_auth_recheck();
	/* rows committed while nobody listened: read every tracked market from its position */
	feed_market_mark_all();
	(void)feed_market_flush();
}

int
feed_pg_start(struct lws_vhost *vh)
{
	struct feed_pg_job *pj;

	if (vh != NULL)
		feed_pg_vh = vh;
	if (feed_pg_ok || feed_pg_connecting || feed_pg_vh == NULL || feed_stopping)
		return 0;
	if ((pj = calloc(1, sizeof(*pj))) == NULL)
		return -1;
	pj->db = feed_pg;
	feed_pg = NULL;
	pj->j.run = feed_pg_run;
	pj->j.done = feed_pg_done;
	feed_pg_connecting = true;
	feed_jobs_submit(&pj->j);
	return 0;
}

/*
 * Marks the markets of one payload ("12" or "12,13,14") dirty; malformed ids are skipped. A
 * number past the range of market ids (markets.id is an integer) names no market: a recorder
 * that announces only that something was committed (kbook-collector sends the batch's largest
 * ts in microseconds). Returns true for such a payload.
 */
static bool
feed_pg_payload(const char *p)
{
	char *end;

	while (*p != '\0') {
		long long id = strtoll(p, &end, 10);

		if (end == p) {
			p++;
			continue;
		}
		if (id > INT32_MAX)
			return true;
		feed_market_mark_dirty(id);
		p = end;
	}
	return false;
}

/* POLLIN on the LISTEN socket: consume, mark, read. Returns -1 to close the descriptor. */
static int
feed_pg_rx(void)
{
	PGconn *conn = db_conn(feed_pg);
	PGnotify *n;
	bool unnamed = false;

	if (conn == NULL || !PQconsumeInput(conn)) {
		log_warnx("LISTEN connection lost; reconnecting");
		return -1;
	}
	while ((n = PQnotifies(conn)) != NULL) {
		feed_stats.notifies++;
		if (strcmp(n->relname, "kbook_keys") == 0)
			feed_auth_event(n->extra);
		else
			unnamed |= feed_pg_payload(n->extra);
		PQfreemem(n);
	}
	/* one query for all the unnamed notifications read at once */
	if (unnamed)
		feed_market_mark_changed();
	(void)feed_market_flush();
	return 0;
}

int
feed_pg_callback(const struct lws *wsi, enum lws_callback_reasons reason)
{
	if (wsi != feed_pg_wsi)
		return 0;
	switch (reason) {
	case LWS_CALLBACK_RAW_RX_FILE:
		return feed_pg_rx();
	case LWS_CALLBACK_RAW_CLOSE_FILE:
		feed_pg_wsi = NULL;
		feed_pg_ok = false;
		db_close(feed_pg);
		feed_pg = NULL;
		return 0;
	default:
		return 0;
	}
}

void
feed_pg_stop(void)
{
	feed_pg_ok = false;
	feed_pg_wsi = NULL;
	db_close(feed_pg);
	feed_pg = NULL;
}
