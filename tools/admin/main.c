/*
 * kbook-admin: accounts and API keys from the shell, for operators (and for everything until
 * the browser sign-up exists). Connects with KBOOK_DATABASE_URL. One table of commands; each
 * command checks its own arguments and prints a single result line (or a table for lists).
 *
 *   kbook-admin account create EMAIL [PLAN]
 *   kbook-admin account set EMAIL plan|credits|rate|feed_conns|feed_markets|disabled VALUE
 *   kbook-admin account show EMAIL
 *   kbook-admin key create EMAIL [NAME]       prints the key, once
 *   kbook-admin key list EMAIL
 *   kbook-admin key revoke PREFIX
 *
 * Exit status: 0 done, 1 refused or failed (message on stderr), 2 usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apikey.h"
#include "charge.h"
#include "config.h"
#include "db.h"
#include "log.h"

struct admin_cmd {
	const char *noun, *verb;
	int min_args, max_args; /* after noun and verb */
	int (*fn)(struct db *db, char **argv, int argc);
	const char *usage;
};

static struct db_stmt q_account_create = DB_STMT("adm_account_create",
    "INSERT INTO accounts (email, plan) VALUES (lower($1), $2) RETURNING id", 2);
static struct db_stmt q_account_show = DB_STMT("adm_account_show",
    "SELECT a.id, a.email, a.plan, a.disabled, coalesce(a.monthly_credits_override::text, ''),"
    " coalesce(a.rate_per_min_override::text, ''), coalesce(c.used, 0),"
    " coalesce(c.allowance, a.monthly_credits_override, p.monthly_credits), coalesce(c.overage, 0),"
    " l.conns_per_key, l.markets_per_conn"
    " FROM accounts a JOIN plans p ON p.name = a.plan JOIN feed_limits l ON l.account_id = a.id"
    " LEFT JOIN credit_periods c ON c.account_id = a.id"
    "  AND c.period_start = " SQL_PERIOD_START("a")
    " WHERE a.email = lower($1)", 1);
static struct db_stmt q_key_create = DB_STMT("adm_key_create",
    "INSERT INTO api_keys (account_id, name, prefix, hash)"
    " SELECT id, $2, $3, decode($4, 'hex') FROM accounts WHERE email = lower($1) RETURNING id", 4);
static struct db_stmt q_key_list = DB_STMT("adm_key_list",
    "SELECT k.prefix, k.name, k.created_at, coalesce(k.last_used_at::text, '-'),"
    " CASE WHEN k.revoked_at IS NULL THEN 'active' ELSE 'revoked' END"
    " FROM api_keys k JOIN accounts a ON a.id = k.account_id WHERE a.email = lower($1) ORDER BY k.id", 1);
static struct db_stmt q_key_revoke = DB_STMT("adm_key_revoke",
    "UPDATE api_keys SET revoked_at = now() WHERE prefix = $1 AND revoked_at IS NULL RETURNING id", 1);

/* The settable account fields: one row each, one parameterised statement each. */
static struct db_stmt q_set_plan = DB_STMT("adm_set_plan",
    "UPDATE accounts SET plan = $2 WHERE email = lower($1) RETURNING id", 2);
static struct db_stmt q_set_credits = DB_STMT("adm_set_credits",
    "WITH a AS (UPDATE accounts SET monthly_credits_override = nullif($2, 'default')::int"
    "  WHERE email = lower($1) RETURNING id, plan)"
    " UPDATE credit_periods c SET allowance = greatest(coalesce(nullif($2, 'default')::int,"
    "  (SELECT monthly_credits FROM plans WHERE name = a.plan)), c.used)"
    " FROM a WHERE c.account_id = a.id AND c.period_end > now()", 2);
static struct db_stmt q_set_rate = DB_STMT("adm_set_rate",
    "UPDATE accounts SET rate_per_min_override = nullif($2, 'default')::int WHERE email = lower($1)"
    " RETURNING id", 2);
static struct db_stmt q_set_feed_conns = DB_STMT("adm_set_feed_conns",
    "UPDATE accounts SET feed_conns_override = nullif($2, 'default')::int WHERE email = lower($1)"
    " RETURNING id", 2);
static struct db_stmt q_set_feed_markets = DB_STMT("adm_set_feed_markets",
    "UPDATE accounts SET feed_markets_override = nullif($2, 'default')::int WHERE email = lower($1)"
    " RETURNING id", 2);
static struct db_stmt q_set_disabled = DB_STMT("adm_set_disabled",
    "UPDATE accounts SET disabled = $2::boolean WHERE email = lower($1) RETURNING id", 2);

