/*
 * daypart: see daypart.h. A statement is its template's constant text with the partitions' date
 * written over the zeros of their names, digits from integers (no printf, no input); its name
 * and the DEALLOCATE that forgets it are constants, per template number and slot.
 */
#include <stdlib.h>
#include <string.h>

#include "daypart.h"
#include "ktime.h"
#include "log.h"

/* Statement names per template and slot, and the constant commands that forget them. */
#define N(k, i) "daypart_" k #i
#define D(k, i) "DEALLOCATE daypart_" k #i
#define X8(F, k, t) F(k, t##0), F(k, t##1), F(k, t##2), F(k, t##3), F(k, t##4), F(k, t##5), \
	F(k, t##6), F(k, t##7)
#define X64(F, k) X8(F, k, 1), X8(F, k, 2), X8(F, k, 3), X8(F, k, 4), X8(F, k, 5), X8(F, k, 6), \
	X8(F, k, 7), X8(F, k, 8)
static const char *const names[DAYPART_TEMPLATES][DAYPART_SLOTS] = { { X64(N, "a") },
	{ X64(N, "b") }, { X64(N, "c") }, { X64(N, "d") } };
static const char *const deallocs[DAYPART_TEMPLATES][DAYPART_SLOTS] = { { X64(D, "a") },
	{ X64(D, "b") }, { X64(D, "c") }, { X64(D, "d") } };
static int ntemplates;

struct daypart_slot {
	int64_t day;       /* days since the epoch */
	bool assigned;
	bool missing;      /* the day has no partition (its rows, if any, are in the default one):
	                    * learnt from the first statement, which fails with 42P01 */
	unsigned long used;
	char *sql;
	struct db_stmt st;
};

int64_t
daypart_day(int64_t us)
{
	return us >= 0 ? us / DAYPART_DAY_US : (us - DAYPART_DAY_US + 1) / DAYPART_DAY_US;
}

static void
put_digits(char *p, int v, int n)
{
	for (int i = n - 1; i >= 0; i--, v /= 10)
		p[i] = (char)('0' + v % 10);
}

/* Writes the date of day over the zeros of every partition name in sql (a template's copy). */
static void
put_date(char *sql, int64_t day)
{
	int y, m, d;

	kt_civil_from_days(day, &y, &m, &d);
	for (char *p = strstr(sql, DAYPART_DELTAS); p != NULL; p = strstr(p, DAYPART_DELTAS)) {
		p += sizeof("book_deltas_p") - 1;
		put_digits(p, y, 4);
		put_digits(p + 5, m, 2);
		put_digits(p + 8, d, 2);
	}
	for (char *p = strstr(sql, DAYPART_CHECKPOINTS); p != NULL; p = strstr(p, DAYPART_CHECKPOINTS)) {
		p += sizeof("book_checkpoints_p") - 1;
		put_digits(p, y, 4);
		put_digits(p + 5, m, 2);
	}
}

/* Frees slot s of dp for another day, forgetting its statement on the server. Returns 0 or -1. */
static int
slot_release(struct db *db, const struct daypart *dp, struct daypart_slot *s)
{
	if (s->st.gen != 0 && s->st.gen == db_generation(db)) {
		PGresult *res;

		if ((res = db_exec_sql(db, deallocs[dp->index][s - dp->slots], 0, NULL)) == NULL)
			return -1;
		PQclear(res);
		s->st.gen = 0;
	}
	s->assigned = false;
	return 0;
}

/* The slot of day in dp, (re)assigned to it if needed; NULL on a database error. */
static struct daypart_slot *
slot_for(struct db *db, struct daypart *dp, int64_t day)
{
	struct daypart_slot *s;
	size_t len;

	if (dp->slots == NULL) {
		if (ntemplates == DAYPART_TEMPLATES) {
			log_errorx("daypart: more than %d templates", DAYPART_TEMPLATES);
			return NULL;
		}
		if ((dp->slots = calloc(DAYPART_SLOTS, sizeof(*dp->slots))) == NULL)
			return NULL;
		dp->index = ntemplates++;
	}
	s = &dp->slots[0];
	for (int i = 0; i < DAYPART_SLOTS; i++) {
		if (dp->slots[i].assigned && dp->slots[i].day == day)
			return &dp->slots[i];
		if (!dp->slots[i].assigned || dp->slots[i].used < s->used)
			s = &dp->slots[i];
		if (!s->assigned)
			break;
	}
	if (s->assigned && slot_release(db, dp, s) != 0)
		return NULL;
	len = strlen(dp->sql) + 1;
	if (s->sql == NULL && (s->sql = malloc(len)) == NULL)
		return NULL;
	memcpy(s->sql, dp->sql, len);
	put_date(s->sql, day);
	s->st = (struct db_stmt)DB_STMT(names[dp->index][s - dp->slots], s->sql, dp->nparams);
	s->missing = false;
	s->day = day;
	s->assigned = true;
	return s;
}

/*
 * The first day with a partition of book_deltas (pg_partman names sort by date), read once per
 * connection and again after FLOOR_TTL_US. A day before it has no partition: it is not asked
 * for, so at=0 or start=0 costs no failing statement (each logged an ERROR with its SQL text by
 * Postgres, a new one for every such day a worker's 64 slots did not remember) and goes straight
 * to the parent, whose answer for an instant before any recorded data is the one it always was.
 * A partition made later for an older day (a backfill) is read through the parent until the
 * floor is read again: slower, never wrong.
 */
#define FLOOR_TTL_US (600 * INT64_C(1000000))
static struct db_stmt q_floor = DB_STMT("daypart_floor",
    "SELECT min(substr(c.relname, 14)) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
    " WHERE i.inhparent = 'book_deltas'::regclass"
    " AND c.relname ~ '^book_deltas_p[0-9]{4}_[0-9]{2}_[0-9]{2}$'", 0);

/* Returns 0 with *first set (INT64_MAX when there is no partition), or -1 on a database error. */
static int
floor_day(struct db *db, int64_t *first)
{
	static int64_t day, read_at;
	static unsigned gen;
	int64_t now = kt_now();

	if (gen == 0 || gen != db_generation(db) || now - read_at > FLOOR_TTL_US) {
		PGresult *res = db_exec(db, &q_floor, NULL);
		const char *v;

		if (res == NULL)
			return -1;
		v = PQgetvalue(res, 0, 0);
		day = strlen(v) == 10 ? kt_days_from_civil(strtol(v, NULL, 10), strtol(v + 5, NULL, 10),
		    strtol(v + 8, NULL, 10)) : INT64_MAX;
		PQclear(res);
		gen = db_generation(db);
		read_at = now;
	}
	*first = day;
	return 0;
}

PGresult *
daypart_exec(struct db *db, struct daypart *dp, int64_t day, const char *const *params,
    bool *fallback)
{
	struct daypart_slot *s;
	PGresult *res;
	int64_t first;

	*fallback = false;
	if (floor_day(db, &first) != 0)
		return NULL;
	if (day < first) {
		*fallback = true;
		return NULL;
	}
	if ((s = slot_for(db, dp, day)) == NULL)
		return NULL;
	s->used = ++dp->clock;
	if (!s->missing && (res = db_exec(db, &s->st, params)) != NULL)
		return res;
	/* no partition; or it was dropped since (an operator moved its rows, or retention) */
	if (s->missing || strcmp(db_sqlstate(db), "42P01") == 0) {
		s->missing = true;
		*fallback = true;
	}
	return NULL;
}

struct db_stmt *
daypart_stmt(struct db *db, struct daypart *dp, int64_t day)
{
	struct daypart_slot *s;
	int64_t first;

	if (floor_day(db, &first) != 0 || day < first)
		return NULL;
	if ((s = slot_for(db, dp, day)) == NULL || s->missing)
		return NULL;
	s->used = ++dp->clock;
	return &s->st;
}
