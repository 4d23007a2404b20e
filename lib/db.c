/*
 * db: one libpq connection with lazily prepared statements, status checks with SQLSTATE logging,
 * reconnection and a transaction guard. See db.h for the contract.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db.h"
#include "ktime.h"
#include "log.h"

struct db {
	char *conninfo;
	int connect_timeout_s;
	int statement_timeout_ms;
	PGconn *conn;
	unsigned gen;        /* bumped on every new connection */
	char sqlstate[6];
	char connerr[512];   /* libpq's message of the last failed connection attempt */
	const char *label;   /* names the connection in the outage lines; borrowed */
	unsigned failed;     /* connection attempts failed since the last success */
	int64_t down_since;  /* when the first of them failed (us) */
	int64_t last_use_us; /* CLOCK_MONOTONIC when the last statement began (db_closed_while_idle) */
};

struct db *
db_new(const char *conninfo, int connect_timeout_s, int statement_timeout_ms)
{
	struct db *db;

	if ((db = calloc(1, sizeof(*db))) == NULL)
		return NULL;
	if ((db->conninfo = strdup(conninfo)) == NULL) {
		free(db);
		return NULL;
	}
	db->connect_timeout_s = connect_timeout_s;
	db->statement_timeout_ms = statement_timeout_ms;
	db->label = "database";
	return db;
}

void
db_set_label(struct db *db, const char *label)
{
	db->label = label;
}

void
db_close(struct db *db)
{
	if (db == NULL)
		return;
	if (db->conn != NULL)
		PQfinish(db->conn);
	free(db->conninfo);
	free(db);
}

PGconn *
db_conn(struct db *db)
{
	return db->conn;
}

const char *
db_connect_error(const struct db *db)
{
	return db->connerr;
}

const char *
db_sqlstate(const struct db *db)
{
	return db->sqlstate;
}

/*
 * Server notices (a NOTICE raised by a function, the FATAL a server sends as it ends an idle
 * session) go to the log as its JSON lines; libpq's default printed them raw on stderr, which is
 * the programs' log.
 */
static void
db_notice(void *arg, const PGresult *res)
{
	const struct db *db = arg;
	const char *sev = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
	const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);

	if (sev == NULL)
		sev = "NOTICE";
	if (msg == NULL)
		msg = "";
	if (strcmp(sev, "NOTICE") == 0 || strcmp(sev, "INFO") == 0 || strcmp(sev, "LOG") == 0 ||
	    strcmp(sev, "DEBUG") == 0)
		log_info("%s: server %s: %s", db->label, sev, msg);
	else
		log_warnx("%s: server %s: %s", db->label, sev, msg);
}

/* Opens a new connection with our session settings; returns 0 or -1 (logged). */
static int
db_connect(struct db *db)
{
	char timeout[16], options[64];
	const char *keys[] = { "dbname", "connect_timeout", "options", "application_name", NULL };
	const char *vals[] = { db->conninfo, timeout, options, "kbook", NULL };

	snprintf(timeout, sizeof(timeout), "%d", db->connect_timeout_s);
	/*
	 * jit off: every query of ours is short, but the planner's estimate for one that spans the
	 * partitions (feedd's reads, a subscribe's snapshots, the API's reads through the parent)
	 * passes jit_above_cost, and Postgres then compiles it at every execution: 225 ms of JIT for
	 * a 9 ms read of 250 markets' books.
	 */
	snprintf(options, sizeof(options), "-c statement_timeout=%d -c jit=off",
	    db->statement_timeout_ms);
	if (db->conn != NULL)
		PQfinish(db->conn);
	/* expand_dbname=1: the conninfo string given as dbname is parsed as a connection string. */
	db->conn = PQconnectdbParams(keys, vals, 1);
	if (db->conn == NULL || PQstatus(db->conn) != CONNECTION_OK) {
		snprintf(db->connerr, sizeof(db->connerr), "%s",
		    db->conn != NULL ? PQerrorMessage(db->conn) : "out of memory");
		/*
		 * An outage is logged once when it starts and once when it ends, with the count of
		 * attempts between: the collector's writer used to log every attempt (389 lines in
		 * 5.6 s), and each API worker one per request.
		 */
		if (db->failed++ == 0) {
			char why[512];
			size_t n;

			snprintf(why, sizeof(why), "%s",
			    db->conn != NULL ? PQerrorMessage(db->conn) : "out of memory");
			for (n = strlen(why); n > 0 && (why[n - 1] == '\n' || why[n - 1] == ' '); n--)
				why[n - 1] = '\0';
			db->down_since = kt_now();
			log_warnx("%s connection failed: %s (an outage: further attempts are counted, not"
			    " logged, until one succeeds)", db->label, why);
		}
		if (db->conn != NULL)
			PQfinish(db->conn);
		db->conn = NULL;
		return -1;
	}
	PQsetNoticeReceiver(db->conn, db_notice, db);
	db->gen++;
	if (db->gen == 0)
		db->gen = 1;
	if (db->failed > 0)
		log_warnx("%s outage over: connected after %u failed connection attempts in %.1f s",
		    db->label, db->failed, (double)(kt_now() - db->down_since) / 1e6);
	else
		log_info("%s connected (server %d)", db->label, PQserverVersion(db->conn));
	db->failed = 0;
	return 0;
}

