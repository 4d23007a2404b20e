/*
 * charge: see charge.h. Its statements are constant SQL with $n parameters.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "charge.h"
#include "config.h"
#include "log.h"

/* The account's credit period (charge.h) and the minute of now(). */
#define PSTART SQL_PERIOD_START("a")
#define WSTART "date_trunc('minute', now())"

/* The end of the outbox bucket of now(), $4 seconds wide (KBOOK_BILLING_BUCKET_S): a call's
 * overage is added to its account's open row of the bucket (sql/017_outbox_buckets.sql). */
#define BUCKET_END \
    "(date_bin(make_interval(secs => $4::int), now(), 'epoch') + make_interval(secs => $4::int))"

/* A key's last use, kept to the minute, is out of date. */
#define STALE(col) "(" col " IS NULL OR " col " < now() - interval '1 minute')"

/* The key's row with its account and plan, and the month and minute of the call; the key must be
 * live, its account enabled and its email confirmed. */
#define K_COLS \
    " SELECT ak.id AS key_id, ak.account_id, ak.last_used_at, a.plan," \
    "  coalesce(a.monthly_credits_override, p.monthly_credits) AS credits," \
    "  coalesce(a.rate_per_min_override, p.rate_per_min) AS rate, p.overage AS overage_ok," \
    "  " PSTART " AS pstart, " SQL_PERIOD_END("a") " AS pend, " WSTART " AS wstart," \
    "  set_config('synchronous_commit', 'off', true) AS sc"
#define K_FROM \
    " FROM api_keys ak JOIN accounts a ON a.id = ak.account_id JOIN plans p ON p.name = a.plan" \
    " WHERE ak.hash = decode($1, 'hex') AND ak.revoked_at IS NULL AND NOT a.disabled" \
    "  AND a.email_confirmed"
/* A capped key's credits this month so far. */
#define CAP_USED "(CASE WHEN ak.cap_period = " PSTART " THEN ak.cap_used ELSE 0 END)"

/* After k: the period row, made by the month's first call, else charged when rate and credits
 * allow; a pay-as-you-go call's credits past the allowance (call_overage) are added to its
 * account's row of the outbox kbook-billing sends to Stripe (one row per bucket, BUCKET_END),
 * in the same statement: the ledger's overage and the outbox never disagree; and the usage row
 * of (key, route, day). */
#define CHARGE_C_U \
    " c AS (INSERT INTO credit_periods AS c" \
    "  (account_id, period_start, period_end, allowance, used, overage, call_overage," \
    "   rate_window, rate_calls)" \
    " SELECT k.account_id, k.pstart, k.pend, k.credits," \
    "  least($2::int, k.credits), greatest($2::int - k.credits, 0)," \
    "  greatest($2::int - k.credits, 0), k.wstart, 1" \
    " FROM k WHERE k.overage_ok OR $2::int <= k.credits" \
    " ON CONFLICT (account_id, period_start) DO UPDATE SET" \
    "  used = least(c.used + $2::int, c.allowance)," \
    "  overage = c.overage + greatest(c.used + $2::int - c.allowance, 0)," \
    "  call_overage = greatest(c.used + $2::int - c.allowance, 0)," \
    "  rate_calls = CASE WHEN c.rate_window = excluded.rate_window" \
    "   THEN c.rate_calls + 1 ELSE 1 END," \
    "  rate_window = excluded.rate_window" \
    " WHERE (c.rate_window IS DISTINCT FROM excluded.rate_window" \
    "   OR c.rate_calls < (SELECT rate FROM k))" \
    "  AND ((SELECT overage_ok FROM k) OR c.used + $2::int <= c.allowance)" \
    " RETURNING c.allowance, c.used, c.overage, c.period_end, c.rate_calls, c.rate_window," \
    "  c.call_overage)," \
    " o AS (INSERT INTO billing_outbox AS o (account_id, credits, closes_at)" \
    "  SELECT k.account_id, c.call_overage, " BUCKET_END " FROM k, c WHERE c.call_overage > 0" \
    "  ON CONFLICT (account_id, closes_at) WHERE attempts = 0" \
    "  DO UPDATE SET credits = o.credits + excluded.credits)," \
    " u AS (INSERT INTO usage AS u" \
    "  SELECT k.key_id, $3, (now() AT TIME ZONE 'UTC')::date, 1, $2::int" \
    "  FROM k, c ON CONFLICT (key_id, route, day)" \
    "  DO UPDATE SET calls = u.calls + 1, credits = u.credits + excluded.credits)"
#define CHARGE_RESULT \
    " SELECT k.account_id, k.key_id, k.plan, c.allowance, c.used, c.overage, kb_us(c.period_end)," \
    "  k.rate, greatest(k.rate - c.rate_calls, 0), kb_us(c.rate_window + interval '1 minute'), k.sc," \
    "  " STALE("k.last_used_at") \
    " FROM k, c"

/* $1 hash (hex), $2 cost, $3 route, $4 bucket seconds. One row when charged, none otherwise. A
 * key with a monthly cap is not charged here (no row): the refusal says so, and q_charge_capped
 * charges it. The two extra conditions cost an uncapped key nothing measurable (see
 * docs/benchmarks.md). */
