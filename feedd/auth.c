/*
 * auth: API keys and credits for the feed, on the same ledger as the REST API. The handshake's
 * key comes from the X-API-Key header, "Authorization: Bearer", or the api_key query parameter
 * (browsers cannot set headers on a websocket). Opening a connection is one charge_key call
 * (lib/charge.c, the REST API's) costing 1 credit on route "/v1/feed"; markets are charged 1 credit each
 * when added to a subscription and again per started KBOOK_FEEDD_CHARGE_S period they stay
 * subscribed (server.c's timer). Refusals use the API's error envelope; the statuses are the
 * feed's own (the table below): 401 for the key, 402 when the account has no credits left, 429 for
 * the plan's rate and its connection limit. The plan's limits (connections per key, markets per
 * connection) come from the feed_limits view, capped by KBOOK_FEEDD_KEY_CONNS/_MARKETS_MAX.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "apikey.h"
#include "charge.h"
#include "config.h"
#include "feed.h"
#include "kerr.h"
#include "log.h"

#define FEED_ROUTE "/v1/feed"

/* The account's feed limits (sql/001_baseline.sql). */
static struct db_stmt q_limits = DB_STMT("feed_limits",
    "SELECT conns_per_key, markets_per_conn FROM feed_limits WHERE account_id = $1::bigint", 1);

/* Refusals: charge_key's code, HTTP status, message. */
static const struct {
	const char *code;
	int status;
	const char *message;
} feed_auth_errors[] = {
	{ "missing_api_key", 401, "the feed needs an API key: X-API-Key header or api_key query parameter" },
	{ "invalid_api_key", 401, "the API key is not valid" },
	{ "revoked_api_key", 401, "the API key was revoked" },
	{ "account_disabled", 403, "the account is disabled" },
	{ "email_unconfirmed", 403, "the account's email is not confirmed yet" },
	{ "key_cap_reached", 429, "this key reached its monthly credit cap" },
	{ "rate_limited", 429, "too many requests this minute for this plan" },
	{ "credits_exhausted", 402, "no credits left this month" },
	{ "too_many_connections", 429, "too many feed connections open with this API key" },
	{ "service_unavailable", 503, "cannot check the API key now; retry shortly" },
};

static int
feed_auth_refuse(const char *code, char *body, size_t cap)
{
	for (size_t i = 0; i < sizeof(feed_auth_errors) / sizeof(feed_auth_errors[0]); i++) {
		if (strcmp(code, feed_auth_errors[i].code) == 0) {
			snprintf(body, cap, "{\"error\":{\"code\":\"%s\",\"message\":\"%s\",\"status\":%d}}\n",
			    code, feed_auth_errors[i].message, feed_auth_errors[i].status);
			return feed_auth_errors[i].status;
		}
	}
	log_errorx("charge_key returned unknown code %s", code);
	return feed_auth_refuse("service_unavailable", body, cap);
}

/* The key of the handshake into key (cap bytes); false when none was given. */
static bool
feed_auth_key(struct lws *wsi, char *key, int cap)
{
	char auth[256];
	const char *a;

	if (lws_hdr_custom_length(wsi, "x-api-key:", 10) > 0 &&
	    lws_hdr_custom_copy(wsi, key, cap, "x-api-key:", 10) > 0 && key[0] != '\0')
		return true;
	if (lws_hdr_copy(wsi, auth, sizeof(auth), WSI_TOKEN_HTTP_AUTHORIZATION) > 0 &&
	    strncasecmp(auth, "Bearer ", 7) == 0) {
		for (a = auth + 7; *a == ' '; a++)
			;
		if (*a != '\0') {
			snprintf(key, (size_t)cap, "%s", a);
			return true;
		}
	}
	/* lws returns a pointer into auth, past the name */
	if ((a = lws_get_urlarg_by_name(wsi, "api_key=", auth, (int)sizeof(auth))) == NULL || *a == '\0')
		return false;
	snprintf(key, (size_t)cap, "%s", a);
	return true;
}

size_t
feed_auth_key_conns(int64_t key_id)
{
	size_t n = 0;

	for (const struct feed_conn *c = feed_conns; c != NULL; c = c->next)
		n += c->caller.key_id == key_id && c->close_code == 0;
	return n;
}

