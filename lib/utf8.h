/*
 * utf8: validation of UTF-8 text (RFC 3629: no overlong forms, no surrogates, nothing past
 * U+10FFFF). The API checks every string it is given with it before the text reaches Postgres,
 * which refuses invalid UTF-8 with an error the API would otherwise answer as 503; the logger
 * uses it to escape what is not valid.
 */
#ifndef KBOOK_UTF8_H
#define KBOOK_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* Length of the valid UTF-8 sequence at s (1-4), or 0 when it is not one. NUL-terminated s. */
size_t utf8_len(const unsigned char *s);
/* True when the NUL-terminated s is valid UTF-8 throughout. */
bool utf8_valid(const char *s);

#endif
