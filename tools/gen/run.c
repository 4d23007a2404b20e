/*
 * run: one generation run, in one transaction on one connection.
 *
 * 1. Refuse when markets of the prefix exist (unless --append, which continues their numbering).
 * 2. Plan the universe (universe.c) and create the daily/monthly partitions its span needs through
 *    pg_partman (best effort, before the transaction: without them rows go to the default
 *    partition, which works but is not what a recorded history looks like).
 * 3. Insert the markets (ids come back with RETURNING).
 * 4. Stream every market's history (flow.c) and COPY the deltas. With --order time (the default)
 *    the markets' histories are merged by ts through a binary heap, so the table receives rows in
 *    the order a collector writes them; --order market writes one market after the other. The
 *    checkpoints and gaps met meanwhile are spooled to temporary files in COPY text format.
 * 5. COPY the spooled checkpoints and gaps, set each market's coverage (first_ts, last_ts), and
 *    commit. A summary line (JSON) goes to stdout: counts, seconds, rows per second.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gen.h"
#include "log.h"

static const char run_existing_sql[] =
    "SELECT count(*), count(DISTINCT event_ticker), count(DISTINCT series_ticker)"
    " FROM markets WHERE left(ticker, length($1)) = $1";

static const char run_partitions_sql[] =
    "SELECT partman.create_partition_time('public.book_deltas',"
    "  ARRAY(SELECT generate_series(date_trunc('day', $1::timestamptz), $2::timestamptz,"
    "   interval '1 day')), false),"
    " partman.create_partition_time('public.book_checkpoints',"
    "  ARRAY(SELECT generate_series(date_trunc('month', $1::timestamptz), $2::timestamptz,"
    "   interval '1 month')), false)";

static const char run_copy_deltas[] =
    "COPY book_deltas (market_id, ts, exchange_ts, side, price, delta) FROM STDIN";
static const char run_copy_checkpoints[] =
    "COPY book_checkpoints (market_id, ts, source, yes_prices, yes_sizes, no_prices, no_sizes)"
    " FROM STDIN";
static const char run_copy_gaps[] =
    "COPY gaps (market_id, start_ts, end_ts, reason, detail, diverged, closed_by) FROM STDIN";

struct run {
	const struct gen_opts *o;
	struct gen_universe u;
	struct gen_flow **flows;
	size_t *heap;          /* indices of flows, ordered by (event ts, index) */
	size_t nheap;
	struct gen_copy deltas, checkpoints, gaps;
	FILE *cp_file, *gap_file;
	struct book_level *lv;
	size_t lv_cap;
	int64_t n_deltas, n_snapshots, n_periodic, n_gaps;
};

static double
run_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* ---- the merge -------------------------------------------------------------------------------- */

static bool
run_before(const struct run *r, size_t a, size_t b)
{
	int64_t ta = gen_flow_event(r->flows[a])->ts, tb = gen_flow_event(r->flows[b])->ts;

	return ta < tb || (ta == tb && a < b);
}

static void
run_sift_down(struct run *r, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, best = i, t;

		if (l < r->nheap && run_before(r, r->heap[l], r->heap[best]))
			best = l;
		if (l + 1 < r->nheap && run_before(r, r->heap[l + 1], r->heap[best]))
			best = l + 1;
		if (best == i)
			return;
		t = r->heap[i];
		r->heap[i] = r->heap[best];
		r->heap[best] = t;
		i = best;
	}
}

/* ---- rows ------------------------------------------------------------------------------------- */

static char *
run_put(char *p, const char *s, size_t n)
{
	memcpy(p, s, n);
	return p + n;
}

static char *
run_put_time(char *p, int64_t us)
{
	char t[GEN_TIME_BUFSZ];
	size_t n = gen_time_pg(us, t);

	return run_put(p, t, n);
}

/* Writes "{a,b,c}" of the prices (sizes when sizes) of n levels. */
static char *
run_put_array(char *p, const struct book_level *lv, size_t n, bool sizes)
{
	*p++ = '{';
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			*p++ = ',';
		p += gen_fmt_i64(p, sizes ? lv[i].size : lv[i].price);
	}
	*p++ = '}';
	return p;
}

