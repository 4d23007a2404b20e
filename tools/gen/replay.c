/*
 * replay: the oracle. Books rebuilt by brute force from the stored rows, to check the Data API
 * (--replay, --replay-all) and the generator's own checkpoints (--verify, --verify-all); and
 * --delete, which removes every row of a prefix.
 *
 * A market's rows are read as one stream ordered by ts: its 'snapshot' checkpoints, its deltas
 * and (for --verify) its 'periodic' checkpoints; at equal ts a snapshot comes first and a periodic
 * checkpoint last (it holds the book after the deltas of its ts). A snapshot replaces the book
 * (the start of a recorded segment, or the end of a gap); every delta is applied with lib/book
 * semantics; periodic checkpoints are never used to build a book. "The book at T" is the book
 * after every row with ts <= T. T inside a gap (start_ts <= T < end_ts, or an open gap) or before
 * the first snapshot, or after the instant the market is recorded through (the later of the
 * recorded-through mark and its last row, unless it was recorded to its settlement), has no
 * complete book: the line then says "complete":false and why.
 *
 * The stream is read in libpq's single-row mode, so a market of any length replays in constant
 * memory, and --replay-all answers any number of instants in one pass.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fixed.h"
#include "gen.h"
#include "log.h"

#define RP_LINE_MAX 4096 /* a line grows beyond this as needed */

/* The market and the instant it is recorded through (the later of the collector's mark
 * and its last row; NULL when it was recorded to its settlement, complete ever after). */
static const char rp_market_sql[] =
    "SELECT m.id, (extract(epoch FROM CASE WHEN m.final_ts IS NULL"
    "  THEN greatest(r.through, m.last_ts) END) * 1000000)::int8"
    " FROM markets m LEFT JOIN recorded_through r ON true WHERE m.ticker = $1";

static const char rp_gaps_sql[] =
    "SELECT (extract(epoch FROM start_ts) * 1000000)::int8,"
    " (extract(epoch FROM end_ts) * 1000000)::int8, diverged"
    " FROM gaps WHERE market_id = $1 ORDER BY start_ts";

/* $1 market id, $2 upper bound of ts, $3 whether periodic checkpoints are wanted. */
static const char rp_stream_sql[] =
    "SELECT k, (extract(epoch FROM ts) * 1000000)::int8, side, price, delta,"
    " yp, ys, np, ns FROM ("
    "  SELECT 1 AS k, ts, side, price, delta, NULL::integer[] AS yp, NULL::bigint[] AS ys,"
    "   NULL::integer[] AS np, NULL::bigint[] AS ns"
    "  FROM book_deltas WHERE market_id = $1 AND ts <= $2"
    "  UNION ALL"
    "  SELECT CASE source WHEN 'snapshot' THEN 0 ELSE 2 END, ts, NULL, NULL, NULL,"
    "   yes_prices, yes_sizes, no_prices, no_sizes"
    "  FROM book_checkpoints WHERE market_id = $1 AND ts <= $2 AND (source = 'snapshot' OR $3)"
    " ) e ORDER BY ts, k";

static const char rp_prefix_sql[] =
    "SELECT ticker FROM markets WHERE left(ticker, length($1)) = $1 ORDER BY ticker";

static const char *const rp_delete_sql[] = {
	"DELETE FROM book_deltas WHERE market_id IN"
	" (SELECT id FROM markets WHERE left(ticker, length($1)) = $1)",
	"DELETE FROM book_checkpoints WHERE market_id IN"
	" (SELECT id FROM markets WHERE left(ticker, length($1)) = $1)",
	"DELETE FROM gaps WHERE market_id IN"
	" (SELECT id FROM markets WHERE left(ticker, length($1)) = $1)",
	"DELETE FROM markets WHERE left(ticker, length($1)) = $1",
};
static const char *const rp_delete_names[] = { "deltas", "checkpoints", "gaps", "markets" };

