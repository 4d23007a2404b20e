/*
 * mserv: see mserv.h. One server a process (both daemons serve one port).
 */
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "log.h"
#include "mserv.h"

static int listen_fd = -1;
static pthread_t thread;
static const struct mserv_ops *mops;

static void
serve(int fd)
{
	static char body[16384]; /* the server's thread only */
	char req[1024], head[256];
	const char *status = "404 Not Found";
	ssize_t n = read(fd, req, sizeof(req) - 1);
	size_t len;
	int hn;

	if (n <= 0)
		return;
	req[n] = '\0';
	if (strncmp(req, "GET /metrics ", 13) == 0) {
		status = "200 OK";
		len = mops->render(body, sizeof(body));
	} else if (strncmp(req, "GET /healthz ", 13) == 0) {
		status = mops->healthy(body, sizeof(body)) ? "200 OK" : "503 Service Unavailable";
		len = strlen(body);
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
mserv_main(void *arg)
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
mserv_start(int port, const struct mserv_ops *ops)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int one = 1;

	if (port == 0)
		return 0;
	mops = ops;
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
	if (pthread_create(&thread, NULL, mserv_main, NULL) != 0) {
		close(listen_fd);
		listen_fd = -1;
		return -1;
	}
	log_info("/metrics and /healthz on 127.0.0.1:%d", port);
	return 0;
}

void
mserv_stop(void)
{
	if (listen_fd < 0)
		return;
	shutdown(listen_fd, SHUT_RDWR);
	pthread_join(thread, NULL);
	close(listen_fd);
	listen_fd = -1;
}
