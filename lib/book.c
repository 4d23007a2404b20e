/*
 * book: the orderbook of one market as two AVL trees keyed by price, one per side.
 *
 * The nodes of a side live in one growable array and refer to each other by 32-bit index, index
 * 0 standing for "no node"; removed nodes go on a free list threaded through their left links and
 * are reused before the array grows. A delta therefore costs one search and at most one
 * rebalancing pass up the path, O(log levels), and a book of any size holds three allocations:
 * the struct and one array per side. The array only ever moves in tree_reserve, which runs before
 * a tree is modified, so the recursive insert and remove below may keep indices across calls.
 */
#include <stdlib.h>
#include <string.h>

#include "book.h"

/*
 * Depth bound of the explicit traversal stacks. An AVL tree of height h holds at least
 * F(h + 2) - 1 nodes (F Fibonacci), so 2^32 nodes fit within height 46.
 */
#define BOOK_STACK 64

#define BOOK_MIN_CAP 16

struct book_node {
	int64_t price;
	int64_t size;
	uint32_t left, right; /* 0 is no child; left is the next free node once freed */
	int32_t height;       /* a leaf has height 1 */
};

struct book_tree {
	struct book_node *nodes; /* nodes[0] is never used */
	uint32_t cap;            /* slots allocated */
	uint32_t used;           /* slots handed out so far, counting slot 0 */
	uint32_t free;           /* head of the free list, 0 when empty */
	uint32_t nfree;
	uint32_t root;
	size_t count;            /* levels in the tree */
};

struct book {
	int64_t notional;
	struct book_tree side[2];
};

/* A descending (best bid first) walk over a tree that is not modified meanwhile. */
struct book_iter {
	const struct book_tree *t;
	uint32_t stack[BOOK_STACK];
	size_t depth;
};

static const char *const book_errors[] = {
	[BOOK_OK] = "ok",
	[BOOK_ENEGATIVE] = "delta drives a level below zero",
	[BOOK_EINVAL] = "invalid price or size",
	[BOOK_ENOMEM] = "out of memory",
};

static void
tree_init(struct book_tree *t)
{
	memset(t, 0, sizeof(*t));
	t->used = 1;
}

/* Forgets every level but keeps the array for reuse. */
static void
tree_clear(struct book_tree *t)
{
	t->used = 1;
	t->free = 0;
	t->nfree = 0;
	t->root = 0;
	t->count = 0;
}

/*
 * Makes sure n more nodes can be allocated without moving the array. Returns false when the
 * array cannot grow (out of memory or beyond 32-bit indices); the tree is unchanged then.
 */
static bool
tree_reserve(struct book_tree *t, size_t n)
{
	uint64_t avail = (uint64_t)(t->cap > t->used ? t->cap - t->used : 0) + t->nfree;
	uint64_t need, cap;
	size_t bytes;
	struct book_node *nodes;

	if (avail >= n)
		return true;
	/* the free list gives nfree slots; the rest comes from the tail, which must grow to hold it */
	need = (uint64_t)t->used + (n - t->nfree);
	if (need > UINT32_MAX)
		return false;
	cap = t->cap < BOOK_MIN_CAP ? BOOK_MIN_CAP : t->cap;
	while (cap < need)
		cap *= 2;
	if (cap > UINT32_MAX)
		cap = UINT32_MAX;
	if (__builtin_mul_overflow((size_t)cap, sizeof(*nodes), &bytes))
		return false;
	if ((nodes = realloc(t->nodes, bytes)) == NULL)
		return false;
	t->nodes = nodes;
	t->cap = (uint32_t)cap;
	return true;
}

/* Takes a node from the free list or the unused tail; tree_reserve has made room. */
static uint32_t
tree_alloc(struct book_tree *t, int64_t price, int64_t size)
{
	uint32_t i;
	struct book_node *n;

	if (t->free != 0) {
		i = t->free;
		t->free = t->nodes[i].left;
		t->nfree--;
	} else {
		i = t->used++;
	}
	n = &t->nodes[i];
	n->price = price;
	n->size = size;
	n->left = 0;
	n->right = 0;
	n->height = 1;
	return i;
}

static void
tree_release(struct book_tree *t, uint32_t i)
{
	t->nodes[i].left = t->free;
	t->free = i;
	t->nfree++;
}

static int32_t
tree_height(const struct book_tree *t, uint32_t i)
{
	return i == 0 ? 0 : t->nodes[i].height;
}

