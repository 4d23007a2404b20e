/*
 * h_account: /v1/account/...: sign-up, the confirmation link and its resending, the password
 * (change, forgotten, reset by link) and the deletion of the account. Every step that writes
 * does so in one transaction together with the mail it queues, so a failed step leaves nothing
 * behind. The answers to sign-up, resend and forgot are the same whether or not the email has an
 * account, and cost the same work (one argon2id hash for sign-up).
 *
 * Deleting an account revokes its keys at once, ends its sessions and links, and removes its
 * email and password; the row stays (disabled, deleted_at set, email replaced by
 * deleted-<id>@deleted.invalid) with its usage and credit periods, the record of what was used
 * and billed. The email can then sign up again as a new account.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account.h"
#include "apikey.h"
#include "config.h"
#include "log.h"
#include "passwd.h"
#include "route.h"

static struct db_stmt q_account = DB_STMT("account_get",
    "SELECT id, email, email_confirmed, plan, " SQL_TS("created_at")
    " FROM accounts WHERE id = $1::bigint AND deleted_at IS NULL", 1);

static struct db_stmt q_signup = DB_STMT("account_signup",
    "INSERT INTO accounts (email, password_hash, email_confirmed) VALUES ($1, $2, false)"
    " ON CONFLICT (email) DO NOTHING RETURNING id", 2);

/* $1 email: the account and whether its email is confirmed */
static struct db_stmt q_by_email = DB_STMT("account_by_email",
    "SELECT id, email_confirmed FROM accounts"
    " WHERE email = $1 AND deleted_at IS NULL AND NOT disabled", 1);

/* $1 hash, $2 account, $3 purpose, $4 seconds valid */
static struct db_stmt q_token_add = DB_STMT("account_token_add",
    "INSERT INTO account_tokens (token_hash, account_id, purpose, expires_at)"
    " VALUES ($1::bytea, $2::bigint, $3, now() + make_interval(secs => $4::int))", 4);

/* $1 hash, $2 purpose: the valid token's account and email, without using it */
static struct db_stmt q_token_peek = DB_STMT("account_token_peek",
    "SELECT t.account_id, a.email FROM account_tokens t JOIN accounts a ON a.id = t.account_id"
    " WHERE t.token_hash = $1::bytea AND t.purpose = $2 AND t.used_at IS NULL"
    "  AND t.expires_at > now() AND a.deleted_at IS NULL", 2);

/* $1 hash, $2 purpose: uses the token (once) */
static struct db_stmt q_token_use = DB_STMT("account_token_use",
    "UPDATE account_tokens t SET used_at = now() FROM accounts a"
    " WHERE t.token_hash = $1::bytea AND t.purpose = $2 AND t.used_at IS NULL"
    "  AND t.expires_at > now() AND a.id = t.account_id AND a.deleted_at IS NULL"
    " RETURNING t.account_id, a.email", 2);

static struct db_stmt q_confirm = DB_STMT("account_confirm",
    "UPDATE accounts SET email_confirmed = true WHERE id = $1::bigint", 1);

/* $1 account, $2 hash: the new password; a reset link also proves the address */
static struct db_stmt q_set_password = DB_STMT("account_set_password",
    "UPDATE accounts SET password_hash = $2, email_confirmed = email_confirmed OR $3::boolean"
    " WHERE id = $1::bigint", 3);

/* $1 account, $2 session to keep (0: none) */
static struct db_stmt q_end_sessions = DB_STMT("account_end_sessions",
    "DELETE FROM sessions WHERE account_id = $1::bigint AND id <> $2::bigint", 2);

static struct db_stmt q_end_resets = DB_STMT("account_end_resets",
    "UPDATE account_tokens SET used_at = now()"
    " WHERE account_id = $1::bigint AND purpose = 'reset' AND used_at IS NULL", 1);

static struct db_stmt q_revoke_keys = DB_STMT("account_revoke_keys",
    "UPDATE api_keys SET revoked_at = now() WHERE account_id = $1::bigint AND revoked_at IS NULL", 1);

static struct db_stmt q_drop_tokens = DB_STMT("account_drop_tokens",
    "DELETE FROM account_tokens WHERE account_id = $1::bigint", 1);

static struct db_stmt q_delete = DB_STMT("account_delete",
    "UPDATE accounts SET email = 'deleted-' || id || '@deleted.invalid', password_hash = NULL,"
    " disabled = true, email_confirmed = false, deleted_at = now() WHERE id = $1::bigint", 1);

