/*
 * feed_cmd: see feed_cmd.h. One frame is one JSON object {"id": <int>, "cmd": "...",
 * "params": {...}}; a table says which parameters each command reads, and the parser checks the
 * envelope, the command name and those parameters in the exchange's order, returning the first
 * error code that applies. The feed serves one channel, orderbook_delta: any other channel name is
 * error 8. Strings in the result borrow from the parsed JSON tree, which the command owns.
 */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "feed_cmd.h"
#include "kerr.h"
#include "ktime.h"

/* 9999-12-31T23:59:59.999999Z, the last instant ktime prints. */
#define FEED_SINCE_MAX INT64_C(253402300799999999)

/* Which parameters each command reads: the table the parser is driven by. */
enum { P_CHANNELS = 1, P_TICKERS = 2, P_SIDS = 4, P_ACTION = 8, P_SINCE = 16 };

static const struct {
	const char *name;
	enum feed_cmd_type type;
	bool needs_params;
	unsigned params;
} feed_cmd_table[] = {
	{ "subscribe", FEED_CMD_SUBSCRIBE, true, P_CHANNELS | P_TICKERS | P_SINCE },
	{ "update_subscription", FEED_CMD_UPDATE, true, P_SIDS | P_TICKERS | P_ACTION },
	{ "unsubscribe", FEED_CMD_UNSUBSCRIBE, true, P_SIDS },
	{ "list_subscriptions", FEED_CMD_LIST, false, 0 },
};

static const struct {
	const char *name;
	enum feed_cmd_action action;
} feed_cmd_actions[] = {
	{ "add_markets", FEED_ACT_ADD },
	{ "delete_markets", FEED_ACT_DELETE },
	{ "get_snapshot", FEED_ACT_SNAPSHOT },
};

const char *
feed_err_msg(int code)
{
	return kerr_msg(code);
}

/* True when the n bytes at s are JSON whitespace only. */
static bool
feed_cmd_only_space(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
			return false;
	return true;
}

static int
feed_cmd_fail(struct feed_cmd *cmd, int code, const char *why)
{
	cmd->why = why;
	return code;
}

/* A member that is present and not JSON null. */
static bool
feed_cmd_get(struct json_object *o, const char *key, struct json_object **v)
{
	return json_object_object_get_ex(o, key, v) && *v != NULL;
}

static int
feed_cmd_channels(struct feed_cmd *cmd, struct json_object *params)
{
	struct json_object *v;
	size_t n;

	if (!feed_cmd_get(params, "channels", &v))
		return feed_cmd_fail(cmd, FEED_E_CHANNELS, "channels");
	if (!json_object_is_type(v, json_type_array))
		return feed_cmd_fail(cmd, FEED_E_INVALID, "channels");
	n = json_object_array_length(v);
	if (n == 0)
		return feed_cmd_fail(cmd, FEED_E_CHANNELS, "channels");
	for (size_t i = 0; i < n; i++) {
		struct json_object *c = json_object_array_get_idx(v, i);

		if (!json_object_is_type(c, json_type_string))
			return feed_cmd_fail(cmd, FEED_E_INVALID, "channels");
		if (strcmp(json_object_get_string(c), "orderbook_delta") != 0)
			return feed_cmd_fail(cmd, FEED_E_UNKNOWN_CHANNEL, "channels");
	}
	return 0;
}

static int
feed_cmd_tickers(struct feed_cmd *cmd, struct json_object *params)
{
	struct json_object *one = NULL, *many = NULL;
	bool has_one = feed_cmd_get(params, "market_ticker", &one);
	bool has_many = feed_cmd_get(params, "market_tickers", &many);
	size_t n;

	if (has_one && has_many)
		return feed_cmd_fail(cmd, FEED_E_INVALID, "market_ticker and market_tickers");
	if (has_one) {
		if (!json_object_is_type(one, json_type_string))
			return feed_cmd_fail(cmd, FEED_E_INVALID, "market_ticker");
		if ((cmd->tickers = malloc(sizeof(*cmd->tickers))) == NULL)
			return feed_cmd_fail(cmd, FEED_E_INTERNAL, "memory");
		cmd->tickers[0] = json_object_get_string(one);
		cmd->n_tickers = 1;
		cmd->has_tickers = true;
		return 0;
	}
	if (!has_many)
		return 0;
	if (!json_object_is_type(many, json_type_array))
		return feed_cmd_fail(cmd, FEED_E_INVALID, "market_tickers");
	n = json_object_array_length(many);
	if (n > FEED_CMD_MAX_ITEMS)
		return feed_cmd_fail(cmd, FEED_E_INVALID, "market_tickers");
	if ((cmd->tickers = calloc(n == 0 ? 1 : n, sizeof(*cmd->tickers))) == NULL)
		return feed_cmd_fail(cmd, FEED_E_INTERNAL, "memory");
	for (size_t i = 0; i < n; i++) {
		struct json_object *t = json_object_array_get_idx(many, i);

		if (!json_object_is_type(t, json_type_string))
			return feed_cmd_fail(cmd, FEED_E_INVALID, "market_tickers");
		cmd->tickers[i] = json_object_get_string(t);
	}
	cmd->n_tickers = n;
	cmd->has_tickers = n > 0;
	return 0;
}

