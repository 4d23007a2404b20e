/*
 * store: every object the sim holds, by kind: a json-c object keyed by id (lookup) and an array
 * in creation order (lists), sharing one reference each. Lists are short in a sim (hundreds of
 * objects), so filtering walks the array.
 */
#include <string.h>

#include <sodium.h>

#include "ss.h"

static struct {
	struct json_object *by_id;
	struct json_object *order;
} store[SS_KIND_COUNT];

void
ss_new_id(const char *prefix, char out[64])
{
	static const char base62[] =
	    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	size_t n = strlen(prefix);

	if (n > 39)
		n = 39;
	memcpy(out, prefix, n);
	for (size_t i = 0; i < 24; i++)
		out[n + i] = base62[randombytes_uniform(62)];
	out[n + 24] = '\0';
}

struct json_object *
ss_obj_new(const char *prefix, const char *object, bool with_metadata)
{
	struct json_object *o = json_object_new_object();
	char id[64];

	ss_new_id(prefix, id);
	json_object_object_add(o, "id", json_object_new_string(id));
	json_object_object_add(o, "object", json_object_new_string(object));
	json_object_object_add(o, "created", json_object_new_int64(ss_now()));
	json_object_object_add(o, "livemode", json_object_new_boolean(0));
	if (with_metadata)
		json_object_object_add(o, "metadata", json_object_new_object());
	return o;
}

struct json_object *
ss_store_put(enum ss_kind k, struct json_object *o)
{
	const char *id = ss_jstr(o, "id");

	if (store[k].by_id == NULL) {
		store[k].by_id = json_object_new_object();
		store[k].order = json_object_new_array();
	}
	json_object_array_add(store[k].order, json_object_get(o));
	json_object_object_add(store[k].by_id, id != NULL ? id : "", o);
	return o;
}

struct json_object *
ss_store_get(enum ss_kind k, const char *id)
{
	struct json_object *o = NULL;

	if (id == NULL || store[k].by_id == NULL)
		return NULL;
	return json_object_object_get_ex(store[k].by_id, id, &o) ? o : NULL;
}

struct json_object *
ss_store_all(enum ss_kind k)
{
	if (store[k].order == NULL) {
		store[k].by_id = json_object_new_object();
		store[k].order = json_object_new_array();
	}
	return store[k].order;
}

void
ss_store_free(void)
{
	for (int k = 0; k < SS_KIND_COUNT; k++) {
		json_object_put(store[k].by_id);
		json_object_put(store[k].order);
		store[k].by_id = store[k].order = NULL;
	}
}

const char *
ss_jstr(struct json_object *o, const char *name)
{
	struct json_object *v;

	if (o == NULL || !json_object_object_get_ex(o, name, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

int64_t
ss_jint(struct json_object *o, const char *name)
{
	struct json_object *v;

	if (o == NULL || !json_object_object_get_ex(o, name, &v))
		return 0;
	return json_object_get_int64(v);
}
