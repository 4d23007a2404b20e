/*
 * h_deltas: GET /v1/markets/{ticker}/deltas?start=&end=&cursor=&limit=&format=json|csv
 *
 * Every recorded change of one market in [start, end], in ts order, a page at a time. ts is
 * unique per market, so the cursor (the last ts returned) continues exactly after the last row:
 * no row is skipped or repeated, however many rows share a page boundary. The gaps overlapping the
 * range are listed with the page so that a missing stretch is never silent.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixed.h"
#include "ktime.h"
#include "daypart.h"
#include "recon.h"
#include "route.h"

/* Through the parent, unprepared: a prepared statement with a LIMIT gets a generic plan, which
 * locks and opens every daily partition; an unnamed one is planned for its range each time. */
static const char q_page_sql[] =
    "SELECT " SQL_US("ts") ", " SQL_US("exchange_ts") ", side, price, delta FROM book_deltas"
    " WHERE market_id = $1 AND ts >= $2::timestamptz AND ts <= $3::timestamptz"
    " AND ts > $4::timestamptz ORDER BY ts LIMIT $5::int + 1";
/* The same on one day's partition, prepared once per day (lib/daypart). */
static struct daypart q_page_day = DAYPART(
    "SELECT kb_us(ts), kb_us(exchange_ts), side, price, delta FROM " DAYPART_DELTAS
    " WHERE market_id = $1 AND ts >= $2::timestamptz AND ts <= $3::timestamptz"
    " AND ts > $4::timestamptz ORDER BY ts LIMIT $5::int + 1", 5);
static struct db_stmt q_gaps = DB_STMT("dl_gaps",
    "SELECT " SQL_US("start_ts") ", " SQL_US("end_ts") ", reason FROM gaps"
    " WHERE market_id = $1 AND start_ts <= $3::timestamptz"
    " AND (end_ts IS NULL OR end_ts >= $2::timestamptz) ORDER BY start_ts LIMIT 1000", 3);

/*
 * A page gathered from up to PAGE_DAYS day partitions read one after the other (each a prepared
 * statement with a cached plan), then, if rows are still missing, the parent for the rest of the
 * range (planned for it, whatever its length).
 */
#define PAGE_DAYS 31
struct page {
	PGresult *part[PAGE_DAYS + 1];
	int nparts, n;
};

static void
page_free(struct page *pg)
{
	for (int i = 0; i < pg->nparts; i++)
		PQclear(pg->part[i]);
	pg->nparts = pg->n = 0;
}

/* The result and row of the page's row i. */
static const PGresult *
page_row(const struct page *pg, int i, int *row)
{
	for (int k = 0; k < pg->nparts; k++) {
		if (i < PQntuples(pg->part[k])) {
			*row = i;
			return pg->part[k];
		}
		i -= PQntuples(pg->part[k]);
	}
	*row = 0;
	return NULL;
}

static void
page_add(struct page *pg, PGresult *res)
{
	pg->part[pg->nparts++] = res;
	pg->n += PQntuples(res);
}

/* Fills pg with up to max + 1 rows of market id in [t_start, t_end] after `after`. 0 or -1. */
static int
page_fetch(struct db *db, const char *id, int64_t t_start, int64_t t_end, int64_t after, int max,
    struct page *pg)
{
	char start[KT_BUFSZ], end[KT_BUFSZ], aft[KT_BUFSZ], limit[16];
	const char *params[] = { id, start, end, aft, limit };
	int64_t from = after >= t_start ? after + 1 : t_start;
	int64_t day = daypart_day(from);
	PGresult *res;
	bool fallback = false;

	kt_format(t_start, start);
	kt_format(t_end, end);
	kt_format(after, aft);
	while (pg->n <= max && day <= daypart_day(t_end) && pg->nparts < PAGE_DAYS) {
		snprintf(limit, sizeof(limit), "%d", max - pg->n);
		if ((res = daypart_exec(db, &q_page_day, day, params, &fallback)) == NULL)
			break;
		page_add(pg, res);
		day++;
	}
	if (pg->n > max || day > daypart_day(t_end))
		return 0;
	if (!fallback && pg->nparts < PAGE_DAYS)
		return -1; /* a database error */
	/* the rest of the range, from the first day not read, through the parent */
	if (day * DAYPART_DAY_US > t_start)
		kt_format(day * DAYPART_DAY_US, start);
	snprintf(limit, sizeof(limit), "%d", max - pg->n);
	if ((res = db_exec_sql(db, q_page_sql, 5, params)) == NULL)
		return -1;
	page_add(pg, res);
	return 0;
}

static void
fmt_time(const PGresult *res, int r, int c, char buf[KT_BUFSZ])
{
	if (PQgetisnull(res, r, c))
		buf[0] = '\0';
	else
		kt_format(strtoll(PQgetvalue(res, r, c), NULL, 10), buf);
}

static struct json_object *
gaps_json(const PGresult *g)
{
	struct json_object *arr = json_object_new_array();

	for (int r = 0; r < PQntuples(g); r++) {
		struct json_object *o = json_object_new_object();
		char t[KT_BUFSZ];

		fmt_time(g, r, 0, t);
		json_object_object_add(o, "start", json_object_new_string(t));
		fmt_time(g, r, 1, t);
		json_object_object_add(o, "end", t[0] != '\0' ? json_object_new_string(t) : NULL);
		json_object_object_add(o, "reason", json_object_new_string(PQgetvalue(g, r, 2)));
		json_object_array_add(arr, o);
	}
	return arr;
}

