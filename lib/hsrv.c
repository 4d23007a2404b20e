/*
 * hsrv: HTTP requests and replies on a libwebsockets loop (see hsrv.h). The request is read in
 * LWS_CALLBACK_HTTP (and LWS_CALLBACK_HTTP_BODY for a body), dispatched once it is complete,
 * and the reply written: its headers in one write at once (as kalshi-sim always did; answering
 * them a loop turn later made its lifecycle test's race with the lifecycle timer lose more often
 * on a loaded machine), or when a held reply's timer fires, then the body from
 * LWS_CALLBACK_HTTP_WRITEABLE in chunks of HSRV_CHUNK, so a large reply never blocks the loop
 * and one slow reader does not hold the others.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "hsrv.h"
#include "sbuf.h"

#define HSRV_CHUNK 65536
#define HSRV_MAX_ARGS 64
#define HSRV_HDR_SPACE 2048

struct hsrv_req {
	struct lws *wsi;
	const char *method;
	char path[1024];
	char segs[HSRV_MAX_SEGS][256];
	int n_segs;
	char argbuf[8192];
	const char *arg_names[HSRV_MAX_ARGS], *arg_vals[HSRV_MAX_ARGS];
	int n_args;
	struct sbuf body;
	bool body_too_big;
	void *user;
	/* the reply */
	int status;
	char ctype[64];
	char *out;
	size_t out_len, out_off;
	char hdrs[HSRV_HDR_SPACE];   /* "name\0value\0" pairs */
	size_t hdrs_len;
	bool replied, dispatched, headers_sent, waiting;
};

static const struct {
	const char *name;
	enum lws_token_indexes tok;
} hsrv_methods[] = {
	{ "GET", WSI_TOKEN_GET_URI },
	{ "POST", WSI_TOKEN_POST_URI },
	{ "DELETE", WSI_TOKEN_DELETE_URI },
	{ "PUT", WSI_TOKEN_PUT_URI },
	{ "PATCH", WSI_TOKEN_PATCH_URI },
	{ "OPTIONS", WSI_TOKEN_OPTIONS_URI },
};

struct lws *
hsrv_wsi(struct hsrv_req *r)
{
	return r->wsi;
}

const char *
hsrv_method(const struct hsrv_req *r)
{
	return r->method != NULL ? r->method : "";
}

const char *
hsrv_path(const struct hsrv_req *r)
{
	return r->path;
}

const char *
hsrv_seg(const struct hsrv_req *r, int i)
{
	return i >= 0 && i < r->n_segs ? r->segs[i] : "";
}

const char *
hsrv_arg(const struct hsrv_req *r, const char *name)
{
	for (int i = 0; i < r->n_args; i++)
		if (strcmp(r->arg_names[i], name) == 0)
			return r->arg_vals[i];
	return NULL;
}

int
hsrv_n_args(const struct hsrv_req *r)
{
	return r->n_args;
}

void
hsrv_arg_at(const struct hsrv_req *r, int i, const char **name, const char **value)
{
	*name = r->arg_names[i];
	*value = r->arg_vals[i];
}

const char *
hsrv_body(const struct hsrv_req *r, size_t *len)
{
	*len = r->body.len;
	return r->body.p != NULL ? r->body.p : "";
}

int
hsrv_header(struct hsrv_req *r, const char *name, char *buf, size_t cap)
{
	int n = lws_hdr_custom_length(r->wsi, name, (int)strlen(name));

	if (n < 0 || (size_t)n >= cap)
		return -1;
	if (lws_hdr_custom_copy(r->wsi, buf, (int)cap, name, (int)strlen(name)) < 0)
		return -1;
	buf[n] = '\0';
	return n;
}

int
hsrv_token(struct hsrv_req *r, enum lws_token_indexes tok, char *buf, size_t cap)
{
	int n = lws_hdr_total_length(r->wsi, tok);

	if (n <= 0 || (size_t)n >= cap)
		return -1;
	n = lws_hdr_copy(r->wsi, buf, (int)cap, tok);
	return n < 0 ? -1 : n;
}

