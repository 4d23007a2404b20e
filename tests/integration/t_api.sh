#!/usr/bin/env bash
# The Data API through nginx: golden JSON of every route on a hand-made history, the bad-input
# matrix of every parameter, auth failures, credits (headers, refunds, concurrent exhaustion that
# never overdraws), the plan's rate limit, and nginx's flood limit.
# UPDATE_GOLDEN=1 rewrites tests/golden/*.json from the current answers (then review the diff).
set -u
. "$TEST_ROOT/tests/integration/lib.sh"

U=$TEST_URL
G=$TEST_ROOT/tests/golden
export KBOOK_DATABASE_URL=$TEST_PG
ADMIN=$TEST_BIN/kbook-admin
H=$TEST_TMP/headers
sql() { psql -X -q -tA -d "$TEST_PG" -c "$1"; }
hdr() { grep -i "^$1:" "$H" | head -1 | cut -d' ' -f2- | tr -d '\r'; }
# call KEY PATH: body in $body, status in $STATUS, headers in $H
call() {
	STATUS=$(curl -s -o "$TEST_TMP/body" -D "$H" -w '%{http_code}' -H "X-API-Key: $1" "$U$2")
	body=$(cat "$TEST_TMP/body")
}

echo "setup: accounts, keys and the fixture history"
psql -X -q -v ON_ERROR_STOP=1 -d "$TEST_PG" -f "$TEST_ROOT/tests/integration/fixture_api.sql" >/dev/null
check "fixture loaded" "3 4 7 2" "$(sql "SELECT (SELECT count(*) FROM markets WHERE ticker LIKE 'KXT-%') || ' ' ||
	(SELECT count(*) FROM book_checkpoints c JOIN markets m ON m.id = c.market_id WHERE m.ticker LIKE 'KXT-%') || ' ' ||
	(SELECT count(*) FROM book_deltas d JOIN markets m ON m.id = d.market_id WHERE m.ticker LIKE 'KXT-%') || ' ' ||
	(SELECT count(*) FROM gaps g JOIN markets m ON m.id = g.market_id WHERE m.ticker LIKE 'KXT-%')")"
$ADMIN account create dev@kbook.test >/dev/null
$ADMIN account set dev@kbook.test rate 1000000 >/dev/null
$ADMIN account set dev@kbook.test credits 100000000 >/dev/null
DEV=$($ADMIN key create dev@kbook.test golden)
check_match "kbook-admin prints a key" '^kb_live_[0-9A-Za-z]{32}$' "$DEV"

echo "exact time conversions"
check "kb_us equals the numeric epoch at 200 000 random instants (1970-2100)" 0 "$(sql "SELECT count(*) FROM (SELECT 'epoch'::timestamptz + (random() * 4102444800000000)::bigint * interval '1 microsecond' AS t FROM generate_series(1, 200000)) x WHERE kb_us(t) <> (extract(epoch FROM t) * 1000000)::bigint OR kb_ts(kb_us(t)) <> t")"
check "kb_us at the edges" "0 1 4102444799999999" "$(sql "SELECT kb_us('1970-01-01T00:00:00Z') || ' ' || kb_us('1970-01-01T00:00:00.000001Z') || ' ' || kb_us('2099-12-31T23:59:59.999999Z')")"

