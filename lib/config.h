/*
 * config: every environment variable of every kbook program, in one table (lib/config.c).
 *
 * config_load() reads the table once at start-up: each variable the calling program uses is
 * parsed (default when unset) and stored in the global `cfg`; a malformed value, or any KBOOK_*
 * variable that is not in the table (a typo), is a fatal start-up error naming the variable.
 * docs/configuration.md lists the same table (`kbook-api --config-help` prints it).
 */
#ifndef KBOOK_CONFIG_H
#define KBOOK_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* Which programs read a variable (a bit mask, so one table serves all). */
enum config_prog {
	CFG_API = 1 << 0,
	CFG_COLLECTOR = 1 << 1,
	CFG_FEEDD = 1 << 2,
	CFG_ADMIN = 1 << 3,
	CFG_STACK = 1 << 4, /* read by the scripts of make run, not by a C program */
	CFG_MAILER = 1 << 5,
	CFG_BILLING = 1 << 6,
	CFG_ALL = 0xff,
};

struct config {
	char *database_url;       /* libpq connection string */
	char *log_level;
	int64_t db_connect_timeout;
	int64_t db_statement_timeout_ms;
	int64_t api_workers;
	int64_t api_max_body;
	char *kalshi_ws_url;      /* collector */
	char *kalshi_rest_url;
	char *kalshi_key_id;
	char *kalshi_key_file;
	int64_t collector_sub_max;
	int64_t collector_checkpoint_every;
	int64_t collector_checkpoint_minutes;
	int64_t collector_checkpoint_seconds;
	int64_t collector_queue_max;
	int64_t collector_silence_s;
	int64_t collector_metrics_port;
	char *collector_spool_file;
	int64_t collector_spool_after_s;
	int64_t collector_commit_ms;
	int64_t collector_rescan_s;
	char *feedd_listen;       /* feedd */
	int64_t feedd_send_max;
	int64_t feedd_markets_max;
	int64_t feedd_key_conns;
	int64_t feedd_statement_timeout_ms;
	int64_t feedd_replay_max;
	int64_t feedd_replay_mem;
	int64_t feedd_ping_s;
	int64_t feedd_charge_s;
	char *public_url;         /* accounts: the site's own origin and the base of mail links */
	int64_t session_idle_s;
	int64_t session_max_s;
	int64_t confirm_link_s;
	int64_t reset_link_s;
	int64_t keys_max;
	char *smtp_url;           /* kbook-mailer */
	char *smtp_user;
	char *smtp_password_file;
	char *smtp_tls;
	char *mail_from;
	int64_t mail_retry_max_s;
	char *stripe_api_base;    /* billing: kbook-api's Stripe calls and kbook-billing */
	char *stripe_secret_key_file;
	char *stripe_webhook_secrets_file;
	char *stripe_price_project;
	char *stripe_meter_event;
	int64_t billing_metrics_port;
	int64_t billing_batch;
	int64_t billing_lease_s;
	int64_t billing_retry_max_s;
	int64_t billing_settle_s;
	int64_t billing_bucket_s;
	int64_t stack_http_port;  /* read by scripts/run.sh; listed here so the table is complete */
	int64_t stack_pg_port;
	int64_t stack_sim_port;
	int64_t stack_accounts_workers;
	int64_t stack_nginx_key_rate;
	int64_t stack_nginx_ip_rate;
};

/* The loaded configuration; valid after config_load(), read-only afterwards. */
extern struct config cfg;

/*
 * Loads the variables used by prog from the environment. On a malformed value or an unknown
 * KBOOK_* variable, writes a message naming it to errbuf and returns -1.
 */
int config_load(enum config_prog prog, char *errbuf, size_t errlen);

/* Prints the table as a Markdown table (name, default, programs, meaning). */
void config_print_markdown(FILE *out);

/* Frees what config_load allocated. */
void config_free(void);

#endif