/* Query thread. */
static void
feed_auth_refund(struct db *db, const struct feed_caller *c, int64_t credits)
{
	struct charge ch = { .account_id = c->account_id, .key_id = c->key_id };

	charge_refund(db, &ch, (int)credits, FEED_ROUTE);
}

/* Query thread: the plan's limits of c's account, capped by the configuration. Returns 0 or -1. */
static int
feed_auth_limits(struct db *db, struct feed_caller *c)
{
	char acc[24];
	const char *params[] = { acc };
	PGresult *res;

	snprintf(acc, sizeof(acc), "%lld", (long long)c->account_id);
	if ((res = db_exec(db, &q_limits, params)) == NULL)
		return -1;
	c->conns_max = PQntuples(res) != 1 || PQgetisnull(res, 0, 0) ? 1 :
	    strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	c->markets_max = PQntuples(res) != 1 || PQgetisnull(res, 0, 1) ? 1 :
	    strtoll(PQgetvalue(res, 0, 1), NULL, 10);
	PQclear(res);
	if (c->conns_max > cfg.feedd_key_conns)
		c->conns_max = cfg.feedd_key_conns;
	if (c->markets_max > cfg.feedd_markets_max)
		c->markets_max = cfg.feedd_markets_max;
	return 0;
}

/* Query thread: one charge; fills c's account and key when the key is known. Returns the code
 * (static) or NULL when Postgres cannot be asked. */
static const char *
feed_auth_call(struct db *db, const char *hash_hex, int64_t credits, struct feed_caller *c)
{
	struct charge ch;

	if (db == NULL || charge_key(db, hash_hex, (int)credits, FEED_ROUTE, &ch) != 0)
		return NULL;
	if (strcmp(ch.code, "invalid_api_key") != 0) {
		c->account_id = ch.account_id;
		c->key_id = ch.key_id;
		snprintf(c->plan, sizeof(c->plan), "%s", ch.plan);
	}
	return ch.code;
}

/*
 * The handshake is checked in three steps, so that the event loop never waits for Postgres:
 * feed_auth_key_check on the loop (a key is given and well formed), feed_auth_key_run on the
 * query thread (the charge of the connection and the plan's limits), and feed_auth_confirm on the
 * loop when libwebsockets reaches the upgrade (feedd/accept.c read the head and held the socket
 * meanwhile): the key libwebsockets read must be the one checked, and the key's connections
 * under its plan's limit.
 */
int
feed_auth_key_check(const char *key, struct feed_verdict *v)
{
	char hex[2 + 2 * APIKEY_HASH_LEN + 1];

	memset(v, 0, sizeof(*v));
	if (key == NULL || key[0] == '\0') {
		v->code = "missing_api_key";
		return 1;
	}
	if (!apikey_well_formed(key)) {
		v->code = "invalid_api_key";
		return 1;
	}
	apikey_hash_hex(key, hex);
	snprintf(v->caller.key_hash, sizeof(v->caller.key_hash), "%s", hex + 2);
	return 0;
}

void
feed_auth_key_run(struct db *db, struct feed_verdict *v)
{
	const char *code = feed_auth_call(db, v->caller.key_hash, 1, &v->caller);

	if (code == NULL) {
		v->code = "service_unavailable";
		return;
	}
	v->code = code;
	if (strcmp(code, "ok") != 0)
		return;
	if (feed_auth_limits(db, &v->caller) != 0) {
		feed_auth_refund(db, &v->caller, 1);
		v->code = "service_unavailable";
	}
}

struct feed_refund_job {
	struct feed_job j;
	struct feed_caller caller;
};

static void
feed_refund_run(struct feed_job *j, struct db *db)
{
	struct feed_refund_job *rj = (struct feed_refund_job *)j;

	if (db != NULL)
		feed_auth_refund(db, &rj->caller, 1);
}

static void
feed_refund_done(struct feed_job *j)
{
	free(j);
}

void
feed_auth_refund_later(const struct feed_caller *c)
{
	struct feed_refund_job *rj = calloc(1, sizeof(*rj));

	if (rj == NULL)
		return;
	rj->caller = *c;
	rj->j.run = feed_refund_run;
	rj->j.done = feed_refund_done;
	feed_jobs_submit(&rj->j);
}

