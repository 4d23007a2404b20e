#!/usr/bin/env bash
# The Data API's answers to input a polite client may send and must not be told to retry
# (issue 14): invalid UTF-8 in any string parameter or path segment is a 400 naming it, answered
# before the key is even looked up (nothing charged); HEAD is refused on charged routes (405,
# Allow: GET) and free; a cursor is refused (400 invalid_cursor) on another market or route;
# at=0 / start=0 answer as any instant before the record does, without Postgres running (and
# logging as an ERROR) a statement on a day partition that does not exist; kbook-admin account show
# prints the plan's allowance before the first call and the payg overage.
set -u
. "$TEST_ROOT/tests/integration/lib.sh"

U=$TEST_URL
export KBOOK_DATABASE_URL=$TEST_PG
ADMIN=$TEST_BIN/kbook-admin
H=$TEST_TMP/headers
sql() { psql -X -q -tA -d "$TEST_PG" -c "$1"; }
hdr() { grep -i "^$1:" "$H" | head -1 | cut -d' ' -f2- | tr -d '\r'; }
# call KEY PATH [curl args]: body in $body, status in $STATUS, headers in $H
call() {
	local k=$1 p=$2
	shift 2
	STATUS=$(curl -s -o "$TEST_TMP/body" -D "$H" -w '%{http_code}' -H "X-API-Key: $k" "$@" "$U$p")
	body=$(cat "$TEST_TMP/body")
}
used() { sql "SELECT coalesce(sum(c.used + c.overage), 0) FROM credit_periods c JOIN accounts a ON a.id = c.account_id WHERE a.email = '$1'"; }

if [ "$(sql "SELECT count(*) FROM markets WHERE ticker = 'KXT-A'")" = 0 ]; then
	psql -X -q -v ON_ERROR_STOP=1 -d "$TEST_PG" -f "$TEST_ROOT/tests/integration/fixture_api.sql" >/dev/null
fi
$ADMIN account create robust@kbook.test project >/dev/null
$ADMIN account set robust@kbook.test rate 1000000 >/dev/null
K=$($ADMIN key create robust@kbook.test robust)
check_match "a key" '^kb_live_' "$K"
call "$K" /v1/markets/KXT-A
check "the key works" 200 "$STATUS"

echo "invalid UTF-8: a 400 naming the parameter, before the key is checked, free"
u0=$(used robust@kbook.test)
bad() { # NAME PATH
	call "$K" "$2"
	check "$2: 400" 400 "$STATUS"
	check "$2: code" invalid_parameter "$(jq -r .error.code <<<"$body" 2>/dev/null)"
	check_match "$2: names $1" "'$1' is not valid UTF-8" "$(jq -r .error.message <<<"$body" 2>/dev/null)"
	check "$2: no Retry-After" "" "$(hdr Retry-After)"
	check "$2: no charge header" "" "$(hdr X-Credits-Cost)"
}
bad q '/v1/markets?q=%FF'
bad q '/v1/markets?q=ab%C3'
bad q '/v1/markets?q=%ED%A0%80'          # a UTF-16 surrogate
bad q '/v1/markets?q=%C0%AF'             # an overlong '/'
bad event_ticker '/v1/markets?event_ticker=KXT%E9'
bad series_ticker '/v1/markets?series_ticker=%80KXT'
bad tickers '/v1/orderbooks?tickers=KXT-A,KXT-%FE'
bad ticker '/v1/markets/KXT-%FF'
bad ticker '/v1/markets/KXT-%FF/orderbook'
bad ticker '/v1/markets/%C3%28/deltas'
bad event_ticker '/v1/events/KXT-%FF/orderbook'
check "nothing charged for them" "$u0" "$(used robust@kbook.test)"
call "" '/v1/markets?q=%FF'
check "checked before the key: 400 without one" 400 "$STATUS"
call "$K" '/v1/markets?q=%E2%82%AC'
check "valid UTF-8 (a euro sign) still searches" 200 "$STATUS"
call "$K" '/v1/no/such/%FF'
check "an unknown path with invalid UTF-8: 404" 404 "$STATUS"
check "its message is valid JSON" not_found "$(jq -r .error.code <<<"$body" 2>/dev/null)"
call "$K" '/v1/markets?%FF=1'
check "an invalid UTF-8 parameter name: 400" "400 unknown_parameter" "$STATUS $(jq -r .error.code <<<"$body" 2>/dev/null)"

echo "HEAD: refused on charged routes, nothing charged"
u0=$(used robust@kbook.test)
call "$K" /v1/markets/KXT-A/orderbook -I
check "HEAD orderbook: 405" 405 "$STATUS"
check "HEAD orderbook: Allow" GET "$(hdr Allow)"
call "$K" /v1/markets -I
check "HEAD markets: 405" 405 "$STATUS"
check "HEAD charged nothing" "$u0" "$(used robust@kbook.test)"
call "$K" /v1/markets/KXT-A/orderbook -X POST
check "POST orderbook: Allow names GET only" "405 GET" "$STATUS $(hdr Allow)"
call "" /v1/health -I
check "HEAD /v1/health (free) is still served" 200 "$STATUS"

