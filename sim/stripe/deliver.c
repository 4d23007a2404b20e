/*
 * deliver: webhook deliveries on their own thread, so a slow or dead endpoint never holds the
 * API. Each event is POSTed to the endpoint with a Stripe-Signature made by lib/stripe_sig at
 * the attempt's wall-clock second, exactly as Stripe signs; a non-2xx answer or a transport
 * error is retried after retry_ms, doubling each attempt up to retry_max_ms, for
 * webhook_attempts attempts (Stripe: up to 3 days; the sim's defaults are seconds, for tests).
 * Faults (POST /_sim/fault): duplicate (the next n events are delivered twice), delay (the next
 * n wait ms more), reorder (each of the next n events is held until the event after it has been
 * sent, or 2 s).
 *
 * The queue, the endpoint and the log of attempts are shared with the loop under one mutex; the
 * HTTP call itself runs unlocked.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "log.h"
#include "ss.h"
#include "stripe_sig.h"

#define DL_LOG_MAX 20000
#define DL_HOLD_MS 2000

struct dl_item {
	struct dl_item *next;
	char *event_id;
	char *body;
	size_t len;
	int attempt;        /* attempts made */
	int64_t due_ms;
	uint64_t seq;       /* order of queueing: among items due at once, the first queued goes first */
};

static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t thread;
	bool running, stop;
	struct dl_item *queue;
	struct dl_item *held;    /* reorder: waits for the next event */
	char *url, *secret;
	uint32_t f_dup, f_delay, f_reorder;
	int64_t f_delay_ms;
	struct json_object *log; /* array of attempts */
	uint64_t delivered, failed, gave_up;
	uint64_t next_seq;
} dl = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };

static int64_t
dl_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
dl_item_free(struct dl_item *it)
{
	if (it == NULL)
		return;
	free(it->event_id);
	free(it->body);
	free(it);
}

static struct dl_item *
dl_item_new(const char *event_id, const char *body, size_t len, int64_t due)
{
	struct dl_item *it = calloc(1, sizeof(*it));

	if (it == NULL)
		return NULL;
	it->event_id = strdup(event_id);
	it->body = malloc(len + 1);
	if (it->event_id == NULL || it->body == NULL) {
		dl_item_free(it);
		return NULL;
	}
	memcpy(it->body, body, len);
	it->body[len] = '\0';
	it->len = len;
	it->due_ms = due;
	return it;
}

/* Under dl.mu. */
static void
dl_push(struct dl_item *it)
{
	it->seq = dl.next_seq++;
	it->next = dl.queue;
	dl.queue = it;
	pthread_cond_signal(&dl.cv);
}

bool
ss_deliver_has_endpoint(void)
{
	bool yes;

	pthread_mutex_lock(&dl.mu);
	yes = dl.url != NULL;
	pthread_mutex_unlock(&dl.mu);
	return yes;
}

void
ss_deliver_enqueue(const char *event_id, const char *body, size_t len)
{
	struct dl_item *it, *dup = NULL;
	int64_t now = dl_now_ms();

	pthread_mutex_lock(&dl.mu);
	if (dl.url == NULL)
		goto out;
	it = dl_item_new(event_id, body, len, now);
	if (it == NULL)
		goto out;
	if (dl.f_delay > 0) {
		dl.f_delay--;
		it->due_ms += dl.f_delay_ms;
	}
	if (dl.f_dup > 0) {
		dl.f_dup--;
		dup = dl_item_new(event_id, body, len, it->due_ms + 1);
	}
	if (dl.held != NULL) {
		/* the held event goes right after this one */
		dl.held->due_ms = it->due_ms + 1;
		if (dup != NULL && dup->due_ms >= dl.held->due_ms)
			dl.held->due_ms = dup->due_ms + 1;
		dl.held = NULL;
		pthread_cond_signal(&dl.cv);
	} else if (dl.f_reorder > 0) {
		dl.f_reorder--;
		it->due_ms += DL_HOLD_MS;
		dl.held = it;
	}
	dl_push(it);
	if (dup != NULL)
		dl_push(dup);
out:
	pthread_mutex_unlock(&dl.mu);
}

/* Removes and returns the earliest item due by now, or NULL with *wait_ms until the next. Items
 * due in the same millisecond go in the order they were queued: the events of one API call (a
 * renewal's subscription update, invoice and payment failure) are queued within a millisecond,
 * and the queue is a list pushed at its head, so without the seq they went newest first, which
 * is the reorder fault's job, not the default (t_billing saw a renewal's "active" delivered after
 * its "past_due", both of the same second, and the account left on project). */
