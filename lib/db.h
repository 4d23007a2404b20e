/*
 * db: libpq helpers shared by every program.
 *
 * One struct db wraps one connection. Statements are declared once as static struct db_stmt
 * (name, SQL with $n, parameter count) and prepared lazily on each new connection, so a
 * reconnect re-prepares them without the caller noticing. Every execution checks the result
 * status and logs the SQLSTATE; callers never see PQerrorMessage text, and must never pass it
 * to a client. Only PQexecParams / PQexecPrepared are used: one command per call, no quoting.
 */
#ifndef KBOOK_DB_H
#define KBOOK_DB_H

#include <stdbool.h>

#include <libpq-fe.h>

struct db_stmt {
	const char *name; /* unique per program */
	const char *sql;
	int nparams;
	unsigned gen;     /* connection generation it was prepared on; 0 = never (private) */
};

#define DB_STMT(n, s, np) { .name = (n), .sql = (s), .nparams = (np), .gen = 0 }

struct db; /* opaque */

/*
 * Creates a handle for conninfo (copied) with a connect timeout in seconds and a statement
 * timeout in milliseconds (0: none). Does not connect yet. Caller frees with db_close.
 */
struct db *db_new(const char *conninfo, int connect_timeout_s, int statement_timeout_ms);
void db_close(struct db *db);

/*
 * Names the connection in its log lines (label borrowed; default "database"). A connection's
 * outage is logged twice: at its first failed attempt, and at the attempt that succeeds, with the
 * count of failed attempts between.
 */
void db_set_label(struct db *db, const char *label);

/*
 * Makes sure the connection is up: connects the first time, resets a broken connection
 * (CONNECTION_BAD) otherwise, and, outside a transaction on a connection idle for 1 ms or more,
 * one the server closed meanwhile (a Postgres restart): every db_exec* calls it before sending
 * anything, so the first statement after a restart goes out on a new connection. Returns 0 when usable, -1 (logged) when Postgres
 * cannot be reached.
 */
int db_ensure(struct db *db);

/*
 * True when the connection is gone (never made, or lost during the last call). After a failed
 * call that sent a statement, it means the statement's outcome is unknown: it may have committed
 * before the server went away, so a statement with effects must not simply be sent again.
 */
bool db_lost(const struct db *db);

/* The generation of the current connection: it changes at every (re)connect, so a statement whose
 * gen differs is not prepared on the server. */
unsigned db_generation(const struct db *db);

/* The underlying connection, borrowed until the next db_* call (NULL before db_ensure). */
PGconn *db_conn(struct db *db);

/*
 * Executes a prepared statement (preparing it first on this connection if needed) with text
 * parameters (NULL = SQL NULL). Returns the result when its status is PGRES_TUPLES_OK or
 * PGRES_COMMAND_OK (caller PQclears it); otherwise logs the statement name, SQLSTATE and message,
 * stores the SQLSTATE for db_sqlstate(), marks a lost connection for reset, and returns NULL.
 */
PGresult *db_exec(struct db *db, struct db_stmt *stmt, const char *const *params);
/* db_exec for a statement whose result is not needed: 0, or -1 (logged). */
int db_exec_ok(struct db *db, struct db_stmt *stmt, const char *const *params);

/*
 * A statement to run in a pipeline (db_exec_pipeline): the statement, its text parameters, and
 * after the run its result (NULL when it failed or was not run).
 */
#define DB_CALL_MAX_PARAMS 8
struct db_call {
	struct db_stmt *stmt;
	const char *params[DB_CALL_MAX_PARAMS];
	PGresult *res;
};

/*
 * Runs n prepared statements in one round trip (libpq's pipeline mode), in one implicit
 * transaction: if any fails, none has any effect. Returns 0 with every call's res set (caller
 * PQclears them), or -1 with every res NULL (logged; db_sqlstate tells the first failure's).
 */
int db_exec_pipeline(struct db *db, struct db_call *calls, int n);

/* Like db_exec for one-off SQL through PQexecParams (no preparation). */
PGresult *db_exec_sql(struct db *db, const char *sql, int nparams, const char *const *params);

/*
 * libpq's message for the last failed connection attempt ("" if none failed), for a command-line
 * tool to show its user (it names the socket or host tried and why). Never send it to a client.
 */
const char *db_connect_error(const struct db *db);

/* The SQLSTATE of the last failed db_exec* ("" when none or no server error; "08006" when the
 * connection was lost without one). Borrowed. */
const char *db_sqlstate(const struct db *db);

/*
 * Transaction guard: db_begin starts a transaction; db_commit commits it; db_end rolls back a
 * transaction that was begun and not committed (call it at every function's `out:`), so a failed
 * path never leaves a transaction open. Each returns 0 or -1.
 */
struct db_tx {
	struct db *db;
	bool open;
};
int db_begin(struct db *db, struct db_tx *tx);
int db_commit(struct db_tx *tx);
void db_end(struct db_tx *tx);

#endif