echo "golden answers"
golden() { # NAME PATH
	call "$DEV" "$2"
	local norm
	norm=$(jq -S 'del(.request_id) | walk(if type == "object" then del(.updated_time) else . end)' <<<"$body")
	if [ "${UPDATE_GOLDEN:-0}" = 1 ]; then
		printf '%s\n' "$norm" >"$G/$1.json"
	fi
	check "golden $1 ($STATUS)" "$(cat "$G/$1.json" 2>/dev/null)" "$norm"
}
golden markets_all '/v1/markets'
golden markets_page1 '/v1/markets?limit=2'
golden markets_event '/v1/markets?event_ticker=KXT-EV1&status=closed'
golden markets_q '/v1/markets?q=b%20HAPPEN'
golden markets_has_data '/v1/markets?has_data=false'
golden market_a '/v1/markets/KXT-A'
golden market_c '/v1/markets/KXT-C'
golden orderbook_a_t0 '/v1/markets/KXT-A/orderbook?at=2026-11-20T00:00:00Z'
golden orderbook_a_mid '/v1/markets/KXT-A/orderbook?at=2026-11-20T00:02:00.000001Z'
golden orderbook_a_after_periodic '/v1/markets/KXT-A/orderbook?at=1795133040000000'
golden orderbook_a_in_gap '/v1/markets/KXT-A/orderbook?at=2026-11-20T00:05:30Z&depth=1'
golden orderbook_a_after_gap '/v1/markets/KXT-A/orderbook?at=2026-11-20T01:06:30%2B01:00'
golden orderbook_a_before '/v1/markets/KXT-A/orderbook?at=2026-11-19T00:00:00Z'
golden orderbook_c '/v1/markets/KXT-C/orderbook?at=2026-11-20T00:00:00Z'
golden deltas_a '/v1/markets/KXT-A/deltas?end=2026-11-21T00:00:00Z'
golden deltas_a_page '/v1/markets/KXT-A/deltas?start=2026-11-20T00:01:00Z&end=2026-11-20T00:04:00Z&limit=2'
golden samples_a '/v1/markets/KXT-A/orderbooks?start=2026-11-20T00:00:00Z&end=2026-11-20T00:08:00Z&interval=60'
call "$DEV" '/v1/markets/KXT-A/orderbooks?start=2026-11-20T00:00:00Z&end=2026-11-20T00:20:00Z&interval=1&depth=1'
check "samples page 1: 1000 samples" 1000 "$(jq '.samples | length' <<<"$body")"
cur=$(jq -r .next_cursor <<<"$body")
last1=$(jq -c '.samples[999]' <<<"$body")
call "$DEV" "/v1/markets/KXT-A/orderbooks?start=2026-11-20T00:00:00Z&end=2026-11-20T00:20:00Z&interval=1&depth=1&cursor=$cur"
check "samples page 2: the other 201" 201 "$(jq '.samples | length' <<<"$body")"
check "samples page 2 starts one interval later" "2026-11-20T00:16:40.000000Z" "$(jq -r '.samples[0].at' <<<"$body")"
check "samples page 2 is the last" null "$(jq -r .next_cursor <<<"$body")"
check "sample at 00:16:39 = orderbook at 00:16:39" "$(jq -c '{complete, orderbook_fp}' <<<"$last1")" \
	"$(curl -s -H "X-API-Key: $DEV" "$U/v1/markets/KXT-A/orderbook?at=2026-11-20T00:16:39Z&depth=1" | jq -c '{complete, orderbook_fp}')"
golden coverage_a '/v1/markets/KXT-A/coverage'
golden coverage_c '/v1/markets/KXT-C/coverage'
golden event_ev1 '/v1/events/KXT-EV1/orderbook?at=2026-11-20T00:03:00Z'
golden multi '/v1/orderbooks?tickers=KXT-B,KXT-A&at=2026-11-20T00:01:00Z&depth=1'

echo "CSV"
STATUS=$(curl -s -o "$TEST_TMP/csv" -D "$H" -w '%{http_code}' -H "X-API-Key: $DEV" "$U/v1/markets/KXT-A/deltas?format=csv&limit=2")
check "deltas csv status" 200 "$STATUS"
check_match "deltas csv type" '^text/csv' "$(hdr Content-Type)"
check "deltas csv body" $'ts,exchange_ts,side,price,delta\r\n2026-11-20T00:01:00.000000Z,2026-11-20T00:00:59.999000Z,yes,0.4600,-2.50\r\n2026-11-20T00:02:00.000001Z,,no,0.5100,0.47\r' "$(cat "$TEST_TMP/csv")"
check_match "deltas csv next cursor header" '^c2[0-9a-z]+\.[0-9a-z]+$' "$(hdr X-Next-Cursor)"
STATUS=$(curl -s -o "$TEST_TMP/csv" -w '%{http_code}' -H "X-API-Key: $DEV" "$U/v1/markets/KXT-B/orderbooks?format=csv&start=2026-11-20T00:00:00Z&end=2026-11-20T00:01:00Z&interval=60")
check "samples csv" $'at,complete,side,price,size\r\n2026-11-20T00:00:00.000000Z,true,no,0.3055,123.45\r\n2026-11-20T00:01:00.000000Z,true,yes,0.3005,0.01\r\n2026-11-20T00:01:00.000000Z,true,no,0.3055,123.45\r' "$(cat "$TEST_TMP/csv")"

