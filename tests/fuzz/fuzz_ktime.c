/*
 * libFuzzer target for the time parser (lib/ktime.c), which reads the API's `at`, `start` and
 * `end` parameters and the feed's `since`. An accepted instant is never negative and survives
 * printing and parsing again unchanged; printing always gives the 27-byte RFC 3339 form.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ktime.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	int64_t us;

	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (kt_parse(s, &us) == 0) {
		char buf[KT_BUFSZ];
		int64_t again;

		if (us < 0)
			abort();
		if (kt_format(us, buf) != 27 || strlen(buf) != 27)
			abort();
		if (kt_parse(buf, &again) != 0 || again != us)
			abort();
	}
	free(s);
	return 0;
}
