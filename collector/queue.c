/*
 * queue: the bounded ring between the socket thread and the writer. The socket thread never
 * waits here: a push either fits or fails (the caller records an overflow gap). Data events
 * (deltas, periodic checkpoints) may fill queue_max slots; control events (markets, gaps,
 * snapshot checkpoints, statuses) a reserve beyond it, so that a full queue still takes the gap
 * that says so. The writer copies a run of events out, writes them, and only then releases them:
 * until then they stay queued (counted in the depth, replayed after a failure).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "writer.h"

/* Control events allowed past queue_max. */
#define RESERVE 65536

static pthread_mutex_t q_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t q_cond = PTHREAD_COND_INITIALIZER;
static struct coll_ev *ring;
static size_t ring_cap, q_head, q_len, q_max;
static bool q_stop;
/* The socket thread's mark (coll_writer_mark), and the last one put in a batch (writer thread). */
static int64_t q_mark, taken_mark;

void
coll_ev_free(struct coll_ev *ev)
{
	free(ev->data);
	ev->data = NULL;
}

int
coll_queue_init(size_t queue_max)
{
	q_max = queue_max;
	ring_cap = queue_max + RESERVE;
	ring = calloc(ring_cap, sizeof(*ring));
	return ring != NULL ? 0 : -1;
}

bool
coll_writer_push(struct coll_ev *ev, bool control)
{
	bool ok;

	pthread_mutex_lock(&q_lock);
	ok = q_len < (control ? ring_cap : q_max);
	if (ok) {
		ring[(q_head + q_len) % ring_cap] = *ev;
		if (q_len++ == 0)
			pthread_cond_signal(&q_cond);
	}
	pthread_mutex_unlock(&q_lock);
	if (ok)
		ev->data = NULL;
	return ok;
}

void
coll_writer_mark(int64_t ts)
{
	pthread_mutex_lock(&q_lock);
	if (ts > q_mark)
		q_mark = ts;
	pthread_mutex_unlock(&q_lock);
}

size_t
coll_writer_depth(void)
{
	size_t n;

	pthread_mutex_lock(&q_lock);
	n = q_len;
	pthread_mutex_unlock(&q_lock);
	return n;
}

bool
coll_queue_behind(void)
{
	return coll_writer_depth() >= q_max / 2;
}

size_t
coll_queue_take(struct coll_ev *batch, bool *stop, bool *marked)
{
	struct timespec until;
	size_t n, first;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 1;
	pthread_mutex_lock(&q_lock);
	if (q_len == 0 && !q_stop)
		pthread_cond_timedwait(&q_cond, &q_lock, &until);
	*stop = q_stop;
	n = q_len < COLL_BATCH_MAX ? q_len : COLL_BATCH_MAX;
	/* the queued run may wrap around the end of the ring: copy it in two pieces (cppcheck
	 * cannot see the socket thread filling the queue while this one waits) */
	// cppcheck-suppress knownConditionTrueFalse
	first = ring_cap - q_head < n ? ring_cap - q_head : n;
	memcpy(batch, ring + q_head, first * sizeof(*batch));
	memcpy(batch + first, ring, (n - first) * sizeof(*batch));
	*marked = n == q_len && q_mark > taken_mark;
	/* (cppcheck cannot see the socket thread moving the mark while this one waits) */
	// cppcheck-suppress knownConditionTrueFalse
	if (*marked) {
		batch[n] = (struct coll_ev){ .kind = COLL_EV_MARK, .market = -1, .ts = q_mark };
		taken_mark = q_mark;
	}
	pthread_mutex_unlock(&q_lock);
	return n;
}

void
coll_queue_release(struct coll_ev *batch, size_t n)
{
	for (size_t i = 0; i < n; i++)
		coll_ev_free(&batch[i]);
	pthread_mutex_lock(&q_lock);
	q_head = (q_head + n) % ring_cap;
	q_len -= n;
	pthread_mutex_unlock(&q_lock);
}

void
coll_queue_stop(void)
{
	pthread_mutex_lock(&q_lock);
	q_stop = true;
	pthread_cond_signal(&q_cond);
	pthread_mutex_unlock(&q_lock);
}

bool
coll_queue_stopping(void)
{
	bool stop;

	pthread_mutex_lock(&q_lock);
	stop = q_stop;
	pthread_mutex_unlock(&q_lock);
	return stop;
}

void
coll_queue_free(void)
{
	for (size_t i = 0; i < q_len; i++)
		coll_ev_free(&ring[(q_head + i) % ring_cap]);
	free(ring);
	ring = NULL;
	q_len = q_head = 0;
}