STATUS=$(curl -s -o "$TEST_TMP/csv" -D "$H" -w '%{http_code}' -H "X-API-Key: $DEV" -H 'Accept: text/csv' "$U/v1/markets/KXT-A/deltas?limit=1")
check "Accept: text/csv gives CSV" $'ts,exchange_ts,side,price,delta\r\n2026-11-20T00:01:00.000000Z,2026-11-20T00:00:59.999000Z,yes,0.4600,-2.50\r' "$(cat "$TEST_TMP/csv")"
STATUS=$(curl -s -o "$TEST_TMP/csv" -w '%{http_code}' -H "X-API-Key: $DEV" -H 'Accept: text/csv' "$U/v1/markets/KXT-A/deltas?limit=1&format=json")
check_match "format=json wins over Accept" '^\{"market_ticker"' "$(cat "$TEST_TMP/csv")"

echo "a gap with no resync after it makes later books incomplete"
call "$DEV" "/v1/markets/KXT-B/orderbook?at=2026-11-20T00:02:30Z"
check "after an unresynced gap: incomplete" false "$(jq -r .complete <<<"$body")"
check "names that gap" "disconnect 2026-11-20T00:02:00.000000Z" "$(jq -r '.gap.reason + " " + .gap.start' <<<"$body")"
call "$DEV" "/v1/markets/KXT-B/orderbook?at=2026-11-20T00:01:59Z"
check "before it: complete" true "$(jq -r .complete <<<"$body")"

echo "pagination: exactly once"
all=$(curl -s -H "X-API-Key: $DEV" "$U/v1/markets/KXT-A/deltas" | jq -c '[.deltas[].ts]')
# two empty (or failed: jq prints nothing) answers would be equal too: the history must be there,
# longer than the largest page below, for the comparison to say anything
check "deltas to page through: more than 4" true "$(jq 'length > 4' <<<"$all")"
for lim in 1 2 3 4; do
	got="[]" cur=""
	for i in $(seq 1 20); do
		page=$(curl -s -H "X-API-Key: $DEV" "$U/v1/markets/KXT-A/deltas?limit=$lim${cur:+&cursor=$cur}")
		got=$(jq -c --argjson g "$got" '$g + [.deltas[].ts]' <<<"$page")
		cur=$(jq -r '.next_cursor // empty' <<<"$page")
		[ -n "$cur" ] || break
	done
	check "deltas pages of $lim = all" "$all" "$got"
done
allm=$(curl -s -H "X-API-Key: $DEV" "$U/v1/markets?limit=1000" | jq -c '[.markets[].ticker]')
check "markets to page through: more than 1" true "$(jq 'length > 1' <<<"$allm")"
got="[]" cur=""
for i in $(seq 1 10); do
	page=$(curl -s -H "X-API-Key: $DEV" "$U/v1/markets?limit=1${cur:+&cursor=$cur}")
	got=$(jq -c --argjson g "$got" '$g + [.markets[].ticker]' <<<"$page")
	cur=$(jq -r '.next_cursor // empty' <<<"$page")
	[ -n "$cur" ] || break
done
check "market pages of 1 = all" "$allm" "$got"

echo "bad input matrix"
# expect PATH CODE [NAME]: a 400-class envelope with CODE, message naming NAME.
expect() {
	call "$DEV" "$1"
	check "$1 -> $2" "$2" "$(jq -r .error.code <<<"$body" 2>/dev/null)"
	[ -z "${3:-}" ] || check_match "$1 names $3" "$3" "$(jq -r .error.message <<<"$body" 2>/dev/null)"
}
future=$(( $(date +%s) + 3600 ))
bad_times=("" "yesterday" "2026-13-01T00:00:00Z" "2026-11-20" "1e9" "-5" "99999999999999999999"
	"%27%3B%20DROP%20TABLE%20markets%3B--" "2026-11-20T00:00:00" "$future")
