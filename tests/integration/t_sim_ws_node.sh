#!/bin/bash
# kalshi-sim with npm clients no one here wrote: the `ws` WebSocket client, its handshake signed by
# the official kalshi-typescript client's own KalshiAuth, subscribes 100 markets while the flow
# runs, and the books it rebuilds from snapshot + deltas equal the sim's ground truth.
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
source "$here/../sim/sim_lib.sh"

require_node_modules ws
sim_start --markets 300 --rate 3000 --ping-interval-ms 300
node "$KBOOK_ROOT/tests/sim/kalshi_ws_node.js" "$SIM_PORT" "$SIM_KEY_ID" \
	"$SIM_KEYS/kalshi-private.pem" 100 2 >"$KBOOK_TMP/node.out" 2>&1
check "node ws script exits 0" 0 "$?"
sim_record <"$KBOOK_TMP/node.out"
sim_stop
finish