int
feed_auth_confirm(struct lws *wsi, const struct feed_verdict *v, struct feed_caller *out,
    char *body, size_t cap)
{
	const char *code = v != NULL ? v->code : "service_unavailable";

	memset(out, 0, sizeof(*out));
	if (v != NULL && strcmp(code, "ok") == 0) {
		char key[256], hex[2 + 2 * APIKEY_HASH_LEN + 1];

		/* what libwebsockets parsed must name the key that was charged (httphead read it) */
		if (!feed_auth_key(wsi, key, (int)sizeof(key)) || !apikey_well_formed(key) ||
		    (apikey_hash_hex(key, hex), strcmp(hex + 2, v->caller.key_hash) != 0)) {
			log_errorx("handshake: the key read before the upgrade is not the one lws read");
			feed_auth_refund_later(&v->caller);
			code = "service_unavailable";
		} else if (feed_auth_key_conns(v->caller.key_id) >= (size_t)v->caller.conns_max) {
			feed_auth_refund_later(&v->caller);
			code = "too_many_connections";
		} else {
			*out = v->caller;
			return 0;
		}
	}
	if (strcmp(code, "service_unavailable") == 0)
		feed_stats.refused_unavailable++;
	else if (strcmp(code, "too_many_connections") == 0)
		feed_stats.refused_limit++;
	else if (strcmp(code, "credits_exhausted") == 0 || strcmp(code, "rate_limited") == 0)
		feed_stats.refused_credits++;
	else
		feed_stats.refused_auth++;
	return feed_auth_refuse(code, body, cap);
}

enum feed_charge_rc
feed_auth_charge(struct db *db, const struct feed_caller *c, int64_t credits)
{
	struct feed_caller tmp;
	const char *code;

	if (credits <= 0)
		return FEED_CH_OK;
	memset(&tmp, 0, sizeof(tmp));
	/* the database is away: the client keeps its feed, the charge is lost (counted by the caller) */
	if ((code = feed_auth_call(db, c->key_hash, credits, &tmp)) == NULL)
		return FEED_CH_DOWN;
	if (strcmp(code, "ok") == 0)
		return FEED_CH_OK;
	if (strcmp(code, "rate_limited") == 0)
		return FEED_CH_RATE;
	/* an unknown key now: it was deleted since the handshake */
	if (strcmp(code, "revoked_api_key") == 0 || strcmp(code, "invalid_api_key") == 0)
		return FEED_CH_REVOKED;
	if (strcmp(code, "account_disabled") == 0)
		return FEED_CH_DISABLED;
	if (strcmp(code, "key_cap_reached") == 0)
		return FEED_CH_KEY_CAP;
	return FEED_CH_CREDITS;
}

const char *
feed_auth_cut_reason(enum feed_charge_rc why)
{
	return why == FEED_CH_DISABLED ? "account disabled" : "API key revoked";
}

void
feed_auth_cut(struct feed_conn *c, enum feed_charge_rc why)
{
	char msg[160];
	int n;

	if (c->close_code != 0)
		return;
	n = snprintf(msg, sizeof(msg), "{\"type\":\"error\",\"msg\":{\"code\":%d,\"msg\":\"%s\","
	    "\"detail\":\"%s\"}}", KERR_AUTH, kerr_msg(KERR_AUTH), feed_auth_cut_reason(why));
	feed_stats.auth_cutoffs++;
	log_info("conn %llu: %s (account %lld key %lld): closing", (unsigned long long)c->id,
	    feed_auth_cut_reason(why), (long long)c->caller.account_id, (long long)c->caller.key_id);
	/* what is queued is no longer the client's to receive: the error goes out alone */
	feed_send_free(c);
	(void)feed_send(c, msg, (size_t)n);
	feed_send_close(c, LWS_CLOSE_STATUS_POLICY_VIOLATION, feed_auth_cut_reason(why));
}

/*
 * Plan changes (sql/016_plan_events.sql): NOTIFY kbook_keys 'plan <account id>' when an account's
 * plan, payg choice, subscription status or feed overrides change. The limits of the account's
 * open connections are read again (on the query thread); a connection over its markets limit,
 * and the newest connections of a key over its connections limit, get an error naming the limit
 * and close 1008 with it as the reason. Credits need nothing: each charge reads the account.
 */
