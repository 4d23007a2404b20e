/*
 * cliflag: the integer command-line flags of the sims (kalshi-sim, stripe-sim): one parser and
 * one message for "--name must be an integer in min..max".
 */
#ifndef KBOOK_CLIFLAG_H
#define KBOOK_CLIFLAG_H

#include <stdint.h>

/*
 * Parses arg (decimal, nothing after it) into *out when it lies in [min, max]. Otherwise prints
 * "<prog>: --<name> must be an integer in min..max" on stderr and returns -1.
 */
int cliflag_int(const char *prog, const char *name, const char *arg, int64_t min, int64_t max,
    int64_t *out);

#endif
