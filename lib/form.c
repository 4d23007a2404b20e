/*
 * form: urlencoded bodies with bracket notation into JSON trees (see form.h). Used by
 * stripe-sim for Stripe's request bodies and query strings; fuzzed by tests/fuzz/fuzz_form.c.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "form.h"

static int
form_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

long
form_decode(const char *s, size_t len, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (c == '+') {
			c = ' ';
		} else if (c == '%') {
			int hi, lo;

			if (i + 2 >= len)
				return -1;
			hi = form_hex(s[i + 1]);
			lo = form_hex(s[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			c = (char)(hi * 16 + lo);
			i += 2;
		}
		if (c == '\0')
			return -1;
		out[o++] = c;
	}
	out[o] = '\0';
	return (long)o;
}

/* True when s (n bytes, n > 0) is all decimal digits. */
static bool
form_digits(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/*
 * The child of container c for segment seg (n bytes), created as an object, an array or (last
 * segment) nothing when absent. kind of the wanted child: 'o' object, 'a' array, 's' scalar slot.
 * For a scalar slot, *slot_key / *slot_idx say where to put the value. Returns the child
 * container (or c itself for a scalar slot), or NULL with *why.
 */
static struct json_object *
form_step(struct json_object *c, const char *seg, size_t n, bool append, char want,
    const char **why, char *keybuf, size_t *slot_idx, bool *slot_is_idx)
{
	struct json_object *child = NULL;

	if (json_object_is_type(c, json_type_array)) {
		size_t len = json_object_array_length(c), idx;

		if (append) {
			idx = len;
		} else {
			if (!form_digits(seg, n) || n > 4) {
				*why = "an array index must be a number";
				return NULL;
			}
			idx = (size_t)strtoul(seg, NULL, 10);
			if (idx > len) {
				*why = "array indexes must be consecutive from 0";
				return NULL;
			}
		}
		if (idx >= FORM_MAX_INDEX) {
			*why = "too many array elements";
			return NULL;
		}
		if (want == 's') {
			*slot_idx = idx;
			*slot_is_idx = true;
			return c;
		}
		child = idx < len ? json_object_array_get_idx(c, idx) : NULL;
		if (child == NULL) {
			child = want == 'a' ? json_object_new_array() : json_object_new_object();
			if (child == NULL || json_object_array_put_idx(c, idx, child) != 0) {
				*why = "out of memory";
				return NULL;
			}
		}
	} else {
		if (append) {
			*why = "[] applies to an array";
			return NULL;
		}
		memcpy(keybuf, seg, n);
		keybuf[n] = '\0';
		if (want == 's') {
			*slot_is_idx = false;
			return c;
		}
		if (!json_object_object_get_ex(c, keybuf, &child)) {
			child = want == 'a' ? json_object_new_array() : json_object_new_object();
			if (child == NULL || json_object_object_add(c, keybuf, child) != 0) {
				*why = "out of memory";
				return NULL;
			}
		}
	}
	if ((want == 'a' && !json_object_is_type(child, json_type_array)) ||
	    (want == 'o' && !json_object_is_type(child, json_type_object))) {
		*why = "a parameter is used both as a value and as a hash or an array";
		return NULL;
	}
	return child;
}

int
form_set(struct json_object *root, const char *name, size_t name_len, const char *value,
    size_t value_len, const char **why)
{
	struct { const char *p; size_t n; bool append; } segs[FORM_MAX_DEPTH];
	size_t n_segs = 0, base = 0, slot_idx = 0, i;
	struct json_object *c = root, *v, *old = NULL;
	char *keybuf = NULL;
	bool slot_is_idx = false;
	int ret = -1;

	while (base < name_len && name[base] != '[')
		base++;
	if (base == 0) {
		*why = "a parameter name is empty";
		return -1;
	}
	segs[n_segs].p = name;
	segs[n_segs].n = base;
	segs[n_segs++].append = false;
	for (i = base; i < name_len;) {
		const char *close;

		if (name[i] != '[') {
			*why = "a parameter name has text after a ']'";
			return -1;
		}
		close = memchr(name + i + 1, ']', name_len - i - 1);
		if (close == NULL) {
			*why = "a parameter name has an unclosed '['";
			return -1;
		}
		if (n_segs == FORM_MAX_DEPTH) {
			*why = "a parameter name nests too deeply";
			return -1;
		}
		segs[n_segs].p = name + i + 1;
		segs[n_segs].n = (size_t)(close - name - i - 1);
		if (memchr(segs[n_segs].p, '[', segs[n_segs].n) != NULL) {
			*why = "a parameter name has a '[' inside brackets";
			return -1;
		}
		segs[n_segs].append = segs[n_segs].n == 0;
		n_segs++;
		i = (size_t)(close - name) + 1;
	}
	keybuf = malloc(name_len + 1);
	if (keybuf == NULL) {
		*why = "out of memory";
		return -1;
	}
	for (i = 0; i < n_segs; i++) {
		char want = 's';

		if (i + 1 < n_segs)
			want = segs[i + 1].append || form_digits(segs[i + 1].p, segs[i + 1].n) ? 'a' : 'o';
		c = form_step(c, segs[i].p, segs[i].n, segs[i].append, want, why, keybuf, &slot_idx,
		    &slot_is_idx);
		if (c == NULL)
			goto out;
	}
	if (slot_is_idx) {
		if (slot_idx < json_object_array_length(c))
			old = json_object_array_get_idx(c, slot_idx);
	} else {
		json_object_object_get_ex(c, keybuf, &old);
	}
	if (old != NULL && !json_object_is_type(old, json_type_string)) {
		*why = "a parameter is used both as a value and as a hash or an array";
		goto out;
	}
	v = json_object_new_string_len(value, (int)value_len);
	if (v == NULL) {
		*why = "out of memory";
		goto out;
	}
	if (slot_is_idx ? json_object_array_put_idx(c, slot_idx, v) != 0 :
	    json_object_object_add(c, keybuf, v) != 0) {
		json_object_put(v);
		*why = "out of memory";
		goto out;
	}
	ret = 0;
out:
	free(keybuf);
	return ret;
}

struct json_object *
form_parse(const char *body, size_t len, const char **why, char **why_param)
{
	struct json_object *root = json_object_new_object();
	const char *p = body, *end = body + len;
	char *name = NULL, *value = NULL;
	size_t pairs = 0;

	if (why_param != NULL)
		*why_param = NULL;
	if (root == NULL) {
		*why = "out of memory";
		return NULL;
	}
	while (p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p)), *eq;
		const char *pend = amp != NULL ? amp : end;
		long nl, vl;

		if (pend == p) {
			p = pend + 1;
			continue;
		}
		if (++pairs > FORM_MAX_PAIRS) {
			*why = "too many parameters";
			goto fail;
		}
		eq = memchr(p, '=', (size_t)(pend - p));
		if (eq == NULL)
			eq = pend;
		name = malloc((size_t)(eq - p) + 1);
		value = malloc((size_t)(pend - eq) + 1);
		if (name == NULL || value == NULL) {
			*why = "out of memory";
			goto fail;
		}
		nl = form_decode(p, (size_t)(eq - p), name);
		vl = eq < pend ? form_decode(eq + 1, (size_t)(pend - eq - 1), value) : 0;
		if (eq == pend)
			value[0] = '\0';
		if (nl < 0 || vl < 0) {
			*why = "the body is not valid application/x-www-form-urlencoded";
			goto fail;
		}
		if (form_set(root, name, (size_t)nl, value, (size_t)vl, why) < 0) {
			if (why_param != NULL) {
				*why_param = name;
				name = NULL;
			}
			goto fail;
		}
		free(name);
		free(value);
		name = value = NULL;
		p = pend + (amp != NULL ? 1 : 0);
	}
	return root;
fail:
	free(name);
	free(value);
	json_object_put(root);
	return NULL;
}
