/*
 * daypart: see daypart.h. The statements are constant text apart from the partition's date,
 * whose eight digits are written into a fixed template from integers (no printf, no input).
 */
#include <string.h>

#include "daypart.h"
#include "ktime.h"
#include "log.h"

#define SLOTS 16
#define DAY_US (86400LL * 1000000)

static const char tmpl[] =
    "SELECT kb_us(ts), side, price, delta FROM book_deltas_p0000_00_00"
    " WHERE market_id = $1 AND ts > $2::timestamptz AND ts <= $3::timestamptz ORDER BY ts";
#define TMPL_DATE (sizeof("SELECT kb_us(ts), side, price, delta FROM book_deltas_p") - 1)

/* One statement name per slot, and the constant command that forgets it. */
static const char *const names[SLOTS] = {
	"daypart0", "daypart1", "daypart2", "daypart3", "daypart4", "daypart5", "daypart6",
	"daypart7", "daypart8", "daypart9", "daypart10", "daypart11", "daypart12", "daypart13",
	"daypart14", "daypart15",
};
static const char *const deallocs[SLOTS] = {
	"DEALLOCATE daypart0", "DEALLOCATE daypart1", "DEALLOCATE daypart2", "DEALLOCATE daypart3",
	"DEALLOCATE daypart4", "DEALLOCATE daypart5", "DEALLOCATE daypart6", "DEALLOCATE daypart7",
	"DEALLOCATE daypart8", "DEALLOCATE daypart9", "DEALLOCATE daypart10", "DEALLOCATE daypart11",
	"DEALLOCATE daypart12", "DEALLOCATE daypart13", "DEALLOCATE daypart14", "DEALLOCATE daypart15",
};

/* Is the table named $1 a partition of book_deltas now? */
static struct db_stmt q_is_part = DB_STMT("daypart_is_partition",
    "SELECT EXISTS (SELECT 1 FROM pg_inherits"
    " WHERE inhrelid = to_regclass($1) AND inhparent = 'book_deltas'::regclass)", 1);

static struct slot {
	int64_t day;     /* days since the epoch; 0 with sql[0] == 0: free */
	bool missing;    /* the day has no partition: its rows are in the default one */
	unsigned long used;
	char sql[sizeof(tmpl)];
	struct db_stmt st;
} slots[SLOTS];
static unsigned long clock_;

static void
put_digits(char *p, int v, int n)
{
	for (int i = n - 1; i >= 0; i--, v /= 10)
		p[i] = (char)('0' + v % 10);
}

static int64_t
day_of(int64_t us)
{
	return us >= 0 ? us / DAY_US : (us - DAY_US + 1) / DAY_US;
}

/* The slot of day, (re)assigned to it if needed; NULL on a database error. */
static struct slot *
slot_for(struct db *db, int64_t day)
{
	struct slot *s = &slots[0];
	char table[sizeof("book_deltas_p0000_00_00")];
	const char *params[] = { table };
	PGresult *res;
	int y, m, d;

	for (int i = 0; i < SLOTS; i++) {
		if (slots[i].sql[0] != '\0' && slots[i].day == day)
			return &slots[i];
		if (slots[i].used < s->used)
			s = &slots[i];
	}
	/* the least recently used slot: forget its statement on the server */
	if (s->sql[0] != '\0' && s->st.gen != 0 && s->st.gen == db_generation(db)) {
		if ((res = db_exec_sql(db, deallocs[s - slots], 0, NULL)) == NULL)
			return NULL;
		PQclear(res);
	}
	kt_civil_from_days(day, &y, &m, &d);
	memcpy(s->sql, tmpl, sizeof(tmpl));
	put_digits(s->sql + TMPL_DATE, y, 4);
	put_digits(s->sql + TMPL_DATE + 5, m, 2);
	put_digits(s->sql + TMPL_DATE + 8, d, 2);
	memcpy(table, s->sql + TMPL_DATE - strlen("book_deltas_p"), sizeof(table) - 1);
	table[sizeof(table) - 1] = '\0';
	s->st = (struct db_stmt)DB_STMT(names[s - slots], s->sql, 3);
	s->day = day;
	if ((res = db_exec(db, &q_is_part, params)) == NULL) {
		s->sql[0] = '\0';
		return NULL;
	}
	s->missing = PQgetvalue(res, 0, 0)[0] != 't';
	PQclear(res);
	return s;
}

PGresult *
daypart_deltas(struct db *db, int64_t from, int64_t to, const char *const params[3], bool *use_parent)
{
	struct slot *s;
	PGresult *res;

	*use_parent = true;
	if (from == INT64_MIN || day_of(from) != day_of(to) || to - from >= DAY_US)
		return NULL;
	if ((s = slot_for(db, day_of(to))) == NULL) {
		*use_parent = false;
		return NULL;
	}
	s->used = ++clock_;
	if (s->missing)
		return NULL;
	if ((res = db_exec(db, &s->st, params)) != NULL)
		return res;
	/* the partition was dropped since (an operator moved its rows, or retention): the parent */
	if (strcmp(db_sqlstate(db), "42P01") == 0)
		s->missing = true;
	else
		*use_parent = false;
	return NULL;
}
