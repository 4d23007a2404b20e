/*
 * routes: THE route table of kbook-api. A path maps to code here and nowhere else; the
 * dispatcher validates every declared parameter, authenticates and charges before a handler
 * runs, and the OpenAPI document (static/openapi.json) is checked against this table by the tests.
 */
#include "route.h"

#define DAY_S INT64_C(86400)

static const char *const formats[] = { "json", "csv", NULL };
static const char *const statuses[] = { "initialized", "inactive", "active", "closed",
	"determined", "disputed", "amended", "finalized", NULL };

#define P_AT { "at", PT_TIME, 0, 0, NULL, false, \
	"the instant: RFC 3339 or unix seconds/milliseconds/microseconds; default now" }
#define P_DEPTH { "depth", PT_INT, 1, 1000, NULL, false, \
	"at most this many best levels per side; default all" }
#define P_FORMAT { "format", PT_ENUM, 0, 0, formats, false, "json (default) or csv" }
#define P_END { NULL, 0, 0, 0, NULL, false, NULL }

static const struct param_spec p_markets[] = {
	{ "status", PT_ENUM, 0, 0, statuses, false, "market status as Kalshi reports it" },
	{ "event_ticker", PT_STRING, 1, 200, NULL, false, "only markets of this event" },
	{ "series_ticker", PT_STRING, 1, 200, NULL, false, "only markets of this series" },
	{ "q", PT_STRING, 1, 100, NULL, false, "case-insensitive text in the ticker or title" },
	{ "has_data", PT_BOOL, 0, 0, NULL, false, "true: only markets with recorded history" },
	{ "cursor", PT_CURSOR, 0, 0, NULL, false, "next_cursor of the previous page" },
	{ "limit", PT_INT, 1, 1000, NULL, false, "markets per page, default 100" },
	P_END,
};

static const struct param_spec p_orderbook[] = { P_AT, P_DEPTH, P_END };

static const struct param_spec p_orderbooks[] = {
	{ "tickers", PT_LIST, 1, 20, NULL, true, "comma-separated market tickers, at most 20" },
	P_AT, P_DEPTH, P_END,
};

static const struct param_spec p_deltas[] = {
	{ "start", PT_TIME, 0, 0, NULL, false, "first instant, inclusive; default the beginning" },
	{ "end", PT_TIME, 0, 0, NULL, false, "last instant, inclusive; default now" },
	{ "cursor", PT_CURSOR, 0, 0, NULL, false, "next_cursor of the previous page" },
	{ "limit", PT_INT, 1, 10000, NULL, false, "changes per page, default 1000" },
	P_FORMAT, P_END,
};

static const struct param_spec p_samples[] = {
	{ "start", PT_TIME, 0, 0, NULL, true, "first sample instant" },
	{ "end", PT_TIME, 0, 0, NULL, true, "no sample after this instant" },
	{ "interval", PT_INT, 1, 31 * DAY_S, NULL, true, "seconds between samples, at least 1" },
	{ "cursor", PT_CURSOR, 0, 0, NULL, false, "next_cursor of the previous page" },
	P_DEPTH, P_FORMAT, P_END,
};

static const struct param_spec p_usage[] = {
	{ "days", PT_INT, 1, 90, NULL, false, "days of the daily series, today included; default 30" },
	P_END,
};

