/*
 * cursor: the API's page cursors, opaque to clients: "c2", the position (a non-negative int64)
 * in base 36, ".", and the cursor's scope in base 36. The scope is a hash of the route and the
 * path segments the cursor was handed out for (params.c), so that a deltas cursor of market A,
 * whose position is an instant, is refused on market B instead of paging it from there and
 * silently skipping its earlier rows. Apart from the parameter checks so that the decoder, which
 * reads what clients send, is fuzzed alone (tests/fuzz/fuzz_cursor.c).
 */
#ifndef KBOOK_CURSOR_H
#define KBOOK_CURSOR_H

#include <stdint.h>

/* "c2" + 13 + "." + 13 digits + NUL */
#define CURSOR_BUFSZ 32

/* Decodes s; returns 0 with *out >= 0 and *scope set, or -1 when s is not a cursor this API
 * hands out (the caller compares the scope). */
int cursor_decode(const char *s, int64_t *out, uint64_t *scope);
/* Encodes v (>= 0) with scope into buf, NUL-terminated. */
void cursor_format(int64_t v, uint64_t scope, char buf[CURSOR_BUFSZ]);

#endif
