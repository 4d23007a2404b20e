/*
 * subs: the commands of a connection and its subscriptions (KALSHI.md sections 3-4). A command
 * frame is parsed by lib/kcmd, then executed here with Kalshi's replies: `subscribed` (no seq),
 * then one orderbook_snapshot per market, then orderbook_delta messages; `ok` of
 * update_subscription and `unsubscribed` take the next seq of their sid, as Kalshi's do; errors and
 * list replies carry no seq. `since` replaces the snapshots by every recorded change after the
 * cursor, read from Postgres up to the market's live position, so replay and live meet with no gap
 * and no duplicate; the replay is streamed in chunks paced by the client (replay.c). Markets are
 * charged 1 credit each when added (auth.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "feed.h"
#include "kcmd.h"
#include "kerr.h"
#include "log.h"

static struct db_stmt q_markets = DB_STMT("feed_markets",
    "SELECT id, ticker, notional FROM markets WHERE ticker = ANY($1::text[])", 1);

/* A market named by a command, resolved. */
struct feed_target {
	int64_t id, notional;
	const char *ticker;          /* borrowed from the command */
	struct feed_market *m;       /* after feed_market_get */
	struct book *book;           /* no since: the snapshot */
	struct feed_row gap;         /* an open gap covering the snapshot (kind FEED_K_GAP) */
	bool has_gap;
};

/* Appends the id member ("id":N,) when the command had one. */
static void
feed_subs_id(FILE *f, const struct kcmd *cmd)
{
	if (cmd->has_id)
		fprintf(f, "\"id\":%lld,", (long long)cmd->id);
}

/* Closes the memstream f of *buf / *len and sends what it holds. */
static void
feed_subs_sendf(struct feed_conn *c, char **buf, size_t *len, FILE *f)
{
	if (fclose(f) == 0 && *buf != NULL)
		(void)feed_send(c, *buf, *len);
	free(*buf);
	*buf = NULL;
}

static void
feed_subs_error(struct feed_conn *c, const struct kcmd *cmd, int code, const char *ticker,
    const char *detail)
{
	char *buf = NULL;
	size_t len;
	FILE *f = open_memstream(&buf, &len);

	if (f == NULL)
		return;
	feed_stats.command_errors++;
	fputc('{', f);
	feed_subs_id(f, cmd);
	fprintf(f, "\"type\":\"error\",\"msg\":{\"code\":%d,\"msg\":\"%s\"", code, kerr_msg(code));
	if (ticker != NULL) {
		char esc[FEED_TICKER_MAX * 6 + 1];

		log_json_escape(esc, sizeof(esc), ticker);
		fprintf(f, ",\"market_ticker\":\"%s\"", esc);
	}
	if (detail != NULL)
		fprintf(f, ",\"detail\":\"%s\"", detail);
	fputs("}}", f);
	feed_subs_sendf(c, &buf, &len, f);
}

static struct feed_sub *
feed_subs_find(struct feed_conn *c, int64_t sid)
{
	struct ksub *k = ksub_find(&c->subs, sid);

	return k != NULL ? feed_sub_of(k) : NULL;
}

/* ksub_close's callback: a market nobody holds leaves the registry. */
static void
feed_subs_released(struct ksub_holders *h)
{
	feed_market_release(KSUB_OWNER(h, struct feed_market, holders));
}

static void
feed_subs_remove_market(struct feed_sub *s, size_t i)
{
	feed_replay_cancel(s, feed_sub_market(s, i));
	feed_subs_released(ksub_remove(&s->conn->subs, &s->k, i));
}

static void
feed_subs_drop(struct feed_conn *c, struct feed_sub *s)
{
	feed_replay_cancel(s, NULL); /* its replays go with it (replay.c holds s) */
	ksub_close(&c->subs, &s->k, feed_subs_released);
	free(s);
}

void
feed_subs_free(struct feed_conn *c)
{
	while (c->subs.head != NULL)
		feed_subs_drop(c, feed_sub_of(c->subs.head));
}

/* Sends the message of s made of its next head and body. */
static void
feed_subs_send_body(struct feed_sub *s, const struct feed_body *body)
{
	char head[FEED_HEAD_MAX];
	size_t n = feed_stream_head(s, body, head, sizeof(head));

	if (n == 0) {
		feed_send_close(s->conn, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION, "message too long");
		return;
	}
	(void)feed_send2(s->conn, head, n, body->text, body->len);
}

