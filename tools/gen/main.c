/*
 * kbook-gen: generates recorded orderbook history into Postgres, and replays it as an oracle.
 *
 * Every flag is one row of gen_flags: its name, argument, kind and bounds, where the value goes,
 * which modes accept it, and its help line. getopt_long's table, --help and the validation all
 * come from it. Exit status: 0 success, 1 runtime or database error (or a failed check), 2 bad
 * usage. The database is KBOOK_DATABASE_URL (lib/config, as every kbook program).
 */
#include <getopt.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "gen.h"
#include "log.h"

#define M_GEN        (1u << GEN_MODE_GENERATE)
#define M_REPLAY     (1u << GEN_MODE_REPLAY)
#define M_REPLAY_ALL (1u << GEN_MODE_REPLAY_ALL)
#define M_VERIFY     (1u << GEN_MODE_VERIFY)
#define M_VERIFY_ALL (1u << GEN_MODE_VERIFY_ALL)
#define M_DELETE     (1u << GEN_MODE_DELETE)
#define M_ANY        0xffu

#define GEN_MAX_SPAN (INT64_C(10) * 366 * 86400) /* seconds */
#define GEN_MIN_START (INT64_C(946684800) * GEN_USEC) /* 2000-01-01 */
#define GEN_MAX_END   (INT64_C(4102444800) * GEN_USEC) /* 2100-01-01 */

enum flag_kind {
	FK_INT,     /* integer in min..max into an int64_t */
	FK_SECONDS, /* integer seconds in min..max, stored as us */
	FK_TIME,    /* an instant (when.c) */
	FK_STR,     /* a string kept from argv */
	FK_BOOL,    /* no argument: sets a bool */
	FK_ORDER,   /* time|market */
	FK_MODE,    /* selects a mode; with an argument, the ticker */
	FK_HELP,
};

struct gen_flag {
	const char *name;
	const char *arg;     /* NULL: takes no argument */
	enum flag_kind kind;
	int64_t min, max;
	size_t off;          /* into struct gen_opts */
	unsigned modes;      /* the modes it applies to (FK_MODE: the mode it selects) */
	const char *help;
};

#define O(f) offsetof(struct gen_opts, f)

static const struct gen_flag gen_flags[] = {
	{ "markets", "N", FK_INT, 1, 1000000, O(markets), M_GEN,
	  "markets to create (default 100)" },
	{ "deltas", "N", FK_INT, 0, INT64_C(10000000000), O(deltas), M_GEN,
	  "deltas in total, spread over the markets by a lognormal activity (default 100000)" },
	{ "start", "T", FK_TIME, 0, 0, O(start), M_GEN,
	  "start of the history: RFC 3339 or unix seconds (default 2025-01-01T00:00:00Z)" },
	{ "span", "SECONDS", FK_SECONDS, 1, GEN_MAX_SPAN, O(span), M_GEN,
	  "length of the history (default 86400)" },
	{ "seed", "N", FK_INT, 0, INT64_MAX, O(seed), M_GEN,
	  "random seed: the same flags give the same rows (default 1)" },
	{ "checkpoint-every", "N", FK_INT, 1, 10000000, O(checkpoint_every), M_GEN,
	  "a 'periodic' checkpoint after every N deltas of a market (default 1000)" },
	{ "checkpoint-minutes", "M", FK_INT, 0, 1000000, O(checkpoint_minutes), M_GEN,
	  "and one at every multiple of M minutes (UTC), as the collector (default 1440: daily; 0 off)" },
	{ "gaps", "N", FK_INT, 0, 10000000, O(gaps), M_GEN,
	  "recorded gaps in total, each ended by a 'snapshot' checkpoint (default 0)" },
	{ "events", "N", FK_INT, 1, 1000000, O(events), M_GEN,
	  "events the markets are grouped in, 4 events per series (default markets/5)" },
	{ "ties", NULL, FK_BOOL, 0, 0, O(ties), M_GEN,
	  "cluster ts values: markets share instants, runs of consecutive microseconds" },
	{ "order", "time|market", FK_ORDER, 0, 0, O(order), M_GEN,
	  "row order of the deltas: by ts across markets, as recorded (default), or by market" },
	{ "append", NULL, FK_BOOL, 0, 0, O(append), M_GEN,
	  "add markets to a prefix that has some (numbering continues)" },
	{ "prefix", "P", FK_STR, 1, GEN_PREFIX_MAX, O(prefix), M_GEN | M_VERIFY_ALL | M_DELETE,
	  "ticker prefix: tickers are P-S<series>-<date>E<event>-T<strike> (default GEN)" },
	{ "replay", "TICKER", FK_MODE, 0, 0, O(ticker), M_REPLAY,
	  "oracle: print the book of TICKER at --at T as JSON (brute force from every delta)" },
	{ "at", "T", FK_TIME, 0, 0, O(at), M_REPLAY,
	  "the instant for --replay: RFC 3339 or unix s/ms/us" },
	{ "replay-all", "TICKER", FK_MODE, 0, 0, O(ticker), M_REPLAY_ALL,
	  "oracle: one JSON line per instant of --at-list FILE, in one pass" },
	{ "at-list", "FILE", FK_STR, 1, 4096, O(at_list), M_REPLAY_ALL,
	  "instants for --replay-all, one per line" },
	{ "verify", "TICKER", FK_MODE, 0, 0, O(ticker), M_VERIFY,
	  "check every periodic checkpoint and gap of TICKER against a replay (exit 1 if wrong)" },
	{ "verify-all", NULL, FK_MODE, 0, 0, 0, M_VERIFY_ALL,
	  "--verify every market of --prefix" },
	{ "delete", NULL, FK_MODE, 0, 0, 0, M_DELETE,
	  "delete every market of --prefix with its deltas, checkpoints and gaps" },
	{ "help", NULL, FK_HELP, 0, 0, 0, M_ANY, "this text" },
};

