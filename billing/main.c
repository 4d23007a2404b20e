/*
 * kbook-billing: sends pay-as-you-go overage (billing_outbox, written by the charge in the
 * same transaction as the credits) to Stripe as meter events (shared/BILLING.md), so no data
 * request ever waits on Stripe and no credit is lost or counted twice.
 *
 * A round claims up to KBOOK_BILLING_BATCH due rows (FOR UPDATE SKIP LOCKED: several senders
 * never take the same row) by giving them a lease of KBOOK_BILLING_LEASE_S seconds and commits;
 * then, with no transaction open, POSTs each row as POST /v1/billing/meter_events with
 * identifier = the row's id (and the same Idempotency-Key on every attempt); then marks it in a
 * statement of its own: sent; or, for 409, 429, 5xx or no answer, due again after 1 s, 2 s, 4 s
 * ... up to KBOOK_BILLING_RETRY_MAX_S; or, for any other 4xx (a validation error), failed for
 * good with Stripe's answer kept. A sender killed between the POST and the mark leaves the row
 * leased: when the lease ends it is sent again with the same identifier, which Stripe refuses as
 * resource_already_exists, taken here as sent. Rows of an account with no Stripe customer yet
 * wait, counted by kbook_billing_waiting_customer_rows. /metrics and /healthz are served on 127.0.0.1:KBOOK_BILLING_METRICS_PORT.
 */
#include <inttypes.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "backoff.h"
#include "billing.h"
#include "config.h"
#include "db.h"
#include "log.h"
#include "service.h"
#include "stripe_api.h"

#define POLL_S 1

struct billing_stats billing_stats;

/*
 * $1 batch, $2 lease seconds, $3 settle seconds. A row collects its account's overage until its
 * bucket closes (closes_at, KBOOK_BILLING_BUCKET_S wide; sql/017_outbox_buckets.sql) and is
 * claimed only $3 seconds after that: the charge adds to it and, when the call then fails (404,
 * a 400 of the route, 5xx), api_refund takes the credits back off it, which it can do only while
 * no sender has claimed it. With the settle longer than any request runs, no charge still adds
 * to a row being claimed and every failed call is refunded, as the API docs say; metering a
 * minute or two later costs nothing (Stripe sums a month).
 */
static struct db_stmt q_claim = DB_STMT("billing_claim",
    "UPDATE billing_outbox o SET attempts = o.attempts + 1,"
    " next_attempt_at = now() + make_interval(secs => $2::int)"
    " FROM accounts a"
    " WHERE o.id IN (SELECT b.id FROM billing_outbox b JOIN accounts ac ON ac.id = b.account_id"
    "  WHERE b.sent_at IS NULL AND b.failed_at IS NULL AND b.next_attempt_at <= now()"
    "  AND b.closes_at <= now() - make_interval(secs => $3::int)"
    "  AND ac.stripe_customer_id IS NOT NULL ORDER BY b.id LIMIT $1::int FOR UPDATE OF b SKIP LOCKED)"
    " AND a.id = o.account_id"
    " RETURNING o.id, o.credits, a.stripe_customer_id, o.attempts", 3);

static struct db_stmt q_sent = DB_STMT("billing_sent",
    "UPDATE billing_outbox SET sent_at = now(), last_error = NULL WHERE id = $1::bigint", 1);

/* $1 id, $2 error, $3 seconds until the next attempt */
static struct db_stmt q_retry = DB_STMT("billing_retry",
    "UPDATE billing_outbox SET last_error = $2,"
    " next_attempt_at = now() + make_interval(secs => $3::int) WHERE id = $1::bigint", 3);

static struct db_stmt q_failed = DB_STMT("billing_failed",
    "UPDATE billing_outbox SET failed_at = now(), last_error = $2 WHERE id = $1::bigint", 2);

/* The backlog, and the part of it no round can claim: overage of accounts without a Stripe
 * customer (made payg by kbook-admin rather than by the billing page, which makes the customer
 * first). It waits until a customer is linked; an operator watches the gauge. */
static struct db_stmt q_backlog = DB_STMT("billing_backlog",
    "SELECT count(*), coalesce(sum(o.credits), 0),"
    " count(*) FILTER (WHERE a.stripe_customer_id IS NULL),"
    " coalesce(sum(o.credits) FILTER (WHERE a.stripe_customer_id IS NULL), 0)"
    " FROM billing_outbox o JOIN accounts a ON a.id = o.account_id"
    " WHERE o.sent_at IS NULL AND o.failed_at IS NULL", 0);

/* Stripe's error code of an answer body, into out ("" when none). */
static void
error_code(const struct sbuf *resp, char *out, size_t cap, char *param, size_t pcap)
{
	struct json_object *o = resp->p != NULL ? json_tokener_parse(resp->p) : NULL, *e, *v;

	out[0] = param[0] = '\0';
	if (o != NULL && json_object_object_get_ex(o, "error", &e)) {
		if (json_object_object_get_ex(e, "code", &v) && json_object_is_type(v, json_type_string))
			snprintf(out, cap, "%s", json_object_get_string(v));
		if (json_object_object_get_ex(e, "param", &v) && json_object_is_type(v, json_type_string))
			snprintf(param, pcap, "%s", json_object_get_string(v));
	}
	json_object_put(o);
}

static void
mark(struct db *db, struct db_stmt *st, const char *const *params)
{
	PGresult *res = db_exec(db, st, params);

	PQclear(res);
}

