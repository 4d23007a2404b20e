/*
 * charge: authenticates an API key and charges a call's credits on the account's ledger
 * (BILLING.md), for the REST API and the feed alike.
 *
 * The common case is one statement: the key's account row for this month (credit_periods) is
 * upserted only when the plan's rate limit and the credits allow it (the conditional form of
 * BILLING.md, so concurrent calls never overdraw; a pay-as-you-go account records the excess as
 * overage) and the usage row of (key, route, day) is counted. The transaction commits with
 * synchronous_commit off: atomic, but a crash may forget the last instant of usage. When that
 * statement charges nothing, a second, read-only statement tells why. The key's last_used_at is
 * kept to the minute by a small update of its own when the charge finds it a minute old.
 * A key with a monthly credit cap is charged by a statement of its own that locks the
 * key's row and keeps its month's count in the same transaction as the account's ledger.
 */
#ifndef KBOOK_CHARGE_H
#define KBOOK_CHARGE_H

#include <stdint.h>

#include "db.h"

/*
 * The credit period an account is in now, in SQL, for a statement where `a` names its accounts
 * row: a project subscription's own billing period, else the calendar month in UTC (the
 * functions are in sql/001_baseline.sql; docs/operations.md). Every statement that finds "this
 * period's" ledger row uses these, so the charge, the refund and the pages agree.
 */
#define SQL_PERIOD_START(a) "kb_period_start(" a ".plan, " a ".subscription_period_start)"
#define SQL_PERIOD_END(a) \
	"kb_period_end(" a ".plan, " a ".subscription_period_start, " a ".subscription_period_end)"

struct charge {
	/* "ok", "invalid_api_key", "revoked_api_key", "account_disabled", "email_unconfirmed",
	 * "rate_limited", "credits_exhausted" or "key_cap_reached" (static strings: the API's error
	 * codes) */
	const char *code;
	/* known unless code is invalid_api_key */
	int64_t account_id, key_id;
	char plan[16];
	/* the month's ledger and the minute's rate window, after this call (known unless the key
	 * is invalid, revoked or disabled) */
	int64_t allowance, used, overage, period_end_us;
	int64_t rate_limit, rate_remaining, rate_reset_us;
};

/*
 * Charges cost credits for route to the key whose SHA-256 is hash_hex (64 hex digits). Fills out
 * and returns 0, or returns -1 when Postgres cannot be asked (logged).
 */
int charge_key(struct db *db, const char *hash_hex, int cost, const char *route, struct charge *out);

/*
 * charge_key, with the caller's first statement (rider) sent in the same round trip and run in
 * the same transaction right after the charge (db_exec_pipeline): rider->res is its result, or
 * NULL when it failed (the charge is then made again alone, since the failure undid it; but when
 * the connection was lost after the pipeline was sent, the charge's outcome is unknown and -1 is
 * returned rather than risk charging twice). rider's result is the caller's to use only when
 * out->code is "ok".
 */
int charge_key_with(struct db *db, const char *hash_hex, int cost, const char *route,
    struct db_call *rider, struct charge *out);

/*
 * What charge_key would do, without doing it (read only: no credits, no rate count, no usage):
 * fills out as charge_key would ("ok" when the call would be charged) with the ledger as it is
 * now. Returns 0, or -1 when Postgres cannot be asked.
 */
int charge_estimate(struct db *db, const char *hash_hex, int cost, struct charge *out);

/* Gives back the credits of a charged call that failed (overage first, then the allowance) and
 * updates c to match. Returns 0 or -1 (logged). */
int charge_refund(struct db *db, struct charge *c, int cost, const char *route);

#endif