static int
run_delta_row(struct run *r, const struct gen_market *m, const struct gen_event *ev)
{
	char *p0, *p;

	if ((p0 = p = gen_copy_room(&r->deltas, 4 * GEN_FIELD_MAX + 2 * GEN_TIME_BUFSZ)) == NULL)
		return -1;
	p += gen_fmt_i64(p, m->id);
	*p++ = '\t';
	p = run_put_time(p, ev->ts);
	*p++ = '\t';
	p = run_put_time(p, ev->exchange_ts);
	*p++ = '\t';
	*p++ = ev->side == BOOK_YES ? '0' : '1';
	*p++ = '\t';
	p += gen_fmt_i64(p, ev->price);
	*p++ = '\t';
	p += gen_fmt_i64(p, ev->delta);
	*p++ = '\n';
	r->deltas.len += (size_t)(p - p0);
	r->n_deltas++;
	return gen_copy_row_end(&r->deltas);
}

static int
run_checkpoint_row(struct run *r, const struct gen_market *m, const struct gen_event *ev,
    const struct book *b)
{
	size_t ny = book_levels(b, BOOK_YES), nn = book_levels(b, BOOK_NO), need = ny + nn;
	struct book_level *yes, *no;
	char *p0, *p;

	if (need > r->lv_cap) {
		struct book_level *lv = realloc(r->lv, need * sizeof(*lv));

		if (lv == NULL)
			return -1;
		r->lv = lv;
		r->lv_cap = need;
	}
	yes = r->lv;
	no = r->lv + ny;
	ny = book_copy_levels(b, BOOK_YES, yes, ny);
	nn = book_copy_levels(b, BOOK_NO, no, nn);
	if ((p0 = p = gen_copy_room(&r->checkpoints,
	    GEN_FIELD_MAX * (4 + 2 * (ny + nn)) + GEN_TIME_BUFSZ)) == NULL)
		return -1;
	p += gen_fmt_i64(p, m->id);
	*p++ = '\t';
	p = run_put_time(p, ev->ts);
	p = ev->kind == GEN_EV_SNAPSHOT ? run_put(p, "\tsnapshot\t", 10) :
	    run_put(p, "\tperiodic\t", 10);
	p = run_put_array(p, yes, ny, false);
	*p++ = '\t';
	p = run_put_array(p, yes, ny, true);
	*p++ = '\t';
	p = run_put_array(p, no, nn, false);
	*p++ = '\t';
	p = run_put_array(p, no, nn, true);
	*p++ = '\n';
	r->checkpoints.len += (size_t)(p - p0);
	if (ev->kind == GEN_EV_SNAPSHOT)
		r->n_snapshots++;
	else
		r->n_periodic++;
	return gen_copy_row_end(&r->checkpoints);
}

static int
run_gap_row(struct run *r, const struct gen_market *m, const struct gen_event *ev)
{
	const char *reason = gen_gap_reasons[ev->reason], *detail = gen_gap_details[ev->reason];
	size_t lr = strlen(reason), ld = strlen(detail);
	char *p0, *p;

	if ((p0 = p = gen_copy_room(&r->gaps, GEN_FIELD_MAX * 3 + 2 * GEN_TIME_BUFSZ + lr + ld + 16)) ==
	    NULL)
		return -1;
	p += gen_fmt_i64(p, m->id);
	*p++ = '\t';
	p = run_put_time(p, ev->ts);
	*p++ = '\t';
	p = run_put_time(p, ev->end);
	*p++ = '\t';
	p = run_put(p, reason, lr);
	*p++ = '\t';
	p = run_put(p, detail, ld); /* plain text: no tab, newline or backslash to escape */
	*p++ = '\t';
	*p++ = ev->diverged ? 't' : 'f';
	p = run_put(p, "\tsnapshot\n", sizeof("\tsnapshot\n") - 1); /* every gap ends with a snapshot */
	r->gaps.len += (size_t)(p - p0);
	r->n_gaps++;
	return gen_copy_row_end(&r->gaps);
}

