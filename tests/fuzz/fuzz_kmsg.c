/*
 * libFuzzer target for lib/kmsg.c. Any input must parse or be refused without a crash or leak;
 * a parsed snapshot must hold valid levels, a parsed delta a price within 0..$1.
 */
#include <stdint.h>
#include <stdlib.h>

#include "fixed.h"
#include "kmsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kmsg m;

	if (kmsg_parse((const char *)data, size, &m) != KMSG_OKAY) {
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
