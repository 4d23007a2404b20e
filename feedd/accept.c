/*
 * accept: feedd's listening socket (KBOOK_FEEDD_LISTEN, host:port or a unix socket path). Each
 * connection's request head is read here (lib/httphead) before libwebsockets sees the socket; a
 * websocket handshake's API key is checked on the query thread (auth.c, jobs.c) while the loop
 * serves everyone else, then the socket and the bytes read are handed to libwebsockets
 * (lws_adopt_socket_vhost_readbuf) with the verdict kept by descriptor, which the upgrade's
 * callback takes (server.c). Other requests (/healthz, /metrics) are handed over at once.
 *
 * Why not in libwebsockets' own callback: HTTP_CONFIRM_UPGRADE must answer before it returns, so
 * the key's check (a charge on Postgres) ran on the event loop: while Postgres was slow, stopped
 * or restarting every client waited, up to the connect timeout per handshake. A check that does
 * not come back within FEED_AUTH_WAIT_S is answered 503 (Retry-After), as a slow query was; its
 * charge, if it went through, is given back.
 *
 * A head must arrive within FEED_HEAD_WAIT_S and fit FEED_HEAD_CAP bytes (libwebsockets keeps at
 * most 4 096 bytes of headers here; a longer head is handed over as it is and refused there).
 * Ownership: a feed_pre lives from accept() until its socket is handed over or closed, and past
 * that while its key check is in flight (the job frees it).
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <ev.h>

#include "config.h"
#include "feed.h"
#include "httphead.h"
#include "log.h"
#include "url.h"

#define FEED_HEAD_CAP 8192
#define FEED_HEAD_WAIT_S 10.0
#define FEED_AUTH_WAIT_S 5.0
#define FEED_PRE_MAX 4096    /* heads being read or checked at once; more wait in the backlog */

struct feed_pre {
	struct feed_job j;           /* the key check */
	struct feed_pre *prev, *next;
	int fd;                      /* -1 once handed over or closed */
	ev_io io;
	ev_timer timer;
	bool checking;               /* the key check is in flight */
	struct feed_verdict v;
	size_t len;
	char buf[FEED_HEAD_CAP];
};

/* A verdict waiting for the upgrade of its socket. */
struct feed_held {
	struct feed_held *next;
	int fd;
	struct feed_verdict v;
};

static int feed_listen_fd = -1;
static ev_io feed_listen_w;
static ev_timer feed_listen_pause;   /* out of descriptors: accept again in a second */
static struct lws_vhost *feed_vh;
static struct feed_pre *feed_pres;
static size_t feed_n_pres;
static struct feed_held *feed_helds;
static bool feed_accept_stopped;

/* Drops the verdict held for fd, if any; an "ok" one (charged, never upgraded) is refunded. */
static void
feed_accept_forget(int fd)
{
	for (struct feed_held **pp = &feed_helds, *h; (h = *pp) != NULL; pp = &h->next) {
		if (h->fd == fd) {
			*pp = h->next;
			if (strcmp(h->v.code, "ok") == 0 && !feed_accept_stopped)
				feed_auth_refund_later(&h->v.caller);
			free(h);
			return;
		}
	}
}

bool
feed_accept_verdict(int fd, struct feed_verdict *out)
{
	for (struct feed_held **pp = &feed_helds, *h; (h = *pp) != NULL; pp = &h->next) {
		if (h->fd == fd) {
			*pp = h->next;
			*out = h->v;
			free(h);
			return true;
		}
	}
	return false;
}

/*
 * Accepting stops while FEED_PRE_MAX heads are pending or descriptors ran out (the listening
 * socket stays readable: a level-triggered watcher would spin), and starts again when one ends
 * or a second has passed; the kernel's backlog holds the connections meanwhile.
 */
static void
feed_accept_resume(void)
{
	if (feed_listen_fd >= 0 && !feed_accept_stopped && feed_n_pres < FEED_PRE_MAX &&
	    !ev_is_active(&feed_listen_pause))
		ev_io_start(feed_ev_loop(), &feed_listen_w);
}

static void
feed_accept_on_pause(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	feed_accept_resume();
}

/* Unlinks p and stops its watchers; frees it unless its key check is in flight. */
static void
feed_pre_end(struct feed_pre *p)
{
	ev_io_stop(feed_ev_loop(), &p->io);
	ev_timer_stop(feed_ev_loop(), &p->timer);
	if (p->fd >= 0) {
		close(p->fd);
		p->fd = -1;
	}
	if (p->prev != NULL || feed_pres == p) {
		if (p->prev != NULL)
			p->prev->next = p->next;
		else
			feed_pres = p->next;
		if (p->next != NULL)
			p->next->prev = p->prev;
		p->prev = p->next = NULL;
		feed_n_pres--;
		feed_accept_resume();
	}
	if (!p->checking)
		free(p);
}

