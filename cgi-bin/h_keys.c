/*
 * h_keys: /v1/account/keys: the API keys of the session's account. A new key's secret is in
 * the answer that creates it and nowhere else (Postgres keeps its SHA-256). A key may carry a
 * monthly credit cap, which the data API enforces in its charge (lib/charge.c); setting a cap
 * counts the key's credits of the month so far against it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account.h"
#include "apikey.h"
#include "config.h"
#include "route.h"

#define CAP_MAX 1000000000
#define NAME_MAX_LEN 100

/* the key's credits this period, from its usage rows */
#define KEY_PSTART "kb_account_period(k.account_id)"
#define KEY_USED "(SELECT coalesce(sum(u.credits), 0) FROM usage u WHERE u.key_id = k.id" \
	" AND u.day >= (" KEY_PSTART " AT TIME ZONE 'UTC')::date)"
#define KEY_COLS "k.id, k.name, k.prefix, " SQL_TS("k.created_at") ", " SQL_TS("k.last_used_at") \
	", " SQL_TS("k.revoked_at") ", k.monthly_cap, " KEY_USED

static struct db_stmt q_list = DB_STMT("keys_list",
    "SELECT " KEY_COLS " FROM api_keys k WHERE k.account_id = $1::bigint ORDER BY k.id DESC", 1);

/* $1 account, $2 name, $3 prefix, $4 hash, $5 cap, $6 most live keys */
static struct db_stmt q_create = DB_STMT("keys_create",
    "INSERT INTO api_keys AS k (account_id, name, prefix, hash, monthly_cap, cap_period)"
    " SELECT $1::bigint, $2, $3, $4::bytea, $5::int, kb_account_period($1::bigint)"
    " WHERE (SELECT count(*) FROM api_keys WHERE account_id = $1::bigint AND revoked_at IS NULL)"
    "  < $6::int RETURNING " KEY_COLS, 6);

/* $1 key, $2 account, $3 name or NULL, $4 whether the cap changes, $5 cap or NULL */
static struct db_stmt q_patch = DB_STMT("keys_patch",
    "UPDATE api_keys AS k SET name = coalesce($3, k.name),"
    " monthly_cap = CASE WHEN $4::boolean THEN $5::int ELSE k.monthly_cap END,"
    " cap_period = CASE WHEN $4::boolean THEN " KEY_PSTART " ELSE k.cap_period END,"
    " cap_used = CASE WHEN $4::boolean THEN " KEY_USED " ELSE k.cap_used END"
    " WHERE k.id = $1::bigint AND k.account_id = $2::bigint AND k.revoked_at IS NULL"
    " RETURNING " KEY_COLS, 5);

static struct db_stmt q_revoke = DB_STMT("keys_revoke",
    "UPDATE api_keys AS k SET revoked_at = coalesce(k.revoked_at, now())"
    " WHERE k.id = $1::bigint AND k.account_id = $2::bigint RETURNING " KEY_COLS, 2);

static struct db_stmt q_exists = DB_STMT("keys_exists",
    "SELECT 1 FROM api_keys WHERE id = $1::bigint AND account_id = $2::bigint", 2);

static struct json_object *
str_or_null(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL : json_object_new_string(PQgetvalue(res, row, col));
}

static struct json_object *
key_json(const PGresult *res, int row)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "id", json_object_new_int64(strtoll(PQgetvalue(res, row, 0), NULL, 10)));
	json_object_object_add(o, "name", json_object_new_string(PQgetvalue(res, row, 1)));
	json_object_object_add(o, "prefix", json_object_new_string(PQgetvalue(res, row, 2)));
	json_object_object_add(o, "created_at", json_object_new_string(PQgetvalue(res, row, 3)));
	json_object_object_add(o, "last_used_at", str_or_null(res, row, 4));
	json_object_object_add(o, "revoked_at", str_or_null(res, row, 5));
	json_object_object_add(o, "monthly_cap", PQgetisnull(res, row, 6) ? NULL :
	    json_object_new_int64(strtoll(PQgetvalue(res, row, 6), NULL, 10)));
	json_object_object_add(o, "used_this_period",
	    json_object_new_int64(strtoll(PQgetvalue(res, row, 7), NULL, 10)));
	return o;
}

/* One key's answer: {"key": KEY}. */
static void
send_key(struct req *req, int status, const PGresult *res, const char *secret)
{
	struct json_object *root = json_object_new_object();

	json_object_object_add(root, "key", key_json(res, 0));
	if (secret != NULL)
		json_object_object_add(root, "secret", json_object_new_string(secret));
	req_send_json(req, status, root);
}

/* The name member: 1..100 bytes without control characters; 0 with *out (NULL when absent). */
static int
body_name(struct req *req, struct json_object *o, bool required, const char **out)
{
	if (body_string(req, o, "name", required, NAME_MAX_LEN, out) != 0)
		return -1;
	if (*out == NULL)
		return 0;
	if (**out == '\0') {
		req_send_error(req, ERR_INVALID_PARAMETER, "name must not be empty");
		return -1;
	}
	for (const char *p = *out; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			req_send_error(req, ERR_INVALID_PARAMETER, "name must not contain control characters");
			return -1;
		}
	}
	return 0;
}

