/*
 * record: what the writer records besides rows, one statement each: gaps opened and closed
 * (idempotent, so that a batch replayed after an unknown commit outcome adds nothing), the
 * restart (or takeover) gaps a run owes for an earlier run's markets and their end at each
 * market's first snapshot, settlements (a gap ending 'market_closed', or markets.final_ts), the
 * markets' coverage (first_ts, last_ts) with the NOTIFY that tells feedd which markets have new
 * rows, and the recorded-through mark (sql/001_baseline.sql). Markets are named by registry index and looked
 * up in wmarket.c.
 */
#include <stdio.h>
#include <stdlib.h>

#include <libpq-fe.h>

#include "writer.h"

static enum coll_gap_reason restart_reason = COLL_GAP_RESTART;

/* Gap rows are idempotent so that a batch replayed after an unknown commit outcome adds nothing. */
static struct db_stmt q_gap_open = DB_STMT("coll_gap_open",
    "INSERT INTO gaps (market_id, start_ts, reason, detail) SELECT $1, kb_ts($2), $3, $4"
    " WHERE NOT EXISTS (SELECT 1 FROM gaps WHERE market_id = $1 AND start_ts = kb_ts($2))", 4);
static struct db_stmt q_gap_close = DB_STMT("coll_gap_close",
    "UPDATE gaps SET end_ts = greatest(kb_ts($2), start_ts), diverged = $3, closed_by = $4"
    " WHERE market_id = $1 AND end_ts IS NULL", 4);
/*
 * In the first transaction of a run, before its first mark: a gap ($1: restart or takeover) for
 * every market an earlier run recorded that is neither finished (settled: final, or its record
 * ended in a gap) nor inside a gap already, from just after the later of its last row and the
 * earlier run's mark, through which its book was exact and answered so. So no instant answered
 * complete before the restart is answered incomplete after it, and an instant answered "not yet
 * recorded" is then answered inside this gap. One statement: on 2 350 recorded markets it takes
 * a few ms, once a run.
 */
static struct db_stmt q_restart_open = DB_STMT("coll_restart_open",
    "INSERT INTO gaps (market_id, start_ts, reason, detail)"
    " SELECT m.id, greatest(m.last_ts, r.through) + interval '1 microsecond', $1,"
    "  'not recording between two runs'"
    " FROM markets m LEFT JOIN recorded_through r ON true"
    " WHERE m.last_ts IS NOT NULL AND m.final_ts IS NULL AND m.status NOT IN ('finalized', 'settled')"
    "  AND NOT EXISTS (SELECT 1 FROM gaps g WHERE g.market_id = m.id AND g.end_ts IS NULL)", 1);
/* A market's first snapshot of this run: the gap it was found in (restart, or an earlier run's
 * that no snapshot closed) ends here; nothing of this run opened one before it had a book. */
static struct db_stmt q_restart_close = DB_STMT("coll_restart_close",
    "UPDATE gaps SET end_ts = greatest(kb_ts($2), start_ts), closed_by = 'snapshot'"
    " WHERE market_id = $1 AND end_ts IS NULL", 2);
/*
 * A recorded market settled (learned at $2): a gap still open ends there with closed_by
 * 'market_closed' (no snapshot will come: e.g. a restart gap of a market that settled before its
 * first snapshot of this run); a market with no gap open whose record did not end in one was
 * recorded to its settlement: final_ts, complete ever after.
 */
static struct db_stmt q_settled = DB_STMT("coll_settled",
    "WITH c AS (UPDATE gaps SET end_ts = greatest(kb_ts($2), start_ts), closed_by = 'market_closed'"
    "  WHERE market_id = $1 AND end_ts IS NULL RETURNING 1)"
    " UPDATE markets m SET final_ts = kb_ts($2)"
    " WHERE m.id = $1 AND m.final_ts IS NULL AND m.last_ts IS NOT NULL"
    "  AND NOT EXISTS (SELECT 1 FROM c)"
    "  AND NOT EXISTS (SELECT 1 FROM gaps g WHERE g.market_id = $1 AND g.closed_by = 'market_closed')",
    2);
/* The mark, in the transaction of the rows it covers; it never moves back. */
static struct db_stmt q_set_mark = DB_STMT("coll_mark",
    "INSERT INTO recorded_through AS r (id, through) VALUES (1, kb_ts($1))"
    " ON CONFLICT (id) DO UPDATE SET through = greatest(r.through, EXCLUDED.through)", 1);
static struct db_stmt q_coverage = DB_STMT("coll_coverage",
    "UPDATE markets m SET first_ts = coalesce(m.first_ts, kb_ts(v.f)),"
    " last_ts = greatest(m.last_ts, kb_ts(v.l))"
    " FROM unnest($1::int[], $2::bigint[], $3::bigint[]) AS v(id, f, l) WHERE m.id = v.id", 3);
