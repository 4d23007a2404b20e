/*
 * libFuzzer target for lib/form (urlencoded bodies with bracket notation, as stripe-sim reads
 * Stripe requests). Any input must give either a tree whose leaves are all strings, nested at
 * most FORM_MAX_DEPTH deep with arrays of at most FORM_MAX_INDEX elements, or NULL with a
 * reason; never a crash, leak or out-of-bounds read.
 */
#include <stdint.h>
#include <stdlib.h>

#include <json-c/json.h>

#include "form.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_walk(struct json_object *o, int depth)
{
	if (depth > FORM_MAX_DEPTH)
		abort();
	switch (json_object_get_type(o)) {
	case json_type_string:
		return;
	case json_type_object: {
		json_object_object_foreach(o, k, v) {
			(void)k;
			fuzz_walk(v, depth + 1);
		}
		return;
	}
	case json_type_array:
		if (json_object_array_length(o) > FORM_MAX_INDEX)
			abort();
		for (size_t i = 0; i < json_object_array_length(o); i++)
			fuzz_walk(json_object_array_get_idx(o, i), depth + 1);
		return;
	default:
		/* a NULL hole in an array would be a gap the parser promised to refuse */
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *why = NULL;
	char *param = NULL;
	struct json_object *o = form_parse((const char *)data, size, &why, &param);

	if (o == NULL) {
		if (why == NULL)
			abort();
		free(param);
		return 0;
	}
	if (!json_object_is_type(o, json_type_object))
		abort();
	fuzz_walk(o, 0);
	json_object_put(o);
	return 0;
}
