/*
 * h_session: /v1/session: log in (a new session id every time), the session of the caller,
 * log out (the row is deleted, the cookie cleared) and the end of every other session.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account.h"
#include "apikey.h"
#include "route.h"

static struct db_stmt q_end_token = DB_STMT("session_end_token",
    "DELETE FROM sessions WHERE token_hash = $1::bytea", 1);
static struct db_stmt q_end = DB_STMT("session_end",
    "DELETE FROM sessions WHERE id = $1::bigint", 1);
static struct db_stmt q_end_others = DB_STMT("session_end_others",
    "DELETE FROM sessions WHERE account_id = $1::bigint AND id <> $2::bigint", 2);

void
h_session_login(struct req *req)
{
	static const char *const names[] = { "email", "password", "bearer", NULL };
	struct json_object *o, *root, *acc, *b;
	char email[EMAIL_MAX + 1], buf[TOKEN_MAX], token[TOKEN_MAX];
	const char *pw, *old;
	bool via_cookie, bearer = false;
	int64_t account_id = 0;
	int rc;

	if ((o = body_object(req, names)) == NULL)
		return;
	if (body_email(req, o, email) != 0 || body_string(req, o, "password", true, 65536, &pw) != 0)
		goto out;
	if (json_object_object_get_ex(o, "bearer", &b)) {
		if (!json_object_is_type(b, json_type_boolean)) {
			req_send_error(req, ERR_INVALID_PARAMETER, "bearer must be true or false");
			goto out;
		}
		bearer = json_object_get_boolean(b);
	}
	if ((rc = creds_check(req, email, pw, &account_id)) < 0)
		goto out;
	if (rc == 0) {
		req_send_error(req, ERR_INVALID_CREDENTIALS, "invalid email or password");
		goto out;
	}
	/* the session the request may carry ends: a login always makes a new id (no fixation) */
	if ((old = session_token(req, &via_cookie, buf)) != NULL) {
		char hex[2 + 2 * APIKEY_HASH_LEN + 1];
		const char *params[] = { hex };
		PGresult *res;

		apikey_hash_hex(old, hex);
		if ((res = db_exec(req->db, &q_end_token, params)) != NULL)
			PQclear(res);
	}
	if (session_start(req, account_id, token) != 0 || (acc = account_json(req, account_id)) == NULL) {
		req_send_error(req, ERR_SERVICE_UNAVAILABLE, "cannot start the session now; retry shortly");
		goto out;
	}
	root = json_object_new_object();
	json_object_object_add(root, "account", acc);
	json_object_object_add(root, "csrf_token", json_object_new_string(req->session.csrf));
	if (bearer)
		json_object_object_add(root, "session_token", json_object_new_string(token));
	req_send_json(req, 200, root);
out:
	json_object_put(o);
}

void
h_session_get(struct req *req)
{
	struct json_object *root, *acc, *s;

	if ((acc = account_json(req, req->session.account_id)) == NULL) {
		req_send_error(req, ERR_SERVICE_UNAVAILABLE, "cannot read the account now; retry shortly");
		return;
	}
	root = json_object_new_object();
	s = json_object_new_object();
	json_object_object_add(root, "account", acc);
	json_object_object_add(root, "csrf_token", json_object_new_string(req->session.csrf));
	json_object_object_add(s, "created_at", json_object_new_string(req->session.created_at));
	json_object_object_add(s, "expires_at", json_object_new_string(req->session.expires_at));
	json_object_object_add(root, "session", s);
	req_send_json(req, 200, root);
}

void
h_session_delete(struct req *req)
{
	char id[24];
	const char *params[] = { id };
	PGresult *res;

	snprintf(id, sizeof(id), "%lld", (long long)req->session.id);
	if ((res = db_exec(req->db, &q_end, params)) == NULL) {
		req_send_error(req, ERR_SERVICE_UNAVAILABLE, "cannot end the session now; retry shortly");
		return;
	}
	PQclear(res);
	session_clear_cookie(req);
	req_send_body(req, 204, "application/json", "", 0);
}

void
h_session_others(struct req *req)
{
	char acc[24], id[24];
	const char *params[] = { acc, id };
	struct json_object *root;
	PGresult *res;

	snprintf(acc, sizeof(acc), "%lld", (long long)req->session.account_id);
	snprintf(id, sizeof(id), "%lld", (long long)req->session.id);
	if ((res = db_exec(req->db, &q_end_others, params)) == NULL) {
		req_send_error(req, ERR_SERVICE_UNAVAILABLE, "cannot end the sessions now; retry shortly");
		return;
	}
	root = json_object_new_object();
	json_object_object_add(root, "revoked", json_object_new_int64(atoll(PQcmdTuples(res))));
	PQclear(res);
	req_send_json(req, 200, root);
}