/* Hands p's socket and head to libwebsockets, with verdict v (NULL: none) held for the upgrade. */
static void
feed_pre_adopt(struct feed_pre *p, const struct feed_verdict *v)
{
	int fd = p->fd;
	struct feed_held *h = NULL;

	if (v != NULL) {
		if ((h = calloc(1, sizeof(*h))) == NULL) {
			feed_pre_end(p);
			return;
		}
		feed_accept_forget(fd);
		h->fd = fd;
		h->v = *v;
		h->next = feed_helds;
		feed_helds = h;
	}
	p->fd = -1; /* lws owns it now, or closed it */
	/*
	 * lws serves the head at once: NULL also when that ended the connection (a refused
	 * handshake, answered and closed), not only when it could not take the socket.
	 */
	if (lws_adopt_socket_vhost_readbuf(feed_vh, fd, p->buf, p->len) == NULL && h != NULL)
		feed_accept_forget(fd);
	feed_pre_end(p);
}

static void
feed_pre_run(struct feed_job *j, struct db *db)
{
	struct feed_pre *p = (struct feed_pre *)j;

	if (db == NULL)
		p->v.code = "service_unavailable";
	else
		feed_auth_key_run(db, &p->v);
}

/* The key check is back: the socket goes to libwebsockets with its verdict, unless it was handed
 * over already (FEED_AUTH_WAIT_S passed: answered 503), when a charge is given back. */
static void
feed_pre_done(struct feed_job *j)
{
	struct feed_pre *p = (struct feed_pre *)j;

	p->checking = false;
	if (p->fd < 0 || feed_accept_stopped) {
		if (strcmp(p->v.code, "ok") == 0 && !feed_accept_stopped)
			feed_auth_refund_later(&p->v.caller);
		feed_pre_end(p);
		return;
	}
	feed_pre_adopt(p, &p->v);
}

static void
feed_pre_on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct feed_pre *p = (struct feed_pre *)((char *)w - offsetof(struct feed_pre, timer));
	struct feed_verdict v = { .code = "service_unavailable" };

	(void)loop;
	(void)revents;
	if (p->checking)
		feed_pre_adopt(p, &v); /* the job gives a charge back when it returns */
	else
		feed_pre_end(p);   /* no whole head in time */
}

/* The API key of a handshake, where the upgrade's callback looks for it (auth.c, feed_auth_key):
 * X-API-Key, Authorization: Bearer, the api_key query parameter. Returns true when one is given. */
static bool
feed_pre_key(const char *head, size_t n, const char *query, char *key, size_t cap)
{
	char auth[256];
	const char *q = query;
	char *name, *value;
	bool found = false;

	if (httphead_header(head, n, "x-api-key", key, cap) == 1 && key[0] != '\0')
		return true;
	if (httphead_header(head, n, "authorization", auth, sizeof(auth)) == 1 &&
	    strncasecmp(auth, "Bearer ", 7) == 0) {
		const char *a;

		for (a = auth + 7; *a == ' '; a++)
			;
		if (*a != '\0') {
			snprintf(key, cap, "%s", a);
			return true;
		}
	}
	while (!found && url_form_next(&q, &name, &value) == URL_PAIR) {
		if (strcmp(name, "api_key") == 0 && value[0] != '\0' && strlen(value) < cap) {
			snprintf(key, cap, "%s", value);
			found = true;
		}
		free(name);
		free(value);
	}
	return found;
}

/* A whole head: a websocket handshake to the feed's path has its key checked; the rest go on. */
static void
feed_pre_head(struct feed_pre *p, size_t end)
{
	char path[128], query[2048], upgrade[64], key[256];
	bool has_key;

	if (httphead_target(p->buf, end, path, sizeof(path), query, sizeof(query)) != 0 ||
	    (strcmp(path, "/v1/feed") != 0 && strcmp(path, "/trade-api/ws/v2") != 0) ||
	    httphead_header(p->buf, end, "upgrade", upgrade, sizeof(upgrade)) != 1 ||
	    strcasecmp(upgrade, "websocket") != 0) {
		feed_pre_adopt(p, NULL);
		return;
	}
	has_key = feed_pre_key(p->buf, end, query, key, sizeof(key));
	if (feed_auth_key_check(has_key ? key : NULL, &p->v) == 1) {
		feed_pre_adopt(p, &p->v);
		return;
	}
	ev_io_stop(feed_ev_loop(), &p->io);
	ev_timer_stop(feed_ev_loop(), &p->timer);
	ev_timer_set(&p->timer, FEED_AUTH_WAIT_S, 0.);
	ev_timer_start(feed_ev_loop(), &p->timer);
	p->checking = true;
	p->j.run = feed_pre_run;
	p->j.done = feed_pre_done;
	feed_jobs_submit(&p->j);
}