static struct db_stmt q_limits_many = DB_STMT("feed_limits_many",
    "SELECT l.account_id, a.plan, l.conns_per_key, l.markets_per_conn FROM feed_limits l"
    " JOIN accounts a ON a.id = l.account_id WHERE l.account_id = ANY($1::bigint[])", 1);

struct feed_limits_job {
	struct feed_job j;
	char *ids;                   /* the accounts, a Postgres array */
	PGresult *res;
};

static void
feed_limits_run(struct feed_job *j, struct db *db)
{
	struct feed_limits_job *lj = (struct feed_limits_job *)j;
	const char *params[] = { lj->ids };

	lj->res = db != NULL ? db_exec(db, &q_limits_many, params) : NULL;
}

/* Closes c over a limit of its plan: error code with the reason as detail, then 1008. */
static void
feed_auth_over(struct feed_conn *c, int code, const char *reason)
{
	char msg[256];
	int n;

	if (c->close_code != 0)
		return;
	n = snprintf(msg, sizeof(msg), "{\"type\":\"error\",\"msg\":{\"code\":%d,\"msg\":\"%s\","
	    "\"detail\":\"%s\"}}", code, kerr_msg(code), reason);
	feed_stats.limit_cutoffs++;
	log_info("conn %llu: %s (account %lld key %lld, plan %s): closing", (unsigned long long)c->id,
	    reason, (long long)c->caller.account_id, (long long)c->caller.key_id, c->caller.plan);
	(void)feed_send(c, msg, (size_t)n);
	feed_send_close(c, LWS_CLOSE_STATUS_POLICY_VIOLATION, reason);
}

/* The limits of account (plan, per key, per connection, capped) applied to its connections. */
static void
feed_auth_apply(int64_t account, const char *plan, int64_t conns, int64_t markets)
{
	char reason[96];

	if (conns > cfg.feedd_key_conns)
		conns = cfg.feedd_key_conns;
	if (markets > cfg.feedd_markets_max)
		markets = cfg.feedd_markets_max;
	for (struct feed_conn *c = feed_conns; c != NULL; c = c->next) {
		if (c->caller.account_id != account || c->close_code != 0)
			continue;
		snprintf(c->caller.plan, sizeof(c->caller.plan), "%s", plan);
		c->caller.conns_max = conns;
		c->caller.markets_max = markets;
		if (c->subs.n_markets > (size_t)markets) {
			snprintf(reason, sizeof(reason), "plan limit: %lld markets per connection",
			    (long long)markets);
			feed_auth_over(c, KERR_MARKET_LIMIT, reason);
		}
	}
	/* per key, the oldest connections stay (the list is newest first) */
	for (struct feed_conn *c = feed_conns; c != NULL; c = c->next) {
		if (c->caller.account_id != account || c->close_code != 0)
			continue;
		if (feed_auth_key_conns(c->caller.key_id) > (size_t)conns) {
			snprintf(reason, sizeof(reason), "plan limit: %lld connections per API key",
			    (long long)conns);
			feed_auth_over(c, KERR_PROCESS, reason);
		}
	}
}

static void
feed_limits_done(struct feed_job *j)
{
	struct feed_limits_job *lj = (struct feed_limits_job *)j;
	PGresult *res = lj->res;

	/* on failure the connections keep the limits they had (logged by lib/db) */
	for (int r = 0; res != NULL && r < PQntuples(res); r++)
		feed_auth_apply(strtoll(PQgetvalue(res, r, 0), NULL, 10), PQgetvalue(res, r, 1),
		    strtoll(PQgetvalue(res, r, 2), NULL, 10), strtoll(PQgetvalue(res, r, 3), NULL, 10));
	PQclear(res);
	free(lj->ids);
	free(lj);
}

