# Helpers for the benchmark sections (sourced).
. "$(dirname "${BASH_SOURCE[0]}")/../stack.sh"
. "$(dirname "${BASH_SOURCE[0]}")/../../tests/integration/lib.sh"
BENCH_SECONDS=${BENCH_SECONDS:-10}

psql_() { psql -X -q -tA -d "$KBOOK_DATABASE_URL" -c "$1"; }

# bench_api_stack BIN: the stack (Postgres, kbook-api, kbook-feedd, nginx) in a new temporary
# directory, stopped and removed at exit, with nginx's flood limits out of the way of the load.
# Sets tmp, pg_port, http_port and url; exports KBOOK_DATABASE_URL (for psql_).
bench_api_stack() {
	tmp=$(mktemp -d /tmp/kbook-bench.XXXXXX)
	chmod 755 "$tmp"
	trap 'stack_stop "$tmp/stack"; rm -rf "$tmp"' EXIT
	pg_port=$(free_port)
	http_port=$(free_port)
	KBOOK_NGINX_IP_RATE=1000000 KBOOK_NGINX_KEY_RATE=1000000 \
		stack_start "$tmp/stack" "$1" "$pg_port" "$http_port" >/dev/null
	wait_port "$http_port"
	url=http://127.0.0.1:$http_port
	KBOOK_DATABASE_URL=$(stack_conninfo "$tmp/stack" "$pg_port")
	export KBOOK_DATABASE_URL
}

# bench_accounts BIN NAME PLAN CREDITS: 16 accounts NAME1..NAME16@kbook.test of PLAN with
# CREDITS a month and no rate limit to speak of; prints a key of each, one a line.
bench_accounts() {
	local i
	for i in $(seq 1 16); do
		"$1/kbook-admin" account create "$2$i@kbook.test" "$3" >/dev/null
		"$1/kbook-admin" account set "$2$i@kbook.test" rate 100000000 >/dev/null
		"$1/kbook-admin" account set "$2$i@kbook.test" credits "$4" >/dev/null
		"$1/kbook-admin" key create "$2$i@kbook.test"
	done
}

# run_wrk URL CONNECTIONS [LUA]: prints "req/s p50_ms p99_ms"
run_wrk() {
	local script=()
	[ -n "${3:-}" ] && script=(-s "$3")
	wrk -t "$(( $2 < 2 ? 1 : 2 ))" -c "$2" -d "${BENCH_SECONDS}s" --latency "${script[@]}" "$1" 2>&1 |
		awk 'function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
		     /Requests\/sec/ { rps = $2 } /^ +50%/ { p50 = ms($2) } /^ +99%/ { p99 = ms($2) }
		     /Non-2xx/ { bad = $NF }
		     END { printf "%.0f %.2f %.2f %d\n", rps, p50, p99, bad }'
}

# bench_recording_stack DIR BIN MARKETS: the whole recording path in DIR: the stack (Postgres,
# kbook-api, kbook-feedd, nginx), kalshi-sim with MARKETS markets and no flow yet, and
# kbook-collector recording from it. Sets pg_port, http_port, sim_port, metrics_port (the
# collector's /metrics) and exports KBOOK_DATABASE_URL and the collector's Kalshi settings.
bench_recording_stack() {
	local dir=$1 bin=$2 markets=$3 root
	root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
	pg_port=$(free_port)
	http_port=$(free_port)
	stack_start "$dir" "$bin" "$pg_port" "$http_port" >/dev/null
	export KBOOK_DATABASE_URL=$(stack_conninfo "$dir" "$pg_port")
	sim_port=$(free_port)
	"$root/scripts/kalshi-keygen.sh" "$dir/kalshi-key" >/dev/null
	chown -R kbook: "$dir/kalshi-key" 2>/dev/null || true
	svc_spawn "$dir" sim "$bin/kalshi-sim" --port "$sim_port" \
		--pubkey "$dir/kalshi-key/kalshi-public.pem" --key-id "$(cat "$dir/kalshi-key/kalshi-key-id")" \
		--markets "$markets" --rate 0 --rest-tokens 0 --send-queue-bytes 268435456
	wait_port "$sim_port"
	metrics_port=$(free_port)
	export KBOOK_KALSHI_WS_URL=ws://127.0.0.1:$sim_port/trade-api/ws/v2
	export KBOOK_KALSHI_REST_URL=http://127.0.0.1:$sim_port/trade-api/v2
	export KBOOK_KALSHI_KEY_ID=$(cat "$dir/kalshi-key/kalshi-key-id")
	export KBOOK_KALSHI_KEY_FILE=$dir/kalshi-key/kalshi-private.pem
	export KBOOK_COLLECTOR_METRICS_PORT=$metrics_port
	collector_start "$dir"
}
