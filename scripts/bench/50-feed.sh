#!/usr/bin/env bash
# The live feed under load, every real component in the path: kalshi-sim at 10 000 changes/s over
# ~2 000 active markets -> kbook-collector -> Postgres -> kbook-feedd -> nginx -> kbook-feedload
# (tools/feedload: a libwebsockets client, 1 000 connections each subscribed to 10 random active
# markets plus 1 subscribed to every active market). End-to-end latency is the client's receive
# time minus the delta's ts_ms (the sim's clock when it applied the change and queued the delta,
# in ms, truncated); messages/s as the client counts them and as feedd sent them; feedd's CPU and
# memory per connection; seq gaps (lost), steps back (reordered), dropped connections.
set -euo pipefail
bin=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
. "$(dirname "$0")/lib.sh"
rate=${BENCH_FEED_RATE:-10000}
markets=${BENCH_FEED_MARKETS:-2350}     # ~85 % start active: ~2 000 active markets
conns=${BENCH_FEED_CONNS:-1000}
seconds=$((BENCH_SECONDS * 2))
# 1 001 clients subscribing at once leave a backlog that takes ~5-10 s to drain on 2 cores
warmup=${BENCH_FEED_WARMUP:-15}
tmp=$(mktemp -d /tmp/kbook-bench.XXXXXX)
chmod 755 "$tmp"
trap 'sim_stop "$tmp/stack"; collector_stop "$tmp/stack"; stack_stop "$tmp/stack"; [ -n "${BENCH_KEEP:-}" ] || rm -rf "$tmp"' EXIT
ulimit -n 65536 2>/dev/null || true
# the flood limits of nginx are per address: every load connection comes from 127.0.0.1
export KBOOK_NGINX_IP_RATE=100000 KBOOK_NGINX_KEY_RATE=100000
bench_recording_stack "$tmp/stack" "$bin" "$markets"
cmetric() { curl -s "http://127.0.0.1:$metrics_port/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
# subscribed: the collector's count stops growing
prev=-1
for i in $(seq 1 120); do
	cur=$(cmetric kbook_collector_markets_subscribed || true)
	[ -n "$cur" ] && [ "$cur" -gt 0 ] && [ "$cur" = "$prev" ] && break
	prev=${cur:--1}
	sleep 2
done
curl -s -X POST "http://127.0.0.1:$sim_port/_sim/flow?rate=$rate" >/dev/null
sleep 5
active=$(curl -s "http://127.0.0.1:$sim_port/_sim/stats" | jq .active_markets)
psql_ "SELECT m.ticker FROM markets m WHERE m.status = 'active'
	AND EXISTS (SELECT 1 FROM book_deltas d WHERE d.market_id = m.id)" >"$tmp/tickers"
"$bin/kbook-admin" account create bench@kbook.test project >/dev/null
for f in "rate 100000000" "credits 1000000000" "feed_conns 100000" "feed_markets 100000"; do
	# shellcheck disable=SC2086
	"$bin/kbook-admin" account set bench@kbook.test $f >/dev/null
done
key=$("$bin/kbook-admin" key create bench@kbook.test bench)

fpid=$(svc_running "$tmp/stack" feedd)
fmetric() { curl -s --unix-socket "$tmp/stack/run/feed.sock" http://feedd/metrics | awk -v m="$1" '$1 == m {print $2}'; }
rss() { awk '/VmRSS/ {print $2}' "/proc/$fpid/status"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$fpid/stat"; }
hz=$(getconf CLK_TCK)
# measure N: one run of the load client (new connections, warm-up, measurement); writes run N's
# table row, its notes and its raw JSON to $tmp/row.N, $tmp/notes.N and $tmp/load.N.json
measure() {
	local n=$1 rss0 rss1 lpid t0 t1 tc1 k0 k1 kc1 m0 m1 l0 l1 cm0 cm1 cs0 cs1 s0 s1 cmax load
	local -a cpu0 cpu1
	rss0=$(rss)
	"$bin/kbook-feedload" --url "ws://127.0.0.1:$http_port/v1/feed" --key "$key" --tickers "$tmp/tickers" \
		--conns "$conns" --per 10 --all 1 --warmup "$warmup" --seconds "$seconds" --seed "$n" \
		>"$tmp/load.$n.json" 2>"$tmp/load.$n.err" &
	lpid=$!
	until grep -q 'measuring' "$tmp/load.$n.err" 2>/dev/null || ! kill -0 "$lpid" 2>/dev/null; do sleep 0.1; done
	t0=$(date +%s.%N); k0=$(cpu_ticks); m0=$(fmetric kbook_feed_messages_sent_total); rss1=$(rss)
	read -r -a cpu0 < <(python3 "$root/scripts/bench/cputicks.py" "$tmp/stack" pg nginx collector sim)
	l0=$(awk '{print $14 + $15}' "/proc/$lpid/stat"); cm0=$(cmetric kbook_collector_commits_total)
	cs0=$(cmetric kbook_collector_commit_seconds_sum)
	s0=$(fmetric kbook_feed_slow_drops_total)
	# the other processes' CPU is sampled while the client still measures (it exits at the end)
	sleep "$((seconds - 1))"
	l1=$(awk '{print $14 + $15}' "/proc/$lpid/stat"); kc1=$(cpu_ticks); cm1=$(cmetric kbook_collector_commits_total)
	cs1=$(cmetric kbook_collector_commit_seconds_sum)
	read -r -a cpu1 < <(python3 "$root/scripts/bench/cputicks.py" "$tmp/stack" pg nginx collector sim)
	tc1=$(date +%s.%N)
	wait "$lpid"
	t1=$(date +%s.%N); k1=$(cpu_ticks); m1=$(fmetric kbook_feed_messages_sent_total)
	s1=$(fmetric kbook_feed_slow_drops_total)
	cmax=$(cmetric kbook_collector_commit_seconds_max)
	load=$(cat "$tmp/load.$n.json")
	jq -r --arg n "$n" --arg rate "$rate" --arg m0 "$m0" --arg m1 "$m1" --arg t0 "$t0" --arg t1 "$t1" \
		--arg k0 "$k0" --arg k1 "$k1" --arg hz "$hz" --arg rss0 "$rss0" --arg rss1 "$rss1" --arg s "$((s1 - s0))" '
		(($t1 | tonumber) - ($t0 | tonumber)) as $dt |
		"| \($n) | \(.subscribed) of \(.connections) | \($rate) | \(.msgs_per_s) | \(((($m1 | tonumber) - ($m0 | tonumber)) / $dt) | floor) | \(.latency_ms.p50) | \(.latency_ms.p99) | \(.latency_ms.p999) | \(.latency_ms.max) | \(.collector_to_client_ms.p50) / \(.collector_to_client_ms.p99) | \(.lost) | \(.reordered) | \(.refused + .closed_by_server) | \($s) | \(((($k1 | tonumber) - ($k0 | tonumber)) / ($hz | tonumber) / $dt * 100) | floor) | \((($rss1 | tonumber) / 1024) | floor) | \(((($rss1 | tonumber) - ($rss0 | tonumber)) / .connections) | . * 10 | floor / 10) |"' <<<"$load" >"$tmp/row.$n"
	# CPU of every process in the path over the window, % of one core
	pct() { awk -v a="$1" -v b="$2" -v t0="$t0" -v t1="$tc1" -v hz="$hz" 'BEGIN { printf "%.0f", (b - a) / hz / (t1 - t0) * 100 }'; }
	{
		echo "- Run $n: CPU over the window, % of one core: Postgres $(pct "${cpu0[0]}" "${cpu1[0]}"),"
		echo "  nginx $(pct "${cpu0[1]}" "${cpu1[1]}"), kbook-feedd $(pct "$k0" "$kc1"), kbook-collector $(pct "${cpu0[2]}" "${cpu1[2]}"),"
		echo "  kalshi-sim $(pct "${cpu0[3]}" "${cpu1[3]}"), the load client $(pct "$l0" "$l1"). The collector committed"
		echo "  $(awk -v a="$cm0" -v b="$cm1" -v t0="$t0" -v t1="$tc1" 'BEGIN { printf "%.0f", (b - a) / (t1 - t0) }') transactions a second, each taking $(awk -v a="$cs0" -v b="$cs1" -v c="$cm0" -v d="$cm1" 'BEGIN { printf "%.1f", (d > c ? (b - a) / (d - c) * 1000 : 0) }') ms on average to write and commit"
		echo "  (the longest since the collector started: $(awk -v m="$cmax" 'BEGIN { printf "%.0f", m * 1000 }') ms). Sim to collector p50 $(jq -r .sim_to_collector_ms.p50 <<<"$load") ms, p99 $(jq -r .sim_to_collector_ms.p99 <<<"$load") ms."
	} >"$tmp/notes.$n"
}

runs=${BENCH_FEED_RUNS:-3}
for n in $(seq 1 "$runs"); do
	measure "$n"
done
curl -s -X POST "http://127.0.0.1:$sim_port/_sim/flow?rate=0" >/dev/null

echo "## Live feed: end-to-end latency (sim -> collector -> Postgres -> feedd -> nginx -> client)"
echo
echo "\`make bench\` section scripts/bench/50-feed.sh: release build; kalshi-sim at $rate changes/s over"
echo "$active active markets ($markets in all), kbook-collector, Postgres, kbook-feedd, nginx and the load"
echo "client (\`kbook-feedload\`, one libwebsockets thread on a libev loop) share the machine's $(nproc) cores."
echo "$conns connections each subscribed to 10 random active markets, plus 1 subscribed to all"
echo "$(wc -l <"$tmp/tickers") recorded active markets, all through nginx; measured for ${seconds} s after every"
echo "connection is subscribed and ${warmup} s of warm-up. **Latency** = the client's receive time minus the"
echo "delta's \`ts_ms\`, the sim's clock when it applied the change and queued the delta (whole ms,"
echo "truncated: the figures overstate by 0..1 ms); it spans the sim's send, the collector's receive,"
echo "its group commit and NOTIFY, feedd's read and fan-out, nginx and the client."
echo
echo "$runs runs one after the other on the same stack, each with new connections (and its own random"
echo "choice of markets). **collector to client** splits the latency at the collector's receive time (the"
echo "message's top-level \`ts\`): group commit, NOTIFY, feedd's read and fan-out, nginx and the client."
echo "The collector commits at most every KBOOK_COLLECTOR_COMMIT_MS (${KBOOK_COLLECTOR_COMMIT_MS:-10} ms)."
echo
echo "| run | connections subscribed | deltas/s into the sim | messages/s received | messages/s sent by feedd | latency p50 ms | p99 ms | p99.9 ms | max ms | collector to client p50 / p99 ms | lost (seq gaps) | reordered | dropped connections | slow drops | feedd CPU (% of a core) | feedd RSS MB | feedd memory per connection KB |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
for n in $(seq 1 "$runs"); do cat "$tmp/row.$n"; done
echo
for n in $(seq 1 "$runs"); do cat "$tmp/notes.$n"; done
echo
for n in $(seq 1 "$runs"); do echo "Raw, run $n: \`$(cat "$tmp/load.$n.json")\`"; echo; done
