/*
 * config: the one table of environment variables. Each row names the variable, its default, its
 * parser, the programs that read it, a line of help, and where the parsed value goes. Adding a
 * setting is adding a row here and a field in struct config; docs/configuration.md is checked
 * against this table by the tests.
 */
#include <errno.h>
#include <stddef.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"

struct config cfg;

enum config_type { CT_STRING, CT_INT, CT_LOGLEVEL };

struct config_var {
	const char *name;
	const char *def;
	enum config_type type;
	int64_t min, max;    /* CT_INT bounds, inclusive */
	unsigned progs;
	const char *help;
	size_t off;          /* offset of the destination in struct config */
};

#define OFF(f) offsetof(struct config, f)

static const struct config_var config_vars[] = {
	{ "KBOOK_DATABASE_URL", "dbname=kbook", CT_STRING, 0, 0, CFG_ALL,
	  "libpq connection string of the kbook database (host may be a unix socket directory)",
	  OFF(database_url) },
	{ "KBOOK_LOG_LEVEL", "info", CT_LOGLEVEL, 0, 0, CFG_ALL,
	  "least severe log level written to stderr: debug, info, warn or error", OFF(log_level) },
	{ "KBOOK_DB_CONNECT_TIMEOUT", "3", CT_INT, 1, 60, CFG_ALL,
	  "seconds to wait for a Postgres connection before giving up (libpq connect_timeout)",
	  OFF(db_connect_timeout) },
	{ "KBOOK_DB_STATEMENT_TIMEOUT_MS", "10000", CT_INT, 0, 3600000, CFG_API | CFG_FEEDD,
	  "statement_timeout of API connections in milliseconds (0 disables)",
	  OFF(db_statement_timeout_ms) },
	{ "KBOOK_API_WORKERS", "4", CT_INT, 1, 256, CFG_API,
	  "kbook-api worker processes forked on the FastCGI socket", OFF(api_workers) },
	{ "KBOOK_API_MAX_BODY", "65536", CT_INT, 0, 16777216, CFG_API,
	  "largest request body kbook-api reads, in bytes (nginx enforces its own limit first)",
	  OFF(api_max_body) },
	{ "KBOOK_KALSHI_WS_URL", "wss://external-api-ws.kalshi.com/trade-api/ws/v2", CT_STRING, 0, 0,
	  CFG_COLLECTOR, "Kalshi WebSocket URL (ws:// for kalshi-sim on loopback)", OFF(kalshi_ws_url) },
	{ "KBOOK_KALSHI_REST_URL", "https://external-api.kalshi.com/trade-api/v2", CT_STRING, 0, 0,
	  CFG_COLLECTOR, "Kalshi REST base URL, up to /trade-api/v2", OFF(kalshi_rest_url) },
	{ "KBOOK_KALSHI_KEY_ID", "", CT_STRING, 0, 0, CFG_COLLECTOR,
	  "Kalshi API key id (a UUID) sent as KALSHI-ACCESS-KEY", OFF(kalshi_key_id) },
	{ "KBOOK_KALSHI_KEY_FILE", "", CT_STRING, 0, 0, CFG_COLLECTOR,
	  "PEM file of the Kalshi RSA private key (PKCS#1 or PKCS#8) that signs the handshake",
	  OFF(kalshi_key_file) },
	{ "KBOOK_COLLECTOR_SUB_MAX", "200", CT_INT, 1, 10000, CFG_COLLECTOR,
	  "most markets in one orderbook_delta subscription", OFF(collector_sub_max) },
	{ "KBOOK_COLLECTOR_CHECKPOINT_EVERY", "1000", CT_INT, 1, 100000000, CFG_COLLECTOR,
	  "deltas of a market between two periodic checkpoints of its book", OFF(collector_checkpoint_every) },
	{ "KBOOK_COLLECTOR_CHECKPOINT_MINUTES", "1440", CT_INT, 0, 100000, CFG_COLLECTOR,
	  "every book is also checkpointed at each multiple of this many minutes since the epoch, UTC (1440: every midnight; 0: never)",
	  OFF(collector_checkpoint_minutes) },
	{ "KBOOK_COLLECTOR_CHECKPOINT_SECONDS", "0", CT_INT, 0, 6000000, CFG_COLLECTOR,
	  "the same period in seconds, used instead of the minutes when not 0 (tests, short periods)",
	  OFF(collector_checkpoint_seconds) },
	{ "KBOOK_COLLECTOR_QUEUE_MAX", "1000000", CT_INT, 1000, 100000000, CFG_COLLECTOR,
	  "events queued between the socket reader and the database writer before overflow gaps",
	  OFF(collector_queue_max) },
	{ "KBOOK_COLLECTOR_SILENCE_S", "30", CT_INT, 2, 3600, CFG_COLLECTOR,
	  "seconds without a valid frame or pong after which the connection is dead and is remade",
	  OFF(collector_silence_s) },
	{ "KBOOK_FEEDD_LISTEN", "127.0.0.1:8091", CT_STRING, 0, 0, CFG_FEEDD,
	  "where kbook-feedd listens: host:port, or the path of a unix socket (starts with /)",
	  OFF(feedd_listen) },
	{ "KBOOK_FEEDD_SEND_MAX", "4194304", CT_INT, 4096, 1073741824, CFG_FEEDD,
	  "bytes queued for one feed client before it is dropped as too slow", OFF(feedd_send_max) },
	{ "KBOOK_FEEDD_MARKETS_MAX", "10000", CT_INT, 1, 100000, CFG_FEEDD,
	  "ceiling on markets per feed connection, over every plan's own limit (error 26 past it)",
	  OFF(feedd_markets_max) },
	{ "KBOOK_FEEDD_KEY_CONNS", "10000", CT_INT, 1, 100000, CFG_FEEDD,
	  "ceiling on feed connections open at once per API key, over every plan's own limit (429 past it)",
	  OFF(feedd_key_conns) },
	{ "KBOOK_FEEDD_STATEMENT_TIMEOUT_MS", "1000", CT_INT, 10, 600000, CFG_FEEDD,
	  "statement_timeout of kbook-feedd's query connection in milliseconds: the longest one query may stall the event loop",
	  OFF(feedd_statement_timeout_ms) },
	{ "KBOOK_FEEDD_REPLAY_MAX", "100000", CT_INT, 1, 100000000, CFG_FEEDD,
	  "most recorded changes one subscribe with since replays per market (error 11 past it)",
	  OFF(feedd_replay_max) },
	{ "KBOOK_FEEDD_REPLAY_MEM", "67108864", CT_INT, 65536, 17179869184, CFG_FEEDD,
	  "bytes of since replays kbook-feedd holds queued over every client at once; a replay reads its next chunk only under it",
	  OFF(feedd_replay_mem) },
	{ "KBOOK_FEEDD_PING_S", "10", CT_INT, 1, 3600, CFG_FEEDD,
	  "seconds between heartbeat pings; a client silent for three times that is dropped",
	  OFF(feedd_ping_s) },
	{ "KBOOK_FEEDD_CHARGE_S", "3600", CT_INT, 1, 86400, CFG_FEEDD,
	  "a feed connection is charged 1 credit per subscribed market per started period of this many seconds",
	  OFF(feedd_charge_s) },
	{ "KBOOK_COLLECTOR_METRICS_PORT", "9471", CT_INT, 0, 65535, CFG_COLLECTOR,
	  "port of the collector's /metrics and /healthz on 127.0.0.1 (0: none)",
	  OFF(collector_metrics_port) },
	{ "KBOOK_COLLECTOR_SPOOL_FILE", "kbook-collector.spool", CT_STRING, 0, 0, CFG_COLLECTOR,
	  "append-only file the collector writes to while Postgres is unreachable, replayed when it is back",
	  OFF(collector_spool_file) },
	{ "KBOOK_COLLECTOR_SPOOL_AFTER_S", "5", CT_INT, 0, 3600, CFG_COLLECTOR,
	  "seconds of failed database writes after which the collector spools to the file",
	  OFF(collector_spool_after_s) },
	{ "KBOOK_COLLECTOR_COMMIT_MS", "10", CT_INT, 0, 1000, CFG_COLLECTOR,
	  "milliseconds between the starts of two group commits at the least (0: commit at once)",
	  OFF(collector_commit_ms) },
	{ "KBOOK_COLLECTOR_RESCAN_S", "600", CT_INT, 0, 86400, CFG_COLLECTOR,
	  "seconds between two REST re-scans of every market, a safety net for missed lifecycle messages (0: never)",
	  OFF(collector_rescan_s) },
	{ "KBOOK_PUBLIC_URL", "http://127.0.0.1:8080", CT_STRING, 0, 0, CFG_API,
	  "the site's public base URL (scheme://host[:port], no path): state-changing requests must come from this origin, and mail links point at it",
	  OFF(public_url) },
	{ "KBOOK_SESSION_IDLE_S", "172800", CT_INT, 60, 31536000, CFG_API,
	  "a session unused for this many seconds ends (idle expiry)", OFF(session_idle_s) },
	{ "KBOOK_SESSION_MAX_S", "2592000", CT_INT, 60, 31536000, CFG_API,
	  "a session ends this many seconds after its login, however used (absolute expiry)",
	  OFF(session_max_s) },
	{ "KBOOK_CONFIRM_LINK_S", "172800", CT_INT, 60, 2592000, CFG_API,
	  "seconds an email confirmation link stays valid", OFF(confirm_link_s) },
	{ "KBOOK_RESET_LINK_S", "3600", CT_INT, 1, 86400, CFG_API,
	  "seconds a password reset link stays valid (it works once)", OFF(reset_link_s) },
	{ "KBOOK_KEYS_MAX", "20", CT_INT, 1, 1000, CFG_API,
	  "most API keys not revoked one account may hold", OFF(keys_max) },
	{ "KBOOK_SMTP_URL", "smtp://127.0.0.1:25", CT_STRING, 0, 0, CFG_MAILER,
	  "the SMTP server kbook-mailer sends through: smtp://host:port, or smtps://host:port for TLS from the start",
	  OFF(smtp_url) },
	{ "KBOOK_SMTP_USER", "", CT_STRING, 0, 0, CFG_MAILER,
	  "SMTP user name (empty: no authentication)", OFF(smtp_user) },
	{ "KBOOK_SMTP_PASSWORD_FILE", "", CT_STRING, 0, 0, CFG_MAILER,
	  "file holding the SMTP password (read at start; never logged)", OFF(smtp_password_file) },
	{ "KBOOK_SMTP_TLS", "try", CT_STRING, 0, 0, CFG_MAILER,
	  "STARTTLS on smtp:// URLs: require (refuse to send without it), try (use it when offered) or none",
	  OFF(smtp_tls) },
	{ "KBOOK_MAIL_FROM", "kbook <noreply@localhost>", CT_STRING, 0, 0, CFG_MAILER,
	  "the From of every mail: a display name with the address in angle brackets, or the address alone", OFF(mail_from) },
	{ "KBOOK_MAIL_RETRY_MAX_S", "3600", CT_INT, 1, 86400, CFG_MAILER,
	  "longest wait between two attempts to send a mail (the wait doubles from 5 s up to this)",
	  OFF(mail_retry_max_s) },
	{ "KBOOK_STRIPE_API_BASE", "https://api.stripe.com", CT_STRING, 0, 0, CFG_API | CFG_BILLING,
	  "base URL of Stripe's API (make run and the tests point it at stripe-sim)", OFF(stripe_api_base) },
	{ "KBOOK_STRIPE_SECRET_KEY_FILE", "", CT_STRING, 0, 0, CFG_API | CFG_BILLING,
	  "file holding the Stripe secret key sk_... (read at start; never logged; empty: billing is off)",
	  OFF(stripe_secret_key_file) },
	{ "KBOOK_STRIPE_WEBHOOK_SECRETS_FILE", "", CT_STRING, 0, 0, CFG_API,
	  "file of the webhook endpoint's signing secrets whsec_..., one a line: an event signed with any of them is accepted (rotation)",
	  OFF(stripe_webhook_secrets_file) },
	{ "KBOOK_STRIPE_PRICE_PROJECT", "price_kbook_project", CT_STRING, 0, 0, CFG_API,
	  "the Stripe price of the project plan's subscription", OFF(stripe_price_project) },
	{ "KBOOK_STRIPE_METER_EVENT", "kbook_credits", CT_STRING, 0, 0, CFG_BILLING,
	  "event_name of the meter that bills pay-as-you-go overage credits", OFF(stripe_meter_event) },
	{ "KBOOK_BILLING_METRICS_PORT", "9473", CT_INT, 0, 65535, CFG_BILLING,
	  "port of kbook-billing's /metrics and /healthz on 127.0.0.1 (0: none)", OFF(billing_metrics_port) },
	{ "KBOOK_BILLING_BATCH", "50", CT_INT, 1, 1000, CFG_BILLING,
	  "outbox rows kbook-billing claims at once", OFF(billing_batch) },
	{ "KBOOK_BILLING_LEASE_S", "60", CT_INT, 1, 86400, CFG_BILLING,
	  "seconds a claimed outbox row waits before another sender may send it again (a sender killed mid-batch)",
	  OFF(billing_lease_s) },
	{ "KBOOK_BILLING_SETTLE_S", "60", CT_INT, 0, 3600, CFG_BILLING,
	  "seconds an overage row waits after its bucket closes before it is sent: longer than any data request runs, so a call that fails after its charge always finds its row unclaimed and refunds it",
	  OFF(billing_settle_s) },
	{ "KBOOK_BILLING_BUCKET_S", "60", CT_INT, 1, 3600, CFG_API | CFG_FEEDD,
	  "seconds of pay-as-you-go overage an account's outbox row collects: one meter event per account and bucket",
	  OFF(billing_bucket_s) },
	{ "KBOOK_BILLING_RETRY_MAX_S", "300", CT_INT, 1, 86400, CFG_BILLING,
	  "longest wait between two attempts to send a meter event (the wait doubles from 1 s up to this)",
	  OFF(billing_retry_max_s) },
	{ "KBOOK_HTTP_PORT", "8080", CT_INT, 1, 65535, CFG_STACK,
	  "port nginx listens on (127.0.0.1) in make run", OFF(stack_http_port) },
	{ "KBOOK_ACCOUNTS_WORKERS", "2", CT_INT, 1, 256, CFG_STACK,
	  "kbook-api workers of the second pool, which serves the account routes (/v1/account/..., /v1/session)",
	  OFF(stack_accounts_workers) },
	{ "KBOOK_NGINX_KEY_RATE", "20", CT_INT, 1, 1000000, CFG_STACK,
	  "nginx flood limit per API key, requests per second (burst twice that)",
	  OFF(stack_nginx_key_rate) },
	{ "KBOOK_NGINX_IP_RATE", "50", CT_INT, 1, 1000000, CFG_STACK,
	  "nginx flood limit per client address, requests per second (burst twice that)",
	  OFF(stack_nginx_ip_rate) },
	{ "KBOOK_SIM_PORT", "9420", CT_INT, 1, 65535, CFG_STACK,
	  "port of kalshi-sim, started by make run when KBOOK_KALSHI_KEY_ID is not set",
	  OFF(stack_sim_port) },
	{ "KBOOK_PG_PORT", "5433", CT_INT, 1, 65535, CFG_STACK,
	  "port number of the local Postgres (its unix socket name) in make run", OFF(stack_pg_port) },
};

