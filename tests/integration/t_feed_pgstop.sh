#!/usr/bin/env bash
# kbook-feedd through a Postgres outage (issue 17 item 4): no database stall reaches a client's
# heartbeat. kalshi-sim -> kbook-collector -> Postgres -> kbook-feedd -> nginx -> 100 clients
# (tests/feed/feed_pgstop.py, each subscribed to 5 live markets, pings every 2 s). Postgres is
# stopped for 10 s and started again, then frozen (SIGSTOP of every process of the cluster) for
# 15 s, during which clients ask for snapshots and one more client connects: feedd's queries wait
# on its query thread, never on its event loop. Every client must get a ping at least every
# 3.5 s throughout, none is dropped, and once Postgres is back each stream resumes with no seq
# missing and every recorded delta after its snapshot received exactly once. feedd's query
# connection tries Postgres again with a backoff (not at every query) and logs the outage once
# when it starts and once when it ends. Before, each query ran on the loop: a handshake or a
# snapshot under a frozen server stopped every client, and after 3 periods without a pong read
# they were all dropped (the branch point's feedd, TEST_FEEDD_BIN: 21.3 s without a ping, all
# 100 clients dropped, 8 of 28 checks failed; this feedd: 2.6 s at worst, none dropped).
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../../scripts/stack.sh"   # svc_spawn, nginx_start, pg_start, pg_stop
source "$here/lib.sh"
source "$here/../sim/sim_lib.sh"
source "$here/../collector/coll_lib.sh"

NCLIENTS=100
PING_S=2

coll_db
check "a database of the test's own" 0 $?
sim_start --markets 200 --rate 500 --seed 29
# the collector rides the outage on its spool (t_collector_pgdown)
export KBOOK_COLLECTOR_SPOOL_AFTER_S=2 KBOOK_COLLECTOR_SPOOL_FILE=$KBOOK_TMP/collector.spool
coll_start
coll_wait_rows 3000 30
check "the collector records deltas" 0 $?

fs=$KBOOK_TMP/fs
stack_dirs "$fs"
mkdir -p "$fs/app/static"
pg_pids() { # the postmaster of the stack's cluster and its children
	local pm
	pm=$(svc_running "$TEST_STACK" postgres) || return
	echo "$pm" $(pgrep -P "$pm")
}
feed_cleanup() {
	# never leave the stack's Postgres frozen or stopped for the tests after this one
	local p
	for p in $(pg_pids); do kill -CONT "$p" 2>/dev/null; done
	svc_running "$TEST_STACK" postgres >/dev/null || pg_start "$TEST_STACK" "$TEST_PGPORT" >/dev/null
	nginx_stop "$fs"
	svc_stop "$fs" feedd
	coll_cleanup
}
trap feed_cleanup EXIT
# TEST_FEEDD_BIN: another build of kbook-feedd to hold to the same checks (main's, to show
# what this test catches)
KBOOK_DATABASE_URL="$TEST_PG user=kbook_feedd" KBOOK_FEEDD_LISTEN=$fs/run/feed.sock \
KBOOK_FEEDD_PING_S=$PING_S KBOOK_DB_CONNECT_TIMEOUT=10 \
	svc_spawn "$fs" feedd "${TEST_FEEDD_BIN:-$TEST_STACK/app/bin/kbook-feedd}"
for ((i = 0; i < 100; i++)); do [ -S "$fs/run/feed.sock" ] && break; sleep 0.1; done
check "kbook-feedd listens" 1 "$([ -S "$fs/run/feed.sock" ] && echo 1)"
port=$(free_port)
# 100 handshakes at once from one address: over nginx's default per-address burst
KBOOK_NGINX_IP_RATE=${KBOOK_NGINX_IP_RATE:-1000} nginx_start "$fs" "$port"
wait_port "$port" 20
check "nginx in front of it" 0 $?

export KBOOK_DATABASE_URL=$TEST_PG
"$TEST_BIN/kbook-admin" account create pgstop@kbook.test project >/dev/null
for kv in "rate 1000000" "credits 100000000" "feed_conns 200"; do
	"$TEST_BIN/kbook-admin" account set pgstop@kbook.test $kv >/dev/null
done
key=$("$TEST_BIN/kbook-admin" key create pgstop@kbook.test feed)
unset KBOOK_DATABASE_URL

mk=$KBOOK_TMP/marks
mkdir -p "$mk"
"$SIM_PY" "$TEST_ROOT/tests/feed/feed_pgstop.py" 127.0.0.1 "$port" "$key" "$TEST_PG" "$SIM_PORT" \
	"$NCLIENTS" 5 "$PING_S" "$mk" >"$KBOOK_TMP/client.out" 2>&1 &
client=$!
for ((i = 0; i < 900; i++)); do [ -e "$mk/ready" ] && break; sleep 0.1; done
check "the clients are subscribed" 1 "$([ -e "$mk/ready" ] && echo 1)"
flog=$fs/log/feedd.log
off=$(stat -c %s "$flog")

echo "Postgres stopped for 10 s, then started again"
pg_stop "$TEST_STACK"
touch "$mk/stopped"
sleep 10
pg_start "$TEST_STACK" "$TEST_PGPORT" >/dev/null
check "Postgres is back" 0 $?
touch "$mk/started"
sleep 8
echo "Postgres frozen (SIGSTOP) for 15 s"
pids=$(pg_pids)
kill -STOP $pids
touch "$mk/frozen"
sleep 15
kill -CONT $pids
touch "$mk/thawed"
sleep 5
touch "$mk/restored"

wait "$client"
check "feed_pgstop.py exits 0" 0 $?
sim_record <"$KBOOK_TMP/client.out"

# the query connection's outage: logged when it starts and when it ends, its attempts paced
out=$(tail -c +"$((off + 1))" "$flog")
check "the query connection's outage is logged once" 1 "$(grep -c 'query connection failed' <<<"$out")"
check "... and its end once" 1 "$(grep -c 'query outage over' <<<"$out")"
n=$(grep -o 'query outage over: connected after [0-9]*' <<<"$out" | grep -o '[0-9]*$')
check "its attempts paced by the backoff (at most ~1 per 250 ms-4 s over ~12 s): ${n:-none}" 1 \
	"$(((${n:-0} >= 1 && ${n:-0} <= 20) ? 1 : 0))"
check "feedd's log stays JSON lines" 0 "$(grep -vc '^{' <<<"$out")"

coll_stop
svc_stop "$fs" feedd
check "no sanitizer report in the feedd log" 0 \
	"$(grep -c -E 'AddressSanitizer|LeakSanitizer|runtime error:' "$flog")"
finish
