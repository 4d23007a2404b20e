/*
 * Unit tests of lib/stripe_sig: the known-answer vectors of shared/BILLING.md (checked against
 * stripe-node), the header stripe-sim sends, the 300 s tolerance (future timestamps accepted),
 * secret rotation, and every malformed header form: no or bad or repeated t, no v1, only v0,
 * whitespace (never trimmed), unknown keys (ignored), uppercase or short hex, tampered bodies.
 */
#include <stdio.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "stripe_sig.h"
#include "tests.h"

static const char ts_body[] =
    "{\"id\":\"evt_test_1\",\"object\":\"event\",\"type\":\"invoice.paid\",\"data\":{\"object\":"
    "{\"id\":\"in_1\"}}}";
static const char ts_v1_test[] = "3f70d0e199687a181bd375130b4b4f3e0f1bf437ca10763267465d6c40d075d6";
static const char ts_v1_rot[] = "99912f1fdda205a45ab2bb7857c34f935a6dbb8833774d7f24a7c812e8abe248";
static const char ts_v1_nl[] = "bc49f2c3b49f1f14e03e5e7e5662a12cccbe5157d072f87437a5e4b54e49cf76";
static const char *const ts_secrets[] = { "whsec_test_secret" };
static const char *const ts_both[] = { "whsec_rotated_secret", "whsec_test_secret" };

#define T0 INT64_C(1700000000)

static enum stripe_sig_result
ts_verify(const char *hdr, const char *body, int64_t now)
{
	return stripe_sig_verify(hdr, strlen(hdr), body, strlen(body), ts_secrets, 1, now,
	    STRIPE_SIG_TOLERANCE);
}

static void
test_vectors(void)
{
	char hex[65], nl[sizeof(ts_body) + 1];

	CU_ASSERT_EQUAL(strlen(ts_body), 90);
	CU_ASSERT_EQUAL(stripe_sig_v1("whsec_test_secret", "1700000000", 10, ts_body, 90, hex), 0);
	CU_ASSERT_STRING_EQUAL(hex, ts_v1_test);
	CU_ASSERT_EQUAL(stripe_sig_v1("whsec_rotated_secret", "1700000000", 10, ts_body, 90, hex), 0);
	CU_ASSERT_STRING_EQUAL(hex, ts_v1_rot);
	snprintf(nl, sizeof(nl), "%s\n", ts_body);
	CU_ASSERT_EQUAL(stripe_sig_v1("whsec_test_secret", "1700000000", 10, nl, 91, hex), 0);
	CU_ASSERT_STRING_EQUAL(hex, ts_v1_nl);
}

static void
test_header(void)
{
	char hdr[STRIPE_SIG_HEADER_MAX], want[128];
	int n = stripe_sig_header("whsec_test_secret", T0, ts_body, 90, hdr, sizeof(hdr));

	snprintf(want, sizeof(want), "t=1700000000,v1=%s", ts_v1_test);
	CU_ASSERT_EQUAL(n, (int)strlen(want));
	CU_ASSERT_STRING_EQUAL(hdr, want);
	CU_ASSERT_EQUAL(ts_verify(hdr, ts_body, T0), STRIPE_SIG_OK);
	CU_ASSERT_EQUAL(stripe_sig_header("whsec_test_secret", T0, ts_body, 90, hdr, 20), -1);
}

static void
test_tolerance(void)
{
	char hdr[128];

	snprintf(hdr, sizeof(hdr), "t=1700000000,v1=%s", ts_v1_test);
	CU_ASSERT_EQUAL(ts_verify(hdr, ts_body, T0 + 300), STRIPE_SIG_OK);
	CU_ASSERT_EQUAL(ts_verify(hdr, ts_body, T0 + 301), STRIPE_SIG_TOO_OLD);
	/* a timestamp from the future is accepted, as Stripe's libraries do */
	CU_ASSERT_EQUAL(ts_verify(hdr, ts_body, T0 - 86400), STRIPE_SIG_OK);
	/* tolerance 0 turns the check off */
	CU_ASSERT_EQUAL(stripe_sig_verify(hdr, strlen(hdr), ts_body, 90, ts_secrets, 1, T0 + 99999,
	    0), STRIPE_SIG_OK);
}