void
feed_subs_emit(struct feed_sub *s, const struct feed_market *m, const struct feed_row *row,
    const struct book *book, int64_t pos)
{
	struct feed_body body;

	if (s->conn->close_code != 0)
		return;
	if (feed_stream_body(m, row, book, pos, &body) != 0) {
		feed_send_close(s->conn, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION, "out of memory");
		return;
	}
	feed_subs_send_body(s, &body);
	free(body.text);
}

void
feed_subs_fanout(struct feed_market *m, const struct feed_row *row)
{
	struct feed_body body;

	if (m->holders.n == 0)
		return;
	if (feed_stream_body(m, row, NULL, 0, &body) != 0) {
		for (size_t i = 0; i < m->holders.n; i++)
			feed_send_close(feed_sub_of(m->holders.subs[i])->conn,
			    LWS_CLOSE_STATUS_UNEXPECTED_CONDITION, "out of memory");
		return;
	}
	for (size_t i = 0; i < m->holders.n; i++) {
		struct feed_sub *s = feed_sub_of(m->holders.subs[i]);

		/* a subscription replaying m gets these rows from its replay */
		if (s->conn->close_code == 0 && (s->conn->replays == NULL || !feed_replay_holds(s, m)))
			feed_subs_send_body(s, &body);
	}
	free(body.text);
}

