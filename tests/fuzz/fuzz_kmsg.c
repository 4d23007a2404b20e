/*
 * libFuzzer target for lib/kmsg.c. Any input must parse or be refused without a crash or leak;
 * a parsed snapshot must hold valid levels, a parsed delta a price within 0..$1; and the fast path
 * for plain deltas must agree with the json-c path (same error, same fields) on every input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fixed.h"
#include "kmsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The fast delta path and the json-c path must agree on every input. */
static void
compare_paths(const uint8_t *data, size_t size, enum kmsg_err err, const struct kmsg *m)
{
	struct kmsg j;
	enum kmsg_err jerr = kmsg_parse_json((const char *)data, size, &j);

	if (jerr != err)
		abort();
	if (err == KMSG_OKAY && (j.type != m->type || j.id != m->id || j.sid != m->sid ||
	    j.seq != m->seq || strcmp(j.ticker, m->ticker) != 0 ||
	    (m->type == KMSG_DELTA && (j.side != m->side || j.price != m->price ||
	    j.delta != m->delta || j.ts_ms != m->ts_ms))))
		abort();
	kmsg_free(&j);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kmsg m;
	enum kmsg_err err = kmsg_parse((const char *)data, size, &m);

	compare_paths(data, size, err, &m);
	if (err != KMSG_OKAY) {
		if (m.yes != NULL || m.no != NULL || m.root != NULL)
			abort();
		return 0;
	}
	for (size_t i = 0; i < m.n_yes; i++)
		if (m.yes[i].price < 0 || m.yes[i].price > FX_PRICE_MAX || m.yes[i].size <= 0)
			abort();
	for (size_t i = 0; i < m.n_no; i++)
		if (m.no[i].price < 0 || m.no[i].price > FX_PRICE_MAX || m.no[i].size <= 0)
			abort();
	if (m.type == KMSG_DELTA && (m.price < 0 || m.price > FX_PRICE_MAX))
		abort();
	kmsg_free(&m);
	return 0;
}
