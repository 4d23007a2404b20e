/*
 * h_webhook: POST /v1/stripe/webhook, Stripe's events (shared/BILLING.md). No session: the
 * Stripe-Signature header over the raw body (exactly CONTENT_LENGTH bytes, cgi-bin/req.c) is the
 * authentication, verified by lib/stripe_sig against every secret of
 * KBOOK_STRIPE_WEBHOOK_SECRETS_FILE (re-read at each event, so a rotation needs no restart) with
 * Stripe's 300 s tolerance. A verified event is applied by one SQL statement
 * (billing_apply_event): the dedup row, the stale guard and the change commit together or not at
 * all; a failure answers 500 with nothing kept, and Stripe's redelivery applies it.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "log.h"
#include "route.h"
#include "stripe_sig.h"

#define MAX_SECRETS 8
#define SECRET_MAX 256

static struct db_stmt q_apply = DB_STMT("stripe_apply_event",
    "SELECT billing_apply_event($1::jsonb, $2)", 2);

/* Reads the secrets file: one whsec_ secret a line (blank lines and # comments skipped). */
static size_t
load_secrets(char buf[MAX_SECRETS][SECRET_MAX], const char *ptr[MAX_SECRETS])
{
	FILE *f;
	char line[SECRET_MAX];
	size_t n = 0;

	if (cfg.stripe_webhook_secrets_file[0] == '\0' ||
	    (f = fopen(cfg.stripe_webhook_secrets_file, "r")) == NULL)
		return 0;
	while (n < MAX_SECRETS && fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		if (strncmp(line, "whsec_", 6) != 0)
			continue;
		snprintf(buf[n], SECRET_MAX, "%s", line);
		ptr[n] = buf[n];
		n++;
	}
	fclose(f);
	return n;
}

/* The event's id, type and created are there and of the right types. */
static bool
event_ok(struct json_object *ev)
{
	struct json_object *v, *d;

	return json_object_is_type(ev, json_type_object) &&
	    json_object_object_get_ex(ev, "id", &v) && json_object_is_type(v, json_type_string) &&
	    json_object_get_string_len(v) > 0 && json_object_get_string_len(v) <= 255 &&
	    json_object_object_get_ex(ev, "type", &v) && json_object_is_type(v, json_type_string) &&
	    json_object_object_get_ex(ev, "created", &v) && json_object_is_type(v, json_type_int) &&
	    json_object_object_get_ex(ev, "data", &d) && json_object_is_type(d, json_type_object) &&
	    json_object_object_get_ex(d, "object", &v) && json_object_is_type(v, json_type_object);
}

void
h_stripe_webhook(struct req *req)
{
	char sbuf[MAX_SECRETS][SECRET_MAX];
	const char *secrets[MAX_SECRETS], *sig = req_env(req, "HTTP_STRIPE_SIGNATURE");
	const char *params[2];
	struct json_tokener *tok;
	struct json_object *ev, *root, *id;
	enum stripe_sig_result r;
	size_t n;
	PGresult *res;

	if ((n = load_secrets(sbuf, secrets)) == 0) {
		req_send_error(req, ERR_BILLING_UNAVAILABLE, "no webhook signing secret is configured");
		return;
	}
	if (sig == NULL) {
		req_send_error(req, ERR_INVALID_SIGNATURE, "no Stripe-Signature header");
		return;
	}
	if (req->body == NULL || req->body_len == 0) {
		req_send_error(req, ERR_INVALID_SIGNATURE, "no body: nothing is signed");
		return;
	}
	r = stripe_sig_verify(sig, strlen(sig), req->body, req->body_len,
	    secrets, n, (int64_t)time(NULL), STRIPE_SIG_TOLERANCE);
	explicit_bzero(sbuf, sizeof(sbuf));
	if (r != STRIPE_SIG_OK) {
		req_send_error(req, ERR_INVALID_SIGNATURE, "Stripe-Signature: %s", stripe_sig_strerror(r));
		return;
	}
	if ((tok = json_tokener_new_ex(64)) == NULL) {
		req_send_error(req, ERR_INTERNAL, "out of memory");
		return;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	ev = json_tokener_parse_ex(tok, req->body, (int)req->body_len);
	if (ev == NULL || json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != req->body_len || !event_ok(ev) ||
	    strlen(req->body) != req->body_len) {
		json_tokener_free(tok);
		json_object_put(ev);
		req_send_error(req, ERR_INVALID_BODY, "the body is not a Stripe event");
		return;
	}
	json_tokener_free(tok);
	params[0] = req->body;
	params[1] = cfg.stripe_price_project;
	json_object_object_get_ex(ev, "id", &id);
	if ((res = db_exec(req->db, &q_apply, params)) == NULL) {
		log_warnx("stripe event %s not applied (Stripe will deliver it again)",
		    json_object_get_string(id));
		json_object_put(ev);
		req_send_error(req, ERR_INTERNAL, "the event could not be applied; it was not kept");
		return;
	}
	root = json_object_new_object();
	json_object_object_add(root, "received", json_object_new_boolean(1));
	json_object_object_add(root, "outcome", json_object_new_string(PQgetvalue(res, 0, 0)));
	log_info("stripe event %s %s: %s", json_object_get_string(id),
	    json_object_get_string(json_object_object_get(ev, "type")), PQgetvalue(res, 0, 0));
	PQclear(res);
	json_object_put(ev);
	req_send_json(req, 200, root);
}
