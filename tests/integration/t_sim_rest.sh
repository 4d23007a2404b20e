#!/bin/bash
# kalshi-sim REST (KALSHI.md section 6): cursor paging, limit bounds, the status filter and its
# mapping to market statuses, one market, its orderbook with depth, events, one event, series,
# error bodies, and the 429 token bucket; then Kalshi's official client (npm kalshi-typescript,
# installed in tests/node_modules by `make deps`) pages every market with signed requests and signs a
# getBalance the sim verifies.
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
source "$here/../sim/sim_lib.sh"

sim_start --markets 1234 --rate 0 --rest-tokens 0
u=http://127.0.0.1:$SIM_PORT/trade-api/v2
py() { /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); $1"; }

# paging with curl: every market exactly once, whatever the limit
for lim in 1000 7; do
	cursor= total=0 seen=$KBOOK_TMP/seen.$lim
	: >"$seen"
	while :; do
		page=$(curl -s "$u/markets?limit=$lim&cursor=$cursor")
		echo "$page" | py 'print("\n".join(m["ticker"] for m in d["markets"]))' >>"$seen"
		cursor=$(echo "$page" | py 'print(d["cursor"])')
		[ -z "$cursor" ] && break
	done
	check "limit=$lim pages list every market" "1234 1234" "$(wc -l <"$seen") $(sort -u "$seen" | wc -l)"
done
check "default limit is 100" 100 "$(curl -s "$u/markets" | py 'print(len(d["markets"]))')"
check "limit=1001 is refused" 400 "$(curl -s -o /dev/null -w '%{http_code}' "$u/markets?limit=1001")"
check "limit=0 is refused" 400 "$(curl -s -o /dev/null -w '%{http_code}' "$u/markets?limit=0")"
check "a bad cursor is refused" 400 "$(curl -s -o /dev/null -w '%{http_code}' "$u/markets?cursor=zz")"
check "a bad status is refused" 400 "$(curl -s -o /dev/null -w '%{http_code}' "$u/markets?status=bogus")"
for f in "unopened initialized" "open active" "paused inactive" "closed closed,determined" "settled finalized"; do
	set -- $f
	got=$(curl -s "$u/markets?limit=1000&status=$1" | py 'print(",".join(sorted(set(m["status"] for m in d["markets"]))))')
	check_match "status=$1 selects $2" "^($2|${2%%,*}|${2##*,})$" "$got"
done
n_open=$(curl -s "$u/markets?limit=1000&status=open" | py 'print(len(d["markets"]))')
check_match "most markets are open" '^[0-9]{3,}$' "$n_open"
t=$(curl -s "$u/markets?limit=1&status=open" | py 'print(d["markets"][0]["ticker"])')
e=$(curl -s "$u/markets/$t" | py 'print(d["market"]["event_ticker"])')
check "GET /markets/{ticker}" "$t" "$(curl -s "$u/markets/$t" | py 'print(d["market"]["ticker"])')"
fields=$(curl -s "$u/markets/$t" | py 'print(" ".join(sorted(d["market"])))')
for k in ticker event_ticker market_type title subtitle yes_sub_title no_sub_title created_time \
	updated_time open_time close_time expected_expiration_time latest_expiration_time \
	settlement_timer_seconds status yes_bid_dollars yes_ask_dollars no_bid_dollars no_ask_dollars \
	yes_bid_size_fp yes_ask_size_fp last_price_dollars volume_fp volume_24h_fp open_interest_fp \
	notional_value_dollars result can_close_early strike_type floor_strike rules_primary \
	rules_secondary price_level_structure price_ranges exchange_index; do
	check_match "market object has $k" "(^| )$k( |$)" "$fields"
done
grids=$(curl -s "$u/markets?limit=1000" | py 'print(" ".join(sorted(set(m["price_level_structure"] for m in d["markets"]))))')
check "four tick grids" "center_deci_edge_centi_cent deci_cent linear_cent tapered_deci_cent" "$grids"
check "tickers filter" "$t" "$(curl -s "$u/markets?tickers=$t" | py 'print(",".join(m["ticker"] for m in d["markets"]))')"
check "event_ticker filter" 1 "$(curl -s "$u/markets?event_ticker=$e" | py 'print(int(all(m["event_ticker"]=="'"$e"'" for m in d["markets"]) and len(d["markets"])>0))')"
check "mve_filter=only gives only combo (KXMVE) markets" 1 "$(curl -s "$u/markets?mve_filter=only&limit=1000" | py 'print(int(len(d["markets"])>0 and all(m["ticker"].startswith("KXMVE") for m in d["markets"])))')"
check "mve_filter=exclude leaves them out" 0 "$(curl -s "$u/markets?mve_filter=exclude&limit=1000" | py 'print(sum(m["ticker"].startswith("KXMVE") for m in d["markets"]))')"
check "unknown market body" '{"error":{"code":"market_not_found","message":"market not found"}}' \
	"$(curl -s "$u/markets/NOPE")"
