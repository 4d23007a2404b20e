/*
 * h_samples: GET /v1/markets/{ticker}/orderbooks?start=&end=&interval=&depth=&cursor=&format=
 *
 * The book sampled every interval seconds from start to end, at most SAMPLES_MAX samples a page
 * (next_cursor continues). Computed in one pass: the book is rebuilt once at the first sample,
 * then the deltas up to the last sample are applied in order, emitting the book at each sample
 * instant. Exchange snapshots recorded inside the range (after a gap) reset the book, exactly as
 * a reconstruction at that instant would. A sample inside a gap, before coverage or after the
 * instant the record is known to hold (recorded through) is marked complete=false.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "fixed.h"
#include "ktime.h"
#include "recon.h"
#include "route.h"

#define SAMPLES_MAX 1000
#define US INT64_C(1000000)

static struct db_stmt q_deltas = DB_STMT("smp_deltas",
    "SELECT " SQL_US("ts") ", side, price, delta FROM book_deltas"
    " WHERE market_id = $1 AND ts > $2::timestamptz AND ts <= $3::timestamptz ORDER BY ts", 3);
static struct db_stmt q_snapshots = DB_STMT("smp_snapshots",
    "SELECT " SQL_US("ts") ", yes_prices, yes_sizes, no_prices, no_sizes FROM book_checkpoints"
    " WHERE market_id = $1 AND ts > $2::timestamptz AND ts <= $3::timestamptz"
    " AND source = 'snapshot' ORDER BY ts", 3);
static struct db_stmt q_gaps = DB_STMT("smp_gaps",
    "SELECT " SQL_US("start_ts") ", coalesce(" SQL_US("end_ts") ", 9223372036854775807) FROM gaps"
    " WHERE market_id = $1 AND start_ts <= $3::timestamptz"
    " AND (end_ts IS NULL OR end_ts > $2::timestamptz) ORDER BY start_ts", 3);

static int64_t
col(const PGresult *res, int r, int c)
{
	return strtoll(PQgetvalue(res, r, c), NULL, 10);
}

/* Is instant s recorded: after the first checkpoint and outside every gap? */
static bool
sample_complete(int64_t s, int64_t covered_from, const PGresult *gaps)
{
	if (covered_from == BOOKQ_NONE || s < covered_from)
		return false;
	for (int g = 0; g < PQntuples(gaps); g++)
		if (col(gaps, g, 0) <= s && s < col(gaps, g, 1))
			return false;
	return true;
}

static void
csv_side(FILE *out, const char *at, bool complete, const struct book *b, enum book_side side,
    int depth)
{
	size_t n = book_levels(b, side), max = depth > 0 && (size_t)depth < n ? (size_t)depth : n;
	struct book_level *lv = malloc((max > 0 ? max : 1) * sizeof(*lv));

	if (lv == NULL)
		return;
	n = book_copy_levels(b, side, lv, max);
	for (size_t i = 0; i < n; i++) {
		char p[FX_BUFSZ], s[FX_BUFSZ];

		fx_format_price(lv[i].price, p);
		fx_format_size(lv[i].size, s);
		fprintf(out, "%s,%s,%s,%s,%s\r\n", at, complete ? "true" : "false",
		    side == BOOK_YES ? "yes" : "no", p, s);
	}
	free(lv);
}

