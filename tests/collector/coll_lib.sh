# Helpers for the kbook-collector integration tests (sourced after tests/integration/lib.sh and
# tests/sim/sim_lib.sh; needs TEST_PG, the stack's database).
#
#   coll_db             creates a database of the test's own on the stack's cluster (migrated),
#                       points TEST_PG at it and drops it on exit
#   coll_start [NAME]   starts kbook-collector against the running sim ($SIM_PORT) with the test
#                       key, logging to $KBOOK_TMP/NAME.log ($COLL_PID); extra KBOOK_* settings
#                       come from the environment; /metrics and /healthz on $COLL_METRICS_PORT
#   coll_wait_rows N S  waits up to S seconds until book_deltas holds at least N rows
#   coll_stop           SIGTERM, checks exit 0 and no sanitizer report in the log
#   coll_kill9          kill -9 (a crash)
#   coll_sql SQL        one psql query on the stack's database, unaligned
#   coll_check ARGS     runs tests/collector/coll_check.py and records its CHECK lines

COLL_PID=
COLL_LOG=
COLL_DB=

coll_db() {
	local admin="$TEST_PG dbname=postgres"
	COLL_DB=kbook_coll_$$
	psql -X -q -d "$admin" -c "DROP DATABASE IF EXISTS $COLL_DB" -c "CREATE DATABASE $COLL_DB" 2>/dev/null || return 1
	TEST_PG="$TEST_PG dbname=$COLL_DB"
	KBOOK_DATABASE_URL=$TEST_PG "$KBOOK_ROOT/scripts/migrate.sh" >/dev/null || return 1
	COLL_ADMIN=$admin
}

coll_cleanup() {
	coll_kill9
	sim_kill
	[ -n "$COLL_DB" ] && psql -X -q -d "$COLL_ADMIN" -c "DROP DATABASE IF EXISTS $COLL_DB WITH (FORCE)"
}

coll_sql() {
	psql -X -q -tA -d "$TEST_PG" -c "$1"
}

coll_start() {
	COLL_LOG=$KBOOK_TMP/${1:-collector}.log
	COLL_METRICS_PORT=${COLL_METRICS_PORT:-$(free_port)}
	KBOOK_DATABASE_URL=$TEST_PG KBOOK_COLLECTOR_METRICS_PORT=$COLL_METRICS_PORT \
	KBOOK_KALSHI_WS_URL=ws://127.0.0.1:$SIM_PORT/trade-api/ws/v2 \
	KBOOK_KALSHI_REST_URL=http://127.0.0.1:$SIM_PORT/trade-api/v2 \
	KBOOK_KALSHI_KEY_ID=$SIM_KEY_ID KBOOK_KALSHI_KEY_FILE=$SIM_KEYS/kalshi-private.pem \
		"$KBOOK_BIN/kbook-collector" 2>>"$COLL_LOG" &
	COLL_PID=$!
	# coll_cleanup replaces sim_start's trap (it kills the sim too), never a test's own, which
	# calls coll_cleanup itself: t_collector_outage's second start replaced its api_cleanup, and
	# the kbook-api, kbook-feedd and nginx of every run outlived it
	case $(trap -p EXIT) in '' | *sim_kill* | *coll_cleanup*) trap coll_cleanup EXIT ;; esac
}

coll_wait_rows() {
	local want=$1 limit=$2 i n
	for ((i = 0; i < limit * 10; i++)); do
		n=$(coll_sql "SELECT count(*) FROM book_deltas")
		[ "${n:-0}" -ge "$want" ] && return 0
		sleep 0.1
	done
	echo "  | only ${n:-0} rows after ${limit}s"
	return 1
}

coll_stop() {
	local rc
	kill -TERM "$COLL_PID"
	wait "$COLL_PID"
	rc=$?
	COLL_PID=
	check "kbook-collector exits 0 on SIGTERM" 0 "$rc"
	check "no sanitizer report in the collector log" 0 \
		"$(grep -c -E 'AddressSanitizer|LeakSanitizer|runtime error:' "$COLL_LOG")"
}

coll_kill9() {
	if [ -n "$COLL_PID" ]; then
		kill -KILL "$COLL_PID" 2>/dev/null
		wait "$COLL_PID" 2>/dev/null
		COLL_PID=
	fi
}

coll_check() {
	"$SIM_PY" "$KBOOK_ROOT/tests/collector/coll_check.py" --pg "$TEST_PG" --sim-port "$SIM_PORT" "$@" \
		>"$KBOOK_TMP/check.out" 2>&1
	check "coll_check.py exits 0" 0 "$?"
	sim_record <"$KBOOK_TMP/check.out"
	COLL_REASONS=$(sed -n 's/^REASONS\t//p' "$KBOOK_TMP/check.out")
}

sim_fault() { # KIND [QUERY]
	curl -s -X POST "http://127.0.0.1:$SIM_PORT/_sim/fault?type=$1${2:+&$2}" >/dev/null
}
