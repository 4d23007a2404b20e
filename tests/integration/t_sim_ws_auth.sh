#!/bin/bash
# kalshi-sim: the signed WebSocket handshake (KALSHI.md section 2). Unsigned, garbled, stale,
# future, wrong-path, wrong-method, wrong-key and unknown-key-id upgrades get HTTP 401; a request
# signed with Kalshi's starter-code signing (python3-cryptography) is accepted.
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
source "$here/../sim/sim_lib.sh"

sim_start --markets 20 --ts-window-ms 60000
sim_py auth
sim_stop
finish
