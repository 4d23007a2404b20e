/*
 * cliflag: integer command-line flags (see cliflag.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "cliflag.h"
#include "log.h"

int
cliflag_int(const char *prog, const char *name, const char *arg, int64_t min, int64_t max,
    int64_t *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(arg, &end, 10);
	if (errno != 0 || end == arg || *end != '\0' || v < min || v > max) {
		fprintf(stderr, "%s: --%s must be an integer in %lld..%lld\n", prog, name,
		    (long long)min, (long long)max);
		return -1;
	}
	*out = v;
	return 0;
}

int
cliflag_set(const char *prog, const struct cliflag_num *t, size_t n, int opt, const char *arg)
{
	for (size_t i = 0; i < n; i++) {
		int64_t v;

		if (t[i].opt != opt)
			continue;
		if (cliflag_int(prog, t[i].name, arg, t[i].min, t[i].max, &v) < 0)
			return -1;
		if (t[i].size == (int)sizeof(uint32_t))
			*(uint32_t *)t[i].dst = (uint32_t)v;
		else
			*(int64_t *)t[i].dst = v;
		return 0;
	}
	return 1;
}

int
cliflag_log_level(const char *prog, const char *arg)
{
	enum log_level lvl;

	if (log_level_parse(arg, &lvl) < 0) {
		fprintf(stderr, "%s: --log-level is debug, info, warn or error\n", prog);
		return -1;
	}
	log_set_level(lvl);
	return 0;
}

int
cliflag_no_operands(const char *prog, int argc, char **argv, int first)
{
	if (first != argc) {
		fprintf(stderr, "%s: unexpected argument %s\n", prog, argv[first]);
		return -1;
	}
	return 0;
}
