/*
 * maint: the collector's background thread for the slow things that must not block the socket
 * thread or the writer: checking every 2 s that the advisory lock is still ours (lock.c), the
 * hourly partition maintenance (partitions.c), and
 * re-scanning REST /markets every rescan_s seconds as a safety net for lifecycle messages that
 * were missed (a disconnect, a market changed while we were down). A finished re-scan is left as
 * one JSON array that the socket thread takes on its next one-second tick.
 */
#include <pthread.h>
#include <time.h>

#include <json-c/json.h>

#include "coll.h"
#include "log.h"

static pthread_t thread;
static bool started;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static bool quit;
static struct json_object *ready; /* markets of the last re-scan, not taken yet */
static const char *rest;
static int64_t rescan_every;
static volatile int *stop_flag;

static void
collect(struct json_object *market, void *arg)
{
	json_object_array_add(arg, json_object_get(market));
}

static void *
maint_main(void *arg)
{
	time_t next_scan;

	(void)arg;
	next_scan = time(NULL) + rescan_every;
	pthread_mutex_lock(&lock);
	while (!quit) {
		struct timespec until;

		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 2;
		pthread_cond_timedwait(&cond, &lock, &until);
		if (quit)
			break;
		pthread_mutex_unlock(&lock);
		if (coll_lock_check() != 0) {
			log_errorx("another collector holds the lock now: stopping");
			*stop_flag = 1;
		}
		coll_partitions_tick();
		if (rescan_every > 0 && time(NULL) >= next_scan) {
			struct json_object *arr = json_object_new_array();
			long n = coll_rest_markets(rest, collect, arr);

			next_scan = time(NULL) + rescan_every;
			pthread_mutex_lock(&lock);
			if (n >= 0) {
				json_object_put(ready);
				ready = arr;
				arr = NULL;
			}
			pthread_mutex_unlock(&lock);
			json_object_put(arr);
			log_info("REST re-scan: %ld markets", n);
		}
		pthread_mutex_lock(&lock);
	}
	pthread_mutex_unlock(&lock);
	return NULL;
}

int
coll_maint_start(const char *rest_base, int64_t rescan_s, volatile int *stop)
{
	rest = rest_base;
	rescan_every = rescan_s;
	stop_flag = stop;
	if (pthread_create(&thread, NULL, maint_main, NULL) != 0) {
		log_errorx("cannot start the maintenance thread");
		return -1;
	}
	started = true;
	return 0;
}

void
coll_maint_stop(void)
{
	if (!started)
		return;
	pthread_mutex_lock(&lock);
	quit = true;
	pthread_cond_signal(&cond);
	pthread_mutex_unlock(&lock);
	pthread_join(thread, NULL);
	started = false;
	json_object_put(ready);
	ready = NULL;
}

void
coll_maint_take(void (*fn)(struct json_object *market, void *arg), void *arg)
{
	coll_take_each(&lock, &ready, fn, arg);
}
