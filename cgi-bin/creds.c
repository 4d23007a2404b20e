/*
 * creds: checking an account's password, throttled per email address and per client address
 * (see account.h). The check of the throttle comes before the argon2id verification, so a
 * blocked subject costs no hashing; an email without an account is throttled and hashed exactly
 * like one with, so neither the answer nor its time tells whether the account exists.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account.h"
#include "log.h"
#include "passwd.h"

/* free failures before blocking starts: an address is shared by many users (NAT, offices) */
#define FREE_EMAIL "5"
#define FREE_ADDR "30"

/* $1, $2 subjects: the seconds until both are free again (NULL: neither is blocked) */
static struct db_stmt q_blocked = DB_STMT("creds_blocked",
    "SELECT ceil(extract(epoch FROM max(blocked_until) - now()))::bigint FROM login_throttle"
    " WHERE subject IN ($1, $2) AND blocked_until > now()", 2);

/* the failure count after this one: an hour without failures starts afresh */
#define NEWFAIL "CASE WHEN t.last_failure_at < now() - interval '1 hour' THEN 1 ELSE t.failures + 1 END"

/* $1 subject, $2 free failures: counts one, blocking 1 s, 2 s, 4 s ... (15 min at most) past $2 */
static struct db_stmt q_fail = DB_STMT("creds_fail",
    "INSERT INTO login_throttle AS t (subject, failures, last_failure_at) VALUES ($1, 1, now())"
    " ON CONFLICT (subject) DO UPDATE SET failures = " NEWFAIL ", last_failure_at = now(),"
    " blocked_until = CASE WHEN " NEWFAIL " > $2::int THEN now() + least(interval '1 second' *"
    "  power(2, least(" NEWFAIL " - $2::int - 1, 20)), interval '15 minutes') END", 2);

static struct db_stmt q_clear = DB_STMT("creds_clear",
    "DELETE FROM login_throttle WHERE subject = $1", 1);

static struct db_stmt q_account = DB_STMT("creds_account",
    "SELECT id, password_hash, disabled FROM accounts WHERE email = $1 AND deleted_at IS NULL", 1);

static struct db_stmt q_rehash = DB_STMT("creds_rehash",
    "UPDATE accounts SET password_hash = $2 WHERE id = $1::bigint AND password_hash = $3", 3);

static struct db_stmt q_email = DB_STMT("creds_email",
    "SELECT email FROM accounts WHERE id = $1::bigint AND deleted_at IS NULL", 1);

static void
subjects(struct req *req, const char *email, char es[EMAIL_MAX + 8], char as[80])
{
	const char *addr = req_env(req, "REMOTE_ADDR");

	snprintf(es, EMAIL_MAX + 8, "email:%s", email);
	snprintf(as, 80, "addr:%.64s", addr != NULL ? addr : "");
}

int
creds_throttle_check(struct req *req, const char *email)
{
	char es[EMAIL_MAX + 8], as[80];
	const char *params[] = { es, as };
	PGresult *res;

	subjects(req, email, es, as);
	if ((res = db_exec(req->db, &q_blocked, params)) == NULL) {
		req_send_error(req, ERR_SERVICE_UNAVAILABLE, "cannot check the password now; retry shortly");
		return -1;
	}
	if (!PQgetisnull(res, 0, 0)) {
		long long s = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		char ra[24];

		PQclear(res);
		snprintf(ra, sizeof(ra), "%lld", s > 0 ? s : 1);
		req_add_header(req, "Retry-After", ra);
		req_send_error(req, ERR_TOO_MANY_ATTEMPTS,
		    "too many failed attempts; try again in %s s", ra);
		return -1;
	}
	PQclear(res);
	return 0;
}

void
creds_throttle_fail(struct req *req, const char *email)
{
	char es[EMAIL_MAX + 8], as[80];
	const char *pe[] = { es, FREE_EMAIL }, *pa[] = { as, FREE_ADDR };
	PGresult *res;

	subjects(req, email, es, as);
	if ((res = db_exec(req->db, &q_fail, pe)) != NULL)
		PQclear(res);
	if ((res = db_exec(req->db, &q_fail, pa)) != NULL)
		PQclear(res);
}

void
creds_throttle_clear(struct req *req, const char *email)
{
	char es[EMAIL_MAX + 8], as[80];
	const char *params[] = { es };
	PGresult *res;

	subjects(req, email, es, as);
	if ((res = db_exec(req->db, &q_clear, params)) != NULL)
		PQclear(res);
}

int
creds_check(struct req *req, const char *email, const char *password, int64_t *account_id)
{
	const char *params[] = { email };
	PGresult *res;
	const char *hash = NULL;
	bool ok, disabled = false;

	if (creds_throttle_check(req, email) != 0)
		return -1;
	if ((res = db_exec(req->db, &q_account, params)) == NULL) {
		req_send_error(req, ERR_SERVICE_UNAVAILABLE, "cannot check the password now; retry shortly");
		return -1;
	}
	if (PQntuples(res) == 1) {
		*account_id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		hash = PQgetisnull(res, 0, 1) ? NULL : PQgetvalue(res, 0, 1);
		disabled = PQgetvalue(res, 0, 2)[0] == 't';
	}
	ok = strlen(password) <= PASSWD_MAX_LEN && passwd_verify(hash, password) && !disabled;
	if (!ok) {
		PQclear(res);
		creds_throttle_fail(req, email);
		return 0;
	}
	creds_throttle_clear(req, email);
	if (passwd_needs_rehash(hash)) {
		char acc[24], nh[PASSWD_HASH_MAX];
		const char *rp[] = { acc, nh, hash };
		PGresult *r2;

		snprintf(acc, sizeof(acc), "%lld", (long long)*account_id);
		if (passwd_hash(password, nh) == 0 && (r2 = db_exec(req->db, &q_rehash, rp)) != NULL) {
			log_info("account %s: password rehashed with today's argon2id parameters", acc);
			PQclear(r2);
		}
	}
	PQclear(res);
	return 1;
}

int
creds_email_of(struct req *req, int64_t account_id, char *out)
{
	char acc[24];
	const char *params[] = { acc };
	PGresult *res;

	snprintf(acc, sizeof(acc), "%lld", (long long)account_id);
	if ((res = db_exec(req->db, &q_email, params)) == NULL)
		return -1;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return -1;
	}
	snprintf(out, EMAIL_MAX + 1, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return 0;
}