/* A sid as a JSON integer; out-of-range values become 0, which no subscription has. */
static int
feed_cmd_sid(struct feed_cmd *cmd, struct json_object *v, int64_t *out)
{
	int64_t x;

	if (!json_object_is_type(v, json_type_int))
		return feed_cmd_fail(cmd, FEED_E_INVALID, "sids");
	x = json_object_get_int64(v);
	*out = x > 0 && x < INT32_MAX ? x : 0;
	return 0;
}

static int
feed_cmd_sids(struct feed_cmd *cmd, struct json_object *params)
{
	struct json_object *one = NULL, *many = NULL;
	bool has_one = feed_cmd_get(params, "sid", &one);
	bool has_many = feed_cmd_get(params, "sids", &many);
	size_t n;

	if (has_one && has_many)
		return feed_cmd_fail(cmd, FEED_E_INVALID, "sid and sids");
	if (!has_one && !has_many)
		return feed_cmd_fail(cmd, FEED_E_SIDS, "sids");
	if (has_one) {
		if ((cmd->sids = malloc(sizeof(*cmd->sids))) == NULL)
			return feed_cmd_fail(cmd, FEED_E_INTERNAL, "memory");
		cmd->n_sids = 1;
		return feed_cmd_sid(cmd, one, &cmd->sids[0]);
	}
	if (!json_object_is_type(many, json_type_array))
		return feed_cmd_fail(cmd, FEED_E_INVALID, "sids");
	n = json_object_array_length(many);
	if (n == 0)
		return feed_cmd_fail(cmd, FEED_E_SIDS, "sids");
	if (n > FEED_CMD_MAX_ITEMS)
		return feed_cmd_fail(cmd, FEED_E_INVALID, "sids");
	if ((cmd->sids = calloc(n, sizeof(*cmd->sids))) == NULL)
		return feed_cmd_fail(cmd, FEED_E_INTERNAL, "memory");
	cmd->n_sids = n;
	for (size_t i = 0; i < n; i++) {
		int rc = feed_cmd_sid(cmd, json_object_array_get_idx(many, i), &cmd->sids[i]);

		if (rc != 0)
			return rc;
	}
	return 0;
}

static int
feed_cmd_action_parse(struct feed_cmd *cmd, struct json_object *params)
{
	struct json_object *v;
	const char *name;

	if (!feed_cmd_get(params, "action", &v))
		return feed_cmd_fail(cmd, FEED_E_ACTION, "action");
	if (!json_object_is_type(v, json_type_string))
		return feed_cmd_fail(cmd, FEED_E_INVALID, "action");
	name = json_object_get_string(v);
	for (size_t i = 0; i < sizeof(feed_cmd_actions) / sizeof(feed_cmd_actions[0]); i++) {
		if (strcmp(name, feed_cmd_actions[i].name) == 0) {
			cmd->action = feed_cmd_actions[i].action;
			return 0;
		}
	}
	return feed_cmd_fail(cmd, FEED_E_ACTION_UNSUPPORTED, "action");
}

/* since: a cursor as integer microseconds or any instant ktime accepts (RFC 3339, unix time). */
static int
feed_cmd_since(struct feed_cmd *cmd, struct json_object *params)
{
	struct json_object *v;
	int64_t us;

	if (!feed_cmd_get(params, "since", &v))
		return 0;
	if (json_object_is_type(v, json_type_int)) {
		us = json_object_get_int64(v);
		if (us < 0 || us > FEED_SINCE_MAX)
			return feed_cmd_fail(cmd, FEED_E_INVALID, "since");
	} else if (!json_object_is_type(v, json_type_string) ||
	    kt_parse(json_object_get_string(v), &us) != 0) {
		return feed_cmd_fail(cmd, FEED_E_INVALID, "since");
	}
	cmd->since = us;
	cmd->has_since = true;
	return 0;
}

