#!/bin/bash
# kalshi-sim: markets that live. A market created on demand is announced on market_lifecycle_v2
# (event_lifecycle, then created with its metadata), walked through activated, deactivated,
# activated, close_date_updated, determined and settled, each visible over REST; the lifecycle
# timer (--lifecycle-ms) announces transitions on its own; combo (KXMVE) markets are announced on
# multivariate_market_lifecycle only.
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
source "$here/../sim/sim_lib.sh"

sim_start --markets 100 --rate 0 --lifecycle-ms 200
sim_py lifecycle
n=$(curl -s "http://127.0.0.1:$SIM_PORT/_sim/stats" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["markets"])')
check "markets were created beyond the first 100" 1 "$([ "$n" -gt 101 ] && echo 1 || echo 0)"
sim_stop
finish
