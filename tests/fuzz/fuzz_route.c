/*
 * libFuzzer target for kbook-api's route matcher (cgi-bin/route_match.c), which reads the request
 * path. An input "pattern\npath" matches path against pattern (the corpus holds the route
 * table's patterns with paths that do and do not match); an input without a newline is matched
 * against itself, which must succeed when it holds no '{'. On a match the captures, put back
 * in the pattern's place, must give the path again, each one non-empty and free of '/'; the
 * answer must not depend on whether captures are wanted.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "route_match.h"

#define FUZZ_CAPS 4

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Checks that pattern with caps substituted is path. */
static void
fuzz_route_rebuild(const char *pattern, const char *path, char **caps, size_t ncaps)
{
	const char *p = pattern, *s = path;
	size_t k = 0;

	while (*p != '\0') {
		if (*p == '{') {
			const char *end = strchr(p, '}');
			size_t n;

			if (end == NULL || k == ncaps)
				abort();
			n = strlen(caps[k]);
			if (n == 0 || strchr(caps[k], '/') != NULL || strncmp(s, caps[k], n) != 0)
				abort();
			s += n;
			k++;
			p = end + 1;
		} else if (*p++ != *s++) {
			abort();
		}
	}
	if (*s != '\0' || k != ncaps)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1), *nl, *caps[FUZZ_CAPS];
	const char *pattern, *path;
	size_t ncaps = 99;
	int rc, rc_bare;

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	if ((nl = strchr(buf, '\n')) != NULL) {
		*nl = '\0';
		pattern = buf;
		path = nl + 1;
	} else {
		pattern = path = buf;
	}
	rc = route_match(pattern, path, caps, FUZZ_CAPS, &ncaps);
	rc_bare = route_match(pattern, path, NULL, FUZZ_CAPS, NULL);
	if (rc < -1 || rc > 1 || (rc != -1 && rc_bare != rc))
		abort();
	if (nl == NULL && strchr(pattern, '{') == NULL && rc != 1)
		abort();
	if (rc == 1) {
		if (ncaps > FUZZ_CAPS)
			abort();
		fuzz_route_rebuild(pattern, path, caps, ncaps);
		for (size_t i = 0; i < ncaps; i++)
			free(caps[i]);
	} else if (ncaps != 0) {
		abort();
	}
	free(buf);
	return 0;
}
