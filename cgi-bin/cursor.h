/*
 * cursor: the API's page cursors, "c1" then a non-negative int64 in base 36 (lowercase), opaque
 * to clients. Apart from the parameter checks so that the decoder, which reads what clients send,
 * is fuzzed alone (tests/fuzz/fuzz_cursor.c).
 */
#ifndef KBOOK_CURSOR_H
#define KBOOK_CURSOR_H

#include <stdint.h>

#define CURSOR_BUFSZ 24

/* Decodes s; returns 0 with *out >= 0, or -1 when s is not a cursor this API hands out. */
int cursor_decode(const char *s, int64_t *out);
/* Encodes v (>= 0) into buf, NUL-terminated (at most 16 bytes with the NUL). */
void cursor_encode(int64_t v, char buf[CURSOR_BUFSZ]);

#endif