const struct route routes[] = {
	{ "GET", "/v1/health", h_health, AUTH_NONE, 0, NULL,
	  "service health: ok when Postgres answers, degraded (503) when it does not", NULL },
	{ "GET", "/v1/markets", h_markets_list, AUTH_KEY, 1, p_markets,
	  "markets with their coverage, filtered, a page at a time", NULL },
	{ "GET", "/v1/markets/{ticker}", h_market, AUTH_KEY, 1, NULL,
	  "one market: metadata, coverage, checkpoint and delta counts, gap summary", NULL },
	{ "GET", "/v1/markets/{ticker}/orderbook", h_orderbook, AUTH_KEY, 5, p_orderbook,
	  "the book of one market at an instant", h_orderbook_prefetch },
	{ "GET", "/v1/markets/{ticker}/deltas", h_deltas, AUTH_KEY, 2, p_deltas,
	  "every recorded change of one market between two instants, a page at a time", NULL },
	{ "GET", "/v1/markets/{ticker}/orderbooks", h_samples, AUTH_KEY, 10, p_samples,
	  "the book of one market sampled at a fixed interval (up to 1000 samples a page)", NULL },
	{ "GET", "/v1/markets/{ticker}/coverage", h_coverage, AUTH_KEY, 1, NULL,
	  "recorded segments and gaps of one market", NULL },
	{ "GET", "/v1/events/{event_ticker}/orderbook", h_event_orderbook, AUTH_KEY, 50, p_orderbook,
	  "the books of every market of an event (up to 100) at an instant", NULL },
	{ "GET", "/v1/orderbooks", h_orderbooks, AUTH_KEY, 20, p_orderbooks,
	  "the books of up to 20 markets at an instant", NULL },
	/* accounts: JSON bodies (cgi-bin/body.c); nginx sends these paths to their own pool */
	{ "GET", "/v1/plans", h_plans, AUTH_NONE, 0, NULL,
	  "the plans: monthly credits, rate limit, overage and prices", NULL },
	{ "POST", "/v1/account/signup", h_account_signup, AUTH_NONE, 0, NULL,
	  "make an account (free plan) and mail a confirmation link; same answer for a known email", NULL },
	{ "POST", "/v1/account/confirm", h_account_confirm, AUTH_NONE, 0, NULL,
	  "confirm the email with the token of the mailed link", NULL },
	{ "POST", "/v1/account/confirm/resend", h_account_resend, AUTH_NONE, 0, NULL,
	  "mail a new confirmation link to an unconfirmed account", NULL },
	{ "POST", "/v1/session", h_session_login, AUTH_NONE, 0, NULL,
	  "log in with email and password: a new session (cookie, or bearer token on request)", NULL },
	{ "GET", "/v1/session", h_session_get, AUTH_SESSION, 0, NULL,
	  "the session's account, its CSRF token and expiry", NULL },
	{ "DELETE", "/v1/session", h_session_delete, AUTH_SESSION, 0, NULL,
	  "log out: the session ends on the server and its cookie is cleared", NULL },
	{ "POST", "/v1/session/others/revoke", h_session_others, AUTH_SESSION, 0, NULL,
	  "end every other session of the account", NULL },
	{ "POST", "/v1/account/password", h_account_password, AUTH_SESSION, 0, NULL,
	  "change the password (the current one is asked); every other session ends", NULL },
	{ "POST", "/v1/account/password/forgot", h_account_forgot, AUTH_NONE, 0, NULL,
	  "mail a password reset link (valid once, for a limited time); same answer for any email", NULL },
	{ "POST", "/v1/account/password/reset", h_account_reset, AUTH_NONE, 0, NULL,
	  "set a new password with the token of a reset link; every session ends", NULL },
	{ "POST", "/v1/account/delete", h_account_delete, AUTH_SESSION, 0, NULL,
	  "delete the account (the password is asked): keys revoked at once, sessions ended", NULL },
	{ "GET", "/v1/account/usage", h_usage, AUTH_SESSION, 0, p_usage,
	  "credits this period with a forecast, and per day by key and by route", NULL },
	{ "GET", "/v1/account/keys", h_keys_list, AUTH_SESSION, 0, NULL,
	  "the account's API keys, revoked ones included, newest first", NULL },
	{ "POST", "/v1/account/keys", h_keys_create, AUTH_SESSION, 0, NULL,
	  "make an API key (its secret is shown in this answer only)", NULL },
	{ "PATCH", "/v1/account/keys/{id}", h_keys_patch, AUTH_SESSION, 0, NULL,
	  "rename a key or set or remove its monthly credit cap", NULL },
	{ "DELETE", "/v1/account/keys/{id}", h_keys_revoke, AUTH_SESSION, 0, NULL,
	  "revoke a key: the data API and the feed refuse it at once", NULL },
	/* billing: Stripe Checkout, the portal, pay-as-you-go; same pool as the accounts */
	{ "GET", "/v1/account/billing", h_billing_get, AUTH_SESSION, 0, NULL,
	  "the plan, subscription, this period's credits and overage with its price", NULL },
	{ "POST", "/v1/account/billing/checkout", h_billing_checkout, AUTH_SESSION, 0, NULL,
	  "a Stripe Checkout page for the project plan's subscription: answers its url", NULL },
	{ "POST", "/v1/account/billing/portal", h_billing_portal, AUTH_SESSION, 0, NULL,
	  "a Stripe billing portal page for the account's customer: answers its url", NULL },
	{ "POST", "/v1/account/billing/payg", h_billing_payg, AUTH_SESSION, 0, NULL,
	  "turn pay-as-you-go overage on or off (body {\"enabled\": bool})", NULL },
	{ "POST", "/v1/stripe/webhook", h_stripe_webhook, AUTH_NONE, 0, NULL,
	  "Stripe's events (no session: the Stripe-Signature header is the authentication)", NULL },
};

const size_t routes_count = sizeof(routes) / sizeof(routes[0]);
