/*
 * Unit tests of lib/form: Stripe's urlencoded bodies with bracket notation (what stripe-node
 * sends), percent-decoding, arrays by index and by [], and every malformed form: bad escapes,
 * NUL bytes, index gaps, scalar/container conflicts, unbalanced brackets, empty names, depth and
 * count limits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>
#include <json-c/json.h>

#include "form.h"
#include "tests.h"

/* Parses s and returns its JSON text (static buffer) or "ERR:<why>". */
static const char *
tf_parse(const char *s)
{
	static char out[2048];
	const char *why = NULL;
	char *param = NULL;
	struct json_object *o = form_parse(s, strlen(s), &why, &param);

	if (o == NULL) {
		snprintf(out, sizeof(out), "ERR:%s", param != NULL ? param : "");
		free(param);
		return out;
	}
	snprintf(out, sizeof(out), "%s", json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return out;
}

static void
test_ok(void)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
		{ "", "{}" },
		{ "email=a%40b.c&name=A+B", "{\"email\":\"a@b.c\",\"name\":\"A B\"}" },
		{ "metadata[account_id]=7", "{\"metadata\":{\"account_id\":\"7\"}}" },
		{ "line_items[0][price]=p1&line_items[0][quantity]=1&line_items[1][price]=p2",
		    "{\"line_items\":[{\"price\":\"p1\",\"quantity\":\"1\"},{\"price\":\"p2\"}]}" },
		{ "expand[]=a&expand[]=b", "{\"expand\":[\"a\",\"b\"]}" },
		{ "expand[0]=a&expand[1]=b", "{\"expand\":[\"a\",\"b\"]}" },
		{ "a=1&a=2", "{\"a\":\"2\"}" },
		{ "flag&x=", "{\"flag\":\"\",\"x\":\"\"}" },
		{ "&&a=1&&", "{\"a\":\"1\"}" },
		{ "a%5Bb%5D=1", "{\"a\":{\"b\":\"1\"}}" },
		{ "success_url=http%3A%2F%2Fx%2Fok%3Fs%3D%7BCHECKOUT_SESSION_ID%7D",
		    "{\"success_url\":\"http://x/ok?s={CHECKOUT_SESSION_ID}\"}" },
		{ "a=x%3Dy", "{\"a\":\"x=y\"}" },
		{ "payload[value]=5&payload[stripe_customer_id]=cus_1",
		    "{\"payload\":{\"value\":\"5\",\"stripe_customer_id\":\"cus_1\"}}" },
		{ "a[b][c][d]=1", "{\"a\":{\"b\":{\"c\":{\"d\":\"1\"}}}}" },
		{ "a]=1", "{\"a]\":\"1\"}" },
		{ "items[0][price]=p&items[0][price]=q", "{\"items\":[{\"price\":\"q\"}]}" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *got = tf_parse(cases[i].in);

		if (strcmp(got, cases[i].want) != 0)
			fprintf(stderr, "form [%s]: %s, want %s\n", cases[i].in, got, cases[i].want);
		CU_ASSERT_STRING_EQUAL(got, cases[i].want);
	}
}

static void
test_malformed(void)
{
	static const char *const bad[] = {
		"a=%G1", "a=%4", "a=%", "%zz=1", "a=%00", "=x", "[x]=1", "a[2]=x", "a[1]=x",
		"a=1&a[b]=2", "a[b]=1&a=2", "a[b=1", "a[b]c=1", "a[b][=1", "a[0]=1&a[x]=2",
		"a[x]=1&a[]=2", "a[0]=1&a[0][b]=2", "a[]=1&a[0][b]=2", "a[[b]]=1",
		"a[1][2][3][4][5][6][7][8]=1", "a[99999]=1",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *got = tf_parse(bad[i]);

		if (strncmp(got, "ERR:", 4) != 0)
			fprintf(stderr, "form [%s] parsed as %s\n", bad[i], got);
		CU_ASSERT_EQUAL(strncmp(got, "ERR:", 4), 0);
	}
	CU_ASSERT_STRING_EQUAL(tf_parse("a=1&b[c=2"), "ERR:b[c");
}

static void
test_limits(void)
{
	char *big = malloc(20000), *p = big;
	const char *why = NULL;
	struct json_object *o;

	for (int i = 0; i < FORM_MAX_PAIRS + 1; i++)
		p += sprintf(p, "k%d=1&", i);
	o = form_parse(big, strlen(big), &why, NULL);
	CU_ASSERT_PTR_NULL(o);
	CU_ASSERT_STRING_EQUAL(why, "too many parameters");
	/* FORM_MAX_PAIRS appends fill an array to FORM_MAX_INDEX elements, no more */
	p = big;
	for (int i = 0; i < FORM_MAX_PAIRS; i++)
		p += sprintf(p, "e[]=%d&", i);
	o = form_parse(big, strlen(big), &why, NULL);
	CU_ASSERT_PTR_NOT_NULL(o);
	CU_ASSERT_EQUAL(json_object_array_length(json_object_object_get(o, "e")), FORM_MAX_INDEX);
	json_object_put(o);
	p = big;
	for (int i = 0; i < FORM_MAX_INDEX; i++)
		p += sprintf(p, "e[%d]=%d&", i, i);
	o = form_parse(big, strlen(big) - 1, &why, NULL);
	CU_ASSERT_PTR_NOT_NULL(o);
	json_object_put(o);
	free(big);
}

static void
test_decode(void)
{
	char out[32];

	CU_ASSERT_EQUAL(form_decode("a+b%20c", 7, out), 5);
	CU_ASSERT_STRING_EQUAL(out, "a b c");
	CU_ASSERT_EQUAL(form_decode("%e2%82%AC", 9, out), 3);
	CU_ASSERT_STRING_EQUAL(out, "\xe2\x82\xac");
	CU_ASSERT_EQUAL(form_decode("%2", 2, out), -1);
	CU_ASSERT_EQUAL(form_decode("%00", 3, out), -1);
	/* the length is honoured: "%41" cut to "%4" is a bad escape */
	CU_ASSERT_EQUAL(form_decode("%41", 2, out), -1);
}

int
test_form_add(void)
{
	CU_pSuite s = CU_add_suite("form", NULL, NULL);

	if (s == NULL ||
	    CU_add_test(s, "well-formed bodies", test_ok) == NULL ||
	    CU_add_test(s, "malformed bodies", test_malformed) == NULL ||
	    CU_add_test(s, "limits", test_limits) == NULL ||
	    CU_add_test(s, "percent-decoding", test_decode) == NULL)
		return -1;
	return 0;
}
