/*
 * faults: misbehaviour on demand, from POST /_sim/fault or, for the kinds that make sense from
 * the first byte, from --fault at start-up (armed on every new connection). Each kind is one row
 * of a table: what it needs (a count, a sid) and what it does to a connection. The messages
 * themselves are altered where they are built (subs.c) or written (ws.c).
 */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "sim.h"

typedef void (*fault_fn)(struct sim_conn *c, uint32_t sid, uint32_t count);

static void
fault_drop(struct sim_conn *c, uint32_t sid, uint32_t count)
{
	c->f_drop += count;
	c->f_sid = sid;
}

static void
fault_dup(struct sim_conn *c, uint32_t sid, uint32_t count)
{
	c->f_dup += count;
	c->f_sid = sid;
}

static void
fault_reorder(struct sim_conn *c, uint32_t sid, uint32_t count)
{
	c->f_reorder += count;
	c->f_sid = sid;
}

static void
fault_close(struct sim_conn *c, uint32_t sid, uint32_t count)
{
	(void)sid;
	(void)count;
	sim_ws_close_soon(c);
}

static void
fault_stop_pings(struct sim_conn *c, uint32_t sid, uint32_t count)
{
	(void)sid;
	(void)count;
	c->f_no_pings = true;
}

static void
fault_resume_pings(struct sim_conn *c, uint32_t sid, uint32_t count)
{
	(void)sid;
	(void)count;
	c->f_no_pings = false;
	c->last_ping_us = 0;
}

static void
fault_freeze(struct sim_conn *c, uint32_t sid, uint32_t count)
{
	(void)sid;
	(void)count;
	sim_ws_freeze(c, true);
}

static void
fault_thaw(struct sim_conn *c, uint32_t sid, uint32_t count)
{
	(void)sid;
	(void)count;
	sim_ws_freeze(c, false);
}

static void
fault_error25(struct sim_conn *c, uint32_t sid, uint32_t count)
{
	(void)count;
	if (sid != 0)
		sim_subs_kill(c, sid, KERR_OVERFLOW);
	else
		sim_subs_overflow(c);
}

static void
fault_refuse_adds(struct sim_conn *c, uint32_t sid, uint32_t count)
{
	(void)sid;
	(void)count;
	c->f_refuse_adds = true;
}

static void
fault_allow_adds(struct sim_conn *c, uint32_t sid, uint32_t count)
{
	(void)sid;
	(void)count;
	c->f_refuse_adds = false;
}

static void
fault_mute_snapshots(struct sim_conn *c, uint32_t sid, uint32_t count)
{
	(void)sid;
	(void)count;
	c->f_mute_snapshots = true;
}

static void
fault_unmute_snapshots(struct sim_conn *c, uint32_t sid, uint32_t count)
{
	(void)sid;
	(void)count;
	c->f_mute_snapshots = false;
}

static void
fault_numbers(struct sim_conn *c, uint32_t sid, uint32_t count)
{
	(void)sid;
	(void)count;
	c->f_numbers = true;
}

static void
fault_strings(struct sim_conn *c, uint32_t sid, uint32_t count)
{
	(void)sid;
	(void)count;
	c->f_numbers = false;
}

static void
fault_bad_utf8(struct sim_conn *c, uint32_t sid, uint32_t count)
{
	static const char bad[] = "{\"type\":\"orderbook_delta\",\"sid\":1,\"seq\":1,\"msg\":"
	    "{\"market_ticker\":\"\xff\xfe\xc3\x28\"}}";

	(void)sid;
	for (uint32_t i = 0; i < count; i++)
		sim_ws_queue(c, bad, sizeof(bad) - 1, SIM_MT_FAULT, false);
}

static void
fault_truncated(struct sim_conn *c, uint32_t sid, uint32_t count)
{
	static const char cut[] = "{\"type\":\"orderbook_delta\",\"sid\":1,\"seq\":";

	(void)sid;
	for (uint32_t i = 0; i < count; i++)
		sim_ws_queue(c, cut, sizeof(cut) - 1, SIM_MT_FAULT, false);
}

