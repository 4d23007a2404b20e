#!/bin/bash
# Partition maintenance (issue 13 point 2). pg_partman's background worker was configured before
# the kbook database existed, failed its first run and never ran again: nothing made partitions
# ahead. The collector now runs the maintenance (collector/partitions.c) at start and
# hourly, on whatever database it writes to. Here, on a database of the test's own where days
# have passed without maintenance (every partition ahead but tomorrow's dropped) and a row sits in
# the default partition: the collector makes today's and 7 days ahead of book_deltas and this
# month's and 3 ahead of book_checkpoints, logs how far, warns about the default partition's rows
# (log and /metrics), and the operator's check (docs/operations.md) names it until the rows are
# moved into their partition.
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
source "$here/../sim/sim_lib.sh"
source "$here/../collector/coll_lib.sh"

echo "the stack's Postgres runs no pg_partman worker (and none failed on a missing database)"
check "no pg_partman background worker started" 0 \
	"$(grep -c 'pg_partman master background worker' "$TEST_STACK/log/postgres.log")"
check "no connection to a database that did not exist yet" 0 \
	"$(grep -c 'database "kbook" does not exist' "$TEST_STACK/log/postgres.log")"

coll_db
check "a database of the test's own" 0 $?
sql() { psql -X -q -tA -d "$TEST_PG" -c "$1"; }
today=$(date -u +%Y_%m_%d)
month=$(date -u +%Y_%m)
ahead() { # PARENT FIRST_SUFFIX: partitions of PARENT named from FIRST_SUFFIX on
	sql "SELECT count(*) FROM partman.show_partitions('public.$1') WHERE partition_tablename >= '$1_p$2'"
}

echo "days pass without maintenance"
for t in $(sql "SELECT partition_tablename FROM partman.show_partitions('public.book_deltas')
	WHERE partition_tablename > 'book_deltas_p$(date -u -d tomorrow +%Y_%m_%d)'") \
	$(sql "SELECT partition_tablename FROM partman.show_partitions('public.book_checkpoints')
	WHERE partition_tablename > 'book_checkpoints_p${month}'"); do
	sql "DROP TABLE $t"
done
check "book_deltas: today's and tomorrow's partitions only" 2 "$(ahead book_deltas "$today")"
check "book_checkpoints: this month's only" 1 "$(ahead book_checkpoints "$month")"
mid=$(sql "INSERT INTO markets (ticker) VALUES ('T-PART-OLD') RETURNING id")
sql "INSERT INTO book_deltas VALUES ($mid, '2020-01-01T00:00:00Z', NULL, 0, 450000, 100)"
check "a row older than every partition lands in the default partition" book_deltas_default \
	"$(sql "SELECT tableoid::regclass FROM book_deltas WHERE market_id = $mid")"
check "the operator's check names it" "public.book_deltas|public.book_deltas_default" \
	"$(sql "SELECT * FROM kbook_default_partitions()")"

echo "the collector runs the maintenance at start"
sim_start --markets 20 --rate 100 --seed 21
coll_start
for ((i = 0; i < 200; i++)); do
	grep -q 'partition maintenance done' "$COLL_LOG" && break
	sleep 0.1
done
# pg_partman counts the partitions ahead of now in whole intervals, rounded: the newest daily
# partition starts 7 or 8 days after today's, the newest monthly one 3 or 4 months after this one
newest() { sql "SELECT max(partition_tablename) FROM partman.show_partitions('public.$1')"; }
check_match "book_deltas: partitions to 7 days ahead at least" \
	"^book_deltas_p($(date -u -d '+7 days' +%Y_%m_%d)|$(date -u -d '+8 days' +%Y_%m_%d))\$" "$(newest book_deltas)"
check_match "book_deltas: none missing in between" '^(8|9)$' "$(ahead book_deltas "$today")"
check_match "book_checkpoints: partitions to 3 months ahead at least" \
	"^book_checkpoints_p($(date -u -d "$(date -u +%Y-%m-01) +3 months" +%Y_%m)|$(date -u -d "$(date -u +%Y-%m-01) +4 months" +%Y_%m))\$" \
	"$(newest book_checkpoints)"
check_match "book_checkpoints: none missing in between" '^(4|5)$' "$(ahead book_checkpoints "$month")"
# the end of the newest partition: the day after the newest daily one starts, the month after
until_d=$(date -u -d "$(newest book_deltas | sed -E 's/.*_p([0-9]{4})_([0-9]{2})_([0-9]{2})$/\1-\2-\3/') +1 day" +%Y-%m-%d)
until_m=$(date -u -d "$(newest book_checkpoints | sed -E 's/.*_p([0-9]{4})_([0-9]{2})$/\1-\2-01/') +1 month" +%Y-%m-%d)
check "it logs how far each table goes" \
	"partition maintenance done: public.book_checkpoints until $until_m (premake 3), public.book_deltas until $until_d (premake 7)" \
	"$(grep -o 'partition maintenance done[^"]*' "$COLL_LOG" | head -1)"
check "it warns about the default partition's rows, naming the fix" 1 \
	"$(grep -c "rows in the default partition public.book_deltas_default: .*partman.partition_data_proc('public.book_deltas')" "$COLL_LOG")"
check "no warning about book_checkpoints' default partition (empty)" 0 \
	"$(grep -c 'rows in the default partition public.book_checkpoints_default' "$COLL_LOG")"
check "/metrics counts the default partitions holding rows" 1 \
	"$(curl -s "http://127.0.0.1:$COLL_METRICS_PORT/metrics" | awk '$1 == "kbook_collector_default_partitions_with_rows" { print $2 }')"
coll_wait_rows 100 20
check "the collector records meanwhile" 0 $?
check "its rows land in today's partition, none in the default" "book_deltas_p$today" \
	"$(sql "SELECT string_agg(DISTINCT tableoid::regclass::text, ',') FROM book_deltas WHERE market_id <> $mid")"
coll_stop

echo "the operator moves the rows into their partition"
psql -X -q -d "$TEST_PG" -c "CALL partman.partition_data_proc('public.book_deltas')" >/dev/null 2>&1
check "the row is in a partition of its own day" book_deltas_p2020_01_01 \
	"$(sql "SELECT tableoid::regclass FROM book_deltas WHERE market_id = $mid")"
check "the operator's check is empty again" "" "$(sql "SELECT * FROM kbook_default_partitions()")"
check "calling the maintenance leaves the caller's search_path alone" '"$user", public' \
	"$(psql -X -q -tA -d "$TEST_PG" -c "SELECT count(*) FROM kbook_partition_maintenance()" -c "SHOW search_path" | tail -1)"
coll_start collector2
for ((i = 0; i < 200; i++)); do
	grep -q 'partition maintenance done' "$COLL_LOG" && break
	sleep 0.1
done
check "the next run does not warn" 0 "$(grep -c 'rows in the default partition' "$COLL_LOG")"
check "and /metrics says 0" 0 \
	"$(curl -s "http://127.0.0.1:$COLL_METRICS_PORT/metrics" | awk '$1 == "kbook_collector_default_partitions_with_rows" { print $2 }')"
coll_stop
sim_stop
finish
