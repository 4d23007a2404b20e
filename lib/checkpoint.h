/*
 * checkpoint: loading a recorded checkpoint into a book.
 */
#ifndef KBOOK_CHECKPOINT_H
#define KBOOK_CHECKPOINT_H

#include "book.h"

/*
 * Parses a checkpoint's level arrays (Postgres text form "{1,2,3}": prices in micro-dollars,
 * sizes in hundredths, one pair of arrays per side) and applies them to b as a snapshot. Returns
 * 0, or -1 on malformed arrays, unequal lengths or levels the book refuses (b is then empty).
 * The strings are borrowed.
 */
int checkpoint_load(struct book *b, const char *yes_prices, const char *yes_sizes,
    const char *no_prices, const char *no_sizes);

#endif
