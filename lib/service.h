/*
 * service: what every long-running kbook program does the same way at start and at stop. The
 * services of the stack (kbook-api, kbook-billing, kbook-mailer) start logging under their name,
 * read their command line (--config-help and their own table-printing flags, nothing else) and
 * load their configuration; they and the sims (through lib/lwsrun) stop on SIGTERM or SIGINT.
 */
#ifndef KBOOK_SERVICE_H
#define KBOOK_SERVICE_H

#include <stdio.h>

#include "config.h"
#include "db.h"

/* A flag that prints one of the program's tables (e.g. kbook-api --routes) and exits 0. */
struct service_flag {
	const char *name;
	void (*print)(FILE *out);
};

/*
 * Starts logging as prog (at info), then reads the command line: --config-help prints the
 * configuration table (docs/configuration.md) and exits 0; a flag of flags (a table ended by a
 * NULL name; NULL for none) prints its table and exits 0; any other argument prints
 * "usage: <prog> <usage>" on stderr and exits 2. Then loads the configuration of the programs in
 * kind; an invalid one is fatal (log_fatal, naming the variable). Returns only when the program
 * is to run.
 */
void service_init(const char *prog, enum config_prog kind, const char *usage,
    const struct service_flag *flags, int argc, char **argv);

/*
 * From now on SIGTERM and SIGINT make service_stopping() true and call also (NULL for nothing;
 * it runs in the signal handler, so it must be async-signal-safe). They are installed without
 * SA_RESTART, so a blocking accept, poll or sleep returns early (EINTR) and the program's loop
 * sees the flag at once. SIGPIPE is ignored: a peer gone is an EPIPE of the write, never a death.
 */
void service_signals(void (*also)(void));

/* True once SIGTERM or SIGINT arrived (after service_signals). */
int service_stopping(void);

/*
 * The program's Postgres connection (lib/db) to KBOOK_DATABASE_URL with the configured connect
 * timeout, and statement_timeout_ms (0 for none). Not connected yet (db_ensure connects); fatal
 * when out of memory. The caller closes it (db_close).
 */
struct db *service_db(int statement_timeout_ms);

#endif
