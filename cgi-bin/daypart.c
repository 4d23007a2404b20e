/*
 * daypart: see daypart.h. The statements are constant text apart from the partitions' date,
 * whose digits are written into a fixed template from integers (no printf, no input).
 */
#include <stdlib.h>
#include <string.h>

#include "daypart.h"
#include "recon.h"
#include "ktime.h"
#include "log.h"

#define SLOTS 64
#define PART "book_deltas_p0000_00_00"
#define CPART "book_checkpoints_p0000_00"

enum { ST_BOOK, ST_DELTAS, ST_PAGE, ST__COUNT };

/*
 * ST_BOOK aggregates the deltas after the checkpoint as they come from an ordered subquery (the
 * index's order), not with string_agg(... ORDER BY ts): Postgres 15 sorts an ordered aggregate's
 * input again, a tuplesort per call (pgbench, one market's 33 deltas: 9 400 -> 10 600 calls/s;
 * a day of 9 154: 243 -> 345). A subquery with ORDER BY is never pulled up into the outer query,
 * and a plain aggregate consumes its input in the order it comes; tests/integration/t_api_replay
 * checks the books against a replay of every delta.
 */

static const char *const tmpl[ST__COUNT] = {
	[ST_BOOK] =
	"SELECT " RECON_AT_COLS ", d.rows, kb_us(d.last)" RECON_AT_FROM(CPART)
	" LEFT JOIN LATERAL (SELECT string_agg(y.r, ';') AS rows, max(y.ts) AS last"
	"   FROM (SELECT " BOOK_TEXT_ROW_SQL("x") " AS r, x.ts FROM " PART " x"
	"   WHERE c.ts >= $3::timestamptz AND x.market_id = m.id AND x.ts > c.ts"
	"   AND x.ts <= $2::timestamptz ORDER BY x.ts) y) d ON true"
	" WHERE m.ticker = $1",
	[ST_DELTAS] =
	"SELECT kb_us(ts), side, price, delta FROM " PART
	" WHERE market_id = $1 AND ts > $2::timestamptz AND ts <= $3::timestamptz ORDER BY ts",
	[ST_PAGE] =
	"SELECT kb_us(ts), kb_us(exchange_ts), side, price, delta FROM " PART
	" WHERE market_id = $1 AND ts >= $2::timestamptz AND ts <= $3::timestamptz"
	" AND ts > $4::timestamptz ORDER BY ts LIMIT $5::int + 1",
};
static const int nparams[ST__COUNT] = { [ST_BOOK] = 3, [ST_DELTAS] = 3, [ST_PAGE] = 5 };