enum rp_kind { RP_SNAPSHOT = 0, RP_DELTA = 1, RP_PERIODIC = 2 };

struct rp_gap {
	int64_t start, end; /* end INT64_MAX: open */
	bool diverged, diverged_null;
};

/* One row of the stream, borrowed until the next row. */
struct rp_row {
	enum rp_kind kind;
	int64_t ts;
	enum book_side side;
	int64_t price, delta;
	struct book *cp;     /* a checkpoint's book (reused) */
};

struct rp_market {
	char ticker[256];    /* JSON-escaped */
	char id[16];
	struct rp_gap *gaps;
	size_t ngaps;
	int64_t through;     /* recorded through; INT64_MAX: recorded to its settlement */
};

struct rp_line {
	char *p;
	size_t len, cap;
};

/* ---- small helpers ---------------------------------------------------------------------------- */

static int
rp_reserve(struct rp_line *l, size_t more)
{
	size_t cap = l->cap ? l->cap : RP_LINE_MAX;
	char *p;

	if (l->len + more + 1 <= l->cap)
		return 0;
	while (cap < l->len + more + 1)
		cap *= 2;
	if ((p = realloc(l->p, cap)) == NULL)
		return -1;
	l->p = p;
	l->cap = cap;
	return 0;
}

static int
rp_add(struct rp_line *l, const char *s)
{
	size_t n = strlen(s);

	if (rp_reserve(l, n) != 0)
		return -1;
	memcpy(l->p + l->len, s, n + 1);
	l->len += n;
	return 0;
}

/* Parses a Postgres integer array "{1,2,3}" into out (caller frees *out). Returns count or -1. */
static ssize_t
rp_array(const char *s, int64_t **out)
{
	size_t n = 0, cap = 0;
	int64_t *v = NULL;
	const char *p = s;

	*out = NULL;
	if (*p++ != '{')
		return -1;
	while (*p != '}') {
		char *end;
		long long x;

		errno = 0;
		x = strtoll(p, &end, 10);
		if (end == p || errno != 0)
			goto bad;
		if (n == cap) {
			int64_t *nv;

			cap = cap ? cap * 2 : 64;
			if ((nv = realloc(v, cap * sizeof(*v))) == NULL)
				goto bad;
			v = nv;
		}
		v[n++] = x;
		p = end;
		if (*p == ',')
			p++;
		else if (*p != '}')
			goto bad;
	}
	*out = v;
	return (ssize_t)n;
bad:
	free(v);
	return -1;
}

/* Loads a checkpoint's four arrays into b. Returns 0, or -1 when malformed or invalid. */
static int
rp_load_checkpoint(PGresult *res, struct book *b)
{
	int64_t *a[4] = { NULL, NULL, NULL, NULL };
	ssize_t n[4];
	struct book_level *lv[2] = { NULL, NULL };
	int rc = -1;

	for (int i = 0; i < 4; i++)
		if ((n[i] = rp_array(PQgetvalue(res, 0, 5 + i), &a[i])) < 0)
			goto out;
	if (n[0] != n[1] || n[2] != n[3])
		goto out;
	for (size_t s = 0; s < 2; s++) {
		size_t pi = 2 * s, si = 2 * s + 1; /* prices and sizes of side s */

		if ((lv[s] = calloc((size_t)n[pi] + 1, sizeof(*lv[s]))) == NULL)
			goto out;
		for (ssize_t i = 0; i < n[pi]; i++) {
			lv[s][i].price = a[pi][i];
			lv[s][i].size = a[si][i];
		}
	}
	if (book_apply_snapshot(b, lv[0], (size_t)n[0], lv[1], (size_t)n[2]) != BOOK_OK)
		goto out;
	rc = 0;
out:
	for (int i = 0; i < 4; i++)
		free(a[i]);
	free(lv[0]);
	free(lv[1]);
	return rc;
}

/*
 * Replaces *b by a new empty book: the oracle keeps to the simplest use of lib/book (and, being
 * the check of the API's reconstruction, shares none of its checkpoint code).
 */
