/*
 * db: one libpq connection with lazily prepared statements, status checks with SQLSTATE logging,
 * reconnection and a transaction guard. See db.h for the contract.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "log.h"

struct db {
	char *conninfo;
	int connect_timeout_s;
	int statement_timeout_ms;
	PGconn *conn;
	unsigned gen;        /* bumped on every new connection */
	char sqlstate[6];
	char connerr[512];   /* libpq's message of the last failed connection attempt */
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
	return db;
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
		log_warnx("database connection failed: %s", db->connerr);
		if (db->conn != NULL)
			PQfinish(db->conn);
		db->conn = NULL;
		return -1;
	}
	db->gen++;
	if (db->gen == 0)
		db->gen = 1;
	log_info("database connected (server %d)", PQserverVersion(db->conn));
	return 0;
}

int
db_ensure(struct db *db)
{
	if (db->conn != NULL && PQstatus(db->conn) == CONNECTION_OK)
		return 0;
	return db_connect(db);
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
