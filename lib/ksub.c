/*
 * ksub: see ksub.h. Arrays grow by doubling (a subscription from 8 markets, a market from 4
 * holders); a table is a list, since a connection holds few subscriptions (one per subscribe
 * command) and sids are looked up once per command, never per message.
 */
#include <stdlib.h>
#include <string.h>

#include "ksub.h"

void
ksub_open(struct ksub_table *t, struct ksub *s)
{
	struct ksub **tail = &t->head;

	while (*tail != NULL)
		tail = &(*tail)->next;
	s->next = NULL;
	s->sid = ++t->next_sid;
	*tail = s;
}

struct ksub *
ksub_find(const struct ksub_table *t, int64_t sid)
{
	for (struct ksub *s = t->head; s != NULL; s = s->next)
		if (s->sid == sid)
			return s;
	return NULL;
}

bool
ksub_holds(const struct ksub *s, const struct ksub_holders *m)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->subs[i] == s)
			return true;
	return false;
}

size_t
ksub_index(const struct ksub *s, const struct ksub_holders *m)
{
	size_t i = 0;

	while (i < s->n_markets && s->markets[i] != m)
		i++;
	return i;
}

int
ksub_add(struct ksub_table *t, struct ksub *s, struct ksub_holders *m)
{
	if (s->n_markets == s->cap_markets) {
		size_t cap = s->cap_markets != 0 ? 2 * s->cap_markets : 8;
		struct ksub_holders **g = realloc(s->markets, cap * sizeof(struct ksub_holders *));

		if (g == NULL)
			return -1;
		s->markets = g;
		s->cap_markets = cap;
	}
	if (m->n == m->cap) {
		size_t cap = m->cap != 0 ? 2 * m->cap : 4;
		struct ksub **g = realloc(m->subs, cap * sizeof(struct ksub *));

		if (g == NULL)
			return -1;
		m->subs = g;
		m->cap = cap;
	}
	s->markets[s->n_markets++] = m;
	m->subs[m->n++] = s;
	t->n_markets++;
	return 0;
}

/* Takes s off m's holders: the last holder fills its place. */
static void
ksub_unhold(const struct ksub *s, struct ksub_holders *m)
{
	for (size_t i = 0; i < m->n; i++) {
		if (m->subs[i] == s) {
			m->subs[i] = m->subs[--m->n];
			return;
		}
	}
}

struct ksub_holders *
ksub_remove(struct ksub_table *t, struct ksub *s, size_t i)
{
	struct ksub_holders *m = s->markets[i];

	memmove(&s->markets[i], &s->markets[i + 1],
	    (s->n_markets - i - 1) * sizeof(struct ksub_holders *));
	s->n_markets--;
	t->n_markets--;
	ksub_unhold(s, m);
	return m;
}

void
ksub_close(struct ksub_table *t, struct ksub *s, void (*released)(struct ksub_holders *m))
{
	struct ksub **pp;

	/* from the end: nothing to move up */
	while (s->n_markets > 0) {
		struct ksub_holders *m = ksub_remove(t, s, s->n_markets - 1);

		if (released != NULL)
			released(m);
	}
	for (pp = &t->head; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	}
	free(s->markets);
	s->markets = NULL;
	s->cap_markets = 0;
	s->next = NULL;
}
