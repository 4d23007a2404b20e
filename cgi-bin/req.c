/*
 * req: reading a FastCGI request (query string, request id, body) and writing responses.
 * Responses are formatted with snprintf and written with FCGX_PutStr: libfcgi's own printf
 * lacks %zu and would send an empty Content-Length.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "api.h"
#include "log.h"
#include "url.h"

/* Splits the query string into req->params. Returns 0 or an api_err with req->init_error set. */
static int
req_parse_query(struct req *req, const char *qs)
{
	const char *p = qs;
	char *name, *value;
	enum url_next rc;

	while ((rc = url_form_next(&p, &name, &value)) == URL_PAIR) {
		if (req->nparams == REQ_MAX_PARAMS) {
			free(name);
			free(value);
			req->init_error = "too many query parameters";
			return ERR_BAD_REQUEST;
		}
		req->params[req->nparams].name = name;
		req->params[req->nparams].value = value;
		req->nparams++;
	}
	switch (rc) {
	case URL_ERR_NAME:
		req->init_error = "malformed query string: a parameter without a name";
		return ERR_BAD_REQUEST;
	case URL_ERR_ESCAPE:
		req->init_error = "malformed query string: a bad percent-escape or an encoded NUL";
		return ERR_BAD_REQUEST;
	case URL_END:
	case URL_PAIR:
		break;
	}
	return 0;
}

static bool
request_id_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= 64)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    c == '-' || c == '_'))
			return false;
	}
	return true;
}

/* Reads exactly CONTENT_LENGTH bytes of body, refusing more than max. Returns 0 or an api_err. */
static int
req_read_body(struct req *req, size_t max)
{
	const char *cl = req_env(req, "CONTENT_LENGTH");
	char *end;
	unsigned long long len;
	int got;

	if (cl == NULL || *cl == '\0')
		return 0;
	len = strtoull(cl, &end, 10);
	if (*end != '\0' || cl[0] == '-') {
		req->init_error = "malformed Content-Length";
		return ERR_BAD_REQUEST;
	}
	if (len > max) {
		req->init_error = "request body too large";
		return ERR_BODY_TOO_LARGE;
	}
	if ((req->body = malloc((size_t)len + 1)) == NULL) {
		req->init_error = "out of memory";
		return ERR_INTERNAL;
	}
	got = len > 0 ? FCGX_GetStr(req->body, (int)len, req->fcgi->in) : 0;
	if (got < 0 || (unsigned long long)got != len) {
		req->init_error = "request body shorter than its Content-Length";
		return ERR_BAD_REQUEST;
	}
	req->body[len] = '\0';
	req->body_len = (size_t)len;
	return 0;
}

int
req_init(struct req *req, FCGX_Request *fcgi, struct db *db, size_t max_body)
{
	const char *rid, *qs;
	int err;

	memset(req, 0, sizeof(*req));
	req->fcgi = fcgi;
	req->db = db;
	req->method = req_env(req, "REQUEST_METHOD");
	req->path = req_env(req, "DOCUMENT_URI");
	if (req->path == NULL)
		req->path = req_env(req, "SCRIPT_NAME");
	if (req->method == NULL)
		req->method = "";
	if (req->path == NULL)
		req->path = "";
	rid = req_env(req, "REQUEST_ID");
	if (rid != NULL && request_id_ok(rid)) {
		snprintf(req->request_id, sizeof(req->request_id), "%s", rid);
	} else {
		unsigned char r[16];

		if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
			memset(r, 0, sizeof(r));
		for (size_t i = 0; i < sizeof(r); i++)
			snprintf(req->request_id + 2 * i, 3, "%02x", r[i]);
	}
	qs = req_env(req, "QUERY_STRING");
	if ((err = req_parse_query(req, qs != NULL ? qs : "")) != 0)
		return err;
	return req_read_body(req, max_body);
}

void
req_reset(struct req *req)
{
	for (size_t i = 0; i < req->nparams; i++) {
		free(req->params[i].name);
		free(req->params[i].value);
	}
	for (size_t i = 0; i < req->ncaptures; i++)
		free(req->captures[i]);
	for (size_t i = 0; i < req->nheaders; i++)
		free(req->headers[i]);
	free(req->body);
	PQclear(req->prefetch.call.res);
	memset(req, 0, sizeof(*req));
}