/* Writes the current event of flow i and records the market's coverage. */
static int
run_emit(struct run *r, size_t i)
{
	const struct gen_event *ev = gen_flow_event(r->flows[i]);
	struct gen_market *m = &r->u.m[i];

	switch (ev->kind) {
	case GEN_EV_DELTA:
		m->last_ts = ev->ts;
		return run_delta_row(r, m, ev);
	case GEN_EV_SNAPSHOT:
		if (m->first_ts == 0)
			m->first_ts = ev->ts;
		m->last_ts = ev->ts;
		return run_checkpoint_row(r, m, ev, gen_flow_book(r->flows[i]));
	case GEN_EV_PERIODIC:
		return run_checkpoint_row(r, m, ev, gen_flow_book(r->flows[i]));
	case GEN_EV_GAP:
		return run_gap_row(r, m, ev);
	case GEN_EV_END:
		break;
	}
	return 0;
}

/* Writes every market's history in ts order across markets. */
static int
run_by_time(struct run *r)
{
	for (size_t i = 0; i < r->u.n; i++) {
		if ((r->flows[i] = gen_flow_new(&r->u.m[i], r->o, r->u.tie_grid)) == NULL)
			return -1;
		if (gen_flow_event(r->flows[i])->kind != GEN_EV_END)
			r->heap[r->nheap++] = i;
	}
	for (size_t k = r->nheap; k-- > 0;)
		run_sift_down(r, k);
	while (r->nheap > 0) {
		size_t i = r->heap[0];

		if (run_emit(r, i) != 0 || gen_flow_advance(r->flows[i]) != 0)
			return -1;
		if (gen_flow_event(r->flows[i])->kind == GEN_EV_END) {
			gen_flow_free(r->flows[i]);
			r->flows[i] = NULL;
			r->heap[0] = r->heap[--r->nheap];
		}
		run_sift_down(r, 0);
	}
	return 0;
}

/* Writes one market's whole history after the other. */
static int
run_by_market(struct run *r)
{
	for (size_t i = 0; i < r->u.n; i++) {
		if ((r->flows[i] = gen_flow_new(&r->u.m[i], r->o, r->u.tie_grid)) == NULL)
			return -1;
		while (gen_flow_event(r->flows[i])->kind != GEN_EV_END)
			if (run_emit(r, i) != 0 || gen_flow_advance(r->flows[i]) != 0)
				return -1;
		gen_flow_free(r->flows[i]);
		r->flows[i] = NULL;
	}
	return 0;
}

/* ---- the run ---------------------------------------------------------------------------------- */

/* Reads what the prefix already has. 0, 1 (exists and no --append) or -1 (database error). */
static int
run_existing(struct db *db, const struct gen_opts *o, struct gen_offsets *off)
{
	char pfx[GEN_PREFIX_MAX + 2];
	const char *params[1] = { pfx };
	PGresult *res;
	int rc = -1;

	snprintf(pfx, sizeof(pfx), "%s-", o->prefix);
	if ((res = db_exec_sql(db, run_existing_sql, 1, params)) == NULL)
		goto out;
	off->markets = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	off->events = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
	off->series = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
	rc = 0;
	if (off->markets > 0 && !o->append) {
		fprintf(stderr, "kbook-gen: %lld markets with prefix %s exist: "
		    "use --append, another --prefix, or --delete\n", (long long)off->markets, o->prefix);
		rc = 1;
	}
out:
	PQclear(res);
	return rc;
}

static void
run_partitions(struct db *db, const struct gen_opts *o)
{
	char a[GEN_TIME_BUFSZ], b[GEN_TIME_BUFSZ];
	const char *params[2] = { a, b };
	PGresult *res;

	gen_time_pg(o->start, a);
	gen_time_pg(o->start + o->span, b);
	if ((res = db_exec_sql(db, run_partitions_sql, 2, params)) == NULL)
		log_warnx("partitions for the span not created: rows go to the default partitions");
	PQclear(res);
}

static FILE *
run_tmpfile(void)
{
	FILE *f = tmpfile();

	if (f == NULL)
		log_error("tmpfile");
	return f;
}