/* Sends one claimed row and records the outcome. */
static void
send_row(struct db *db, const char *id, const char *credits, const char *customer, int attempts)
{
	struct sbuf form = { 0 }, resp = { 0 };
	char idem[64], code[64], param[64], err[512], wait[24];
	long status;

	if (atoll(credits) == 0) {  /* all of it refunded before it was claimed */
		const char *p[] = { id };

		mark(db, &q_sent, p);
		return;
	}
	stripe_form_add(&form, "event_name", cfg.stripe_meter_event);
	stripe_form_add(&form, "payload[stripe_customer_id]", customer);
	stripe_form_add(&form, "payload[value]", credits);
	stripe_form_add(&form, "identifier", id);
	snprintf(idem, sizeof(idem), "kbook-meter-%s", id);
	atomic_fetch_add(&billing_stats.posts, 1);
	stripe_post("/v1/billing/meter_events", &form, idem, 1, &status, &resp);
	error_code(&resp, code, sizeof(code), param, sizeof(param));
	if ((status >= 200 && status < 300) ||
	    (status == 400 && strcmp(code, "resource_already_exists") == 0 && strcmp(param, "identifier") == 0)) {
		const char *p[] = { id };

		mark(db, &q_sent, p);
		atomic_fetch_add(&billing_stats.sent, 1);
		atomic_fetch_add(&billing_stats.credits_sent, (uint64_t)atoll(credits));
		if (status == 400)
			atomic_fetch_add(&billing_stats.already_sent, 1);
		log_info("meter event %s (%s credits) sent%s", id, credits,
		    status == 400 ? " (Stripe had it already)" : "");
	} else if (stripe_retryable(status)) {
		const char *p[] = { id, err, wait };

		snprintf(err, sizeof(err), "HTTP %ld %s", status, code);
		/* 1 s, 2 s, 4 s ... up to KBOOK_BILLING_RETRY_MAX_S */
		snprintf(wait, sizeof(wait), "%" PRId64,
		    backoff_wait(attempts, 1, cfg.billing_retry_max_s));
		mark(db, &q_retry, p);
		atomic_fetch_add(&billing_stats.retries, 1);
		log_warnx("meter event %s not sent (attempt %d, next in %s s): %s", id, attempts, wait, err);
	} else {
		const char *p[] = { id, err };

		snprintf(err, sizeof(err), "HTTP %ld %.400s", status, resp.p != NULL ? resp.p : "");
		mark(db, &q_failed, p);
		atomic_fetch_add(&billing_stats.failed, 1);
		log_errorx("meter event %s refused by Stripe, not retried: %s", id, err);
	}
	sbuf_free(&form);
	sbuf_free(&resp);
}

/* One round: claims a batch and sends it. Returns the rows claimed, or -1 on a database error. */
static int
round_once(struct db *db)
{
	char batch[24], lease[24], settle[24];
	const char *params[] = { batch, lease, settle };
	PGresult *res;
	int n;

	snprintf(batch, sizeof(batch), "%" PRId64, cfg.billing_batch);
	snprintf(lease, sizeof(lease), "%" PRId64, cfg.billing_lease_s);
	snprintf(settle, sizeof(settle), "%" PRId64, cfg.billing_settle_s);
	if ((res = db_exec(db, &q_claim, params)) == NULL)
		return -1;
	n = PQntuples(res);
	for (int i = 0; i < n && !service_stopping(); i++)
		send_row(db, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1), PQgetvalue(res, i, 2),
		    atoi(PQgetvalue(res, i, 3)));
	PQclear(res);
	return n;
}

static void
update_backlog(struct db *db)
{
	PGresult *res = db_exec(db, &q_backlog, NULL);

	if (res == NULL) {
		atomic_store(&billing_stats.db_ok, 0);
		return;
	}
	atomic_store(&billing_stats.db_ok, 1);
	atomic_store(&billing_stats.backlog_rows, (uint64_t)atoll(PQgetvalue(res, 0, 0)));
	atomic_store(&billing_stats.backlog_credits, (uint64_t)atoll(PQgetvalue(res, 0, 1)));
	atomic_store(&billing_stats.nocustomer_rows, (uint64_t)atoll(PQgetvalue(res, 0, 2)));
	atomic_store(&billing_stats.nocustomer_credits, (uint64_t)atoll(PQgetvalue(res, 0, 3)));
	PQclear(res);
}

int
main(int argc, char **argv)
{
	struct db *db;

	service_init("kbook-billing", CFG_BILLING, "[--config-help]", NULL, argc, argv);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		log_fatal("cannot initialise libcurl");
	if (stripe_api_init() != 0)
		log_fatal("no Stripe secret key (KBOOK_STRIPE_SECRET_KEY_FILE): nothing to send with");
	service_signals(NULL);
	db = service_db(0);
	if (billing_metrics_start((int)cfg.billing_metrics_port) != 0)
		log_fatal("cannot serve /metrics on 127.0.0.1:%" PRId64, cfg.billing_metrics_port);
	log_info("kbook-billing started: meter events to %s", cfg.stripe_api_base);
	while (!service_stopping()) {
		int n = round_once(db);

		update_backlog(db);
		if (n < 0 || (n < cfg.billing_batch && !service_stopping()))
			poll(NULL, 0, POLL_S * 1000);
	}
	log_info("kbook-billing stopped");
	billing_metrics_stop();
	db_close(db);
	curl_global_cleanup();
	config_free();
	return 0;
}
