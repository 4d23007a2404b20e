/*
 * recon: see recon.h. All SQL is constant with $n parameters; instants cross the wire as integer
 * microseconds (kb_ts/kb_us in sql/003), so no precision is lost.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixed.h"
#include "ktime.h"
#include "log.h"
#include "recon.h"

static struct db_stmt q_market = DB_STMT("recon_market",
    "SELECT id, ticker, notional, kb_us(first_ts), kb_us(last_ts) FROM markets WHERE ticker = $1", 1);
static struct db_stmt q_gap_at = DB_STMT("recon_gap_at",
    "SELECT kb_us(start_ts), kb_us(end_ts), reason FROM gaps"
    " WHERE market_id = $1 AND start_ts <= kb_ts($2) AND (end_ts IS NULL OR end_ts > kb_ts($2))"
    " ORDER BY start_ts DESC LIMIT 1", 2);
static struct db_stmt q_checkpoint = DB_STMT("recon_checkpoint",
    "SELECT kb_us(ts), source, yes_prices, yes_sizes, no_prices, no_sizes FROM book_checkpoints"
    " WHERE market_id = $1 AND ts <= kb_ts($2) ORDER BY ts DESC LIMIT 1", 2);
static struct db_stmt q_deltas_after = DB_STMT("recon_deltas_after",
    "SELECT kb_us(ts), side, price, delta FROM book_deltas"
    " WHERE market_id = $1 AND ts > kb_ts($2) AND ts <= kb_ts($3) ORDER BY ts", 3);

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
	rc = 1;
out:
	PQclear(res);
	return rc;
}

int
recon_gap_at(struct db *db, int64_t market_id, int64_t at, struct recon_gap *out)
{
	char id[24], t[24];
	const char *params[] = { id, t };
	PGresult *res;

	snprintf(id, sizeof(id), "%lld", (long long)market_id);
	snprintf(t, sizeof(t), "%lld", (long long)at);
	memset(out, 0, sizeof(*out));
	if ((res = db_exec(db, &q_gap_at, params)) == NULL)
		return -1;
	if (PQntuples(res) == 1) {
		out->found = true;
		out->start = val_i64(res, 0, 0);
		out->end = val_i64(res, 0, 1);
		snprintf(out->reason, sizeof(out->reason), "%s", PQgetvalue(res, 0, 2));
	}
	PQclear(res);
	return 0;
}

/* Parses "{1,2,3}" into at most max integers; returns the count or -1. */
static long
parse_array(const char *s, int64_t *out, long max)
{
	long n = 0;
	char *end;

	if (*s++ != '{')
		return -1;
	if (*s == '}')
		return s[1] == '\0' ? 0 : -1;
	for (;;) {
		if (n == max)
			return -1;
		out[n++] = strtoll(s, &end, 10);
		if (end == s)
			return -1;
		s = end;
		if (*s == '}')
			return s[1] == '\0' ? n : -1;
		if (*s++ != ',')
			return -1;
	}
}

/* Parses one side's two arrays into levels (caller frees *out). Returns the count or -1. */
static long
parse_side(const char *prices, const char *sizes, struct book_level **out)
{
	long cap = 1, np, ns;
	int64_t *p = NULL, *s = NULL;
	struct book_level *lv = NULL;

	for (const char *c = prices; *c != '\0'; c++)
		cap += *c == ',';
	p = malloc((size_t)cap * sizeof(*p));
	s = malloc((size_t)cap * sizeof(*s));
	lv = malloc((size_t)cap * sizeof(*lv));
	np = p != NULL && s != NULL && lv != NULL ? parse_array(prices, p, cap) : -1;
	ns = np >= 0 ? parse_array(sizes, s, cap) : -1;
	if (np < 0 || ns != np) {
		free(lv);
		lv = NULL;
		np = -1;
	} else {
		for (long i = 0; i < np; i++) {
			lv[i].price = p[i];
			lv[i].size = s[i];
		}
	}
	free(p);
	free(s);
	*out = lv;
	return np;
}

