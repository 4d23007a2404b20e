/*
 * rest: Kalshi's REST API over libcurl, for discovery: paging GET /markets at start and fetching
 * one market first seen on the socket. Requests are public (unsigned), each with its own easy
 * handle so either thread may call; a 429 answer is retried after a pause (Kalshi sends no
 * Retry-After). Bodies are parsed with json-c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "coll.h"
#include "log.h"

#define REST_BODY_MAX ((size_t)64 * 1024 * 1024)
#define REST_TRIES 10

struct body {
	char *p;
	size_t len;
};

static size_t
on_data(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct body *b = arg;
	size_t n = size * nmemb;
	char *p;

	if (b->len + n > REST_BODY_MAX || (p = realloc(b->p, b->len + n + 1)) == NULL)
		return 0;
	memcpy(p + b->len, ptr, n);
	b->p = p;
	b->len += n;
	b->p[b->len] = '\0';
	return n;
}

struct json_object *
coll_rest_get(const char *base, const char *path)
{
	char *url = NULL;
	struct body b = { 0 };
	struct json_object *o = NULL;
	CURL *c = NULL;
	long status = 0;

	if (asprintf(&url, "%s%s", base, path) < 0) {
		url = NULL;
		goto out;
	}
	if ((c = curl_easy_init()) == NULL)
		goto out;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "kbook-collector");
	for (int i = 0; i < REST_TRIES; i++) {
		CURLcode rc;

		free(b.p);
		b.p = NULL;
		b.len = 0;
		if ((rc = curl_easy_perform(c)) != CURLE_OK) {
			log_warnx("GET %s: %s", url, curl_easy_strerror(rc));
			goto out;
		}
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
		if (status != 429)
			break;
		struct timespec ts = { .tv_sec = 0, .tv_nsec = 250000000L * (i + 1 < 4 ? i + 1 : 3) };

		nanosleep(&ts, NULL);
	}
	if (status != 200 || b.p == NULL) {
		log_warnx("GET %s: HTTP %ld", url, status);
		goto out;
	}
	o = json_tokener_parse(b.p);
	if (o != NULL && !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		o = NULL;
	}
	if (o == NULL)
		log_warnx("GET %s: not a JSON object", url);
out:
	if (c != NULL)
		curl_easy_cleanup(c);
	free(b.p);
	free(url);
	return o;
}

long
coll_rest_markets(const char *base, void (*fn)(struct json_object *market, void *arg), void *arg)
{
	char path[512], cursor[256] = "";
	long n = 0;

	for (;;) {
		struct json_object *o, *arr, *cur;
		char *esc = NULL;

		if (cursor[0] != '\0') {
			CURL *c = curl_easy_init();

			esc = c != NULL ? curl_easy_escape(c, cursor, 0) : NULL;
			if (c != NULL)
				curl_easy_cleanup(c);
			if (esc == NULL)
				return -1;
		}
		snprintf(path, sizeof(path), "/markets?limit=1000%s%s", esc != NULL ? "&cursor=" : "",
		    esc != NULL ? esc : "");
		curl_free(esc);
		if ((o = coll_rest_get(base, path)) == NULL)
			return -1;
		if (!json_object_object_get_ex(o, "markets", &arr) || !json_object_is_type(arr, json_type_array)) {
			json_object_put(o);
			return -1;
		}
		for (size_t i = 0; i < json_object_array_length(arr); i++) {
			fn(json_object_array_get_idx(arr, i), arg);
			n++;
		}
		cursor[0] = '\0';
		if (json_object_object_get_ex(o, "cursor", &cur) && json_object_is_type(cur, json_type_string))
			snprintf(cursor, sizeof(cursor), "%s", json_object_get_string(cur));
		json_object_put(o);
		if (cursor[0] == '\0')
			return n;
	}
}