void
h_deltas(struct req *req)
{
	const struct req_arg *a_start = req_arg(req, "start"), *a_end = req_arg(req, "end");
	const struct req_arg *a_cur = req_arg(req, "cursor"), *a_lim = req_arg(req, "limit");
	bool csv = req_wants_csv(req);
	struct bookq_market m;
	char id[24], start[KT_BUFSZ], end[KT_BUFSZ], cursor[CURSOR_BUFSZ];
	const char *params[] = { id, start, end };
	struct page pg = { .nparts = 0 };
	const PGresult *res;
	PGresult *gaps = NULL;
	int n, r, max = a_lim->set ? (int)a_lim->i : 1000;
	int64_t t_start = a_start->set ? a_start->i : 0, t_end = a_end->set ? a_end->i : kt_now();
	char *buf = NULL;
	size_t len = 0;
	FILE *out = NULL;

	if (t_end < t_start) {
		req_send_error(req, ERR_INVALID_PARAMETER, "parameter 'end' is before 'start'");
		return;
	}
	if (!recon_req_market(req, &m))
		return;
	if (!a_start->set && m.first_ts != BOOKQ_NONE)
		t_start = m.first_ts;
	snprintf(id, sizeof(id), "%lld", (long long)m.id);
	kt_format(t_start, start);
	kt_format(t_end, end);
	/* no row lies after the market's last recorded instant: the days after it are not read */
	if (page_fetch(req->db, id, t_start,
	    m.last_ts != BOOKQ_NONE && m.last_ts < t_end ? m.last_ts : t_end,
	    a_cur->set ? a_cur->i : -1, max, &pg) != 0 ||
	    (gaps = db_exec(req->db, &q_gaps, params)) == NULL) {
		req_send_error(req, ERR_SERVICE_UNAVAILABLE, "database unavailable");
		goto out;
	}
	n = pg.n;
	if (n > max) {
		res = page_row(&pg, max - 1, &r);
		cursor_encode(req, strtoll(PQgetvalue(res, r, 0), NULL, 10), cursor);
	}
	if ((out = open_memstream(&buf, &len)) == NULL) {
		req_send_error(req, ERR_INTERNAL, "out of memory");
		goto out;
	}
	if (csv) {
		fputs("ts,exchange_ts,side,price,delta\r\n", out);
		for (int i = 0; i < n && i < max; i++) {
			char ts[KT_BUFSZ], xts[KT_BUFSZ], p[FX_BUFSZ], d[FX_BUFSZ];

			res = page_row(&pg, i, &r);
			fmt_time(res, r, 0, ts);
			fmt_time(res, r, 1, xts);
			fx_format_price(strtoll(PQgetvalue(res, r, 3), NULL, 10), p);
			fx_format_size(strtoll(PQgetvalue(res, r, 4), NULL, 10), d);
			fprintf(out, "%s,%s,%s,%s,%s\r\n", ts, xts,
			    PQgetvalue(res, r, 2)[0] == '0' ? "yes" : "no", p, d);
		}
		fclose(out);
		out = NULL;
		if (n > max)
			req_add_header(req, "X-Next-Cursor", cursor);
		req_send_body(req, 200, "text/csv", buf, len);
	} else {
		struct json_object *root = json_object_new_object(), *arr = json_object_new_array_ext(n);

		fclose(out);
		out = NULL;
		for (int i = 0; i < n && i < max; i++) {
			struct json_object *o = json_object_new_object();
			char ts[KT_BUFSZ], xts[KT_BUFSZ], p[FX_BUFSZ], d[FX_BUFSZ];

			res = page_row(&pg, i, &r);
			fmt_time(res, r, 0, ts);
			fmt_time(res, r, 1, xts);
			fx_format_price(strtoll(PQgetvalue(res, r, 3), NULL, 10), p);
			fx_format_size(strtoll(PQgetvalue(res, r, 4), NULL, 10), d);
			json_object_object_add(o, "ts", json_object_new_string(ts));
			json_object_object_add(o, "exchange_ts", xts[0] != '\0' ? json_object_new_string(xts) : NULL);
			json_object_object_add(o, "side",
			    json_object_new_string(PQgetvalue(res, r, 2)[0] == '0' ? "yes" : "no"));
			json_object_object_add(o, "price_dollars", json_object_new_string(p));
			json_object_object_add(o, "delta_fp", json_object_new_string(d));
			json_object_array_add(arr, o);
		}
		json_object_object_add(root, "market_ticker", json_object_new_string(m.ticker));
		json_object_object_add(root, "start", recon_time_json(t_start));
		json_object_object_add(root, "end", recon_time_json(t_end));
		json_object_object_add(root, "deltas", arr);
		json_object_object_add(root, "gaps", gaps_json(gaps));
		json_object_object_add(root, "next_cursor", n > max ? json_object_new_string(cursor) : NULL);
		req_send_json(req, 200, root);
	}
out:
	if (out != NULL)
		fclose(out);
	free(buf);
	page_free(&pg);
	PQclear(gaps);
}