struct json_object *
account_json(struct req *req, int64_t account_id)
{
	char acc[24];
	const char *params[] = { acc };
	struct json_object *o;
	PGresult *res;

	snprintf(acc, sizeof(acc), "%lld", (long long)account_id);
	if ((res = db_exec(req->db, &q_account, params)) == NULL)
		return NULL;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return NULL;
	}
	o = json_object_new_object();
	json_object_object_add(o, "id", json_object_new_int64(strtoll(PQgetvalue(res, 0, 0), NULL, 10)));
	json_object_object_add(o, "email", json_object_new_string(PQgetvalue(res, 0, 1)));
	json_object_object_add(o, "email_confirmed", json_object_new_boolean(PQgetvalue(res, 0, 2)[0] == 't'));
	json_object_object_add(o, "plan", json_object_new_string(PQgetvalue(res, 0, 3)));
	json_object_object_add(o, "created_at", json_object_new_string(PQgetvalue(res, 0, 4)));
	PQclear(res);
	return o;
}

/* Runs stmt with params and PQclears its result; returns the rows it affected, or -1. */
static long
run(struct db *db, struct db_stmt *stmt, const char *const *params)
{
	PGresult *res = db_exec(db, stmt, params);
	long n;

	if (res == NULL)
		return -1;
	n = atol(PQcmdTuples(res));
	PQclear(res);
	return n;
}

/* Makes a link token for account (in the open transaction) and queues its mail to email. */
static int
link_send(struct db *db, const char *account, const char *email, enum mail_kind kind)
{
	char tok[TOKEN_MAX], hex[2 + 2 * APIKEY_HASH_LEN + 1], secs[24];
	const char *purpose = kind == MAIL_RESET ? "reset" : "confirm";
	const char *params[] = { hex, account, purpose, secs };

	if (token_new("", tok) != 0)
		return -1;
	apikey_hash_hex(tok, hex);
	snprintf(secs, sizeof(secs), "%lld",
	    (long long)(kind == MAIL_RESET ? cfg.reset_link_s : cfg.confirm_link_s));
	if (run(db, &q_token_add, params) < 0)
		return -1;
	return mailq_add(db, email, kind, tok);
}

static void
check_email(struct req *req)
{
	struct json_object *root = json_object_new_object();

	json_object_object_add(root, "status", json_object_new_string("check_email"));
	req_send_json(req, 202, root);
}

static void
status(struct req *req, const char *s)
{
	struct json_object *root = json_object_new_object();

	json_object_object_add(root, "status", json_object_new_string(s));
	req_send_json(req, 200, root);
}

static void
unavailable(struct req *req)
{
	req_send_error(req, ERR_SERVICE_UNAVAILABLE, "cannot do it now; retry shortly");
}

/* The token member of o, hashed into hex; answers invalid_token for a token of the wrong shape. */
static int
body_token(struct req *req, struct json_object *o, char hex[2 + 2 * APIKEY_HASH_LEN + 1])
{
	const char *tok;

	if (body_string(req, o, "token", true, 256, &tok) != 0)
		return -1;
	if (!token_well_formed(tok, "")) {
		req_send_error(req, ERR_INVALID_TOKEN, "the link is not valid: unknown, used or expired");
		return -1;
	}
	apikey_hash_hex(tok, hex);
	return 0;
}

/* The new password member name of o, checked and hashed into hash. */
static int
body_new_password(struct req *req, struct json_object *o, const char *name, const char *email,
    char hash[PASSWD_HASH_MAX])
{
	const char *pw, *why;

	if (body_string(req, o, name, true, 65536, &pw) != 0)
		return -1;
	if ((why = passwd_weak(pw, email)) != NULL) {
		req_send_error(req, ERR_WEAK_PASSWORD, "%s", why);
		return -1;
	}
	if (passwd_hash(pw, hash) != 0) {
		req_send_error(req, ERR_INTERNAL, "out of memory");
		return -1;
	}
	return 0;
}