void
hsrv_set_user(struct hsrv_req *r, void *user)
{
	r->user = user;
}

void *
hsrv_user(const struct hsrv_req *r)
{
	return r->user;
}

void
hsrv_reply(struct hsrv_req *r, int status, const char *content_type, const char *body,
    size_t len)
{
	free(r->out);
	r->out = malloc(len + 1);
	r->out_len = 0;
	r->replied = true;
	if (r->out == NULL) {
		r->status = 500;
		snprintf(r->ctype, sizeof(r->ctype), "text/plain");
		return;
	}
	memcpy(r->out, body, len);
	r->out[len] = '\0';
	r->out_len = len;
	r->status = status;
	snprintf(r->ctype, sizeof(r->ctype), "%s", content_type);
}

void
hsrv_reply_json(struct hsrv_req *r, int status, struct json_object *body)
{
	const char *text;

	if (body == NULL) {
		hsrv_reply(r, 500, "application/json", "{}", 2);
		return;
	}
	text = json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	hsrv_reply(r, status, "application/json", text, strlen(text));
	json_object_put(body);
}

int
hsrv_add_header(struct hsrv_req *r, const char *name, const char *value)
{
	size_t nl = strlen(name), vl = strlen(value);

	if (r->hdrs_len + nl + vl + 2 > sizeof(r->hdrs))
		return -1;
	memcpy(r->hdrs + r->hdrs_len, name, nl + 1);
	r->hdrs_len += nl + 1;
	memcpy(r->hdrs + r->hdrs_len, value, vl + 1);
	r->hdrs_len += vl + 1;
	return 0;
}

void
hsrv_delay(struct hsrv_req *r, int64_t ms)
{
	r->waiting = ms > 0;
	if (ms > 0) {
		lws_set_timer_usecs(r->wsi, (lws_usec_t)ms * 1000);
		/* lws closes a connection whose answer has not started after its timeout_secs (5 s by
		 * default): a kalshi-sim rest_slow answer held 12 s came back as "Server returned
		 * nothing" after 5 s. The held reply gets its delay plus that much. */
		lws_set_timeout(r->wsi, PENDING_TIMEOUT_HTTP_CONTENT, (int)(ms / 1000) + 5);
	}
}

int
hsrv_status(const struct hsrv_req *r)
{
	return r->status;
}

bool
hsrv_replied(const struct hsrv_req *r)
{
	return r->replied;
}

const char *
hsrv_reply_body(const struct hsrv_req *r, size_t *len, const char **content_type)
{
	*len = r->out_len;
	*content_type = r->ctype;
	return r->out != NULL ? r->out : "";
}

int
hsrv_write_simple(struct lws *wsi, int status, const char *body)
{
	unsigned char buf[LWS_PRE + 2048], *start = buf + LWS_PRE;
	const char *reason = status == 401 ? "Unauthorized" : status == 404 ? "Not Found" : "Error";
	int n;

	n = snprintf((char *)start, sizeof(buf) - LWS_PRE,
	    "HTTP/1.1 %d %s\r\ncontent-type: application/json\r\ncontent-length: %zu\r\n"
	    "connection: close\r\n\r\n%s", status, reason, strlen(body), body);
	if (n < 0 || (size_t)n >= sizeof(buf) - LWS_PRE)
		return -1;
	if (lws_write(wsi, start, (size_t)n, LWS_WRITE_HTTP_HEADERS) < n)
		return -1;
	return 0;
}

static void
hsrv_req_free(struct hsrv_sess *s)
{
	if (s->req == NULL)
		return;
	sbuf_free(&s->req->body);
	free(s->req->out);
	free(s->req);
	s->req = NULL;
}

