/*
 * kcmd: see kcmd.h. One frame is one JSON object {"id": <int>, "cmd": "...", "params": {...}}; a
 * table says which parameters each command reads, and the parser checks the envelope, the command
 * name and those parameters in the exchange's order, returning the first error code that applies:
 * channels, sids (exactly one for update_subscription), action, tickers, the dialect's optional
 * parameters, then whether tickers were required. Strings in the result borrow from the parsed
 * JSON tree, which the command owns.
 */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "kcmd.h"
#include "kerr.h"
#include "ktime.h"

static const char *const kcmd_channels[KCMD_CH_COUNT] = {
	[KCMD_CH_ORDERBOOK] = "orderbook_delta",
	[KCMD_CH_LIFECYCLE] = "market_lifecycle_v2",
	[KCMD_CH_MVE_LIFECYCLE] = "multivariate_market_lifecycle",
};

/*
 * The exchange: 20 000 items per command (docs/kalshi-sim.md, error 11: the collector subscribes
 * 20 000 markets in one command in docs/benchmarks.md), 32-bit sids.
 */
const struct kcmd_dialect kcmd_exchange = {
	.name = "exchange",
	.channels = 1u << KCMD_CH_ORDERBOOK | 1u << KCMD_CH_LIFECYCLE | 1u << KCMD_CH_MVE_LIFECYCLE,
	.ticker_channels = 1u << KCMD_CH_ORDERBOOK,
	.opts = KCMD_OPT_YES_PRICE,
	.max_items = 20000,
	.sid_max = UINT32_MAX,
};

/*
 * The feed: 10 000 items, the default of KBOOK_FEEDD_MARKETS_MAX (a connection's markets); sids
 * below 2^31-1, the range feedd numbers them in.
 */
const struct kcmd_dialect kcmd_feed = {
	.name = "feed",
	.channels = 1u << KCMD_CH_ORDERBOOK,
	.ticker_channels = 1u << KCMD_CH_ORDERBOOK,
	.opts = KCMD_OPT_SINCE,
	.max_items = 10000,
	.sid_max = INT32_MAX - 1,
};

/* Which parameters each command reads: the table the parser is driven by. */
enum { P_CHANNELS = 1, P_TICKERS = 2, P_SIDS = 4, P_ACTION = 8, P_OPTS = 16 };

static const struct {
	const char *name;
	enum kcmd_type type;
	bool needs_params;
	unsigned params;
} kcmd_table[] = {
	{ "subscribe", KCMD_SUBSCRIBE, true, P_CHANNELS | P_TICKERS | P_OPTS },
	{ "update_subscription", KCMD_UPDATE, true, P_SIDS | P_TICKERS | P_ACTION },
	{ "unsubscribe", KCMD_UNSUBSCRIBE, true, P_SIDS },
	{ "list_subscriptions", KCMD_LIST, false, 0 },
};

static const struct {
	const char *name;
	enum kcmd_action action;
} kcmd_actions[] = {
	{ "add_markets", KCMD_ACT_ADD },
	{ "delete_markets", KCMD_ACT_DELETE },
	{ "get_snapshot", KCMD_ACT_SNAPSHOT },
};

const char *
kcmd_channel_name(enum kcmd_channel ch)
{
	return (unsigned)ch < KCMD_CH_COUNT ? kcmd_channels[ch] : "unknown";
}

/* True when the n bytes at s are JSON whitespace only. */
static bool
kcmd_only_space(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
			return false;
	return true;
}

static int
kcmd_fail(struct kcmd *cmd, int code, const char *why)
{
	cmd->why = why;
	return code;
}

/* A member that is present and not JSON null. */
static bool
kcmd_get(struct json_object *o, const char *key, struct json_object **v)
{
	return json_object_object_get_ex(o, key, v) && *v != NULL;
}