static int
rp_fresh_book(struct book **b)
{
	book_free(*b);
	*b = book_new(1000000);
	return *b != NULL ? 0 : -1;
}

/* Looks the market and its gaps up. 0, 1 (no such market: reported) or -1 (database error). */
static int
rp_market(struct db *db, const char *ticker, struct rp_market *m)
{
	const char *params[1] = { ticker };
	PGresult *res = NULL;
	int rc = -1;

	memset(m, 0, sizeof(*m));
	log_json_escape(m->ticker, sizeof(m->ticker), ticker);
	if ((res = db_exec_sql(db, rp_market_sql, 1, params)) == NULL)
		goto out;
	if (PQntuples(res) != 1) {
		fprintf(stderr, "kbook-gen: no market %s\n", ticker);
		rc = 1;
		goto out;
	}
	snprintf(m->id, sizeof(m->id), "%s", PQgetvalue(res, 0, 0));
	m->through = PQgetisnull(res, 0, 1) ? INT64_MAX : strtoll(PQgetvalue(res, 0, 1), NULL, 10);
	PQclear(res);
	params[0] = m->id;
	if ((res = db_exec_sql(db, rp_gaps_sql, 1, params)) == NULL)
		goto out;
	if ((m->gaps = calloc((size_t)PQntuples(res) + 1, sizeof(*m->gaps))) == NULL)
		goto out;
	for (int i = 0; i < PQntuples(res); i++) {
		struct rp_gap *g = &m->gaps[m->ngaps++];

		g->start = strtoll(PQgetvalue(res, i, 0), NULL, 10);
		g->end = PQgetisnull(res, i, 1) ? INT64_MAX : strtoll(PQgetvalue(res, i, 1), NULL, 10);
		g->diverged_null = PQgetisnull(res, i, 2);
		g->diverged = PQgetvalue(res, i, 2)[0] == 't';
	}
	rc = 0;
out:
	PQclear(res);
	return rc;
}

/* The gap that contains t, or NULL. */
static const struct rp_gap *
rp_gap_at(const struct rp_market *m, int64_t t)
{
	for (size_t i = 0; i < m->ngaps; i++)
		if (m->gaps[i].start <= t && t < m->gaps[i].end)
			return &m->gaps[i];
	return NULL;
}

/*
 * Streams the rows of market m with ts <= upto (text timestamp, or "infinity") to fn, in order.
 * fn returns 0 to go on, -1 to stop (the rest is drained). Returns 0, or -1 on a database
 * error, a malformed row, or fn's -1.
 */
static int
rp_stream(struct db *db, const struct rp_market *m, const char *upto, bool periodic,
    int (*fn)(void *ctx, const struct rp_row *row), void *ctx)
{
	const char *params[3] = { m->id, upto, periodic ? "true" : "false" };
	PGconn *conn;
	PGresult *res;
	struct rp_row row = { 0 };
	int rc = 0;
	bool done = false;

	if (db_ensure(db) != 0)
		return -1;
	conn = db_conn(db);
	if ((row.cp = book_new(1000000)) == NULL)
		return -1;
	if (!PQsendQueryParams(conn, rp_stream_sql, 3, NULL, params, NULL, NULL, 0) ||
	    !PQsetSingleRowMode(conn)) {
		log_errorx("replay query: %s", PQerrorMessage(conn));
		book_free(row.cp);
		return -1;
	}
	while ((res = PQgetResult(conn)) != NULL) {
		ExecStatusType st = PQresultStatus(res);

		if (st == PGRES_SINGLE_TUPLE && rc == 0 && !done) {
			row.kind = (enum rp_kind)atoi(PQgetvalue(res, 0, 0));
			row.ts = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
			if (row.kind == RP_DELTA) {
				row.side = atoi(PQgetvalue(res, 0, 2)) == 0 ? BOOK_YES : BOOK_NO;
				row.price = strtoll(PQgetvalue(res, 0, 3), NULL, 10);
				row.delta = strtoll(PQgetvalue(res, 0, 4), NULL, 10);
			} else if (rp_fresh_book(&row.cp) != 0 || rp_load_checkpoint(res, row.cp) != 0) {
				fprintf(stderr, "kbook-gen: malformed checkpoint at %lld\n",
				    (long long)row.ts);
				rc = -1;
			}
			if (rc == 0 && fn(ctx, &row) != 0)
				rc = -1;
		} else if (st != PGRES_SINGLE_TUPLE && st != PGRES_TUPLES_OK) {
			log_errorx("replay query: %s", PQresultErrorMessage(res));
			rc = -1;
		}
		PQclear(res);
	}
	book_free(row.cp);
	return rc;
}

