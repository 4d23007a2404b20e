/*
 * libFuzzer target for lib/book.c. The input is a program of 4-byte operations run on a book and
 * on a plain array model of it (one size per price tick, per side); after every operation the
 * touched level and the level counts are compared, and some operations compare everything
 * (copies at a depth, best bid and ask, clones, equality). Any disagreement aborts.
 *
 * Operation bytes: [op, a, b, c]. op & 7 is the kind, op & 8 the side. A price byte p is tick
 * p * TICK; ticks past the notional and 255 (price -1) must be refused.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "book.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define TICK     5000
#define NOTIONAL 1000000
#define TICKS    (NOTIONAL / TICK + 1)
#define SNAP_MAX 64

struct model {
	int64_t size[2][TICKS];
};

enum op_kind {
	OP_DELTA,     /* delta (int8)b * (c + 1) */
	OP_DELTA_BIG, /* a delta near an int64 edge */
	OP_EMPTY,     /* the delta that empties the level exactly, plus (int8)b */
	OP_SNAPSHOT,  /* a % SNAP_MAX YES and b % SNAP_MAX NO levels from the bytes that follow */
	OP_CLEAR,
	OP_CLONE,     /* clone, compare, change the clone, compare again */
	OP_COMPARE,   /* compare everything, with a depth of a */
	OP_NOP,
};

static int64_t
price_of(uint8_t p)
{
	return p == 255 ? -1 : (int64_t)p * TICK;
}

static bool
price_valid(int64_t price)
{
	return price >= 0 && price <= NOTIONAL;
}

static enum book_err
model_delta(struct model *m, int side, int64_t price, int64_t delta)
{
	int64_t next;

	if (!price_valid(price))
		return BOOK_EINVAL;
	if (__builtin_add_overflow(m->size[side][price / TICK], delta, &next))
		return BOOK_EINVAL;
	if (next < 0)
		return BOOK_ENEGATIVE;
	m->size[side][price / TICK] = next;
	return BOOK_OK;
}

/* Compares one side completely, copying at depth max as well as in full. */
static void
compare_side(const struct model *m, const struct book *b, int side, size_t max)
{
	static struct book_level want[TICKS], got[TICKS];
	struct book_level lv;
	size_t n = 0, k;

	for (size_t t = 0; t < TICKS; t++) {
		if (m->size[side][t] > 0) {
			want[n].price = (int64_t)t * TICK;
			want[n].size = m->size[side][t];
			n++;
		}
	}
	if (book_levels(b, (enum book_side)side) != n)
		abort();
	if (book_copy_levels(b, (enum book_side)side, got, TICKS) != n ||
	    memcmp(got, want, n * sizeof(got[0])) != 0)
		abort();
	k = max < n ? max : n;
	if (book_copy_levels(b, (enum book_side)side, got, max) != k ||
	    memcmp(got, want + n - k, k * sizeof(got[0])) != 0)
		abort();
	if (book_best_bid(b, (enum book_side)side, &lv) != (n > 0) ||
	    book_best_ask(b, (enum book_side)!side, &lv) != (n > 0))
		abort();
	if (n > 0) {
		if (!book_best_bid(b, (enum book_side)side, &lv) || lv.price != want[n - 1].price ||
		    lv.size != want[n - 1].size)
			abort();
		if (!book_best_ask(b, (enum book_side)!side, &lv) ||
		    lv.price != NOTIONAL - want[n - 1].price || lv.size != want[n - 1].size)
			abort();
	}
}

static void
compare_all(const struct model *m, const struct book *b, size_t max)
{
	compare_side(m, b, BOOK_YES, max);
	compare_side(m, b, BOOK_NO, max);
}

/*
 * Runs a snapshot built from the bytes at p (two per level: price byte, size byte; size 0 is
 * invalid) and the model's idea of it. Returns the number of bytes used.
 */
