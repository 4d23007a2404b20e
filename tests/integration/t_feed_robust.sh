#!/usr/bin/env bash
# kbook-feedd under issue 14's robustness cases. Revocation: a key revoked (kbook-admin, or any SQL
# path: a trigger) or an account disabled cuts every connection opened with it within
# seconds, with Kalshi's error 9 naming the reason and a close 1008; a subscribe whose charge finds
# the key revoked (a notification missed) says so instead of "credits exhausted"; a revoke made
# while feedd's LISTEN connection was down is found when it reconnects. Plan changes (sql/016): a
# lowered markets limit closes a connection over it (error 26, 1008 naming the limit) and holds
# the others' commands to it; a downgrade to free closes the newest connection of a key over the
# plan's 2 (error 1, 1008 naming the limit) and keeps the two oldest. The handshake: a query
# libwebsockets cannot parse is the API's JSON 400 through nginx. Bounded memory: a reading client
# resuming with since gets the whole history then the live rows, each once; 50 clients resuming
# with since 0 that never read leave feedd's RSS under a bound while a live client still gets
# every message in order (its latency with and without them is printed, for docs/benchmarks.md).
set -u
. "$TEST_ROOT/tests/integration/lib.sh"

export KBOOK_DATABASE_URL=$TEST_PG
PY=/usr/bin/python3
# No collector runs here: a recorded-through mark left by kbook-gen (here or in an earlier test)
# would be a collector that stopped then, and feedd would follow every subscribe snapshot with a
# not_yet_recorded gap message (as t_feed_core does, the mark goes)
no_mark() { psql -X -q -d "$TEST_PG" -c "DELETE FROM recorded_through"; }
no_mark
ROBUST=$TEST_ROOT/tests/feed/feed_robust.py
ADMIN=$TEST_BIN/kbook-admin

# run_robust ARGS...: runs feed_robust.py and turns its lines into checks (info lines printed)
run_robust() {
	check_lines < <($PY "$ROBUST" "$@" 2>"$TEST_TMP/$1.err"; echo "exit	0	$?")
	[ -s "$TEST_TMP/$1.err" ] && cat "$TEST_TMP/$1.err"
}
# new_key EMAIL [FIELD VALUE]...: an account with those settings (created once), and a new key of it
new_key() {
	local email=$1
	shift
	"$ADMIN" account create "$email" >/dev/null 2>&1
	while [ $# -gt 1 ]; do
		"$ADMIN" account set "$email" "$1" "$2" >/dev/null
		shift 2
	done
	"$ADMIN" key create "$email" robust
}

echo "setup: generated histories"
start=$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)
"$TEST_BIN/kbook-gen" --prefix FRA --markets 1 --deltas 40000 --span 1200 --start "$start" >/dev/null
"$TEST_BIN/kbook-gen" --prefix FRB --markets 1 --deltas 10 --span 600 --start "$start" >/dev/null
no_mark
TA=$(psql -X -tA -d "$TEST_PG" -c "SELECT ticker FROM markets WHERE ticker LIKE 'FRA-%'")
TB=$(psql -X -tA -d "$TEST_PG" -c "SELECT ticker FROM markets WHERE ticker LIKE 'FRB-%'")
check "market A has 40 000 deltas" 40000 "$(psql -X -tA -d "$TEST_PG" -c "SELECT count(*) FROM book_deltas d JOIN markets m ON m.id = d.market_id WHERE m.ticker = '$TA'")"

echo "the handshake: what lws cannot parse is a JSON 400 (through nginx)"
hs() { # QUERY: prints "<code> <status> <content type>"
	local st
	st=$(curl -s -m 10 -D "$TEST_TMP/hs.h" -o "$TEST_TMP/hs.b" -w '%{http_code}' \
		-H 'Connection: Upgrade' -H 'Upgrade: websocket' -H 'Sec-WebSocket-Version: 13' \
		-H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' "$TEST_URL/v1/feed?$1")
	echo "$(jq -r .error.code "$TEST_TMP/hs.b" 2>/dev/null) $st $(tr -d '\r' <"$TEST_TMP/hs.h" | awk -F': ' 'tolower($1) == "content-type" {print $2}')"
}
for q in '%00' 'a=%00' 'a=%' 'a=%zz' 'a=%4' 'api_key=x%0a' 'a=%7F' 'a=b%1Fc'; do
	check_match "?$q: 400 bad_request, JSON" "^bad_request 400 application/json" "$(hs "$q")"
done
check_match "its message" 'percent-escape' "$(jq -r .error.message "$TEST_TMP/hs.b")"
check_match "its request id" '^[0-9a-f]{32}$' "$(jq -r .request_id "$TEST_TMP/hs.b")"
check_match "a well-formed escape still reaches feedd (401 for no key)" '^missing_api_key 401 application/json' "$(hs 'a=%2B%41')"

echo "revocation: connections cut off within seconds, the reason named"
k1=$(new_key rv1@kbook.test feed_conns 4 rate 1000000 credits 1000000)
k2=$("$ADMIN" key create rv1@kbook.test second)
k3=$(new_key rv3@kbook.test rate 1000000 credits 1000000)
k4=$(new_key rv4@kbook.test rate 1000000 credits 1000000)
k5=$(new_key rv5@kbook.test rate 1000000 credits 1000000)
run_robust revoke "ws://127.0.0.1:${TEST_HTTPPORT}/v1/feed" "$TEST_PG" "$ADMIN" "$TB" \
	"$k1" "$k2" "$k3" "$k4" "$k5" rv3@kbook.test
check "feedd logged the cut-offs with their reason" 1 \
	"$(grep -c 'closed: account disabled' "$TEST_STACK/log/feedd.log" | awk '{print ($1 >= 1)}')"

echo "plan changes: an open connection's limits follow its account (sql/016_plan_events.sql)"
kp=$(new_key plan@kbook.test plan project rate 1000000 credits 1000000)
run_robust plan "ws://127.0.0.1:${TEST_HTTPPORT}/v1/feed" "$TEST_PG" "$ADMIN" "$TA" "$TB" "$kp" plan@kbook.test
check "feedd logged the closes with the limit" 1 \
	"$(grep -c 'plan limit: 2 connections per API key (account' "$TEST_STACK/log/feedd.log" | awk '{print ($1 >= 1)}')"

echo "replay memory: 50 slow resuming clients on a feedd with KBOOK_FEEDD_REPLAY_MEM=4 MiB"
k=$(new_key replay@kbook.test feed_conns 100 rate 1000000 credits 100000000)
port=$(free_port)
# ASan keeps freed memory in quarantine (256 MB by default): a small one, so RSS measures what
# feedd holds, not what the sanitizer keeps
ASAN_OPTIONS="${ASAN_OPTIONS:-}:quarantine_size_mb=16" KBOOK_FEEDD_LISTEN=127.0.0.1:$port \
	KBOOK_FEEDD_REPLAY_MEM=4194304 "$TEST_BIN/kbook-feedd" 2>"$TEST_TMP/feedd-replay.log" &
pid=$!
wait_port "$port" 20
run_robust replay "ws://127.0.0.1:$port/v1/feed" "$TEST_PG" "$k" "$pid" \
	"http://127.0.0.1:$port/metrics" 40 "$TA" "$TB"
check "feedd still healthy" ok "$(curl -s "http://127.0.0.1:$port/healthz" | jq -r .status)"
kill -TERM "$pid"
wait "$pid"
check "replay feedd: exit 0" 0 "$?"

finish
