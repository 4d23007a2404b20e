/*
 * stripe-sim: a local Stripe for tests, demos and `make run` without a Stripe key, speaking
 * Stripe's wire format (docs/stripe-sim.md, shared/BILLING.md). This header holds what the
 * modules share: the options, the sim clock, the object store, the request plumbing (auth,
 * Stripe-Version, parameters, errors, idempotency), events and their webhook deliveries.
 *
 * Threads: everything runs on the libwebsockets loop except the webhook delivery thread
 * (deliver.c), which owns its queue and shares nothing else: events hand it copies.
 *
 * Objects are json-c trees in the store (store.c), shaped as Stripe's API returns them; the store
 * owns them, handlers borrow them and edit them in place, and a reply or an event carries a
 * copy (a snapshot) of them.
 */
#ifndef KBOOK_SS_H
#define KBOOK_SS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "hsrv.h"
#include "sbuf.h"

/* ---- options (main.c parses them; docs/stripe-sim.md lists them) ---------------------------- */

struct ss_opts {
	int port;
	const char *iface;
	const char *api_key;        /* the one secret key accepted; NULL = any sk_test_ key */
	const char *api_version;    /* the account's default Stripe-Version */
	const char *public_url;     /* base of hosted pages; default http://iface:port */
	const char *webhook_url;    /* where events go; NULL = nowhere (kept for GET /v1/events) */
	const char *webhook_secret; /* whsec_... signing secret */
	int64_t retry_ms;           /* first retry delay; doubles each attempt */
	int64_t retry_max_ms;       /* cap of one delay */
	int webhook_attempts;       /* attempts per event before giving up */
	int64_t webhook_timeout_ms; /* one delivery's timeout */
	const char *faults;         /* start-up HTTP faults, see faults.c */
};

extern struct ss_opts ss_opt;
extern char ss_base_url[256];   /* public_url or http://iface:port, no trailing slash */

/* ---- clock.c: the sim clock, like Stripe's test clocks -------------------------------------- */

/* Unix seconds on the sim clock: the wall clock plus every advance. */
int64_t ss_now(void);
/* Moves the sim clock forward by seconds (> 0) and runs what came due (billing.c). */
void ss_clock_advance(int64_t seconds);
/* t plus n calendar months (UTC), the day clamped to the month's end, as Stripe bills monthly. */
int64_t ss_add_months(int64_t t, int n);

/* ---- store.c: objects by kind and id -------------------------------------------------------- */

enum ss_kind {
	SS_CUSTOMER, SS_PRODUCT, SS_PRICE, SS_CHECKOUT, SS_SUBSCRIPTION, SS_INVOICE, SS_PORTAL,
	SS_METER, SS_EVENT, SS_PAYMENT_METHOD, SS_KIND_COUNT
};

/* Writes prefix + 24 random base62 characters into out (64 bytes). */
void ss_new_id(const char *prefix, char out[64]);
/*
 * A new object {"id":prefix..., "object":object, "created":now, "livemode":false} plus, when
 * with_metadata, "metadata":{}. Caller owns it (until ss_store_put).
 */
struct json_object *ss_obj_new(const char *prefix, const char *object, bool with_metadata);
/* Stores o under its "id"; takes ownership. Returns o (borrowed from now on). */
struct json_object *ss_store_put(enum ss_kind k, struct json_object *o);
/* The object of kind k with this id, or NULL. Borrowed until ss_store_free. */
struct json_object *ss_store_get(enum ss_kind k, const char *id);
/* Every object of kind k, oldest first, as a borrowed json array. */
struct json_object *ss_store_all(enum ss_kind k);
void ss_store_free(void);
/* Shorthand for the string field name of o, or NULL. */
const char *ss_jstr(struct json_object *o, const char *name);
int64_t ss_jint(struct json_object *o, const char *name);

/* ---- api.c: request plumbing -------------------------------------------------------------- */