const char *
req_param(const struct req *req, const char *name)
{
	for (size_t i = 0; i < req->nparams; i++)
		if (strcmp(req->params[i].name, name) == 0)
			return req->params[i].value;
	return NULL;
}

const char *
req_env(const struct req *req, const char *name)
{
	return FCGX_GetParam(name, req->fcgi->envp);
}

int
req_add_header(struct req *req, const char *name, const char *value)
{
	char *line;

	if (req->nheaders == REQ_MAX_HEADERS || asprintf(&line, "%s: %s", name, value) < 0)
		return -1;
	req->headers[req->nheaders++] = line;
	return 0;
}

/* Writes the status line, our headers and the body. */
static void
req_send(struct req *req, int status, const char *ctype, const char *body, size_t len)
{
	char head[512];
	int n;

	if (req->sent)
		return;
	req->sent = true;
	req->status = status;
	if (status >= 400 && req->caller.cost > 0 && req->refund != NULL)
		req->refund(req);
	n = snprintf(head, sizeof(head),
	    "Status: %d %s\r\nContent-Type: %s\r\nX-Request-Id: %s\r\nCache-Control: no-store\r\n"
	    "Content-Length: %zu\r\n",
	    status, api_status_text(status), ctype, req->request_id, len);
	FCGX_PutStr(head, n, req->fcgi->out);
	if (req->caller.known) {
		const struct req_caller *c = &req->caller;

		n = snprintf(head, sizeof(head),
		    "X-Credits-Cost: %d\r\nX-Credits-Used: %" PRId64 "\r\nX-Credits-Total: %" PRId64 "\r\n"
		    "X-Credits-Remaining: %" PRId64 "\r\nX-RateLimit-Limit: %" PRId64 "\r\n"
		    "X-RateLimit-Remaining: %" PRId64 "\r\nX-RateLimit-Reset: %" PRId64 "\r\n",
		    c->cost, c->used + c->overage, c->allowance, c->allowance - c->used, c->rate_limit,
		    c->rate_remaining, c->rate_reset_s);
		FCGX_PutStr(head, n, req->fcgi->out);
	}
	for (size_t i = 0; i < req->nheaders; i++) {
		FCGX_PutS(req->headers[i], req->fcgi->out);
		FCGX_PutStr("\r\n", 2, req->fcgi->out);
	}
	FCGX_PutStr("\r\n", 2, req->fcgi->out);
	if (!req->head_only && len > 0)
		FCGX_PutStr(body, (int)len, req->fcgi->out);
}

void
req_send_body(struct req *req, int status, const char *ctype, const char *body, size_t len)
{
	req_send(req, status, ctype, body, len);
}

void
req_send_json(struct req *req, int status, struct json_object *obj)
{
	const char *s;
	size_t len;

	if (obj == NULL) {
		req_send_error(req, ERR_INTERNAL, "out of memory");
		return;
	}
	s = json_object_to_json_string_length(obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE,
	    &len);
	req_send(req, status, "application/json", s, len);
	json_object_put(obj);
}

void
req_send_error(struct req *req, enum api_err err, const char *fmt, ...)
{
	struct json_object *root = json_object_new_object(), *e = json_object_new_object();
	char msg[512];
	const char *s;
	size_t len;

	if (fmt != NULL) {
		va_list ap;

		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
	} else {
		snprintf(msg, sizeof(msg), "%s", api_err_code(err));
	}
	if (err == ERR_SERVICE_UNAVAILABLE)
		req_add_header(req, "Retry-After", "2");
	json_object_object_add(e, "code", json_object_new_string(api_err_code(err)));
	json_object_object_add(e, "message", json_object_new_string(msg));
	json_object_object_add(e, "status", json_object_new_int(api_err_status(err)));
	json_object_object_add(root, "error", e);
	json_object_object_add(root, "request_id", json_object_new_string(req->request_id));
	s = json_object_to_json_string_length(root, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE,
	    &len);
	req_send(req, api_err_status(err), "application/json", s, len);
	json_object_put(root);
}
