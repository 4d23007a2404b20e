/*
 * recon: see recon.h. All SQL is constant with $n parameters. Instants go to Postgres as RFC 3339
 * text with 6 fractional digits (a timestamptz parameter: exact, and planned with its value, where
 * kb_ts($n) of a constant would run the SQL-function executor at every plan) and come back as
 * integer microseconds (kb_us, inlined), so no precision is lost.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixed.h"
#include "ktime.h"
#include "log.h"
#include "api.h"
#include "checkpoint.h"
#include "daypart.h"
#include "recon.h"

static struct db_stmt q_market = DB_STMT("recon_market",
    "SELECT m.id, m.ticker, m.notional, " SQL_US("m.first_ts") ", " SQL_US("m.last_ts") ", "
    RECON_THROUGH_COLS " FROM markets m LEFT JOIN recorded_through r ON true WHERE m.ticker = $1", 1);
static struct db_stmt q_checkpoint = DB_STMT("recon_checkpoint",
    "SELECT " SQL_US("ts") ", source, yes_prices, yes_sizes, no_prices, no_sizes"
    " FROM book_checkpoints WHERE market_id = $1 AND ts <= $2::timestamptz"
    " ORDER BY ts DESC LIMIT 1", 2);
/* Market, latest checkpoint at or before $2 and the gap covering $2, in one round trip. */
static struct db_stmt q_at = DB_STMT("recon_at",
    "SELECT " RECON_AT_COLS RECON_AT_FROM("book_checkpoints") " WHERE m.ticker = $1", 2);
static struct db_stmt q_deltas_after = DB_STMT("recon_deltas_after",
    "SELECT " SQL_US("ts") ", side, price, delta FROM book_deltas"
    " WHERE market_id = $1 AND ts > $2::timestamptz AND ts <= $3::timestamptz ORDER BY ts", 3);

static int64_t
val_i64(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? RECON_NONE : strtoll(PQgetvalue(res, row, col), NULL, 10);
}

int
recon_market(struct db *db, const char *ticker, struct recon_market *out)
{
	const char *params[] = { ticker };
	PGresult *res = db_exec(db, &q_market, params);
	int rc = -1;

	if (res == NULL)
		return -1;
	if (PQntuples(res) == 0) {
		rc = 0;
		goto out;
	}
	out->id = val_i64(res, 0, 0);
	snprintf(out->ticker, sizeof(out->ticker), "%s", PQgetvalue(res, 0, 1));
	out->notional = val_i64(res, 0, 2);
	out->first_ts = val_i64(res, 0, 3);
	out->last_ts = val_i64(res, 0, 4);
	out->through = val_i64(res, 0, 5);
	out->final = PQgetvalue(res, 0, 6)[0] == 't';
	rc = 1;
out:
	PQclear(res);
	return rc;
}

bool
recon_not_yet_recorded(const struct recon_market *m, int64_t at)
{
	return !m->final && (m->through == RECON_NONE || at > m->through);
}

bool
recon_req_market(struct req *req, struct recon_market *out)
{
	int found = recon_market(req->db, req->captures[0], out);

	if (found == 0)
		req_send_error(req, ERR_MARKET_NOT_FOUND, "no market '%.200s'", req->captures[0]);
	else if (found < 0)
		req_send_error(req, ERR_SERVICE_UNAVAILABLE, "database unavailable");
	return found == 1;
}

/* Loads the checkpoint of row r (columns from col) into st; returns 0 or -1. */
static int
load_checkpoint_row(const PGresult *res, int r, int col, int64_t market_id, struct recon_state *st)
{
	st->checkpoint_ts = val_i64(res, r, col);
	st->last_change = st->checkpoint_ts;
	snprintf(st->checkpoint_source, sizeof(st->checkpoint_source), "%s", PQgetvalue(res, r, col + 1));
	if (checkpoint_load(st->book, PQgetvalue(res, r, col + 2), PQgetvalue(res, r, col + 3),
	    PQgetvalue(res, r, col + 4), PQgetvalue(res, r, col + 5)) != 0) {
		log_errorx("market %lld: malformed checkpoint at %lld", (long long)market_id,
		    (long long)st->checkpoint_ts);
		return -1;
	}
	return 0;
}

