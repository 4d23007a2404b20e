/*
 * httpval: values the account routes take from a request, parsed here so that the unit tests and
 * a fuzz target (tests/fuzz/fuzz_httpval.c) reach them: an email address (trimmed, lower-cased,
 * checked) and one cookie of a Cookie header.
 */
#ifndef KBOOK_HTTPVAL_H
#define KBOOK_HTTPVAL_H

#include <stddef.h>

#define EMAIL_MAX 254

/*
 * Writes in lower-cased and without surrounding blanks into out (EMAIL_MAX + 1 bytes) and returns
 * 0 when it is an address kbook accepts: local@domain, at most 64 bytes of printable ASCII
 * without quotes, brackets or separators before the @, a domain of at least two dot-separated
 * labels of letters, digits and inner hyphens (63 bytes each), 254 bytes in all. Else -1.
 * Internationalised addresses are refused rather than half-supported.
 */
int email_normalize(const char *in, char out[EMAIL_MAX + 1]);

/*
 * Finds the cookie name in a Cookie header ("a=b; name=value; c=d", RFC 6265) and copies its value
 * into out (cap bytes with the NUL). Returns 1 when found, 0 when absent, -1 when its value does
 * not fit. The first cookie of that name counts.
 */
int cookie_get(const char *header, const char *name, char *out, size_t cap);

#endif
