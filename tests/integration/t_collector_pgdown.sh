#!/bin/bash
# kbook-collector when Postgres goes away mid-stream: its database refuses connections and every
# session of it is terminated for 10 s while the flow goes on. The collector keeps reading the
# socket (no reconnect, no gap), queues what it receives, and writes it all when the database is
# back: no row lost (the books still equal the sim's ground truth at 500 instants, and no gap is
# recorded) and none written twice.
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
source "$here/../sim/sim_lib.sh"
source "$here/../collector/coll_lib.sh"

coll_db
check "a database of the test's own" 0 $?
sim_start --markets 200 --rate 1000 --seed 13
coll_start
coll_wait_rows 1000 20
check "the collector records" 0 $?
sleep 2

admin() { psql -X -q -tA -d "$COLL_ADMIN" -c "$1" >/dev/null; }
admin "ALTER DATABASE $COLL_DB ALLOW_CONNECTIONS false"
admin "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '$COLL_DB'"
sleep 10
admin "ALTER DATABASE $COLL_DB ALLOW_CONNECTIONS true"
check_match "the collector said writing failed" '[1-9]' "$(grep -c 'writing .* events failed' "$COLL_LOG")"
sleep 5
check "no reconnect to the exchange meanwhile" 0 "$(grep -c 'connection lost' "$COLL_LOG")"
check_match "/healthz is 200 again" 200 \
	"$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$COLL_METRICS_PORT/healthz")"
coll_stop
check "no (market_id, ts) twice" 0 \
	"$(coll_sql "SELECT count(*) FROM (SELECT 1 FROM book_deltas GROUP BY market_id, ts HAVING count(*) > 1) d")"
check_match "rows from the outage were written" '^1$' \
	"$(coll_sql "SELECT (count(*) > 5000)::int FROM book_deltas")"
coll_check --samples 500 --seed 4
check "no gap recorded" "" "$COLL_REASONS"
sim_stop
finish
