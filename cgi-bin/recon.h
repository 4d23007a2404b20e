/*
 * recon: what the handlers share around recorded books: the market a request names, and a book
 * rendered as Kalshi-style JSON. The book at an instant itself is read by lib/bookq, which
 * kbook-feedd shares.
 */
#ifndef KBOOK_RECON_H
#define KBOOK_RECON_H

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "book.h"
#include "bookq.h"

struct req;
/*
 * The market named by the request's {ticker}: returns true with *out filled, or answers
 * 404 market_not_found / 503 itself and returns false.
 */
bool recon_req_market(struct req *req, struct bookq_market *out);

/* {"yes_dollars":[["0.4500","13.00"],...],"no_dollars":[...]} with the best depth levels (0: all). */
struct json_object *recon_levels_json(const struct book *b, int depth);
/* {"yes_bid":{"price","size"}|null,"yes_ask":...,"no_bid":...,"no_ask":...} */
struct json_object *recon_best_json(const struct book *b);
/* An instant as RFC 3339 JSON string, or JSON null for BOOKQ_NONE. */
struct json_object *recon_time_json(int64_t us);

#endif
