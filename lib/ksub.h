/*
 * ksub: the subscription table of one WebSocket connection speaking Kalshi's protocol
 * (KALSHI.md sections 3-4), shared by kalshi-sim and kbook-feedd: subscriptions by sid, oldest
 * first, each with its seq counter and the markets it holds in the order they were added; and,
 * on each market, the subscriptions holding it (for the fan-out of a change). Both links are
 * kept together here, so that neither program can update one without the other.
 *
 * The structures are embedded (intrusive): a program's subscription holds a struct ksub, its
 * connection a struct ksub_table, its market a struct ksub_holders; KSUB_OWNER gets the
 * program's struct back from the embedded one. The table allocates only its arrays; the
 * program allocates and frees its subscriptions and markets. Not thread-safe (both programs run
 * one event loop).
 */
#ifndef KBOOK_KSUB_H
#define KBOOK_KSUB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The struct of type that embeds member at ptr. */
#define KSUB_OWNER(ptr, type, member) ((type *)(void *)((char *)(ptr) - offsetof(type, member)))

struct ksub;

/* On a market: the subscriptions holding it (borrowed), in no particular order. */
struct ksub_holders {
	struct ksub **subs;
	size_t n, cap;
};

struct ksub {
	struct ksub *next;            /* in its table, oldest first */
	int64_t sid;
	uint64_t seq;                 /* the last seq used: a message takes ++seq */
	struct ksub_holders **markets; /* the markets held (each one's holders), in order added */
	size_t n_markets, cap_markets;
};

/* On a connection. */
struct ksub_table {
	struct ksub *head;
	int64_t next_sid;             /* the last sid given */
	size_t n_markets;             /* markets held over all its subscriptions */
};

/* Adds s (zeroed by the caller) to t with the next sid, 1 for the first. */
void ksub_open(struct ksub_table *t, struct ksub *s);
/* The subscription sid of t, or NULL. */
struct ksub *ksub_find(const struct ksub_table *t, int64_t sid);
/* True when s holds m (looked up on m's side: a market has few holders, a subscription may
 * hold thousands of markets). */
bool ksub_holds(const struct ksub *s, const struct ksub_holders *m);
/* The position of m among s's markets, or s->n_markets when s does not hold it. */
size_t ksub_index(const struct ksub *s, const struct ksub_holders *m);
/* Appends m to s (the caller checks it is not held yet). Returns 0, or -1 when out of memory
 * (nothing changed). */
int ksub_add(struct ksub_table *t, struct ksub *s, struct ksub_holders *m);
/*
 * Removes the i-th market of s (the later ones move up) and returns it. On the market's side
 * s is replaced by the last holder: a caller walking m->subs backwards may remove the holder it
 * is at without skipping one.
 */
struct ksub_holders *ksub_remove(struct ksub_table *t, struct ksub *s, size_t i);
/*
 * Removes every market of s (calling released(m) after each when not NULL: the market may be
 * freed there) and s from t, and frees s's array. The caller frees s.
 */
void ksub_close(struct ksub_table *t, struct ksub *s, void (*released)(struct ksub_holders *m));

#endif
