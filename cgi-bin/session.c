/*
 * session: sessions of the account routes (see account.h). A session is 32 random bytes
 * ("kb_sess_" + base64url) held by the browser in the __Host- cookie of BILLING.md or sent by a
 * script as a bearer token; Postgres keeps only its SHA-256. Each use moves its idle expiry; the
 * absolute expiry is fixed at login. With the cookie, a state-changing request must also carry the
 * session's CSRF token (a synchronizer token, handed out by the login and GET /v1/session) and
 * come from the site's own origin; a bearer token cannot be sent by a browser on its own, so
 * it needs neither.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "account.h"
#include "apikey.h"
#include "config.h"
#include "log.h"

/* $1 token hash (bytea), $2 idle seconds: the live session, its use recorded. */
static struct db_stmt q_use = DB_STMT("session_use",
    "UPDATE sessions s SET last_seen_at = now() FROM accounts a"
    " WHERE s.token_hash = $1::bytea AND a.id = s.account_id AND s.expires_at > now()"
    "  AND s.last_seen_at > now() - make_interval(secs => $2::int)"
    "  AND NOT a.disabled AND a.deleted_at IS NULL"
    " RETURNING s.id, s.account_id, s.csrf_token, " SQL_TS("s.created_at") ", "
    SQL_TS("s.expires_at"), 2);

/* $1 account, $2 token hash, $3 csrf token, $4 lifetime seconds */
static struct db_stmt q_start = DB_STMT("session_start",
    "INSERT INTO sessions (account_id, token_hash, csrf_token, expires_at)"
    " VALUES ($1::bigint, $2::bytea, $3, now() + make_interval(secs => $4::int))"
    " RETURNING id, " SQL_TS("created_at") ", " SQL_TS("expires_at"), 4);

/* The origin part (scheme://host[:port]) of KBOOK_PUBLIC_URL: its length. */
static size_t
public_origin_len(void)
{
	const char *u = cfg.public_url, *p = strstr(u, "://");

	if (p == NULL)
		return strlen(u);
	p += 3;
	return (size_t)(p - u) + strcspn(p, "/");
}

int
session_origin_ok(struct req *req)
{
	const char *sfs = req_env(req, "HTTP_SEC_FETCH_SITE");
	const char *origin = req_env(req, "HTTP_ORIGIN");
	size_t n = public_origin_len();

	if (sfs != NULL && strcmp(sfs, "same-origin") != 0 && strcmp(sfs, "none") != 0) {
		req_send_error(req, ERR_CSRF_FAILED, "a state-changing request must come from the site itself");
		return -1;
	}
	if (origin != NULL && (strlen(origin) != n || strncasecmp(origin, cfg.public_url, n) != 0)) {
		req_send_error(req, ERR_CSRF_FAILED, "the Origin of the request is not the site's");
		return -1;
	}
	return 0;
}

const char *
session_token(const struct req *req, bool *via_cookie, char buf[TOKEN_MAX])
{
	const char *a = req_env(req, "HTTP_AUTHORIZATION"), *c = req_env(req, "HTTP_COOKIE");

	*via_cookie = false;
	if (a != NULL && strncasecmp(a, "Bearer ", 7) == 0) {
		a += 7;
		while (*a == ' ')
			a++;
		if (strlen(a) < TOKEN_MAX) {
			snprintf(buf, TOKEN_MAX, "%s", a);
			return buf;
		}
		return NULL;
	}
	if (c != NULL && cookie_get(c, SESSION_COOKIE, buf, TOKEN_MAX) == 1) {
		*via_cookie = true;
		return buf;
	}
	return NULL;
}

int
session_auth(struct req *req)
{
	char buf[TOKEN_MAX], hex[2 + 2 * APIKEY_HASH_LEN + 1], idle[24];
	const char *params[] = { hex, idle };
	bool via_cookie;
	const char *tok = session_token(req, &via_cookie, buf), *csrf;
	bool safe = strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;
	PGresult *res;

	if (tok == NULL || *tok == '\0') {
		req_send_error(req, ERR_SESSION_REQUIRED,
		    "this route needs a session: log in (POST /v1/session) and send its cookie or bearer token");
		return -1;
	}
	if (!token_well_formed(tok, TOKEN_SESSION_TAG)) {
		req_send_error(req, ERR_SESSION_EXPIRED, "the session is not valid (ended or never started): log in again");
		return -1;
	}
	apikey_hash_hex(tok, hex);
	snprintf(idle, sizeof(idle), "%lld", (long long)cfg.session_idle_s);
	if ((res = db_exec(req->db, &q_use, params)) == NULL) {
		req_send_error(req, ERR_SERVICE_UNAVAILABLE, "cannot check the session now; retry shortly");
		return -1;
	}
	if (PQntuples(res) != 1) {
		PQclear(res);
		req_send_error(req, ERR_SESSION_EXPIRED, "the session is not valid (ended or never started): log in again");
		return -1;
	}
	req->session.known = true;
	req->session.via_cookie = via_cookie;
	req->session.id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	req->session.account_id = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
	snprintf(req->session.csrf, sizeof(req->session.csrf), "%s", PQgetvalue(res, 0, 2));
	snprintf(req->session.created_at, sizeof(req->session.created_at), "%s", PQgetvalue(res, 0, 3));
	snprintf(req->session.expires_at, sizeof(req->session.expires_at), "%s", PQgetvalue(res, 0, 4));
	PQclear(res);
	if (!via_cookie || safe)
		return 0;
	if (session_origin_ok(req) != 0)
		return -1;
	csrf = req_env(req, "HTTP_X_CSRF_TOKEN");
	if (csrf == NULL || !token_equal(csrf, req->session.csrf)) {
		req_send_error(req, ERR_CSRF_FAILED,
		    "a state-changing request needs the session's token in the X-CSRF-Token header");
		return -1;
	}
	return 0;
}

int
session_start(struct req *req, int64_t account_id, char token[TOKEN_MAX])
{
	char acc[24], hex[2 + 2 * APIKEY_HASH_LEN + 1], csrf[TOKEN_MAX], life[24], cookie[256];
	const char *params[] = { acc, hex, csrf, life };
	PGresult *res;

	if (token_new(TOKEN_SESSION_TAG, token) != 0 || token_new("", csrf) != 0)
		return -1;
	snprintf(acc, sizeof(acc), "%lld", (long long)account_id);
	snprintf(life, sizeof(life), "%lld", (long long)cfg.session_max_s);
	apikey_hash_hex(token, hex);
	if ((res = db_exec(req->db, &q_start, params)) == NULL)
		return -1;
	memset(&req->session, 0, sizeof(req->session));
	req->session.known = true;
	req->session.id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	req->session.account_id = account_id;
	snprintf(req->session.csrf, sizeof(req->session.csrf), "%s", csrf);
	snprintf(req->session.created_at, sizeof(req->session.created_at), "%s", PQgetvalue(res, 0, 1));
	snprintf(req->session.expires_at, sizeof(req->session.expires_at), "%s", PQgetvalue(res, 0, 2));
	PQclear(res);
	snprintf(cookie, sizeof(cookie), "%s=%s; Path=/; Max-Age=%lld; Secure; HttpOnly; SameSite=Lax",
	    SESSION_COOKIE, token, (long long)cfg.session_max_s);
	return req_add_header(req, "Set-Cookie", cookie);
}

void
session_clear_cookie(struct req *req)
{
	req_add_header(req, "Set-Cookie",
	    SESSION_COOKIE "=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Lax");
}
