#!/bin/bash
# kalshi-sim speed: messages per second to one reader (a bare-socket client that counts frames,
# tests/sim/kalshi_bench.py) with the flow asked for 400 000 changes/s over 200 subscribed markets
# (120 000/s on a sanitizer build).
# The issue asks for at least 200 000/s; a sanitizer build is several times slower, so there the
# floor is 40 000/s and the figure is only reported.
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
source "$here/../sim/sim_lib.sh"

floor=200000 ask=400000
if ldd "$KBOOK_BIN/kalshi-sim" | grep -q -E 'libasan|libubsan'; then
	floor=40000 ask=120000
fi
sim_start --markets 220 --rate 0 --send-queue-bytes 268435456
out=$("$SIM_PY" "$KBOOK_ROOT/tests/sim/kalshi_bench.py" --port "$SIM_PORT" \
	--key "$SIM_KEYS/kalshi-private.pem" --key-id "$SIM_KEY_ID" --markets 200 --rate "$ask" --seconds 4)
echo "  | $out"
rate=$(echo "$out" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["msgs_per_s"])')
errors=$(echo "$out" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["errors"])')
check "at least $floor messages/s to one reader (got $rate)" 1 "$([ "$rate" -ge "$floor" ] && echo 1 || echo 0)"
check "no error while keeping up" 0 "$errors"
sim_stop
finish
