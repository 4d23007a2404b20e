/*
 * kbook-mailer: sends the mail the account routes queue in mail_outbox through an SMTP
 * server with libcurl, so that no request ever waits on SMTP and a mail whose server is away is
 * retried, never lost.
 *
 * One mail at a time: a statement claims the oldest due mail (a lease of LEASE_S seconds, so a
 * mailer that dies while sending leaves it to be sent again: delivery is at least once), commits,
 * sends with no transaction open, then records the outcome: sent (the body, which may hold a
 * link's token, is blanked) or failed (the next attempt after 5 s, 10 s, 20 s ... up to
 * KBOOK_MAIL_RETRY_MAX_S, the error kept in last_error). It sleeps on LISTEN kbook_mail (a trigger
 * notifies each queued mail) and wakes at least every POLL_S seconds for the retries.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <sodium.h>

#include "backoff.h"
#include "config.h"
#include "db.h"
#include "log.h"
#include "service.h"

#define LEASE_S "300" /* seconds */
#define POLL_S 5
#define SMTP_TIMEOUT_S 30

static struct db_stmt q_claim = DB_STMT("mail_claim",
    "UPDATE mail_outbox SET attempts = attempts + 1,"
    " next_attempt_at = now() + interval '" LEASE_S " seconds'"
    " WHERE id = (SELECT id FROM mail_outbox WHERE sent_at IS NULL AND next_attempt_at <= now()"
    "  ORDER BY next_attempt_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)"
    " RETURNING id, to_addr, subject, body, kind, attempts", 0);

static struct db_stmt q_sent = DB_STMT("mail_sent",
    "UPDATE mail_outbox SET sent_at = now(), body = '', last_error = NULL WHERE id = $1::bigint", 1);

/* $1 id, $2 error, $3 seconds until the next attempt */
static struct db_stmt q_failed = DB_STMT("mail_failed",
    "UPDATE mail_outbox SET last_error = $2, next_attempt_at = now() + make_interval(secs => $3::int)"
    " WHERE id = $1::bigint", 3);

struct message {
	char *text;
	size_t len, off;
};

static size_t
read_cb(char *buf, size_t size, size_t n, void *arg)
{
	struct message *m = arg;
	size_t want = size * n, left = m->len - m->off;

	if (want > left)
		want = left;
	memcpy(buf, m->text + m->off, want);
	m->off += want;
	return want;
}

/* The address of a From setting "Name <addr>" or "addr", into out. */
static void
from_address(const char *from, char *out, size_t cap)
{
	const char *lt = strchr(from, '<'), *gt = lt != NULL ? strchr(lt, '>') : NULL;

	if (lt != NULL && gt != NULL)
		snprintf(out, cap, "%.*s", (int)(gt - lt + 1), lt);
	else
		snprintf(out, cap, "<%s>", from);
}

/* Builds the RFC 5322 message (CRLF lines). Returns 0 or -1. */
static int
compose(struct message *m, const char *to, const char *subject, const char *body, int64_t id)
{
	char date[64], msgid[192], host[128] = "localhost";
	unsigned char r[8];
	time_t now = time(NULL);
	struct tm tm;
	const char *at = strrchr(cfg.mail_from, '@');
	size_t n = 0;
	char *out;

	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	if (at != NULL)
		snprintf(host, sizeof(host), "%.*s", (int)strcspn(at + 1, ">"), at + 1);
	randombytes_buf(r, sizeof(r));
	snprintf(msgid, sizeof(msgid), "<%" PRId64 ".%02x%02x%02x%02x%02x%02x%02x%02x@%.100s>", id, r[0],
	    r[1], r[2], r[3], r[4], r[5], r[6], r[7], host);
	/* the body's lines get CRLF; a line starting with '.' is left to libcurl, which escapes it */
	if ((out = malloc(1024 + strlen(subject) + strlen(to) + strlen(cfg.mail_from) + 2 * strlen(body))) == NULL)
		return -1;
	n = (size_t)sprintf(out, "Date: %s\r\nFrom: %s\r\nTo: <%s>\r\nSubject: %s\r\nMessage-ID: %s\r\n"
	    "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: 8bit\r\nAuto-Submitted: auto-generated\r\n\r\n",
	    date, cfg.mail_from, to, subject, msgid);
	for (const char *p = body; *p != '\0'; p++) {
		if (*p == '\n' && (p == body || p[-1] != '\r'))
			out[n++] = '\r';
		out[n++] = *p;
	}
	out[n] = '\0';
	m->text = out;
	m->len = n;
	m->off = 0;
	return 0;
}

