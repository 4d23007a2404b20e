/*
 * The CUnit suites of lib/, one file per module. Each test_<module>_add registers its suite and
 * returns 0, or -1 when CUnit could not (registry errors).
 */
#ifndef KBOOK_TESTS_H
#define KBOOK_TESTS_H

int test_log_add(void);
int test_config_add(void);
int test_fixed_add(void);
int test_book_add(void);
int test_db_add(void);
int test_ktime_add(void);
int test_checkpoint_add(void);
int test_kauth_add(void);
int test_kmsg_add(void);
int test_kcmd_add(void);
int test_url_add(void);
int test_httphead_add(void);
int test_ksub_add(void);
int test_collrule_add(void);
int test_wsout_add(void);
int test_utf8_add(void);
int test_accounts_add(void);
int test_stripe_sig_add(void);
int test_form_add(void);
int test_sbuf_add(void);
int test_service_add(void);
int test_backoff_add(void);

#endif