/* Applies the deltas of market_id after st's checkpoint up to at. Returns 0 or -1. */
static int
apply_deltas(struct db *db, int64_t market_id, int64_t at, struct recon_state *st)
{
	char id[24], from[KT_BUFSZ], t[KT_BUFSZ];
	const char *params[] = { id, from, t };
	PGresult *res;
	bool use_parent;

	snprintf(id, sizeof(id), "%lld", (long long)market_id);
	kt_format(st->checkpoint_ts, from);
	kt_format(at, t);
	res = daypart_deltas(db, st->checkpoint_ts, at, params, &use_parent);
	if (res == NULL && use_parent)
		res = db_exec(db, &q_deltas_after, params);
	if (res == NULL)
		return -1;
	for (int i = 0; i < PQntuples(res); i++) {
		enum book_side side = PQgetvalue(res, i, 1)[0] == '0' ? BOOK_YES : BOOK_NO;

		if (book_apply_delta(st->book, side, val_i64(res, i, 2), val_i64(res, i, 3)) != BOOK_OK)
			st->inconsistent = true;
		st->last_change = val_i64(res, i, 0);
		st->deltas_applied++;
	}
	PQclear(res);
	return 0;
}

static int
state_init(struct recon_state *st, int64_t notional)
{
	memset(st, 0, sizeof(*st));
	st->checkpoint_ts = RECON_NONE;
	st->last_change = RECON_NONE;
	return (st->book = book_new(notional)) != NULL ? 0 : -1;
}

int
recon_book_at(struct db *db, const struct recon_market *m, int64_t at, struct recon_state *st)
{
	char id[24], t[KT_BUFSZ];
	const char *params[] = { id, t };
	PGresult *res = NULL;
	int rc = -1;

	if (state_init(st, m->notional) != 0)
		return -1;
	snprintf(id, sizeof(id), "%lld", (long long)m->id);
	kt_format(at, t);
	if ((res = db_exec(db, &q_checkpoint, params)) == NULL)
		goto out;
	if (PQntuples(res) == 0) {
		rc = 0; /* before coverage: an empty book */
		goto out;
	}
	if (load_checkpoint_row(res, 0, 0, m->id, st) != 0)
		goto out;
	rc = apply_deltas(db, m->id, at, st);
out:
	PQclear(res);
	return rc;
}

/* Applies the rows of daypart_book's columns (at col: "side,price,delta;..." and the last
 * row's ts) to st. */
static void
apply_rows(const PGresult *res, int col, struct recon_state *st)
{
	bool broken = false;
	long n = book_apply_text(st->book, PQgetvalue(res, 0, col), &broken);

	st->deltas_applied += n;
	if (n > 0)
		st->last_change = val_i64(res, 0, col + 1);
	if (broken)
		st->inconsistent = true;
}

void
recon_orderbook_call(struct db *db, const char *ticker, int64_t at, struct db_call *call,
    char buf[2][32])
{
	struct db_stmt *st = daypart_book_stmt(db, at);

	kt_format(at, buf[0]);
	kt_format(daypart_day(at) * DAYPART_DAY_US, buf[1]);
	call->stmt = st != NULL ? st : &q_at;
	call->params[0] = ticker;
	call->params[1] = buf[0];
	call->params[2] = buf[1];
	call->res = NULL;
}

int
recon_orderbook(struct db *db, const char *ticker, int64_t at, struct recon_market *m,
    struct recon_state *st, struct recon_gap *gap, struct db_call *pre)
{
	char t[KT_BUFSZ], day[KT_BUFSZ];
	const char *params[] = { ticker, t, day };
	PGresult *res;
	bool fallback = false, whole_day;
	int rc = -1;

	memset(st, 0, sizeof(*st));
	memset(gap, 0, sizeof(*gap));
	if (pre != NULL && pre->res != NULL) {
		/* run ahead, together with the charge */
		res = pre->res;
		pre->res = NULL;
		fallback = pre->stmt == &q_at;
	} else {
		/* the common case: one statement on the day's partition */
		kt_format(at, t);
		kt_format(daypart_day(at) * DAYPART_DAY_US, day);
		res = daypart_book(db, at, params, &fallback);
		if (res == NULL && fallback)
			res = db_exec(db, &q_at, params);
	}
	if (res == NULL)
		return -1;
	whole_day = !fallback;
	if (whole_day && PQntuples(res) == 1 && PQgetisnull(res, 0, 5) && !PQgetisnull(res, 0, 3) &&
	    val_i64(res, 0, 3) <= at) {
		/* no checkpoint in at's month before at, but coverage began earlier: the parent's */
		PQclear(res);
		kt_format(at, t);
		if ((res = db_exec(db, &q_at, params)) == NULL)
			return -1;
		whole_day = false;
	}
	if (PQntuples(res) == 0) {
		rc = 0;
		goto out;
	}
	m->id = val_i64(res, 0, 0);
	snprintf(m->ticker, sizeof(m->ticker), "%s", PQgetvalue(res, 0, 1));
	m->notional = val_i64(res, 0, 2);
	m->first_ts = val_i64(res, 0, 3);
	m->last_ts = val_i64(res, 0, 4);
	m->through = val_i64(res, 0, 14);
	m->final = PQgetvalue(res, 0, 15)[0] == 't';
	if (!PQgetisnull(res, 0, 11)) {
		gap->found = true;
		gap->start = val_i64(res, 0, 11);
		gap->end = val_i64(res, 0, 12);
		snprintf(gap->reason, sizeof(gap->reason), "%s", PQgetvalue(res, 0, 13));
	}
	if (state_init(st, m->notional) != 0)
		goto out;
	if (PQgetisnull(res, 0, 5)) {
		rc = 1; /* before coverage: an empty book */
		goto out;
	}
	if (load_checkpoint_row(res, 0, 5, m->id, st) != 0)
		goto out;
	if (whole_day && daypart_day(st->checkpoint_ts) == daypart_day(at))
		apply_rows(res, 16, st);
	else if (apply_deltas(db, m->id, at, st) != 0)
		goto out;
	rc = 1;
out:
	PQclear(res);
	return rc;
}