void
h_samples(struct req *req)
{
	const struct req_arg *a_cur = req_arg(req, "cursor"), *a_depth = req_arg(req, "depth");
	int64_t start = req_arg(req, "start")->i, end = req_arg(req, "end")->i;
	int64_t iv = req_arg(req, "interval")->i * US, first, last, covered_from, nsamples;
	bool csv = req_wants_csv(req);
	int depth = a_depth->set ? (int)a_depth->i : 0;
	struct bookq_market m, mb;
	struct bookq_state st = { 0 };
	struct bookq_gap gap;
	char id[24], from[KT_BUFSZ], to[KT_BUFSZ], cursor[CURSOR_BUFSZ];
	const char *params[] = { id, from, to };
	PGresult *deltas = NULL, *snaps = NULL, *gaps = NULL;
	struct json_object *root = NULL, *arr = NULL;
	char *buf = NULL;
	size_t len = 0;
	FILE *out = NULL;
	int di = 0, si = 0;
	bool inconsistent = false; /* a recorded delta drove a level below zero since the last snapshot */

	if (end < start) {
		req_send_error(req, ERR_INVALID_PARAMETER, "parameter 'end' is before 'start'");
		return;
	}
	first = a_cur->set ? a_cur->i : start;
	if (first < start || first > end || (first - start) % iv != 0) {
		req_send_error(req, ERR_INVALID_PARAMETER, "parameter 'cursor' does not belong to this range");
		return;
	}
	nsamples = (end - first) / iv + 1;
	if (nsamples > SAMPLES_MAX)
		nsamples = SAMPLES_MAX;
	last = first + (nsamples - 1) * iv;
	if (!recon_req_market(req, &m))
		return;
	snprintf(id, sizeof(id), "%lld", (long long)m.id);
	kt_format(first, from);
	kt_format(last, to);
	if (bookq_at(req->db, m.ticker, first, NULL, &mb, &st, &gap) != 1 ||
	    (deltas = db_exec(req->db, &q_deltas, params)) == NULL ||
	    (snaps = db_exec(req->db, &q_snapshots, params)) == NULL ||
	    (gaps = db_exec(req->db, &q_gaps, params)) == NULL) {
		req_send_error(req, ERR_SERVICE_UNAVAILABLE, "database unavailable");
		goto out;
	}
	covered_from = st.checkpoint_ts;
	inconsistent = st.inconsistent;
	if (csv) {
		if ((out = open_memstream(&buf, &len)) == NULL) {
			req_send_error(req, ERR_INTERNAL, "out of memory");
			goto out;
		}
		fputs("at,complete,side,price,size\r\n", out);
	} else {
		arr = json_object_new_array_ext((int)nsamples);
	}
	for (int64_t k = 0; k < nsamples; k++) {
		int64_t s = first + k * iv;
		char at[KT_BUFSZ];
		bool complete;

		/* everything recorded at or before s, snapshots and deltas merged by ts */
		for (;;) {
			int64_t dt = di < PQntuples(deltas) ? col(deltas, di, 0) : INT64_MAX;
			int64_t sn = si < PQntuples(snaps) ? col(snaps, si, 0) : INT64_MAX;

			if (sn <= s && sn <= dt) {
				inconsistent = checkpoint_load(st.book, PQgetvalue(snaps, si, 1),
				    PQgetvalue(snaps, si, 2), PQgetvalue(snaps, si, 3), PQgetvalue(snaps, si, 4)) != 0;
				if (covered_from == BOOKQ_NONE)
					covered_from = sn;
				si++;
			} else if (dt <= s) {
				if (book_apply_delta(st.book, PQgetvalue(deltas, di, 1)[0] == '0' ? BOOK_YES : BOOK_NO,
				    col(deltas, di, 2), col(deltas, di, 3)) != BOOK_OK)
					inconsistent = true;
				di++;
			} else {
				break;
			}
		}
		complete = !inconsistent && sample_complete(s, covered_from, gaps) &&
		    !bookq_not_yet_recorded(&m, s);
		kt_format(s, at);
		if (csv) {
			csv_side(out, at, complete, st.book, BOOK_YES, depth);
			csv_side(out, at, complete, st.book, BOOK_NO, depth);
		} else {
			struct json_object *o = json_object_new_object();

			json_object_object_add(o, "at", json_object_new_string(at));
			json_object_object_add(o, "complete", json_object_new_boolean(complete));
			json_object_object_add(o, "orderbook_fp", recon_levels_json(st.book, depth));
			json_object_object_add(o, "best", recon_best_json(st.book));
			json_object_array_add(arr, o);
		}
	}
	if (last + iv <= end)
		cursor_encode(req, last + iv, cursor);
	if (csv) {
		fclose(out);
		out = NULL;
		if (last + iv <= end)
			req_add_header(req, "X-Next-Cursor", cursor);
		req_send_body(req, 200, "text/csv", buf, len);
	} else {
		root = json_object_new_object();
		json_object_object_add(root, "market_ticker", json_object_new_string(m.ticker));
		json_object_object_add(root, "start", recon_time_json(start));
		json_object_object_add(root, "end", recon_time_json(end));
		json_object_object_add(root, "interval", json_object_new_int64(iv / US));
		json_object_object_add(root, "samples", arr);
		arr = NULL;
		json_object_object_add(root, "next_cursor",
		    last + iv <= end ? json_object_new_string(cursor) : NULL);
		req_send_json(req, 200, root);
	}
out:
	if (out != NULL)
		fclose(out);
	free(buf);
	json_object_put(arr);
	bookq_state_free(&st);
	PQclear(deltas);
	PQclear(snaps);
	PQclear(gaps);
}