static void
feed_pre_on_read(struct ev_loop *loop, ev_io *w, int revents)
{
	struct feed_pre *p = (struct feed_pre *)((char *)w - offsetof(struct feed_pre, io));
	ssize_t n;
	size_t end;

	(void)loop;
	(void)revents;
	n = recv(p->fd, p->buf + p->len, sizeof(p->buf) - p->len, 0);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n <= 0) {
		feed_pre_end(p);
		return;
	}
	p->len += (size_t)n;
	if ((end = httphead_end(p->buf, p->len)) > 0)
		feed_pre_head(p, end);
	else if (p->len == sizeof(p->buf))
		feed_pre_adopt(p, NULL); /* too long: libwebsockets refuses it */
}

static void
feed_accept_on_listen(struct ev_loop *loop, ev_io *w, int revents)
{
	static bool warned;

	(void)revents;
	for (;;) {
		int fd;
		struct feed_pre *p;

		if (feed_n_pres >= FEED_PRE_MAX) {
			ev_io_stop(loop, w);
			return;
		}
		if ((fd = accept4(feed_listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
				if (!warned)
					log_warn("accept (paused for a second; logged once)");
				warned = true;
				ev_io_stop(loop, w);
				ev_timer_start(loop, &feed_listen_pause);
			} else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
			    errno != ECONNABORTED) {
				log_warn("accept");
			}
			return;
		}
		/* a verdict held for this descriptor number is a closed connection's */
		feed_accept_forget(fd);
		if ((p = calloc(1, sizeof(*p))) == NULL) {
			close(fd);
			continue;
		}
		p->fd = fd;
		p->next = feed_pres;
		if (feed_pres != NULL)
			feed_pres->prev = p;
		feed_pres = p;
		feed_n_pres++;
		ev_io_init(&p->io, feed_pre_on_read, fd, EV_READ);
		ev_io_start(loop, &p->io);
		ev_timer_init(&p->timer, feed_pre_on_timer, FEED_HEAD_WAIT_S, 0.);
		ev_timer_start(loop, &p->timer);
	}
}

/* The listening socket of l (host:port or /path), non-blocking. Returns it or -1 (logged). */
static int
feed_accept_socket(const char *l)
{
	char host[256], port[8];
	const char *colon;
	struct addrinfo hints, *ai = NULL;
	int fd = -1, one = 1;

	if (l[0] == '/') {
		struct sockaddr_un sa = { .sun_family = AF_UNIX };

		if (strlen(l) >= sizeof(sa.sun_path) ||
		    (fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
			goto fail;
		memcpy(sa.sun_path, l, strlen(l) + 1);
		(void)unlink(l);
		if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, SOMAXCONN) != 0)
			goto fail;
		return fd;
	}
	colon = strrchr(l, ':');
	if (colon == NULL || (size_t)(colon - l) >= sizeof(host) || strlen(colon + 1) >= sizeof(port))
		goto fail;
	memcpy(host, l, (size_t)(colon - l));
	host[colon - l] = '\0';
	snprintf(port, sizeof(port), "%s", colon + 1);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if (getaddrinfo(host[0] != '\0' ? host : NULL, port, &hints, &ai) != 0 || ai == NULL)
		goto fail;
	if ((fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, SOMAXCONN) != 0)
		goto fail;
	freeaddrinfo(ai);
	return fd;
fail:
	log_warn("cannot listen on %s", l);
	if (ai != NULL)
		freeaddrinfo(ai);
	if (fd >= 0)
		close(fd);
	return -1;
}

int
feed_accept_start(struct lws_vhost *vh, const char *listen_on)
{
	feed_vh = vh;
	if ((feed_listen_fd = feed_accept_socket(listen_on)) < 0)
		return -1;
	ev_io_init(&feed_listen_w, feed_accept_on_listen, feed_listen_fd, EV_READ);
	ev_timer_init(&feed_listen_pause, feed_accept_on_pause, 1., 0.);
	ev_io_start(feed_ev_loop(), &feed_listen_w);
	return 0;
}

void
feed_accept_stop(void)
{
	feed_accept_stopped = true;
	if (feed_listen_fd >= 0) {
		ev_io_stop(feed_ev_loop(), &feed_listen_w);
		ev_timer_stop(feed_ev_loop(), &feed_listen_pause);
		close(feed_listen_fd);
		feed_listen_fd = -1;
	}
	while (feed_pres != NULL)
		feed_pre_end(feed_pres);
	while (feed_helds != NULL) {
		struct feed_held *h = feed_helds;

		feed_helds = h->next;
		free(h);
	}
}