static struct dl_item *
dl_pop_due(int64_t now, int64_t *wait_ms)
{
	struct dl_item **best = NULL;

	for (struct dl_item **pp = &dl.queue; *pp != NULL; pp = &(*pp)->next)
		if (best == NULL || (*pp)->due_ms < (*best)->due_ms ||
		    ((*pp)->due_ms == (*best)->due_ms && (*pp)->seq < (*best)->seq))
			best = pp;
	if (best == NULL) {
		*wait_ms = 1000;
		return NULL;
	}
	if ((*best)->due_ms > now) {
		*wait_ms = (*best)->due_ms - now;
		return NULL;
	}
	{
		struct dl_item *it = *best;

		*best = it->next;
		it->next = NULL;
		if (dl.held == it)
			dl.held = NULL;
		return it;
	}
}

static size_t
dl_discard(char *ptr, size_t size, size_t nmemb, void *ud)
{
	(void)ptr;
	(void)ud;
	return size * nmemb;
}

/* One POST of it to url signed with secret. Returns the HTTP status, or 0 on transport error. */
static long
dl_post(const struct dl_item *it, const char *url, const char *secret, char *err, size_t errcap,
    char sig[STRIPE_SIG_HEADER_MAX])
{
	struct curl_slist *h = NULL;
	char hdr[STRIPE_SIG_HEADER_MAX + 32];
	CURL *c = curl_easy_init();
	long status = 0;
	CURLcode rc;

	err[0] = '\0';
	if (c == NULL || stripe_sig_header(secret, (int64_t)time(NULL), it->body, it->len, sig,
	    STRIPE_SIG_HEADER_MAX) < 0) {
		snprintf(err, errcap, "cannot sign");
		curl_easy_cleanup(c);
		return 0;
	}
	snprintf(hdr, sizeof(hdr), "Stripe-Signature: %s", sig);
	h = curl_slist_append(h, "Content-Type: application/json; charset=utf-8");
	h = curl_slist_append(h, "User-Agent: Stripe/1.0 (+https://stripe.com/docs/webhooks)");
	h = curl_slist_append(h, "Cache-Control: no-cache");
	h = curl_slist_append(h, "Accept: */*; q=0.5, application/xml");
	h = curl_slist_append(h, "Expect:");
	h = curl_slist_append(h, hdr);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, it->body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)it->len);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)ss_opt.webhook_timeout_ms);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, dl_discard);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	rc = curl_easy_perform(c);
	if (rc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	else
		snprintf(err, errcap, "%s", curl_easy_strerror(rc));
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	return status;
}

static void
dl_log(const struct dl_item *it, long status, const char *err, const char *sig, int64_t at,
    bool retry)
{
	struct json_object *o;

	if (dl.log == NULL)
		dl.log = json_object_new_array();
	if (json_object_array_length(dl.log) >= DL_LOG_MAX)
		return;
	o = json_object_new_object();
	json_object_object_add(o, "event", json_object_new_string(it->event_id));
	json_object_object_add(o, "attempt", json_object_new_int(it->attempt));
	json_object_object_add(o, "status", json_object_new_int((int)status));
	json_object_object_add(o, "error", json_object_new_string(err));
	json_object_object_add(o, "signature", json_object_new_string(sig));
	json_object_object_add(o, "at_ms", json_object_new_int64(at));
	json_object_object_add(o, "will_retry", json_object_new_boolean(retry));
	json_object_array_add(dl.log, o);
}

