#!/usr/bin/env bash
# kalshi-sim throughput to one reader (tests/sim/kalshi_bench.py: a bare-socket WebSocket reader
# that does not decode JSON), median of three runs, against the issue's goal of 200 000 msgs/s.
set -euo pipefail
bin=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
. "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d /tmp/kbook-bench.XXXXXX)
trap '[ -n "${sim:-}" ] && kill "$sim" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"' EXIT
"$root/scripts/kalshi-keygen.sh" "$tmp/key" >/dev/null
port=$(free_port)
"$bin/kalshi-sim" --port "$port" --pubkey "$tmp/key/kalshi-public.pem" \
	--key-id "$(cat "$tmp/key/kalshi-key-id")" --markets 2000 --rate 0 >"$tmp/sim.log" 2>&1 &
sim=$!
wait_port "$port"
runs=()
for i in 1 2 3; do
	runs+=("$(/usr/bin/python3 "$root/tests/sim/kalshi_bench.py" --port "$port" \
		--key "$tmp/key/kalshi-private.pem" --key-id "$(cat "$tmp/key/kalshi-key-id")" \
		--markets 200 --rate 1000000 --seconds "${BENCH_SECONDS}")")
done
echo "## kalshi-sim to one reader"
echo
echo "\`make bench\` section scripts/bench/30-sim.sh: 2 000 markets, 200 subscribed, flow rate"
echo "uncapped, ${BENCH_SECONDS} s per run, release build; the reader is tests/sim/kalshi_bench.py (bare"
echo "socket, frames counted without JSON decoding). Goal: at least 200 000 messages/s."
echo
echo "| run | messages/s | MB/s | error messages (25: the reader fell behind) |"
echo "|---|---|---|---|"
i=0
for r in "${runs[@]}"; do
	i=$((i + 1))
	jq -r --arg i "$i" '"| \($i) | \(.msgs_per_s | floor) | \(.bytes_per_s / 1e6 * 100 | floor / 100) | \(.errors) |"' <<<"$r"
done
med=$(printf '%s\n' "${runs[@]}" | jq -s 'map(.msgs_per_s) | sort | .[1] | floor')
echo
echo "Median $med messages/s: $(awk -v m="$med" 'BEGIN {printf "%.2f", m / 200000}') x the 200 000/s goal."
