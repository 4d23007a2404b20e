/*
 * sbuf: growable text buffers for the messages the sims send and the collector's COPY text. Growth doubles, so building a
 * message costs amortized O(length); one buffer is reused for every message of a burst.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sbuf.h"
#include "log.h"

static bool
sbuf_grow(struct sbuf *b, size_t need)
{
	size_t cap = b->cap == 0 ? 1024 : b->cap;
	char *p;

	if (b->failed)
		return false;
	if (b->len + need + 1 <= b->cap)
		return true;
	while (cap < b->len + need + 1)
		cap *= 2;
	p = realloc(b->p, cap);
	if (p == NULL) {
		b->failed = true;
		return false;
	}
	b->p = p;
	b->cap = cap;
	return true;
}

void
sbuf_reset(struct sbuf *b)
{
	b->len = 0;
	b->failed = false;
	if (b->p != NULL)
		b->p[0] = '\0';
}

void
sbuf_free(struct sbuf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

void
sbuf_add(struct sbuf *b, const char *s, size_t n)
{
	/* nothing to add (s may be NULL then, as lws passes an empty body chunk) */
	if (n == 0)
		return;
	if (!sbuf_grow(b, n))
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

char *
sbuf_room(struct sbuf *b, size_t n)
{
	return sbuf_grow(b, n) ? b->p + b->len : NULL;
}

void
sbuf_used(struct sbuf *b, const char *end)
{
	b->len = (size_t)(end - b->p);
	b->p[b->len] = '\0';
}

const char *
sbuf_text(const struct sbuf *b)
{
	if (b->failed)
		return NULL;
	return b->p != NULL ? b->p : "";
}

void
sbuf_str(struct sbuf *b, const char *s)
{
	sbuf_add(b, s, strlen(s));
}

void
sbuf_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!sbuf_grow(b, 256))
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->failed = true;
		return;
	}
	if ((size_t)n >= b->cap - b->len) {
		if (!sbuf_grow(b, (size_t)n))
			return;
		va_start(ap, fmt);
		vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
	}
	b->len += (size_t)n;
}

void
sbuf_json_str(struct sbuf *b, const char *s)
{
	size_t n = strlen(s) * 6 + 3;

	if (!sbuf_grow(b, n))
		return;
	b->p[b->len++] = '"';
	b->len += log_json_escape(b->p + b->len, b->cap - b->len, s);
	b->p[b->len++] = '"';
	b->p[b->len] = '\0';
}

void
sbuf_html_str(struct sbuf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '&':
			sbuf_str(b, "&amp;");
			break;
		case '<':
			sbuf_str(b, "&lt;");
			break;
		case '>':
			sbuf_str(b, "&gt;");
			break;
		case '"':
			sbuf_str(b, "&quot;");
			break;
		case '\'':
			sbuf_str(b, "&#39;");
			break;
		default:
			sbuf_add(b, s, 1);
			break;
		}
	}
}