static int
kcmd_channels_parse(const struct kcmd_dialect *d, struct kcmd *cmd, struct json_object *params)
{
	struct json_object *v;
	size_t n;

	if (!kcmd_get(params, "channels", &v))
		return kcmd_fail(cmd, KERR_CHANNELS, "channels");
	if (!json_object_is_type(v, json_type_array))
		return kcmd_fail(cmd, KERR_INVALID, "channels");
	n = json_object_array_length(v);
	if (n == 0)
		return kcmd_fail(cmd, KERR_CHANNELS, "channels");
	for (size_t i = 0; i < n; i++) {
		struct json_object *c = json_object_array_get_idx(v, i);
		const char *name;
		int found = -1;

		if (!json_object_is_type(c, json_type_string))
			return kcmd_fail(cmd, KERR_INVALID, "channels");
		name = json_object_get_string(c);
		for (int k = 0; k < KCMD_CH_COUNT; k++)
			if ((d->channels & (1u << k)) && strcmp(name, kcmd_channels[k]) == 0)
				found = k;
		if (found < 0)
			return kcmd_fail(cmd, KERR_UNKNOWN_CHANNEL, "channels");
		cmd->channels |= 1u << found;
	}
	return 0;
}

static int
kcmd_tickers(const struct kcmd_dialect *d, struct kcmd *cmd, struct json_object *params)
{
	struct json_object *one = NULL, *many = NULL;
	bool has_one = kcmd_get(params, "market_ticker", &one);
	bool has_many = kcmd_get(params, "market_tickers", &many);
	size_t n;

	if (has_one && has_many)
		return kcmd_fail(cmd, KERR_INVALID, "market_ticker and market_tickers");
	if (has_one) {
		if (!json_object_is_type(one, json_type_string))
			return kcmd_fail(cmd, KERR_INVALID, "market_ticker");
		if ((cmd->tickers = malloc(sizeof(*cmd->tickers))) == NULL)
			return kcmd_fail(cmd, KERR_INTERNAL, "memory");
		cmd->tickers[0] = json_object_get_string(one);
		cmd->n_tickers = 1;
		cmd->has_tickers = true;
		return 0;
	}
	if (!has_many)
		return 0;
	if (!json_object_is_type(many, json_type_array))
		return kcmd_fail(cmd, KERR_INVALID, "market_tickers");
	n = json_object_array_length(many);
	if (n > d->max_items)
		return kcmd_fail(cmd, KERR_INVALID, "market_tickers");
	if ((cmd->tickers = calloc(n == 0 ? 1 : n, sizeof(*cmd->tickers))) == NULL)
		return kcmd_fail(cmd, KERR_INTERNAL, "memory");
	for (size_t i = 0; i < n; i++) {
		struct json_object *t = json_object_array_get_idx(many, i);

		if (!json_object_is_type(t, json_type_string))
			return kcmd_fail(cmd, KERR_INVALID, "market_tickers");
		cmd->tickers[i] = json_object_get_string(t);
	}
	cmd->n_tickers = n;
	cmd->has_tickers = n > 0;
	return 0;
}

/* A sid as a JSON integer; out-of-range values become 0, which no subscription has. */
static int
kcmd_sid(const struct kcmd_dialect *d, struct kcmd *cmd, struct json_object *v, int64_t *out)
{
	int64_t x;

	if (!json_object_is_type(v, json_type_int))
		return kcmd_fail(cmd, KERR_INVALID, "sids");
	x = json_object_get_int64(v);
	*out = x > 0 && x <= d->sid_max ? x : 0;
	return 0;
}