/* The envelope: JSON object, optional integer id, known cmd. Returns the table row or -1. */
static int
feed_cmd_envelope(const char *text, size_t len, struct feed_cmd *cmd, int *rc)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *v;
	const char *name;
	int t = -1;

	*rc = 0;
	if (tok == NULL) {
		*rc = feed_cmd_fail(cmd, FEED_E_INTERNAL, "memory");
		goto out;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	cmd->root = json_tokener_parse_ex(tok, text, (int)len);
	if (cmd->root == NULL || json_tokener_get_error(tok) != json_tokener_success ||
	    !feed_cmd_only_space(text + json_tokener_get_parse_end(tok),
	    len - json_tokener_get_parse_end(tok))) {
		*rc = feed_cmd_fail(cmd, FEED_E_PROCESS, "not a JSON document");
		goto out;
	}
	if (!json_object_is_type(cmd->root, json_type_object)) {
		*rc = feed_cmd_fail(cmd, FEED_E_PROCESS, "not a JSON object");
		goto out;
	}
	if (feed_cmd_get(cmd->root, "id", &v)) {
		/* json-c clamps integers that do not fit: refuse them rather than echo a wrong id */
		if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) == INT64_MAX ||
		    json_object_get_int64(v) == INT64_MIN) {
			*rc = feed_cmd_fail(cmd, FEED_E_INVALID, "id");
			goto out;
		}
		cmd->id = json_object_get_int64(v);
		cmd->has_id = true;
	}
	if (!json_object_object_get_ex(cmd->root, "cmd", &v) ||
	    !json_object_is_type(v, json_type_string)) {
		*rc = feed_cmd_fail(cmd, FEED_E_UNKNOWN_CMD, "cmd");
		goto out;
	}
	name = json_object_get_string(v);
	for (size_t i = 0; i < sizeof(feed_cmd_table) / sizeof(feed_cmd_table[0]); i++)
		if (strcmp(name, feed_cmd_table[i].name) == 0)
			t = (int)i;
	if (t < 0)
		*rc = feed_cmd_fail(cmd, FEED_E_UNKNOWN_CMD, "cmd");
out:
	json_tokener_free(tok);
	return *rc == 0 ? t : -1;
}

int
feed_cmd_parse(const char *text, size_t len, struct feed_cmd *cmd)
{
	struct json_object *params = NULL;
	unsigned want;
	int rc, t;

	memset(cmd, 0, sizeof(*cmd));
	if (len > INT32_MAX)
		return feed_cmd_fail(cmd, FEED_E_PROCESS, "frame too large");
	if ((t = feed_cmd_envelope(text, len, cmd, &rc)) < 0)
		return rc;
	cmd->type = feed_cmd_table[t].type;
	want = feed_cmd_table[t].params;
	if (!feed_cmd_table[t].needs_params)
		return 0;
	if (!feed_cmd_get(cmd->root, "params", &params))
		return feed_cmd_fail(cmd, FEED_E_PARAMS, "params");
	if (!json_object_is_type(params, json_type_object))
		return feed_cmd_fail(cmd, FEED_E_INVALID, "params");
	if ((want & P_CHANNELS) && (rc = feed_cmd_channels(cmd, params)) != 0)
		return rc;
	if ((want & P_SIDS) && (rc = feed_cmd_sids(cmd, params)) != 0)
		return rc;
	if (cmd->type == FEED_CMD_UPDATE && cmd->n_sids != 1)
		return feed_cmd_fail(cmd, FEED_E_ONE_SID, "sids");
	if ((want & P_ACTION) && (rc = feed_cmd_action_parse(cmd, params)) != 0)
		return rc;
	if ((want & P_TICKERS) && (rc = feed_cmd_tickers(cmd, params)) != 0)
		return rc;
	if ((want & P_SINCE) && (rc = feed_cmd_since(cmd, params)) != 0)
		return rc;
	if ((cmd->type == FEED_CMD_SUBSCRIBE || cmd->type == FEED_CMD_UPDATE) && !cmd->has_tickers)
		return feed_cmd_fail(cmd, FEED_E_TICKER, "market_tickers");
	return 0;
}

void
feed_cmd_free(struct feed_cmd *cmd)
{
	json_object_put(cmd->root);
	free(cmd->tickers);
	free(cmd->sids);
	memset(cmd, 0, sizeof(*cmd));
}
