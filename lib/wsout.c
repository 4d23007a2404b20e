/* wsout: frames gathered into one write (see wsout.h). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wsout.h"

size_t
wsout_header_len(size_t n)
{
	return n < 126 ? 2 : n <= 0xffff ? 4 : 10;
}

size_t
wsout_header(unsigned char *h, enum wsout_opcode op, size_t n)
{
	size_t hl = wsout_header_len(n);

	h[0] = (unsigned char)(0x80 | op);
	if (hl == 2) {
		h[1] = (unsigned char)n;
	} else if (hl == 4) {
		h[1] = 126;
		h[2] = (unsigned char)(n >> 8);
		h[3] = (unsigned char)n;
	} else {
		h[1] = 127;
		for (int i = 0; i < 8; i++)
			h[2 + i] = (unsigned char)((uint64_t)n >> (56 - 8 * i));
	}
	return hl;
}

int
wsout_frame(struct wsout *o, enum wsout_opcode op, const void *payload, size_t n)
{
	size_t need = o->len + wsout_header_len(n) + n;

	if (need > o->cap) {
		size_t cap = o->cap != 0 ? o->cap : 4096;
		unsigned char *b;

		while (cap < need)
			cap *= 2;
		if ((b = realloc(o->buf, cap)) == NULL)
			return -1;
		o->buf = b;
		o->cap = cap;
	}
	o->len += wsout_header(o->buf + o->len, op, n);
	if (n > 0)
		memcpy(o->buf + o->len, payload, n);
	o->len += n;
	return 0;
}

int
wsout_write(struct wsout *o, struct lws *wsi)
{
	size_t n = o->len;

	o->len = 0;
	if (n == 0)
		return 0;
	return lws_write(wsi, o->buf, n, LWS_WRITE_HTTP) < (int)n ? -1 : 0;
}

void
wsout_free(struct wsout *o)
{
	free(o->buf);
	o->buf = NULL;
	o->len = o->cap = 0;
}
