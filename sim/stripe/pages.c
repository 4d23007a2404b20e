/*
 * pages: the small HTML pages a browser sees (hosted Checkout, the billing portal, a hosted
 * invoice): one plain layout, every value HTML-escaped (lib/sbuf), no script, so a test can
 * complete them by POSTing their forms or with a real browser.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ss.h"

void
ss_page_begin(struct sbuf *b, const char *title)
{
	sbuf_str(b, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	    "<meta name=\"viewport\" content=\"width=device-width\"><title>");
	sbuf_html_str(b, title);
	sbuf_str(b, "</title><style>body{font-family:system-ui,sans-serif;max-width:34rem;"
	    "margin:2rem auto;padding:0 1rem}label{display:block;margin:.6rem 0}input{display:block;"
	    "width:100%;padding:.4rem;font-size:1rem}button{margin-top:1rem;padding:.5rem 1rem;"
	    "font-size:1rem}.error{color:#b00020}.test{background:#fff3cd;padding:.3rem .6rem}"
	    "</style></head><body><p class=\"test\">stripe-sim test mode</p><h1>");
	sbuf_html_str(b, title);
	sbuf_str(b, "</h1>\n");
}

void
ss_page_reply(struct hsrv_req *r, int status, struct sbuf *b)
{
	sbuf_str(b, "</body></html>\n");
	if (b->failed)
		hsrv_reply(r, 500, "text/plain", "out of memory", 13);
	else
		hsrv_reply(r, status, "text/html; charset=utf-8", b->p, b->len);
	sbuf_free(b);
}

void
ss_page_money(struct sbuf *b, const char *unit_amount_decimal, int64_t cents)
{
	if (unit_amount_decimal != NULL && strchr(unit_amount_decimal, '.') != NULL) {
		double d = strtod(unit_amount_decimal, NULL) / 100.0;

		sbuf_printf(b, "$%g", d);
		return;
	}
	sbuf_printf(b, "$%lld.%02lld", (long long)(cents / 100), (long long)(cents % 100));
}

void
ss_page_date(struct sbuf *b, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	char buf[32];

	gmtime_r(&tt, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%d", &tm);
	sbuf_str(b, buf);
}

void
ss_redirect(struct hsrv_req *r, const char *url)
{
	struct sbuf b = { 0 };

	hsrv_add_header(r, "Location", url);
	sbuf_str(&b, "<!doctype html><title>Redirecting</title><a href=\"");
	sbuf_html_str(&b, url);
	sbuf_str(&b, "\">Continue</a>\n");
	hsrv_reply(r, 303, "text/html; charset=utf-8", b.p != NULL ? b.p : "", b.len);
	sbuf_free(&b);
}