static void
tree_fix_height(struct book_tree *t, uint32_t i)
{
	int32_t hl = tree_height(t, t->nodes[i].left);
	int32_t hr = tree_height(t, t->nodes[i].right);

	t->nodes[i].height = (hl > hr ? hl : hr) + 1;
}

static uint32_t
tree_rotate_right(struct book_tree *t, uint32_t i)
{
	uint32_t l = t->nodes[i].left;

	t->nodes[i].left = t->nodes[l].right;
	t->nodes[l].right = i;
	tree_fix_height(t, i);
	tree_fix_height(t, l);
	return l;
}

static uint32_t
tree_rotate_left(struct book_tree *t, uint32_t i)
{
	uint32_t r = t->nodes[i].right;

	t->nodes[i].right = t->nodes[r].left;
	t->nodes[r].left = i;
	tree_fix_height(t, i);
	tree_fix_height(t, r);
	return r;
}

/*
 * Restores the AVL property at i, whose subtrees are balanced and differ in height by at most
 * two, and returns the index of the subtree's new root.
 */
static uint32_t
tree_balance(struct book_tree *t, uint32_t i)
{
	uint32_t l = t->nodes[i].left, r = t->nodes[i].right;
	int32_t diff = tree_height(t, l) - tree_height(t, r);

	if (diff > 1) {
		if (tree_height(t, t->nodes[l].left) < tree_height(t, t->nodes[l].right))
			t->nodes[i].left = tree_rotate_left(t, l);
		return tree_rotate_right(t, i);
	}
	if (diff < -1) {
		if (tree_height(t, t->nodes[r].right) < tree_height(t, t->nodes[r].left))
			t->nodes[i].right = tree_rotate_right(t, r);
		return tree_rotate_left(t, i);
	}
	tree_fix_height(t, i);
	return i;
}

/* Links node fresh, whose price is not in the subtree at i yet, and returns the new root. */
static uint32_t
tree_insert(struct book_tree *t, uint32_t i, uint32_t fresh)
{
	uint32_t child;

	if (i == 0)
		return fresh;
	if (t->nodes[fresh].price < t->nodes[i].price) {
		child = tree_insert(t, t->nodes[i].left, fresh);
		t->nodes[i].left = child;
	} else {
		child = tree_insert(t, t->nodes[i].right, fresh);
		t->nodes[i].right = child;
	}
	return tree_balance(t, i);
}

/* Unlinks the lowest node of the subtree at i into *min and returns the new root. */
static uint32_t
tree_remove_min(struct book_tree *t, uint32_t i, uint32_t *min)
{
	uint32_t child;

	if (t->nodes[i].left == 0) {
		*min = i;
		return t->nodes[i].right;
	}
	child = tree_remove_min(t, t->nodes[i].left, min);
	t->nodes[i].left = child;
	return tree_balance(t, i);
}

/*
 * Removes the node at price, which the subtree at i must hold, frees it and returns the new
 * root. A node with two children is replaced by the lowest node of its right subtree.
 */
static uint32_t
tree_remove(struct book_tree *t, uint32_t i, int64_t price)
{
	uint32_t l = t->nodes[i].left, r = t->nodes[i].right, m = 0;

	if (price < t->nodes[i].price) {
		l = tree_remove(t, l, price);
		t->nodes[i].left = l;
	} else if (price > t->nodes[i].price) {
		r = tree_remove(t, r, price);
		t->nodes[i].right = r;
	} else {
		tree_release(t, i);
		if (l == 0)
			return r;
		if (r == 0)
			return l;
		r = tree_remove_min(t, r, &m);
		t->nodes[m].left = l;
		t->nodes[m].right = r;
		i = m;
	}
	return tree_balance(t, i);
}

/* The node holding price, or 0. */
static uint32_t
tree_find(const struct book_tree *t, int64_t price)
{
	uint32_t i = t->root;

	while (i != 0 && t->nodes[i].price != price)
		i = price < t->nodes[i].price ? t->nodes[i].left : t->nodes[i].right;
	return i;
}

/* The highest-priced node, or 0 for an empty tree. */
static uint32_t
tree_max(const struct book_tree *t)
{
	uint32_t i = t->root;

	while (i != 0 && t->nodes[i].right != 0)
		i = t->nodes[i].right;
	return i;
}

static void
iter_push_right(struct book_iter *it, uint32_t i)
{
	for (; i != 0 && it->depth < BOOK_STACK; i = it->t->nodes[i].right)
		it->stack[it->depth++] = i;
}