#define NVARS (sizeof(config_vars) / sizeof(config_vars[0]))

/* Strict decimal integer: optional '-', digits only, no spaces, in [min, max]. */
static int
config_parse_int(const char *s, int64_t min, int64_t max, int64_t *out)
{
	char *end;
	long long v;

	if (*s == '\0' || *s == '+' || *s == ' ')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static const struct config_var *
config_find(const char *name, size_t len)
{
	for (size_t i = 0; i < NVARS; i++)
		if (strlen(config_vars[i].name) == len && strncmp(config_vars[i].name, name, len) == 0)
			return &config_vars[i];
	return NULL;
}

int
config_load(enum config_prog prog, char *errbuf, size_t errlen)
{
	extern char **environ;
	enum log_level lvl;

	config_free();
	for (char **e = environ; *e != NULL; e++) {
		const char *eq = strchr(*e, '=');

		if (strncmp(*e, "KBOOK_", 6) != 0 || eq == NULL)
			continue;
		if (config_find(*e, (size_t)(eq - *e)) == NULL) {
			snprintf(errbuf, errlen, "unknown configuration variable %.*s (see docs/configuration.md)",
			    (int)(eq - *e), *e);
			return -1;
		}
	}
	for (size_t i = 0; i < NVARS; i++) {
		const struct config_var *v = &config_vars[i];
		const char *val = getenv(v->name);
		char *dst = (char *)&cfg + v->off;

		if ((v->progs & (unsigned)prog) == 0)
			continue;
		if (val == NULL)
			val = v->def;
		switch (v->type) {
		case CT_STRING:
			if ((*(char **)dst = strdup(val)) == NULL) {
				snprintf(errbuf, errlen, "out of memory reading %s", v->name);
				return -1;
			}
			break;
		case CT_LOGLEVEL:
			if (log_level_parse(val, &lvl) != 0) {
				snprintf(errbuf, errlen, "%s: \"%s\" is not one of debug, info, warn, error",
				    v->name, val);
				return -1;
			}
			if ((*(char **)dst = strdup(val)) == NULL) {
				snprintf(errbuf, errlen, "out of memory reading %s", v->name);
				return -1;
			}
			log_set_level(lvl);
			break;
		case CT_INT:
			if (config_parse_int(val, v->min, v->max, (int64_t *)(void *)dst) != 0) {
				snprintf(errbuf, errlen, "%s: \"%s\" is not an integer in %" PRId64 "..%" PRId64,
				    v->name, val, v->min, v->max);
				return -1;
			}
			break;
		}
	}
	return 0;
}

void
config_print_markdown(FILE *out)
{
	static const struct { unsigned bit; const char *name; } names[] = {
		{ CFG_API, "api" }, { CFG_COLLECTOR, "collector" }, { CFG_FEEDD, "feedd" },
		{ CFG_ADMIN, "admin" }, { CFG_MAILER, "mailer" }, { CFG_BILLING, "billing" }, { CFG_STACK, "make run" },
	};

	fprintf(out, "| variable | default | read by | meaning |\n|---|---|---|---|\n");
	for (size_t i = 0; i < NVARS; i++) {
		const struct config_var *v = &config_vars[i];

		fprintf(out, "| `%s` | `%s` | ", v->name, v->def);
		if (v->progs == CFG_ALL) {
			fprintf(out, "all");
		} else {
			const char *sep = "";

			for (size_t j = 0; j < sizeof(names) / sizeof(names[0]); j++) {
				if (v->progs & names[j].bit) {
					fprintf(out, "%s%s", sep, names[j].name);
					sep = ", ";
				}
			}
		}
		fprintf(out, " | %s |\n", v->help);
	}
}

void
config_free(void)
{
	for (size_t i = 0; i < NVARS; i++) {
		const struct config_var *v = &config_vars[i];

		if (v->type == CT_STRING || v->type == CT_LOGLEVEL) {
			char **p = (char **)(void *)((char *)&cfg + v->off);

			free(*p);
			*p = NULL;
		}
	}
}