/* Reads the limits again of account (0: of every account with an open connection). */
static void
feed_auth_limits_reread(int64_t account)
{
	struct feed_limits_job *lj;
	size_t len;
	FILE *f;

	if (feed_conns == NULL || (lj = calloc(1, sizeof(*lj))) == NULL)
		return;
	if ((f = open_memstream(&lj->ids, &len)) == NULL) {
		free(lj);
		return;
	}
	fputc('{', f);
	if (account > 0)
		fprintf(f, "%lld", (long long)account);
	else
		for (struct feed_conn *c = feed_conns; c != NULL; c = c->next)
			fprintf(f, "%s%lld", c == feed_conns ? "" : ",", (long long)c->caller.account_id);
	fputc('}', f);
	if (fclose(f) != 0) {
		free(lj->ids);
		free(lj);
		return;
	}
	lj->j.run = feed_limits_run;
	lj->j.done = feed_limits_done;
	feed_jobs_submit(&lj->j);
}

void
feed_auth_event(const char *payload)
{
	bool account = strncmp(payload, "account ", 8) == 0, plan = strncmp(payload, "plan ", 5) == 0;
	const char *num = account ? payload + 8 : plan ? payload + 5 :
	    strncmp(payload, "key ", 4) == 0 ? payload + 4 : NULL;
	char *end;
	long long id;

	if (num == NULL || (id = strtoll(num, &end, 10)) <= 0 || *end != '\0') {
		log_warnx("kbook_keys: malformed payload ignored");
		return;
	}
	if (plan) {
		feed_auth_limits_reread(id);
		return;
	}
	for (struct feed_conn *c = feed_conns; c != NULL; c = c->next) {
		if (account && c->caller.account_id == id)
			feed_auth_cut(c, FEED_CH_DISABLED);
		else if (!account && c->caller.key_id == id)
			feed_auth_cut(c, FEED_CH_REVOKED);
	}
}

/* Of the keys $1 (ids, repeats allowed), those cut off since: revoked or deleted (true), or of a
 * disabled account (false). Only those rows come back. */
static struct db_stmt q_keys_cut = DB_STMT("feed_keys_cut",
    "SELECT DISTINCT u.id, k.id IS NULL OR k.revoked_at IS NOT NULL FROM unnest($1::bigint[]) u(id)"
    " LEFT JOIN api_keys k ON k.id = u.id LEFT JOIN accounts a ON a.id = k.account_id"
    " WHERE k.id IS NULL OR k.revoked_at IS NOT NULL OR a.disabled", 1);

struct feed_recheck_job {
	struct feed_job j;
	char *ids;                   /* the open connections' key ids, a Postgres array */
	PGresult *res;
};

static void
feed_recheck_run(struct feed_job *j, struct db *db)
{
	struct feed_recheck_job *rj = (struct feed_recheck_job *)j;
	const char *params[] = { rj->ids };

	rj->res = db != NULL ? db_exec(db, &q_keys_cut, params) : NULL;
}

static void
feed_recheck_done(struct feed_job *j)
{
	struct feed_recheck_job *rj = (struct feed_recheck_job *)j;
	PGresult *res = rj->res;

	/* on failure the hourly charge still finds them */
	for (int r = 0; res != NULL && r < PQntuples(res); r++) {
		int64_t key = strtoll(PQgetvalue(res, r, 0), NULL, 10);
		enum feed_charge_rc why = PQgetvalue(res, r, 1)[0] == 't' ? FEED_CH_REVOKED : FEED_CH_DISABLED;

		for (struct feed_conn *c = feed_conns; c != NULL; c = c->next)
			if (c->caller.key_id == key)
				feed_auth_cut(c, why);
	}
	PQclear(res);
	free(rj->ids);
	free(rj);
}

void
feed_auth_recheck(void)
{
	struct feed_recheck_job *rj;
	size_t len;
	FILE *f;

	if (feed_conns == NULL || (rj = calloc(1, sizeof(*rj))) == NULL)
		return;
	if ((f = open_memstream(&rj->ids, &len)) == NULL) {
		free(rj);
		return;
	}
	fputc('{', f);
	for (struct feed_conn *c = feed_conns; c != NULL; c = c->next)
		fprintf(f, "%s%lld", c == feed_conns ? "" : ",", (long long)c->caller.key_id);
	fputc('}', f);
	if (fclose(f) != 0) {
		free(rj->ids);
		free(rj);
		return;
	}
	rj->j.run = feed_recheck_run;
	rj->j.done = feed_recheck_done;
	feed_jobs_submit(&rj->j);
	/* and plan changes made meanwhile */
	feed_auth_limits_reread(0);
}
