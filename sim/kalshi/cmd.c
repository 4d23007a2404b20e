/*
 * cmd: the WebSocket command parser. One frame is one JSON object
 * {"id": <int>, "cmd": "...", "params": {...}}; the parser checks the envelope, the command name
 * and every parameter of that command from a table, in the order the exchange does, and returns
 * the first error code that applies. Strings in the result borrow from the parsed JSON tree, which
 * the command owns until sim_cmd_free.
 */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "cmd.h"
#include "kerr.h"

static const char *const cmd_channels[SIM_CH_COUNT] = {
	[SIM_CH_ORDERBOOK] = "orderbook_delta",
	[SIM_CH_LIFECYCLE] = "market_lifecycle_v2",
	[SIM_CH_MVE_LIFECYCLE] = "multivariate_market_lifecycle",
};

/* Which parameters each command reads (the table the parser is driven by). */
enum { P_CHANNELS = 1, P_TICKERS = 2, P_SIDS = 4, P_ACTION = 8, P_YES_PRICE = 16 };

static const struct {
	const char *name;
	enum sim_cmd_type type;
	bool needs_params;
	unsigned params;
} cmd_table[] = {
	{ "subscribe", SIM_CMD_SUBSCRIBE, true, P_CHANNELS | P_TICKERS | P_YES_PRICE },
	{ "update_subscription", SIM_CMD_UPDATE, true, P_SIDS | P_TICKERS | P_ACTION },
	{ "unsubscribe", SIM_CMD_UNSUBSCRIBE, true, P_SIDS },
	{ "list_subscriptions", SIM_CMD_LIST, false, 0 },
};

static const struct {
	const char *name;
	enum sim_cmd_action action;
} cmd_actions[] = {
	{ "add_markets", SIM_ACT_ADD },
	{ "delete_markets", SIM_ACT_DELETE },
	{ "get_snapshot", SIM_ACT_SNAPSHOT },
};

const char *
sim_err_msg(int code)
{
	return kerr_msg(code);
}

const char *
sim_channel_name(enum sim_channel ch)
{
	return ch < SIM_CH_COUNT ? cmd_channels[ch] : "unknown";
}

/* True when the n bytes at s are JSON whitespace only. */
static bool
cmd_only_space(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
			return false;
	return true;
}

static int
cmd_fail(struct sim_cmd *cmd, int code, const char *why)
{
	cmd->why = why;
	return code;
}

static int
cmd_channels_parse(struct sim_cmd *cmd, struct json_object *params)
{
	struct json_object *v;
	size_t n;

	if (!json_object_object_get_ex(params, "channels", &v) || json_object_is_type(v, json_type_null))
		return cmd_fail(cmd, SIM_E_CHANNELS, "channels");
	if (!json_object_is_type(v, json_type_array))
		return cmd_fail(cmd, SIM_E_INVALID, "channels");
	n = json_object_array_length(v);
	if (n == 0)
		return cmd_fail(cmd, SIM_E_CHANNELS, "channels");
	for (size_t i = 0; i < n; i++) {
		struct json_object *c = json_object_array_get_idx(v, i);
		const char *name;
		int found = -1;

		if (!json_object_is_type(c, json_type_string))
			return cmd_fail(cmd, SIM_E_INVALID, "channels");
		name = json_object_get_string(c);
		for (int k = 0; k < SIM_CH_COUNT; k++)
			if (strcmp(name, cmd_channels[k]) == 0)
				found = k;
		if (found < 0)
			return cmd_fail(cmd, SIM_E_UNKNOWN_CHANNEL, "channels");
		cmd->channels |= 1u << found;
	}
	return 0;
}

