/*
 * jobs: the query thread. Every Postgres query of feedd but the LISTEN connection's runs here, on
 * a thread of its own with its own connection (feed_db), so that no database stall reaches the
 * event loop: a Postgres stopped, restarting, or frozen (SIGSTOP: a query then waits for as long
 * as the server is frozen, since statement_timeout is the server's own clock) only delays
 * answers, while every client keeps its heartbeat and the rows already read. Before this, each
 * query ran on the loop: a reconnect under a stopped server took up to the connect timeout, and
 * a frozen one stopped every client until its dead-client check dropped them all.
 *
 * The loop submits a job (a struct feed_job embedded first in the module's own job type): the
 * thread takes jobs in order, runs each one's run() with the connection (NULL while the database
 * is away), and hands it back; an ev_async watcher then runs each one's done() on the loop, in
 * the order submitted. run() sees only what the job carries (copies, never the loop's
 * structures); done() owns the job and frees it. The one order that matters, a market's rows and
 * the positions a subscribe reads at, holds because there is one thread and one queue.
 *
 * While the database is away, connection attempts are paced: after a failed one, jobs fail at
 * once (run() gets NULL) until a backoff of 250 ms doubling to 4 s has passed; lib/db logs the
 * outage once when it starts and once when it ends with the count of attempts.
 */
#include <pthread.h>
#include <time.h>
#include <stdlib.h>

#include <ev.h>

#include "config.h"
#include "feed.h"
#include "ktime.h"
#include "log.h"

#define FEED_BACKOFF_MIN_US INT64_C(250000)
#define FEED_BACKOFF_MAX_US INT64_C(4000000)

struct db *feed_db;

static pthread_t feed_jobs_thread;
static bool feed_jobs_started;
static pthread_mutex_t feed_jobs_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t feed_jobs_cv = PTHREAD_COND_INITIALIZER;
static struct feed_job *feed_todo, **feed_todo_tail = &feed_todo; /* guarded by feed_jobs_mu */
static struct feed_job *feed_done, **feed_done_tail = &feed_done; /* guarded by feed_jobs_mu */
static bool feed_jobs_quit;                                      /* guarded by feed_jobs_mu */
static ev_async feed_jobs_async;
static size_t feed_jobs_pending;                                 /* loop only */

/* Thread side: backoff state of the query connection. */
static int64_t feed_db_retry_at, feed_db_backoff;

/*
 * The query connection if it is usable now, else NULL. After a failed attempt, the next is made
 * only once the backoff has passed, so an outage costs one connection attempt per backoff, not
 * one per job (a stopped server answers a unix-socket connect at once: 1 000 subscribes would
 * otherwise be 1 000 attempts).
 */
static struct db *
feed_jobs_db(void)
{
	int64_t now = kt_now();

	if (feed_db_backoff > 0 && now < feed_db_retry_at)
		return NULL;
	if (db_ensure(feed_db) != 0) {
		feed_db_backoff = feed_db_backoff == 0 ? FEED_BACKOFF_MIN_US :
		    feed_db_backoff * 2 > FEED_BACKOFF_MAX_US ? FEED_BACKOFF_MAX_US : feed_db_backoff * 2;
		feed_db_retry_at = now + feed_db_backoff;
		return NULL;
	}
	feed_db_backoff = 0;
	return feed_db;
}

static void *
feed_jobs_main(void *arg)
{
	(void)arg;
	for (;;) {
		struct feed_job *j;

		pthread_mutex_lock(&feed_jobs_mu);
		while (feed_todo == NULL && !feed_jobs_quit)
			pthread_cond_wait(&feed_jobs_cv, &feed_jobs_mu);
		if (feed_jobs_quit) {
			pthread_mutex_unlock(&feed_jobs_mu);
			return NULL;
		}
		j = feed_todo;
		if ((feed_todo = j->next) == NULL)
			feed_todo_tail = &feed_todo;
		pthread_mutex_unlock(&feed_jobs_mu);

		j->next = NULL;
		j->run(j, feed_jobs_db());
		/* a statement that failed may have lost the connection: the next job reconnects */

		pthread_mutex_lock(&feed_jobs_mu);
		*feed_done_tail = j;
		feed_done_tail = &j->next;
		pthread_mutex_unlock(&feed_jobs_mu);
		ev_async_send(feed_ev_loop(), &feed_jobs_async);
	}
}

/* On the loop: the done() of every finished job, in order. */
static void
feed_jobs_on_async(struct ev_loop *loop, ev_async *w, int revents)
{
	struct feed_job *list, *j;

	(void)loop;
	(void)w;
	(void)revents;
	pthread_mutex_lock(&feed_jobs_mu);
	list = feed_done;
	feed_done = NULL;
	feed_done_tail = &feed_done;
	pthread_mutex_unlock(&feed_jobs_mu);
	while ((j = list) != NULL) {
		list = j->next;
		j->next = NULL;
		feed_jobs_pending--;
		j->done(j);
	}
}

int
feed_jobs_start(void)
{
	if ((feed_db = db_new(cfg.database_url, (int)cfg.db_connect_timeout,
	    (int)cfg.feedd_statement_timeout_ms)) == NULL)
		return -1;
	db_set_label(feed_db, "query");
	ev_async_init(&feed_jobs_async, feed_jobs_on_async);
	ev_async_start(feed_ev_loop(), &feed_jobs_async);
	if (pthread_create(&feed_jobs_thread, NULL, feed_jobs_main, NULL) != 0)
		return -1;
	feed_jobs_started = true;
	return 0;
}

void
feed_jobs_submit(struct feed_job *j)
{
	j->next = NULL;
	feed_jobs_pending++;
	pthread_mutex_lock(&feed_jobs_mu);
	*feed_todo_tail = j;
	feed_todo_tail = &j->next;
	pthread_cond_signal(&feed_jobs_cv);
	pthread_mutex_unlock(&feed_jobs_mu);
}

size_t
feed_jobs_backlog(void)
{
	return feed_jobs_pending;
}

/*
 * Stops the thread once its current job ends, runs the jobs it did not take as if the database
 * were away, and every finished job's done(), so that nothing they hold leaks. A job held by a
 * frozen server past 2 s is left to the exiting process (the thread is detached).
 */
void
feed_jobs_stop(void)
{
	struct timespec deadline;
	struct feed_job *j;

	if (!feed_jobs_started)
		return;
	feed_jobs_started = false;
	pthread_mutex_lock(&feed_jobs_mu);
	feed_jobs_quit = true;
	pthread_cond_signal(&feed_jobs_cv);
	pthread_mutex_unlock(&feed_jobs_mu);
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += 2;
	if (pthread_timedjoin_np(feed_jobs_thread, NULL, &deadline) != 0) {
		log_warnx("query thread still waiting on Postgres at exit; not waited for");
		pthread_detach(feed_jobs_thread);
		return;
	}
	while ((j = feed_todo) != NULL) {
		if ((feed_todo = j->next) == NULL)
			feed_todo_tail = &feed_todo;
		j->run(j, NULL);
		*feed_done_tail = j;
		feed_done_tail = &j->next;
		j->next = NULL;
	}
	feed_jobs_on_async(NULL, NULL, 0);
	ev_async_stop(feed_ev_loop(), &feed_jobs_async);
	db_close(feed_db);
	feed_db = NULL;
}
