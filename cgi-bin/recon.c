/*
 * recon: see recon.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixed.h"
#include "ktime.h"
#include "api.h"
#include "recon.h"

bool
recon_req_market(struct req *req, struct bookq_market *out)
{
	int found = bookq_market(req->db, req->captures[0], out);

	if (found == 0)
		req_send_error(req, ERR_MARKET_NOT_FOUND, "no market '%.200s'", req->captures[0]);
	else if (found < 0)
		req_send_error(req, ERR_SERVICE_UNAVAILABLE, "database unavailable");
	return found == 1;
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

	if (us == BOOKQ_NONE)
		return NULL;
	kt_format(us, buf);
	return json_object_new_string(buf);
}