static int
cmd_tickers_parse(struct sim_cmd *cmd, struct json_object *params)
{
	struct json_object *one = NULL, *many = NULL;
	bool has_one, has_many;
	size_t n;

	has_one = json_object_object_get_ex(params, "market_ticker", &one) && one != NULL;
	has_many = json_object_object_get_ex(params, "market_tickers", &many) && many != NULL;
	if (has_one && has_many)
		return cmd_fail(cmd, SIM_E_INVALID, "market_ticker and market_tickers");
	if (has_one) {
		if (!json_object_is_type(one, json_type_string))
			return cmd_fail(cmd, SIM_E_INVALID, "market_ticker");
		cmd->tickers = malloc(sizeof(*cmd->tickers));
		if (cmd->tickers == NULL)
			return cmd_fail(cmd, SIM_E_INTERNAL, "memory");
		cmd->tickers[0] = json_object_get_string(one);
		cmd->n_tickers = 1;
		cmd->has_tickers = true;
		return 0;
	}
	if (!has_many)
		return 0;
	if (!json_object_is_type(many, json_type_array))
		return cmd_fail(cmd, SIM_E_INVALID, "market_tickers");
	n = json_object_array_length(many);
	if (n > SIM_CMD_MAX_ITEMS)
		return cmd_fail(cmd, SIM_E_INVALID, "market_tickers");
	cmd->tickers = calloc(n == 0 ? 1 : n, sizeof(*cmd->tickers));
	if (cmd->tickers == NULL)
		return cmd_fail(cmd, SIM_E_INTERNAL, "memory");
	for (size_t i = 0; i < n; i++) {
		struct json_object *t = json_object_array_get_idx(many, i);

		if (!json_object_is_type(t, json_type_string))
			return cmd_fail(cmd, SIM_E_INVALID, "market_tickers");
		cmd->tickers[i] = json_object_get_string(t);
	}
	cmd->n_tickers = n;
	cmd->has_tickers = n > 0;
	return 0;
}

/* A sid as a JSON integer; out-of-range values become 0, which no subscription has. */
static int
cmd_sid_value(struct sim_cmd *cmd, struct json_object *v, uint32_t *out)
{
	int64_t x;

	if (!json_object_is_type(v, json_type_int))
		return cmd_fail(cmd, SIM_E_INVALID, "sids");
	x = json_object_get_int64(v);
	*out = x > 0 && x <= UINT32_MAX ? (uint32_t)x : 0;
	return 0;
}

static int
cmd_sids_parse(struct sim_cmd *cmd, struct json_object *params)
{
	struct json_object *one = NULL, *many = NULL;
	bool has_one, has_many;
	size_t n;

	has_one = json_object_object_get_ex(params, "sid", &one) && one != NULL;
	has_many = json_object_object_get_ex(params, "sids", &many) && many != NULL;
	if (has_one && has_many)
		return cmd_fail(cmd, SIM_E_INVALID, "sid and sids");
	if (!has_one && !has_many)
		return cmd_fail(cmd, SIM_E_SIDS, "sids");
	if (has_one) {
		cmd->sids = malloc(sizeof(*cmd->sids));
		if (cmd->sids == NULL)
			return cmd_fail(cmd, SIM_E_INTERNAL, "memory");
		cmd->n_sids = 1;
		return cmd_sid_value(cmd, one, &cmd->sids[0]);
	}
	if (!json_object_is_type(many, json_type_array))
		return cmd_fail(cmd, SIM_E_INVALID, "sids");
	n = json_object_array_length(many);
	if (n == 0)
		return cmd_fail(cmd, SIM_E_SIDS, "sids");
	if (n > SIM_CMD_MAX_ITEMS)
		return cmd_fail(cmd, SIM_E_INVALID, "sids");
	cmd->sids = calloc(n, sizeof(*cmd->sids));
	if (cmd->sids == NULL)
		return cmd_fail(cmd, SIM_E_INTERNAL, "memory");
	cmd->n_sids = n;
	for (size_t i = 0; i < n; i++) {
		int rc = cmd_sid_value(cmd, json_object_array_get_idx(many, i), &cmd->sids[i]);

		if (rc != 0)
			return rc;
	}
	return 0;
}

static int
cmd_action_parse(struct sim_cmd *cmd, struct json_object *params)
{
	struct json_object *v;
	const char *name;

	if (!json_object_object_get_ex(params, "action", &v) || v == NULL)
		return cmd_fail(cmd, SIM_E_ACTION, "action");
	if (!json_object_is_type(v, json_type_string))
		return cmd_fail(cmd, SIM_E_INVALID, "action");
	name = json_object_get_string(v);
	for (size_t i = 0; i < sizeof(cmd_actions) / sizeof(cmd_actions[0]); i++) {
		if (strcmp(name, cmd_actions[i].name) == 0) {
			cmd->action = cmd_actions[i].action;
			return 0;
		}
	}
	return cmd_fail(cmd, SIM_E_ACTION_UNSUPPORTED, "action");
}

