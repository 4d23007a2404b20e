/*
 * copy: the COPY text of book_deltas and book_checkpoints rows, in lib/sbuf buffers, and the
 * COPY that sends it. A delta line is formatted by hand into room the buffer reserved (kt_format
 * and printf per row dominated the writer's time); a checkpoint line with sbuf_printf. An
 * allocation failure sticks in the buffer, and coll_copy_in refuses such a buffer, so a batch
 * with a row missing is never sent: the batch fails and is retried whole.
 */
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "ktime.h"
#include "log.h"
#include "writer.h"

/* COPY text kept between batches up to this capacity. */
#define BUF_KEEP ((size_t)256 * 1024 * 1024)
/* The longest delta line: an id, two timestamps, a side, a price and a size, with separators. */
#define DELTA_LINE_MAX 160

/* Appends the decimal digits of v (may be negative) at p; returns the end. */
static char *
put_i64(char *p, int64_t v)
{
	char tmp[24];
	int n = 0;
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;

	if (v < 0)
		*p++ = '-';
	do {
		tmp[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u > 0);
	while (n > 0)
		*p++ = tmp[--n];
	return p;
}

/*
 * Appends us as RFC 3339 UTC with microseconds at p (27 bytes); returns the end. The text up to
 * the second is cached: consecutive rows mostly share it, and kt_format per row dominated the
 * writer's time.
 */
static char *
put_ts(char *p, int64_t us)
{
	static int64_t cached_sec = INT64_MIN;
	static char prefix[KT_BUFSZ];
	int64_t sec = us >= 0 ? us / 1000000 : -((-us + 999999) / 1000000), frac = us - sec * 1000000;

	if (sec != cached_sec) {
		kt_format(sec * 1000000, prefix); /* "YYYY-MM-DDTHH:MM:SS.000000Z" */
		cached_sec = sec;
	}
	memcpy(p, prefix, 20); /* through the '.' */
	p += 20;
	for (int i = 5; i >= 0; i--) {
		p[i] = (char)('0' + frac % 10);
		frac /= 10;
	}
	p += 6;
	*p++ = 'Z';
	return p;
}

void
coll_copy_delta(struct sbuf *b, int64_t id, const struct coll_ev *e)
{
	char *p = sbuf_room(b, DELTA_LINE_MAX);

	if (p == NULL)
		return;
	p = put_i64(p, id);
	*p++ = '\t';
	p = put_ts(p, e->ts);
	*p++ = '\t';
	if (e->a >= 0) {
		p = put_ts(p, e->a * 1000);
	} else {
		*p++ = '\\';
		*p++ = 'N';
	}
	*p++ = '\t';
	*p++ = (char)('0' + e->side);
	*p++ = '\t';
	p = put_i64(p, e->b);
	*p++ = '\t';
	p = put_i64(p, e->c);
	*p++ = '\n';
	sbuf_used(b, p);
}

/* Appends a Postgres array of the prices (or sizes) of lv[0 .. n). */
static void
put_array(struct sbuf *b, const struct book_level *lv, size_t n, bool sizes)
{
	sbuf_str(b, "{");
	for (size_t i = 0; i < n; i++)
		sbuf_printf(b, "%s%lld", i == 0 ? "" : ",", (long long)(sizes ? lv[i].size : lv[i].price));
	sbuf_str(b, "}");
}

void
coll_copy_checkpoint(struct sbuf *b, int64_t id, const struct coll_ev *e)
{
	const struct coll_levels *lv = e->data;
	char t[KT_BUFSZ];

	kt_format(e->ts, t);
	sbuf_printf(b, "%lld\t%s\t%s\t", (long long)id, t, e->flag ? "snapshot" : "periodic");
	put_array(b, lv->lv, lv->n_yes, false);
	sbuf_str(b, "\t");
	put_array(b, lv->lv, lv->n_yes, true);
	sbuf_str(b, "\t");
	put_array(b, lv->lv + lv->n_yes, lv->n_no, false);
	sbuf_str(b, "\t");
	put_array(b, lv->lv + lv->n_yes, lv->n_no, true);
	sbuf_str(b, "\n");
}

int
coll_copy_in(struct db *db, const char *sql, const struct sbuf *b)
{
	const char *text = sbuf_text(b);
	PGconn *conn = db_conn(db);
	PGresult *res = NULL;
	int rc = -1;

	if (text == NULL) {
		log_errorx("out of memory building COPY text: the batch is retried");
		goto out;
	}
	res = PQexecParams(conn, sql, 0, NULL, NULL, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_COPY_IN) {
		log_errorx("COPY did not start: %s", PQresultErrorField(res, PG_DIAG_SQLSTATE) != NULL ?
		    PQresultErrorField(res, PG_DIAG_SQLSTATE) : "no sqlstate");
		goto out;
	}
	PQclear(res);
	res = NULL;
	if (b->len > 0 && PQputCopyData(conn, text, (int)b->len) != 1) {
		PQputCopyEnd(conn, "client error");
	} else if (PQputCopyEnd(conn, NULL) == 1) {
		rc = 0;
	}
	while ((res = PQgetResult(conn)) != NULL) {
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			const char *st = PQresultErrorField(res, PG_DIAG_SQLSTATE);

			log_errorx("COPY failed: sqlstate %s: %s", st != NULL ? st : "none",
			    PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) != NULL ?
			    PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : "");
			rc = -1;
		}
		PQclear(res);
	}
out:
	PQclear(res);
	return rc;
}

void
coll_copy_trim(struct sbuf *b)
{
	if (b->cap > BUF_KEEP)
		sbuf_free(b);
}
