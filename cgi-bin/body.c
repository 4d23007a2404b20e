/*
 * body: JSON request bodies of the account routes (see account.h). A body is parsed strictly
 * (json-c's strict mode, UTF-8 validated, at most 8 levels deep, nothing after the object), and
 * members a route does not declare are refused like undeclared query parameters.
 */
#include <string.h>
#include <strings.h>

#include "account.h"

struct json_object *
body_object(struct req *req, const char *const *names)
{
	const char *ct = req_env(req, "CONTENT_TYPE");
	struct json_tokener *tok;
	struct json_object *o;
	size_t ctlen;

	ctlen = ct != NULL ? strcspn(ct, "; ") : 0;
	if (ct == NULL || ctlen != 16 || strncasecmp(ct, "application/json", 16) != 0) {
		req_send_error(req, ERR_UNSUPPORTED_MEDIA_TYPE,
		    "the body must be JSON with Content-Type: application/json");
		return NULL;
	}
	if (req->body == NULL || req->body_len == 0) {
		req_send_error(req, ERR_INVALID_BODY, "the body must be a JSON object");
		return NULL;
	}
	if ((tok = json_tokener_new_ex(8)) == NULL) {
		req_send_error(req, ERR_INTERNAL, "out of memory");
		return NULL;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, req->body, (int)req->body_len);
	if (o == NULL || json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != req->body_len || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		json_tokener_free(tok);
		req_send_error(req, ERR_INVALID_BODY, "the body must be one well-formed JSON object");
		return NULL;
	}
	json_tokener_free(tok);
	json_object_object_foreach(o, key, val) {
		bool known = false;

		(void)val;
		for (const char *const *n = names; *n != NULL; n++)
			known = known || strcmp(*n, key) == 0;
		if (!known) {
			req_send_error(req, ERR_UNKNOWN_PARAMETER, "unknown member %.64s in the body", key);
			json_object_put(o);
			return NULL;
		}
	}
	return o;
}

int
body_string(struct req *req, struct json_object *o, const char *name, bool required, size_t max,
    const char **out)
{
	struct json_object *v;
	const char *s;

	*out = NULL;
	if (!json_object_object_get_ex(o, name, &v) || v == NULL) {
		if (!required)
			return 0;
		req_send_error(req, ERR_MISSING_PARAMETER, "the body needs the member %s", name);
		return -1;
	}
	if (!json_object_is_type(v, json_type_string)) {
		req_send_error(req, ERR_INVALID_PARAMETER, "%s must be a string", name);
		return -1;
	}
	s = json_object_get_string(v);
	if ((size_t)json_object_get_string_len(v) != strlen(s)) {
		req_send_error(req, ERR_INVALID_PARAMETER, "%s must not contain a NUL character", name);
		return -1;
	}
	if (strlen(s) > max) {
		req_send_error(req, ERR_INVALID_PARAMETER, "%s must have at most %zu bytes", name, max);
		return -1;
	}
	*out = s;
	return 0;
}

int
body_email(struct req *req, struct json_object *o, char out[EMAIL_MAX + 1])
{
	const char *s;

	if (body_string(req, o, "email", true, 4096, &s) != 0)
		return -1;
	if (email_normalize(s, out) != 0) {
		req_send_error(req, ERR_INVALID_EMAIL, "not an email address");
		return -1;
	}
	return 0;
}
