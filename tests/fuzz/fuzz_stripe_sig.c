/*
 * libFuzzer target for lib/stripe_sig's header parser: the input is a Stripe-Signature header,
 * a newline, and the body. Any input must give one of the defined results without a crash,
 * leak or out-of-bounds read; a header this module signs for the same body must verify, and
 * must stop verifying once past the tolerance.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stripe_sig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const secrets[] = { "whsec_test_secret", "whsec_rotated_secret" };
	const uint8_t *nl = memchr(data, '\n', size);
	size_t hlen = nl != NULL ? (size_t)(nl - data) : size;
	const uint8_t *body = nl != NULL ? nl + 1 : data + size;
	size_t blen = size - hlen - (nl != NULL ? 1 : 0);
	char hdr[STRIPE_SIG_HEADER_MAX];
	enum stripe_sig_result r;

	r = stripe_sig_verify((const char *)data, hlen, body, blen, secrets, 2, INT64_C(1700000000),
	    STRIPE_SIG_TOLERANCE);
	if (r > STRIPE_SIG_NO_SECRET || stripe_sig_strerror(r) == NULL)
		abort();
	if (stripe_sig_header(secrets[1], INT64_C(1700000000), body, blen, hdr, sizeof(hdr)) < 0)
		abort();
	if (stripe_sig_verify(hdr, strlen(hdr), body, blen, secrets, 2, INT64_C(1700000000), 300) !=
	    STRIPE_SIG_OK)
		abort();
	if (stripe_sig_verify(hdr, strlen(hdr), body, blen, secrets, 2, INT64_C(1700000301), 300) !=
	    STRIPE_SIG_TOO_OLD)
		abort();
	return 0;
}
