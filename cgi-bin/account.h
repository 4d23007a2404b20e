/*
 * account: what the account routes share: JSON request bodies, sessions with their cookie and
 * CSRF checks, the checks of emails and passwords with login throttling, and queued mail.
 * The handlers are h_session.c, h_account.c, h_keys.c, h_usage.c and h_plans.c.
 */
#ifndef KBOOK_ACCOUNT_H
#define KBOOK_ACCOUNT_H

#include <stdbool.h>
#include <stdint.h>

#include "api.h"
#include "charge.h"
#include "httpval.h"
#include "token.h"

#define SESSION_COOKIE "__Host-kbook_session"

/* An instant as the account routes answer it: RFC 3339 UTC to the second, from SQL. */
#define SQL_TS(col) "to_char((" col ") AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
/* The credit period of the account row named a (lib/charge.h). */
#define SQL_PSTART SQL_PERIOD_START("a")
#define SQL_PEND SQL_PERIOD_END("a")

/* ---- body.c ---- */

/*
 * The request's body as one JSON object whose members are all among names (NULL-terminated).
 * Answers 415 (not application/json), 400 invalid_body (not one well-formed UTF-8 JSON object)
 * or 400 unknown_parameter, and returns NULL; else the caller json_object_put's the object.
 */
struct json_object *body_object(struct req *req, const char *const *names);

/*
 * The string member name of o: 0 with *out borrowed from o, or NULL when absent and optional;
 * answers 400 (missing_parameter, invalid_parameter: not a string, an embedded NUL, or more than
 * max bytes) and returns -1.
 */
int body_string(struct req *req, struct json_object *o, const char *name, bool required,
    size_t max, const char **out);

/* The email member of o, trimmed and lower-cased into out; answers 400 invalid_email and
 * returns -1 when it is not an address. */
int body_email(struct req *req, struct json_object *o, char out[EMAIL_MAX + 1]);

/* ---- session.c ---- */

/*
 * A state-changing request must come from the site itself: not Sec-Fetch-Site: cross-site (or
 * same-site), and an Origin, when sent, equal to KBOOK_PUBLIC_URL's. Answers 403 csrf_failed and
 * returns -1 otherwise.
 */
int session_origin_ok(struct req *req);

/*
 * Authenticates an AUTH_SESSION call from the cookie or Authorization: Bearer kb_sess_...; with
 * the cookie a state-changing method also needs X-CSRF-Token and session_origin_ok. Fills
 * req->session; answers 401/403 and returns -1 when refused.
 */
int session_auth(struct req *req);

/* Starts a session for account_id (a new id every time): stores it, adds its Set-Cookie and
 * fills req->session. token receives the session token. Returns 0, or -1 (not answered). */
int session_start(struct req *req, int64_t account_id, char token[TOKEN_MAX]);

/* The session token the request carries (cookie or bearer), or NULL. Borrowed into buf. */
const char *session_token(const struct req *req, bool *via_cookie, char buf[TOKEN_MAX]);

/* Adds the Set-Cookie that removes the session cookie. */
void session_clear_cookie(struct req *req);

/* ---- creds.c ---- */

/*
 * Login throttling (login_throttle): 0 when neither the email nor the client address is
 * blocked; else answers 429 too_many_attempts with Retry-After and returns -1 (also -1, answered
 * 503, when Postgres cannot be asked).
 */
int creds_throttle_check(struct req *req, const char *email);
/* Counts a failed password for email and the client address. */
void creds_throttle_fail(struct req *req, const char *email);
/* Forgets the email's failures after a good password. */
void creds_throttle_clear(struct req *req, const char *email);

/*
 * Checks password against the account of email (throttled): 1 and *account_id when it matches,
 * 0 when not (counted), -1 when answered (throttled, or the database is away). Costs one argon2id
 * verification whether or not the account exists. Rehashes a hash of older parameters.
 */
int creds_check(struct req *req, const char *email, const char *password, int64_t *account_id);

/* The account's email, for a session's account (out: EMAIL_MAX + 1). Returns 0 or -1. */
int creds_email_of(struct req *req, int64_t account_id, char *out);

/* ---- mailq.c ---- */

enum mail_kind { MAIL_CONFIRM, MAIL_EXISTS, MAIL_RESET, MAIL_PASSWORD_CHANGED, MAIL_DELETED };

/*
 * Queues a mail to to (in the caller's transaction, so it goes out only if that commits); token
 * is the link's token for MAIL_CONFIRM and MAIL_RESET, else NULL. A mail to an address that got
 * MAILQ_PER_HOUR mails in the last hour is dropped (counted as queued): the routes that send
 * mail to any address must not become a way to flood it. Returns 0 or -1.
 */
#define MAILQ_PER_HOUR 10
int mailq_add(struct db *db, const char *to, enum mail_kind kind, const char *token);

/* ---- h_account.c, shared ---- */

/* The ACCOUNT object of the contract for account_id, or NULL (then answered 500/503). */
struct json_object *account_json(struct req *req, int64_t account_id);

#endif