static int
kcmd_sids(const struct kcmd_dialect *d, struct kcmd *cmd, struct json_object *params)
{
	struct json_object *one = NULL, *many = NULL;
	bool has_one = kcmd_get(params, "sid", &one);
	bool has_many = kcmd_get(params, "sids", &many);
	size_t n;

	if (has_one && has_many)
		return kcmd_fail(cmd, KERR_INVALID, "sid and sids");
	if (!has_one && !has_many)
		return kcmd_fail(cmd, KERR_SIDS, "sids");
	if (has_one) {
		if ((cmd->sids = malloc(sizeof(*cmd->sids))) == NULL)
			return kcmd_fail(cmd, KERR_INTERNAL, "memory");
		cmd->n_sids = 1;
		return kcmd_sid(d, cmd, one, &cmd->sids[0]);
	}
	if (!json_object_is_type(many, json_type_array))
		return kcmd_fail(cmd, KERR_INVALID, "sids");
	n = json_object_array_length(many);
	if (n == 0)
		return kcmd_fail(cmd, KERR_SIDS, "sids");
	if (n > d->max_items)
		return kcmd_fail(cmd, KERR_INVALID, "sids");
	if ((cmd->sids = calloc(n, sizeof(*cmd->sids))) == NULL)
		return kcmd_fail(cmd, KERR_INTERNAL, "memory");
	cmd->n_sids = n;
	for (size_t i = 0; i < n; i++) {
		int rc = kcmd_sid(d, cmd, json_object_array_get_idx(many, i), &cmd->sids[i]);

		if (rc != 0)
			return rc;
	}
	return 0;
}

static int
kcmd_action_parse(struct kcmd *cmd, struct json_object *params)
{
	struct json_object *v;
	const char *name;

	if (!kcmd_get(params, "action", &v))
		return kcmd_fail(cmd, KERR_ACTION, "action");
	if (!json_object_is_type(v, json_type_string))
		return kcmd_fail(cmd, KERR_INVALID, "action");
	name = json_object_get_string(v);
	for (size_t i = 0; i < sizeof(kcmd_actions) / sizeof(kcmd_actions[0]); i++) {
		if (strcmp(name, kcmd_actions[i].name) == 0) {
			cmd->action = kcmd_actions[i].action;
			return 0;
		}
	}
	return kcmd_fail(cmd, KERR_ACTION_UNSUPPORTED, "action");
}

/* since: a cursor as integer microseconds or any instant ktime accepts (RFC 3339, unix time). */
static int
kcmd_since(struct kcmd *cmd, struct json_object *params)
{
	struct json_object *v;
	int64_t us;

	if (!kcmd_get(params, "since", &v))
		return 0;
	if (json_object_is_type(v, json_type_int)) {
		us = json_object_get_int64(v);
		if (us < 0 || us > KT_MAX)
			return kcmd_fail(cmd, KERR_INVALID, "since");
	} else if (!json_object_is_type(v, json_type_string) ||
	    kt_parse(json_object_get_string(v), &us) != 0) {
		return kcmd_fail(cmd, KERR_INVALID, "since");
	}
	cmd->since = us;
	cmd->has_since = true;
	return 0;
}

/* use_yes_price: a boolean; NO levels then show as YES prices. */
static int
kcmd_yes_price(struct kcmd *cmd, struct json_object *params)
{
	struct json_object *v;

	if (!kcmd_get(params, "use_yes_price", &v))
		return 0;
	if (!json_object_is_type(v, json_type_boolean))
		return kcmd_fail(cmd, KERR_INVALID, "use_yes_price");
	cmd->use_yes_price = json_object_get_boolean(v);
	return 0;
}

/* The dialect's optional parameters of subscribe, in a fixed order. */
static int
kcmd_opts(const struct kcmd_dialect *d, struct kcmd *cmd, struct json_object *params)
{
	int rc;

	if ((d->opts & KCMD_OPT_SINCE) && (rc = kcmd_since(cmd, params)) != 0)
		return rc;
	if ((d->opts & KCMD_OPT_YES_PRICE) && (rc = kcmd_yes_price(cmd, params)) != 0)
		return rc;
	return 0;
}

