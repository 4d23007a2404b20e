/*
 * route_match: the path matcher of the route table (route.h), apart from the dispatcher so that
 * it depends on nothing and is fuzzed alone (tests/fuzz/fuzz_route.c).
 */
#ifndef KBOOK_ROUTE_MATCH_H
#define KBOOK_ROUTE_MATCH_H

#include <stddef.h>

/*
 * Matches path against pattern segment by segment: "{name}" matches one non-empty segment (no
 * '/'), any other character itself. On a match returns 1 and, when caps is not NULL, stores the
 * captured segments there (at most cap; *ncaps of them, each malloc'd: caller frees); a pattern
 * with more than cap captures never matches. Returns 0 when path does not match, -1 when out of
 * memory.
 */
int route_match(const char *pattern, const char *path, char **caps, size_t cap, size_t *ncaps);

#endif