/* ---- --replay, --replay-all ------------------------------------------------------------------- */

struct rp_replay {
	const struct rp_market *m;
	struct book *book;
	bool covered;             /* a snapshot has been applied */
	const int64_t *at;        /* instants, ascending */
	size_t nat, next;
	struct rp_line *lines;    /* output per sorted instant */
	int64_t uncovered;        /* deltas met before any snapshot (ignored) */
};

static int
rp_levels_json(struct rp_line *l, const struct book *b, enum book_side side)
{
	size_t n = book_levels(b, side);
	struct book_level *lv = calloc(n + 1, sizeof(*lv));
	char p[FX_BUFSZ], s[FX_BUFSZ];
	int rc = -1;

	if (lv == NULL)
		return -1;
	n = book_copy_levels(b, side, lv, n);
	if (rp_add(l, "[") != 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		fx_format_price(lv[i].price, p);
		fx_format_size(lv[i].size, s);
		if (rp_reserve(l, 2 * FX_BUFSZ + 8) != 0)
			goto out;
		l->len += (size_t)snprintf(l->p + l->len, l->cap - l->len, "%s[\"%s\",\"%s\"]",
		    i > 0 ? "," : "", p, s);
	}
	rc = rp_add(l, "]");
out:
	free(lv);
	return rc;
}

/* Formats the line of the next instant from the current state. */
static int
rp_emit(struct rp_replay *rp)
{
	int64_t t = rp->at[rp->next];
	struct rp_line *l = &rp->lines[rp->next++];
	const struct rp_gap *g = rp_gap_at(rp->m, t);
	char at[GEN_TIME_BUFSZ];

	gen_time_rfc3339(t, at);
	if (rp_reserve(l, 512) != 0)
		return -1;
	l->len += (size_t)snprintf(l->p + l->len, l->cap - l->len, "{\"ticker\":\"%s\",\"at\":\"%s\",",
	    rp->m->ticker, at);
	if (g != NULL) {
		char a[GEN_TIME_BUFSZ], b[GEN_TIME_BUFSZ + 2];

		gen_time_rfc3339(g->start, a);
		if (g->end == INT64_MAX) {
			snprintf(b, sizeof(b), "null");
		} else {
			char e[GEN_TIME_BUFSZ];

			gen_time_rfc3339(g->end, e);
			snprintf(b, sizeof(b), "\"%s\"", e);
		}
		l->len += (size_t)snprintf(l->p + l->len, l->cap - l->len,
		    "\"complete\":false,\"reason\":\"gap\",\"gap_start\":\"%s\",\"gap_end\":%s,"
		    "\"yes\":[],\"no\":[]}", a, b);
		return 0;
	}
	if (!rp->covered)
		return rp_add(l, "\"complete\":false,\"reason\":\"no_coverage\",\"yes\":[],\"no\":[]}");
	if (t > rp->m->through)
		return rp_add(l, "\"complete\":false,\"reason\":\"not_yet_recorded\",\"yes\":[],\"no\":[]}");
	if (rp_add(l, "\"complete\":true,\"yes\":") != 0 ||
	    rp_levels_json(l, rp->book, BOOK_YES) != 0 || rp_add(l, ",\"no\":") != 0 ||
	    rp_levels_json(l, rp->book, BOOK_NO) != 0 || rp_add(l, "}") != 0)
		return -1;
	return 0;
}

