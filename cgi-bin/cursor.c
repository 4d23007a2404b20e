/*
 * cursor: see cursor.h. The value is what the page's ORDER BY resumes after (a market id, a
 * delta's ts); the tag lets a later format be told apart.
 */
#include <string.h>

#include "cursor.h"

#define CURSOR_TAG "c1"

void
cursor_encode(int64_t v, char buf[CURSOR_BUFSZ])
{
	static const char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
	char tmp[24];
	uint64_t u = (uint64_t)v;
	size_t n = 0;

	do {
		tmp[n++] = digits[u % 36];
		u /= 36;
	} while (u != 0);
	memcpy(buf, CURSOR_TAG, 2);
	for (size_t i = 0; i < n; i++)
		buf[2 + i] = tmp[n - 1 - i];
	buf[2 + n] = '\0';
}

int
cursor_decode(const char *s, int64_t *out)
{
	uint64_t u = 0;
	size_t n = strlen(s);

	if (n < 3 || n > 15 || strncmp(s, CURSOR_TAG, 2) != 0)
		return -1;
	for (size_t i = 2; i < n; i++) {
		const char c = s[i];
		int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'z' ? c - 'a' + 10 : -1;

		if (d < 0 || u > (UINT64_MAX - (uint64_t)d) / 36)
			return -1;
		u = u * 36 + (uint64_t)d;
	}
	if (u > INT64_MAX)
		return -1;
	*out = (int64_t)u;
	return 0;
}