int
gen_run(const struct gen_opts *o, struct db *db)
{
	struct run r;
	struct gen_offsets off = { 0 };
	struct db_tx tx = { 0 };
	char err[256];
	double t0 = run_now(), t_deltas = 0, t_copy = 0, t_end;
	int status = 1, rc;

	memset(&r, 0, sizeof(r));
	r.o = o;
	if ((rc = run_existing(db, o, &off)) != 0) {
		status = rc < 0 ? 1 : 2;
		goto out;
	}
	if (gen_universe_plan(o, &off, &r.u, err, sizeof(err)) != 0) {
		fprintf(stderr, "kbook-gen: %s\n", err);
		status = 2;
		goto out;
	}
	if ((r.flows = calloc(r.u.n, sizeof(struct gen_flow *))) == NULL ||
	    (r.heap = calloc(r.u.n, sizeof(*r.heap))) == NULL) {
		log_errorx("out of memory");
		goto out;
	}
	if ((r.cp_file = run_tmpfile()) == NULL || (r.gap_file = run_tmpfile()) == NULL)
		goto out;
	run_partitions(db, o);
	if (db_begin(db, &tx) != 0 || gen_universe_insert(db, &r.u) != 0)
		goto out;
	if (gen_copy_spool(&r.checkpoints, r.cp_file) != 0 || gen_copy_spool(&r.gaps, r.gap_file) != 0)
		goto out;
	t_copy = run_now();
	if (gen_copy_begin(&r.deltas, db, run_copy_deltas) != 0)
		goto out;
	if ((o->order == GEN_ORDER_TIME ? run_by_time(&r) : run_by_market(&r)) != 0) {
		log_errorx("generation failed (out of memory or an invalid change)");
		goto out;
	}
	if (gen_copy_end(&r.deltas) != 0 || gen_copy_end(&r.checkpoints) != 0 ||
	    gen_copy_end(&r.gaps) != 0)
		goto out;
	t_deltas = run_now() - t_copy;
	if (gen_copy_begin(&r.checkpoints, db, run_copy_checkpoints) != 0 ||
	    gen_copy_file(&r.checkpoints, r.cp_file) != 0 || gen_copy_end(&r.checkpoints) != 0)
		goto out;
	if (gen_copy_begin(&r.gaps, db, run_copy_gaps) != 0 ||
	    gen_copy_file(&r.gaps, r.gap_file) != 0 || gen_copy_end(&r.gaps) != 0)
		goto out;
	if (gen_universe_coverage(db, &r.u) != 0 || db_commit(&tx) != 0)
		goto out;
	t_end = run_now();
	printf("{\"prefix\":\"%s\",\"markets\":%zu,\"deltas\":%lld,\"snapshots\":%lld,"
	    "\"periodic\":%lld,\"gaps\":%lld,\"seconds\":%.2f,\"delta_seconds\":%.2f,"
	    "\"deltas_per_s\":%.0f,\"rows_per_s\":%.0f}\n", o->prefix, r.u.n, (long long)r.n_deltas,
	    (long long)r.n_snapshots, (long long)r.n_periodic, (long long)r.n_gaps, t_end - t0,
	    t_deltas, t_deltas > 0 ? (double)r.n_deltas / t_deltas : 0.0,
	    (double)(r.n_deltas + r.n_snapshots + r.n_periodic + r.n_gaps + (int64_t)r.u.n) /
	    (t_end - t0));
	status = 0;
out:
	gen_copy_abort(&r.deltas);
	gen_copy_abort(&r.checkpoints);
	gen_copy_abort(&r.gaps);
	db_end(&tx);
	if (r.flows != NULL)
		for (size_t i = 0; i < r.u.n; i++)
			gen_flow_free(r.flows[i]);
	free(r.flows);
	free(r.heap);
	free(r.lv);
	if (r.cp_file != NULL)
		fclose(r.cp_file);
	if (r.gap_file != NULL)
		fclose(r.gap_file);
	gen_universe_free(&r.u);
	return status;
}