/* Statement names per kind and slot, and the constant commands that forget them. */
#define N(k, i) "daypart_" k #i
#define D(k, i) "DEALLOCATE daypart_" k #i
#define X8(F, k, t) F(k, t##0), F(k, t##1), F(k, t##2), F(k, t##3), F(k, t##4), F(k, t##5), \
	F(k, t##6), F(k, t##7)
#define X64(F, k) X8(F, k, 1), X8(F, k, 2), X8(F, k, 3), X8(F, k, 4), X8(F, k, 5), X8(F, k, 6), \
	X8(F, k, 7), X8(F, k, 8)
static const char *const names[ST__COUNT][SLOTS] = { { X64(N, "b") }, { X64(N, "d") },
	{ X64(N, "p") } };
static const char *const deallocs[ST__COUNT][SLOTS] = { { X64(D, "b") }, { X64(D, "d") },
	{ X64(D, "p") } };

static struct slot {
	int64_t day;       /* days since the epoch */
	bool assigned;
	bool missing;      /* the day has no partition (its rows, if any, are in the default one):
	                    * learnt from the first statement, which fails with 42P01 */
	unsigned long used;
	char *sql[ST__COUNT];
	struct db_stmt st[ST__COUNT];
} slots[SLOTS];
static unsigned long clock_;

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

/* Writes the date of day over the 0000_00_00 of the deltas partition's name in sql (a
 * template's copy) and over the 0000_00 of the checkpoints' month partition, when sql has them. */
static void
put_date(char *sql, int64_t day)
{
	char *p = strstr(sql, PART) + sizeof("book_deltas_p") - 1;
	char *c = strstr(sql, CPART);
	int y, m, d;

	kt_civil_from_days(day, &y, &m, &d);
	put_digits(p, y, 4);
	put_digits(p + 5, m, 2);
	put_digits(p + 8, d, 2);
	if (c != NULL) {
		c += sizeof("book_checkpoints_p") - 1;
		put_digits(c, y, 4);
		put_digits(c + 5, m, 2);
	}
}

/* Frees slot s for another day, forgetting its statements on the server. Returns 0 or -1. */
static int
slot_release(struct db *db, struct slot *s)
{
	for (int k = 0; k < ST__COUNT; k++) {
		PGresult *res;

		if (s->st[k].gen == 0 || s->st[k].gen != db_generation(db))
			continue;
		if ((res = db_exec_sql(db, deallocs[k][s - slots], 0, NULL)) == NULL)
			return -1;
		PQclear(res);
		s->st[k].gen = 0;
	}
	s->assigned = false;
	return 0;
}

/* The slot of day, (re)assigned to it if needed; NULL on a database error. */
static struct slot *
slot_for(struct db *db, int64_t day)
{
	struct slot *s = &slots[0];
	for (int i = 0; i < SLOTS; i++) {
		if (slots[i].assigned && slots[i].day == day)
			return &slots[i];
		if (!slots[i].assigned || slots[i].used < s->used)
			s = &slots[i];
		if (!s->assigned)
			break;
	}
	if (s->assigned && slot_release(db, s) != 0)
		return NULL;
	for (int k = 0; k < ST__COUNT; k++) {
		size_t len = strlen(tmpl[k]) + 1;

		if (s->sql[k] == NULL && (s->sql[k] = malloc(len)) == NULL)
			return NULL;
		memcpy(s->sql[k], tmpl[k], len);
		put_date(s->sql[k], day);
		s->st[k] = (struct db_stmt)DB_STMT(names[k][s - slots], s->sql[k], nparams[k]);
	}
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

static PGresult *
run(struct db *db, int64_t day, int kind, const char *const *params, bool *fallback)
{
	struct slot *s;
	PGresult *res;
	int64_t first;

	*fallback = false;
	if (floor_day(db, &first) != 0)
		return NULL;
	if (day < first) {
		*fallback = true;
		return NULL;
	}
	if ((s = slot_for(db, day)) == NULL)
		return NULL;
	s->used = ++clock_;
	if (!s->missing && (res = db_exec(db, &s->st[kind], params)) != NULL)
		return res;
	/* no partition; or it was dropped since (an operator moved its rows, or retention) */
	if (s->missing || strcmp(db_sqlstate(db), "42P01") == 0) {
		s->missing = true;
		*fallback = true;
	}
	return NULL;
}

struct db_stmt *
daypart_book_stmt(struct db *db, int64_t at)
{
	struct slot *s;
	int64_t first;

	if (floor_day(db, &first) != 0 || daypart_day(at) < first)
		return NULL;
	s = slot_for(db, daypart_day(at));
	if (s == NULL || s->missing)
		return NULL;
	s->used = ++clock_;
	return &s->st[ST_BOOK];
}

PGresult *
daypart_book(struct db *db, int64_t at, const char *const params[3], bool *fallback)
{
	return run(db, daypart_day(at), ST_BOOK, params, fallback);
}

PGresult *
daypart_deltas(struct db *db, int64_t from, int64_t to, const char *const params[3], bool *fallback)
{
	*fallback = true;
	if (from == INT64_MIN || daypart_day(from) != daypart_day(to))
		return NULL;
	return run(db, daypart_day(to), ST_DELTAS, params, fallback);
}

PGresult *
daypart_page(struct db *db, int64_t day, const char *const params[5], bool *fallback)
{
	return run(db, day, ST_PAGE, params, fallback);
}