static void
iter_init(struct book_iter *it, const struct book_tree *t)
{
	it->t = t;
	it->depth = 0;
	iter_push_right(it, t->root);
}

/* The next node in descending price order, or NULL at the end. */
static const struct book_node *
iter_next(struct book_iter *it)
{
	const struct book_node *n;

	if (it->depth == 0)
		return NULL;
	n = &it->t->nodes[it->stack[--it->depth]];
	iter_push_right(it, n->left);
	return n;
}

static struct book_tree *
book_tree(struct book *b, enum book_side side)
{
	return side == BOOK_YES || side == BOOK_NO ? &b->side[side] : NULL;
}

static const struct book_tree *
book_ctree(const struct book *b, enum book_side side)
{
	return side == BOOK_YES || side == BOOK_NO ? &b->side[side] : NULL;
}

struct book *
book_new(int64_t notional)
{
	struct book *b;

	if ((b = malloc(sizeof(*b))) == NULL)
		return NULL;
	b->notional = notional;
	tree_init(&b->side[BOOK_YES]);
	tree_init(&b->side[BOOK_NO]);
	return b;
}

void
book_free(struct book *b)
{
	if (b == NULL)
		return;
	free(b->side[BOOK_YES].nodes);
	free(b->side[BOOK_NO].nodes);
	free(b);
}

void
book_clear(struct book *b)
{
	tree_clear(&b->side[BOOK_YES]);
	tree_clear(&b->side[BOOK_NO]);
}

int64_t
book_notional(const struct book *b)
{
	return b->notional;
}

/* Inserts the levels of one side of a snapshot into its (empty) tree. */
static enum book_err
book_load_side(struct book *b, struct book_tree *t, const struct book_level *lv, size_t n)
{
	if (n == 0)
		return BOOK_OK;
	if (lv == NULL)
		return BOOK_EINVAL;
	if (!tree_reserve(t, n))
		return BOOK_ENOMEM;
	for (size_t k = 0; k < n; k++) {
		if (lv[k].price < 0 || lv[k].price > b->notional || lv[k].size <= 0)
			return BOOK_EINVAL;
		if (tree_find(t, lv[k].price) != 0)
			return BOOK_EINVAL;
		t->root = tree_insert(t, t->root, tree_alloc(t, lv[k].price, lv[k].size));
		t->count++;
	}
	return BOOK_OK;
}

enum book_err
book_apply_snapshot(struct book *b, const struct book_level *yes, size_t n_yes,
    const struct book_level *no, size_t n_no)
{
	enum book_err err;

	book_clear(b);
	if ((err = book_load_side(b, &b->side[BOOK_YES], yes, n_yes)) != BOOK_OK ||
	    (err = book_load_side(b, &b->side[BOOK_NO], no, n_no)) != BOOK_OK)
		book_clear(b);
	return err;
}

/*
 * Besides the cases of the header, a delta that would push a level past INT64_MAX is refused
 * with BOOK_EINVAL and leaves the book unchanged (sizes parsed by fixed.c cannot get there).
 */
enum book_err
book_apply_delta(struct book *b, enum book_side side, int64_t price, int64_t delta)
{
	struct book_tree *t = book_tree(b, side);
	uint32_t i;
	int64_t size;

	if (t == NULL || price < 0 || price > b->notional)
		return BOOK_EINVAL;
	if (delta == 0)
		return BOOK_OK;
	if ((i = tree_find(t, price)) == 0) {
		if (delta < 0)
			return BOOK_ENEGATIVE;
		if (!tree_reserve(t, 1))
			return BOOK_ENOMEM;
		t->root = tree_insert(t, t->root, tree_alloc(t, price, delta));
		t->count++;
		return BOOK_OK;
	}
	if (__builtin_add_overflow(t->nodes[i].size, delta, &size))
		return BOOK_EINVAL;
	if (size < 0)
		return BOOK_ENEGATIVE;
	if (size > 0) {
		t->nodes[i].size = size;
		return BOOK_OK;
	}
	t->root = tree_remove(t, t->root, price);
	t->count--;
	return BOOK_OK;
}

int64_t
book_size_at(const struct book *b, enum book_side side, int64_t price)
{
	const struct book_tree *t = book_ctree(b, side);
	uint32_t i;

	if (t == NULL || (i = tree_find(t, price)) == 0)
		return 0;
	return t->nodes[i].size;
}

