#!/bin/bash
# kalshi-sim: WebSocket commands against KALSHI.md section 3-4, field by field: subscribe,
# update_subscription (add_markets, delete_markets, get_snapshot), unsubscribe, list_subscriptions,
# one seq per sid across interleaved markets and acks, snapshots equal to the ground truth; every
# error code the sim claims, from the matching bad command (27 past --cmd-rate); malformed frames (not JSON, wrong
# types, huge, binary, deeply nested) answered with errors without killing the connection.
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
source "$here/../sim/sim_lib.sh"

sim_start --markets 400 --rate 0 --sub-market-limit 20 --max-frame 4096
sim_py conformance
sim_py errors --limit 20
sim_py malformed --max-frame 4096
sim_stop

# error 27: a connection sending more than --cmd-rate commands per second
sim_start --markets 20 --rate 0 --cmd-rate 5
sim_py cmdrate
sim_stop
finish
