#!/bin/bash
# kbook-collector against kalshi-sim: a few hundred markets with flow and lifecycle for about a
# minute, every fault of the sim injected along the way, a kill -9 and a restart; then the book
# rebuilt from Postgres (latest checkpoint + deltas, as the API does) must equal the sim's ground
# truth at 1000 random recorded instants outside gaps, each fault (a frozen exchange too: pings
# go unanswered) must have left the gap it
# should, every gap must be closed, and a market created on the lifecycle channel must be
# recorded from its first snapshot within 2 s.
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
source "$here/../sim/sim_lib.sh"
source "$here/../collector/coll_lib.sh"

coll_db
check "a database of the test's own" 0 $?

sim_start --markets 300 --rate 1500 --lifecycle-ms 400 --seed 11
export KBOOK_COLLECTOR_SILENCE_S=4 KBOOK_COLLECTOR_RESCAN_S=5
coll_start
coll_wait_rows 2000 20
check "the collector records deltas" 0 $?
check "REST discovery upserted every market" 1 \
	"$(coll_sql "SELECT (count(*) >= 300)::int FROM markets m JOIN market_raw r ON r.market_id = m.id
		WHERE r.raw ? 'price_ranges'")"
check "use_yes_price false recorded" 0 "$(coll_sql "SELECT count(*) FROM markets WHERE use_yes_price")"
sleep 8

metrics=$(curl -s "http://127.0.0.1:$COLL_METRICS_PORT/metrics")
check_match "/metrics counts deltas" $'\nkbook_collector_deltas_total [1-9][0-9]{3,}\n' "$metrics"
check_match "/metrics shows the markets subscribed" $'\nkbook_collector_markets_subscribed [1-9][0-9]+\n' "$metrics"
check_match "/metrics has the queue depth" $'\nkbook_collector_queue_depth [0-9]+' "$metrics"
check_match "/metrics has commit latency" $'\nkbook_collector_commit_seconds_sum [0-9]+\.[0-9]{6}\n' "$metrics"
# (the histogram is rendered after the counter: a commit in between may add one or two)
commits=$(awk '$1 == "kbook_collector_commits_total" {print $2}' <<<"$metrics")
hist=$(awk '$1 == "kbook_collector_commit_latency_seconds_bucket{le=\"+Inf\"}" {print $2}' <<<"$metrics")
check "the latency histogram counts every commit ($hist vs $commits)" 1 \
	"$([ -n "$hist" ] && [ -n "$commits" ] && [ "$commits" -gt 0 ] && [ $((hist - commits)) -ge 0 ] && [ $((hist - commits)) -le 2 ] && echo 1)"
check "its buckets are cumulative" "" "$(grep '^kbook_collector_commit_latency_seconds_bucket' <<<"$metrics" |
	awk '{ if (NR > 1 && $2 < prev) print "not cumulative at " $1; prev = $2 }')"
check "/healthz is 200 while recording" 200 \
	"$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$COLL_METRICS_PORT/healthz")"

# A market created on the lifecycle channel: recorded from its first snapshot within 2 s.
created=$(curl -s -X POST "http://127.0.0.1:$SIM_PORT/_sim/lifecycle?create=1" |
	"$SIM_PY" -c 'import json,sys; print(json.load(sys.stdin)["ticker"])')
sleep 2
check "a created market has its snapshot checkpoint within 2 s" 1 \
	"$(coll_sql "SELECT count(*) FROM book_checkpoints c JOIN markets m ON m.id = c.market_id
		WHERE m.ticker = '$created' AND c.source = 'snapshot'")"

# Faults, one kind at a time, each given time to be recovered from.
sim_fault drop count=3;        sleep 2
sim_fault duplicate count=5;   sleep 2
sim_fault reorder count=2;     sleep 2
sim_fault numbers;             sleep 2
sim_fault strings
sim_fault truncated count=2;   sleep 1
sim_fault bad_utf8 count=2;    sleep 1
sim_fault error25;             sleep 2
sim_fault close;               sleep 3
sim_fault freeze;              sleep 8   # unanswered pings: dead after 4 s of silence
check "a frozen connection is dropped and remade" 3 "$(grep -c '"connected to' "$COLL_LOG")"
sim_fault refuse_adds
curl -s -X POST "http://127.0.0.1:$SIM_PORT/_sim/lifecycle?create=1" >/dev/null
sleep 2
sim_fault allow_adds;          sleep 3

# A crash and a restart mid-stream.
coll_kill9
sleep 2
coll_start collector2
sleep 8
coll_stop
check "the first collector's log has no sanitizer report" 0 \
	"$(grep -c -E 'AddressSanitizer|LeakSanitizer|runtime error:' "$KBOOK_TMP/collector.log")"

check "duplicates were dropped, not recorded" 0 \
	"$(coll_sql "SELECT count(*) FROM (SELECT market_id, ts FROM book_deltas GROUP BY 1, 2 HAVING count(*) > 1) d")"
check_match "REST re-scans ran" '[1-9]' "$(grep -c 'REST re-scan: [0-9]* markets' "$KBOOK_TMP/collector.log")"
check "malformed frames were logged" 1 "$(grep -q 'malformed message' "$KBOOK_TMP/collector.log" && echo 1)"
check "coverage first_ts/last_ts set where data was recorded" 0 \
	"$(coll_sql "SELECT count(*) FROM markets m WHERE EXISTS (SELECT 1 FROM book_checkpoints c
		WHERE c.market_id = m.id) AND (first_ts IS NULL OR last_ts < (SELECT max(ts) FROM book_checkpoints c
		WHERE c.market_id = m.id))")"
check "every snapshot after a gap is a snapshot checkpoint at the gap's end" 0 \
	"$(coll_sql "SELECT count(*) FROM gaps g WHERE NOT EXISTS (SELECT 1 FROM book_checkpoints c
		WHERE c.market_id = g.market_id AND c.ts = g.end_ts AND c.source = 'snapshot') AND g.closed_by = 'snapshot'")"
check "the crash left restart gaps" 1 "$(coll_sql "SELECT (count(*) > 100)::int FROM gaps WHERE reason = 'restart'")"

coll_check --samples 1000 --seed 5
for r in seq_gap terminal_error disconnect restart; do
	check "a $r gap was recorded" 1 "$([[ ,$COLL_REASONS, == *,$r,* ]] && echo 1)"
done
check "no gap of a reason no fault explains" "" \
	"$(tr ',' '\n' <<<"$COLL_REASONS" | grep -vxE 'seq_gap|terminal_error|disconnect|restart')"
sim_stop
finish