/* Route columns of the API (routes.c). */
enum ss_auth { SS_AUTH_KEY, SS_AUTH_NONE };
struct ss_route_ext {
	enum ss_auth auth;
	const char *params;   /* top-level parameters the route accepts, space separated */
};

/* The parsed parameters of the current request (body form for POST, query for GET/DELETE). */
struct json_object *ss_params(struct hsrv_req *r);
/* A top-level string parameter, or NULL. */
const char *ss_param(struct hsrv_req *r, const char *name);
/* The request id (req_...) and idempotency key ("" when none) of the request being handled. */
const char *ss_request_id(void);
const char *ss_request_idem_key(void);
/*
 * Sets Stripe's error reply {"error":{"type","code","message","param"}} (code and param may be
 * NULL) with HTTP status.
 */
void ss_error(struct hsrv_req *r, int status, const char *type, const char *code,
    const char *param, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* 400 invalid_request_error parameter_missing for name. */
void ss_missing_param(struct hsrv_req *r, const char *name);
/* 400 invalid_request_error parameter_invalid_* for name with message. */
void ss_invalid_param(struct hsrv_req *r, const char *name, const char *code, const char *msg);
/* 404 resource_missing: "No such <what>: '<id>'". */
void ss_no_such(struct hsrv_req *r, const char *what, const char *param, const char *id);
/* 200 with a copy of o (borrowed). */
void ss_reply(struct hsrv_req *r, struct json_object *o);
/*
 * A list reply {"object":"list","data":[...],"has_more","url"} from items (a borrowed array,
 * oldest first, filtered by the caller), newest first, paged by the limit, starting_after and
 * ending_before parameters. Replies 400 on a bad limit.
 */
void ss_reply_list(struct hsrv_req *r, struct json_object *items, const char *url);
/* One list filter: a query parameter and the dotted path of the field it must equal. */
struct ss_filter {
	const char *param;
	const char *path;     /* "customer", "parent.subscription_details.subscription", ... */
};
/*
 * The list reply of kind k at url: the objects whose field at each filter's path equals that
 * parameter (when the request gives it) and that keep (NULL = all) accepts, paged as
 * ss_reply_list does.
 */
void ss_reply_filtered(struct hsrv_req *r, enum ss_kind k, const struct ss_filter *filters,
    size_t n_filters, bool (*keep)(struct hsrv_req *r, struct json_object *o), const char *url);
/* The string at a dotted path of o ("items.data.0.price.id"), or NULL. */
const char *ss_jpath(struct json_object *o, const char *path);
/* Parses an integer parameter: 1 present and valid, 0 absent, -1 malformed (already replied). */
int ss_param_int(struct hsrv_req *r, const char *name, int64_t min, int64_t max, int64_t *out);
/* Parses a boolean parameter "true"/"false": 1, 0 absent, -1 malformed (already replied). */
int ss_param_bool(struct hsrv_req *r, const char *name, bool *out);
/* Copies the metadata parameter into o's "metadata" (empty values delete keys). 0, or -1 replied. */
int ss_apply_metadata(struct hsrv_req *r, struct json_object *o);

bool ss_api_admit(struct hsrv_req *r, const struct hsrv_route *rt);
void ss_api_after(struct hsrv_req *r, const struct hsrv_route *rt);
void ss_api_error(struct hsrv_req *r, int status);
/* Forgets idempotency keys older than 24 h (called from the housekeeping timer). */
void ss_idem_expire(void);
void ss_idem_free(void);

/* ---- events.c ------------------------------------------------------------------------------- */

/*
 * Records an event of type about a snapshot of obj (copied) with optional previous_attributes
 * (taken), stores it and hands it to the delivery queue. Returns the event (borrowed).
 */
struct json_object *ss_event_emit(const char *type, struct json_object *obj,
    struct json_object *previous);

/* ---- deliver.c: the webhook delivery thread ------------------------------------------------- */

int ss_deliver_start(void);
void ss_deliver_stop(void);
/* True when an endpoint is configured (the events' pending_webhooks). */
bool ss_deliver_has_endpoint(void);
/* Queues one delivery of the event body (copied) for event id. */
void ss_deliver_enqueue(const char *event_id, const char *body, size_t len);
/* Sets the endpoint (url and secret copied; NULL keeps the current one). */
void ss_deliver_configure(const char *url, const char *secret);
/* Fault settings: the next n deliveries are duplicated / delayed by ms / swapped pairwise. */
void ss_deliver_fault(const char *kind, uint32_t n, int64_t ms);
/* Disarms the webhook faults not yet spent. */
void ss_deliver_fault_clear(void);
/* A JSON report of the queue and of every delivery attempt so far. Caller puts it. */
struct json_object *ss_deliver_report(void);

/* ---- faults.c: HTTP faults on chosen routes ------------------------------------------------- */

enum ss_fault_kind { SS_FAULT_NONE, SS_FAULT_429, SS_FAULT_500, SS_FAULT_SLOW, SS_FAULT_LOST };
/*
 * Arms count faults of kind on requests whose "METHOD /path" starts with match ("" = every API
 * route); ms is the delay of slow. Returns 0, or -1 on an unknown kind.
 */
int ss_fault_arm(const char *kind, const char *match, uint32_t count, int64_t ms);
/* The fault to apply to this request now (consumes one), with its delay in *ms. */
enum ss_fault_kind ss_fault_take(const char *method, const char *path, int64_t *ms);
/* Checks and arms the --fault list "kind:METHOD /path:count,...". 0, or -1 with *why. */
int ss_fault_startup(const char *spec, const char **why);
struct json_object *ss_fault_report(void);
/* Disarms every HTTP fault not yet spent. */
void ss_fault_clear(void);

/* ---- cards.c: Stripe's test card numbers ---------------------------------------------------- */

enum ss_card_outcome {
	SS_CARD_OK,            /* 4242 4242 4242 4242 and the other success numbers */
	SS_CARD_DECLINED,      /* 4000 0000 0000 0002: generic_decline at once */
	SS_CARD_INSUFFICIENT,  /* 4000 0000 0000 9995: insufficient_funds at once */
	SS_CARD_FAILS_LATER,   /* 4000 0000 0000 0341: attaches, every charge fails */
	SS_CARD_INVALID,       /* anything else: incorrect_number */
};
/* Looks up number (spaces ignored); *brand gets "visa", "mastercard", ... */
enum ss_card_outcome ss_card_check(const char *number, const char **brand, char last4[5]);
/* Stripe's decline code and message for an outcome. */
const char *ss_card_decline_code(enum ss_card_outcome o);
const char *ss_card_message(enum ss_card_outcome o);

/* ---- catalog.c: products, prices, meters at start and through the API ---------------------- */

void ss_catalog_init(void);
/* The meter with this event_name, or NULL. Borrowed. */
struct json_object *ss_meter_by_event(const char *event_name);
/* Sum of the values of meter events for meter m and customer in [from, to). */
double ss_meter_usage(struct json_object *meter, const char *customer, int64_t from, int64_t to);
void ss_meter_events_free(void);

/* ---- billing.c: subscriptions, invoices, payments ------------------------------------------- */

/*
 * Creates a payment method for card number on customer (its default). Returns the pm (borrowed)
 * or NULL when the card is refused at once (*outcome says why).
 */
struct json_object *ss_attach_card(struct json_object *customer, const char *number,
    enum ss_card_outcome *outcome);
/*
 * Creates an active subscription for customer with line items (a borrowed array of
 * {"price":id,"quantity":n}), bills its first invoice and emits the events. Returns it
 * (borrowed), or NULL when its first payment failed.
 */
struct json_object *ss_subscription_start(struct json_object *customer, struct json_object *items,
    struct json_object *metadata, struct json_object **invoice_out);
/* Renews every subscription whose period ended by now (the clock moved). */
void ss_billing_run(void);
void ss_billing_free(void);
/* Cancels at once (emitting customer.subscription.deleted). */
void ss_subscription_cancel_now(struct json_object *sub);
/* cancel_at_period_end on or off (emitting customer.subscription.updated). */
void ss_subscription_set_cancel(struct json_object *sub, bool at_period_end);
/* Moves sub to price (its only item), billing a licensed price at once. 0, or -1 unknown price. */
int ss_subscription_switch(struct json_object *sub, struct json_object *price);
/* The price object of a subscription's first item (borrowed), for pages. */
struct json_object *ss_subscription_price(struct json_object *sub);

/* ---- customers.c, pages.c ------------------------------------------------------------------ */

/* A new customer (stored, customer.created emitted); email and name may be NULL. Borrowed. */
struct json_object *ss_customer_new(const char *email, const char *name);

/* Starts an HTML page with title into b. */
void ss_page_begin(struct sbuf *b, const char *title);
/* Ends the page and sets it as the reply with status. Frees b. */
void ss_page_reply(struct hsrv_req *r, int status, struct sbuf *b);
/* Appends cents as "$12.34" (or a sub-cent decimal amount as "$0.008"). */
void ss_page_money(struct sbuf *b, const char *unit_amount_decimal, int64_t cents);
/* Appends t as "YYYY-MM-DD". */
void ss_page_date(struct sbuf *b, int64_t t);
/* Replies 303 See Other to url. */
void ss_redirect(struct hsrv_req *r, const char *url);

/* ---- handlers (one file per resource) ------------------------------------------------------- */

void ss_customers_create(struct hsrv_req *r);
void ss_customers_get(struct hsrv_req *r);
void ss_customers_update(struct hsrv_req *r);
void ss_customers_list(struct hsrv_req *r);
void ss_customers_delete(struct hsrv_req *r);
void ss_products_create(struct hsrv_req *r);
void ss_products_get(struct hsrv_req *r);
void ss_products_list(struct hsrv_req *r);
void ss_prices_create(struct hsrv_req *r);
void ss_prices_get(struct hsrv_req *r);
void ss_prices_list(struct hsrv_req *r);
void ss_checkout_create(struct hsrv_req *r);
void ss_checkout_get(struct hsrv_req *r);
void ss_checkout_list(struct hsrv_req *r);
void ss_checkout_expire(struct hsrv_req *r);
void ss_checkout_page(struct hsrv_req *r);
void ss_checkout_pay(struct hsrv_req *r);
void ss_checkout_free(void);
/* Expires every open session past its expires_at (the clock moved). */
void ss_checkout_sweep(void);
void ss_subscriptions_create(struct hsrv_req *r);
void ss_subscriptions_get(struct hsrv_req *r);
void ss_subscriptions_list(struct hsrv_req *r);
void ss_subscriptions_update(struct hsrv_req *r);
void ss_subscriptions_cancel(struct hsrv_req *r);
void ss_invoices_get(struct hsrv_req *r);
void ss_invoices_list(struct hsrv_req *r);
void ss_portal_create(struct hsrv_req *r);
void ss_portal_page(struct hsrv_req *r);
void ss_portal_action(struct hsrv_req *r);
void ss_meters_create(struct hsrv_req *r);
void ss_meters_get(struct hsrv_req *r);
void ss_meters_list(struct hsrv_req *r);
void ss_meter_events_create(struct hsrv_req *r);
void ss_meter_summaries(struct hsrv_req *r);
void ss_events_get(struct hsrv_req *r);
void ss_events_list(struct hsrv_req *r);
void ss_payment_methods_get(struct hsrv_req *r);

void ss_ctl_clock(struct hsrv_req *r);
void ss_ctl_webhook(struct hsrv_req *r);
void ss_ctl_event(struct hsrv_req *r);
void ss_ctl_deliveries(struct hsrv_req *r);
void ss_ctl_fault(struct hsrv_req *r);
void ss_ctl_card(struct hsrv_req *r);
void ss_ctl_usage(struct hsrv_req *r);

/* ---- routes.c ------------------------------------------------------------------------------- */

int ss_http_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
    size_t len);

#endif