static const struct {
	const char *field;
	struct db_stmt *stmt;
} account_fields[] = {
	{ "plan", &q_set_plan },
	{ "credits", &q_set_credits },
	{ "rate", &q_set_rate },
	{ "feed_conns", &q_set_feed_conns },
	{ "feed_markets", &q_set_feed_markets },
	{ "disabled", &q_set_disabled },
};

static int
cmd_account_create(struct db *db, char **argv, int argc)
{
	const char *params[] = { argv[0], argc > 1 ? argv[1] : "free" };
	PGresult *res = db_exec(db, &q_account_create, params);

	if (res == NULL) {
		fprintf(stderr, "kbook-admin: cannot create account %s (%s)\n", argv[0],
		    strcmp(db_sqlstate(db), "23505") == 0 ? "it exists" :
		    strcmp(db_sqlstate(db), "23514") == 0 ? "not a valid email address" :
		    strcmp(db_sqlstate(db), "23503") == 0 ? "unknown plan" : "database error");
		return 1;
	}
	printf("account %s %s\n", PQgetvalue(res, 0, 0), argv[0]);
	PQclear(res);
	return 0;
}

static int
cmd_account_set(struct db *db, char **argv, int argc)
{
	const char *params[] = { argv[0], argv[2] };
	PGresult *res;

	(void)argc;
	for (size_t i = 0; i < sizeof(account_fields) / sizeof(account_fields[0]); i++) {
		if (strcmp(account_fields[i].field, argv[1]) != 0)
			continue;
		if ((res = db_exec(db, account_fields[i].stmt, params)) == NULL) {
			fprintf(stderr, "kbook-admin: cannot set %s to '%s'\n", argv[1], argv[2]);
			return 1;
		}
		if (PQntuples(res) == 0 && strcmp(PQcmdTuples(res), "0") == 0 &&
		    account_fields[i].stmt != &q_set_credits) {
			fprintf(stderr, "kbook-admin: no account %s\n", argv[0]);
			PQclear(res);
			return 1;
		}
		PQclear(res);
		printf("account %s %s=%s\n", argv[0], argv[1], argv[2]);
		return 0;
	}
	fprintf(stderr, "kbook-admin: unknown field '%s' (plan, credits, rate, feed_conns, feed_markets, disabled)\n", argv[1]);
	return 2;
}

static int
cmd_account_show(struct db *db, char **argv, int argc)
{
	const char *params[] = { argv[0] };
	PGresult *res = db_exec(db, &q_account_show, params);

	(void)argc;
	if (res == NULL || PQntuples(res) == 0) {
		fprintf(stderr, "kbook-admin: no account %s\n", argv[0]);
		PQclear(res);
		return 1;
	}
	/* allowance: this month's period's, or (before the month's first call made the period row)
	 * the one that call will get: the override, else the plan's; overage: payg credits past it */
	printf("id=%s email=%s plan=%s disabled=%s credits_override=%s rate_override=%s used=%s allowance=%s"
	    " overage=%s feed_conns=%s feed_markets=%s\n",
	    PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2), PQgetvalue(res, 0, 3),
	    PQgetvalue(res, 0, 4), PQgetvalue(res, 0, 5), PQgetvalue(res, 0, 6), PQgetvalue(res, 0, 7),
	    PQgetvalue(res, 0, 8), PQgetvalue(res, 0, 9), PQgetvalue(res, 0, 10));
	PQclear(res);
	return 0;
}

static int
cmd_key_create(struct db *db, char **argv, int argc)
{
	char key[APIKEY_LEN + 1], prefix[APIKEY_PREFIX_LEN + 1], hex[2 + 2 * APIKEY_HASH_LEN + 1];
	const char *params[4];
	PGresult *res;

	if (apikey_generate(key) != 0) {
		fprintf(stderr, "kbook-admin: no random source\n");
		return 1;
	}
	memcpy(prefix, key, APIKEY_PREFIX_LEN);
	prefix[APIKEY_PREFIX_LEN] = '\0';
	apikey_hash_hex(key, hex);
	params[0] = argv[0];
	params[1] = argc > 1 ? argv[1] : "";
	params[2] = prefix;
	params[3] = hex + 2;
	res = db_exec(db, &q_key_create, params);
	if (res == NULL || PQntuples(res) == 0) {
		fprintf(stderr, "kbook-admin: cannot create a key for %s (%s)\n", argv[0],
		    res == NULL ? "database error" : "no such account");
		PQclear(res);
		return 1;
	}
	PQclear(res);
	printf("%s\n", key);
	return 0;
}

