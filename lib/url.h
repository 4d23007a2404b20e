/*
 * url: the form-urlencoded grammar (WHATWG application/x-www-form-urlencoded) of a URL's query
 * string and of an HTML form's body: name=value pairs separated by '&', percent-escapes, '+' for
 * a space. Pure parsing, no I/O, so it is unit-tested and fuzzed alone (tests/fuzz/fuzz_url.c).
 * An encoded NUL (%00) is refused: every decoded string is a C string of what the client sent.
 */
#ifndef KBOOK_URL_H
#define KBOOK_URL_H

#include <stddef.h>

/*
 * Percent-decodes len bytes of s ('+' is a space) into a new string (caller frees). Returns NULL
 * on a malformed escape, an encoded NUL, or out of memory.
 */
char *url_decode(const char *s, size_t len);

enum url_next {
	URL_END = 0,         /* no pair left */
	URL_PAIR = 1,        /* *name and *value set */
	URL_ERR_NAME = -1,   /* a pair without a name ("=x") */
	URL_ERR_ESCAPE = -2, /* a bad percent-escape or an encoded NUL (or out of memory) */
};

/*
 * Reads the next pair of the form-encoded text at *p (NUL-terminated; empty segments are skipped)
 * and moves *p past it. Returns URL_PAIR with *name and *value decoded (caller frees both; a
 * pair without '=' has the value ""), URL_END, or an error with *name and *value NULL.
 */
enum url_next url_form_next(const char **p, char **name, char **value);

#endif
