/*
 * faults: misbehaviour of the API on chosen routes, armed by POST /_sim/fault or --fault at
 * start-up: 429 (rate limited, nothing done), 500 (nothing done, Stripe-Should-Retry: true),
 * lost (the request is carried out and its idempotent answer saved, but this answer is a 500:
 * the retry with the same key gets the saved answer), slow (the answer is held back ms
 * milliseconds without blocking the loop; a retry with the same key meanwhile gets 409).
 * Each armed fault has a method ("" = any), a path prefix and a count; the first armed fault
 * that matches a request is consumed by it. api.c applies them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ss.h"

#define FAULT_MAX 64

static const struct {
	const char *name;
	enum ss_fault_kind kind;
} fault_kinds[] = {
	{ "429", SS_FAULT_429 },
	{ "500", SS_FAULT_500 },
	{ "slow", SS_FAULT_SLOW },
	{ "lost", SS_FAULT_LOST },
};

static struct {
	enum ss_fault_kind kind;
	char method[8];
	char path[128];
	uint32_t left;
	int64_t ms;
} faults[FAULT_MAX];
static size_t n_faults;

static const char *
fault_name(enum ss_fault_kind k)
{
	for (size_t i = 0; i < sizeof(fault_kinds) / sizeof(fault_kinds[0]); i++)
		if (fault_kinds[i].kind == k)
			return fault_kinds[i].name;
	return "none";
}

int
ss_fault_arm(const char *kind, const char *match, uint32_t count, int64_t ms)
{
	enum ss_fault_kind k = SS_FAULT_NONE;
	const char *sp = strchr(match, ' ');
	size_t slot = n_faults;

	for (size_t i = 0; i < sizeof(fault_kinds) / sizeof(fault_kinds[0]); i++)
		if (strcmp(kind, fault_kinds[i].name) == 0)
			k = fault_kinds[i].kind;
	if (k == SS_FAULT_NONE || count == 0)
		return -1;
	/* reuse a spent slot before growing */
	for (size_t i = 0; i < n_faults; i++)
		if (faults[i].left == 0)
			slot = i;
	if (slot == FAULT_MAX)
		return -1;
	memset(&faults[slot], 0, sizeof(faults[slot]));
	if (sp != NULL && (size_t)(sp - match) < sizeof(faults[slot].method)) {
		memcpy(faults[slot].method, match, (size_t)(sp - match));
		match = sp + 1;
	}
	snprintf(faults[slot].path, sizeof(faults[slot].path), "%s", match);
	faults[slot].kind = k;
	faults[slot].left = count;
	faults[slot].ms = ms;
	if (slot == n_faults)
		n_faults++;
	return 0;
}

void
ss_fault_clear(void)
{
	n_faults = 0;
}

enum ss_fault_kind
ss_fault_take(const char *method, const char *path, int64_t *ms)
{
	for (size_t i = 0; i < n_faults; i++) {
		if (faults[i].left == 0)
			continue;
		if (faults[i].method[0] != '\0' && strcmp(faults[i].method, method) != 0)
			continue;
		if (strncmp(path, faults[i].path, strlen(faults[i].path)) != 0)
			continue;
		faults[i].left--;
		*ms = faults[i].ms;
		return faults[i].kind;
	}
	*ms = 0;
	return SS_FAULT_NONE;
}

int
ss_fault_startup(const char *spec, const char **why)
{
	char *copy = strdup(spec), *save = NULL;
	int ret = 0;

	if (copy == NULL) {
		*why = "out of memory";
		return -1;
	}
	for (char *item = strtok_r(copy, ",", &save); item != NULL;
	    item = strtok_r(NULL, ",", &save)) {
		char *kind = item, *path = strchr(item, ':'), *count = NULL, *ms = NULL;
		unsigned long n = 1000000;
		long long d = 2000;

		if (path != NULL) {
			*path++ = '\0';
			count = strchr(path, ':');
			if (count != NULL) {
				*count++ = '\0';
				ms = strchr(count, ':');
				if (ms != NULL)
					*ms++ = '\0';
			}
		}
		if (count != NULL && *count != '\0')
			n = strtoul(count, NULL, 10);
		if (ms != NULL && *ms != '\0')
			d = strtoll(ms, NULL, 10);
		if (path == NULL || *path != '/' || n == 0 || d < 0 ||
		    ss_fault_arm(kind, path, (uint32_t)n, d) < 0) {
			*why = "each fault is kind:/path-prefix[:count[:ms]] with kind 429, 500, slow or lost";
			ret = -1;
			break;
		}
	}
	free(copy);
	return ret;
}

struct json_object *
ss_fault_report(void)
{
	struct json_object *a = json_object_new_array();

	for (size_t i = 0; i < n_faults; i++) {
		struct json_object *o;

		if (faults[i].left == 0)
			continue;
		o = json_object_new_object();
		json_object_object_add(o, "kind", json_object_new_string(fault_name(faults[i].kind)));
		json_object_object_add(o, "method", json_object_new_string(faults[i].method));
		json_object_object_add(o, "path", json_object_new_string(faults[i].path));
		json_object_object_add(o, "left", json_object_new_int64(faults[i].left));
		json_object_object_add(o, "ms", json_object_new_int64(faults[i].ms));
		json_object_array_add(a, o);
	}
	return a;
}