/* Sends one mail; returns 0, or -1 with the reason in err. */
static int
smtp_send(const char *password, const char *to, struct message *m, char *err, size_t errlen)
{
	CURL *c = curl_easy_init();
	struct curl_slist *rcpt = NULL;
	char from[320], rcpt_addr[320], ebuf[CURL_ERROR_SIZE] = "";
	CURLcode rc;
	long tls = strcmp(cfg.smtp_tls, "require") == 0 ? (long)CURLUSESSL_ALL :
	    strcmp(cfg.smtp_tls, "none") == 0 ? (long)CURLUSESSL_NONE : (long)CURLUSESSL_TRY;

	if (c == NULL) {
		snprintf(err, errlen, "curl_easy_init failed");
		return -1;
	}
	from_address(cfg.mail_from, from, sizeof(from));
	snprintf(rcpt_addr, sizeof(rcpt_addr), "<%s>", to);
	rcpt = curl_slist_append(NULL, rcpt_addr);
	curl_easy_setopt(c, CURLOPT_URL, cfg.smtp_url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	curl_easy_setopt(c, CURLOPT_USE_SSL, tls);
	curl_easy_setopt(c, CURLOPT_MAIL_FROM, from);
	curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
	curl_easy_setopt(c, CURLOPT_READDATA, m);
	curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)SMTP_TIMEOUT_S);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, ebuf);
	if (cfg.smtp_user[0] != '\0') {
		curl_easy_setopt(c, CURLOPT_USERNAME, cfg.smtp_user);
		curl_easy_setopt(c, CURLOPT_PASSWORD, password);
	}
	rc = curl_easy_perform(c);
	if (rc != CURLE_OK)
		snprintf(err, errlen, "%s%s%s", curl_easy_strerror(rc), ebuf[0] != '\0' ? ": " : "", ebuf);
	curl_slist_free_all(rcpt);
	curl_easy_cleanup(c);
	return rc == CURLE_OK ? 0 : -1;
}

/* Claims and sends one due mail: 1 when one was handled, 0 when none was due, -1 on a database
 * error. */
static int
send_one(struct db *db, const char *password)
{
	PGresult *res = db_exec(db, &q_claim, NULL);
	struct message m = { 0 };
	char id[24], err[512] = "";
	int attempts;

	if (res == NULL)
		return -1;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return 0;
	}
	snprintf(id, sizeof(id), "%s", PQgetvalue(res, 0, 0));
	attempts = atoi(PQgetvalue(res, 0, 5));
	if (compose(&m, PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2), PQgetvalue(res, 0, 3),
	    strtoll(id, NULL, 10)) != 0)
		snprintf(err, sizeof(err), "out of memory");
	else if (smtp_send(password, PQgetvalue(res, 0, 1), &m, err, sizeof(err)) == 0)
		err[0] = '\0';
	if (err[0] == '\0') {
		const char *p[] = { id };
		PGresult *r2 = db_exec(db, &q_sent, p);

		log_info("mail %s (%s) sent", id, PQgetvalue(res, 0, 4));
		PQclear(r2);
	} else {
		char wait[24];
		const char *p[] = { id, err, wait };
		PGresult *r2;

		/* 5 s, 10 s, 20 s ... up to KBOOK_MAIL_RETRY_MAX_S */
		snprintf(wait, sizeof(wait), "%" PRId64, backoff_wait(attempts, 5, cfg.mail_retry_max_s));
		log_warnx("mail %s (%s) not sent (attempt %d; next in %s s): %s", id,
		    PQgetvalue(res, 0, 4), attempts, wait, err);
		if ((r2 = db_exec(db, &q_failed, p)) != NULL)
			PQclear(r2);
	}
	free(m.text);
	PQclear(res);
	return 1;
}

/* Listens for kbook_mail on a (new) connection. */
static void
listen_mail(struct db *db, unsigned *gen)
{
	PGresult *res;

	if (db_ensure(db) != 0 || db_generation(db) == *gen)
		return;
	if ((res = db_exec_sql(db, "LISTEN kbook_mail", 0, NULL)) != NULL) {
		PQclear(res);
		*gen = db_generation(db);
	}
}

/* Waits up to POLL_S seconds for a notification (or a signal). */
static void
wait_mail(struct db *db)
{
	PGconn *conn = db_conn(db);
	struct pollfd pfd;

	if (conn == NULL || PQsocket(conn) < 0) {
		sleep(POLL_S);
		return;
	}
	pfd.fd = PQsocket(conn);
	pfd.events = POLLIN;
	if (poll(&pfd, 1, POLL_S * 1000) > 0 && PQconsumeInput(conn)) {
		PGnotify *n;

		while ((n = PQnotifies(conn)) != NULL)
			PQfreemem(n);
	}
}

/* The SMTP password from its file (trailing newline removed), or "" when none is configured. */
static char *
read_password(void)
{
	FILE *f;
	char buf[1024] = "";
	size_t n;

	if (cfg.smtp_password_file[0] == '\0')
		return strdup("");
	if ((f = fopen(cfg.smtp_password_file, "r")) == NULL)
		log_fatal("cannot read KBOOK_SMTP_PASSWORD_FILE %s: %s", cfg.smtp_password_file,
		    strerror(errno));
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	return strdup(buf);
}

int
main(int argc, char **argv)
{
	char *password;
	struct db *db;
	unsigned gen = 0;

	service_init("kbook-mailer", CFG_MAILER, "[--config-help]", NULL, argc, argv);
	if (strcmp(cfg.smtp_tls, "require") != 0 && strcmp(cfg.smtp_tls, "try") != 0 &&
	    strcmp(cfg.smtp_tls, "none") != 0)
		log_fatal("KBOOK_SMTP_TLS: \"%s\" is not one of require, try, none", cfg.smtp_tls);
	if (sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		log_fatal("cannot initialise libsodium or libcurl");
	password = read_password();
	service_signals(NULL);
	db = service_db(0);
	log_info("kbook-mailer started: sending through %s", cfg.smtp_url);
	while (!service_stopping()) {
		listen_mail(db, &gen);
		while (!service_stopping() && send_one(db, password) == 1)
			;
		if (service_stopping())
			break;
		if (db_conn(db) == NULL || PQstatus(db_conn(db)) != CONNECTION_OK)
			sleep(1);
		else
			wait_mail(db);
	}
	log_info("kbook-mailer stopped");
	db_close(db);
	free(password);
	curl_global_cleanup();
	config_free();
	return 0;
}
