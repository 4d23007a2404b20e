/*
 * Tests for lib/wsout: frame headers at the length boundaries of RFC 6455 section 5.2 (125/126,
 * 65535/65536), and many frames gathered into one buffer read back by an independent decoder.
 */
#include <stdint.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "tests.h"
#include "wsout.h"

static void
test_header(void)
{
	static const struct {
		size_t n;
		size_t hl;
		unsigned char h[10];
	} cases[] = {
		{ 0, 2, { 0x81, 0 } },
		{ 125, 2, { 0x81, 125 } },
		{ 126, 4, { 0x81, 126, 0x00, 126 } },
		{ 300, 4, { 0x81, 126, 0x01, 0x2c } },
		{ 65535, 4, { 0x81, 126, 0xff, 0xff } },
		{ 65536, 10, { 0x81, 127, 0, 0, 0, 0, 0, 1, 0, 0 } },
		{ 0x123456789a, 10, { 0x81, 127, 0, 0, 0, 0x12, 0x34, 0x56, 0x78, 0x9a } },
	};
	unsigned char h[10];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CU_ASSERT_EQUAL(wsout_header_len(cases[i].n), cases[i].hl);
		memset(h, 0xee, sizeof(h));
		CU_ASSERT_EQUAL(wsout_header(h, WSOUT_TEXT, cases[i].n), cases[i].hl);
		CU_ASSERT_EQUAL(memcmp(h, cases[i].h, cases[i].hl), 0);
	}
	CU_ASSERT_EQUAL(wsout_header(h, WSOUT_PING, 9), 2);
	CU_ASSERT_EQUAL(h[0], 0x89);
	CU_ASSERT_EQUAL(h[1], 9);
}

/* Reads one frame at p (an unmasked, final frame, as a client sees it); returns its size. */
static size_t
decode(const unsigned char *p, size_t avail, int *op, const unsigned char **payload, size_t *n)
{
	size_t hl = 2;

	if (avail < 2 || (p[0] & 0xf0) != 0x80 || (p[1] & 0x80) != 0)
		return 0;
	*op = p[0] & 0x0f;
	*n = p[1] & 0x7f;
	if (*n == 126) {
		*n = (size_t)p[2] << 8 | p[3];
		hl = 4;
	} else if (*n == 127) {
		*n = 0;
		for (int i = 0; i < 8; i++)
			*n = *n << 8 | p[2 + i];
		hl = 10;
	}
	if (hl + *n > avail)
		return 0;
	*payload = p + hl;
	return hl + *n;
}

static void
test_gather(void)
{
	static const size_t sizes[] = { 0, 1, 125, 126, 127, 1000, 65535, 65536, 70000, 3 };
	struct wsout o = { 0 };
	static unsigned char src[70000];
	size_t at = 0;

	for (size_t i = 0; i < 70000; i++)
		src[i] = (unsigned char)(i * 7 + 3);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		CU_ASSERT_EQUAL(wsout_frame(&o, i == 0 ? WSOUT_PING : WSOUT_TEXT, src, sizes[i]), 0);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		const unsigned char *pl = NULL;
		size_t n = 0;
		int op = -1;
		size_t used = decode(o.buf + at, o.len - at, &op, &pl, &n);

		CU_ASSERT_NOT_EQUAL_FATAL(used, 0);
		CU_ASSERT_EQUAL(op, i == 0 ? 0x9 : 0x1);
		CU_ASSERT_EQUAL(n, sizes[i]);
		CU_ASSERT_TRUE(n == 0 || memcmp(pl, src, n) == 0);
		at += used;
	}
	CU_ASSERT_EQUAL(at, o.len);
	wsout_free(&o);
	CU_ASSERT_PTR_NULL(o.buf);
	CU_ASSERT_EQUAL(o.len, 0);
}

int
test_wsout_add(void)
{
	CU_pSuite s = CU_add_suite("wsout", NULL, NULL);

	if (s == NULL || CU_add_test(s, "header", test_header) == NULL ||
	    CU_add_test(s, "gather", test_gather) == NULL)
		return -1;
	return 0;
}