/* Postgres array literal of the command's tickers (caller frees). */
static char *
feed_subs_array(const struct kcmd *cmd)
{
	char *buf = NULL;
	size_t len;
	FILE *f = open_memstream(&buf, &len);

	if (f == NULL)
		return NULL;
	fputc('{', f);
	for (size_t i = 0; i < cmd->n_tickers; i++) {
		fputs(i == 0 ? "\"" : ",\"", f);
		for (const char *p = cmd->tickers[i]; *p != '\0'; p++) {
			if (*p == '"' || *p == '\\')
				fputc('\\', f);
			fputc(*p, f);
		}
		fputc('"', f);
	}
	fputc('}', f);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/*
 * Resolves the command's tickers, once each, in order. Returns the count with *out set (caller
 * frees), or -1 after answering the error (16 for the first unknown ticker, 17 otherwise).
 */
static long
feed_subs_resolve(struct feed_conn *c, const struct kcmd *cmd, struct feed_target **out)
{
	char *arr = NULL;
	const char *params[1];
	PGresult *res = NULL;
	struct feed_target *t = NULL;
	long n = 0, rc = -1;

	*out = NULL;
	if ((t = calloc(cmd->n_tickers, sizeof(*t))) == NULL || (arr = feed_subs_array(cmd)) == NULL) {
		feed_subs_error(c, cmd, KERR_INTERNAL, NULL, NULL);
		goto out;
	}
	params[0] = arr;
	if (db_ensure(feed_db) != 0 || (res = db_exec(feed_db, &q_markets, params)) == NULL) {
		feed_subs_error(c, cmd, KERR_INTERNAL, NULL, "database unavailable");
		goto out;
	}
	for (size_t i = 0; i < cmd->n_tickers; i++) {
		bool found = false, dup = false;

		for (long j = 0; j < n; j++)
			dup |= strcmp(t[j].ticker, cmd->tickers[i]) == 0;
		if (dup)
			continue;
		for (int r = 0; r < PQntuples(res) && !found; r++) {
			if (strcmp(PQgetvalue(res, r, 1), cmd->tickers[i]) != 0)
				continue;
			t[n].id = strtoll(PQgetvalue(res, r, 0), NULL, 10);
			t[n].notional = strtoll(PQgetvalue(res, r, 2), NULL, 10);
			t[n].ticker = cmd->tickers[i];
			found = true;
		}
		if (!found) {
			feed_subs_error(c, cmd, KERR_MARKET_NOT_FOUND, cmd->tickers[i], NULL);
			goto out;
		}
		n++;
	}
	*out = t;
	t = NULL;
	rc = n;
out:
	PQclear(res);
	free(arr);
	free(t);
	return rc;
}

static void
feed_subs_targets_free(struct feed_target *t, long n)
{
	for (long i = 0; i < n; i++) {
		book_free(t[i].book);
		if (t[i].m != NULL)
			feed_market_release(t[i].m);
	}
	free(t);
}

/* Error 26, with the plan's limit in its detail. */
static void
feed_subs_market_limit(struct feed_conn *c, const struct kcmd *cmd)
{
	char detail[96];

	snprintf(detail, sizeof(detail), "more than %lld markets on one connection for this plan",
	    (long long)c->caller.markets_max);
	feed_subs_error(c, cmd, KERR_MARKET_LIMIT, NULL, detail);
}

/* Charges n markets; answers the refusal itself. Returns 0 when charged. */
static int
feed_subs_charge(struct feed_conn *c, const struct kcmd *cmd, long n)
{
	enum feed_charge_rc rc = feed_auth_charge(&c->caller, n);

	switch (rc) {
	case FEED_CH_OK:
		return 0;
	case FEED_CH_CREDITS:
		feed_subs_error(c, cmd, KERR_PROCESS, NULL, "credits exhausted");
		break;
	case FEED_CH_KEY_CAP:
		feed_subs_error(c, cmd, KERR_PROCESS, NULL, "key credit cap reached");
		break;
	case FEED_CH_RATE:
		feed_subs_error(c, cmd, KERR_TOO_MANY, NULL, NULL);
		break;
	case FEED_CH_REVOKED:
	case FEED_CH_DISABLED:
		/* the command's own refusal (with its id), then the connection is cut off */
		feed_subs_error(c, cmd, KERR_AUTH, NULL, feed_auth_cut_reason(rc));
		feed_send_close(c, LWS_CLOSE_STATUS_POLICY_VIOLATION, feed_auth_cut_reason(rc));
		feed_stats.auth_cutoffs++;
		break;
	case FEED_CH_DOWN:
		feed_subs_error(c, cmd, KERR_INTERNAL, NULL, "database unavailable");
		break;
	}
	return -1;
}

/*
 * Registers the targets and reads what each will be sent first: the replay after since, or the
 * snapshot at the market's position. The stream ends of the markets not tracked yet are read in
 * one query, and so are the snapshots. Returns 0, or -1 after answering the error.
 */
static int
feed_subs_prepare(struct feed_conn *c, const struct kcmd *cmd, struct feed_target *t, long n,
    bool since)
{
	int64_t from = since ? FEED_POS(cmd->since, 3) : 0;
	size_t cap = (size_t)(n > 0 ? n : 1), fresh = 0;
	int64_t *ids = calloc(cap, sizeof(int64_t)), *ends = calloc(cap, sizeof(int64_t));
	struct feed_market **ms = calloc(cap, sizeof(struct feed_market *));
	struct feed_base *base = calloc(cap, sizeof(struct feed_base));
	int rc = -1;

	if (ids == NULL || ends == NULL || ms == NULL || base == NULL) {
		feed_subs_error(c, cmd, KERR_INTERNAL, NULL, NULL);
		goto out;
	}
	for (long i = 0; i < n; i++)
		if ((t[i].m = feed_market_find(t[i].id)) == NULL)
			ids[fresh++] = t[i].id;
	if (fresh > 0 && feed_stream_ends(ids, fresh, ends) != 0) {
		feed_subs_error(c, cmd, KERR_INTERNAL, NULL, "database unavailable");
		goto out;
	}
	for (long i = 0, k = 0; i < n; i++) {
		if (t[i].m == NULL &&
		    (t[i].m = feed_market_get(t[i].id, t[i].ticker, t[i].notional, ends[k++])) == NULL) {
			feed_subs_error(c, cmd, KERR_INTERNAL, NULL, NULL);
			goto out;
		}
		ms[i] = t[i].m;
	}
	if (since) {
		/* only counted here: the rows are streamed afterwards (replay.c) */
		for (long i = 0; i < n; i++) {
			long count;

			if (feed_stream_count(t[i].m, from, t[i].m->pos, cfg.feedd_replay_max + 1,
			    &count) != 0) {
				feed_subs_error(c, cmd, KERR_INTERNAL, NULL, "database unavailable");
				goto out;
			}
			if (count > cfg.feedd_replay_max) {
				feed_subs_error(c, cmd, KERR_INVALID, t[i].ticker,
				    "since is too far back: more changes than KBOOK_FEEDD_REPLAY_MAX");
				goto out;
			}
		}
		rc = 0;
		goto out;
	}
	if (n > 0 && feed_stream_books(ms, (size_t)n, base) != 0) {
		feed_subs_error(c, cmd, KERR_INTERNAL, NULL, "database unavailable");
		goto out;
	}
	for (long i = 0; i < n; i++) {
		t[i].book = base[i].book;
		if (base[i].gap_start >= 0) {
			t[i].has_gap = true;
			t[i].gap.kind = FEED_K_GAP;
			t[i].gap.pos = FEED_POS(base[i].gap_start, FEED_K_GAP);
			t[i].gap.gap_end = base[i].gap_end;
			snprintf(t[i].gap.reason, sizeof(t[i].gap.reason), "%s", base[i].reason);
		}
	}
	rc = 0;
out:
	free(ids);
	free(ends);
	free(ms);
	free(base);
	return rc;
}

/* Sends what feed_subs_prepare read for target t on s: its snapshot, or (since) starts its
 * replay from position from. */
static void
feed_subs_first(struct feed_sub *s, struct feed_target *t, bool since, int64_t from)
{
	if (since) {
		if (feed_replay_start(s, t->m, from) != 0)
			feed_send_close(s->conn, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION, "out of memory");
		return;
	}
	/* a snapshot supersedes what a replay of the market still had to send */
	feed_replay_cancel(s, t->m);
	feed_send_grant(s->conn, true);
	feed_subs_emit(s, t->m, NULL, t->book, t->m->pos);
	if (t->has_gap)
		feed_subs_emit(s, t->m, &t->gap, NULL, 0);
	feed_send_grant(s->conn, false);
}

static void
feed_subs_subscribe(struct feed_conn *c, const struct kcmd *cmd)
{
	struct feed_target *t = NULL;
	struct feed_sub *s = NULL;
	char *buf = NULL;
	size_t len;
	long n;
	FILE *f;

	if ((n = feed_subs_resolve(c, cmd, &t)) < 0)
		return;
	if (c->subs.n_markets + (size_t)n > (size_t)c->caller.markets_max) {
		feed_subs_market_limit(c, cmd);
		goto out;
	}
	if (feed_subs_prepare(c, cmd, t, n, cmd->has_since) != 0 || feed_subs_charge(c, cmd, n) != 0)
		goto out;
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		feed_subs_error(c, cmd, KERR_INTERNAL, NULL, NULL);
		goto out;
	}
	s->conn = c;
	ksub_open(&c->subs, &s->k);
	for (long i = 0; i < n; i++) {
		if (ksub_add(&c->subs, &s->k, &t[i].m->holders) != 0) {
			feed_subs_drop(c, s);
			feed_subs_error(c, cmd, KERR_INTERNAL, NULL, NULL);
			goto out;
		}
	}
	if ((f = open_memstream(&buf, &len)) == NULL)
		goto out;
	fputc('{', f);
	feed_subs_id(f, cmd);
	fprintf(f, "\"type\":\"subscribed\",\"msg\":{\"channel\":\"orderbook_delta\",\"sid\":%lld}}",
	    (long long)s->k.sid);
	feed_subs_sendf(c, &buf, &len, f);
	for (long i = 0; i < n; i++)
		feed_subs_first(s, &t[i], cmd->has_since, FEED_POS(cmd->since, 3));
out:
	feed_subs_targets_free(t, n);
}

