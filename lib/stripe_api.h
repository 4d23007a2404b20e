/*
 * stripe_api: kbook's outbound calls to Stripe's API (shared/BILLING.md) with libcurl: form
 * bodies in bracket notation, Authorization: Bearer with the secret key of
 * KBOOK_STRIPE_SECRET_KEY_FILE, an Idempotency-Key on every POST (the same on each retry), the
 * pinned Stripe-Version, the base URL KBOOK_STRIPE_API_BASE. Blocking: never call it with a
 * database transaction open.
 */
#ifndef KBOOK_STRIPE_API_H
#define KBOOK_STRIPE_API_H

#include <stdbool.h>

#include "sbuf.h"

/* The API version kbook is written against (the one stripe-node 18.5.0 pins). */
#define STRIPE_API_VERSION "2025-08-27.basil"

/* Reads the secret key from its file (after config_load). Returns 0, or -1 when none is
 * configured or it cannot be read (logged, without the key). */
int stripe_api_init(void);
/* Whether a key was loaded. */
bool stripe_api_enabled(void);

/* Appends name=value (value percent-encoded, name as is: bracket notation) to a form body. */
void stripe_form_add(struct sbuf *b, const char *name, const char *value);

/*
 * POSTs form to base + path with idem_key. Retries 409, 429, 5xx and transport errors up to
 * tries times in all (waits 250 ms, doubling) with the same key. On return *status is the last
 * HTTP status (0: no answer) and resp holds its body. Returns 0 on a 2xx, -1 otherwise.
 */
int stripe_post(const char *path, const struct sbuf *form, const char *idem_key, int tries,
    long *status, struct sbuf *resp);

/* Whether an HTTP status from Stripe is worth retrying with the same key (0, 409, 429, 5xx). */
bool stripe_retryable(long status);

#endif
