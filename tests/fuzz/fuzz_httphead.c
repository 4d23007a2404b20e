/*
 * libFuzzer target for lib/httphead.c: the head of every connection to kbook-feedd is read by it
 * before libwebsockets sees the socket, so it takes any bytes a client sends. The end found is
 * within the input and ends with a blank line; the target's path and query, and a header's
 * value, are NUL-terminated within their buffers, hold no NUL of the input, and are no longer
 * than the head; nothing reads out of bounds (ASan) on an unterminated input.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "httphead.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* an exact-size copy, so that a read past the end is caught */
	char *buf = malloc(size > 0 ? size : 1), path[256], query[512], v[128];
	static const char *const names[] = { "x-api-key", "authorization", "upgrade", "x-request-id" };
	size_t end;

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	end = httphead_end(buf, size);
	assert(end <= size);
	if (end > 0)
		assert(end >= 2 && buf[end - 1] == '\n');
	if (end == 0)
		end = size;
	if (httphead_target(buf, end, path, sizeof(path), query, sizeof(query)) == 0)
		assert(strlen(path) + strlen(query) <= end);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (httphead_header(buf, end, names[i], v, sizeof(v)) == 1)
			assert(strlen(v) < end);
	free(buf);
	return 0;
}
