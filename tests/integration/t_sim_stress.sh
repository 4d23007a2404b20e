#!/bin/bash
# kalshi-sim soak: 8 connections send random commands, garbage, faults and market creations,
# stall or abort at random, for 15 s while the flow (20 000/s) and the lifecycle (every 20 ms) run
# with a small send queue (overflows) and a small market limit (error 26). The sim must keep
# answering and exit cleanly with no sanitizer report; the client ends with no exception other
# than connections closed under it.
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
source "$here/../sim/sim_lib.sh"

sim_start --markets 500 --rate 20000 --lifecycle-ms 20 --send-queue-bytes 200000 --sub-market-limit 30
"$SIM_PY" "$KBOOK_ROOT/tests/sim/kalshi_stress.py" "$SIM_PORT" "$SIM_KEYS/kalshi-private.pem" \
	"$SIM_KEY_ID" 15 >"$KBOOK_TMP/stress.out" 2>&1
grep '^CHECK' "$KBOOK_TMP/stress.out" >"$KBOOK_TMP/stress.checks"
check "the stress client printed its checks" 4 "$(wc -l <"$KBOOK_TMP/stress.checks")"
sim_record <"$KBOOK_TMP/stress.checks"
sim_stop
finish
