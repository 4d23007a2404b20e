#!/usr/bin/env bash
# kbook-feedd end to end, with a websocket client no one here wrote (Debian's python3-websockets):
# refusals at the handshake (no, malformed, unknown, revoked key; JSON bodies through nginx);
# subscribe through nginx, snapshots then deltas from a simulated collector (rows + NOTIFY, the
# contract of docs/feed.md) that, applied in order, equal the API's book at the last ts; resume
# with since (nothing lost, nothing repeated, then live again); Kalshi's command errors with the
# connection kept; and a client that never reads dropped (error 25, close 1008) while a fast one
# on the same markets receives every message. The last two run on a second feedd with small limits.
set -u
. "$TEST_ROOT/tests/integration/lib.sh"

export KBOOK_DATABASE_URL=$TEST_PG
PY=/usr/bin/python3
CHECK=$TEST_ROOT/tests/feed/feed_check.py
WS=ws://127.0.0.1:${TEST_HTTPPORT}/v1/feed

# run_checks SCENARIO WS_URL KEY: runs a scenario and turns its lines into checks
run_checks() {
	local name exp act
	while IFS=$'\t' read -r name exp act; do
		check "$name" "$exp" "$act"
	done < <($PY "$CHECK" "$1" "$2" "$TEST_URL" "$3" "$TEST_PG" FEED-S1-A FEED-S1-B FEED-S1-C \
		2>"$TEST_TMP/$1.err"; echo "exit	0	$?")
	[ -s "$TEST_TMP/$1.err" ] && cat "$TEST_TMP/$1.err"
}

echo "setup: an account, a key and a small generated history"
"$TEST_BIN/kbook-admin" account create feed@kbook.test >/dev/null
"$TEST_BIN/kbook-admin" account set feed@kbook.test rate 1000000 >/dev/null
"$TEST_BIN/kbook-admin" account set feed@kbook.test credits 100000000 >/dev/null
KEY=$("$TEST_BIN/kbook-admin" key create feed@kbook.test feed)
"$TEST_BIN/kbook-gen" --prefix FEED --markets 3 --deltas 600 --span 600 \
	--start "$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)" >/dev/null
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
check "healthz" ok "$(curl -s --unix-socket "$TEST_STACK/run/feed.sock" http://feedd/healthz | jq -r .status)"

echo "live: snapshot + deltas = the API's book; resume with since"
run_checks live "$WS" "$KEY"

echo "commands, limits and a slow client on a second feedd (3 markets max, 2 MiB send buffer)"
port=$(free_port)
KBOOK_FEEDD_LISTEN=127.0.0.1:$port KBOOK_FEEDD_MARKETS_MAX=3 KBOOK_FEEDD_SEND_MAX=2097152 \
	"$TEST_BIN/kbook-feedd" 2>"$TEST_TMP/feedd2.log" &
pid=$!
wait_port "$port" 20
run_checks commands "ws://127.0.0.1:$port/v1/feed" "$KEY"
run_checks slow "ws://127.0.0.1:$port/v1/feed" "$KEY"
check "metrics count the slow drop" 1 \
	"$(curl -s "http://127.0.0.1:$port/metrics" | awk '$1 == "kbook_feed_slow_drops_total" {print $2}')"
kill -TERM "$pid"
wait "$pid"
check "graceful shutdown: exit 0" 0 "$?"
check "graceful shutdown logged" 1 "$(grep -c '"msg":"stopped"' "$TEST_TMP/feedd2.log")"
cp "$TEST_TMP/feedd2.log" "$TEST_TMP/feedd2-copy.log"

echo "revoked key"
"$TEST_BIN/kbook-admin" key revoke "${KEY:0:16}" >/dev/null
run_checks refused "$WS" "$KEY"
finish
