/*
 * mailq: the mails of the account routes, queued in mail_outbox inside the request's transaction
 * and sent afterwards by kbook-mailer (see account.h): a request never waits on SMTP, and a mail
 * whose request rolled back is never sent.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account.h"
#include "config.h"

/* $1 to, $2 subject, $3 body, $4 kind, $5 most mails to one address an hour */
static struct db_stmt q_add = DB_STMT("mailq_add",
    "INSERT INTO mail_outbox (to_addr, subject, body, kind) SELECT $1, $2, $3, $4"
    " WHERE (SELECT count(*) FROM mail_outbox WHERE to_addr = $1"
    "  AND created_at > now() - interval '1 hour') < $5::int", 5);

/* Each mail is head, the link (when it has one), tail. */
static const struct {
	const char *kind, *subject, *head, *tail;
} mails[] = {
	[MAIL_CONFIRM] = { "confirm", "Confirm your kbook account",
	    "Welcome to kbook.\n\nConfirm this email address to start using your API keys:\n\n",
	    "\n\nThe link works once. If you did not sign up, ignore this mail.\n" },
	[MAIL_EXISTS] = { "exists", "Your kbook account",
	    "Someone (perhaps you) tried to sign up to kbook with this email address, which already "
	    "has an account.", "\n\nTo log in, use your password; if you forgot it, ask for a reset "
	    "link on the login page. If it was not you, nothing has changed.\n" },
	[MAIL_RESET] = { "reset", "Reset your kbook password",
	    "A password reset was asked for the kbook account of this email address.\n\n"
	    "Choose a new password here (the link works once, for a limited time):\n\n",
	    "\n\nIf you did not ask for it, ignore this mail: your password stays as it is.\n" },
	[MAIL_PASSWORD_CHANGED] = { "password_changed", "Your kbook password was changed",
	    "The password of your kbook account was just changed, and every other session ended.",
	    "\n\nIf it was not you, reset your password from the login page at once.\n" },
	[MAIL_DELETED] = { "deleted", "Your kbook account was deleted",
	    "Your kbook account was deleted and its API keys revoked.", "\n" },
};

int
mailq_add(struct db *db, const char *to, enum mail_kind kind, const char *token)
{
	char link[512] = "", body[2048], limit[16];
	const char *params[] = { to, mails[kind].subject, body, mails[kind].kind, limit };
	PGresult *res;

	if (token != NULL) {
		size_t n = strlen(cfg.public_url);

		while (n > 0 && cfg.public_url[n - 1] == '/') /* "https://host/" names the same site */
			n--;
		snprintf(link, sizeof(link), "%.*s/%s?token=%s", (int)n, cfg.public_url,
		    kind == MAIL_RESET ? "reset" : "confirm", token);
	}
	snprintf(body, sizeof(body), "%s%s%s", mails[kind].head, link, mails[kind].tail);
	snprintf(limit, sizeof(limit), "%d", MAILQ_PER_HOUR);
	if ((res = db_exec(db, &q_add, params)) == NULL)
		return -1;
	PQclear(res);
	return 0;
}
