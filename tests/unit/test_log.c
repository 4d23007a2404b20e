/*
 * Tests for lib/log: JSON escaping (quotes, control characters, invalid UTF-8), level parsing,
 * level filtering, and that each line written is one parseable JSON object with the fields.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/CUnit.h>
#include <json-c/json.h>

#include "log.h"
#include "tests.h"

static void
test_escape(void)
{
	char out[64];

	log_json_escape(out, sizeof(out), "plain");
	CU_ASSERT_STRING_EQUAL(out, "plain");
	log_json_escape(out, sizeof(out), "a\"b\\c");
	CU_ASSERT_STRING_EQUAL(out, "a\\\"b\\\\c");
	log_json_escape(out, sizeof(out), "l1\nl2\tx\x01");
	CU_ASSERT_STRING_EQUAL(out, "l1\\nl2\\tx\\u0001");
	log_json_escape(out, sizeof(out), "caf\xc3\xa9");
	CU_ASSERT_STRING_EQUAL(out, "caf\xc3\xa9");
	log_json_escape(out, sizeof(out), "bad\xff\xc3");
	CU_ASSERT_STRING_EQUAL(out, "bad\\ufffd\\ufffd");
	log_json_escape(out, sizeof(out), "\xed\xa0\x80"); /* a UTF-16 surrogate: invalid UTF-8 */
	CU_ASSERT_STRING_EQUAL(out, "\\ufffd\\ufffd\\ufffd");
	/* truncation never splits an escape and always terminates */
	CU_ASSERT_EQUAL(log_json_escape(out, 4, "\"\"\""), 2);
	CU_ASSERT_STRING_EQUAL(out, "\\\"");
}

static void
test_level_parse(void)
{
	enum log_level l = LOG_LVL_ERROR;

	CU_ASSERT_EQUAL(log_level_parse("debug", &l), 0);
	CU_ASSERT_EQUAL(l, LOG_LVL_DEBUG);
	CU_ASSERT_EQUAL(log_level_parse("warn", &l), 0);
	CU_ASSERT_EQUAL(l, LOG_LVL_WARN);
	CU_ASSERT_EQUAL(log_level_parse("WARN", &l), -1);
	CU_ASSERT_EQUAL(log_level_parse("", &l), -1);
	CU_ASSERT_EQUAL(log_level_parse("verbose", &l), -1);
}

/* Runs fn with stderr redirected to a pipe; returns what it wrote (static buffer). */
static const char *
capture(void (*fn)(void))
{
	static char buf[16384];
	int fds[2], saved;
	ssize_t n;

	buf[0] = '\0';
	if (pipe(fds) != 0)
		return buf;
	saved = dup(STDERR_FILENO);
	dup2(fds[1], STDERR_FILENO);
	fn();
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(fds[1]);
	n = read(fds[0], buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	close(fds[0]);
	return buf;
}

static void
emit_lines(void)
{
	log_init("unit", LOG_LVL_INFO);
	log_debug("hidden %d", 1);
	log_info("hello \"%s\"", "world");
	errno = ENOENT;
	log_warn("open %s", "/nope");
}

static void
test_lines(void)
{
	const char *out = capture(emit_lines);
	const char *nl = strchr(out, '\n');
	struct json_object *o1, *o2, *v;
	char first[4096];

	CU_ASSERT_PTR_NULL(strstr(out, "hidden"));
	CU_ASSERT_PTR_NOT_NULL_FATAL(nl);
	snprintf(first, sizeof(first), "%.*s", (int)(nl - out), out);
	o1 = json_tokener_parse(first);
	o2 = json_tokener_parse(nl + 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(o1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(o2);
	CU_ASSERT_TRUE(json_object_object_get_ex(o1, "msg", &v));
	CU_ASSERT_STRING_EQUAL(json_object_get_string(v), "hello \"world\"");
	CU_ASSERT_TRUE(json_object_object_get_ex(o1, "level", &v));
	CU_ASSERT_STRING_EQUAL(json_object_get_string(v), "info");
	CU_ASSERT_TRUE(json_object_object_get_ex(o1, "prog", &v));
	CU_ASSERT_STRING_EQUAL(json_object_get_string(v), "unit");
	CU_ASSERT_TRUE(json_object_object_get_ex(o1, "ts", &v));
	CU_ASSERT_EQUAL(strlen(json_object_get_string(v)), strlen("2026-01-01T00:00:00.000000Z"));
	CU_ASSERT_TRUE(json_object_object_get_ex(o2, "errno", &v));
	CU_ASSERT_STRING_EQUAL(json_object_get_string(v), strerror(ENOENT));
	CU_ASSERT_TRUE(json_object_object_get_ex(o2, "level", &v));
	CU_ASSERT_STRING_EQUAL(json_object_get_string(v), "warn");
	json_object_put(o1);
	json_object_put(o2);
}

int
test_log_add(void)
{
	CU_pSuite s = CU_add_suite("log", NULL, NULL);

	if (s == NULL || CU_add_test(s, "json escape", test_escape) == NULL ||
	    CU_add_test(s, "level parse", test_level_parse) == NULL ||
	    CU_add_test(s, "one JSON object per line", test_lines) == NULL)
		return -1;
	return 0;
}
