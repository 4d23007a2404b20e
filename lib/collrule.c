/*
 * collrule: the collector's recording rules (collrule.h), pure: every input is a parameter and
 * every output a return value or an out-parameter, so tests/unit/test_collrule.c can drive them
 * with a fake clock.
 */
#include <stddef.h>

#include "collrule.h"

static const char *const reason_names[] = {
	[COLL_GAP_SEQ] = "seq_gap",
	[COLL_GAP_DISCONNECT] = "disconnect",
	[COLL_GAP_RESTART] = "restart",
	[COLL_GAP_TERMINAL] = "terminal_error",
	[COLL_GAP_OVERFLOW] = "overflow",
	[COLL_GAP_NEGATIVE] = "negative_level",
	[COLL_GAP_TAKEOVER] = "takeover",
};

static const char *const end_names[] = {
	[COLL_GAP_END_SNAPSHOT] = "snapshot",
	[COLL_GAP_END_MARKET_CLOSED] = "market_closed",
};

const char *
coll_gap_reason_name(enum coll_gap_reason r)
{
	return (size_t)r < sizeof(reason_names) / sizeof(reason_names[0]) ? reason_names[r] : "unknown";
}

const char *
coll_gap_end_name(enum coll_gap_end e)
{
	return (size_t)e < sizeof(end_names) / sizeof(end_names[0]) ? end_names[e] : "unknown";
}

bool
coll_rule_gap_open(struct coll_gap *g, bool has_book, int64_t last_ts, int64_t from,
    enum coll_gap_reason reason)
{
	if (g->open || !has_book)
		return false;
	g->open = true;
	g->reason = (uint8_t)reason;
	/* the gap begins after the last row we are sure of */
	g->start = from > last_ts ? from : last_ts + 1;
	return true;
}

bool
coll_rule_gap_close(struct coll_gap *g, int64_t cp_ts, bool had_book, bool held_equal,
    int64_t *end, enum coll_gap_div *div)
{
	if (!g->open)
		return false;
	g->open = false;
	*end = cp_ts > g->start ? cp_ts : g->start;
	*div = !had_book ? COLL_DIV_UNKNOWN : held_equal ? COLL_DIV_NO : COLL_DIV_YES;
	return true;
}

bool
coll_rule_gap_finish(struct coll_gap *g, int64_t at, int64_t *end, enum coll_gap_div *div)
{
	if (!g->open)
		return false;
	g->open = false;
	*end = at > g->start ? at : g->start;
	*div = COLL_DIV_UNKNOWN;
	return true;
}

int64_t
coll_rule_next_ts(int64_t last_ts, int64_t now)
{
	return now > last_ts ? now : last_ts + 1;
}

bool
coll_rule_checkpoint_on_delta(int64_t since_cp, int64_t every)
{
	return since_cp >= every;
}

int64_t
coll_rule_checkpoint_aligned(int64_t last_ts, int64_t upto, int64_t period_us)
{
	int64_t b;

	if (period_us <= 0 || upto < 0)
		return -1;
	b = upto / period_us * period_us;
	return b > last_ts ? b : -1;
}
