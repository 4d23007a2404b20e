/*
 * libFuzzer target for kbook-api's cursor decoder (cgi-bin/cursor.c), which reads the `cursor`
 * query parameter. A decoded cursor is a non-negative int64 with a scope, and formats back to
 * the input when neither number has a leading zero digit, and to a cursor that decodes to the
 * same pair always; any non-negative int64 and scope (taken from the input's first 16 bytes)
 * survive format then decode.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cursor.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Does the base 36 number starting at p have a leading zero (and more digits)? */
static int
leading_zero(const char *p)
{
	return p[0] == '0' && p[1] != '\0' && p[1] != '.';
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), enc[CURSOR_BUFSZ];
	int64_t v, w;
	uint64_t u[2] = { 0, 0 }, scope, scope2;

	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (cursor_decode(s, &v, &scope) == 0) {
		if (v < 0)
			abort();
		cursor_format(v, scope, enc);
		if (cursor_decode(enc, &w, &scope2) != 0 || w != v || scope2 != scope)
			abort();
		if (!leading_zero(s + 2) && !leading_zero(strchr(s, '.') + 1) && strcmp(enc, s) != 0)
			abort();
	}
	memcpy(u, data, size < sizeof(u) ? size : sizeof(u));
	v = (int64_t)(u[0] >> 1);
	cursor_format(v, u[1], enc);
	if (strlen(enc) >= CURSOR_BUFSZ || cursor_decode(enc, &w, &scope2) != 0 || w != v ||
	    scope2 != u[1])
		abort();
	free(s);
	return 0;
}
