/*
 * h_coverage: GET /v1/markets/{ticker}/coverage
 *
 * The recorded segments of a market (from its first recorded instant to the instant its record
 * is known to hold, recorded_through, cut by every gap), the gaps themselves with their reasons
 * and whether the book had diverged when recording resumed, and what follows the last segment:
 * not_yet_recorded (from just after recorded_through, open-ended) while the market is being
 * recorded, nothing when it was recorded to its settlement (final) or ends in a gap.
 */
#include <stdlib.h>

#include "recon.h"
#include "route.h"

static struct db_stmt q_gaps = DB_STMT("cov_gaps",
    "SELECT kb_us(start_ts), kb_us(end_ts), reason, detail, diverged FROM gaps"
    " WHERE market_id = $1 ORDER BY start_ts, id", 1);

static struct json_object *
span(int64_t start, int64_t end)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "start", recon_time_json(start));
	json_object_object_add(o, "end", recon_time_json(end));
	return o;
}

void
h_coverage(struct req *req)
{
	struct bookq_market m;
	char id[24];
	const char *params[] = { id };
	PGresult *res;
	struct json_object *root, *segs, *gaps;
	int64_t cur;
	bool open = false;

	if (!recon_req_market(req, &m))
		return;
	snprintf(id, sizeof(id), "%lld", (long long)m.id);
	if ((res = db_exec(req->db, &q_gaps, params)) == NULL) {
		req_send_error(req, ERR_SERVICE_UNAVAILABLE, "database unavailable");
		return;
	}
	segs = json_object_new_array();
	gaps = json_object_new_array();
	cur = m.first_ts;
	for (int r = 0; r < PQntuples(res); r++) {
		int64_t gs = strtoll(PQgetvalue(res, r, 0), NULL, 10);
		int64_t ge = PQgetisnull(res, r, 1) ? BOOKQ_NONE : strtoll(PQgetvalue(res, r, 1), NULL, 10);
		struct json_object *g = span(gs, ge);

		json_object_object_add(g, "reason", json_object_new_string(PQgetvalue(res, r, 2)));
		json_object_object_add(g, "detail", json_object_new_string(PQgetvalue(res, r, 3)));
		json_object_object_add(g, "diverged", PQgetisnull(res, r, 4) ? NULL :
		    json_object_new_boolean(PQgetvalue(res, r, 4)[0] == 't'));
		json_object_array_add(gaps, g);
		if (cur != BOOKQ_NONE && !open && gs > cur)
			json_object_array_add(segs, span(cur, gs));
		if (ge == BOOKQ_NONE)
			open = true;
		else if (cur == BOOKQ_NONE || ge > cur)
			cur = ge;
	}
	if (!open && cur != BOOKQ_NONE && m.through != BOOKQ_NONE && m.through >= cur)
		json_object_array_add(segs, span(cur, m.through));
	PQclear(res);
	root = json_object_new_object();
	json_object_object_add(root, "market_ticker", json_object_new_string(m.ticker));
	json_object_object_add(root, "first", recon_time_json(m.first_ts));
	json_object_object_add(root, "last", recon_time_json(m.last_ts));
	json_object_object_add(root, "recorded_through", recon_time_json(m.through));
	json_object_object_add(root, "final", json_object_new_boolean(m.final));
	json_object_object_add(root, "segments", segs);
	json_object_object_add(root, "gaps", gaps);
	json_object_object_add(root, "not_yet_recorded", open || m.final || m.first_ts == BOOKQ_NONE ||
	    m.through == BOOKQ_NONE ? NULL : span(m.through + 1, BOOKQ_NONE));
	req_send_json(req, 200, root);
}
