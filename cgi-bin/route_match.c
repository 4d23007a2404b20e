/*
 * route_match: see route_match.h. One pass over pattern and path together; captures are copied
 * only when the caller wants them (the dispatcher matches every row without, then the one found
 * with).
 */
#include <stdlib.h>
#include <string.h>

#include "route_match.h"

int
route_match(const char *pattern, const char *path, char **caps, size_t cap, size_t *ncaps)
{
	const char *p = pattern, *s = path;
	size_t n_caps = 0;
	int rc = 0;

	while (*p != '\0' && *s != '\0') {
		if (*p == '{') {
			const char *pend = strchr(p, '}');
			size_t n = strcspn(s, "/");

			if (pend == NULL || n == 0 || n_caps == cap)
				goto out;
			if (caps != NULL && (caps[n_caps] = strndup(s, n)) == NULL) {
				rc = -1;
				goto out;
			}
			n_caps++;
			p = pend + 1;
			s += n;
		} else if (*p == *s) {
			p++;
			s++;
		} else {
			goto out;
		}
	}
	if (*p == '\0' && *s == '\0')
		rc = 1;
out:
	if (rc != 1 && caps != NULL) {
		for (size_t i = 0; i < n_caps; i++) {
			free(caps[i]);
			caps[i] = NULL;
		}
		n_caps = 0;
	}
	if (ncaps != NULL)
		*ncaps = rc == 1 ? n_caps : 0;
	return rc;
}