#define NFLAGS (sizeof(gen_flags) / sizeof(gen_flags[0]))

static void
gen_usage(FILE *out)
{
	fprintf(out,
	    "usage: kbook-gen [generation flags]              generate history into Postgres\n"
	    "       kbook-gen --replay TICKER --at T           the book at T (JSON)\n"
	    "       kbook-gen --replay-all TICKER --at-list F  the book at each instant of F\n"
	    "       kbook-gen --verify TICKER | --verify-all [--prefix P]\n"
	    "       kbook-gen --delete --prefix P\n\n");
	for (size_t i = 0; i < NFLAGS; i++) {
		char left[48];

		snprintf(left, sizeof(left), "--%s%s%s", gen_flags[i].name,
		    gen_flags[i].arg ? " " : "", gen_flags[i].arg ? gen_flags[i].arg : "");
		fprintf(out, "  %-26s %s\n", left, gen_flags[i].help);
	}
	fprintf(out, "\nThe database is KBOOK_DATABASE_URL. Exit status: 0 ok, 1 error or failed "
	    "check, 2 bad usage.\nSee docs/kbook-gen.md.\n");
}

/* Says what is wrong with the command line; returns the exit status 2. */
static int gen_bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
gen_bad(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "kbook-gen: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n(kbook-gen --help lists the flags)\n");
	va_end(ap);
	return 2;
}