/* Splits the query string into name/value pairs (lws has URL-decoded each fragment). */
static void
hsrv_parse_args(struct hsrv_req *r)
{
	size_t used = 0;

	for (int i = 0; r->n_args < HSRV_MAX_ARGS && used < sizeof(r->argbuf); i++) {
		char *frag = r->argbuf + used, *eq;
		int n = lws_hdr_copy_fragment(r->wsi, frag, (int)(sizeof(r->argbuf) - used),
		    WSI_TOKEN_HTTP_URI_ARGS, i);

		if (n < 0)
			break;
		used += (size_t)n + 1;
		eq = strchr(frag, '=');
		if (eq != NULL)
			*eq++ = '\0';
		r->arg_names[r->n_args] = frag;
		r->arg_vals[r->n_args] = eq != NULL ? eq : "";
		r->n_args++;
	}
}

/* Matches path against pattern, storing '*' segments in r. */
static bool
hsrv_match(struct hsrv_req *r, const char *pattern, const char *path)
{
	r->n_segs = 0;
	while (*pattern != '\0' && *path != '\0') {
		if (*pattern == '*') {
			size_t n = strcspn(path, "/");

			if (n == 0 || n >= sizeof(r->segs[0]) || r->n_segs == HSRV_MAX_SEGS)
				return false;
			memcpy(r->segs[r->n_segs], path, n);
			r->segs[r->n_segs++][n] = '\0';
			path += n;
			pattern++;
			continue;
		}
		if (*pattern != *path)
			return false;
		pattern++;
		path++;
	}
	return *pattern == '\0' && *path == '\0';
}

static void
hsrv_dispatch(const struct hsrv_conf *conf, struct hsrv_req *r)
{
	const struct hsrv_route *rt = NULL;
	bool path_known = false;

	r->dispatched = true;
	hsrv_parse_args(r);
	if (r->method == NULL) {
		conf->error(r, 405);
		return;
	}
	for (size_t i = 0; i < conf->n_routes; i++) {
		if (!hsrv_match(r, conf->routes[i].pattern, r->path))
			continue;
		path_known = true;
		if (strcmp(conf->routes[i].method, r->method) == 0) {
			rt = &conf->routes[i];
			break;
		}
	}
	if (rt == NULL) {
		conf->error(r, path_known ? 405 : 404);
		return;
	}
	/* the matched route's segments again (a later pattern may have overwritten them) */
	hsrv_match(r, rt->pattern, r->path);
	if (r->body_too_big) {
		conf->error(r, 413);
		return;
	}
	if (conf->admit == NULL || conf->admit(r, rt))
		rt->handler(r);
	if (!r->replied)
		conf->error(r, 500);
	if (conf->after != NULL)
		conf->after(r, rt);
}

/*
 * Writes the reply's status line and headers (one lws_write), then asks for WRITEABLE for the
 * body, or completes the transaction when there is none. Returns -1 to close the connection.
 */
static int
hsrv_send_headers(struct hsrv_sess *s, struct lws *wsi)
{
	struct hsrv_req *r = s->req;
	unsigned char hbuf[LWS_PRE + HSRV_HDR_SPACE + 512], *start = hbuf + LWS_PRE, *p = start,
	    *end = hbuf + sizeof(hbuf) - 1;

	if (lws_add_http_common_headers(wsi, (unsigned int)r->status, r->ctype, r->out_len, &p, end))
		return -1;
	for (size_t off = 0; off < r->hdrs_len;) {
		const char *name = r->hdrs + off, *value = name + strlen(name) + 1;
		char hname[128];
		size_t nl = strlen(name);

		if (nl + 2 > sizeof(hname))
			return -1;
		memcpy(hname, name, nl);
		hname[nl] = ':';
		hname[nl + 1] = '\0';
		if (lws_add_http_header_by_name(wsi, (const unsigned char *)hname,
		    (const unsigned char *)value, (int)strlen(value), &p, end))
			return -1;
		off = (size_t)(value - r->hdrs) + strlen(value) + 1;
	}
	if (lws_finalize_write_http_header(wsi, start, &p, end))
		return -1;
	r->headers_sent = true;
	if (r->out_len == 0) {
		hsrv_req_free(s);
		return lws_http_transaction_completed(wsi) ? -1 : 0;
	}
	lws_callback_on_writable(wsi);
	return 0;
}

/*
 * After dispatch: the headers go out at once, as in lws's minimal HTTP server (the first write
 * of a transaction may happen in LWS_CALLBACK_HTTP); a held reply waits for its timer.
 */