static const struct {
	const char *name;
	fault_fn fn;
	bool at_startup;  /* allowed in --fault */
} fault_table[] = {
	{ "drop", fault_drop, true },
	{ "duplicate", fault_dup, true },
	{ "reorder", fault_reorder, true },
	{ "close", fault_close, false },
	{ "stop_pings", fault_stop_pings, true },
	{ "resume_pings", fault_resume_pings, false },
	{ "freeze", fault_freeze, false },
	{ "thaw", fault_thaw, false },
	{ "error25", fault_error25, false },
	{ "refuse_adds", fault_refuse_adds, true },
	{ "allow_adds", fault_allow_adds, false },
	{ "mute_snapshots", fault_mute_snapshots, true },
	{ "unmute_snapshots", fault_unmute_snapshots, false },
	{ "numbers", fault_numbers, true },
	{ "strings", fault_strings, false },
	{ "bad_utf8", fault_bad_utf8, false },
	{ "truncated", fault_truncated, false },
};

static int
fault_lookup(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof(fault_table) / sizeof(fault_table[0]); i++)
		if (strlen(fault_table[i].name) == len && strncmp(fault_table[i].name, name, len) == 0)
			return (int)i;
	return -1;
}

/*
 * The faults that are not a connection's but the REST API's: count is how many GET
 * /markets/{ticker} requests they touch; ms how long rest_slow holds each answer back.
 */
static void
fault_rest_fail(uint32_t count, int64_t ms)
{
	(void)ms;
	sim_w.f_rest_fail += count;
	log_info("fault rest_fail: the next %u market requests fail", sim_w.f_rest_fail);
}

static void
fault_rest_slow(uint32_t count, int64_t ms)
{
	sim_w.f_rest_slow += count;
	sim_w.f_rest_slow_ms = ms;
	log_info("fault rest_slow: the next %u market requests answer after %lld ms", sim_w.f_rest_slow,
	    (long long)ms);
}

static const struct {
	const char *name;
	void (*fn)(uint32_t count, int64_t ms);
} rest_fault_table[] = {
	{ "rest_fail", fault_rest_fail },
	{ "rest_slow", fault_rest_slow },
};

int
sim_fault_apply(const char *kind, uint64_t conn_id, uint32_t sid, uint32_t count, int64_t ms,
    const char **why)
{
	int k = fault_lookup(kind, strlen(kind)), n = 0;
	struct sim_conn *c, *next;

	if (count == 0)
		count = 1;
	if (k < 0) {
		for (size_t i = 0; i < sizeof(rest_fault_table) / sizeof(rest_fault_table[0]); i++)
			if (strcmp(kind, rest_fault_table[i].name) == 0) {
				rest_fault_table[i].fn(count, ms);
				return 0;
			}
		*why = "unknown fault type";
		return -1;
	}
	for (c = sim_w.conns; c != NULL; c = next) {
		next = c->next;
		if (conn_id != 0 && c->id != conn_id)
			continue;
		fault_table[k].fn(c, sid, count);
		n++;
	}
	log_info("fault %s applied to %d connection(s)", kind, n);
	return n;
}

/*
 * Walks the --fault list "kind[:count],kind[:count]..."; with c set, arms each fault on c.
 * Returns 0, or -1 with *why on a bad entry.
 */
static int
fault_walk(const char *spec, struct sim_conn *c, const char **why)
{
	const char *p = spec;

	while (p != NULL && *p != '\0') {
		size_t len = strcspn(p, ",:");
		int k = fault_lookup(p, len);
		uint32_t count = 1;

		if (k < 0 || !fault_table[k].at_startup) {
			*why = "unknown fault type, or one not allowed at start-up";
			return -1;
		}
		p += len;
		if (*p == ':') {
			char *end;
			unsigned long v = strtoul(p + 1, &end, 10);

			if (end == p + 1 || v == 0 || v > UINT32_MAX) {
				*why = "bad fault count";
				return -1;
			}
			count = (uint32_t)v;
			p = end;
		}
		if (*p == ',')
			p++;
		else if (*p != '\0') {
			*why = "bad fault list";
			return -1;
		}
		if (c != NULL)
			fault_table[k].fn(c, 0, count);
	}
	return 0;
}

int
sim_fault_check_spec(const char *spec, const char **why)
{
	return fault_walk(spec, NULL, why);
}

void
sim_fault_on_connect(struct sim_conn *c)
{
	const char *why;

	if (sim_w.opt.faults != NULL)
		(void)fault_walk(sim_w.opt.faults, c, &why);
}
