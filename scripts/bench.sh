#!/usr/bin/env bash
# make bench: measures the stack on this machine and writes docs/benchmarks.md.
#
# Each figure is quoted beside a limit measured in the same run: the API's /v1/health (one
# prepared query per request, through nginx and FastCGI) against nginx serving the very same
# bytes as a static file.
#
# usage: scripts/bench.sh BIN_DIR     (BENCH_SECONDS=10 per measurement by default)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$(cd "$1" && pwd)
. "$root/scripts/stack.sh"
. "$root/tests/integration/lib.sh"
secs=${BENCH_SECONDS:-10}
tmp=$(mktemp -d /tmp/kbook-bench.XXXXXX)
chmod 755 "$tmp"
trap 'stack_stop "$tmp/stack"; rm -rf "$tmp"' EXIT

pg_port=$(free_port)
http_port=$(free_port)
stack_start "$tmp/stack" "$bin" "$pg_port" "$http_port" >/dev/null
wait_port "$http_port"
url=http://127.0.0.1:$http_port
curl -s "$url/v1/health" >"$tmp/stack/app/static/health.json"
chmod a+r "$tmp/stack/app/static/health.json"

# run_wrk URL CONNECTIONS: prints "req/s p50_ms p99_ms"
run_wrk() {
	wrk -t 1 -c "$2" -d "${secs}s" --latency "$1" >"$tmp/wrk.out"
	awk '/Requests\/sec/ {rps=$2}
	     /^ +50%/ {p50=$2} /^ +99%/ {p99=$2}
	     function ms(v) { if (v ~ /us$/) return v/1000; if (v ~ /ms$/) return v+0; if (v ~ /s$/) return v*1000; return v }
	     END {printf "%.0f %.2f %.2f\n", rps, ms(p50), ms(p99)}' "$tmp/wrk.out"
}

rows=""
for c in 1 16; do
	read -r s_rps s_p50 s_p99 < <(run_wrk "$url/health.json" "$c")
	read -r a_rps a_p50 a_p99 < <(run_wrk "$url/v1/health" "$c")
	ratio=$(awk -v a="$a_rps" -v s="$s_rps" 'BEGIN {printf "%.2f", a / s}')
	rows+="| $c | $s_rps | $s_p50 | $s_p99 | $a_rps | $a_p50 | $a_p99 | $ratio |"$'\n'
done

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')
out=$root/docs/benchmarks.md
cat >"$out" <<MD
# Benchmarks

Produced by \`make bench\` (scripts/bench.sh) on $(date -u +%Y-%m-%d), $(nproc) cores ($cpu),
release build, ${secs} s per measurement with \`wrk -t 1 --latency\`. Every figure stands beside a
limit measured in the same run.

## /v1/health against nginx serving the same bytes

The API answer (nginx → FastCGI → one kbook-api worker → one prepared query on Postgres → JSON)
against nginx sending the identical body from a static file. $(grep -c . "$tmp/stack/app/static/health.json") line,
$(wc -c <"$tmp/stack/app/static/health.json") bytes. ${KBOOK_API_WORKERS:-4} API workers.

| connections | static req/s | static p50 ms | static p99 ms | API req/s | API p50 ms | API p99 ms | API / static |
|---|---|---|---|---|---|---|---|
$rows
MD
echo "bench: wrote $out"
cat "$out"
