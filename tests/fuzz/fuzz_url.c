/*
 * libFuzzer target for the form-urlencoded grammar (lib/url.c): the query string of every API
 * request. The input, up to its first NUL as FastCGI hands QUERY_STRING over, is read pair by
 * pair; each pair must decode to exactly its raw length less two bytes per escape (so no escape
 * is misread and no NUL slips in), names are never empty, the reader always moves forward, and
 * nothing leaks or reads out of bounds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The decoded length of n raw bytes at s that decoded without error. */
static size_t
fuzz_url_len(const char *s, size_t n)
{
	size_t escapes = 0;

	for (size_t i = 0; i < n; i++)
		if (s[i] == '%')
			escapes++;
	return n - 2 * escapes;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *qs = malloc(size + 1), *whole;
	const char *p, *prev;
	char *name, *value;

	if (qs == NULL)
		return 0;
	memcpy(qs, data, size);
	qs[size] = '\0';
	p = qs;
	for (;;) {
		enum url_next rc;

		prev = p;
		rc = url_form_next(&p, &name, &value);
		if (rc == URL_END) {
			if (*p != '\0' || name != NULL || value != NULL)
				abort();
			break;
		}
		if (p <= prev || p > qs + strlen(qs))
			abort();
		if (rc != URL_PAIR) {
			if (name != NULL || value != NULL)
				abort();
			if (rc != URL_ERR_NAME && rc != URL_ERR_ESCAPE)
				abort();
			break;
		}
		{
			/* the raw pair is what lies between prev (after its '&'s) and p */
			const char *s = prev + strspn(prev, "&");
			size_t seg = (size_t)(p - s);
			const char *eq = memchr(s, '=', seg);
			size_t nlen = eq != NULL ? (size_t)(eq - s) : seg;
			size_t vlen = eq != NULL ? fuzz_url_len(eq + 1, seg - nlen - 1) : 0;

			if (strlen(name) == 0 || strlen(name) != fuzz_url_len(s, nlen))
				abort();
			if (strlen(value) != vlen)
				abort();
		}
		free(name);
		free(value);
	}
	whole = url_decode(qs, strlen(qs));
	if (whole != NULL && strlen(whole) != fuzz_url_len(qs, strlen(qs)))
		abort();
	free(whole);
	free(qs);
	return 0;
}
