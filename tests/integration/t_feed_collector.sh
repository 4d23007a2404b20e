#!/usr/bin/env bash
# The live feed against ground truth through every real component: kalshi-sim -> kbook-collector
# -> Postgres -> kbook-feedd -> nginx -> a websocket client no one here wrote (python3-websockets).
# The collector records into a database of the test's own; a kbook-feedd on that database sits
# behind an nginx rendered from nginx/nginx.conf.in (scripts/stack.sh's nginx_start) in the test's
# directory. tests/feed/feed_collector.py subscribes to the 20 busiest markets while the sim
# trades, pauses the sim, waits until everything is recorded and received, and checks that the
# snapshots + deltas, applied in order, equal the books in Postgres and the sim's true books, with
# nothing lost, repeated or out of order.
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../../scripts/stack.sh"   # svc_spawn, nginx_start (its sim_start is replaced below)
source "$here/lib.sh"
source "$here/../sim/sim_lib.sh"
source "$here/../collector/coll_lib.sh"

coll_db
check "a database of the test's own" 0 $?

sim_start --markets 200 --rate 1000 --seed 23
coll_start
coll_wait_rows 3000 30
check "the collector records deltas" 0 $?

# its NOTIFY names the markets of each batch (docs/feed.md's contract): ids of known markets
payloads=$(psql -X -q -d "$TEST_PG" -c "LISTEN kbook_deltas" -c "SELECT pg_sleep(1.5)" -c "SELECT 1" 2>&1 |
	sed -n 's/.*with payload "\([^"]*\)".*/\1/p')
check_match "notifications received" '.' "$payloads"
check "every payload is a list of market ids" "" "$(grep -v -E '^[0-9]+(,[0-9]+)*$' <<<"$payloads")"
ids=$(tr ',' '\n' <<<"$payloads" | sort -un | paste -sd, -)
check "and every id is a market with rows" 0 \
	"$(coll_sql "SELECT count(*) FROM unnest('{$ids}'::int[]) i WHERE NOT EXISTS
		(SELECT 1 FROM markets m WHERE m.id = i AND m.last_ts IS NOT NULL)")"

# feedd on the collector's database, nginx in front of it, both in the test's directory
fs=$KBOOK_TMP/fs
stack_dirs "$fs"
mkdir -p "$fs/app/static"
feed_cleanup() {
	nginx_stop "$fs"
	svc_stop "$fs" feedd
	coll_cleanup
}
trap feed_cleanup EXIT
# as the service user and the feed's own role, as the stack runs it
KBOOK_DATABASE_URL="$TEST_PG user=kbook_feedd" KBOOK_FEEDD_LISTEN=$fs/run/feed.sock \
	svc_spawn "$fs" feedd "$TEST_STACK/app/bin/kbook-feedd"
for ((i = 0; i < 100; i++)); do [ -S "$fs/run/feed.sock" ] && break; sleep 0.1; done
check "kbook-feedd listens" 1 "$([ -S "$fs/run/feed.sock" ] && echo 1)"
port=$(free_port)
nginx_start "$fs" "$port"
wait_port "$port" 20
check "nginx in front of it" 0 $?

export KBOOK_DATABASE_URL=$TEST_PG
"$TEST_BIN/kbook-admin" account create feedcoll@kbook.test project >/dev/null
"$TEST_BIN/kbook-admin" account set feedcoll@kbook.test rate 100000 >/dev/null
"$TEST_BIN/kbook-admin" account set feedcoll@kbook.test credits 1000000 >/dev/null
key=$("$TEST_BIN/kbook-admin" key create feedcoll@kbook.test feed)
unset KBOOK_DATABASE_URL

"$SIM_PY" "$TEST_ROOT/tests/feed/feed_collector.py" "ws://127.0.0.1:$port/v1/feed" "$key" "$TEST_PG" \
	"$SIM_PORT" 20 6 >"$KBOOK_TMP/client.out" 2>&1
check "feed_collector.py exits 0" 0 "$?"
sim_record <"$KBOOK_TMP/client.out"

coll_stop
svc_stop "$fs" feedd
check "no sanitizer report in the feedd log" 0 \
	"$(grep -c -E 'AddressSanitizer|LeakSanitizer|runtime error:' "$fs/log/feedd.log")"
finish
