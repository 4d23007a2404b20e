#!/bin/bash
# kalshi-sim: faults on demand (POST /_sim/fault): a dropped seq, a duplicate, JSON numbers for
# strings, refused adds (26), a terminal error 25, stopped heartbeat pings, a truncated frame,
# invalid UTF-8, a closed socket; then a reader too slow for the bounded send queue gets error 25.
# Also --fault at start-up.
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
source "$here/../sim/sim_lib.sh"

sim_start --markets 200 --rate 0 --ping-interval-ms 200
sim_py faults
sim_stop

sim_start --markets 200 --rate 40000 --send-queue-bytes 65536
sim_py overflow --markets 100 --seconds 3
sim_stop

# start-up faults are armed on every connection; bad ones are refused
sim_start --markets 50 --rate 0 --fault numbers,duplicate:1
sim_py startup_faults
sim_stop
"$KBOOK_BIN/kalshi-sim" --no-auth --fault close >/dev/null 2>&1
check "--fault refuses kinds that make no sense at start-up" 2 "$?"
"$KBOOK_BIN/kalshi-sim" --no-auth --fault drop:x >/dev/null 2>&1
check "--fault refuses a bad count" 2 "$?"
finish
