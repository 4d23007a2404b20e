/*
 * Tests for lib/db against the real Postgres of the test stack (TEST_PG, set by scripts/test.sh;
 * without it the suite fails rather than pretending): prepared execution with parameters and
 * NULLs, SQLSTATE on failure, reconnecting (before sending) to a session the server ended while
 * idle and re-preparing, a session lost mid-statement, the transaction guard, pipelines.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "db.h"
#include "tests.h"

static struct db *db;

static int
suite_init(void)
{
	const char *conn = getenv("TEST_PG");

	if (conn == NULL)
		return -1; /* CUnit reports the suite as failed to initialise */
	db = db_new(conn, 3, 5000);
	return db != NULL && db_ensure(db) == 0 ? 0 : -1;
}

static int
suite_clean(void)
{
	db_close(db);
	return 0;
}

static struct db_stmt q_add = DB_STMT("unit_add", "SELECT $1::int + $2::int, $3::text IS NULL", 3);

static void
test_prepared(void)
{
	const char *params[] = { "40", "2", NULL };
	PGresult *res = db_exec(db, &q_add, params);

	CU_ASSERT_PTR_NOT_NULL_FATAL(res);
	CU_ASSERT_STRING_EQUAL(PQgetvalue(res, 0, 0), "42");
	CU_ASSERT_STRING_EQUAL(PQgetvalue(res, 0, 1), "t");
	PQclear(res);
	/* second call reuses the prepared statement */
	params[0] = "1";
	res = db_exec(db, &q_add, params);
	CU_ASSERT_PTR_NOT_NULL_FATAL(res);
	CU_ASSERT_STRING_EQUAL(PQgetvalue(res, 0, 0), "3");
	PQclear(res);
}

static void
test_sqlstate(void)
{
	const char *params[] = { "not a number" };
	PGresult *res = db_exec_sql(db, "SELECT $1::int", 1, params);

	CU_ASSERT_PTR_NULL(res);
	CU_ASSERT_STRING_EQUAL(db_sqlstate(db), "22P02");
	res = db_exec_sql(db, "SELECT 1", 0, NULL);
	CU_ASSERT_PTR_NOT_NULL(res);
	CU_ASSERT_STRING_EQUAL(db_sqlstate(db), "");
	PQclear(res);
	/* two commands in one call are refused by the extended protocol */
	res = db_exec_sql(db, "SELECT 1; SELECT 2", 0, NULL);
	CU_ASSERT_PTR_NULL(res);
	CU_ASSERT_STRING_EQUAL(db_sqlstate(db), "42601");
}

/* Ends db's session from another connection and waits until it is gone. */
static void
terminate_from_outside(void)
{
	char pid[16];
	const char *params[] = { pid };
	struct db *other = db_new(getenv("TEST_PG"), 3, 5000);
	PGresult *res;

	CU_ASSERT_PTR_NOT_NULL_FATAL(other);
	CU_ASSERT_EQUAL_FATAL(db_ensure(db), 0);
	snprintf(pid, sizeof(pid), "%d", PQbackendPID(db_conn(db)));
	/* the timeout form waits until the backend has exited */
	res = db_exec_sql(other, "SELECT pg_terminate_backend($1::int, 5000)", 1, params);
	CU_ASSERT_PTR_NOT_NULL(res);
	if (res != NULL)
		CU_ASSERT_STRING_EQUAL(PQgetvalue(res, 0, 0), "t");
	PQclear(res);
	db_close(other);
}

static void
test_reconnect(void)
{
	const char *params[] = { "1", "1", "x" };
	unsigned gen = db_generation(db);
	PGresult *res;

	/* a session ended while idle (a Postgres restart does that to every session): the next
	 * statement sees it before sending anything, reconnects and re-prepares, and succeeds */
	terminate_from_outside();
	res = db_exec(db, &q_add, params);
	CU_ASSERT_PTR_NOT_NULL_FATAL(res);
	CU_ASSERT_STRING_EQUAL(PQgetvalue(res, 0, 0), "2");
	CU_ASSERT_STRING_EQUAL(PQgetvalue(res, 0, 1), "f");
	CU_ASSERT_NOT_EQUAL(db_generation(db), gen);
	CU_ASSERT_FALSE(db_lost(db));
	PQclear(res);
	/* a session that dies while running a statement: its outcome is unknown, so the call fails
	 * and says the connection was lost (no silent retry) ... */
	res = db_exec_sql(db, "SELECT pg_terminate_backend(pg_backend_pid())", 0, NULL);
	CU_ASSERT_PTR_NULL(res);
	CU_ASSERT_TRUE(db_lost(db));
	PQclear(res);
	/* ... and the next one reconnects */
	res = db_exec(db, &q_add, params);
	CU_ASSERT_PTR_NOT_NULL_FATAL(res);
	CU_ASSERT_STRING_EQUAL(PQgetvalue(res, 0, 0), "2");
	PQclear(res);
}

static int
tx_fails_midway(void)
{
	struct db_tx tx = { 0 };
	PGresult *res = NULL;
	int rc = -1;

	if (db_begin(db, &tx) != 0)
		goto out;
	if ((res = db_exec_sql(db, "INSERT INTO unit_tx VALUES (1)", 0, NULL)) == NULL)
		goto out;
	PQclear(res);
	if ((res = db_exec_sql(db, "INSERT INTO unit_tx VALUES ('x')", 0, NULL)) == NULL)
		goto out;
	rc = db_commit(&tx);
out:
	PQclear(res);
	db_end(&tx);
	return rc;
}