void
recon_state_free(struct recon_state *st)
{
	book_free(st->book);
	st->book = NULL;
}

/* A side's levels, copied out of the book; json-c writes them through side_write. */
struct side_levels {
	size_t n;
	struct book_level lv[];
};

/* json-c's serializer of a side: [["0.4500","13815.66"],...] written straight into the output.
 * Built as json-c arrays of strings, a level cost five allocations and frees, and the book's
 * levels were a tenth of kbook-api's time on the long histories of the API bench. The strings are
 * digits, '.' and '-': nothing to escape. */
static int
side_write(struct json_object *o, struct printbuf *pb, int level, int flags)
{
	const struct side_levels *s = json_object_get_userdata(o);

	(void)level;
	(void)flags;
	printbuf_memappend_fast(pb, "[", 1);
	for (size_t i = 0; i < s->n; i++) {
		char buf[2 * FX_BUFSZ + 8], *q = buf;

		if (i > 0)
			*q++ = ',';
		memcpy(q, "[\"", 2);
		q += 2;
		q += fx_format_price(s->lv[i].price, q);
		memcpy(q, "\",\"", 3);
		q += 3;
		q += fx_format_size(s->lv[i].size, q);
		memcpy(q, "\"]", 2);
		q += 2;
		printbuf_memappend_fast(pb, buf, (int)(q - buf));
	}
	printbuf_memappend_fast(pb, "]", 1);
	return 0;
}

static struct json_object *
side_json(const struct book *b, enum book_side side, int depth)
{
	size_t n = book_levels(b, side), max = depth > 0 && (size_t)depth < n ? (size_t)depth : n;
	struct side_levels *s = malloc(sizeof(*s) + (max > 0 ? max : 1) * sizeof(s->lv[0]));
	struct json_object *arr = json_object_new_array();

	if (s == NULL || arr == NULL) {
		free(s);
		return arr;
	}
	s->n = book_copy_levels(b, side, s->lv, max);
	json_object_set_serializer(arr, side_write, s, json_object_free_userdata);
	return arr;
}

struct json_object *
recon_levels_json(const struct book *b, int depth)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "yes_dollars", side_json(b, BOOK_YES, depth));
	json_object_object_add(o, "no_dollars", side_json(b, BOOK_NO, depth));
	return o;
}

static struct json_object *
best_json(bool ok, const struct book_level *l)
{
	struct json_object *o;
	char p[FX_BUFSZ], s[FX_BUFSZ];

	if (!ok)
		return NULL;
	o = json_object_new_object();
	fx_format_price(l->price, p);
	fx_format_size(l->size, s);
	json_object_object_add(o, "price", json_object_new_string(p));
	json_object_object_add(o, "size", json_object_new_string(s));
	return o;
}

struct json_object *
recon_best_json(const struct book *b)
{
	struct json_object *o = json_object_new_object();
	struct book_level l;
	bool ok;

	ok = book_best_bid(b, BOOK_YES, &l);
	json_object_object_add(o, "yes_bid", best_json(ok, &l));
	ok = book_best_ask(b, BOOK_YES, &l);
	json_object_object_add(o, "yes_ask", best_json(ok, &l));
	ok = book_best_bid(b, BOOK_NO, &l);
	json_object_object_add(o, "no_bid", best_json(ok, &l));
	ok = book_best_ask(b, BOOK_NO, &l);
	json_object_object_add(o, "no_ask", best_json(ok, &l));
	return o;
}

struct json_object *
recon_time_json(int64_t us)
{
	char buf[KT_BUFSZ];

	if (us == RECON_NONE)
		return NULL;
	kt_format(us, buf);
	return json_object_new_string(buf);
}
