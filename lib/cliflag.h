/*
 * cliflag: the command-line flags the sims (kalshi-sim, stripe-sim) share: integers (one parser
 * and one message for "--name must be an integer in min..max", and a table of each program's
 * integer flags), --log-level, and the check that nothing is left after the flags.
 */
#ifndef KBOOK_CLIFLAG_H
#define KBOOK_CLIFLAG_H

#include <stddef.h>
#include <stdint.h>

/*
 * Parses arg (decimal, nothing after it) into *out when it lies in [min, max]. Otherwise prints
 * "<prog>: --<name> must be an integer in min..max" on stderr and returns -1.
 */
int cliflag_int(const char *prog, const char *name, const char *arg, int64_t min, int64_t max,
    int64_t *out);

/*
 * An integer flag of a program's table: getopt_long's value for it, its --name, its bounds, and
 * where its value goes: dst, an integer of size bytes (4: int or uint32_t; 8: int64_t, uint64_t
 * or size_t). The table replaces one case per flag in the program's switch.
 */
struct cliflag_num {
	int opt;
	const char *name;
	int64_t min, max;
	void *dst;
	int size;
};

/*
 * When opt is the flag of one of the n entries of t: parses arg (cliflag_int) into its
 * destination and returns 0, or -1 after the message. Returns 1 when opt is in none of them.
 */
int cliflag_set(const char *prog, const struct cliflag_num *t, size_t n, int opt, const char *arg);

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