static void
test_tx_guard(void)
{
	struct db_tx tx = { 0 };
	PGresult *res;

	PQclear(db_exec_sql(db, "CREATE TEMP TABLE unit_tx (x int)", 0, NULL));
	CU_ASSERT_EQUAL(tx_fails_midway(), -1);
	res = db_exec_sql(db, "SELECT count(*) FROM unit_tx", 0, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(res);
	CU_ASSERT_STRING_EQUAL(PQgetvalue(res, 0, 0), "0");
	PQclear(res);
	CU_ASSERT_EQUAL(db_begin(db, &tx), 0);
	PQclear(db_exec_sql(db, "INSERT INTO unit_tx VALUES (7)", 0, NULL));
	CU_ASSERT_EQUAL(db_commit(&tx), 0);
	db_end(&tx); /* after a commit: nothing to roll back */
	res = db_exec_sql(db, "SELECT sum(x) FROM unit_tx", 0, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(res);
	CU_ASSERT_STRING_EQUAL(PQgetvalue(res, 0, 0), "7");
	PQclear(res);
}

static struct db_stmt q_pl_insert = DB_STMT("unit_pl_insert",
    "INSERT INTO unit_pl VALUES ($1::int) RETURNING x * 2", 1);
static struct db_stmt q_pl_div = DB_STMT("unit_pl_div", "SELECT 10 / $1::int", 1);

/* Two statements in one round trip; a failure undoes both (one implicit transaction). */
static void
test_pipeline(void)
{
	struct db_call calls[2] = {
		{ .stmt = &q_pl_insert, .params = { "21" } },
		{ .stmt = &q_pl_div, .params = { "5" } },
	};
	PGresult *res;

	PQclear(db_exec_sql(db, "CREATE TEMP TABLE unit_pl (x int)", 0, NULL));
	CU_ASSERT_EQUAL_FATAL(db_exec_pipeline(db, calls, 2), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(calls[0].res);
	CU_ASSERT_PTR_NOT_NULL_FATAL(calls[1].res);
	CU_ASSERT_STRING_EQUAL(PQgetvalue(calls[0].res, 0, 0), "42");
	CU_ASSERT_STRING_EQUAL(PQgetvalue(calls[1].res, 0, 0), "2");
	PQclear(calls[0].res);
	PQclear(calls[1].res);
	/* the second fails (division by zero): no result, and the insert is undone */
	calls[0].params[0] = "99";
	calls[1].params[0] = "0";
	CU_ASSERT_EQUAL(db_exec_pipeline(db, calls, 2), -1);
	CU_ASSERT_PTR_NULL(calls[0].res);
	CU_ASSERT_PTR_NULL(calls[1].res);
	CU_ASSERT_STRING_EQUAL(db_sqlstate(db), "22012");
	res = db_exec_sql(db, "SELECT string_agg(x::text, ',') FROM unit_pl", 0, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(res);
	CU_ASSERT_STRING_EQUAL(PQgetvalue(res, 0, 0), "21");
	PQclear(res);
	/* the connection is usable afterwards, out of pipeline mode */
	calls[1].params[0] = "10";
	res = db_exec(db, &q_pl_div, calls[1].params);
	CU_ASSERT_PTR_NOT_NULL_FATAL(res);
	CU_ASSERT_STRING_EQUAL(PQgetvalue(res, 0, 0), "1");
	PQclear(res);
	/* a session ended while idle: the pipeline goes out on a new connection, whole */
	terminate_from_outside();
	calls[0].stmt = &q_pl_div; /* unit_pl was the old session's */
	calls[0].params[0] = "5";
	calls[1].params[0] = "10";
	CU_ASSERT_EQUAL_FATAL(db_exec_pipeline(db, calls, 2), 0);
	CU_ASSERT_STRING_EQUAL(PQgetvalue(calls[0].res, 0, 0), "2");
	CU_ASSERT_STRING_EQUAL(PQgetvalue(calls[1].res, 0, 0), "1");
	PQclear(calls[0].res);
	PQclear(calls[1].res);
}

static void
test_unreachable(void)
{
	struct db *bad = db_new("host=/nonexistent-dir port=1 dbname=x", 1, 0);
	PGresult *res;

	CU_ASSERT_PTR_NOT_NULL_FATAL(bad);
	CU_ASSERT_EQUAL(db_ensure(bad), -1);
	res = db_exec_sql(bad, "SELECT 1", 0, NULL);
	CU_ASSERT_PTR_NULL(res);
	CU_ASSERT_STRING_EQUAL(db_sqlstate(bad), "08006");
	db_close(bad);
}

int
test_db_add(void)
{
	CU_pSuite s = CU_add_suite("db", suite_init, suite_clean);

	if (s == NULL || CU_add_test(s, "prepared statements", test_prepared) == NULL ||
	    CU_add_test(s, "sqlstate on failure", test_sqlstate) == NULL ||
	    CU_add_test(s, "reconnect re-prepares", test_reconnect) == NULL ||
	    CU_add_test(s, "transaction guard", test_tx_guard) == NULL ||
	    CU_add_test(s, "pipeline", test_pipeline) == NULL ||
	    CU_add_test(s, "unreachable server", test_unreachable) == NULL)
		return -1;
	return 0;
}
