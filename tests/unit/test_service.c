/*
 * Tests for lib/service's stop signals: SIGTERM and SIGINT set the flag and call the program's
 * hook, interrupt a blocking call instead of restarting it, and SIGPIPE no longer kills.
 */
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/CUnit.h>

#include "service.h"
#include "tests.h"

static volatile sig_atomic_t hook_calls;

static void
hook(void)
{
	hook_calls++;
}

static void
test_signals(void)
{
	struct sigaction sa;

	CU_ASSERT_FALSE(service_stopping());
	service_signals(hook);
	CU_ASSERT_FALSE(service_stopping());
	CU_ASSERT_EQUAL(sigaction(SIGTERM, NULL, &sa), 0);
	CU_ASSERT_EQUAL(sa.sa_flags & SA_RESTART, 0);
	CU_ASSERT_EQUAL(sigaction(SIGPIPE, NULL, &sa), 0);
	CU_ASSERT_TRUE(sa.sa_handler == SIG_IGN);
	kill(getpid(), SIGPIPE); /* ignored: the runner lives on */
	kill(getpid(), SIGTERM);
	CU_ASSERT_TRUE(service_stopping());
	CU_ASSERT_EQUAL(hook_calls, 1);
	kill(getpid(), SIGINT);
	CU_ASSERT_EQUAL(hook_calls, 2);
	/* the runner itself stops on them again */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGPIPE, &sa, NULL);
}

int
test_service_add(void)
{
	CU_pSuite s = CU_add_suite("service", NULL, NULL);

	if (s == NULL || CU_add_test(s, "stop signals", test_signals) == NULL)
		return -1;
	return 0;
}
