#!/bin/bash
# kbook-collector: a quiet book's periodic checkpoint, a gap whose fresh snapshot never comes, and
# REST metadata that fails at first. (0) A market paused on the exchange gets no delta, yet the
# timer writes its periodic checkpoint every KBOOK_COLLECTOR_CHECKPOINT_SECONDS (2 s here).
# (1) The sim stops answering get_snapshot and drops a message: every market of the sid opens a
# seq_gap. One of them is then closed, determined and settled: its gap must close at once, marked
# closed_by 'market_closed' with divergence unknown (NULL), instead of staying open forever. When
# the exchange answers again, the collector's timer asks the snapshots again (no new fault needed)
# and the other gaps close on them. (2) A market created on the
# lifecycle channel whose GET /markets/{ticker} fails twice (the sim's rest_fail fault) gets a bare
# row at first, then its full metadata from the retries (backoff 1 s, 2 s), long before any re-scan.
# The books rebuilt from Postgres equal the sim's ground truth outside gaps.
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
source "$here/../sim/sim_lib.sh"
source "$here/../collector/coll_lib.sh"

# wait_sql SQL SECONDS: until the query prints 1
wait_sql() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		[ "$(coll_sql "$1")" = 1 ] && return 0
		sleep 0.1
	done
	return 1
}

coll_db
check "a database of the test's own" 0 $?
sim_start --markets 30 --rate 300 --seed 21
export KBOOK_COLLECTOR_CHECKPOINT_SECONDS=2
coll_start
coll_wait_rows 300 20
check "the collector records deltas" 0 $?
m=$(coll_sql "SELECT m.ticker FROM markets m WHERE m.status = 'active' AND EXISTS (SELECT 1
	FROM book_checkpoints c WHERE c.market_id = m.id AND c.source = 'snapshot') ORDER BY m.ticker LIMIT 1")
check_match "an active market with a book" '^[A-Z]' "$m"
nbooks=$(coll_sql "SELECT count(DISTINCT market_id) FROM book_checkpoints WHERE source = 'snapshot'")

# (0) a paused market is quiet: its checkpoints come from the timer, with no delta in between
q=$(coll_sql "SELECT m.ticker FROM markets m WHERE m.status = 'active' AND m.ticker <> '$m' AND EXISTS (SELECT 1
	FROM book_checkpoints c WHERE c.market_id = m.id AND c.source = 'snapshot') ORDER BY m.ticker DESC LIMIT 1")
curl -s -o /dev/null -X POST "http://127.0.0.1:$SIM_PORT/_sim/lifecycle?ticker=$q&to=inactive"
wait_sql "SELECT (status = 'inactive')::int FROM markets WHERE ticker = '$q'" 10
check "the paused market's status is recorded" 0 $?
quiet="FROM book_checkpoints c JOIN markets m ON m.id = c.market_id WHERE m.ticker = '$q'
	AND c.source = 'periodic' AND c.ts > (SELECT coalesce(max(d.ts), '-infinity') FROM book_deltas d WHERE d.market_id = m.id)"
wait_sql "SELECT (count(*) >= 2)::int $quiet" 15
check "the quiet market gets periodic checkpoints after its last delta" 0 $?
check "each one the book it had" 1 "$(coll_sql "SELECT (count(DISTINCT (yes_prices, yes_sizes, no_prices, no_sizes)) = 1
	AND min(c.ts) < max(c.ts))::int $quiet")"
check "the latest is the sim's book now" 1 "$(coll_sql "SELECT yes_prices, yes_sizes, no_prices, no_sizes $quiet
	ORDER BY c.ts DESC LIMIT 1" | "$SIM_PY" -c 'import json, sys
