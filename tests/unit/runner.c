/*
 * The unit-test runner: registers every suite of the table, runs them verbosely and exits with
 * the number of failed assertions (0 on success), nghttp2 style. A suite name given on the command
 * line runs only that suite.
 */
#include <stdio.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "tests.h"

static const struct {
	const char *name;
	int (*add)(void);
} suites[] = {
	{ "log", test_log_add },
	{ "config", test_config_add },
	{ "fixed", test_fixed_add },
	{ "book", test_book_add },
	{ "db", test_db_add },
	{ "ktime", test_ktime_add },
	{ "checkpoint", test_checkpoint_add },
	{ "kauth", test_kauth_add },
	{ "kmsg", test_kmsg_add },
	{ "kcmd", test_kcmd_add },
	{ "url", test_url_add },
	{ "httphead", test_httphead_add },
	{ "ksub", test_ksub_add },
	{ "collrule", test_collrule_add },
	{ "wsout", test_wsout_add },
	{ "utf8", test_utf8_add },
	{ "accounts", test_accounts_add },
	{ "stripe_sig", test_stripe_sig_add },
	{ "form", test_form_add },
	{ "sbuf", test_sbuf_add },
	{ "service", test_service_add },
	{ "backoff", test_backoff_add },
};

int
main(int argc, char **argv)
{
	unsigned failures;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	for (size_t i = 0; i < sizeof(suites) / sizeof(suites[0]); i++) {
		if (argc > 1 && strcmp(argv[1], suites[i].name) != 0)
			continue;
		if (suites[i].add() != 0) {
			fprintf(stderr, "cannot register suite %s: %s\n", suites[i].name, CU_get_error_msg());
			CU_cleanup_registry();
			return 1;
		}
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failures = CU_get_number_of_failures() + CU_get_number_of_tests_failed() +
	    CU_get_number_of_suites_failed();
	if (CU_get_error() != CUE_SUCCESS)
		failures++;
	CU_cleanup_registry();
	return failures > 255 ? 255 : (int)failures;
}
