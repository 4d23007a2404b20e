/*
 * url: see url.h. Moved out of kbook-api's request reader so that the grammar has one parser
 * (the query string; form bodies) and a fuzz target.
 */
#include <stdlib.h>
#include <string.h>

#include "url.h"

static int
url_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

char *
url_decode(const char *s, size_t len)
{
	char *out = malloc(len + 1), *o = out;

	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '%') {
			int hi, lo;

			if (i + 2 >= len) {
				free(out);
				return NULL;
			}
			hi = url_hexval((unsigned char)s[i + 1]);
			lo = url_hexval((unsigned char)s[i + 2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
				free(out);
				return NULL;
			}
			*o++ = (char)(hi * 16 + lo);
			i += 2;
		} else if (s[i] == '+') {
			*o++ = ' ';
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	return out;
}

enum url_next
url_form_next(const char **p, char **name, char **value)
{
	const char *s = *p, *amp, *eq;
	size_t seglen, nlen;

	*name = *value = NULL;
	if (s == NULL)
		return URL_END;
	while (*s == '&')
		s++;
	if (*s == '\0') {
		*p = s;
		return URL_END;
	}
	amp = strchr(s, '&');
	seglen = amp != NULL ? (size_t)(amp - s) : strlen(s);
	eq = memchr(s, '=', seglen);
	nlen = eq != NULL ? (size_t)(eq - s) : seglen;
	*p = s + seglen;
	if (nlen == 0)
		return URL_ERR_NAME;
	*name = url_decode(s, nlen);
	*value = eq != NULL ? url_decode(eq + 1, seglen - nlen - 1) : strdup("");
	if (*name == NULL || *value == NULL) {
		free(*name);
		free(*value);
		*name = *value = NULL;
		return URL_ERR_ESCAPE;
	}
	return URL_PAIR;
}