int
recon_load_checkpoint(struct book *b, const char *yes_prices, const char *yes_sizes,
    const char *no_prices, const char *no_sizes)
{
	struct book_level *yes = NULL, *no = NULL;
	long ny = parse_side(yes_prices, yes_sizes, &yes);
	long nn = ny >= 0 ? parse_side(no_prices, no_sizes, &no) : -1;
	int rc = -1;

	if (ny >= 0 && nn >= 0 &&
	    book_apply_snapshot(b, yes, (size_t)ny, no, (size_t)nn) == BOOK_OK)
		rc = 0;
	free(yes);
	free(no);
	return rc;
}

int
recon_book_at(struct db *db, const struct recon_market *m, int64_t at, struct recon_state *st)
{
	char id[24], t[24], from[24];
	const char *params[] = { id, t };
	const char *dparams[] = { id, from, t };
	PGresult *res = NULL;
	int rc = -1;

	memset(st, 0, sizeof(*st));
	st->checkpoint_ts = RECON_NONE;
	st->last_change = RECON_NONE;
	if ((st->book = book_new(m->notional)) == NULL)
		return -1;
	snprintf(id, sizeof(id), "%lld", (long long)m->id);
	snprintf(t, sizeof(t), "%lld", (long long)at);
	if ((res = db_exec(db, &q_checkpoint, params)) == NULL)
		goto out;
	if (PQntuples(res) == 0) {
		rc = 0; /* before coverage: an empty book */
		goto out;
	}
	st->checkpoint_ts = val_i64(res, 0, 0);
	st->last_change = st->checkpoint_ts;
	snprintf(st->checkpoint_source, sizeof(st->checkpoint_source), "%s", PQgetvalue(res, 0, 1));
	if (recon_load_checkpoint(st->book, PQgetvalue(res, 0, 2), PQgetvalue(res, 0, 3),
	    PQgetvalue(res, 0, 4), PQgetvalue(res, 0, 5)) != 0) {
		log_errorx("market %lld: malformed checkpoint at %lld", (long long)m->id,
		    (long long)st->checkpoint_ts);
		goto out;
	}
	PQclear(res);
	snprintf(from, sizeof(from), "%lld", (long long)st->checkpoint_ts);
	if ((res = db_exec(db, &q_deltas_after, dparams)) == NULL)
		goto out;
	for (int i = 0; i < PQntuples(res); i++) {
		enum book_side side = PQgetvalue(res, i, 1)[0] == '0' ? BOOK_YES : BOOK_NO;

		if (book_apply_delta(st->book, side, val_i64(res, i, 2), val_i64(res, i, 3)) != BOOK_OK)
			st->inconsistent = true;
		st->last_change = val_i64(res, i, 0);
		st->deltas_applied++;
	}
	rc = 0;
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

static struct json_object *
level_pair(int64_t price, int64_t size)
{
	char p[FX_BUFSZ], s[FX_BUFSZ];
	struct json_object *a = json_object_new_array_ext(2);

	fx_format_price(price, p);
	fx_format_size(size, s);
	json_object_array_add(a, json_object_new_string(p));
	json_object_array_add(a, json_object_new_string(s));
	return a;
}

static struct json_object *
side_json(const struct book *b, enum book_side side, int depth)
{
	size_t n = book_levels(b, side), max = depth > 0 && (size_t)depth < n ? (size_t)depth : n;
	struct book_level *lv = malloc((max > 0 ? max : 1) * sizeof(*lv));
	struct json_object *arr = json_object_new_array_ext((int)max);

	if (lv == NULL)
		return arr;
	n = book_copy_levels(b, side, lv, max);
	for (size_t i = 0; i < n; i++)
		json_object_array_add(arr, level_pair(lv[i].price, lv[i].size));
	free(lv);
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