static struct db_stmt q_charge = DB_STMT("charge_key",
    "WITH k AS MATERIALIZED (" K_COLS K_FROM " AND ak.monthly_cap IS NULL)," CHARGE_C_U
    CHARGE_RESULT, 4);

/* q_charge for a key with a monthly cap: the key's row is locked first (FOR UPDATE), so the
 * calls of one key pass one at a time and its count is read at its latest; the key is charged
 * only while its count plus the cost stays within the cap, and its count grows in the same
 * statement as the account's ledger: both or neither. */
static struct db_stmt q_charge_capped = DB_STMT("charge_key_capped",
    "WITH k AS MATERIALIZED (" K_COLS ", " CAP_USED " AS cap_used" K_FROM
    "  AND ak.monthly_cap IS NOT NULL AND " CAP_USED " + $2::int <= ak.monthly_cap"
    " FOR UPDATE OF ak)," CHARGE_C_U ","
    " kc AS (UPDATE api_keys SET cap_period = k.pstart, cap_used = k.cap_used + $2::int"
    "  FROM k, c WHERE api_keys.id = k.key_id)"
    CHARGE_RESULT, 4);

/* $1 key id: its last use is now, when the charge found it STALE (once a minute at most). A
 * statement of its own, not a fourth part of q_charge: there it cost every call ~10 % of the
 * charge's time (executor set-up of an UPDATE joined to the key), for one update a minute. */
static struct db_stmt q_touch = DB_STMT("charge_touch",
    "UPDATE api_keys SET last_used_at = now() WHERE id = $1 AND " STALE("last_used_at")
    " RETURNING set_config('synchronous_commit', 'off', true)", 1);

/* $1 hash (hex), $2 cost: why the charge did not happen (read only, a fresh snapshot). */
static struct db_stmt q_refusal = DB_STMT("charge_refusal",
    "SELECT ak.id, ak.account_id, a.plan, ak.revoked_at IS NOT NULL, a.disabled,"
    " coalesce(a.rate_per_min_override, p.rate_per_min) AS rate,"
    " coalesce(c.allowance, coalesce(a.monthly_credits_override, p.monthly_credits)),"
    " coalesce(c.used, 0), coalesce(c.overage, 0),"
    " kb_us(" SQL_PERIOD_END("a") "),"
    " CASE WHEN c.rate_window = " WSTART " THEN c.rate_calls ELSE 0 END,"
    " kb_us(" WSTART " + interval '1 minute'),"
    " NOT p.overage AND coalesce(c.used, 0) + $2::int > "
    "  coalesce(c.allowance, coalesce(a.monthly_credits_override, p.monthly_credits)),"
    " NOT a.email_confirmed, ak.monthly_cap IS NOT NULL,"
    " ak.monthly_cap IS NOT NULL AND " CAP_USED " + $2::int > ak.monthly_cap"
    " FROM api_keys ak JOIN accounts a ON a.id = ak.account_id JOIN plans p ON p.name = a.plan"
    " LEFT JOIN credit_periods c ON c.account_id = ak.account_id AND c.period_start = " PSTART
    " WHERE ak.hash = decode($1, 'hex')", 2);

static struct db_stmt q_refund = DB_STMT("charge_refund",
    "SELECT api_refund($1::bigint, $2::bigint, $3::int, $4)", 4);

static int64_t
col(const PGresult *res, int c)
{
	return strtoll(PQgetvalue(res, 0, c), NULL, 10);
}

/* Fills out from the refusal row; returns 0 when refused, 2 when the key has a monthly cap that
 * it has not reached (charge it with q_charge_capped), 1 when nothing refuses the call any more
 * (a race with a refund or a new minute: charge again). */
static int
refusal(const PGresult *res, struct charge *out)
{
	out->key_id = col(res, 0);
	out->account_id = col(res, 1);
	snprintf(out->plan, sizeof(out->plan), "%s", PQgetvalue(res, 0, 2));
	if (PQgetvalue(res, 0, 3)[0] == 't') {
		out->code = "revoked_api_key";
		return 0;
	}
	if (PQgetvalue(res, 0, 4)[0] == 't') {
		out->code = "account_disabled";
		return 0;
	}
	if (PQgetvalue(res, 0, 13)[0] == 't') {
		out->code = "email_unconfirmed";
		return 0;
	}
	out->rate_limit = col(res, 5);
	out->allowance = col(res, 6);
	out->used = col(res, 7);
	out->overage = col(res, 8);
	out->period_end_us = col(res, 9);
	out->rate_remaining = out->rate_limit > col(res, 10) ? out->rate_limit - col(res, 10) : 0;
	out->rate_reset_us = col(res, 11);
	if (out->rate_remaining == 0)
		out->code = "rate_limited";
	else if (PQgetvalue(res, 0, 12)[0] == 't')
		out->code = "credits_exhausted";
	else if (PQgetvalue(res, 0, 15)[0] == 't')
		out->code = "key_cap_reached";
	else
		return PQgetvalue(res, 0, 14)[0] == 't' ? 2 : 1;
	return 0;
}