static int
rp_replay_row(void *ctx, const struct rp_row *row)
{
	struct rp_replay *rp = ctx;
	enum book_err e;

	while (rp->next < rp->nat && rp->at[rp->next] < row->ts)
		if (rp_emit(rp) != 0)
			return -1;
	if (rp->next == rp->nat)
		return -1; /* nothing left to answer: stop reading */
	switch (row->kind) {
	case RP_SNAPSHOT:
		book_free(rp->book);
		if ((rp->book = book_clone(row->cp)) == NULL)
			return -1;
		rp->covered = true;
		break;
	case RP_DELTA:
		if (!rp->covered) {
			rp->uncovered++;
			break;
		}
		if ((e = book_apply_delta(rp->book, row->side, row->price, row->delta)) != BOOK_OK) {
			fprintf(stderr, "kbook-gen: %s: the delta at %lld (side %d, price %lld, %lld) "
			    "does not apply: %s\n", rp->m->ticker, (long long)row->ts, (int)row->side,
			    (long long)row->price, (long long)row->delta, book_strerror(e));
			return -1;
		}
		break;
	case RP_PERIODIC:
		break;
	}
	return 0;
}

struct rp_at {
	int64_t t;
	size_t i;
};

static int
rp_at_cmp(const void *a, const void *b)
{
	const struct rp_at *x = a, *y = b;

	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

/* Answers instants at[0..n) (any order) for ticker, one line each in the given order. */
static int
rp_answer(struct db *db, const char *ticker, const int64_t *at, size_t n)
{
	struct rp_market m = { 0 };
	struct rp_replay rp = { 0 };
	struct rp_at *ord = NULL;
	int64_t *sorted = NULL;
	char upto[GEN_TIME_BUFSZ];
	int status = 1;

	if (rp_market(db, ticker, &m) != 0)
		goto out;
	if ((ord = calloc(n + 1, sizeof(*ord))) == NULL ||
	    (sorted = calloc(n + 1, sizeof(*sorted))) == NULL ||
	    (rp.lines = calloc(n + 1, sizeof(*rp.lines))) == NULL)
		goto out;
	for (size_t i = 0; i < n; i++) {
		ord[i].t = at[i];
		ord[i].i = i;
	}
	qsort(ord, n, sizeof(*ord), rp_at_cmp);
	for (size_t i = 0; i < n; i++)
		sorted[i] = ord[i].t;
	rp.m = &m;
	rp.at = sorted;
	rp.nat = n;
	if ((rp.book = book_new(1000000)) == NULL)
		goto out;
	gen_time_pg(sorted[n - 1], upto);
	if (rp_stream(db, &m, upto, false, rp_replay_row, &rp) != 0 && rp.next < rp.nat)
		goto out;
	while (rp.next < rp.nat)
		if (rp_emit(&rp) != 0)
			goto out;
	if (rp.uncovered > 0)
		log_warnx("%s: %lld deltas before the first snapshot were ignored", m.ticker,
		    (long long)rp.uncovered);
	for (size_t i = 0; i < n; i++) {
		/* lines[k] answers sorted[k]; print them in the order they were asked */
		size_t k = 0;

		while (ord[k].i != i)
			k++;
		fwrite(rp.lines[k].p, 1, rp.lines[k].len, stdout);
		fputc('\n', stdout);
	}
	status = fflush(stdout) == 0 ? 0 : 1;
out:
	if (rp.lines != NULL)
		for (size_t i = 0; i < n; i++)
			free(rp.lines[i].p);
	free(rp.lines);
	book_free(rp.book);
	free(ord);
	free(sorted);
	free(m.gaps);
	return status;
}

int
gen_replay(const struct gen_opts *o, struct db *db)
{
	return rp_answer(db, o->ticker, &o->at, 1);
}

int
gen_replay_all(const struct gen_opts *o, struct db *db)
{
	FILE *f;
	char line[128];
	int64_t *at = NULL, *nat;
	size_t n = 0, cap = 0, lineno = 0;
	int status = 1;

	if ((f = fopen(o->at_list, "r")) == NULL) {
		fprintf(stderr, "kbook-gen: --at-list %s: %s\n", o->at_list, strerror(errno));
		return 2;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		size_t len = strcspn(line, "\r\n");

		lineno++;
		line[len] = '\0';
		if (len == 0)
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 256;
			if ((nat = realloc(at, cap * sizeof(*at))) == NULL)
				goto out;
			at = nat;
		}
		if (gen_time_parse(line, &at[n]) != 0) {
			fprintf(stderr, "kbook-gen: --at-list %s line %zu: \"%s\" is not an instant "
			    "(RFC 3339 or unix s/ms/us)\n", o->at_list, lineno, line);
			status = 2;
			goto out;
		}
		n++;
	}
	if (n == 0) {
		fprintf(stderr, "kbook-gen: --at-list %s holds no instant\n", o->at_list);
		status = 2;
		goto out;
	}
	status = rp_answer(db, o->ticker, at, n);
out:
	fclose(f);
	free(at);
	return status;
}

