/*
 * sbuf: a growable byte buffer for building outgoing text (JSON messages, HTML pages, HTTP
 * bodies); kalshi-sim's messages and stripe-sim's replies share it. The buffer owns its memory;
 * sbuf_free releases it. On allocation failure the buffer is marked failed and later appends
 * do nothing, so callers check failed once at the end.
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
/* Appends s as a JSON string, quotes included, escaping as log_json_escape does. */
void sbuf_json_str(struct sbuf *b, const char *s);
/* Appends s escaped for HTML text and attribute values (& < > " '). */
void sbuf_html_str(struct sbuf *b, const char *s);

#endif