static void
test_rotation(void)
{
	char hdr[256];

	/* one v1 against two secrets */
	snprintf(hdr, sizeof(hdr), "t=1700000000,v1=%s", ts_v1_test);
	CU_ASSERT_EQUAL(stripe_sig_verify(hdr, strlen(hdr), ts_body, 90, ts_both, 2, T0,
	    STRIPE_SIG_TOLERANCE), STRIPE_SIG_OK);
	snprintf(hdr, sizeof(hdr), "t=1700000000,v1=%s", ts_v1_rot);
	CU_ASSERT_EQUAL(stripe_sig_verify(hdr, strlen(hdr), ts_body, 90, ts_both, 2, T0,
	    STRIPE_SIG_TOLERANCE), STRIPE_SIG_OK);
	CU_ASSERT_EQUAL(ts_verify(hdr, ts_body, T0), STRIPE_SIG_MISMATCH);
	/* several v1: any one matching is enough */
	snprintf(hdr, sizeof(hdr), "t=1700000000,v1=%s,v1=%s", ts_v1_rot, ts_v1_test);
	CU_ASSERT_EQUAL(ts_verify(hdr, ts_body, T0), STRIPE_SIG_OK);
	CU_ASSERT_EQUAL(stripe_sig_verify(hdr, strlen(hdr), ts_body, 90, NULL, 0, T0, 300),
	    STRIPE_SIG_NO_SECRET);
}

/* Copies fmt into out with "%s" replaced by the right v1 and "%.63s" by its first 63 digits. */
static void
ts_fill(char *out, size_t cap, const char *fmt)
{
	size_t o = 0;

	for (const char *p = fmt; *p != '\0' && o + 66 < cap;) {
		if (strncmp(p, "%.63s", 5) == 0) {
			memcpy(out + o, ts_v1_test, 63);
			o += 63;
			p += 5;
		} else if (strncmp(p, "%s", 2) == 0) {
			memcpy(out + o, ts_v1_test, 64);
			o += 64;
			p += 2;
		} else {
			out[o++] = *p++;
		}
	}
	out[o] = '\0';
}

