/*
 * libFuzzer target for lib/httpval.c: the input is tried as an email address and as a Cookie
 * header. An accepted address must be normalised already (a second pass gives it back unchanged),
 * lower-case, without blanks or control bytes and at most EMAIL_MAX bytes; a found cookie value
 * must be a substring of the header without ';'. Any violation aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "httpval.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), out[EMAIL_MAX + 1], v[64];
	int rc;

	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (email_normalize(s, out) == 0) {
		char again[EMAIL_MAX + 1];

		if (strlen(out) > EMAIL_MAX || email_normalize(out, again) != 0 || strcmp(out, again) != 0)
			abort();
		for (const char *p = out; *p != '\0'; p++)
			if ((*p >= 'A' && *p <= 'Z') || (unsigned char)*p <= ' ' || (unsigned char)*p >= 127)
				abort();
	}
	rc = cookie_get(s, "__Host-kbook_session", v, sizeof(v));
	if (rc == 1 && (strchr(v, ';') != NULL || strstr(s, v) == NULL))
		abort();
	if (rc < -1 || rc > 1)
		abort();
	free(s);
	return 0;
}
