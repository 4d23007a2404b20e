#!/usr/bin/env bash
# The AsyncAPI 3.0 document of the live feed, served at /asyncapi.json, is what the feed does:
# the reference parser (@asyncapi/parser) reads it with no error, and tests/feed/asyncapi_check.js
# sends each of its command examples to the real kbook-feedd through nginx, checks that every frame
# the feed answers validates against exactly one of its messages (closed schemas), provokes every
# error code it lists (but 17, the database down, and 25, a slow reader, which t_feed_core
# provokes), and that every message it documents was sent. /docs/ and /llms.txt link it.
set -u
. "$TEST_ROOT/tests/integration/lib.sh"
require_node_modules @asyncapi/parser ws

export KBOOK_DATABASE_URL=$TEST_PG
H=$TEST_TMP/headers
status=$(curl -s -o "$TEST_TMP/asyncapi.json" -D "$H" -w '%{http_code}' "$TEST_URL/asyncapi.json")
check "/asyncapi.json status" 200 "$status"
check_match "/asyncapi.json content type" '^application/json' "$(grep -i '^content-type:' "$H" | tr -d '\r' | cut -d' ' -f2-)"
check "/asyncapi.json is the file of static/" "$(sha256sum <"$TEST_ROOT/static/asyncapi.json")" "$(sha256sum <"$TEST_TMP/asyncapi.json")"
check_match "/docs/ links /asyncapi.json" "^[1-9]" "$(curl -s "$TEST_URL/docs/" | grep -c 'href="/asyncapi.json"')"
check "llms.txt links /asyncapi.json" 1 "$(curl -s "$TEST_URL/llms.txt" | grep -cE '^- \[[^]]+\]\(/asyncapi.json\)')"

echo "setup: two recorded markets (one with a gap), three accounts"
"$TEST_BIN/kbook-gen" --prefix AAPI --markets 2 --deltas 200 --span 600 --gaps 2 --seed 5 \
	--start "$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)" >/dev/null
mapfile -t tickers < <(psql -X -tA -d "$TEST_PG" -c "SELECT ticker FROM markets WHERE ticker LIKE 'AAPI-%' ORDER BY ticker")
check "two markets" 2 "${#tickers[@]}"
check "a recorded gap" 1 "$(psql -X -tA -d "$TEST_PG" -c "SELECT count(*) > 0 FROM gaps g JOIN markets m ON m.id = g.market_id
	WHERE m.ticker LIKE 'AAPI-%'" | sed 's/t/1/')"
# key EMAIL [FIELD VALUE]...: a key of a new account with those settings
key() {
	local email=$1
	shift
	"$TEST_BIN/kbook-admin" account create "$email" >/dev/null
	while [ $# -gt 1 ]; do
		"$TEST_BIN/kbook-admin" account set "$email" "$1" "$2" >/dev/null
		shift 2
	done
	"$TEST_BIN/kbook-admin" key create "$email" asyncapi
}
k=$(key asyncapi@kbook.test rate 100000 credits 1000000)
k26=$(key asyncapi26@kbook.test feed_markets 1 rate 100000 credits 1000000)
k27=$(key asyncapi27@kbook.test rate 2 credits 1000000)

echo "the document against the feed"
check_lines < <(node "$TEST_ROOT/tests/feed/asyncapi_check.js" "$TEST_TMP/asyncapi.json" \
	"ws://127.0.0.1:$TEST_HTTPPORT/v1/feed" "$k" "$k26" "$k27" "${tickers[0]}" "${tickers[1]}" \
	2>"$TEST_TMP/check.err"; echo "asyncapi_check.js exit	0	$?")
[ -s "$TEST_TMP/check.err" ] && cat "$TEST_TMP/check.err"
finish
