# Helpers for the benchmark sections (sourced).
. "$(dirname "${BASH_SOURCE[0]}")/../stack.sh"
. "$(dirname "${BASH_SOURCE[0]}")/../../tests/integration/lib.sh"
BENCH_SECONDS=${BENCH_SECONDS:-10}

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