static void *
dl_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&dl.mu);
	while (!dl.stop) {
		int64_t wait_ms = 0, now = dl_now_ms();
		struct dl_item *it = dl_pop_due(now, &wait_ms);
		char err[256], sig[STRIPE_SIG_HEADER_MAX] = "", *url, *secret;
		long status;
		bool ok, retry;

		if (it == NULL) {
			struct timespec ts;
			int64_t until = now + wait_ms;

			ts.tv_sec = (time_t)(until / 1000);
			ts.tv_nsec = (long)(until % 1000) * 1000000;
			pthread_cond_timedwait(&dl.cv, &dl.mu, &ts);
			continue;
		}
		url = dl.url != NULL ? strdup(dl.url) : NULL;
		secret = strdup(dl.secret != NULL ? dl.secret : "");
		pthread_mutex_unlock(&dl.mu);
		it->attempt++;
		status = url != NULL && secret != NULL ?
		    dl_post(it, url, secret, err, sizeof(err), sig) : 0;
		if (url == NULL)
			snprintf(err, sizeof(err), "no endpoint");
		free(url);
		free(secret);
		pthread_mutex_lock(&dl.mu);
		ok = status >= 200 && status < 300;
		retry = !ok && it->attempt < ss_opt.webhook_attempts;
		dl_log(it, status, err, sig, dl_now_ms(), retry);
		if (ok) {
			dl.delivered++;
			dl_item_free(it);
		} else if (retry) {
			int64_t d = ss_opt.retry_ms;

			dl.failed++;
			for (int i = 1; i < it->attempt && d < ss_opt.retry_max_ms; i++)
				d *= 2;
			if (d > ss_opt.retry_max_ms)
				d = ss_opt.retry_max_ms;
			it->due_ms = dl_now_ms() + d;
			log_info("webhook %s attempt %d: %ld %s; again in %lld ms", it->event_id,
			    it->attempt, status, err, (long long)d);
			dl_push(it);
		} else {
			dl.failed++;
			dl.gave_up++;
			log_warnx("webhook %s: gave up after %d attempts", it->event_id, it->attempt);
			dl_item_free(it);
		}
	}
	pthread_mutex_unlock(&dl.mu);
	return NULL;
}

int
ss_deliver_start(void)
{
	ss_deliver_configure(ss_opt.webhook_url, ss_opt.webhook_secret);
	if (pthread_create(&dl.thread, NULL, dl_main, NULL) != 0)
		return -1;
	dl.running = true;
	return 0;
}

void
ss_deliver_stop(void)
{
	pthread_mutex_lock(&dl.mu);
	dl.stop = true;
	pthread_cond_signal(&dl.cv);
	pthread_mutex_unlock(&dl.mu);
	if (dl.running)
		pthread_join(dl.thread, NULL);
	dl.running = false;
	while (dl.queue != NULL) {
		struct dl_item *it = dl.queue;

		dl.queue = it->next;
		dl_item_free(it);
	}
	free(dl.url);
	free(dl.secret);
	dl.url = dl.secret = NULL;
	json_object_put(dl.log);
	dl.log = NULL;
}

void
ss_deliver_configure(const char *url, const char *secret)
{
	pthread_mutex_lock(&dl.mu);
	if (url != NULL) {
		free(dl.url);
		dl.url = *url != '\0' ? strdup(url) : NULL;
	}
	if (secret != NULL) {
		free(dl.secret);
		dl.secret = strdup(secret);
	}
	pthread_mutex_unlock(&dl.mu);
}

void
ss_deliver_fault(const char *kind, uint32_t n, int64_t ms)
{
	pthread_mutex_lock(&dl.mu);
	if (strcmp(kind, "duplicate") == 0) {
		dl.f_dup += n;
	} else if (strcmp(kind, "delay") == 0) {
		dl.f_delay += n;
		dl.f_delay_ms = ms;
	} else if (strcmp(kind, "reorder") == 0) {
		dl.f_reorder += n;
	}
	pthread_mutex_unlock(&dl.mu);
}

void
ss_deliver_fault_clear(void)
{
	pthread_mutex_lock(&dl.mu);
	dl.f_dup = dl.f_delay = dl.f_reorder = 0;
	pthread_mutex_unlock(&dl.mu);
}

struct json_object *
ss_deliver_report(void)
{
	struct json_object *o = json_object_new_object(), *log = NULL;
	size_t queued = 0;

	pthread_mutex_lock(&dl.mu);
	for (struct dl_item *it = dl.queue; it != NULL; it = it->next)
		queued++;
	json_object_object_add(o, "url", dl.url != NULL ? json_object_new_string(dl.url) : NULL);
	json_object_object_add(o, "queued", json_object_new_int64((int64_t)queued));
	json_object_object_add(o, "delivered", json_object_new_int64((int64_t)dl.delivered));
	json_object_object_add(o, "failed_attempts", json_object_new_int64((int64_t)dl.failed));
	json_object_object_add(o, "gave_up", json_object_new_int64((int64_t)dl.gave_up));
	if (dl.log != NULL && json_object_deep_copy(dl.log, &log, NULL) != 0)
		log = NULL;
	json_object_object_add(o, "attempts", log != NULL ? log : json_object_new_array());
	pthread_mutex_unlock(&dl.mu);
	return o;
}