/*
 * True when the server closed the connection while we were not using it: Postgres restarted, or
 * the session was terminated. libpq still reads CONNECTION_OK until it reads from the socket, so
 * without this the next statement was sent on the dead connection and failed ("server closed
 * the connection unexpectedly"): each API worker answered 503 to its first request after a
 * restart. The server's FATAL message and its end of file are already in the socket by then; a
 * poll of timeout 0 sees them before anything of ours is sent, so reconnecting and sending the
 * statement on the new connection is safe whatever the statement does (a charge included). Only
 * checked outside a transaction (inside one, a new connection would silently lose it), and only
 * when the connection's last statement began IDLE_CHECK_US ago or more: a restart takes far longer
 * than that, while the statements of one request follow each other within it, so a busy worker
 * does not pay the poll(2) (4.6 us on this 2-core VM under load, where reading the monotonic
 * clock costs 0.13 us) at every statement. A NOTIFY a listener has not read yet is consumed into
 * libpq's queue, where PQnotifies still finds it.
 */
#define IDLE_CHECK_US 1000

static bool
db_closed_while_idle(struct db *db)
{
	struct pollfd pfd = { .fd = PQsocket(db->conn), .events = POLLIN };
	struct timespec ts;
	int64_t now, last = db->last_use_us;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
	db->last_use_us = now;
	if (now - last < IDLE_CHECK_US)
		return false;
	if (PQtransactionStatus(db->conn) != PQTRANS_IDLE || PQpipelineStatus(db->conn) != PQ_PIPELINE_OFF)
		return false;
	if (pfd.fd < 0)
		return true;
	/* the FATAL message and the end of file may take one read each */
	for (int i = 0; i < 4 && poll(&pfd, 1, 0) == 1; i++)
		if (PQconsumeInput(db->conn) != 1 || PQstatus(db->conn) != CONNECTION_OK)
			return true;
	return false;
}

int
db_ensure(struct db *db)
{
	if (db->conn != NULL && PQstatus(db->conn) == CONNECTION_OK) {
		if (!db_closed_while_idle(db))
			return 0;
		log_warnx("database connection closed by the server while idle; reconnecting before"
		    " sending anything on it");
	}
	return db_connect(db);
}

bool
db_lost(const struct db *db)
{
	return db->conn == NULL || PQstatus(db->conn) != CONNECTION_OK;
}

/*
 * Checks a result: returns it when the status is a success, otherwise logs, records the SQLSTATE,
 * clears it and returns NULL. A failure that lost the connection leaves PQstatus CONNECTION_BAD,
 * which the next db_ensure repairs.
 */
static PGresult *
db_check(struct db *db, PGresult *res, const char *what)
{
	ExecStatusType st = res != NULL ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	const char *state;

	db->sqlstate[0] = '\0';
	if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)
		return res;
	state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	if (state == NULL && db_lost(db))
		state = "08006"; /* libpq's own "server closed the connection" carries no SQLSTATE */
	if (state != NULL)
		snprintf(db->sqlstate, sizeof(db->sqlstate), "%s", state);
	log_warnx("query %s failed: sqlstate=%s status=%s: %s", what, state != NULL ? state : "none",
	    PQresStatus(st), res != NULL ? PQresultErrorMessage(res) : PQerrorMessage(db->conn));
	PQclear(res);
	return NULL;
}

unsigned
db_generation(const struct db *db)
{
	return db->conn != NULL && PQstatus(db->conn) == CONNECTION_OK ? db->gen : 0;
}

/* Prepares stmt on the current connection if it is not yet. Returns 0 or -1. */
static int
db_prepare(struct db *db, struct db_stmt *stmt)
{
	PGresult *res;

	if (stmt->gen == db->gen)
		return 0;
	res = db_check(db, PQprepare(db->conn, stmt->name, stmt->sql, stmt->nparams, NULL), stmt->name);
	if (res == NULL)
		return -1;
	PQclear(res);
	stmt->gen = db->gen;
	return 0;
}