static size_t
run_snapshot(struct model *m, struct book *b, size_t n_yes, size_t n_no, const uint8_t *p,
    size_t left)
{
	struct book_level lv[2][SNAP_MAX];
	size_t n[2] = { n_yes, n_no }, used = 0;
	bool ok = true;
	enum book_err err;

	memset(m, 0, sizeof(*m));
	for (int side = 0; side < 2; side++) {
		if (n[side] > (left - used) / 2)
			n[side] = (left - used) / 2;
		for (size_t i = 0; i < n[side]; i++, used += 2) {
			lv[side][i].price = price_of(p[used]);
			lv[side][i].size = p[used + 1];
			if (!price_valid(lv[side][i].price) || lv[side][i].size <= 0 ||
			    m->size[side][lv[side][i].price / TICK] != 0)
				ok = false;
			else
				m->size[side][lv[side][i].price / TICK] = lv[side][i].size;
		}
	}
	err = book_apply_snapshot(b, lv[0], n[0], lv[1], n[1]);
	if (!ok)
		memset(m, 0, sizeof(*m));
	if (err != (ok ? BOOK_OK : BOOK_EINVAL))
		abort();
	return used;
}

/* Clones b, checks the clone, changes it at one level and checks that b did not change. */
static void
run_clone(const struct model *m, const struct book *b, int side, uint8_t pb)
{
	struct book *c = book_clone(b);
	int64_t price = price_of(pb);

	if (c == NULL)
		return;
	if (!book_equal(b, c) || !book_equal(c, b) || book_notional(c) != NOTIONAL)
		abort();
	compare_all(m, c, TICKS);
	if (price_valid(price)) {
		if (book_apply_delta(c, (enum book_side)side, price, 1) == BOOK_OK &&
		    book_equal(b, c))
			abort();
		compare_all(m, b, TICKS);
	}
	book_free(c);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct model m;
	struct book *b = book_new(NOTIONAL);
	size_t i = 0;

	if (b == NULL)
		return 0;
	memset(&m, 0, sizeof(m));
	while (size - i >= 4) {
		uint8_t op = data[i], a = data[i + 1], bb = data[i + 2], c = data[i + 3];
		int side = (op >> 3) & 1;
		int64_t price = price_of(a), delta = 0;
		bool is_delta = true;

		i += 4;
		switch ((enum op_kind)(op & 7)) {
		case OP_DELTA:
			delta = (int64_t)(int8_t)bb * (c + 1);
			break;
		case OP_DELTA_BIG:
			delta = (bb & 1) ? INT64_MAX - c : INT64_MIN + c;
			if (bb & 2)
				delta = delta / ((bb >> 2) + 1);
			break;
		case OP_EMPTY:
			delta = price_valid(price) ? -m.size[side][price / TICK] : 0;
			/* the model's level may be near INT64_MAX: nudge only when it cannot overflow */
			if (__builtin_add_overflow(delta, (int64_t)(int8_t)bb, &delta))
				delta = price_valid(price) ? -m.size[side][price / TICK] : 0;
			break;
		case OP_SNAPSHOT:
			i += run_snapshot(&m, b, a % SNAP_MAX, bb % SNAP_MAX, data + i, size - i);
			compare_all(&m, b, c);
			is_delta = false;
			break;
		case OP_CLEAR:
			book_clear(b);
			memset(&m, 0, sizeof(m));
			is_delta = false;
			break;
		case OP_CLONE:
			run_clone(&m, b, side, a);
			is_delta = false;
			break;
		case OP_COMPARE:
			compare_all(&m, b, a);
			is_delta = false;
			break;
		case OP_NOP:
			is_delta = false;
			break;
		}
		if (is_delta) {
			int64_t before = book_size_at(b, (enum book_side)side, price);
			enum book_err want = model_delta(&m, side, price, delta);

			if (book_apply_delta(b, (enum book_side)side, price, delta) != want)
				abort();
			if (want != BOOK_OK && book_size_at(b, (enum book_side)side, price) != before)
				abort();
			if (price_valid(price) &&
			    book_size_at(b, (enum book_side)side, price) != m.size[side][price / TICK])
				abort();
		}
	}
	compare_all(&m, b, TICKS);
	book_free(b);
	return 0;
}
