#!/usr/bin/env bash
# Fidelity under a collector outage (issue 13, point 1; docs/api.md "What complete means"). The
# collector records the sim into a database of the test's own, and a kbook-api behind nginx
# serves that database. Before the outage: a paused (quiet) market being recorded is complete
# after its last change, and a market recorded to its settlement is complete after it. Then the
# collector is killed (kill -9) while the exchange keeps changing books, and one more market
# settles on the exchange during the outage. The book now, and at an instant after the kill, must
# answer complete:false with the reason not_yet_recorded (the book, the samples and coverage);
# an instant before the kill stays complete. After the restart, the same instants answer the
# same: the incomplete ones now inside a 'restart' gap that starts where not_yet_recorded did, the
# complete ones unchanged; the market that settled during the outage gets its restart gap, closed
# by its settlement; the settled one gets none.
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../../scripts/stack.sh"   # api_start, nginx_start (its sim_start is replaced below)
source "$here/lib.sh"
source "$here/../sim/sim_lib.sh"
source "$here/../collector/coll_lib.sh"

# wait_sql SQL SECONDS: until the query prints 1
wait_sql() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		[ "$(coll_sql "$1")" = 1 ] && return 0
		sleep 0.1
	done
	return 1
}
now_us() { echo $(($(date +%s%N) / 1000)); }
lifecycle() { # TICKER STATUS...
	local t=$1 to
	shift
	for to in "$@"; do
		curl -s -o /dev/null -X POST "http://127.0.0.1:$SIM_PORT/_sim/lifecycle?ticker=$t&to=$to"
	done
}

coll_db
check "a database of the test's own" 0 $?
sim_start --markets 30 --rate 300 --seed 31
coll_start first
coll_wait_rows 300 20
check "the collector records deltas" 0 $?

# kbook-api, kbook-feedd and nginx on the collector's database, in the test's directory
fs=$KBOOK_TMP/fs
mkdir -p "$fs"
ln -s "$TEST_STACK/app" "$fs/app"
stack_dirs "$fs"   # run/, log/, root's state/ and conf/, with the stack's owners and modes
api_cleanup() {
	nginx_stop "$fs"
	feedd_stop "$fs"
	api_stop "$fs"
	coll_cleanup
}
trap api_cleanup EXIT
KBOOK_DATABASE_URL=$TEST_PG api_start "$fs"
check "kbook-api on the collector's database" 0 $?
KBOOK_DATABASE_URL=$TEST_PG feedd_start "$fs"
check "kbook-feedd on the collector's database" 0 $?
port=$(free_port)
KBOOK_NGINX_KEY_RATE=1000 KBOOK_NGINX_IP_RATE=1000 nginx_start "$fs" "$port"
wait_port "$port" 20
check "nginx in front of it" 0 $?
export KBOOK_DATABASE_URL=$TEST_PG
"$TEST_BIN/kbook-admin" account create outage@kbook.test project >/dev/null
"$TEST_BIN/kbook-admin" account set outage@kbook.test rate 100000 >/dev/null
"$TEST_BIN/kbook-admin" account set outage@kbook.test credits 1000000 >/dev/null
key=$("$TEST_BIN/kbook-admin" key create outage@kbook.test outage)
unset KBOOK_DATABASE_URL
api() { curl -s -H "X-API-Key: $key" "http://127.0.0.1:$port/v1/$1"; }
# feed TICKER: the first three messages of a feed subscription (type, gap reason, gap start)
feed() {
	/usr/bin/python3 - "ws://127.0.0.1:$port/v1/feed" "$key" "$1" <<'PY'
import asyncio, json, sys
import websockets

async def main():
    async with websockets.connect(sys.argv[1], extra_headers={"X-API-Key": sys.argv[2]}) as ws:
        await ws.send(json.dumps({"id": 1, "cmd": "subscribe", "params": {
            "channels": ["orderbook_delta"], "market_ticker": sys.argv[3]}}))
        for _ in range(3):
            try:
                m = json.loads(await asyncio.wait_for(ws.recv(), 3))
            except asyncio.TimeoutError:
                break
            msg = m.get("msg", {})
            print(m["type"], msg.get("reason", "-"), msg.get("start_ts", "-"))

asyncio.run(main())
PY
}
# book TICKER [AT]: "complete reason start" and the levels of the book
book() { api "markets/$1/orderbook${2:+?at=$2}" | jq -c '[.complete, .gap.reason, .gap.start, .orderbook_fp]'; }