from decimal import Decimal
arr = lambda s: [int(x) for x in s.strip("{}").split(",")] if s.strip("{}") else []
row = [arr(f) for f in sys.stdin.read().strip().split("|")]
b = json.loads(sys.argv[1])
side = lambda lv: [[int(Decimal(p) * 1000000) for p, _ in lv], [int(Decimal(z) * 100) for _, z in lv]]
print(int(row == side(b["yes_dollars_fp"]) + side(b["no_dollars_fp"])))' \
	"$(curl -s "http://127.0.0.1:$SIM_PORT/_sim/book?ticker=$q")")"

# (1) snapshots never come; a dropped message opens a gap on every market of the sid
sim_fault mute_snapshots
sim_fault drop count=1
wait_sql "SELECT (count(*) = $nbooks)::int FROM gaps WHERE end_ts IS NULL AND reason = 'seq_gap'" 15
check "a seq_gap is open on each of the $nbooks markets with a book" 0 $?
sleep 1
check "no snapshot closes them while the exchange is mute" "$nbooks" \
	"$(coll_sql "SELECT count(*) FROM gaps WHERE end_ts IS NULL")"
for to in closed determined finalized; do
	curl -s -o /dev/null -X POST "http://127.0.0.1:$SIM_PORT/_sim/lifecycle?ticker=$m&to=$to"
done
wait_sql "SELECT count(*) FROM gaps g JOIN markets m ON m.id = g.market_id
	WHERE m.ticker = '$m' AND g.end_ts IS NOT NULL" 15
check "the settled market's gap is closed" 0 $?
check "closed by the market's end, divergence unknown, after its start" "seq_gap|market_closed||t" \
	"$(coll_sql "SELECT reason, closed_by, coalesce(diverged::text, ''), end_ts >= start_ts
		FROM gaps g JOIN markets m ON m.id = g.market_id WHERE m.ticker = '$m'")"
check "its status is recorded" finalized "$(coll_sql "SELECT status FROM markets WHERE ticker = '$m'")"
check "the other gaps are still open" "$((nbooks - 1))" "$(coll_sql "SELECT count(*) FROM gaps WHERE end_ts IS NULL")"
check_match "the collector says why" "gap closed without a snapshot: $m settled first" "$(cat "$COLL_LOG")"

# the exchange answers again: with no further fault, the collector's timer asks the snapshots
# again (10 s after the gap opened or after its last try, doubling) and they close the rest
sim_fault unmute_snapshots
wait_sql "SELECT (count(*) = 0)::int FROM gaps WHERE end_ts IS NULL" 45
check "every gap is closed once snapshots come, asked again by the timer" 0 $?
check "the others closed by a snapshot, with divergence known" "0" \
	"$(coll_sql "SELECT count(*) FROM gaps g JOIN markets m ON m.id = g.market_id WHERE m.ticker <> '$m'
		AND (closed_by IS DISTINCT FROM 'snapshot' OR diverged IS NULL)")"

# (2) REST metadata of a market first seen on the socket fails twice, then comes
sim_fault rest_fail count=2
created=$(curl -s -X POST "http://127.0.0.1:$SIM_PORT/_sim/lifecycle?create=1" |
	"$SIM_PY" -c 'import json,sys; print(json.load(sys.stdin)["ticker"])')
wait_sql "SELECT count(*) FROM markets m JOIN market_raw r ON r.market_id = m.id
	WHERE m.ticker = '$created' AND r.raw ? 'price_ranges' AND m.title <> ''" 20
check "the created market's row gets its REST metadata from a retry" 0 $?
check "the first fetch and one retry failed, the second retry worked" "2|1" \
	"$(grep -c "no REST metadata for $created yet" "$COLL_LOG")|$(grep -c "REST metadata of $created fetched after 2 retries" "$COLL_LOG")"
wait_sql "SELECT count(*) FROM book_checkpoints c JOIN markets m ON m.id = c.market_id
	WHERE m.ticker = '$created' AND c.source = 'snapshot'" 10
check "the created market is recorded" 0 $?

coll_stop
coll_check --samples 300 --seed 7
check "only seq gaps" "seq_gap" "$COLL_REASONS"
sim_stop
finish