int
sim_cmd_parse(const char *text, size_t len, struct sim_cmd *cmd)
{
	struct json_tokener *tok = NULL;
	struct json_object *v, *params = NULL;
	const char *name;
	int rc = 0, t = -1;

	memset(cmd, 0, sizeof(*cmd));
	if (len > INT32_MAX)
		return cmd_fail(cmd, SIM_E_PROCESS, "frame too large");
	tok = json_tokener_new();
	if (tok == NULL)
		return cmd_fail(cmd, SIM_E_INTERNAL, "memory");
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	cmd->root = json_tokener_parse_ex(tok, text, (int)len);
	if (cmd->root == NULL || json_tokener_get_error(tok) != json_tokener_success ||
	    !cmd_only_space(text + json_tokener_get_parse_end(tok),
	    len - json_tokener_get_parse_end(tok))) {
		rc = cmd_fail(cmd, SIM_E_PROCESS, "not a JSON document");
		goto out;
	}
	if (!json_object_is_type(cmd->root, json_type_object)) {
		rc = cmd_fail(cmd, SIM_E_PROCESS, "not a JSON object");
		goto out;
	}
	if (json_object_object_get_ex(cmd->root, "id", &v) && v != NULL) {
		/* json-c clamps integers that do not fit: refuse them rather than echo a wrong id */
		if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) == INT64_MAX ||
		    json_object_get_int64(v) == INT64_MIN) {
			rc = cmd_fail(cmd, SIM_E_INVALID, "id");
			goto out;
		}
		cmd->id = json_object_get_int64(v);
		cmd->has_id = true;
	}
	if (!json_object_object_get_ex(cmd->root, "cmd", &v) ||
	    !json_object_is_type(v, json_type_string)) {
		rc = cmd_fail(cmd, SIM_E_UNKNOWN_CMD, "cmd");
		goto out;
	}
	name = json_object_get_string(v);
	for (size_t i = 0; i < sizeof(cmd_table) / sizeof(cmd_table[0]); i++)
		if (strcmp(name, cmd_table[i].name) == 0)
			t = (int)i;
	if (t < 0) {
		rc = cmd_fail(cmd, SIM_E_UNKNOWN_CMD, "cmd");
		goto out;
	}
	cmd->type = cmd_table[t].type;
	if (!cmd_table[t].needs_params)
		goto out;
	if (!json_object_object_get_ex(cmd->root, "params", &params) || params == NULL) {
		rc = cmd_fail(cmd, SIM_E_PARAMS, "params");
		goto out;
	}
	if (!json_object_is_type(params, json_type_object)) {
		rc = cmd_fail(cmd, SIM_E_INVALID, "params");
		goto out;
	}
	if ((cmd_table[t].params & P_CHANNELS) && (rc = cmd_channels_parse(cmd, params)) != 0)
		goto out;
	if ((cmd_table[t].params & P_SIDS) && (rc = cmd_sids_parse(cmd, params)) != 0)
		goto out;
	if (cmd->type == SIM_CMD_UPDATE && cmd->n_sids != 1) {
		rc = cmd_fail(cmd, SIM_E_ONE_SID, "sids");
		goto out;
	}
	if ((cmd_table[t].params & P_ACTION) && (rc = cmd_action_parse(cmd, params)) != 0)
		goto out;
	if ((cmd_table[t].params & P_TICKERS) && (rc = cmd_tickers_parse(cmd, params)) != 0)
		goto out;
	if ((cmd_table[t].params & P_YES_PRICE) &&
	    json_object_object_get_ex(params, "use_yes_price", &v) && v != NULL) {
		if (!json_object_is_type(v, json_type_boolean)) {
			rc = cmd_fail(cmd, SIM_E_INVALID, "use_yes_price");
			goto out;
		}
		cmd->use_yes_price = json_object_get_boolean(v);
	}
	if (cmd->type == SIM_CMD_SUBSCRIBE && (cmd->channels & (1u << SIM_CH_ORDERBOOK)) &&
	    !cmd->has_tickers) {
		rc = cmd_fail(cmd, SIM_E_TICKER, "market_tickers");
		goto out;
	}
	if (cmd->type == SIM_CMD_UPDATE && !cmd->has_tickers) {
		rc = cmd_fail(cmd, SIM_E_TICKER, "market_tickers");
		goto out;
	}
out:
	json_tokener_free(tok);
	return rc;
}

void
sim_cmd_free(struct sim_cmd *cmd)
{
	json_object_put(cmd->root);
	free(cmd->tickers);
	free(cmd->sids);
	memset(cmd, 0, sizeof(*cmd));
}
