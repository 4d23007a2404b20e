/*
 * httpval: email addresses and Cookie headers (see httpval.h).
 */
#include <ctype.h>
#include <stdbool.h>
#include <string.h>

#include "httpval.h"

static bool
email_ok(const char *s)
{
	const char *at = strchr(s, '@'), *d;
	size_t local = at != NULL ? (size_t)(at - s) : 0, label = 0;
	bool dot = false;

	if (at == NULL || local == 0 || local > 64 || strchr(at + 1, '@') != NULL)
		return false;
	for (const char *p = s; p < at; p++)
		if (*p <= ' ' || *p >= 127 || strchr("\"(),:;<>[\\]", *p) != NULL)
			return false;
	for (d = at + 1; *d != '\0'; d++) {
		if (*d == '.') {
			if (label == 0 || d[-1] == '-')
				return false;
			dot = true;
			label = 0;
		} else if (isalnum((unsigned char)*d) || (*d == '-' && label > 0)) {
			if (++label > 63)
				return false;
		} else {
			return false;
		}
	}
	return dot && label > 0 && d[-1] != '-';
}

int
email_normalize(const char *in, char out[EMAIL_MAX + 1])
{
	size_t n;

	while (*in == ' ' || *in == '\t')
		in++;
	n = strlen(in);
	while (n > 0 && (in[n - 1] == ' ' || in[n - 1] == '\t'))
		n--;
	if (n == 0 || n > EMAIL_MAX)
		return -1;
	for (size_t i = 0; i < n; i++)
		out[i] = (char)tolower((unsigned char)in[i]);
	out[n] = '\0';
	return email_ok(out) ? 0 : -1;
}

int
cookie_get(const char *header, const char *name, char *out, size_t cap)
{
	size_t nlen = strlen(name);

	for (const char *p = header; p != NULL && *p != '\0';) {
		while (*p == ' ' || *p == ';')
			p++;
		if (strncmp(p, name, nlen) == 0 && p[nlen] == '=') {
			size_t vlen = strcspn(p + nlen + 1, ";");

			if (vlen >= cap)
				return -1;
			memcpy(out, p + nlen + 1, vlen);
			out[vlen] = '\0';
			return 1;
		}
		p = strchr(p, ';');
	}
	return 0;
}
