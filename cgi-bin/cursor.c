/*
 * cursor: see cursor.h. The position is what the page's ORDER BY resumes after (a market id, a
 * delta's ts); the tag lets a later format be told apart ("c1", which carried no scope, is
 * refused).
 */
#include <string.h>

#include "cursor.h"

#define CURSOR_TAG "c2"

/* Base 36 of u at p; returns the digits written. */
static size_t
base36(uint64_t u, char *p)
{
	static const char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
	char tmp[16];
	size_t n = 0;

	do {
		tmp[n++] = digits[u % 36];
		u /= 36;
	} while (u != 0);
	for (size_t i = 0; i < n; i++)
		p[i] = tmp[n - 1 - i];
	return n;
}

/* Parses base 36 digits s[0..n) into *out; -1 when empty, not base 36 or past 64 bits. */
static int
unbase36(const char *s, size_t n, uint64_t *out)
{
	uint64_t u = 0;

	if (n == 0 || n > 13)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const char c = s[i];
		int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'z' ? c - 'a' + 10 : -1;

		if (d < 0 || u > (UINT64_MAX - (uint64_t)d) / 36)
			return -1;
		u = u * 36 + (uint64_t)d;
	}
	*out = u;
	return 0;
}

void
cursor_format(int64_t v, uint64_t scope, char buf[CURSOR_BUFSZ])
{
	size_t n = 2;

	memcpy(buf, CURSOR_TAG, 2);
	n += base36((uint64_t)v, buf + n);
	buf[n++] = '.';
	n += base36(scope, buf + n);
	buf[n] = '\0';
}

int
cursor_decode(const char *s, int64_t *out, uint64_t *scope)
{
	const char *dot = strchr(s, '.');
	uint64_t u;

	if (strncmp(s, CURSOR_TAG, 2) != 0 || dot == NULL ||
	    unbase36(s + 2, (size_t)(dot - s - 2), &u) != 0 || u > INT64_MAX ||
	    unbase36(dot + 1, strlen(dot + 1), scope) != 0)
		return -1;
	*out = (int64_t)u;
	return 0;
}
