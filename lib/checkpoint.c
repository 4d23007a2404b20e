/*
 * checkpoint: a recorded checkpoint (book_checkpoints' four integer arrays in Postgres text form,
 * "{450000,460000}") loaded into a lib/book. Shared by the API's reconstruction and the feed.
 */
#include <stdlib.h>

#include "checkpoint.h"

/* Parses "{1,2,3}" into at most max integers; returns the count or -1. */
static long
parse_array(const char *s, int64_t *out, long max)
{
	long n = 0;
	char *end;

	if (*s++ != '{')
		return -1;
	if (*s == '}')
		return s[1] == '\0' ? 0 : -1;
	for (;;) {
		if (n == max)
			return -1;
		out[n++] = strtoll(s, &end, 10);
		if (end == s)
			return -1;
		s = end;
		if (*s == '}')
			return s[1] == '\0' ? n : -1;
		if (*s++ != ',')
			return -1;
	}
}

/* Parses one side's two arrays into levels (caller frees *out). Returns the count or -1. */
static long
parse_side(const char *prices, const char *sizes, struct book_level **out)
{
	long cap = 1, np, ns;
	int64_t *p = NULL, *s = NULL;
	struct book_level *lv = NULL;

	for (const char *c = prices; *c != '\0'; c++)
		cap += *c == ',';
	p = malloc((size_t)cap * sizeof(*p));
	s = malloc((size_t)cap * sizeof(*s));
	lv = malloc((size_t)cap * sizeof(*lv));
	np = p != NULL && s != NULL && lv != NULL ? parse_array(prices, p, cap) : -1;
	ns = np >= 0 ? parse_array(sizes, s, cap) : -1;
	if (np < 0 || ns != np) {
		free(lv);
		lv = NULL;
		np = -1;
	} else {
		for (long i = 0; i < np; i++) {
			lv[i].price = p[i];
			lv[i].size = s[i];
		}
	}
	free(p);
	free(s);
	*out = lv;
	return np;
}

int
checkpoint_load(struct book *b, const char *yes_prices, const char *yes_sizes,
    const char *no_prices, const char *no_sizes)
{
	struct book_level *yes = NULL, *no = NULL;
	long ny = parse_side(yes_prices, yes_sizes, &yes);
	long nn = ny >= 0 ? parse_side(no_prices, no_sizes, &no) : -1;
	int rc = -1;

	if (ny >= 0 && nn >= 0 &&
	    book_apply_snapshot(b, yes, (size_t)ny, no, (size_t)nn) == BOOK_OK)
		rc = 0;
	free(yes);
	free(no);
	return rc;
}

