/*
 * libFuzzer target for kbook-api's cursor decoder (cgi-bin/cursor.c), which reads the `cursor`
 * query parameter. A decoded cursor is a non-negative int64 that encodes back to the input when
 * the input has no leading zero digit, and to a cursor that decodes to the same value always; any
 * non-negative int64 (taken from the input's first 8 bytes) survives encode then decode.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cursor.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), enc[CURSOR_BUFSZ];
	int64_t v, w;
	uint64_t u = 0;

	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (cursor_decode(s, &v) == 0) {
		if (v < 0)
			abort();
		cursor_encode(v, enc);
		if (cursor_decode(enc, &w) != 0 || w != v)
			abort();
		if ((s[2] != '0' || s[3] == '\0') && strcmp(enc, s) != 0)
			abort();
	}
	memcpy(&u, data, size < sizeof(u) ? size : sizeof(u));
	v = (int64_t)(u >> 1);
	cursor_encode(v, enc);
	if (strlen(enc) > 15 || cursor_decode(enc, &w) != 0 || w != v)
		abort();
	free(s);
	return 0;
}
