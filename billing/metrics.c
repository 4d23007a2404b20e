/*
 * metrics: kbook-billing's /metrics (Prometheus text) and /healthz on 127.0.0.1, one blocking
 * accept loop in a thread of its own (the sender's loop never waits on it), as the collector does.
 */
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "billing.h"
#include "log.h"

static int listen_fd = -1;
static pthread_t thread;

static size_t
render(char *buf, size_t cap)
{
	return (size_t)snprintf(buf, cap,
	    "# HELP kbook_billing_posts_total meter event POSTs made to Stripe\n"
	    "# TYPE kbook_billing_posts_total counter\nkbook_billing_posts_total %lu\n"
	    "# HELP kbook_billing_sent_total outbox rows Stripe has (including already_sent)\n"
	    "# TYPE kbook_billing_sent_total counter\nkbook_billing_sent_total %lu\n"
	    "# HELP kbook_billing_already_sent_total rows Stripe already had (a resend after a crash or a lost answer)\n"
	    "# TYPE kbook_billing_already_sent_total counter\nkbook_billing_already_sent_total %lu\n"
	    "# HELP kbook_billing_credits_sent_total overage credits Stripe has\n"
	    "# TYPE kbook_billing_credits_sent_total counter\nkbook_billing_credits_sent_total %lu\n"
	    "# HELP kbook_billing_retries_total attempts answered 409, 429, 5xx or not at all\n"
	    "# TYPE kbook_billing_retries_total counter\nkbook_billing_retries_total %lu\n"
	    "# HELP kbook_billing_failed_total rows Stripe refused as invalid (not retried)\n"
	    "# TYPE kbook_billing_failed_total counter\nkbook_billing_failed_total %lu\n"
	    "# HELP kbook_billing_backlog_rows outbox rows not yet sent\n"
	    "# TYPE kbook_billing_backlog_rows gauge\nkbook_billing_backlog_rows %lu\n"
	    "# HELP kbook_billing_backlog_credits overage credits not yet sent\n"
	    "# TYPE kbook_billing_backlog_credits gauge\nkbook_billing_backlog_credits %lu\n",
	    (unsigned long)atomic_load(&billing_stats.posts), (unsigned long)atomic_load(&billing_stats.sent),
	    (unsigned long)atomic_load(&billing_stats.already_sent),
	    (unsigned long)atomic_load(&billing_stats.credits_sent),
	    (unsigned long)atomic_load(&billing_stats.retries), (unsigned long)atomic_load(&billing_stats.failed),
	    (unsigned long)atomic_load(&billing_stats.backlog_rows),
	    (unsigned long)atomic_load(&billing_stats.backlog_credits));
}

static void
serve(int fd)
{
	char body[4096], req[1024], head[256];
	const char *status = "404 Not Found";
	ssize_t n = read(fd, req, sizeof(req) - 1);
	size_t len;
	int hn;

	if (n <= 0)
		return;
	req[n] = '\0';
	if (strncmp(req, "GET /metrics ", 13) == 0) {
		status = "200 OK";
		len = render(body, sizeof(body));
	} else if (strncmp(req, "GET /healthz ", 13) == 0) {
		bool ok = atomic_load(&billing_stats.db_ok) != 0;

		status = ok ? "200 OK" : "503 Service Unavailable";
		len = (size_t)snprintf(body, sizeof(body), ok ? "ok\n" : "the database does not answer\n");
	} else {
		len = (size_t)snprintf(body, sizeof(body), "not found\n");
	}
	if (len >= sizeof(body))
		len = sizeof(body) - 1;
	hn = snprintf(head, sizeof(head), "HTTP/1.0 %s\r\nContent-Type: text/plain; version=0.0.4\r\n"
	    "Content-Length: %zu\r\nConnection: close\r\n\r\n", status, len);
	if (write(fd, head, (size_t)hn) == hn)
		(void)!write(fd, body, len);
}

static void *
metrics_main(void *arg)
{
	(void)arg;
	for (;;) {
		struct timeval tv = { .tv_sec = 2, .tv_usec = 0 };
		int fd = accept(listen_fd, NULL, NULL);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			break; /* the listening socket was shut down */
		}
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		serve(fd);
		close(fd);
	}
	return NULL;
}

int
billing_metrics_start(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int one = 1;

	if (port == 0)
		return 0;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(listen_fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(listen_fd, 16) != 0) {
		log_warn("cannot listen on 127.0.0.1:%d for /metrics", port);
		if (listen_fd >= 0)
			close(listen_fd);
		listen_fd = -1;
		return -1;
	}
	if (pthread_create(&thread, NULL, metrics_main, NULL) != 0) {
		close(listen_fd);
		listen_fd = -1;
		return -1;
	}
	log_info("/metrics and /healthz on 127.0.0.1:%d", port);
	return 0;
}

void
billing_metrics_stop(void)
{
	if (listen_fd < 0)
		return;
	shutdown(listen_fd, SHUT_RDWR);
	pthread_join(thread, NULL);
	close(listen_fd);
	listen_fd = -1;
}
