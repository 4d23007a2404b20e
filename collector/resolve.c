/*
 * resolve: the REST objects of markets first seen on the socket (a lifecycle message names a
 * market that discovery did not list). The socket thread asks here as it registers the market
 * and queues its row with the ticker only, which the writer writes at once: the market's deltas
 * have an id from the start, and nothing waits for Kalshi. This thread GETs /markets/{ticker} (the
 * REST client's 30 s timeout and its 429 pauses are its own to wait out) and leaves each object
 * for the socket thread's one-second tick (coll_resolve_take), which queues it as an upsert
 * behind every event it queued before (issue 17: the writer used to fetch inside its
 * transaction, and a slow Kalshi stalled every commit). A thread of its own rather than the
 * maintenance thread's: that one checks the advisory lock every 2 s, which a slow Kalshi must
 * not delay. A failed fetch is tried again after 1 s, doubling to 60 s, 12 times (about 8
 * minutes), then left to the periodic re-scan.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "coll.h"
#include "ktime.h"
#include "log.h"

#define RETRY_FIRST_US 1000000
#define RETRY_MAX_US 60000000
#define RETRIES 12

/* A market whose object is owed: fetched when at has passed. */
struct ask {
	char *ticker;         /* owned */
	int fails;
	int64_t at, delay;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static struct ask *asks;          /* under lock; only the thread removes entries */
static size_t n_asks, cap_asks;
static struct json_object *done;  /* fetched objects not taken yet (an array), under lock */
static bool quit, started;
static pthread_t thread;
static const char *rest;

/* GETs /markets/{ticker}: its "market" object (caller puts it), or NULL (logged by rest.c). */
static struct json_object *
fetch(const char *ticker)
{
	char path[300];
	struct json_object *o, *mk = NULL;

	snprintf(path, sizeof(path), "/markets/%s", ticker);
	o = coll_rest_get(rest, path);
	if (o != NULL && json_object_object_get_ex(o, "market", &mk) &&
	    json_object_is_type(mk, json_type_object))
		json_object_get(mk);
	else
		mk = NULL;
	json_object_put(o);
	return mk;
}

/* Drops ask i (under lock). */
static void
drop(size_t i)
{
	free(asks[i].ticker);
	asks[i] = asks[--n_asks];
}

/* The result of fetching ask i (under lock): the object (taken), or NULL for a failure. */
static void
finish(size_t i, struct json_object *mk)
{
	struct ask *a = &asks[i];

	if (mk != NULL) {
		if (a->fails > 0)
			log_info("REST metadata of %s fetched after %d retries", a->ticker, a->fails);
		if (done == NULL)
			done = json_object_new_array();
		json_object_array_add(done, mk);
		drop(i);
		return;
	}
	if (++a->fails > RETRIES) {
		log_errorx("no REST metadata for %s after %d retries: left to the re-scan", a->ticker,
		    a->fails - 1);
		drop(i);
		return;
	}
	a->delay = a->fails == 1 ? RETRY_FIRST_US :
	    a->delay * 2 < RETRY_MAX_US ? a->delay * 2 : RETRY_MAX_US;
	a->at = kt_now() + a->delay;
	log_warnx("no REST metadata for %s yet: fetching it again in %lld ms", a->ticker,
	    (long long)(a->delay / 1000));
}

/* Waits (under lock) until next (kt_now microseconds; INT64_MAX: until woken). */
static void
wait_until(int64_t next)
{
	struct timespec until;
	int64_t wait = next - kt_now();

	if (next == INT64_MAX) {
		pthread_cond_wait(&cond, &lock);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += (time_t)(wait / 1000000);
	until.tv_nsec += (long)(wait % 1000000 * 1000);
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_cond_timedwait(&cond, &lock, &until);
}

static void *
resolve_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&lock);
	while (!quit) {
		int64_t now = kt_now(), next = INT64_MAX;
		size_t due = n_asks;
		struct json_object *mk;
		char *ticker;

		for (size_t i = 0; i < n_asks && due == n_asks; i++) {
			if (asks[i].at <= now)
				due = i;
			else if (asks[i].at < next)
				next = asks[i].at;
		}
		if (due == n_asks) {
			wait_until(next);
			continue;
		}
		/* the entry stays (only this thread drops entries); its ticker string does not move
		 * when coll_resolve_ask grows the array */
		ticker = asks[due].ticker;
		pthread_mutex_unlock(&lock);
		mk = fetch(ticker);
		pthread_mutex_lock(&lock);
		finish(due, mk);
	}
	pthread_mutex_unlock(&lock);
	return NULL;
}

int
coll_resolve_start(const char *rest_base)
{
	rest = rest_base;
	if (rest == NULL || rest[0] == '\0')
		return 0; /* no REST: markets first seen on the socket keep their bare row */
	if (pthread_create(&thread, NULL, resolve_main, NULL) != 0) {
		log_errorx("cannot start the REST resolver thread");
		return -1;
	}
	started = true;
	return 0;
}

void
coll_resolve_ask(const char *ticker)
{
	char *t;

	if (!started || (t = strdup(ticker)) == NULL)
		return;
	pthread_mutex_lock(&lock);
	if (n_asks == cap_asks) {
		size_t cap = cap_asks == 0 ? 16 : cap_asks * 2;
		struct ask *a = realloc(asks, cap * sizeof(*a));

		if (a == NULL) {
			pthread_mutex_unlock(&lock);
			free(t);
			log_errorx("out of memory: no REST metadata for %s until the re-scan", ticker);
			return;
		}
		asks = a;
		cap_asks = cap;
	}
	asks[n_asks++] = (struct ask){ .ticker = t, .at = kt_now() };
	pthread_cond_signal(&cond);
	pthread_mutex_unlock(&lock);
}

void
coll_resolve_take(void (*fn)(struct json_object *market, void *arg), void *arg)
{
	coll_take_each(&lock, &done, fn, arg);
}

void
coll_resolve_stop(void)
{
	if (started) {
		pthread_mutex_lock(&lock);
		quit = true;
		pthread_cond_signal(&cond);
		pthread_mutex_unlock(&lock);
		pthread_join(thread, NULL);
		started = false;
	}
	while (n_asks > 0)
		drop(n_asks - 1);
	free(asks);
	asks = NULL;
	cap_asks = 0;
	json_object_put(done);
	done = NULL;
}
