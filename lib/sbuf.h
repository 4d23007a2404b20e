/*
 * sbuf: a growable byte buffer for building outgoing text (JSON messages, HTML pages, HTTP
 * bodies); kalshi-sim's messages and stripe-sim's replies share it. The buffer owns its memory;
 * sbuf_free releases it. On allocation failure the buffer is marked failed and later appends
 * do nothing, so callers check failed once at the end: sbuf_text, the way to hand the text on,
 * answers NULL for a failed buffer and its result must be used.
 */
#ifndef KBOOK_SBUF_H
#define KBOOK_SBUF_H

#include <stdbool.h>
#include <stddef.h>

struct sbuf {
	char *p;
	size_t len, cap;
	bool failed;
};

void sbuf_reset(struct sbuf *b);
void sbuf_free(struct sbuf *b);
void sbuf_add(struct sbuf *b, const char *s, size_t n);
void sbuf_str(struct sbuf *b, const char *s);
void sbuf_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/*
 * Room for n more bytes at the end (and a terminating NUL): returns where to write them, or NULL
 * (the buffer marked failed). The writer then calls sbuf_used with the end of what it wrote
 * (at most n bytes past the pointer). For hot loops that format a row by hand (the collector's
 * COPY lines).
 */
char *sbuf_room(struct sbuf *b, size_t n);
void sbuf_used(struct sbuf *b, const char *end);
/* The text (borrowed until the next append), or NULL when an append failed. */
const char *sbuf_text(const struct sbuf *b) __attribute__((warn_unused_result));
/* Appends s as a JSON string, quotes included, escaping as log_json_escape does. */
void sbuf_json_str(struct sbuf *b, const char *s);
/* Appends s escaped for HTML text and attribute values (& < > " '). */
void sbuf_html_str(struct sbuf *b, const char *s);

#endif
