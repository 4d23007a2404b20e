/*
 * copy: the COPY FROM STDIN writer, text format.
 *
 * Rows are formatted straight into one buffer, which goes to the server with PQputCopyData each
 * time it passes GEN_COPY_FLUSH bytes: few large writes and no per-row calls into libpq. The COPY
 * is started with PQexecParams (no parameters: COPY takes none) and finished with PQputCopyEnd and
 * PQgetResult, whose status is checked and whose remaining results are drained. In spool mode the
 * same rows go to a temporary file instead, for a table whose COPY must wait for the current one
 * (one connection carries one COPY at a time).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gen.h"
#include "log.h"

#define GEN_COPY_FLUSH ((size_t)1024 * 1024)
#define GEN_COPY_CAP   (GEN_COPY_FLUSH + (size_t)64 * 1024)

int
gen_copy_begin(struct gen_copy *c, struct db *db, const char *sql)
{
	PGresult *res = NULL;
	int rc = -1;

	memset(c, 0, sizeof(*c));
	c->db = db;
	if ((c->buf = malloc(GEN_COPY_CAP)) == NULL) {
		log_errorx("out of memory");
		goto out;
	}
	c->cap = GEN_COPY_CAP;
	if (db_ensure(db) != 0)
		goto out;
	res = PQexecParams(db_conn(db), sql, 0, NULL, NULL, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_COPY_IN) {
		log_errorx("%s: %s", sql, PQresultErrorMessage(res));
		goto out;
	}
	c->active = true;
	rc = 0;
out:
	PQclear(res);
	if (rc != 0) {
		free(c->buf);
		c->buf = NULL;
	}
	return rc;
}

int
gen_copy_spool(struct gen_copy *c, FILE *f)
{
	memset(c, 0, sizeof(*c));
	if ((c->buf = malloc(GEN_COPY_CAP)) == NULL) {
		log_errorx("out of memory");
		return -1;
	}
	c->cap = GEN_COPY_CAP;
	c->spool = f;
	return 0;
}

static int
gen_copy_flush(struct gen_copy *c)
{
	if (c->len == 0)
		return 0;
	if (c->spool != NULL) {
		if (fwrite(c->buf, 1, c->len, c->spool) != c->len) {
			log_error("spool file");
			return -1;
		}
		c->len = 0;
		return 0;
	}
	if (PQputCopyData(db_conn(c->db), c->buf, (int)c->len) != 1) {
		log_errorx("COPY data: %s", PQerrorMessage(db_conn(c->db)));
		return -1;
	}
	c->len = 0;
	return 0;
}

char *
gen_copy_room(struct gen_copy *c, size_t need)
{
	if (c->len + need > c->cap) {
		size_t cap = c->cap;
		char *p;

		if (gen_copy_flush(c) != 0)
			return NULL;
		while (need > cap)
			cap *= 2;
		if (cap != c->cap) {
			if ((p = realloc(c->buf, cap)) == NULL)
				return NULL;
			c->buf = p;
			c->cap = cap;
		}
	}
	return c->buf + c->len;
}

int
gen_copy_row_end(struct gen_copy *c)
{
	c->rows++;
	return c->len >= GEN_COPY_FLUSH ? gen_copy_flush(c) : 0;
}

/*
 * Collects the results after the end of a COPY: the first decides, the rest are drained so the
 * connection is ready for the next statement.
 */
static int
gen_copy_result(struct gen_copy *c, const char *what)
{
	PGresult *res;
	int rc = 0, first = 1;

	while ((res = PQgetResult(db_conn(c->db))) != NULL) {
		if (first && PQresultStatus(res) != PGRES_COMMAND_OK) {
			const char *st = PQresultErrorField(res, PG_DIAG_SQLSTATE);

			log_errorx("%s failed: sqlstate=%s: %s", what, st != NULL ? st : "none",
			    PQresultErrorMessage(res));
			rc = -1;
		}
		first = 0;
		PQclear(res);
	}
	return rc;
}

int
gen_copy_end(struct gen_copy *c)
{
	int rc = -1;

	if (c->spool != NULL) {
		rc = gen_copy_flush(c);
		goto out;
	}
	if (!c->active)
		goto out;
	if (gen_copy_flush(c) != 0)
		goto out;
	c->active = false;
	if (PQputCopyEnd(db_conn(c->db), NULL) != 1) {
		log_errorx("COPY end: %s", PQerrorMessage(db_conn(c->db)));
		goto out;
	}
	rc = gen_copy_result(c, "COPY");
out:
	gen_copy_abort(c);
	return rc;
}

void
gen_copy_abort(struct gen_copy *c)
{
	if (c->active) {
		c->active = false;
		if (PQputCopyEnd(db_conn(c->db), "kbook-gen stopped") == 1)
			(void)gen_copy_result(c, "aborted COPY");
	}
	free(c->buf);
	c->buf = NULL;
	c->len = c->cap = 0;
}

int
gen_copy_file(struct gen_copy *c, FILE *f)
{
	if (fflush(f) != 0 || fseek(f, 0, SEEK_SET) != 0) {
		log_error("spool file");
		return -1;
	}
	for (;;) {
		char *p;
		size_t n;

		if ((p = gen_copy_room(c, GEN_COPY_FLUSH)) == NULL)
			return -1;
		n = fread(p, 1, GEN_COPY_FLUSH, f);
		c->len += n;
		if (n == 0)
			break;
		if (gen_copy_flush(c) != 0)
			return -1;
	}
	if (ferror(f)) {
		log_error("spool file");
		return -1;
	}
	return 0;
}

size_t
gen_fmt_i64(char *out, int64_t v)
{
	char tmp[24];
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
	size_t n = 0, len = 0;

	do {
		tmp[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (v < 0)
		out[len++] = '-';
	while (n > 0)
		out[len++] = tmp[--n];
	return len;
}