void
h_account_signup(struct req *req)
{
	static const char *const names[] = { "email", "password", NULL };
	struct json_object *o;
	char email[EMAIL_MAX + 1], hash[PASSWD_HASH_MAX], acc[24];
	const char *params[] = { email, hash };
	struct db_tx tx = { 0 };
	PGresult *res;
	int rc = -1;

	if ((o = body_object(req, names)) == NULL)
		return;
	if (body_email(req, o, email) != 0 || body_new_password(req, o, "password", email, hash) != 0) {
		json_object_put(o);
		return;
	}
	json_object_put(o);
	if (db_begin(req->db, &tx) != 0 || (res = db_exec(req->db, &q_signup, params)) == NULL)
		goto out;
	if (PQntuples(res) == 1) {
		snprintf(acc, sizeof(acc), "%s", PQgetvalue(res, 0, 0));
		PQclear(res);
		rc = link_send(req->db, acc, email, MAIL_CONFIRM);
	} else {
		const char *p1[] = { email };

		PQclear(res);
		if ((res = db_exec(req->db, &q_by_email, p1)) == NULL)
			goto out;
		if (PQntuples(res) == 1 && PQgetvalue(res, 0, 1)[0] != 't') {
			snprintf(acc, sizeof(acc), "%s", PQgetvalue(res, 0, 0));
			rc = link_send(req->db, acc, email, MAIL_CONFIRM);
		} else {
			/* confirmed, or disabled: tell the owner, never the caller */
			rc = mailq_add(req->db, email, MAIL_EXISTS, NULL);
		}
		PQclear(res);
	}
	if (rc == 0)
		rc = db_commit(&tx);
out:
	db_end(&tx);
	if (rc != 0)
		unavailable(req);
	else
		check_email(req);
}

