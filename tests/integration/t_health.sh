#!/usr/bin/env bash
# /v1/health through nginx (ok; degraded with Postgres stopped; ok again after Postgres restarts,
# with the same API processes), the 404/405/400/413 envelopes, a request id on every response,
# configuration errors, migrations idempotent, partitions made ahead, clean SIGTERM shutdown.
set -u
. "$TEST_ROOT/tests/integration/lib.sh"
. "$TEST_ROOT/scripts/stack.sh"

U=$TEST_URL
H=$TEST_TMP/headers

# get PATH [curl args...]: the body in $body, headers in $H, status in $STATUS.
get() {
	local path=$1
	shift
	STATUS=$(curl -s -o "$TEST_TMP/body" -D "$H" -w '%{http_code}' "$@" "$U$path")
	body=$(cat "$TEST_TMP/body")
}
hdr() { grep -i "^$1:" "$H" | head -1 | cut -d' ' -f2- | tr -d '\r'; }

echo "health"
get /v1/health
check "health status" 200 "$STATUS"
# the migrations' numbers, from their files (a number may be skipped: each task is given its own)
migs=$(for f in "$TEST_ROOT"/sql/[0-9][0-9][0-9]_*.sql; do n=$(basename "$f"); echo $((10#${n%%_*})); done | paste -sd,)
check "health body" '{"status":"ok","checks":{"database":"ok"},"schema_version":'"${migs##*,}"'}' "$body"
check "health content type" "application/json; charset=utf-8" "$(hdr Content-Type)"
check_match "health request id" '^[0-9a-f]{32}$' "$(hdr X-Request-Id)"
check "nosniff header" nosniff "$(hdr X-Content-Type-Options)"

STATUS=$(curl -s -I -o /dev/null -D "$H" -w '%{http_code}' "$U/v1/health")
check "HEAD status" 200 "$STATUS"
check_match "HEAD request id" '^[0-9a-f]{32}$' "$(hdr X-Request-Id)"

echo "404, 405 and 400 envelopes"
get /v1/no/such/thing
rid=$(hdr X-Request-Id)
check "404 status" 404 "$STATUS"
check "404 code" not_found "$(jq -r .error.code <<<"$body")"
check "404 status field" 404 "$(jq -r .error.status <<<"$body")"
check "404 request id in body = header" "$rid" "$(jq -r .request_id <<<"$body")"
check_match "404 message" 'no such path' "$(jq -r .error.message <<<"$body")"

get /v1/health -X POST -d x=1
check "405 status" 405 "$STATUS"
check "405 Allow" "GET, HEAD" "$(hdr Allow)"
check "405 code" method_not_allowed "$(jq -r .error.code <<<"$body")"
get /v1/health -X DELETE
check "405 for DELETE" 405 "$STATUS"

get '/v1/health?verbose=1'
check "undeclared parameter 400" 400 "$STATUS"
check "undeclared parameter code" unknown_parameter "$(jq -r .error.code <<<"$body")"
check_match "names the parameter" verbose "$(jq -r .error.message <<<"$body")"
get '/v1/health?a=%zz'
check "malformed escape 400" 400 "$STATUS"
check "malformed escape code" bad_request "$(jq -r .error.code <<<"$body")"
get '/v1/health?a=%00'
check "encoded NUL refused" bad_request "$(jq -r .error.code <<<"$body")"
get '/v1/health?=x'
check "empty name refused" bad_request "$(jq -r .error.code <<<"$body")"

head -c 100000 /dev/zero | tr '\0' a >"$TEST_TMP/big"
get /v1/health -X POST --data-binary @"$TEST_TMP/big"
check "oversized body 413" 413 "$STATUS"
check "413 envelope" body_too_large "$(jq -r .error.code <<<"$body")"
check_match "413 request id" '^[0-9a-f]{32}$' "$(hdr X-Request-Id)"

echo "request id on every response"
get /
check "static page 200" 200 "$STATUS"
check_match "static page request id" '^[0-9a-f]{32}$' "$(hdr X-Request-Id)"
get /nope.html
check "static 404" 404 "$STATUS"
check_match "static 404 request id" '^[0-9a-f]{32}$' "$(hdr X-Request-Id)"
ids=$(for i in 1 2 3 4 5; do curl -s -D - -o /dev/null "$U/v1/health" | grep -i '^x-request-id' ; done | sort -u | wc -l)
check "request ids are unique" 5 "$ids"

echo "degraded while Postgres is down, ok again after it returns"
api_pids_before=$(pgrep -f "$TEST_STACK/app/bin/kbook-api" | sort | tr '\n' ' ')
pg_stop "$TEST_STACK"
get /v1/health
check "degraded status" 503 "$STATUS"
check "degraded body" '{"status":"degraded","checks":{"database":"unreachable"}}' "$body"
get /v1/health
check "still degraded" 503 "$STATUS"
STATUS=$(curl -s -o "$TEST_TMP/body" -D "$H" -w '%{http_code}' -H "X-API-Key: kb_live_00000000000000000000000000000000" "$U/v1/markets")
check "a data route while Postgres is down: 503" 503 "$STATUS"
check "its envelope" service_unavailable "$(jq -r .error.code "$TEST_TMP/body")"
check "its Retry-After" 2 "$(hdr Retry-After)"
pg_start "$TEST_STACK" "$TEST_PGPORT" >/dev/null
ok=0
for i in 1 2 3 4 5 6 7 8; do
	for j in 1 2 3 4 5 6 7 8; do
		get /v1/health
		[ "$STATUS" = 200 ] && ok=$((ok + 1))
	done
	[ $ok -ge 8 ] && break
	sleep 0.5
done
check "every worker answers ok again" 200 "$STATUS"
check "same API processes (no restart)" "$api_pids_before" "$(pgrep -f "$TEST_STACK/app/bin/kbook-api" | sort | tr '\n' ' ')"

echo "configuration errors name the variable"
out=$(env KBOOK_API_WORKERS=abc "$TEST_BIN/kbook-api" 2>&1); rc=$?
check "malformed value exits 1" 1 "$rc"
check_match "malformed value named" 'KBOOK_API_WORKERS' "$out"
out=$(env KBOOK_API_WORKRS=4 "$TEST_BIN/kbook-api" 2>&1); rc=$?
check "unknown variable exits 1" 1 "$rc"
check_match "unknown variable named" 'unknown configuration variable KBOOK_API_WORKRS' "$out"
out=$(env KBOOK_LOG_LEVEL=loud "$TEST_BIN/kbook-api" 2>&1); rc=$?
check_match "bad log level named" 'KBOOK_LOG_LEVEL' "$out"
out=$("$TEST_BIN/kbook-api" 2>&1 </dev/null); rc=$?
check "refuses to run outside FastCGI" 1 "$rc"
check_match "says why" 'spawn-fcgi' "$out"

echo "migrations"
out=$(KBOOK_DATABASE_URL=$TEST_PG "$TEST_ROOT/scripts/migrate.sh" 2>&1)
check "re-running migrations is a no-op" "migrate: schema up to date" "$out"
check "each migration recorded once" "$migs" "$(psql -X -tA -d "$TEST_PG" -c "SELECT string_agg(version::text, ',' ORDER BY version) FROM schema_migrations")"
cp -r "$TEST_ROOT/sql" "$TEST_TMP/sql"
echo "-- edited" >>"$TEST_TMP/sql/001_baseline.sql"
out=$(KBOOK_DATABASE_URL=$TEST_PG "$TEST_ROOT/scripts/migrate.sh" "$TEST_TMP/sql" 2>&1); rc=$?
check "edited migration refused" 1 "$rc"
check_match "edited migration named" '001_baseline was changed' "$out"
cp "$TEST_ROOT/sql/001_baseline.sql" "$TEST_TMP/sql/001_baseline.sql"
printf 'CREATE TABLE t_migrate_probe (x int);\nSELECT 1/0;\n' >"$TEST_TMP/sql/900_broken.sql"
out=$(KBOOK_DATABASE_URL=$TEST_PG "$TEST_ROOT/scripts/migrate.sh" "$TEST_TMP/sql" 2>&1); rc=$?
check "failing migration fails" 1 "$rc"
check "failing migration rolled back" "0" "$(psql -X -tA -d "$TEST_PG" -c "SELECT count(*) FROM pg_class WHERE relname = 't_migrate_probe'")"
check "failing migration not recorded" "0" "$(psql -X -tA -d "$TEST_PG" -c "SELECT count(*) FROM schema_migrations WHERE version = 900")"

echo "partitions"
ahead=$(psql -X -tA -d "$TEST_PG" -c "SELECT count(*) FROM partman.show_partitions('public.book_deltas') p
	WHERE p.partition_tablename >= 'book_deltas_p' || to_char(now() AT TIME ZONE 'UTC', 'YYYY_MM_DD')")
check "today and 7 daily partitions ahead" 8 "$ahead"
check "book_checkpoints partitioned by month" 1 "$(psql -X -tA -d "$TEST_PG" -c "SELECT count(*) FROM partman.part_config WHERE parent_table = 'public.book_checkpoints' AND partition_interval = '1 mon'")"
mid=$(psql -X -q -tA -d "$TEST_PG" -c "INSERT INTO markets (ticker) VALUES ('T-HEALTH-1') RETURNING id")
psql -X -q -d "$TEST_PG" -c "INSERT INTO book_deltas VALUES ($mid, now(), now(), 0, 450000, 1381566)"
check "a delta lands in today's partition" "book_deltas_p$(date -u +%Y_%m_%d)" \
	"$(psql -X -tA -d "$TEST_PG" -c "SELECT tableoid::regclass FROM book_deltas WHERE market_id = $mid")"
out=$(psql -X -q -d "$TEST_PG" -c "INSERT INTO book_deltas SELECT market_id, ts, exchange_ts, side, price, 5 FROM book_deltas WHERE market_id = $mid" 2>&1)
check_match "(market_id, ts) is unique" 'duplicate key' "$out"
out=$(psql -X -q -d "$TEST_PG" -c "INSERT INTO book_deltas VALUES ($mid, now(), now(), 0, 1000001, 5)" 2>&1)
check_match "price above \$1 refused" 'violates check constraint' "$out"
psql -X -q -d "$TEST_PG" -c "DELETE FROM book_deltas WHERE market_id = $mid" -c "DELETE FROM markets WHERE id = $mid"

echo "a worker that dies is replaced"
victim=$(pgrep -f "$TEST_STACK/app/bin/kbook-api" | sort -n | tail -1)
kill -KILL "$victim"
sleep 2
check "pool size restored" "$(echo "$api_pids_before" | wc -w)" "$(pgrep -f "$TEST_STACK/app/bin/kbook-api" | wc -l)"
get /v1/health
check "still serving" 200 "$STATUS"

echo "SIGTERM stops the pool cleanly"
api_stop "$TEST_STACK"
api_accounts_stop "$TEST_STACK" # the accounts pool runs the same binary
check "no kbook-api left" 0 "$(pgrep -f "$TEST_STACK/app/bin/kbook-api" | wc -l)"
check_match "supervisor logged its stop" '"kbook-api stopped"' "$(tail -3 "$TEST_STACK/log/api.log")"
get /v1/health
check "nginx answers 503 envelope while the API is down" 503 "$STATUS"
KBOOK_DATABASE_URL=$TEST_PG api_start "$TEST_STACK"
KBOOK_DATABASE_URL=$TEST_PG KBOOK_PUBLIC_URL=$TEST_URL api_accounts_start "$TEST_STACK"
get /v1/health
check "API back" 200 "$STATUS"
get /v1/session
check "accounts pool back (its 401 session_required, not nginx's 503)" 401 "$STATUS"

finish
