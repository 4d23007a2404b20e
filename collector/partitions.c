/*
 * partitions: pg_partman's maintenance, run by the collector: once at start before the writer
 * begins (a collector started after more than the premade days must not write today's rows into
 * the default partition), then every hour from the maintenance thread (maint.c; a minute after a
 * run that could not reach Postgres). It makes the daily book_deltas and
 * monthly book_checkpoints partitions ahead (kbook_partition_maintenance), then looks
 * for rows in a default partition (kbook_default_partitions): rows there were written while
 * their partition was missing, and they stay out of the per-day reads until an operator moves
 * them (docs/operations.md), so each run that finds some warns, and /metrics shows how many
 * default partitions hold rows.
 *
 * Why the collector and not pg_partman's background worker: the worker is bound at Postgres's
 * start to a database name that must exist then; on a new cluster it did not (the database is
 * created after the cluster starts), the worker's first run failed and it never ran again until
 * Postgres restarted. The collector writes the rows, so partitions are made ahead whenever rows
 * are coming, whatever the order in which cluster, database and migrations were made.
 */
#include <stdio.h>
#include <stdlib.h>

#include "coll.h"
#include "db.h"
#include "ktime.h"
#include "log.h"

#define EVERY_US ((int64_t)3600 * 1000000)
#define RETRY_US ((int64_t)60 * 1000000)

static struct db_stmt q_maint = DB_STMT("coll_partition_maintenance",
    "SELECT parent_table, kb_us(made_until), premake FROM kbook_partition_maintenance()", 0);
static struct db_stmt q_defaults = DB_STMT("coll_default_partitions",
    "SELECT parent_table, default_table FROM kbook_default_partitions()", 0);

static struct db *pdb;
static int64_t next_at;

int
coll_partitions_init(const char *conninfo)
{
	if ((pdb = db_new(conninfo, 5, 0)) == NULL)
		return -1;
	db_set_label(pdb, "partition maintenance's database");
	next_at = 0;
	return 0;
}

void
coll_partitions_free(void)
{
	db_close(pdb);
	pdb = NULL;
}

/* Runs the maintenance and logs how far ahead each table's partitions go. Returns 0 or -1. */
static int
maintain(void)
{
	PGresult *res = db_exec(pdb, &q_maint, NULL);
	char line[512];
	size_t len = 0;

	if (res == NULL) {
		log_warnx("partition maintenance failed (sqlstate %s)", db_sqlstate(pdb));
		return -1;
	}
	line[0] = '\0';
	for (int i = 0; i < PQntuples(res) && len < sizeof(line); i++) {
		char until[KT_BUFSZ];

		kt_format(strtoll(PQgetvalue(res, i, 1), NULL, 10), until);
		len += (size_t)snprintf(line + len, sizeof(line) - len, "%s%s until %.10s (premake %s)",
		    i > 0 ? ", " : "", PQgetvalue(res, i, 0), until, PQgetvalue(res, i, 2));
	}
	log_info("partition maintenance done: %s", PQntuples(res) > 0 ? line : "no partitioned table");
	PQclear(res);
	return 0;
}

/* Warns about every default partition that holds rows and publishes their number. */
static int
check_defaults(void)
{
	PGresult *res = db_exec(pdb, &q_defaults, NULL);
	int n;

	if (res == NULL)
		return -1;
	n = PQntuples(res);
	for (int i = 0; i < n; i++)
		log_warnx("rows in the default partition %s: their partition was missing when they were"
		    " written; move them with CALL partman.partition_data_proc('%s') (docs/operations.md)",
		    PQgetvalue(res, i, 1), PQgetvalue(res, i, 0));
	__atomic_store_n(&coll_stats.default_partitions, (uint64_t)n, __ATOMIC_RELAXED);
	PQclear(res);
	return 0;
}

void
coll_partitions_tick(void)
{
	int64_t now = kt_now();

	int rc;

	if (pdb == NULL || now < next_at)
		return;
	rc = maintain();
	/* checked even when the maintenance failed: rows in a default partition make pg_partman's
	 * creation of their day's partition fail */
	if (check_defaults() != 0)
		rc = -1;
	/* Postgres unreachable: soon again; a failure of its own (logged with its SQLSTATE) would
	 * fail the same way in a minute, so at the next hourly run */
	next_at = now + (rc != 0 && db_lost(pdb) ? RETRY_US : EVERY_US);
}