static int
gen_parse_int(const char *s, int64_t min, int64_t max, int64_t *out)
{
	int64_t v = 0;

	if (*s == '\0')
		return -1;
	for (const char *p = s; *p != '\0'; p++) {
		if (*p < '0' || *p > '9' || v > (INT64_MAX - (*p - '0')) / 10)
			return -1;
		v = v * 10 + (*p - '0');
	}
	if (v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static bool
gen_prefix_ok(const char *p)
{
	size_t n = strlen(p);

	if (n == 0 || n > GEN_PREFIX_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((p[i] >= 'A' && p[i] <= 'Z') || (p[i] >= '0' && p[i] <= '9') ||
		    (p[i] >= 'a' && p[i] <= 'z') || (i > 0 && (p[i] == '-' || p[i] == '.' ||
		    p[i] == '_'))))
			return false;
	return true;
}

/* Stores one flag's argument. Returns 0 or the exit status 2 (after saying why). */
static int
gen_set(struct gen_opts *o, const struct gen_flag *f, const char *arg)
{
	char *dst = (char *)o + f->off;
	int64_t v;

	switch (f->kind) {
	case FK_INT:
	case FK_SECONDS:
		if (gen_parse_int(arg, f->min, f->max, &v) != 0) {
			char lim[64];

			snprintf(lim, sizeof(lim), "an integer in %lld..%lld", (long long)f->min,
			    (long long)f->max);
			fprintf(stderr, "kbook-gen: --%s: \"%s\" is not %s\n", f->name, arg, lim);
			return 2;
		}
		*(int64_t *)(void *)dst = f->kind == FK_SECONDS ? v * GEN_USEC : v;
		return 0;
	case FK_TIME:
		if (gen_time_parse(arg, &v) != 0)
			return gen_bad("--%s: \"%s\" is not an instant (RFC 3339 like "
			    "2025-01-02T03:04:05Z, or unix seconds)", f->name, arg);
		*(int64_t *)(void *)dst = v;
		return 0;
	case FK_MODE:
		if (f->arg == NULL) /* --verify-all, --delete: nothing to keep */
			return 0;
		*(const char **)(void *)dst = arg;
		return 0;
	case FK_STR:
		*(const char **)(void *)dst = arg;
		return 0;
	case FK_BOOL:
		*(bool *)(void *)dst = true;
		return 0;
	case FK_ORDER:
		if (strcmp(arg, "time") == 0)
			o->order = GEN_ORDER_TIME;
		else if (strcmp(arg, "market") == 0)
			o->order = GEN_ORDER_MARKET;
		else
			return gen_bad("--%s: \"%s\" is not time or market", f->name, arg);
		return 0;
	case FK_HELP:
		break;
	}
	return 0;
}

static int
gen_mode_of(unsigned bit)
{
	int m = 0;

	while ((1u << m) != bit)
		m++;
	return m;
}

/*
 * Parses argv into o. Returns -1 to go on, or an exit status (0 after --help, 2 on bad usage).
 */
static int
gen_parse(int argc, char **argv, struct gen_opts *o)
{
	struct option lopts[NFLAGS + 1];
	bool given[NFLAGS];
	const struct gen_flag *mode_flag = NULL;
	int c;

	memset(lopts, 0, sizeof(lopts));
	memset(given, 0, sizeof(given));
	for (size_t i = 0; i < NFLAGS; i++) {
		lopts[i].name = gen_flags[i].name;
		lopts[i].has_arg = gen_flags[i].arg != NULL ? required_argument : no_argument;
		lopts[i].val = 256 + (int)i;
	}
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", lopts, NULL)) != -1) {
		const struct gen_flag *f;

		if (c == '?')
			return gen_bad("unknown flag %s", argv[optind - 1]);
		if (c == ':')
			return gen_bad("%s needs an argument", argv[optind - 1]);
		f = &gen_flags[c - 256];
		if (f->kind == FK_HELP) {
			gen_usage(stdout);
			return 0;
		}
		if (given[c - 256])
			return gen_bad("--%s given twice", f->name);
		given[c - 256] = true;
		if (f->kind == FK_MODE) {
			if (mode_flag != NULL)
				return gen_bad("--%s and --%s exclude each other", mode_flag->name,
				    f->name);
			mode_flag = f;
			o->mode = (enum gen_mode)gen_mode_of(f->modes);
		}
		if (gen_set(o, f, optarg) != 0)
			return 2;
	}
	if (optind < argc)
		return gen_bad("unexpected argument \"%s\"", argv[optind]);
	for (size_t i = 0; i < NFLAGS; i++)
		if (given[i] && gen_flags[i].kind != FK_MODE &&
		    (gen_flags[i].modes & (1u << o->mode)) == 0)
			return gen_bad("--%s does not apply to %s", gen_flags[i].name,
			    mode_flag != NULL ? mode_flag->name : "generation");
	if (o->mode == GEN_MODE_REPLAY && o->at == INT64_MIN)
		return gen_bad("--replay needs --at T");
	if (o->mode == GEN_MODE_REPLAY_ALL && o->at_list == NULL)
		return gen_bad("--replay-all needs --at-list FILE");
	if (!gen_prefix_ok(o->prefix))
		return gen_bad("--prefix \"%s\": 1 to 32 letters, digits, '-', '.' or '_', "
		    "starting with a letter or digit", o->prefix);
	if (o->mode == GEN_MODE_GENERATE) {
		if (o->start < GEN_MIN_START || o->start + o->span > GEN_MAX_END)
			return gen_bad("--start/--span: the history must lie between 2000 and 2100");
		if (o->events > o->markets)
			return gen_bad("--events: more events than markets");
	}
	return -1;
}

int
main(int argc, char **argv)
{
	struct gen_opts o;
	struct db *db = NULL;
	char err[256];
	int status;

	log_init("kbook-gen", LOG_LVL_INFO);
	memset(&o, 0, sizeof(o));
	o.mode = GEN_MODE_GENERATE;
	o.markets = 100;
	o.deltas = 100000;
	o.start = INT64_C(1735689600) * GEN_USEC; /* 2025-01-01T00:00:00Z */
	o.span = 86400 * GEN_USEC;
	o.seed = 1;
	o.checkpoint_every = 1000;
	o.checkpoint_minutes = 1440;
	o.order = GEN_ORDER_TIME;
	o.prefix = "GEN";
	o.at = INT64_MIN;
	if ((status = gen_parse(argc, argv, &o)) >= 0)
		return status;
	if (config_load(CFG_ADMIN, err, sizeof(err)) != 0) {
		fprintf(stderr, "kbook-gen: %s\n", err);
		status = 1;
		goto out;
	}
	status = 1;
	if ((db = db_new(cfg.database_url, (int)cfg.db_connect_timeout, 0)) == NULL ||
	    db_ensure(db) != 0) {
		fprintf(stderr, "kbook-gen: cannot connect to the database (KBOOK_DATABASE_URL)\n");
		goto out;
	}
	switch (o.mode) {
	case GEN_MODE_GENERATE:
		status = gen_run(&o, db);
		break;
	case GEN_MODE_REPLAY:
		status = gen_replay(&o, db);
		break;
	case GEN_MODE_REPLAY_ALL:
		status = gen_replay_all(&o, db);
		break;
	case GEN_MODE_VERIFY:
		status = gen_verify(&o, db);
		break;
	case GEN_MODE_VERIFY_ALL:
		status = gen_verify_all(&o, db);
		break;
	case GEN_MODE_DELETE:
		status = gen_delete(&o, db);
		break;
	}
out:
	db_close(db);
	config_free();
	return status;
}
