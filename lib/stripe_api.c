/*
 * stripe_api: see stripe_api.h.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "config.h"
#include "log.h"
#include "stripe_api.h"

#define TIMEOUT_S 20L

static char key[256];

int
stripe_api_init(void)
{
	FILE *f;
	size_t n;

	key[0] = '\0';
	if (cfg.stripe_secret_key_file == NULL || cfg.stripe_secret_key_file[0] == '\0')
		return -1;
	if ((f = fopen(cfg.stripe_secret_key_file, "r")) == NULL) {
		log_warn("cannot read KBOOK_STRIPE_SECRET_KEY_FILE %s", cfg.stripe_secret_key_file);
		return -1;
	}
	n = fread(key, 1, sizeof(key) - 1, f);
	fclose(f);
	key[n] = '\0';
	key[strcspn(key, "\r\n")] = '\0';
	if (strncmp(key, "sk_", 3) != 0 && strncmp(key, "rk_", 3) != 0) {
		log_warnx("KBOOK_STRIPE_SECRET_KEY_FILE %s does not hold an sk_ or rk_ key",
		    cfg.stripe_secret_key_file);
		key[0] = '\0';
		return -1;
	}
	return 0;
}

bool
stripe_api_enabled(void)
{
	return key[0] != '\0';
}

void
stripe_form_add(struct sbuf *b, const char *name, const char *value)
{
	static const char hex[] = "0123456789ABCDEF";

	if (b->len > 0)
		sbuf_add(b, "&", 1);
	sbuf_str(b, name);
	sbuf_add(b, "=", 1);
	for (const unsigned char *p = (const unsigned char *)value; *p != '\0'; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    *p == '-' || *p == '_' || *p == '.' || *p == '~')
			sbuf_add(b, (const char *)p, 1);
		else {
			char enc[3] = { '%', hex[*p >> 4], hex[*p & 15] };

			sbuf_add(b, enc, 3);
		}
	}
}

bool
stripe_retryable(long status)
{
	return status == 0 || status == 409 || status == 429 || status >= 500;
}

static size_t
write_cb(char *data, size_t size, size_t n, void *arg)
{
	sbuf_add(arg, data, size * n);
	return size * n;
}

/* One POST; returns the HTTP status, or 0 when no answer came (logged). */
static long
post_once(const char *url, const struct sbuf *form, struct curl_slist *hdrs, struct sbuf *resp)
{
	CURL *c = curl_easy_init();
	char ebuf[CURL_ERROR_SIZE] = "";
	long status = 0;
	CURLcode rc;

	if (c == NULL)
		return 0;
	sbuf_reset(resp);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_POST, 1L);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, form->len > 0 ? form->p : "");
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)form->len);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, resp);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, TIMEOUT_S);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 5L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, ebuf);
	if ((rc = curl_easy_perform(c)) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	else
		log_warnx("stripe: POST %s: %s%s%s", url, curl_easy_strerror(rc), ebuf[0] ? ": " : "", ebuf);
	curl_easy_cleanup(c);
	return status;
}

int
stripe_post(const char *path, const struct sbuf *form, const char *idem_key, int tries,
    long *status, struct sbuf *resp)
{
	char url[1024], auth[320], idem[320];
	struct curl_slist *hdrs = NULL;
	long wait_ms = 250;

	*status = 0;
	if (!stripe_api_enabled())
		return -1;
	snprintf(url, sizeof(url), "%s%s", cfg.stripe_api_base, path);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", key);
	snprintf(idem, sizeof(idem), "Idempotency-Key: %s", idem_key);
	hdrs = curl_slist_append(hdrs, auth);
	hdrs = curl_slist_append(hdrs, idem);
	hdrs = curl_slist_append(hdrs, "Stripe-Version: " STRIPE_API_VERSION);
	hdrs = curl_slist_append(hdrs, "Content-Type: application/x-www-form-urlencoded");
	hdrs = curl_slist_append(hdrs, "Expect:");
	for (int i = 0; i < tries; i++) {
		if (i > 0) {
			struct timespec ts = { wait_ms / 1000, (wait_ms % 1000) * 1000000 };

			while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
				;
			wait_ms *= 2;
		}
		*status = post_once(url, form, hdrs, resp);
		if (!stripe_retryable(*status))
			break;
	}
	curl_slist_free_all(hdrs);
	return *status >= 200 && *status < 300 ? 0 : -1;
}