static struct db_stmt q_notify = DB_STMT("coll_notify", "SELECT pg_notify('kbook_deltas', $1)", 1);
#define NOTIFY_IDS_MAX 7900 /* bytes of market ids in a NOTIFY payload (Postgres allows < 8000) */


/* Runs st with (market idx's id, ts) and then the rest of params (up to 2 more). */
static int
exec_market_ts(struct db *db, struct db_stmt *st, int32_t idx, int64_t ts, const char *p2,
    const char *p3)
{
	char a[24], b[24];
	const char *p[] = { a, b, p2, p3 };

	snprintf(a, sizeof(a), "%lld", (long long)coll_wm(idx)->id);
	snprintf(b, sizeof(b), "%lld", (long long)ts);
	return db_exec_ok(db, st, p);
}

void
coll_rec_set_restart_reason(enum coll_gap_reason r)
{
	restart_reason = r;
}

int
coll_rec_restart_open(struct db *db)
{
	const char *p[] = { coll_gap_reason_name(restart_reason) };

	return db_exec_ok(db, &q_restart_open, p);
}

int
coll_rec_restart_close(struct db *db, int32_t idx, int64_t ts)
{
	return exec_market_ts(db, &q_restart_close, idx, ts, NULL, NULL);
}

int
coll_rec_settled(struct db *db, int32_t idx, int64_t ts)
{
	const struct coll_wmarket *w = coll_wm(idx);

	if (!w->recorded || w->final)
		return 0;
	return exec_market_ts(db, &q_settled, idx, ts, NULL, NULL);
}

int
coll_rec_gap_open(struct db *db, int32_t idx, int64_t ts, enum coll_gap_reason reason,
    const char *detail)
{
	return exec_market_ts(db, &q_gap_open, idx, ts, coll_gap_reason_name(reason), detail);
}

int
coll_rec_gap_close(struct db *db, int32_t idx, int64_t ts, int div, enum coll_gap_end end)
{
	return exec_market_ts(db, &q_gap_close, idx, ts,
	    div == COLL_DIV_YES ? "true" : div == COLL_DIV_NO ? "false" : NULL, coll_gap_end_name(end));
}

/* The coverage arrays, kept between batches (writer thread only). */
static struct sbuf ids, fs, ls;

int
coll_rec_coverage(struct db *db, const struct coll_ev *ev, size_t n, bool rows, int64_t max_ts)
{
	const char *pc[3], *pn[1];
	char b[24];
	size_t nrows = 0;

	sbuf_reset(&ids);
	sbuf_reset(&fs);
	sbuf_reset(&ls);
	sbuf_str(&ids, "{");
	sbuf_str(&fs, "{");
	sbuf_str(&ls, "{");
	for (size_t i = 0; i < n; i++) {
		struct coll_wmarket *w;

		if (ev[i].kind == COLL_EV_MARK || (w = coll_wm(ev[i].market)) == NULL)
			continue;
		if (w->first < 0 || w->id == 0)
			continue;
		sbuf_printf(&ids, "%s%lld", nrows == 0 ? "" : ",", (long long)w->id);
		sbuf_printf(&fs, "%s%lld", nrows == 0 ? "" : ",", (long long)w->first);
		sbuf_printf(&ls, "%s%lld", nrows == 0 ? "" : ",", (long long)w->last);
		w->first = w->last = -1;
		nrows++;
	}
	sbuf_str(&ids, "}");
	sbuf_str(&fs, "}");
	sbuf_str(&ls, "}");
	pc[0] = sbuf_text(&ids);
	pc[1] = sbuf_text(&fs);
	pc[2] = sbuf_text(&ls);
	if (pc[0] == NULL || pc[1] == NULL || pc[2] == NULL)
		return -1; /* out of memory: the batch is retried */
	if (nrows > 0 && db_exec_ok(db, &q_coverage, pc) != 0)
		return -1;
	if (!rows)
		return 0;
	/* the ids of the markets with new rows ("12,13,14": the coverage list without its braces),
	 * as docs/feed.md's contract says; past NOTIFY's 8000-byte payload, the batch's largest ts,
	 * which names no market (feedd then looks at markets.last_ts) */
	if (nrows > 0 && ids.len - 2 < NOTIFY_IDS_MAX) {
		ids.p[ids.len - 1] = '\0';
		pn[0] = ids.p + 1;
	} else {
		snprintf(b, sizeof(b), "%lld", (long long)max_ts);
		pn[0] = b;
	}
	return db_exec_ok(db, &q_notify, pn);
}

int
coll_rec_mark(struct db *db, int64_t ts)
{
	char b[24];
	const char *p[] = { b };

	snprintf(b, sizeof(b), "%lld", (long long)ts);
	return db_exec_ok(db, &q_set_mark, p);
}

void
coll_rec_free(void)
{
	sbuf_free(&ids);
	sbuf_free(&fs);
	sbuf_free(&ls);
}
