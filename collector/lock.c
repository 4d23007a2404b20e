/*
 * lock: one active collector per database. The active collector holds a session-level Postgres
 * advisory lock on a connection of its own for its whole life; a second instance started against
 * the same database waits as a hot standby, trying the lock every second, and goes on (discovery,
 * subscriptions, recording) as soon as the first one's session ends, which Postgres notices
 * within moments of a crash. The span the takeover missed is recorded by the writer as
 * 'takeover' gaps. If the lock's session dies while this collector runs (Postgres restarted or
 * the session was killed), the lock is taken again on a new session; when another collector got
 * it first, this one stops.
 */
#include <time.h>

#include "coll.h"
#include "db.h"
#include "log.h"

/* The lock's key: "kbook collector" (any constant the other programs do not use). */
static struct db_stmt q_try = DB_STMT("coll_try_lock", "SELECT pg_try_advisory_lock(7270002)", 0);

static struct db *lock_db;

int
coll_lock_acquire(const char *conninfo, const volatile int *stop, bool *waited)
{
	bool said = false;

	*waited = false;
	if ((lock_db = db_new(conninfo, 5, 0)) == NULL)
		return -1;
	db_set_label(lock_db, "advisory lock's database");
	while (!*stop) {
		PGresult *res = db_exec(lock_db, &q_try, NULL);
		bool got = res != NULL && PQntuples(res) == 1 && PQgetvalue(res, 0, 0)[0] == 't';
		struct timespec ts = { .tv_sec = 1, .tv_nsec = 0 };

		PQclear(res);
		if (got) {
			if (said)
				log_info("the active collector is gone: taking over");
			return 0;
		}
		if (!said && res != NULL) {
			log_info("another collector is active on this database: waiting as a standby");
			said = true;
		}
		if (res != NULL)
			*waited = true;
		nanosleep(&ts, NULL);
	}
	return -1;
}

int
coll_lock_check(void)
{
	PGresult *res;
	int rc;

	/* on a live session this stacks the lock we hold (always true); on a new session after a
	 * lost one it is a real attempt */
	if (db_ensure(lock_db) != 0)
		return 0; /* Postgres unreachable: nobody can take over meanwhile that we could see */
	res = db_exec(lock_db, &q_try, NULL);
	if (res == NULL) {
		rc = 0;
	} else {
		rc = PQntuples(res) == 1 && PQgetvalue(res, 0, 0)[0] == 't' ? 0 : -1;
		PQclear(res);
	}
	return rc;
}

void
coll_lock_release(void)
{
	db_close(lock_db); /* the session ends: the lock is released */
	lock_db = NULL;
}
