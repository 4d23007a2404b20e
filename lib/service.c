/*
 * service: the start and the stop of long-running programs (see service.h).
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "service.h"

static volatile sig_atomic_t service_stop;
static void (*service_also)(void);

void
service_init(const char *prog, enum config_prog kind, const char *usage,
    const struct service_flag *flags, int argc, char **argv)
{
	char err[256];

	log_init(prog, LOG_LVL_INFO);
	if (argc > 1 && strcmp(argv[1], "--config-help") == 0) {
		config_print_markdown(stdout);
		exit(0);
	}
	for (const struct service_flag *f = flags; argc > 1 && f != NULL && f->name != NULL; f++)
		if (strcmp(argv[1], f->name) == 0) {
			f->print(stdout);
			exit(0);
		}
	if (argc > 1) {
		fprintf(stderr, "usage: %s %s\n", prog, usage);
		exit(2);
	}
	if (config_load(kind, err, sizeof(err)) != 0)
		log_fatal("%s", err);
}

static void
service_on_signal(int sig)
{
	(void)sig;
	service_stop = 1;
	if (service_also != NULL)
		service_also();
}

void
service_signals(void (*also)(void))
{
	struct sigaction sa;

	service_also = also;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = service_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

int
service_stopping(void)
{
	return service_stop != 0;
}

struct db *
service_db(int statement_timeout_ms)
{
	struct db *db = db_new(cfg.database_url, (int)cfg.db_connect_timeout, statement_timeout_ms);

	if (db == NULL)
		log_fatal("out of memory");
	return db;
}