/* The monthly_cap member: *set when present; buf "" for null, else the number. */
static int
body_cap(struct req *req, struct json_object *o, bool *set, char buf[24])
{
	struct json_object *v;

	*set = false;
	buf[0] = '\0';
	if (!json_object_object_get_ex(o, "monthly_cap", &v))
		return 0;
	*set = true;
	if (v == NULL)
		return 0;
	if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 1 ||
	    json_object_get_int64(v) > CAP_MAX) {
		req_send_error(req, ERR_INVALID_PARAMETER,
		    "monthly_cap must be null or an integer in 1..%d (credits a month)", CAP_MAX);
		return -1;
	}
	snprintf(buf, 24, "%lld", (long long)json_object_get_int64(v));
	return 0;
}

/* The {id} of the path, digits only; answers 404 otherwise. */
static int
key_id(struct req *req, char buf[24])
{
	const char *s = req->captures[0];

	if (strlen(s) == 0 || strlen(s) > 18 || strspn(s, "0123456789") != strlen(s)) {
		req_send_error(req, ERR_KEY_NOT_FOUND, "no such key");
		return -1;
	}
	snprintf(buf, 24, "%s", s);
	return 0;
}

void
h_keys_list(struct req *req)
{
	char acc[24];
	const char *params[] = { acc };
	struct json_object *root, *arr;
	PGresult *res;

	snprintf(acc, sizeof(acc), "%lld", (long long)req->session.account_id);
	if ((res = db_exec(req->db, &q_list, params)) == NULL) {
		req_send_error(req, ERR_SERVICE_UNAVAILABLE, "cannot list the keys now; retry shortly");
		return;
	}
	root = json_object_new_object();
	arr = json_object_new_array();
	for (int i = 0; i < PQntuples(res); i++)
		json_object_array_add(arr, key_json(res, i));
	PQclear(res);
	json_object_object_add(root, "keys", arr);
	req_send_json(req, 200, root);
}

void
h_keys_create(struct req *req)
{
	static const char *const names[] = { "name", "monthly_cap", NULL };
	struct json_object *o;
	char acc[24], cap[24], secret[APIKEY_LEN + 1], prefix[APIKEY_PREFIX_LEN + 1], max[24];
	char hex[2 + 2 * APIKEY_HASH_LEN + 1];
	const char *name, *params[] = { acc, NULL, prefix, hex, NULL, max };
	bool cap_set;
	PGresult *res;

	if ((o = body_object(req, names)) == NULL)
		return;
	if (body_name(req, o, true, &name) != 0 || body_cap(req, o, &cap_set, cap) != 0)
		goto out;
	if (apikey_generate(secret) != 0) {
		req_send_error(req, ERR_INTERNAL, "cannot make a key");
		goto out;
	}
	snprintf(prefix, sizeof(prefix), "%.*s", APIKEY_PREFIX_LEN, secret);
	apikey_hash_hex(secret, hex);
	snprintf(acc, sizeof(acc), "%lld", (long long)req->session.account_id);
	snprintf(max, sizeof(max), "%lld", (long long)cfg.keys_max);
	params[1] = name;
	params[4] = cap[0] != '\0' ? cap : NULL;
	if ((res = db_exec(req->db, &q_create, params)) == NULL) {
		req_send_error(req, ERR_SERVICE_UNAVAILABLE, "cannot make the key now; retry shortly");
		goto out;
	}
	if (PQntuples(res) != 1)
		req_send_error(req, ERR_TOO_MANY_KEYS, "an account holds at most %lld keys; revoke one first",
		    (long long)cfg.keys_max);
	else
		send_key(req, 201, res, secret);
	PQclear(res);
out:
	json_object_put(o);
}

void
h_keys_patch(struct req *req)
{
	static const char *const names[] = { "name", "monthly_cap", NULL };
	struct json_object *o;
	char id[24], acc[24], cap[24];
	const char *name, *params[] = { id, acc, NULL, NULL, NULL };
	bool cap_set;
	PGresult *res;

	if (key_id(req, id) != 0 || (o = body_object(req, names)) == NULL)
		return;
	if (body_name(req, o, false, &name) != 0 || body_cap(req, o, &cap_set, cap) != 0)
		goto out;
	snprintf(acc, sizeof(acc), "%lld", (long long)req->session.account_id);
	params[2] = name;
	params[3] = cap_set ? "true" : "false";
	params[4] = cap[0] != '\0' ? cap : NULL;
	if ((res = db_exec(req->db, &q_patch, params)) == NULL) {
		req_send_error(req, ERR_SERVICE_UNAVAILABLE, "cannot change the key now; retry shortly");
		goto out;
	}
	if (PQntuples(res) == 1) {
		send_key(req, 200, res, NULL);
	} else {
		const char *p2[] = { id, acc };
		PGresult *r2 = db_exec(req->db, &q_exists, p2);

		if (r2 != NULL && PQntuples(r2) == 1)
			req_send_error(req, ERR_KEY_REVOKED, "the key is revoked and can no longer change");
		else
			req_send_error(req, ERR_KEY_NOT_FOUND, "no such key");
		PQclear(r2);
	}
	PQclear(res);
out:
	json_object_put(o);
}

void
h_keys_revoke(struct req *req)
{
	char id[24], acc[24];
	const char *params[] = { id, acc };
	PGresult *res;

	if (key_id(req, id) != 0)
		return;
	snprintf(acc, sizeof(acc), "%lld", (long long)req->session.account_id);
	if ((res = db_exec(req->db, &q_revoke, params)) == NULL) {
		req_send_error(req, ERR_SERVICE_UNAVAILABLE, "cannot revoke the key now; retry shortly");
		return;
	}
	if (PQntuples(res) == 1)
		send_key(req, 200, res, NULL);
	else
		req_send_error(req, ERR_KEY_NOT_FOUND, "no such key");
	PQclear(res);
}