check "unknown market status" 404 "$(curl -s -o /dev/null -w '%{http_code}' "$u/markets/NOPE")"
check "unknown path is 404" 404 "$(curl -s -o /dev/null -w '%{http_code}' "$u/nothing")"
check "wrong method is 405" 405 "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$u/markets")"
ob=$(curl -s "$u/markets/$t/orderbook")
check "orderbook equals the ground truth" \
	"$(curl -s "http://127.0.0.1:$SIM_PORT/_sim/book?ticker=$t" | py 'print(d["yes_dollars_fp"], d["no_dollars_fp"])')" \
	"$(echo "$ob" | py 'print(d["orderbook_fp"]["yes_dollars"], d["orderbook_fp"]["no_dollars"])')"
check "orderbook depth=2 keeps the 2 best, ascending" \
	"$(echo "$ob" | py 'print(d["orderbook_fp"]["yes_dollars"][-2:])')" \
	"$(curl -s "$u/markets/$t/orderbook?depth=2" | py 'print(d["orderbook_fp"]["yes_dollars"])')"
check "events paging" "3 1" "$(curl -s "$u/events?limit=3" | py 'print(len(d["events"]), int(d["cursor"]!=""))')"
check "limit=201 on events is refused" 400 "$(curl -s -o /dev/null -w '%{http_code}' "$u/events?limit=201")"
check "GET /events/{ticker}" "$e" "$(curl -s "$u/events/$e" | py 'print(d["event"]["event_ticker"])')"
check "event markets belong to it" 1 "$(curl -s "$u/events/$e" | py 'print(int(len(d["markets"])>0 and all(m["event_ticker"]=="'"$e"'" for m in d["markets"])))')"
check "with_nested_markets nests them" 1 "$(curl -s "$u/events/$e?with_nested_markets=true" | py 'print(int(len(d["event"]["markets"])>0))')"
check "unknown event is 404" 404 "$(curl -s -o /dev/null -w '%{http_code}' "$u/events/NOPE")"
s=$(curl -s "$u/events/$e" | py 'print(d["event"]["series_ticker"])')
check "GET /series/{ticker}" "$s" "$(curl -s "$u/series/$s" | py 'print(d["series"]["ticker"])')"
check "balance needs a signature" 401 "$(curl -s -o /dev/null -w '%{http_code}' "$u/portfolio/balance")"
sim_stop

# the token bucket: 100 tokens/s, 10 a request, so about 10 requests pass at once, then 429
sim_start --markets 10 --rate 0 --rest-tokens 100 --rest-cost 10
u=http://127.0.0.1:$SIM_PORT/trade-api/v2
# one curl process, one kept-alive connection: the 15 requests take a few milliseconds
urls=$(for i in $(seq 1 15); do printf '%s ' "$u/markets?limit=1"; done)
quiet_urls=$(for i in $(seq 1 15); do printf -- '-o /dev/null %s ' "$u/markets?limit=1"; done)
codes=$(curl -s -w '%{http_code}\n' $quiet_urls | sort | uniq -c | awk '{print $2":"$1}' | tr '\n' ' ')
# (a request may refill while curl runs)
check_match "the bucket lets the burst through, then 429" '^200:1[01] 429:[45] $' "$codes"
check "429 body" '{"error":"too many requests"}' "$(curl -s -w '\n' $urls | tail -1)"
check "429 has no Retry-After" 0 "$(curl -s -i $urls | grep -ci retry-after)"
sleep 0.3
check "tokens come back" 200 "$(curl -s -o /dev/null -w '%{http_code}' "$u/markets?limit=1")"
check "control endpoints are not limited" 200 "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$SIM_PORT/_sim/stats")"
sim_stop

# scale: 20 000 markets start and page out in 20 pages of 1000
sim_start --markets 20000 --rate 1000 --rest-tokens 0
got=$(/usr/bin/python3 - "$SIM_PORT" <<'PY'
import json, sys, urllib.request
cursor, n, pages = "", 0, 0
while True:
    with urllib.request.urlopen("http://127.0.0.1:%s/trade-api/v2/markets?limit=1000&cursor=%s" % (sys.argv[1], cursor)) as r:
        d = json.load(r)
    n += len(d["markets"])
    pages += 1
    cursor = d["cursor"]
    if not cursor:
        break
print(n, pages)
PY
)
check "20 000 markets page out in 20 pages" "20000 20" "$got"
sim_stop

# the official client
sim_start --markets 1234 --rate 0 --rest-tokens 0
require_node_modules kalshi-typescript
node "$KBOOK_ROOT/tests/sim/kalshi_rest.js" "http://127.0.0.1:$SIM_PORT/trade-api/v2" "$SIM_KEY_ID" \
	"$SIM_KEYS/kalshi-private.pem" "$SIM_KEYS/other/kalshi-private.pem" 1234 >"$KBOOK_TMP/node.out" 2>&1
check "kalshi-typescript script exits 0" 0 "$?"
sim_record <"$KBOOK_TMP/node.out"
signed=$(curl -s "http://127.0.0.1:$SIM_PORT/_sim/stats" | py 'print(d["rest"]["signed_ok"], d["rest"]["signed_bad"])')
check_match "the sim verified the client's signatures" '^[0-9]{2,} 1$' "$signed"
sim_stop
finish