PGresult *
db_exec(struct db *db, struct db_stmt *stmt, const char *const *params)
{
	PGresult *res;

	if (db_ensure(db) != 0) {
		snprintf(db->sqlstate, sizeof(db->sqlstate), "08006");
		return NULL;
	}
	if (db_prepare(db, stmt) != 0)
		return NULL;
	res = PQexecPrepared(db->conn, stmt->name, stmt->nparams, params, NULL, NULL, 0);
	return db_check(db, res, stmt->name);
}

int
db_exec_ok(struct db *db, struct db_stmt *stmt, const char *const *params)
{
	PGresult *res = db_exec(db, stmt, params);

	if (res == NULL)
		return -1;
	PQclear(res);
	return 0;
}

int
db_exec_pipeline(struct db *db, struct db_call *calls, int n)
{
	int i, rc = 0;
	PGresult *res;

	for (i = 0; i < n; i++)
		calls[i].res = NULL;
	if (db_ensure(db) != 0) {
		snprintf(db->sqlstate, sizeof(db->sqlstate), "08006");
		return -1;
	}
	for (i = 0; i < n; i++)
		if (db_prepare(db, calls[i].stmt) != 0)
			return -1;
	if (PQenterPipelineMode(db->conn) != 1)
		return -1;
	for (i = 0; i < n; i++)
		if (PQsendQueryPrepared(db->conn, calls[i].stmt->name, calls[i].stmt->nparams,
		    calls[i].params, NULL, NULL, 0) != 1)
			break;
	if (i < n || PQpipelineSync(db->conn) != 1) {
		/* a lost connection: db_ensure repairs it on the next call */
		log_warnx("pipeline: %s", PQerrorMessage(db->conn));
		snprintf(db->sqlstate, sizeof(db->sqlstate), "08006");
		PQexitPipelineMode(db->conn);
		return -1;
	}
	/* each statement's result, then the NULL that ends it; then the sync's */
	for (i = 0; i < n; i++) {
		res = PQgetResult(db->conn);
		if (PQresultStatus(res) == PGRES_PIPELINE_ABORTED) {
			PQclear(res);
			rc = -1;
		} else if ((calls[i].res = db_check(db, res, calls[i].stmt->name)) == NULL) {
			rc = -1;
		}
		while ((res = PQgetResult(db->conn)) != NULL)
			PQclear(res);
	}
	while ((res = PQgetResult(db->conn)) != NULL) {
		ExecStatusType st = PQresultStatus(res);

		PQclear(res);
		if (st == PGRES_PIPELINE_SYNC)
			break;
	}
	if (PQexitPipelineMode(db->conn) != 1) {
		log_warnx("pipeline: cannot leave pipeline mode: %s", PQerrorMessage(db->conn));
		rc = -1;
	}
	if (rc != 0)
		for (i = 0; i < n; i++) {
			PQclear(calls[i].res);
			calls[i].res = NULL;
		}
	return rc;
}

PGresult *
db_exec_sql(struct db *db, const char *sql, int nparams, const char *const *params)
{
	if (db_ensure(db) != 0) {
		snprintf(db->sqlstate, sizeof(db->sqlstate), "08006");
		return NULL;
	}
	return db_check(db, PQexecParams(db->conn, sql, nparams, NULL, params, NULL, NULL, 0), "sql");
}

int
db_begin(struct db *db, struct db_tx *tx)
{
	PGresult *res;

	tx->db = db;
	tx->open = false;
	if ((res = db_exec_sql(db, "BEGIN", 0, NULL)) == NULL)
		return -1;
	PQclear(res);
	tx->open = true;
	return 0;
}

int
db_commit(struct db_tx *tx)
{
	PGresult *res;

	if (!tx->open)
		return -1;
	tx->open = false;
	if ((res = db_exec_sql(tx->db, "COMMIT", 0, NULL)) == NULL)
		return -1;
	PQclear(res);
	return 0;
}

void
db_end(struct db_tx *tx)
{
	PGresult *res;

	if (tx->db == NULL || !tx->open)
		return;
	tx->open = false;
	if (tx->db->conn == NULL || PQstatus(tx->db->conn) != CONNECTION_OK)
		return;
	if ((res = db_exec_sql(tx->db, "ROLLBACK", 0, NULL)) != NULL)
		PQclear(res);
}
