#!/usr/bin/env bash
# kalshi-sim throughput to one reader (tests/sim/kalshi_bench.py: a bare-socket WebSocket reader
# that does not decode JSON) at rising flow rates, against the goal of 200 000 msgs/s.
set -euo pipefail
bin=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
. "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d /tmp/kbook-bench.XXXXXX)
trap '[ -n "${sim:-}" ] && kill "$sim" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"' EXIT
"$root/scripts/kalshi-keygen.sh" "$tmp/key" >/dev/null
port=$(free_port)
"$bin/kalshi-sim" --port "$port" --pubkey "$tmp/key/kalshi-public.pem" \
	--key-id "$(cat "$tmp/key/kalshi-key-id")" --markets 220 --rate 0 \
	--send-queue-bytes 268435456 >"$tmp/sim.log" 2>&1 &
sim=$!
wait_port "$port"
echo "## kalshi-sim to one reader"
echo
echo "\`make bench\` section scripts/bench/30-sim.sh: 220 markets, 200 of them subscribed (the flow"
echo "moves every market, so nearly every change is sent), release build, ${BENCH_SECONDS} s per row; the"
echo "reader is tests/sim/kalshi_bench.py (a bare socket: frames counted without JSON decoding). Each"
echo "row asks the sim's flow for a rate; the sim sustains it when it delivers that many messages with"
echo "no error 25 (its send queue never filled). Goal: at least 200 000 messages/s."
echo
echo "| flow asked (changes/s) | messages/s delivered | MB/s | error messages (25: the reader fell behind) | delivered / asked |"
echo "|---|---|---|---|---|"
for rate in 200000 300000 400000 600000; do
	r=$(/usr/bin/python3 "$root/tests/sim/kalshi_bench.py" --port "$port" \
		--key "$tmp/key/kalshi-private.pem" --key-id "$(cat "$tmp/key/kalshi-key-id")" \
		--markets 200 --rate "$rate" --seconds "${BENCH_SECONDS}")
	jq -r --arg r "$rate" '"| \($r) | \(.msgs_per_s | floor) | \(.bytes_per_s / 1e6 * 100 | floor / 100) | \(.errors) | \(.msgs_per_s / ($r | tonumber) * 100 | floor / 100) |"' <<<"$r"
done
