#!/bin/bash
# kbook-collector while Kalshi's REST API is slow (issue 17): markets created on the lifecycle
# channel whose GET /markets/{ticker} the sim holds back 12 s each (its rest_slow fault). The
# fetch must not stall the writer: while an answer is held, other markets' deltas keep being
# committed (the commit counter and rows written move on /metrics, the queue stays short), the new
# market itself is recorded from its first snapshot (its row is written at once, with its ticker
# only), and no commit takes as long as the REST delay. When REST answers, the row gets its full
# metadata, with the status and result the lifecycle channel said last (one is activated, the
# other determined, while its answer, "initialized" with no result, is held). The books rebuilt from Postgres equal
# the sim's ground truth, and no gap was opened.
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
source "$here/../sim/sim_lib.sh"
source "$here/../collector/coll_lib.sh"

HOLD_MS=12000

# wait_sql SQL SECONDS: until the query prints 1
wait_sql() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		[ "$(coll_sql "$1")" = 1 ] && return 0
		sleep 0.1
	done
	return 1
}

metric() { # NAME: its value on the collector's /metrics
	curl -s "http://127.0.0.1:$COLL_METRICS_PORT/metrics" | awk -v n="$1" '$1 == n {print $2}'
}

held() { # REST answers the sim holds back or has held
	curl -s "http://127.0.0.1:$SIM_PORT/_sim/stats" | "$SIM_PY" -c 'import json,sys; print(json.load(sys.stdin)["rest"]["held"])'
}

coll_db
check "a database of the test's own" 0 $?
sim_start --markets 30 --rate 300 --seed 23
coll_start
coll_wait_rows 300 20
check "the collector records deltas" 0 $?

sim_fault rest_slow "count=2&ms=$HOLD_MS"
t0=$(date +%s%N)
created=()
for i in 1 2; do
	created+=("$(curl -s -X POST "http://127.0.0.1:$SIM_PORT/_sim/lifecycle?create=1" |
		"$SIM_PY" -c 'import json,sys; print(json.load(sys.stdin)["ticker"])')")
done
for ((i = 0; i < 50; i++)); do
	[ "$(held)" -ge 1 ] && break
	sleep 0.1
done
check "the sim holds the first REST answer back" 1 "$(held)"
# activated after REST answered (late) "initialized": the row must end with the channel's word
curl -s -o /dev/null -X POST "http://127.0.0.1:$SIM_PORT/_sim/lifecycle?ticker=${created[0]}&to=active"
# a few commit intervals for the writer to take the new markets' events
sleep 1
c1=$(metric kbook_collector_commits_total)
r1=$(metric kbook_collector_rows_written_total)
sleep 2
c2=$(metric kbook_collector_commits_total)
r2=$(metric kbook_collector_rows_written_total)
depth=$(metric kbook_collector_queue_depth)
# everything up to here happened while the first answer was held: say so, or the checks mean nothing
still=$((($(date +%s%N) - t0) / 1000000 < HOLD_MS))
check "the checks below ran while REST was held" 1 "$still"
check "commits go on while REST is held ($c1 -> $c2)" 1 "$([ "${c2:-0}" -gt "${c1:-0}" ] && echo 1)"
check "other markets' deltas are committed meanwhile ($r1 -> $r2)" 1 "$([ "${r2:-0}" -gt "${r1:-0}" ] && echo 1)"
check "the queue is not filling ($depth events)" 1 "$([ "${depth:-99999}" -lt 1000 ] && echo 1)"
check "the first new market has its row, ticker only" "1|" \
	"$(coll_sql "SELECT count(*), max(title) FROM markets WHERE ticker = '${created[0]}'")"
check "and is recorded from its first snapshot already" 1 \
	"$(coll_sql "SELECT (count(*) > 0)::int FROM book_checkpoints c JOIN markets m ON m.id = c.market_id
		WHERE m.ticker = '${created[0]}' AND c.source = 'snapshot'")"

# the second market's answer is held next ("initialized", no result): it is determined meanwhile
for ((i = 0; i < 2 * HOLD_MS / 100; i++)); do
	[ "$(held)" -ge 2 ] && break
	sleep 0.1
done
check "the sim holds the second REST answer back" 2 "$(held)"
for to in active closed determined; do
	curl -s -o /dev/null -X POST "http://127.0.0.1:$SIM_PORT/_sim/lifecycle?ticker=${created[1]}&to=$to"
done

# both answers come: full rows, statuses and results as the channel said last
full="SELECT (count(*) = 2)::int FROM markets m JOIN market_raw r ON r.market_id = m.id
	WHERE m.ticker IN ('${created[0]}', '${created[1]}') AND r.raw ? 'price_ranges' AND m.title <> ''"
wait_sql "$full" $((2 * HOLD_MS / 1000 + 15))
check "both rows get their REST metadata once REST answers" 0 $?
check "with the sim's statuses and results" "$(for t in "${created[@]}"; do
	curl -s "http://127.0.0.1:$SIM_PORT/trade-api/v2/markets/$t" |
		"$SIM_PY" -c 'import json,sys; m = json.load(sys.stdin)["market"]; print(m["status"] + "/" + m.get("result", ""))'
	done | paste -sd ' ')" \
	"$(coll_sql "SELECT string_agg(status || '/' || result, ' ' ORDER BY ticker = '${created[1]}') FROM markets
		WHERE ticker IN ('${created[0]}', '${created[1]}')")"
max=$(metric kbook_collector_commit_seconds_max)
check "no commit took as long as the REST delay (longest ${max}s)" 1 \
	"$("$SIM_PY" -c "print(int(float('${max:-99}') < $HOLD_MS / 1000))")"

coll_stop
coll_check --samples 300 --seed 5
check "no gap" "" "$COLL_REASONS"
sim_stop
finish
