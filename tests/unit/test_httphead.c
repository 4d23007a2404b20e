/*
 * Tests of lib/httphead.c: a websocket handshake's head as feedd reads it before libwebsockets
 * (the end of the head, the target's path and query, headers by name), and the malformed or
 * oversized inputs it must refuse without reading past the bytes given.
 */
#include <string.h>

#include <CUnit/CUnit.h>

#include "httphead.h"
#include "tests.h"

static const char head[] =
    "GET /v1/feed?api_key=kb_abc&x=1 HTTP/1.1\r\n"
    "Host: localhost\r\n"
    "upgrade:  websocket \r\n"
    "X-Api-Key:\tkb_key\r\n"
    "X-API-Key: second\r\n"
    "Empty:\r\n"
    "\r\n"
    "body bytes";

static void
test_end(void)
{
	size_t n = strlen(head);

	CU_ASSERT_EQUAL(httphead_end(head, n), strlen(head) - strlen("body bytes"));
	CU_ASSERT_EQUAL(httphead_end(head, 20), 0);
	CU_ASSERT_EQUAL(httphead_end("GET / HTTP/1.1\n\n", 16), 16);
	CU_ASSERT_EQUAL(httphead_end("GET / HTTP/1.1\r\n\r", 17), 0);
	CU_ASSERT_EQUAL(httphead_end("", 0), 0);
}

static void
test_target(void)
{
	char path[64], query[64], small[8];
	size_t n = httphead_end(head, strlen(head));

	CU_ASSERT_EQUAL(httphead_target(head, n, path, sizeof(path), query, sizeof(query)), 0);
	CU_ASSERT_STRING_EQUAL(path, "/v1/feed");
	CU_ASSERT_STRING_EQUAL(query, "api_key=kb_abc&x=1");
	CU_ASSERT_EQUAL(httphead_target("GET /healthz HTTP/1.1\r\n\r\n", 25, path, sizeof(path),
	    query, sizeof(query)), 0);
	CU_ASSERT_STRING_EQUAL(path, "/healthz");
	CU_ASSERT_STRING_EQUAL(query, "");
	CU_ASSERT_EQUAL(httphead_target(head, n, small, sizeof(small), query, sizeof(query)), -1);
	CU_ASSERT_EQUAL(httphead_target(head, n, path, sizeof(path), small, sizeof(small)), -1);
	CU_ASSERT_EQUAL(httphead_target("GET\r\n\r\n", 7, path, sizeof(path), query, sizeof(query)), -1);
	CU_ASSERT_EQUAL(httphead_target("GET  HTTP/1.1\r\n", 15, path, sizeof(path), query,
	    sizeof(query)), -1);
	CU_ASSERT_EQUAL(httphead_target(" / HTTP/1.1\r\n", 13, path, sizeof(path), query,
	    sizeof(query)), -1);
	/* the request line alone, cut before its version: no second blank */
	CU_ASSERT_EQUAL(httphead_target("GET /x", 6, path, sizeof(path), query, sizeof(query)), -1);
}

static void
test_header(void)
{
	char v[64], small[4];
	size_t n = httphead_end(head, strlen(head));

	CU_ASSERT_EQUAL(httphead_header(head, n, "upgrade", v, sizeof(v)), 1);
	CU_ASSERT_STRING_EQUAL(v, "websocket");
	/* the first of two, any case, blanks trimmed */
	CU_ASSERT_EQUAL(httphead_header(head, n, "x-api-key", v, sizeof(v)), 1);
	CU_ASSERT_STRING_EQUAL(v, "kb_key");
	CU_ASSERT_EQUAL(httphead_header(head, n, "empty", v, sizeof(v)), 1);
	CU_ASSERT_STRING_EQUAL(v, "");
	CU_ASSERT_EQUAL(httphead_header(head, n, "authorization", v, sizeof(v)), 0);
	/* a name that is a prefix of another is not it; the request line is no header */
	CU_ASSERT_EQUAL(httphead_header(head, n, "x-api", v, sizeof(v)), 0);
	CU_ASSERT_EQUAL(httphead_header(head, n, "GET /v1/feed?api_key=kb_abc&x=1 HTTP/1.1", v,
	    sizeof(v)), 0);
	CU_ASSERT_EQUAL(httphead_header(head, n, "host", small, sizeof(small)), -1);
	/* nothing after the blank line counts */
	CU_ASSERT_EQUAL(httphead_header("GET / HTTP/1.1\r\n\r\nA: b\r\n\r\n", 26, "a", v, sizeof(v)), 0);
	/* an encoded NUL in a value is refused */
	CU_ASSERT_EQUAL(httphead_header("GET / HTTP/1.1\r\nA: b\0c\r\n\r\n", 25, "a", v, sizeof(v)), -1);
}

int
test_httphead_add(void)
{
	CU_pSuite s = CU_add_suite("httphead", NULL, NULL);

	if (s == NULL || CU_add_test(s, "end", test_end) == NULL ||
	    CU_add_test(s, "target", test_target) == NULL ||
	    CU_add_test(s, "header", test_header) == NULL)
		return -1;
	return 0;
}
