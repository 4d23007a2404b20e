/*
 * kbook-api: the FastCGI application. spawn-fcgi hands us the listening socket as fd 0; this
 * process becomes a small supervisor that forks KBOOK_API_WORKERS single-threaded workers on that
 * socket, restarts a worker that dies, and on SIGTERM/SIGINT passes the signal on and waits for
 * them. Each worker holds one persistent Postgres connection and runs the accept loop until
 * SIGTERM interrupts accept (FCGI_FAIL_ACCEPT_ON_INTR), finishing the request in hand first.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <fcgiapp.h>
#include <curl/curl.h>
#include "config.h"
#include "db.h"
#include "log.h"
#include "route.h"
#include "service.h"
#include "stripe_api.h"

#define MAX_WORKERS 256

static void
access_log(const struct req *req, const struct timespec *t0)
{
	struct timespec t1;
	long us;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	us = (t1.tv_sec - t0->tv_sec) * 1000000L + (t1.tv_nsec - t0->tv_nsec) / 1000L;
	log_info("%s %s %d %ldus request_id=%s", req->method, req->path, req->status, us,
	    req->request_id);
}

static int
worker_main(void)
{
	FCGX_Request fcgi;
	struct db *db;
	int rc = 0;

	db = service_db((int)cfg.db_statement_timeout_ms);
	(void)db_ensure(db); /* connect early; a failure is retried per request */
	if (FCGX_Init() != 0 || FCGX_InitRequest(&fcgi, 0, FCGI_FAIL_ACCEPT_ON_INTR) != 0)
		log_fatal("cannot initialise libfcgi");
	while (!service_stopping()) {
		struct req req;
		struct timespec t0;
		int err;

		if (FCGX_Accept_r(&fcgi) < 0) {
			if (!service_stopping()) {
				log_errorx("FastCGI accept failed");
				rc = 1;
			}
			break;
		}
		clock_gettime(CLOCK_MONOTONIC, &t0);
		if ((err = req_init(&req, &fcgi, db, (size_t)cfg.api_max_body)) != 0)
			req_send_error(&req, (enum api_err)err, "%s",
			    req.init_error != NULL ? req.init_error : "bad request");
		else
			route_dispatch(&req);
		access_log(&req, &t0);
		req_reset(&req);
		FCGX_Finish_r(&fcgi);
	}
	FCGX_Free(&fcgi, 0);
	db_close(db);
	log_info("worker stopped");
	return rc;
}

/* Forks one worker; returns its pid in the parent, never returns in the child. */
static pid_t
spawn_worker(void)
{
	pid_t parent = getpid();
	pid_t pid = fork();

	if (pid == 0) {
		int rc;

		/* a worker must not outlive its supervisor (kill -9 of the pool) */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(0);
		rc = worker_main();

		config_free();
		exit(rc); /* exit, not _exit: LeakSanitizer checks at exit in the sanitizer build */
	}
	if (pid < 0)
		log_error("fork");
	return pid;
}

static int
supervise(int nworkers)
{
	pid_t pids[MAX_WORKERS];
	int alive = 0;

	for (int i = 0; i < nworkers; i++)
		if ((pids[i] = spawn_worker()) > 0)
			alive++;
	log_info("kbook-api started with %d workers", alive);
	while (alive > 0) {
		int status;
		pid_t pid = wait(&status);

		if (pid < 0) {
			if (errno == EINTR) {
				if (service_stopping())
					for (int i = 0; i < nworkers; i++)
						if (pids[i] > 0)
							kill(pids[i], SIGTERM);
				continue;
			}
			break;
		}
		for (int i = 0; i < nworkers; i++) {
			if (pids[i] != pid)
				continue;
			alive--;
			pids[i] = -1;
			if (!service_stopping()) {
				log_warnx("worker %ld exited (status %d); restarting", (long)pid, status);
				sleep(1);
				if ((pids[i] = spawn_worker()) > 0)
					alive++;
			}
		}
	}
	log_info("kbook-api stopped");
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct service_flag flags[] = {
		{ "--routes", routes_dump },
		{ NULL, NULL },
	};
	int rc;

	service_init("kbook-api", CFG_API, "[--config-help | --routes]  (run under spawn-fcgi)", flags,
	    argc, argv);
	/*
	 * libfcgi closes each request's connection with shutdown(), then a poll() of up to 2 s and
	 * reads until nginx closes its end, so that unread request bytes cannot make a TCP stack send
	 * a reset over the answer. That wait is a sleep and a wake-up per request: 11-18 % of the
	 * orderbook route's throughput at 16 connections, measured. nginx has sent the whole request,
	 * body included (client_max_body_size 64k, request buffering on, a unix socket), before we
	 * answer, so nothing is left to drain: the poll is made non-blocking (timeout 0; whatever has
	 * arrived is still read). An operator's own setting of the variable is kept. (Set before
	 * FCGX_IsCGI, which initialises libfcgi, and so reads it.)
	 */
	(void)setenv("LIBFCGI_OS_CLOSE_POLL_TIMEOUT", "0", 0);
	if (FCGX_IsCGI())
		log_fatal("not started on a FastCGI socket: run kbook-api under spawn-fcgi");
	/* Stripe's secret key, read once before the fork (billing routes answer 503 without it) */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		log_fatal("cannot initialise libcurl");
	if (stripe_api_init() == 0)
		log_info("billing: Stripe at %s", cfg.stripe_api_base);
	/* accept() returns EINTR at a stop signal; libfcgi is told not to accept again */
	service_signals(FCGX_ShutdownPending);
	rc = supervise((int)cfg.api_workers);
	config_free();
	return rc;
}
