/*
 * cliflag: the command-line flags the sims (kalshi-sim, stripe-sim) share: integers (one parser
 * and one message for "--name must be an integer in min..max"), --log-level, and the check that
 * nothing is left after the flags.
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

/*
 * --log-level: sets lib/log's level from arg (debug, info, warn, error). Otherwise prints
 * "<prog>: --log-level is debug, info, warn or error" on stderr and returns -1.
 */
int cliflag_log_level(const char *prog, const char *arg);

/*
 * After getopt_long (first: its optind): 0 when every argument was a flag, else prints
 * "<prog>: unexpected argument X" on stderr and returns -1.
 */
int cliflag_no_operands(const char *prog, int argc, char **argv, int first);

#endif