for v in "${bad_times[@]}"; do
	expect "/v1/markets/KXT-A/orderbook?at=$v" invalid_parameter at
	expect "/v1/markets/KXT-A/deltas?start=$v" invalid_parameter start
	expect "/v1/markets/KXT-A/deltas?end=$v" invalid_parameter end
	expect "/v1/markets/KXT-A/orderbooks?start=$v&end=2026-11-20T00:01:00Z&interval=1" invalid_parameter start
done
for v in "" 0 -1 1001 abc 1.5 "%201" 99999999999999999999999 "1%20OR%201=1"; do
	expect "/v1/markets/KXT-A/orderbook?depth=$v" invalid_parameter depth
done
for v in "" 0 10001 x; do
	expect "/v1/markets/KXT-A/deltas?limit=$v" invalid_parameter limit
	expect "/v1/markets?limit=$v" invalid_parameter limit
done
for v in "" 0 2678401 -3 "60s"; do
	expect "/v1/markets/KXT-A/orderbooks?start=2026-11-20T00:00:00Z&end=2026-11-20T00:01:00Z&interval=$v" invalid_parameter interval
done
for v in "" abc c1 "c1%21" c1zzzzzzzzzzzzzzzzz "%27"; do
	expect "/v1/markets/KXT-A/deltas?cursor=$v" invalid_parameter cursor
	expect "/v1/markets?cursor=$v" invalid_parameter cursor
done
for v in "" xml JSON; do
	expect "/v1/markets/KXT-A/deltas?format=$v" invalid_parameter format
done
for v in "" yes TRUE 2; do
	expect "/v1/markets?has_data=$v" invalid_parameter has_data
done
for v in "" open Active "active%27--"; do
	expect "/v1/markets?status=$v" invalid_parameter status
done
expect "/v1/markets?q=$(printf 'x%.0s' $(seq 1 101))" invalid_parameter q
expect "/v1/markets?event_ticker=" invalid_parameter event_ticker
expect "/v1/orderbooks?tickers=" invalid_parameter tickers
expect "/v1/orderbooks?tickers=A,,B" invalid_parameter tickers
expect "/v1/orderbooks?tickers=,A" invalid_parameter tickers
expect "/v1/orderbooks?tickers=$(seq -s, 1 21)" invalid_parameter tickers
expect "/v1/orderbooks?tickers=KXT-A,KXT-A" invalid_parameter KXT-A
expect "/v1/orderbooks" missing_parameter tickers
expect "/v1/markets/KXT-A/orderbooks?start=2026-11-20T00:00:00Z&interval=60" missing_parameter end
expect "/v1/markets/KXT-A/orderbooks?start=2026-11-20T00:02:00Z&end=2026-11-20T00:01:00Z&interval=60" invalid_parameter end
expect "/v1/markets/KXT-A/deltas?start=2026-11-20T00:02:00Z&end=2026-11-20T00:01:00Z" invalid_parameter end
expect "/v1/markets/KXT-A/orderbooks?start=2026-11-20T00:00:00Z&end=2026-11-20T00:05:00Z&interval=60&cursor=c1" invalid_parameter cursor
expect "/v1/markets/KXT-A/orderbook?at=2026-11-20T00:00:00Z&at=2026-11-20T00:01:00Z" repeated_parameter at
expect "/v1/markets/KXT-A/orderbook?when=now" unknown_parameter when
expect "/v1/markets/KXT-A/orderbook?AT=1" unknown_parameter AT
expect "/v1/markets/KXT-A/orderbook?at=%zz" bad_request percent-escape
expect "/v1/markets/KXT-A/orderbook?at=%00" bad_request "encoded NUL"
expect "/v1/markets/KXT-A/orderbook?=1" bad_request "without a name"
expect "/v1/markets/NOPE/orderbook" market_not_found NOPE
expect "/v1/markets/%27%3B%20DROP%20TABLE%20markets%3B--" market_not_found DROP
expect "/v1/markets/NOPE/deltas" market_not_found
expect "/v1/markets/NOPE/coverage" market_not_found
expect "/v1/markets/NOPE/orderbooks?start=2026-11-20T00:00:00Z&end=2026-11-20T00:01:00Z&interval=1" market_not_found
expect "/v1/events/NOPE/orderbook" event_not_found
expect "/v1/orderbooks?tickers=KXT-A,NOPE" market_not_found NOPE
check "markets survived the SQL-like inputs" 3 "$(sql "SELECT count(*) FROM markets WHERE ticker LIKE 'KXT-%'")"