echo "cursors belong to what they page"
call "$K" '/v1/markets/KXT-A/deltas?limit=1'
curA=$(jq -r .next_cursor <<<"$body")
check_match "deltas of KXT-A hand out a cursor" '^c2[0-9a-z]+\.[0-9a-z]+$' "$curA"
call "$K" "/v1/markets/KXT-A/deltas?limit=1&cursor=$curA"
check "it pages KXT-A" 200 "$STATUS"
u0=$(used robust@kbook.test)
call "$K" "/v1/markets/KXT-B/deltas?limit=1&cursor=$curA"
check "KXT-A's cursor on KXT-B: 400" 400 "$STATUS"
check "its code" invalid_cursor "$(jq -r .error.code <<<"$body")"
check_match "its message names the parameter" "'cursor'" "$(jq -r .error.message <<<"$body")"
check "refused free" "$u0" "$(used robust@kbook.test)"
call "$K" "/v1/markets?cursor=$curA"
check "a deltas cursor on /v1/markets: invalid_cursor" "400 invalid_cursor" "$STATUS $(jq -r .error.code <<<"$body")"
call "$K" '/v1/markets?limit=1'
curM=$(jq -r .next_cursor <<<"$body")
call "$K" "/v1/markets/KXT-A/deltas?cursor=$curM"
check "a markets cursor on deltas: invalid_cursor" "400 invalid_cursor" "$STATUS $(jq -r .error.code <<<"$body")"
call "$K" '/v1/markets/KXT-A/orderbooks?start=2026-11-20T00:00:00Z&end=2026-11-20T00:20:00Z&interval=1&depth=1'
curS=$(jq -r .next_cursor <<<"$body")
call "$K" "/v1/markets/KXT-B/orderbooks?start=2026-11-20T00:00:00Z&end=2026-11-20T00:20:00Z&interval=1&depth=1&cursor=$curS"
check "a samples cursor of KXT-A on KXT-B: invalid_cursor" "400 invalid_cursor" "$STATUS $(jq -r .error.code <<<"$body")"
call "$K" "/v1/markets/KXT-A/orderbooks?start=2026-11-20T00:00:00Z&end=2026-11-20T00:20:00Z&interval=1&depth=1&cursor=$curS"
check "and is accepted on KXT-A" 200 "$STATUS"

echo "at=0 and start=0: no statement on a partition that does not exist"
PGLOG=$TEST_STACK/log/postgres.log
# (only 1970's partitions count: a worker learns once, by a 42P01 error, that a later day has no
# partition (lib/daypart.c), which other tests' timing decides)
e0=$(grep -c 'book_deltas_p1970.* does not exist' "$PGLOG")
call "$K" '/v1/markets/KXT-A/orderbook?at=2026-11-19T00:00:00Z'
before=$(jq -c 'del(.at)' <<<"$body")
for at in 0 1 86400 1000000 172800000000 1970-01-05T00:00:00Z 1999-12-31T23:59:59Z; do
	call "$K" "/v1/markets/KXT-A/orderbook?at=$at"
	check "orderbook at=$at: 200" 200 "$STATUS"
	check "orderbook at=$at: as any instant before the record" "$before" "$(jq -c 'del(.at)' <<<"$body")"
done
call "$K" '/v1/markets/KXT-A/deltas?start=0&limit=3'
check "deltas start=0: 200" 200 "$STATUS"
check "deltas start=0: the first recorded changes" \
	"$(curl -s -H "X-API-Key: $K" "$U/v1/markets/KXT-A/deltas?limit=3" | jq -c .deltas)" "$(jq -c .deltas <<<"$body")"
check "deltas start=0 echoes the start asked for" "1970-01-01T00:00:00.000000Z" "$(jq -r .start <<<"$body")"
call "$K" '/v1/markets/KXT-A/deltas?start=0&end=86400'
check "deltas of 1970's first day: none" "200 0" "$STATUS $(jq '.deltas | length' <<<"$body")"
call "$K" '/v1/events/KXT-EV1/orderbook?at=0'
check "event orderbook at=0: 200" 200 "$STATUS"
call "$K" '/v1/orderbooks?tickers=KXT-A,KXT-B&at=0'
check "orderbooks at=0: 200" 200 "$STATUS"
call "$K" '/v1/markets/KXT-A/orderbooks?start=0&end=864000&interval=86400'
check "samples from 0 daily: 200" 200 "$STATUS"
sleep 0.5
check "Postgres logged no 'does not exist' error for them" "$e0" "$(grep -c 'book_deltas_p1970.* does not exist' "$PGLOG")"
check "Postgres never named a 1970 partition" 0 "$(grep -c 'book_deltas_p1970' "$PGLOG")"

echo "kbook-admin account show"
$ADMIN account create fresh@kbook.test payg >/dev/null
show=$($ADMIN account show fresh@kbook.test)
check_match "before the first call: the plan's allowance" ' allowance=1000( |$)' "$show"
check_match "before the first call: used 0" ' used=0( |$)' "$show"
check_match "overage shown" ' overage=0( |$)' "$show"
F=$($ADMIN key create fresh@kbook.test f)
$ADMIN account set fresh@kbook.test credits 3 >/dev/null
$ADMIN account set fresh@kbook.test rate 1000 >/dev/null
for i in 1 2; do call "$F" /v1/markets/KXT-A/orderbook; done
show=$($ADMIN account show fresh@kbook.test)
check_match "payg past its allowance: used 3 of 3" ' used=3 allowance=3( |$)' "$show"
check_match "payg past its allowance: overage 7" ' overage=7( |$)' "$show"
$ADMIN account create override@kbook.test >/dev/null
$ADMIN account set override@kbook.test credits 55 >/dev/null
check_match "an override shows before the first call" ' allowance=55( |$)' "$($ADMIN account show override@kbook.test)"

finish