/* The `ok` of update_subscription: the full market set, taking the next seq. */
static void
feed_subs_update_ok(struct feed_sub *s, const struct kcmd *cmd)
{
	char *buf = NULL, esc[FEED_TICKER_MAX * 6 + 1];
	size_t len;
	FILE *f = open_memstream(&buf, &len);

	if (f == NULL)
		return;
	fputc('{', f);
	feed_subs_id(f, cmd);
	fprintf(f, "\"sid\":%lld,\"seq\":%lld,\"type\":\"ok\",\"msg\":{\"market_tickers\":[",
	    (long long)s->k.sid, (long long)++s->k.seq);
	for (size_t i = 0; i < s->k.n_markets; i++) {
		log_json_escape(esc, sizeof(esc), feed_sub_market(s, i)->ticker);
		fprintf(f, "%s\"%s\"", i == 0 ? "" : ",", esc);
	}
	fputs("]}}", f);
	feed_subs_sendf(s->conn, &buf, &len, f);
}

static void
feed_subs_update(struct feed_conn *c, const struct kcmd *cmd)
{
	struct feed_sub *s = feed_subs_find(c, cmd->sids[0]);
	struct feed_target *t = NULL;
	long n = 0, fresh = 0;
	size_t first;

	if (s == NULL) {
		feed_subs_error(c, cmd, KERR_UNKNOWN_SID, NULL, NULL);
		return;
	}
	if ((n = feed_subs_resolve(c, cmd, &t)) < 0)
		return;
	switch (cmd->action) {
	case KCMD_ACT_ADD:
		/* markets already held are left out: the rest are new */
		for (long i = 0; i < n; i++) {
			struct feed_market *m = feed_market_find(t[i].id);

			if (m == NULL || !ksub_holds(&s->k, &m->holders))
				t[fresh++] = t[i];
		}
		if (c->subs.n_markets + (size_t)fresh > (size_t)c->caller.markets_max) {
			feed_subs_market_limit(c, cmd);
			n = fresh;
			goto out;
		}
		n = fresh;
		if (feed_subs_prepare(c, cmd, t, n, false) != 0 || feed_subs_charge(c, cmd, n) != 0)
			goto out;
		first = s->k.n_markets;
		for (long i = 0; i < n; i++) {
			if (ksub_add(&c->subs, &s->k, &t[i].m->holders) != 0) {
				feed_subs_error(c, cmd, KERR_INTERNAL, NULL, NULL);
				goto out;
			}
		}
		feed_subs_update_ok(s, cmd);
		for (long i = 0; i < n && first + (size_t)i < s->k.n_markets; i++)
			feed_subs_first(s, &t[i], false, 0);
		break;
	case KCMD_ACT_DELETE:
		for (long i = 0; i < n; i++)
			for (size_t j = 0; j < s->k.n_markets; j++)
				if (feed_sub_market(s, j)->id == t[i].id) {
					feed_subs_remove_market(s, j);
					break;
				}
		feed_subs_update_ok(s, cmd);
		break;
	case KCMD_ACT_SNAPSHOT:
		for (long i = 0; i < n; i++) {
			struct feed_market *m = feed_market_find(t[i].id);

			if (m == NULL || !ksub_holds(&s->k, &m->holders)) {
				feed_subs_error(c, cmd, KERR_INVALID, t[i].ticker, NULL);
				goto out;
			}
		}
		if (feed_subs_prepare(c, cmd, t, n, false) != 0)
			goto out;
		for (long i = 0; i < n; i++)
			feed_subs_first(s, &t[i], false, 0);
		break;
	case KCMD_ACT_NONE:
		feed_subs_error(c, cmd, KERR_ACTION, NULL, NULL);
		break;
	}
out:
	feed_subs_targets_free(t, n);
}

