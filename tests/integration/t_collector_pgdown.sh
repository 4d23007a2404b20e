#!/bin/bash
# kbook-collector when Postgres goes away mid-stream. Its database refuses connections and every
# session of it is terminated, under flow. First for 8 s: the collector keeps the exchange
# connection (no reconnect, no gap), spools to its file after 2 s, and replays the file when the
# database is back. Then again, and the collector is stopped during the outage: it exits with
# the rest in its spool, and the next run replays that spool before anything else. In the end
# no row is lost (the books equal the sim's ground truth at 500 instants, and the only gap is
# the span between the two runs) and none is written twice. During the first outage the writer
# tries Postgres again at most once a second (backing off), and each connection logs the outage
# once when it starts and once when it ends, with its count of failed attempts.
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
source "$here/../sim/sim_lib.sh"
source "$here/../collector/coll_lib.sh"

coll_db
check "a database of the test's own" 0 $?
sim_start --markets 200 --rate 1000 --seed 13
export KBOOK_COLLECTOR_SPOOL_AFTER_S=2 KBOOK_COLLECTOR_SPOOL_FILE=$KBOOK_TMP/collector.spool
coll_start
coll_wait_rows 1000 20
check "the collector records" 0 $?
sleep 2

admin() { psql -X -q -tA -d "$COLL_ADMIN" -c "$1" >/dev/null; }
db_down() {
	admin "ALTER DATABASE $COLL_DB ALLOW_CONNECTIONS false"
	admin "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '$COLL_DB'"
}
db_up() { admin "ALTER DATABASE $COLL_DB ALLOW_CONNECTIONS true"; }
health() { curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$COLL_METRICS_PORT/healthz"; }

db_down
t_down=$(date +%s.%N)
sleep 5
check "the collector spools after 2 s" 1 "$(grep -c 'spooling to disk' "$COLL_LOG")"
check_match "the spool file grows" '^[1-9][0-9]{3,}$' "$(stat -c %s "$KBOOK_TMP/collector.spool")"
check "/healthz is 503 while spooling" 503 "$(health)"
sleep 3
db_up
for ((i = 0; i < 150; i++)); do
	grep -q 'replayed [0-9]* spooled events' "$COLL_LOG" && break
	sleep 0.1
done
check "the spool is replayed when Postgres is back" 1 "$(grep -c 'replayed [0-9]* spooled events' "$COLL_LOG")"
# The writer tried again 1 s after it began to spool, then after 2, 4 ... s (not at every group
# commit: 389 attempts in 5.6 s before), and the outage is logged once by each of the collector's
# two connections, when it starts and when it ends with its count of attempts.
secs=$(awk -v a="$t_down" -v b="$(date +%s.%N)" 'BEGIN { printf "%d", b - a + 1 }')
check "one connection-failed line per connection (writer, lock)" 2 "$(grep -c 'connection failed' "$COLL_LOG")"
check "one outage-over line for the writer's connection" 1 "$(grep -c "writer's database outage over" "$COLL_LOG")"
# (the lock's connection is checked every 2 s: its outage ends up to 2 s after the writer's)
for ((i = 0; i < 50; i++)); do
	grep -q "advisory lock's database outage over" "$COLL_LOG" && break
	sleep 0.1
done
check "one outage-over line for the lock's connection" 1 "$(grep -c "advisory lock's database outage over" "$COLL_LOG")"
attempts=$(grep -o "writer's database outage over: connected after [0-9]* failed" "$COLL_LOG" | grep -o '[0-9]*')
check_match "the writer's attempts are counted (at most one a second over ${secs} s): $attempts" '^[0-9]+$' "${attempts:-none}"
check "the writer's attempts: between 1 and ${secs}" 1 "$(((${attempts:-0} >= 1 && ${attempts:-0} <= secs) ? 1 : 0))"
check "the write failure is logged once, not every retry" 1 "$(grep -c 'writing [0-9]* events failed' "$COLL_LOG")"
check "the spool file is empty again" 0 "$(stat -c %s "$KBOOK_TMP/collector.spool")"
check "no reconnect to the exchange meanwhile" 0 "$(grep -c 'connection lost' "$COLL_LOG")"
check "/healthz is 200 again" 200 "$(health)"

db_down
sleep 4
coll_stop
check_match "stopped during the outage, the rest is in the spool" '^[1-9][0-9]{3,}$' \
	"$(stat -c %s "$KBOOK_TMP/collector.spool")"
db_up
coll_start collector2
sleep 6
check "the next run replays the earlier run's spool" 1 \
	"$(grep -c 'replayed [0-9]* spooled events' "$KBOOK_TMP/collector2.log")"
check "the spool file is empty after the replay" 0 "$(stat -c %s "$KBOOK_TMP/collector.spool")"
coll_stop
check "no (market_id, ts) twice" 0 \
	"$(coll_sql "SELECT count(*) FROM (SELECT 1 FROM book_deltas GROUP BY market_id, ts HAVING count(*) > 1) d")"
coll_check --samples 500 --seed 4
check "the only gaps are the span between the two runs" "restart" "$COLL_REASONS"
sim_stop
finish
