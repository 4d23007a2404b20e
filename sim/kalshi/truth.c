/*
 * truth: the ground truth of every book over time. Each change the flow applies to a true book
 * is appended to a ring of the last --history changes with its instant (the sim's clock when it
 * applied the change and queued its delta; the delta's ts_ms is that instant in milliseconds).
 * The book of a market at a past instant is the current book with the later changes undone, so
 * the answer is exact as long as the ring still holds every change after that instant.
 */
#include <stdlib.h>

#include "log.h"
#include "sim.h"

struct sim_change {
	int64_t t_us;
	int64_t price;
	int64_t delta;
	uint32_t market;
	uint8_t side;
};

static struct sim_change *truth_ring;
static size_t truth_cap, truth_head, truth_len;
static int64_t truth_lost_t = -1; /* instant of the newest change pushed out of the ring */

int
sim_truth_init(size_t cap)
{
	truth_cap = cap == 0 ? 1 : cap;
	truth_ring = calloc(truth_cap, sizeof(*truth_ring));
	if (truth_ring == NULL) {
		log_warnx("cannot allocate a history of %zu changes", truth_cap);
		return -1;
	}
	return 0;
}

void
sim_truth_free(void)
{
	free(truth_ring);
	truth_ring = NULL;
}

void
sim_truth_record(int64_t t_us, uint32_t market, enum book_side side, int64_t price, int64_t delta)
{
	struct sim_change *c;

	if (truth_len == truth_cap) {
		truth_lost_t = truth_ring[truth_head].t_us;
		truth_head = (truth_head + 1) % truth_cap;
		truth_len--;
	}
	c = &truth_ring[(truth_head + truth_len) % truth_cap];
	c->t_us = t_us;
	c->market = market;
	c->side = (uint8_t)side;
	c->price = price;
	c->delta = delta;
	truth_len++;
}

struct book *
sim_truth_book_at(const struct sim_market *m, int64_t at_us, bool *gone)
{
	struct book *b;

	*gone = false;
	if (truth_lost_t >= 0 && at_us < truth_lost_t) {
		*gone = true;
		return NULL;
	}
	b = book_clone(m->book);
	if (b == NULL)
		return NULL;
	for (size_t i = truth_len; i > 0; i--) {
		const struct sim_change *c = &truth_ring[(truth_head + i - 1) % truth_cap];

		if (c->t_us <= at_us)
			break;
		if (c->market != m->idx)
			continue;
		if (book_apply_delta(b, (enum book_side)c->side, c->price, -c->delta) != BOOK_OK) {
			log_warnx("ground truth of %s cannot be rebuilt", m->ticker);
			book_free(b);
			return NULL;
		}
	}
	return b;
}