echo "auth"
call "" /v1/markets
check "no key 401" 401 "$STATUS"
check "no key code" missing_api_key "$(jq -r .error.code <<<"$body")"
call "not-a-key" /v1/markets
check "malformed key code" invalid_api_key "$(jq -r .error.code <<<"$body")"
call "kb_live_00000000000000000000000000000000" /v1/markets
check "unknown key 401" 401 "$STATUS"
check "unknown key code" invalid_api_key "$(jq -r .error.code <<<"$body")"
$ADMIN account create gone@kbook.test >/dev/null
GONE=$($ADMIN key create gone@kbook.test)
$ADMIN key revoke "${GONE:0:16}" >/dev/null
call "$GONE" /v1/markets
check "revoked key 401" 401 "$STATUS"
check "revoked key code" revoked_api_key "$(jq -r .error.code <<<"$body")"

echo "a key's last use, kept to the minute"
LU=$($ADMIN key create dev@kbook.test lastuse)
lu() { sql "SELECT $1 FROM api_keys WHERE prefix = '${LU:0:16}'"; }
check "a new key was never used" t "$(lu "last_used_at IS NULL")"
call "$LU" /v1/markets
check "its first call sets its last use" "200 t" "$STATUS $(lu "last_used_at > now() - interval '10 seconds'")"
sql "UPDATE api_keys SET last_used_at = now() - interval '30 seconds' WHERE prefix = '${LU:0:16}'" >/dev/null
call "$LU" /v1/markets
check "a call within the minute leaves it" "200 t" "$STATUS $(lu "last_used_at < now() - interval '20 seconds'")"
sql "UPDATE api_keys SET last_used_at = now() - interval '5 minutes' WHERE prefix = '${LU:0:16}'" >/dev/null
call "$LU" /v1/markets/KXT-A/orderbook?at=2026-11-20T00:02:00Z
check "a call a minute later moves it to now" "200 t" "$STATUS $(lu "last_used_at > now() - interval '10 seconds'")"
$ADMIN account create off@kbook.test >/dev/null
OFF=$($ADMIN key create off@kbook.test)
$ADMIN account set off@kbook.test disabled true >/dev/null
call "$OFF" /v1/markets
check "disabled account 403" 403 "$STATUS"
check "disabled account code" account_disabled "$(jq -r .error.code <<<"$body")"
STATUS=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $DEV" "$U/v1/markets")
check "Authorization: Bearer works" 200 "$STATUS"
STATUS=$(curl -s -o /dev/null -w '%{http_code}' "$U/v1/health")
check "health needs no key" 200 "$STATUS"

echo "credits: headers, refunds"
$ADMIN account create free@kbook.test >/dev/null
FREE=$($ADMIN key create free@kbook.test)
call "$FREE" "/v1/markets/KXT-A/orderbook?at=2026-11-20T00:01:00Z"
check "free call ok" 200 "$STATUS"
check "X-Credits-Cost" 5 "$(hdr X-Credits-Cost)"
check "X-Credits-Used" 5 "$(hdr X-Credits-Used)"
check "X-Credits-Total" 1000 "$(hdr X-Credits-Total)"
check "X-Credits-Remaining" 995 "$(hdr X-Credits-Remaining)"
check "X-RateLimit-Limit (free: 30/min)" 30 "$(hdr X-RateLimit-Limit)"
check "X-RateLimit-Remaining" 29 "$(hdr X-RateLimit-Remaining)"
check_match "X-RateLimit-Reset" '^[0-9]+$' "$(hdr X-RateLimit-Reset)"
call "$FREE" "/v1/markets/NOPE/orderbook"
check "failed call refunded: cost 0" 0 "$(hdr X-Credits-Cost)"
check "failed call refunded: remaining" 995 "$(hdr X-Credits-Remaining)"
call "$FREE" "/v1/markets/KXT-A/orderbook?depth=0"
check "invalid call not charged" 400 "$STATUS"
check "usage recorded per key and route (calls include the refunded one)" "2|5" "$(sql "SELECT calls || '|' || credits FROM usage u JOIN api_keys k ON k.id = u.key_id WHERE k.prefix = '${FREE:0:16}' AND route = '/v1/markets/{ticker}/orderbook'")"
check "ledger" 5 "$(sql "SELECT used FROM credit_periods c JOIN accounts a ON a.id = c.account_id WHERE a.email = 'free@kbook.test'")"

