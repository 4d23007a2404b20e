#!/usr/bin/env bash
# kbook-feedd end to end, with a websocket client no one here wrote (Debian's python3-websockets):
# refusals at the handshake through nginx, each with its status and JSON body (401 no, unknown,
# revoked key; 402 no credits left; 429 the plan's connections per key, an override of them, the
# plan's rate; 503 when the key cannot be checked within KBOOK_FEEDD_STATEMENT_TIMEOUT_MS);
# subscribe through nginx, snapshots then deltas from a simulated collector (rows + NOTIFY, the
# contract of docs/feed.md) that, applied in order, equal the API's book at the last ts; resume
# with since (nothing lost, nothing repeated, then live again); a gap announced live and after a
# snapshot taken inside it, and the snapshot that closes it replacing the book; feedd's LISTEN
# connection killed under a subscriber (it reconnects, nothing lost or repeated); pings every
# KBOOK_FEEDD_PING_S, a client that never answers dropped and one that does kept; a close frame
# (1001) to a subscribed client at SIGTERM; Kalshi's command errors with the
# connection kept, and error 26 past the account's markets per connection; and a client that stops
# reading dropped (error 25, close 1008) while a fast one on the same markets receives every
# message (in lockstep with the writer: see feed_check.py slow), on a second feedd with a 256 KiB
# send buffer.
set -u
. "$TEST_ROOT/tests/integration/lib.sh"

export KBOOK_DATABASE_URL=$TEST_PG
PY=/usr/bin/python3
CHECK=$TEST_ROOT/tests/feed/feed_check.py
WS=ws://127.0.0.1:${TEST_HTTPPORT}/v1/feed

# run_checks SCENARIO WS_URL KEY: runs a scenario and turns its lines into checks
run_checks() {
	check_lines < <($PY "$CHECK" "$1" "$2" "$TEST_URL" "$3" "$TEST_PG" FEED-S1-A FEED-S1-B FEED-S1-C \
		2>"$TEST_TMP/$1.err"; echo "exit	0	$?")
	[ -s "$TEST_TMP/$1.err" ] && cat "$TEST_TMP/$1.err"
}

