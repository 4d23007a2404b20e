#!/usr/bin/env bash
# The collector's sustained ingest: kalshi-sim with 20 000 markets at rising flow rates, the
# collector recording into the stack's Postgres; deltas written per second, commit latency (mean
# and max from its /metrics), CPU and memory; then the same rows loaded by a raw COPY into a table
# with the same unique index, as the limit; and bytes on disk per delta.
set -euo pipefail
bin=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
. "$(dirname "$0")/lib.sh"
markets=${BENCH_COLLECTOR_MARKETS:-20000}
window=$((BENCH_SECONDS * 3))
tmp=$(mktemp -d /tmp/kbook-bench.XXXXXX)
chmod 755 "$tmp"
trap 'sim_stop "$tmp/stack"; collector_stop "$tmp/stack"; stack_stop "$tmp/stack"; rm -rf "$tmp"' EXIT
bench_recording_stack "$tmp/stack" "$bin" "$markets"
cpid=$(svc_running "$tmp/stack" collector)
metric() { curl -s "http://127.0.0.1:$metrics_port/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
# buckets: "le count" lines of the commit-latency histogram (cumulative)
buckets() { curl -s "http://127.0.0.1:$metrics_port/metrics" |
	sed -n 's/^kbook_collector_commit_latency_seconds_bucket{le="\([^"]*\)"} \([0-9]*\)$/\1 \2/p'; }
# quantile Q FILE0 FILE1: the bucket bound (ms) under which Q of the window's commits fell
quantile() {
	paste -d' ' "$2" "$3" | awk -v q="$1" '{ le[NR] = $1; n[NR] = $4 - $2 } END {
		for (i = 1; i <= NR; i++) if (n[i] >= q * n[NR]) { print (le[i] == "+Inf" ? "inf" : le[i] * 1000); exit } }'
}
for i in $(seq 1 120); do
	[ "$(metric kbook_collector_markets_subscribed)" = "$markets" ] && break
	sleep 1
done
cpu_ticks() { awk '{print $14 + $15}' "/proc/$cpid/stat"; }
hz=$(getconf CLK_TCK)

echo "## Collector ingest (kalshi-sim, $markets markets)"
echo
echo "\`make bench\` section scripts/bench/40-collector.sh: release build; the sim, Postgres and the"
echo "collector share the machine's $(nproc) cores. Each row: the sim's flow set to the rate, ${window} s"
echo "measured after 5 s of warm-up. Received: deltas the socket thread applied; written: book_deltas"
echo "rows committed (kbook_collector_rows_written_total); queue: events still waiting for the writer at"
echo "the end of the window (a rate is sustained when written keeps up with it and the queue stays small)."
echo "Commit latency: the writer's group commits (write and commit"
echo "of a batch) over the window, mean from /metrics, p50/p99 as the upper bound of the histogram"
echo "bucket (1, 2.5, 5, 10, 25, ... 5000 ms) that holds them, max since start."
echo
echo "| sim rate (changes/s) | deltas received/s | deltas written/s | queue at end | commits/s | commit mean ms | commit p50 ms (bucket) | commit p99 ms (bucket) | commit max ms | collector CPU (% of a core) | collector RSS MB | bytes per market | gaps |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
for rate in 20000 60000 100000 120000; do
	curl -s -X POST "http://127.0.0.1:$sim_port/_sim/flow?rate=$rate" >/dev/null
	sleep 5
	d0=$(metric kbook_collector_deltas_total); c0=$(metric kbook_collector_commits_total)
	w0=$(metric kbook_collector_rows_written_total)
	s0=$(metric kbook_collector_commit_seconds_sum); g0=$(metric kbook_collector_gaps_total)
	t0=$(date +%s.%N); k0=$(cpu_ticks); buckets >"$tmp/b0"
	sleep "$window"
	buckets >"$tmp/b1"
	p50=$(quantile 0.5 "$tmp/b0" "$tmp/b1"); p99=$(quantile 0.99 "$tmp/b0" "$tmp/b1")
	d1=$(metric kbook_collector_deltas_total); c1=$(metric kbook_collector_commits_total)
	w1=$(metric kbook_collector_rows_written_total); q1=$(metric kbook_collector_queue_depth)
	s1=$(metric kbook_collector_commit_seconds_sum); g1=$(metric kbook_collector_gaps_total)
	t1=$(date +%s.%N); k1=$(cpu_ticks)
	mx=$(metric kbook_collector_commit_seconds_max)
	rss=$(awk '/VmRSS/ {print $2}' "/proc/$cpid/status")
	best=$(awk -v b="${best:-0}" -v w0="$w0" -v w1="$w1" -v t0="$t0" -v t1="$t1" 'BEGIN {
		w = (w1 - w0) / (t1 - t0); printf "%.0f", (w > b ? w : b) }')
	awk -v r="$rate" -v d0="$d0" -v d1="$d1" -v w0="$w0" -v w1="$w1" -v q1="$q1" -v c0="$c0" -v c1="$c1" -v s0="$s0" -v s1="$s1" \
		-v t0="$t0" -v t1="$t1" -v k0="$k0" -v k1="$k1" -v hz="$hz" -v mx="$mx" -v rss="$rss" \
		-v m="$markets" -v g="$((g1 - g0))" -v p50="$p50" -v p99="$p99" 'BEGIN {
		dt = t1 - t0; dc = c1 - c0
		printf "| %d | %.0f | %.0f | %d | %.1f | %.1f | %s | %s | %.1f | %.0f | %.1f | %.0f | %d |\n", r, (d1 - d0) / dt, (w1 - w0) / dt, q1,
		    dc / dt, (dc > 0 ? (s1 - s0) / dc * 1000 : 0), p50, p99, mx * 1000,
		    (k1 - k0) / hz / dt * 100, rss / 1024, rss * 1024 / m, g }'
done
curl -s -X POST "http://127.0.0.1:$sim_port/_sim/flow?rate=0" >/dev/null
sleep 3
collector_stop "$tmp/stack"

rows=$(psql_ "SELECT count(*) FROM book_deltas")
bytes=$(psql_ "SELECT sum(pg_total_relation_size(inhrelid)) FROM pg_inherits WHERE inhparent = 'book_deltas'::regclass")
# The limit: the same rows, loaded by one raw COPY into a table with the same unique index.
psql -X -q -d "$KBOOK_DATABASE_URL" -c "\\copy (SELECT * FROM book_deltas) TO '$tmp/deltas.copy'"
psql_ "CREATE TABLE bench_copy (LIKE book_deltas INCLUDING ALL); CREATE UNIQUE INDEX ON bench_copy (market_id, ts)" >/dev/null
c0=$(date +%s.%N)
psql -X -q -d "$KBOOK_DATABASE_URL" -c "\\copy bench_copy FROM '$tmp/deltas.copy'"
c1=$(date +%s.%N)
copy_rate=$(awk -v n="$rows" -v a="$c0" -v b="$c1" 'BEGIN {printf "%.0f", n / (b - a)}')
echo
echo "The limit, in the same run: the $rows recorded deltas loaded again by one raw \`COPY\` into a"
echo "table with the same unique index: **$copy_rate rows/s**. On disk, book_deltas (table and"
echo "index) holds $(awk -v b="$bytes" -v n="$rows" 'BEGIN {printf "%.1f", b / n}') bytes per delta."
echo "The best rate written above, $best deltas/s, is $(awk -v b="$best" -v c="$copy_rate" 'BEGIN {printf "%.0f", b / c * 100}') % of that raw COPY rate."
