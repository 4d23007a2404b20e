/*
 * backoff: the wait before a retry, doubling from a first wait up to a cap. The outbox senders
 * use it for a row or a mail that failed: kbook-billing from 1 s, kbook-mailer from 5 s, each up
 * to its configured maximum.
 */
#ifndef KBOOK_BACKOFF_H
#define KBOOK_BACKOFF_H

#include <stdint.h>

/*
 * The wait before the next attempt after `attempts` attempts (1 or less: the first wait):
 * first, doubled for each attempt after the first, never above max (in the caller's unit).
 */
int64_t backoff_wait(int attempts, int64_t first, int64_t max);

#endif
