#!/bin/bash
# kalshi-sim under a flood: one reader (a bare-socket client that counts frames,
# tests/sim/kalshi_bench.py) with the flow asked for 400 000 changes/s over 200 subscribed markets
# (120 000/s on a sanitizer build) receives a steady stream and no error. The rate is reported
# here, not asserted (a test's timing depends on the machine's load): make bench measures it
# (scripts/bench/30-sim.sh, goal 200 000/s).
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
source "$here/../sim/sim_lib.sh"

ask=400000
if ldd "$KBOOK_BIN/kalshi-sim" | grep -q -E 'libasan|libubsan'; then
	ask=120000
fi
sim_start --markets 220 --rate 0 --send-queue-bytes 268435456
out=$("$SIM_PY" "$KBOOK_ROOT/tests/sim/kalshi_bench.py" --port "$SIM_PORT" \
	--key "$SIM_KEYS/kalshi-private.pem" --key-id "$SIM_KEY_ID" --markets 200 --rate "$ask" --seconds 4)
echo "  | $out"
rate=$(echo "$out" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["msgs_per_s"])')
errors=$(echo "$out" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["errors"])')
echo "  rate: $rate messages/s to one reader"
check "the reader received the flow" 1 "$([ "$rate" -gt 0 ] && echo 1 || echo 0)"
check "no error while keeping up" 0 "$errors"
check "the last frame is an orderbook_delta" True "$(echo "$out" | /usr/bin/python3 -c \
	'import json,sys; print(json.load(sys.stdin)["last"].startswith("{\"type\":\"orderbook_delta\""))')"
sim_stop
finish