/* The envelope: JSON object, optional integer id, known cmd. Returns the table row or -1. */
static int
kcmd_envelope(const char *text, size_t len, struct kcmd *cmd, int *rc)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *v;
	const char *name;
	int t = -1;

	*rc = 0;
	if (tok == NULL) {
		*rc = kcmd_fail(cmd, KERR_INTERNAL, "memory");
		goto out;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	cmd->root = json_tokener_parse_ex(tok, text, (int)len);
	if (cmd->root == NULL || json_tokener_get_error(tok) != json_tokener_success ||
	    !kcmd_only_space(text + json_tokener_get_parse_end(tok),
	    len - json_tokener_get_parse_end(tok))) {
		*rc = kcmd_fail(cmd, KERR_PROCESS, "not a JSON document");
		goto out;
	}
	if (!json_object_is_type(cmd->root, json_type_object)) {
		*rc = kcmd_fail(cmd, KERR_PROCESS, "not a JSON object");
		goto out;
	}
	if (kcmd_get(cmd->root, "id", &v)) {
		/* json-c clamps integers that do not fit: refuse them rather than echo a wrong id */
		if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) == INT64_MAX ||
		    json_object_get_int64(v) == INT64_MIN) {
			*rc = kcmd_fail(cmd, KERR_INVALID, "id");
			goto out;
		}
		cmd->id = json_object_get_int64(v);
		cmd->has_id = true;
	}
	if (!json_object_object_get_ex(cmd->root, "cmd", &v) ||
	    !json_object_is_type(v, json_type_string)) {
		*rc = kcmd_fail(cmd, KERR_UNKNOWN_CMD, "cmd");
		goto out;
	}
	name = json_object_get_string(v);
	for (size_t i = 0; i < sizeof(kcmd_table) / sizeof(kcmd_table[0]); i++)
		if (strcmp(name, kcmd_table[i].name) == 0)
			t = (int)i;
	if (t < 0)
		*rc = kcmd_fail(cmd, KERR_UNKNOWN_CMD, "cmd");
out:
	json_tokener_free(tok);
	return *rc == 0 ? t : -1;
}

int
kcmd_parse(const struct kcmd_dialect *d, const char *text, size_t len, struct kcmd *cmd)
{
	struct json_object *params = NULL;
	unsigned want;
	int rc, t;

	memset(cmd, 0, sizeof(*cmd));
	if (len > INT32_MAX)
		return kcmd_fail(cmd, KERR_PROCESS, "frame too large");
	if ((t = kcmd_envelope(text, len, cmd, &rc)) < 0)
		return rc;
	cmd->type = kcmd_table[t].type;
	want = kcmd_table[t].params;
	if (!kcmd_table[t].needs_params)
		return 0;
	if (!kcmd_get(cmd->root, "params", &params))
		return kcmd_fail(cmd, KERR_PARAMS, "params");
	if (!json_object_is_type(params, json_type_object))
		return kcmd_fail(cmd, KERR_INVALID, "params");
	if ((want & P_CHANNELS) && (rc = kcmd_channels_parse(d, cmd, params)) != 0)
		return rc;
	if ((want & P_SIDS) && (rc = kcmd_sids(d, cmd, params)) != 0)
		return rc;
	if (cmd->type == KCMD_UPDATE && cmd->n_sids != 1)
		return kcmd_fail(cmd, KERR_ONE_SID, "sids");
	if ((want & P_ACTION) && (rc = kcmd_action_parse(cmd, params)) != 0)
		return rc;
	if ((want & P_TICKERS) && (rc = kcmd_tickers(d, cmd, params)) != 0)
		return rc;
	if ((want & P_OPTS) && (rc = kcmd_opts(d, cmd, params)) != 0)
		return rc;
	/* update_subscription always names markets; subscribe when a channel of it needs them */
	if (!cmd->has_tickers && (cmd->type == KCMD_UPDATE ||
	    (cmd->type == KCMD_SUBSCRIBE && (cmd->channels & d->ticker_channels) != 0)))
		return kcmd_fail(cmd, KERR_TICKER, "market_tickers");
	return 0;
}

void
kcmd_free(struct kcmd *cmd)
{
	json_object_put(cmd->root);
	free(cmd->tickers);
	free(cmd->sids);
	memset(cmd, 0, sizeof(*cmd));
}