static int
hsrv_dispatched(struct hsrv_sess *s, struct lws *wsi)
{
	if (s->req->waiting)
		return 0;
	return hsrv_send_headers(s, wsi);
}

/* LWS_CALLBACK_HTTP: a new request. Returns -1 to close the connection. */
static int
hsrv_begin(const struct hsrv_conf *conf, struct hsrv_sess *s, struct lws *wsi)
{
	struct hsrv_req *r;

	hsrv_req_free(s);
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return -1;
	s->req = r;
	r->wsi = wsi;
	for (size_t i = 0; i < sizeof(hsrv_methods) / sizeof(hsrv_methods[0]); i++) {
		if (lws_hdr_total_length(wsi, hsrv_methods[i].tok) <= 0)
			continue;
		if (lws_hdr_copy(wsi, r->path, sizeof(r->path), hsrv_methods[i].tok) > 0)
			r->method = hsrv_methods[i].name;
		break;
	}
	/* a request that announces a body is dispatched once the body has arrived */
	if (r->method != NULL && lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0) {
		char cl[32];

		if (lws_hdr_copy(wsi, cl, sizeof(cl), WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0 &&
		    strtoull(cl, NULL, 10) > 0)
			return 0;
	}
	hsrv_dispatch(conf, r);
	return hsrv_dispatched(s, wsi);
}

/* LWS_CALLBACK_HTTP_WRITEABLE: the headers, then the next chunk. -1 closes the connection. */
static int
hsrv_continue(struct hsrv_sess *s, struct lws *wsi)
{
	struct hsrv_req *r = s->req;
	unsigned char *chunk;
	size_t n;
	bool last;

	if (r == NULL || !r->dispatched || r->waiting)
		return 0;
	if (!r->headers_sent)
		return hsrv_send_headers(s, wsi);
	n = r->out_len - r->out_off;
	if (n > HSRV_CHUNK)
		n = HSRV_CHUNK;
	last = r->out_off + n == r->out_len;
	chunk = malloc(LWS_PRE + n);
	if (chunk == NULL)
		return -1;
	memcpy(chunk + LWS_PRE, r->out + r->out_off, n);
	if (lws_write(wsi, chunk + LWS_PRE, n, last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) <
	    (int)n) {
		free(chunk);
		return -1;
	}
	free(chunk);
	r->out_off += n;
	if (!last) {
		lws_callback_on_writable(wsi);
		return 0;
	}
	hsrv_req_free(s);
	return lws_http_transaction_completed(wsi) ? -1 : 0;
}

int
hsrv_callback(const struct hsrv_conf *conf, struct hsrv_sess *s, struct lws *wsi,
    enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	if (s == NULL)
		return lws_callback_http_dummy(wsi, reason, user, in, len);
	switch (reason) {
	case LWS_CALLBACK_HTTP:
		return hsrv_begin(conf, s, wsi);
	case LWS_CALLBACK_HTTP_BODY:
		if (s->req != NULL && !s->req->body_too_big) {
			if (s->req->body.len + len > conf->max_body)
				s->req->body_too_big = true;
			else
				sbuf_add(&s->req->body, in, len);
		}
		return 0;
	case LWS_CALLBACK_HTTP_BODY_COMPLETION:
		if (s->req == NULL || s->req->dispatched)
			return 0;
		if (s->req->body.failed)
			s->req->body_too_big = true;
		hsrv_dispatch(conf, s->req);
		return hsrv_dispatched(s, wsi);
	case LWS_CALLBACK_TIMER:
		if (s->req != NULL && s->req->waiting) {
			s->req->waiting = false;
			lws_callback_on_writable(wsi);
		}
		return 0;
	case LWS_CALLBACK_HTTP_WRITEABLE:
		return hsrv_continue(s, wsi);
	case LWS_CALLBACK_CLOSED_HTTP:
		hsrv_req_free(s);
		return 0;
	default:
		return lws_callback_http_dummy(wsi, reason, user, in, len);
	}
}
