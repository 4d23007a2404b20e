#!/bin/bash
# kalshi-sim: markets that live. A market created on demand is announced on market_lifecycle_v2
# (event_lifecycle, then created with its metadata), walked through activated, deactivated,
# activated, close_date_updated, determined and settled, each visible over REST; the lifecycle
# timer (--lifecycle-ms) announces transitions on its own.
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
source "$here/../sim/sim_lib.sh"

sim_start --markets 100 --rate 0 --lifecycle-ms 200
sim_py lifecycle
n=$(curl -s "http://127.0.0.1:$SIM_PORT/_sim/stats" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["markets"])')
check_match "the timer created markets beyond the first 100" '^1[0-9][0-9]$' "$n"
sim_stop
finish
