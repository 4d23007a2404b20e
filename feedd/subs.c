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

/* A command received while an earlier one waits for its queries. */
struct feed_cmd {
	struct feed_cmd *next;
	size_t len;
	char text[];
};

/* A market named by a command, resolved. */
struct feed_target {
	int64_t id, notional;
	int64_t end;                 /* the market's end of stream when it was resolved */
	const char *ticker;          /* borrowed from the command */
	struct feed_market *m;       /* after feed_market_get: pinned */
	struct feed_market view;     /* m's id, notional, pos for the query thread */
	struct feed_replay *held;    /* get_snapshot: m's live rows held back from the sub meanwhile */
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
	struct feed_cmd *q;

	while (c->subs.head != NULL)
		feed_subs_drop(c, feed_sub_of(c->subs.head));
	while ((q = c->cmdq) != NULL) {
		c->cmdq = q->next;
		free(q);
	}
	c->cmdq_tail = &c->cmdq;
	c->cmdq_n = 0;
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
 * Resolves the command's tickers, once each, in order, from res (rows id, ticker, notional) and
 * ends (the stream end of each of res's rows). Returns the count with *out set (caller frees),
 * or -1 after answering the error (16 for the first unknown ticker, 17 otherwise).
 */
static long
feed_subs_resolve(struct feed_conn *c, const struct kcmd *cmd, const PGresult *res,
    const int64_t *ends, struct feed_target **out)
{
	struct feed_target *t = NULL;
	long n = 0, rc = -1;

	*out = NULL;
	if ((t = calloc(cmd->n_tickers > 0 ? cmd->n_tickers : 1, sizeof(*t))) == NULL) {
		feed_subs_error(c, cmd, KERR_INTERNAL, NULL, NULL);
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
			t[n].end = ends[r];
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
	free(t);
	return rc;
}

static void
feed_subs_targets_free(struct feed_target *t, long n)
{
	for (long i = 0; i < n; i++) {
		book_free(t[i].book);
		if (t[i].m != NULL)
			feed_market_unpin(t[i].m);
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

/* Answers the outcome rc of charging a command's markets. Returns 0 when charged. */
static int
feed_subs_charged(struct feed_conn *c, const struct kcmd *cmd, enum feed_charge_rc rc)
{
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
		feed_stats.charges_failed++;
		feed_subs_error(c, cmd, KERR_INTERNAL, NULL, "database unavailable");
		break;
	}
	return -1;
}

/*
 * A command that needs the database (subscribe, update_subscription) runs in two queries on the
 * query thread (jobs.c), while the loop serves everyone else: first the markets it names and
 * their stream ends; then, once they are registered at their positions (and pinned), their
 * snapshots (or, with since, the size of their replays) and the charge. Meanwhile the
 * connection's later commands wait (feed_subs_command), so replies keep their order.
 */
struct feed_cmd_job {
	struct feed_job j;
	struct feed_conn *c;          /* held (feed_conn_ref) */
	struct kcmd cmd;              /* owned */
	char *arr;                    /* the tickers as a Postgres array */
	int rc;                       /* the last query's: 0 or -1 */
	/* first query */
	PGresult *res;                /* id, ticker, notional of the tickers found */
	int64_t *ends;                /* the stream end of each of res's rows */
	/* second query */
	struct feed_target *t;
	long n;
	struct feed_market **views;   /* &t[i].view */
	struct feed_base *base;
	long too_far;                 /* a target whose replay is too long, or -1 */
	bool charge;                  /* charge the n markets */
	struct feed_caller caller;
	enum feed_charge_rc charged;
};

static void feed_subs_resume(struct feed_conn *c);

static void
feed_cmd_job_free(struct feed_cmd_job *cj)
{
	struct feed_conn *c = cj->c;

	for (long i = 0; cj->t != NULL && i < cj->n && !c->closed; i++)
		if (cj->t[i].held != NULL)
			feed_replay_release(cj->t[i].held, false);
	kcmd_free(&cj->cmd);
	free(cj->arr);
	PQclear(cj->res);
	free(cj->ends);
	if (cj->base != NULL)
		for (long i = 0; i < cj->n; i++)
			book_free(cj->base[i].book);
	free(cj->base);
	free(cj->views);
	feed_subs_targets_free(cj->t, cj->n);
	free(cj);
	c->busy = false;
	feed_subs_resume(c);
	feed_conn_unref(c);
}

/* Query thread: the markets named, and the stream end of each. */
static void
feed_cmd_resolve_run(struct feed_job *j, struct db *db)
{
	struct feed_cmd_job *cj = (struct feed_cmd_job *)j;
	const char *params[] = { cj->arr };
	int64_t *ids = NULL;
	int n;

	cj->rc = -1;
	if (db == NULL || (cj->res = db_exec(db, &q_markets, params)) == NULL)
		return;
	n = PQntuples(cj->res);
	if ((ids = calloc((size_t)n + 1, sizeof(*ids))) == NULL ||
	    (cj->ends = calloc((size_t)n + 1, sizeof(*cj->ends))) == NULL)
		goto out;
	for (int r = 0; r < n; r++)
		ids[r] = strtoll(PQgetvalue(cj->res, r, 0), NULL, 10);
	if (n > 0 && feed_stream_ends(ids, (size_t)n, cj->ends) != 0)
		goto out;
	cj->rc = 0;
out:
	free(ids);
}

/* Query thread: the snapshots at the targets' positions (or the replays' sizes), then the charge. */
static void
feed_cmd_prepare_run(struct feed_job *j, struct db *db)
{
	struct feed_cmd_job *cj = (struct feed_cmd_job *)j;
	int64_t from = FEED_POS(cj->cmd.since, 3);

	cj->rc = -1;
	cj->too_far = -1;
	if (db == NULL)
		return;
	if (cj->cmd.has_since && cj->cmd.type == KCMD_SUBSCRIBE) {
		/* only counted here: the rows are streamed afterwards (replay.c) */
		for (long i = 0; i < cj->n; i++) {
			long count;

			if (feed_stream_count(cj->views[i], from, cj->views[i]->pos,
			    cfg.feedd_replay_max + 1, &count) != 0)
				return;
			if (count > cfg.feedd_replay_max) {
				cj->too_far = i;
				cj->rc = 0;
				return;
			}
		}
	} else if (cj->n > 0 && feed_stream_books(cj->views, (size_t)cj->n, cj->base) != 0) {
		return;
	}
	cj->rc = 0;
	if (cj->charge)
		cj->charged = feed_auth_charge(db, &cj->caller, cj->n);
}

/* Sends what was read for target t on s: its snapshot, or (since) starts its replay from
 * position from. */
static void
feed_subs_first(struct feed_sub *s, struct feed_target *t, bool since, int64_t from)
{
	if (since) {
		if (feed_replay_start(s, t->m, from) != 0)
			feed_send_close(s->conn, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION, "out of memory");
		return;
	}
	/* a snapshot supersedes what a replay of the market still had to send */
	if (t->held == NULL)
		feed_replay_cancel(s, t->m);
	feed_send_grant(s->conn, true);
	feed_subs_emit(s, t->m, NULL, t->book, t->view.pos);
	if (t->has_gap)
		feed_subs_emit(s, t->m, &t->gap, NULL, 0);
	feed_send_grant(s->conn, false);
	/*
	 * Rows fanned out while the snapshot was read (the market's position moved past the one it
	 * was read at) follow from Postgres, as a replay from there: then live, with no gap. A
	 * market s already streamed had them held back since (get_snapshot).
	 */
	if (t->held != NULL) {
		feed_replay_release(t->held, true);
		t->held = NULL;
	} else if (t->m->pos > t->view.pos && feed_replay_start(s, t->m, t->view.pos) != 0) {
		feed_send_close(s->conn, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION, "out of memory");
	}
}

static void
feed_subs_subscribed(struct feed_conn *c, struct feed_cmd_job *cj)
{
	const struct kcmd *cmd = &cj->cmd;
	struct feed_sub *s;
	char *buf = NULL;
	size_t len;
	FILE *f;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		feed_subs_error(c, cmd, KERR_INTERNAL, NULL, NULL);
		return;
	}
	s->conn = c;
	ksub_open(&c->subs, &s->k);
	for (long i = 0; i < cj->n; i++) {
		if (ksub_add(&c->subs, &s->k, &cj->t[i].m->holders) != 0) {
			feed_subs_drop(c, s);
			feed_subs_error(c, cmd, KERR_INTERNAL, NULL, NULL);
			return;
		}
	}
	if ((f = open_memstream(&buf, &len)) == NULL)
		return;
	fputc('{', f);
	feed_subs_id(f, cmd);
	fprintf(f, "\"type\":\"subscribed\",\"msg\":{\"channel\":\"orderbook_delta\",\"sid\":%lld}}",
	    (long long)s->k.sid);
	feed_subs_sendf(c, &buf, &len, f);
	for (long i = 0; i < cj->n; i++)
		feed_subs_first(s, &cj->t[i], cmd->has_since, FEED_POS(cmd->since, 3));
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

/* The second query is back: the charge's refusal, or the subscription and its first messages. */
static void
feed_cmd_prepare_done(struct feed_job *j)
{
	struct feed_cmd_job *cj = (struct feed_cmd_job *)j;
	struct feed_conn *c = cj->c;
	const struct kcmd *cmd = &cj->cmd;
	struct feed_sub *s;
	size_t first;

	if (c->closed || c->close_code != 0)
		goto out;
	if (cj->rc != 0) {
		feed_subs_error(c, cmd, KERR_INTERNAL, NULL, "database unavailable");
		goto out;
	}
	if (cj->too_far >= 0) {
		feed_subs_error(c, cmd, KERR_INVALID, cj->t[cj->too_far].ticker,
		    "since is too far back: more changes than KBOOK_FEEDD_REPLAY_MAX");
		goto out;
	}
	for (long i = 0; i < cj->n && !(cmd->has_since && cmd->type == KCMD_SUBSCRIBE); i++) {
		struct feed_target *t = &cj->t[i];
		const struct feed_base *b = &cj->base[i];

		t->book = b->book;
		cj->base[i].book = NULL;
		if (b->gap_start >= 0) {
			t->has_gap = true;
			t->gap.kind = FEED_K_GAP;
			t->gap.pos = FEED_POS(b->gap_start, FEED_K_GAP);
			t->gap.gap_end = b->gap_end;
			snprintf(t->gap.reason, sizeof(t->gap.reason), "%s", b->reason);
		}
	}
	if (cj->charge && feed_subs_charged(c, cmd, cj->charged) != 0)
		goto out;
	if (cmd->type == KCMD_SUBSCRIBE) {
		feed_subs_subscribed(c, cj);
		goto out;
	}
	if ((s = feed_subs_find(c, cmd->sids[0])) == NULL) {
		feed_subs_error(c, cmd, KERR_UNKNOWN_SID, NULL, NULL);
		goto out;
	}
	if (cmd->action == KCMD_ACT_ADD) {
		first = s->k.n_markets;
		for (long i = 0; i < cj->n; i++) {
			if (ksub_add(&c->subs, &s->k, &cj->t[i].m->holders) != 0) {
				feed_subs_error(c, cmd, KERR_INTERNAL, NULL, NULL);
				goto out;
			}
		}
		feed_subs_update_ok(s, cmd);
		for (long i = 0; i < cj->n && first + (size_t)i < s->k.n_markets; i++)
			feed_subs_first(s, &cj->t[i], false, 0);
	} else {
		for (long i = 0; i < cj->n; i++)
			feed_subs_first(s, &cj->t[i], false, 0);
	}
out:
	feed_cmd_job_free(cj);
}

/*
 * Registers the n targets at their stream ends (a market already tracked keeps its position),
 * pins them and copies each one's view for the second query. Returns 0, or -1 after answering.
 */
static int
feed_subs_register(struct feed_conn *c, struct feed_cmd_job *cj, struct feed_sub *s)
{
	size_t cap = (size_t)(cj->n > 0 ? cj->n : 1);

	if ((cj->views = calloc(cap, sizeof(struct feed_market *))) == NULL ||
	    (cj->base = calloc(cap, sizeof(*cj->base))) == NULL) {
		feed_subs_error(c, &cj->cmd, KERR_INTERNAL, NULL, NULL);
		return -1;
	}
	for (long i = 0; i < cj->n; i++) {
		struct feed_target *t = &cj->t[i];
		bool fresh = feed_market_find(t->id) == NULL;

		if ((t->m = feed_market_get(t->id, t->ticker, t->notional, t->end)) == NULL) {
			feed_subs_error(c, &cj->cmd, KERR_INTERNAL, NULL, NULL);
			return -1;
		}
		t->m->pins++;
		/* a NOTIFY of its rows after its end was read found it untracked: read from there */
		if (fresh)
			feed_market_mark_dirty(t->id);
		feed_market_copy(&t->view, t->m);
		cj->views[i] = &t->view;
		/*
		 * get_snapshot of a market the sub streams: its live rows must not reach the sub
		 * between the position the snapshot is read at and the snapshot (they would come again
		 * after it, behind a snapshot older than them); they follow it as a replay.
		 */
		if (s != NULL && cj->cmd.action == KCMD_ACT_SNAPSHOT &&
		    (t->held = feed_replay_hold(s, t->m, t->view.pos)) == NULL) {
			feed_subs_error(c, &cj->cmd, KERR_INTERNAL, NULL, NULL);
			return -1;
		}
	}
	return 0;
}

/*
 * The first query is back: the targets are checked as the command requires (unknown markets,
 * the plan's market limit, update_subscription's sid and action; delete_markets ends here), then
 * registered, and the second query is queued.
 */
static void
feed_cmd_resolve_done(struct feed_job *j)
{
	struct feed_cmd_job *cj = (struct feed_cmd_job *)j;
	struct feed_conn *c = cj->c;
	const struct kcmd *cmd = &cj->cmd;
	struct feed_sub *s = NULL;
	enum kcmd_action act;
	long n, fresh = 0;

	if (c->closed || c->close_code != 0)
		goto out;
	if (cj->rc != 0) {
		feed_subs_error(c, cmd, KERR_INTERNAL, NULL, "database unavailable");
		goto out;
	}
	if ((n = feed_subs_resolve(c, cmd, cj->res, cj->ends, &cj->t)) < 0)
		goto out;
	cj->n = n;
	/* update_subscription's sid was found before the query; it cannot have gone since */
	if (cmd->type == KCMD_UPDATE && (s = feed_subs_find(c, cmd->sids[0])) == NULL) {
		feed_subs_error(c, cmd, KERR_UNKNOWN_SID, NULL, NULL);
		goto out;
	}
	act = cmd->type == KCMD_SUBSCRIBE ? KCMD_ACT_ADD : cmd->action;
	if (s == NULL && act != KCMD_ACT_ADD)
		goto out;
	switch (act) {
	case KCMD_ACT_ADD:
		/* update: markets already held are left out, the rest are new */
		for (long i = 0; i < n; i++) {
			struct feed_market *m = s != NULL ? feed_market_find(cj->t[i].id) : NULL;

			if (m == NULL || !ksub_holds(&s->k, &m->holders))
				cj->t[fresh++] = cj->t[i];
		}
		cj->n = fresh;
		if (c->subs.n_markets + (size_t)fresh > (size_t)c->caller.markets_max) {
			feed_subs_market_limit(c, cmd);
			goto out;
		}
		cj->charge = true;
		break;
	case KCMD_ACT_DELETE:
		for (long i = 0; i < n; i++)
			for (size_t k = 0; k < s->k.n_markets; k++)
				if (feed_sub_market(s, k)->id == cj->t[i].id) {
					feed_subs_remove_market(s, k);
					break;
				}
		feed_subs_update_ok(s, cmd);
		goto out;
	case KCMD_ACT_SNAPSHOT:
		for (long i = 0; i < n; i++) {
			struct feed_market *m = feed_market_find(cj->t[i].id);

			if (m == NULL || !ksub_holds(&s->k, &m->holders)) {
				feed_subs_error(c, cmd, KERR_INVALID, cj->t[i].ticker, NULL);
				goto out;
			}
		}
		break;
	case KCMD_ACT_NONE:
		feed_subs_error(c, cmd, KERR_ACTION, NULL, NULL);
		goto out;
	}
	if (feed_subs_register(c, cj, s) != 0)
		goto out;
	cj->caller = c->caller;
	cj->j.run = feed_cmd_prepare_run;
	cj->j.done = feed_cmd_prepare_done;
	feed_jobs_submit(&cj->j);
	return;
out:
	feed_cmd_job_free(cj);
}

/* Starts a subscribe or update_subscription (takes cmd's contents; cmd is left empty). */
static void
feed_subs_submit(struct feed_conn *c, struct kcmd *cmd)
{
	struct feed_cmd_job *cj;

	if (cmd->type == KCMD_UPDATE && feed_subs_find(c, cmd->sids[0]) == NULL) {
		feed_subs_error(c, cmd, KERR_UNKNOWN_SID, NULL, NULL);
		return;
	}
	if ((cj = calloc(1, sizeof(*cj))) == NULL || (cj->arr = feed_subs_array(cmd)) == NULL) {
		free(cj);
		feed_subs_error(c, cmd, KERR_INTERNAL, NULL, NULL);
		return;
	}
	cj->c = c;
	cj->cmd = *cmd;
	memset(cmd, 0, sizeof(*cmd));
	cj->j.run = feed_cmd_resolve_run;
	cj->j.done = feed_cmd_resolve_done;
	feed_conn_ref(c);
	c->busy = true;
	feed_jobs_submit(&cj->j);
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

/* Commands one connection may have waiting; past it the client is not reading its replies. */
#define FEED_CMDQ_MAX 256

static void
feed_subs_exec(struct feed_conn *c, const char *text, size_t len)
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
	case KCMD_UPDATE:
		feed_subs_submit(c, &cmd);
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

/* Runs the commands that waited, in order, until one waits for its queries again. */
static void
feed_subs_resume(struct feed_conn *c)
{
	struct feed_cmd *q;

	while (!c->busy && (q = c->cmdq) != NULL) {
		if ((c->cmdq = q->next) == NULL)
			c->cmdq_tail = &c->cmdq;
		c->cmdq_n--;
		if (!c->closed && c->close_code == 0)
			feed_subs_exec(c, q->text, q->len);
		free(q);
	}
}

void
feed_subs_command(struct feed_conn *c, const char *text, size_t len)
{
	struct feed_cmd *q;

	if (!c->busy) {
		feed_subs_exec(c, text, len);
		return;
	}
	if (c->cmdq_n >= FEED_CMDQ_MAX || (q = malloc(sizeof(*q) + len + 1)) == NULL) {
		feed_send_close(c, LWS_CLOSE_STATUS_POLICY_VIOLATION, "too many commands waiting");
		return;
	}
	q->next = NULL;
	q->len = len;
	memcpy(q->text, text, len);
	q->text[len] = '\0';
	if (c->cmdq_tail == NULL)
		c->cmdq_tail = &c->cmdq;
	*c->cmdq_tail = q;
	c->cmdq_tail = &q->next;
	c->cmdq_n++;
}