echo "plan rate limit (free: 30 a minute)"
$ADMIN account create rate@kbook.test >/dev/null
RATE=$($ADMIN key create rate@kbook.test)
# the window is the calendar minute: start early in one so that 31 calls fit in it
sec=$((10#$(date +%S)))
[ "$sec" -lt 45 ] || sleep $((61 - sec))
codes=""
for i in $(seq 1 31); do
	codes+=$(curl -s -o /dev/null -w '%{http_code} ' -H "X-API-Key: $RATE" "$U/v1/markets/KXT-C")
done
check "30 calls served, the 31st of the minute refused" "$(printf '200 %.0s' $(seq 1 30))429 " "$codes"
call "$RATE" "/v1/markets/KXT-C"
check "rate_limited" rate_limited "$(jq -r .error.code <<<"$body")"
check_match "Retry-After on rate_limited" '^[0-9]+$' "$(hdr Retry-After)"
check "X-RateLimit-Remaining 0" 0 "$(hdr X-RateLimit-Remaining)"
check "X-Credits-Cost 0 when refused" 0 "$(hdr X-Credits-Cost)"

echo "credits exhausted under concurrency never overdraw"
$ADMIN account create race@kbook.test >/dev/null
$ADMIN account set race@kbook.test rate 1000000 >/dev/null
: >"$TEST_TMP/race"
for c in $(seq 1 16); do
	k=$($ADMIN key create race@kbook.test "c$c")
	(for i in $(seq 1 20); do
		curl -s -o /dev/null -w '%{http_code}\n' -H "X-API-Key: $k" "$U/v1/markets/KXT-A/orderbook?at=2026-11-20T00:01:00Z"
	done >>"$TEST_TMP/race") &
done
wait
ok=$(grep -c '^200$' "$TEST_TMP/race")
refused=$(grep -c '^429$' "$TEST_TMP/race")
used=$(sql "SELECT used FROM credit_periods c JOIN accounts a ON a.id = c.account_id WHERE a.email = 'race@kbook.test'")
check "320 attempts answered" 320 "$((ok + refused))"
check "exactly 1000/5 calls served" 200 "$ok"
check "ledger used = served x 5, never above 1000" "$((ok * 5))" "$used"
call "$k" "/v1/markets/KXT-A/orderbook"
check "then credits_exhausted" credits_exhausted "$(jq -r .error.code <<<"$body")"
check_match "Retry-After until the period ends" '^[0-9]+$' "$(hdr Retry-After)"
check "X-Credits-Remaining 0" 0 "$(hdr X-Credits-Remaining)"

echo "nginx flood limit"
mkdir -p "$TEST_TMP/flood"
curl -s --no-progress-meter -Z --parallel-max 64 -o "$TEST_TMP/flood/#1.body" \
	-w '%{http_code} %header{retry-after} %header{x-request-id} %{url}\n' -H "X-API-Key: $DEV" \
	"$U/v1/markets?limit=[1-1000]" >"$TEST_TMP/flood.codes"
check_match "nginx refused part of a 1000-request flood" '^[1-9][0-9]*$' "$(grep -c '^429 ' "$TEST_TMP/flood.codes")"
read -r code retry rid url < <(grep '^429 ' "$TEST_TMP/flood.codes" | head -1)
check "flood Retry-After" 1 "$retry"
check_match "flood request id" '^[0-9a-f]{32}$' "$rid"
check "flood envelope" too_many_requests "$(jq -r .error.code "$TEST_TMP/flood/${url##*=}.body")"
sleep 3
call "$DEV" /v1/markets/KXT-C
check "served again after the burst" 200 "$STATUS"

finish
