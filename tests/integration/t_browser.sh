#!/usr/bin/env bash
# The website in headless Chromium (Debian's chromium, driven by npm playwright-core) against the
# real stack: the whole path from the landing page to a working key (the confirmation link read
# from the SMTP sink's mailbox, a key created and copied, the data API answering it, the usage
# chart moving, the key edited, revoked and refused), the forgot-password path and the deletion
# of an account, a keyboard-only pass, every page at phone width, and no request to another host
# nor CSP violation anywhere (tests/browser/journey.js). A screenshot of every page goes to
# $TEST_TMP/screenshots; on failure the test prints where.
set -u
. "$TEST_ROOT/tests/integration/lib.sh"
require_node_modules playwright-core
if [ ! -x /usr/bin/chromium ]; then
	echo "  FAIL /usr/bin/chromium is missing (Debian package chromium): run 'make deps'"
	exit 1
fi

echo "the pages at their clean paths, under the site's CSP"
for p in / /signup /login /confirm /forgot /reset /dashboard /billing /account /docs/; do
	out=$(curl -s -o "$TEST_TMP/page.html" -D - -w '%{http_code}' "$TEST_URL$p" | tr -d '\r')
	check "$p: 200" 200 "${out##*$'\n'}"
	check_match "$p: text/html" $'\n[Cc]ontent-[Tt]ype: text/html' "$out"
	check_match "$p: the CSP allows nothing but the site itself" $'\n[Cc]ontent-[Ss]ecurity-[Pp]olicy: default-src \'self\';' "$out"
	# The pages are put together by nginx's SSI from static/_inc/ (nginx/nginx.conf.in): every
	# directive ran (a failed one leaves nginx's "[an error occurred ...]" in the page). The
	# checks below read the page as served, parts included.
	check "$p: one header, every include done" "1 0 0" \
		"$(grep -c '<header class="site-header">' "$TEST_TMP/page.html") $(grep -c '<!--#' "$TEST_TMP/page.html") $(grep -c 'an error occurred' "$TEST_TMP/page.html")"
	check "$p: no inline script, style or event handler" 0 \
		"$(grep -ciE '<script>|<script [^>]*>[^<]|<style|style=| on[a-z]+=' "$TEST_TMP/page.html")"
	check "$p: loads nothing from another host" 0 \
		"$(grep -ciE '(src|href)="(https?:)?//' "$TEST_TMP/page.html")"
done
check "every page of static/ is in the list above" 10 "$(cd "$TEST_ROOT/static" && ls -1 ./*.html docs/*.html | wc -l)"
check "the page parts are not served by themselves" 404 "$(curl -s -o /dev/null -w '%{http_code}' "$TEST_URL/_inc/head.html")"
out=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' "$TEST_URL/pricing")
check "/pricing: to the landing page's plans" "301 $TEST_URL/#pricing" "$out"

# Wrong passwords are counted per client address (login_throttle), and every test comes
# from 127.0.0.1: t_accounts runs the count up to blocking on purpose. This test makes three
# wrong attempts of its own and starts from a clean count (it still waits out a block, as a
# person would, should one come).
psql -X -q -d "$TEST_PG" -c "DELETE FROM login_throttle WHERE subject = 'addr:127.0.0.1'"

shots=$TEST_TMP/screenshots
mkdir -p "$shots"
check_lines < <(node "$TEST_ROOT/tests/browser/journey.js" "$TEST_URL" "$TEST_STACK/mail" "$shots" \
	2>"$TEST_TMP/journey.err"; echo "journey.js exit	0	$?")
[ -s "$TEST_TMP/journey.err" ] && cat "$TEST_TMP/journey.err"
echo "  $(find "$shots" -name '*.png' | wc -l) screenshots"
[ "$T_FAILS" -gt 0 ] && echo "  screenshots of every page (and FAILED-*.png of the page that failed): $shots"
finish