/* ---- --verify ----------------------------------------------------------------------------------- */

struct rp_verify {
	const struct rp_market *m;
	struct book *book;
	bool covered;
	int64_t deltas, snapshots, periodic, mismatches, errors;
};

static void
rp_problem(struct rp_verify *v, int64_t *counter, const char *what, int64_t ts)
{
	(*counter)++;
	if (v->mismatches + v->errors <= 10) {
		char t[GEN_TIME_BUFSZ];

		gen_time_rfc3339(ts, t);
		fprintf(stderr, "kbook-gen: %s at %s: %s\n", v->m->ticker, t, what);
	}
}

static int
rp_verify_row(void *ctx, const struct rp_row *row)
{
	struct rp_verify *v = ctx;
	const struct rp_gap *g = rp_gap_at(v->m, row->ts);

	switch (row->kind) {
	case RP_SNAPSHOT:
		v->snapshots++;
		if (g != NULL)
			rp_problem(v, &v->errors, "snapshot inside a gap", row->ts);
		for (size_t i = 0; i < v->m->ngaps; i++) {
			const struct rp_gap *e = &v->m->gaps[i];

			if (e->end == row->ts && v->covered && !e->diverged_null &&
			    e->diverged == book_equal(v->book, row->cp))
				rp_problem(v, &v->mismatches, "gap's diverged flag does not match "
				    "the books before and after it", row->ts);
		}
		book_free(v->book);
		if ((v->book = book_clone(row->cp)) == NULL)
			return -1;
		v->covered = true;
		break;
	case RP_DELTA:
		v->deltas++;
		if (!v->covered) {
			rp_problem(v, &v->errors, "delta before the first snapshot", row->ts);
			break;
		}
		if (g != NULL)
			rp_problem(v, &v->errors, "delta inside a gap", row->ts);
		if (book_apply_delta(v->book, row->side, row->price, row->delta) != BOOK_OK)
			rp_problem(v, &v->errors, "delta does not apply (negative level or bad price)",
			    row->ts);
		break;
	case RP_PERIODIC:
		v->periodic++;
		if (!v->covered)
			rp_problem(v, &v->errors, "periodic checkpoint before the first snapshot",
			    row->ts);
		else if (!book_equal(v->book, row->cp))
			rp_problem(v, &v->mismatches, "periodic checkpoint differs from the replay",
			    row->ts);
		break;
	}
	return 0;
}

/*
 * Verifies one market; adds its counts to *sum when not NULL. Prints the market's line when
 * print or when it failed. Returns 0 (all right), 1 (mismatch, error, no such market) or -1.
 */