size_t
book_levels(const struct book *b, enum book_side side)
{
	const struct book_tree *t = book_ctree(b, side);

	return t == NULL ? 0 : t->count;
}

bool
book_best_bid(const struct book *b, enum book_side side, struct book_level *out)
{
	const struct book_tree *t = book_ctree(b, side);
	uint32_t i;

	if (t == NULL || (i = tree_max(t)) == 0)
		return false;
	if (out != NULL) {
		out->price = t->nodes[i].price;
		out->size = t->nodes[i].size;
	}
	return true;
}

/* The ask of a side is the other side's best bid seen from this side: notional - its price. */
bool
book_best_ask(const struct book *b, enum book_side side, struct book_level *out)
{
	struct book_level bid;

	if (side != BOOK_YES && side != BOOK_NO)
		return false;
	if (!book_best_bid(b, side == BOOK_YES ? BOOK_NO : BOOK_YES, &bid))
		return false;
	if (out != NULL) {
		out->price = b->notional - bid.price;
		out->size = bid.size;
	}
	return true;
}

/*
 * Walks down from the best bid and fills out from the end, so the copy comes out ascending
 * while only the max best levels are visited.
 */
size_t
book_copy_levels(const struct book *b, enum book_side side, struct book_level *out, size_t max)
{
	const struct book_tree *t = book_ctree(b, side);
	const struct book_node *n;
	struct book_iter it;
	size_t k;

	if (t == NULL || out == NULL)
		return 0;
	k = t->count < max ? t->count : max;
	iter_init(&it, t);
	for (size_t j = k; j > 0 && (n = iter_next(&it)) != NULL; j--) {
		out[j - 1].price = n->price;
		out[j - 1].size = n->size;
	}
	return k;
}

static bool
tree_equal(const struct book_tree *a, const struct book_tree *b)
{
	struct book_iter ia, ib;
	const struct book_node *na, *nb;

	if (a->count != b->count)
		return false;
	iter_init(&ia, a);
	iter_init(&ib, b);
	while ((na = iter_next(&ia)) != NULL && (nb = iter_next(&ib)) != NULL) {
		if (na->price != nb->price || na->size != nb->size)
			return false;
	}
	return true;
}

bool
book_equal(const struct book *a, const struct book *b)
{
	return tree_equal(&a->side[BOOK_YES], &b->side[BOOK_YES]) &&
	    tree_equal(&a->side[BOOK_NO], &b->side[BOOK_NO]);
}

/* Copies the used part of a tree's array, free list included; indices stay valid. */
static bool
tree_copy(struct book_tree *dst, const struct book_tree *src)
{
	tree_init(dst);
	if (src->used <= 1)
		return true;
	if ((dst->nodes = malloc((size_t)src->used * sizeof(*dst->nodes))) == NULL)
		return false;
	memcpy(dst->nodes, src->nodes, (size_t)src->used * sizeof(*dst->nodes));
	dst->cap = src->used;
	dst->used = src->used;
	dst->free = src->free;
	dst->nfree = src->nfree;
	dst->root = src->root;
	dst->count = src->count;
	return true;
}

struct book *
book_clone(const struct book *b)
{
	struct book *c;

	if ((c = book_new(b->notional)) == NULL)
		return NULL;
	if (!tree_copy(&c->side[BOOK_YES], &b->side[BOOK_YES]) ||
	    !tree_copy(&c->side[BOOK_NO], &b->side[BOOK_NO])) {
		book_free(c);
		return NULL;
	}
	return c;
}

const char *
book_strerror(enum book_err err)
{
	if ((size_t)err >= sizeof(book_errors) / sizeof(book_errors[0]))
		return "unknown error";
	return book_errors[err];
}

long
book_apply_text(struct book *b, const char *p, bool *broken)
{
	long n = 0;

	while (*p != '\0') {
		int64_t v[3];
		char *e = NULL;

		/* three integers: two followed by ',', the last by ';' or the end */
		for (int k = 0; k < 3; k++) {
			bool sep;

			v[k] = strtoll(p, &e, 10);
			sep = k < 2 ? *e == ',' : *e == ';' || *e == '\0';
			if (e == p || !sep)
				return n;
			p = k < 2 ? e + 1 : e;
		}
		if (book_apply_delta(b, v[0] == 0 ? BOOK_YES : BOOK_NO, v[1], v[2]) != BOOK_OK)
			*broken = true;
		n++;
		if (*p == ';')
			p++;
	}
	return n;
}
