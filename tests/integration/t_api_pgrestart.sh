#!/usr/bin/env bash
# The API workers across a Postgres restart (issue 13 point 3): every worker holds a connection
# that the restart closes. A request that reaches a worker after Postgres is back must succeed:
# the worker sees that the server closed its idle connection before it sends anything on it,
# reconnects and sends the request's statements on the new connection. Three restarts, each
# followed by a different route first (the orderbook's charge and read sent together in one
# pipeline; the markets list, charged alone; health, no charge), each with 3 requests per worker
# in a row (libfcgi's workers take turns at accept, so every worker answers its first request
# after the restart among them): all 200, and each charge counted once. The API's and feedd's logs
# stay JSON lines through it.
set -u
. "$TEST_ROOT/tests/integration/lib.sh"
. "$TEST_ROOT/scripts/stack.sh"

U=$TEST_URL
export KBOOK_DATABASE_URL=$TEST_PG
ADMIN=$TEST_BIN/kbook-admin
LOG=$TEST_STACK/log/api.log
sql() { psql -X -q -tA -d "$TEST_PG" -c "$1"; }

echo "setup: a key and a market with a checkpoint today"
$ADMIN account create pgrestart@kbook.test >/dev/null
$ADMIN account set pgrestart@kbook.test rate 1000000 >/dev/null
$ADMIN account set pgrestart@kbook.test credits 100000000 >/dev/null
KEY=$($ADMIN key create pgrestart@kbook.test restart)
check_match "a key" '^kb_live_[0-9A-Za-z]{32}$' "$KEY"
mid=$(sql "INSERT INTO markets (ticker, first_ts, last_ts) VALUES ('T-PGR-1', now() - interval '1 second', now() - interval '1 second') RETURNING id")
sql "INSERT INTO book_checkpoints (market_id, ts, source, yes_prices, yes_sizes, no_prices, no_sizes)
	VALUES ($mid, now() - interval '1 second', 'snapshot', '{450000}', '{1000}', '{500000}', '{3300}')"
# the data pool's workers: the children of the process recorded as "api" (the account pool runs
# the same binary on another socket)
read -r api_pid _ <"$TEST_STACK/state/api"
workers=$(pgrep -P "$api_pid" | wc -l)
check_match "the pool's workers" '^[1-9][0-9]*$' "$workers"

# burst PATH N: N requests in a row; prints their statuses, space-separated.
burst() {
	local i out=()
	for ((i = 0; i < $2; i++)); do
		out+=("$(curl -s -o /dev/null -w '%{http_code}' -H "X-API-Key: $KEY" "$U$1")")
	done
	echo "${out[*]}"
}
# the pids of the workers that logged a request line after byte offset $1 of the API log
served_by() {
	tail -c +"$(($1 + 1))" "$LOG" | grep '"msg":"GET /v1/' | grep -o '"pid":[0-9]*' | sort -u | wc -l
}
used() { sql "SELECT coalesce(sum(calls), 0) FROM usage u JOIN api_keys k ON k.id = u.key_id JOIN accounts a ON a.id = k.account_id WHERE a.email = 'pgrestart@kbook.test'"; }

all200=$(for ((i = 0; i < 3 * workers; i++)); do printf '200 '; done)
all200=${all200% }
echo "warm-up: every worker connected and its statements prepared"
for p in /v1/health /v1/markets /v1/markets/T-PGR-1/orderbook; do
	check "warm-up $p" "$all200" "$(burst "$p" $((3 * workers)))"
done

n=0
off0=$(stat -c %s "$LOG")
FEEDLOG=$TEST_STACK/log/feedd.log
foff0=$(stat -c %s "$FEEDLOG")
for p in /v1/markets/T-PGR-1/orderbook /v1/markets /v1/health; do
	echo "Postgres restarted, then $p first"
	pg_stop "$TEST_STACK"
	pg_start "$TEST_STACK" "$TEST_PGPORT" >/dev/null
	off=$(stat -c %s "$LOG")
	before=$(used)
	check "$p: every request 200 after the restart" "$all200" "$(burst "$p" $((3 * workers)))"
	check "$p: every worker answered" "$workers" "$(served_by "$off")"
	if [ "$p" != /v1/health ]; then
		check "$p: each request charged once" $((before + 3 * workers)) "$(used)"
	fi
	n=$((n + $(tail -c +"$((off + 1))" "$LOG" | grep -c 'closed by the server while idle')))
done
check "the workers said why they reconnected (once each per restart)" $((3 * workers)) "$n"
check "the API log stays JSON lines" 0 "$(tail -c +"$((off0 + 1))" "$LOG" | grep -vc '^{')"
# feedd's LISTEN connection reads the FATAL the server sends as it ends the session; libpq's
# default notice processor printed it raw ("FATAL:  terminating connection ...") into the log
check "feedd's log stays JSON lines (the server's goodbye is logged as one)" 0 \
	"$(tail -c +"$((foff0 + 1))" "$FEEDLOG" | grep -vc '^{')"
check_match "... as a warning naming the connection" '(LISTEN|database): server FATAL: terminating connection' \
	"$(tail -c +"$((foff0 + 1))" "$FEEDLOG" | grep -m1 'server FATAL')"

sql "DELETE FROM book_checkpoints WHERE market_id = $mid" >/dev/null
sql "DELETE FROM markets WHERE id = $mid" >/dev/null
finish