void
h_account_confirm(struct req *req)
{
	static const char *const names[] = { "token", NULL };
	struct json_object *o;
	char hex[2 + 2 * APIKEY_HASH_LEN + 1], acc[24];
	const char *params[] = { hex, "confirm" }, *p1[] = { acc };
	struct db_tx tx = { 0 };
	PGresult *res;
	int rc = -1;
	bool found = false;

	if ((o = body_object(req, names)) == NULL)
		return;
	rc = body_token(req, o, hex);
	json_object_put(o);
	if (rc != 0)
		return;
	rc = -1;
	if (db_begin(req->db, &tx) != 0 || (res = db_exec(req->db, &q_token_use, params)) == NULL)
		goto out;
	found = PQntuples(res) == 1;
	if (found)
		snprintf(acc, sizeof(acc), "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	if (found && run(req->db, &q_confirm, p1) != 1)
		goto out;
	rc = db_commit(&tx);
out:
	db_end(&tx);
	if (rc != 0)
		unavailable(req);
	else if (!found)
		req_send_error(req, ERR_INVALID_TOKEN, "the link is not valid: unknown, used or expired");
	else
		status(req, "confirmed");
}

/* resend and forgot: a link to the email when its account is in the right state. */
static void
link_request(struct req *req, enum mail_kind kind)
{
	static const char *const names[] = { "email", NULL };
	struct json_object *o;
	char email[EMAIL_MAX + 1], acc[24];
	const char *params[] = { email };
	struct db_tx tx = { 0 };
	PGresult *res;
	int rc;

	if ((o = body_object(req, names)) == NULL)
		return;
	rc = body_email(req, o, email);
	json_object_put(o);
	if (rc != 0)
		return;
	rc = -1;
	if (db_begin(req->db, &tx) != 0 || (res = db_exec(req->db, &q_by_email, params)) == NULL)
		goto out;
	rc = 0;
	if (PQntuples(res) == 1 && (kind == MAIL_RESET || PQgetvalue(res, 0, 1)[0] != 't')) {
		snprintf(acc, sizeof(acc), "%s", PQgetvalue(res, 0, 0));
		rc = link_send(req->db, acc, email, kind);
	}
	PQclear(res);
	if (rc == 0)
		rc = db_commit(&tx);
out:
	db_end(&tx);
	if (rc != 0)
		unavailable(req);
	else
		check_email(req);
}

void
h_account_resend(struct req *req)
{
	link_request(req, MAIL_CONFIRM);
}

void
h_account_forgot(struct req *req)
{
	link_request(req, MAIL_RESET);
}

void
h_account_reset(struct req *req)
{
	static const char *const names[] = { "token", "new_password", NULL };
	struct json_object *o;
	char hex[2 + 2 * APIKEY_HASH_LEN + 1], email[EMAIL_MAX + 1], acc[24], hash[PASSWD_HASH_MAX];
	const char *params[] = { hex, "reset" }, *pp[] = { acc, hash, "true" }, *p1[] = { acc };
	const char *pe[] = { acc, "0" };
	struct db_tx tx = { 0 };
	PGresult *res;
	int rc = -1;
	bool found;

	if ((o = body_object(req, names)) == NULL)
		return;
	if (body_token(req, o, hex) != 0)
		goto done;
	/* the new password is checked before the link is used, so a refused one keeps the link */
	if ((res = db_exec(req->db, &q_token_peek, params)) == NULL) {
		unavailable(req);
		goto done;
	}
	found = PQntuples(res) == 1;
	if (found)
		snprintf(email, sizeof(email), "%s", PQgetvalue(res, 0, 1));
	PQclear(res);
	if (!found) {
		req_send_error(req, ERR_INVALID_TOKEN, "the link is not valid: unknown, used or expired");
		goto done;
	}
	if (body_new_password(req, o, "new_password", email, hash) != 0)
		goto done;
	if (db_begin(req->db, &tx) != 0 || (res = db_exec(req->db, &q_token_use, params)) == NULL)
		goto out;
	found = PQntuples(res) == 1;
	if (found) {
		snprintf(acc, sizeof(acc), "%s", PQgetvalue(res, 0, 0));
		snprintf(email, sizeof(email), "%s", PQgetvalue(res, 0, 1));
	}
	PQclear(res);
	if (!found) {
		rc = 1;
		goto out;
	}
	if (run(req->db, &q_set_password, pp) != 1 || run(req->db, &q_end_sessions, pe) < 0 ||
	    run(req->db, &q_end_resets, p1) < 0 ||
	    mailq_add(req->db, email, MAIL_PASSWORD_CHANGED, NULL) != 0 || db_commit(&tx) != 0)
		goto out;
	rc = 0;
out:
	db_end(&tx);
	if (rc < 0) {
		unavailable(req);
	} else if (rc > 0) {
		req_send_error(req, ERR_INVALID_TOKEN, "the link is not valid: unknown, used or expired");
	} else {
		creds_throttle_clear(req, email);
		status(req, "reset");
	}
done:
	json_object_put(o);
}

void
h_account_password(struct req *req)
{
	static const char *const names[] = { "old_password", "new_password", NULL };
	struct json_object *o;
	char email[EMAIL_MAX + 1], acc[24], sid[24], hash[PASSWD_HASH_MAX];
	const char *old, *pp[] = { acc, hash, "false" }, *pe[] = { acc, sid };
	struct db_tx tx = { 0 };
	int64_t account_id = 0;
	int rc;

	if ((o = body_object(req, names)) == NULL)
		return;
	if (body_string(req, o, "old_password", true, 65536, &old) != 0)
		goto done;
	if (creds_email_of(req, req->session.account_id, email) != 0) {
		unavailable(req);
		goto done;
	}
	if (body_new_password(req, o, "new_password", email, hash) != 0)
		goto done;
	if ((rc = creds_check(req, email, old, &account_id)) < 0)
		goto done;
	if (rc == 0 || account_id != req->session.account_id) {
		req_send_error(req, ERR_INVALID_CREDENTIALS, "the current password is not right");
		goto done;
	}
	snprintf(acc, sizeof(acc), "%lld", (long long)account_id);
	snprintf(sid, sizeof(sid), "%lld", (long long)req->session.id);
	rc = -1;
	if (db_begin(req->db, &tx) == 0 && run(req->db, &q_set_password, pp) == 1 &&
	    run(req->db, &q_end_sessions, pe) >= 0 &&
	    mailq_add(req->db, email, MAIL_PASSWORD_CHANGED, NULL) == 0 && db_commit(&tx) == 0)
		rc = 0;
	db_end(&tx);
	if (rc != 0)
		unavailable(req);
	else
		status(req, "changed");
done:
	json_object_put(o);
}

void
h_account_delete(struct req *req)
{
	static const char *const names[] = { "password", NULL };
	struct json_object *o;
	char email[EMAIL_MAX + 1], acc[24];
	const char *pw, *p1[] = { acc }, *pe[] = { acc, "0" };
	struct db_tx tx = { 0 };
	int64_t account_id = 0;
	int rc;

	if ((o = body_object(req, names)) == NULL)
		return;
	if (body_string(req, o, "password", true, 65536, &pw) != 0)
		goto done;
	if (creds_email_of(req, req->session.account_id, email) != 0) {
		unavailable(req);
		goto done;
	}
	if ((rc = creds_check(req, email, pw, &account_id)) < 0)
		goto done;
	if (rc == 0 || account_id != req->session.account_id) {
		req_send_error(req, ERR_INVALID_CREDENTIALS, "the password is not right");
		goto done;
	}
	snprintf(acc, sizeof(acc), "%lld", (long long)account_id);
	rc = -1;
	if (db_begin(req->db, &tx) == 0 && run(req->db, &q_revoke_keys, p1) >= 0 &&
	    run(req->db, &q_end_sessions, pe) >= 0 && run(req->db, &q_drop_tokens, p1) >= 0 &&
	    mailq_add(req->db, email, MAIL_DELETED, NULL) == 0 && run(req->db, &q_delete, p1) == 1 &&
	    db_commit(&tx) == 0)
		rc = 0;
	db_end(&tx);
	if (rc != 0) {
		unavailable(req);
	} else {
		log_info("account %s deleted", acc);
		session_clear_cookie(req);
		status(req, "deleted");
	}
done:
	json_object_put(o);
}