# four markets with a book: a (active), q (paused: quiet), s (settled while recorded), h (settles
# during the outage)
mapfile -t mk < <(coll_sql "SELECT m.ticker FROM markets m WHERE m.status = 'active' AND EXISTS
	(SELECT 1 FROM book_checkpoints c WHERE c.market_id = m.id AND c.source = 'snapshot')
	AND NOT EXISTS (SELECT 1 FROM gaps g WHERE g.market_id = m.id) ORDER BY m.ticker LIMIT 4")
check "four recorded markets" 4 "${#mk[@]}"
a=${mk[0]} q=${mk[1]} s=${mk[2]} h=${mk[3]}
lifecycle "$q" inactive
lifecycle "$s" closed determined finalized
wait_sql "SELECT (final_ts IS NOT NULL)::int FROM markets WHERE ticker = '$s'" 10
check "a market recorded to its settlement is final" 0 $?
wait_sql "SELECT (status = 'inactive')::int FROM markets WHERE ticker = '$q'" 10
check "the paused market's status is recorded" 0 $?
sleep 3

# while recording: the mark moves every second, quiet markets included
m1=$(coll_sql "SELECT kb_us(through) FROM recorded_through")
sleep 1.5
m2=$(coll_sql "SELECT kb_us(through) FROM recorded_through")
check "the recorded-through mark moves (by $(( (m2 - m1) / 1000 )) ms in 1.5 s)" 1 "$((m2 > m1))"
lagq=$(( $(now_us) - m2 ))
check "and stays within 3 s of now" 1 "$((lagq < 3000000))"
t_quiet=$(($(now_us) - 1500000))
check "the quiet market is not changing" 1 "$(coll_sql "SELECT (kb_us(last_ts) < $t_quiet)::int FROM markets WHERE ticker = '$q'")"
check "a quiet market being recorded: complete after its last change" 'true' \
	"$(book "$q" "$t_quiet" | jq -c '.[0]')"
check "a market recorded to its settlement: complete after it" '[true,null,null]' \
	"$(book "$s" | jq -c '.[0:3]')"
# a call without `at` while recording: the newest exact book, at the market's recorded-through
# instant (the mark is at most a second old), complete
live=$(api "markets/$a/orderbook")
live_at=$(jq -r '.at' <<<"$live")
live_through=$(coll_sql "SELECT to_char(greatest(r.through, m.last_ts) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') FROM markets m, recorded_through r WHERE m.ticker = '$a'")
check "the book now while recording: complete, no gap" '[true,null]' "$(jq -c '[.complete, .gap]' <<<"$live")"
check "answered at an instant no later than the recorded-through instant" 1 \
	"$([[ "$live_at" < "$live_through" || "$live_at" == "$live_through" ]] && echo 1)"
check "and within 2 s of now" 1 "$(( $(now_us) - $(date -d "$live_at" +%s%6N) < 2500000 ))"

# the outage: kill -9, the exchange goes on, h settles meanwhile
t_before=$(($(now_us) - 2000000))
coll_kill9
t_kill=$(now_us)
lifecycle "$h" closed determined finalized
# past the 2 s within which a call without `at` is answered at the mark (h_orderbook.c)
sleep 3
t_after=$((t_kill + 1000000))
changed=$(curl -s "http://127.0.0.1:$SIM_PORT/_sim/book?ticker=$a" | jq -c '[.yes_dollars_fp, .no_dollars_fp]')
check "the exchange's book of $a moved after the kill" 1 \
	"$([ "$changed" != "$(book "$a" | jq -c '[.[3].yes_dollars, .[3].no_dollars]')" ] && echo 1)"
through=$(coll_sql "SELECT kb_us(greatest(r.through, m.last_ts)) FROM markets m, recorded_through r WHERE m.ticker = '$a'")
check "the mark stopped before the kill" 1 "$((through <= t_kill && through > t_before))"
declare -A before
for t in "$a" "$q" "$s" "$h"; do
	for at in "$t_before" "$t_after"; do
		before[$t/$at]=$(book "$t" "$at")
	done
done
now=$(book "$a")
check "the book now while the collector is down: incomplete, not_yet_recorded" \
	'[false,"not_yet_recorded"]' "$(jq -c '.[0:2]' <<<"$now")"
check "at an instant after its last recorded change: not_yet_recorded" '[false,"not_yet_recorded"]' \
	"$(jq -c '.[0:2]' <<<"${before[$a/$t_after]}")"
check "from just after the recorded-through instant" \
	"$(coll_sql "SELECT to_char(kb_ts($through + 1) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')")" \
	"$(jq -r '.[2]' <<<"${before[$a/$t_after]}")"
check "an instant before the kill is complete" 'true' "$(jq -c '.[0]' <<<"${before[$a/$t_before]}")"
check "the quiet market after the kill: not_yet_recorded" '[false,"not_yet_recorded"]' \
	"$(jq -c '.[0:2]' <<<"${before[$q/$t_after]}")"
check "the settled market after the kill: still complete" 'true' "$(jq -c '.[0]' <<<"${before[$s/$t_after]}")"
smp=$(api "markets/$a/orderbooks?start=$t_before&end=$t_after&interval=1&depth=1")
check "samples: complete before the kill, not after it" 'true false' \
	"$(jq -r '[.samples[0].complete, .samples[-1].complete] | map(tostring) | join(" ")' <<<"$smp")"
cov=$(api "markets/$a/coverage")
check "coverage: recorded through the mark, then not yet recorded" \
	"$(jq -c '[.[2], null]' <<<"${before[$a/$t_after]}")" \
	"$(jq -c '[.not_yet_recorded.start, .not_yet_recorded.end]' <<<"$cov")"
check "coverage: the last segment ends at recorded_through" 1 \
	"$(jq '(.segments[-1].end == .recorded_through and .final == false) | if . then 1 else 0 end' <<<"$cov")"
check "coverage of the settled market: final, nothing not yet recorded" '[true,null]' \
	"$(api "markets/$s/coverage" | jq -c '[.final, .not_yet_recorded]')"
# the feed: a subscribe snapshot taken while the collector is down is followed by a gap message
while (($(now_us) - t_kill < 3500000)); do sleep 0.2; done
fd=$(feed "$a")
check "feed: the snapshot, then a not_yet_recorded gap from the same instant" \
	"$(printf 'subscribed - -\norderbook_snapshot - -\ngap not_yet_recorded %s' "$(jq -r '.[2]' <<<"${before[$a/$t_after]}")")" "$fd"

# the restart: the same instants answer the same
coll_start second
wait_sql "SELECT (count(*) = 0)::int FROM gaps g JOIN markets m ON m.id = g.market_id
	WHERE m.ticker IN ('$a', '$q') AND g.end_ts IS NULL" 20
check "the restart gaps of the recorded markets close on their snapshots" 0 $?
wait_sql "SELECT count(*)::int FROM gaps g JOIN markets m ON m.id = g.market_id
	WHERE m.ticker = '$h' AND g.end_ts IS NOT NULL" 20
check "the market settled during the outage: its gap closes" 0 $?
check "with a restart gap closed by its settlement" 'restart|market_closed' \
	"$(coll_sql "SELECT reason || '|' || closed_by FROM gaps g JOIN markets m ON m.id = g.market_id WHERE m.ticker = '$h'")"
check "no restart gap for the market recorded to its settlement" 0 \
	"$(coll_sql "SELECT count(*) FROM gaps g JOIN markets m ON m.id = g.market_id WHERE m.ticker = '$s'")"
for t in "$a" "$q" "$s" "$h"; do
	check "$t before the kill: the same answer after the restart" "${before[$t/$t_before]}" "$(book "$t" "$t_before")"
done
for t in "$a" "$q" "$h"; do
	after=$(book "$t" "$t_after")
	check "$t after the kill: incomplete, now inside the restart gap" '[false,"restart"]' "$(jq -c '.[0:2]' <<<"$after")"
	check "$t: that gap starts where not_yet_recorded did" "$(jq -c '.[2]' <<<"${before[$t/$t_after]}")" \
		"$(jq -c '.[2]' <<<"$after")"
done
check "$s after the kill: still complete, the same book" "${before[$s/$t_after]}" "$(book "$s" "$t_after")"
check "$h now: incomplete (its record ends in that gap)" 'false' "$(book "$h" | jq -c '.[0]')"
fd=$(feed "$a")
check "feed after the restart: the snapshot" 'subscribed orderbook_snapshot' "$(head -2 <<<"$fd" | cut -d' ' -f1 | paste -sd' ')"
check "with no not_yet_recorded gap after it" 0 "$(grep -c not_yet_recorded <<<"$fd")"
coll_stop

# feedd behind rows already recorded, the collector down (its mark stale): one client holds a; a
# delta is committed without the NOTIFY that has feedd read it (as rows committed while feedd could
# not reach Postgres); a second client subscribes. Its snapshot is at feedd's position, before
# that delta, so no not_yet_recorded gap may follow it (announced from after the delta, it put the
# stream's ts back: t_feed_pgstop, 2026-12-05); once feedd reads the delta, both get it, in order.
sleep 3.5
behind=$(/usr/bin/python3 - "ws://127.0.0.1:$port/v1/feed" "$key" "$a" "$TEST_PG" <<'PY'
import asyncio, json, subprocess, sys
import websockets

url, key, ticker, pg = sys.argv[1:5]
def sql(q):
    return subprocess.run(["psql", "-X", "-q", "-tA", "-d", pg, "-c", q], check=True,
                          capture_output=True, text=True).stdout.strip()

async def drain(ws, quiet=1.5):
    got = []
    while True:
        try:
            got.append(json.loads(await asyncio.wait_for(ws.recv(), quiet)))
        except asyncio.TimeoutError:
            return got

async def subscribe(ws):
    await ws.send(json.dumps({"id": 1, "cmd": "subscribe", "params": {
        "channels": ["orderbook_delta"], "market_ticker": ticker}}))
    return await drain(ws)

async def main():
    h = {"X-API-Key": key}
    async with websockets.connect(url, extra_headers=h) as ws1:
        first = await subscribe(ws1)
        # after the mark, as a collector's next rows are
        mid, r = sql(f"SELECT id, kb_us(greatest(last_ts, (SELECT through FROM recorded_through)))"
                     f" + 1000 FROM markets WHERE ticker = '{ticker}'").split("|")
        r = int(r)
        sql(f"BEGIN; INSERT INTO book_deltas (market_id, ts, side, price, delta) VALUES ({mid},"
            f" kb_ts({r}), 0, 10000, 100); UPDATE markets SET last_ts = kb_ts({r}) WHERE id = {mid};"
            " COMMIT")
        async with websockets.connect(url, extra_headers=h) as ws2:
            second = await subscribe(ws2)
            sql(f"NOTIFY kbook_deltas, '{mid}'")
            m1, m2 = await drain(ws1), await drain(ws2)
    types = lambda ms: " ".join(m["type"] for m in ms)
    print("first:", types(first).replace("orderbook_", ""))
    print("second:", types(second).replace("orderbook_", ""))
    ts = [m["ts"] for m in second + m2 if "ts" in m]
    print("second ts:", "in order" if ts == sorted(ts) else f"back {ts}")
    got = lambda ms: [m["ts"] for m in ms if m["type"] == "orderbook_delta"] == [r]
    print("the delta:", got(m1), got(m2))

asyncio.run(main())
PY
)
check "feedd behind a recorded delta: the first client's snapshot, then not_yet_recorded" \
	'first: subscribed snapshot gap' "$(sed -n 1p <<<"$behind")"
check "the second's snapshot is before the delta: no gap announced after it" \
	'second: subscribed snapshot' "$(sed -n 2p <<<"$behind")"
check "its stream's ts never goes back" 'second ts: in order' "$(sed -n 3p <<<"$behind")"
check "the delta, once read, reaches both clients" 'the delta: True True' "$(sed -n 4p <<<"$behind")"
check "no sanitizer report in the API log" 0 \
	"$(grep -c -E 'AddressSanitizer|LeakSanitizer|runtime error:' "$fs/log/api.log")"
finish
