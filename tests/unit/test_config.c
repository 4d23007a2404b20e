/*
 * Tests for lib/config: defaults, valid and malformed values, bounds, unknown KBOOK_* variables,
 * and the Markdown table listing every variable.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "config.h"
#include "log.h"
#include "tests.h"

static const char *const vars[] = { "KBOOK_DATABASE_URL", "KBOOK_API_WORKERS", "KBOOK_LOG_LEVEL",
	"KBOOK_API_WORKRS", "KBOOK_API_MAX_BODY" };

static void
clear_env(void)
{
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		unsetenv(vars[i]);
}

static void
test_defaults(void)
{
	char err[256] = "";

	clear_env();
	CU_ASSERT_EQUAL_FATAL(config_load(CFG_API, err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(cfg.database_url, "dbname=kbook");
	CU_ASSERT_EQUAL(cfg.api_workers, 4);
	CU_ASSERT_STRING_EQUAL(cfg.log_level, "info");
	config_free();
}

static void
test_values(void)
{
	char err[256] = "";

	clear_env();
	setenv("KBOOK_DATABASE_URL", "host=/tmp dbname=x", 1);
	setenv("KBOOK_API_WORKERS", "16", 1);
	CU_ASSERT_EQUAL_FATAL(config_load(CFG_API, err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(cfg.database_url, "host=/tmp dbname=x");
	CU_ASSERT_EQUAL(cfg.api_workers, 16);
	config_free();
	clear_env();
}

static void
test_malformed(void)
{
	static const char *const bad[] = { "", "abc", "4x", " 4", "+4", "0", "257", "99999999999999999999",
		"-1", "4.0" };
	char err[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		clear_env();
		setenv("KBOOK_API_WORKERS", bad[i], 1);
		err[0] = '\0';
		CU_ASSERT_EQUAL(config_load(CFG_API, err, sizeof(err)), -1);
		CU_ASSERT_PTR_NOT_NULL(strstr(err, "KBOOK_API_WORKERS"));
		config_free();
	}
	clear_env();
	setenv("KBOOK_LOG_LEVEL", "chatty", 1);
	CU_ASSERT_EQUAL(config_load(CFG_API, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "KBOOK_LOG_LEVEL"));
	config_free();
	clear_env();
	log_set_level(LOG_LVL_INFO);
}

static void
test_unknown(void)
{
	char err[256] = "";

	clear_env();
	setenv("KBOOK_API_WORKRS", "4", 1);
	CU_ASSERT_EQUAL(config_load(CFG_API, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "unknown configuration variable KBOOK_API_WORKRS"));
	config_free();
	clear_env();
	/* a variable of another program is known, and simply not read */
	setenv("KBOOK_API_MAX_BODY", "not-a-number", 1);
	CU_ASSERT_EQUAL(config_load(CFG_COLLECTOR, err, sizeof(err)), 0);
	config_free();
	clear_env();
}

static void
test_markdown(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	config_print_markdown(f);
	fclose(f);
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "| `KBOOK_DATABASE_URL` | `dbname=kbook` | all |"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "| `KBOOK_API_WORKERS` | `4` | api |"));
	free(buf);
}

int
test_config_add(void)
{
	CU_pSuite s = CU_add_suite("config", NULL, NULL);

	if (s == NULL || CU_add_test(s, "defaults", test_defaults) == NULL ||
	    CU_add_test(s, "values", test_values) == NULL ||
	    CU_add_test(s, "malformed values name the variable", test_malformed) == NULL ||
	    CU_add_test(s, "unknown variables", test_unknown) == NULL ||
	    CU_add_test(s, "markdown table", test_markdown) == NULL)
		return -1;
	return 0;
}
