# Helpers for the kalshi-sim integration tests (sourced after tests/integration/lib.sh).
#
#   sim_keys            makes $KBOOK_TMP/keys (PKCS#8 key, its public half, a key id, and a
#                       second unrelated PKCS#1 key) with scripts/kalshi-keygen.sh
#   sim_start ARGS...   starts kalshi-sim on a free port ($SIM_PORT) with the test key and ARGS,
#                       logging to $KBOOK_TMP/sim.log; the sim is killed on exit
#   sim_py SCENARIO ... runs tests/sim/kalshi_ws_check.py and records each CHECK line it prints
#   sim_stop            stops the sim (SIGTERM), checks it exited 0 and that its log holds no
#                       sanitizer report

# The harness may name its variables KBOOK_* or TEST_*; a manual run needs neither.
_sim_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
KBOOK_ROOT=${KBOOK_ROOT:-${TEST_ROOT:-$(cd "$_sim_here/../.." && pwd)}}
KBOOK_BIN=${KBOOK_BIN:-${TEST_BIN:-$KBOOK_ROOT/build/san/bin}}
KBOOK_TMP=${KBOOK_TMP:-${TEST_TMP:-$(mktemp -d /tmp/kbook-sim.XXXXXX)}}
mkdir -p "$KBOOK_TMP"

SIM_PID=
SIM_PORT=
SIM_PY=/usr/bin/python3

sim_keys() {
	SIM_KEYS=$KBOOK_TMP/keys
	if [ ! -e "$SIM_KEYS/kalshi-private.pem" ]; then
		"$KBOOK_ROOT/scripts/kalshi-keygen.sh" "$SIM_KEYS" >/dev/null
		"$KBOOK_ROOT/scripts/kalshi-keygen.sh" "$SIM_KEYS/other" --pkcs1 >/dev/null
	fi
	SIM_KEY_ID=$(cat "$SIM_KEYS/kalshi-key-id")
}

sim_kill() {
	if [ -n "$SIM_PID" ]; then
		kill "$SIM_PID" 2>/dev/null
		wait "$SIM_PID" 2>/dev/null
		SIM_PID=
	fi
}

sim_start() {
	sim_keys
	SIM_PORT=$(free_port)
	"$KBOOK_BIN/kalshi-sim" --port "$SIM_PORT" --pubkey "$SIM_KEYS/kalshi-public.pem" \
		--key-id "$SIM_KEY_ID" "$@" 2>>"$KBOOK_TMP/sim.log" &
	SIM_PID=$!
	# never over a trap of the test's or coll_lib's (they kill the sim themselves)
	case $(trap -p EXIT) in '' | *sim_kill*) trap sim_kill EXIT ;; esac
	wait_port "$SIM_PORT" 20
}

sim_stop() {
	local rc
	kill -TERM "$SIM_PID"
	wait "$SIM_PID"
	rc=$?
	SIM_PID=
	check "kalshi-sim exits cleanly on SIGTERM" 0 "$rc"
	check "no sanitizer report in the sim log" 0 \
		"$(grep -c -E 'AddressSanitizer|LeakSanitizer|runtime error:' "$KBOOK_TMP/sim.log")"
}

# sim_record: reads CHECK lines on stdin and records them.
sim_record() {
	local line

	while IFS= read -r line || [ -n "$line" ]; do
		if [[ $line == CHECK$'\t'* ]]; then
			check_tsv "${line#CHECK$'\t'}"
		else
			echo "  | ${line//$'\t'/ }"
		fi
	done
}

sim_py() {
	local scenario=$1
	shift
	"$SIM_PY" "$KBOOK_ROOT/tests/sim/kalshi_ws_check.py" "$scenario" --port "$SIM_PORT" \
		--key "$SIM_KEYS/kalshi-private.pem" --key-id "$SIM_KEY_ID" \
		--other-key "$SIM_KEYS/other/kalshi-private.pem" "$@" >"$KBOOK_TMP/py.out" 2>&1
	check "scenario $scenario exits 0" 0 "$?"
	sim_record <"$KBOOK_TMP/py.out"
}
