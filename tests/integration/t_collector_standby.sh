#!/bin/bash
# kbook-collector hot standby (and error 26 from an exchange that takes fewer markets a
# subscription than the collector's 200): a second collector on the same database waits on the advisory
# lock while the first records; when the first is killed (kill -9) the standby takes over within
# seconds, the span it missed is recorded as 'takeover' gaps, no (market_id, ts) is written twice,
# and the books rebuilt from Postgres still equal the sim's ground truth outside gaps.
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
source "$here/../sim/sim_lib.sh"
source "$here/../collector/coll_lib.sh"

coll_db
check "a database of the test's own" 0 $?
# the sim takes at most 80 markets a subscription: the collector's 200 are refused (error 26)
sim_start --markets 200 --rate 1000 --seed 12 --sub-market-limit 80
coll_start active
active=$COLL_PID
coll_wait_rows 1000 20
check "the first collector records" 0 $?
check_match "error 26 splits a subscription" '[1-9]' "$(grep -c 'error 26 for a subscription' "$KBOOK_TMP/active.log")"
check_match "markets subscribed in subscriptions of at most 80" '^1$' \
	"$(curl -s "http://127.0.0.1:$SIM_PORT/_sim/stats" | "$SIM_PY" -c 'import json,sys
subs = [s for c in json.load(sys.stdin)["connections"] for s in c["subscriptions"] if s["channel"] == "orderbook_delta"]
print(int(len(subs) >= 3 and all(0 < s["markets"] <= 80 for s in subs) and sum(s["markets"] for s in subs) >= 150))')"

COLL_METRICS_PORT=$(free_port)
coll_start standby
standby=$COLL_PID
sleep 3
check "the second collector waits as a standby" 1 \
	"$(grep -c 'waiting as a standby' "$KBOOK_TMP/standby.log")"
check "/healthz of the standby is 503" 503 \
	"$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$COLL_METRICS_PORT/healthz")"

kill -KILL "$active"
wait "$active" 2>/dev/null
killed=$(date +%s%N)
for ((i = 0; i < 100; i++)); do
	grep -q 'taking over' "$KBOOK_TMP/standby.log" && break
	sleep 0.1
done
rows=$(coll_sql "SELECT count(*) FROM book_deltas")
sleep 6
check "the standby took over" 1 "$(grep -c 'taking over' "$KBOOK_TMP/standby.log")"
check "the standby records after the takeover" 1 \
	"$(coll_sql "SELECT (count(*) > $rows)::int FROM book_deltas")"
check_match "takeover within 5 s" '^[0-4]$' \
	"$(coll_sql "SELECT floor(extract(epoch FROM min(end_ts)) - $killed / 1e9)::int FROM gaps WHERE reason = 'takeover'")"
check "takeover gaps recorded for the markets" 1 \
	"$(coll_sql "SELECT (count(*) >= 100)::int FROM gaps WHERE reason = 'takeover'")"
COLL_PID=$standby
coll_stop
coll_check --samples 400 --seed 3
check "only takeover gaps" "takeover" "$COLL_REASONS"
sim_stop
finish