echo "setup: an account, a key and a small generated history"
"$TEST_BIN/kbook-admin" account create feed@kbook.test >/dev/null
"$TEST_BIN/kbook-admin" account set feed@kbook.test rate 1000000 >/dev/null
"$TEST_BIN/kbook-admin" account set feed@kbook.test credits 100000000 >/dev/null
"$TEST_BIN/kbook-admin" account set feed@kbook.test feed_conns 10 >/dev/null
KEY=$("$TEST_BIN/kbook-admin" key create feed@kbook.test feed)
# new_key EMAIL [FIELD VALUE]...: an account (free plan) with those settings, and a key of it
new_key() {
	local email=$1
	shift
	"$TEST_BIN/kbook-admin" account create "$email" >/dev/null
	while [ $# -gt 1 ]; do
		"$TEST_BIN/kbook-admin" account set "$email" "$1" "$2" >/dev/null
		shift 2
	done
	"$TEST_BIN/kbook-admin" key create "$email" feed
}
# handshake KEY: a websocket upgrade through nginx; prints "<error code> <status> <Retry-After>"
handshake() {
	local out
	out=$(curl -s -m 20 -D "$TEST_TMP/hs.headers" -o "$TEST_TMP/hs.body" -w '%{http_code}' \
		-H 'Connection: Upgrade' -H 'Upgrade: websocket' -H 'Sec-WebSocket-Version: 13' \
		-H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' -H "X-API-Key: $1" "$TEST_URL/v1/feed")
	echo "$(jq -r '.error.code + " " + (.error.status | tostring)' "$TEST_TMP/hs.body" 2>/dev/null) $out" \
		"$(tr -d '\r' <"$TEST_TMP/hs.headers" | awk -F': ' 'tolower($1) == "retry-after" {print $2}')"
}
# hold KEY NAME: holds one feed connection open through nginx until hold_end NAME; waits for it
hold() {
	rm -f "$TEST_TMP/$2.open" "$TEST_TMP/$2.stop"
	$PY - "$WS" "$1" "$TEST_TMP/$2" >/dev/null 2>"$TEST_TMP/$2.err" <<'PY' &
import asyncio, os, sys, websockets
async def main():
    async with websockets.connect(sys.argv[1], extra_headers={"X-API-Key": sys.argv[2]}):
        open(sys.argv[3] + ".open", "w").close()
        while not os.path.exists(sys.argv[3] + ".stop"):
            await asyncio.sleep(0.05)
asyncio.run(main())
PY
	eval "hold_$2=$!"
	while [ ! -e "$TEST_TMP/$2.open" ] && kill -0 $! 2>/dev/null; do sleep 0.05; done
}
hold_end() {
	touch "$TEST_TMP/$1.stop"
	wait "$(eval echo "\$hold_$1")"
}
"$TEST_BIN/kbook-gen" --prefix FEED --markets 3 --deltas 600 --span 600 \
	--start "$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)" >/dev/null
# kbook-gen commits the recorded-through mark at the end of its history (50 minutes ago); the
# collector simulated here (feed_check.py: rows + NOTIFY) commits none, so a mark left would be
# a collector that stopped then, and feedd would follow every snapshot with a not_yet_recorded gap
psql -X -q -d "$TEST_PG" -c "DELETE FROM recorded_through"
psql -X -q -d "$TEST_PG" -c "UPDATE markets SET ticker = 'FEED-S1-' || chr(64 + rn::int)
	FROM (SELECT id, row_number() OVER (ORDER BY id) rn FROM markets WHERE ticker LIKE 'FEED-%') r
	WHERE markets.id = r.id"
check "three markets" 3 "$(psql -X -tA -d "$TEST_PG" -c "SELECT count(*) FROM markets WHERE ticker LIKE 'FEED-S1-%'")"

echo "handshake refusals through nginx (JSON bodies)"
body=$(curl -s -o - -w ' %{http_code}' -H 'Connection: Upgrade' -H 'Upgrade: websocket' \
	-H 'Sec-WebSocket-Version: 13' -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' "$TEST_URL/v1/feed")
check "no key: 401 missing_api_key" "missing_api_key 401" "$(jq -r .error.code <<<"${body% *}") ${body##* }"
body=$(curl -s -o - -w ' %{http_code}' -H 'Connection: Upgrade' -H 'Upgrade: websocket' \
	-H 'Sec-WebSocket-Version: 13' -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' \
	"$TEST_URL/v1/feed?api_key=kb_live_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
check "unknown key: 401 invalid_api_key" "invalid_api_key 401" "$(jq -r .error.code <<<"${body% *}") ${body##* }"

echo "402: an account out of credits is refused before the upgrade"
k=$(new_key broke@kbook.test credits 0)
check "no credits: 402 credits_exhausted" "credits_exhausted 402 402 " "$(handshake "$k")"

echo "429: the plan's connections per key (free: 2), an account's override (1), the plan's rate"
k=$(new_key free@kbook.test)
hold "$k" f1
hold "$k" f2
check "free plan: two connections, the third 429 too_many_connections with Retry-After" \
	"too_many_connections 429 429 60" "$(handshake "$k")"
hold_end f1
hold_end f2
k=$(new_key one@kbook.test feed_conns 1)
hold "$k" o1
check "override of 1 connection: the second 429 too_many_connections" \
	"too_many_connections 429 429 60" "$(handshake "$k")"
hold_end o1
hold "$k" o2
check "override: a connection again once the first closed" 1 "$([ -e "$TEST_TMP/o2.open" ] && echo 1)"
hold_end o2
k=$(new_key slowrate@kbook.test rate 1)
hold "$k" r1
hold_end r1
check "the plan's rate (1 a minute): the second handshake 429 rate_limited" \
	"rate_limited 429 429 60" "$(handshake "$k")"

echo "503 when the key cannot be checked in time (a row lock held past the statement timeout)"
k=$(new_key locked@kbook.test)
psql -X -q -d "$TEST_PG" -c "BEGIN" -c "SELECT 1 FROM api_keys k JOIN accounts a ON a.id = k.account_id
	WHERE a.email = 'locked@kbook.test' FOR UPDATE" -c "SELECT pg_sleep(120)" >/dev/null 2>&1 &
locker=$!
until [ "$(psql -X -tA -d "$TEST_PG" -c "SELECT count(*) FROM pg_stat_activity
	WHERE query = 'SELECT pg_sleep(120)' AND state = 'active'")" = 1 ]; do sleep 0.1; done
check "key row locked: 503 service_unavailable with Retry-After" \
	"service_unavailable 503 503 5" "$(handshake "$k")"
kill "$locker"
wait "$locker" 2>/dev/null
psql -X -q -d "$TEST_PG" -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
	WHERE query = 'SELECT pg_sleep(120)'" >/dev/null
hold "$k" l1
check "the feed answers again after the timeout" 1 "$([ -e "$TEST_TMP/l1.open" ] && echo 1)"
hold_end l1
check "healthz" ok "$(curl -s --unix-socket "$TEST_STACK/run/feed.sock" http://feedd/healthz | jq -r .status)"

echo "live: snapshot + deltas = the API's book; resume with since"
run_checks live "$WS" "$KEY"

echo "gaps: announced live, after a snapshot taken inside one, and closed by a snapshot"
run_checks gaps "$WS" "$KEY"

echo "Postgres: feedd's LISTEN connection killed under a subscriber; nothing lost or repeated"
run_checks reconnect "$WS" "$KEY"

echo "commands, and an account limited to 3 markets per connection, through nginx"
k=$(new_key cmds@kbook.test feed_markets 3 rate 100000 credits 1000000)
check "kbook-admin shows the account's feed limits" "feed_conns=2 feed_markets=3" \
	"$("$TEST_BIN/kbook-admin" account show cmds@kbook.test | grep -o 'feed_conns=.*')"
run_checks commands "$WS" "$k"

echo "a slow client on a second feedd (256 KiB send buffer)"
port=$(free_port)
KBOOK_FEEDD_LISTEN=127.0.0.1:$port KBOOK_FEEDD_SEND_MAX=262144 \
	"$TEST_BIN/kbook-feedd" 2>"$TEST_TMP/feedd2.log" &
pid=$!
wait_port "$port" 20
run_checks slow "ws://127.0.0.1:$port/v1/feed" "$KEY"
check "metrics count the slow drop" 1 \
	"$(curl -s "http://127.0.0.1:$port/metrics" | awk '$1 == "kbook_feed_slow_drops_total" {print $2}')"
kill -TERM "$pid"
wait "$pid"
check "graceful shutdown: exit 0" 0 "$?"
check "graceful shutdown logged" 1 "$(grep -c '"msg":"stopped"' "$TEST_TMP/feedd2.log")"
cp "$TEST_TMP/feedd2.log" "$TEST_TMP/feedd2-copy.log"

echo "a subscribe to 1 000 markets at once on a fourth feedd (64 KiB send bound)"
"$TEST_BIN/kbook-gen" --prefix FEEDBIG --markets 1000 --deltas 20000 --span 600 \
	--start "$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)" >/dev/null
psql -X -q -d "$TEST_PG" -c "DELETE FROM recorded_through" # as above
k=$(new_key burst@kbook.test feed_markets 2000 rate 100000 credits 100000000)
port=$(free_port)
KBOOK_FEEDD_LISTEN=127.0.0.1:$port KBOOK_FEEDD_SEND_MAX=65536 \
	"$TEST_BIN/kbook-feedd" 2>"$TEST_TMP/feedd4.log" &
pid=$!
wait_port "$port" 20
mapfile -t big < <(psql -X -tA -d "$TEST_PG" -c "SELECT ticker FROM markets WHERE ticker LIKE 'FEEDBIG-%'")
check "a thousand markets" 1000 "${#big[@]}"
check_lines < <($PY "$CHECK" burst "ws://127.0.0.1:$port/v1/feed" "$TEST_URL" "$k" "$TEST_PG" "${big[@]}" \
	2>"$TEST_TMP/burst.err"; echo "exit	0	$?")
[ -s "$TEST_TMP/burst.err" ] && cat "$TEST_TMP/burst.err"
echo "the same feedd stopped while 600 deltas are committed: its catch-up passes the bound at once"
FEEDD_PID=$pid run_checks stall "ws://127.0.0.1:$port/v1/feed" "$k"
check "no slow drop counted" 0 \
	"$(curl -s "http://127.0.0.1:$port/metrics" | awk '$1 == "kbook_feed_slow_drops_total" {print $2}')"
kill -TERM "$pid"
wait "$pid"
check "fourth feedd: exit 0" 0 "$?"

echo "heartbeat on a third feedd (KBOOK_FEEDD_PING_S=1)"
port=$(free_port)
KBOOK_FEEDD_LISTEN=127.0.0.1:$port KBOOK_FEEDD_PING_S=1 "$TEST_BIN/kbook-feedd" 2>"$TEST_TMP/feedd3.log" &
pid=$!
wait_port "$port" 20
run_checks heartbeat "ws://127.0.0.1:$port/v1/feed" "$KEY"
check "the dead client's close is logged with its reason" 1 \
	"$(grep -c 'closed: no pong for 3s' "$TEST_TMP/feedd3.log")"
FEEDD_PID=$pid run_checks shutdown "ws://127.0.0.1:$port/v1/feed" "$KEY"
wait "$pid"
check "shutdown with a client connected: exit 0" 0 "$?"

echo "revoked key"
"$TEST_BIN/kbook-admin" key revoke "${KEY:0:16}" >/dev/null
run_checks refused "$WS" "$KEY"
finish