/* Keeps the key's last use. Its failure is logged (by db) and costs the call nothing: the
 * charge is committed, and the next call tries again. */
static void
touch(struct db *db, int64_t key_id)
{
	char id[24];
	const char *params[] = { id };
	PGresult *res;

	snprintf(id, sizeof(id), "%lld", (long long)key_id);
	if ((res = db_exec(db, &q_touch, params)) != NULL)
		PQclear(res);
}

/* Fills out from a row of q_charge. */
static void
charged(const PGresult *res, struct charge *out)
{
	out->code = "ok";
	out->account_id = col(res, 0);
	out->key_id = col(res, 1);
	snprintf(out->plan, sizeof(out->plan), "%s", PQgetvalue(res, 0, 2));
	out->allowance = col(res, 3);
	out->used = col(res, 4);
	out->overage = col(res, 5);
	out->period_end_us = col(res, 6);
	out->rate_limit = col(res, 7);
	out->rate_remaining = col(res, 8);
	out->rate_reset_us = col(res, 9);
}

/*
 * What follows a q_charge result res (consumed): 0 when out is settled (charged or refused),
 * 1 when the charge must be tried again, 2 when again with q_charge_capped, -1 on a database
 * error.
 */
static int
settle(struct db *db, const char *const *params, PGresult *res, struct charge *out)
{
	int again;

	if (PQntuples(res) == 1) {
		bool stale = PQgetvalue(res, 0, 11)[0] == 't';

		charged(res, out);
		PQclear(res);
		if (stale)
			touch(db, out->key_id);
		return 0;
	}
	PQclear(res);
	if ((res = db_exec(db, &q_refusal, params)) == NULL)
		return -1;
	if (PQntuples(res) == 0) {
		out->code = "invalid_api_key";
		PQclear(res);
		return 0;
	}
	again = refusal(res, out);
	PQclear(res);
	return again;
}

int
charge_key_with(struct db *db, const char *hash_hex, int cost, const char *route,
    struct db_call *rider, struct charge *out)
{
	char c[16], bucket[24];
	const char *params[] = { hash_hex, c, route, bucket };
	struct db_call calls[2] = { { .stmt = &q_charge } };
	struct db_stmt *stmt = &q_charge;
	int rc;

	memset(out, 0, sizeof(*out));
	snprintf(c, sizeof(c), "%d", cost);
	snprintf(bucket, sizeof(bucket), "%" PRId64, cfg.billing_bucket_s);
	if (rider != NULL) {
		memcpy(calls[0].params, params, sizeof(params));
		calls[1] = *rider;
		if (db_exec_pipeline(db, calls, 2) == 0) {
			rider->res = calls[1].res;
			if ((rc = settle(db, params, calls[0].res, out)) <= 0)
				return rc;
			if (rc == 2)
				stmt = &q_charge_capped;
		} else {
			rider->res = NULL;
			/* the connection died after the pipeline was sent: the charge may have committed
			 * before the server went away, so it is not made again (the caller answers 503);
			 * a server error instead rolled the whole pipeline back, and the charge goes alone */
			if (db_lost(db))
				return -1;
		}
	}
	/* alone: three tries, since a refusal that nothing explains means a race with a refund */
	for (int attempt = 0; attempt < 3; attempt++) {
		PGresult *res = db_exec(db, stmt, params);

		if (res == NULL)
			return -1;
		if ((rc = settle(db, params, res, out)) <= 0)
			return rc;
		if (rc == 2)
			stmt = &q_charge_capped;
	}
	/* refused three times while nothing seemed to refuse it: the ledger is too busy */
	out->code = "credits_exhausted";
	return 0;
}

int
charge_key(struct db *db, const char *hash_hex, int cost, const char *route, struct charge *out)
{
	return charge_key_with(db, hash_hex, cost, route, NULL, out);
}

int
charge_estimate(struct db *db, const char *hash_hex, int cost, struct charge *out)
{
	char c[16];
	const char *params[] = { hash_hex, c };
	PGresult *res;

	memset(out, 0, sizeof(*out));
	snprintf(c, sizeof(c), "%d", cost);
	if ((res = db_exec(db, &q_refusal, params)) == NULL)
		return -1;
	if (PQntuples(res) == 0)
		out->code = "invalid_api_key";
	else if (refusal(res, out) != 0)
		out->code = "ok";
	PQclear(res);
	return 0;
}

int
charge_refund(struct db *db, struct charge *ch, int cost, const char *route)
{
	char acc[24], key[24], c[16];
	const char *params[] = { acc, key, c, route };
	PGresult *res;

	snprintf(acc, sizeof(acc), "%lld", (long long)ch->account_id);
	snprintf(key, sizeof(key), "%lld", (long long)ch->key_id);
	snprintf(c, sizeof(c), "%d", cost);
	if ((res = db_exec(db, &q_refund, params)) == NULL) {
		log_warnx("refund of %s credits to account %s failed", c, acc);
		return -1;
	}
	PQclear(res);
	if (ch->overage >= cost) {
		ch->overage -= cost;
	} else {
		ch->used -= cost - ch->overage;
		ch->overage = 0;
	}
	return 0;
}