static int
cmd_key_list(struct db *db, char **argv, int argc)
{
	const char *params[] = { argv[0] };
	PGresult *res = db_exec(db, &q_key_list, params);

	(void)argc;
	if (res == NULL)
		return 1;
	for (int i = 0; i < PQntuples(res); i++)
		printf("%s\t%s\t%s\t%s\t%s\n", PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
		    PQgetvalue(res, i, 2), PQgetvalue(res, i, 3), PQgetvalue(res, i, 4));
	PQclear(res);
	return 0;
}

static int
cmd_key_revoke(struct db *db, char **argv, int argc)
{
	const char *params[] = { argv[0] };
	PGresult *res = db_exec(db, &q_key_revoke, params);
	int n;

	(void)argc;
	if (res == NULL)
		return 1;
	n = PQntuples(res);
	PQclear(res);
	if (n == 0) {
		fprintf(stderr, "kbook-admin: no active key with prefix %s\n", argv[0]);
		return 1;
	}
	printf("revoked %d key%s %s\n", n, n == 1 ? "" : "s", argv[0]);
	return 0;
}

static const struct admin_cmd admin_cmds[] = {
	{ "account", "create", 1, 2, cmd_account_create, "account create EMAIL [free|payg|project]" },
	{ "account", "set", 3, 3, cmd_account_set,
	  "account set EMAIL plan|credits|rate|feed_conns|feed_markets|disabled VALUE"
	  "   (credits/rate/feed_*: a number or 'default')" },
	{ "account", "show", 1, 1, cmd_account_show, "account show EMAIL" },
	{ "key", "create", 1, 2, cmd_key_create, "key create EMAIL [NAME]   (prints the key once)" },
	{ "key", "list", 1, 1, cmd_key_list, "key list EMAIL" },
	{ "key", "revoke", 1, 1, cmd_key_revoke, "key revoke PREFIX" },
};

static void
usage(void)
{
	fprintf(stderr, "usage: kbook-admin COMMAND   (connects with KBOOK_DATABASE_URL)\n");
	for (size_t i = 0; i < sizeof(admin_cmds) / sizeof(admin_cmds[0]); i++)
		fprintf(stderr, "  kbook-admin %s\n", admin_cmds[i].usage);
}

/* The connection string's settings on stderr, a password masked: what the user asked for. */
static void
admin_print_target(const char *url)
{
	PQconninfoOption *opts = PQconninfoParse(url, NULL), *o;
	const char *sep = "";

	if (opts == NULL) {
		fprintf(stderr, "not a connection string");
		return;
	}
	for (o = opts; o->keyword != NULL; o++) {
		if (o->val == NULL || o->val[0] == '\0')
			continue;
		fprintf(stderr, "%s%s=%s", sep, o->keyword, strcmp(o->keyword, "password") == 0 ? "***" : o->val);
		sep = " ";
	}
	PQconninfoFree(opts);
}

int
main(int argc, char **argv)
{
	char err[256];
	struct db *db = NULL;
	int rc = 2;

	log_init("kbook-admin", LOG_LVL_WARN);
	if (config_load(CFG_ADMIN, err, sizeof(err)) != 0) {
		fprintf(stderr, "kbook-admin: %s\n", err);
		return 2;
	}
	log_set_level(LOG_LVL_ERROR);
	for (size_t i = 0; i < sizeof(admin_cmds) / sizeof(admin_cmds[0]); i++) {
		const struct admin_cmd *c = &admin_cmds[i];
		int nargs = argc - 3;

		if (argc < 3 || strcmp(argv[1], c->noun) != 0 || strcmp(argv[2], c->verb) != 0)
			continue;
		if (nargs < c->min_args || nargs > c->max_args) {
			fprintf(stderr, "usage: kbook-admin %s\n", c->usage);
			goto out;
		}
		db = db_new(cfg.database_url, (int)cfg.db_connect_timeout, 0);
		if (db == NULL || db_ensure(db) != 0) {
			/* libpq's reason names the socket it tried (a wrong port or directory shows) */
			fprintf(stderr, "kbook-admin: cannot connect to the database of KBOOK_DATABASE_URL (");
			admin_print_target(cfg.database_url);
			fprintf(stderr, "): %s", db != NULL ? db_connect_error(db) : "out of memory\n");
			fprintf(stderr, "kbook-admin: for the stack of make run, use the KBOOK_DATABASE_URL"
			    " line it prints\n");
			rc = 1;
			goto out;
		}
		rc = c->fn(db, argv + 3, nargs);
		goto out;
	}
	usage();
out:
	db_close(db);
	config_free();
	return rc;
}
