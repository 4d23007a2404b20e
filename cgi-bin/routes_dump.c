/*
 * routes_dump: `kbook-api --routes` prints the route table and the error table as JSON, so the
 * tests can hold the OpenAPI document (static/openapi.json) and the docs to exactly what the
 * dispatcher enforces.
 */
#include <stdio.h>

#include "route.h"

static const char *const type_names[] = {
	[PT_STRING] = "string", [PT_INT] = "integer", [PT_TIME] = "time", [PT_BOOL] = "boolean",
	[PT_ENUM] = "enum", [PT_CURSOR] = "cursor", [PT_LIST] = "list",
};

static const char *const auth_names[] = { [AUTH_NONE] = "none", [AUTH_KEY] = "api_key",
	[AUTH_SESSION] = "session" };

void
routes_dump(FILE *out)
{
	struct json_object *root = json_object_new_object(), *arr = json_object_new_array();
	struct json_object *errs = json_object_new_array();

	for (size_t i = 0; i < routes_count; i++) {
		const struct route *rt = &routes[i];
		struct json_object *o = json_object_new_object(), *ps = json_object_new_array();

		json_object_object_add(o, "method", json_object_new_string(rt->method));
		json_object_object_add(o, "path", json_object_new_string(rt->pattern));
		json_object_object_add(o, "auth", json_object_new_string(auth_names[rt->auth]));
		json_object_object_add(o, "cost", json_object_new_int(rt->cost));
		json_object_object_add(o, "summary", json_object_new_string(rt->summary));
		for (const struct param_spec *p = rt->params; p != NULL && p->name != NULL; p++) {
			struct json_object *po = json_object_new_object();

			json_object_object_add(po, "name", json_object_new_string(p->name));
			json_object_object_add(po, "type", json_object_new_string(type_names[p->type]));
			json_object_object_add(po, "required", json_object_new_boolean(p->required));
			if (p->type == PT_INT || p->type == PT_STRING || p->type == PT_LIST) {
				json_object_object_add(po, "min", json_object_new_int64(p->min));
				json_object_object_add(po, "max", json_object_new_int64(p->max));
			}
			if (p->type == PT_ENUM) {
				struct json_object *ch = json_object_new_array();

				for (const char *const *c = p->choices; *c != NULL; c++)
					json_object_array_add(ch, json_object_new_string(*c));
				json_object_object_add(po, "choices", ch);
			}
			json_object_object_add(po, "help", json_object_new_string(p->help));
			json_object_array_add(ps, po);
		}
		json_object_object_add(o, "params", ps);
		json_object_array_add(arr, o);
	}
	for (int e = 0; e < ERR__COUNT; e++) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "code", json_object_new_string(api_err_code((enum api_err)e)));
		json_object_object_add(o, "status", json_object_new_int(api_err_status((enum api_err)e)));
		json_object_array_add(errs, o);
	}
	json_object_object_add(root, "routes", arr);
	json_object_object_add(root, "errors", errs);
	fprintf(out, "%s\n", json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
	    JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(root);
}
