/*
 * httphead: an HTTP/1.1 request head read before libwebsockets sees it (see httphead.h).
 */
#include <string.h>
#include <strings.h>

#include "httphead.h"

size_t
httphead_end(const char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (buf[i] != '\n')
			continue;
		if (i + 1 < len && buf[i + 1] == '\n')
			return i + 2;
		if (i + 2 < len && buf[i + 1] == '\r' && buf[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

/* The end of the line starting at p (its '\n', or end); *next past it. */
static const char *
httphead_line(const char *p, const char *end, const char **next)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));

	*next = nl != NULL ? nl + 1 : end;
	if (nl == NULL)
		nl = end;
	if (nl > p && nl[-1] == '\r')
		nl--;
	return nl;
}

static int
httphead_copy(char *out, size_t cap, const char *s, size_t n)
{
	if (n >= cap || memchr(s, '\0', n) != NULL)
		return -1;
	memcpy(out, s, n);
	out[n] = '\0';
	return 0;
}

int
httphead_target(const char *head, size_t len, char *path, size_t pcap, char *query, size_t qcap)
{
	const char *end = head + len, *next, *eol = httphead_line(head, end, &next);
	const char *t, *te, *q;

	/* METHOD SP target SP version */
	if ((t = memchr(head, ' ', (size_t)(eol - head))) == NULL || t == head)
		return -1;
	t++;
	if ((te = memchr(t, ' ', (size_t)(eol - t))) == NULL || te == t)
		return -1;
	q = memchr(t, '?', (size_t)(te - t));
	if (httphead_copy(path, pcap, t, (size_t)((q != NULL ? q : te) - t)) != 0)
		return -1;
	if (q == NULL)
		return httphead_copy(query, qcap, "", 0);
	return httphead_copy(query, qcap, q + 1, (size_t)(te - q - 1));
}

int
httphead_header(const char *head, size_t len, const char *name, char *out, size_t cap)
{
	const char *end = head + len, *p, *next;
	size_t nlen = strlen(name);

	/* past the request line */
	(void)httphead_line(head, end, &p);
	for (; p < end; p = next) {
		const char *eol = httphead_line(p, end, &next), *v;

		if (eol == p)
			break; /* the blank line */
		if ((size_t)(eol - p) <= nlen || p[nlen] != ':' || strncasecmp(p, name, nlen) != 0)
			continue;
		for (v = p + nlen + 1; v < eol && (*v == ' ' || *v == '\t'); v++)
			;
		while (eol > v && (eol[-1] == ' ' || eol[-1] == '\t'))
			eol--;
		return httphead_copy(out, cap, v, (size_t)(eol - v)) == 0 ? 1 : -1;
	}
	return 0;
}
