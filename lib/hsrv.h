/*
 * hsrv: the HTTP/1.1 side of a libwebsockets server, shared by kalshi-sim and stripe-sim. A
 * program gives one route table and three hooks; hsrv collects the request (method, path,
 * query, body up to a limit), finds the route (the program's error hook answers 404 and 405),
 * lets the program's admit hook refuse it (auth, rate limits, faults), runs the handler, lets
 * the after hook see the reply (stripe-sim's idempotency store), and writes the reply: the
 * headers at once (or when a held reply is due), then the body from the WRITEABLE callback in
 * 64 KiB chunks, one lws_write per callback. A reply can be held back (hsrv_delay) without blocking the loop.
 *
 * Ownership: a request and its reply live in the session data (struct hsrv_sess) from
 * LWS_CALLBACK_HTTP until the reply is written or the connection closes; every pointer an
 * accessor returns is borrowed until then. Single-threaded: call only from the lws loop.
 */
#ifndef KBOOK_HSRV_H
#define KBOOK_HSRV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libwebsockets.h>

struct json_object;
struct hsrv_req;

struct hsrv_route {
	const char *method;     /* "GET", "POST", "DELETE" */
	const char *pattern;    /* '*' matches one path segment (at most HSRV_MAX_SEGS of them) */
	void (*handler)(struct hsrv_req *r);
	const void *ext;        /* the program's own columns for this route (auth, cost, ...) */
};

struct hsrv_conf {
	const struct hsrv_route *routes;
	size_t n_routes;
	/* Before the handler: return false after replying to refuse the request. May be NULL. */
	bool (*admit)(struct hsrv_req *r, const struct hsrv_route *rt);
	/* After the handler, or after admit refused (the reply is set either way). May be NULL. */
	void (*after)(struct hsrv_req *r, const struct hsrv_route *rt);
	/* Sets the program's error reply for status 404, 405, 413 or 500. */
	void (*error)(struct hsrv_req *r, int status);
	size_t max_body;        /* larger request bodies are answered 413 */
};

/* Per-session data: embed it in the protocol's per_session_data. */
struct hsrv_sess {
	struct hsrv_req *req;   /* owned */
};

#define HSRV_MAX_SEGS 3

/*
 * The HTTP reasons of the protocol callback: pass every reason the program does not handle
 * itself (s is NULL before session data exists). Returns what the lws callback must return.
 */
int hsrv_callback(const struct hsrv_conf *conf, struct hsrv_sess *s, struct lws *wsi,
    enum lws_callback_reasons reason, void *user, void *in, size_t len);

/*
 * Writes a whole small reply (status line written by hand as HTTP/1.1, headers, JSON body) in
 * one lws_write, closing the connection after it; used to refuse a WebSocket upgrade, where lws
 * would otherwise answer "HTTP/1.0". Returns 0, or -1 when the write failed.
 */
int hsrv_write_simple(struct lws *wsi, int status, const char *body);

/* ---- the request ---------------------------------------------------------------------------- */

struct lws *hsrv_wsi(struct hsrv_req *r);
const char *hsrv_method(const struct hsrv_req *r);
const char *hsrv_path(const struct hsrv_req *r);
/* Path segment i matched by '*', or "". */
const char *hsrv_seg(const struct hsrv_req *r, int i);
/* Query parameter (URL-decoded by lws), or NULL. */
const char *hsrv_arg(const struct hsrv_req *r, const char *name);
int hsrv_n_args(const struct hsrv_req *r);
/* Query parameter i: its name and value. */
void hsrv_arg_at(const struct hsrv_req *r, int i, const char **name, const char **value);
/* The request body (NUL-terminated after len bytes), or "" with len 0. */
const char *hsrv_body(const struct hsrv_req *r, size_t *len);
/*
 * Copies request header name (lowercase, colon included: "idempotency-key:") into buf (cap
 * bytes, NUL-terminated). Returns its length, or -1 when absent or longer than cap - 1.
 */
int hsrv_header(struct hsrv_req *r, const char *name, char *buf, size_t cap);
/* Copies a request header lws knows by token (WSI_TOKEN_HTTP_AUTHORIZATION, ...); as above. */
int hsrv_token(struct hsrv_req *r, enum lws_token_indexes tok, char *buf, size_t cap);
/* Program data for this request (set by admit, read by handlers and after). */
void hsrv_set_user(struct hsrv_req *r, void *user);
void *hsrv_user(const struct hsrv_req *r);

/* ---- the reply ------------------------------------------------------------------------------ */

/* Sets the reply: status, content type and body (len bytes, copied). Replaces an earlier one. */
void hsrv_reply(struct hsrv_req *r, int status, const char *content_type, const char *body,
    size_t len);
/* Sets a JSON reply; takes ownership of body (NULL is answered as an error 500). */
void hsrv_reply_json(struct hsrv_req *r, int status, struct json_object *body);
/*
 * Adds a reply header (name without colon, value copied). Headers added before a later
 * hsrv_reply are kept. Returns 0, or -1 when the header space is full.
 */
int hsrv_add_header(struct hsrv_req *r, const char *name, const char *value);
/* Holds the reply back ms milliseconds (the loop keeps serving other connections). */
void hsrv_delay(struct hsrv_req *r, int64_t ms);
int hsrv_status(const struct hsrv_req *r);
bool hsrv_replied(const struct hsrv_req *r);
/* The reply body set so far (borrowed), with its length and content type. */
const char *hsrv_reply_body(const struct hsrv_req *r, size_t *len, const char **content_type);

#endif