static void
feed_subs_unsubscribe(struct feed_conn *c, const struct kcmd *cmd)
{
	for (size_t i = 0; i < cmd->n_sids; i++) {
		struct feed_sub *s = feed_subs_find(c, cmd->sids[i]);
		char *buf = NULL;
		size_t len;
		FILE *f;

		if (s == NULL) {
			feed_subs_error(c, cmd, KERR_UNKNOWN_SID, NULL, NULL);
			continue;
		}
		if ((f = open_memstream(&buf, &len)) != NULL) {
			fputc('{', f);
			feed_subs_id(f, cmd);
			fprintf(f, "\"sid\":%lld,\"seq\":%lld,\"type\":\"unsubscribed\"}",
			    (long long)s->k.sid, (long long)++s->k.seq);
			feed_subs_sendf(c, &buf, &len, f);
		}
		feed_subs_drop(c, s);
	}
}

static void
feed_subs_list(struct feed_conn *c, const struct kcmd *cmd)
{
	char *buf = NULL;
	size_t len;
	FILE *f = open_memstream(&buf, &len);
	bool first = true;

	if (f == NULL)
		return;
	fputc('{', f);
	feed_subs_id(f, cmd);
	fputs("\"type\":\"ok\",\"msg\":[", f);
	/* oldest first, as they were made (the table's order) */
	for (const struct ksub *k = c->subs.head; k != NULL; k = k->next) {
		fprintf(f, "%s{\"channel\":\"orderbook_delta\",\"sid\":%lld}", first ? "" : ",",
		    (long long)k->sid);
		first = false;
	}
	fputs("]}", f);
	feed_subs_sendf(c, &buf, &len, f);
}

void
feed_subs_command(struct feed_conn *c, const char *text, size_t len)
{
	struct kcmd cmd;
	int rc = kcmd_parse(&kcmd_feed, text, len, &cmd);

	feed_stats.commands++;
	if (rc != 0) {
		log_debug("conn %llu: command refused with %d (%s)", (unsigned long long)c->id, rc,
		    cmd.why != NULL ? cmd.why : "");
		feed_subs_error(c, &cmd, rc, NULL, NULL);
		goto out;
	}
	switch (cmd.type) {
	case KCMD_SUBSCRIBE:
		feed_subs_subscribe(c, &cmd);
		break;
	case KCMD_UPDATE:
		feed_subs_update(c, &cmd);
		break;
	case KCMD_UNSUBSCRIBE:
		feed_subs_unsubscribe(c, &cmd);
		break;
	case KCMD_LIST:
		feed_subs_list(c, &cmd);
		break;
	}
out:
	kcmd_free(&cmd);
}