static int
rp_verify_one(struct db *db, const char *ticker, bool print, struct rp_verify *sum)
{
	struct rp_market m = { 0 };
	struct rp_verify v = { 0 };
	int rc;

	if ((rc = rp_market(db, ticker, &m)) != 0)
		goto out;
	v.m = &m;
	rc = -1;
	if ((v.book = book_new(1000000)) == NULL)
		goto out;
	if (rp_stream(db, &m, "infinity", true, rp_verify_row, &v) != 0)
		goto out;
	rc = v.mismatches + v.errors > 0 ? 1 : 0;
	if (print || rc != 0)
		printf("{\"ticker\":\"%s\",\"deltas\":%lld,\"snapshots\":%lld,\"periodic\":%lld,"
		    "\"gaps\":%zu,\"mismatches\":%lld,\"errors\":%lld,\"ok\":%s}\n", m.ticker,
		    (long long)v.deltas, (long long)v.snapshots, (long long)v.periodic, m.ngaps,
		    (long long)v.mismatches, (long long)v.errors, rc == 0 ? "true" : "false");
	if (sum != NULL) {
		sum->deltas += v.deltas;
		sum->snapshots += v.snapshots;
		sum->periodic += v.periodic;
		sum->mismatches += v.mismatches;
		sum->errors += v.errors;
	}
out:
	book_free(v.book);
	free(m.gaps);
	return rc;
}

int
gen_verify(const struct gen_opts *o, struct db *db)
{
	return rp_verify_one(db, o->ticker, true, NULL) == 0 ? 0 : 1;
}

int
gen_verify_all(const struct gen_opts *o, struct db *db)
{
	char pfx[GEN_PREFIX_MAX + 2];
	const char *params[1] = { pfx };
	struct rp_verify sum = { 0 };
	PGresult *res;
	int64_t failed = 0;
	int status = 1;

	snprintf(pfx, sizeof(pfx), "%s-", o->prefix);
	if ((res = db_exec_sql(db, rp_prefix_sql, 1, params)) == NULL)
		return 1;
	for (int i = 0; i < PQntuples(res); i++) {
		int rc = rp_verify_one(db, PQgetvalue(res, i, 0), false, &sum);

		if (rc < 0)
			goto out;
		failed += rc;
	}
	printf("{\"prefix\":\"%s\",\"markets\":%d,\"failed\":%lld,\"deltas\":%lld,"
	    "\"snapshots\":%lld,\"periodic\":%lld,\"mismatches\":%lld,\"errors\":%lld}\n",
	    o->prefix, PQntuples(res), (long long)failed, (long long)sum.deltas,
	    (long long)sum.snapshots, (long long)sum.periodic, (long long)sum.mismatches,
	    (long long)sum.errors);
	status = failed == 0 && PQntuples(res) > 0 ? 0 : 1;
out:
	PQclear(res);
	return status;
}

/* ---- --delete ----------------------------------------------------------------------------------- */

int
gen_delete(const struct gen_opts *o, struct db *db)
{
	char pfx[GEN_PREFIX_MAX + 2];
	const char *params[1] = { pfx };
	struct db_tx tx = { 0 };
	char counts[4][24];
	PGresult *res;
	int status = 1;

	snprintf(pfx, sizeof(pfx), "%s-", o->prefix);
	if (db_begin(db, &tx) != 0)
		goto out;
	for (size_t i = 0; i < 4; i++) {
		if ((res = db_exec_sql(db, rp_delete_sql[i], 1, params)) == NULL)
			goto out;
		snprintf(counts[i], sizeof(counts[i]), "%s", PQcmdTuples(res));
		PQclear(res);
	}
	if (db_commit(&tx) != 0)
		goto out;
	printf("{\"prefix\":\"%s\",\"deleted\":{", o->prefix);
	for (size_t i = 0; i < 4; i++)
		printf("%s\"%s\":%s", i > 0 ? "," : "", rp_delete_names[i], counts[i]);
	printf("}}\n");
	status = 0;
out:
	db_end(&tx);
	return status;
}
