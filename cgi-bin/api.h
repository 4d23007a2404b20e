/*
 * api: the request and response of one kbook-api call, shared by the dispatcher and handlers.
 *
 * A struct req lives for one FastCGI request. Everything it points to (params, path captures,
 * the body) is owned by it and freed by req_reset() before the next accept; handlers borrow.
 * Handlers build a json-c object and hand it to req_send_json (which takes ownership), or call
 * req_send_error with a code from the error table (cgi-bin/errors.c).
 */
#ifndef KBOOK_API_H
#define KBOOK_API_H

#include <stdbool.h>
#include <stddef.h>

#include <fcgiapp.h>
#include <json-c/json.h>

#include "bookq.h"
#include "db.h"

#define REQ_MAX_PARAMS 32
#define REQ_MAX_CAPTURES 4
#define REQ_MAX_HEADERS 16

struct req_param {
	char *name;  /* percent-decoded */
	char *value; /* percent-decoded */
};

/* A query parameter after validation against the route's declaration (see route.h). */
struct req_arg {
	bool set;
	int64_t i;     /* PT_INT, PT_TIME (microseconds), PT_BOOL (0/1), PT_ENUM (index), PT_CURSOR */
	const char *s; /* the raw value, borrowed from req->params */
};

/*
 * Who is calling and what the call cost, set by the dispatcher for AUTH_KEY routes. When known,
 * every response carries the X-Credits-* and X-RateLimit-* headers built from it.
 */
struct req_caller {
	bool known;
	int64_t account_id, key_id;
	int cost;              /* credits charged (0 when nothing was charged) */
	int64_t allowance, used, overage;
	int64_t rate_limit, rate_remaining, rate_reset_s;
};

/* The session of an AUTH_SESSION call, set by the dispatcher (cgi-bin/session.c). */
struct req_session {
	bool known;
	bool via_cookie;         /* the cookie, not Authorization: Bearer (CSRF applies) */
	int64_t id, account_id;
	char csrf[64];
	char created_at[32], expires_at[32];
};

struct route;

struct req {
	FCGX_Request *fcgi;
	struct db *db;             /* the worker's connection, borrowed */
	const char *method;        /* borrowed from the FastCGI environment until the next accept */
	const char *path;
	char request_id[64];
	struct req_param params[REQ_MAX_PARAMS];
	size_t nparams;
	const struct route *route;           /* the matched route */
	struct req_arg args[REQ_MAX_PARAMS]; /* indexed like route->params */
	struct req_caller caller;
	struct req_session session;
	char *captures[REQ_MAX_CAPTURES]; /* {name} segments of the route pattern, in order */
	size_t ncaptures;
	char *body;
	size_t body_len;
	bool head_only;            /* HEAD: headers without a body */
	char *headers[REQ_MAX_HEADERS]; /* extra response header lines, without CRLF */
	size_t nheaders;
	const char *init_error;    /* why req_init refused the request (a string literal) */
	bool sent;
	int status;                /* status sent, for the access log */
	/* Called before an error response goes out for a charged call: gives the credits back. */
	void (*refund)(struct req *req);
	/* The handler's first statement, sent with the charge in one round trip (route->prefetch):
	 * the statement, its parameters' text and its result (call.res, NULL when not run or failed). */
	struct bookq_ahead prefetch;
};

/* Stable error codes: one table maps each to its HTTP status and default message. */
enum api_err {
	ERR_NOT_FOUND,
	ERR_METHOD_NOT_ALLOWED,
	ERR_BAD_REQUEST,
	ERR_INVALID_PARAMETER,
	ERR_UNKNOWN_PARAMETER,
	ERR_REPEATED_PARAMETER,
	ERR_MISSING_PARAMETER,
	ERR_INVALID_CURSOR,
	ERR_BODY_TOO_LARGE,
	ERR_MISSING_API_KEY,
	ERR_INVALID_API_KEY,
	ERR_REVOKED_API_KEY,
	ERR_ACCOUNT_DISABLED,
	ERR_RATE_LIMITED,
	ERR_TOO_MANY_REQUESTS, /* answered by nginx's flood limit; listed for the docs */
	ERR_CREDITS_EXHAUSTED,
	ERR_MARKET_NOT_FOUND,
	ERR_EVENT_NOT_FOUND,
	ERR_SERVICE_UNAVAILABLE,
	ERR_INTERNAL,
	/* accounts (AUTH_SESSION routes and the data API's refusals of their keys) */
	ERR_EMAIL_UNCONFIRMED,
	ERR_KEY_CAP_REACHED,
	ERR_SESSION_REQUIRED,
	ERR_SESSION_EXPIRED,
	ERR_CSRF_FAILED,
	ERR_INVALID_BODY,
	ERR_UNSUPPORTED_MEDIA_TYPE,
	ERR_INVALID_EMAIL,
	ERR_WEAK_PASSWORD,
	ERR_INVALID_CREDENTIALS,
	ERR_TOO_MANY_ATTEMPTS,
	ERR_INVALID_TOKEN,
	ERR_KEY_NOT_FOUND,
	ERR_KEY_REVOKED,
	ERR_TOO_MANY_KEYS,
	/* billing */
	ERR_INVALID_SIGNATURE,
	ERR_BILLING_UNAVAILABLE,
	ERR_ALREADY_SUBSCRIBED,
	ERR_NO_BILLING_ACCOUNT,
	ERR__COUNT
};

const char *api_err_code(enum api_err err);
int api_err_status(enum api_err err);
const char *api_status_text(int status);

/* Fills req from the accepted FastCGI request; returns 0, or an api_err to answer with. */
int req_init(struct req *req, FCGX_Request *fcgi, struct db *db, size_t max_body);
void req_reset(struct req *req);

/* The value of a query parameter (borrowed), or NULL when absent. */
const char *req_param(const struct req *req, const char *name);
/* The validated argument of a declared parameter (never NULL for a declared name). */
const struct req_arg *req_arg(const struct req *req, const char *name);
/* CSV wanted: format=csv, or no format parameter and an Accept header naming text/csv. */
bool req_wants_csv(const struct req *req);
/* The code of an error, looked up by its string (for codes returned by SQL); ERR_INTERNAL if unknown. */
enum api_err api_err_from_code(const char *code);
/* A FastCGI environment variable (borrowed until the next accept), or NULL. */
const char *req_env(const struct req *req, const char *name);

/* Adds a response header line "Name: value" (copied) for the next send. Returns 0 or -1. */
int req_add_header(struct req *req, const char *name, const char *value);

/* Sends status + body of content type ctype (borrowed). */
void req_send_body(struct req *req, int status, const char *ctype, const char *body, size_t len);
/* Sends status + JSON body; takes ownership of obj (json_object_put). */
void req_send_json(struct req *req, int status, struct json_object *obj);
/* Sends the error envelope {"error":{"code","message","status"},"request_id"}; message may be NULL. */
void req_send_error(struct req *req, enum api_err err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