static void
test_malformed(void)
{
	static const struct {
		const char *fmt;  /* %s is the right v1 */
		enum stripe_sig_result want;
	} cases[] = {
		{ "", STRIPE_SIG_NO_TIMESTAMP },
		{ "v1=%s", STRIPE_SIG_NO_TIMESTAMP },
		{ "t=,v1=%s", STRIPE_SIG_NO_TIMESTAMP },
		{ "t=abc,v1=%s", STRIPE_SIG_NO_TIMESTAMP },
		{ "t=+1700000000,v1=%s", STRIPE_SIG_NO_TIMESTAMP },
		{ "t=-1700000000,v1=%s", STRIPE_SIG_NO_TIMESTAMP },
		{ "t=1700000000 ,v1=%s", STRIPE_SIG_NO_TIMESTAMP },
		{ "t=17000000000000000000,v1=%s", STRIPE_SIG_NO_TIMESTAMP },
		{ "t=1700000000,t=1700000000,v1=%s", STRIPE_SIG_NO_TIMESTAMP },
		{ " t=1700000000,v1=%s", STRIPE_SIG_NO_TIMESTAMP },
		{ "T=1700000000,v1=%s", STRIPE_SIG_NO_TIMESTAMP },
		{ "t=1700000000", STRIPE_SIG_NO_SIGNATURE },
		{ "t=1700000000,v0=%s", STRIPE_SIG_NO_SIGNATURE },
		{ "t=1700000000, v1=%s", STRIPE_SIG_NO_SIGNATURE },
		{ "t=1700000000,V1=%s", STRIPE_SIG_NO_SIGNATURE },
		{ "t=1700000000,v2=%s", STRIPE_SIG_NO_SIGNATURE },
		{ "t=1700000000,v1=%s ", STRIPE_SIG_MISMATCH },
		{ "t=1700000000,v1= %s", STRIPE_SIG_MISMATCH },
		{ "t=1700000000,v1=%sa", STRIPE_SIG_MISMATCH },
		{ "t=1700000000,v1=", STRIPE_SIG_MISMATCH },
		{ "t=1700000000,v1=%.63s", STRIPE_SIG_MISMATCH },
		{ "t=1700000001,v1=%s", STRIPE_SIG_MISMATCH },
		{ "t=1700000000,v1=%s=", STRIPE_SIG_MISMATCH },
		/* accepted forms: unknown keys, v0, empty elements and elements without '=' */
		{ "t=1700000000,v1=%s", STRIPE_SIG_OK },
		{ "foo=bar,t=1700000000,v0=abc,v1=%s", STRIPE_SIG_OK },
		{ "v1=%s,t=1700000000", STRIPE_SIG_OK },
		{ "t=1700000000,,junk,v1=%s,", STRIPE_SIG_OK },
		{ "t=1700000000,v1=deadbeef,v1=%s", STRIPE_SIG_OK },
	};
	char hdr[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum stripe_sig_result got;

		ts_fill(hdr, sizeof(hdr), cases[i].fmt);
		got = ts_verify(hdr, ts_body, T0);
		if (got != cases[i].want)
			fprintf(stderr, "case %zu [%s]: %s, want %s\n", i, hdr, stripe_sig_strerror(got),
			    stripe_sig_strerror(cases[i].want));
		CU_ASSERT_EQUAL(got, cases[i].want);
	}
	/* uppercase hex never matches (the libraries compare lowercase text) */
	snprintf(hdr, sizeof(hdr), "t=1700000000,v1=%s", ts_v1_test);
	for (char *p = hdr + 16; *p != '\0'; p++)
		if (*p >= 'a' && *p <= 'f')
			*p = (char)(*p - 'a' + 'A');
	CU_ASSERT_EQUAL(ts_verify(hdr, ts_body, T0), STRIPE_SIG_MISMATCH);
	/* the header length is honoured: a cut header loses its signature */
	snprintf(hdr, sizeof(hdr), "t=1700000000,v1=%s", ts_v1_test);
	CU_ASSERT_EQUAL(stripe_sig_verify(hdr, strlen(hdr) - 1, ts_body, 90, ts_secrets, 1, T0,
	    300), STRIPE_SIG_MISMATCH);
}

static void
test_tampered(void)
{
	char hdr[128], body[sizeof(ts_body)];

	snprintf(hdr, sizeof(hdr), "t=1700000000,v1=%s", ts_v1_test);
	memcpy(body, ts_body, sizeof(body));
	body[20] ^= 1;
	CU_ASSERT_EQUAL(ts_verify(hdr, body, T0), STRIPE_SIG_MISMATCH);
	/* one byte more (a trailing newline) changes the signature */
	CU_ASSERT_EQUAL(stripe_sig_verify(hdr, strlen(hdr), ts_body, 89, ts_secrets, 1, T0, 300),
	    STRIPE_SIG_MISMATCH);
	CU_ASSERT_STRING_EQUAL(stripe_sig_strerror(STRIPE_SIG_TOO_OLD),
	    "timestamp outside the tolerance");
}

int
test_stripe_sig_add(void)
{
	CU_pSuite s = CU_add_suite("stripe_sig", NULL, NULL);

	if (s == NULL ||
	    CU_add_test(s, "BILLING.md vectors", test_vectors) == NULL ||
	    CU_add_test(s, "header", test_header) == NULL ||
	    CU_add_test(s, "tolerance", test_tolerance) == NULL ||
	    CU_add_test(s, "rotation", test_rotation) == NULL ||
	    CU_add_test(s, "malformed headers", test_malformed) == NULL ||
	    CU_add_test(s, "tampered bodies", test_tampered) == NULL)
		return -1;
	return 0;
}
